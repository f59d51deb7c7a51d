//! Seats of seat-based subscriptions and orders (`customer-seats`, issue 16). The billing
//! customer assigns each seat to a person (by email, customer ID or external ID); the person
//! is invited by mail with a single-use token, valid for a day, and claims the seat (no
//! authentication: the token is the proof), which grants them the product's benefits under
//! the seat's own scope (`seat:{id}`) and opens a customer session. Revoking a seat, or the
//! end of its subscription, takes the benefits back. `customer_seat.assigned`, `.claimed`
//! and `.revoked` webhooks follow each step. As at Polar, the benefits of seats go to the
//! seat holders, not to the buyer for buying them; a buyer through floe's own checkout page
//! claims one seat at once (a merchant with its own success page assigns seats itself).
//!
//! floe's differences from Polar: the invitation token is stored as its HMAC (so a resend
//! issues a new token, with a new day); members (issue 17) are not modelled yet, so a seat
//! names a customer and `member_id`/`member` are always null; and the feature needs no
//! organization flag (floe sells seat-based products to every organization).

mod entity;
pub mod portal;
mod routes;
mod service;

use crate::http::routes::Routes;

pub use service::{
    Buyer, CustomerSeat, SeatsList, assigned, claim_for_buyer, revoke_all_of_subscription,
};

pub fn routes() -> Routes {
    Routes::new()
        .post("/v1/customer-seats", routes::assign)
        .get("/v1/customer-seats", routes::list)
        .delete("/v1/customer-seats/{seat_id}", routes::revoke)
        .post("/v1/customer-seats/{seat_id}/resend", routes::resend)
        .get(
            "/v1/customer-seats/claim/{invitation_token}",
            routes::claim_info,
        )
        .post("/v1/customer-seats/claim", routes::claim)
}
