//! Queries on disputes, scoped to an organization.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use uuid::Uuid;

use super::entity::{Column, Entity, Model};
use super::schema::DisputeSortProperty;
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
    pub order_ids: Option<Vec<Uuid>>,
    pub statuses: Option<Vec<String>>,
}

pub async fn list(
    db: &ReadConnection,
    organization_id: Uuid,
    filter: &ListFilter,
    sorting: &[(DisputeSortProperty, Direction)],
    pagination: Pagination,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut select = Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .apply_if(filter.order_ids.as_ref(), |s, ids| {
            s.filter(Column::OrderId.is_in(ids.clone()))
        })
        .apply_if(filter.statuses.as_ref(), |s, statuses| {
            s.filter(Column::Status.is_in(statuses.clone()))
        });
    for (property, direction) in sorting {
        let column = match property {
            DisputeSortProperty::CreatedAt => Column::CreatedAt,
            DisputeSortProperty::Amount => Column::Amount,
        };
        select = crate::db::order_by(select, column, *direction, false);
    }
    crate::db::paginate(db, select.order_by_asc(Column::Id), pagination).await
}

/// The dispute `id`, locked for the caller's transaction (on PostgreSQL).
pub async fn lock(txn: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    let mut select = Entity::find_by_id(id);
    if txn.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    select.one(txn).await
}

/// The dispute a processor knows as `processor_id`.
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

/// Whether a dispute of `order_id` stands in the way of refunding it: one the bank has
/// opened, decided or is deciding (a prevented one ended without taking the money).
pub async fn blocks_refunds(txn: &impl ConnectionTrait, order_id: Uuid) -> Result<bool, DbErr> {
    Ok(Entity::find()
        .filter(Column::OrderId.eq(order_id))
        .filter(Column::Status.is_in(["needs_response", "under_review", "won", "lost"]))
        .one(txn)
        .await?
        .is_some())
}

pub async fn insert(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::insert::<Entity>(txn, row).await
}

pub async fn update(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::update::<Entity>(txn, row).await
}
