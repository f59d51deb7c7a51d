//! The hosted checkout page: `{public_url}/checkout/{client_secret}`, served by floe as
//! plain HTML forms (no script; POST, then redirect, then GET). The buyer's changes go
//! through `service::apply_patch` as `checkouts:client_update` does, the payment through
//! `confirm::confirm` with the card form's token, and an authentication step through
//! `confirm::complete_authentication`. Totals are the checkout's own, never computed here.

pub(crate) mod card;
mod countries;
mod fields;
mod form;
mod format;
pub(crate) mod layout;
pub(crate) mod status;
mod view;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::entity::Model;
use super::schema::{CheckoutPatch, CheckoutPublic, CheckoutStatus};
use super::{confirm, present, service, store};
use crate::app::AppState;
use crate::http::ApiError;
use crate::http::error::LoggedCause;
use card::CardForm;
use form::{Action, Faults, Submitted};

/// Where a checkout is, as its pages see it.
enum Stage {
    Open,
    /// Confirmed, waiting for the buyer to answer the card's authentication step.
    NeedsAction,
    /// Paid, processing, or failed: the confirmation page tells which.
    Done,
    Expired,
}

fn stage(app: &AppState, row: &Model) -> Stage {
    match CheckoutStatus::parse(&row.status) {
        Some(CheckoutStatus::Open) if row.expires_at <= app.clock.now() => Stage::Expired,
        Some(CheckoutStatus::Open) => Stage::Open,
        Some(CheckoutStatus::Expired) => Stage::Expired,
        Some(CheckoutStatus::Confirmed) if needs_action(row) => Stage::NeedsAction,
        _ => Stage::Done,
    }
}

/// Whether the pending charge waits for the buyer's authentication.
fn needs_action(row: &Model) -> bool {
    serde_json::from_str::<serde_json::Map<String, Value>>(&row.payment_processor_metadata)
        .ok()
        .and_then(|metadata| metadata.get("intent_status").cloned())
        == Some(Value::from("requires_action"))
}

/// An error no page of the checkout's can show better: its status, in words for the buyer;
/// a 5xx keeps its cause for the request log.
fn failure(error: ApiError) -> Response {
    let status = error.status();
    let message = match &error {
        ApiError::Named { detail, .. } if status.is_client_error() => detail.clone(),
        ApiError::ResourceNotFound(_) => return status::not_found(),
        _ if status == StatusCode::TOO_MANY_REQUESTS => {
            "Too many attempts: wait a minute and try again.".to_owned()
        }
        _ if status.is_server_error() => {
            "The checkout could not be shown right now. Please try again in a moment.".to_owned()
        }
        _ => "This request could not be handled.".to_owned(),
    };
    let cause = error
        .into_response()
        .extensions()
        .get::<LoggedCause>()
        .cloned();
    let mut response = status::failure(status, &message);
    if let Some(cause) = cause {
        response.extensions_mut().insert(cause);
    }
    response
}

/// The checkout of `client_secret`, or the page that says why there is none.
async fn find(app: &AppState, client_secret: &str) -> Result<Model, Response> {
    match store::by_client_secret((&app.reader).into(), client_secret).await {
        Ok(Some(row)) => Ok(row),
        Ok(None) => Err(status::not_found()),
        Err(error) => Err(failure(error.into())),
    }
}

async fn public(app: &AppState, row: &Model) -> Result<CheckoutPublic, Response> {
    super::show_public(app, row).await.map_err(failure)
}

fn page_url(app: &AppState, row: &Model) -> String {
    present::page_url(&app.config.public_url, &row.client_secret)
}

/// The page of a checkout that is not open: its next step or its outcome.
fn elsewhere(app: &AppState, row: &Model, stage: &Stage) -> Option<Response> {
    let url = page_url(app, row);
    match stage {
        Stage::Open => None,
        Stage::NeedsAction => Some(layout::see_other(&format!("{url}/authenticate"))),
        Stage::Done => Some(layout::see_other(&format!("{url}/confirmation"))),
        Stage::Expired => Some(status::expired(None)),
    }
}

/// Notices a redirect back to the form carries, by a fixed key (never text from the URL).
fn notice(query: Option<&str>) -> Option<&'static str> {
    let query = query.unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "notice")
        .and_then(|(_, key)| match key.as_ref() {
            "updated" => Some("Your order was updated."),
            "total-changed" => Some(
                "The total changed with your last edit. Check it, then press Pay again: nothing was charged.",
            ),
            _ => None,
        })
}

/// The form as the checkout stands, with what the last submission got wrong.
fn form_page(
    status_code: StatusCode,
    card: &CardForm,
    checkout: &CheckoutPublic,
    submitted: Option<&Submitted>,
    faults: &Faults,
    notice: Option<&str>,
    payment_error: Option<&str>,
) -> Response {
    let markup = view::page(&view::FormPage {
        checkout,
        card: card.clone(),
        faults,
        submitted,
        notice,
        payment_error,
    });
    match card {
        CardForm::Stripe { .. } => {
            layout::respond_with_policy(status_code, markup, card::stripe_policy())
        }
        _ => layout::respond(status_code, markup),
    }
}

