//! The rules of customers: valid emails, unique emails and external IDs, what updating and
//! deleting mean, and the webhook events each change queues (in the same transaction).
//! Like Polar, every `customer.created`, `customer.updated` and `customer.deleted` is
//! followed by a `customer.state_changed`.

use sea_orm::{DatabaseTransaction, DbErr, SqlErr};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::entity::Model;
use super::schema::{Customer, CustomerCreate, CustomerState, CustomerType, CustomerUpdate};
use super::store::{self, CustomerKey};
use crate::address::{self, Address};
use crate::app::AppState;
use crate::http::{ApiError, ApiResult, Loc, Validator};
use crate::webhooks::{self, EventType};

pub(super) const MAX_NAME_CHARS: usize = 256;
const MAX_EMAIL_CHARS: usize = 320;
const MAX_EXTERNAL_ID_CHARS: usize = 256;
const MAX_LOCALE_CHARS: usize = 35;

/// A plausible email address: one `@`, a local part, a domain with a dot and no spaces.
/// (Deliverability is the mail server's business.)
pub fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain.contains('.')
        && !domain.contains("..")
        && email.chars().count() <= MAX_EMAIL_CHARS
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
}

pub(crate) fn check_email(email: &str, validator: &mut Validator) {
    if !is_email(email) {
        validator.push(
            Loc::body().key("email"),
            "value_error",
            "value is not a valid email address",
            json!(email),
        );
    }
}

pub(crate) fn check_text(value: Option<&str>, field: &str, max: usize, validator: &mut Validator) {
    if let Some(value) = value
        && value.chars().count() > max
    {
        validator.push(
            Loc::body().key(field),
            "string_too_long",
            format!("String should have at most {max} characters"),
            json!(value),
        );
    }
}

fn check_external_id(value: Option<&str>, validator: &mut Validator) {
    check_text(value, "external_id", MAX_EXTERNAL_ID_CHARS, validator);
    if value.is_some_and(str::is_empty) {
        validator.push(
            Loc::body().key("external_id"),
            "string_too_short",
            "String should have at least 1 character",
            json!(""),
        );
    }
}

/// Turns a unique-index violation into the 422 Polar answers with.
fn conflict(error: DbErr, email: Option<&str>, external_id: Option<&str>) -> ApiError {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) => {
            let (field, msg, input) = if message.contains("external_id") {
                (
                    "external_id",
                    "A customer with this external ID already exists.",
                    external_id,
                )
            } else {
                (
                    "email",
                    "A customer with this email address already exists.",
                    email,
                )
            };
            ApiError::validation(Loc::body().key(field), "value_error", msg, json!(input))
        }
        _ => ApiError::from(error),
    }
}

