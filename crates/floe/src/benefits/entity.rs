//! The `benefits` table.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "benefits")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub deleted_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    /// A `BenefitType`.
    #[sea_orm(column_name = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    pub description: String,
    /// `draft`, `private` or `public`.
    pub visibility: String,
    /// The type's properties, as JSON, as the API shows them.
    pub properties: String,
    pub metadata: String,
    pub user_order: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
