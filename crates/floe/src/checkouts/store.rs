//! Queries on checkouts, scoped to an organization (or, for the buyer's side, to the
//! client secret).

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use uuid::Uuid;

use super::entity::{Column, Entity, Model, product};
use super::schema::{CheckoutSortProperty, CheckoutStatus};
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

pub async fn by_client_secret(db: Reads<'_>, secret: &str) -> Result<Option<Model>, DbErr> {
    db.one(Entity::find().filter(Column::ClientSecret.eq(secret)))
        .await
}

/// The checkout `id` in a write transaction, locked until it ends on PostgreSQL (SQLite
/// has one writer at a time), so two confirmations of one checkout run one after the
/// other.
pub async fn lock(txn: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    let mut select = Entity::find_by_id(id);
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    select.one(txn).await
}

pub struct ListFilter {
    pub product_ids: Option<Vec<Uuid>>,
    pub customer_ids: Option<Vec<Uuid>>,
    pub external_customer_ids: Option<Vec<String>>,
    pub statuses: Option<Vec<CheckoutStatus>>,
    pub query: Option<String>,
}

pub async fn list(
    db: &ReadConnection,
    organization_id: Uuid,
    filter: &ListFilter,
    sorting: &[(CheckoutSortProperty, Direction)],
    pagination: Pagination,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut select = Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .apply_if(filter.product_ids.as_ref(), |select, ids| {
            select.filter(
                Column::Id.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(product::Column::CheckoutId)
                        .from(product::Entity)
                        .and_where(Expr::col(product::Column::ProductId).is_in(ids.clone()))
                        .to_owned(),
                ),
            )
        })
        .apply_if(filter.customer_ids.as_ref(), |select, ids| {
            select.filter(Column::CustomerId.is_in(ids.clone()))
        })
        .apply_if(filter.external_customer_ids.as_ref(), |select, ids| {
            select.filter(Column::ExternalCustomerId.is_in(ids.clone()))
        })
        .apply_if(filter.statuses.as_ref(), |select, statuses| {
            select.filter(Column::Status.is_in(statuses.iter().map(|s| s.as_str())))
        })
        .apply_if(filter.query.as_deref(), |select, text| {
            select.filter(
                Condition::any()
                    .add(crate::db::contains(Column::CustomerEmail, text))
                    .add(crate::db::contains(Column::CustomerName, text)),
            )
        });
    for (property, direction) in sorting {
        let column = match property {
            CheckoutSortProperty::CreatedAt => Column::CreatedAt,
            CheckoutSortProperty::ExpiresAt => Column::ExpiresAt,
            CheckoutSortProperty::Status => Column::Status,
        };
        select = crate::db::order_by(select, column, *direction, false);
    }
    crate::db::paginate(db, select.order_by_asc(Column::Id), pagination).await
}

/// The products of `checkout_ids`, each checkout's in order.
pub async fn products(db: Reads<'_>, checkout_ids: &[Uuid]) -> Result<Vec<product::Model>, DbErr> {
    let select = product::Entity::find().order_by_asc(product::Column::Position);
    db.among(select, product::Column::CheckoutId, checkout_ids)
        .await
}

pub async fn insert(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::insert::<Entity>(txn, row).await
}

pub async fn update(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::update::<Entity>(txn, row).await
}

pub async fn insert_product(
    txn: &impl ConnectionTrait,
    row: product::Model,
) -> Result<product::Model, DbErr> {
    crate::db::rows::insert::<product::Entity>(txn, row).await
}

/// Open checkouts past their expiry, oldest first, at most `limit`.
pub async fn expired(
    db: &impl ConnectionTrait,
    now: chrono::DateTime<chrono::Utc>,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Status.eq(CheckoutStatus::Open.as_str()))
        .filter(Column::ExpiresAt.lt(now))
        .order_by_asc(Column::ExpiresAt)
        .limit(limit)
        .all(db)
        .await
}
