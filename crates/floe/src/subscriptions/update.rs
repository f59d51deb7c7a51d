//! `subscriptions:update` and `subscriptions:revoke`: the merchant's changes. The body is
//! one of `SubscriptionUpdate`'s variants, told apart by the fields it has (each variant
//! forbids the others' fields). Each change locks the subscription, applies, and queues
//! what it tells through `lifecycle::changed`, in one transaction.
//!
//! Here: metadata, a trial's end, the billing period's end, cancel at the period's end and
//! uncancel (with the customer's reason and comment), revoke now, pause at the period's end
//! (and take a scheduled pause back), resume (a new period from now, charged at once), and
//! clearing a scheduled change. Changes of plan (product, seats, units, discount) and their
//! proration are `change.rs`.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::entity::Model;
use super::lifecycle::{self, Change};
use super::schema::{CANCELLATION_REASONS, Subscription, SubscriptionStatus};
use super::store;
use crate::app::AppState;
use crate::http::{ApiError, ApiResult, Loc, Validator};

/// The variants floe tells apart, by their fields.
pub(super) enum Patch {
    /// `SubscriptionUpdateBase` as far as floe takes it: new metadata, a trial's new end
    /// (`Some(None)`: now).
    Base {
        metadata: Option<Map<String, Value>>,
        trial_end: Option<Option<DateTime<Utc>>>,
        /// Another product, a discount (decision 0019's changes).
        change: super::change::Request,
    },
    /// `SubscriptionUpdateSeats` / the SDK's `SubscriptionUpdateUnits`.
    Quantity(super::change::Request),
    /// `SubscriptionUpdateClear`: the scheduled change is dropped.
    Clear,
    Cancel {
        at_period_end: bool,
        reason: Option<String>,
        comment: Option<String>,
    },
    Revoke {
        reason: Option<String>,
        comment: Option<String>,
    },
    Pause {
        at_period_end: bool,
        resumes_at: Option<DateTime<Utc>>,
    },
    Resume,
    BillingPeriodEnd(DateTime<Utc>),
}

const MAX_COMMENT_CHARS: usize = 5_000;

fn already_canceled() -> ApiError {
    ApiError::named(
        StatusCode::FORBIDDEN,
        "AlreadyCanceledSubscription",
        "This subscription is already canceled or will be at the end of the period.",
    )
}

/// A pause or resume the subscription's state does not allow. Polar answers these with
/// 409s of its own (`CannotPauseSubscription`, …) that neither the contract nor the SDKs
/// declare (their 409 is `SubscriptionLocked` only), so floe answers the contract's 422,
/// naming the field and saying why.
fn refused(field: &str, message: &str, input: Value) -> ApiError {
    ApiError::validation(Loc::body().key(field), "value_error", message, input)
}

fn inactive(row: &Model) -> ApiError {
    ApiError::named(
        StatusCode::FORBIDDEN,
        "InactiveSubscription",
        format!("Subscription {} is not active.", row.id),
    )
}

/// Reads the reason and comment every cancellation variant may carry.
fn reason_and_comment(
    body: &Map<String, Value>,
    validator: &mut Validator,
) -> (Option<String>, Option<String>) {
    let reason = match body.get("customer_cancellation_reason") {
        None | Some(Value::Null) => None,
        Some(Value::String(reason)) if CANCELLATION_REASONS.contains(&reason.as_str()) => {
            Some(reason.clone())
        }
        Some(other) => {
            let expected: Vec<String> = CANCELLATION_REASONS
                .iter()
                .map(|r| format!("'{r}'"))
                .collect();
            validator.push(
                Loc::body().key("customer_cancellation_reason"),
                "enum",
                format!("Input should be {}", expected.join(", ")),
                other.clone(),
            );
            None
        }
    };
    let comment = match body.get("customer_cancellation_comment") {
        None | Some(Value::Null) => None,
        Some(Value::String(comment)) if comment.chars().count() <= MAX_COMMENT_CHARS => {
            Some(comment.clone())
        }
        Some(Value::String(comment)) => {
            validator.push(
                Loc::body().key("customer_cancellation_comment"),
                "string_too_long",
                format!("String should have at most {MAX_COMMENT_CHARS} characters"),
                json!(comment),
            );
            None
        }
        Some(other) => {
            validator.push(
                Loc::body().key("customer_cancellation_comment"),
                "string_type",
                "Input should be a valid string",
                other.clone(),
            );
            None
        }
    };
    (reason, comment)
}

