//! The customer portal (issue 17): what a merchant's customers do themselves, authenticated
//! by a customer session instead of an organization token.
//!
//! A merchant opens a session for one of its customers (`POST /v1/customer-sessions/`) and
//! hands the customer the `polar_cst_…` token or the `customer_portal_url`. Every portal
//! operation reads the session's customer from the token ([`auth::PortalSession`]) and keys
//! every query on that customer, so another customer's order, subscription or key does not
//! exist as far as the caller can tell (404). Sessions last an hour and are stored as their
//! HMAC, like access tokens. The plan and floe's differences from Polar are in
//! `docs/decisions/0021-customer-portal.md`.

pub mod auth;
mod customer;
mod organization;
mod page;
pub mod present;
mod routes;
pub mod sessions;
pub mod sign_in;

use crate::http::routes::Routes;

pub use sessions::{Holder as SessionHolder, OpenedSession, open as open_session};

pub use page::pages;

pub fn routes() -> Routes {
    Routes::new()
        .post("/v1/customer-sessions", routes::create_session)
        .get(
            "/v1/customer-portal/customer-session/introspect",
            routes::introspect,
        )
        .get("/v1/customer-portal/customer-session/user", routes::user)
        .post(
            "/v1/customer-portal/customer-session/request",
            sign_in::request,
        )
        .post(
            "/v1/customer-portal/customer-session/authenticate",
            sign_in::authenticate,
        )
        .get("/v1/customer-portal/customers/me", routes::get_customer)
        .patch("/v1/customer-portal/customers/me", routes::update_customer)
        .get(
            "/v1/customer-portal/customers/me/payment-methods",
            routes::list_payment_methods,
        )
        .post(
            "/v1/customer-portal/customers/me/payment-methods",
            routes::add_payment_method,
        )
        .post(
            "/v1/customer-portal/customers/me/payment-methods/confirm",
            routes::confirm_payment_method,
        )
        .delete(
            "/v1/customer-portal/customers/me/payment-methods/{id}",
            routes::delete_payment_method,
        )
        .post(
            "/v1/customer-portal/customers/me/email-update/request",
            routes::request_email_update,
        )
        .get(
            "/v1/customer-portal/customers/me/email-update/check",
            routes::check_email_update,
        )
        .post(
            "/v1/customer-portal/customers/me/email-update/verify",
            routes::verify_email_update,
        )
        .get(
            "/v1/customer-portal/organizations/{slug}",
            routes::organization,
        )
        .get("/v1/customer-portal/orders", routes::list_orders)
        .get("/v1/customer-portal/orders/{id}", routes::get_order)
        .patch("/v1/customer-portal/orders/{id}", routes::update_order)
        .post(
            "/v1/customer-portal/orders/{id}/invoice",
            routes::generate_invoice,
        )
        .get("/v1/customer-portal/orders/{id}/invoice", routes::invoice)
        .get("/v1/customer-portal/orders/{id}/receipt", routes::receipt)
        .get(
            "/v1/customer-portal/orders/{id}/payment-status",
            routes::payment_status,
        )
        .post(
            "/v1/customer-portal/orders/{id}/confirm-payment",
            routes::confirm_retry_payment,
        )
        .get(
            "/v1/customer-portal/subscriptions",
            routes::list_subscriptions,
        )
        .get(
            "/v1/customer-portal/subscriptions/{id}",
            routes::get_subscription,
        )
        .patch(
            "/v1/customer-portal/subscriptions/{id}",
            routes::update_subscription,
        )
        .delete(
            "/v1/customer-portal/subscriptions/{id}",
            routes::cancel_subscription,
        )
        .get(
            "/v1/customer-portal/license-keys",
            routes::list_license_keys,
        )
        .get(
            "/v1/customer-portal/license-keys/{id}",
            routes::get_license_key,
        )
        .post(
            "/v1/customer-portal/license-keys/validate",
            routes::validate_license_key,
        )
        .post(
            "/v1/customer-portal/license-keys/activate",
            routes::activate_license_key,
        )
        .post(
            "/v1/customer-portal/license-keys/deactivate",
            routes::deactivate_license_key,
        )
        .get("/v1/customer-portal/meters", routes::list_meters)
        .get("/v1/customer-portal/meters/{id}", routes::get_meter)
        .get("/v1/customer-portal/benefit-grants", routes::list_grants)
        .get("/v1/customer-portal/benefit-grants/{id}", routes::get_grant)
        .patch(
            "/v1/customer-portal/benefit-grants/{id}",
            routes::update_grant,
        )
        .get(
            "/v1/customer-portal/downloadables",
            routes::list_downloadables,
        )
        .get("/v1/customer-portal/seats", routes::list_seats)
        .post("/v1/customer-portal/seats", routes::assign_seat)
        .get(
            "/v1/customer-portal/seats/subscriptions",
            routes::claimed_subscriptions,
        )
        .delete("/v1/customer-portal/seats/{seat_id}", routes::revoke_seat)
        .post(
            "/v1/customer-portal/seats/{seat_id}/resend",
            routes::resend_seat,
        )
}
