//! The rules of checkouts: what a merchant may create, what the merchant and the buyer may
//! change while a checkout is open, and the totals, always from `pricing::totals::compute`
//! over the offer as it stands. Each change is one transaction with its `checkout.*` event.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Months, Utc};
use sea_orm::DatabaseTransaction;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::entity::{Model, product};
use super::offer::{Offer, Offers, main_price};
use super::present::{self, Flags, active_trial};
use super::schema::{Checkout, CheckoutCreate, CheckoutPatch, CheckoutStatus};
use super::store;
use crate::address::{self, Address};
use crate::app::AppState;
use crate::customers::CustomerKey;
use crate::discounts::schema::Discount;
use crate::discounts::{DiscountKey, applies};
use crate::http::{ApiError, ApiResult, Loc, Validator};
use crate::pricing::totals::{self, DiscountTerms, Fault, Purchase};
use crate::products::schema::{Interval, PriceAmount, Product, ProductVisibility};
use crate::webhooks::EventType;

/// How long a checkout stays open.
pub const LIFETIME: Duration = Duration::hours(24);
/// The longest list of products one checkout offers.
const MAX_PRODUCTS: usize = 20;
const MAX_SEATS: i64 = 10_000;
const MAX_UNITS: i64 = i32::MAX as i64;
const MAX_URL_CHARS: usize = 2083;
const MAX_NAME_CHARS: usize = 256;

pub(super) fn not_found() -> ApiError {
    ApiError::ResourceNotFound("Checkout not found.".to_owned())
}

/// Who changes a checkout; each may change the fields of its schema only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// `checkouts:update` (`CheckoutUpdate`).
    Merchant,
    /// `checkouts:client_update` (`CheckoutUpdatePublic`).
    Buyer,
    /// `checkouts:client_confirm` (`CheckoutConfirmStripe`): the buyer's last change, with
    /// required custom fields checked.
    Confirm,
}

pub fn not_open(row: &Model) -> ApiError {
    ApiError::named(
        axum::http::StatusCode::FORBIDDEN,
        "NotOpenCheckout",
        format!("Checkout {} is not open: {}", row.id, row.status),
    )
}

fn check_url(url: &str, field: &str, validator: &mut Validator) -> Option<String> {
    let loc = Loc::body().key(field);
    let chars = url.chars().count();
    if chars == 0 || chars > MAX_URL_CHARS {
        validator.push(
            loc,
            "value_error",
            format!("URL should have 1 to {MAX_URL_CHARS} characters"),
            json!(url),
        );
        return None;
    }
    // `{CHECKOUT_ID}` is a placeholder, not part of a valid URL until replaced.
    let probe = url.replace("{CHECKOUT_ID}", "00000000-0000-0000-0000-000000000000");
    match url::Url::parse(&probe) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => {
            Some(url.to_owned())
        }
        _ => {
            validator.push(
                loc,
                "url_parsing",
                "Input should be a valid URL",
                json!(url),
            );
            None
        }
    }
}

fn check_text(value: &str, field: &str, max: usize, validator: &mut Validator) {
    if value.chars().count() > max {
        validator.push(
            Loc::body().key(field),
            "string_too_long",
            format!("String should have at most {max} characters"),
            json!(value),
        );
    }
}

fn check_email(email: &str, validator: &mut Validator) {
    if !crate::customers::service::is_email(email) {
        validator.push(
            Loc::body().key("customer_email"),
            "value_error",
            "value is not a valid email address",
            json!(email),
        );
    }
}

fn check_ip(ip: &str, validator: &mut Validator) {
    if ip.parse::<std::net::IpAddr>().is_err() {
        validator.push(
            Loc::body().key("customer_ip_address"),
            "ip_any_address",
            "value is not a valid IPv4 or IPv6 address",
            json!(ip),
        );
    }
}

fn check_quantity(value: Option<i64>, field: &str, max: i64, validator: &mut Validator) {
    if let Some(value) = value {
        crate::http::fields::within(value, 1, max, &Loc::body().key(field), validator);
    }
}

/// A tax ID, checked against the billing country; stored as `[value, format]`.
fn tax_id_text(raw: &str, address: Option<&Address>, validator: &mut Validator) -> Option<String> {
    let (value, format) = address::tax_id(
        raw,
        address.map(|a| a.country.as_str()),
        &Loc::body().key("customer_tax_id"),
        validator,
    )?;
    Some(address::tax_id_to_text(&value, format))
}

fn add_interval(at: DateTime<Utc>, interval: Interval, count: i64) -> Option<DateTime<Utc>> {
    let count = u32::try_from(count).ok()?;
    match interval {
        Interval::Day => at.checked_add_signed(Duration::days(count.into())),
        Interval::Week => at.checked_add_signed(Duration::weeks(count.into())),
        Interval::Month => at.checked_add_months(Months::new(count)),
        Interval::Year => at.checked_add_months(Months::new(count.checked_mul(12)?)),
    }
}

