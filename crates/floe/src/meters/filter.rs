//! Meter filters and aggregations: parsed (with the location of every fault), stored as
//! JSON, and compiled to SQL for either database.
//!
//! Semantics (Polar's, as its database evaluates them): `name`, `source` and `timestamp`
//! (Unix seconds) are the event's own fields; any other property is a dot path into the
//! metadata (a leading `metadata.` is dropped). Comparisons are typed: a string value
//! compares with string metadata as text (and an integer value with string metadata as its
//! text, so `5` matches `"5"`), an integer value with numeric metadata as a number, a
//! boolean value with boolean metadata only; anything else, or a missing key, is false
//! (also for `ne`). `like` / `not_like` test for a substring, case-sensitively, on the text
//! of string or number metadata; a missing key is false for both.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::http::{Loc, ValidationIssue};

/// Deepest nesting of filters, and most clauses in all: a filter is evaluated for every
/// event a query reads.
const MAX_DEPTH: usize = 8;
const MAX_CLAUSES: usize = 100;
const MAX_VALUE_CHARS: usize = 1000;
const MAX_PROPERTY_CHARS: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conjunction {
    And,
    Or,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    Like,
    NotLike,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ClauseValue {
    Bool(bool),
    Int(i64),
    Text(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Clause {
    pub property: String,
    pub operator: Operator,
    pub value: ClauseValue,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Node {
    Clause(Clause),
    Filter(Filter),
}

/// `Filter`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    pub conjunction: Conjunction,
    pub clauses: Vec<Node>,
}

/// The aggregation of a meter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Aggregation {
    Count,
    Sum(String),
    Max(String),
    Min(String),
    Avg(String),
    Unique(String),
}

impl Aggregation {
    pub fn to_json(&self) -> Value {
        match self {
            Self::Count => json!({"func": "count"}),
            Self::Sum(p) => json!({"func": "sum", "property": p}),
            Self::Max(p) => json!({"func": "max", "property": p}),
            Self::Min(p) => json!({"func": "min", "property": p}),
            Self::Avg(p) => json!({"func": "avg", "property": p}),
            Self::Unique(p) => json!({"func": "unique", "property": p}),
        }
    }

    /// A stored aggregation (always valid: it was parsed before it was stored).
    pub fn from_json(value: &Value) -> Self {
        let mut issues = Vec::new();
        parse_aggregation(value, &Loc::body(), &mut issues).unwrap_or(Self::Count)
    }
}

struct Parser<'a> {
    issues: &'a mut Vec<ValidationIssue>,
    clauses: usize,
}

/// Parses a `Filter` given at `loc`, pushing every fault.
pub fn parse_filter(value: &Value, loc: &Loc, issues: &mut Vec<ValidationIssue>) -> Option<Filter> {
    let mut parser = Parser { issues, clauses: 0 };
    parser.filter(value, loc, 0)
}

impl Parser<'_> {
    fn push(&mut self, loc: Loc, kind: &str, msg: impl Into<String>, input: &Value) {
        self.issues
            .push(ValidationIssue::new(loc, kind, msg, input.clone()));
    }

    fn filter(&mut self, value: &Value, loc: &Loc, depth: usize) -> Option<Filter> {
        let Some(object) = value.as_object() else {
            self.push(
                loc.clone(),
                "model_type",
                "Input should be a filter object",
                value,
            );
            return None;
        };
        if depth >= MAX_DEPTH {
            self.push(
                loc.clone(),
                "too_deep",
                format!("Filters nest at most {MAX_DEPTH} deep"),
                &Value::Null,
            );
            return None;
        }
        let conjunction = match object.get("conjunction").and_then(Value::as_str) {
            Some("and") => Some(Conjunction::And),
            Some("or") => Some(Conjunction::Or),
            _ => {
                self.push(
                    loc.key("conjunction"),
                    "enum",
                    "Input should be 'and' or 'or'",
                    object.get("conjunction").unwrap_or(&Value::Null),
                );
                None
            }
        };
        let clauses = match object.get("clauses").and_then(Value::as_array) {
            Some(list) => {
                let mut nodes = Vec::with_capacity(list.len());
                for (index, item) in list.iter().enumerate() {
                    let item_loc = loc.key("clauses").index(index);
                    let node = if item.get("conjunction").is_some() || item.get("clauses").is_some()
                    {
                        self.filter(item, &item_loc, depth + 1).map(Node::Filter)
                    } else {
                        self.clause(item, &item_loc).map(Node::Clause)
                    };
                    if let Some(node) = node {
                        nodes.push(node);
                    }
                }
                Some(nodes)
            }
            None => {
                self.push(
                    loc.key("clauses"),
                    "list_type",
                    "Input should be a valid list",
                    object.get("clauses").unwrap_or(&Value::Null),
                );
                None
            }
        };
        Some(Filter {
            conjunction: conjunction?,
            clauses: clauses?,
        })
    }

    fn clause(&mut self, value: &Value, loc: &Loc) -> Option<Clause> {
        self.clauses += 1;
        if self.clauses == MAX_CLAUSES + 1 {
            self.push(
                loc.clone(),
                "too_long",
                format!("A filter has at most {MAX_CLAUSES} clauses"),
                &Value::Null,
            );
        }
        let Some(object) = value.as_object() else {
            self.push(
                loc.clone(),
                "model_type",
                "Input should be a clause or a filter",
                value,
            );
            return None;
        };
        let property = object
            .get("property")
            .and_then(Value::as_str)
            .and_then(|p| {
                let p = normalize_property(p);
                valid_property(&p).then_some(p)
            });
        if property.is_none() {
            self.push(loc.key("property"), "string_type", "A property is `name`, `source`, `timestamp` or a metadata key path, without quotes", object.get("property").unwrap_or(&Value::Null));
        }
        let operator = object
            .get("operator")
            .cloned()
            .and_then(|v| serde_json::from_value::<Operator>(v).ok());
        if operator.is_none() {
            self.push(
                loc.key("operator"),
                "enum",
                "Input should be 'eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'like' or 'not_like'",
                object.get("operator").unwrap_or(&Value::Null),
            );
        }
        let value = match object.get("value") {
            Some(Value::Bool(b)) => Some(ClauseValue::Bool(*b)),
            Some(Value::Number(n)) => match n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            {
                Some(i) if i32::try_from(i).is_ok() => Some(ClauseValue::Int(i)),
                _ => None,
            },
            Some(Value::String(s)) if s.chars().count() <= MAX_VALUE_CHARS => {
                Some(ClauseValue::Text(s.clone()))
            }
            _ => None,
        };
        if value.is_none() {
            self.push(loc.key("value"), "value_error", format!("Input should be a string of at most {MAX_VALUE_CHARS} characters, a 32-bit integer or a boolean"), object.get("value").unwrap_or(&Value::Null));
        }
        Some(Clause {
            property: property?,
            operator: operator?,
            value: value?,
        })
    }
}

