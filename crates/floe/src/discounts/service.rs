//! The rules of discounts: a percentage in basis points or fixed amounts per currency, a
//! duration, an optional code unique per organization whatever its case, a validity window,
//! redemption caps, products of the same organization, and the `discount.*` webhooks queued
//! in the change's transaction.

use std::collections::{BTreeMap, HashSet};

use sea_orm::{DatabaseTransaction, DbErr, SqlErr};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::entity::Model;
use super::schema::{Discount, DiscountCreate, DiscountDuration, DiscountType, DiscountUpdate};
use super::store;
use crate::app::AppState;
use crate::db::Reads;
use crate::http::{ApiError, ApiResult, Loc, Validator};
use crate::webhooks::EventType;

const MAX_FIXED_AMOUNT: i64 = 999_999_999_999;
const INT32_MAX: i64 = i32::MAX as i64;
const MAX_PRODUCTS: usize = 100;

pub(super) fn not_found() -> ApiError {
    ApiError::ResourceNotFound("Discount not found.".to_owned())
}

fn code_taken(code: &str) -> ApiError {
    ApiError::validation(
        Loc::body().key("code"),
        "value_error",
        "Discount with this code already exists.",
        json!(code),
    )
}

/// The unique index on codes decides: a race for one code gives the loser the 422.
fn write_error(error: DbErr, code: Option<&str>) -> ApiError {
    match (error.sql_err(), code) {
        (Some(SqlErr::UniqueConstraintViolation(_)), Some(code)) => code_taken(code),
        _ => ApiError::from(error),
    }
}

/// A code: empty means none; else 3 to 256 letters and digits.
fn check_code(code: Option<String>, validator: &mut Validator) -> Option<String> {
    let code = code.filter(|c| !c.is_empty())?;
    let length = code.chars().count();
    if !code.chars().all(char::is_alphanumeric) {
        validator.push(
            Loc::body().key("code"),
            "value_error",
            "Code must contain only alphanumeric characters.",
            json!(code),
        );
    } else if !(3..=256).contains(&length) {
        validator.push(
            Loc::body().key("code"),
            "value_error",
            "Code must be between 3 and 256 characters long.",
            json!(code),
        );
    }
    Some(code)
}

fn check_range(name: &str, value: Option<i64>, min: i64, max: i64, validator: &mut Validator) {
    if let Some(value) = value {
        crate::http::fields::within(value, min, max, &Loc::body().key(name), validator);
    }
}

/// `amounts`: at least one presentment currency, each 0 to 999,999,999,999 minor units.
fn check_amounts(given: &Map<String, Value>, validator: &mut Validator) -> BTreeMap<String, i64> {
    let loc = Loc::body().key("amounts");
    if given.is_empty() {
        validator.push(
            loc.clone(),
            "too_short",
            "Dictionary should have at least 1 item after validation, not 0",
            json!({}),
        );
    }
    let mut amounts = BTreeMap::new();
    for (currency, amount) in given {
        if !crate::money::is_presentment_currency(currency) {
            validator.push(
                loc.key(currency).key("[key]"),
                "enum",
                "Input should be a lowercase ISO 4217 code of a supported presentment currency",
                json!(currency),
            );
            continue;
        }
        match amount.as_i64() {
            Some(value) if (0..=MAX_FIXED_AMOUNT).contains(&value) => {
                amounts.insert(currency.clone(), value);
            }
            Some(_) => validator.push(
                loc.key(currency),
                "less_than_equal",
                format!("Input should be between 0 and {MAX_FIXED_AMOUNT}"),
                amount.clone(),
            ),
            None => validator.push(
                loc.key(currency),
                "int_type",
                "Input should be a valid integer",
                amount.clone(),
            ),
        }
    }
    amounts
}

fn check_window(row: &Model, validator: &mut Validator) {
    if let (Some(starts), Some(ends)) = (row.starts_at, row.ends_at)
        && starts >= ends
    {
        validator.push(
            Loc::body(),
            "value_error",
            "starts_at must be before ends_at",
            Value::Null,
        );
    }
}

