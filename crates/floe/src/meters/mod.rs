//! Meters: what an organization measures from its usage events (a filter choosing events
//! and an aggregation over them).

mod entity;
pub mod evaluate;
pub mod filter;
pub mod quantities;
mod routes;
pub mod schema;
mod service;
mod store;

use axum::Router;
use axum::routing::get;

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/meters", get(routes::list).post(routes::create))
        .route("/v1/meters/{id}", get(routes::get).patch(routes::update))
        .route("/v1/meters/{id}/quantities", get(routes::quantities))
}