/// Drops a leading `metadata.`, as Polar does.
pub fn normalize_property(property: &str) -> String {
    property
        .strip_prefix("metadata.")
        .unwrap_or(property)
        .to_owned()
}

/// A property usable in a JSON path on both databases.
pub fn valid_property(property: &str) -> bool {
    !property.is_empty()
        && property.chars().count() <= MAX_PROPERTY_CHARS
        && !property.contains(['"', '\\', '\0'])
        && property.split('.').all(|part| !part.is_empty())
}

/// Parses an aggregation given at `loc`. Without `func`, an aggregation with no property
/// counts and one with a property counts unique values (the spec's defaults).
pub fn parse_aggregation(
    value: &Value,
    loc: &Loc,
    issues: &mut Vec<ValidationIssue>,
) -> Option<Aggregation> {
    let Some(object) = value.as_object() else {
        issues.push(ValidationIssue::new(
            loc.clone(),
            "model_type",
            "Input should be an aggregation object",
            value.clone(),
        ));
        return None;
    };
    let property = object
        .get("property")
        .and_then(Value::as_str)
        .map(normalize_property);
    let func = object
        .get("func")
        .and_then(Value::as_str)
        .unwrap_or(if property.is_some() {
            "unique"
        } else {
            "count"
        });
    if func == "count" {
        return Some(Aggregation::Count);
    }
    if !["sum", "max", "min", "avg", "unique"].contains(&func) {
        issues.push(ValidationIssue::new(
            loc.key("func"),
            "enum",
            "Input should be 'count', 'sum', 'max', 'min', 'avg' or 'unique'",
            json!(func),
        ));
        return None;
    }
    let Some(property) = property.filter(|p| valid_property(p)) else {
        issues.push(ValidationIssue::new(
            loc.key(func).key("property"),
            "missing",
            "A property is required for this function",
            object.get("property").cloned().unwrap_or(Value::Null),
        ));
        return None;
    };
    Some(match func {
        "sum" => Aggregation::Sum(property),
        "max" => Aggregation::Max(property),
        "min" => Aggregation::Min(property),
        "avg" => Aggregation::Avg(property),
        _ => Aggregation::Unique(property),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(value: Value) -> Vec<String> {
        let mut issues = Vec::new();
        parse_filter(&value, &Loc::body().key("filter"), &mut issues);
        issues
            .iter()
            .map(|i| serde_json::to_string(&i.loc).unwrap_or_default())
            .collect()
    }

    #[test]
    fn filters_parse_and_report_locations() {
        let ok = json!({"conjunction": "and", "clauses": [
            {"property": "name", "operator": "eq", "value": "api.call"},
            {"conjunction": "or", "clauses": [
                {"property": "metadata.tier", "operator": "like", "value": "gold"},
                {"property": "tokens", "operator": "gte", "value": 10.0},
            ]},
        ]});
        assert!(faults(ok.clone()).is_empty());
        let mut issues = Vec::new();
        let filter = parse_filter(&ok, &Loc::body(), &mut issues);
        let Some(Filter { clauses, .. }) = filter else {
            panic!("parsed")
        };
        let Node::Filter(inner) = &clauses[1] else {
            panic!("nested")
        };
        assert_eq!(
            inner.clauses[0],
            Node::Clause(Clause {
                property: "tier".into(),
                operator: Operator::Like,
                value: ClauseValue::Text("gold".into())
            })
        );
        assert_eq!(
            inner.clauses[1],
            Node::Clause(Clause {
                property: "tokens".into(),
                operator: Operator::Gte,
                value: ClauseValue::Int(10)
            })
        );

        let bad = json!({"conjunction": "xor", "clauses": [
            {"property": "", "operator": "eq", "value": 1},
            {"property": "a", "operator": "contains", "value": 1.5},
            {"conjunction": "and", "clauses": [{"property": "b", "operator": "eq", "value": 4294967296i64}]},
        ]});
        let found = faults(bad);
        for expected in [
            r#"["body","filter","conjunction"]"#,
            r#"["body","filter","clauses",0,"property"]"#,
            r#"["body","filter","clauses",1,"operator"]"#,
            r#"["body","filter","clauses",1,"value"]"#,
            r#"["body","filter","clauses",2,"clauses",0,"value"]"#,
        ] {
            assert!(
                found.iter().any(|f| f == expected),
                "{expected} not in {found:?}"
            );
        }
    }

    #[test]
    fn aggregations() {
        let mut issues = Vec::new();
        let loc = Loc::body().key("aggregation");
        assert_eq!(
            parse_aggregation(&json!({"func": "count"}), &loc, &mut issues),
            Some(Aggregation::Count)
        );
        assert_eq!(
            parse_aggregation(&json!({}), &loc, &mut issues),
            Some(Aggregation::Count)
        );
        assert_eq!(
            parse_aggregation(
                &json!({"func": "sum", "property": "metadata.tokens"}),
                &loc,
                &mut issues
            ),
            Some(Aggregation::Sum("tokens".into()))
        );
        assert_eq!(
            parse_aggregation(&json!({"property": "user"}), &loc, &mut issues),
            Some(Aggregation::Unique("user".into()))
        );
        assert!(issues.is_empty());
        assert_eq!(
            parse_aggregation(&json!({"func": "sum"}), &loc, &mut issues),
            None
        );
        assert_eq!(
            parse_aggregation(
                &json!({"func": "median", "property": "x"}),
                &loc,
                &mut issues
            ),
            None
        );
        assert_eq!(issues.len(), 2);
        assert_eq!(
            Aggregation::from_json(&Aggregation::Avg("t".into()).to_json()),
            Aggregation::Avg("t".into())
        );
    }
}
