//! The `events` table: usage events, immutable once stored.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub timestamp: DateTimeUtc,
    pub ingested_at: DateTimeUtc,
    pub name: String,
    /// `user` or `system`.
    pub source: String,
    pub customer_id: Option<Uuid>,
    pub external_customer_id: Option<String>,
    pub member_id: Option<Uuid>,
    pub external_member_id: Option<String>,
    /// The client's dedupe key, unique per organization.
    pub external_id: Option<String>,
    /// The parent as the client named it (event ID or external ID) while it is unknown.
    pub parent_ref: Option<String>,
    pub parent_id: Option<Uuid>,
    /// A JSON object; `_cost` and `_llm` are structured.
    pub metadata: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The `event_types` table: one per event name of an organization, with its label.
pub mod event_type {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "event_types")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub created_at: DateTimeUtc,
        pub modified_at: Option<DateTimeUtc>,
        pub organization_id: Uuid,
        pub name: String,
        pub label: String,
        pub label_property_selector: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
