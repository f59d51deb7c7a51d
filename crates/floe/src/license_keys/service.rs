//! The rules of license keys: issuing one when a benefit is granted (its text, expiry and
//! limits from the benefit), the merchant's changes, and the three calls a merchant's app
//! makes with a key: validate (optionally counting usage), activate and deactivate. Each of
//! those locks the key's row for its transaction, so concurrent calls never lose a count
//! and never exceed a limit.

use axum::http::StatusCode;
use chrono::{DateTime, Datelike, Months, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::{Map, Number, Value, json};
use uuid::Uuid;

use super::entity::{Model, activation};
use super::rate_limit::{self, Refusal};
use super::schema::{
    LicenseKeyActivate, LicenseKeyActivationBase, LicenseKeyActivationRead, LicenseKeyDeactivate,
    LicenseKeyRead, LicenseKeyStatus, LicenseKeyUpdate, LicenseKeyValidate, ValidatedLicenseKey,
};
use super::store;
use crate::app::AppState;
use crate::db::Reads;
use crate::http::{ApiError, ApiResult, Loc, Validator};

const INT32: (i64, i64) = (i32::MIN as i64, i32::MAX as i64);

/// Polar answers every unknown key, key of another organization or missing activation
/// with its default message.
pub fn not_found() -> ApiError {
    ApiError::ResourceNotFound("Not found".to_owned())
}

/// What a license-keys benefit gives each key it issues.
#[derive(Debug, Default, PartialEq)]
pub struct Terms {
    pub prefix: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub limit_activations: Option<i64>,
    pub limit_usage: Option<i64>,
}

impl Terms {
    /// The terms of a benefit with `properties` (`BenefitLicenseKeysProperties`) granted at
    /// `now`; an error message when the expiry cannot be represented.
    pub fn of(properties: &Map<String, Value>, now: DateTime<Utc>) -> Result<Self, String> {
        let expires = properties.get("expires").and_then(Value::as_object);
        let expires_at = match expires.map(|e| {
            (
                e.get("ttl").and_then(Value::as_i64),
                e.get("timeframe").and_then(Value::as_str),
            )
        }) {
            Some((Some(ttl), Some(timeframe))) => Some(expiry(ttl, timeframe, now).ok_or_else(
                || {
                    format!(
                        "Expiration date overflows: ttl={ttl} with timeframe='{timeframe}' produces a date beyond year 9999."
                    )
                },
            )?),
            _ => None,
        };
        Ok(Self {
            prefix: properties
                .get("prefix")
                .and_then(Value::as_str)
                .map(str::to_owned),
            expires_at,
            limit_activations: properties
                .get("activations")
                .and_then(|a| a.get("limit"))
                .and_then(Value::as_i64),
            limit_usage: properties.get("limit_usage").and_then(Value::as_i64),
        })
    }
}

/// `ttl` years, months or days after `now`, if that is a date up to year 9999 (what
/// RFC 3339, and so the API, can write).
fn expiry(ttl: i64, timeframe: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let at = match timeframe {
        "year" => now.checked_add_months(Months::new(u32::try_from(ttl.checked_mul(12)?).ok()?)),
        "month" => now.checked_add_months(Months::new(u32::try_from(ttl).ok()?)),
        _ => now.checked_add_signed(chrono::Duration::try_days(ttl)?),
    }?;
    (at.year() <= 9999).then_some(at)
}

/// A new key's text: the prefix in capitals and a dash, then a random UUID in capitals
/// (Polar's format, so keys move between the two unchanged).
pub fn generate_key(prefix: Option<&str>) -> String {
    let key = Uuid::new_v4().to_string().to_uppercase();
    match prefix.map(str::trim).filter(|p| !p.is_empty()) {
        Some(prefix) => format!("{}-{key}", prefix.to_uppercase()),
        None => key,
    }
}

/// Issues a key to a customer for a benefit, in the grant's transaction.
pub async fn issue(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    customer_id: Uuid,
    benefit_id: Uuid,
    terms: &Terms,
    now: DateTime<Utc>,
) -> Result<Model, sea_orm::DbErr> {
    store::insert(
        txn,
        Model {
            id: Uuid::new_v4(),
            created_at: now,
            modified_at: None,
            organization_id,
            customer_id,
            member_id: None,
            benefit_id,
            key: generate_key(terms.prefix.as_deref()),
            status: LicenseKeyStatus::Granted.as_str().to_owned(),
            limit_activations: terms.limit_activations,
            usage: 0,
            limit_usage: terms.limit_usage,
            validations: 0,
            last_validated_at: None,
            expires_at: terms.expires_at,
            rate_window_started_at: None,
            rate_window_hits: 0,
        },
    )
    .await
}

/// The keys as the API shows them, with their customers (read in one query).
pub async fn present(
    db: Reads<'_>,
    organization_id: Uuid,
    rows: &[Model],
) -> ApiResult<Vec<LicenseKeyRead>> {
    let mut ids: Vec<Uuid> = rows.iter().map(|r| r.customer_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let customers = crate::customers::read_many(db, organization_id, &ids).await?;
    rows.iter()
        .map(|row| {
            let customer = customers
                .iter()
                .find(|c| c.id == row.customer_id)
                .cloned()
                .ok_or_else(|| {
                    ApiError::internal(anyhow::anyhow!(
                        "license key {} names a customer that does not exist",
                        row.id
                    ))
                })?;
            Ok(LicenseKeyRead::new(row, customer))
        })
        .collect()
}

async fn present_one(txn: &DatabaseTransaction, row: &Model) -> ApiResult<LicenseKeyRead> {
    present(txn.into(), row.organization_id, std::slice::from_ref(row))
        .await?
        .pop()
        .ok_or_else(not_found)
}

fn int_in(
    value: i64,
    (min, max): (i64, i64),
    loc: Loc,
    exclusive_min: bool,
    validator: &mut Validator,
) {
    if exclusive_min && value <= min {
        validator.push(
            loc,
            "greater_than",
            format!("Input should be greater than {min}"),
            json!(value),
        );
    } else if value < min {
        validator.push(
            loc,
            "greater_than_equal",
            format!("Input should be greater than or equal to {min}"),
            json!(value),
        );
    } else if value > max {
        validator.push(
            loc,
            "less_than_equal",
            format!("Input should be less than or equal to {max}"),
            json!(value),
        );
    }
}

/// `license_keys:update`: the status, usage, limits and expiry, as the merchant sets them.
/// A key's grant is left as it is (revoking grants comes with the revocation work).
pub async fn update(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    patch: LicenseKeyUpdate,
) -> ApiResult<LicenseKeyRead> {
    let mut validator = Validator::new();
    let body = Loc::body();
    match patch.usage {
        Some(Some(usage)) => int_in(usage, INT32, body.key("usage"), false, &mut validator),
        Some(None) => validator.push(
            body.key("usage"),
            "int_type",
            "Input should be a valid integer",
            Value::Null,
        ),
        None => {}
    }
    for (name, value) in [
        ("limit_activations", patch.limit_activations),
        ("limit_usage", patch.limit_usage),
    ] {
        if let Some(Some(limit)) = value {
            int_in(limit, (0, INT32.1), body.key(name), true, &mut validator);
        }
    }
    if let Some(Some(at)) = patch.expires_at
        && at.year() > 9999
    {
        validator.push(
            body.key("expires_at"),
            "datetime_parsing",
            "Input should be a valid datetime, year beyond 9999",
            json!(at),
        );
    }
    validator.finish()?;

    let txn = crate::db::begin_write(&app.db).await?;
    let Some(mut row) = store::lock(&txn, organization_id, id).await? else {
        txn.rollback().await?;
        return Err(not_found());
    };
    let before = row.clone();
    if let Some(Some(status)) = patch.status {
        row.status = status.as_str().to_owned();
    }
    if let Some(Some(usage)) = patch.usage {
        row.usage = usage;
    }
    if let Some(limit) = patch.limit_activations {
        row.limit_activations = limit;
    }
    if let Some(limit) = patch.limit_usage {
        row.limit_usage = limit;
    }
    if let Some(expires_at) = patch.expires_at {
        row.expires_at = expires_at;
    }
    let mut queued = 0;
    if row != before {
        let now = app.clock.now();
        row.modified_at = Some(now);
        row = store::update(&txn, row).await?;
        let revoked = row.status == LicenseKeyStatus::Revoked.as_str();
        if revoked != (before.status == LicenseKeyStatus::Revoked.as_str()) {
            queued =
                crate::benefits::license_key_grants::follow_status(app, &txn, &row, revoked, now)
                    .await?;
        }
    }
    let key = present_one(&txn, &row).await?;
    app.nudge.commit(txn, queued).await?;
    Ok(key)
}

/// `license_keys:rotate`: a new key text for the same key (its status, usage, limits,
/// expiry and activations kept), with its benefit's prefix; the old text stops working at
/// once. Only a `granted` or `disabled` key can be rotated (Polar's rule).
pub async fn rotate(app: &AppState, organization_id: Uuid, id: Uuid) -> ApiResult<LicenseKeyRead> {
    let txn = crate::db::begin_write(&app.db).await?;
    let Some(mut row) = store::lock(&txn, organization_id, id).await? else {
        txn.rollback().await?;
        return Err(not_found());
    };
    if row.status == LicenseKeyStatus::Revoked.as_str() {
        txn.rollback().await?;
        return Err(ApiError::named(
            StatusCode::BAD_REQUEST,
            "RotateNotPermitted",
            format!(
                "License key cannot be rotated in its current status. Current status: {}. Allowed statuses: disabled, granted.",
                row.status
            ),
        ));
    }
    // The benefit's prefix now (the merchant may have changed it); a deleted benefit's
    // keys keep the prefix they have.
    let benefit = crate::benefits::read_many((&txn).into(), organization_id, &[row.benefit_id])
        .await?
        .pop();
    let prefix = match &benefit {
        Some(benefit) => Terms::of(&benefit.properties, app.clock.now())
            .map(|terms| terms.prefix)
            .unwrap_or_default(),
        None => prefix_of(&row.key).map(str::to_owned),
    };
    let now = app.clock.now();
    row.key = generate_key(prefix.as_deref());
    row.modified_at = Some(now);
    let row = store::update(&txn, row).await?;
    crate::benefits::license_key_grants::rotated(&txn, &row, now).await?;
    let key = present_one(&txn, &row).await?;
    txn.commit().await?;
    Ok(key)
}

/// The prefix of a key made by [`generate_key`]: what comes before the dash that starts its
/// UUID, if anything does.
fn prefix_of(key: &str) -> Option<&str> {
    const UUID_LEN: usize = 36;
    let cut = key.len().checked_sub(UUID_LEN + 1)?;
    (key.is_char_boundary(cut) && key[cut..].starts_with('-')).then(|| &key[..cut])
}

/// The key a validation, activation or deactivation names, locked in a new transaction,
/// with the call counted against its rate limit. The body's organization must be the
/// caller's: another one's keys do not exist for it.
async fn locked_key(
    app: &AppState,
    caller: Uuid,
    organization_id: Uuid,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(DatabaseTransaction, Model), Refusal> {
    // A key with a NUL in it cannot exist (PostgreSQL text cannot hold one): not found,
    // without asking the database.
    if organization_id != caller || key.contains('\0') {
        return Err(not_found().into());
    }
    let txn = crate::db::begin_write(&app.db).await?;
    let found = store::lock_by_key(&txn, organization_id, key).await?;
    let counted = found.map(|mut row| {
        rate_limit::count(&mut row, now)
            .map(|()| row)
            .map_err(|retry_after| Refusal::Limited { retry_after })
    });
    match counted {
        Some(Ok(row)) => Ok((txn, row)),
        // Ended here rather than dropped: a dropped transaction keeps its lock until its
        // connection is back in the pool, and the next call on this key would wait for it.
        Some(Err(refusal)) => {
            txn.rollback().await?;
            Err(refusal)
        }
        None => {
            txn.rollback().await?;
            Err(not_found().into())
        }
    }
}

/// Ends a call on a locked key: with `outcome`'s changes when it succeeded, or with only
/// the rate-limit count when it failed (refusals count as calls too).
async fn finish<T>(
    txn: DatabaseTransaction,
    mut row: Model,
    before: &Model,
    outcome: ApiResult<T>,
) -> Result<(T, Model), Refusal> {
    match outcome {
        Ok(value) => {
            let row = store::update(&txn, row).await?;
            txn.commit().await?;
            Ok((value, row))
        }
        Err(error) => {
            let counted = (row.rate_window_started_at, row.rate_window_hits);
            row = before.clone();
            (row.rate_window_started_at, row.rate_window_hits) = counted;
            store::update(&txn, row).await?;
            txn.commit().await?;
            Err(error.into())
        }
    }
}

fn check_pairs(map: &Map<String, Value>, name: &str, validator: &mut Validator) {
    crate::metadata::check(map, &Loc::body().key(name), validator);
}

/// Whether two sets of conditions are the same, numbers compared by value (`1` and `1.0`
/// are one number to the Python clients that send them).
fn same_conditions(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    let number = |n: &Number| n.as_f64();
    a.len() == b.len()
        && a.iter().all(|(key, x)| match (x, b.get(key)) {
            (Value::Number(x), Some(Value::Number(y))) => number(x) == number(y),
            (x, Some(y)) => x == y,
            (_, None) => false,
        })
}

/// Why a key cannot be used now (each operation words its own answer).
enum Unusable {
    Inactive,
    Expired,
}

/// Whether the key can be used at `now`: granted and not expired.
fn usable(row: &Model, now: DateTime<Utc>) -> Result<(), Unusable> {
    if row.status != LicenseKeyStatus::Granted.as_str() {
        return Err(Unusable::Inactive);
    }
    if row.expires_at.is_some_and(|at| now >= at) {
        return Err(Unusable::Expired);
    }
    Ok(())
}

/// `license_keys:validate`.
pub async fn validate(
    app: &AppState,
    caller: Uuid,
    body: LicenseKeyValidate,
) -> Result<ValidatedLicenseKey, Refusal> {
    let mut validator = Validator::new();
    if let Some(increment) = body.increment_usage {
        int_in(
            increment,
            (0, i64::MAX),
            Loc::body().key("increment_usage"),
            false,
            &mut validator,
        );
    }
    check_pairs(&body.conditions, "conditions", &mut validator);
    validator.finish()?;

    let now = app.clock.now();
    let (txn, mut row) = locked_key(app, caller, body.organization_id, &body.key, now).await?;
    let before = row.clone();
    let outcome = check_validation(&txn, &mut row, &body, now).await;
    let (activation, row) = finish(txn, row, &before, outcome).await?;
    let key = present(
        (&app.reader).into(),
        row.organization_id,
        std::slice::from_ref(&row),
    )
    .await?
    .pop()
    .ok_or_else(not_found)?;
    Ok(ValidatedLicenseKey {
        key,
        activation: activation.as_ref().map(LicenseKeyActivationBase::from),
    })
}

/// Polar's checks, in its order; then the validation is recorded on `row`.
async fn check_validation(
    txn: &DatabaseTransaction,
    row: &mut Model,
    body: &LicenseKeyValidate,
    now: DateTime<Utc>,
) -> ApiResult<Option<activation::Model>> {
    match usable(row, now) {
        Err(Unusable::Expired) => {
            return Err(ApiError::ResourceNotFound(
                "License key has expired.".to_owned(),
            ));
        }
        Err(Unusable::Inactive) => {
            return Err(ApiError::ResourceNotFound(
                "License key is no longer active.".to_owned(),
            ));
        }
        Ok(()) => {}
    }
    let mut found = None;
    if let Some(activation_id) = body.activation_id {
        let activation = store::activation(txn.into(), row.id, activation_id)
            .await?
            .ok_or_else(not_found)?;
        let required = crate::metadata::from_text(&activation.conditions);
        if !required.is_empty() && !same_conditions(&required, &body.conditions) {
            return Err(ApiError::ResourceNotFound(
                "License key does not match required conditions".to_owned(),
            ));
        }
        found = Some(activation);
    }
    if body.benefit_id.is_some_and(|id| id != row.benefit_id) {
        return Err(ApiError::ResourceNotFound(
            "License key does not match given benefit.".to_owned(),
        ));
    }
    if body.customer_id.is_some_and(|id| id != row.customer_id) {
        return Err(ApiError::ResourceNotFound(
            "License key does not match given user.".to_owned(),
        ));
    }
    let increment = body.increment_usage.unwrap_or(0);
    if increment > 0
        && let Some(limit) = row.limit_usage
    {
        let remaining = limit - row.usage;
        if increment > remaining {
            return Err(ApiError::BadRequest(format!(
                "License key only has {remaining} more usages."
            )));
        }
    }
    row.validations += 1;
    row.last_validated_at = Some(now);
    row.usage = row.usage.saturating_add(increment);
    row.modified_at = Some(now);
    Ok(found)
}

/// `license_keys:activate`: one more instance, up to the key's activation limit.
pub async fn activate(
    app: &AppState,
    caller: Uuid,
    body: LicenseKeyActivate,
) -> Result<LicenseKeyActivationRead, Refusal> {
    let mut validator = Validator::new();
    if body.label.contains('\0') {
        validator.push(
            Loc::body().key("label"),
            "string_invalid_characters",
            "This value contains invalid characters",
            json!(body.label),
        );
    }
    check_pairs(&body.conditions, "conditions", &mut validator);
    check_pairs(&body.meta, "meta", &mut validator);
    validator.finish()?;

    let now = app.clock.now();
    let (txn, row) = locked_key(app, caller, body.organization_id, &body.key, now).await?;
    let before = row.clone();
    let outcome = add_activation(&txn, &row, &body, now).await;
    let (activation, row) = finish(txn, row, &before, outcome).await?;
    let key = present(
        (&app.reader).into(),
        row.organization_id,
        std::slice::from_ref(&row),
    )
    .await?
    .pop()
    .ok_or_else(not_found)?;
    Ok(LicenseKeyActivationRead {
        activation: LicenseKeyActivationBase::from(&activation),
        license_key: key,
    })
}

async fn add_activation(
    txn: &DatabaseTransaction,
    row: &Model,
    body: &LicenseKeyActivate,
    now: DateTime<Utc>,
) -> ApiResult<activation::Model> {
    match usable(row, now) {
        Err(Unusable::Expired) => {
            return Err(ApiError::NotPermitted(
                "License key has expired.".to_owned(),
            ));
        }
        Err(Unusable::Inactive) => {
            return Err(ApiError::NotPermitted(
                "License key is no longer active. This license key can not be activated."
                    .to_owned(),
            ));
        }
        Ok(()) => {}
    }
    let Some(limit) = row.limit_activations.filter(|l| *l > 0) else {
        return Err(ApiError::NotPermitted(
            "This license key does not support activations. Use the /validate endpoint instead to check license validity.".to_owned(),
        ));
    };
    let active = store::count_activations(txn, row.id).await?;
    if i64::try_from(active).unwrap_or(i64::MAX) >= limit {
        return Err(ApiError::NotPermitted(
            "License key activation limit already reached".to_owned(),
        ));
    }
    Ok(store::insert_activation(
        txn,
        activation::Model {
            id: Uuid::new_v4(),
            created_at: now,
            modified_at: None,
            deleted_at: None,
            license_key_id: row.id,
            label: body.label.clone(),
            conditions: crate::metadata::to_text(&body.conditions),
            meta: crate::metadata::to_text(&body.meta),
        },
    )
    .await?)
}

/// `license_keys:deactivate`: frees an activation's seat (the record stays).
pub async fn deactivate(
    app: &AppState,
    caller: Uuid,
    body: LicenseKeyDeactivate,
) -> Result<(), Refusal> {
    let now = app.clock.now();
    let (txn, row) = locked_key(app, caller, body.organization_id, &body.key, now).await?;
    let before = row.clone();
    let outcome = async {
        let mut activation = store::activation((&txn).into(), row.id, body.activation_id)
            .await?
            .ok_or_else(not_found)?;
        activation.deleted_at = Some(now);
        activation.modified_at = Some(now);
        store::update_activation(&txn, activation).await?;
        ApiResult::Ok(())
    }
    .await;
    finish(txn, row, &before, outcome).await?;
    Ok(())
}

/// `license_keys:get_activation`.
pub async fn get_activation(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    activation_id: Uuid,
) -> ApiResult<LicenseKeyActivationRead> {
    let row = store::get((&app.reader).into(), organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    let activation = store::activation((&app.reader).into(), row.id, activation_id)
        .await?
        .ok_or_else(not_found)?;
    let key = present(
        (&app.reader).into(),
        organization_id,
        std::slice::from_ref(&row),
    )
    .await?
    .pop()
    .ok_or_else(not_found)?;
    Ok(LicenseKeyActivationRead {
        activation: LicenseKeyActivationBase::from(&activation),
        license_key: key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .expect("a time")
    }

    #[test]
    fn a_keys_prefix_is_read_back_from_its_text() {
        let key = generate_key(Some("acme-pro"));
        assert_eq!(prefix_of(&key), Some("ACME-PRO"));
        assert_eq!(prefix_of(&generate_key(None)), None);
        assert_eq!(prefix_of("short"), None);
        assert_eq!(prefix_of("ÄÖÜ-ÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖ"), None);
    }

    #[test]
    fn keys_carry_their_prefix_in_capitals() {
        let key = generate_key(Some(" acme "));
        assert!(key.starts_with("ACME-"), "{key}");
        assert_eq!(key.len(), "ACME-".len() + 36);
        assert_eq!(key, key.to_uppercase());
        assert_eq!(generate_key(None).len(), 36);
        assert_eq!(generate_key(Some("")).len(), 36);
    }

    #[test]
    fn terms_come_from_the_benefit() {
        let now = at("2026-01-31T12:00:00Z");
        let properties = json!({"prefix": "ACME", "expires": {"ttl": 1, "timeframe": "month"},
            "activations": {"limit": 3, "enable_customer_admin": true}, "limit_usage": 10});
        let terms = Terms::of(properties.as_object().expect("object"), now);
        assert_eq!(
            terms,
            Ok(Terms {
                prefix: Some("ACME".to_owned()),
                expires_at: Some(at("2026-02-28T12:00:00Z")),
                limit_activations: Some(3),
                limit_usage: Some(10),
            })
        );
        let years = json!({"expires": {"ttl": 2, "timeframe": "year"}});
        assert_eq!(
            Terms::of(years.as_object().expect("object"), now).map(|t| t.expires_at),
            Ok(Some(at("2028-01-31T12:00:00Z")))
        );
        let days = json!({"expires": {"ttl": 10, "timeframe": "day"}, "activations": null});
        assert_eq!(
            Terms::of(days.as_object().expect("object"), now).map(|t| t.expires_at),
            Ok(Some(at("2026-02-10T12:00:00Z")))
        );
        let far = json!({"expires": {"ttl": 9000, "timeframe": "year"}});
        assert!(Terms::of(far.as_object().expect("object"), now).is_err());
    }

    #[test]
    fn conditions_compare_numbers_by_value() {
        let a = json!({"major": 1, "os": "linux"});
        let b = json!({"major": 1.0, "os": "linux"});
        let c = json!({"major": 2, "os": "linux"});
        let (a, b, c) = (
            a.as_object().expect("object"),
            b.as_object().expect("object"),
            c.as_object().expect("object"),
        );
        assert!(same_conditions(a, b));
        assert!(!same_conditions(a, c));
        assert!(!same_conditions(a, &Map::new()));
    }
}
