//! Checkout links: a lasting URL to share that opens a checkout for some products, with
//! the settings the merchant fixed (a discount, a trial, seats, where the buyer goes after).

mod entity;
mod routes;
pub mod schema;
mod service;
mod store;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::http::routes::Routes;
use crate::products::schema::Interval;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/checkout-links", routes::list)
        .post("/v1/checkout-links", routes::create)
        .get("/v1/checkout-links/{id}", routes::get)
        .patch("/v1/checkout-links/{id}", routes::update)
        .delete("/v1/checkout-links/{id}", routes::delete)
}

/// A live link as the checkout it opens needs it. What it points at may have changed
/// since it was saved (a product deleted or archived, a discount expired): the checkout
/// decides what still applies.
#[derive(Clone, Debug)]
pub struct Link {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// The products offered, in the merchant's order.
    pub product_ids: Vec<Uuid>,
    pub discount_id: Option<Uuid>,
    pub label: Option<String>,
    pub success_url: Option<String>,
    pub return_url: Option<String>,
    pub allow_discount_codes: bool,
    pub require_billing_address: bool,
    pub seats: Option<i64>,
    pub units: Option<i64>,
    pub trial_interval: Option<Interval>,
    pub trial_interval_count: Option<i64>,
    pub metadata: Map<String, Value>,
}

/// The live link named by `client_secret` (the `polar_cl_…` in its URL), whatever its
/// organization. A malformed secret is answered without asking the database.
pub async fn by_client_secret(
    db: crate::db::Reads<'_>,
    client_secret: &str,
) -> Result<Option<Link>, sea_orm::DbErr> {
    if !crate::auth::token::is_well_formed(client_secret, service::SECRET_PREFIX) {
        return Ok(None);
    }
    Ok(store::by_client_secret(db, client_secret)
        .await?
        .map(|row| Link {
            id: row.id,
            organization_id: row.organization_id,
            product_ids: row.products(),
            discount_id: row.discount_id,
            label: row.label,
            success_url: row.success_url,
            return_url: row.return_url,
            allow_discount_codes: row.allow_discount_codes,
            require_billing_address: row.require_billing_address,
            seats: row.seats,
            units: row.units,
            trial_interval: row.trial_interval.as_deref().and_then(Interval::parse),
            trial_interval_count: row.trial_interval_count,
            metadata: crate::metadata::from_text(&row.metadata),
        }))
}
