//! Handlers of the custom fields API.

use axum::extract::State;
use axum::http::StatusCode;

use super::schema::{
    CustomField, CustomFieldCreate, CustomFieldSortProperty, CustomFieldType, CustomFieldUpdate,
};
use super::{service, store};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::pagination::Direction;
use crate::http::{ApiResult, IdPath, Json, ListResource, Pagination, QueryParams};

/// `custom_fields:read` or `custom_fields:write`.
pub struct CustomFieldsRead;

impl RequiredScopes for CustomFieldsRead {
    const SCOPES: &'static [Scope] = &[Scope::CustomFieldsRead, Scope::CustomFieldsWrite];
}

/// `custom_fields:write`.
pub struct CustomFieldsWrite;

impl RequiredScopes for CustomFieldsWrite {
    const SCOPES: &'static [Scope] = &[Scope::CustomFieldsWrite];
}

/// `custom-fields:list`.
pub async fn list(
    auth: Authorized<CustomFieldsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<CustomField>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(CustomFieldSortProperty::Slug, Direction::Ascending)])?;
    let filter = store::ListFilter {
        query: query.text("query"),
        types: query.enums::<CustomFieldType>("type")?,
    };
    if !query.allows_organization(auth.organization_id)? {
        return Ok(axum::Json(ListResource::new(Vec::new(), 0, pagination)));
    }
    let (rows, total) = store::list(
        &app.reader,
        auth.organization_id,
        &filter,
        &sorting,
        pagination,
    )
    .await?;
    Ok(axum::Json(ListResource::new(
        rows.iter().filter_map(CustomField::from_row).collect(),
        total,
        pagination,
    )))
}

/// `custom-fields:create`.
pub async fn create(
    auth: Authorized<CustomFieldsWrite>,
    State(app): State<AppState>,
    Json(body): Json<CustomFieldCreate>,
) -> ApiResult<(StatusCode, axum::Json<CustomField>)> {
    let field = service::create(&app, auth.organization_id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(field)))
}

/// `custom-fields:get`.
pub async fn get(
    auth: Authorized<CustomFieldsRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<CustomField>> {
    let row = store::get((&app.reader).into(), auth.organization_id, id)
        .await?
        .ok_or_else(service::not_found)?;
    CustomField::from_row(&row)
        .map(axum::Json)
        .ok_or_else(service::not_found)
}

/// `custom-fields:update`.
pub async fn update(
    auth: Authorized<CustomFieldsWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(body): Json<CustomFieldUpdate>,
) -> ApiResult<axum::Json<CustomField>> {
    Ok(axum::Json(
        service::update(&app, auth.organization_id, id, body).await?,
    ))
}

/// `custom-fields:delete`.
pub async fn delete(
    auth: Authorized<CustomFieldsWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    service::delete(&app, auth.organization_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