/// The open checkout a form request names, as its buyer sees it; or the page to answer
/// instead (not found, or where the checkout went since).
async fn open_checkout(
    app: &AppState,
    client_secret: &str,
) -> Result<(Model, CheckoutPublic), Response> {
    let row = find(app, client_secret).await?;
    if let Some(page) = elsewhere(app, &row, &stage(app, &row)) {
        return Err(page);
    }
    let checkout = public(app, &row).await?;
    Ok((row, checkout))
}

/// `GET /checkout/{client_secret}`: the form, or where the checkout went since.
pub async fn show(
    State(app): State<AppState>,
    Path(client_secret): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let (row, checkout) = match open_checkout(&app, &client_secret).await {
        Ok(open) => open,
        Err(page) => return page,
    };
    let payment_error = row
        .payment_error
        .as_deref()
        .map(|message| format!("Your last payment attempt failed: {message}"));
    let card = card::card_form(&app, &row).await;
    form_page(
        StatusCode::OK,
        &card,
        &checkout,
        None,
        &Faults::default(),
        notice(query.as_deref()),
        payment_error.as_deref(),
    )
}

/// Applies the form's changes to the open checkout, as `checkouts:client_update` does.
async fn update(app: &AppState, row: &Model, patch: CheckoutPatch) -> Result<Model, ApiError> {
    Ok(service::update_by_buyer(app, row.id, patch).await?.0)
}

/// `POST /checkout/{client_secret}`: saves the buyer's changes, then, when they pressed
/// Pay, pays with the card: to the success URL, the authentication step, or back to the
/// form with the processor's answer.
pub async fn submit(
    State(app): State<AppState>,
    Path(client_secret): Path<String>,
    body: Bytes,
) -> Response {
    let (row, before) = match open_checkout(&app, &client_secret).await {
        Ok(open) => open,
        Err(page) => return page,
    };
    let submitted = Submitted::parse(&body);
    let (patch, mut faults) = form::patch(&submitted, &before);
    let card = card::card_form(&app, &row).await;
    let paying = submitted.action() == Action::Pay;
    let today = app.clock.now().date_naive();
    // When paying, empty required fields and card faults are told with the rest, so that
    // one round trip shows them all.
    let pay_faults = |faults: &mut Faults, checkout: &CheckoutPublic| {
        if !paying {
            return;
        }
        form::required_faults(&submitted, checkout, faults);
        if !checkout.base.is_payment_form_required {
            return;
        }
        match &card {
            CardForm::TestCards => {
                if let Err(card_faults) = form::test_card(&submitted, today) {
                    for (field, message) in card_faults {
                        faults.field(field, message);
                    }
                }
            }
            CardForm::Stripe { .. } if stripe_token(&submitted).is_none() => {
                faults.general("Enter your payment details.");
            }
            _ => {}
        }
    };
    if !faults.is_empty() {
        pay_faults(&mut faults, &before);
        return form_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &card,
            &before,
            Some(&submitted),
            &faults,
            None,
            None,
        );
    }

    let row = match update(&app, &row, patch).await {
        Ok(row) => row,
        Err(ApiError::Validation(issues)) => {
            let mut faults = form::faults_of(&issues, &before, Some(&submitted));
            pay_faults(&mut faults, &before);
            return form_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &card,
                &before,
                Some(&submitted),
                &faults,
                None,
                None,
            );
        }
        Err(error) => return after_refusal(&app, &row, error),
    };
    let url = page_url(&app, &row);
    if !paying {
        return layout::see_other(&format!("{url}?notice=updated"));
    }
    let after = match public(&app, &row).await {
        Ok(checkout) => checkout,
        Err(page) => return page,
    };
    // Never charge an amount the buyer was not shown: a total changed by this very
    // submission (a new product, amount, seats or code) is shown first.
    if !submitted.saw_total(&after) {
        return layout::see_other(&format!("{url}?notice=total-changed"));
    }

    let mut faults = Faults::default();
    pay_faults(&mut faults, &after);
    if !faults.is_empty() {
        return form_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &card,
            &after,
            Some(&submitted),
            &faults,
            None,
            None,
        );
    }
    let mut token = None;
    if after.base.is_payment_form_required {
        // Checked above: a card fault has already sent the form back.
        token = match &card {
            CardForm::TestCards => form::test_card(&submitted, today)
                .ok()
                .map(|test_card| test_card.payment_method.to_owned()),
            CardForm::Stripe { .. } => stripe_token(&submitted),
            CardForm::Unavailable => {
                let mut faults = Faults::default();
                faults.general("Card payments are not available for this checkout yet.");
                return form_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &card,
                    &after,
                    Some(&submitted),
                    &faults,
                    None,
                    None,
                );
            }
        };
    }

    let paid = confirm::confirm(
        &app,
        &client_secret,
        CheckoutPatch {
            confirmation_token_id: token,
            ..CheckoutPatch::default()
        },
    )
    .await;
    match paid {
        Ok(confirmed) => {
            let base = &confirmed.public.base;
            if base.payment_processor_metadata.get("intent_status")
                == Some(&Value::from("requires_action"))
            {
                layout::see_other(&format!("{url}/authenticate"))
            } else {
                layout::see_other(&base.success_url)
            }
        }
        Err(ApiError::Validation(issues)) => {
            let faults = form::faults_of(&issues, &after, Some(&submitted));
            form_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &card,
                &after,
                Some(&submitted),
                &faults,
                None,
                None,
            )
        }
        Err(ApiError::Named {
            error: "PaymentError",
            detail,
            ..
        }) => {
            // The decline reopened the checkout: show it as it stands now.
            let (_, checkout) = match reload(&app, &client_secret).await {
                Ok(found) => found,
                Err(page) => return page,
            };
            form_page(
                StatusCode::PAYMENT_REQUIRED,
                &card,
                &checkout,
                Some(&submitted),
                &Faults::default(),
                None,
                Some(&detail),
            )
        }
        Err(error) => after_refusal(&app, &row, error),
    }
}

