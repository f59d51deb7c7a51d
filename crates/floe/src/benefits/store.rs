//! Queries on benefits, scoped to an organization; deleted benefits are not read here.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use uuid::Uuid;

use super::entity::{Column, Entity, Model};
use super::schema::{BenefitSortProperty, BenefitType};
use crate::db::{ReadConnection, Reads};
use crate::http::Pagination;
use crate::http::pagination::Direction;

#[derive(Default)]
pub struct ListFilter {
    pub types: Option<Vec<BenefitType>>,
    pub ids: Option<Vec<Uuid>>,
    pub exclude_ids: Option<Vec<Uuid>>,
    pub query: Option<String>,
    pub metadata: Vec<(String, Vec<String>)>,
}

fn live(organization_id: Uuid) -> sea_orm::Select<Entity> {
    Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::DeletedAt.is_null())
}

pub async fn get(db: Reads<'_>, organization_id: Uuid, id: Uuid) -> Result<Option<Model>, DbErr> {
    db.one(live(organization_id).filter(Column::Id.eq(id)))
        .await
}

/// The live benefits of `organization_id` among `ids`.
pub async fn live_many(
    db: Reads<'_>,
    organization_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Model>, DbErr> {
    db.among(live(organization_id), Column::Id, ids).await
}

/// Benefits of `organization_id` by ID, deleted ones included (grants keep naming theirs).
pub async fn by_ids_with_deleted(
    db: Reads<'_>,
    organization_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Model>, DbErr> {
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    db.among(
        Entity::find().filter(Column::OrganizationId.eq(organization_id)),
        Column::Id,
        &unique,
    )
    .await
}

pub async fn list(
    db: &ReadConnection,
    backend: DbBackend,
    organization_id: Uuid,
    filter: &ListFilter,
    sorting: &[(BenefitSortProperty, Direction)],
    pagination: Pagination,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut query = live(organization_id)
        .apply_if(filter.types.as_ref(), |query, types| {
            query.filter(Column::Kind.is_in(types.iter().map(|t| t.as_str())))
        })
        .apply_if(filter.ids.as_ref(), |query, ids| {
            query.filter(Column::Id.is_in(ids.iter().copied()))
        })
        .apply_if(filter.exclude_ids.as_ref(), |query, ids| {
            query.filter(Column::Id.is_not_in(ids.iter().copied()))
        })
        .apply_if(filter.query.as_deref(), |query, text| {
            query.filter(crate::db::contains(Column::Description, text))
        });
    if !filter.metadata.is_empty() {
        query = query.filter(crate::metadata::condition(
            backend,
            Column::Metadata,
            &filter.metadata,
        ));
    }
    for (property, direction) in sorting {
        let column = match property {
            BenefitSortProperty::CreatedAt => Column::CreatedAt,
            BenefitSortProperty::Description => Column::Description,
            BenefitSortProperty::Type => Column::Kind,
            BenefitSortProperty::UserOrder => Column::UserOrder,
        };
        query = match direction {
            Direction::Ascending => query.order_by_asc(column),
            Direction::Descending => query.order_by_desc(column),
        };
    }
    crate::db::paginate(db, query.order_by_asc(Column::Id), pagination).await
}

/// The next position in the organization's order (every benefit ever made counts, so a
/// deletion never gives two benefits one position).
pub async fn next_user_order(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
) -> Result<i64, DbErr> {
    let highest: Option<Option<i64>> = Entity::find()
        .select_only()
        .column_as(Expr::col(Column::UserOrder).max(), "highest")
        .filter(Column::OrganizationId.eq(organization_id))
        .into_tuple()
        .one(txn)
        .await?;
    Ok(highest.flatten().map_or(0, |h| h + 1))
}

pub async fn insert(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::insert::<Entity>(txn, row).await
}

pub async fn update(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::update::<Entity>(txn, row).await
}
