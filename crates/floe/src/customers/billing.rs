//! What a customer may change about itself through the portal
//! (`customer_portal:customers:update`): its billing name, billing address, tax ID and
//! default payment method, nothing else. The rules are the merchant update's where the two
//! overlap (an address once set cannot be cleared; a tax ID is checked against the
//! address's country, again when the country changes), and `customer.updated` follows a
//! change, in the same transaction.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::schema::Customer;
use super::service::{MAX_NAME_CHARS, check_text, emit_change, not_found};
use super::store::{self, CustomerKey};
use crate::address::{self, Address};
use crate::app::AppState;
use crate::http::{ApiResult, Loc, Validator, patch};
use crate::payments::entity::method;
use crate::webhooks::EventType;

/// `CustomerPortalCustomerUpdate`: absent fields stay, `null` clears where clearing is
/// allowed.
#[derive(Debug, Default, Deserialize)]
pub struct BillingDetailsUpdate {
    #[serde(default, deserialize_with = "patch::field")]
    pub billing_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub billing_address: Option<Option<Address>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub tax_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub default_payment_method_id: Option<Option<Uuid>>,
}

/// Applies a portal update to `customer_id`'s billing details.
pub async fn update_billing_details(
    app: &AppState,
    organization_id: Uuid,
    customer_id: Uuid,
    patch: BillingDetailsUpdate,
) -> ApiResult<Customer> {
    let mut validator = Validator::new();
    if let Some(Some(name)) = &patch.billing_name {
        check_text(Some(name), "billing_name", MAX_NAME_CHARS, &mut validator);
    }
    if let Some(Some(address)) = &patch.billing_address {
        address.check(&Loc::body().key("billing_address"), &mut validator);
    }
    if matches!(patch.default_payment_method_id, Some(None)) {
        validator.push(
            Loc::body().key("default_payment_method_id"),
            "value_error",
            "The default payment method cannot be removed, only replaced.",
            Value::Null,
        );
    }
    validator.finish()?;

    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let mut row = store::get_in(&txn, organization_id, &CustomerKey::Id(customer_id))
        .await?
        .ok_or_else(not_found)?;
    let before = row.clone();
    let mut validator = Validator::new();
    if let Some(name) = patch.billing_name {
        row.billing_name = name.filter(|name| !name.trim().is_empty());
    }
    match &patch.billing_address {
        Some(Some(address)) => row.billing_address = Some(json!(address).to_string()),
        Some(None) if row.billing_address.is_some() => validator.push(
            Loc::body().key("billing_address"),
            "value_error",
            "Customer billing address cannot be reset to null once set.",
            Value::Null,
        ),
        _ => {}
    }
    let country = row
        .billing_address
        .as_deref()
        .and_then(|text| serde_json::from_str::<Address>(text).ok())
        .map(|address| address.country);
    // A new tax ID is checked against the (new) country; a kept one again when the
    // country changes, since it may not be valid there.
    let country_changed = before.billing_address != row.billing_address;
    let clear_tax_id = matches!(patch.tax_id, Some(None));
    let tax_id = match patch.tax_id {
        Some(given) => given,
        None if country_changed => row
            .tax_id
            .as_deref()
            .and_then(|text| address::tax_id_from_text(Some(text)))
            .and_then(|value| value.get(0).and_then(Value::as_str).map(str::to_owned)),
        None => None,
    };
    match tax_id {
        Some(raw) => {
            if let Some((value, format)) = address::tax_id(
                &raw,
                country.as_deref(),
                &Loc::body().key("tax_id"),
                &mut validator,
            ) {
                row.tax_id = Some(address::tax_id_to_text(&value, format));
            }
        }
        None if clear_tax_id => row.tax_id = None,
        None => {}
    }
    if let Some(Some(method_id)) = patch.default_payment_method_id {
        let owned = method::Entity::find_by_id(method_id)
            .filter(method::Column::CustomerId.eq(customer_id))
            .filter(method::Column::DeletedAt.is_null())
            .one(&txn)
            .await?
            .is_some();
        if owned {
            row.default_payment_method_id = Some(method_id);
        } else {
            validator.push(
                Loc::body().key("default_payment_method_id"),
                "value_error",
                "Payment method does not exist.",
                json!(method_id),
            );
        }
    }
    validator.finish()?;
    if row == before {
        return Ok(Customer::from(&row));
    }
    row.modified_at = Some(now);
    let row = store::update(&txn, row).await?;
    let queued = emit_change(app, &txn, &row, EventType::CustomerUpdated, now).await?;
    app.nudge.commit(txn, queued).await?;
    Ok(Customer::from(&row))
}
