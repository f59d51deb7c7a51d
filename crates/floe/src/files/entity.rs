//! The `files` table.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub deleted_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    /// A `FileServiceTypes` value.
    pub service: String,
    pub name: String,
    /// The object key: `{service}/{organization_id}/{id}/{name at creation}`.
    pub path: String,
    pub mime_type: String,
    pub size: i64,
    pub version: Option<String>,
    pub storage_version: Option<String>,
    pub checksum_etag: Option<String>,
    pub checksum_sha256_base64: Option<String>,
    pub checksum_sha256_hex: Option<String>,
    pub last_modified_at: Option<DateTimeUtc>,
    pub is_uploaded: bool,
    pub flagged_malicious_at: Option<DateTimeUtc>,
    /// The object store's multipart upload ID.
    pub upload_id: String,
    /// The part plan as JSON (`[PlannedPart]`), checked again on completion.
    pub upload_plan: String,
    /// When the object (or the unfinished upload) was removed from storage, after the
    /// file was deleted or its upload abandoned.
    pub storage_purged_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
