//! Handlers of the organizations API.

use axum::extract::State;

use super::schema::{Organization, OrganizationSortProperty, OrganizationUpdate};
use super::{service, store};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::pagination::Direction;
use crate::http::{ApiError, ApiResult, IdPath, Json, ListResource, Pagination, QueryParams};

/// `organizations:read` or `organizations:write`.
pub struct OrganizationsRead;

impl RequiredScopes for OrganizationsRead {
    const SCOPES: &'static [Scope] = &[Scope::OrganizationsRead, Scope::OrganizationsWrite];
}

/// `organizations:list`: the organizations the caller can see (an organization token
/// sees its own), filtered by `slug`.
pub async fn list(
    auth: Authorized<OrganizationsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Organization>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(OrganizationSortProperty::CreatedAt, Direction::Ascending)])?;
    let (rows, total) = store::list_visible(
        &app.reader,
        auth.organization_id,
        query.last("slug"),
        &sorting,
        pagination,
    )
    .await?;
    let items = rows.into_iter().map(Organization::from).collect();
    Ok(axum::Json(ListResource::new(items, total, pagination)))
}

/// `organizations:get`: one organization; one the caller cannot see is 404.
pub async fn get(
    auth: Authorized<OrganizationsRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Organization>> {
    let row = store::get_visible(&app.reader, auth.organization_id, id)
        .await?
        .ok_or_else(|| ApiError::ResourceNotFound("Organization not found.".to_owned()))?;
    Ok(axum::Json(row.into()))
}

/// `organizations:write`.
pub struct OrganizationsWrite;

impl RequiredScopes for OrganizationsWrite {
    const SCOPES: &'static [Scope] = &[Scope::OrganizationsWrite];
}

/// `organizations:update`.
pub async fn update(
    auth: Authorized<OrganizationsWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(patch): Json<OrganizationUpdate>,
) -> ApiResult<axum::Json<Organization>> {
    Ok(axum::Json(
        service::update(&app, auth.organization_id, id, patch).await?,
    ))
}
