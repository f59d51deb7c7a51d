//! Queries on `order_documents`.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::Kind;
use super::entity::{Column, Entity, Model};
use crate::db::Reads;

/// The document of an order of `organization_id`.
pub async fn get(
    db: Reads<'_>,
    organization_id: Uuid,
    order_id: Uuid,
    kind: Kind,
) -> Result<Option<Model>, DbErr> {
    db.one(
        Entity::find()
            .filter(Column::OrganizationId.eq(organization_id))
            .filter(Column::OrderId.eq(order_id))
            .filter(Column::Kind.eq(kind.as_str())),
    )
    .await
}

/// The document, locked for the rest of `txn` on PostgreSQL (SQLite's write transactions
/// are already exclusive).
pub async fn lock(
    txn: &impl ConnectionTrait,
    order_id: Uuid,
    kind: Kind,
) -> Result<Option<Model>, DbErr> {
    let mut select = Entity::find()
        .filter(Column::OrderId.eq(order_id))
        .filter(Column::Kind.eq(kind.as_str()));
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    select.one(txn).await
}

/// Takes a due document for one worker until `until`: one statement, so that of two
/// workers (or processes) only one gets it.
pub async fn claim(
    db: &impl ConnectionTrait,
    order_id: Uuid,
    kind: Kind,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::DueAt, Expr::value(until))
        .filter(Column::OrderId.eq(order_id))
        .filter(Column::Kind.eq(kind.as_str()))
        .filter(Column::DueAt.lte(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Documents due at `now`, oldest first.
pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<(Uuid, Kind)>, DbErr> {
    let rows = Entity::find()
        .filter(Column::DueAt.lte(now))
        .order_by_asc(Column::DueAt)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| Some((row.order_id, Kind::parse(&row.kind)?)))
        .collect())
}

pub async fn insert(db: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::insert::<Entity>(db, row).await
}

pub async fn update(db: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::update::<Entity>(db, row).await
}
