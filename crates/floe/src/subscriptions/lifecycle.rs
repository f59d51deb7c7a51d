//! What a subscription's change tells the world, decided in one place by comparing the
//! subscription before and after (as Polar does): the webhooks (`subscription.created`,
//! `.updated` always, then `.active`, `.canceled`, `.uncanceled`, `.revoked`, `.past_due`,
//! `.paused`, `.resumed` as the status moved), the system events meters count, the benefit
//! grants a revocation takes back, and `customer.state_changed`. Everything is queued in
//! the change's own transaction.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;
use serde_json::{Value, json};

use super::entity::Model;
use super::schema::SubscriptionStatus;
use crate::app::AppState;
use crate::http::ApiResult;
use crate::webhooks::EventType;
use crate::webhooks::outbox::{self, Endpoints};

/// The metadata every lifecycle event carries.
fn summary(row: &Model) -> serde_json::Map<String, Value> {
    let mut metadata = serde_json::Map::new();
    metadata.insert("subscription_id".to_owned(), json!(row.id));
    metadata.insert("product_id".to_owned(), json!(row.product_id));
    metadata.insert("amount".to_owned(), json!(row.amount));
    metadata.insert("currency".to_owned(), json!(row.currency));
    metadata.insert(
        "recurring_interval".to_owned(),
        json!(row.recurring_interval),
    );
    metadata.insert(
        "recurring_interval_count".to_owned(),
        json!(row.recurring_interval_count),
    );
    metadata
}

/// What happened, beside the status change itself.
#[derive(Clone, Debug, Default)]
pub struct Change {
    /// A new period started (a renewal, a trial's end).
    pub cycled: bool,
    /// The terms changed (a trial's end, the billing period): the `subscription.updated`
    /// system event's metadata.
    pub updated: Option<serde_json::Map<String, Value>>,
}

/// Queues what the change from `before` (`None`: just created) to `after` tells, in `txn`;
/// returns how many webhook deliveries were queued.
pub async fn changed(
    app: &AppState,
    txn: &DatabaseTransaction,
    before: Option<&Model>,
    after: &Model,
    change: Change,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let org = after.organization_id;
    let endpoints = Endpoints::of(txn, org).await?;
    let new = after.current_status();
    let mut kinds: Vec<EventType> = Vec::new();
    let mut events: Vec<(&str, serde_json::Map<String, Value>)> = Vec::new();
    match before {
        None => {
            kinds.push(EventType::SubscriptionCreated);
            if new.is_active() {
                kinds.push(EventType::SubscriptionActive);
            }
            // Polar sends `.updated` after a creation too; integrations rely on it.
            kinds.push(EventType::SubscriptionUpdated);
            let mut metadata = summary(after);
            metadata.insert("started_at".to_owned(), json!(after.started_at));
            events.push(("subscription.created", metadata));
        }
        Some(before) => {
            let old = before.current_status();
            if change.cycled && !new.is_revoked() {
                kinds.push(EventType::SubscriptionCycled);
                events.push(("subscription.cycled", summary(after)));
            }
            kinds.push(EventType::SubscriptionUpdated);
            if let Some(metadata) = change.updated.clone() {
                events.push(("subscription.updated", metadata));
            }
            let resumed = old == SubscriptionStatus::Paused && new == SubscriptionStatus::Active;
            if new.is_active() && !old.is_active() && !resumed {
                kinds.push(EventType::SubscriptionActive);
                if old == SubscriptionStatus::PastDue {
                    events.push(("subscription.reactivated", summary(after)));
                }
            }
            if new == SubscriptionStatus::Paused && old != SubscriptionStatus::Paused {
                kinds.push(EventType::SubscriptionPaused);
                let mut metadata = summary(after);
                metadata.insert("paused_at".to_owned(), json!(after.paused_at));
                if after.resumes_at.is_some() {
                    metadata.insert("resumes_at".to_owned(), json!(after.resumes_at));
                }
                events.push(("subscription.paused", metadata));
            }
            if resumed {
                kinds.push(EventType::SubscriptionResumed);
                events.push(("subscription.resumed", summary(after)));
            }
            if before.canceled_at.is_some() && after.canceled_at.is_none() {
                kinds.push(EventType::SubscriptionUncanceled);
                events.push(("subscription.uncanceled", summary(after)));
            }
            if new == SubscriptionStatus::PastDue && old != SubscriptionStatus::PastDue {
                kinds.push(EventType::SubscriptionPastDue);
                let mut metadata = summary(after);
                metadata.insert("past_due_at".to_owned(), json!(after.past_due_at));
                events.push(("subscription.past_due", metadata));
            }
            let newly_revoked = new.is_revoked() && !old.is_revoked();
            let newly_canceled = before.canceled_at.is_none() && after.canceled_at.is_some();
            if newly_canceled || (newly_revoked && after.canceled_at.is_some()) {
                kinds.push(EventType::SubscriptionCanceled);
                let mut metadata = summary(after);
                metadata.insert("canceled_at".to_owned(), json!(after.canceled_at));
                metadata.insert(
                    "cancel_at_period_end".to_owned(),
                    json!(after.cancel_at_period_end),
                );
                if after.ends_at.is_some() {
                    metadata.insert("ends_at".to_owned(), json!(after.ends_at));
                }
                if let Some(reason) = &after.customer_cancellation_reason {
                    metadata.insert("customer_cancellation_reason".to_owned(), json!(reason));
                }
                if let Some(comment) = &after.customer_cancellation_comment {
                    metadata.insert("customer_cancellation_comment".to_owned(), json!(comment));
                }
                events.push(("subscription.canceled", metadata));
            }
            if newly_revoked {
                kinds.push(EventType::SubscriptionRevoked);
                events.push(("subscription.revoked", summary(after)));
            }
        }
    }
    let mut queued = 0;
    for (name, metadata) in events {
        crate::events::system::subscription_event(
            txn,
            org,
            after.customer_id,
            name,
            Value::Object(metadata),
            now,
        )
        .await?;
    }
    // Benefits end with the subscription, and while it is paused.
    let lost_access = before.is_some_and(|b| {
        b.current_status().is_active() || b.current_status() == SubscriptionStatus::PastDue
    }) && (new.is_revoked() || new == SubscriptionStatus::Paused);
    if lost_access {
        queued += crate::benefits::revoke_subscription_grants(app, txn, after, now).await?;
    }
    // Its seats go with the access (as at Polar, a pause takes them back too: the
    // merchant assigns them again after it resumes).
    if lost_access {
        queued +=
            crate::customer_seats::revoke_all_of_subscription(app, txn, after.id, now).await?;
    }
    let resumed =
        before.is_some_and(|b| b.current_status() == SubscriptionStatus::Paused) && new.is_active();
    if resumed {
        queued += crate::benefits::restore_subscription_grants(app, txn, after, now).await?;
    }
    // The subscription is presented only for someone who receives it.
    let state_changed = endpoints.subscribe_to(EventType::CustomerStateChanged);
    if !state_changed && !kinds.iter().any(|kind| endpoints.subscribe_to(*kind)) {
        return Ok(queued);
    }
    let shown = super::show_in(app, txn, after).await?;
    for kind in kinds {
        queued += outbox::emit_to(txn, &endpoints, org, kind, &shown, now).await?;
    }
    if state_changed {
        let state =
            crate::customers::service::state(app, txn.into(), shown.customer.clone()).await?;
        queued += outbox::emit_to(
            txn,
            &endpoints,
            org,
            EventType::CustomerStateChanged,
            &state,
            now,
        )
        .await?;
    }
    Ok(queued)
}
