//! The rules of products: names, intervals and trials, prices (checked by `prices`, the
//! meters they name), media files, custom fields and benefits of the same organization,
//! archiving, and the `product.*` webhooks queued in the change's transaction.

use std::collections::HashSet;

use sea_orm::DatabaseTransaction;
use serde_json::{Value, json};
use uuid::Uuid;

use super::entity::Model;
use super::literals::PriceLiterals;
use super::price_entity::Model as PriceRow;
use super::prices::{self, PriceInput};
use super::schema::{
    AttachedCustomFieldCreate, Interval, Product, ProductBenefitsUpdate, ProductCreate,
    ProductUpdate, ProductVisibility,
};
use super::{present, store};
use crate::app::AppState;
use crate::http::{ApiError, ApiResult, Loc, Validator};
use crate::webhooks::EventType;

const NAME_CHARS: (usize, usize) = (3, 64);
/// Longest list of media files, custom fields or benefits one product takes.
const MAX_ATTACHED: usize = 100;

pub(super) fn not_found() -> ApiError {
    ApiError::ResourceNotFound("Product not found.".to_owned())
}

/// The name, stripped of surrounding blanks, 3 to 64 characters.
fn check_name(name: &str, validator: &mut Validator) -> String {
    let name = name.trim();
    let length = name.chars().count();
    let (min, max) = NAME_CHARS;
    if length < min {
        validator.push(
            Loc::body().key("name"),
            "string_too_short",
            format!("String should have at least {min} characters"),
            json!(name),
        );
    } else if length > max {
        validator.push(
            Loc::body().key("name"),
            "string_too_long",
            format!("String should have at most {max} characters"),
            json!(name),
        );
    }
    name.to_owned()
}

fn check_count(name: &str, count: i64, max: i64, validator: &mut Validator) {
    crate::http::fields::within(count, 1, max, &Loc::body().key(name), validator);
}

/// A trial is an interval and a count, both or neither.
fn check_trial(
    interval: Option<Interval>,
    count: Option<i64>,
    validator: &mut Validator,
) -> (Option<Interval>, Option<i64>) {
    if let Some(count) = count {
        check_count("trial_interval_count", count, 1000, validator);
    }
    if interval.is_some() != count.is_some() {
        validator.push(
            Loc::body(),
            "missing",
            "Both trial_interval and trial_interval_count must be set together.",
            Value::Null,
        );
    }
    (interval, count)
}

/// Whether a meter cycle of `meter` × `m` re-aligns with every billing cycle of
/// `billing` × `n`: days and weeks divide days and weeks, months and years divide months
/// and years, and only a single day divides a month or a year.
fn meter_interval_divides(meter: Interval, m: i64, billing: Interval, n: i64) -> bool {
    use Interval::{Day, Month, Week, Year};
    match (meter, billing) {
        (Day, Day) | (Week, Week) | (Month, Month) | (Year, Year) => n % m == 0,
        (Day, Week) => (n * 7) % m == 0,
        (Month, Year) => (n * 12) % m == 0,
        (Day, Month) | (Day, Year) => m == 1,
        _ => false,
    }
}

/// Each of `ids` once, at most [`MAX_ATTACHED`]; faults at `name`'s entries.
fn check_unique(name: &str, ids: &[Uuid], validator: &mut Validator) {
    crate::http::fields::unique_ids(ids, MAX_ATTACHED, &Loc::body().key(name), validator);
}

/// Prices that need a recurring product, refused on a one-time one.
fn check_one_time(entries: &[(usize, &PriceRow)], validator: &mut Validator) {
    for (index, row) in entries {
        if prices::needs_recurring(row) {
            let kind = if row.amount_type == "unit_based" {
                "Unit-based"
            } else {
                "Metered"
            };
            validator.push(
                Loc::body().key("prices").index(*index),
                "value_error",
                format!("{kind} pricing is not supported on one-time products."),
                Value::Null,
            );
        }
    }
}

