//! The `customers` table.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub deleted_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    /// `individual` or `team`.
    #[sea_orm(column_name = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    pub email: Option<String>,
    /// The email lowercased: what uniqueness is decided on.
    pub email_key: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub billing_name: Option<String>,
    /// `Address` as JSON.
    pub billing_address: Option<String>,
    /// `[value, format]` as JSON.
    pub tax_id: Option<String>,
    pub locale: Option<String>,
    pub external_id: Option<String>,
    /// A JSON object; see `crate::metadata`.
    pub metadata: String,
    pub first_user_event_at: Option<DateTimeUtc>,
    /// The saved payment method later charges use (the one saved last, unless changed).
    pub default_payment_method_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
