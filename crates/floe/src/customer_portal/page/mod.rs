//! The hosted portal page: `{public_url}/portal/{slug}`, server-rendered like the checkout
//! page (plain HTML forms, no script; POST, then redirect, then GET).
//!
//! A customer arrives with the merchant's link (`customer_portal_url`, whose
//! `customer_session_token` is traded at once for an HttpOnly cookie scoped to this
//! organization's portal, and the address bar is cleaned by a redirect), or signs in with
//! a code mailed to them. Every action calls the same functions as the portal API, with the
//! cookie's session, so the page can do nothing the API would refuse. Forms carry a token
//! derived from the session (and the cookie is `SameSite=Lax`), so another site cannot
//! make a customer's browser post them.

mod data;
mod views;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::auth::PortalSession;
use super::sign_in::{self, ClientIp, CodeAuthenticate, CodeRequest, Refusal};
use crate::app::AppState;
use crate::checkouts::page::layout::{respond, see_other};
use crate::http::ApiError;

const COOKIE: &str = "floe_portal_session";

/// The portal's pages (not API operations: outside the API's route table and layers).
pub fn pages() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/portal/{slug}", get(show))
        .route("/portal/{slug}/sign-in", axum::routing::post(ask_code))
        .route("/portal/{slug}/code", get(code_form).post(enter_code))
        .route("/portal/{slug}/sign-out", axum::routing::post(sign_out))
        .route(
            "/portal/{slug}/subscriptions/{id}/change",
            get(change_form).post(change),
        )
        .route(
            "/portal/{slug}/subscriptions/{id}/cancel",
            get(cancel_form).post(cancel),
        )
        .route(
            "/portal/{slug}/subscriptions/{id}/uncancel",
            axum::routing::post(uncancel),
        )
        .route(
            "/portal/{slug}/orders/{id}/invoice",
            get(invoice).post(invoice_details),
        )
        .route(
            "/portal/{slug}/payment-methods/new",
            get(card_form).post(add_card),
        )
        .route(
            "/portal/{slug}/payment-methods/confirm",
            get(confirm_card).post(confirm_card_posted),
        )
}

