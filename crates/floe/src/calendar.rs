//! Local calendar periods in an IANA time zone, shared by meter quantities and metrics:
//! the contract's `TimeInterval`, local times as instants, and the query parameters that
//! name an interval and a zone.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use crate::http::{Loc, QueryParams, ValidationIssue};

/// `TimeInterval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl Interval {
    pub const NAMES: [&'static str; 5] = ["hour", "day", "week", "month", "year"];

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "hour" => Self::Hour,
            "day" => Self::Day,
            "week" => Self::Week,
            "month" => Self::Month,
            "year" => Self::Year,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The longest range a series of this interval may span, in days (Polar's limits).
    pub fn max_days(self) -> i64 {
        match self {
            Self::Hour => 7,
            Self::Day => 366,
            Self::Week => 371,
            Self::Month => 1460,
            Self::Year => 3650,
        }
    }

    /// The shortest range Polar suggests for it (shown by `/v1/metrics/limits`, not
    /// enforced, as at Polar).
    pub fn min_days(self) -> i64 {
        match self {
            Self::Hour | Self::Day => 0,
            Self::Week => 14,
            Self::Month => 60,
            Self::Year => 366,
        }
    }

    /// The start of the local period containing `local` (weeks start on Monday).
    pub fn truncate(self, local: NaiveDateTime) -> NaiveDateTime {
        let date = local.date();
        let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap_or(local);
        match self {
            Self::Hour => date.and_hms_opt(local.hour(), 0, 0).unwrap_or(local),
            Self::Day => midnight(date),
            Self::Week => {
                midnight(date - Duration::days(i64::from(date.weekday().num_days_from_monday())))
            }
            Self::Month => midnight(date.with_day(1).unwrap_or(date)),
            Self::Year => midnight(NaiveDate::from_ymd_opt(date.year(), 1, 1).unwrap_or(date)),
        }
    }
}

/// A local time as an instant: a time a clock change skipped is the first instant after
/// the gap (every zone's gaps are whole quarter hours), a repeated one its first occurrence.
pub fn instant(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = local;
    for _ in 0..16 {
        if let Some(at) = tz.from_local_datetime(&probe).earliest() {
            return at.with_timezone(&Utc);
        }
        probe += Duration::minutes(15);
    }
    Utc.from_utc_datetime(&local)
}

/// The required `interval` query parameter; an issue when it is missing or unknown.
pub fn interval_param(query: &QueryParams, issues: &mut Vec<ValidationIssue>) -> Option<Interval> {
    let Some(raw) = query.last("interval") else {
        issues.push(ValidationIssue::new(
            Loc::query("interval"),
            "missing",
            "Field required",
            Value::Null,
        ));
        return None;
    };
    let interval = Interval::parse(raw);
    if interval.is_none() {
        issues.push(ValidationIssue::new(
            Loc::query("interval"),
            "enum",
            "Input should be 'year', 'month', 'week', 'day' or 'hour'",
            Value::String(raw.to_owned()),
        ));
    }
    interval
}

/// The `timezone` query parameter (UTC when absent); an issue when it names no zone.
pub fn timezone_param(query: &QueryParams, issues: &mut Vec<ValidationIssue>) -> Option<Tz> {
    let name = query.last("timezone").unwrap_or("UTC");
    let tz = name.parse::<Tz>().ok();
    if tz.is_none() {
        issues.push(ValidationIssue::new(
            Loc::query("timezone"),
            "enum",
            "Input should be an IANA time zone name",
            Value::String(name.to_owned()),
        ));
    }
    tz
}
