//! A subscription's grants (scope `subscription:<id>`) end when it does: revoked with
//! `benefit_grant.revoked` each, in the transaction that ended or paused the subscription;
//! a paused subscription that resumes gets them back (`benefit_grant.updated`). Each paid
//! renewal cycles them (`benefit_grant.cycled`): a meter credit credits its units again for
//! the new period.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};

use super::grant_entity;
use super::granting::{GrantEvent, emit};
use super::perform::{self, Outcome};
use super::schema::{Benefit, BenefitType};
use crate::app::AppState;
use crate::http::ApiResult;
use crate::webhooks::EventType;

/// Revokes every live grant of `subscription`; returns the webhook deliveries queued.
pub async fn revoke_subscription_grants(
    app: &AppState,
    txn: &DatabaseTransaction,
    subscription: &crate::subscriptions::SubscriptionRow,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    set_subscription_revoked(app, txn, subscription, true, now).await
}

/// Grants again every revoked grant of `subscription` (it resumed); returns the webhook
/// deliveries queued.
pub async fn restore_subscription_grants(
    app: &AppState,
    txn: &DatabaseTransaction,
    subscription: &crate::subscriptions::SubscriptionRow,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    set_subscription_revoked(app, txn, subscription, false, now).await
}

async fn set_subscription_revoked(
    app: &AppState,
    txn: &DatabaseTransaction,
    subscription: &crate::subscriptions::SubscriptionRow,
    revoked: bool,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let scope = format!("subscription:{}", subscription.id);
    let owner = (subscription.organization_id, subscription.customer_id);
    set_revoked(app, txn, owner, &scope, revoked, now).await
}

/// Revokes every live grant a customer holds under `scope` (a revoked seat's).
pub async fn revoke_scope(
    app: &AppState,
    txn: &DatabaseTransaction,
    organization_id: uuid::Uuid,
    customer_id: uuid::Uuid,
    scope: &str,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    set_revoked(app, txn, (organization_id, customer_id), scope, true, now).await
}

/// Moves every grant of `(organization, customer)` under `scope` that is not so yet to
/// `revoked` (or back), each with its event.
async fn set_revoked(
    app: &AppState,
    txn: &DatabaseTransaction,
    (organization_id, customer_id): (uuid::Uuid, uuid::Uuid),
    scope: &str,
    revoked: bool,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let grants = grant_entity::Entity::find()
        .filter(grant_entity::Column::OrganizationId.eq(organization_id))
        .filter(grant_entity::Column::CustomerId.eq(customer_id))
        .filter(grant_entity::Column::ScopeKey.eq(scope))
        .filter(if revoked {
            grant_entity::Column::RevokedAt.is_null()
        } else {
            grant_entity::Column::RevokedAt.is_not_null()
        })
        .all(txn)
        .await?;
    let mut queued = 0;
    for grant in grants {
        let id = grant.id;
        let mut change: grant_entity::ActiveModel = grant.into();
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
        queued += emit(
            app,
            txn,
            GrantEvent {
                kind: if revoked {
                    EventType::BenefitGrantRevoked
                } else {
                    EventType::BenefitGrantUpdated
                },
                organization_id,
                customer_id,
                grant_id: id,
                credit: None,
            },
            now,
        )
        .await?;
    }
    Ok(queued)
}

