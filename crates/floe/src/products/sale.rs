//! What the sale (checkouts, orders) reads and writes of the catalog: products as shown,
//! prices by ID whatever their source, and prices made for one checkout only (`ad_hoc`),
//! checked by the same rules as a product's own.

use std::collections::HashMap;

use sea_orm::{DatabaseTransaction, DbErr};
use serde_json::value::RawValue;
use uuid::Uuid;

use super::literals::PriceLiterals;
use super::present;
use super::price_entity::Model as PriceRow;
use super::prices::{self, PriceInput};
use super::schema::{Price, Product};
use super::store;
use crate::db::Reads;
use crate::http::{Loc, Validator};
use crate::storage::ObjectStorage;

/// The products of `organization_id` among `ids` (archived ones included, deleted ones
/// not), as the API shows them, in the order of `ids`.
pub async fn read_many(
    db: Reads<'_>,
    storage: &dyn ObjectStorage,
    organization_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Product>, DbErr> {
    let rows = store::live_many(db, organization_id, ids).await?;
    let mut shown: HashMap<Uuid, Product> = present::products(db, storage, organization_id, &rows)
        .await?
        .into_iter()
        .map(|product| (product.base.id, product))
        .collect();
    Ok(ids.iter().filter_map(|id| shown.remove(id)).collect())
}

/// The products of `organization_id` among `ids`, deleted ones included (a subscription
/// keeps showing the product it was sold), as the API shows them, in any order.
pub async fn read_many_with_deleted(
    db: Reads<'_>,
    storage: &dyn ObjectStorage,
    organization_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Product>, DbErr> {
    let rows = store::many_with_deleted(db, organization_id, ids).await?;
    present::products(db, storage, organization_id, &rows).await
}

/// Prices of `organization_id` by ID, whatever their source, archived ones included.
pub async fn prices_by_ids(
    db: Reads<'_>,
    organization_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Price>, DbErr> {
    let rows = store::prices_by_ids(db, organization_id, ids).await?;
    let meters = present::meters_of(db, organization_id, &rows).await?;
    Ok(rows
        .iter()
        .filter_map(|row| present::price_of(row, &meters))
        .collect())
}

/// Checks a list of new prices for `product` given in a body at `loc` (`raw` is its text,
/// so decimal rates are read exactly), with the meters they name. The checked rows come
/// back without IDs; faults go to `validator`.
pub async fn check_ad_hoc(
    db: Reads<'_>,
    product: &Product,
    raw: &RawValue,
    default_currency: &str,
    loc: &Loc,
    validator: &mut Validator,
) -> Result<Vec<PriceRow>, DbErr> {
    let value: serde_json::Value = serde_json::from_str(raw.get()).unwrap_or_default();
    let literals = PriceLiterals::of_list(raw);
    let entries = prices::check(&value, &literals, false, loc, validator);
    let new: Vec<(usize, &PriceRow)> = entries
        .iter()
        .enumerate()
        .filter_map(|(index, entry)| match entry {
            PriceInput::New(row) => Some((index, row.as_ref())),
            PriceInput::Existing(_) => None,
        })
        .collect();
    if !product.base.is_recurring {
        for (index, row) in &new {
            if prices::needs_recurring(row) {
                validator.push(
                    loc.index(*index),
                    "value_error",
                    "Metered and unit-based pricing are not supported on one-time products.",
                    serde_json::Value::Null,
                );
            }
        }
    }
    if validator.is_empty() {
        prices::check_set(&new, default_currency, loc, validator);
    }
    let rows: Vec<PriceRow> = new.iter().map(|(_, row)| (*row).clone()).collect();
    let meters = present::meters_of(db, product.base.organization_id, &rows).await?;
    for (index, row) in &new {
        if let Some(meter_id) = row.meter_id
            && !meters.contains_key(&meter_id)
        {
            validator.push(
                loc.index(*index).key("meter_id"),
                "value_error",
                "Meter does not exist.",
                serde_json::json!(meter_id),
            );
        }
    }
    Ok(new.into_iter().map(|(_, row)| row.clone()).collect())
}

/// Writes prices checked by [`check_ad_hoc`] for `product`, as made for one checkout.
pub async fn insert_ad_hoc(
    txn: &DatabaseTransaction,
    product: &Product,
    rows: Vec<PriceRow>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Price>, DbErr> {
    let mut written = Vec::with_capacity(rows.len());
    for (position, mut row) in rows.into_iter().enumerate() {
        row.id = Uuid::new_v4();
        row.created_at = now;
        row.organization_id = product.base.organization_id;
        row.product_id = product.base.id;
        row.position = position as i64;
        row.source = "ad_hoc".to_owned();
        written.push(store::insert_price(txn, row).await?);
    }
    let meters = present::meters_of(txn.into(), product.base.organization_id, &written).await?;
    Ok(written
        .iter()
        .filter_map(|row| present::price_of(row, &meters))
        .collect())
}
