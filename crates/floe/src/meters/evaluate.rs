//! Evaluating a meter on events in Rust: whether an event matches a filter, and the value an
//! aggregation takes from it. One implementation serves ingestion and queries on both
//! databases; the semantics are documented in [`super::filter`].

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::filter::{Aggregation, Clause, ClauseValue, Conjunction, Filter, Node, Operator};

/// What a filter can look at in an event.
pub struct EventView<'a> {
    pub name: &'a str,
    pub source: &'a str,
    pub timestamp: DateTime<Utc>,
    pub metadata: &'a Map<String, Value>,
}

impl<'a> EventView<'a> {
    /// A stored event, with its metadata already parsed.
    pub fn of_row(row: &'a crate::events::entity::Model, metadata: &'a Map<String, Value>) -> Self {
        Self {
            name: &row.name,
            source: &row.source,
            timestamp: row.timestamp,
            metadata,
        }
    }
}

impl Filter {
    pub fn matches(&self, event: &EventView<'_>) -> bool {
        let mut results = self.clauses.iter().map(|node| match node {
            Node::Clause(clause) => clause.matches(event),
            Node::Filter(filter) => filter.matches(event),
        });
        match self.conjunction {
            // An empty filter matches everything, as in Polar.
            Conjunction::And => results.all(|r| r),
            Conjunction::Or => self.clauses.is_empty() || results.any(|r| r),
        }
    }
}

/// A dot path into metadata.
pub fn lookup<'a>(metadata: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = metadata.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

fn compare(operator: Operator, ordering: Ordering) -> bool {
    match operator {
        Operator::Eq => ordering == Ordering::Equal,
        Operator::Ne => ordering != Ordering::Equal,
        Operator::Gt => ordering == Ordering::Greater,
        Operator::Gte => ordering != Ordering::Less,
        Operator::Lt => ordering == Ordering::Less,
        Operator::Lte => ordering != Ordering::Greater,
        Operator::Like | Operator::NotLike => false,
    }
}

fn like(operator: Operator, haystack: &str, needle: &str) -> bool {
    let found = haystack.contains(needle);
    if operator == Operator::Like {
        found
    } else {
        !found
    }
}

fn value_text(value: &ClauseValue) -> String {
    match value {
        ClauseValue::Text(s) => s.clone(),
        ClauseValue::Int(i) => i.to_string(),
        ClauseValue::Bool(b) => b.to_string(),
    }
}

fn is_like(operator: Operator) -> bool {
    matches!(operator, Operator::Like | Operator::NotLike)
}

impl Clause {
    pub fn matches(&self, event: &EventView<'_>) -> bool {
        let op = self.operator;
        match self.property.as_str() {
            "name" | "source" => {
                let actual = if self.property == "name" {
                    event.name
                } else {
                    event.source
                };
                match &self.value {
                    ClauseValue::Text(expected) if is_like(op) => like(op, actual, expected),
                    ClauseValue::Text(expected) => compare(op, actual.cmp(expected.as_str())),
                    _ => false,
                }
            }
            "timestamp" => {
                let seconds = event.timestamp.timestamp();
                match &self.value {
                    ClauseValue::Int(expected) if !is_like(op) => {
                        compare(op, seconds.cmp(expected))
                    }
                    other if is_like(op) => like(op, &seconds.to_string(), &value_text(other)),
                    _ => false,
                }
            }
            path => match lookup(event.metadata, path) {
                Some(Value::String(actual)) => {
                    if is_like(op) {
                        like(op, actual, &value_text(&self.value))
                    } else {
                        match &self.value {
                            ClauseValue::Bool(_) => false,
                            other => compare(op, actual.as_str().cmp(value_text(other).as_str())),
                        }
                    }
                }
                Some(Value::Number(actual)) => {
                    if is_like(op) {
                        return like(op, &actual.to_string(), &value_text(&self.value));
                    }
                    let expected = match &self.value {
                        ClauseValue::Int(i) => *i as f64,
                        _ => return false,
                    };
                    actual
                        .as_f64()
                        .and_then(|a| a.partial_cmp(&expected))
                        .is_some_and(|ordering| compare(op, ordering))
                }
                Some(Value::Bool(actual)) => {
                    if is_like(op) {
                        return like(op, &actual.to_string(), &value_text(&self.value));
                    }
                    match &self.value {
                        ClauseValue::Bool(expected) => compare(op, actual.cmp(expected)),
                        _ => false,
                    }
                }
                // Missing, null, objects and arrays never match.
                _ => false,
            },
        }
    }
}

/// What one event contributes to an aggregation.
#[derive(Clone, Debug, PartialEq)]
pub enum Contribution {
    /// Counted (count).
    One,
    /// A number (sum, max, min, avg).
    Number(f64),
    /// A distinct value, as canonical JSON text (unique).
    Distinct(String),
}

impl Aggregation {
    /// What `event` adds, or `None` when the aggregation skips it (a property that is
    /// missing, or not a number for the numeric functions).
    pub fn contribution(&self, event: &EventView<'_>) -> Option<Contribution> {
        match self {
            Self::Count => Some(Contribution::One),
            Self::Sum(p) | Self::Max(p) | Self::Min(p) | Self::Avg(p) => match p.as_str() {
                "timestamp" => Some(Contribution::Number(event.timestamp.timestamp() as f64)),
                "name" | "source" => None,
                path => lookup(event.metadata, path)?
                    .as_f64()
                    .filter(|f| f.is_finite())
                    .map(Contribution::Number),
            },
            Self::Unique(p) => match p.as_str() {
                "name" => Some(Contribution::Distinct(Value::from(event.name).to_string())),
                "source" => Some(Contribution::Distinct(
                    Value::from(event.source).to_string(),
                )),
                "timestamp" => Some(Contribution::Distinct(
                    event.timestamp.timestamp().to_string(),
                )),
                path => match lookup(event.metadata, path)? {
                    Value::Null => None,
                    value => Some(Contribution::Distinct(value.to_string())),
                },
            },
        }
    }
}

