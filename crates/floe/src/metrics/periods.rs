//! The periods a metrics answer is made of: the local starts of each hour, day, week
//! (Monday), month or year in the request's time zone, from `start_date` to `end_date`,
//! and the bounds `[S, E)` of the request itself (what falls outside counts in no period,
//! even in a first period that begins before `start_date`).

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

pub use crate::calendar::Interval;
use crate::calendar::instant;

/// The periods of one request.
#[derive(Clone, Debug)]
pub struct Periods {
    pub interval: Interval,
    tz: Tz,
    /// The start of every period, then the end of the last one.
    bounds: Vec<DateTime<Utc>>,
    /// `start_date` at 00:00, local.
    pub from: DateTime<Utc>,
    /// The day after `end_date` at 00:00, local (exclusive).
    pub until: DateTime<Utc>,
}

fn midnight(date: NaiveDate) -> NaiveDateTime {
    date.and_hms_opt(0, 0, 0).unwrap_or_default()
}

impl Periods {
    pub fn new(start: NaiveDate, end: NaiveDate, interval: Interval, tz: Tz) -> Self {
        let from = instant(tz, midnight(start));
        let until = instant(tz, midnight(end.succ_opt().unwrap_or(end)));
        let first = match interval {
            Interval::Hour | Interval::Day => start,
            Interval::Week => {
                start - Duration::days(i64::from(start.weekday().num_days_from_monday()))
            }
            Interval::Month => start.with_day(1).unwrap_or(start),
            Interval::Year => NaiveDate::from_ymd_opt(start.year(), 1, 1).unwrap_or(start),
        };
        let mut bounds = Vec::new();
        let mut local = midnight(first);
        let mut at = instant(tz, local);
        // Hours step in absolute time (a day of a clock change has 23 or 25 of them); days,
        // weeks, months and years step on the local calendar.
        while at < until {
            bounds.push(at);
            match interval {
                Interval::Hour => at += Duration::hours(1),
                _ => {
                    local = match interval {
                        Interval::Day => local + Duration::days(1),
                        Interval::Week => local + Duration::days(7),
                        Interval::Month => local + Months::new(1),
                        _ => local + Months::new(12),
                    };
                    at = instant(tz, local);
                }
            }
        }
        bounds.push(at);
        Self {
            interval,
            tz,
            bounds,
            from,
            until,
        }
    }

    /// How many periods there are.
    pub fn len(&self) -> usize {
        self.bounds.len() - 1
    }

    /// The start of period `i`.
    pub fn start(&self, i: usize) -> DateTime<Utc> {
        self.bounds[i]
    }

    /// The end of period `i` (the next one's start).
    pub fn end(&self, i: usize) -> DateTime<Utc> {
        self.bounds[i + 1]
    }

    /// Every period's start, then the last one's end.
    pub fn bounds(&self) -> &[DateTime<Utc>] {
        &self.bounds
    }

    /// The local time of `at` in the request's zone.
    pub fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&self.tz).naive_local()
    }

    /// `days` local calendar days before the start of period `i`, at the same wall-clock
    /// time (the churn rate's window).
    pub fn days_before_start(&self, i: usize, days: i64) -> DateTime<Utc> {
        let local = self.bounds[i].with_timezone(&self.tz).naive_local() - Duration::days(days);
        instant(self.tz, local)
    }

    /// The period `at` falls in, if it is inside the request's bounds.
    pub fn of(&self, at: DateTime<Utc>) -> Option<usize> {
        if at < self.from || at >= self.until {
            return None;
        }
        self.of_series(at)
    }

    /// The period `at` falls in, anywhere in the series (from the first period's start,
    /// which may be before `start_date`).
    pub fn of_series(&self, at: DateTime<Utc>) -> Option<usize> {
        if at < self.bounds[0] || at >= self.bounds[self.len()] {
            return None;
        }
        Some(self.bounds.partition_point(|b| *b <= at) - 1)
    }

    /// The first period whose end is after `at` (the first period `at` is not yet past),
    /// or `len()` when `at` is after them all: a subscription that ends at `at` is active in
    /// the periods before this one.
    pub fn first_ending_after(&self, at: DateTime<Utc>) -> usize {
        self.bounds[1..].partition_point(|end| *end <= at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_leap_year_in_every_interval() {
        let count =
            |interval| Periods::new(date(2024, 1, 1), date(2024, 12, 31), interval, Tz::UTC).len();
        assert_eq!(count(Interval::Year), 1);
        assert_eq!(count(Interval::Month), 12);
        assert_eq!(count(Interval::Week), 53);
        assert_eq!(count(Interval::Day), 366);
        assert_eq!(count(Interval::Hour), 8784);
    }

    #[test]
    fn local_starts_written_in_utc() {
        let paris = Periods::new(
            date(2024, 1, 1),
            date(2024, 1, 2),
            Interval::Day,
            Tz::Europe__Paris,
        );
        assert_eq!(paris.start(0).to_rfc3339(), "2023-12-31T23:00:00+00:00");
        let kolkata = Periods::new(
            date(2024, 1, 1),
            date(2024, 1, 1),
            Interval::Hour,
            Tz::Asia__Kolkata,
        );
        assert_eq!(kolkata.len(), 24);
        assert_eq!(kolkata.start(1).to_rfc3339(), "2023-12-31T19:30:00+00:00");
        // A month that starts mid-month begins on the 1st; its data from the start date only.
        let months = Periods::new(
            date(2024, 1, 11),
            date(2024, 6, 15),
            Interval::Month,
            Tz::UTC,
        );
        assert_eq!(months.len(), 6);
        assert_eq!(months.start(0).to_rfc3339(), "2024-01-01T00:00:00+00:00");
        assert_eq!(months.of(months.start(0)), None);
        assert_eq!(months.of_series(months.start(0)), Some(0));
        // The day of the spring clock change has 23 hours.
        let spring = Periods::new(
            date(2024, 3, 31),
            date(2024, 3, 31),
            Interval::Hour,
            Tz::Europe__Paris,
        );
        assert_eq!(spring.len(), 23);
    }
}
