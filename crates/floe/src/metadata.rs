//! User metadata, as the spec defines it for every resource that carries it: at most 50
//! pairs, keys of 1 to 40 characters, values that are strings of 1 to 500 characters,
//! integers, numbers or booleans. Stored as a JSON object in a text column.
//!
//! Also the `metadata[key]=value` list filter (`deepObject` style): pairs of different keys
//! must all match, several values of one key match any of them.

use sea_orm::sea_query::{Condition, Expr, ExprTrait, SimpleExpr};
use sea_orm::{DbBackend, Iden};
use serde_json::{Map, Value};

use crate::http::{ApiError, ApiResult, Loc, QueryParams, ValidationIssue, Validator};

pub const MAX_PAIRS: usize = 50;
pub const MAX_KEY_CHARS: usize = 40;
pub const MAX_VALUE_CHARS: usize = 500;
/// Most `metadata[...]` pairs one list request may filter on.
const MAX_FILTER_PAIRS: usize = 50;

/// Checks a metadata object given at `loc`, pushing every violation.
pub fn check(metadata: &Map<String, Value>, loc: &Loc, validator: &mut Validator) {
    if metadata.len() > MAX_PAIRS {
        validator.push(
            loc.clone(),
            "too_long",
            format!(
                "Dictionary should have at most {MAX_PAIRS} items after validation, not {}",
                metadata.len()
            ),
            Value::Object(metadata.clone()),
        );
    }
    for (key, value) in metadata {
        let key_chars = key.chars().count();
        if key_chars == 0 || key_chars > MAX_KEY_CHARS {
            validator.push(
                loc.key(key).key("[key]"),
                if key_chars == 0 {
                    "string_too_short"
                } else {
                    "string_too_long"
                },
                format!("String should have 1 to {MAX_KEY_CHARS} characters"),
                Value::String(key.clone()),
            );
        }
        match value {
            Value::String(text) => {
                let chars = text.chars().count();
                if chars == 0 {
                    validator.push(
                        loc.key(key),
                        "string_too_short",
                        "String should have at least 1 character",
                        value.clone(),
                    );
                } else if chars > MAX_VALUE_CHARS {
                    validator.push(
                        loc.key(key),
                        "string_too_long",
                        format!("String should have at most {MAX_VALUE_CHARS} characters"),
                        value.clone(),
                    );
                }
            }
            Value::Number(_) | Value::Bool(_) => {}
            Value::Null | Value::Array(_) | Value::Object(_) => validator.push(
                loc.key(key),
                "string_type",
                "Input should be a string, an integer, a number or a boolean",
                value.clone(),
            ),
        }
    }
}

/// The stored form of a metadata object.
pub fn to_text(metadata: &Map<String, Value>) -> String {
    Value::Object(metadata.clone()).to_string()
}

