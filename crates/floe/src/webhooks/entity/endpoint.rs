//! The `webhook_endpoints` table.

use sea_orm::entity::prelude::*;

// `Deserialize` decodes rows read through `db::ReadConnection` on SQLite.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub deleted_at: Option<DateTimeUtc>,
    pub organization_id: Uuid,
    pub url: String,
    pub name: Option<String>,
    /// The API version of the payloads (`2026-04`, `2026-10`, …).
    pub api_version: String,
    /// `raw`, `discord` or `slack`.
    pub format: String,
    /// The `whsec_…` signing secret, sealed under the server secret (see `secret_box`).
    pub secret_sealed: String,
    /// The subscribed event types, a JSON array.
    pub events: String,
    pub enabled: bool,
    /// Events in a row that failed permanently; at the limit the endpoint is disabled.
    pub failure_streak: i32,
    /// When the head of this endpoint's queue is next due; `None` when the queue is empty.
    pub next_attempt_at: Option<DateTimeUtc>,
    /// Bumped whenever an event is queued, so a worker that saw an empty queue can tell
    /// whether one arrived meanwhile.
    pub queue_version: i64,
    /// Until when a worker holds this endpoint's queue; only the holder sends.
    pub lease_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
