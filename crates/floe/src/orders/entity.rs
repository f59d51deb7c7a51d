//! The `orders` and `order_items` tables.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    /// `draft`, `pending`, `paid`, `refunded`, `partially_refunded` or `void`.
    pub status: String,
    pub subtotal_amount: i64,
    pub discount_amount: i64,
    pub net_amount: i64,
    pub tax_amount: i64,
    pub total_amount: i64,
    pub applied_balance_amount: i64,
    pub refunded_amount: i64,
    pub refunded_tax_amount: i64,
    pub platform_fee_amount: i64,
    pub currency: String,
    pub billing_reason: String,
    pub billing_name: Option<String>,
    /// `Address` as JSON.
    pub billing_address: Option<String>,
    pub invoice_sequence: Option<i64>,
    pub invoice_number: Option<String>,
    pub is_invoice_generated: bool,
    pub seats: Option<i64>,
    pub units: Option<i64>,
    pub customer_id: Uuid,
    pub product_id: Option<Uuid>,
    pub discount_id: Option<Uuid>,
    pub subscription_id: Option<Uuid>,
    pub checkout_id: Option<Uuid>,
    pub description: String,
    pub metadata: String,
    pub custom_field_data: String,
    pub next_payment_attempt_at: Option<DateTimeUtc>,
    pub paid_at: Option<DateTimeUtc>,
    pub grants_done_at: Option<DateTimeUtc>,
    /// The start of the billing period a subscription's order is for; unique with the
    /// subscription and the billing reason.
    pub billing_period_start: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// What is left to charge: the total less what the customer's balance paid
    /// (`applied_balance_amount` is that, negative).
    pub fn due_amount(&self) -> i64 {
        (self.total_amount + self.applied_balance_amount).max(0)
    }
}

pub mod item {
    //! `order_items`: what an order charges for, line by line.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "order_items")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub created_at: DateTimeUtc,
        pub modified_at: Option<DateTimeUtc>,
        pub order_id: Uuid,
        pub position: i64,
        pub label: String,
        pub amount: i64,
        pub tax_amount: i64,
        pub proration: bool,
        pub product_price_id: Option<Uuid>,
        pub start_timestamp: Option<DateTimeUtc>,
        pub end_timestamp: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
