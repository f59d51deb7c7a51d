//! Handlers of the merchant's `customer-sessions` operation and of the portal's session,
//! customer and organization operations.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::auth::PortalSession;
use super::customer::{AuthenticatedUser, PortalCustomer};
use super::organization::{self, CustomerOrganizationData};
use super::sessions::{self, CustomerSession, SessionCreate};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::customers::billing::{self, BillingDetailsUpdate};
use crate::customers::schema::Customer;
use crate::http::{ApiError, ApiResult, Json};

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
