//! Subscriptions: a recurring product's customer, billed every period by the renewal
//! worker (decision 0019). Created by a checkout (or the API for free products), renewed
//! on the organization's clock, canceled, uncanceled and revoked by the merchant.

mod change;
pub mod create;
pub mod customer_retry;
mod entity;
mod export;
mod lifecycle;
mod meter_cycle;
mod pending;
mod periods;
pub mod portal;
mod present;
pub mod preview;
pub mod renewal;
mod routes;
pub mod scheduler;
pub mod schema;
mod store;
pub mod test_clock;
pub mod trials;
mod update;
pub mod usage;

use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use crate::app::AppState;
use crate::http::routes::Routes;
use crate::http::{ApiError, ApiResult};

pub use entity::Model as SubscriptionRow;
pub use present::customer_state;
pub use update::revoke_in as revoke_now;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/subscriptions", routes::list)
        .post("/v1/subscriptions", routes::create)
        .get("/v1/subscriptions/export", export::export)
        .get("/v1/subscriptions/{id}", routes::get)
        .patch("/v1/subscriptions/{id}", routes::update)
        .delete("/v1/subscriptions/{id}", routes::revoke)
        .post("/v1/test-clock/advance", routes::advance_clock)
}

pub(crate) fn not_found() -> ApiError {
    ApiError::ResourceNotFound("Subscription not found.".to_owned())
}

/// `row` as the API shows it, read in `txn` (which may have just changed it).
pub(crate) async fn show_in(
    app: &AppState,
    txn: &DatabaseTransaction,
    row: &SubscriptionRow,
) -> ApiResult<schema::Subscription> {
    present::subscriptions(
        txn.into(),
        app.storage.as_ref(),
        row.organization_id,
        std::slice::from_ref(row),
    )
    .await?
    .pop()
    .ok_or_else(not_found)
}

/// Subscription `id` as the API shows it now (after work committed in steps of its own).
pub(crate) async fn show_current(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
) -> ApiResult<schema::Subscription> {
    let row = store::get((&app.reader).into(), organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    present::subscriptions(
        (&app.reader).into(),
        app.storage.as_ref(),
        organization_id,
        std::slice::from_ref(&row),
    )
    .await?
    .pop()
    .ok_or_else(not_found)
}

/// The customer who pays for subscription `id` of `organization_id`.
pub async fn customer_of(
    db: &crate::db::ReadConnection,
    organization_id: Uuid,
    id: Uuid,
) -> Result<Option<Uuid>, sea_orm::DbErr> {
    Ok(store::get(db.into(), organization_id, id)
        .await?
        .map(|row| row.customer_id))
}

/// Moves `customer_id`'s live subscriptions (not ended) off payment method `from`, which
/// is being deleted, onto `to`. With no `to`, refuses (`Err`) when a live subscription
/// would be left without a way to pay: one on `from`, or one without a method of its own
/// (it charges the customer's methods). Returns how many moved.
pub async fn move_payment_method(
    txn: &DatabaseTransaction,
    customer_id: Uuid,
    from: Uuid,
    to: Option<Uuid>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Result<u64, ()>, sea_orm::DbErr> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter};
    let live = || {
        entity::Entity::find()
            .filter(entity::Column::CustomerId.eq(customer_id))
            .filter(entity::Column::Status.is_in([
                "incomplete",
                "trialing",
                "active",
                "past_due",
                "paused",
            ]))
    };
    let Some(to) = to else {
        let stranded = live()
            .filter(
                Condition::any()
                    .add(entity::Column::PaymentMethodId.eq(from))
                    .add(entity::Column::PaymentMethodId.is_null()),
            )
            .count(txn)
            .await?;
        return Ok(if stranded == 0 { Ok(0) } else { Err(()) });
    };
    let moved = entity::Entity::update_many()
        .col_expr(entity::Column::PaymentMethodId, Expr::value(to))
        .col_expr(entity::Column::ModifiedAt, Expr::value(now))
        .filter(entity::Column::CustomerId.eq(customer_id))
        .filter(entity::Column::PaymentMethodId.eq(from))
        .exec(txn)
        .await?;
    Ok(Ok(moved.rows_affected))
}

/// Subscription `id` of `organization_id`, locked for `txn` (what its seats are counted
/// against).
pub async fn lock(
    txn: &DatabaseTransaction,
    organization_id: Uuid,
    id: Uuid,
) -> Result<Option<SubscriptionRow>, sea_orm::DbErr> {
    Ok(store::lock(txn, id)
        .await?
        .filter(|row| row.organization_id == organization_id))
}

/// The subscriptions among `ids` of `organization_id`, as orders show theirs
/// (`OrderSubscription`).
pub async fn bases(
    db: crate::db::Reads<'_>,
    organization_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<schema::SubscriptionBase>, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let select = entity::Entity::find().filter(entity::Column::OrganizationId.eq(organization_id));
    Ok(db
        .among(select, entity::Column::Id, ids)
        .await?
        .iter()
        .map(present::base)
        .collect())
}
