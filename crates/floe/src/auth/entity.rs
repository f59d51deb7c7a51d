//! The `organization_access_tokens` table.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "organization_access_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub deleted_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    pub comment: String,
    /// HMAC-SHA256 of the token under the server secret; the token itself is never stored.
    pub token_hash: String,
    /// Space-separated scope names.
    pub scopes: String,
    pub expires_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
