//! Wire types of the customers API, named after the spec's schemas.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::entity::Model;
use crate::address::{Address, tax_id_from_text};
use crate::http::pagination::SortProperty;
use crate::http::patch;

/// `Customer` (`CustomerIndividual` or `CustomerTeam`: one shape, told apart by `type`).
#[derive(Clone, Debug, Serialize)]
pub struct Customer {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub metadata: Map<String, Value>,
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub email_verified: bool,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    pub billing_name: Option<String>,
    pub billing_address: Option<Address>,
    pub tax_id: Option<Value>,
    pub locale: Option<String>,
    pub organization_id: Uuid,
    pub default_payment_method_id: Option<Uuid>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub first_user_event_at: Option<DateTime<Utc>>,
    pub avatar_url: Option<String>,
}

impl From<&Model> for Customer {
    fn from(row: &Model) -> Self {
        Self {
            id: row.id,
            created_at: row.created_at,
            modified_at: row.modified_at,
            metadata: crate::metadata::from_text(&row.metadata),
            external_id: row.external_id.clone(),
            email: row.email.clone(),
            email_verified: row.email_verified,
            kind: row.kind.clone(),
            name: row.name.clone(),
            billing_name: row.billing_name.clone(),
            billing_address: row
                .billing_address
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok()),
            tax_id: tax_id_from_text(row.tax_id.as_deref()),
            locale: row.locale.clone(),
            organization_id: row.organization_id,
            default_payment_method_id: row.default_payment_method_id,
            deleted_at: row.deleted_at,
            first_user_event_at: row.first_user_event_at,
            avatar_url: None,
        }
    }
}

/// `CustomerState`: the customer, with what it has access to right now: its active and
/// trialing subscriptions, its granted benefits and its meters.
#[derive(Clone, Debug, Serialize)]
pub struct CustomerState {
    #[serde(flatten)]
    pub customer: Customer,
    pub active_subscriptions: Vec<crate::subscriptions::schema::CustomerStateSubscription>,
    pub granted_benefits: Vec<crate::benefits::CustomerStateBenefitGrant>,
    pub active_meters: Vec<crate::customer_meters::CustomerStateMeter>,
}

impl CustomerState {
    pub fn new(
        customer: Customer,
        meters: &[crate::customer_meters::MeterState],
        granted_benefits: Vec<crate::benefits::CustomerStateBenefitGrant>,
        active_subscriptions: Vec<crate::subscriptions::schema::CustomerStateSubscription>,
    ) -> Self {
        Self {
            customer,
            active_subscriptions,
            granted_benefits,
            active_meters: meters.iter().map(Into::into).collect(),
        }
    }
}

/// `MemberOwnerCreate`: accepted and checked, but floe has no members yet.
#[derive(Debug, Deserialize)]
pub struct MemberOwnerCreate {
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
}

/// `CustomerCreate` (`CustomerIndividualCreate` or `CustomerTeamCreate`).
#[derive(Debug, Deserialize)]
pub struct CustomerCreate {
    #[serde(default, rename = "type")]
    pub kind: Option<CustomerType>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub billing_address: Option<Address>,
    #[serde(default)]
    pub tax_id: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub organization_id: Option<Uuid>,
    #[serde(default)]
    pub owner: Option<MemberOwnerCreate>,
}

/// `CustomerUpdate` and `CustomerUpdateExternalID`: absent fields stay, `null` clears
/// (where clearing is allowed).
#[derive(Debug, Default, Deserialize)]
pub struct CustomerUpdate {
    #[serde(default, deserialize_with = "patch::field")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub external_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub metadata: Option<Option<Map<String, Value>>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub billing_address: Option<Option<Address>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub tax_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub locale: Option<Option<String>>,
    #[serde(default, rename = "type", deserialize_with = "patch::field")]
    pub kind: Option<Option<CustomerType>>,
}

/// `CustomerType`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CustomerType {
    Individual,
    Team,
}

impl CustomerType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Individual => "individual",
            Self::Team => "team",
        }
    }
}

/// `CustomerSortProperty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CustomerSortProperty {
    CreatedAt,
    Email,
    Name,
}

impl SortProperty for CustomerSortProperty {
    const NAMES: &'static [&'static str] = &["created_at", "email", "name"];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "created_at" => Self::CreatedAt,
            "email" => Self::Email,
            "name" => Self::Name,
            _ => return None,
        })
    }
}