/// The portal's address for `slug` (and a page under it).
fn home(slug: &str) -> String {
    format!("/portal/{}", encode(slug))
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The session token of this portal's cookie, if the browser sent one.
fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

fn set_cookie(app: &AppState, response: &mut Response, slug: &str, token: Option<&str>) {
    let secure = if app.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let value = match token {
        Some(token) => format!(
            "{COOKIE}={token}; Path={}; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            home(slug),
            super::sessions::LIFETIME.num_seconds()
        ),
        None => format!(
            "{COOKIE}=; Path={}; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
            home(slug)
        ),
    };
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The form token of a session: an HMAC of its token, so only a page this session was
/// shown can post.
fn form_token(app: &AppState, token: &str) -> String {
    app.secret.token_hash(&format!("portal-form:{token}"))
}

/// The signed-in visitor of `slug`'s portal: its session (of this organization) and its
/// cookie's token.
struct Visitor {
    session: PortalSession,
    token: String,
    organization: super::organization::CustomerOrganizationData,
}

impl Visitor {
    fn form_token(&self, app: &AppState) -> String {
        form_token(app, &self.token)
    }

    /// Whether a posted form carries this session's form token.
    fn posted(&self, app: &AppState, pairs: &[(String, String)]) -> bool {
        let expected = self.form_token(app);
        field(pairs, "form_token")
            .is_some_and(|given| bool::from(given.as_bytes().ct_eq(expected.as_bytes())))
    }
}

async fn organization_of(
    app: &AppState,
    slug: &str,
) -> Result<super::organization::CustomerOrganizationData, Response> {
    super::organization::by_slug(app, slug)
        .await
        .map_err(|_| crate::checkouts::page::status::not_found())
}

/// Who arrives at `slug`'s portal: a signed-in visitor, or someone to sign in (with the
/// organization, read once either way).
enum Arrival {
    SignedIn(Visitor),
    Anonymous(super::organization::CustomerOrganizationData),
}

async fn arrive(app: &AppState, slug: &str, headers: &HeaderMap) -> Result<Arrival, Response> {
    let organization = organization_of(app, slug).await?;
    let Some(token) = cookie_token(headers) else {
        return Ok(Arrival::Anonymous(organization));
    };
    match PortalSession::from_token(app, token).await {
        Ok(session) if session.organization_id == organization.organization.id => {
            Ok(Arrival::SignedIn(Visitor {
                session,
                token: token.to_owned(),
                organization,
            }))
        }
        Ok(_) | Err(ApiError::InvalidToken | ApiError::Unauthorized) => {
            Ok(Arrival::Anonymous(organization))
        }
        Err(error) => Err(failure(error)),
    }
}

/// An error no page can show better: its status, in words for the customer.
fn failure(error: ApiError) -> Response {
    let status = error.status();
    let message = match &error {
        ApiError::Named { detail, .. } if status.is_client_error() => detail.clone(),
        ApiError::NotPermitted(detail) => detail.clone(),
        ApiError::ResourceNotFound(_) => return crate::checkouts::page::status::not_found(),
        ApiError::Validation(_) => "This change is not possible.".to_owned(),
        _ if status == StatusCode::TOO_MANY_REQUESTS => {
            "Too many attempts: wait a few minutes and try again.".to_owned()
        }
        _ if status.is_server_error() => {
            tracing::warn!(?error, "portal page failed");
            "The portal could not be shown right now. Please try again in a moment.".to_owned()
        }
        _ => "This request could not be handled.".to_owned(),
    };
    crate::checkouts::page::status::failure(status, &message)
}

fn refused(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Api(error) => failure(error),
        Refusal::Limited(limited) => {
            let mut response = failure(ApiError::named(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Too many attempts.",
            ));
            if let Ok(value) = HeaderValue::from_str(&limited.retry_after.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

/// `GET /portal/{slug}`: a link's token becomes the cookie; then the dashboard, or the
/// sign-in form.
async fn show(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let pairs = query_pairs(query.as_deref());
    if let Some(token) = field(&pairs, "customer_session_token") {
        let organization = match organization_of(&app, &slug).await {
            Ok(organization) => organization,
            Err(response) => return response,
        };
        let mut response = see_other(&home(&slug));
        match PortalSession::from_token(&app, token).await {
            Ok(session) if session.organization_id == organization.organization.id => {
                set_cookie(&app, &mut response, &slug, Some(token));
            }
            // An expired or foreign link signs nobody in: the sign-in form says so.
            _ => {
                response = see_other(&format!("{}?expired=1", home(&slug)));
            }
        }
        return response;
    }
    let visitor = match arrive(&app, &slug, &headers).await {
        Ok(Arrival::SignedIn(visitor)) => visitor,
        Ok(Arrival::Anonymous(organization)) => {
            let expired = field(&pairs, "expired").is_some();
            return respond(
                StatusCode::OK,
                views::sign_in(&organization.organization, expired, None),
            );
        }
        Err(response) => return response,
    };
    let dashboard = match data::dashboard(&app, &visitor.session).await {
        Ok(dashboard) => dashboard,
        Err(error) => return failure(error),
    };
    let notice = field(&pairs, "notice").map(str::to_owned);
    respond(
        StatusCode::OK,
        views::dashboard(&visitor, &app, &dashboard, notice.as_deref()),
    )
}

/// `POST /portal/{slug}/sign-in`: mails a code (when the email is known) and asks for it.
async fn ask_code(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    ClientIp(ip): ClientIp,
    body: Bytes,
) -> Response {
    let organization = match organization_of(&app, &slug).await {
        Ok(organization) => organization,
        Err(response) => return response,
    };
    let pairs = form_pairs(&body);
    let email = field(&pairs, "email").unwrap_or("").trim().to_owned();
    let started = tokio::time::Instant::now();
    let asked = sign_in::request_code(
        &app,
        ip,
        CodeRequest {
            email: email.clone(),
            organization_id: organization.organization.id,
            customer_id: None,
        },
    )
    .await;
    // The same floor as the API: the page does not tell known emails apart either.
    tokio::time::sleep_until(started + sign_in::REQUEST_FLOOR).await;
    match asked {
        Ok(()) => see_other(&format!("{}/code?email={}", home(&slug), encode(&email))),
        Err(Refusal::Api(ApiError::Validation(_))) => respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            views::sign_in(
                &organization.organization,
                false,
                Some("Enter a valid email address."),
            ),
        ),
        Err(refusal) => refused(refusal),
    }
}

/// `GET /portal/{slug}/code`: the code form.
async fn code_form(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let organization = match organization_of(&app, &slug).await {
        Ok(organization) => organization,
        Err(response) => return response,
    };
    let pairs = query_pairs(query.as_deref());
    let email = field(&pairs, "email").unwrap_or("");
    respond(
        StatusCode::OK,
        views::code(&organization.organization, email, None),
    )
}

/// `POST /portal/{slug}/code`: the code for a session, kept in the cookie.
async fn enter_code(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    ClientIp(ip): ClientIp,
    body: Bytes,
) -> Response {
    let organization = match organization_of(&app, &slug).await {
        Ok(organization) => organization,
        Err(response) => return response,
    };
    let pairs = form_pairs(&body);
    let email = field(&pairs, "email").unwrap_or("").to_owned();
    let code = field(&pairs, "code").unwrap_or("").to_owned();
    let traded = sign_in::trade(
        &app,
        ip,
        CodeAuthenticate {
            code,
            email: Some(email.clone()),
            organization_id: Some(organization.organization.id),
        },
    )
    .await;
    match traded {
        Ok(token) => {
            let mut response = see_other(&home(&slug));
            set_cookie(&app, &mut response, &slug, Some(&token));
            response
        }
        Err(Refusal::Api(error)) if error.status() == StatusCode::UNAUTHORIZED => respond(
            StatusCode::UNAUTHORIZED,
            views::code(
                &organization.organization,
                &email,
                Some(
                    "This code is not valid or has expired. Check the latest email, or ask for a new code.",
                ),
            ),
        ),
        Err(refusal) => refused(refusal),
    }
}

async fn sign_out(State(app): State<AppState>, Path(slug): Path<String>) -> Response {
    let mut response = see_other(&home(&slug));
    set_cookie(&app, &mut response, &slug, None);
    response
}

/// The visitor, or the sign-in page's address to go to.
async fn signed_in(app: &AppState, slug: &str, headers: &HeaderMap) -> Result<Visitor, Response> {
    match arrive(app, slug, headers).await? {
        Arrival::SignedIn(visitor) => Ok(visitor),
        Arrival::Anonymous(_) => Err(see_other(&home(slug))),
    }
}

/// A posted form of the visitor's, or the answer refusing it.
async fn posted(
    app: &AppState,
    slug: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Visitor, Vec<(String, String)>), Response> {
    let visitor = signed_in(app, slug, headers).await?;
    let pairs = form_pairs(body);
    if !visitor.posted(app, &pairs) {
        return Err(crate::checkouts::page::status::failure(
            StatusCode::FORBIDDEN,
            "This form has expired. Go back to the portal and try again.",
        ));
    }
    Ok((visitor, pairs))
}

/// A posted form of a visitor who may see and change billing (as `BillingSession` is for
/// the API), about the resource `id` names.
async fn billing_post(
    app: &AppState,
    slug: &str,
    headers: &HeaderMap,
    body: &[u8],
    id: &str,
) -> Result<(Visitor, Vec<(String, String)>, Uuid), Response> {
    let (visitor, pairs) = billing_posted(app, slug, headers, body).await?;
    let id = id
        .parse::<Uuid>()
        .map_err(|_| crate::checkouts::page::status::not_found())?;
    Ok((visitor, pairs, id))
}

/// Plain members see no billing and change none: the refusal (403, as the API answers
/// them), or `None` for those who may.
fn refuse_billing(visitor: &Visitor) -> Option<Response> {
    (!visitor.session.may_bill()).then(|| {
        failure(ApiError::NotPermitted(
            "Only owners and billing managers can access billing features.".to_owned(),
        ))
    })
}

/// The signed-in visitor of a billing page (as `BillingSession` is for the API).
async fn billing_visitor(
    app: &AppState,
    slug: &str,
    headers: &HeaderMap,
) -> Result<Visitor, Response> {
    let visitor = signed_in(app, slug, headers).await?;
    match refuse_billing(&visitor) {
        Some(refusal) => Err(refusal),
        None => Ok(visitor),
    }
}

/// A posted billing form of a visitor who may bill.
async fn billing_posted(
    app: &AppState,
    slug: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Visitor, Vec<(String, String)>), Response> {
    let (visitor, pairs) = posted(app, slug, headers, body).await?;
    match refuse_billing(&visitor) {
        Some(refusal) => Err(refusal),
        None => Ok((visitor, pairs)),
    }
}

/// `GET /portal/{slug}/subscriptions/{id}/change?product_id=`: what the change costs and
/// when, before it is made.
async fn change_form(
    State(app): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let visitor = match billing_visitor(&app, &slug, &headers).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    let Ok(id) = id.parse::<Uuid>() else {
        return crate::checkouts::page::status::not_found();
    };
    let pairs = query_pairs(query.as_deref());
    let Some(product_id) = field(&pairs, "product_id").and_then(|raw| raw.parse::<Uuid>().ok())
    else {
        return see_other(&home(&slug));
    };
    let session = &visitor.session;
    let subscription = match crate::subscriptions::portal::get(&app, session, id).await {
        Ok(subscription) => subscription,
        Err(error) => return failure(error),
    };
    let preview = match crate::subscriptions::portal::preview_plan_change(
        &app, session, id, product_id,
    )
    .await
    {
        Ok(preview) => preview,
        Err(error) => return failure(error),
    };
    let product = visitor
        .organization
        .products
        .iter()
        .find(|p| p.id == product_id)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    respond(
        StatusCode::OK,
        views::change(
            &visitor,
            &app,
            &subscription,
            product_id,
            &product,
            &preview,
        ),
    )
}

async fn change(
    State(app): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (visitor, pairs, id) = match billing_post(&app, &slug, &headers, &body, &id).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let Some(product_id) = field(&pairs, "product_id").and_then(|raw| raw.parse::<Uuid>().ok())
    else {
        return see_other(&home(&slug));
    };
    let patch = json!({"product_id": product_id});
    match crate::subscriptions::portal::update(&app, &visitor.session, id, patch).await {
        Ok(_) => see_other(&format!("{}?notice=changed", home(&slug))),
        Err(error) => failure(error),
    }
}

async fn cancel_form(
    State(app): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let visitor = match billing_visitor(&app, &slug, &headers).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    let Ok(id) = id.parse::<Uuid>() else {
        return crate::checkouts::page::status::not_found();
    };
    match crate::subscriptions::portal::get(&app, &visitor.session, id).await {
        Ok(subscription) => respond(StatusCode::OK, views::cancel(&visitor, &app, &subscription)),
        Err(error) => failure(error),
    }
}

async fn cancel(
    State(app): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    set_canceling(&app, &slug, &id, &headers, &body, true).await
}

async fn uncancel(
    State(app): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    set_canceling(&app, &slug, &id, &headers, &body, false).await
}

/// Cancels subscription `id` at its period's end, or keeps it, as the portal API does.
async fn set_canceling(
    app: &AppState,
    slug: &str,
    id: &str,
    headers: &HeaderMap,
    body: &[u8],
    cancel: bool,
) -> Response {
    let (visitor, _, id) = match billing_post(app, slug, headers, body, id).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let patch = json!({"cancel_at_period_end": cancel});
    match crate::subscriptions::portal::update(app, &visitor.session, id, patch).await {
        Ok(_) => {
            let notice = if cancel { "canceled" } else { "uncanceled" };
            see_other(&format!("{}?notice={notice}", home(slug)))
        }
        Err(error) => failure(error),
    }
}

/// `GET /portal/{slug}/orders/{id}/invoice`: the invoice's signed URL once it is drawn;
/// until then it is asked for and a page says it is on its way.
async fn invoice(
    State(app): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let visitor = match billing_visitor(&app, &slug, &headers).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    let Ok(id) = id.parse::<Uuid>() else {
        return crate::checkouts::page::status::not_found();
    };
    let session = &visitor.session;
    if let Ok(drawn) = crate::orders::portal::invoice(&app, session, id).await {
        return see_other(&drawn.url);
    }
    match crate::orders::portal::generate_invoice(&app, session, id).await {
        Ok(()) => respond(
            StatusCode::ACCEPTED,
            views::invoice_pending(&visitor, &format!("{}/orders/{id}/invoice", home(&slug))),
        ),
        Err(ApiError::Named {
            error: "MissingInvoiceBillingDetails",
            ..
        }) => match crate::orders::portal::get(&app, session, id).await {
            Ok(order) => respond(
                StatusCode::OK,
                views::invoice_details(&visitor, &app, &order),
            ),
            Err(error) => failure(error),
        },
        Err(error) => failure(error),
    }
}

/// `POST /portal/{slug}/orders/{id}/invoice`: the billing name and address lines an
/// invoice needs (the country and state stay the order's: they decided its tax), then the
/// invoice.
async fn invoice_details(
    State(app): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (visitor, pairs, id) = match billing_post(&app, &slug, &headers, &body, &id).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let session = &visitor.session;
    let order = match crate::orders::portal::get(&app, session, id).await {
        Ok(order) => order,
        Err(error) => return failure(error),
    };
    let given = |name: &str| {
        field(&pairs, name)
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    let Some(name) = given("billing_name") else {
        return respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            views::invoice_details(&visitor, &app, &order),
        );
    };
    let address =
        serde_json::from_value::<crate::address::Address>(order["billing_address"].clone())
            .ok()
            .map(|current| crate::address::Address {
                line1: given("line1").or(current.line1),
                line2: current.line2,
                postal_code: given("postal_code").or(current.postal_code),
                city: given("city").or(current.city),
                state: current.state,
                country: current.country,
            });
    let patch = crate::orders::schema::OrderUpdate {
        billing_name: Some(Some(name)),
        billing_address: address.map(Some),
    };
    match crate::orders::portal::update(&app, session, id, patch).await {
        Ok(_) => see_other(&format!("{}/orders/{id}/invoice", home(&slug))),
        Err(error) => failure(error),
    }
}

/// Which card form the organization's processor takes.
async fn card_kind(app: &AppState, organization_id: Uuid) -> Result<views::CardKind, ApiError> {
    use crate::payments::accounts::Account;
    Ok(
        match crate::payments::accounts::of(&app.db, &app.secret, organization_id).await? {
            Account::Test => views::CardKind::Test,
            Account::Stripe(keys) => keys
                .publishable_key
                .map_or(views::CardKind::Unavailable, views::CardKind::Stripe),
        },
    )
}

fn with_card_policy(kind: &views::CardKind, status: StatusCode, markup: maud::Markup) -> Response {
    match kind {
        views::CardKind::Stripe(_) => crate::checkouts::page::layout::respond_with_policy(
            status,
            markup,
            crate::checkouts::page::card::stripe_policy(),
        ),
        _ => respond(status, markup),
    }
}

/// `GET /portal/{slug}/payment-methods/new`: the card form of the seller's processor.
async fn card_form(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Response {
    let visitor = match billing_visitor(&app, &slug, &headers).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    let kind = match card_kind(&app, visitor.session.organization_id).await {
        Ok(kind) => kind,
        Err(error) => return failure(error),
    };
    with_card_policy(
        &kind,
        StatusCode::OK,
        views::card_form(&visitor, &app, &kind, None),
    )
}

/// `POST /portal/{slug}/payment-methods/new`: the card saved (and made the default), or
/// the bank's step first.
async fn add_card(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (visitor, pairs) = match billing_posted(&app, &slug, &headers, &body).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let kind = match card_kind(&app, visitor.session.organization_id).await {
        Ok(kind) => kind,
        Err(error) => return failure(error),
    };
    let token = match &kind {
        views::CardKind::Test => {
            let given = |name: &str| field(&pairs, name).unwrap_or("").trim().to_owned();
            let today = app.clock.now().date_naive();
            match crate::payments::test_cards::from_form(
                &given("card_number"),
                &given("card_expiry"),
                &given("card_cvc"),
                today,
            ) {
                Ok(card) => card.payment_method.to_owned(),
                Err(fault) => {
                    return with_card_policy(
                        &kind,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        views::card_form(&visitor, &app, &kind, Some(fault.message)),
                    );
                }
            }
        }
        views::CardKind::Stripe(_) => field(&pairs, "confirmation_token_id")
            .unwrap_or("")
            .to_owned(),
        views::CardKind::Unavailable => return see_other(&home(&slug)),
    };
    let return_url = format!(
        "{}{}/payment-methods/confirm",
        app.config.public_url,
        home(&slug)
    );
    let added = crate::customers::portal_methods::add(
        &app,
        &visitor.session,
        crate::customers::portal_methods::MethodCreate::new(token, return_url),
    )
    .await;
    match added.map(|created| serde_json::to_value(created).unwrap_or_default()) {
        Ok(created) if created["status"] == "succeeded" => {
            see_other(&format!("{}?notice=card_added", home(&slug)))
        }
        Ok(created) => {
            let client_secret = created["client_secret"].as_str().unwrap_or("");
            let setup = client_secret.split("_secret").next().unwrap_or("");
            let done = format!(
                "{}/payment-methods/confirm?setup_intent_id={}",
                home(&slug),
                encode(setup)
            );
            with_card_policy(
                &kind,
                StatusCode::OK,
                views::card_next_action(&visitor, &app, &kind, client_secret, setup, &done),
            )
        }
        Err(ApiError::Named { detail, .. }) => with_card_policy(
            &kind,
            StatusCode::UNPROCESSABLE_ENTITY,
            views::card_form(&visitor, &app, &kind, Some(&detail)),
        ),
        Err(error) => failure(error),
    }
}

/// Confirms the customer's own setup after the bank's step, then back to the portal.
async fn confirm_setup(app: &AppState, slug: &str, visitor: &Visitor, setup: &str) -> Response {
    let confirmed = crate::customers::portal_methods::confirm(
        app,
        &visitor.session,
        crate::customers::portal_methods::MethodConfirm::new(setup.to_owned()),
    )
    .await;
    match confirmed {
        Ok(_) => see_other(&format!("{}?notice=card_added", home(slug))),
        Err(error) => failure(error),
    }
}

/// `GET .../payment-methods/confirm?setup_intent_id=`: where Stripe.js sends the customer
/// after the bank's step. Confirming a setup that is the customer's own is all it can do.
async fn confirm_card(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let visitor = match billing_visitor(&app, &slug, &headers).await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    let pairs = query_pairs(query.as_deref());
    let setup = field(&pairs, "setup_intent_id").unwrap_or("").to_owned();
    confirm_setup(&app, &slug, &visitor, &setup).await
}

/// `POST .../payment-methods/confirm`: the test processor's stand-in for the bank's step.
async fn confirm_card_posted(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (visitor, pairs) = match billing_posted(&app, &slug, &headers, &body).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let setup = field(&pairs, "setup_intent_id").unwrap_or("").to_owned();
    confirm_setup(&app, &slug, &visitor, &setup).await
}
