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

pub use redemption::{NotRedeemable, redeem, release, release_for_checkout};

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

/// The discounts of `organization_id` among `ids` as the records that name one show them
/// (`DiscountBase`: without their products), by ID.
pub async fn bases_by_id(
    db: crate::db::Reads<'_>,
    organization_id: uuid::Uuid,
    ids: &[uuid::Uuid],
) -> crate::http::ApiResult<std::collections::HashMap<uuid::Uuid, serde_json::Value>> {
    Ok(read_many(db, organization_id, ids)
        .await?
        .into_iter()
        .map(|discount| {
            let mut shown = serde_json::to_value(&discount).unwrap_or_default();
            if let Some(fields) = shown.as_object_mut() {
                fields.remove("products");
            }
            (discount.id, shown)
        })
        .collect())
}

/// How a checkout names a discount.
pub enum DiscountKey<'a> {
    Id(uuid::Uuid),
    /// A code as a buyer typed it (any case).
    Code(&'a str),
}

/// A live discount of `organization_id`, as the API shows it.
pub async fn find(
    db: crate::db::Reads<'_>,
    organization_id: uuid::Uuid,
    key: DiscountKey<'_>,
) -> crate::http::ApiResult<Option<schema::Discount>> {
    let row = match key {
        DiscountKey::Id(id) => store::get(db, organization_id, id).await?,
        DiscountKey::Code(code) => store::by_code(db, organization_id, code).await?,
    };
    let Some(row) = row else { return Ok(None) };
    Ok(
        service::present(db, organization_id, std::slice::from_ref(&row))
            .await?
            .pop(),
    )
}

/// Whether `discount` can be applied at `now` to `product_id` bought in `currency`: within
/// its window, with redemptions left, not limited to other products, and (a fixed one)
/// with an amount in that currency. Redeeming it later checks again, race-free.
pub fn applies(
    discount: &schema::Discount,
    product_id: uuid::Uuid,
    currency: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    let started = discount.starts_at.is_none_or(|at| at <= now);
    let not_ended = discount.ends_at.is_none_or(|at| at > now);
    let left = discount
        .max_redemptions
        .is_none_or(|max| discount.redemptions_count < max);
    let product =
        discount.products.is_empty() || discount.products.iter().any(|p| p.id == product_id);
    let currency = match discount.kind {
        schema::DiscountType::Percentage => true,
        schema::DiscountType::Fixed => discount
            .amounts
            .as_ref()
            .is_some_and(|amounts| amounts.contains_key(currency)),
    };
    started && not_ended && left && product && currency
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