/// Prices `row` for its product, currency, quantities and discount as they stand, through
/// the one totals function; stores the totals and flags on the row. A quantity or amount
/// the prices refuse is a 422 at its field.
pub fn reprice(
    row: &mut Model,
    offer: &Offer<'_>,
    discount: Option<&Discount>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let product = row.product_id.and_then(|id| offer.product(id));
    let prices = row
        .product_id
        .map(|id| offer.prices_in(id, &row.currency))
        .unwrap_or_default();
    row.product_price_id = main_price(&prices).map(|price| price.id);
    let trial = active_trial(row, product);
    row.trial_end = trial.and_then(|(interval, count)| add_interval(now, interval, count));
    let purchase = Purchase {
        prices: &prices,
        recurring: product.is_some_and(|p| p.base.is_recurring),
        custom_amount: row.custom_amount,
        seats: row.seats.and_then(|s| u64::try_from(s).ok()),
        units: row.units.and_then(|u| u64::try_from(u).ok()),
        discount: discount.map(|d| DiscountTerms::of(d, &row.currency)),
        on_trial: row.trial_end.is_some(),
        tax_amount: Some(0),
    };
    let totals = totals::compute(&purchase).map_err(|fault| match fault {
        Fault::CustomAmount(msg) => ApiError::validation(
            Loc::body().key("amount"),
            "value_error",
            msg,
            json!(row.custom_amount),
        ),
        Fault::Seats(msg) => ApiError::validation(
            Loc::body().key("seats"),
            "value_error",
            msg,
            json!(row.seats),
        ),
        Fault::Units(msg) => ApiError::validation(
            Loc::body().key("units"),
            "value_error",
            msg,
            json!(row.units),
        ),
        Fault::Unpriceable => ApiError::validation(
            Loc::body().key("product_id"),
            "value_error",
            "This product's prices cannot be computed for this purchase.",
            json!(row.product_id),
        ),
    })?;
    row.amount = totals.amount;
    row.discount_amount = totals.discount_amount;
    row.net_amount = totals.net_amount;
    row.tax_amount = totals.tax_amount;
    row.total_amount = totals.total_amount;
    row.seats = totals.seats.and_then(|s| i64::try_from(s).ok());
    row.units = totals.units.and_then(|u| i64::try_from(u).ok());
    let flags = Flags {
        is_free_product_price: totals.is_free_product_price,
        is_discount_applicable: totals.is_discount_applicable,
        is_payment_required: totals.is_payment_required,
        is_payment_setup_required: totals.is_payment_setup_required,
        is_payment_form_required: totals.is_payment_form_required,
    };
    row.flags = json!(flags).to_string();
    Ok(())
}

fn has_amount_type(offer: &Offer<'_>, row: &Model, kind: &str) -> bool {
    row.product_id.is_some_and(|id| {
        offer.prices_in(id, &row.currency).iter().any(|price| {
            matches!(
                (&price.amount, kind),
                (PriceAmount::SeatBased { .. }, "seat")
                    | (PriceAmount::UnitBased { .. }, "unit")
                    | (PriceAmount::Custom { .. }, "custom")
            )
        })
    })
}

/// Seats and units only where a price counts them, and within the checkout's own bounds.
fn check_quantities(row: &Model, offer: &Offer<'_>, validator: &mut Validator) {
    let checks = [
        (
            "seats",
            "seat",
            row.seats,
            row.min_seats,
            row.max_seats,
            "Seats can only be set for seat-based pricing.",
        ),
        (
            "units",
            "unit",
            row.units,
            row.min_units,
            row.max_units,
            "Units can only be set for unit-based pricing.",
        ),
    ];
    for (field, kind, value, min, max, refused) in checks {
        let Some(value) = value else { continue };
        if !has_amount_type(offer, row, kind) {
            validator.push(Loc::body().key(field), "value_error", refused, json!(value));
            continue;
        }
        if min.is_some_and(|min| value < min) || max.is_some_and(|max| value > max) {
            validator.push(
                Loc::body().key(field),
                "value_error",
                format!(
                    "{field} must be between {} and {}.",
                    min.unwrap_or(1),
                    max.map_or_else(|| "any number".to_owned(), |m| m.to_string())
                ),
                json!(value),
            );
        }
    }
}

