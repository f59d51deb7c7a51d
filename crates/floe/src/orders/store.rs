//! Queries on orders, scoped to an organization.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QueryTrait,
};
use uuid::Uuid;

use super::entity::{Column, Entity, Model, item};
use super::schema::{BillingType, OrderSortProperty, OrderStatus};
use crate::db::{ReadConnection, Reads};
use crate::http::Pagination;
use crate::http::pagination::Direction;

pub async fn get(db: Reads<'_>, organization_id: Uuid, id: Uuid) -> Result<Option<Model>, DbErr> {
    db.one(
        Entity::find()
            .filter(Column::OrganizationId.eq(organization_id))
            .filter(Column::Id.eq(id)),
    )
    .await
}

/// The order `id` in a write transaction, locked until it ends on PostgreSQL (SQLite has
/// one writer at a time).
pub async fn lock(txn: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    let mut select = Entity::find_by_id(id);
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        select = sea_orm::QuerySelect::lock_exclusive(select);
    }
    select.one(txn).await
}

pub async fn by_checkout(
    txn: &impl ConnectionTrait,
    checkout_id: Uuid,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::CheckoutId.eq(checkout_id))
        .one(txn)
        .await
}

#[derive(Default)]
pub struct ListFilter {
    pub product_ids: Option<Vec<Uuid>>,
    pub billing_types: Option<Vec<BillingType>>,
    pub discount_ids: Option<Vec<Uuid>>,
    /// Customers named by ID or external ID (resolved to IDs by the caller).
    pub customer_ids: Option<Vec<Uuid>>,
    pub checkout_ids: Option<Vec<Uuid>>,
    pub subscription_ids: Option<Vec<Uuid>>,
    pub statuses: Option<Vec<OrderStatus>>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub metadata: Vec<(String, Vec<String>)>,
    /// Text the order's product name contains (the portal's `query`).
    pub product_name: Option<String>,
}

pub async fn list(
    db: &ReadConnection,
    organization_id: Uuid,
    filter: &ListFilter,
    sorting: &[(OrderSortProperty, Direction)],
    pagination: Pagination,
) -> Result<(Vec<Model>, u64), DbErr> {
    let backend = db.backend();
    let mut select = Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .apply_if(filter.product_ids.as_ref(), |s, ids| {
            s.filter(Column::ProductId.is_in(ids.clone()))
        })
        .apply_if(filter.discount_ids.as_ref(), |s, ids| {
            s.filter(Column::DiscountId.is_in(ids.clone()))
        })
        .apply_if(filter.customer_ids.as_ref(), |s, ids| {
            s.filter(Column::CustomerId.is_in(ids.clone()))
        })
        .apply_if(filter.checkout_ids.as_ref(), |s, ids| {
            s.filter(Column::CheckoutId.is_in(ids.clone()))
        })
        .apply_if(filter.subscription_ids.as_ref(), |s, ids| {
            s.filter(Column::SubscriptionId.is_in(ids.clone()))
        })
        .apply_if(filter.statuses.as_ref(), |s, statuses| {
            s.filter(Column::Status.is_in(statuses.iter().map(|s| s.as_str())))
        })
        .apply_if(filter.created_after, |s, at| {
            s.filter(Column::CreatedAt.gt(at))
        })
        .apply_if(filter.product_name.as_deref(), |s, text| {
            s.filter(Column::ProductId.in_subquery(crate::products::ids_named_like(text)))
        })
        .apply_if(filter.created_before, |s, at| {
            s.filter(Column::CreatedAt.lt(at))
        })
        .apply_if(filter.billing_types.as_ref(), |s, types| {
            // One-time orders are purchases; the rest come from subscriptions.
            let one_time = types.contains(&BillingType::OneTime);
            let recurring = types.contains(&BillingType::Recurring);
            match (one_time, recurring) {
                (true, false) => s.filter(Column::SubscriptionId.is_null()),
                (false, true) => s.filter(Column::SubscriptionId.is_not_null()),
                _ => s,
            }
        });
    if !filter.metadata.is_empty() {
        select = select.filter(crate::metadata::condition(
            backend,
            Column::Metadata,
            &filter.metadata,
        ));
    }
    for (property, direction) in sorting {
        let (column, nullable) = match property {
            OrderSortProperty::CreatedAt => (Column::CreatedAt, false),
            OrderSortProperty::Status => (Column::Status, false),
            OrderSortProperty::InvoiceNumber => (Column::InvoiceSequence, true),
            OrderSortProperty::Amount => (Column::TotalAmount, false),
            OrderSortProperty::NetAmount => (Column::NetAmount, false),
            OrderSortProperty::Customer => (Column::CustomerId, false),
            OrderSortProperty::Product => (Column::ProductId, true),
            OrderSortProperty::Discount => (Column::DiscountId, true),
            OrderSortProperty::Subscription => (Column::SubscriptionId, true),
        };
        select = crate::db::order_by(select, column, *direction, nullable);
    }
    crate::db::paginate(db, select.order_by_asc(Column::Id), pagination).await
}

pub async fn items(db: Reads<'_>, order_ids: &[Uuid]) -> Result<Vec<item::Model>, DbErr> {
    let select = item::Entity::find().order_by_asc(item::Column::Position);
    db.among(select, item::Column::OrderId, order_ids).await
}

pub async fn insert(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::insert::<Entity>(txn, row).await
}

pub async fn update(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::update::<Entity>(txn, row).await
}

pub async fn insert_item(
    txn: &impl ConnectionTrait,
    row: item::Model,
) -> Result<item::Model, DbErr> {
    crate::db::rows::insert::<item::Entity>(txn, row).await
}