fn boolean(body: &Map<String, Value>, field: &str, validator: &mut Validator) -> bool {
    match body.get(field) {
        Some(Value::Bool(value)) => *value,
        other => {
            validator.push(
                Loc::body().key(field),
                "bool_type",
                "Input should be a valid boolean",
                other.cloned().unwrap_or(Value::Null),
            );
            false
        }
    }
}

/// A datetime field of the body.
fn datetime(body: &Map<String, Value>, field: &str) -> ApiResult<DateTime<Utc>> {
    let given = body.get(field).cloned().unwrap_or(Value::Null);
    match given.as_str().map(DateTime::parse_from_rfc3339) {
        Some(Ok(at)) => Ok(at.with_timezone(&Utc)),
        Some(Err(_)) => Err(ApiError::validation(
            Loc::body().key(field),
            "datetime_from_date_parsing",
            "Input should be a valid datetime",
            given,
        )),
        None => Err(ApiError::validation(
            Loc::body().key(field),
            "datetime_type",
            "Input should be a valid datetime",
            given,
        )),
    }
}

/// A whole number of seats or units (`int32`, as the contract bounds it).
fn integer(body: &Map<String, Value>, field: &str, validator: &mut Validator) -> Option<i64> {
    let given = body.get(field).cloned().unwrap_or(Value::Null);
    match given.as_i64() {
        Some(n) if i32::try_from(n).is_ok() => Some(n),
        Some(_) => {
            validator.push(
                Loc::body().key(field),
                "int_from_float",
                "Input should be a valid integer",
                given,
            );
            None
        }
        None => {
            validator.push(
                Loc::body().key(field),
                "int_type",
                "Input should be a valid integer",
                given,
            );
            None
        }
    }
}

/// A UUID field that may be null: `None` absent, `Some(None)` null.
fn optional_uuid(
    body: &Map<String, Value>,
    field: &str,
    validator: &mut Validator,
) -> Option<Option<Uuid>> {
    match body.get(field) {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(text)) if Uuid::try_parse(text).is_ok() => {
            Some(Uuid::try_parse(text).ok())
        }
        Some(other) => {
            validator.push(
                Loc::body().key(field),
                "uuid_parsing",
                "Input should be a valid UUID",
                other.clone(),
            );
            None
        }
    }
}

fn behavior(
    body: &Map<String, Value>,
    validator: &mut Validator,
) -> Option<super::change::Behavior> {
    match body.get("proration_behavior") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if super::change::Behavior::parse(text).is_some() => {
            super::change::Behavior::parse(text)
        }
        Some(other) => {
            validator.push(
                Loc::body().key("proration_behavior"),
                "enum",
                "Input should be 'invoice', 'prorate', 'next_period' or 'reset'",
                other.clone(),
            );
            None
        }
    }
}

