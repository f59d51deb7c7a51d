//! Refunds (issue 18): money given back on a paid order, in full or in part, through the
//! processor that took it (the test processor or Stripe), with `refund.created`,
//! `refund.updated`, `order.updated` and `order.refunded`. How a refund is made safe
//! against races and crashes: `service`. Decision: docs/decisions/0022-refunds-and-disputes.md.

mod entity;
mod routes;
pub mod schema;
mod service;
pub mod store;
pub mod stripe;
pub mod worker;

use crate::http::routes::Routes;

pub use entity::Model as RefundRow;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/refunds", routes::list)
        .post("/v1/refunds", routes::create)
}
