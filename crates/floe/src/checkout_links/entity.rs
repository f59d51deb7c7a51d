//! The `checkout_links` table.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "checkout_links")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    /// `polar_cl_…`: the link's public name in its URL, stored in clear because every
    /// answer shows it.
    pub client_secret: String,
    pub label: Option<String>,
    pub success_url: Option<String>,
    pub return_url: Option<String>,
    pub allow_discount_codes: bool,
    pub require_billing_address: bool,
    pub discount_id: Option<Uuid>,
    pub seats: Option<i64>,
    /// Units preset for unit-based prices.
    pub units: Option<i64>,
    pub metadata: String,
    /// The products offered, in the merchant's order, as a JSON array of IDs.
    pub product_ids: String,
    pub deleted_at: Option<DateTimeUtc>,
    pub trial_interval: Option<String>,
    pub trial_interval_count: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The products offered, in order (none for text this build cannot read).
    pub fn products(&self) -> Vec<Uuid> {
        serde_json::from_str(&self.product_ids).unwrap_or_default()
    }
}