pub(super) fn parse(body: &Value) -> ApiResult<Patch> {
    let Some(body) = body.as_object() else {
        return Err(ApiError::validation(
            Loc::body(),
            "model_attributes_type",
            "Input should be a valid dictionary or object to extract fields from",
            body.clone(),
        ));
    };
    let mut validator = Validator::new();
    let only = |allowed: &[&str], validator: &mut Validator| {
        for key in body.keys() {
            if !allowed.contains(&key.as_str()) {
                validator.push(
                    Loc::body().key(key),
                    "extra_forbidden",
                    "Extra inputs are not permitted",
                    body[key].clone(),
                );
            }
        }
    };
    let reason_fields = [
        "customer_cancellation_reason",
        "customer_cancellation_comment",
    ];
    let patch = if body.contains_key("revoke") {
        only(
            &["revoke", reason_fields[0], reason_fields[1]],
            &mut validator,
        );
        if !boolean(body, "revoke", &mut validator) {
            validator.push(
                Loc::body().key("revoke"),
                "literal_error",
                "Input should be True",
                body["revoke"].clone(),
            );
        }
        let (reason, comment) = reason_and_comment(body, &mut validator);
        Patch::Revoke { reason, comment }
    } else if body.contains_key("cancel_at_period_end") {
        only(
            &["cancel_at_period_end", reason_fields[0], reason_fields[1]],
            &mut validator,
        );
        let at_period_end = boolean(body, "cancel_at_period_end", &mut validator);
        let (reason, comment) = reason_and_comment(body, &mut validator);
        Patch::Cancel {
            at_period_end,
            reason,
            comment,
        }
    } else if body.contains_key("pause_at_period_end") {
        only(&["pause_at_period_end", "resumes_at"], &mut validator);
        let at_period_end = boolean(body, "pause_at_period_end", &mut validator);
        let resumes_at = match body.get("resumes_at") {
            None | Some(Value::Null) => None,
            Some(_) => Some(datetime(body, "resumes_at")?),
        };
        Patch::Pause {
            at_period_end,
            resumes_at,
        }
    } else if body.contains_key("resume") {
        only(&["resume"], &mut validator);
        if !boolean(body, "resume", &mut validator) {
            validator.push(
                Loc::body().key("resume"),
                "literal_error",
                "Input should be True",
                body["resume"].clone(),
            );
        }
        Patch::Resume
    } else if body.contains_key("current_billing_period_end") {
        only(&["current_billing_period_end"], &mut validator);
        Patch::BillingPeriodEnd(datetime(body, "current_billing_period_end")?)
    } else if body.contains_key("pending_update") {
        only(&["pending_update"], &mut validator);
        if !body["pending_update"].is_null() {
            validator.push(
                Loc::body().key("pending_update"),
                "none_required",
                "Input should be None",
                body["pending_update"].clone(),
            );
        }
        Patch::Clear
    } else if body.contains_key("seats") || body.contains_key("units") {
        let field = if body.contains_key("seats") {
            "seats"
        } else {
            "units"
        };
        only(&[field, "proration_behavior"], &mut validator);
        let count = integer(body, field, &mut validator);
        let behavior = behavior(body, &mut validator);
        let mut request = super::change::Request {
            behavior,
            ..Default::default()
        };
        if field == "seats" {
            request.seats = count;
        } else {
            request.units = count;
        }
        Patch::Quantity(request)
    } else {
        only(
            &[
                "metadata",
                "trial_end",
                "product_id",
                "proration_behavior",
                "discount_id",
            ],
            &mut validator,
        );
        let change = super::change::Request {
            product_id: optional_uuid(body, "product_id", &mut validator).flatten(),
            discount: optional_uuid(body, "discount_id", &mut validator),
            behavior: behavior(body, &mut validator),
            ..Default::default()
        };
        let metadata = match body.get("metadata") {
            Some(Value::Object(metadata)) => {
                crate::metadata::check(metadata, &Loc::body().key("metadata"), &mut validator);
                Some(metadata.clone())
            }
            None => None,
            Some(other) => {
                validator.push(
                    Loc::body().key("metadata"),
                    "dict_type",
                    "Input should be a valid dictionary",
                    other.clone(),
                );
                None
            }
        };
        let trial_end = match body.get("trial_end") {
            None | Some(Value::Null) => None,
            Some(Value::String(now)) if now == "now" => Some(None),
            Some(_) => Some(Some(datetime(body, "trial_end")?)),
        };
        Patch::Base {
            metadata,
            trial_end,
            change,
        }
    };
    validator.finish()?;
    Ok(patch)
}

/// `subscriptions:update`.
pub async fn update(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    body: Value,
) -> ApiResult<Subscription> {
    let patch = parse(&body)?;
    change(app, organization_id, id, patch).await
}

/// `subscriptions:revoke`: ends the subscription now.
pub async fn revoke(app: &AppState, organization_id: Uuid, id: Uuid) -> ApiResult<Subscription> {
    change(
        app,
        organization_id,
        id,
        Patch::Revoke {
            reason: None,
            comment: None,
        },
    )
    .await
}

/// Ends subscription `id` now, in the caller's transaction (a dispute took its money
/// back): as `subscriptions:revoke` does, with its events. One already ended is left as it
/// is. Returns how many deliveries were queued.
pub async fn revoke_in(
    app: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let Some(before) = store::lock(txn, id).await? else {
        return Ok(0);
    };
    let mut row = before.clone();
    if before.started_at.is_none()
        || apply(
            &mut row,
            Patch::Revoke {
                reason: None,
                comment: None,
            },
            now,
        )
        .is_err()
    {
        return Ok(0);
    }
    row.modified_at = Some(now);
    let row = store::update(txn, row).await?;
    lifecycle::changed(app, txn, Some(&before), &row, Change::default(), now).await
}

