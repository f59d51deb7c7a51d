//! Queries on subscriptions, scoped to an organization.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QueryTrait,
};
use uuid::Uuid;

use super::entity::{Column, Entity, Model, price};
use super::schema::{CancellationReason, SubscriptionSortProperty, SubscriptionStatus};
use crate::db::{ReadConnection, Reads};
use crate::http::Pagination;
use crate::http::pagination::Direction;

/// Subscriptions the API shows: those that started (Polar hides the others too).
fn shown(organization_id: Uuid) -> sea_orm::Select<Entity> {
    Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::StartedAt.is_not_null())
}

pub async fn get(db: Reads<'_>, organization_id: Uuid, id: Uuid) -> Result<Option<Model>, DbErr> {
    db.one(shown(organization_id).filter(Column::Id.eq(id)))
        .await
}

/// The subscription `id` in a write transaction, locked until it ends on PostgreSQL
/// (SQLite has one writer at a time).
pub async fn lock(txn: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    let mut select = Entity::find_by_id(id);
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        select = sea_orm::QuerySelect::lock_exclusive(select);
    }
    select.one(txn).await
}

#[derive(Default)]
pub struct ListFilter {
    pub product_ids: Option<Vec<Uuid>>,
    /// Customers named by ID or external ID (resolved to IDs by the caller).
    pub customer_ids: Option<Vec<Uuid>>,
    /// Only these subscriptions.
    pub ids: Option<Vec<Uuid>>,
    pub discount_ids: Option<Vec<Uuid>>,
    pub active: Option<bool>,
    pub statuses: Option<Vec<SubscriptionStatus>>,
    pub cancel_at_period_end: Option<bool>,
    pub reasons: Option<Vec<CancellationReason>>,
    pub canceled_after: Option<DateTime<Utc>>,
    pub canceled_before: Option<DateTime<Utc>>,
    pub started_after: Option<DateTime<Utc>>,
    pub started_before: Option<DateTime<Utc>>,
    pub metadata: Vec<(String, Vec<String>)>,
    /// Text the subscription's product name contains (the portal's `query`).
    pub product_name: Option<String>,
}

fn statuses(list: &[SubscriptionStatus]) -> Vec<&'static str> {
    list.iter().map(|s| s.as_str()).collect()
}

pub fn filtered(
    backend: sea_orm::DbBackend,
    organization_id: Uuid,
    filter: &ListFilter,
) -> sea_orm::Select<Entity> {
    let active = [SubscriptionStatus::Trialing, SubscriptionStatus::Active];
    let revoked = [SubscriptionStatus::Canceled, SubscriptionStatus::Unpaid];
    let mut select = shown(organization_id)
        .apply_if(filter.product_ids.as_ref(), |s, ids| {
            s.filter(Column::ProductId.is_in(ids.clone()))
        })
        .apply_if(filter.customer_ids.as_ref(), |s, ids| {
            s.filter(Column::CustomerId.is_in(ids.clone()))
        })
        .apply_if(filter.ids.as_ref(), |s, ids| {
            s.filter(Column::Id.is_in(ids.clone()))
        })
        .apply_if(filter.discount_ids.as_ref(), |s, ids| {
            s.filter(Column::DiscountId.is_in(ids.clone()))
        })
        .apply_if(filter.active, |s, active_only| {
            if active_only {
                s.filter(Column::Status.is_in(statuses(&active)))
            } else {
                s.filter(Column::Status.is_in(statuses(&revoked)))
            }
        })
        .apply_if(filter.statuses.as_ref(), |s, list| {
            s.filter(Column::Status.is_in(statuses(list)))
        })
        .apply_if(filter.cancel_at_period_end, |s, flag| {
            s.filter(Column::CancelAtPeriodEnd.eq(flag))
        })
        .apply_if(filter.reasons.as_ref(), |s, reasons| {
            s.filter(Column::CustomerCancellationReason.is_in(reasons.iter().map(|r| r.0)))
        })
        .apply_if(filter.canceled_after, |s, at| {
            s.filter(Column::CanceledAt.gte(at))
        })
        .apply_if(filter.canceled_before, |s, at| {
            s.filter(Column::CanceledAt.lte(at))
        })
        .apply_if(filter.started_after, |s, at| {
            s.filter(Column::StartedAt.gt(at))
        })
        .apply_if(filter.started_before, |s, at| {
            s.filter(Column::StartedAt.lt(at))
        })
        .apply_if(filter.product_name.as_deref(), |s, text| {
            s.filter(Column::ProductId.in_subquery(crate::products::ids_named_like(text)))
        });
    if !filter.metadata.is_empty() {
        select = select.filter(crate::metadata::condition(
            backend,
            Column::Metadata,
            &filter.metadata,
        ));
    }
    select
}