/// The discount named by `key`, if it applies to the checkout's product and currency now;
/// else a 422 at `field`.
async fn applicable_discount(
    db: crate::db::Reads<'_>,
    row: &Model,
    offer: &Offer<'_>,
    key: DiscountKey<'_>,
    field: &str,
    input: Value,
    now: DateTime<Utc>,
) -> ApiResult<Discount> {
    let refuse =
        |msg: &str| ApiError::validation(Loc::body().key(field), "value_error", msg, input.clone());
    let Some(product_id) = row.product_id else {
        return Err(refuse("Discount does not exist."));
    };
    let prices = offer.prices_in(product_id, &row.currency);
    if prices.iter().all(totals::is_free_price) {
        return Err(refuse("Discounts are not applicable to this product."));
    }
    match crate::discounts::find(db, row.organization_id, key).await? {
        Some(discount) if applies(&discount, product_id, &row.currency, now) => Ok(discount),
        _ => Err(refuse("Discount does not exist.")),
    }
}

/// The products of a new checkout: each a live product of the organization, neither
/// archived nor a draft.
fn check_products<'a>(
    ids: &[Uuid],
    found: &'a [Product],
    validator: &mut Validator,
) -> Vec<&'a Product> {
    let loc = Loc::body().key("products");
    if ids.is_empty() {
        validator.push(
            loc.clone(),
            "too_short",
            "List should have at least 1 item after validation, not 0",
            json!([]),
        );
    }
    crate::http::fields::unique_ids(ids, MAX_PRODUCTS, &loc, validator);
    let mut chosen = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        let fault = match found.iter().find(|p| p.base.id == *id) {
            None => "Product does not exist.",
            Some(p) if p.base.is_archived => "Product is archived.",
            Some(p) if p.base.visibility == ProductVisibility::Draft => "Product is a draft.",
            Some(p) => {
                chosen.push(p);
                continue;
            }
        };
        validator.push(loc.index(index), "value_error", fault, json!(id));
    }
    chosen
}

/// The currency of a new checkout: the one asked for, else the organization's default,
/// else any the first product is sold in; the product must be sold in it.
fn pick_currency(asked: Option<&str>, default: &str, offered: &[String]) -> Option<String> {
    if let Some(asked) = asked {
        return offered.iter().find(|c| c.as_str() == asked).cloned();
    }
    offered
        .iter()
        .find(|c| c.as_str() == default)
        .or_else(|| offered.first())
        .cloned()
}

/// Where a new checkout comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `checkouts:create`.
    Api,
    /// A checkout link opened by a buyer: its discount is dropped rather than refused when
    /// it no longer applies (the link outlives it).
    Link(Uuid),
}