async fn change(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    patch: Patch,
) -> ApiResult<Subscription> {
    let txn = crate::db::begin_write(&app.db).await?;
    let before = store::lock(&txn, id)
        .await?
        .filter(|row| row.organization_id == organization_id && row.started_at.is_some())
        .ok_or_else(super::not_found)?;
    let now = super::test_clock::now_for(&txn, &app.clock, organization_id).await?;
    if matches!(patch, Patch::Resume) {
        if before.current_status() != SubscriptionStatus::Paused {
            return Err(refused(
                "resume",
                "This subscription is not paused.",
                json!(true),
            ));
        }
        let (row, order, mut queued) =
            super::renewal::resume(app, &txn, &before, before.clone(), now).await?;
        queued +=
            lifecycle::changed(app, &txn, Some(&before), &row, Change::default(), now).await?;
        app.nudge.commit(txn, queued).await?;
        if let Some(order_id) = order {
            super::renewal::collect(app, order_id).await?;
        }
        return super::show_current(app, organization_id, id).await;
    }
    let patch = match patch {
        Patch::Quantity(request) => {
            return plan_change(app, txn, &before, request, now).await;
        }
        Patch::Base {
            metadata,
            trial_end,
            change,
        } if change.changes_plan() || change.discount.is_some() => {
            if metadata.is_none() && trial_end.is_none() {
                return plan_change(app, txn, &before, change, now).await;
            }
            // The plan first, then the rest on what it left.
            let applied = super::change::apply(app, &txn, &before, change, now).await?;
            if applied.to_collect.is_some() {
                // A Stripe invoice is charged after the commit; the rest waits for the
                // merchant's next request rather than racing it.
                app.nudge.commit(txn, applied.queued).await?;
                if let Some(order_id) = applied.to_collect {
                    return invoiced(app, organization_id, id, order_id).await;
                }
                return super::show_current(app, organization_id, id).await;
            }
            let queued = applied.queued;
            let before = applied.row;
            return finish_base(app, txn, before, metadata, trial_end, queued, now).await;
        }
        Patch::Clear => {
            if !super::pending::clear(&txn, before.id, now).await? {
                return Err(ApiError::validation(
                    Loc::body().key("pending_update"),
                    "value_error",
                    "This subscription has no pending update.",
                    Value::Null,
                ));
            }
            let mut row = before.clone();
            row.modified_at = Some(now);
            let row = store::update(&txn, row).await?;
            let queued =
                lifecycle::changed(app, &txn, Some(&before), &row, Change::default(), now).await?;
            let shown = super::show_in(app, &txn, &row).await?;
            app.nudge.commit(txn, queued).await?;
            return Ok(shown);
        }
        other => other,
    };
    let mut row = before.clone();
    apply(&mut row, patch, now)?;
    if row == before {
        let shown = super::show_in(app, &txn, &row).await?;
        txn.commit().await?;
        return Ok(shown);
    }
    row.modified_at = Some(now);
    let row = store::update(&txn, row).await?;
    let change = Change {
        updated: updated_metadata(&before, &row),
        ..Change::default()
    };
    let queued = lifecycle::changed(app, &txn, Some(&before), &row, change, now).await?;
    let shown = super::show_in(app, &txn, &row).await?;
    app.nudge.commit(txn, queued).await?;
    if row.next_action_at.is_some_and(|at| at <= now) {
        // A trial ended now: its first paid period starts at once, as at Polar.
        super::scheduler::run_until_quiet(app, Some(organization_id)).await?;
        return super::show_current(app, organization_id, id).await;
    }
    Ok(shown)
}

/// A change of plan alone (another product, seats, units, a discount).
async fn plan_change(
    app: &AppState,
    txn: sea_orm::DatabaseTransaction,
    before: &Model,
    request: super::change::Request,
    now: DateTime<Utc>,
) -> ApiResult<Subscription> {
    let applied = super::change::apply(app, &txn, before, request, now).await?;
    let shown = super::show_in(app, &txn, &applied.row).await?;
    app.nudge.commit(txn, applied.queued).await?;
    if let Some(order_id) = applied.to_collect {
        return invoiced(app, before.organization_id, before.id, order_id).await;
    }
    Ok(shown)
}

