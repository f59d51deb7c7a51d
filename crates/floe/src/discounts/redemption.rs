//! Redeeming a discount: the one function the checkout calls, race-free on both databases.
//!
//! The count and the cap are checked and moved by a single conditional `UPDATE`
//! (`redemptions_count = redemptions_count + 1 WHERE … redemptions_count < max`), so two
//! buyers cannot both take the last redemption: PostgreSQL re-checks the condition on the
//! row the first one committed, and SQLite runs one writer at a time. The row stays locked
//! until the caller's transaction ends, which also makes the per-customer count that
//! follows exact.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect,
};
use uuid::Uuid;

use super::entity::{Column, Entity, redemption};

/// Why a discount could not be redeemed.
#[derive(Debug, PartialEq, Eq)]
pub enum NotRedeemable {
    /// Not a live discount of the organization.
    Unknown,
    /// Not started, ended, or every redemption taken.
    Unavailable,
    /// This customer has used it as often as it allows.
    CustomerLimit,
}

/// Redeems `discount_id` of `organization_id` at `now` in the caller's transaction `txn`
/// (a checkout's): on success the redemption is recorded and counted, and goes with the
/// transaction if it rolls back. On failure nothing is written; the caller decides
/// whether to roll back the rest.
pub async fn redeem(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    discount_id: Uuid,
    customer_id: Option<Uuid>,
    checkout_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Result<Uuid, NotRedeemable>, DbErr> {
    let taken = Entity::update_many()
        .col_expr(
            Column::RedemptionsCount,
            Expr::col(Column::RedemptionsCount).add(1),
        )
        .filter(Column::Id.eq(discount_id))
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::DeletedAt.is_null())
        .filter(
            Condition::any()
                .add(Column::StartsAt.is_null())
                .add(Column::StartsAt.lte(now)),
        )
        .filter(
            Condition::any()
                .add(Column::EndsAt.is_null())
                .add(Column::EndsAt.gt(now)),
        )
        .filter(
            Condition::any()
                .add(Column::MaxRedemptions.is_null())
                .add(Expr::col(Column::RedemptionsCount).lt(Expr::col(Column::MaxRedemptions))),
        )
        .exec(txn)
        .await?;
    if taken.rows_affected == 0 {
        let exists = Entity::find()
            .filter(Column::Id.eq(discount_id))
            .filter(Column::OrganizationId.eq(organization_id))
            .filter(Column::DeletedAt.is_null())
            .count(txn)
            .await?
            > 0;
        return Ok(Err(if exists {
            NotRedeemable::Unavailable
        } else {
            NotRedeemable::Unknown
        }));
    }
    if let Some(customer_id) = customer_id {
        let limit: Option<Option<i64>> = Entity::find_by_id(discount_id)
            .select_only()
            .column(Column::MaxRedemptionsPerCustomer)
            .into_tuple()
            .one(txn)
            .await?;
        if let Some(limit) = limit.flatten() {
            let used = redemption::Entity::find()
                .filter(redemption::Column::DiscountId.eq(discount_id))
                .filter(redemption::Column::CustomerId.eq(customer_id))
                .count(txn)
                .await?;
            if used >= u64::try_from(limit).unwrap_or(0) {
                // Give back the count taken above.
                release_count(txn, discount_id).await?;
                return Ok(Err(NotRedeemable::CustomerLimit));
            }
        }
    }
    let id = Uuid::new_v4();
    crate::db::rows::insert::<redemption::Entity>(
        txn,
        redemption::Model {
            id,
            created_at: now,
            discount_id,
            customer_id,
            checkout_id,
        },
    )
    .await?;
    Ok(Ok(id))
}

/// Gives a redemption back (a checkout that expired or failed for good).
pub async fn release(txn: &impl ConnectionTrait, redemption_id: Uuid) -> Result<(), DbErr> {
    let Some(found) = redemption::Entity::find_by_id(redemption_id)
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    redemption::Entity::delete_by_id(redemption_id)
        .exec(txn)
        .await?;
    release_count(txn, found.discount_id).await
}

/// Gives back the redemption `checkout_id` took of `discount_id`, if it took one.
pub async fn release_for_checkout(
    txn: &impl ConnectionTrait,
    discount_id: Uuid,
    checkout_id: Uuid,
) -> Result<(), DbErr> {
    let taken = redemption::Entity::find()
        .filter(redemption::Column::DiscountId.eq(discount_id))
        .filter(redemption::Column::CheckoutId.eq(checkout_id))
        .one(txn)
        .await?;
    match taken {
        Some(taken) => release(txn, taken.id).await,
        None => Ok(()),
    }
}

async fn release_count(txn: &impl ConnectionTrait, discount_id: Uuid) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(
            Column::RedemptionsCount,
            Expr::col(Column::RedemptionsCount).sub(1),
        )
        .filter(Column::Id.eq(discount_id))
        .filter(Column::RedemptionsCount.gt(0))
        .exec(txn)
        .await
        .map(|_| ())
}
