//! Handlers of the merchant's `customer-sessions` operation and of the portal's session,
//! customer and organization operations.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::auth::PortalSession;
use super::customer::{AuthenticatedUser, PortalCustomer};
use super::organization::{self, CustomerOrganizationData};
use super::sessions::{self, CustomerSession, SessionCreate};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::customers::billing::{self, BillingDetailsUpdate};
use crate::customers::schema::Customer;
use crate::http::{ApiError, ApiResult, IdPath, Json, ListResource, QueryParams};

/// `customer_sessions:write`.
pub struct CustomerSessionsWrite;

impl RequiredScopes for CustomerSessionsWrite {
    const SCOPES: &'static [Scope] = &[Scope::CustomerSessionsWrite];
}

pub async fn create_session(
    auth: Authorized<CustomerSessionsWrite>,
    State(app): State<AppState>,
    Json(body): Json<SessionCreate>,
) -> ApiResult<(StatusCode, axum::Json<CustomerSession>)> {
    let session = sessions::create(&app, auth.organization_id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(session)))
}

/// `CustomerCustomerSession`.
#[derive(serde::Serialize)]
pub struct Introspection {
    expires_at: chrono::DateTime<chrono::Utc>,
    return_url: Option<String>,
}

pub async fn introspect(session: PortalSession) -> axum::Json<Introspection> {
    axum::Json(Introspection {
        expires_at: session.expires_at,
        return_url: session.return_url,
    })
}

/// The session's customer (live: the session would not have authenticated otherwise,
/// unless it was deleted a moment ago, which is 404).
async fn customer_of(app: &AppState, session: &PortalSession) -> ApiResult<Customer> {
    crate::customers::read_many(
        (&app.reader).into(),
        session.organization_id,
        &[session.customer_id],
    )
    .await?
    .into_iter()
    .find(|customer| customer.deleted_at.is_none())
    .ok_or_else(|| ApiError::ResourceNotFound("Customer not found.".to_owned()))
}

pub async fn user(
    session: PortalSession,
    State(app): State<AppState>,
) -> ApiResult<axum::Json<AuthenticatedUser>> {
    let customer = customer_of(&app, &session).await?;
    Ok(axum::Json(AuthenticatedUser::customer(customer)?))
}

pub async fn get_customer(
    session: PortalSession,
    State(app): State<AppState>,
) -> ApiResult<axum::Json<PortalCustomer>> {
    Ok(axum::Json(customer_of(&app, &session).await?.into()))
}

pub async fn update_customer(
    session: PortalSession,
    State(app): State<AppState>,
    Json(body): Json<BillingDetailsUpdate>,
) -> ApiResult<axum::Json<PortalCustomer>> {
    let customer =
        billing::update_billing_details(&app, session.organization_id, session.customer_id, body)
            .await?;
    Ok(axum::Json(customer.into()))
}

pub async fn organization(
    State(app): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<CustomerOrganizationData>> {
    Ok(axum::Json(organization::by_slug(&app, &slug).await?))
}

/// `customer_portal:orders:list`.
pub async fn list_orders(
    session: PortalSession,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Value>>> {
    Ok(axum::Json(
        crate::orders::portal::list(&app, &session, &query).await?,
    ))
}

/// `customer_portal:orders:get`.
pub async fn get_order(
    session: PortalSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        crate::orders::portal::get(&app, &session, id).await?,
    ))
}

/// `customer_portal:orders:update`.
pub async fn update_order(
    session: PortalSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(body): Json<crate::orders::schema::OrderUpdate>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        crate::orders::portal::update(&app, &session, id, body).await?,
    ))
}

/// `customer_portal:orders:generate_invoice`: 202 once scheduled (Polar's body is `null`).
pub async fn generate_invoice(
    session: PortalSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<Response> {
    crate::orders::portal::generate_invoice(&app, &session, id).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(Value::Null)).into_response())
}

/// `customer_portal:orders:invoice`.
pub async fn invoice(
    session: PortalSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<crate::orders::schema::OrderInvoice>> {
    Ok(axum::Json(
        crate::orders::portal::invoice(&app, &session, id).await?,
    ))
}

/// `customer_portal:orders:receipt`: the URL, or 202 without a body while it is drawn.
pub async fn receipt(
    session: PortalSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<Response> {
    Ok(
        match crate::orders::portal::receipt(&app, &session, id).await? {
            Some(receipt) => axum::Json(receipt).into_response(),
            None => StatusCode::ACCEPTED.into_response(),
        },
    )
}

/// `customer_portal:orders:get_payment_status`.
pub async fn payment_status(
    session: PortalSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<crate::orders::portal::PaymentStatus>> {
    Ok(axum::Json(
        crate::orders::portal::payment_status(&app, &session, id).await?,
    ))
}

/// `customer_portal:subscriptions:list`.
pub async fn list_subscriptions(
    session: PortalSession,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Value>>> {
    Ok(axum::Json(
        crate::subscriptions::portal::list(&app, &session, &query).await?,
    ))
}

/// `customer_portal:subscriptions:get`.
pub async fn get_subscription(
    session: PortalSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        crate::subscriptions::portal::get(&app, &session, id).await?,
    ))
}

/// `customer_portal:subscriptions:update`.
pub async fn update_subscription(
    session: PortalSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(body): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        crate::subscriptions::portal::update(&app, &session, id, body).await?,
    ))
}

/// `customer_portal:subscriptions:cancel`.
pub async fn cancel_subscription(
    session: PortalSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        crate::subscriptions::portal::cancel_at_period_end(&app, &session, id).await?,
    ))
}
