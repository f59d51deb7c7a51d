//! A customer's saved payment methods as the API shows them (`customers:list_payment_methods`):
//! cards with their brand, last four digits and expiry, newest first, the customer's default
//! marked. Other kinds of method (none is saved yet) show only their type.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::entity::Model as CustomerRow;
use crate::db::ReadConnection;
use crate::http::Pagination;
use crate::payments::entity::method::{Column, Entity, Model};

#[derive(Debug, Serialize)]
pub struct PaymentMethod {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    /// The contract's only processor name: floe answers `stripe` for every processor.
    pub processor: &'static str,
    pub customer_id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method_metadata: Option<CardMetadata>,
    pub is_default: bool,
}

#[derive(Debug, Serialize)]
pub struct CardMetadata {
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
    pub wallet: Option<String>,
}

/// The card details recorded with a method (`None` for other kinds, or a record without
/// them, which is then shown as a generic method).
fn card_of(row: &Model) -> Option<CardMetadata> {
    if row.kind != "card" {
        return None;
    }
    let fields: Map<String, Value> = serde_json::from_str(&row.method_metadata).ok()?;
    Some(CardMetadata {
        brand: fields.get("brand")?.as_str()?.to_owned(),
        last4: fields.get("last4")?.as_str()?.to_owned(),
        exp_month: fields.get("exp_month")?.as_i64()?,
        exp_year: fields.get("exp_year")?.as_i64()?,
        wallet: fields
            .get("wallet")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

pub(super) fn present(row: Model, default: Option<Uuid>) -> PaymentMethod {
    let card = card_of(&row);
    PaymentMethod {
        is_default: default == Some(row.id),
        kind: if card.is_some() {
            "card".to_owned()
        } else {
            row.kind
        },
        method_metadata: card,
        id: row.id,
        created_at: row.created_at,
        modified_at: row.modified_at,
        processor: "stripe",
        customer_id: row.customer_id,
    }
}

/// A page of `customer`'s live payment methods, newest first, and how many it has.
pub async fn list(
    db: &ReadConnection,
    customer: &CustomerRow,
    pagination: Pagination,
) -> Result<(Vec<PaymentMethod>, u64), DbErr> {
    let select = Entity::find()
        .filter(Column::OrganizationId.eq(customer.organization_id))
        .filter(Column::CustomerId.eq(customer.id))
        .filter(Column::DeletedAt.is_null())
        .order_by_desc(Column::CreatedAt)
        .order_by_asc(Column::Id);
    let (rows, total) = crate::db::paginate(db, select, pagination).await?;
    let default = customer.default_payment_method_id;
    Ok((
        rows.into_iter().map(|row| present(row, default)).collect(),
        total,
    ))
}
