//! Wallets (issue 17): what a customer has to its credit with the seller, per currency.
//!
//! A subscription order whose credits come to more than its charges (a downgrade prorated
//! mid-period) is settled at zero and the rest is booked on the customer's billing wallet;
//! the customer's next subscription order in that currency is paid from it first
//! (`applied_balance_amount`, leaving `due_amount` to charge). A voided order gives back
//! what it used. The balance is one number per customer and currency, read by the merchant
//! (`GET /v1/wallets/`, Polar's API beyond the 2026-10 contract) and by the customer in the
//! portal (owners and billing managers). As at Polar, orders from checkouts do not use it.
//! Decision: docs/decisions/0021-customer-portal.md.

mod entity;
pub mod ledger;
mod routes;
pub mod schema;
mod service;

use crate::http::routes::Routes;

/// The session's customer's wallets (the hosted portal page reads them as the API does).
pub async fn portal_list(
    app: &crate::app::AppState,
    session: &crate::customer_portal::auth::PortalSession,
    query: &crate::http::QueryParams,
) -> crate::http::ApiResult<crate::http::ListResource<schema::Wallet>> {
    let seen = service::Seen::Customer {
        organization_id: session.organization_id,
        customer_id: session.customer_id,
    };
    service::list(app, seen, query).await
}

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/wallets", routes::list)
        .get("/v1/wallets/{id}", routes::get)
        .get("/v1/customer-portal/wallets", routes::portal_list)
        .get("/v1/customer-portal/wallets/{id}", routes::portal_get)
}