pub async fn create(
    app: &AppState,
    organization_id: Uuid,
    body: CheckoutCreate,
    raw: &[u8],
    origin: Origin,
) -> ApiResult<Checkout> {
    let now = app.clock.now();
    let mut validator = Validator::new();
    let metadata = body.metadata.unwrap_or_default();
    crate::metadata::check(&metadata, &Loc::body().key("metadata"), &mut validator);
    let customer_metadata = body.customer_metadata.unwrap_or_default();
    crate::metadata::check(
        &customer_metadata,
        &Loc::body().key("customer_metadata"),
        &mut validator,
    );
    let success_url = body
        .success_url
        .as_deref()
        .and_then(|url| check_url(url, "success_url", &mut validator));
    let return_url = body
        .return_url
        .as_deref()
        .and_then(|url| check_url(url, "return_url", &mut validator));
    if let Some(email) = &body.customer_email {
        check_email(email, &mut validator);
    }
    if let Some(ip) = &body.customer_ip_address {
        check_ip(ip, &mut validator);
    }
    if let Some(name) = &body.customer_name {
        check_text(name, "customer_name", MAX_NAME_CHARS, &mut validator);
    }
    if let Some(amount) = body.amount
        && amount < 0
    {
        validator.push(
            Loc::body().key("amount"),
            "greater_than_equal",
            "Input should be greater than or equal to 0",
            json!(amount),
        );
    }
    for (field, value, max) in [
        ("seats", body.seats, MAX_SEATS),
        ("min_seats", body.min_seats, MAX_SEATS),
        ("max_seats", body.max_seats, MAX_SEATS),
        ("units", body.units, MAX_UNITS),
        ("min_units", body.min_units, MAX_UNITS),
        ("max_units", body.max_units, MAX_UNITS),
    ] {
        check_quantity(value, field, max, &mut validator);
    }
    if let (Some(min), Some(max)) = (body.min_seats, body.max_seats)
        && min > max
    {
        validator.push(
            Loc::body().key("max_seats"),
            "value_error",
            "max_seats must be at least min_seats.",
            json!(max),
        );
    }
    if let (Some(min), Some(max)) = (body.min_units, body.max_units)
        && min > max
    {
        validator.push(
            Loc::body().key("max_units"),
            "value_error",
            "max_units must be at least min_units.",
            json!(max),
        );
    }
    if body.trial_interval.is_some() != body.trial_interval_count.is_some() {
        validator.push(
            Loc::body(),
            "missing",
            "Both trial_interval and trial_interval_count must be set together.",
            Value::Null,
        );
    }
    if let Some(count) = body.trial_interval_count {
        crate::http::fields::within(
            count,
            1,
            1000,
            &Loc::body().key("trial_interval_count"),
            &mut validator,
        );
    }
    if let Some(currency) = &body.currency
        && !crate::money::is_presentment_currency(currency)
    {
        validator.push(
            Loc::body().key("currency"),
            "enum",
            "Input should be a supported presentment currency",
            json!(currency),
        );
    }
    if let Some(address) = &body.customer_billing_address {
        address.check(&Loc::body().key("customer_billing_address"), &mut validator);
    }
    let tax_id = body
        .customer_tax_id
        .as_deref()
        .and_then(|raw| tax_id_text(raw, body.customer_billing_address.as_ref(), &mut validator));
    validator.finish()?;

    let reader = (&app.reader).into();
    let found = crate::products::sale::read_many(
        reader,
        app.storage.as_ref(),
        organization_id,
        &body.products,
    )
    .await?;
    let mut validator = Validator::new();
    let products = check_products(&body.products, &found, &mut validator);
    validator.finish()?;
    let first = products[0];

    // Prices made for this checkout, per product named in it.
    let default_currency =
        crate::organizations::default_presentment_currency(&app.db, organization_id).await?;
    let raw_prices = ad_hoc_lists(raw);
    let mut ad_hoc = BTreeMap::new();
    let mut validator = Validator::new();
    for key in body
        .prices
        .as_ref()
        .map(|p| p.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        let loc = Loc::body().key("prices").key(&key);
        let product = Uuid::parse_str(&key)
            .ok()
            .and_then(|id| products.iter().copied().find(|p| p.base.id == id));
        let (Some(product), Some(raw)) = (product, raw_prices.get(&key)) else {
            validator.push(
                loc,
                "value_error",
                "Product is not set on that checkout.",
                json!(key),
            );
            continue;
        };
        let rows = crate::products::sale::check_ad_hoc(
            reader,
            product,
            raw,
            &default_currency,
            &loc,
            &mut validator,
        )
        .await?;
        ad_hoc.insert(product.base.id, rows);
    }
    validator.finish()?;

    let offered: Vec<String> = match ad_hoc.get(&first.base.id) {
        Some(rows) => {
            let mut currencies: Vec<String> =
                rows.iter().map(|r| r.price_currency.clone()).collect();
            currencies.sort_unstable();
            currencies.dedup();
            currencies
        }
        None => {
            let mut currencies: Vec<String> = first
                .prices
                .iter()
                .filter(|p| !p.is_archived)
                .map(|p| p.price_currency.clone())
                .collect();
            currencies.sort_unstable();
            currencies.dedup();
            currencies
        }
    };
    let Some(currency) = pick_currency(body.currency.as_deref(), &default_currency, &offered)
    else {
        return Err(ApiError::validation(
            Loc::body().key("products").index(0),
            "value_error",
            "Product is not available in the specified currency.",
            json!(first.base.id),
        ));
    };

    let txn = crate::db::begin_write(&app.db).await?;
    // The processor the organization uses now; the confirmation asks again (the operator
    // may switch meanwhile), the hosted page shows this one's card form.
    let processor = match crate::payments::accounts::of(&txn, &app.secret, organization_id).await? {
        crate::payments::accounts::Account::Stripe(_) => crate::payments::stripe::STRIPE,
        crate::payments::accounts::Account::Test => crate::payments::processor::TEST,
    };
    let customer = match (body.customer_id, &body.external_customer_id) {
        (Some(id), _) => {
            match crate::customers::purchase::find(&txn, organization_id, CustomerKey::Id(id))
                .await?
            {
                Some(customer) => Some(customer),
                None => {
                    return Err(ApiError::validation(
                        Loc::body().key("customer_id"),
                        "value_error",
                        "Customer does not exist.",
                        json!(id),
                    ));
                }
            }
        }
        (None, Some(external_id)) => {
            crate::customers::purchase::find(
                &txn,
                organization_id,
                CustomerKey::External(external_id.clone()),
            )
            .await?
        }
        (None, None) => None,
    };

    let id = Uuid::new_v4();
    let mut links = Vec::new();
    let mut ad_hoc_prices = Vec::new();
    for (position, product) in products.iter().enumerate() {
        let mut ids = Vec::new();
        if let Some(rows) = ad_hoc.remove(&product.base.id) {
            let written = crate::products::sale::insert_ad_hoc(&txn, product, rows, now).await?;
            ids = written.iter().map(|p| p.id).collect();
            ad_hoc_prices.extend(written);
        }
        links.push(product::Model {
            checkout_id: id,
            product_id: product.base.id,
            position: position as i64,
            ad_hoc_price_ids: json!(ids).to_string(),
        });
    }
    let prefill =
        |given: Option<String>, theirs: Option<&String>| given.or_else(|| theirs.cloned());
    let mut require_billing_address = body.require_billing_address.unwrap_or(false);
    if let Some(address) = &body.customer_billing_address
        && (address.line1.is_some() || address.city.is_some() || address.postal_code.is_some())
    {
        require_billing_address = true;
    }
    let mut row = Model {
        id,
        created_at: now,
        modified_at: None,
        organization_id,
        status: CheckoutStatus::Open.as_str().to_owned(),
        client_secret: crate::auth::token::generate("polar_c_").expose().to_owned(),
        processor: processor.to_owned(),
        expires_at: now + LIFETIME,
        success_url,
        return_url,
        embed_origin: body.embed_origin,
        currency,
        product_id: Some(first.base.id),
        product_price_id: None,
        custom_amount: body.amount,
        seats: body.seats,
        min_seats: body.min_seats,
        max_seats: body.max_seats,
        units: body.units,
        min_units: body.min_units,
        max_units: body.max_units,
        amount: 0,
        discount_amount: 0,
        net_amount: 0,
        tax_amount: None,
        total_amount: 0,
        flags: "{}".to_owned(),
        discount_id: None,
        allow_discount_codes: body.allow_discount_codes.unwrap_or(true),
        require_billing_address,
        allow_trial: body.allow_trial.unwrap_or(true),
        trial_interval: body.trial_interval.map(|i| i.as_str().to_owned()),
        trial_interval_count: body.trial_interval_count,
        trial_end: None,
        customer_id: customer.as_ref().map(|c| c.id),
        external_customer_id: body.external_customer_id.clone(),
        is_business_customer: body.is_business_customer.unwrap_or(false),
        customer_name: prefill(
            body.customer_name,
            customer.as_ref().and_then(|c| c.name.as_ref()),
        ),
        customer_email: prefill(
            body.customer_email,
            customer.as_ref().and_then(|c| c.email.as_ref()),
        ),
        customer_ip_address: body.customer_ip_address,
        customer_billing_name: prefill(
            body.customer_billing_name,
            customer.as_ref().and_then(|c| c.billing_name.as_ref()),
        ),
        customer_billing_address: body
            .customer_billing_address
            .map(|a| json!(a).to_string())
            .or_else(|| customer.as_ref().and_then(|c| c.billing_address.clone())),
        customer_tax_id: tax_id.or_else(|| customer.as_ref().and_then(|c| c.tax_id.clone())),
        locale: body
            .locale
            .or_else(|| customer.as_ref().and_then(|c| c.locale.clone())),
        payment_method_type: None,
        payment_processor_metadata: "{}".to_owned(),
        payment_error: None,
        metadata: crate::metadata::to_text(&metadata),
        customer_metadata: crate::metadata::to_text(&customer_metadata),
        custom_field_data: "{}".to_owned(),
        subscription_id: body.subscription_id,
        checkout_link_id: match origin {
            Origin::Link(id) => Some(id),
            Origin::Api => None,
        },
        confirm_attempts: "[]".to_owned(),
    };
    // A known customer's own external ID wins over one given beside it.
    if let Some(theirs) = customer.as_ref().and_then(|c| c.external_id.clone()) {
        row.external_customer_id = Some(theirs);
    }

    // The row goes in first (its products refer to it); it is written again once priced,
    // and a refusal below rolls both back.
    let mut row = store::insert(&txn, row).await?;
    for link in links {
        store::insert_product(&txn, link).await?;
    }
    let offers = Offers::of_checkout((&txn).into(), app.storage.as_ref(), &row).await?;
    let offer = offers.of(row.id);
    // Without a chosen quantity, the checkout's own minimum (else the price's) applies.
    if row.seats.is_none() && has_amount_type(&offer, &row, "seat") {
        row.seats = row.min_seats;
    }
    if row.units.is_none() && has_amount_type(&offer, &row, "unit") {
        row.units = row.min_units;
    }
    let mut validator = Validator::new();
    check_quantities(&row, &offer, &mut validator);
    if row.custom_amount.is_some() && !has_amount_type(&offer, &row, "custom") {
        // Like Polar: an amount is only read for pay-what-you-want prices.
        row.custom_amount = None;
    }
    let data = check_answers(
        &offer
            .product(first.base.id)
            .map(|p| p.attached_custom_fields.clone())
            .unwrap_or_default(),
        &body.custom_field_data.unwrap_or_default(),
        false,
        &Loc::body().key("custom_field_data"),
        &mut validator,
    );
    row.custom_field_data = Value::Object(data).to_string();
    validator.finish()?;
    let discount = match body.discount_id {
        Some(discount_id) => {
            let found = applicable_discount(
                (&txn).into(),
                &row,
                &offer,
                DiscountKey::Id(discount_id),
                "discount_id",
                json!(discount_id),
                now,
            )
            .await;
            match (found, origin) {
                (Ok(discount), _) => Some(discount),
                (Err(ApiError::Validation(_)), Origin::Link(_)) => None,
                (Err(error), _) => return Err(error),
            }
        }
        None => None,
    };
    row.discount_id = discount.as_ref().map(|d| d.id);
    reprice(&mut row, &offer, discount.as_ref(), now)?;
    let row = store::update(&txn, row).await?;
    // The offers read above still hold (pricing changed the row, not what it offers) but
    // for the discount, chosen since.
    let mut offers = offers;
    offers.refresh_discount((&txn).into(), &row).await?;
    let checkout = present::checkout(&app.config.public_url, &row, &offers);
    let queued = crate::webhooks::emit(
        &txn,
        organization_id,
        EventType::CheckoutCreated,
        &checkout,
        now,
    )
    .await?;
    app.nudge.commit(txn, queued).await?;
    Ok(checkout)
}