/// A change's invoice charged after its transaction (Stripe): paid, the change was made;
/// declined, nothing changed and the answer is 402 with the processor's reason, as when the
/// charge is made in the transaction. Unanswered, the subscription is shown as it stands:
/// the change is made when Stripe's answer comes (its webhook, or asking again).
async fn invoiced(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    order_id: Uuid,
) -> ApiResult<Subscription> {
    super::renewal::collect(app, order_id).await?;
    use sea_orm::{ColumnTrait, QueryFilter};
    let declined = crate::orders::find()
        .filter(crate::orders::OrderColumn::Id.eq(order_id))
        .filter(crate::orders::OrderColumn::Status.eq("void"))
        .one(&app.db)
        .await?
        .is_some();
    if declined {
        let message = crate::payments::store::last_decline_of_order(&app.db, order_id)
            .await?
            .unwrap_or_else(|| "The payment was declined.".to_owned());
        return Err(ApiError::named(
            axum::http::StatusCode::PAYMENT_REQUIRED,
            "PaymentFailed",
            message,
        ));
    }
    super::show_current(app, organization_id, id).await
}

/// Metadata and a trial's end after a change of plan in the same request.
async fn finish_base(
    app: &AppState,
    txn: sea_orm::DatabaseTransaction,
    before: Model,
    metadata: Option<Map<String, Value>>,
    trial_end: Option<Option<DateTime<Utc>>>,
    queued: usize,
    now: DateTime<Utc>,
) -> ApiResult<Subscription> {
    let mut row = before.clone();
    apply(
        &mut row,
        Patch::Base {
            metadata,
            trial_end,
            change: super::change::Request::default(),
        },
        now,
    )?;
    row.modified_at = Some(now);
    let row = store::update(&txn, row).await?;
    let change = Change {
        updated: updated_metadata(&before, &row),
        ..Change::default()
    };
    let queued = queued + lifecycle::changed(app, &txn, Some(&before), &row, change, now).await?;
    let shown = super::show_in(app, &txn, &row).await?;
    app.nudge.commit(txn, queued).await?;
    if row.next_action_at.is_some_and(|at| at <= now) {
        super::scheduler::run_until_quiet(app, Some(row.organization_id)).await?;
        return super::show_current(app, row.organization_id, row.id).await;
    }
    Ok(shown)
}

fn apply(row: &mut Model, patch: Patch, now: DateTime<Utc>) -> ApiResult<()> {
    let status = row.current_status();
    match patch {
        Patch::Base {
            metadata,
            trial_end,
            ..
        } => {
            if let Some(metadata) = metadata {
                row.metadata = crate::metadata::to_text(&metadata);
            }
            if let Some(trial_end) = trial_end {
                change_trial(row, trial_end, now)?;
            }
        }
        Patch::Cancel {
            at_period_end: true,
            reason,
            comment,
        } => {
            let can_cancel = status.is_billable()
                && row.ended_at.is_none()
                && !row.cancel_at_period_end
                && row.ends_at.is_none();
            if !can_cancel {
                return Err(already_canceled());
            }
            row.cancel_at_period_end = true;
            row.canceled_at = Some(now);
            row.ends_at = Some(row.current_period_end);
            row.pause_at_period_end = false;
            row.customer_cancellation_reason = reason;
            row.customer_cancellation_comment = comment;
        }
        Patch::Cancel {
            at_period_end: false,
            ..
        } => {
            if row.ended_at.is_some() {
                return Err(ApiError::named(
                    StatusCode::GONE,
                    "ResourceUnavailable",
                    "Unavailable",
                ));
            }
            if !(row.cancel_at_period_end && status.is_billable()) {
                // The SDK's answer (Polar's server says 400 `BadRequest`, which neither the
                // contract nor the SDK declares for this operation).
                return Err(ApiError::named(
                    StatusCode::CONFLICT,
                    "SubscriptionNotScheduledToCancel",
                    "This subscription is not scheduled to be canceled.",
                ));
            }
            row.cancel_at_period_end = false;
            row.ends_at = None;
            row.canceled_at = None;
            row.customer_cancellation_reason = None;
            row.customer_cancellation_comment = None;
        }
        Patch::Pause {
            at_period_end: true,
            resumes_at,
        } => {
            let can_pause = status == SubscriptionStatus::Active
                && !row.cancel_at_period_end
                && !row.pause_at_period_end
                && row.ends_at.is_none();
            if !can_pause {
                return Err(refused(
                    "pause_at_period_end",
                    "This subscription cannot be paused.",
                    json!(true),
                ));
            }
            if resumes_at.is_some_and(|at| at <= row.current_period_end) {
                return Err(ApiError::validation(
                    Loc::body().key("resumes_at"),
                    "value_error",
                    "resumes_at must be after the current period end.",
                    json!(resumes_at),
                ));
            }
            row.pause_at_period_end = true;
            row.resumes_at = resumes_at;
        }
        Patch::Pause {
            at_period_end: false,
            ..
        } => {
            if !row.pause_at_period_end {
                return Err(refused(
                    "pause_at_period_end",
                    "This subscription is not scheduled to be paused.",
                    json!(false),
                ));
            }
            row.pause_at_period_end = false;
            row.resumes_at = None;
        }
        // Handled before: they make orders or touch other tables.
        Patch::Resume | Patch::Quantity(_) | Patch::Clear => {}
        Patch::BillingPeriodEnd(at) => {
            if status.is_revoked() || row.cancel_at_period_end {
                return Err(already_canceled());
            }
            if !status.is_active() {
                return Err(inactive(row));
            }
            if at <= now {
                return Err(ApiError::validation(
                    Loc::body().key("current_billing_period_end"),
                    "datetime_future",
                    "Input should be in the future",
                    json!(at),
                ));
            }
            row.current_period_end = at;
            row.anchor_day = i64::from(chrono::Datelike::day(&at));
            row.next_action_at = Some(at);
        }
        Patch::Revoke { reason, comment } => {
            let can_revoke = row.ended_at.is_none()
                && (status.is_billable() || status == SubscriptionStatus::Paused);
            if !can_revoke {
                return Err(already_canceled());
            }
            row.status = SubscriptionStatus::Canceled.as_str().to_owned();
            row.canceled_at = Some(row.canceled_at.unwrap_or(now));
            row.ends_at = Some(now);
            row.ended_at = Some(now);
            row.cancel_at_period_end = false;
            row.pause_at_period_end = false;
            row.next_action_at = None;
            if reason.is_some() {
                row.customer_cancellation_reason = reason;
            }
            if comment.is_some() {
                row.customer_cancellation_comment = comment;
            }
        }
    }
    Ok(())
}

