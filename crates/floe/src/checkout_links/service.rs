//! The rules of checkout links: products of the organization that are on sale, a discount
//! of the organization, web URLs to send the buyer to, a trial given whole, seats that every
//! product's seat-based price allows, and a secret that names the link in its URL.

use std::collections::HashMap;

use sea_orm::DatabaseTransaction;
use serde_json::{Value, json};
use uuid::Uuid;

use super::entity::Model;
use super::schema::{
    CheckoutLink, CheckoutLinkCreate, CheckoutLinkDiscount, CheckoutLinkProduct,
    CheckoutLinkUpdate, PaymentProcessor,
};
use super::store;
use crate::app::AppState;
use crate::db::Reads;
use crate::discounts::schema::Discount;
use crate::http::{ApiError, ApiResult, Loc, Validator};
use crate::products::schema::{Interval, PriceAmount, Product};

/// Prefix of a link's client secret.
pub const SECRET_PREFIX: &str = "polar_cl_";
const MAX_PRODUCTS: usize = 100;
const MAX_SEATS: i64 = 10_000;
/// As a checkout's.
const MAX_UNITS: i64 = i32::MAX as i64;
const MAX_TRIAL_COUNT: i64 = 1000;

pub(super) fn not_found() -> ApiError {
    ApiError::ResourceNotFound("Checkout link not found.".to_owned())
}

/// Where a buyer opens the link: floe's own redirect, which starts a checkout.
fn url_of(public_url: &str, client_secret: &str) -> String {
    format!(
        "{}/v1/checkout-links/{client_secret}/redirect",
        public_url.trim_end_matches('/')
    )
}

/// An `http` or `https` URL with a host, of at most 2,083 characters.
fn check_url(name: &str, url: &str, validator: &mut Validator) {
    crate::http::fields::http_url(url, &Loc::body().key(name), validator);
}

fn check_range(name: &str, value: Option<i64>, max: i64, validator: &mut Validator) {
    if let Some(value) = value {
        crate::http::fields::within(value, 1, max, &Loc::body().key(name), validator);
    }
}

/// A trial is an interval and a count, both or neither.
fn check_trial(interval: Option<Interval>, count: Option<i64>, validator: &mut Validator) {
    check_range("trial_interval_count", count, MAX_TRIAL_COUNT, validator);
    if interval.is_some() != count.is_some() {
        validator.push(
            Loc::body(),
            "missing",
            "Both trial_interval and trial_interval_count must be set together.",
            Value::Null,
        );
    }
}

/// At least one product, each once.
fn check_product_list(ids: &[Uuid], validator: &mut Validator) {
    let loc = Loc::body().key("products");
    if ids.is_empty() {
        validator.push(
            loc,
            "too_short",
            "List should have at least 1 item after validation, not 0",
            json!([]),
        );
        return;
    }
    crate::http::fields::unique_ids(ids, MAX_PRODUCTS, &loc, validator);
}

/// How the products were named: a list, or the deprecated single `product_id`.
#[derive(Clone, Copy)]
enum Named {
    List,
    Single,
}

impl Named {
    fn loc(self, index: usize) -> Loc {
        match self {
            Self::List => Loc::body().key("products").index(index),
            Self::Single => Loc::body().key("product_id"),
        }
    }
}

/// What a write changed, so checked against the database: what is left as it was is not
/// checked again (a product archived since, or a price changed since, does not block an
/// update of the label).
struct Changed {
    products: Option<Named>,
    seats: bool,
    units: bool,
    discount: bool,
}

/// What links show beside their rows, read for a whole page at once.
struct Related {
    products: HashMap<Uuid, Product>,
    discounts: HashMap<Uuid, Discount>,
}

async fn related(
    app: &AppState,
    db: Reads<'_>,
    organization_id: Uuid,
    rows: &[Model],
) -> ApiResult<Related> {
    let mut product_ids: Vec<Uuid> = rows.iter().flat_map(Model::products).collect();
    product_ids.sort_unstable();
    product_ids.dedup();
    let mut discount_ids: Vec<Uuid> = rows.iter().filter_map(|row| row.discount_id).collect();
    discount_ids.sort_unstable();
    discount_ids.dedup();
    let products =
        crate::products::sale::read_many(db, &*app.storage, organization_id, &product_ids)
            .await?
            .into_iter()
            .map(|product| (product.base.id, product))
            .collect();
    let discounts = crate::discounts::read_many(db, organization_id, &discount_ids)
        .await?
        .into_iter()
        .map(|discount| (discount.id, discount))
        .collect();
    Ok(Related {
        products,
        discounts,
    })
}

