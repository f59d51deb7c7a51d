//! Wire types of the members API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::entity::Model;
use crate::http::pagination::{QueryEnum, SortProperty};
use crate::http::patch;

/// `Member`.
#[derive(Clone, Debug, Serialize)]
pub struct Member {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub customer_id: Uuid,
    pub email: String,
    pub name: Option<String>,
    pub external_id: Option<String>,
    pub role: String,
}

impl From<&Model> for Member {
    fn from(row: &Model) -> Self {
        Self {
            id: row.id,
            created_at: row.created_at,
            modified_at: row.modified_at,
            customer_id: row.customer_id,
            email: row.email.clone(),
            name: row.name.clone(),
            external_id: row.external_id.clone(),
            role: row.role.clone(),
        }
    }
}

/// `MemberRole`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    BillingManager,
    Member,
}

impl Role {
    /// The role a stored name stands for (floe writes only the three).
    pub fn parse(name: &str) -> Option<Self> {
        <Self as QueryEnum>::from_name(name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::BillingManager => "billing_manager",
            Self::Member => "member",
        }
    }
}

impl QueryEnum for Role {
    const NAMES: &'static [&'static str] = &["owner", "billing_manager", "member"];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "owner" => Self::Owner,
            "billing_manager" => Self::BillingManager,
            "member" => Self::Member,
            _ => return None,
        })
    }
}

/// The roles a member is created with (`MemberCreateFromCustomer.role`: ownership is only
/// transferred, by an update).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CreateRole {
    #[default]
    Member,
    BillingManager,
}

/// `MemberCreateFromCustomer`.
#[derive(Debug, Deserialize)]
pub struct MemberCreate {
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub role: CreateRole,
}

/// `MemberUpdate`: absent fields stay.
#[derive(Debug, Default, Deserialize)]
pub struct MemberUpdate {
    #[serde(default, deserialize_with = "patch::field")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub role: Option<Option<Role>>,
}

/// `MemberSortProperty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreatedAt;

impl SortProperty for CreatedAt {
    const NAMES: &'static [&'static str] = &["created_at"];

    fn from_name(name: &str) -> Option<Self> {
        (name == "created_at").then_some(Self)
    }
}
