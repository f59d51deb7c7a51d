//! What one order, subscription, dispute or customer adds to the quarter sums: pure
//! functions of the few values a fact keeps, so that taking a fact back is adding it with
//! the opposite sign.
//!
//! Every local period boundary of every time zone (offsets are whole quarter hours) falls on
//! a UTC quarter hour, so two instants in one quarter are in one period whatever the
//! request. Whether an order is a new subscription's or a renewal's depends on the period,
//! though: such an order is decided here for each interval whose longest period cannot hold
//! both it and its subscription's start (`REACH`), and left *ambiguous* for the others,
//! where a request reads it one by one (few: a renewal within a day of its start, say).

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::columns::*;

/// Seconds in a quarter hour.
pub const QUARTER: i64 = 900;

/// The longest period of each interval (hour, day, week, month, year), with room for the
/// largest clock change there is (Troll's two hours): two instants this far apart are never
/// in one period. Requests check their periods against it.
pub const REACH: [TimeDelta; 5] = [
    TimeDelta::hours(1),
    TimeDelta::hours(27),
    TimeDelta::hours(7 * 24 + 3),
    TimeDelta::hours(31 * 24 + 3),
    TimeDelta::hours(366 * 24 + 3),
];

/// The quarter hour `at` falls in, counted from the Unix epoch.
pub fn quarter(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(QUARTER)
}

/// Whether `at` is the first instant of its quarter hour.
pub fn on_boundary(at: DateTime<Utc>) -> bool {
    at.timestamp().rem_euclid(QUARTER) == 0 && at.timestamp_subsec_nanos() == 0
}

fn same_quarter(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    quarter(a) == quarter(b)
}

/// The first interval (a place in `REACH`) for which `gap` is too short to be sure of.
fn first_unsure(gap: TimeDelta) -> Option<usize> {
    REACH.iter().position(|reach| gap.abs() < *reach)
}

/// Sums per organization and quarter.
pub type Deltas = HashMap<(Uuid, i64), Sums>;

fn bump(deltas: &mut Deltas, organization: Uuid, quarter: i64, place: usize, value: i64) {
    if value != 0 {
        deltas.entry((organization, quarter)).or_insert([0; COUNT])[place] += value;
    }
}

/// A paid order as metrics count it.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderFact {
    pub organization_id: Uuid,
    pub subscription_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub revenue: i64,
    pub kept: i64,
    /// Its subscription's start (none for a one-time order or a subscription that never
    /// started: such an order is neither new nor renewed).
    pub started_at: Option<DateTime<Utc>>,
    /// The subscription's paid order just before it (by creation, then ID).
    pub previous_at: Option<DateTime<Utc>>,
}

impl OrderFact {
    /// The first interval (place in `REACH`) for which this order must be read one by one,
    /// if any: where its subscription's start, or its previous order, may or may not share
    /// its period.
    pub fn ambiguity(&self) -> Option<usize> {
        let (Some(_), Some(started)) = (self.subscription_id, self.started_at) else {
            return None;
        };
        if same_quarter(self.created_at, started) {
            return None; // New in every period.
        }
        let by_start = first_unsure(self.created_at - started);
        let by_previous = self
            .previous_at
            .filter(|at| !same_quarter(self.created_at, *at))
            .and_then(|at| first_unsure(self.created_at - at));
        match (by_start, by_previous) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn add_to(&self, sign: i64, deltas: &mut Deltas) {
        let q = quarter(self.created_at);
        let org = self.organization_id;
        let mut put = |place, value| bump(deltas, org, q, place, sign * value);
        put(ORDERS, 1);
        put(REVENUE, self.revenue);
        put(KEPT, self.kept);
        match (self.subscription_id, self.started_at) {
            (None, _) => {
                put(ONE_TIME_ORDERS, 1);
                put(ONE_TIME_REVENUE, self.revenue);
                put(ONE_TIME_KEPT, self.kept);
            }
            (Some(_), None) => {}
            (Some(_), Some(started)) if same_quarter(self.created_at, started) => {
                put(NEW_REVENUE, self.revenue);
                put(NEW_KEPT, self.kept);
            }
            (Some(_), Some(_)) => {
                // A renewal for every interval it is not ambiguous for; the first of its
                // period unless its previous order is in its quarter.
                let sure = self.ambiguity().unwrap_or(REACH.len());
                for (k, reach) in REACH.iter().enumerate().take(sure) {
                    put(OLD_REVENUE + k, self.revenue);
                    put(OLD_KEPT + k, self.kept);
                    let first = self
                        .previous_at
                        .is_none_or(|at| self.created_at - at >= *reach);
                    put(RENEWED + k, i64::from(first));
                }
            }
        }
    }
}

/// A started subscription as metrics count it.
#[derive(Clone, Debug, PartialEq)]
pub struct SubscriptionFact {
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    /// `ended_at`, else `ends_at`.
    pub end_at: Option<DateTime<Utc>>,
    pub canceled_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub monthly: i64,
    pub trial_end: Option<DateTime<Utc>>,
}

impl SubscriptionFact {
    /// When it stops being active (never before it starts).
    fn active_until(&self) -> Option<DateTime<Utc>> {
        self.end_at.map(|end| end.max(self.started_at))
    }

