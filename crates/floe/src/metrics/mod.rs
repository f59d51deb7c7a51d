//! Metrics (issue 18): the contract's 55 metrics (`catalog`) and the merchant's metric
//! dashboards. The metrics themselves (`GET /v1/metrics/`, limits, export) are not routed
//! yet.

pub mod catalog;
mod dashboards;

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/metrics/dashboards", dashboards::list)
        .post("/v1/metrics/dashboards", dashboards::create)
        .get("/v1/metrics/dashboards/{id}", dashboards::get)
        .patch("/v1/metrics/dashboards/{id}", dashboards::update)
        .delete("/v1/metrics/dashboards/{id}", dashboards::delete)
}
