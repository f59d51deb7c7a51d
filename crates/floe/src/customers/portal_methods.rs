//! A customer's saved payment methods through the portal
//! (`customer_portal:customers:*_payment_method*`): listed, added through the organization's
//! processor (the test processor, or a Stripe SetupIntent confirmed with the customer's
//! confirmation token), confirmed after the bank's authentication step, and deleted.
//!
//! Deleting the method a live subscription charges moves the subscription to another of the
//! customer's methods (the default first), as at Polar; with no other method the deletion
//! is refused (400 `PaymentMethodInUseByActiveSubscription`), so a renewal is never left
//! without a way to pay. `customer.updated` follows a deletion, as at Polar.

use axum::http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::payment_methods::{self, PaymentMethod};
use super::service::{emit_change, not_found};
use super::store::{self, CustomerKey};
use crate::app::AppState;
use crate::customer_portal::auth::PortalSession;
use crate::http::{ApiError, ApiResult, ListResource, Loc, Pagination, QueryParams, Validator};
use crate::payments::accounts::Account;
use crate::payments::entity::method;
use crate::payments::processor::{
    ChargeRequest, Intent, MethodDetails, Outcome, TEST, TestProcessor,
};
use crate::payments::stripe::{self, STRIPE};
use crate::webhooks::EventType;

/// The session's customer.
async fn customer_of(app: &AppState, session: &PortalSession) -> ApiResult<super::CustomerRow> {
    store::get(
        &app.reader,
        session.organization_id,
        &CustomerKey::Id(session.customer_id),
    )
    .await?
    .ok_or_else(not_found)
}

/// `customer_portal:customers:list_payment_methods`: newest first.
pub async fn list(
    app: &AppState,
    session: &PortalSession,
    query: &QueryParams,
) -> ApiResult<ListResource<PaymentMethod>> {
    let pagination = Pagination::from_query(query)?;
    let customer = customer_of(app, session).await?;
    let (items, total) = payment_methods::list(&app.reader, &customer, pagination).await?;
    Ok(ListResource::new(items, total, pagination))
}

/// `CustomerPaymentMethodCreate`.
#[derive(Debug, Deserialize)]
pub struct MethodCreate {
    confirmation_token_id: String,
    set_default: bool,
    return_url: String,
}

impl MethodCreate {
    /// A method the customer adds on the hosted portal page (made the default).
    pub fn new(confirmation_token_id: String, return_url: String) -> Self {
        Self {
            confirmation_token_id,
            set_default: true,
            return_url,
        }
    }

    /// A method added for one payment (a customer's retry with a new card): not made the
    /// default.
    pub fn for_payment(confirmation_token_id: String, return_url: String) -> Self {
        Self {
            confirmation_token_id,
            set_default: false,
            return_url,
        }
    }
}

/// `CustomerPaymentMethodConfirm`.
#[derive(Debug, Deserialize)]
pub struct MethodConfirm {
    setup_intent_id: String,
    set_default: bool,
}

impl MethodConfirm {
    /// The hosted portal page's confirmation of its own setup (the method made the default).
    pub fn new(setup_intent_id: String) -> Self {
        Self {
            setup_intent_id,
            set_default: true,
        }
    }
}

/// `CustomerPaymentMethodCreateResponse`: saved, or waiting for the customer's bank.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum MethodCreated {
    Succeeded {
        status: &'static str,
        payment_method: PaymentMethod,
    },
    RequiresAction {
        status: &'static str,
        client_secret: String,
    },
}

fn setup_failed(message: &str) -> ApiError {
    ApiError::named(
        StatusCode::BAD_REQUEST,
        "PaymentMethodSetupFailed",
        message.to_owned(),
    )
}

fn unavailable(error: impl std::fmt::Display) -> ApiError {
    ApiError::Unavailable(format!("the payment processor: {error}"))
}

/// The key a test-processor setup waiting for authentication is recorded under.
fn waiting_key(setup_id: &str) -> String {
    format!("{setup_id}:portal_setup.requires_action")
}

