//! Metrics (issue 18): the contract's 55 metrics (`catalog`, defined in docs/metrics.md)
//! for any range, interval, time zone and filters (`GET /v1/metrics/`, its CSV export and
//! limits), and the merchant's metric dashboards.
//!
//! A request is parsed (`params`) and cut into local periods (`periods`). Orders,
//! subscriptions and disputes come from their quarter-hour sums (`rollups`) when the
//! request has no product or customer filter, else from the rows (`inputs`), as do
//! checkouts, events and seats; every metric is then computed (`compute`).

pub mod catalog;
mod compute;
mod dashboards;
mod inputs;
mod laps;
mod params;
mod periods;
pub mod rollups;
mod routes;
mod sql;

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
