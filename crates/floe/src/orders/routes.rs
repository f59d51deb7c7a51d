//! Handlers of the orders API.

use axum::extract::State;

use super::schema::{Order, OrderSortProperty, OrderUpdate};
use super::{present, service, store};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::pagination::Direction;
use crate::http::{ApiResult, IdPath, Json, ListResource, Pagination, QueryParams};

/// `orders:read`.
pub struct OrdersRead;

impl RequiredScopes for OrdersRead {
    const SCOPES: &'static [Scope] = &[Scope::OrdersRead];
}

/// `orders:write`.
pub struct OrdersWrite;

impl RequiredScopes for OrdersWrite {
    const SCOPES: &'static [Scope] = &[Scope::OrdersWrite];
}

/// `orders:list`.
pub async fn list(
    auth: Authorized<OrdersRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Order>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(OrderSortProperty::CreatedAt, Direction::Descending)])?;
    let mut filter = store::ListFilter {
        product_ids: query.uuids("product_id")?,
        billing_types: query.enums("product_billing_type")?,
        discount_ids: query.uuids("discount_id")?,
        customer_ids: query.uuids("customer_id")?,
        checkout_ids: query.uuids("checkout_id")?,
        subscription_ids: query.uuids("subscription_id")?,
        statuses: query.enums("status")?,
        created_after: query.datetime("created_after")?,
        created_before: query.datetime("created_before")?,
        metadata: crate::metadata::query_filter(&query)?,
        product_name: None,
    };
    let external: Vec<String> = query
        .all("external_customer_id")
        .into_iter()
        .map(str::to_owned)
        .collect();
    if !query.allows_organization(auth.organization_id)? {
        return Ok(axum::Json(ListResource::new(Vec::new(), 0, pagination)));
    }
    filter.customer_ids = crate::customers::narrow_to_external(
        &app.reader,
        auth.organization_id,
        filter.customer_ids.take(),
        &external,
    )
    .await?;
    let (rows, total) = store::list(
        &app.reader,
        auth.organization_id,
        &filter,
        &sorting,
        pagination,
    )
    .await?;
    let orders = present::orders((&app.reader).into(), auth.organization_id, &rows).await?;
    Ok(axum::Json(ListResource::new(orders, total, pagination)))
}

/// `orders:get`.
pub async fn get(
    auth: Authorized<OrdersRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Order>> {
    let row = store::get((&app.reader).into(), auth.organization_id, id)
        .await?
        .ok_or_else(service::not_found)?;
    present::orders(
        (&app.reader).into(),
        auth.organization_id,
        std::slice::from_ref(&row),
    )
    .await?
    .pop()
    .map(axum::Json)
    .ok_or_else(service::not_found)
}

/// `orders:update`.
pub async fn update(
    auth: Authorized<OrdersWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(body): Json<OrderUpdate>,
) -> ApiResult<axum::Json<Order>> {
    Ok(axum::Json(
        service::update(&app, auth.organization_id, id, body).await?,
    ))
}

/// `orders:create`: a draft order for an off-session charge.
pub async fn create(
    auth: Authorized<OrdersWrite>,
    State(app): State<AppState>,
    Json(body): Json<super::drafts::OrderCreate>,
) -> ApiResult<(axum::http::StatusCode, axum::Json<Order>)> {
    let order = super::drafts::create(&app, auth.organization_id, body).await?;
    Ok((axum::http::StatusCode::CREATED, axum::Json(order)))
}

/// `orders:finalize`.
pub async fn finalize(
    auth: Authorized<OrdersWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    body: axum::body::Bytes,
) -> ApiResult<axum::Json<Order>> {
    // The body is optional: none means the customer's last saved method.
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        super::drafts::OrderFinalize::default()
    } else {
        crate::http::extract::parse_json(&body)?
    };
    Ok(axum::Json(
        super::drafts::finalize(&app, auth.organization_id, id, body).await?,
    ))
}