/// `customer_portal:customers:add_payment_method`.
pub async fn add(
    app: &AppState,
    session: &PortalSession,
    body: MethodCreate,
) -> ApiResult<MethodCreated> {
    let mut validator = Validator::new();
    crate::http::fields::http_url(
        &body.return_url,
        &Loc::body().key("return_url"),
        &mut validator,
    );
    validator.finish()?;
    let customer = customer_of(app, session).await?;
    let attempt = Uuid::new_v4();
    let (processor, outcome) =
        match crate::payments::accounts::of(&app.db, &app.secret, session.organization_id).await? {
            Account::Test => {
                let request = ChargeRequest {
                    intent: Intent::Setup,
                    idempotency_key: format!("portal-method:{attempt}"),
                    amount: 0,
                    currency: "usd",
                    token: &body.confirmation_token_id,
                    save_method: true,
                    off_session: false,
                };
                let outcome = TestProcessor.charge(&request).map_err(|unknown| {
                    ApiError::validation(
                        Loc::body().key("confirmation_token_id"),
                        "value_error",
                        unknown.to_string(),
                        json!(body.confirmation_token_id),
                    )
                })?;
                (TEST, outcome)
            }
            Account::Stripe(keys) => {
                let client = stripe::Client::new(&app.config.stripe_api_base, &keys.secret_key);
                let customer_ref =
                    crate::payments::accounts::stripe_customer(app, &client, &customer)
                        .await
                        .map_err(unavailable)?;
                let outcome = client
                    .setup(&stripe::Setup {
                        idempotency_key: &format!("floe-portal-method-{attempt}"),
                        customer: &customer_ref,
                        token: &body.confirmation_token_id,
                        description: "Payment method saved in the customer portal",
                        return_url: &body.return_url,
                        metadata: json!({
                            "organization_id": session.organization_id.to_string(),
                            "customer_id": session.customer_id.to_string(),
                            "type": "customer_portal_payment_method",
                        }),
                    })
                    .await
                    .map_err(unavailable)?;
                (STRIPE, outcome)
            }
        };
    settle(app, session, processor, outcome, body.set_default).await
}

/// Saves what a setup's outcome kept, or says why not.
async fn settle(
    app: &AppState,
    session: &PortalSession,
    processor: &str,
    outcome: Outcome,
    set_default: bool,
) -> ApiResult<MethodCreated> {
    match outcome {
        Outcome::Succeeded { method, .. } => {
            let payment_method = save(app, session, processor, &method, set_default).await?;
            Ok(MethodCreated::Succeeded {
                status: "succeeded",
                payment_method,
            })
        }
        Outcome::RequiresAction {
            charge_id,
            method,
            client_secret,
        } => {
            if processor == TEST {
                // The test processor's setup is only known from what is recorded here: the
                // confirmation after the customer's authentication reads it back.
                let txn = crate::db::begin_write(&app.db).await?;
                crate::payments::events::record_once(
                    &txn,
                    TEST,
                    &waiting_key(&charge_id),
                    "portal_setup.requires_action",
                    &json!({"customer_id": session.customer_id, "method": method}),
                    app.clock.now(),
                )
                .await?;
                txn.commit().await?;
            }
            Ok(MethodCreated::RequiresAction {
                status: "requires_action",
                client_secret,
            })
        }
        Outcome::Declined { message, .. } => Err(setup_failed(&message)),
    }
}

/// Records a saved method for the session's customer (once per processor method).
async fn save(
    app: &AppState,
    session: &PortalSession,
    processor: &str,
    method: &MethodDetails,
    set_default: bool,
) -> ApiResult<PaymentMethod> {
    let Some(saved_as) = method.saved_as.clone() else {
        return Err(setup_failed("The payment method could not be saved."));
    };
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let saved = crate::payments::store::save_method_as(
        &txn,
        method::Model {
            id: Uuid::new_v4(),
            created_at: now,
            modified_at: None,
            organization_id: session.organization_id,
            customer_id: session.customer_id,
            processor: processor.to_owned(),
            processor_id: saved_as,
            kind: method.kind.clone(),
            method_metadata: method.metadata(),
            deleted_at: None,
        },
        set_default,
    )
    .await?;
    let customer = store::get_in(
        &txn,
        session.organization_id,
        &CustomerKey::Id(session.customer_id),
    )
    .await?
    .ok_or_else(not_found)?;
    txn.commit().await?;
    Ok(payment_methods::present(
        saved,
        customer.default_payment_method_id,
    ))
}

