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

use axum::Router;
use axum::routing::{get, patch, post};

use crate::app::AppState;

pub use outbox::emit;
pub use schema::EventType;
pub use worker::{DeliveryConfig, Nudge};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/webhooks/endpoints",
            get(routes::list_endpoints).post(routes::create_endpoint),
        )
        .route(
            "/v1/webhooks/endpoints/{id}",
            get(routes::get_endpoint)
                .patch(routes::update_endpoint)
                .delete(routes::delete_endpoint),
        )
        .route(
            "/v1/webhooks/endpoints/{id}/secret",
            patch(routes::reset_secret),
        )
        .route("/v1/webhooks/deliveries", get(routes::list_deliveries))
        .route(
            "/v1/webhooks/events/{id}/redeliver",
            post(routes::redeliver),
        )
}