/// What the checks that need the database look at: meters of new prices, media files and
/// custom fields, all of `organization_id`.
async fn check_references(
    txn: &DatabaseTransaction,
    organization_id: Uuid,
    new_prices: &[(usize, &PriceRow)],
    medias: Option<&[Uuid]>,
    fields: Option<&[AttachedCustomFieldCreate]>,
    validator: &mut Validator,
) -> ApiResult<()> {
    let meter_ids: Vec<Uuid> = new_prices
        .iter()
        .filter_map(|(_, row)| row.meter_id)
        .collect();
    let meters: HashSet<Uuid> = crate::meters::read_many(txn.into(), organization_id, &meter_ids)
        .await?
        .into_iter()
        .map(|meter| meter.id)
        .collect();
    for (index, row) in new_prices {
        if let Some(meter_id) = row.meter_id
            && !meters.contains(&meter_id)
        {
            validator.push(
                Loc::body().key("prices").index(*index).key("meter_id"),
                "value_error",
                "Meter does not exist.",
                json!(meter_id),
            );
        }
    }
    if let Some(medias) = medias {
        let usable = crate::files::usable(txn, organization_id, "product_media", medias).await?;
        for (index, id) in medias.iter().enumerate() {
            if !usable.contains(id) {
                validator.push(
                    Loc::body().key("medias").index(index),
                    "value_error",
                    "File does not exist or is not yet uploaded.",
                    json!(id),
                );
            }
        }
    }
    if let Some(fields) = fields {
        let ids: Vec<Uuid> = fields.iter().map(|f| f.custom_field_id).collect();
        let found: HashSet<Uuid> =
            crate::custom_fields::read_many(txn.into(), organization_id, &ids)
                .await?
                .into_iter()
                .map(|field| field.id)
                .collect();
        for (index, id) in ids.iter().enumerate() {
            if !found.contains(id) {
                validator.push(
                    Loc::body().key("attached_custom_fields").index(index),
                    "value_error",
                    "Custom field does not exist.",
                    json!(id),
                );
            }
        }
    }
    Ok(())
}

/// The sort keys of `price_amount_type` and `price_amount`, from the first live fixed or
/// custom price.
fn sort_keys(row: &mut Model, prices: &[PriceRow]) {
    let first = prices
        .iter()
        .filter(|price| !price.is_archived)
        .find(|price| matches!(price.amount_type.as_str(), "fixed" | "custom"));
    (row.sort_price_type, row.sort_price_amount) = match first {
        Some(price) if price.amount_type == "custom" => (Some(1), price.minimum_amount),
        Some(price) => (Some(2), price.price_amount),
        None => (None, None),
    };
}

async fn show(app: &AppState, txn: &DatabaseTransaction, row: &Model) -> ApiResult<Product> {
    let mut shown = present::products(
        txn.into(),
        app.storage.as_ref(),
        row.organization_id,
        std::slice::from_ref(row),
    )
    .await?;
    shown.pop().ok_or_else(not_found)
}

/// Writes new prices of `product` after `first_position`, stamped now.
async fn insert_prices(
    app: &AppState,
    txn: &DatabaseTransaction,
    product: &Model,
    new: Vec<PriceRow>,
    first_position: i64,
) -> ApiResult<Vec<PriceRow>> {
    let mut written = Vec::with_capacity(new.len());
    for (offset, mut row) in new.into_iter().enumerate() {
        row.id = Uuid::new_v4();
        row.created_at = app.clock.now();
        row.organization_id = product.organization_id;
        row.product_id = product.id;
        row.position = first_position + offset as i64;
        written.push(store::insert_price(txn, row).await?);
    }
    Ok(written)
}

fn indexed_new(entries: &[PriceInput]) -> Vec<(usize, &PriceRow)> {
    entries
        .iter()
        .enumerate()
        .filter_map(|(index, entry)| match entry {
            PriceInput::New(row) => Some((index, row.as_ref())),
            PriceInput::Existing(_) => None,
        })
        .collect()
}