/// The confirmation token Stripe.js put in the form.
fn stripe_token(submitted: &Submitted) -> Option<String> {
    submitted
        .get("confirmation_token_id")
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .map(str::to_owned)
}

async fn reload(app: &AppState, client_secret: &str) -> Result<(Model, CheckoutPublic), Response> {
    let row = find(app, client_secret).await?;
    let checkout = public(app, &row).await?;
    Ok((row, checkout))
}

/// A change or payment refused for a reason that is not a field's: a checkout no longer
/// open (someone paid it in another tab) goes where it is now; an expired one says so.
fn after_refusal(app: &AppState, row: &Model, error: ApiError) -> Response {
    match &error {
        ApiError::Named {
            error: "NotOpenCheckout",
            ..
        } => layout::see_other(&page_url(app, row)),
        ApiError::Named {
            error: "ExpiredCheckoutError",
            ..
        } => status::expired(None),
        _ => failure(error),
    }
}

/// `GET /checkout/{client_secret}/authenticate`: the authentication step of a card that
/// asks for one (4000 0025 0000 3155).
pub async fn authenticate_show(
    State(app): State<AppState>,
    Path(client_secret): Path<String>,
) -> Response {
    let row = match find(&app, &client_secret).await {
        Ok(row) => row,
        Err(page) => return page,
    };
    if !matches!(stage(&app, &row), Stage::NeedsAction) {
        return layout::see_other(&page_url(&app, &row));
    }
    let checkout = match public(&app, &row).await {
        Ok(checkout) => checkout,
        Err(page) => return page,
    };
    match card::card_form(&app, &row).await {
        // Stripe's step is Stripe.js's; the webhook tells how it ended.
        CardForm::Stripe { publishable_key } => {
            let client_secret = checkout
                .base
                .payment_processor_metadata
                .get("intent_client_secret")
                .and_then(Value::as_str)
                .unwrap_or_default();
            status::authenticate_with_stripe(
                &checkout,
                &publishable_key,
                client_secret,
                &format!("{}/confirmation", page_url(&app, &row)),
            )
        }
        _ => status::authenticate(&checkout),
    }
}

/// `POST /checkout/{client_secret}/authenticate`: the buyer's answer. Completed, to the
/// success URL; failed, back to the form with the processor's message.
pub async fn authenticate_submit(
    State(app): State<AppState>,
    Path(client_secret): Path<String>,
    body: Bytes,
) -> Response {
    let row = match find(&app, &client_secret).await {
        Ok(row) => row,
        Err(page) => return page,
    };
    let approved = match Submitted::parse(&body).get("action") {
        Some("complete") => true,
        Some("fail") => false,
        _ => return layout::see_other(&format!("{}/authenticate", page_url(&app, &row))),
    };
    match confirm::complete_authentication(&app, &client_secret, approved).await {
        Ok(()) => {}
        Err(ApiError::Named {
            error: "NotOpenCheckout",
            ..
        }) => {}
        Err(error) => return failure(error),
    }
    let row = match find(&app, &client_secret).await {
        Ok(row) => row,
        Err(page) => return page,
    };
    if row.status == CheckoutStatus::Succeeded.as_str() {
        layout::see_other(&present::success_url(&app.config.public_url, &row))
    } else {
        layout::see_other(&page_url(&app, &row))
    }
}

/// `GET /checkout/{client_secret}/confirmation`: the default success URL.
pub async fn confirmation(
    State(app): State<AppState>,
    Path(client_secret): Path<String>,
) -> Response {
    let row = match find(&app, &client_secret).await {
        Ok(row) => row,
        Err(page) => return page,
    };
    let stage = stage(&app, &row);
    let checkout = match public(&app, &row).await {
        Ok(checkout) => checkout,
        Err(page) => return page,
    };
    if matches!(stage, Stage::Expired) {
        return status::expired(Some(&checkout.organization.name));
    }
    status::confirmation(
        &checkout,
        &page_url(&app, &row),
        matches!(stage, Stage::NeedsAction),
    )
}