/// Queues `customer.<change>` and `customer.state_changed` for `row`.
pub(crate) async fn emit_change(
    app: &AppState,
    txn: &DatabaseTransaction,
    row: &Model,
    change: EventType,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, DbErr> {
    let customer = Customer::from(row);
    let endpoints = webhooks::outbox::Endpoints::of(txn, row.organization_id).await?;
    let mut queued =
        webhooks::outbox::emit_to(txn, &endpoints, row.organization_id, change, &customer, now)
            .await?;
    // The state reads all the customer's usage events: build it only when an endpoint gets it.
    if !endpoints.subscribe_to(EventType::CustomerStateChanged) {
        return Ok(queued);
    }
    let state = if row.deleted_at.is_some() {
        CustomerState::new(customer, &[], Vec::new(), Vec::new())
    } else {
        state(app, txn.into(), customer).await?
    };
    queued += webhooks::outbox::emit_to(
        txn,
        &endpoints,
        row.organization_id,
        EventType::CustomerStateChanged,
        &state,
        now,
    )
    .await?;
    Ok(queued)
}

/// A customer's state: its granted benefits, read in `db` (the transaction that changed
/// them, when there is one), and its meters, read beside it: usage events are immutable,
/// and a change that records one itself (a meter-credit grant) adds it to what it sends.
pub async fn state(
    app: &AppState,
    db: crate::db::Reads<'_>,
    customer: Customer,
) -> Result<CustomerState, DbErr> {
    let granted = crate::benefits::granted_to(db, customer.organization_id, customer.id).await?;
    let subscriptions =
        crate::subscriptions::customer_state(db, customer.organization_id, customer.id).await?;
    let meters = crate::customer_meters::for_customer(
        app,
        customer.organization_id,
        customer.id,
        customer.external_id.as_deref(),
    )
    .await?;
    Ok(CustomerState::new(
        customer,
        &meters,
        granted,
        subscriptions,
    ))
}

pub async fn create(
    app: &AppState,
    organization_id: Uuid,
    body: CustomerCreate,
) -> ApiResult<Customer> {
    let kind = body.kind.unwrap_or(CustomerType::Individual);
    let mut validator = Validator::new();
    validator.reject_organization_id(body.organization_id);
    match (&body.email, kind) {
        (Some(email), _) => check_email(email, &mut validator),
        (None, CustomerType::Individual) => validator.push(
            Loc::body().key("email"),
            "missing",
            "Field required",
            Value::Null,
        ),
        (None, CustomerType::Team) => {}
    }
    check_text(body.name.as_deref(), "name", MAX_NAME_CHARS, &mut validator);
    check_text(
        body.locale.as_deref(),
        "locale",
        MAX_LOCALE_CHARS,
        &mut validator,
    );
    check_external_id(body.external_id.as_deref(), &mut validator);
    let metadata = body.metadata.unwrap_or_default();
    crate::metadata::check(&metadata, &Loc::body().key("metadata"), &mut validator);
    if let Some(address) = &body.billing_address {
        address.check(&Loc::body().key("billing_address"), &mut validator);
    }
    if let Some(owner) = &body.owner
        && !is_email(&owner.email)
    {
        validator.push(
            Loc::body().key("owner").key("email"),
            "value_error",
            "value is not a valid email address",
            json!(owner.email),
        );
    }
    let tax_id = body.tax_id.as_deref().and_then(|raw| {
        address::tax_id(
            raw,
            body.billing_address.as_ref().map(|a| a.country.as_str()),
            &Loc::body().key("tax_id"),
            &mut validator,
        )
    });
    validator.finish()?;

    let now = app.clock.now();
    let row = Model {
        id: Uuid::new_v4(),
        created_at: now,
        modified_at: None,
        deleted_at: None,
        organization_id,
        kind: kind.as_str().to_owned(),
        email_key: body.email.as_deref().map(str::to_lowercase),
        email: body.email.clone(),
        email_verified: false,
        name: body.name,
        billing_name: None,
        billing_address: body.billing_address.as_ref().map(address_text),
        tax_id: tax_id.map(|(value, format)| address::tax_id_to_text(&value, format)),
        locale: body.locale,
        external_id: body.external_id.clone(),
        metadata: crate::metadata::to_text(&metadata),
        first_user_event_at: None,
        default_payment_method_id: None,
    };
    let txn = crate::db::begin_write(&app.db).await?;
    let row = store::insert(&txn, row)
        .await
        .map_err(|e| conflict(e, body.email.as_deref(), body.external_id.as_deref()))?;
    let queued = emit_change(app, &txn, &row, EventType::CustomerCreated, now).await?;
    app.nudge.commit(txn, queued).await?;
    Ok(Customer::from(&row))
}

fn address_text(address: &Address) -> String {
    json!(address).to_string()
}

pub(super) fn not_found() -> ApiError {
    ApiError::ResourceNotFound("Customer not found.".to_owned())
}

/// Applies a `CustomerUpdate` (or, for `by_external_id`, a `CustomerUpdateExternalID`,
/// which cannot change the external ID or the type).
pub async fn update(
    app: &AppState,
    organization_id: Uuid,
    key: CustomerKey,
    patch: CustomerUpdate,
) -> ApiResult<Customer> {
    let mut validator = Validator::new();
    if let Some(Some(email)) = &patch.email {
        check_email(email, &mut validator);
    }
    if let Some(Some(name)) = &patch.name {
        check_text(Some(name), "name", MAX_NAME_CHARS, &mut validator);
    }
    if let Some(Some(locale)) = &patch.locale {
        check_text(Some(locale), "locale", MAX_LOCALE_CHARS, &mut validator);
    }
    if let Some(Some(metadata)) = &patch.metadata {
        crate::metadata::check(metadata, &Loc::body().key("metadata"), &mut validator);
    }
    if let Some(Some(address)) = &patch.billing_address {
        address.check(&Loc::body().key("billing_address"), &mut validator);
    }
    if let Some(external_id) = &patch.external_id {
        check_external_id(external_id.as_deref(), &mut validator);
    }
    if matches!(patch.billing_address, Some(None)) {
        validator.push(
            Loc::body().key("billing_address"),
            "value_error",
            "Customer billing address cannot be reset to null once set.",
            Value::Null,
        );
    }
    validator.finish()?;

    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = store::get_in(&txn, organization_id, &key)
        .await?
        .ok_or_else(not_found)?;
    let before = row.clone();
    let mut validator = Validator::new();
    match patch.email {
        Some(Some(email)) => {
            if row.email_key.as_deref() != Some(email.to_lowercase().as_str()) {
                row.email_verified = false;
            }
            row.email_key = Some(email.to_lowercase());
            row.email = Some(email);
        }
        Some(None) if row.kind == CustomerType::Individual.as_str() => validator.push(
            Loc::body().key("email"),
            "value_error",
            "An individual customer must have an email address.",
            Value::Null,
        ),
        Some(None) => {
            row.email = None;
            row.email_key = None;
            row.email_verified = false;
        }
        None => {}
    }
    if let Some(name) = patch.name {
        row.name = name;
    }
    if let Some(locale) = patch.locale {
        row.locale = locale;
    }
    if let Some(metadata) = patch.metadata {
        row.metadata = crate::metadata::to_text(&metadata.unwrap_or_default());
    }
    if let Some(Some(address)) = &patch.billing_address {
        row.billing_address = Some(address_text(address));
    }
    if let Some(external_id) = patch.external_id.clone()
        && row.external_id != external_id
    {
        if row.external_id.is_some() {
            validator.push(
                Loc::body().key("external_id"),
                "value_error",
                "Customer external ID cannot be updated.",
                json!(external_id),
            );
        } else {
            row.external_id = external_id;
        }
    }
    match patch.kind {
        Some(Some(CustomerType::Team)) => row.kind = CustomerType::Team.as_str().to_owned(),
        Some(Some(CustomerType::Individual)) | Some(None)
            if row.kind == CustomerType::Team.as_str() =>
        {
            validator.push(
                Loc::body().key("type"),
                "value_error",
                "Customer type cannot be downgraded from 'team' to 'individual'.",
                json!(patch.kind.flatten().map(CustomerType::as_str)),
            )
        }
        _ => {}
    }
    match patch.tax_id {
        Some(None) => row.tax_id = None,
        Some(Some(raw)) => {
            let country = row
                .billing_address
                .as_deref()
                .and_then(|text| serde_json::from_str::<Address>(text).ok())
                .map(|address| address.country);
            if let Some((value, format)) = address::tax_id(
                &raw,
                country.as_deref(),
                &Loc::body().key("tax_id"),
                &mut validator,
            ) {
                row.tax_id = Some(address::tax_id_to_text(&value, format));
            }
        }
        None => {}
    }
    validator.finish()?;
    if row == before {
        // Nothing changed: no write, no event.
        return Ok(Customer::from(&row));
    }
    row.modified_at = Some(now);
    let email = row.email.clone();
    let external_id = row.external_id.clone();
    let row = store::update(&txn, row)
        .await
        .map_err(|e| conflict(e, email.as_deref(), external_id.as_deref()))?;
    let queued = emit_change(app, &txn, &row, EventType::CustomerUpdated, now).await?;
    app.nudge.commit(txn, queued).await?;
    Ok(Customer::from(&row))
}

/// Soft-deletes a customer; its email and external ID become free for a new customer.
/// With `anonymize`, personal data is scrubbed as well (name and address, and the email
/// replaced by a stable pseudonym); the external ID and tax ID are kept for the books.
pub async fn delete(
    app: &AppState,
    organization_id: Uuid,
    key: CustomerKey,
    anonymize: bool,
) -> ApiResult<()> {
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = store::get_in(&txn, organization_id, &key)
        .await?
        .ok_or_else(not_found)?;
    row.deleted_at = Some(now);
    row.modified_at = Some(now);
    if anonymize {
        if let Some(email) = &row.email {
            let digest = hex::encode(Sha256::digest(email.to_lowercase().as_bytes()));
            let pseudonym = format!("{}@anonymized.invalid", &digest[..16]);
            row.email_key = Some(pseudonym.clone());
            row.email = Some(pseudonym);
        }
        if row.tax_id.is_none() {
            row.name = None;
        }
        row.billing_name = None;
        row.billing_address = None;
        row.metadata = crate::metadata::to_text(&Map::new());
    }
    let row = store::update(&txn, row).await?;
    let mut queued = emit_change(app, &txn, &row, EventType::CustomerDeleted, now).await?;
    queued += crate::members::remove_all_of_customer(&txn, row.id, now).await?;
    app.nudge.commit(txn, queued).await?;
    Ok(())
}

/// The CSV export: a header and one row per live customer, oldest first.
pub async fn export(app: &AppState, organization_id: Uuid) -> ApiResult<String> {
    let rows = store::all(&app.reader, organization_id).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "ID",
        "External ID",
        "Created At",
        "Email",
        "Name",
        "Tax ID",
        "Billing Address Line 1",
        "Billing Address Line 2",
        "Billing Address City",
        "Billing Address State",
        "Billing Address Zip",
        "Billing Address Country",
        "Metadata",
    ];
    let io = |e: csv::Error| ApiError::internal(anyhow::Error::from(e));
    writer.write_record(header).map_err(io)?;
    for row in rows {
        let customer = Customer::from(&row);
        let address = customer.billing_address.clone().unwrap_or_default();
        let tax_id = customer
            .tax_id
            .as_ref()
            .and_then(|t| t.get(0))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let record = [
            customer.id.to_string(),
            customer.external_id.unwrap_or_default(),
            customer
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            customer.email.unwrap_or_default(),
            customer.name.unwrap_or_default(),
            tax_id,
            address.line1.unwrap_or_default(),
            address.line2.unwrap_or_default(),
            address.city.unwrap_or_default(),
            address.state.unwrap_or_default(),
            address.postal_code.unwrap_or_default(),
            address.country,
            if customer.metadata.is_empty() {
                String::new()
            } else {
                Value::Object(customer.metadata).to_string()
            },
        ];
        writer
            .write_record(record.iter().map(|cell| neutralize_formula(cell)))
            .map_err(io)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
    String::from_utf8(bytes).map_err(ApiError::internal)
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) is
/// prefixed with `'`, so an export opened in Excel cannot execute what a customer typed.
fn neutralize_formula(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(is_email("ada@example.com"));
        assert!(is_email("a.b+tag@sub.example.co.uk"));
        assert!(is_email("jürgen@exämple.de"));
        assert!(!is_email("ada"));
        assert!(!is_email("ada@localhost"));
        assert!(!is_email("@example.com"));
        assert!(!is_email("ada@example..com"));
        assert!(!is_email("a da@example.com"));
        assert!(!is_email("ada@exa_mple.com"));
    }

    #[test]
    fn formulas_are_neutralized() {
        assert_eq!(neutralize_formula("=1+1"), "'=1+1");
        assert_eq!(neutralize_formula("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralize_formula("Ada"), "Ada");
    }
}
