//! The `webhook_deliveries` table: one row per attempt to send an event.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub succeeded: bool,
    pub http_code: Option<i32>,
    /// The response body, or what went wrong, cut at 2 KiB.
    pub response: Option<String>,
    pub duration_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
