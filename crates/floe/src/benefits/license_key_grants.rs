//! The grant behind a license key follows the key, as at Polar: a key the merchant marks
//! `revoked` revokes the grant that issued it (`benefit_grant.revoked`, and the benefit
//! leaves the customer's state); a key brought back from `revoked` grants it again
//! (`benefit_grant.updated`). `disabled` keeps the grant: the key only stops validating.
//! A rotated key's new `display_key` is written into the grant's properties.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use serde_json::{Map, Value};

use super::grant_entity;
use super::granting::{GrantEvent, emit};
use crate::app::AppState;
use crate::http::ApiResult;
use crate::license_keys::LicenseKeyRow;
use crate::webhooks::EventType;

/// The grants that issued `key` (one, unless a grant was recorded twice by an old build).
async fn grants_of(
    txn: &DatabaseTransaction,
    key: &LicenseKeyRow,
) -> ApiResult<Vec<(grant_entity::Model, Map<String, Value>)>> {
    let rows = grant_entity::Entity::find()
        .filter(grant_entity::Column::OrganizationId.eq(key.organization_id))
        .filter(grant_entity::Column::BenefitId.eq(key.benefit_id))
        .filter(grant_entity::Column::CustomerId.eq(key.customer_id))
        .all(txn)
        .await?;
    let id = key.id.to_string();
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let properties: Map<String, Value> = serde_json::from_str(&row.properties).ok()?;
            (properties.get("license_key_id").and_then(Value::as_str) == Some(id.as_str()))
                .then_some((row, properties))
        })
        .collect())
}

/// Revokes (`revoked`) or grants again (`!revoked`) the grants that issued `key`, in
/// `txn`, with their events; a grant already so is left alone. Returns the events queued.
pub async fn follow_status(
    app: &AppState,
    txn: &DatabaseTransaction,
    key: &LicenseKeyRow,
    revoked: bool,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let mut queued = 0;
    for (grant, _) in grants_of(txn, key).await? {
        if grant.revoked_at.is_some() == revoked {
            continue;
        }
        let mut change: grant_entity::ActiveModel = grant.clone().into();
        change.modified_at = Set(Some(now));
        if revoked {
            // As at Polar: a revoked grant is no longer granted (`is_granted` false).
            change.revoked_at = Set(Some(now));
            change.granted_at = Set(None);
        } else {
            change.revoked_at = Set(None);
            change.granted_at = Set(Some(now));
        }
        grant_entity::Entity::update(change).exec(txn).await?;
        let kind = if revoked {
            EventType::BenefitGrantRevoked
        } else {
            EventType::BenefitGrantUpdated
        };
        queued += emit(
            app,
            txn,
            GrantEvent {
                kind,
                organization_id: key.organization_id,
                customer_id: key.customer_id,
                grant_id: grant.id,
                credit: None,
            },
            now,
        )
        .await?;
    }
    Ok(queued)
}

/// Writes a rotated key's `display_key` into the grants that issued it.
pub async fn rotated(
    txn: &DatabaseTransaction,
    key: &LicenseKeyRow,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    for (grant, mut properties) in grants_of(txn, key).await? {
        properties.insert(
            "display_key".to_owned(),
            Value::String(crate::license_keys::schema::display_key(&key.key)),
        );
        let mut change: grant_entity::ActiveModel = grant.into();
        change.properties = Set(Value::Object(properties).to_string());
        change.modified_at = Set(Some(now));
        grant_entity::Entity::update(change).exec(txn).await?;
    }
    Ok(())
}
