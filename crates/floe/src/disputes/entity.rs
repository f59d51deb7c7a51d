//! The `disputes` table.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "disputes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    pub order_id: Uuid,
    pub payment_id: Uuid,
    pub customer_id: Uuid,
    /// The contract's `DisputeStatus`.
    pub status: String,
    /// What is disputed before tax, and the tax with it.
    pub amount: i64,
    pub tax_amount: i64,
    pub currency: String,
    /// The card network's reason (`fraudulent`, `product_not_received`, …).
    pub reason: Option<String>,
    pub evidence_due_by: Option<DateTimeUtc>,
    pub past_due: bool,
    /// `test` or `stripe`, and that processor's ID of the dispute.
    pub processor: String,
    pub processor_id: String,
    /// When it was won, lost or prevented.
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
