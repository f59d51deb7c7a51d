//! Usage events: ingestion in batches (deduplicated, all-or-nothing), the events list and
//! its filters, event names, and event types with their labels.

pub mod entity;
pub mod ingest;
mod matching;
mod routes;
pub mod schema;
mod store;
pub mod system;

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/events", routes::list)
        .get("/v1/events/names", routes::list_names)
        .post("/v1/events/ingest", routes::ingest)
        .get("/v1/events/{id}", routes::get)
        .get("/v1/event-types", routes::list_types)
        .patch("/v1/event-types/{id}", routes::update_type)
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

/// One customer's events (sent with its ID or its external ID, user and system alike) with
/// `from <= timestamp < to`, for what a subscription's period used.
pub async fn of_customer_between(
    db: crate::db::Reads<'_>,
    organization_id: uuid::Uuid,
    customer_id: uuid::Uuid,
    external_id: Option<&str>,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<entity::Model>, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};
    let mut whose = Condition::any().add(entity::Column::CustomerId.eq(customer_id));
    if let Some(external_id) = external_id {
        whose = whose.add(entity::Column::ExternalCustomerId.eq(external_id));
    }
    db.all(
        entity::Entity::find()
            .filter(entity::Column::OrganizationId.eq(organization_id))
            .filter(whose)
            .filter(entity::Column::Timestamp.gte(from))
            .filter(entity::Column::Timestamp.lt(to))
            .order_by_asc(entity::Column::Timestamp)
            .order_by_asc(entity::Column::Id),
    )
    .await
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

/// The system events recorded for one customer (credits and resets), for customer meters.
pub async fn system_of_customer(
    db: &crate::db::ReadConnection,
    organization_id: uuid::Uuid,
    customer_id: uuid::Uuid,
) -> Result<Vec<entity::Model>, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    db.all(
        entity::Entity::find()
            .filter(entity::Column::OrganizationId.eq(organization_id))
            .filter(entity::Column::CustomerId.eq(customer_id))
            .filter(entity::Column::Source.eq("system")),
    )
    .await
}

/// A new event ID: a valid random (version 4) UUID whose first 48 bits are the current time
/// in milliseconds, so that new events land at the end of the primary-key index instead of on
/// a random page of it. Random UUIDs made every batch dirty about one index page per event
/// (docs/decisions/0008). The remaining 74 bits are random.
pub fn new_event_id() -> uuid::Uuid {
    let random = uuid::Uuid::new_v4().into_bytes();
    let millis = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    let mut bytes = random;
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    #[test]
    fn event_ids_are_v4_and_ordered_by_time() {
        let first = super::new_event_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = super::new_event_id();
        assert_eq!(first.get_version_num(), 4);
        assert_eq!(first.get_variant(), uuid::Variant::RFC4122);
        assert!(first.as_bytes()[..6] < second.as_bytes()[..6]);
    }
}
