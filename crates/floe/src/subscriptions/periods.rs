//! Billing periods: where the next one ends. Days and weeks are added as they are; months
//! and years land on the subscription's anchor day, or the month's last day when it is
//! shorter (a subscription started on 31 January renews on 28 or 29 February, then on
//! 31 March), at the same time of day.

use chrono::{DateTime, Datelike, Duration, Months, Utc};

use crate::products::schema::Interval;

/// The end of the period that starts at `start`, `count` intervals long.
pub fn next_end(
    start: DateTime<Utc>,
    interval: Interval,
    count: i64,
    anchor_day: u32,
) -> DateTime<Utc> {
    let count = count.clamp(1, 999);
    match interval {
        Interval::Day => start + Duration::days(count),
        Interval::Week => start + Duration::weeks(count),
        Interval::Month => add_months(start, count as u32, anchor_day),
        Interval::Year => add_months(start, count as u32 * 12, anchor_day),
    }
}

/// A meter cycle apart from the billing one: its cadence, and the billing period it divides.
pub struct MeterClock {
    pub interval: Interval,
    pub count: i64,
    pub anchor_day: u32,
    pub period: (DateTime<Utc>, DateTime<Utc>),
}

impl MeterClock {
    /// The meter period `at` falls in: the cycles are counted from the billing period's
    /// start, and the last one ends with the billing period (the cadence divides it; a
    /// month cut short by the anchor day still ends there).
    pub fn window_at(&self, at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let (mut start, period_end) = self.period;
        loop {
            let end = next_end(start, self.interval, self.count, self.anchor_day).min(period_end);
            if end > at || end >= period_end || end <= start {
                return (start, end);
            }
            start = end;
        }
    }
}

fn add_months(start: DateTime<Utc>, months: u32, anchor_day: u32) -> DateTime<Utc> {
    // `checked_add_months` keeps the day, or takes the month's last when it is shorter.
    let moved = start
        .checked_add_months(Months::new(months))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let wanted = anchor_day
        .clamp(1, 31)
        .min(days_in_month(moved.year(), moved.month()));
    moved.with_day(wanted).unwrap_or(moved)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    chrono::NaiveDate::from_ymd_opt(next_year, next_month, 1)
        .and_then(|first| first.pred_opt())
        .map_or(28, |last| last.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn months_follow_the_anchor_day() {
        let jan31 = at("2027-01-31T10:00:00Z");
        let feb = next_end(jan31, Interval::Month, 1, 31);
        assert_eq!(feb, at("2027-02-28T10:00:00Z"));
        let mar = next_end(feb, Interval::Month, 1, 31);
        assert_eq!(mar, at("2027-03-31T10:00:00Z"));
        let apr = next_end(mar, Interval::Month, 1, 31);
        assert_eq!(apr, at("2027-04-30T10:00:00Z"));
        // A leap year's February.
        assert_eq!(
            next_end(at("2028-01-31T00:00:00Z"), Interval::Month, 1, 31),
            at("2028-02-29T00:00:00Z")
        );
    }

    #[test]
    fn counts_days_weeks_and_years() {
        let start = at("2027-02-28T12:30:00Z");
        assert_eq!(
            next_end(start, Interval::Day, 3, 28),
            at("2027-03-03T12:30:00Z")
        );
        assert_eq!(
            next_end(start, Interval::Week, 2, 28),
            at("2027-03-14T12:30:00Z")
        );
        assert_eq!(
            next_end(start, Interval::Month, 3, 28),
            at("2027-05-28T12:30:00Z")
        );
        assert_eq!(
            next_end(start, Interval::Year, 1, 28),
            at("2028-02-28T12:30:00Z")
        );
        // 29 February anchors land on the 28th in common years and come back in leap ones.
        let leap = at("2028-02-29T00:00:00Z");
        let common = next_end(leap, Interval::Year, 1, 29);
        assert_eq!(common, at("2029-02-28T00:00:00Z"));
        assert_eq!(
            next_end(common, Interval::Year, 3, 29),
            at("2032-02-29T00:00:00Z")
        );
    }

    #[test]
    fn meter_cycles_divide_the_billing_period() {
        let year = MeterClock {
            interval: Interval::Month,
            count: 1,
            anchor_day: 31,
            period: (at("2027-01-31T09:00:00Z"), at("2028-01-31T09:00:00Z")),
        };
        assert_eq!(
            year.window_at(at("2027-01-31T09:00:00Z")),
            (at("2027-01-31T09:00:00Z"), at("2027-02-28T09:00:00Z"))
        );
        assert_eq!(
            year.window_at(at("2027-02-28T09:00:00Z")),
            (at("2027-02-28T09:00:00Z"), at("2027-03-31T09:00:00Z"))
        );
        assert_eq!(
            year.window_at(at("2028-01-30T00:00:00Z")),
            (at("2027-12-31T09:00:00Z"), at("2028-01-31T09:00:00Z"))
        );
        // At or past the billing period's end, the last meter period.
        assert_eq!(
            year.window_at(at("2028-02-10T00:00:00Z")),
            (at("2027-12-31T09:00:00Z"), at("2028-01-31T09:00:00Z"))
        );
        let week = MeterClock {
            interval: Interval::Day,
            count: 2,
            anchor_day: 1,
            period: (at("2027-03-01T00:00:00Z"), at("2027-03-08T00:00:00Z")),
        };
        // Seven days in cycles of two: the last is cut at the period's end.
        assert_eq!(
            week.window_at(at("2027-03-07T12:00:00Z")),
            (at("2027-03-07T00:00:00Z"), at("2027-03-08T00:00:00Z"))
        );
    }

    #[test]
    fn twelve_monthly_periods_make_a_year() {
        let mut end = at("2027-01-15T08:00:00Z");
        for _ in 0..12 {
            end = next_end(end, Interval::Month, 1, 15);
        }
        assert_eq!(end, at("2028-01-15T08:00:00Z"));
    }
}
