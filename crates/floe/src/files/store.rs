//! Queries on files. Every read is scoped to an organization; a file of another
//! organization does not exist for the caller.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::entity::{self, Column, Entity, Model};
use super::schema::FileServiceTypes;
use crate::db::ReadConnection;
use crate::http::Pagination;

pub async fn insert(db: &impl ConnectionTrait, row: Model) -> Result<Model, sea_orm::DbErr> {
    crate::db::rows::insert::<Entity>(db, row).await
}

/// A live (not deleted) file of `organization_id`.
pub async fn get(
    db: &ReadConnection,
    organization_id: Uuid,
    id: Uuid,
) -> Result<Option<Model>, sea_orm::DbErr> {
    db.one(
        Entity::find_by_id(id)
            .filter(Column::OrganizationId.eq(organization_id))
            .filter(Column::DeletedAt.is_null()),
    )
    .await
}

/// Filters of `files:list`.
pub struct ListFilter {
    pub organization_ids: Option<Vec<Uuid>>,
    pub ids: Option<Vec<Uuid>>,
}

/// A page of `organization_id`'s uploaded files, newest first, and how many there are.
/// Support-case attachments belong to their case and are not listed, as in Polar.
pub async fn list(
    db: &ReadConnection,
    organization_id: Uuid,
    filter: &ListFilter,
    pagination: Pagination,
) -> Result<(Vec<Model>, u64), sea_orm::DbErr> {
    if filter
        .organization_ids
        .as_ref()
        .is_some_and(|ids| !ids.contains(&organization_id))
    {
        return Ok((Vec::new(), 0));
    }
    let mut query = Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::DeletedAt.is_null())
        .filter(Column::IsUploaded.eq(true))
        .filter(Column::Service.ne(FileServiceTypes::SupportCaseAttachment.as_str()));
    if let Some(ids) = &filter.ids {
        query = query.filter(Column::Id.is_in(ids.iter().copied()));
    }
    let query = query
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id);
    crate::db::paginate(db, query, pagination).await
}

/// The stored plan of a completed upload.
pub const EMPTY_PLAN: &str = "[]";

/// Records a completed upload, unless the file was completed or deleted meanwhile.
pub async fn mark_uploaded(
    db: &impl ConnectionTrait,
    id: Uuid,
    checksum_etag: &str,
    storage_version: Option<&str>,
    last_modified_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    Entity::update_many()
        .col_expr(Column::IsUploaded, Expr::value(true))
        .col_expr(Column::ChecksumEtag, Expr::value(checksum_etag))
        .col_expr(
            Column::StorageVersion,
            Expr::value(storage_version.map(str::to_owned)),
        )
        .col_expr(Column::LastModifiedAt, Expr::value(last_modified_at))
        .col_expr(Column::ModifiedAt, Expr::value(now))
        // The plan is only needed to complete the upload; a plan of 10,000 parts is most
        // of a megabyte that every later read of the file would otherwise carry.
        .col_expr(Column::UploadPlan, Expr::value(EMPTY_PLAN))
        .filter(Column::Id.eq(id))
        .filter(Column::IsUploaded.eq(false))
        .filter(Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

pub async fn update_name_version(
    db: &impl ConnectionTrait,
    row: Model,
    name: Option<String>,
    version: Option<String>,
    now: DateTime<Utc>,
) -> Result<Model, sea_orm::DbErr> {
    let mut active: entity::ActiveModel = row.into();
    if let Some(name) = name {
        active.name = Set(name);
    }
    if let Some(version) = version {
        active.version = Set(Some(version));
    }
    active.modified_at = Set(Some(now));
    active.update(db).await
}

/// Soft-deletes a file; the sweep (or the caller, right after) purges its bytes.
/// Returns whether this call did it.
pub async fn mark_deleted(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::DeletedAt, Expr::value(now))
        .col_expr(Column::ModifiedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records that a deleted file's bytes are gone from storage.
pub async fn mark_purged(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    Entity::update_many()
        .col_expr(Column::StoragePurgedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Files whose upload started before `cutoff` and never completed.
pub async fn stale_uploads(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Model>, sea_orm::DbErr> {
    Entity::find()
        .filter(Column::IsUploaded.eq(false))
        .filter(Column::DeletedAt.is_null())
        .filter(Column::CreatedAt.lt(cutoff))
        .order_by_asc(Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await
}

/// Deleted files whose bytes are still in storage.
pub async fn unpurged_deleted(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<Model>, sea_orm::DbErr> {
    Entity::find()
        .filter(Column::DeletedAt.is_not_null())
        .filter(Column::StoragePurgedAt.is_null())
        .order_by_asc(Column::DeletedAt)
        .limit(limit)
        .all(db)
        .await
}

/// See [`super::usable`].
/// The IDs of `organization_id`'s files for `service` that others may point at (uploaded,
/// not deleted, not flagged), as a subquery.
pub fn usable_subquery(
    organization_id: Uuid,
    service: &str,
) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(Column::Id)
        .from(Entity)
        .and_where(Column::OrganizationId.eq(organization_id))
        .and_where(Column::Service.eq(service))
        .and_where(Column::DeletedAt.is_null())
        .and_where(Column::IsUploaded.eq(true))
        .and_where(Column::FlaggedMaliciousAt.is_null())
        .to_owned()
}

pub async fn usable(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    service: &str,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, sea_orm::DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(Entity::find()
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::Service.eq(service))
        .filter(Column::Id.is_in(ids.iter().copied()))
        .filter(Column::DeletedAt.is_null())
        .filter(Column::IsUploaded.eq(true))
        .filter(Column::FlaggedMaliciousAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.id)
        .collect())
}

/// The live files of `organization_id` among `ids`, in no particular order.
pub async fn live_many(
    db: crate::db::Reads<'_>,
    organization_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Model>, sea_orm::DbErr> {
    db.among(
        Entity::find()
            .filter(Column::OrganizationId.eq(organization_id))
            .filter(Column::DeletedAt.is_null()),
        Column::Id,
        ids,
    )
    .await
}