    /// When its trial gives way to paying, within its active time.
    fn paying_from(&self) -> DateTime<Utc> {
        let at = self
            .trial_end
            .unwrap_or(self.started_at)
            .max(self.started_at);
        match self.active_until() {
            Some(until) => at.min(until),
            None => at,
        }
    }

    /// The first interval for which "created and ended in one period" must be checked one
    /// by one.
    pub fn ambiguity(&self) -> Option<usize> {
        let end = self.end_at?;
        if same_quarter(self.created_at, end) {
            return None;
        }
        first_unsure(end - self.created_at)
    }

    pub fn add_to(&self, sign: i64, deltas: &mut Deltas) {
        let org = self.organization_id;
        let mut put = |at: DateTime<Utc>, place, value: i64| {
            bump(deltas, org, quarter(at), place, sign * value)
        };
        let (start, paying, m) = (self.started_at, self.paying_from(), self.monthly);
        put(start, ACTIVE, 1);
        put(start, TRIAL_MRR, m);
        put(paying, TRIAL_MRR, -m);
        put(paying, MRR, m);
        match self.active_until() {
            Some(until) => {
                put(until, ACTIVE, -1);
                put(until, MRR, -m);
            }
            None => {
                put(start, COMMITTED, 1);
                put(start, TRIAL_COMMITTED_MRR, m);
                put(paying, TRIAL_COMMITTED_MRR, -m);
                put(paying, COMMITTED_MRR, m);
            }
        }
        put(start, ALIVE, 1);
        if on_boundary(start) {
            put(start, ALIVE_EXACT, 1);
        }
        if let Some(end) = self.end_at {
            put(end, ALIVE, -1);
            if on_boundary(end) {
                put(end, ALIVE_EXACT, -1);
            }
            put(end, CHURNED, 1);
        }
        if let Some(at) = self.canceled_at {
            put(at, CANCELED + reason_place(self.reason.as_deref()), 1);
        }
        put(self.created_at, CREATED, 1);
        if self
            .end_at
            .is_some_and(|end| same_quarter(end, self.created_at))
        {
            put(self.created_at, CREATED_GONE, 1);
        }
    }

