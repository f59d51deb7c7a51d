//! Usage events: ingestion in batches (deduplicated, all-or-nothing), the events list and
//! its filters, event names, and event types with their labels.

pub mod entity;
pub mod ingest;
mod routes;
pub mod schema;
mod store;
pub mod system;

use axum::Router;
use axum::routing::{get, patch, post};

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/events", get(routes::list))
        .route("/v1/events/names", get(routes::list_names))
        .route("/v1/events/ingest", post(routes::ingest))
        .route("/v1/events/{id}", get(routes::get))
        .route("/v1/event-types", get(routes::list_types))
        .route("/v1/event-types/{id}", patch(routes::update_type))
}

/// Events of `organization_id` with `from <= timestamp < to`, optionally only some
/// customers' (by ID or external ID) and with metadata values, for meter computations.
pub async fn in_range(
    db: &crate::db::ReadConnection,
    backend: sea_orm::DbBackend,
    organization_id: uuid::Uuid,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
    customers: Option<(Vec<uuid::Uuid>, Vec<String>)>,
    metadata: &[(String, Vec<String>)],
) -> Result<Vec<entity::Model>, sea_orm::DbErr> {
    store::in_range(db, backend, organization_id, from, to, customers, metadata).await
}

/// Every event of one customer (sent with its ID or its external ID), for customer meters.
pub async fn of_customer(
    db: &crate::db::ReadConnection,
    organization_id: uuid::Uuid,
    customer_id: uuid::Uuid,
    external_id: Option<&str>,
) -> Result<Vec<entity::Model>, sea_orm::DbErr> {
    store::of_customer(db, organization_id, customer_id, external_id).await
}