fn check_duration(row: &Model, validator: &mut Validator) {
    let repeating = row.duration == DiscountDuration::Repeating.as_str();
    if repeating && row.duration_in_months.is_none() {
        validator.push(
            Loc::body().key("duration_in_months"),
            "value_error",
            "`duration_in_months` is required when `duration` is `repeating`.",
            Value::Null,
        );
    }
    if !repeating && row.duration_in_months.is_some() {
        validator.push(
            Loc::body().key("duration_in_months"),
            "value_error",
            "`duration_in_months` must be omitted when `duration` is not `repeating`.",
            json!(row.duration_in_months),
        );
    }
}

fn check_products(ids: &[Uuid], validator: &mut Validator) {
    crate::http::fields::unique_ids(ids, MAX_PRODUCTS, &Loc::body().key("products"), validator);
}

/// Each product must be one of the organization's (not deleted).
async fn check_products_exist(
    txn: &DatabaseTransaction,
    organization_id: Uuid,
    ids: &[Uuid],
) -> ApiResult<()> {
    let found: HashSet<Uuid> = crate::products::bases(txn.into(), organization_id, ids)
        .await?
        .into_iter()
        .map(|product| product.id)
        .collect();
    let mut validator = Validator::new();
    for (index, id) in ids.iter().enumerate() {
        if !found.contains(id) {
            validator.push(
                Loc::body().key("products").index(index),
                "value_error",
                "Product not found.",
                json!(id),
            );
        }
    }
    validator.finish()
}

/// `rows` as the API shows them, with their products, in three queries whatever their
/// number.
pub async fn present(
    db: Reads<'_>,
    organization_id: Uuid,
    rows: &[Model],
) -> ApiResult<Vec<Discount>> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let links = store::product_links(db, &ids).await?;
    let mut product_ids: Vec<Uuid> = links.iter().map(|link| link.product_id).collect();
    product_ids.sort_unstable();
    product_ids.dedup();
    let products = crate::products::bases(db, organization_id, &product_ids).await?;
    Ok(rows
        .iter()
        .map(|row| {
            let kind = if row.kind == "fixed" {
                DiscountType::Fixed
            } else {
                DiscountType::Percentage
            };
            let amounts: Option<BTreeMap<String, i64>> = (kind == DiscountType::Fixed).then(|| {
                row.amounts
                    .as_deref()
                    .and_then(|text| serde_json::from_str(text).ok())
                    .unwrap_or_default()
            });
            // The deprecated single amount: in dollars if there are any, else the first.
            let single = amounts.as_ref().and_then(|amounts| {
                amounts
                    .get_key_value("usd")
                    .or_else(|| amounts.iter().next())
                    .map(|(currency, amount)| (currency.clone(), *amount))
            });
            let mut limited_to: Vec<_> = links
                .iter()
                .filter(|link| link.discount_id == row.id)
                .filter_map(|link| products.iter().find(|p| p.id == link.product_id).cloned())
                .collect();
            limited_to.sort_by_key(|product| (product.created_at, product.id));
            Discount {
                duration: DiscountDuration::parse(&row.duration).unwrap_or(DiscountDuration::Once),
                duration_in_months: row.duration_in_months,
                kind,
                basis_points: row
                    .basis_points
                    .filter(|_| kind == DiscountType::Percentage),
                amount: single.as_ref().map(|(_, amount)| *amount),
                currency: single.map(|(currency, _)| currency),
                amounts,
                created_at: row.created_at,
                modified_at: row.modified_at,
                id: row.id,
                metadata: crate::metadata::from_text(&row.metadata),
                name: row.name.clone(),
                code: row.code.clone(),
                starts_at: row.starts_at,
                ends_at: row.ends_at,
                max_redemptions: row.max_redemptions,
                max_redemptions_per_customer: row.max_redemptions_per_customer,
                redemptions_count: row.redemptions_count,
                organization_id: row.organization_id,
                products: limited_to,
            }
        })
        .collect())
}

async fn show(txn: &DatabaseTransaction, row: &Model) -> ApiResult<Discount> {
    present(txn.into(), row.organization_id, std::slice::from_ref(row))
        .await?
        .pop()
        .ok_or_else(not_found)
}

