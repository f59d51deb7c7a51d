//! Queries on custom fields, scoped to an organization; deleted fields are never read.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QueryTrait,
};
use uuid::Uuid;

use super::entity::{Column, Entity, Model};
use super::schema::{CustomFieldSortProperty, CustomFieldType};
use crate::db::{ReadConnection, Reads};
use crate::http::Pagination;
use crate::http::pagination::Direction;

pub struct ListFilter {
    pub query: Option<String>,
    pub types: Option<Vec<CustomFieldType>>,
}

fn live(organization_id: Uuid) -> sea_orm::Select<Entity> {
    Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::DeletedAt.is_null())
}

/// The live fields of `organization_id` among `ids`.
pub async fn live_many(
    db: Reads<'_>,
    organization_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Model>, DbErr> {
    db.among(live(organization_id), Column::Id, ids).await
}

pub async fn get(db: Reads<'_>, organization_id: Uuid, id: Uuid) -> Result<Option<Model>, DbErr> {
    db.one(live(organization_id).filter(Column::Id.eq(id)))
        .await
}

pub async fn list(
    db: &ReadConnection,
    organization_id: Uuid,
    filter: &ListFilter,
    sorting: &[(CustomFieldSortProperty, Direction)],
    pagination: Pagination,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut query = live(organization_id)
        .apply_if(filter.query.as_deref(), |query, text| {
            query.filter(
                sea_orm::Condition::any()
                    .add(crate::db::contains(Column::Name, text))
                    .add(crate::db::contains(Column::Slug, text)),
            )
        })
        .apply_if(filter.types.as_ref(), |query, types| {
            query.filter(Column::Kind.is_in(types.iter().map(|t| t.as_str())))
        });
    for (property, direction) in sorting {
        let column = match property {
            CustomFieldSortProperty::CreatedAt => Column::CreatedAt,
            CustomFieldSortProperty::Slug => Column::Slug,
            CustomFieldSortProperty::Name => Column::Name,
            CustomFieldSortProperty::Type => Column::Kind,
        };
        query = match direction {
            Direction::Ascending => query.order_by_asc(column),
            Direction::Descending => query.order_by_desc(column),
        };
    }
    crate::db::paginate(db, query.order_by_asc(Column::Id), pagination).await
}

pub async fn insert(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::insert::<Entity>(txn, row).await
}

pub async fn update(txn: &impl ConnectionTrait, row: Model) -> Result<Model, DbErr> {
    crate::db::rows::update::<Entity>(txn, row).await
}