/// A stored metadata object; an unreadable one reads as empty rather than failing a list.
pub fn from_text(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// The `metadata[key]=value` pairs of a query string, grouped by key in order of appearance.
pub fn query_filter(query: &QueryParams) -> ApiResult<Vec<(String, Vec<String>)>> {
    let mut pairs: Vec<(String, Vec<String>)> = Vec::new();
    let mut issues = Vec::new();
    for (name, value) in query.pairs() {
        let Some(key) = name
            .strip_prefix("metadata[")
            .and_then(|rest| rest.strip_suffix(']'))
        else {
            continue;
        };
        // The key becomes part of a JSON path on SQLite, where a quote cannot be escaped.
        if key.is_empty() || key.chars().count() > MAX_KEY_CHARS || key.contains(['"', '\\']) {
            issues.push(ValidationIssue::new(
                Loc::query("metadata").key(key),
                "value_error",
                format!("A metadata key is 1 to {MAX_KEY_CHARS} characters, without quotes or backslashes"),
                Value::String(key.to_owned()),
            ));
            continue;
        }
        match pairs.iter_mut().find(|(k, _)| k == key) {
            Some((_, values)) => values.push(value.to_owned()),
            None => pairs.push((key.to_owned(), vec![value.to_owned()])),
        }
    }
    if pairs.iter().map(|(_, v)| v.len()).sum::<usize>() > MAX_FILTER_PAIRS {
        issues.push(ValidationIssue::new(
            Loc::query("metadata"),
            "too_long",
            format!("At most {MAX_FILTER_PAIRS} metadata filters"),
            Value::Null,
        ));
    }
    if issues.is_empty() {
        Ok(pairs)
    } else {
        Err(ApiError::Validation(issues))
    }
}

/// The condition that a metadata column matches every key of `filter`. A value matches
/// the stored one written as JSON would show it without quotes: `true`, `42`, `pro`.
pub fn condition(
    backend: DbBackend,
    column: impl Iden + 'static,
    filter: &[(String, Vec<String>)],
) -> Condition {
    let column = column.to_string();
    let mut all = Condition::all();
    for (key, values) in filter {
        let value_of_key: SimpleExpr = match backend {
            DbBackend::Postgres => {
                Expr::cust_with_values(format!("(\"{column}\"::jsonb ->> $1)"), [key.clone()])
            }
            _ => {
                let path = format!("$.\"{key}\"");
                Expr::cust_with_values(
                    format!(
                        "(CASE json_type(\"{column}\", ?) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(json_extract(\"{column}\", ?) AS TEXT) END)"
                    ),
                    [path.clone(), path],
                )
            }
        };
        all = all.add(Expr::expr(value_of_key).is_in(values.iter().cloned()));
    }
    all
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn issues(metadata: Value) -> usize {
        let mut validator = Validator::new();
        check(
            metadata.as_object().unwrap_or(&Map::new()),
            &Loc::body().key("metadata"),
            &mut validator,
        );
        match validator.finish() {
            Ok(()) => 0,
            Err(ApiError::Validation(issues)) => issues.len(),
            Err(_) => usize::MAX,
        }
    }

    #[test]
    fn rules() {
        assert_eq!(
            issues(json!({"plan": "pro", "seats": 3, "ratio": 0.5, "beta": true})),
            0
        );
        assert_eq!(issues(json!({"": "x"})), 1);
        assert_eq!(issues(json!({"k".repeat(41): "x"})), 1);
        assert_eq!(issues(json!({"k": ""})), 1);
        assert_eq!(issues(json!({"k": "v".repeat(501)})), 1);
        assert_eq!(issues(json!({"k": "v".repeat(500)})), 0);
        assert_eq!(issues(json!({"k": null, "l": [1], "m": {}})), 3);
        let many: Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!(i))).collect();
        assert_eq!(issues(Value::Object(many)), 1);
    }
}

#[cfg(test)]
mod sql_tests {
    use sea_orm::sea_query::{Alias, PostgresQueryBuilder, Query, SqliteQueryBuilder};

    use super::*;

    /// Every value is bound, and numbered in order on PostgreSQL.
    #[test]
    fn values_are_bound_on_both_backends() {
        let filter = vec![
            ("tier".to_owned(), vec!["gold".to_owned()]),
            ("n".to_owned(), vec!["1".to_owned(), "2".to_owned()]),
        ];
        let query = |backend| {
            Query::select()
                .column(Alias::new("id"))
                .from(Alias::new("customers"))
                .cond_where(condition(backend, Alias::new("metadata"), &filter))
                .to_owned()
        };
        let (sql, values) = query(DbBackend::Postgres).build(PostgresQueryBuilder);
        assert!(!sql.contains('?'), "{sql}");
        assert!(sql.contains("$5") && !sql.contains("$6"), "{sql}");
        assert_eq!(values.0.len(), 5);
        let (sql, values) = query(DbBackend::Sqlite).build(SqliteQueryBuilder);
        assert_eq!(sql.matches('?').count(), values.0.len());
        assert_eq!(values.0.len(), 7);
    }
}