    /// The quarters it is active at the end of, as `(from, to]` (`to` none: for good); none
    /// when it starts and stops in one quarter.
    pub fn active_quarters(&self) -> Option<(i64, Option<i64>)> {
        let from = quarter(self.started_at);
        match self.active_until().map(quarter) {
            Some(to) if to == from => None,
            to => Some((from, to)),
        }
    }
}

/// The quarters a customer has an active subscription at the end of: the union of its
/// subscriptions' `(from, to]`, merged where they touch.
pub fn customer_ranges(spans: &mut [(i64, Option<i64>)]) -> Vec<(i64, Option<i64>)> {
    spans.sort_unstable_by_key(|(from, _)| *from);
    let mut merged: Vec<(i64, Option<i64>)> = Vec::new();
    for &(from, to) in spans.iter() {
        match merged.last_mut() {
            Some((_, last_to)) if last_to.is_none_or(|end| from <= end) => {
                *last_to = match (*last_to, to) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => merged.push((from, to)),
        }
    }
    merged
}

/// A customer counts from the quarter after its range starts until the quarter its range
/// ends (`(from, to]` ends are the sums' "before" bounds).
pub fn add_customer(
    organization: Uuid,
    ranges: &[(i64, Option<i64>)],
    sign: i64,
    deltas: &mut Deltas,
) {
    for &(from, to) in ranges {
        bump(deltas, organization, from, CUSTOMERS, sign);
        if let Some(to) = to {
            bump(deltas, organization, to, CUSTOMERS, -sign);
        }
    }
}

/// A lost dispute of a paid order: what it took back, when.
#[derive(Clone, Debug, PartialEq)]
pub struct DisputeFact {
    pub organization_id: Uuid,
    pub quarter: i64,
    pub amount: i64,
}

impl DisputeFact {
    pub fn add_to(&self, sign: i64, deltas: &mut Deltas) {
        bump(
            deltas,
            self.organization_id,
            self.quarter,
            DISPUTES_LOST,
            sign * self.amount,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn order(created: &str, started: &str, previous: Option<&str>) -> OrderFact {
        OrderFact {
            organization_id: Uuid::nil(),
            subscription_id: Some(Uuid::nil()),
            created_at: at(created),
            revenue: 100,
            kept: 90,
            started_at: Some(at(started)),
            previous_at: previous.map(at),
        }
    }

    #[test]
    fn an_order_is_ambiguous_only_where_its_start_or_previous_order_may_share_its_period() {
        // Its start's quarter: new everywhere.
        assert_eq!(
            order("2025-03-01T10:14:00Z", "2025-03-01T10:00:00Z", None).ambiguity(),
            None
        );
        // Two hours after: sure for hours, ambiguous from days on.
        assert_eq!(
            order("2025-03-01T12:00:00Z", "2025-03-01T10:00:00Z", None).ambiguity(),
            Some(1)
        );
        // Two years after its start, previous order 28 days before: ambiguous for months
        // and years.
        assert_eq!(
            order(
                "2027-03-01T10:00:00Z",
                "2025-03-01T10:00:00Z",
                Some("2027-02-01T10:00:00Z")
            )
            .ambiguity(),
            Some(3)
        );
        // Previous order in its quarter: never the first of a period.
        let twin = order(
            "2027-03-01T10:10:00Z",
            "2025-03-01T10:00:00Z",
            Some("2027-03-01T10:05:00Z"),
        );
        assert_eq!(twin.ambiguity(), None);
        let mut deltas = Deltas::new();
        twin.add_to(1, &mut deltas);
        let sums = deltas.values().next().unwrap();
        assert_eq!(sums[OLD_REVENUE + 4], 100);
        assert_eq!(sums[RENEWED + 4], 0);
    }

    #[test]
    fn taking_a_fact_back_leaves_nothing() {
        let fact = SubscriptionFact {
            organization_id: Uuid::nil(),
            customer_id: Uuid::nil(),
            created_at: at("2025-01-01T00:00:00Z"),
            started_at: at("2025-01-01T00:00:00Z"),
            end_at: Some(at("2025-02-10T00:00:00Z")),
            canceled_at: Some(at("2025-02-01T00:00:00Z")),
            reason: Some("unused".into()),
            monthly: 900,
            trial_end: Some(at("2025-01-15T00:00:00Z")),
        };
        let mut deltas = Deltas::new();
        fact.add_to(1, &mut deltas);
        assert_eq!(deltas.values().map(|s| s[ACTIVE]).sum::<i64>(), 0);
        assert_eq!(deltas.values().map(|s| s[ALIVE_EXACT]).sum::<i64>(), 0);
        fact.add_to(-1, &mut deltas);
        assert!(deltas.values().all(|s| s.iter().all(|v| *v == 0)));
    }

    #[test]
    fn customer_ranges_merge_where_they_touch() {
        let mut spans = vec![(5, Some(9)), (1, Some(3)), (3, Some(4)), (8, None)];
        assert_eq!(customer_ranges(&mut spans), vec![(1, Some(4)), (5, None)]);
    }
}
