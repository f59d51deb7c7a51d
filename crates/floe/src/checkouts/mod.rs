//! Checkouts: a purchase in progress. The merchant creates one for some products; the
//! buyer, holding its client secret, fills it in and confirms it; the payment processor's
//! outcome makes the paid order. Totals come from `pricing::totals` alone.

pub mod confirm;
mod entity;
pub mod expiry;
mod links;
mod offer;
pub(crate) mod page;
mod present;
pub use present::checkout_product;
mod routes;
pub mod schema;
pub mod service;
mod store;
mod stripe_events;

use crate::app::AppState;
use crate::http::ApiResult;
use crate::http::routes::Routes;

pub use entity::Model as CheckoutRow;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/checkouts", routes::list)
        .post("/v1/checkouts", routes::create)
        .get("/v1/checkouts/{id}", routes::get)
        .patch("/v1/checkouts/{id}", routes::update)
        .get("/v1/checkouts/client/{client_secret}", routes::client_get)
        .patch(
            "/v1/checkouts/client/{client_secret}",
            routes::client_update,
        )
        .post(
            "/v1/checkouts/client/{client_secret}/confirm",
            routes::client_confirm,
        )
}

/// The buyer-facing routes that are not API operations: opening a checkout link, and the
/// hosted checkout page with its authentication step and confirmation.
pub fn pages() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route(
            "/v1/checkout-links/{client_secret}/redirect",
            get(links::redirect),
        )
        .route(
            "/checkout/{client_secret}",
            get(page::show).post(page::submit),
        )
        .route(
            "/checkout/{client_secret}/authenticate",
            get(page::authenticate_show).post(page::authenticate_submit),
        )
        .route(
            "/checkout/{client_secret}/confirmation",
            get(page::confirmation),
        )
        .route(
            "/v1/integrations/stripe/webhook/{organization_id}",
            axum::routing::post(stripe_events::receive),
        )
}

/// The checkout a client secret opens: 404 when there is none, 410 past its expiry.
pub async fn by_client_secret(app: &AppState, client_secret: &str) -> ApiResult<CheckoutRow> {
    let row = store::by_client_secret((&app.reader).into(), client_secret)
        .await?
        .ok_or_else(service::not_found)?;
    if row.expires_at <= app.clock.now() {
        return Err(confirm::expired());
    }
    Ok(row)
}

/// `row` as its buyer sees it.
pub async fn show_public(app: &AppState, row: &CheckoutRow) -> ApiResult<schema::CheckoutPublic> {
    let offers =
        offer::Offers::of_checkout((&app.reader).into(), app.storage.as_ref(), row).await?;
    show_public_offered(app, row, &offers).await
}

/// [`show_public`] with the checkout's `offers` already read.
pub async fn show_public_offered(
    app: &AppState,
    row: &CheckoutRow,
    offers: &offer::Offers,
) -> ApiResult<schema::CheckoutPublic> {
    let organization = crate::organizations::read(&app.db, row.organization_id)
        .await?
        .ok_or_else(service::not_found)?;
    Ok(present::public(
        &app.config.public_url,
        row,
        offers,
        &organization,
    ))
}
