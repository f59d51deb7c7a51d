//! Handlers of the merchant's `customer-sessions` operation and of the portal's session,
//! customer and organization operations.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::auth::{BillingSession, PortalSession};
use super::customer::{AuthenticatedUser, PortalCustomer};
use super::organization::{self, CustomerOrganizationData};
use super::sessions::{self, CustomerSession, SessionCreate};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::customer_seats::portal as seats;
use crate::customer_seats::{CustomerSeat, SeatsList};
use crate::customers::billing::{self, BillingDetailsUpdate};
use crate::customers::email_update;
use crate::customers::portal_methods as methods;
use crate::customers::schema::Customer;
use crate::http::extract::path_uuid;
use crate::http::{ApiError, ApiResult, IdPath, Json, ListResource, QueryParams};
use crate::license_keys::portal as license_keys;
use crate::license_keys::rate_limit::Refusal;
use crate::license_keys::schema::{
    LicenseKeyActivate, LicenseKeyActivationRead, LicenseKeyDeactivate, LicenseKeyRead,
    LicenseKeyValidate, LicenseKeyWithActivations, ValidatedLicenseKey,
};

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
    if let Some(member) = session.member {
        let member = crate::members::live_member(&app.reader, session.customer_id, member.id)
            .await?
            .ok_or(ApiError::InvalidToken)?;
        return Ok(axum::Json(AuthenticatedUser::member(member)));
    }
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
    BillingSession(session): BillingSession,
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
    BillingSession(session): BillingSession,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Value>>> {
    Ok(axum::Json(
        crate::orders::portal::list(&app, &session, &query).await?,
    ))
}

/// `customer_portal:orders:get`.
pub async fn get_order(
    BillingSession(session): BillingSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        crate::orders::portal::get(&app, &session, id).await?,
    ))
}

/// `customer_portal:orders:update`.
pub async fn update_order(
    BillingSession(session): BillingSession,
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
    BillingSession(session): BillingSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<Response> {
    crate::orders::portal::generate_invoice(&app, &session, id).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(Value::Null)).into_response())
}

/// `customer_portal:orders:invoice`.
pub async fn invoice(
    BillingSession(session): BillingSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<crate::orders::schema::OrderInvoice>> {
    Ok(axum::Json(
        crate::orders::portal::invoice(&app, &session, id).await?,
    ))
}

/// `customer_portal:orders:receipt`: the URL, or 202 without a body while it is drawn.
pub async fn receipt(
    BillingSession(session): BillingSession,
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
    BillingSession(session): BillingSession,
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
    BillingSession(session): BillingSession,
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
    BillingSession(session): BillingSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        crate::subscriptions::portal::cancel_at_period_end(&app, &session, id).await?,
    ))
}

/// `customer_portal:license_keys:list`.
pub async fn list_license_keys(
    session: PortalSession,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<LicenseKeyRead>>> {
    Ok(axum::Json(
        license_keys::list(&app, &session, &query).await?,
    ))
}

/// `customer_portal:license_keys:get`.
pub async fn get_license_key(
    session: PortalSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<LicenseKeyWithActivations>> {
    Ok(axum::Json(license_keys::get(&app, &session, id).await?))
}

/// `customer_portal:license_keys:validate` (no session: the key is the credential).
pub async fn validate_license_key(
    State(app): State<AppState>,
    Json(body): Json<LicenseKeyValidate>,
) -> Result<axum::Json<ValidatedLicenseKey>, Refusal> {
    Ok(axum::Json(license_keys::validate(&app, body).await?))
}

/// `customer_portal:license_keys:activate`.
pub async fn activate_license_key(
    State(app): State<AppState>,
    Json(body): Json<LicenseKeyActivate>,
) -> Result<axum::Json<LicenseKeyActivationRead>, Refusal> {
    Ok(axum::Json(license_keys::activate(&app, body).await?))
}

/// `customer_portal:license_keys:deactivate`.
pub async fn deactivate_license_key(
    State(app): State<AppState>,
    Json(body): Json<LicenseKeyDeactivate>,
) -> Result<StatusCode, Refusal> {
    license_keys::deactivate(&app, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `customer_portal:customer_meters:list`.
pub async fn list_meters(
    session: PortalSession,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Value>>> {
    Ok(axum::Json(
        crate::customer_meters::portal::list(&app, &session, &query).await?,
    ))
}

/// `customer_portal:customer_meters:get`.
pub async fn get_meter(
    session: PortalSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        crate::customer_meters::portal::get(&app, &session, id).await?,
    ))
}

/// `customer_portal:benefit-grants:list`.
pub async fn list_grants(
    session: PortalSession,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Value>>> {
    Ok(axum::Json(
        crate::benefits::portal::list(&app, &session, &query).await?,
    ))
}

/// `customer_portal:benefit-grants:get`.
pub async fn get_grant(
    session: PortalSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        crate::benefits::portal::get(&app, &session, id).await?,
    ))
}

/// `customer_portal:benefit-grants:update`.
pub async fn update_grant(
    session: PortalSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(body): Json<crate::benefits::portal::GrantUpdate>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        crate::benefits::portal::update(&app, &session, id, body).await?,
    ))
}

