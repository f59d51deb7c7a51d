//! Products as the API shows them. A page of products is read with its prices, benefits,
//! media files, custom fields and meters in a fixed number of queries, whatever its size.

use std::collections::HashMap;

use sea_orm::DbErr;
use uuid::Uuid;

use super::entity::Model;
use super::price_entity::Model as PriceRow;
use super::schema::{
    AttachedCustomField, Price, PriceAmount, PriceMeter, Product, ProductBase, SeatTier, SeatTiers,
    Tiers,
};
use super::store;
use crate::db::{Reads, unique};
use crate::storage::ObjectStorage;

/// `rows` (products of `organization_id`) as the API shows them, in the same order.
pub async fn products(
    db: Reads<'_>,
    storage: &dyn ObjectStorage,
    organization_id: Uuid,
    rows: &[Model],
) -> Result<Vec<Product>, DbErr> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let prices = store::prices(db, &ids, false).await?;
    let benefit_links = store::benefit_links(db, &ids).await?;
    let media_links = store::media_links(db, &ids).await?;
    let field_links = store::custom_field_links(db, &ids).await?;
    let in_use = crate::discounts::products_in_use(db, &ids).await?;

    let meters = meters_of(db, organization_id, &prices).await?;
    let benefit_ids = unique(benefit_links.iter().map(|link| link.benefit_id));
    let benefits: HashMap<Uuid, _> = crate::benefits::read_many(db, organization_id, &benefit_ids)
        .await?
        .into_iter()
        .map(|benefit| (benefit.id, benefit))
        .collect();
    let file_ids = unique(media_links.iter().map(|link| link.file_id));
    let files: HashMap<Uuid, _> = crate::files::read_many(db, storage, organization_id, &file_ids)
        .await?
        .into_iter()
        .map(|file| (file.base.id, file))
        .collect();
    let field_ids = unique(field_links.iter().map(|link| link.custom_field_id));
    let fields: HashMap<Uuid, _> = crate::custom_fields::read_many(db, organization_id, &field_ids)
        .await?
        .into_iter()
        .map(|field| (field.id, field))
        .collect();

    Ok(rows
        .iter()
        .map(|row| Product {
            base: ProductBase::from_row(row),
            is_deletable: !in_use.contains(&row.id),
            prices: prices
                .iter()
                .filter(|price| price.product_id == row.id)
                .filter_map(|price| price_of(price, &meters))
                .collect(),
            benefits: benefit_links
                .iter()
                .filter(|link| link.product_id == row.id)
                .filter_map(|link| benefits.get(&link.benefit_id).cloned())
                .collect(),
            medias: media_links
                .iter()
                .filter(|link| link.product_id == row.id)
                .filter_map(|link| files.get(&link.file_id).cloned())
                .collect(),
            attached_custom_fields: field_links
                .iter()
                .filter(|link| link.product_id == row.id)
                .filter_map(|link| {
                    Some(AttachedCustomField {
                        custom_field_id: link.custom_field_id,
                        custom_field: fields.get(&link.custom_field_id)?.clone(),
                        order: link.position,
                        required: link.required,
                    })
                })
                .collect(),
        })
        .collect())
}

/// The meters `prices` name, as prices show them.
pub async fn meters_of(
    db: Reads<'_>,
    organization_id: Uuid,
    prices: &[PriceRow],
) -> Result<HashMap<Uuid, PriceMeter>, DbErr> {
    let meter_ids = unique(prices.iter().filter_map(|price| price.meter_id));
    Ok(crate::meters::read_many(db, organization_id, &meter_ids)
        .await?
        .into_iter()
        .map(|meter| {
            let shown = PriceMeter {
                id: meter.id,
                name: meter.name,
                unit: meter.unit,
                custom_label: meter.custom_label,
                custom_multiplier: meter.custom_multiplier,
            };
            (shown.id, shown)
        })
        .collect())
}

/// A stored price as the API shows it; `None` for a row this build cannot read (a newer
/// floe's amount type, or a metered price whose meter is gone).
pub fn price_of(row: &PriceRow, meters: &HashMap<Uuid, PriceMeter>) -> Option<Price> {
    let tiers = || -> Option<Tiers> { serde_json::from_str(row.tiers.as_deref()?).ok() };
    let meter = || -> Option<(Uuid, PriceMeter)> {
        let id = row.meter_id?;
        Some((id, meters.get(&id)?.clone()))
    };
    let amount = match row.amount_type.as_str() {
        "fixed" => PriceAmount::Fixed {
            price_amount: row.price_amount?,
        },
        "custom" => PriceAmount::Custom {
            minimum_amount: row.minimum_amount?,
            maximum_amount: row.maximum_amount,
            preset_amount: row.preset_amount,
        },
        "seat_based" => {
            let tiers = tiers()?;
            PriceAmount::SeatBased {
                seat_tiers: seat_tiers(&tiers, row.minimum_units, row.maximum_units)?,
            }
        }
        "unit_based" => PriceAmount::UnitBased {
            tiers: tiers()?,
            minimum_units: row.minimum_units,
            unit_label: row
                .unit_label
                .as_deref()
                .and_then(|label| serde_json::from_str(label).ok()),
            maximum_units: row.maximum_units,
        },
        "metered_unit" => {
            let (meter_id, meter) = meter()?;
            PriceAmount::MeteredUnit {
                unit_amount: row.unit_amount.clone()?,
                cap_amount: row.cap_amount,
                meter_id,
                meter,
            }
        }
        "metered_tiers" => {
            let (meter_id, meter) = meter()?;
            PriceAmount::MeteredTiers {
                tiers: tiers()?,
                cap_amount: row.cap_amount,
                meter_id,
                meter,
            }
        }
        _ => return None,
    };
    Some(Price {
        created_at: row.created_at,
        modified_at: row.modified_at,
        id: row.id,
        source: if row.source == "ad_hoc" {
            "ad_hoc"
        } else {
            "catalog"
        },
        amount,
        price_currency: row.price_currency.clone(),
        tax_behavior: row.tax_behavior.clone(),
        is_archived: row.is_archived,
        product_id: row.product_id,
    })
}

/// Seat tiers from the shared tiers they are stored as: each range starts after the
/// previous bound (the first at the minimum) and ends at its bound.
fn seat_tiers(tiers: &Tiers, minimum: Option<i64>, maximum: Option<i64>) -> Option<SeatTiers> {
    let minimum_seats = minimum.unwrap_or(1);
    let mut start = minimum_seats;
    let mut shown = Vec::with_capacity(tiers.tiers.len());
    for tier in &tiers.tiers {
        shown.push(SeatTier {
            min_seats: start,
            max_seats: tier.bound,
            price_per_seat: tier.unit_amount.parse().ok()?,
        });
        start = tier.bound.map_or(start, |bound| bound + 1);
    }
    Some(SeatTiers {
        seat_tier_type: tiers.kind.clone(),
        tiers: shown,
        minimum_seats,
        maximum_seats: maximum,
    })
}
