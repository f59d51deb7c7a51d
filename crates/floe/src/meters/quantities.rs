//! `GET /v1/meters/{id}/quantities`: a meter's value over time.
//!
//! The series has a point at `start_timestamp` and every `interval` after it (calendar
//! steps in the requested time zone, so a day is 23 or 25 hours across a DST change) up to
//! `end_timestamp`. Each point's quantity aggregates the events of the whole local hour,
//! day, week (from Monday), month or year that contains it, as Polar computes it.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Months, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::evaluate::{Accumulator, Contribution};
use super::filter::Aggregation;

pub use crate::calendar::Interval;
use crate::calendar::instant;

/// The series points from `start` to `end`, stepping by `interval` in `tz`.
pub fn series(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    interval: Interval,
    tz: Tz,
) -> Vec<DateTime<Utc>> {
    let mut points = Vec::new();
    let local_start = start.with_timezone(&tz).naive_local();
    let mut step: u32 = 0;
    loop {
        let point = match interval {
            Interval::Hour => start + Duration::hours(i64::from(step)),
            Interval::Day => instant(tz, local_start + Duration::days(i64::from(step))),
            Interval::Week => instant(tz, local_start + Duration::weeks(i64::from(step))),
            Interval::Month => match local_start.checked_add_months(Months::new(step)) {
                Some(local) => instant(tz, local),
                None => break,
            },
            Interval::Year => {
                match local_start.checked_add_months(Months::new(step.saturating_mul(12))) {
                    Some(local) => instant(tz, local),
                    None => break,
                }
            }
        };
        if point > end || points.len() > 10_000 {
            break;
        }
        points.push(point);
        step += 1;
    }
    points
}

/// `MeterQuantity`.
#[derive(Debug, Serialize, PartialEq)]
pub struct MeterQuantity {
    pub timestamp: DateTime<Utc>,
    pub quantity: f64,
}

/// `MeterQuantities`.
#[derive(Debug, Serialize, PartialEq)]
pub struct MeterQuantities {
    pub quantities: Vec<MeterQuantity>,
    pub total: f64,
}

/// What one matching event, or one rollup bucket of them, adds.
pub struct Sample {
    /// When (for a bucket, its start: all its events are in the same period).
    pub timestamp: DateTime<Utc>,
    /// Whose it is (a customer ID, or the external ID it was sent with).
    pub customer: String,
    pub partial: Accumulator,
}

/// Whether `a` and `b` fall in the same local period.
pub fn same_period(interval: Interval, tz: Tz, a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    interval.truncate(a.with_timezone(&tz).naive_local())
        == interval.truncate(b.with_timezone(&tz).naive_local())
}

/// The UTC range of events a series can need: from the start of the period containing
/// its first point to the end of the period containing its last.
pub fn event_range(
    points: &[DateTime<Utc>],
    interval: Interval,
    tz: Tz,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let first = points.first()?;
    let last = points.last()?;
    let from = instant(
        tz,
        interval.truncate(first.with_timezone(&tz).naive_local()),
    );
    let last_start = interval.truncate(last.with_timezone(&tz).naive_local());
    let next = match interval {
        Interval::Hour => last_start + Duration::hours(1),
        Interval::Day => last_start + Duration::days(1),
        Interval::Week => last_start + Duration::weeks(1),
        Interval::Month => last_start.checked_add_months(Months::new(1))?,
        Interval::Year => last_start.checked_add_months(Months::new(12))?,
    };
    Some((from, instant(tz, next)))
}

