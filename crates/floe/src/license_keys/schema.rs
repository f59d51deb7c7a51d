//! Wire types of the license keys API, named after the spec's schemas.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::entity::{Model, activation};
use crate::customers::schema::Customer;
use crate::http::pagination::QueryEnum;
use crate::http::patch;

/// `LicenseKeyStatus`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LicenseKeyStatus {
    Granted,
    Revoked,
    Disabled,
}

impl LicenseKeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Granted => "granted",
            Self::Revoked => "revoked",
            Self::Disabled => "disabled",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [Self::Granted, Self::Revoked, Self::Disabled]
            .into_iter()
            .find(|s| s.as_str() == stored)
    }
}

impl QueryEnum for LicenseKeyStatus {
    const NAMES: &'static [&'static str] = &["granted", "revoked", "disabled"];

    fn from_name(name: &str) -> Option<Self> {
        Self::parse(name)
    }
}

/// What a customer sees of its key in lists: the last six characters.
pub fn display_key(key: &str) -> String {
    let tail: String = {
        let chars: Vec<char> = key.chars().collect();
        chars[chars.len().saturating_sub(6)..].iter().collect()
    };
    format!("****-{tail}")
}

/// `LicenseKeyRead` (and, with the SDK's newer fields, `member_id` and `member`, always
/// empty: floe has no seats yet).
#[derive(Clone, Debug, Serialize)]
pub struct LicenseKeyRead {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    pub customer: Customer,
    pub member_id: Option<Uuid>,
    pub member: Option<Value>,
    pub benefit_id: Uuid,
    pub key: String,
    pub display_key: String,
    pub status: LicenseKeyStatus,
    pub limit_activations: Option<i64>,
    pub usage: i64,
    pub limit_usage: Option<i64>,
    pub validations: i64,
    pub last_validated_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl LicenseKeyRead {
    pub fn new(row: &Model, customer: Customer) -> Self {
        Self {
            id: row.id,
            created_at: row.created_at,
            modified_at: row.modified_at,
            organization_id: row.organization_id,
            customer_id: row.customer_id,
            customer,
            member_id: row.member_id,
            member: None,
            benefit_id: row.benefit_id,
            key: row.key.clone(),
            display_key: display_key(&row.key),
            // Rows are only ever written with a known status.
            status: LicenseKeyStatus::parse(&row.status).unwrap_or(LicenseKeyStatus::Disabled),
            limit_activations: row.limit_activations,
            usage: row.usage,
            limit_usage: row.limit_usage,
            validations: row.validations,
            last_validated_at: row.last_validated_at,
            expires_at: row.expires_at,
        }
    }
}

/// `LicenseKeyActivationBase`.
#[derive(Clone, Debug, Serialize)]
pub struct LicenseKeyActivationBase {
    pub id: Uuid,
    pub license_key_id: Uuid,
    pub label: String,
    pub meta: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
}

impl From<&activation::Model> for LicenseKeyActivationBase {
    fn from(row: &activation::Model) -> Self {
        Self {
            id: row.id,
            license_key_id: row.license_key_id,
            label: row.label.clone(),
            meta: crate::metadata::from_text(&row.meta),
            created_at: row.created_at,
            modified_at: row.modified_at,
        }
    }
}

/// `LicenseKeyWithActivations`.
#[derive(Debug, Serialize)]
pub struct LicenseKeyWithActivations {
    #[serde(flatten)]
    pub key: LicenseKeyRead,
    pub activations: Vec<LicenseKeyActivationBase>,
}

/// `ValidatedLicenseKey`.
#[derive(Debug, Serialize)]
pub struct ValidatedLicenseKey {
    #[serde(flatten)]
    pub key: LicenseKeyRead,
    pub activation: Option<LicenseKeyActivationBase>,
}

/// `LicenseKeyActivationRead`.
#[derive(Debug, Serialize)]
pub struct LicenseKeyActivationRead {
    #[serde(flatten)]
    pub activation: LicenseKeyActivationBase,
    pub license_key: LicenseKeyRead,
}

/// `LicenseKeyValidate`.
#[derive(Debug, Deserialize)]
pub struct LicenseKeyValidate {
    pub key: String,
    pub organization_id: Uuid,
    #[serde(default)]
    pub activation_id: Option<Uuid>,
    #[serde(default)]
    pub benefit_id: Option<Uuid>,
    #[serde(default)]
    pub customer_id: Option<Uuid>,
    #[serde(default)]
    pub increment_usage: Option<i64>,
    #[serde(default)]
    pub conditions: Map<String, Value>,
}

/// `LicenseKeyActivate`.
#[derive(Debug, Deserialize)]
pub struct LicenseKeyActivate {
    pub key: String,
    pub organization_id: Uuid,
    pub label: String,
    #[serde(default)]
    pub conditions: Map<String, Value>,
    #[serde(default)]
    pub meta: Map<String, Value>,
}

/// `LicenseKeyDeactivate`.
#[derive(Debug, Deserialize)]
pub struct LicenseKeyDeactivate {
    pub key: String,
    pub organization_id: Uuid,
    pub activation_id: Uuid,
}

/// `LicenseKeyUpdate`: absent fields stay; `null` clears the limits and the expiry (a
/// `null` status or usage is refused, as Polar's schema does).
#[derive(Debug, Deserialize)]
pub struct LicenseKeyUpdate {
    #[serde(default, deserialize_with = "patch::field")]
    pub status: Option<Option<LicenseKeyStatus>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub usage: Option<Option<i64>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub limit_activations: Option<Option<i64>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub limit_usage: Option<Option<i64>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_keys_show_the_last_six_characters() {
        assert_eq!(
            display_key("ACME-6A7C3E0B-1D2E-4F5A-9B8C-7D6E5F4A3B2C"),
            "****-4A3B2C"
        );
        assert_eq!(display_key("ABC"), "****-ABC");
    }
}
