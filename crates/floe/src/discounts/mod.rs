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

/// Whether `id` is a live discount of `organization_id`, one that may be named anew.
pub async fn exists(
    db: crate::db::Reads<'_>,
    organization_id: uuid::Uuid,
    id: uuid::Uuid,
) -> Result<bool, sea_orm::DbErr> {
    Ok(store::get(db, organization_id, id).await?.is_some())
}

/// Discounts of `organization_id` by ID, deleted ones included (records keep naming theirs),
/// as the API shows them.
pub async fn read_many(
    db: crate::db::Reads<'_>,
    organization_id: uuid::Uuid,
    ids: &[uuid::Uuid],
) -> crate::http::ApiResult<Vec<schema::Discount>> {
    let rows = store::by_ids_with_deleted(db, organization_id, ids).await?;
    service::present(db, organization_id, &rows).await
}
