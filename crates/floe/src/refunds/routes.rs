//! Handlers of the refunds API.

use axum::extract::State;
use axum::http::StatusCode;

use super::schema::{Refund, RefundCreate, RefundSortProperty};
use super::{service, store};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::pagination::Direction;
use crate::http::{ApiResult, Json, ListResource, Pagination, QueryParams};

/// `refunds:read` or `refunds:write`.
pub struct RefundsRead;

impl RequiredScopes for RefundsRead {
    const SCOPES: &'static [Scope] = &[Scope::RefundsRead, Scope::RefundsWrite];
}

/// `refunds:write`.
pub struct RefundsWrite;

impl RequiredScopes for RefundsWrite {
    const SCOPES: &'static [Scope] = &[Scope::RefundsWrite];
}

/// `refunds:list`.
pub async fn list(
    auth: Authorized<RefundsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Refund>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(RefundSortProperty::CreatedAt, Direction::Descending)])?;
    let mut filter = store::ListFilter {
        ids: query.uuids("id")?,
        order_ids: query.uuids("order_id")?,
        subscription_ids: query.uuids("subscription_id")?,
        customer_ids: query.uuids("customer_id")?,
        succeeded: query.boolean("succeeded")?,
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
    let refunds = rows.iter().map(Refund::from).collect();
    Ok(axum::Json(ListResource::new(refunds, total, pagination)))
}

/// `refunds:create`.
pub async fn create(
    auth: Authorized<RefundsWrite>,
    State(app): State<AppState>,
    Json(body): Json<RefundCreate>,
) -> ApiResult<(StatusCode, axum::Json<Refund>)> {
    let refund = service::create(&app, auth.organization_id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(refund)))
}
