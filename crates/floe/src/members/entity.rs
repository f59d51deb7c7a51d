//! The `members` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub deleted_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    pub email: String,
    /// The email in lower case, for uniqueness per customer.
    pub email_key: String,
    pub name: Option<String>,
    pub external_id: Option<String>,
    /// `owner`, `billing_manager` or `member`.
    pub role: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
