//! Stripe's webhooks for an organization that uses Stripe:
//! `POST /v1/integrations/stripe/webhook/{organization_id}`. The `Stripe-Signature` is
//! checked with the organization's webhook secret; each Stripe event is stored once (a
//! redelivery is acknowledged and changes nothing); a PaymentIntent's outcome is applied
//! to its checkout through the same function as the confirmation's own answer, recorded
//! once under the intent, so the two arrive in any order and count once.

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
    // A PaymentIntent's payment method comes as an ID in events: read the card once, before
    // any lock is taken.
    let mut intent = object.clone();
    if kind.starts_with("payment_intent.")
        && let Some(method_id) = object["payment_method"].as_str()
    {
        let client = stripe::Client::new(&app.config.stripe_api_base, &keys.secret_key);
        match client
            .get(&format!("/v1/payment_methods/{method_id}"))
            .await
        {
            Ok(method) => intent["payment_method"] = method,
            Err(error) => {
                // Stripe redelivers: answer so that it does, rather than record less.
                tracing::warn!(%error, "reading a payment method for a Stripe event failed");
                return Ok(StatusCode::SERVICE_UNAVAILABLE.into_response());
            }
        }
    }

    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let first_time =
        crate::payments::events::record_once(&txn, EVENTS, event_id, kind, &event, now).await?;
    if !first_time {
        txn.rollback().await?;
        return Ok((StatusCode::OK, axum::Json(json!({"received": true}))).into_response());
    }
    let applies = matches!(
        kind,
        "payment_intent.succeeded"
            | "payment_intent.payment_failed"
            | "payment_intent.requires_action"
    );
    let checkout_id = intent["metadata"]["checkout_id"]
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok());
    let mut saved = None;
    if applies && let Some(checkout_id) = checkout_id {
        let Some(mut row) = store::lock(&txn, checkout_id)
            .await?
            .filter(|row| row.organization_id == organization_id)
        else {
            txn.commit().await?;
            return Ok((StatusCode::OK, axum::Json(json!({"received": true}))).into_response());
        };
        if row.status == CheckoutStatus::Open.as_str() && kind == "payment_intent.succeeded" {
            // Paid after all (a retry's answer was lost): the money decides.
            row.status = CheckoutStatus::Confirmed.as_str().to_owned();
        }
        let outcome = stripe::outcome_of_intent(&intent);
        let (queued, _) = apply_outcome(&app, &txn, &mut row, Some(&outcome), STRIPE).await?;
        saved = Some(service::save(&app, txn, row, queued).await?.0);
    } else {
        txn.commit().await?;
    }
    if saved.is_some_and(|row| row.status == CheckoutStatus::Succeeded.as_str()) {
        app.grants.notify_one();
    }
    Ok((StatusCode::OK, axum::Json(json!({"received": true}))).into_response())
}
