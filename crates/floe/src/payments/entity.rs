//! The `payments` and `payment_methods` tables.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    /// Which processor took it (`test` or `stripe`).
    pub processor: String,
    /// The processor's ID of the charge.
    pub processor_id: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub amount: i64,
    pub currency: String,
    /// `card`, …
    pub method: String,
    /// `{"brand": …, "last4": …}` for cards, as JSON.
    pub method_metadata: String,
    pub trigger: Option<String>,
    pub decline_reason: Option<String>,
    pub decline_message: Option<String>,
    pub processor_metadata: String,
    pub checkout_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub payment_method_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub mod method {
    //! `payment_methods`: a customer's saved payment methods, for later charges.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "payment_methods")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub created_at: DateTimeUtc,
        pub modified_at: Option<DateTimeUtc>,
        pub organization_id: Uuid,
        pub customer_id: Uuid,
        pub processor: String,
        /// The processor's ID of the method (for the test processor, the test card's
        /// payment method, e.g. `pm_card_visa`, made unique per save).
        pub processor_id: String,
        #[sea_orm(column_name = "type")]
        #[serde(rename = "type")]
        pub kind: String,
        /// `{"brand", "last4", "exp_month", "exp_year"}` for cards, as JSON.
        pub method_metadata: String,
        pub deleted_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
