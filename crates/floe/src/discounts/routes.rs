//! Handlers of the discounts API.

use axum::extract::State;
use axum::http::StatusCode;

use super::schema::{Discount, DiscountCreate, DiscountSortProperty, DiscountUpdate};
use super::{service, store};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::pagination::Direction;
use crate::http::{ApiResult, IdPath, Json, ListResource, Pagination, QueryParams};

/// `discounts:read` or `discounts:write`.
pub struct DiscountsRead;

impl RequiredScopes for DiscountsRead {
    const SCOPES: &'static [Scope] = &[Scope::DiscountsRead, Scope::DiscountsWrite];
}

/// `discounts:write`.
pub struct DiscountsWrite;

impl RequiredScopes for DiscountsWrite {
    const SCOPES: &'static [Scope] = &[Scope::DiscountsWrite];
}

/// `discounts:list`.
pub async fn list(
    auth: Authorized<DiscountsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Discount>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(DiscountSortProperty::CreatedAt, Direction::Descending)])?;
    let text = query.text("query");
    if !query.allows_organization(auth.organization_id)? {
        return Ok(axum::Json(ListResource::new(Vec::new(), 0, pagination)));
    }
    let (rows, total) = store::list(
        &app.reader,
        auth.organization_id,
        text.as_deref(),
        &sorting,
        pagination,
    )
    .await?;
    let discounts = service::present((&app.reader).into(), auth.organization_id, &rows).await?;
    Ok(axum::Json(ListResource::new(discounts, total, pagination)))
}

/// `discounts:create`.
pub async fn create(
    auth: Authorized<DiscountsWrite>,
    State(app): State<AppState>,
    Json(body): Json<DiscountCreate>,
) -> ApiResult<(StatusCode, axum::Json<Discount>)> {
    let discount = service::create(&app, auth.organization_id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(discount)))
}

/// `discounts:get`.
pub async fn get(
    auth: Authorized<DiscountsRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Discount>> {
    let row = store::get((&app.reader).into(), auth.organization_id, id)
        .await?
        .ok_or_else(service::not_found)?;
    service::present(
        (&app.reader).into(),
        auth.organization_id,
        std::slice::from_ref(&row),
    )
    .await?
    .pop()
    .map(axum::Json)
    .ok_or_else(service::not_found)
}

/// `discounts:update`.
pub async fn update(
    auth: Authorized<DiscountsWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(body): Json<DiscountUpdate>,
) -> ApiResult<axum::Json<Discount>> {
    Ok(axum::Json(
        service::update(&app, auth.organization_id, id, body).await?,
    ))
}

/// `discounts:delete`.
pub async fn delete(
    auth: Authorized<DiscountsWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    service::delete(&app, auth.organization_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
