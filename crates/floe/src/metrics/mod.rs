//! Metrics (issue 18): the contract's 55 metrics (`catalog`, defined in docs/metrics.md)
//! for any range, interval, time zone and filters (`GET /v1/metrics/`, its CSV export and
//! limits), and the merchant's metric dashboards.
//!
//! A request is parsed (`params`), cut into local periods (`periods`), the facts of the
//! organization read (`inputs`), and every metric computed from them (`compute`).

pub mod catalog;
mod compute;
mod dashboards;
mod inputs;
mod params;
mod periods;
mod routes;

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/metrics", routes::get)
        .get("/v1/metrics/export", routes::export)
        .get("/v1/metrics/limits", routes::limits)
        .get("/v1/metrics/dashboards", dashboards::list)
        .post("/v1/metrics/dashboards", dashboards::create)
        .get("/v1/metrics/dashboards/{id}", dashboards::get)
        .patch("/v1/metrics/dashboards/{id}", dashboards::update)
        .delete("/v1/metrics/dashboards/{id}", dashboards::delete)
}
