//! Discounts: a percentage or fixed amounts per currency off a purchase, once, forever or
//! for some months, by code or through the API, within a window and up to a number of
//! redemptions; and the race-free redemption the checkout uses.

mod entity;
pub mod redemption;
mod routes;
pub mod schema;
mod service;
mod store;

use crate::http::routes::Routes;

pub use redemption::{NotRedeemable, redeem, release};

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/discounts", routes::list)
        .post("/v1/discounts", routes::create)
        .get("/v1/discounts/{id}", routes::get)
        .patch("/v1/discounts/{id}", routes::update)
        .delete("/v1/discounts/{id}", routes::delete)
}

/// Which of `product_ids` a live discount is limited to (they cannot be deleted).
pub async fn products_in_use(
    db: crate::db::Reads<'_>,
    product_ids: &[uuid::Uuid],
) -> Result<std::collections::HashSet<uuid::Uuid>, sea_orm::DbErr> {
    Ok(store::products_in_use(db, product_ids)
        .await?
        .into_iter()
        .collect())
}
