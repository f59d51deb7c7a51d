//! Disputes (issue 18): a charge the buyer's bank takes back, or is asked to, as the
//! processor reports it (the test processor's disputed cards, Stripe's `charge.dispute.*`
//! events). The merchant lists and reads them and may `accept` one that awaits a response,
//! which closes it as lost. A dispute that ends (won or lost, as at Polar) ends what the
//! order gave: its subscription is revoked now, or a one-time order's benefits are. While
//! a dispute stands, the order cannot be refunded (the money is the bank's to move). How:
//! `service`. Decision: docs/decisions/0022-refunds-and-disputes.md.

mod entity;
mod routes;
pub mod schema;
mod service;
mod store;
pub mod stripe;

use crate::http::routes::Routes;

pub use service::{Report, open_for_test_payment};
pub use store::blocks_refunds;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/disputes", routes::list)
        .get("/v1/disputes/{id}", routes::get)
        .post("/v1/disputes/{id}/accept", routes::accept)
}