pub async fn create(
    app: &AppState,
    organization_id: Uuid,
    body: DiscountCreate,
) -> ApiResult<Discount> {
    let mut validator = Validator::new();
    validator.reject_organization_id(body.organization_id);
    if body.name.is_empty() {
        validator.push(
            Loc::body().key("name"),
            "string_too_short",
            "String should have at least 1 character",
            json!(body.name),
        );
    }
    let metadata = body.metadata.unwrap_or_default();
    crate::metadata::check(&metadata, &Loc::body().key("metadata"), &mut validator);
    let code = check_code(body.code, &mut validator);
    check_range(
        "max_redemptions",
        body.max_redemptions,
        1,
        INT32_MAX,
        &mut validator,
    );
    check_range(
        "max_redemptions_per_customer",
        body.max_redemptions_per_customer,
        1,
        INT32_MAX,
        &mut validator,
    );
    check_range(
        "duration_in_months",
        body.duration_in_months,
        1,
        999,
        &mut validator,
    );
    let products = body.products.unwrap_or_default();
    check_products(&products, &mut validator);
    let (mut basis_points, mut amounts) = (None, None);
    match body.kind {
        DiscountType::Percentage => {
            match body.basis_points {
                None => validator.push(
                    Loc::body().key("basis_points"),
                    "missing",
                    "Field required",
                    Value::Null,
                ),
                some => check_range("basis_points", some, 1, 10_000, &mut validator),
            }
            basis_points = body.basis_points;
        }
        DiscountType::Fixed => {
            amounts = match (body.amount, body.amounts) {
                (Some(_), Some(_)) => {
                    validator.push(
                        Loc::body(),
                        "value_error",
                        "Cannot specify both `amount` and `amounts`.",
                        Value::Null,
                    );
                    None
                }
                (None, None) => {
                    validator.push(
                        Loc::body(),
                        "value_error",
                        "Must specify either `amount` or `amounts`.",
                        Value::Null,
                    );
                    None
                }
                (Some(amount), None) => {
                    let currency = body.currency.unwrap_or_else(|| "usd".to_owned());
                    Some(check_amounts(
                        &Map::from_iter([(currency, json!(amount))]),
                        &mut validator,
                    ))
                }
                (None, Some(given)) => Some(check_amounts(&given, &mut validator)),
            };
        }
    }
    let row = Model {
        id: Uuid::new_v4(),
        created_at: app.clock.now(),
        modified_at: None,
        deleted_at: None,
        organization_id,
        name: body.name,
        kind: body.kind.as_str().to_owned(),
        duration: body.duration.as_str().to_owned(),
        duration_in_months: body.duration_in_months,
        basis_points,
        amounts: amounts.map(|amounts| json!(amounts).to_string()),
        code_key: code.as_ref().map(|c| c.to_lowercase()),
        code,
        starts_at: body.starts_at,
        ends_at: body.ends_at,
        max_redemptions: body.max_redemptions,
        max_redemptions_per_customer: body.max_redemptions_per_customer,
        redemptions_count: 0,
        metadata: crate::metadata::to_text(&metadata),
    };
    check_window(&row, &mut validator);
    check_duration(&row, &mut validator);
    validator.finish()?;

    let txn = crate::db::begin_write(&app.db).await?;
    check_products_exist(&txn, organization_id, &products).await?;
    let code = row.code.clone();
    let row = store::insert(&txn, row)
        .await
        .map_err(|e| write_error(e, code.as_deref()))?;
    store::set_products(&txn, row.id, &products).await?;
    let discount = show(&txn, &row).await?;
    let queued = crate::webhooks::emit(
        &txn,
        discount.organization_id,
        EventType::DiscountCreated,
        &discount,
        app.clock.now(),
    )
    .await?;
    app.nudge.commit(txn, queued).await?;
    Ok(discount)
}

