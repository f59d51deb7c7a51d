//! System events: the ones floe records itself (not ingested). For now those customer
//! meters are built from: `meter.credited` (units granted, e.g. by a meter-credit benefit;
//! negative to take them back) and `meter.reset` (a new billing period starts). Benefits
//! and subscriptions call these when they exist.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};
use serde_json::json;
use uuid::Uuid;

use super::entity;

pub const METER_CREDITED: &str = "meter.credited";
pub const METER_RESET: &str = "meter.reset";

/// The label Polar gives a system event.
pub fn label(name: &str) -> Option<&'static str> {
    Some(match name {
        METER_CREDITED => "Meter Credited",
        METER_RESET => "Meter Reset",
        "subscription.created" => "Subscription Created",
        "subscription.updated" => "Subscription Updated",
        "subscription.canceled" => "Subscription Canceled",
        "subscription.cycled" => "Subscription Cycled",
        "subscription.revoked" => "Subscription Revoked",
        "subscription.past_due" => "Subscription Past Due",
        "subscription.reactivated" => "Subscription Reactivated",
        "subscription.paused" => "Subscription Paused",
        "subscription.resumed" => "Subscription Resumed",
        "subscription.uncanceled" => "Subscription Uncanceled",
        _ => return None,
    })
}

async fn record(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    customer_id: Uuid,
    name: &str,
    metadata: serde_json::Value,
    at: DateTime<Utc>,
) -> Result<Uuid, DbErr> {
    crate::meters::rollups::lock(txn, organization_id, false).await?;
    let id = super::new_event_id();
    let view_metadata = metadata.as_object().cloned().unwrap_or_default();
    crate::meters::rollups::add_events(
        txn,
        organization_id,
        [(
            id,
            crate::meters::evaluate::EventView {
                name,
                source: "system",
                timestamp: at,
                metadata: &view_metadata,
            },
            crate::meters::rollups::customer_key(Some(customer_id), None),
        )],
    )
    .await?;
    entity::ActiveModel {
        id: Set(id),
        organization_id: Set(organization_id),
        timestamp: Set(at),
        ingested_at: Set(at),
        name: Set(name.to_owned()),
        source: Set("system".to_owned()),
        customer_id: Set(Some(customer_id)),
        external_customer_id: Set(None),
        member_id: Set(None),
        external_member_id: Set(None),
        external_id: Set(None),
        parent_ref: Set(None),
        parent_id: Set(None),
        metadata: Set(metadata.to_string()),
    }
    .insert(txn)
    .await?;
    Ok(id)
}

/// Credits `units` of `meter_id` to a customer (negative units take credit back).
pub async fn meter_credited(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    customer_id: Uuid,
    meter_id: Uuid,
    units: i64,
    rollover: bool,
    at: DateTime<Utc>,
) -> Result<Uuid, DbErr> {
    let metadata = json!({"meter_id": meter_id.to_string(), "units": units, "rollover": rollover});
    record(
        txn,
        organization_id,
        customer_id,
        METER_CREDITED,
        metadata,
        at,
    )
    .await
}

/// Starts a new period of `meter_id` for a customer: consumption and credits count from here.
pub async fn meter_reset(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    customer_id: Uuid,
    meter_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Uuid, DbErr> {
    let metadata = json!({"meter_id": meter_id.to_string()});
    record(txn, organization_id, customer_id, METER_RESET, metadata, at).await
}

/// A subscription's lifecycle event (`subscription.created`, `.cycled`, `.canceled`, …),
/// recorded as Polar records it so that meters can count them. `name` must be one of the
/// labelled names above.
pub async fn subscription_event(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    customer_id: Uuid,
    name: &str,
    metadata: serde_json::Value,
    at: DateTime<Utc>,
) -> Result<Uuid, DbErr> {
    debug_assert!(label(name).is_some());
    record(txn, organization_id, customer_id, name, metadata, at).await
}