/// Quantities per point and the total, from the matching events.
pub fn compute(
    points: &[DateTime<Utc>],
    interval: Interval,
    tz: Tz,
    aggregation: &Aggregation,
    per_customer: Option<&Aggregation>,
    samples: &[Sample],
) -> MeterQuantities {
    let bucket_of = |at: DateTime<Utc>| interval.truncate(at.with_timezone(&tz).naive_local());
    let point_buckets: Vec<NaiveDateTime> = points.iter().map(|p| bucket_of(*p)).collect();
    let mut by_bucket: HashMap<NaiveDateTime, Vec<&Sample>> = HashMap::new();
    let mut in_range = Accumulator::default();
    for sample in samples {
        let bucket = bucket_of(sample.timestamp);
        if point_buckets.contains(&bucket) {
            by_bucket.entry(bucket).or_default().push(sample);
            in_range.merge(&sample.partial);
        }
    }
    let value_of = |samples: &[&Sample]| -> Option<f64> {
        match per_customer {
            None => {
                let mut acc = Accumulator::default();
                for s in samples {
                    acc.merge(&s.partial);
                }
                acc.value(aggregation)
            }
            // First the meter's aggregation per customer, then `function` across them.
            Some(function) => {
                let mut customers: HashMap<&str, Accumulator> = HashMap::new();
                for s in samples {
                    customers
                        .entry(s.customer.as_str())
                        .or_default()
                        .merge(&s.partial);
                }
                let mut across = Accumulator::default();
                for acc in customers.values() {
                    if let Some(value) = acc.value(aggregation) {
                        across.add(&match function {
                            Aggregation::Count => Contribution::One,
                            Aggregation::Unique(_) => Contribution::Distinct(value.to_string()),
                            _ => Contribution::Number(value),
                        });
                    }
                }
                across.value(function)
            }
        }
    };
    let values: Vec<Option<f64>> = point_buckets
        .iter()
        .map(|bucket| by_bucket.get(bucket).and_then(|samples| value_of(samples)))
        .collect();
    let present = values.iter().flatten().copied();
    let total = match aggregation {
        Aggregation::Count | Aggregation::Sum(_) => present.sum(),
        Aggregation::Max(_) => present
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
            .unwrap_or(0.0),
        Aggregation::Min(_) => present
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))))
            .unwrap_or(0.0),
        // Over every event of the series' periods (Polar takes every event ever; the range
        // the caller asked about is what a total of a series means).
        Aggregation::Avg(_) | Aggregation::Unique(_) => in_range.value(aggregation).unwrap_or(0.0),
    };
    MeterQuantities {
        quantities: points
            .iter()
            .zip(values)
            .map(|(timestamp, value)| MeterQuantity {
                timestamp: *timestamp,
                quantity: value.unwrap_or(0.0),
            })
            .collect(),
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn daily_series_keeps_local_time_across_dst() {
        let tz: Tz = "Europe/Paris".parse().unwrap_or(Tz::UTC);
        let points = series(
            at("2026-10-24T10:00:00Z"),
            at("2026-10-27T10:00:00Z"),
            Interval::Day,
            tz,
        );
        let texts: Vec<String> = points.iter().map(|p| p.to_rfc3339()).collect();
        // 12:00 in Paris each day: 10:00Z in summer time, 11:00Z once it ends (Oct 25).
        assert_eq!(
            texts,
            [
                "2026-10-24T10:00:00+00:00",
                "2026-10-25T11:00:00+00:00",
                "2026-10-26T11:00:00+00:00"
            ]
        );
    }

    #[test]
    fn buckets_are_whole_local_periods() {
        let tz: Tz = "America/New_York".parse().unwrap_or(Tz::UTC);
        let points = series(
            at("2026-03-02T15:00:00Z"),
            at("2026-03-03T15:00:00Z"),
            Interval::Day,
            tz,
        );
        let sample = |t: &str| Sample {
            timestamp: at(t),
            customer: "c".into(),
            partial: Accumulator::of(&Contribution::One),
        };
        // 04:30Z on the 2nd is still the 1st in New York; 04:59Z on the 4th is the 3rd.
        let samples = [
            sample("2026-03-02T04:30:00Z"),
            sample("2026-03-02T05:00:00Z"),
            sample("2026-03-04T04:59:00Z"),
        ];
        let result = compute(
            &points,
            Interval::Day,
            tz,
            &Aggregation::Count,
            None,
            &samples,
        );
        assert_eq!(
            result
                .quantities
                .iter()
                .map(|q| q.quantity)
                .collect::<Vec<_>>(),
            [1.0, 1.0]
        );
        assert_eq!(result.total, 2.0);
        let (from, to) = event_range(&points, Interval::Day, tz).unwrap_or_default();
        assert_eq!(
            (from.to_rfc3339(), to.to_rfc3339()),
            (
                "2026-03-02T05:00:00+00:00".into(),
                "2026-03-04T05:00:00+00:00".into()
            )
        );
    }

    #[test]
    fn per_customer_then_across() {
        let tz = Tz::UTC;
        let points = series(
            at("2026-01-01T00:00:00Z"),
            at("2026-01-01T00:00:00Z"),
            Interval::Day,
            tz,
        );
        let s = |c: &str, n: f64| Sample {
            timestamp: at("2026-01-01T12:00:00Z"),
            customer: c.into(),
            partial: Accumulator::of(&Contribution::Number(n)),
        };
        let samples = [s("a", 1.0), s("a", 2.0), s("b", 10.0)];
        let sum = Aggregation::Sum("n".into());
        let max_of_sums = compute(
            &points,
            Interval::Day,
            tz,
            &sum,
            Some(&Aggregation::Max("x".into())),
            &samples,
        );
        assert_eq!(max_of_sums.quantities[0].quantity, 10.0);
        let count_customers = compute(
            &points,
            Interval::Day,
            tz,
            &sum,
            Some(&Aggregation::Count),
            &samples,
        );
        assert_eq!(count_customers.quantities[0].quantity, 2.0);
        let avg = compute(
            &points,
            Interval::Day,
            tz,
            &sum,
            Some(&Aggregation::Avg("x".into())),
            &samples,
        );
        assert_eq!(avg.quantities[0].quantity, 6.5);
    }

    #[test]
    fn week_month_year_truncate() {
        let local = chrono::NaiveDate::from_ymd_opt(2026, 11, 28)
            .and_then(|d| d.and_hms_opt(13, 45, 0))
            .unwrap_or_default();
        assert_eq!(
            Interval::Week.truncate(local).to_string(),
            "2026-11-23 00:00:00"
        );
        assert_eq!(
            Interval::Month.truncate(local).to_string(),
            "2026-11-01 00:00:00"
        );
        assert_eq!(
            Interval::Year.truncate(local).to_string(),
            "2026-01-01 00:00:00"
        );
        assert_eq!(
            Interval::Hour.truncate(local).to_string(),
            "2026-11-28 13:00:00"
        );
    }
}
