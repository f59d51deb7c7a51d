//! What waits for a subscription's next period: a change of plan scheduled for the boundary
//! (`pending_update`), and prorated lines for its next order.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::entity::{pending, proration};
use crate::db::Reads;

/// The scheduled changes of `subscription_ids` not yet applied or cleared.
pub async fn updates_of(
    db: Reads<'_>,
    subscription_ids: &[Uuid],
) -> Result<Vec<pending::Model>, DbErr> {
    let select = pending::Entity::find()
        .filter(pending::Column::AppliedAt.is_null())
        .filter(pending::Column::DeletedAt.is_null())
        .filter(pending::Column::OrderId.is_null())
        .order_by_asc(pending::Column::CreatedAt);
    db.among(select, pending::Column::SubscriptionId, subscription_ids)
        .await
}

/// Clears the scheduled change of `subscription_id`, if any; whether there was one.
pub async fn clear(
    txn: &impl ConnectionTrait,
    subscription_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let cleared = pending::Entity::update_many()
        .col_expr(pending::Column::DeletedAt, Expr::value(now))
        .col_expr(pending::Column::ModifiedAt, Expr::value(now))
        .filter(pending::Column::SubscriptionId.eq(subscription_id))
        .filter(pending::Column::AppliedAt.is_null())
        .filter(pending::Column::DeletedAt.is_null())
        .filter(pending::Column::OrderId.is_null())
        .exec(txn)
        .await?;
    Ok(cleared.rows_affected > 0)
}

/// What a scheduled change sets.
pub struct Scheduled {
    pub product_id: Option<Uuid>,
    pub seats: Option<i64>,
    pub units: Option<i64>,
}

/// Schedules a change of `subscription_id` for `applies_at`, replacing the one scheduled
/// before (a subscription has at most one).
pub async fn schedule(
    txn: &impl ConnectionTrait,
    subscription_id: Uuid,
    applies_at: DateTime<Utc>,
    change: Scheduled,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    clear(txn, subscription_id, now).await?;
    insert(txn, subscription_id, applies_at, change, None, now).await
}

async fn insert(
    txn: &impl ConnectionTrait,
    subscription_id: Uuid,
    applies_at: DateTime<Utc>,
    change: Scheduled,
    awaiting: Option<(Uuid, &str)>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    pending::Entity::insert(pending::ActiveModel {
        id: Set(Uuid::new_v4()),
        subscription_id: Set(subscription_id),
        created_at: Set(now),
        modified_at: Set(None),
        applies_at: Set(applies_at),
        product_id: Set(change.product_id),
        seats: Set(change.seats),
        units: Set(change.units),
        applied_at: Set(None),
        deleted_at: Set(None),
        order_id: Set(awaiting.map(|(order_id, _)| order_id)),
        proration_behavior: Set(awaiting.map(|(_, behavior)| behavior.to_owned())),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Records a change of `subscription_id` made at `at` that waits for `order_id`'s payment.
pub async fn await_payment(
    txn: &impl ConnectionTrait,
    subscription_id: Uuid,
    order_id: Uuid,
    change: Scheduled,
    behavior: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    insert(
        txn,
        subscription_id,
        at,
        change,
        Some((order_id, behavior)),
        at,
    )
    .await
}

/// The change waiting for `order_id`'s payment, if any.
pub async fn awaiting_order(
    txn: &impl ConnectionTrait,
    order_id: Uuid,
) -> Result<Option<pending::Model>, DbErr> {
    pending::Entity::find()
        .filter(pending::Column::OrderId.eq(order_id))
        .filter(pending::Column::AppliedAt.is_null())
        .filter(pending::Column::DeletedAt.is_null())
        .one(txn)
        .await
}

/// Whether a change of `subscription_id` waits for its payment.
pub async fn is_awaiting(txn: &impl ConnectionTrait, subscription_id: Uuid) -> Result<bool, DbErr> {
    Ok(pending::Entity::find()
        .filter(pending::Column::SubscriptionId.eq(subscription_id))
        .filter(pending::Column::OrderId.is_not_null())
        .filter(pending::Column::AppliedAt.is_null())
        .filter(pending::Column::DeletedAt.is_null())
        .one(txn)
        .await?
        .is_some())
}

/// A change waiting for its payment is dropped (the payment was declined).
pub async fn drop_awaiting(
    txn: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    pending::Entity::update_many()
        .col_expr(pending::Column::DeletedAt, Expr::value(now))
        .col_expr(pending::Column::ModifiedAt, Expr::value(now))
        .filter(pending::Column::Id.eq(id))
        .exec(txn)
        .await?;
    Ok(())
}

/// The scheduled change of `subscription_id` due at `at`, if any.
pub async fn due(
    txn: &impl ConnectionTrait,
    subscription_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<pending::Model>, DbErr> {
    pending::Entity::find()
        .filter(pending::Column::SubscriptionId.eq(subscription_id))
        .filter(pending::Column::AppliedAt.is_null())
        .filter(pending::Column::DeletedAt.is_null())
        .filter(pending::Column::OrderId.is_null())
        .filter(pending::Column::AppliesAt.lte(at))
        .order_by_desc(pending::Column::CreatedAt)
        .one(txn)
        .await
}

pub async fn mark_applied(
    txn: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    pending::Entity::update_many()
        .col_expr(pending::Column::AppliedAt, Expr::value(now))
        .col_expr(pending::Column::ModifiedAt, Expr::value(now))
        .filter(pending::Column::Id.eq(id))
        .exec(txn)
        .await?;
    Ok(())
}

/// A prorated line for the subscription's next order.
pub struct Line<'a> {
    pub label: &'a str,
    pub amount: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub price_id: Option<Uuid>,
}

pub async fn add_proration(
    txn: &impl ConnectionTrait,
    subscription_id: Uuid,
    line: Line<'_>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    proration::Entity::insert(proration::ActiveModel {
        id: Set(Uuid::new_v4()),
        subscription_id: Set(subscription_id),
        created_at: Set(now),
        label: Set(line.label.to_owned()),
        amount: Set(line.amount),
        start_timestamp: Set(line.start),
        end_timestamp: Set(line.end),
        price_id: Set(line.price_id),
        order_id: Set(None),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// The prorated lines waiting for `subscription_id`'s next order, oldest first (a change's
/// credit before its debit).
pub async fn waiting(
    txn: &impl ConnectionTrait,
    subscription_id: Uuid,
) -> Result<Vec<proration::Model>, DbErr> {
    proration::Entity::find()
        .filter(proration::Column::SubscriptionId.eq(subscription_id))
        .filter(proration::Column::OrderId.is_null())
        .order_by_asc(proration::Column::CreatedAt)
        .order_by_asc(proration::Column::Amount)
        .order_by_asc(proration::Column::Id)
        .all(txn)
        .await
}

/// The lines `ids` are billed by `order_id`.
pub async fn billed(txn: &impl ConnectionTrait, ids: &[Uuid], order_id: Uuid) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    proration::Entity::update_many()
        .col_expr(proration::Column::OrderId, Expr::value(order_id))
        .filter(proration::Column::Id.is_in(ids.iter().copied()))
        .exec(txn)
        .await?;
    Ok(())
}
