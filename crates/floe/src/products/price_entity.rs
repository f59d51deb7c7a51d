//! The `product_prices` table: one row per price, whatever its amount type (the columns a
//! type does not use are `NULL`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "product_prices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    pub product_id: Uuid,
    /// The order the merchant gave the prices in.
    pub position: i64,
    /// `catalog` or `ad_hoc`.
    pub source: String,
    pub amount_type: String,
    pub price_currency: String,
    pub tax_behavior: Option<String>,
    pub is_archived: bool,
    pub price_amount: Option<i64>,
    pub minimum_amount: Option<i64>,
    pub maximum_amount: Option<i64>,
    pub preset_amount: Option<i64>,
    /// `{"type": "volume"|"graduated", "tiers": [{"bound": n|null, "unit_amount": "…"}]}`.
    pub tiers: Option<String>,
    pub minimum_units: Option<i64>,
    pub maximum_units: Option<i64>,
    /// Per-locale unit nouns, as JSON.
    pub unit_label: Option<String>,
    pub meter_id: Option<Uuid>,
    /// A decimal string in minor units (up to 12 decimal places).
    pub unit_amount: Option<String>,
    pub cap_amount: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