/// Polar's order of statuses when sorting by status (active ones that cancel at the
/// period's end between active and paused).
fn status_rank() -> SimpleExpr {
    Expr::cust(
        "CASE subscriptions.status \
           WHEN 'incomplete' THEN 1 WHEN 'incomplete_expired' THEN 2 WHEN 'trialing' THEN 3 \
           WHEN 'active' THEN CASE WHEN subscriptions.cancel_at_period_end THEN 5 ELSE 4 END \
           WHEN 'paused' THEN 6 WHEN 'past_due' THEN 7 WHEN 'canceled' THEN 8 \
           WHEN 'unpaid' THEN 9 ELSE 10 END",
    )
}

/// The amount per month, so that yearly and monthly plans compare.
fn monthly_amount() -> SimpleExpr {
    Expr::cust(
        "(CASE subscriptions.recurring_interval \
           WHEN 'year' THEN subscriptions.amount / 12.0 \
           WHEN 'week' THEN subscriptions.amount * 4.0 \
           WHEN 'day' THEN subscriptions.amount * 30.0 \
           ELSE subscriptions.amount * 1.0 END) / subscriptions.recurring_interval_count",
    )
}

pub async fn list(
    db: &ReadConnection,
    organization_id: Uuid,
    filter: &ListFilter,
    sorting: &[(SubscriptionSortProperty, Direction)],
    pagination: Pagination,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut select = filtered(db.backend(), organization_id, filter);
    for (property, direction) in sorting {
        let order = match direction {
            Direction::Ascending => sea_orm::Order::Asc,
            Direction::Descending => sea_orm::Order::Desc,
        };
        select = match property {
            SubscriptionSortProperty::StartedAt => {
                crate::db::order_by(select, Column::StartedAt, *direction, true)
            }
            SubscriptionSortProperty::CurrentPeriodEnd => {
                crate::db::order_by(select, Column::CurrentPeriodEnd, *direction, false)
            }
            SubscriptionSortProperty::EndedAt => {
                crate::db::order_by(select, Column::EndedAt, *direction, true)
            }
            SubscriptionSortProperty::EndsAt => {
                crate::db::order_by(select, Column::EndsAt, *direction, true)
            }
            SubscriptionSortProperty::Status => select.order_by(status_rank(), order),
            SubscriptionSortProperty::Amount => select.order_by(monthly_amount(), order),
            SubscriptionSortProperty::Customer => select.order_by(
                Expr::cust(
                    "(SELECT lower(customers.email) FROM customers \
                      WHERE customers.id = subscriptions.customer_id)",
                ),
                order,
            ),
            SubscriptionSortProperty::Product => select.order_by(
                Expr::cust(
                    "(SELECT products.name FROM products \
                      WHERE products.id = subscriptions.product_id)",
                ),
                order,
            ),
            SubscriptionSortProperty::Discount => select.order_by(
                Expr::cust(
                    "(SELECT discounts.name FROM discounts \
                      WHERE discounts.id = subscriptions.discount_id)",
                ),
                order,
            ),
        };
    }
    crate::db::paginate(db, select.order_by_asc(Column::Id), pagination).await
}

/// The prices each of `ids` bills, in order.
pub async fn prices_of(db: Reads<'_>, ids: &[Uuid]) -> Result<Vec<price::Model>, DbErr> {
    let select = price::Entity::find().order_by_asc(price::Column::Position);
    db.among(select, price::Column::SubscriptionId, ids).await
}

/// A customer's trialing and active subscriptions, oldest first.
pub async fn active_of_customer(
    db: Reads<'_>,
    organization_id: Uuid,
    customer_id: Uuid,
) -> Result<Vec<Model>, DbErr> {
    db.all(
        shown(organization_id)
            .filter(Column::CustomerId.eq(customer_id))
            .filter(Column::Status.is_in(["trialing", "active"]))
            .order_by_asc(Column::StartedAt)
            .order_by_asc(Column::Id),
    )
    .await
}

pub async fn insert(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::insert::<Entity>(txn, row).await
}

pub async fn update(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::update::<Entity>(txn, row).await
}

/// Makes `subscription_id` bill its static price (with what it costs a period) and its
/// metered prices (charged in arrears, so 0 a period), in that order, and nothing else.
pub async fn set_prices(
    txn: &impl ConnectionTrait,
    subscription_id: Uuid,
    fixed: Option<(Uuid, i64)>,
    metered: impl Iterator<Item = Uuid>,
) -> Result<(), DbErr> {
    price::Entity::delete_many()
        .filter(price::Column::SubscriptionId.eq(subscription_id))
        .exec(txn)
        .await?;
    let links = fixed
        .into_iter()
        .chain(metered.map(|price_id| (price_id, 0)));
    for (position, (price_id, amount)) in links.enumerate() {
        let row = price::Model {
            subscription_id,
            price_id,
            position: position as i64,
            amount,
        };
        crate::db::rows::insert::<price::Entity>(txn, row).await?;
    }
    Ok(())
}
