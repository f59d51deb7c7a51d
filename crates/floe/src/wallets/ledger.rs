//! What moves a balance, each in the caller's transaction and under the wallet's row lock,
//! so that two orders of one customer never spend the same credit.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait, QueryFilter,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::entity::{transaction, wallet};

/// The only kind of wallet floe books on: the balance its subscription orders use.
pub const BILLING: &str = "billing";

/// Why a balance moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A subscription order whose credits came to more than its charges.
    Credit,
    /// A subscription order paid (in part) with the balance.
    Applied,
    /// A voided order gave back what it had used.
    Restored,
    /// A refund of an order: money went back, so the credit it stands for goes (Polar's
    /// rule: a positive balance is reduced by what a refund returns).
    Refunded,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Credit => "credit",
            Self::Applied => "applied",
            Self::Restored => "restored",
            Self::Refunded => "refunded",
        }
    }
}

/// Whose balance: a customer's, in one currency.
#[derive(Clone, Copy, Debug)]
pub struct Holder<'a> {
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    pub currency: &'a str,
}

/// The holder's billing wallet, made empty if it has none, locked for the transaction
/// (SQLite's writer lock already serializes the write transactions).
async fn locked(
    txn: &DatabaseTransaction,
    holder: Holder<'_>,
    now: DateTime<Utc>,
) -> Result<wallet::Model, DbErr> {
    let made = wallet::ActiveModel {
        id: Set(Uuid::new_v4()),
        created_at: Set(now),
        modified_at: Set(None),
        organization_id: Set(holder.organization_id),
        customer_id: Set(holder.customer_id),
        kind: Set(BILLING.to_owned()),
        currency: Set(holder.currency.to_owned()),
        balance: Set(0),
    };
    wallet::Entity::insert(made)
        .on_conflict(
            OnConflict::columns([
                wallet::Column::CustomerId,
                wallet::Column::Kind,
                wallet::Column::Currency,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    let mut select = wallet::Entity::find()
        .filter(wallet::Column::CustomerId.eq(holder.customer_id))
        .filter(wallet::Column::Kind.eq(BILLING))
        .filter(wallet::Column::Currency.eq(holder.currency));
    if txn.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    select
        .one(txn)
        .await?
        .ok_or_else(|| DbErr::Custom("the wallet just made is not there".to_owned()))
}

/// Books `amount` (positive: credit; negative: spent) on a locked wallet.
async fn book(
    txn: &DatabaseTransaction,
    mut wallet: wallet::Model,
    amount: i64,
    order_id: Option<Uuid>,
    reason: Reason,
    now: DateTime<Utc>,
) -> Result<wallet::Model, DbErr> {
    transaction::Entity::insert(transaction::ActiveModel {
        id: Set(Uuid::new_v4()),
        created_at: Set(now),
        organization_id: Set(wallet.organization_id),
        wallet_id: Set(wallet.id),
        order_id: Set(order_id),
        amount: Set(amount),
        reason: Set(reason.as_str().to_owned()),
    })
    .exec_without_returning(txn)
    .await?;
    wallet.balance += amount;
    wallet.modified_at = Some(now);
    crate::db::rows::update::<wallet::Entity>(txn, wallet).await
}

/// Adds `amount` (> 0) to the holder's balance, for `order_id`.
pub async fn credit(
    txn: &DatabaseTransaction,
    holder: Holder<'_>,
    amount: i64,
    order_id: Uuid,
    reason: Reason,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    debug_assert!(amount > 0);
    let wallet = locked(txn, holder, now).await?;
    book(txn, wallet, amount, Some(order_id), reason, now).await?;
    Ok(())
}

/// Pays up to `due` of `order_id` with the holder's balance; answers what it took (0 when
/// the balance is empty, and no wallet is made for that).
pub async fn apply(
    txn: &DatabaseTransaction,
    holder: Holder<'_>,
    due: i64,
    order_id: Uuid,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    take(txn, holder, due, order_id, Reason::Applied, now).await
}

/// Takes up to `due` off a positive balance for `order_id`, booked as `reason`; answers what
/// it took (0 when the balance is empty, and no wallet is made for that).
pub async fn take(
    txn: &DatabaseTransaction,
    holder: Holder<'_>,
    due: i64,
    order_id: Uuid,
    reason: Reason,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    if due <= 0 {
        return Ok(0);
    }
    let exists = wallet::Entity::find()
        .filter(wallet::Column::CustomerId.eq(holder.customer_id))
        .filter(wallet::Column::Kind.eq(BILLING))
        .filter(wallet::Column::Currency.eq(holder.currency))
        .filter(wallet::Column::Balance.gt(0))
        .select_only()
        .column(wallet::Column::Id)
        .into_tuple::<Uuid>()
        .one(txn)
        .await?
        .is_some();
    if !exists {
        return Ok(0);
    }
    let wallet = locked(txn, holder, now).await?;
    let taken = wallet.balance.clamp(0, due);
    if taken > 0 {
        book(txn, wallet, -taken, Some(order_id), reason, now).await?;
    }
    Ok(taken)
}
