//! Queries on organizations. A caller only ever sees the organizations its subject may
//! act on: an organization token sees its own.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::db::ReadConnection;

use super::entity::{self, Column, Entity, Model};
use super::schema::OrganizationSortProperty;
use crate::http::pagination::{Direction, Pagination};

pub async fn insert(db: &DatabaseConnection, row: Model) -> Result<Model, sea_orm::DbErr> {
    entity::ActiveModel {
        id: Set(row.id),
        created_at: Set(row.created_at),
        modified_at: Set(row.modified_at),
        name: Set(row.name),
        slug: Set(row.slug),
        avatar_url: Set(row.avatar_url),
        email: Set(row.email),
        website: Set(row.website),
        settings: Set(row.settings),
    }
    .insert(db)
    .await
}

/// An organization by slug, or by ID when `key` is a UUID (for the admin commands).
pub async fn find_by_slug_or_id(
    db: &DatabaseConnection,
    key: &str,
) -> Result<Option<Model>, sea_orm::DbErr> {
    if let Ok(id) = Uuid::try_parse(key)
        && let Some(found) = Entity::find_by_id(id).one(db).await?
    {
        return Ok(Some(found));
    }
    Entity::find().filter(Column::Slug.eq(key)).one(db).await
}

/// The organization `id`, if `visible_to` may see it.
pub async fn get_visible(
    db: &ReadConnection,
    visible_to: Uuid,
    id: Uuid,
) -> Result<Option<Model>, sea_orm::DbErr> {
    if id != visible_to {
        return Ok(None);
    }
    db.one(Entity::find_by_id(id)).await
}

/// A page of the organizations `visible_to` may see, and how many there are in all.
pub async fn list_visible(
    db: &ReadConnection,
    visible_to: Uuid,
    slug: Option<&str>,
    sorting: &[(OrganizationSortProperty, Direction)],
    pagination: Pagination,
) -> Result<(Vec<Model>, u64), sea_orm::DbErr> {
    let mut query = Entity::find().filter(Column::Id.eq(visible_to));
    if let Some(slug) = slug {
        query = query.filter(Column::Slug.eq(slug));
    }
    for (property, direction) in sorting {
        let (column, direction) = match property {
            OrganizationSortProperty::CreatedAt | OrganizationSortProperty::NextReviewThreshold => {
                (Column::CreatedAt, *direction)
            }
            // Every organization has been active since it was created: the longest in
            // status is the oldest.
            OrganizationSortProperty::DaysInStatus => (Column::CreatedAt, reverse(*direction)),
            OrganizationSortProperty::Slug => (Column::Slug, *direction),
            OrganizationSortProperty::Name => (Column::Name, *direction),
        };
        query = match direction {
            Direction::Ascending => query.order_by_asc(column),
            Direction::Descending => query.order_by_desc(column),
        };
    }
    crate::db::paginate(db, query.order_by_asc(Column::Id), pagination).await
}

fn reverse(direction: Direction) -> Direction {
    match direction {
        Direction::Ascending => Direction::Descending,
        Direction::Descending => Direction::Ascending,
    }
}

/// The name of an organization (for chat webhook messages).
pub async fn name_of(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<String>, sea_orm::DbErr> {
    Entity::find_by_id(id)
        .select_only()
        .column(Column::Name)
        .into_tuple::<String>()
        .one(db)
        .await
}

/// The organization `id` inside a write transaction, if `visible_to` may see it.
pub async fn get_visible_in(
    txn: &impl ConnectionTrait,
    visible_to: Uuid,
    id: Uuid,
) -> Result<Option<Model>, sea_orm::DbErr> {
    if id != visible_to {
        return Ok(None);
    }
    Entity::find_by_id(id).one(txn).await
}

pub async fn update(txn: &impl ConnectionTrait, row: Model) -> Result<Model, sea_orm::DbErr> {
    crate::db::rows::update::<Entity>(txn, row).await
}

/// The organization with `slug` (for pages and portal routes that name it in their path).
pub async fn by_slug(db: &ReadConnection, slug: &str) -> Result<Option<Model>, sea_orm::DbErr> {
    db.one(Entity::find().filter(Column::Slug.eq(slug))).await
}
