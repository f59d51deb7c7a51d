//! The session's customer as the portal shows it (`CustomerPortalCustomer`,
//! `PortalAuthenticatedUser`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::address::Address;
use crate::customers::schema::Customer;
use crate::http::{ApiError, Loc};

/// `CustomerPortalCustomer`: the customer without what only the merchant sees (metadata,
/// external ID). floe links no OAuth accounts, so `oauth_accounts` is always empty.
#[derive(Debug, Serialize)]
pub struct PortalCustomer {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub billing_name: Option<String>,
    pub billing_address: Option<Address>,
    pub tax_id: Option<Value>,
    pub oauth_accounts: Map<String, Value>,
    pub default_payment_method_id: Option<Uuid>,
    #[serde(rename = "type")]
    pub kind: String,
    pub locale: Option<String>,
}

impl From<Customer> for PortalCustomer {
    fn from(customer: Customer) -> Self {
        Self {
            created_at: customer.created_at,
            modified_at: customer.modified_at,
            id: customer.id,
            email: customer.email,
            email_verified: customer.email_verified,
            name: customer.name,
            billing_name: customer.billing_name,
            billing_address: customer.billing_address,
            tax_id: customer.tax_id,
            oauth_accounts: Map::new(),
            default_payment_method_id: customer.default_payment_method_id,
            kind: customer.kind,
            locale: customer.locale,
        }
    }
}

/// `PortalAuthenticatedUser`: who the session is for, the customer or one of its members.
#[derive(Debug, Serialize)]
pub struct AuthenticatedUser {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: Option<String>,
    pub email: String,
    pub customer_id: Uuid,
    pub member_id: Option<Uuid>,
    pub role: Option<String>,
}

impl AuthenticatedUser {
    /// The customer as the session's user; a customer without an email (a team) cannot be
    /// one, as at Polar: its people sign in as members.
    pub fn customer(customer: Customer) -> Result<Self, ApiError> {
        let email = customer.email.ok_or_else(|| {
            ApiError::validation(
                Loc::body(),
                "value_error",
                "Team customers must use member sessions to access the portal.",
                Value::Null,
            )
        })?;
        Ok(Self {
            kind: "customer",
            name: customer.name,
            email,
            customer_id: customer.id,
            member_id: None,
            role: None,
        })
    }

    /// The member of a member session.
    pub fn member(member: crate::members::schema::Member) -> Self {
        Self {
            kind: "member",
            name: member.name,
            email: member.email,
            customer_id: member.customer_id,
            member_id: Some(member.id),
            role: Some(member.role),
        }
    }
}
