//! The `checkouts` and `checkout_products` tables.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "checkouts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    /// `open`, `confirmed`, `succeeded`, `failed` or `expired`.
    pub status: String,
    pub client_secret: String,
    /// Which processor takes the payment (`test` or `stripe`); the API always says
    /// `stripe`, the only value the contract has.
    pub processor: String,
    pub expires_at: DateTimeUtc,
    pub success_url: Option<String>,
    pub return_url: Option<String>,
    pub embed_origin: Option<String>,
    pub currency: String,
    pub product_id: Option<Uuid>,
    pub product_price_id: Option<Uuid>,
    pub custom_amount: Option<i64>,
    pub seats: Option<i64>,
    pub min_seats: Option<i64>,
    pub max_seats: Option<i64>,
    pub units: Option<i64>,
    pub min_units: Option<i64>,
    pub max_units: Option<i64>,
    pub amount: i64,
    pub discount_amount: i64,
    pub net_amount: i64,
    pub tax_amount: Option<i64>,
    pub total_amount: i64,
    /// The totals' flags, as JSON (see `pricing::totals::Totals`).
    pub flags: String,
    pub discount_id: Option<Uuid>,
    pub allow_discount_codes: bool,
    pub require_billing_address: bool,
    pub allow_trial: bool,
    pub trial_interval: Option<String>,
    pub trial_interval_count: Option<i64>,
    pub trial_end: Option<DateTimeUtc>,
    pub customer_id: Option<Uuid>,
    pub external_customer_id: Option<String>,
    pub is_business_customer: bool,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub customer_ip_address: Option<String>,
    pub customer_billing_name: Option<String>,
    /// `Address` as JSON.
    pub customer_billing_address: Option<String>,
    /// `[value, format]` as JSON.
    pub customer_tax_id: Option<String>,
    pub locale: Option<String>,
    pub payment_method_type: Option<String>,
    pub payment_processor_metadata: String,
    pub payment_error: Option<String>,
    pub metadata: String,
    pub customer_metadata: String,
    pub custom_field_data: String,
    pub subscription_id: Option<Uuid>,
    pub checkout_link_id: Option<Uuid>,
    /// The times of recent client confirmations, as a JSON array (the rate limit).
    pub confirm_attempts: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub mod product {
    //! `checkout_products`: the products a checkout offers, in order.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "checkout_products")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub checkout_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub product_id: Uuid,
        pub position: i64,
        /// The prices made for this checkout only, as a JSON array of IDs.
        pub ad_hoc_price_ids: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
