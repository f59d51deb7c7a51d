//! Handlers of the meters API.

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;

use super::schema::{Meter, MeterSortProperty};
use super::{service, store};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::pagination::Direction;
use crate::http::{ApiResult, IdPath, Json, ListResource, Pagination, QueryParams};

/// `meters:read` or `meters:write`.
pub struct MetersRead;

impl RequiredScopes for MetersRead {
    const SCOPES: &'static [Scope] = &[Scope::MetersRead, Scope::MetersWrite];
}

/// `meters:write`.
pub struct MetersWrite;

impl RequiredScopes for MetersWrite {
    const SCOPES: &'static [Scope] = &[Scope::MetersWrite];
}

pub async fn list(
    auth: Authorized<MetersRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Meter>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(MeterSortProperty::Name, Direction::Ascending)])?;
    let filter = store::ListFilter {
        query: query
            .last("query")
            .filter(|q| !q.is_empty())
            .map(str::to_owned),
        is_archived: query.boolean("is_archived")?,
        metadata: crate::metadata::query_filter(&query)?,
    };
    if let Some(ids) = query.uuids("organization_id")?
        && !ids.contains(&auth.organization_id)
    {
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
        rows.iter().map(Meter::from).collect(),
        total,
        pagination,
    )))
}

pub async fn create(
    auth: Authorized<MetersWrite>,
    State(app): State<AppState>,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, axum::Json<Meter>)> {
    let meter = service::create(&app, auth.organization_id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(meter)))
}

pub async fn get(
    auth: Authorized<MetersRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Meter>> {
    let row = store::get(&app.reader, auth.organization_id, id)
        .await?
        .ok_or_else(service::missing)?;
    Ok(axum::Json(Meter::from(&row)))
}

pub async fn update(
    auth: Authorized<MetersWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(body): Json<Value>,
) -> ApiResult<axum::Json<Meter>> {
    Ok(axum::Json(
        service::update(&app, auth.organization_id, id, body).await?,
    ))
}
