//! Webhooks: endpoints an organization registers, the outbox of events queued in the same
//! transaction as the changes they report, and the worker that delivers them, signed the
//! Standard Webhooks way, in order, at least once.

pub mod entity;
pub mod format;
pub mod outbox;
mod routes;
pub mod schema;
pub mod secret_box;
mod service;
pub mod signature;
mod store;
pub mod url_guard;
pub mod worker;

use crate::http::routes::Routes;

pub use outbox::emit;
pub use schema::EventType;
pub use worker::{DeliveryConfig, Nudge};

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/webhooks/endpoints", routes::list_endpoints)
        .post("/v1/webhooks/endpoints", routes::create_endpoint)
        .get("/v1/webhooks/endpoints/{id}", routes::get_endpoint)
        .patch("/v1/webhooks/endpoints/{id}", routes::update_endpoint)
        .delete("/v1/webhooks/endpoints/{id}", routes::delete_endpoint)
        .patch("/v1/webhooks/endpoints/{id}/secret", routes::reset_secret)
        .get("/v1/webhooks/deliveries", routes::list_deliveries)
        .post("/v1/webhooks/events/{id}/redeliver", routes::redeliver)
}
