//! The `order_documents` table: an order's invoice or receipt and the state of its
//! generation.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "order_documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: Uuid,
    /// `invoice` or `receipt`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    pub organization_id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    /// Times the document was asked for; due while greater than `rendered`.
    pub requested: i64,
    /// The `requested` count the stored file answers.
    pub rendered: i64,
    /// When a worker may take it next; `None` when nothing is due.
    pub due_at: Option<DateTimeUtc>,
    /// Failed attempts since the last success.
    pub attempts: i64,
    pub last_error: Option<String>,
    /// The stored PDF's key in the private bucket.
    pub path: Option<String>,
    /// Digest of the billing details the stored file shows.
    pub checksum: Option<String>,
    pub generated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
