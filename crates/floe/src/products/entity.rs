//! The `products` table.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub deleted_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// `draft`, `private` or `public`.
    pub visibility: String,
    /// `day`, `week`, `month` or `year`; `None` for a one-time product.
    pub recurring_interval: Option<String>,
    pub recurring_interval_count: Option<i64>,
    pub trial_interval: Option<String>,
    pub trial_interval_count: Option<i64>,
    pub meter_interval: Option<String>,
    pub meter_interval_count: Option<i64>,
    pub is_archived: bool,
    pub metadata: String,
    /// Sort key of `price_amount_type`: 1 custom, 2 fixed, none for other prices.
    pub sort_price_type: Option<i64>,
    /// Sort key of `price_amount`: a custom price's minimum or a fixed price's amount.
    pub sort_price_amount: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
