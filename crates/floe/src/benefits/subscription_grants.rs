//! A subscription's grants (scope `subscription:<id>`) end when it does: revoked with
//! `benefit_grant.revoked` each, in the transaction that ended or paused the subscription;
//! a paused subscription that resumes gets them back (`benefit_grant.updated`).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};

use super::grant_entity;
use super::granting::{GrantEvent, emit};
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
    set_revoked(app, txn, subscription, true, now).await
}

/// Grants again every revoked grant of `subscription` (it resumed); returns the webhook
/// deliveries queued.
pub async fn restore_subscription_grants(
    app: &AppState,
    txn: &DatabaseTransaction,
    subscription: &crate::subscriptions::SubscriptionRow,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    set_revoked(app, txn, subscription, false, now).await
}

/// Moves every grant of `subscription` that is not so yet to `revoked` (or back), each with
/// its event.
async fn set_revoked(
    app: &AppState,
    txn: &DatabaseTransaction,
    subscription: &crate::subscriptions::SubscriptionRow,
    revoked: bool,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let scope = format!("subscription:{}", subscription.id);
    let grants = grant_entity::Entity::find()
        .filter(grant_entity::Column::OrganizationId.eq(subscription.organization_id))
        .filter(grant_entity::Column::CustomerId.eq(subscription.customer_id))
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
            change.revoked_at = Set(Some(now));
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
                organization_id: subscription.organization_id,
                customer_id: subscription.customer_id,
                grant_id: id,
                credit: None,
            },
            now,
        )
        .await?;
    }
    Ok(queued)
}