/// Cycles every live grant of `subscription` made before `period_start` (the period a paid
/// renewal opened), the buyer's and its seat holders': a meter credit credits again (after resetting its meter, with the
/// unused rollover carried, when the renewal did not reset it); every grant queues
/// `benefit_grant.cycled`. Runs in the transaction that recorded the payment, so once per
/// renewal.
pub async fn cycle_subscription_grants(
    app: &AppState,
    txn: &DatabaseTransaction,
    subscription: &crate::subscriptions::SubscriptionRow,
    period_start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let grants = grant_entity::Entity::find()
        .filter(grant_entity::Column::OrganizationId.eq(subscription.organization_id))
        .filter(grant_entity::Column::SubscriptionId.eq(subscription.id))
        .filter(grant_entity::Column::RevokedAt.is_null())
        .filter(grant_entity::Column::GrantedAt.lt(period_start))
        .all(txn)
        .await?;
    if grants.is_empty() {
        return Ok(0);
    }
    let benefit_ids: Vec<uuid::Uuid> = grants.iter().map(|g| g.benefit_id).collect();
    let benefits: Vec<Benefit> = super::entity::Entity::find()
        .filter(super::entity::Column::Id.is_in(benefit_ids))
        .all(txn)
        .await?
        .iter()
        .filter_map(Benefit::from_row)
        .collect();
    let mut queued = 0;
    for grant in grants {
        let Some(benefit) = benefits.iter().find(|b| b.id == grant.benefit_id) else {
            continue;
        };
        let mut properties = crate::metadata::from_text(&grant.properties);
        if benefit.kind == BenefitType::MeterCredit {
            reset_unless_reset(
                txn,
                subscription.organization_id,
                grant.customer_id,
                &properties,
                now,
            )
            .await?;
            if let Outcome::Granted(credited) =
                perform::grant(txn, benefit, grant.customer_id, now).await?
            {
                properties = credited;
            }
        }
        let (id, customer_id) = (grant.id, grant.customer_id);
        let mut change: grant_entity::ActiveModel = grant.into();
        change.modified_at = Set(Some(now));
        change.properties = Set(serde_json::Value::Object(properties.clone()).to_string());
        grant_entity::Entity::update(change).exec(txn).await?;
        queued += emit(
            app,
            txn,
            GrantEvent {
                kind: EventType::BenefitGrantCycled,
                organization_id: subscription.organization_id,
                customer_id,
                grant_id: id,
                credit: (benefit.kind == BenefitType::MeterCredit).then_some(&properties),
            },
            now,
        )
        .await?;
    }
    Ok(queued)
}

/// A credit's meter starts a new window before it is credited again, unless the renewal
/// already started one (a meter the subscription also bills) since the last credit.
async fn reset_unless_reset(
    txn: &DatabaseTransaction,
    organization_id: uuid::Uuid,
    customer_id: uuid::Uuid,
    properties: &serde_json::Map<String, serde_json::Value>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let text = |key: &str| properties.get(key).and_then(serde_json::Value::as_str);
    let meter_id = text("last_credited_meter_id").and_then(|id| uuid::Uuid::try_parse(id).ok());
    let last_credited = text("last_credited_at")
        .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
        .map(|at| at.with_timezone(&Utc));
    let (Some(meter_id), Some(last_credited)) = (meter_id, last_credited) else {
        return Ok(());
    };
    let customer = crate::customers::purchase::find(
        txn,
        organization_id,
        crate::customers::CustomerKey::Id(customer_id),
    )
    .await?;
    let external_id = customer.as_ref().and_then(|c| c.external_id.clone());
    let meters = crate::meters::records_in(txn.into(), organization_id, &[meter_id]).await?;
    let Some(meter) = meters.first() else {
        return Ok(());
    };
    let since =
        crate::customer_meters::last_reset(txn.into(), organization_id, customer_id, meter_id)
            .await?;
    if since.is_some_and(|reset| reset >= last_credited) {
        return Ok(());
    }
    let events = crate::events::of_customer_between(
        txn.into(),
        organization_id,
        customer_id,
        external_id.as_deref(),
        since.unwrap_or_else(crate::meters::rollups::earliest),
        now,
    )
    .await?;
    let carried = crate::subscriptions::usage::tally(
        &meter.compiled,
        &crate::subscriptions::usage::parse(&events),
    )
    .carried();
    crate::events::system::meter_reset(txn, organization_id, customer_id, meter_id, now).await?;
    if carried > 0 {
        crate::events::system::meter_credited(
            txn,
            organization_id,
            customer_id,
            meter_id,
            carried,
            true,
            now,
        )
        .await?;
    }
    Ok(())
}
