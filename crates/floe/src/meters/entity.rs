//! The `meters` table.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "meters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub archived_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    pub name: String,
    /// `scalar`, `token` or `custom`.
    pub unit: String,
    pub custom_label: Option<String>,
    pub custom_multiplier: Option<i64>,
    /// A `Filter`, as JSON.
    pub filter: String,
    /// An aggregation, as JSON.
    pub aggregation: String,
    pub metadata: String,
    /// Whether the rollups include every event (else readers use the events).
    pub rollups_ready: bool,
    /// While not ready: the rollups include the stored events up to this ID, and batches
    /// add their events up to it; the builder takes the rest (`meters::rollups`).
    pub rollups_through: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