/// `customer_portal:customers:confirm_payment_method`: after the bank's step, the setup
/// `setup_intent_id` (the customer's own) is saved if it succeeded.
pub async fn confirm(
    app: &AppState,
    session: &PortalSession,
    body: MethodConfirm,
) -> ApiResult<MethodCreated> {
    let invalid = || {
        ApiError::validation(
            Loc::body().key("setup_intent_id"),
            "value_error",
            "This setup does not exist or cannot be confirmed.",
            json!(body.setup_intent_id),
        )
    };
    match crate::payments::accounts::of(&app.db, &app.secret, session.organization_id).await? {
        Account::Test => {
            // The test processor has no bank: confirming approves the waiting setup.
            let recorded = crate::payments::events::payload_of(
                &app.db,
                TEST,
                &waiting_key(&body.setup_intent_id),
            )
            .await?
            .filter(|payload| payload["customer_id"] == json!(session.customer_id))
            .ok_or_else(invalid)?;
            let method: MethodDetails =
                serde_json::from_value(recorded["method"].clone()).map_err(|_| invalid())?;
            let payment_method = save(app, session, TEST, &method, body.set_default).await?;
            Ok(MethodCreated::Succeeded {
                status: "succeeded",
                payment_method,
            })
        }
        Account::Stripe(keys) => {
            let Some(customer_ref) =
                crate::payments::accounts::processor_customer(&app.db, session.customer_id, STRIPE)
                    .await?
            else {
                return Err(ApiError::named(
                    StatusCode::FORBIDDEN,
                    "CustomerNotReady",
                    "The customer has no payment processor account yet.",
                ));
            };
            if !body.setup_intent_id.starts_with("seti_")
                || !body
                    .setup_intent_id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err(invalid());
            }
            let client = stripe::Client::new(&app.config.stripe_api_base, &keys.secret_key);
            let intent = client
                .get(&format!(
                    "/v1/setup_intents/{}?expand[]=payment_method",
                    body.setup_intent_id
                ))
                .await
                .map_err(|_| invalid())?;
            if intent["customer"].as_str() != Some(customer_ref.as_str()) {
                return Err(invalid());
            }
            match stripe::outcome_of_setup(&intent) {
                Outcome::Declined { .. } => Err(invalid()),
                outcome => settle(app, session, STRIPE, outcome, body.set_default).await,
            }
        }
    }
}

/// `customer_portal:customers:delete_payment_method`.
pub async fn delete(app: &AppState, session: &PortalSession, id: Uuid) -> ApiResult<()> {
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let mut customer = store::get_in(
        &txn,
        session.organization_id,
        &CustomerKey::Id(session.customer_id),
    )
    .await?
    .ok_or_else(not_found)?;
    let live = method::Entity::find()
        .filter(method::Column::CustomerId.eq(session.customer_id))
        .filter(method::Column::DeletedAt.is_null())
        .order_by_desc(method::Column::CreatedAt)
        .all(&txn)
        .await?;
    let Some(target) = live.iter().find(|m| m.id == id).cloned() else {
        return Err(ApiError::ResourceNotFound(
            "Payment method not found.".to_owned(),
        ));
    };
    // Another method to move the subscriptions to: the default, else the newest, of the
    // same processor (a method of one processor cannot be charged by another).
    let replacement = live
        .iter()
        .filter(|m| m.id != id && m.processor == target.processor)
        .max_by_key(|m| {
            (
                customer.default_payment_method_id == Some(m.id),
                m.created_at,
            )
        })
        .map(|m| m.id);
    let moved =
        crate::subscriptions::move_payment_method(&txn, session.customer_id, id, replacement, now)
            .await?;
    if moved.is_err() {
        return Err(ApiError::named(
            StatusCode::BAD_REQUEST,
            "PaymentMethodInUseByActiveSubscription",
            "This payment method is used by an active subscription; add another one first.",
        ));
    }
    let mut row: method::ActiveModel = target.into();
    row.deleted_at = sea_orm::Set(Some(now));
    row.modified_at = sea_orm::Set(Some(now));
    sea_orm::ActiveModelTrait::update(row, &txn).await?;
    if customer.default_payment_method_id == Some(id) {
        customer.default_payment_method_id = live.iter().find(|m| m.id != id).map(|m| m.id);
    }
    customer.modified_at = Some(now);
    let customer = store::update(&txn, customer).await?;
    let queued = emit_change(app, &txn, &customer, EventType::CustomerUpdated, now).await?;
    app.nudge.commit(txn, queued).await?;
    Ok(())
}