pub async fn create(
    app: &AppState,
    organization_id: Uuid,
    body: ProductCreate,
    literals: &PriceLiterals,
) -> ApiResult<Product> {
    let mut validator = Validator::new();
    validator.reject_organization_id(body.organization_id);
    let name = check_name(&body.name, &mut validator);
    let metadata = body.metadata.unwrap_or_default();
    crate::metadata::check(&metadata, &Loc::body().key("metadata"), &mut validator);
    let recurring = body.recurring_interval;
    if let Some(meter_interval) = body.meter_interval.filter(|_| recurring.is_some()) {
        // A separate meter cycle is a feature the operator turns on, as at Polar.
        let cycling = crate::organizations::read(&app.db, organization_id)
            .await?
            .is_some_and(|org| org.feature_settings.meter_cycling_enabled);
        if !cycling {
            validator.push(
                Loc::body().key("meter_interval"),
                "value_error",
                "Separate meter cycling is not enabled for this organization.",
                serde_json::json!(meter_interval),
            );
        }
    }
    let (mut interval_count, mut trial, mut meter) = (None, (None, None), (None, None));
    match recurring {
        Some(interval) => {
            let count = body.recurring_interval_count.unwrap_or(1);
            check_count("recurring_interval_count", count, 999, &mut validator);
            interval_count = Some(count);
            trial = check_trial(
                body.trial_interval,
                body.trial_interval_count,
                &mut validator,
            );
            if let Some(meter_interval) = body.meter_interval {
                let meter_count = body.meter_interval_count.unwrap_or(1);
                check_count("meter_interval_count", meter_count, 999, &mut validator);
                if !meter_interval_divides(meter_interval, meter_count, interval, count) {
                    validator.push(
                        Loc::body(),
                        "value_error",
                        "The meter interval must evenly divide the billing interval, so the meter cycle re-aligns with the billing cycle at every renewal.",
                        Value::Null,
                    );
                }
                meter = (Some(meter_interval), Some(meter_count));
            }
        }
        None => {
            if let Some(count) = body.recurring_interval_count {
                validator.push(
                    Loc::body().key("recurring_interval_count"),
                    "none_required",
                    "Input should be None",
                    json!(count),
                );
            }
        }
    }
    let prices_loc = Loc::body().key("prices");
    let entries = prices::check(&body.prices, literals, false, &prices_loc, &mut validator);
    let new = indexed_new(&entries);
    if recurring.is_none() {
        check_one_time(&new, &mut validator);
    }
    let medias = body.medias.unwrap_or_default();
    check_unique("medias", &medias, &mut validator);
    let fields = body.attached_custom_fields.unwrap_or_default();
    let field_ids: Vec<Uuid> = fields.iter().map(|f| f.custom_field_id).collect();
    check_unique("attached_custom_fields", &field_ids, &mut validator);
    if validator.is_empty() {
        let currency =
            crate::organizations::default_presentment_currency(&app.db, organization_id).await?;
        prices::check_set(&new, &currency, &prices_loc, &mut validator);
    }
    validator.finish()?;

    let txn = crate::db::begin_write(&app.db).await?;
    let mut validator = Validator::new();
    check_references(
        &txn,
        organization_id,
        &new,
        Some(&medias),
        Some(&fields),
        &mut validator,
    )
    .await?;
    validator.finish()?;

    let mut row = Model {
        id: Uuid::new_v4(),
        created_at: app.clock.now(),
        modified_at: None,
        deleted_at: None,
        organization_id,
        name,
        description: body.description.filter(|d| !d.is_empty()),
        visibility: body
            .visibility
            .unwrap_or(ProductVisibility::Public)
            .as_str()
            .to_owned(),
        recurring_interval: recurring.map(|i| i.as_str().to_owned()),
        recurring_interval_count: interval_count,
        trial_interval: trial.0.map(|i| i.as_str().to_owned()),
        trial_interval_count: trial.1,
        meter_interval: meter.0.map(|i| i.as_str().to_owned()),
        meter_interval_count: meter.1,
        is_archived: false,
        metadata: crate::metadata::to_text(&metadata),
        sort_price_type: None,
        sort_price_amount: None,
    };
    let new_rows: Vec<PriceRow> = new.into_iter().map(|(_, row)| row.clone()).collect();
    sort_keys(&mut row, &new_rows);
    let row = store::insert(&txn, row).await?;
    insert_prices(app, &txn, &row, new_rows, 0).await?;
    store::set_medias(&txn, row.id, &medias).await?;
    let fields: Vec<(Uuid, bool)> = fields
        .iter()
        .map(|f| (f.custom_field_id, f.required))
        .collect();
    store::set_custom_fields(&txn, row.id, &fields).await?;
    let product = show(app, &txn, &row).await?;
    let queued = crate::webhooks::emit(
        &txn,
        product.base.organization_id,
        EventType::ProductCreated,
        &product,
        app.clock.now(),
    )
    .await?;
    app.nudge.commit(txn, queued).await?;
    Ok(product)
}