/// The buyer's answers to the product's custom fields, through the catalog's checker;
/// required fields are enforced only when `enforce_required` (at confirmation).
fn check_answers(
    attached: &[crate::products::schema::AttachedCustomField],
    submitted: &Map<String, Value>,
    enforce_required: bool,
    loc: &Loc,
    validator: &mut Validator,
) -> Map<String, Value> {
    let attached: Vec<crate::custom_fields::data::Attached<'_>> = attached
        .iter()
        .map(|field| crate::custom_fields::data::Attached {
            field: &field.custom_field,
            required: field.required && enforce_required,
        })
        .collect();
    crate::custom_fields::data::check(&attached, submitted, loc, validator)
}

/// The raw text of each product's list in the body's `prices`, by product key.
fn ad_hoc_lists(raw: &[u8]) -> BTreeMap<String, Box<serde_json::value::RawValue>> {
    type Members = BTreeMap<String, Box<serde_json::value::RawValue>>;
    serde_json::from_slice::<Members>(raw)
        .ok()
        .and_then(|mut members| members.remove("prices"))
        .and_then(|prices| serde_json::from_str::<Members>(prices.get()).ok())
        .unwrap_or_default()
}

/// Applies `patch` from `caller` to the open checkout `row` (locked in `txn`), reprices it
/// and checks what the caller may change. Returns the discount that now applies. `offers`
/// are the checkout's, read by the caller in `txn` (a patch chooses among the products a
/// checkout offers; it never changes which ones).
pub async fn apply_patch(
    app: &AppState,
    txn: &DatabaseTransaction,
    row: &mut Model,
    patch: CheckoutPatch,
    caller: Caller,
    offers: &Offers,
) -> ApiResult<Option<Discount>> {
    let now = app.clock.now();
    if row.status != CheckoutStatus::Open.as_str() {
        return Err(not_open(row));
    }
    let offer = offers.of(row.id);
    let mut validator = Validator::new();
    let merchant = caller == Caller::Merchant;

    // The product, among those the checkout offers, and the currency.
    if let Some(product_id) = patch.product_id {
        match offer.product(product_id) {
            Some(product) if !product.base.is_archived => row.product_id = Some(product_id),
            Some(_) => validator.push(
                Loc::body().key("product_id"),
                "value_error",
                "Product is archived.",
                json!(product_id),
            ),
            None => validator.push(
                Loc::body().key("product_id"),
                "value_error",
                "Product is not available in this checkout.",
                json!(product_id),
            ),
        }
    }
    if let Some(price_id) = patch.product_price_id {
        let found = row
            .product_id
            .and_then(|id| offer.prices.get(&id))
            .and_then(|prices| prices.iter().find(|p| p.id == price_id && !p.is_archived));
        match found {
            Some(price) => row.currency = price.price_currency.clone(),
            None => validator.push(
                Loc::body().key("product_price_id"),
                "value_error",
                "Price is not available in this checkout.",
                json!(price_id),
            ),
        }
    }
    if merchant && let Some(currency) = &patch.currency {
        let sold_in = row
            .product_id
            .map(|id| offer.currencies(id))
            .unwrap_or_default();
        if sold_in.contains(currency) {
            row.currency = currency.clone();
        } else {
            validator.push(
                Loc::body().key("currency"),
                "value_error",
                "Product is not available in the specified currency.",
                json!(currency),
            );
        }
    } else if patch.product_id.is_some() {
        // A new product keeps the currency when it is sold in it, else takes its first.
        let sold_in = row
            .product_id
            .map(|id| offer.currencies(id))
            .unwrap_or_default();
        if !sold_in.contains(&row.currency)
            && let Some(first) = sold_in.first()
        {
            row.currency = first.clone();
        }
    }
    validator.finish()?;
    let mut validator = Validator::new();

    if let Some(amount) = patch.amount {
        if amount < 0 {
            validator.push(
                Loc::body().key("amount"),
                "greater_than_equal",
                "Input should be greater than or equal to 0",
                json!(amount),
            );
        } else if has_amount_type(&offer, row, "custom") {
            row.custom_amount = Some(amount);
        }
    }
    check_quantity(patch.seats, "seats", MAX_SEATS, &mut validator);
    check_quantity(patch.units, "units", MAX_UNITS, &mut validator);
    if patch.seats.is_some() {
        row.seats = patch.seats;
    }
    if patch.units.is_some() {
        row.units = patch.units;
    }
    if !has_amount_type(&offer, row, "seat") && patch.seats.is_none() {
        row.seats = None;
    }
    if !has_amount_type(&offer, row, "unit") && patch.units.is_none() {
        row.units = None;
    }
    check_quantities(row, &offer, &mut validator);

    // The buyer's details.
    if let Some(business) = patch.is_business_customer {
        row.is_business_customer = business;
        if !business {
            row.customer_tax_id = None;
            row.customer_billing_name = None;
        }
    }
    if let Some(name) = patch.customer_name {
        if let Some(name) = &name {
            check_text(name, "customer_name", MAX_NAME_CHARS, &mut validator);
        }
        row.customer_name = name;
    }
    if let Some(email) = patch.customer_email
        && row.customer_id.is_none()
    {
        if let Some(email) = &email {
            check_email(email, &mut validator);
        }
        row.customer_email = email;
    }
    if let Some(billing_name) = patch.customer_billing_name {
        row.customer_billing_name = billing_name;
    }
    if let Some(address) = &patch.customer_billing_address {
        address.check(&Loc::body().key("customer_billing_address"), &mut validator);
        row.customer_billing_address = Some(json!(address).to_string());
    }
    match patch.customer_tax_id {
        Some(None) => row.customer_tax_id = None,
        Some(Some(raw)) => {
            let address = present::address_of(row.customer_billing_address.as_deref());
            row.customer_tax_id = tax_id_text(&raw, address.as_ref(), &mut validator);
        }
        None => {}
    }
    if let Some(locale) = patch.locale {
        row.locale = Some(locale);
    }
    if caller != Caller::Merchant
        && let Some(kind) = patch.payment_method_type
    {
        row.payment_method_type = Some(kind);
    }
    if let Some(allow_trial) = patch.allow_trial {
        // The buyer may only turn a trial off; the merchant either way.
        if merchant || !allow_trial {
            row.allow_trial = allow_trial;
        }
    }

    // The merchant's settings.
    if merchant {
        if patch.trial_interval.is_some() != patch.trial_interval_count.is_some() {
            if patch.trial_interval.is_some() || patch.trial_interval_count.is_some() {
                validator.push(
                    Loc::body(),
                    "missing",
                    "Both trial_interval and trial_interval_count must be set together.",
                    Value::Null,
                );
            }
        } else if let (Some(interval), Some(count)) =
            (patch.trial_interval, patch.trial_interval_count)
        {
            crate::http::fields::within(
                count,
                1,
                1000,
                &Loc::body().key("trial_interval_count"),
                &mut validator,
            );
            row.trial_interval = Some(interval.as_str().to_owned());
            row.trial_interval_count = Some(count);
        }
        if let Some(metadata) = &patch.metadata {
            crate::metadata::check(metadata, &Loc::body().key("metadata"), &mut validator);
            row.metadata = crate::metadata::to_text(metadata);
        }
        if let Some(metadata) = &patch.customer_metadata {
            crate::metadata::check(
                metadata,
                &Loc::body().key("customer_metadata"),
                &mut validator,
            );
            row.customer_metadata = crate::metadata::to_text(metadata);
        }
        if let Some(allow) = patch.allow_discount_codes {
            row.allow_discount_codes = allow;
        }
        if let Some(require) = patch.require_billing_address {
            row.require_billing_address = require;
        }
        if let Some(ip) = &patch.customer_ip_address {
            check_ip(ip, &mut validator);
            row.customer_ip_address = Some(ip.clone());
        }
        if let Some(url) = &patch.success_url {
            row.success_url = check_url(url, "success_url", &mut validator);
        }
        if let Some(url) = &patch.return_url {
            row.return_url = check_url(url, "return_url", &mut validator);
        }
        if let Some(origin) = patch.embed_origin {
            row.embed_origin = Some(origin);
        }
    }

    // Custom fields: a change merges answers; the confirmation checks them all.
    if let Some(product) = row.product_id.and_then(|id| offer.product(id))
        && (caller == Caller::Confirm || patch.custom_field_data.is_some())
    {
        let submitted = patch.custom_field_data.clone().unwrap_or_default();
        let mut merged: Map<String, Value> = if caller == Caller::Confirm {
            serde_json::from_str(&row.custom_field_data).unwrap_or_default()
        } else {
            Map::new()
        };
        merged.extend(submitted);
        let checked = check_answers(
            &product.attached_custom_fields,
            &merged,
            caller == Caller::Confirm,
            &Loc::body().key("custom_field_data"),
            &mut validator,
        );
        let mut kept: Map<String, Value> =
            serde_json::from_str(&row.custom_field_data).unwrap_or_default();
        kept.extend(checked);
        row.custom_field_data = Value::Object(kept).to_string();
    }
    validator.finish()?;

    // The discount: set by the merchant, or by code by the buyer when codes are allowed.
    let mut discount = offers.discount(row.discount_id).cloned();
    match (merchant, patch.discount_id, patch.discount_code) {
        (true, Some(Some(id)), _) => {
            discount = Some(
                applicable_discount(
                    txn.into(),
                    row,
                    &offer,
                    DiscountKey::Id(id),
                    "discount_id",
                    json!(id),
                    now,
                )
                .await?,
            );
        }
        (true, Some(None), _) => discount = None,
        (false, _, Some(Some(code))) if row.allow_discount_codes => {
            discount = Some(
                applicable_discount(
                    txn.into(),
                    row,
                    &offer,
                    DiscountKey::Code(&code),
                    "discount_code",
                    json!(code),
                    now,
                )
                .await?,
            );
        }
        (false, _, Some(None)) if row.allow_discount_codes => discount = None,
        _ => {}
    }
    // A discount that no longer applies (another product, another currency) falls away.
    if let (Some(d), Some(product_id)) = (&discount, row.product_id)
        && !applies(d, product_id, &row.currency, now)
    {
        discount = None;
    }
    row.discount_id = discount.as_ref().map(|d| d.id);
    reprice(row, &offer, discount.as_ref(), now)?;
    Ok(discount)
}

