//! Wire types of the benefits API, named after the spec's schemas.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::entity::Model;
use crate::http::pagination::{QueryEnum, SortProperty};
use crate::http::patch;

/// `BenefitType`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BenefitType {
    Custom,
    Discord,
    GithubRepository,
    Downloadables,
    LicenseKeys,
    MeterCredit,
    FeatureFlag,
    SlackSharedChannel,
}

impl BenefitType {
    pub const ALL: [Self; 8] = [
        Self::Custom,
        Self::Discord,
        Self::GithubRepository,
        Self::Downloadables,
        Self::LicenseKeys,
        Self::MeterCredit,
        Self::FeatureFlag,
        Self::SlackSharedChannel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Custom => "custom",
            Self::Discord => "discord",
            Self::GithubRepository => "github_repository",
            Self::Downloadables => "downloadables",
            Self::LicenseKeys => "license_keys",
            Self::MeterCredit => "meter_credit",
            Self::FeatureFlag => "feature_flag",
            Self::SlackSharedChannel => "slack_shared_channel",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// Whether the merchant chooses who sees the benefit (Polar fixes it for benefits that
    /// live in another service or hand out files).
    pub fn visibility_configurable(self) -> bool {
        !matches!(
            self,
            Self::Discord | Self::GithubRepository | Self::Downloadables | Self::SlackSharedChannel
        )
    }

    /// What a benefit shows when no visibility is given: feature flags are for the
    /// merchant's code, not the buyer's eyes.
    pub fn default_visibility(self) -> BenefitVisibility {
        match self {
            Self::FeatureFlag => BenefitVisibility::Private,
            _ => BenefitVisibility::Public,
        }
    }
}

/// `BenefitVisibility`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BenefitVisibility {
    Draft,
    Private,
    Public,
}

impl BenefitVisibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Private => "private",
            Self::Public => "public",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Draft, Self::Private, Self::Public]
            .into_iter()
            .find(|v| v.as_str() == name)
    }
}

/// `Benefit` (one of `BenefitCustom`, `BenefitLicenseKeys`, …: one shape, told apart by
/// `type`).
#[derive(Clone, Debug, Serialize)]
pub struct Benefit {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    #[serde(rename = "type")]
    pub kind: BenefitType,
    pub description: String,
    pub selectable: bool,
    pub deletable: bool,
    pub is_deleted: bool,
    pub organization_id: Uuid,
    pub metadata: Map<String, Value>,
    pub visibility: BenefitVisibility,
    pub properties: Map<String, Value>,
    pub visibility_configurable: bool,
}

impl Benefit {
    /// A stored benefit; `None` for a type this build does not know (a newer floe's row).
    pub fn from_row(row: &Model) -> Option<Self> {
        let kind = BenefitType::parse(&row.kind)?;
        Some(Self {
            id: row.id,
            created_at: row.created_at,
            modified_at: row.modified_at,
            kind,
            description: row.description.clone(),
            selectable: true,
            deletable: true,
            is_deleted: row.deleted_at.is_some(),
            organization_id: row.organization_id,
            metadata: crate::metadata::from_text(&row.metadata),
            visibility: BenefitVisibility::parse(&row.visibility)
                .unwrap_or_else(|| kind.default_visibility()),
            properties: serde_json::from_str(&row.properties).unwrap_or_default(),
            visibility_configurable: kind.visibility_configurable(),
        })
    }
}

/// `BenefitPublic`: what a buyer is shown of a benefit (checkouts, checkout links): no
/// metadata, and properties only for meter credits (`units`, `meter_id`), which the SDK's
/// `BenefitMeterCreditPublic` requires.
#[derive(Clone, Debug, Serialize)]
pub struct BenefitPublic {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    #[serde(rename = "type")]
    pub kind: BenefitType,
    pub description: String,
    pub selectable: bool,
    pub deletable: bool,
    pub is_deleted: bool,
    pub organization_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
}

impl From<&Benefit> for BenefitPublic {
    fn from(benefit: &Benefit) -> Self {
        Self {
            id: benefit.id,
            created_at: benefit.created_at,
            modified_at: benefit.modified_at,
            kind: benefit.kind,
            description: benefit.description.clone(),
            selectable: benefit.selectable,
            deletable: benefit.deletable,
            is_deleted: benefit.is_deleted,
            organization_id: benefit.organization_id,
            properties: (benefit.kind == BenefitType::MeterCredit).then(|| {
                benefit
                    .properties
                    .iter()
                    .filter(|(key, _)| matches!(key.as_str(), "units" | "meter_id"))
                    .map(|(key, value)| (key.clone(), value.clone()))
                    .collect()
            }),
        }
    }
}

/// `BenefitCreate`: each type's properties are checked by the service.
#[derive(Debug, Deserialize)]
pub struct BenefitCreate {
    #[serde(rename = "type")]
    pub kind: BenefitType,
    pub description: String,
    #[serde(default)]
    pub properties: Option<Value>,
    #[serde(default)]
    pub visibility: Option<BenefitVisibility>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub organization_id: Option<Uuid>,
}

/// `BenefitUpdate`: `type` names the benefit's type and cannot change it; absent or `null`
/// fields stay as they are.
#[derive(Debug, Deserialize)]
pub struct BenefitUpdate {
    #[serde(rename = "type")]
    pub kind: BenefitType,
    #[serde(default, deserialize_with = "patch::field")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub properties: Option<Option<Value>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub visibility: Option<Option<BenefitVisibility>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub metadata: Option<Option<Map<String, Value>>>,
}

/// `BenefitSortProperty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenefitSortProperty {
    CreatedAt,
    Description,
    Type,
    UserOrder,
}

impl SortProperty for BenefitSortProperty {
    const NAMES: &'static [&'static str] = &["created_at", "description", "type", "user_order"];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "created_at" => Self::CreatedAt,
            "description" => Self::Description,
            "type" => Self::Type,
            "user_order" => Self::UserOrder,
            _ => return None,
        })
    }
}

impl QueryEnum for BenefitType {
    const NAMES: &'static [&'static str] = &[
        "custom",
        "discord",
        "github_repository",
        "downloadables",
        "license_keys",
        "meter_credit",
        "feature_flag",
        "slack_shared_channel",
    ];

    fn from_name(name: &str) -> Option<Self> {
        Self::parse(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_names_are_the_types() {
        let names: Vec<&str> = BenefitType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(<BenefitType as QueryEnum>::NAMES, names.as_slice());
        for name in names {
            assert_eq!(
                <BenefitType as QueryEnum>::from_name(name).map(|t| t.as_str()),
                Some(name)
            );
        }
    }
}
