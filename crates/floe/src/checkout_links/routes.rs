//! Handlers of the checkout links API.

use axum::extract::State;
use axum::http::StatusCode;

use super::schema::{
    CheckoutLink, CheckoutLinkCreate, CheckoutLinkSortProperty, CheckoutLinkUpdate,
};
use super::{service, store};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::pagination::Direction;
use crate::http::{ApiResult, IdPath, Json, ListResource, Pagination, QueryParams};

/// `checkout_links:read` or `checkout_links:write`.
pub struct CheckoutLinksRead;

impl RequiredScopes for CheckoutLinksRead {
    const SCOPES: &'static [Scope] = &[Scope::CheckoutLinksRead, Scope::CheckoutLinksWrite];
}

/// `checkout_links:write`.
pub struct CheckoutLinksWrite;

impl RequiredScopes for CheckoutLinksWrite {
    const SCOPES: &'static [Scope] = &[Scope::CheckoutLinksWrite];
}

/// `checkout-links:list`.
pub async fn list(
    auth: Authorized<CheckoutLinksRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<CheckoutLink>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(CheckoutLinkSortProperty::CreatedAt, Direction::Ascending)])?;
    let product_ids = query.uuids("product_id")?;
    if !query.allows_organization(auth.organization_id)? {
        return Ok(axum::Json(ListResource::new(Vec::new(), 0, pagination)));
    }
    let (rows, total) = store::list(
        &app.reader,
        auth.organization_id,
        product_ids.as_deref(),
        &sorting,
        pagination,
    )
    .await?;
    let links = service::present(&app, (&app.reader).into(), auth.organization_id, &rows).await?;
    Ok(axum::Json(ListResource::new(links, total, pagination)))
}

/// `checkout-links:create`.
pub async fn create(
    auth: Authorized<CheckoutLinksWrite>,
    State(app): State<AppState>,
    Json(body): Json<CheckoutLinkCreate>,
) -> ApiResult<(StatusCode, axum::Json<CheckoutLink>)> {
    let link = service::create(&app, auth.organization_id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(link)))
}

/// `checkout-links:get`.
pub async fn get(
    auth: Authorized<CheckoutLinksRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<CheckoutLink>> {
    let row = store::get((&app.reader).into(), auth.organization_id, id)
        .await?
        .ok_or_else(service::not_found)?;
    service::present(
        &app,
        (&app.reader).into(),
        auth.organization_id,
        std::slice::from_ref(&row),
    )
    .await?
    .pop()
    .map(axum::Json)
    .ok_or_else(service::not_found)
}

/// `checkout-links:update`.
pub async fn update(
    auth: Authorized<CheckoutLinksWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(body): Json<CheckoutLinkUpdate>,
) -> ApiResult<axum::Json<CheckoutLink>> {
    Ok(axum::Json(
        service::update(&app, auth.organization_id, id, body).await?,
    ))
}

/// `checkout-links:delete`.
pub async fn delete(
    auth: Authorized<CheckoutLinksWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    service::delete(&app, auth.organization_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
