//! The `webhook_events` table: the outbox. A row is written in the same transaction as the
//! change it reports, one per subscribed endpoint, and is delivered at least once.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "webhook_events")]
pub struct Model {
    /// Also the `webhook-id` of every delivery of it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    pub endpoint_id: Uuid,
    /// Position in the endpoint's queue: events go out in this order.
    pub seq: i64,
    #[sea_orm(column_name = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    /// The endpoint's API version when the event was queued.
    pub api_version: String,
    /// The exact body sent (already in the endpoint's format).
    pub payload: Option<String>,
    /// `None` while pending or skipped.
    pub succeeded: Option<bool>,
    pub skipped: bool,
    pub last_http_code: Option<i32>,
    /// Attempts made since it was (re)queued.
    pub attempts: i32,
    /// When it is next due; `None` once it succeeded, failed for good or was skipped.
    pub next_attempt_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
