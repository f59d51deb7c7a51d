//! Stripe's webhooks for an organization that uses Stripe:
//! `POST /v1/integrations/stripe/webhook/{organization_id}`. The `Stripe-Signature` is
//! checked with the organization's webhook secret; each Stripe event is stored once (a
//! redelivery is acknowledged and changes nothing); a PaymentIntent's outcome is applied
//! to its checkout through the same function as the confirmation's own answer, recorded
//! once under the intent, so the two arrive in any order and count once. SetupIntents
//! (nothing charged, a method kept) go the same way; PaymentIntents of a draft order's
//! off-session charge (`orders:finalize`) settle that order.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use super::confirm::apply_outcome;
use super::schema::CheckoutStatus;
use super::{service, store};
use crate::app::AppState;
use crate::http::{ApiError, ApiResult};
use crate::payments::accounts::Account;
use crate::payments::processor::{Intent, Outcome};
use crate::payments::stripe::{self, STRIPE};

/// Where raw Stripe events are recorded (apart from the outcomes they carry).
const EVENTS: &str = "stripe-event";

pub async fn receive(
    State(app): State<AppState>,
    Path(organization_id): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let Account::Stripe(keys) =
        crate::payments::accounts::of(&app.db, &app.secret, organization_id).await?
    else {
        return Err(ApiError::ResourceNotFound(
            "No Stripe account here.".to_owned(),
        ));
    };
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !stripe::verify_signature(
        signature,
        &body,
        &keys.webhook_secret,
        app.clock.now().timestamp(),
    ) {
        return Err(ApiError::BadRequest("Invalid Stripe-Signature.".to_owned()));
    }
    let event: Value = serde_json::from_slice(&body)
        .map_err(|_| ApiError::BadRequest("The body is not a Stripe event.".to_owned()))?;
    let (Some(event_id), Some(kind)) = (event["id"].as_str(), event["type"].as_str()) else {
        return Err(ApiError::BadRequest(
            "The body is not a Stripe event.".to_owned(),
        ));
    };
    let object = &event["data"]["object"];
    if crate::disputes::stripe::handles(kind) {
        crate::disputes::stripe::apply(&app, organization_id, object).await?;
        return acknowledge(&app, event_id, kind, &event).await;
    }
    if crate::refunds::stripe::handles(kind) {
        return refund_event(&app, organization_id, event_id, kind, &event).await;
    }
    let Some((intent, outcome_of)) = reported_by(kind) else {
        // Not an event floe acts on: recorded once, acknowledged.
        return acknowledge(&app, event_id, kind, &event).await;
    };
    // An intent's payment method comes as an ID in events: read the card once, before any
    // lock is taken.
    let mut object = object.clone();
    if let Some(method_id) = object["payment_method"].as_str() {
        let client = stripe::Client::new(&app.config.stripe_api_base, &keys.secret_key);
        match client
            .get(&format!("/v1/payment_methods/{method_id}"))
            .await
        {
            Ok(method) => object["payment_method"] = method,
            Err(error) => {
                // Stripe redelivers: answer so that it does, rather than record less.
                tracing::warn!(%error, "reading a payment method for a Stripe event failed");
                return Ok(StatusCode::SERVICE_UNAVAILABLE.into_response());
            }
        }
    }
    let outcome = outcome_of(&object);
    let metadata_id = |name: &str| {
        object["metadata"][name]
            .as_str()
            .and_then(|id| Uuid::parse_str(id).ok())
    };

    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let first_time =
        crate::payments::events::record_once(&txn, EVENTS, event_id, kind, &event, now).await?;
    if !first_time {
        txn.rollback().await?;
        return Ok(received());
    }
    let mut paid = false;
    if let Some(checkout_id) = metadata_id("checkout_id") {
        let Some(mut row) = store::lock(&txn, checkout_id)
            .await?
            .filter(|row| row.organization_id == organization_id)
        else {
            txn.commit().await?;
            return Ok(received());
        };
        if row.status == CheckoutStatus::Open.as_str()
            && matches!(outcome, Outcome::Succeeded { .. })
        {
            // Paid (or the method kept) after all, a retry's answer lost: the money decides.
            row.status = CheckoutStatus::Confirmed.as_str().to_owned();
        }
        let mut offers =
            super::offer::Offers::of_checkout((&txn).into(), app.storage.as_ref(), &row).await?;
        let (queued, _) = apply_outcome(
            &app,
            &txn,
            &mut row,
            &offers,
            Some((intent, &outcome)),
            STRIPE,
        )
        .await?;
        let (row, _) = service::save_offered(&app, txn, row, queued, &mut offers).await?;
        paid = row.status == CheckoutStatus::Succeeded.as_str();
    } else if let (Intent::Payment, Some(order_id)) = (intent, metadata_id("order_id")) {
        // An off-session charge of a draft order (`orders:finalize`) whose answer may
        // have been lost.
        let settled = crate::orders::off_session::apply_stripe_outcome(
            &app,
            txn,
            organization_id,
            order_id,
            metadata_id("payment_id"),
            &outcome,
        )
        .await?;
        paid = settled.is_some_and(|order| order.paid);
    } else {
        txn.commit().await?;
    }
    if paid {
        app.grants.notify_one();
    }
    Ok(received())
}

/// How an intent (from an event's `data.object`) reads as an outcome.
type ReadOutcome = fn(&Value) -> Outcome;

/// The events whose intent's outcome floe applies, with how to read it.
fn reported_by(kind: &str) -> Option<(Intent, ReadOutcome)> {
    match kind {
        "payment_intent.succeeded"
        | "payment_intent.payment_failed"
        | "payment_intent.requires_action" => Some((Intent::Payment, stripe::outcome_of_intent)),
        "setup_intent.succeeded" | "setup_intent.setup_failed" | "setup_intent.requires_action" => {
            Some((Intent::Setup, stripe::outcome_of_setup))
        }
        _ => None,
    }
}

/// A refund's event: applied (by the refund's own rules, which count each change once),
/// then recorded, so that a redelivery after a failure is applied again and one after
/// success changes nothing.
async fn refund_event(
    app: &AppState,
    organization_id: Uuid,
    event_id: &str,
    kind: &str,
    event: &Value,
) -> ApiResult<Response> {
    crate::refunds::stripe::apply(app, organization_id, &event["data"]["object"]).await?;
    acknowledge(app, event_id, kind, event).await
}

/// Records an event floe does not act on, once, and acknowledges it.
async fn acknowledge(
    app: &AppState,
    event_id: &str,
    kind: &str,
    event: &Value,
) -> ApiResult<Response> {
    let txn = crate::db::begin_write(&app.db).await?;
    crate::payments::events::record_once(&txn, EVENTS, event_id, kind, event, app.clock.now())
        .await?;
    txn.commit().await?;
    Ok(received())
}

fn received() -> Response {
    (StatusCode::OK, axum::Json(json!({"received": true}))).into_response()
}
