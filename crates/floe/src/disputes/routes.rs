//! Handlers of the disputes API.

use axum::extract::State;
use uuid::Uuid;

use super::schema::{Dispute, DisputeSortProperty, DisputeStatus};
use super::{service, store};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::pagination::Direction;
use crate::http::{ApiError, ApiResult, IdPath, ListResource, Pagination, QueryParams};

/// `disputes:read` or `disputes:write`.
pub struct DisputesRead;

impl RequiredScopes for DisputesRead {
    const SCOPES: &'static [Scope] = &[Scope::DisputesRead, Scope::DisputesWrite];
}

/// `disputes:write`.
pub struct DisputesWrite;

impl RequiredScopes for DisputesWrite {
    const SCOPES: &'static [Scope] = &[Scope::DisputesWrite];
}

pub fn not_found() -> ApiError {
    ApiError::ResourceNotFound("Not found".to_owned())
}

/// `disputes:list`.
pub async fn list(
    auth: Authorized<DisputesRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Dispute>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(DisputeSortProperty::CreatedAt, Direction::Descending)])?;
    let filter = store::ListFilter {
        order_ids: query.uuids("order_id")?,
        statuses: query
            .enums::<DisputeStatus>("status")?
            .map(|statuses| statuses.iter().map(|s| s.as_str().to_owned()).collect()),
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
    let disputes = service::present((&app.reader).into(), auth.organization_id, &rows).await?;
    Ok(axum::Json(ListResource::new(disputes, total, pagination)))
}

/// `disputes:get`.
pub async fn get(
    auth: Authorized<DisputesRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Dispute>> {
    let row = store::get((&app.reader).into(), auth.organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    shown(&app, auth.organization_id, row).await
}

/// `disputes:accept`.
pub async fn accept(
    auth: Authorized<DisputesWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Dispute>> {
    let row = service::accept(&app, auth.organization_id, id).await?;
    shown(&app, auth.organization_id, row).await
}

async fn shown(
    app: &AppState,
    organization_id: Uuid,
    row: super::entity::Model,
) -> ApiResult<axum::Json<Dispute>> {
    service::present((&app.reader).into(), organization_id, &[row])
        .await?
        .pop()
        .map(axum::Json)
        .ok_or_else(not_found)
}
