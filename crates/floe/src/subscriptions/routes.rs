//! Handlers of the subscriptions API, and the test clock's route (floe's own extension).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::schema::{Subscription, SubscriptionCreate, SubscriptionSortProperty};
use super::{present, store};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::pagination::Direction;
use crate::http::{ApiError, ApiResult, IdPath, Json, ListResource, Pagination, QueryParams};

/// `subscriptions:read`.
pub struct SubscriptionsRead;

impl RequiredScopes for SubscriptionsRead {
    const SCOPES: &'static [Scope] = &[Scope::SubscriptionsRead, Scope::SubscriptionsWrite];
}

/// `subscriptions:write`.
pub struct SubscriptionsWrite;

impl RequiredScopes for SubscriptionsWrite {
    const SCOPES: &'static [Scope] = &[Scope::SubscriptionsWrite];
}

/// `subscriptions:list`.
pub async fn list(
    auth: Authorized<SubscriptionsRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Subscription>>> {
    let pagination = Pagination::from_query(&query)?;
    let sorting = query.sorting(&[(SubscriptionSortProperty::StartedAt, Direction::Descending)])?;
    let mut filter = store::ListFilter {
        product_ids: query.uuids("product_id")?,
        customer_ids: query.uuids("customer_id")?,
        discount_ids: query.uuids("discount_id")?,
        active: query.boolean("active")?,
        statuses: query.enums("status")?,
        cancel_at_period_end: query.boolean("cancel_at_period_end")?,
        reasons: query.enums("customer_cancellation_reason")?,
        canceled_after: query.datetime("canceled_at_after")?,
        canceled_before: query.datetime("canceled_at_before")?,
        started_after: query.datetime("started_after")?,
        started_before: query.datetime("started_before")?,
        metadata: crate::metadata::query_filter(&query)?,
        product_name: None,
        ids: None,
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
    let shown = present::subscriptions(
        (&app.reader).into(),
        app.storage.as_ref(),
        auth.organization_id,
        &rows,
    )
    .await?;
    Ok(axum::Json(ListResource::new(shown, total, pagination)))
}

/// `subscriptions:get`.
pub async fn get(
    auth: Authorized<SubscriptionsRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Subscription>> {
    Ok(axum::Json(
        super::show_current(&app, auth.organization_id, id).await?,
    ))
}

/// `subscriptions:create`.
pub async fn create(
    auth: Authorized<SubscriptionsWrite>,
    State(app): State<AppState>,
    Json(body): Json<SubscriptionCreate>,
) -> ApiResult<(StatusCode, axum::Json<Subscription>)> {
    let shown = super::create::create(&app, auth.organization_id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(shown)))
}

/// `subscriptions:update`.
pub async fn update(
    auth: Authorized<SubscriptionsWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(body): Json<Value>,
) -> ApiResult<axum::Json<Subscription>> {
    Ok(axum::Json(
        super::update::update(&app, auth.organization_id, id, body).await?,
    ))
}

/// `subscriptions:revoke`.
pub async fn revoke(
    auth: Authorized<SubscriptionsWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Subscription>> {
    Ok(axum::Json(
        super::update::revoke(&app, auth.organization_id, id).await?,
    ))
}

/// The body of `POST /v1/test-clock/advance`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advance {
    pub to: DateTime<Utc>,
}

/// What the organization's clock says after an advance, and what ran on the way.
#[derive(Debug, Serialize)]
pub struct Advanced {
    pub now: DateTime<Utc>,
    pub renewals: usize,
}

/// `POST /v1/test-clock/advance` (floe's extension): moves a test-mode organization's time
/// to `to`, running everything due on the way. Organizations whose payments are live are
/// refused: their time is real time.
pub async fn advance_clock(
    auth: Authorized<SubscriptionsWrite>,
    State(app): State<AppState>,
    Json(body): Json<Advance>,
) -> ApiResult<axum::Json<Advanced>> {
    let advanced = super::scheduler::advance(&app, auth.organization_id, body.to).await?;
    Ok(axum::Json(advanced))
}

pub(super) fn not_test_mode() -> ApiError {
    ApiError::named(
        StatusCode::FORBIDDEN,
        "NotPermitted",
        "The test clock is only for organizations in test mode (the test processor, or Stripe with a test key).",
    )
}
