//! Wire types of the events API, named after the spec's schemas.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::entity::Model;
use crate::customers::schema::Customer;
use crate::http::pagination::SortProperty;

/// `Event` (`UserEvent` for now; system events come with customer meters).
#[derive(Debug, Serialize)]
pub struct Event {
    pub id: Uuid,
    pub timestamp: DateTime<Utc>,
    pub organization_id: Uuid,
    pub customer_id: Option<Uuid>,
    pub customer: Option<Customer>,
    pub external_customer_id: Option<String>,
    pub member_id: Option<Uuid>,
    pub external_member_id: Option<String>,
    pub child_count: i64,
    pub parent_id: Option<Uuid>,
    pub label: String,
    pub source: String,
    pub name: String,
    pub metadata: Map<String, Value>,
}

impl Event {
    pub fn new(row: Model, customer: Option<Customer>, label: String, child_count: i64) -> Self {
        Self {
            id: row.id,
            timestamp: row.timestamp,
            organization_id: row.organization_id,
            customer_id: row.customer_id,
            customer,
            external_customer_id: row.external_customer_id,
            member_id: row.member_id,
            external_member_id: row.external_member_id,
            child_count,
            parent_id: row.parent_id,
            label,
            source: row.source,
            name: row.name,
            metadata: output_metadata(&row.metadata),
        }
    }
}

/// Stored metadata as the API shows it: `_cost.amount` is a decimal string.
pub fn output_metadata(stored: &str) -> Map<String, Value> {
    let mut map = crate::metadata::from_text(stored);
    if let Some(Value::Object(cost)) = map.get_mut("_cost")
        && let Some(amount) = cost.get("amount").and_then(Value::as_f64)
    {
        cost.insert("amount".to_owned(), Value::String(decimal_text(amount)));
    }
    map
}

/// A float as Python prints it (`150.0`, `1.5`), which is how Polar shows amounts.
fn decimal_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e16 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}

/// `EventName`.
#[derive(Debug, Serialize)]
pub struct EventName {
    pub name: String,
    pub label: String,
    pub source: String,
    pub occurrences: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// `EventType`.
#[derive(Debug, Serialize)]
pub struct EventType {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub name: String,
    pub label: String,
    pub label_property_selector: Option<String>,
    pub organization_id: Uuid,
}

/// `EventTypeWithStats`.
#[derive(Debug, Serialize)]
pub struct EventTypeWithStats {
    #[serde(flatten)]
    pub event_type: EventType,
    pub source: String,
    pub occurrences: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// `EventTypeUpdate`.
#[derive(Debug, serde::Deserialize)]
pub struct EventTypeUpdate {
    pub label: String,
    #[serde(default)]
    pub label_property_selector: Option<String>,
}

/// `EventSortProperty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventSortProperty {
    Timestamp,
}

impl SortProperty for EventSortProperty {
    const NAMES: &'static [&'static str] = &["timestamp"];

    fn from_name(name: &str) -> Option<Self> {
        (name == "timestamp").then_some(Self::Timestamp)
    }
}

/// How event names and event types sort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatsSortProperty {
    Name,
    Label,
    Occurrences,
    FirstSeen,
    LastSeen,
}

impl SortProperty for StatsSortProperty {
    const NAMES: &'static [&'static str] =
        &["name", "label", "occurrences", "first_seen", "last_seen"];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "name" => Self::Name,
            "label" => Self::Label,
            "occurrences" => Self::Occurrences,
            "first_seen" => Self::FirstSeen,
            "last_seen" => Self::LastSeen,
            _ => return None,
        })
    }
}

/// `EventNamesSortProperty`: the same without `label`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameSortProperty(pub StatsSortProperty);

impl SortProperty for NameSortProperty {
    const NAMES: &'static [&'static str] = &["name", "occurrences", "first_seen", "last_seen"];

    fn from_name(name: &str) -> Option<Self> {
        (name != "label")
            .then(|| StatsSortProperty::from_name(name).map(Self))
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_print_as_python_does() {
        assert_eq!(decimal_text(150.0), "150.0");
        assert_eq!(decimal_text(1.5), "1.5");
        assert_eq!(decimal_text(0.000001), "0.000001");
    }
}