/// Shows `row` to the merchant (read in `txn`).
pub async fn show(app: &AppState, txn: &DatabaseTransaction, row: &Model) -> ApiResult<Checkout> {
    let offers = Offers::of_checkout(txn.into(), app.storage.as_ref(), row).await?;
    Ok(present::checkout(&app.config.public_url, row, &offers))
}

/// Writes a changed `row`, queues `checkout.updated` and commits.
pub async fn save(
    app: &AppState,
    txn: DatabaseTransaction,
    row: Model,
    queued: usize,
) -> ApiResult<(Model, Checkout)> {
    let mut offers = Offers::of_checkout((&txn).into(), app.storage.as_ref(), &row).await?;
    save_offered(app, txn, row, queued, &mut offers).await
}

/// [`save`] with the checkout's `offers` already read in `txn` (their discount is read
/// again, as the change may have chosen or redeemed one).
pub async fn save_offered(
    app: &AppState,
    txn: DatabaseTransaction,
    mut row: Model,
    queued: usize,
    offers: &mut Offers,
) -> ApiResult<(Model, Checkout)> {
    row.modified_at = Some(app.clock.now());
    let row = store::update(&txn, row).await?;
    offers.refresh_discount((&txn).into(), &row).await?;
    let checkout = present::checkout(&app.config.public_url, &row, offers);
    let queued = queued
        + crate::webhooks::emit(
            &txn,
            row.organization_id,
            EventType::CheckoutUpdated,
            &checkout,
            app.clock.now(),
        )
        .await?;
    app.nudge.commit(txn, queued).await?;
    Ok((row, checkout))
}

