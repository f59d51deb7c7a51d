//! Organizations: the tenants. Every other resource belongs to exactly one.

mod entity;
mod routes;
pub mod schema;
pub mod service;
pub mod store;

pub use entity::Model as OrganizationRow;

use axum::Router;
use axum::routing::get;

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/organizations", get(routes::list))
        .route(
            "/v1/organizations/{id}",
            get(routes::get).patch(routes::update),
        )
}
