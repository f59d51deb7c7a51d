//! Queries on license keys and their activations, scoped to an organization.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
};
use uuid::Uuid;

use super::entity::{Column, Entity, Model, activation};
use super::schema::LicenseKeyStatus;
use crate::db::{ReadConnection, Reads};
use crate::http::Pagination;

pub struct ListFilter {
    pub benefit_ids: Option<Vec<Uuid>>,
    pub statuses: Option<Vec<LicenseKeyStatus>>,
    /// One customer's keys only (the portal's).
    pub customer_id: Option<Uuid>,
}

fn of(organization_id: Uuid) -> sea_orm::Select<Entity> {
    Entity::find().filter(Column::OrganizationId.eq(organization_id))
}

pub async fn get(db: Reads<'_>, organization_id: Uuid, id: Uuid) -> Result<Option<Model>, DbErr> {
    db.one(of(organization_id).filter(Column::Id.eq(id))).await
}

/// Oldest first, as Polar lists them.
pub async fn list(
    db: &ReadConnection,
    organization_id: Uuid,
    filter: &ListFilter,
    pagination: Pagination,
) -> Result<(Vec<Model>, u64), DbErr> {
    let query = of(organization_id)
        .apply_if(filter.benefit_ids.as_ref(), |query, ids| {
            query.filter(Column::BenefitId.is_in(ids.iter().copied()))
        })
        .apply_if(filter.statuses.as_ref(), |query, statuses| {
            query.filter(Column::Status.is_in(statuses.iter().map(|s| s.as_str())))
        })
        .apply_if(filter.customer_id, |query, id| {
            query.filter(Column::CustomerId.eq(id))
        })
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id);
    crate::db::paginate(db, query, pagination).await
}

/// The key `id` of `organization_id`, locked until `txn` ends.
pub async fn lock(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    id: Uuid,
) -> Result<Option<Model>, DbErr> {
    let mut select = of(organization_id).filter(Column::Id.eq(id));
    if txn.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    select.one(txn).await
}

/// The key with text `key` of `organization_id`, locked until `txn` ends (on SQLite the
/// write transaction already holds the only write lock).
pub async fn lock_by_key(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    key: &str,
) -> Result<Option<Model>, DbErr> {
    let mut select = of(organization_id).filter(Column::Key.eq(key));
    if txn.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    select.one(txn).await
}

pub async fn insert(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::insert::<Entity>(txn, row).await
}

pub async fn update(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::update::<Entity>(txn, row).await
}

fn live_activations(license_key_id: Uuid) -> sea_orm::Select<activation::Entity> {
    activation::Entity::find()
        .filter(activation::Column::LicenseKeyId.eq(license_key_id))
        .filter(activation::Column::DeletedAt.is_null())
}

/// The key's activations that were not deactivated, oldest first.
pub async fn activations(
    db: Reads<'_>,
    license_key_id: Uuid,
) -> Result<Vec<activation::Model>, DbErr> {
    db.all(
        live_activations(license_key_id)
            .order_by_asc(activation::Column::CreatedAt)
            .order_by_asc(activation::Column::Id),
    )
    .await
}

/// One live activation of the key.
pub async fn activation(
    db: Reads<'_>,
    license_key_id: Uuid,
    id: Uuid,
) -> Result<Option<activation::Model>, DbErr> {
    db.one(live_activations(license_key_id).filter(activation::Column::Id.eq(id)))
        .await
}

pub async fn count_activations(
    txn: &impl ConnectionTrait,
    license_key_id: Uuid,
) -> Result<u64, DbErr> {
    live_activations(license_key_id).count(txn).await
}

pub async fn insert_activation(
    txn: &impl ConnectionTrait,
    row: activation::Model,
) -> Result<activation::Model, DbErr> {
    crate::db::rows::insert::<activation::Entity>(txn, row).await
}

pub async fn update_activation(
    txn: &impl ConnectionTrait,
    row: activation::Model,
) -> Result<activation::Model, DbErr> {
    crate::db::rows::update::<activation::Entity>(txn, row).await
}
