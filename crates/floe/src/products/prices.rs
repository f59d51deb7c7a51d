//! Prices as a merchant sends them: each checked field by field under its `amount_type`
//! (`["body", "prices", 0, "fixed", "price_amount"]`), amounts against the currency's
//! minimum and maximum, and the set as a whole against the rules of how prices combine
//! (per currency, the same structure in every currency, the organization's default
//! currency present). What prices point at (a meter) is checked by the service.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::literals::{PriceLiterals, RateLiterals};
use super::price_entity::Model as PriceRow;
use super::schema::Tiers;
use crate::http::fields::{integer, object, present, required, uuid};
use crate::http::{Loc, Validator};
use crate::money::{self, RateFault};

/// At most this many prices per product, and tiers per price.
pub const MAX_PRICES: usize = 500;
pub const MAX_TIERS: usize = 100;

const AMOUNT_TYPES: [&str; 6] = [
    "fixed",
    "custom",
    "seat_based",
    "unit_based",
    "metered_unit",
    "metered_tiers",
];
const TAX_BEHAVIORS: [&str; 3] = ["location", "inclusive", "exclusive"];
const TIER_TYPES: [&str; 2] = ["volume", "graduated"];
/// `unit_amount` of a metered unit price: 17 digits, 12 of them decimal places.
const RATE_PLACES: u32 = 12;
const RATE_WHOLE_DIGITS: u32 = 5;
/// Tier rates: 12 decimal places, and no more whole digits than an amount column holds
/// with them.
const TIER_WHOLE_DIGITS: u32 = 16;
const UNIT_LABEL_CHARS: usize = 32;
const INT32_MAX: i64 = i32::MAX as i64;

/// An entry of a product's price list.
#[derive(Debug)]
pub enum PriceInput {
    /// `{"id": …}`: an existing price of the product, kept.
    Existing(Uuid),
    /// A new price: its columns, without the product, position or timestamps.
    New(Box<PriceRow>),
}

/// Checks `prices` (the body's list) at `loc`; `allow_existing` accepts `{"id": …}`
/// entries (updates). Prices with a fault are left out of the result; the faults are in
/// `validator`.
pub fn check(
    prices: &Value,
    literals: &PriceLiterals,
    allow_existing: bool,
    loc: &Loc,
    validator: &mut Validator,
) -> Vec<PriceInput> {
    let Some(items) = prices.as_array() else {
        validator.push(
            loc.clone(),
            "list_type",
            "Input should be a valid list",
            prices.clone(),
        );
        return Vec::new();
    };
    if items.len() > MAX_PRICES {
        validator.push(
            loc.clone(),
            "too_long",
            format!(
                "List should have at most {MAX_PRICES} items after validation, not {}",
                items.len()
            ),
            Value::Null,
        );
        return Vec::new();
    }
    let mut checked = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let item_loc = loc.index(index);
        let Some(given) = item.as_object() else {
            validator.push(
                item_loc,
                "model_attributes_type",
                "Input should be a valid dictionary or object",
                item.clone(),
            );
            continue;
        };
        if allow_existing
            && let Some(id) = given
                .get("id")
                .and_then(Value::as_str)
                .and_then(crate::http::extract::parse_uuid)
        {
            checked.push(PriceInput::Existing(id));
            continue;
        }
        let literals = literals.price(index);
        if let Some(row) = check_new(given, literals, &item_loc, validator) {
            checked.push(PriceInput::New(Box::new(row)));
        }
    }
    checked
}