/// Finishes a change: when the product as shown differs from `before`, stamps and writes
/// its row, queues `product.updated` and commits; otherwise commits nothing new.
async fn finish_update(
    app: &AppState,
    txn: DatabaseTransaction,
    mut row: Model,
    before: Product,
) -> ApiResult<Product> {
    let unchanged = |product: &Product| {
        let mut shown = serde_json::to_value(product).unwrap_or_default();
        let mut was = serde_json::to_value(&before).unwrap_or_default();
        shown["modified_at"] = Value::Null;
        was["modified_at"] = Value::Null;
        shown == was
    };
    // The row is written here, once, and only when what it shows changed (the product is
    // shown from `row` as it is in memory).
    let mut product = show(app, &txn, &row).await?;
    if unchanged(&product) {
        txn.commit().await?;
        return Ok(before);
    }
    row.modified_at = Some(app.clock.now());
    product.base.modified_at = row.modified_at;
    store::update(&txn, row).await?;
    let queued = crate::webhooks::emit(
        &txn,
        product.base.organization_id,
        EventType::ProductUpdated,
        &product,
        app.clock.now(),
    )
    .await?;
    app.nudge.commit(txn, queued).await?;
    Ok(product)
}

pub async fn update(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    patch: ProductUpdate,
    literals: &PriceLiterals,
) -> ApiResult<Product> {
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = store::get((&txn).into(), organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    let before = show(app, &txn, &row).await?;
    let recurring = row.recurring_interval.as_deref().and_then(Interval::parse);

    let mut validator = Validator::new();
    let name = match &patch.name {
        Some(Some(name)) => Some(check_name(name, &mut validator)),
        _ => None,
    };
    if let Some(Some(metadata)) = &patch.metadata {
        crate::metadata::check(metadata, &Loc::body().key("metadata"), &mut validator);
    }
    // The billing interval is fixed at creation.
    let asked_interval = patch.recurring_interval.flatten();
    let asked_count = patch.recurring_interval_count.flatten();
    if asked_interval.is_some_and(|asked| Some(asked) != recurring)
        || asked_count.is_some_and(|asked| Some(asked) != row.recurring_interval_count)
    {
        validator.push(
            Loc::body().key("recurring_interval"),
            "value_error",
            "Recurring interval cannot be changed.",
            json!(asked_interval.map(Interval::as_str)),
        );
    }
    let trial_given = patch.trial_interval.is_some() || patch.trial_interval_count.is_some();
    let trial = if trial_given {
        let asked = (
            patch.trial_interval.flatten(),
            patch.trial_interval_count.flatten(),
        );
        if recurring.is_none() && (asked.0.is_some() || asked.1.is_some()) {
            for name in ["trial_interval", "trial_interval_count"] {
                validator.push(
                    Loc::body().key(name),
                    "value_error",
                    "Trial configuration is only supported on recurring products.",
                    Value::Null,
                );
            }
        }
        Some(check_trial(asked.0, asked.1, &mut validator))
    } else {
        None
    };
    let prices_loc = Loc::body().key("prices");
    let entries = match &patch.prices {
        Some(Some(given)) => Some(prices::check(
            given,
            literals,
            true,
            &prices_loc,
            &mut validator,
        )),
        _ => None,
    };
    let medias = patch.medias.clone().flatten();
    if let Some(medias) = &medias {
        check_unique("medias", medias, &mut validator);
    }
    let fields = patch.attached_custom_fields.clone().flatten();
    if let Some(fields) = &fields {
        let ids: Vec<Uuid> = fields.iter().map(|f| f.custom_field_id).collect();
        check_unique("attached_custom_fields", &ids, &mut validator);
    }

    // The prices after the change: those kept (named by ID; each must be a live price of
    // this product) and the new ones.
    // Every price the product ever had (archived ones keep their positions).
    let all_prices = store::prices((&txn).into(), &[row.id], true).await?;
    let live: Vec<&PriceRow> = all_prices.iter().filter(|p| !p.is_archived).collect();
    let mut kept = Vec::new();
    if let Some(entries) = &entries {
        for (index, entry) in entries.iter().enumerate() {
            if let PriceInput::Existing(price_id) = entry {
                match live.iter().copied().find(|price| price.id == *price_id) {
                    Some(price)
                        if !kept
                            .iter()
                            .any(|(_, p): &(usize, &PriceRow)| p.id == *price_id) =>
                    {
                        kept.push((index, price))
                    }
                    Some(_) => validator.push(
                        prices_loc.index(index),
                        "value_error",
                        "Listed twice.",
                        json!(price_id),
                    ),
                    None => validator.push(
                        prices_loc.index(index),
                        "value_error",
                        "Price does not exist.",
                        json!(price_id),
                    ),
                }
            }
        }
    }
    let new = entries.as_deref().map(indexed_new).unwrap_or_default();
    if recurring.is_none() {
        check_one_time(&new, &mut validator);
    }
    if entries.is_some() && validator.is_empty() {
        let currency =
            crate::organizations::default_presentment_currency(&txn, organization_id).await?;
        let all: Vec<(usize, &PriceRow)> = kept.iter().chain(new.iter()).copied().collect();
        prices::check_set(&all, &currency, &prices_loc, &mut validator);
    }
    validator.finish()?;
    let mut validator = Validator::new();
    check_references(
        &txn,
        organization_id,
        &new,
        medias.as_deref(),
        fields.as_deref(),
        &mut validator,
    )
    .await?;
    validator.finish()?;

    if let Some(name) = name {
        row.name = name;
    }
    match patch.description {
        Some(Some(description)) if !description.is_empty() => row.description = Some(description),
        Some(_) => row.description = None,
        None => {}
    }
    if let Some(Some(visibility)) = patch.visibility {
        row.visibility = visibility.as_str().to_owned();
    }
    if let Some(Some(archived)) = patch.is_archived {
        row.is_archived = archived;
    }
    if let Some(Some(metadata)) = &patch.metadata {
        row.metadata = crate::metadata::to_text(metadata);
    }
    if let Some((interval, count)) = trial {
        row.trial_interval = interval.map(|i| i.as_str().to_owned());
        row.trial_interval_count = count;
    }
    if entries.is_some() {
        let kept_ids: HashSet<Uuid> = kept.iter().map(|(_, price)| price.id).collect();
        // A price no longer listed is archived, never deleted: orders and subscriptions
        // that used it keep reading it.
        for price in live.iter().filter(|price| !kept_ids.contains(&price.id)) {
            let mut archived = (*price).clone();
            archived.is_archived = true;
            archived.modified_at = Some(app.clock.now());
            store::update_price(&txn, archived).await?;
        }
        let next = all_prices.iter().map(|p| p.position + 1).max().unwrap_or(0);
        let new_rows: Vec<PriceRow> = new.iter().map(|(_, row)| (*row).clone()).collect();
        let written = insert_prices(app, &txn, &row, new_rows, next).await?;
        // The live prices now, in position order: those kept, then the new ones.
        let now_live: Vec<PriceRow> = live
            .iter()
            .filter(|price| kept_ids.contains(&price.id))
            .map(|price| (*price).clone())
            .chain(written)
            .collect();
        sort_keys(&mut row, &now_live);
    }
    if let Some(medias) = &medias {
        store::set_medias(&txn, row.id, medias).await?;
    }
    if let Some(fields) = &fields {
        let fields: Vec<(Uuid, bool)> = fields
            .iter()
            .map(|f| (f.custom_field_id, f.required))
            .collect();
        store::set_custom_fields(&txn, row.id, &fields).await?;
    }
    finish_update(app, txn, row, before).await
}

/// `POST /v1/products/{id}/benefits`: the product's benefits become `benefits`, in order.
pub async fn update_benefits(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    body: ProductBenefitsUpdate,
) -> ApiResult<Product> {
    let mut validator = Validator::new();
    check_unique("benefits", &body.benefits, &mut validator);
    validator.finish()?;
    let txn = crate::db::begin_write(&app.db).await?;
    let row = store::get((&txn).into(), organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    let before = show(app, &txn, &row).await?;
    let found: HashSet<Uuid> =
        crate::benefits::read_many((&txn).into(), organization_id, &body.benefits)
            .await?
            .into_iter()
            .map(|benefit| benefit.id)
            .collect();
    let mut validator = Validator::new();
    for (index, benefit_id) in body.benefits.iter().enumerate() {
        if !found.contains(benefit_id) {
            validator.push(
                Loc::body().key("benefits").index(index),
                "value_error",
                "Benefit does not exist.",
                json!(benefit_id),
            );
        }
    }
    validator.finish()?;
    store::set_benefits(&txn, row.id, &body.benefits).await?;
    finish_update(app, txn, row, before).await
}

/// Deletes a product nothing refers to; it stops being readable. A product a discount is
/// limited to can only be archived (so will one that orders, subscriptions and checkouts
/// use, with the checkout issue).
pub async fn delete(app: &AppState, organization_id: Uuid, id: Uuid) -> ApiResult<()> {
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = store::get((&txn).into(), organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    if !crate::discounts::products_in_use((&txn).into(), &[id])
        .await?
        .is_empty()
    {
        return Err(ApiError::Conflict {
            error: "ProductNotDeletable",
            detail: "The product is in use and cannot be deleted; archive it instead.".to_owned(),
        });
    }
    row.deleted_at = Some(app.clock.now());
    store::update(&txn, row).await?;
    txn.commit().await?;
    Ok(())
}