fn shown(app: &AppState, row: &Model, related: &Related) -> CheckoutLink {
    CheckoutLink {
        id: row.id,
        created_at: row.created_at,
        modified_at: row.modified_at,
        trial_interval: row.trial_interval.as_deref().and_then(Interval::parse),
        trial_interval_count: row.trial_interval_count,
        metadata: crate::metadata::from_text(&row.metadata),
        payment_processor: PaymentProcessor::Stripe,
        client_secret: row.client_secret.clone(),
        success_url: row.success_url.clone(),
        return_url: row.return_url.clone(),
        label: row.label.clone(),
        allow_discount_codes: row.allow_discount_codes,
        require_billing_address: row.require_billing_address,
        discount_id: row.discount_id,
        seats: row.seats,
        units: row.units,
        organization_id: row.organization_id,
        products: row
            .products()
            .iter()
            .filter_map(|id| related.products.get(id))
            .map(CheckoutLinkProduct::from)
            .collect(),
        discount: row
            .discount_id
            .and_then(|id| related.discounts.get(&id).cloned())
            .map(CheckoutLinkDiscount),
        url: url_of(&app.config.public_url, &row.client_secret),
    }
}

/// `rows` (links of `organization_id`) as the API shows them, in the same order, with
/// their products and discounts, in a fixed number of queries whatever their number.
pub async fn present(
    app: &AppState,
    db: Reads<'_>,
    organization_id: Uuid,
    rows: &[Model],
) -> ApiResult<Vec<CheckoutLink>> {
    let related = related(app, db, organization_id, rows).await?;
    Ok(rows.iter().map(|row| shown(app, row, &related)).collect())
}

/// Reads what `row` points at and checks what `changed` names: products of the
/// organization on sale, seats that every product allows, a discount of the organization.
async fn resolve(
    app: &AppState,
    txn: &DatabaseTransaction,
    row: &Model,
    changed: Changed,
) -> ApiResult<Related> {
    let related = related(
        app,
        txn.into(),
        row.organization_id,
        std::slice::from_ref(row),
    )
    .await?;
    let mut validator = Validator::new();
    let product_ids = row.products();
    if let Some(named) = changed.products {
        for (index, id) in product_ids.iter().enumerate() {
            let message = match related.products.get(id) {
                None => "Product not found.",
                Some(product) if product.base.is_archived => "Product is archived.",
                Some(_) => continue,
            };
            validator.push(named.loc(index), "value_error", message, json!(id));
        }
    }
    if let Some(seats) = row
        .seats
        .filter(|_| changed.seats || changed.products.is_some())
    {
        let allowed = product_ids
            .iter()
            .filter_map(|id| related.products.get(id))
            .all(|product| allows_seats(product, seats));
        if !allowed {
            validator.push(
                Loc::body().key("seats"),
                "value_error",
                format!("Every product must have a seat-based price that allows {seats} seats."),
                json!(seats),
            );
        }
    }
    if let Some(units) = row
        .units
        .filter(|_| changed.units || changed.products.is_some())
    {
        let allowed = product_ids
            .iter()
            .filter_map(|id| related.products.get(id))
            .all(|product| allows_units(product, units));
        if !allowed {
            validator.push(
                Loc::body().key("units"),
                "value_error",
                format!("Every product must have a unit-based price that allows {units} units."),
                json!(units),
            );
        }
    }
    let discount = row.discount_id.filter(|_| changed.discount);
    if let Some(id) = discount
        && !crate::discounts::exists(txn.into(), row.organization_id, id).await?
    {
        validator.push(
            Loc::body().key("discount_id"),
            "value_error",
            "Discount not found.",
            json!(id),
        );
    }
    validator.finish()?;
    Ok(related)
}

/// Whether one of the product's seat-based prices takes `seats`.
fn allows_seats(product: &Product, seats: i64) -> bool {
    product.prices.iter().any(|price| match &price.amount {
        PriceAmount::SeatBased { seat_tiers } => {
            seats >= seat_tiers.minimum_seats
                && seat_tiers.maximum_seats.is_none_or(|max| seats <= max)
        }
        _ => false,
    })
}

/// Whether one of the product's unit-based prices takes `units`.
fn allows_units(product: &Product, units: i64) -> bool {
    product.prices.iter().any(|price| match &price.amount {
        PriceAmount::UnitBased {
            minimum_units,
            maximum_units,
            ..
        } => units >= minimum_units.unwrap_or(1) && maximum_units.is_none_or(|max| units <= max),
        _ => false,
    })
}