/// An aggregation's running state over a set of events.
#[derive(Clone, Debug, Default)]
pub struct Accumulator {
    pub count: u64,
    pub sum: f64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub distinct: std::collections::BTreeSet<String>,
}

impl Accumulator {
    pub fn add(&mut self, contribution: &Contribution) {
        match contribution {
            Contribution::One => self.count += 1,
            Contribution::Number(n) => {
                self.count += 1;
                self.sum += n;
                self.min = Some(self.min.map_or(*n, |m| m.min(*n)));
                self.max = Some(self.max.map_or(*n, |m| m.max(*n)));
            }
            Contribution::Distinct(text) => {
                self.count += 1;
                self.distinct.insert(text.clone());
            }
        }
    }

    /// Adds what another accumulator gathered.
    pub fn merge(&mut self, other: &Accumulator) {
        self.count += other.count;
        self.sum += other.sum;
        self.min = match (self.min, other.min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max = match (self.max, other.max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.distinct.extend(other.distinct.iter().cloned());
    }

    /// Adds a distinct value already counted (rollups store counts and values apart).
    pub fn add_distinct(&mut self, value: String) {
        self.distinct.insert(value);
    }

    /// An accumulator of one contribution.
    pub fn of(contribution: &Contribution) -> Self {
        let mut acc = Self::default();
        acc.add(contribution);
        acc
    }

    /// The aggregation's value; `None` when no event contributed (an empty bucket).
    pub fn value(&self, aggregation: &Aggregation) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        Some(match aggregation {
            Aggregation::Count => self.count as f64,
            Aggregation::Sum(_) => self.sum,
            Aggregation::Max(_) => self.max?,
            Aggregation::Min(_) => self.min?,
            Aggregation::Avg(_) => self.sum / self.count as f64,
            Aggregation::Unique(_) => self.distinct.len() as f64,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn view(metadata: &Map<String, Value>) -> EventView<'_> {
        EventView {
            name: "api.call",
            source: "user",
            timestamp: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            metadata,
        }
    }

    fn clause(property: &str, operator: Operator, value: ClauseValue) -> Clause {
        Clause {
            property: property.into(),
            operator,
            value,
        }
    }

    #[test]
    fn typed_comparisons() {
        let m = json!({"tier": "gold", "n": 5, "s5": "5", "on": true, "deep": {"x": 2}, "nothing": null});
        let m = m.as_object().cloned().unwrap_or_default();
        let e = view(&m);
        use ClauseValue::*;
        use Operator::*;
        assert!(clause("tier", Eq, Text("gold".into())).matches(&e));
        assert!(clause("tier", Like, Text("ol".into())).matches(&e));
        assert!(!clause("tier", Like, Text("OL".into())).matches(&e)); // case-sensitive
        assert!(clause("n", Gte, Int(5)).matches(&e));
        assert!(!clause("n", Eq, Text("5".into())).matches(&e)); // a string never equals a number
        assert!(clause("s5", Eq, Int(5)).matches(&e)); // an integer compares with string metadata as text
        assert!(clause("on", Eq, Bool(true)).matches(&e));
        assert!(!clause("on", Eq, Int(1)).matches(&e));
        assert!(clause("deep.x", Lt, Int(3)).matches(&e));
        for op in [Eq, Ne, Like, NotLike] {
            assert!(
                !clause("missing", op, Text("x".into())).matches(&e),
                "{op:?}"
            );
            assert!(
                !clause("nothing", op, Text("x".into())).matches(&e),
                "{op:?}"
            );
        }
        assert!(clause("name", Eq, Text("api.call".into())).matches(&e));
        assert!(!clause("name", Eq, Int(1)).matches(&e));
        assert!(clause("timestamp", Gt, Int(1_600_000_000)).matches(&e));
        let empty_and = Filter {
            conjunction: Conjunction::And,
            clauses: vec![],
        };
        let empty_or = Filter {
            conjunction: Conjunction::Or,
            clauses: vec![],
        };
        assert!(empty_and.matches(&e) && empty_or.matches(&e));
    }

    #[test]
    fn contributions() {
        let m = json!({"tokens": 7, "label": "x", "user": "u1"});
        let m = m.as_object().cloned().unwrap_or_default();
        let e = view(&m);
        assert_eq!(
            Aggregation::Sum("tokens".into()).contribution(&e),
            Some(Contribution::Number(7.0))
        );
        assert_eq!(Aggregation::Sum("label".into()).contribution(&e), None);
        assert_eq!(Aggregation::Sum("gone".into()).contribution(&e), None);
        assert_eq!(
            Aggregation::Unique("user".into()).contribution(&e),
            Some(Contribution::Distinct("\"u1\"".into()))
        );
        let mut acc = Accumulator::default();
        for n in [3.0, 1.0, 2.0] {
            acc.add(&Contribution::Number(n));
        }
        assert_eq!(acc.value(&Aggregation::Avg("t".into())), Some(2.0));
        assert_eq!(acc.value(&Aggregation::Max("t".into())), Some(3.0));
        assert_eq!(Accumulator::default().value(&Aggregation::Count), None);
    }
}
