//! Queries on refunds, scoped to an organization.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use uuid::Uuid;

use super::entity::{Column, Entity, Model};
use super::schema::RefundSortProperty;
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

#[derive(Default)]
pub struct ListFilter {
    pub ids: Option<Vec<Uuid>>,
    pub order_ids: Option<Vec<Uuid>>,
    pub subscription_ids: Option<Vec<Uuid>>,
    pub customer_ids: Option<Vec<Uuid>>,
    pub succeeded: Option<bool>,
}

pub async fn list(
    db: &ReadConnection,
    organization_id: Uuid,
    filter: &ListFilter,
    sorting: &[(RefundSortProperty, Direction)],
    pagination: Pagination,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut select = Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .apply_if(filter.ids.as_ref(), |s, ids| {
            s.filter(Column::Id.is_in(ids.clone()))
        })
        .apply_if(filter.order_ids.as_ref(), |s, ids| {
            s.filter(Column::OrderId.is_in(ids.clone()))
        })
        .apply_if(filter.subscription_ids.as_ref(), |s, ids| {
            s.filter(Column::SubscriptionId.is_in(ids.clone()))
        })
        .apply_if(filter.customer_ids.as_ref(), |s, ids| {
            s.filter(Column::CustomerId.is_in(ids.clone()))
        })
        .apply_if(filter.succeeded, |s, succeeded| {
            if succeeded {
                s.filter(Column::Status.eq("succeeded"))
            } else {
                s.filter(Column::Status.ne("succeeded"))
            }
        });
    for (property, direction) in sorting {
        let column = match property {
            RefundSortProperty::CreatedAt => Column::CreatedAt,
            RefundSortProperty::Amount => Column::Amount,
        };
        select = crate::db::order_by(select, column, *direction, false);
    }
    crate::db::paginate(db, select.order_by_asc(Column::Id), pagination).await
}

/// The refund `id`, locked for the caller's transaction (on PostgreSQL).
pub async fn lock(txn: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    let mut select = Entity::find_by_id(id);
    if txn.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    select.one(txn).await
}

/// The refund a processor knows as `processor_id`.
pub async fn by_processor_id(
    txn: &impl ConnectionTrait,
    processor: &str,
    processor_id: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::Processor.eq(processor))
        .filter(Column::ProcessorId.eq(processor_id))
        .one(txn)
        .await
}

/// What the pending refunds of `order_id` hold back: amount and tax.
pub async fn pending_of_order(
    txn: &impl ConnectionTrait,
    order_id: Uuid,
) -> Result<(i64, i64), DbErr> {
    let rows = Entity::find()
        .filter(Column::OrderId.eq(order_id))
        .filter(Column::Status.eq("pending"))
        .all(txn)
        .await?;
    Ok(rows
        .iter()
        .fold((0, 0), |(a, t), r| (a + r.amount, t + r.tax_amount)))
}

/// Every pending refund (few: they settle in seconds), oldest first, for the worker.
pub async fn pending(txn: &impl ConnectionTrait, limit: u64) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Status.eq("pending"))
        .order_by_asc(Column::CreatedAt)
        .limit(limit)
        .all(txn)
        .await
}

pub async fn insert(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::insert::<Entity>(txn, row).await
}

pub async fn update(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::update::<Entity>(txn, row).await
}
