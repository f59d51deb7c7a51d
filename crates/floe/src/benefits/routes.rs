//! Handlers of the benefits API.

use axum::extract::State;
use axum::http::StatusCode;

use super::schema::{Benefit, BenefitCreate, BenefitSortProperty, BenefitType, BenefitUpdate};
use super::{service, store};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::pagination::Direction;
use crate::http::{ApiResult, IdPath, Json, ListResource, Pagination, QueryParams};

/// `benefits:read` or `benefits:write`.
pub struct BenefitsRead;

impl RequiredScopes for BenefitsRead {
    const SCOPES: &'static [Scope] = &[Scope::BenefitsRead, Scope::BenefitsWrite];
}

/// `benefits:write`.
pub struct BenefitsWrite;

impl RequiredScopes for BenefitsWrite {
    const SCOPES: &'static [Scope] = &[Scope::BenefitsWrite];
}

/// `benefits:list`.
pub async fn list(
    auth: Authorized<BenefitsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Benefit>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(BenefitSortProperty::CreatedAt, Direction::Descending)])?;
    let filter = store::ListFilter {
        types: query.enums::<BenefitType>("type")?,
        ids: query.uuids("id")?,
        exclude_ids: query.uuids("exclude_id")?,
        query: query.text("query"),
        metadata: crate::metadata::query_filter(&query)?,
    };
    if !query.allows_organization(auth.organization_id)? {
        return Ok(axum::Json(ListResource::new(Vec::new(), 0, pagination)));
    }
    let (rows, total) = store::list(
        &app.reader,
        app.db.get_database_backend(),
        auth.organization_id,
        &filter,
        &sorting,
        pagination,
    )
    .await?;
    Ok(axum::Json(ListResource::new(
        rows.iter().filter_map(Benefit::from_row).collect(),
        total,
        pagination,
    )))
}

/// `benefits:create`.
pub async fn create(
    auth: Authorized<BenefitsWrite>,
    State(app): State<AppState>,
    Json(body): Json<BenefitCreate>,
) -> ApiResult<(StatusCode, axum::Json<Benefit>)> {
    let benefit = service::create(&app, auth.organization_id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(benefit)))
}

/// `benefits:get`.
pub async fn get(
    auth: Authorized<BenefitsRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Benefit>> {
    let row = store::get((&app.reader).into(), auth.organization_id, id)
        .await?
        .ok_or_else(service::not_found)?;
    Benefit::from_row(&row)
        .map(axum::Json)
        .ok_or_else(service::not_found)
}

/// `benefits:update`.
pub async fn update(
    auth: Authorized<BenefitsWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(body): Json<BenefitUpdate>,
) -> ApiResult<axum::Json<Benefit>> {
    Ok(axum::Json(
        service::update(&app, auth.organization_id, id, body).await?,
    ))
}

/// `benefits:delete`.
pub async fn delete(
    auth: Authorized<BenefitsWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    service::delete(&app, auth.organization_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `BenefitDownloadableFile`: a file of a downloadables benefit, with how often it was
/// downloaded through the benefit.
#[derive(Debug, serde::Serialize)]
pub struct BenefitDownloadableFile {
    #[serde(flatten)]
    pub file: crate::files::schema::FileRead,
    pub downloaders: u64,
    pub downloads: u64,
}

/// `benefits:files`: a downloadables benefit's files, in the benefit's order (an empty page
/// for other types).
pub async fn files(
    auth: Authorized<BenefitsRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<BenefitDownloadableFile>>> {
    let pagination = Pagination::from_query(&query)?;
    let row = store::get((&app.reader).into(), auth.organization_id, id)
        .await?
        .ok_or_else(service::not_found)?;
    let benefit = Benefit::from_row(&row).ok_or_else(service::not_found)?;
    let ids: Vec<uuid::Uuid> = benefit
        .properties
        .get("files")
        .and_then(serde_json::Value::as_array)
        .map(|files| {
            files
                .iter()
                .filter_map(|f| f.as_str().and_then(|s| s.parse().ok()))
                .collect()
        })
        .unwrap_or_default();
    // Nothing records downloads yet: buyers download through grants (the checkout issue),
    // which will count them here.
    let files = crate::files::read_many(
        (&app.reader).into(),
        app.storage.as_ref(),
        auth.organization_id,
        &ids,
    )
    .await?
    .into_iter()
    .map(|file| BenefitDownloadableFile {
        file,
        downloaders: 0,
        downloads: 0,
    })
    .collect();
    Ok(axum::Json(ListResource::page_of(files, pagination)))
}
