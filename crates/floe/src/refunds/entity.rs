//! The `refunds` table.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "refunds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    pub order_id: Uuid,
    pub subscription_id: Option<Uuid>,
    pub customer_id: Uuid,
    /// The payment refunded (none for a refund a dispute stands for).
    pub payment_id: Option<Uuid>,
    /// `pending`, `succeeded`, `failed` or `canceled`.
    pub status: String,
    pub reason: String,
    /// What goes back before tax, and the tax that goes back with it.
    pub amount: i64,
    pub tax_amount: i64,
    pub currency: String,
    pub comment: Option<String>,
    pub metadata: String,
    pub revoke_benefits: bool,
    /// `test` or `stripe`: the processor that took the payment.
    pub processor: String,
    /// The processor's ID of the refund, once it answered.
    pub processor_id: Option<String>,
    pub failure_reason: Option<String>,
    pub dispute_id: Option<Uuid>,
    pub checked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// What goes back in all, tax included.
    pub fn total(&self) -> i64 {
        self.amount + self.tax_amount
    }
}
