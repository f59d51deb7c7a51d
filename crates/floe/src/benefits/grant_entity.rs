//! The `benefit_grants` table.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "benefit_grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    pub benefit_id: Uuid,
    pub customer_id: Uuid,
    pub member_id: Option<Uuid>,
    pub subscription_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    /// What the grant is for; unique with the benefit and the customer.
    pub scope_key: String,
    pub granted_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// What granting produced (a license key's ID, the files, …), as JSON.
    pub properties: String,
    /// Why the last attempt to grant failed (`BenefitGrantError`), as JSON.
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