/// `customer_portal:downloadables:list`.
pub async fn list_downloadables(
    session: PortalSession,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<crate::benefits::portal::DownloadableRead>>> {
    Ok(axum::Json(
        crate::benefits::portal::downloadables(&app, &session, &query).await?,
    ))
}

/// `customer_portal:seats:list_seats`.
pub async fn list_seats(
    session: PortalSession,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<SeatsList>> {
    let subscription_id = query
        .uuids("subscription_id")?
        .and_then(|ids| ids.last().copied());
    let order_id = query.uuids("order_id")?.and_then(|ids| ids.last().copied());
    Ok(axum::Json(
        seats::list(&app, &session, subscription_id, order_id).await?,
    ))
}

/// `customer_portal:seats:assign_seat`.
pub async fn assign_seat(
    BillingSession(session): BillingSession,
    State(app): State<AppState>,
    Json(body): Json<seats::CustomerSeatAssign>,
) -> ApiResult<axum::Json<CustomerSeat>> {
    Ok(axum::Json(seats::assign(&app, &session, body).await?))
}

/// `customer_portal:seats:revoke_seat`.
pub async fn revoke_seat(
    BillingSession(session): BillingSession,
    State(app): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<axum::Json<CustomerSeat>> {
    let id = path_uuid("seat_id", &raw)?;
    Ok(axum::Json(seats::revoke(&app, &session, id).await?))
}

/// `customer_portal:seats:resend_invitation`.
pub async fn resend_seat(
    BillingSession(session): BillingSession,
    State(app): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<axum::Json<CustomerSeat>> {
    let id = path_uuid("seat_id", &raw)?;
    Ok(axum::Json(seats::resend(&app, &session, id).await?))
}

/// `customer_portal:seats:list_claimed_subscriptions`.
pub async fn claimed_subscriptions(
    session: PortalSession,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<Value>>> {
    let ids = seats::claimed_subscription_ids(&app, &session).await?;
    Ok(axum::Json(
        crate::subscriptions::portal::with_seats(&app, &session, &query, ids).await?,
    ))
}

/// `customer_portal:customers:list_payment_methods`.
pub async fn list_payment_methods(
    BillingSession(session): BillingSession,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<crate::customers::payment_methods::PaymentMethod>>> {
    Ok(axum::Json(methods::list(&app, &session, &query).await?))
}

/// `customer_portal:customers:add_payment_method`.
pub async fn add_payment_method(
    BillingSession(session): BillingSession,
    State(app): State<AppState>,
    Json(body): Json<methods::MethodCreate>,
) -> ApiResult<(StatusCode, axum::Json<methods::MethodCreated>)> {
    let created = methods::add(&app, &session, body).await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// `customer_portal:customers:confirm_payment_method`.
pub async fn confirm_payment_method(
    BillingSession(session): BillingSession,
    State(app): State<AppState>,
    Json(body): Json<methods::MethodConfirm>,
) -> ApiResult<(StatusCode, axum::Json<methods::MethodCreated>)> {
    let created = methods::confirm(&app, &session, body).await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// `customer_portal:customers:delete_payment_method`.
pub async fn delete_payment_method(
    BillingSession(session): BillingSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    methods::delete(&app, &session, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `customer_portal:customers:request_email_update`: 202 once the link is mailed.
pub async fn request_email_update(
    BillingSession(session): BillingSession,
    State(app): State<AppState>,
    Json(body): Json<email_update::EmailUpdateRequest>,
) -> ApiResult<Response> {
    email_update::request(&app, &session, body).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(Value::Null)).into_response())
}

/// `customer_portal:customers:check_email_update` (no session: the token is the proof).
pub async fn check_email_update(
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<StatusCode> {
    let Some(token) = query.last("token") else {
        return Err(ApiError::validation(
            crate::http::Loc::query("token"),
            "missing",
            "Field required",
            Value::Null,
        ));
    };
    email_update::check(&app, token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `customer_portal:customers:verify_email_update`.
pub async fn verify_email_update(
    State(app): State<AppState>,
    Json(body): Json<email_update::EmailUpdateVerify>,
) -> ApiResult<axum::Json<email_update::EmailUpdateVerified>> {
    Ok(axum::Json(email_update::verify(&app, body).await?))
}

/// `customer_portal:orders:confirm_retry_payment`.
pub async fn confirm_retry_payment(
    BillingSession(session): BillingSession,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    body: axum::body::Bytes,
) -> ApiResult<axum::Json<crate::subscriptions::customer_retry::RetryOutcome>> {
    let body = crate::orders::portal::parse_confirm_payment(&body)?;
    Ok(axum::Json(
        crate::orders::portal::confirm_retry_payment(&app, &session, id, body).await?,
    ))
}