pub async fn update(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    patch: DiscountUpdate,
) -> ApiResult<Discount> {
    let txn = crate::db::begin_write(&app.db).await?;
    let before = store::get((&txn).into(), organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    let mut row = before.clone();
    let fixed = row.kind == "fixed";
    let mut validator = Validator::new();
    if let Some(Some(duration)) = patch.duration
        && duration.as_str() != row.duration
    {
        validator.push(
            Loc::body().key("duration"),
            "value_error",
            "Duration cannot be changed.",
            json!(duration.as_str()),
        );
    }
    if let Some(Some(kind)) = patch.kind
        && kind.as_str() != row.kind
    {
        validator.push(
            Loc::body().key("type"),
            "value_error",
            "Type cannot be changed.",
            json!(kind.as_str()),
        );
    }
    validator.finish()?;
    let mut validator = Validator::new();
    if let Some(Some(name)) = patch.name {
        if name.is_empty() {
            validator.push(
                Loc::body().key("name"),
                "string_too_short",
                "String should have at least 1 character",
                json!(name),
            );
        }
        row.name = name;
    }
    if let Some(code) = patch.code {
        row.code = check_code(code, &mut validator);
        row.code_key = row.code.as_ref().map(|c| c.to_lowercase());
    }
    if let Some(starts_at) = patch.starts_at {
        row.starts_at = starts_at;
    }
    if let Some(ends_at) = patch.ends_at {
        row.ends_at = ends_at;
    }
    if let Some(max) = patch.max_redemptions {
        check_range("max_redemptions", max, 1, INT32_MAX, &mut validator);
        row.max_redemptions = max;
    }
    if let Some(max) = patch.max_redemptions_per_customer {
        check_range(
            "max_redemptions_per_customer",
            max,
            1,
            INT32_MAX,
            &mut validator,
        );
        row.max_redemptions_per_customer = max;
    }
    if let Some(months) = patch.duration_in_months {
        check_range("duration_in_months", months, 1, 999, &mut validator);
        row.duration_in_months = months;
    }
    if fixed {
        let amounts = match (patch.amount.flatten(), patch.amounts.flatten()) {
            (Some(amount), _) if patch.currency.clone().flatten().is_some() => {
                let currency = patch.currency.clone().flatten().unwrap_or_default();
                Some(check_amounts(
                    &Map::from_iter([(currency, json!(amount))]),
                    &mut validator,
                ))
            }
            (_, Some(given)) => Some(check_amounts(&given, &mut validator)),
            _ => None,
        };
        if let Some(amounts) = amounts {
            row.amounts = Some(json!(amounts).to_string());
        }
    } else if let Some(Some(points)) = patch.basis_points {
        check_range("basis_points", Some(points), 1, 10_000, &mut validator);
        row.basis_points = Some(points);
    }
    if let Some(Some(metadata)) = &patch.metadata {
        crate::metadata::check(metadata, &Loc::body().key("metadata"), &mut validator);
        row.metadata = crate::metadata::to_text(metadata);
    }
    let products = patch.products.flatten();
    if let Some(products) = &products {
        check_products(products, &mut validator);
    }
    check_window(&row, &mut validator);
    check_duration(&row, &mut validator);
    // What a buyer already got cannot change under them.
    if before.redemptions_count > 0 {
        for (name, changed) in [
            ("amounts", row.amounts != before.amounts),
            ("basis_points", row.basis_points != before.basis_points),
            (
                "duration_in_months",
                row.duration_in_months != before.duration_in_months,
            ),
        ] {
            if changed {
                validator.push(
                    Loc::body().key(name),
                    "value_error",
                    "This field cannot be changed because the discount has already been redeemed.",
                    Value::Null,
                );
            }
        }
    }
    validator.finish()?;
    let old = show(&txn, &before).await?;
    if let Some(products) = &products {
        check_products_exist(&txn, organization_id, products).await?;
        store::set_products(&txn, row.id, products).await?;
    }
    // Shown from the row in memory; written once, stamped, only when something changed.
    let mut discount = show(&txn, &row).await?;
    if serde_json::to_value(&discount).ok() == serde_json::to_value(&old).ok() {
        txn.commit().await?;
        return Ok(discount);
    }
    row.modified_at = Some(app.clock.now());
    discount.modified_at = row.modified_at;
    let code = row.code.clone();
    store::update(&txn, row)
        .await
        .map_err(|e| write_error(e, code.as_deref()))?;
    let queued = crate::webhooks::emit(
        &txn,
        discount.organization_id,
        EventType::DiscountUpdated,
        &discount,
        app.clock.now(),
    )
    .await?;
    app.nudge.commit(txn, queued).await?;
    Ok(discount)
}

/// Deletes a discount: it is no longer readable or redeemable, and its code is free.
pub async fn delete(app: &AppState, organization_id: Uuid, id: Uuid) -> ApiResult<()> {
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = store::get((&txn).into(), organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    row.deleted_at = Some(app.clock.now());
    let row = store::update(&txn, row).await?;
    let discount = show(&txn, &row).await?;
    let queued = crate::webhooks::emit(
        &txn,
        discount.organization_id,
        EventType::DiscountDeleted,
        &discount,
        app.clock.now(),
    )
    .await?;
    Ok(app.nudge.commit(txn, queued).await?)
}