/// `checkouts:update`.
pub async fn update(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    patch: CheckoutPatch,
) -> ApiResult<Checkout> {
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = store::lock(&txn, id)
        .await?
        .filter(|row| row.organization_id == organization_id)
        .ok_or_else(not_found)?;
    expire_if_due(app, &mut row);
    let mut offers = Offers::of_checkout((&txn).into(), app.storage.as_ref(), &row).await?;
    apply_patch(app, &txn, &mut row, patch, Caller::Merchant, &offers).await?;
    Ok(save_offered(app, txn, row, 0, &mut offers).await?.1)
}

/// A buyer's change (`checkouts:client_update`, or the hosted page's form) to the checkout
/// `id`, applied and saved. Returns the saved row with what it offers.
pub async fn update_by_buyer(
    app: &AppState,
    id: Uuid,
    patch: CheckoutPatch,
) -> ApiResult<(Model, Offers)> {
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = store::lock(&txn, id).await?.ok_or_else(not_found)?;
    let mut offers = Offers::of_checkout((&txn).into(), app.storage.as_ref(), &row).await?;
    apply_patch(app, &txn, &mut row, patch, Caller::Buyer, &offers).await?;
    let (row, _) = save_offered(app, txn, row, 0, &mut offers).await?;
    Ok((row, offers))
}

/// Marks an open checkout past its expiry as expired in memory (the sweep writes it and
/// sends `checkout.expired`); changes to it are then refused.
pub fn expire_if_due(app: &AppState, row: &mut Model) {
    if row.status == CheckoutStatus::Open.as_str() && row.expires_at <= app.clock.now() {
        row.status = CheckoutStatus::Expired.as_str().to_owned();
    }
}
