//! Queries on meters, scoped to an organization.

use sea_orm::{ColumnTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::entity::{Column, Entity, Model};
use super::schema::MeterSortProperty;
use crate::db::ReadConnection;
use crate::http::Pagination;
use crate::http::pagination::Direction;

pub struct ListFilter {
    pub query: Option<String>,
    pub is_archived: Option<bool>,
    pub metadata: Vec<(String, Vec<String>)>,
}

pub async fn get(
    db: &ReadConnection,
    organization_id: Uuid,
    id: Uuid,
) -> Result<Option<Model>, DbErr> {
    db.one(Entity::find_by_id(id).filter(Column::OrganizationId.eq(organization_id)))
        .await
}

pub async fn list(
    db: &ReadConnection,
    backend: DbBackend,
    organization_id: Uuid,
    filter: &ListFilter,
    sorting: &[(MeterSortProperty, Direction)],
    pagination: Pagination,
) -> Result<(Vec<Model>, u64), DbErr> {
    let mut query = Entity::find().filter(Column::OrganizationId.eq(organization_id));
    if let Some(text) = &filter.query {
        query = query.filter(crate::db::contains(Column::Name, text));
    }
    match filter.is_archived {
        Some(true) => query = query.filter(Column::ArchivedAt.is_not_null()),
        Some(false) => query = query.filter(Column::ArchivedAt.is_null()),
        None => {}
    }
    if !filter.metadata.is_empty() {
        query = query.filter(crate::metadata::condition(
            backend,
            Column::Metadata,
            &filter.metadata,
        ));
    }
    for (property, direction) in sorting {
        let column = match property {
            MeterSortProperty::CreatedAt => Column::CreatedAt,
            MeterSortProperty::Name => Column::Name,
        };
        query = match direction {
            Direction::Ascending => query.order_by_asc(column),
            Direction::Descending => query.order_by_desc(column),
        };
    }
    crate::db::paginate(db, query.order_by_asc(Column::Id), pagination).await
}

pub async fn for_organization(
    db: &ReadConnection,
    organization_id: Uuid,
    ids: Option<&[Uuid]>,
) -> Result<Vec<Model>, DbErr> {
    let mut query = Entity::find().filter(Column::OrganizationId.eq(organization_id));
    query = match ids {
        Some(ids) => query.filter(Column::Id.is_in(ids.iter().copied())),
        None => query.filter(Column::ArchivedAt.is_null()),
    };
    db.all(query.order_by_asc(Column::Name).order_by_asc(Column::Id))
        .await
}

/// Meters of `organization_id` among `ids`, archived ones included.
pub async fn by_ids(
    db: crate::db::Reads<'_>,
    organization_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Model>, DbErr> {
    db.among(
        Entity::find().filter(Column::OrganizationId.eq(organization_id)),
        Column::Id,
        ids,
    )
    .await
}

pub async fn all(db: &ReadConnection, organization_id: Uuid) -> Result<Vec<Model>, DbErr> {
    db.all(Entity::find().filter(Column::OrganizationId.eq(organization_id)))
        .await
}