pub async fn create(
    app: &AppState,
    organization_id: Uuid,
    body: CheckoutLinkCreate,
) -> ApiResult<CheckoutLink> {
    let mut validator = Validator::new();
    let (products, named) = match (body.products, body.product_id) {
        (Some(products), _) => {
            check_product_list(&products, &mut validator);
            (products, Named::List)
        }
        (None, Some(id)) => (vec![id], Named::Single),
        (None, None) => {
            match body.product_price_id {
                Some(id) => validator.push(
                    Loc::body().key("product_price_id"),
                    "value_error",
                    "Checkout links for one price are not supported; give `products`.",
                    json!(id),
                ),
                None => validator.push(
                    Loc::body().key("products"),
                    "missing",
                    "Field required",
                    Value::Null,
                ),
            }
            (Vec::new(), Named::List)
        }
    };
    let metadata = body.metadata.unwrap_or_default();
    crate::metadata::check(&metadata, &Loc::body().key("metadata"), &mut validator);
    for (name, url) in [
        ("success_url", &body.success_url),
        ("return_url", &body.return_url),
    ] {
        if let Some(url) = url {
            check_url(name, url, &mut validator);
        }
    }
    check_range("seats", body.seats, MAX_SEATS, &mut validator);
    check_range("units", body.units, MAX_UNITS, &mut validator);
    check_trial(
        body.trial_interval,
        body.trial_interval_count,
        &mut validator,
    );
    validator.finish()?;

    let secret = crate::auth::token::generate(SECRET_PREFIX);
    let row = Model {
        id: Uuid::new_v4(),
        created_at: app.clock.now(),
        modified_at: None,
        organization_id,
        client_secret: secret.expose().to_owned(),
        label: body.label,
        success_url: body.success_url,
        return_url: body.return_url,
        allow_discount_codes: body.allow_discount_codes,
        require_billing_address: body.require_billing_address,
        discount_id: body.discount_id,
        seats: body.seats,
        units: body.units,
        metadata: crate::metadata::to_text(&metadata),
        product_ids: json!(products).to_string(),
        deleted_at: None,
        trial_interval: body.trial_interval.map(|i| i.as_str().to_owned()),
        trial_interval_count: body.trial_interval_count,
    };
    let txn = crate::db::begin_write(&app.db).await?;
    let changed = Changed {
        products: Some(named),
        seats: true,
        units: true,
        discount: true,
    };
    let related = resolve(app, &txn, &row, changed).await?;
    let row = store::insert(&txn, row).await?;
    txn.commit().await?;
    Ok(shown(app, &row, &related))
}

pub async fn update(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    patch: CheckoutLinkUpdate,
) -> ApiResult<CheckoutLink> {
    let txn = crate::db::begin_write(&app.db).await?;
    let before = store::get((&txn).into(), organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    let mut row = before.clone();
    let mut validator = Validator::new();
    let products = patch.products.flatten();
    if let Some(products) = &products {
        check_product_list(products, &mut validator);
        row.product_ids = json!(products).to_string();
    }
    if let Some(label) = patch.label {
        row.label = label;
    }
    for (name, given, field) in [
        ("success_url", patch.success_url, &mut row.success_url),
        ("return_url", patch.return_url, &mut row.return_url),
    ] {
        if let Some(url) = given {
            if let Some(url) = &url {
                check_url(name, url, &mut validator);
            }
            *field = url;
        }
    }
    if let Some(Some(allow)) = patch.allow_discount_codes {
        row.allow_discount_codes = allow;
    }
    if let Some(Some(require)) = patch.require_billing_address {
        row.require_billing_address = require;
    }
    if let Some(discount_id) = patch.discount_id {
        row.discount_id = discount_id;
    }
    if let Some(seats) = patch.seats {
        check_range("seats", seats, MAX_SEATS, &mut validator);
        row.seats = seats;
    }
    if let Some(units) = patch.units {
        check_range("units", units, MAX_UNITS, &mut validator);
        row.units = units;
    }
    if patch.trial_interval.is_some() || patch.trial_interval_count.is_some() {
        if let Some(interval) = patch.trial_interval {
            row.trial_interval = interval.map(|i| i.as_str().to_owned());
        }
        if let Some(count) = patch.trial_interval_count {
            row.trial_interval_count = count;
        }
        let interval = row.trial_interval.as_deref().and_then(Interval::parse);
        check_trial(interval, row.trial_interval_count, &mut validator);
    }
    if let Some(Some(metadata)) = &patch.metadata {
        crate::metadata::check(metadata, &Loc::body().key("metadata"), &mut validator);
        row.metadata = crate::metadata::to_text(metadata);
    }
    validator.finish()?;

    let changed = Changed {
        products: products.is_some().then_some(Named::List),
        seats: patch.seats.is_some(),
        units: patch.units.is_some(),
        discount: row.discount_id != before.discount_id,
    };
    let related = resolve(app, &txn, &row, changed).await?;
    // Written and stamped only when something changed.
    if row != before {
        row.modified_at = Some(app.clock.now());
        row = store::update(&txn, row).await?;
    }
    txn.commit().await?;
    Ok(shown(app, &row, &related))
}

/// Deletes a link: it is no longer listed, readable or openable.
pub async fn delete(app: &AppState, organization_id: Uuid, id: Uuid) -> ApiResult<()> {
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = store::get((&txn).into(), organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    row.deleted_at = Some(app.clock.now());
    store::update(&txn, row).await?;
    Ok(txn.commit().await?)
}