fn check_new(
    given: &Map<String, Value>,
    literals: Option<&RateLiterals>,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<PriceRow> {
    let amount_type = match given.get("amount_type") {
        None | Some(Value::Null) => {
            validator.push(
                loc.clone(),
                "union_tag_not_found",
                "Unable to extract tag using discriminator 'amount_type'",
                Value::Object(given.clone()),
            );
            return None;
        }
        // `free` was a type of its own: it is a fixed price of 0 now, as Polar reads it.
        Some(Value::String(kind)) if kind == "free" => "fixed",
        Some(Value::String(kind)) if AMOUNT_TYPES.contains(&kind.as_str()) => {
            AMOUNT_TYPES.iter().find(|t| **t == kind).copied()?
        }
        Some(other) => {
            validator.push(
                loc.key("amount_type"),
                "union_tag_invalid",
                format!(
                    "Input tag {other} found using 'amount_type' does not match any of the expected tags: 'fixed', 'custom', 'seat_based', 'unit_based', 'metered_unit', 'metered_tiers'"
                ),
                other.clone(),
            );
            return None;
        }
    };
    let free = given.get("amount_type").and_then(Value::as_str) == Some("free");
    let loc = loc.key(amount_type);
    let before = validator.len();
    let currency = currency(given, &loc, validator);
    let tax_behavior = tax_behavior(given, &loc, validator);
    let mut row = PriceRow {
        id: Uuid::nil(),
        created_at: chrono::DateTime::UNIX_EPOCH,
        modified_at: None,
        organization_id: Uuid::nil(),
        product_id: Uuid::nil(),
        position: 0,
        source: "catalog".to_owned(),
        amount_type: amount_type.to_owned(),
        price_currency: currency.clone().unwrap_or_default(),
        tax_behavior,
        is_archived: false,
        price_amount: None,
        minimum_amount: None,
        maximum_amount: None,
        preset_amount: None,
        tiers: None,
        minimum_units: None,
        maximum_units: None,
        unit_label: None,
        meter_id: None,
        unit_amount: None,
        cap_amount: None,
    };
    let amount = |name: &str, allow_zero: bool, validator: &mut Validator| {
        amount(
            given,
            name,
            currency.as_deref(),
            allow_zero,
            &loc,
            validator,
        )
    };
    match amount_type {
        "fixed" if free => row.price_amount = Some(0),
        "fixed" => {
            required(given, "price_amount", &loc, validator);
            row.price_amount = amount("price_amount", true, validator);
        }
        "custom" => {
            let minimum = match present(given, "minimum_amount") {
                Some(_) => amount("minimum_amount", true, validator),
                None => currency.as_deref().map(money::minimum_amount),
            };
            let maximum = amount("maximum_amount", false, validator);
            let preset = amount("preset_amount", true, validator);
            if let (Some(minimum), Some(maximum)) = (minimum, maximum)
                && maximum < minimum
            {
                validator.push(
                    loc.key("maximum_amount"),
                    "value_error",
                    "The maximum amount must be at least the minimum amount.",
                    json!(maximum),
                );
            }
            if let (Some(preset), Some(minimum)) = (preset, minimum)
                && (preset < minimum || maximum.is_some_and(|maximum| preset > maximum))
            {
                validator.push(
                    loc.key("preset_amount"),
                    "value_error",
                    "The preset amount must lie between the minimum and maximum amounts.",
                    json!(preset),
                );
            }
            row.minimum_amount = minimum;
            row.maximum_amount = maximum;
            row.preset_amount = preset;
        }
        "seat_based" => {
            if let Some((tiers, minimum, maximum)) =
                seat_tiers(given, currency.as_deref(), &loc, validator)
            {
                row.tiers = Some(tiers_text(&tiers));
                row.minimum_units = Some(minimum);
                row.maximum_units = maximum;
            }
        }
        "unit_based" => {
            let minimum_units = integer(given, "minimum_units", 1, i64::MAX, &loc, validator);
            let label = unit_label(given, &loc, validator);
            if let Some(tiers) = tiers(given, literals, true, &loc, validator) {
                let last_bound = tiers.tiers.last().and_then(|t| t.bound);
                if let (Some(minimum), Some(bound)) = (minimum_units, last_bound)
                    && minimum > bound
                {
                    validator.push(
                        loc.key("minimum_units"),
                        "value_error",
                        format!("minimum_units must not exceed the last tier's bound, got {minimum} > {bound}"),
                        json!(minimum),
                    );
                }
                row.maximum_units = last_bound;
                row.tiers = Some(tiers_text(&tiers));
            }
            row.minimum_units = minimum_units;
            row.unit_label = label.map(|label| Value::Object(label).to_string());
        }
        "metered_unit" | "metered_tiers" => {
            row.meter_id = meter_id(given, &loc, validator);
            row.cap_amount = integer(given, "cap_amount", 0, INT32_MAX, &loc, validator);
            if amount_type == "metered_unit" {
                row.unit_amount = unit_amount(given, literals, &loc, validator);
            } else if let Some(tiers) = tiers(given, literals, false, &loc, validator) {
                row.tiers = Some(tiers_text(&tiers));
            }
        }
        _ => unreachable!("amount types are listed in AMOUNT_TYPES"),
    }
    (validator.len() == before).then_some(row)
}

fn currency(given: &Map<String, Value>, loc: &Loc, validator: &mut Validator) -> Option<String> {
    let Some(value) = present(given, "price_currency") else {
        // Polar's default.
        return Some("usd".to_owned());
    };
    match value.as_str() {
        Some(code) if money::is_presentment_currency(code) => Some(code.to_owned()),
        _ => {
            validator.push(
                loc.key("price_currency"),
                "enum",
                "Input should be a lowercase ISO 4217 code of a supported presentment currency ('usd', 'eur', 'gbp', …)",
                value.clone(),
            );
            None
        }
    }
}

fn tax_behavior(
    given: &Map<String, Value>,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<String> {
    let value = present(given, "tax_behavior")?;
    match value.as_str() {
        Some(kind) if TAX_BEHAVIORS.contains(&kind) => Some(kind.to_owned()),
        _ => {
            validator.push(
                loc.key("tax_behavior"),
                "enum",
                "Input should be 'location', 'inclusive' or 'exclusive'",
                value.clone(),
            );
            None
        }
    }
}

/// An amount in minor units: a non-negative integer, 0 where `allow_zero` (free), else at
/// least the currency's minimum, and at most its maximum.
fn amount(
    given: &Map<String, Value>,
    name: &str,
    currency: Option<&str>,
    allow_zero: bool,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<i64> {
    let floor = if allow_zero { 0 } else { 1 };
    let amount = integer(given, name, floor, i64::MAX, loc, validator)?;
    // Without a valid currency its own fault is reported; the amount cannot be judged.
    let currency = currency?;
    let minimum = money::minimum_amount(currency);
    if amount < minimum && !(allow_zero && amount == 0) {
        let shown = money::display(minimum, currency);
        validator.push(
            loc.key(name),
            "minimum_price",
            if allow_zero {
                format!("Amount must be at least {shown} or 0 for free pricing")
            } else {
                format!("Amount must be at least {shown}")
            },
            json!(amount),
        );
        return None;
    }
    let maximum = money::maximum_amount(currency);
    if amount > maximum {
        validator.push(
            loc.key(name),
            "maximum_price",
            format!(
                "Amount must be at most {}",
                money::display(maximum, currency)
            ),
            json!(amount),
        );
        return None;
    }
    Some(amount)
}

fn meter_id(given: &Map<String, Value>, loc: &Loc, validator: &mut Validator) -> Option<Uuid> {
    required(given, "meter_id", loc, validator)
        .and_then(|value| uuid(value, &loc.key("meter_id"), validator))
}

/// A decimal rate read exactly: a JSON string as it is, a JSON number from the body's text.
fn rate(
    value: &Value,
    literal: Option<&str>,
    whole_digits: u32,
    positive: bool,
    loc: Loc,
    validator: &mut Validator,
) -> Option<String> {
    let text = match value {
        Value::String(text) => text.as_str(),
        Value::Number(_) => match literal {
            Some(literal) => literal,
            None => {
                validator.push(
                    loc,
                    "decimal_parsing",
                    "Input should be a valid decimal",
                    value.clone(),
                );
                return None;
            }
        },
        _ => {
            validator.push(
                loc,
                "decimal_type",
                "Decimal input should be an integer, float, string or Decimal object",
                value.clone(),
            );
            return None;
        }
    };
    match money::parse_rate(text, RATE_PLACES, whole_digits, positive) {
        Ok(rate) => Some(rate.to_string()),
        Err(fault) => {
            let (kind, message) = match fault {
                RateFault::Invalid => (
                    "decimal_parsing",
                    "Input should be a valid decimal".to_owned(),
                ),
                RateFault::Places(places) => (
                    "decimal_max_places",
                    format!("Decimal input should have no more than {places} decimal places"),
                ),
                RateFault::WholeDigits(digits) => (
                    "decimal_whole_digits",
                    format!(
                        "Decimal input should have no more than {digits} digits before the decimal point"
                    ),
                ),
                RateFault::Sign if positive => {
                    ("greater_than", "Input should be greater than 0".to_owned())
                }
                RateFault::Sign => (
                    "greater_than_equal",
                    "Input should be greater than or equal to 0".to_owned(),
                ),
            };
            validator.push(loc, kind, message, value.clone());
            None
        }
    }
}

fn unit_amount(
    given: &Map<String, Value>,
    literals: Option<&RateLiterals>,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<String> {
    let value = required(given, "unit_amount", loc, validator)?;
    let literal = literals.and_then(|l| l.unit_amount.as_deref());
    rate(
        value,
        literal,
        RATE_WHOLE_DIGITS,
        true,
        loc.key("unit_amount"),
        validator,
    )
}

/// `TiersInput`: at least one tier, bounds unique and positive, only the last unbounded;
/// kept sorted by bound. `integral` asks for whole minor units (prices paid up front).
fn tiers(
    given: &Map<String, Value>,
    literals: Option<&RateLiterals>,
    integral: bool,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<Tiers> {
    let tiers = required(given, "tiers", loc, validator)?;
    let loc = loc.key("tiers");
    let tiers = entry(tiers, &loc, validator)?;
    let before = validator.len();
    let kind = tier_kind(tiers, "type", None, &loc, validator);
    let items = list(tiers, "tiers", &loc, validator)?;
    let mut checked = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let item_loc = loc.key("tiers").index(index);
        let Some(tier) = entry(item, &item_loc, validator) else {
            continue;
        };
        let bound = integer(tier, "bound", 1, i64::MAX, &item_loc, validator);
        let Some(value) = required(tier, "unit_amount", &item_loc, validator) else {
            continue;
        };
        let literal = literals
            .and_then(|l| l.tiers.get(index))
            .and_then(Option::as_deref);
        let Some(rate) = rate(
            value,
            literal,
            TIER_WHOLE_DIGITS,
            false,
            item_loc.key("unit_amount"),
            validator,
        ) else {
            continue;
        };
        if integral && rate.contains('.') {
            validator.push(
                item_loc.key("unit_amount"),
                "value_error",
                format!("Unit tier rates must be in smallest currency unit, got {rate}"),
                value.clone(),
            );
            continue;
        }
        checked.push(super::schema::Tier {
            bound,
            unit_amount: rate,
        });
    }
    if validator.len() != before {
        return None;
    }
    checked.sort_by_key(|tier| (tier.bound.is_none(), tier.bound));
    for pair in checked.windows(2) {
        if pair[0].bound.is_none() {
            validator.push(
                loc.key("tiers"),
                "unbounded_tier_not_last",
                "Only the last tier can be unbounded",
                Value::Null,
            );
            return None;
        }
        if pair[0].bound == pair[1].bound {
            validator.push(
                loc.key("tiers"),
                "duplicate_tier_bound",
                format!(
                    "Tier bound values must be unique, got {} twice",
                    pair[0].bound.unwrap_or_default()
                ),
                Value::Null,
            );
            return None;
        }
    }
    Some(Tiers {
        kind: kind?,
        tiers: checked,
    })
}

/// A list of at most [`MAX_TIERS`] items, at least one.
fn list<'a>(
    given: &'a Map<String, Value>,
    name: &str,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<&'a Vec<Value>> {
    match present(given, name) {
        Some(Value::Array(items)) if items.is_empty() => {
            validator.push(
                loc.key(name),
                "too_short",
                "List should have at least 1 item after validation, not 0",
                json!([]),
            );
            None
        }
        Some(Value::Array(items)) if items.len() > MAX_TIERS => {
            validator.push(
                loc.key(name),
                "too_long",
                format!(
                    "List should have at most {MAX_TIERS} items after validation, not {}",
                    items.len()
                ),
                Value::Null,
            );
            None
        }
        Some(Value::Array(items)) => Some(items),
        Some(other) => {
            validator.push(
                loc.key(name),
                "list_type",
                "Input should be a valid list",
                other.clone(),
            );
            None
        }
        None => {
            validator.push(loc.key(name), "missing", "Field required", Value::Null);
            None
        }
    }
}

/// `seat_tiers`: contiguous seat ranges from `min_seats`, only the last without
/// `max_seats`; kept as shared tiers (each bound a range's last seat) with the first range's
/// start as the minimum and the last range's end as the maximum.
fn seat_tiers(
    given: &Map<String, Value>,
    currency: Option<&str>,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<(Tiers, i64, Option<i64>)> {
    let seat_tiers = required(given, "seat_tiers", loc, validator)?;
    let loc = loc.key("seat_tiers");
    let seat_tiers = entry(seat_tiers, &loc, validator)?;
    let before = validator.len();
    let kind = tier_kind(
        seat_tiers,
        "seat_tier_type",
        Some("volume"),
        &loc,
        validator,
    );
    let items = list(seat_tiers, "tiers", &loc, validator)?;
    let mut ranges = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let item_loc = loc.key("tiers").index(index);
        let Some(tier) = entry(item, &item_loc, validator) else {
            continue;
        };
        for name in ["min_seats", "price_per_seat"] {
            required(tier, name, &item_loc, validator);
        }
        let min = integer(tier, "min_seats", 1, i64::MAX, &item_loc, validator);
        let max = integer(tier, "max_seats", 1, i64::MAX, &item_loc, validator);
        let ceiling = currency.map_or(i64::MAX, money::maximum_amount);
        let price = integer(tier, "price_per_seat", 0, ceiling, &item_loc, validator);
        if let (Some(min), Some(max)) = (min, max)
            && max < min
        {
            validator.push(
                item_loc.key("max_seats"),
                "value_error",
                "max_seats must be at least min_seats.",
                json!(max),
            );
        }
        if let (Some(min), Some(price)) = (min, price) {
            ranges.push((min, max, price));
        }
    }
    if validator.len() != before {
        return None;
    }
    ranges.sort_by_key(|(min, _, _)| *min);
    let tiers_loc = loc.key("tiers");
    for pair in ranges.windows(2) {
        let ((_, max, _), (next_min, _, _)) = (pair[0], pair[1]);
        let Some(max) = max else {
            validator.push(
                tiers_loc,
                "value_error",
                "Only the last tier can have unlimited max_seats (None)",
                Value::Null,
            );
            return None;
        };
        if next_min != max + 1 {
            validator.push(
                tiers_loc,
                "value_error",
                format!("Gap or overlap between tiers: tier ending at {max} and tier starting at {next_min}"),
                Value::Null,
            );
            return None;
        }
    }
    let minimum = ranges.first().map_or(1, |(min, _, _)| *min);
    let maximum = ranges.last().and_then(|(_, max, _)| *max);
    let tiers = Tiers {
        kind: kind?,
        tiers: ranges
            .iter()
            .map(|(_, max, price)| super::schema::Tier {
                bound: *max,
                unit_amount: price.to_string(),
            })
            .collect(),
    };
    Some((tiers, minimum, maximum))
}

/// `unit_label`: per locale, plural forms (`"=1"`, `"other"`, …) of at most 32 characters;
/// blank forms are dropped and every locale needs an `other`.
fn unit_label(
    given: &Map<String, Value>,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<Map<String, Value>> {
    let label = object(given, "unit_label", loc, validator)?;
    let loc = loc.key("unit_label");
    if label.is_empty() {
        validator.push(
            loc,
            "too_short",
            "Dictionary should have at least 1 item after validation, not 0",
            json!({}),
        );
        return None;
    }
    let mut kept = Map::new();
    for (locale, forms) in label {
        let locale_loc = loc.key(locale);
        let Some(forms) = forms.as_object() else {
            validator.push(
                locale_loc,
                "dict_type",
                "Input should be a valid dictionary",
                forms.clone(),
            );
            continue;
        };
        let mut cleaned = Map::new();
        for (key, form) in forms {
            let Some(form) = form.as_str() else {
                validator.push(
                    locale_loc.key(key),
                    "string_type",
                    "Input should be a valid string",
                    form.clone(),
                );
                continue;
            };
            let form = form.trim();
            if form.chars().count() > UNIT_LABEL_CHARS {
                validator.push(
                    locale_loc.key(key),
                    "unit_label_form_too_long",
                    format!("Unit label forms must be at most {UNIT_LABEL_CHARS} characters"),
                    json!(form),
                );
            } else if !form.is_empty() {
                cleaned.insert(key.clone(), json!(form));
            }
        }
        if !cleaned.contains_key("other") {
            validator.push(
                locale_loc,
                "missing_other_plural",
                "Each locale must include a non-empty 'other' form",
                Value::Object(forms.clone()),
            );
        }
        kept.insert(locale.clone(), Value::Object(cleaned));
    }
    Some(kept)
}

/// A value that must be an object (a list's entry, a nested schema).
fn entry<'a>(
    value: &'a Value,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<&'a Map<String, Value>> {
    let object = value.as_object();
    if object.is_none() {
        validator.push(
            loc.clone(),
            "model_type",
            "Input should be a valid dictionary or object",
            value.clone(),
        );
    }
    object
}

/// How tiers apply, `volume` or `graduated`; `default` when absent (else it is required).
fn tier_kind(
    given: &Map<String, Value>,
    name: &str,
    default: Option<&str>,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<String> {
    match present(given, name) {
        Some(Value::String(kind)) if TIER_TYPES.contains(&kind.as_str()) => Some(kind.clone()),
        Some(other) => {
            validator.push(
                loc.key(name),
                "enum",
                "Input should be 'volume' or 'graduated'",
                other.clone(),
            );
            None
        }
        None if default.is_some() => default.map(str::to_owned),
        None => {
            validator.push(loc.key(name), "missing", "Field required", Value::Null);
            None
        }
    }
}

fn tiers_text(tiers: &Tiers) -> String {
    serde_json::to_string(tiers).unwrap_or_default()
}

/// How a price takes part in the rules of combination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Role {
    Fixed,
    Free,
    Custom,
    Seat,
    Unit,
    Metered,
}

fn role(row: &PriceRow) -> Role {
    match row.amount_type.as_str() {
        "fixed" if row.price_amount == Some(0) => Role::Free,
        "fixed" => Role::Fixed,
        "custom" => Role::Custom,
        "seat_based" => Role::Seat,
        "unit_based" => Role::Unit,
        _ => Role::Metered,
    }
}

/// Whether the amount type needs a recurring product (usage and prorated quantities are
/// billed per period).
pub fn needs_recurring(row: &PriceRow) -> bool {
    matches!(
        row.amount_type.as_str(),
        "unit_based" | "metered_unit" | "metered_tiers"
    )
}

/// The rules a product's whole set of prices (kept and new) follows, reported at `loc`
/// (the list), and per entry at `loc.index(i)` for a meter used twice in a currency.
/// `indexed` pairs each price with its index in the body (or `None` for prices kept
/// without being named, which cannot happen: every kept price is named).
pub fn check_set(
    prices: &[(usize, &PriceRow)],
    default_currency: &str,
    loc: &Loc,
    validator: &mut Validator,
) {
    if prices.is_empty() {
        validator.push(
            loc.clone(),
            "too_short",
            "At least one price is required.",
            json!([]),
        );
        return;
    }
    let mut by_currency: BTreeMap<&str, Vec<(usize, &PriceRow)>> = BTreeMap::new();
    for (index, row) in prices {
        by_currency
            .entry(row.price_currency.as_str())
            .or_default()
            .push((*index, row));
    }
    let mut structures = HashSet::new();
    let fault = |message: &str, validator: &mut Validator| {
        validator.push(loc.clone(), "value_error", message, Value::Null);
    };
    for rows in by_currency.values() {
        let count = |wanted: Role| rows.iter().filter(|(_, row)| role(row) == wanted).count();
        let (fixed, free, custom, seats, units) = (
            count(Role::Fixed),
            count(Role::Free),
            count(Role::Custom),
            count(Role::Seat),
            count(Role::Unit),
        );
        if fixed + free > 1 {
            fault("Only one fixed price is allowed.", validator);
        }
        if seats > 1 {
            fault("Only one seat-based price is allowed.", validator);
        }
        if custom > 1 {
            fault("Only one custom price is allowed.", validator);
        }
        if units > 1 {
            fault("Only one unit-based price is allowed.", validator);
        }
        if seats > 0 && units > 0 {
            fault(
                "A seat-based price cannot be combined with a unit-based price.",
                validator,
            );
        }
        if custom > 0 && fixed + free + seats + units > 0 {
            fault(
                "A custom price cannot be combined with a fixed, seat-based or unit-based price.",
                validator,
            );
        }
        if free > 0 && seats + units > 0 {
            fault(
                "A free price cannot be combined with a seat-based or unit-based price.",
                validator,
            );
        }
        let mut meters = HashSet::new();
        for (index, row) in rows.iter().filter(|(_, row)| role(row) == Role::Metered) {
            if !meters.insert(row.meter_id) {
                validator.push(
                    loc.index(*index).key("meter_id"),
                    "value_error",
                    "Meter is already used for another price.",
                    json!(row.meter_id),
                );
            }
        }
        let behaviors: HashSet<_> = rows.iter().map(|(_, row)| &row.tax_behavior).collect();
        if behaviors.len() > 1 {
            fault(
                "All prices for the same currency must have the same tax behavior.",
                validator,
            );
        }
        let mut structure: Vec<Role> = rows
            .iter()
            .map(|(_, row)| role(row))
            .filter(|role| *role != Role::Metered)
            .collect();
        structure.sort();
        structures.insert((structure, meters.len()));
    }
    if structures.len() > 1 {
        fault(
            "All price currencies must define the same set of price types.",
            validator,
        );
    }
    if !by_currency.contains_key(default_currency) {
        fault(
            "The organization's default presentment currency must be present in the prices.",
            validator,
        );
    }
}
