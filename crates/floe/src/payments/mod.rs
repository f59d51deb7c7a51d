//! Payment processors and what they report: every charge attempt (`payments`), the
//! payment methods customers saved, and the processors' events, recorded once. The
//! built-in test processor needs no account and speaks Stripe's test vocabulary
//! (`test_cards`), so a developer who knows Stripe knows floe.

pub mod accounts;
pub mod entity;
pub mod events;
mod present;
pub mod processor;
mod routes;
pub mod schema;
pub mod store;
pub mod stripe;
pub mod test_cards;

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/payments", routes::list)
        .get("/v1/payments/{id}", routes::get)
}