/// What a change of the subscription's terms records in its `subscription.updated` system
/// event (Polar's metadata: the fields that changed); `None` when no term changed.
fn updated_metadata(before: &Model, after: &Model) -> Option<Map<String, Value>> {
    let mut metadata = Map::new();
    if before.trial_end != after.trial_end {
        metadata.insert("trial_end".to_owned(), json!(after.trial_end));
    }
    if before.current_period_end != after.current_period_end
        && before.status == after.status
        && before.trial_end == after.trial_end
    {
        metadata.insert(
            "billing_period_end".to_owned(),
            json!(after.current_period_end),
        );
    }
    if metadata.is_empty() {
        return None;
    }
    metadata.insert("subscription_id".to_owned(), json!(after.id));
    Some(metadata)
}

/// A trial's new end (`None`: now), as Polar allows it: a trialing subscription's trial
/// moves (ending now starts its first paid period at once); an active one gets a trial
/// until a moment after its current period; anything else is not active.
fn change_trial(
    row: &mut Model,
    trial_end: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let status = row.current_status();
    if !status.is_active() {
        return Err(inactive(row));
    }
    match (status, trial_end) {
        (SubscriptionStatus::Trialing, None) => {
            // Ends now: the renewal worker starts the first paid period at once.
            row.trial_end = Some(now);
            row.current_period_end = now;
        }
        (SubscriptionStatus::Trialing, Some(at)) => {
            row.trial_end = Some(at);
            row.current_period_end = at;
        }
        (_, None) => {
            return Err(ApiError::validation(
                Loc::body().key("trial_end"),
                "value_error",
                "The subscription is not currently trialing.",
                json!("now"),
            ));
        }
        (_, Some(at)) => {
            if at <= row.current_period_end {
                return Err(ApiError::validation(
                    Loc::body().key("trial_end"),
                    "value_error",
                    "Trial end must be after the current period end.",
                    json!(at),
                ));
            }
            row.status = SubscriptionStatus::Trialing.as_str().to_owned();
            row.trial_start = Some(row.trial_start.unwrap_or(now));
            row.trial_end = Some(at);
            row.current_period_end = at;
        }
    }
    row.next_action_at = Some(row.current_period_end);
    Ok(())
}
