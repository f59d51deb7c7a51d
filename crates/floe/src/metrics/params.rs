//! What `GET /v1/metrics/` and its export are asked: dates, interval, time zone, filters
//! and the metrics wanted, checked as Polar checks them (every issue of the query at once,
//! then the range against the interval's limit).

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde_json::{Value, json};
use uuid::Uuid;

use super::catalog;
use crate::calendar::Interval;
use crate::http::{ApiError, ApiResult, Loc, QueryParams, ValidationIssue};
use crate::orders::schema::BillingType;

/// The earliest date `/limits` offers (Polar's; not enforced, as at Polar).
pub const MIN_DATE: &str = "2023-01-01";

pub struct Request {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub interval: Interval,
    pub tz: Tz,
    pub product_ids: Option<Vec<Uuid>>,
    pub billing_types: Option<Vec<BillingType>>,
    pub customer_ids: Option<Vec<Uuid>>,
    /// The metrics to answer (places in `catalog::METRICS`); all when not asked.
    pub metrics: Option<Vec<usize>>,
}

fn date(query: &QueryParams, name: &str, issues: &mut Vec<ValidationIssue>) -> Option<NaiveDate> {
    let Some(raw) = query.last(name) else {
        issues.push(ValidationIssue::new(
            Loc::query(name),
            "missing",
            "Field required",
            Value::Null,
        ));
        return None;
    };
    let parsed = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok();
    if parsed.is_none() {
        issues.push(ValidationIssue::new(
            Loc::query(name),
            "date_from_datetime_parsing",
            "Input should be a valid date or datetime, invalid date separator",
            Value::String(raw.to_owned()),
        ));
    }
    parsed
}

/// A filter's value, its issues added to the others.
fn gather<T>(result: ApiResult<Option<T>>, issues: &mut Vec<ValidationIssue>) -> Option<T> {
    match result {
        Ok(value) => value,
        Err(ApiError::Validation(more)) => {
            issues.extend(more);
            None
        }
        Err(_) => None,
    }
}

pub fn parse(query: &QueryParams) -> ApiResult<Request> {
    let mut issues = Vec::new();
    let start = date(query, "start_date", &mut issues);
    let end = date(query, "end_date", &mut issues);
    let interval = crate::calendar::interval_param(query, &mut issues);
    let tz = crate::calendar::timezone_param(query, &mut issues);
    let product_ids = gather(query.uuids("product_id"), &mut issues);
    let customer_ids = gather(query.uuids("customer_id"), &mut issues);
    let billing_types = gather(query.enums::<BillingType>("billing_type"), &mut issues);
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let asked = query.all("metrics");
    let metrics = if asked.is_empty() {
        None
    } else {
        let mut unknown: Vec<&str> = asked
            .iter()
            .copied()
            .filter(|slug| !catalog::known(slug))
            .collect();
        if !unknown.is_empty() {
            unknown.sort_unstable();
            unknown.dedup();
            return Err(ApiError::validation(
                Loc::query("metrics"),
                "value_error",
                format!("Invalid metric slugs: {}", unknown.join(", ")),
                json!(asked),
            ));
        }
        Some(
            asked
                .iter()
                .filter_map(|slug| catalog::find(slug))
                .collect(),
        )
    };
    let (Some(start), Some(end), Some(interval), Some(tz)) = (start, end, interval, tz) else {
        return Err(ApiError::Validation(issues));
    };
    if start > end || (end - start).num_days() > interval.max_days() {
        return Err(ApiError::validation(
            Loc::query_root(),
            "value_error",
            "The interval is too small for the given date range. Use a larger interval or reduce the date range.",
            json!([start.to_string(), end.to_string(), interval.as_str()]),
        ));
    }
    Ok(Request {
        start,
        end,
        interval,
        tz,
        product_ids,
        billing_types,
        customer_ids,
        metrics,
    })
}

/// `GET /v1/metrics/limits`: the range each interval may span.
pub fn limits() -> Value {
    let mut intervals = serde_json::Map::new();
    for name in Interval::NAMES {
        let interval = Interval::parse(name).unwrap_or(Interval::Day);
        intervals.insert(
            name.to_owned(),
            json!({"min_days": interval.min_days(), "max_days": interval.max_days()}),
        );
    }
    json!({"min_date": MIN_DATE, "intervals": intervals})
}
