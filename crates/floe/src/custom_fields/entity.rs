//! The `custom_fields` table.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "custom_fields")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub deleted_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    /// `text`, `number`, `date`, `checkbox` or `select`.
    #[sea_orm(column_name = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    pub slug: String,
    pub name: String,
    /// The type's properties, as JSON (only the keys the type knows).
    pub properties: String,
    pub metadata: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
