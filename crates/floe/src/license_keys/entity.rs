//! The `license_keys` and `license_key_activations` tables.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "license_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    pub member_id: Option<Uuid>,
    pub benefit_id: Uuid,
    pub key: String,
    /// A `LicenseKeyStatus`.
    pub status: String,
    pub limit_activations: Option<i64>,
    pub usage: i64,
    pub limit_usage: Option<i64>,
    pub validations: i64,
    pub last_validated_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
    /// The start of the current rate-limit window, and the calls counted in it.
    pub rate_window_started_at: Option<DateTimeUtc>,
    pub rate_window_hits: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub mod activation {
    //! `license_key_activations`: the instances a key was activated on.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "license_key_activations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub created_at: DateTimeUtc,
        pub modified_at: Option<DateTimeUtc>,
        /// Set by a deactivation: the row stays, the seat is free again.
        pub deleted_at: Option<DateTimeUtc>,
        pub license_key_id: Uuid,
        pub label: String,
        /// What a validation naming this activation must present, as a JSON object.
        pub conditions: String,
        pub meta: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
