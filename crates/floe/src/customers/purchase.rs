//! The buyer of a purchase: the customer a checkout names, finds or creates when it is
//! confirmed, with the details the buyer gave (name, billing name and address, tax ID).

use sea_orm::{DatabaseTransaction, DbErr};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::entity::Model;
use super::schema::CustomerType;
use super::service::emit_change;
use super::store::{self, CustomerKey};
use crate::app::AppState;
use crate::http::{ApiError, ApiResult, Loc};
use crate::webhooks::EventType;

/// Who is buying, as the checkout knows them.
pub struct Buyer<'a> {
    pub customer_id: Option<Uuid>,
    pub external_id: Option<&'a str>,
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
    pub billing_name: Option<&'a str>,
    /// `Address` as stored (JSON).
    pub billing_address: Option<&'a str>,
    /// `[value, format]` as stored (JSON).
    pub tax_id: Option<&'a str>,
    /// Given to a customer created here.
    pub metadata: &'a Map<String, Value>,
}

/// A live customer of `organization_id` named by ID or external ID, in `txn`.
pub async fn find(
    txn: &DatabaseTransaction,
    organization_id: Uuid,
    key: CustomerKey,
) -> Result<Option<Model>, DbErr> {
    store::get_in(txn, organization_id, &key).await
}

async fn by_email(
    txn: &DatabaseTransaction,
    organization_id: Uuid,
    email: &str,
) -> Result<Option<Model>, DbErr> {
    store::by_email_in(txn, organization_id, email).await
}

/// The customer `buyer` is (by ID, else external ID, else email), created when there is
/// none, with the details the buyer gave written over what it had. Queues the
/// `customer.*` events of the change; returns the customer and how many were queued.
pub async fn settle(
    app: &AppState,
    txn: &DatabaseTransaction,
    organization_id: Uuid,
    buyer: Buyer<'_>,
) -> ApiResult<(Model, usize)> {
    let now = app.clock.now();
    let mut found = match buyer.customer_id {
        Some(id) => find(txn, organization_id, CustomerKey::Id(id)).await?,
        None => None,
    };
    if found.is_none()
        && let Some(external_id) = buyer.external_id
    {
        found = find(
            txn,
            organization_id,
            CustomerKey::External(external_id.to_owned()),
        )
        .await?;
    }
    if found.is_none()
        && let Some(email) = buyer.email
    {
        found = by_email(txn, organization_id, email).await?;
        if let (Some(customer), Some(external_id)) = (&found, buyer.external_id)
            && customer
                .external_id
                .as_deref()
                .is_some_and(|theirs| theirs != external_id)
        {
            return Err(ApiError::validation(
                Loc::body().key("customer_email"),
                "value_error",
                "A customer with this email address already exists with another external ID.",
                json!(email),
            ));
        }
    }
    let Some(mut row) = found else {
        let Some(email) = buyer.email else {
            return Err(ApiError::validation(
                Loc::body().key("customer_email"),
                "missing",
                "Field is required.",
                Value::Null,
            ));
        };
        let row = Model {
            id: Uuid::new_v4(),
            created_at: now,
            modified_at: None,
            deleted_at: None,
            organization_id,
            kind: CustomerType::Individual.as_str().to_owned(),
            email: Some(email.to_owned()),
            email_key: Some(email.to_lowercase()),
            email_verified: false,
            name: buyer.name.map(str::to_owned),
            billing_name: buyer.billing_name.map(str::to_owned),
            billing_address: buyer.billing_address.map(str::to_owned),
            tax_id: buyer.tax_id.map(str::to_owned),
            locale: None,
            external_id: buyer.external_id.map(str::to_owned),
            metadata: crate::metadata::to_text(buyer.metadata),
            first_user_event_at: None,
            default_payment_method_id: None,
        };
        let row = store::insert(txn, row).await?;
        let queued = emit_change(app, txn, &row, EventType::CustomerCreated, now).await?;
        return Ok((row, queued));
    };
    let before = row.clone();
    if let Some(name) = buyer.name {
        row.name = Some(name.to_owned());
    }
    if let Some(billing_name) = buyer.billing_name {
        row.billing_name = Some(billing_name.to_owned());
    }
    if let Some(address) = buyer.billing_address {
        row.billing_address = Some(address.to_owned());
    }
    if let Some(tax_id) = buyer.tax_id {
        row.tax_id = Some(tax_id.to_owned());
    }
    if row.external_id.is_none() {
        row.external_id = buyer.external_id.map(str::to_owned);
    }
    if row == before {
        return Ok((row, 0));
    }
    row.modified_at = Some(now);
    let row = store::update(txn, row).await?;
    let queued = emit_change(app, txn, &row, EventType::CustomerUpdated, now).await?;
    Ok((row, queued))
}
