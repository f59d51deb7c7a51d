//! What one order, subscription, dispute or customer adds to the quarter sums: pure
//! functions of the few values a fact keeps, so that taking a fact back is adding it with
//! the opposite sign.
//!
//! Every local period boundary of every time zone (offsets are whole quarter hours) falls on
//! a UTC quarter hour, so two instants in one quarter are in one period whatever the
//! request. Whether an order is a new subscription's or a renewal's depends on the period,
//! though: such an order is decided here, for each interval, when two instants it depends
//! on (its subscription's start, its previous order) certainly share a period in every
//! time zone, or certainly do not (`relation`), and left *ambiguous* for that interval
//! otherwise, where a request reads it one by one (few: a renewal within a day of its
//! start, a monthly renewal within hours of the 1st, say).

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::columns::*;
use crate::calendar::Interval;

/// Seconds in a quarter hour.
pub const QUARTER: i64 = 900;

/// The intervals, in the order of `REACH` and of the sums kept per interval.
pub const INTERVALS: [Interval; 5] = [
    Interval::Hour,
    Interval::Day,
    Interval::Week,
    Interval::Month,
    Interval::Year,
];

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

/// How far a local week, month or year start may lie from the UTC midnight of the same
/// date: offsets run from −12 h to +14 h, and a clock change at midnight moves a start by
/// a few hours at most. Requests check their own periods' starts against it (zones' older
/// history has larger offsets; such requests read rows).
pub const CALENDAR_SLACK: TimeDelta = TimeDelta::hours(15);

/// The first interval whose periods are decided by the calendar as well as by distance (a
/// day is too short for the slack to tell anything).
pub const FIRST_CALENDAR: usize = 2;

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

/// The UTC start of the period of interval `k` that `at` falls in.
pub fn utc_start(k: usize, at: DateTime<Utc>) -> DateTime<Utc> {
    INTERVALS[k].truncate(at.naive_utc()).and_utc()
}

/// The UTC start of the period of interval `k` after the one starting at `start` (weeks,
/// months and years only; none past chrono's calendar).
pub fn next_utc_start(k: usize, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
    // Past the longest such period, then back to its start.
    let beyond = [0, 0, 7, 32, 366][k];
    let later = start.checked_add_signed(TimeDelta::days(beyond))?;
    Some(utc_start(k, later))
}

/// Whether two instants share a period of an interval, in every time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    Same,
    Apart,
    Unsure,
}

/// How `a` and `b` relate in the periods of interval `k`, whatever the zone: in one quarter
/// hour, they share every period; a longest period apart, none. For weeks, months and
/// years, every local start lies within `CALENDAR_SLACK` of the UTC start of its date, so
/// with no UTC start in `(lo − slack, hi + slack]` no local one separates them, and with
/// one in `(lo + slack, hi − slack]` a local one does.
pub fn relation(k: usize, a: DateTime<Utc>, b: DateTime<Utc>) -> Relation {
    let (lo, hi) = (a.min(b), a.max(b));
    if same_quarter(lo, hi) {
        return Relation::Same;
    }
    if hi - lo >= REACH[k] {
        return Relation::Apart;
    }
    if k < FIRST_CALENDAR {
        return Relation::Unsure;
    }
    // The first UTC start after `at`.
    let next_after = |at: DateTime<Utc>| next_utc_start(k, utc_start(k, at));
    match next_after(lo - CALENDAR_SLACK) {
        Some(next) if next > hi + CALENDAR_SLACK => return Relation::Same,
        None => return Relation::Unsure,
        _ => {}
    }
    match next_after(lo + CALENDAR_SLACK) {
        Some(next) if next <= hi - CALENDAR_SLACK => Relation::Apart,
        _ => Relation::Unsure,
    }
}

/// The intervals (bits, by place) for which `unsure` holds.
fn mask(unsure: impl Fn(usize) -> bool) -> i16 {
    (0..INTERVALS.len())
        .filter(|k| unsure(*k))
        .fold(0, |bits, k| bits | 1 << k)
}

/// The masks that include interval `k` (what a request for it reads with `IN`).
pub fn masks_with(k: usize) -> impl Iterator<Item = i16> {
    (0..1i16 << INTERVALS.len()).filter(move |m| m & (1 << k) != 0)
}

/// Sums per organization, scope and quarter. The scope is the organization's whole history
/// (`None`) or one product's part of it: what a product's orders, subscriptions and
/// disputes add (a product filter adds up its products' sums).
pub type Deltas = HashMap<(Uuid, Option<Uuid>, i64), Sums>;

/// Adds `value` to the organization's sums and to its product's, if it has one.
fn bump(
    deltas: &mut Deltas,
    organization: Uuid,
    product: Option<Uuid>,
    quarter: i64,
    place: usize,
    value: i64,
) {
    if value == 0 {
        return;
    }
    for scope in [None, product] {
        deltas
            .entry((organization, scope, quarter))
            .or_insert([0; COUNT])[place] += value;
        if product.is_none() {
            break;
        }
    }
}

/// A paid order as metrics count it.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderFact {
    pub organization_id: Uuid,
    pub product_id: Option<Uuid>,
    pub subscription_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub revenue: i64,
    pub kept: i64,
    /// Its subscription's start (none for a one-time order or a subscription that never
    /// started: such an order is neither new nor renewed).
    pub started_at: Option<DateTime<Utc>>,
    /// The subscription's paid order just before it (by creation, then ID).
    pub previous_at: Option<DateTime<Utc>>,
    /// Its subscription's paid orders are of more than one product (it changed product):
    /// whether it is the first renewal of its period depends on which products a request
    /// asks for, so it is read one by one for every interval.
    pub mixed: bool,
}

/// What a paid order is in the periods of one interval, in every time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderKind {
    /// Not a subscription's order.
    OneTime,
    /// Of a subscription that never started: neither new nor renewed.
    Unstarted,
    /// In the period its subscription started in.
    New,
    /// In a later (or earlier) period; `first` when no other paid order of its subscription
    /// comes before it in that period.
    Renewal { first: bool },
    /// Either, depending on the zone: read one by one.
    Ambiguous,
}

impl OrderFact {
    pub fn kind(&self, k: usize) -> OrderKind {
        let (Some(_), Some(started)) = (self.subscription_id, self.started_at) else {
            return match self.subscription_id {
                None => OrderKind::OneTime,
                Some(_) => OrderKind::Unstarted,
            };
        };
        if self.mixed {
            return OrderKind::Ambiguous;
        }
        match relation(k, started, self.created_at) {
            Relation::Same => OrderKind::New,
            Relation::Unsure => OrderKind::Ambiguous,
            Relation::Apart => match self.previous_at.map(|at| relation(k, at, self.created_at)) {
                None | Some(Relation::Apart) => OrderKind::Renewal { first: true },
                Some(Relation::Same) => OrderKind::Renewal { first: false },
                Some(Relation::Unsure) => OrderKind::Ambiguous,
            },
        }
    }

    /// The intervals (bits) for which this order must be read one by one.
    pub fn ambiguity(&self) -> i16 {
        mask(|k| self.kind(k) == OrderKind::Ambiguous)
    }

    /// The intervals (bits) for which it is a renewal, but not its subscription's first
    /// order in the period: in a first period cut by the request's start, it is the first
    /// *counted* when its previous order is before that start.
    pub fn renews(&self) -> i16 {
        mask(|k| self.kind(k) == OrderKind::Renewal { first: false })
    }

    pub fn add_to(&self, sign: i64, deltas: &mut Deltas) {
        let q = quarter(self.created_at);
        let (org, product) = (self.organization_id, self.product_id);
        let mut put = |place, value| bump(deltas, org, product, q, place, sign * value);
        put(ORDERS, 1);
        put(REVENUE, self.revenue);
        put(KEPT, self.kept);
        for k in 0..INTERVALS.len() {
            match self.kind(k) {
                OrderKind::OneTime => {
                    put(ONE_TIME_ORDERS, 1);
                    put(ONE_TIME_REVENUE, self.revenue);
                    put(ONE_TIME_KEPT, self.kept);
                    break; // Not per interval.
                }
                OrderKind::New => {
                    put(NEW_REVENUE + k, self.revenue);
                    put(NEW_KEPT + k, self.kept);
                }
                OrderKind::Renewal { first } => {
                    put(OLD_REVENUE + k, self.revenue);
                    put(OLD_KEPT + k, self.kept);
                    put(RENEWED + k, i64::from(first));
                }
                OrderKind::Unstarted | OrderKind::Ambiguous => {}
            }
        }
    }
}

/// A started subscription as metrics count it (read by name from its stored row).
#[derive(Clone, Debug, PartialEq, sea_orm::FromQueryResult, serde::Deserialize)]
pub struct SubscriptionFact {
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    /// Its product now: a subscription that changed product counts under its new one.
    pub product_id: Uuid,
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

    /// Whether it certainly ends in the period of interval `k` it was created in (none:
    /// it depends on the zone).
    pub fn gone_early(&self, k: usize) -> Option<bool> {
        let Some(end) = self.end_at else {
            return Some(false);
        };
        match relation(k, self.created_at, end) {
            Relation::Same => Some(true),
            Relation::Apart => Some(false),
            Relation::Unsure => None,
        }
    }

    /// The intervals (bits) for which "created and ended in one period" must be checked one
    /// by one.
    pub fn ambiguity(&self) -> i16 {
        mask(|k| self.gone_early(k).is_none())
    }

    pub fn add_to(&self, sign: i64, deltas: &mut Deltas) {
        let (org, product) = (self.organization_id, Some(self.product_id));
        let mut put = |at: DateTime<Utc>, place, value: i64| {
            bump(deltas, org, product, quarter(at), place, sign * value)
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
        for k in 0..INTERVALS.len() {
            if self.gone_early(k) == Some(true) {
                put(self.created_at, CREATED_GONE + k, 1);
            }
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
/// ends (`(from, to]` ends are the sums' "before" bounds), in the one scope its ranges are
/// of (all its subscriptions', or one product's): customers are not additive.
pub fn add_customer(
    organization: Uuid,
    scope: Option<Uuid>,
    ranges: &[(i64, Option<i64>)],
    sign: i64,
    deltas: &mut Deltas,
) {
    let mut put = |quarter: i64, value: i64| {
        deltas
            .entry((organization, scope, quarter))
            .or_insert([0; COUNT])[CUSTOMERS] += value;
    };
    for &(from, to) in ranges {
        put(from, sign);
        if let Some(to) = to {
            put(to, -sign);
        }
    }
}

/// A lost dispute of a paid order: what it took back, when.
#[derive(Clone, Debug, PartialEq)]
pub struct DisputeFact {
    pub organization_id: Uuid,
    /// Its order's product.
    pub product_id: Option<Uuid>,
    pub quarter: i64,
    pub amount: i64,
}

impl DisputeFact {
    pub fn add_to(&self, sign: i64, deltas: &mut Deltas) {
        bump(
            deltas,
            self.organization_id,
            self.product_id,
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
            product_id: None,
            subscription_id: Some(Uuid::nil()),
            created_at: at(created),
            revenue: 100,
            kept: 90,
            started_at: Some(at(started)),
            previous_at: previous.map(at),
            mixed: false,
        }
    }

    #[test]
    fn a_product_order_adds_to_its_product_and_an_order_of_a_changed_product_is_read() {
        let product = Uuid::from_u128(7);
        let mut fact = order(
            "2027-03-15T10:10:00Z",
            "2025-03-15T10:00:00Z",
            Some("2027-02-15T10:05:00Z"),
        );
        fact.product_id = Some(product);
        let mut deltas = Deltas::new();
        fact.add_to(1, &mut deltas);
        let q = quarter(fact.created_at);
        assert_eq!(deltas.len(), 2);
        for scope in [None, Some(product)] {
            let sums = &deltas[&(Uuid::nil(), scope, q)];
            assert_eq!((sums[ORDERS], sums[RENEWED + 3]), (1, 1));
        }
        fact.mixed = true;
        assert_eq!(fact.ambiguity(), 0b11111);
        assert_eq!(fact.renews(), 0);
    }

    #[test]
    fn an_order_is_ambiguous_only_where_its_start_or_previous_order_may_share_its_period() {
        use OrderKind::*;
        let kinds = |o: &OrderFact| (0..5).map(|k| o.kind(k)).collect::<Vec<_>>();
        // Its start's quarter: new everywhere.
        let first = order("2025-03-01T10:14:00Z", "2025-03-01T10:00:00Z", None);
        assert_eq!(first.ambiguity(), 0);
        assert_eq!(kinds(&first), [New; 5]);
        // Two hours after a start on Saturday 1 March: another hour; a day and a month
        // that depend on the zone; the same week and year everywhere.
        let soon = order("2025-03-01T12:00:00Z", "2025-03-01T10:00:00Z", None);
        assert_eq!(
            kinds(&soon),
            [Renewal { first: true }, Ambiguous, New, Ambiguous, New]
        );
        assert_eq!(soon.ambiguity(), 0b01010);
        // Two years after its start, previous order 28 days before: another month only
        // depending on the zone (both are within hours of a 1st), the same year everywhere.
        let renewal = order(
            "2027-03-01T10:00:00Z",
            "2025-03-01T10:00:00Z",
            Some("2027-02-01T10:00:00Z"),
        );
        assert_eq!(renewal.ambiguity(), 0b01000);
        assert_eq!(renewal.renews(), 0b10000);
        // Monthly on the 10th: every month's first renewal, wherever.
        let tenth = order(
            "2027-03-10T10:00:00Z",
            "2025-03-10T10:00:00Z",
            Some("2027-02-10T10:00:00Z"),
        );
        assert_eq!(tenth.ambiguity(), 0);
        assert_eq!(tenth.kind(3), Renewal { first: true });
        assert_eq!(tenth.kind(4), Renewal { first: false });
        // Previous order in its quarter: never the first of a period.
        let twin = order(
            "2027-03-01T10:10:00Z",
            "2025-03-01T10:00:00Z",
            Some("2027-03-01T10:05:00Z"),
        );
        assert_eq!(twin.ambiguity(), 0);
        assert_eq!(twin.renews(), 0b11111);
        let mut deltas = Deltas::new();
        twin.add_to(1, &mut deltas);
        let sums = deltas.values().next().unwrap();
        assert_eq!(sums[OLD_REVENUE + 4], 100);
        assert_eq!(sums[RENEWED + 4], 0);
        assert_eq!(sums[NEW_REVENUE + 4], 0);
    }

    /// `relation` against the local periods of every zone, for instants around UTC week,
    /// month and year starts since 1980 (a request checks its own periods' starts, so older
    /// history, with larger offsets, is never answered from it).
    #[test]
    fn relation_holds_in_every_zone() {
        use chrono::TimeZone;
        let mut seed: u64 = 0x5eed;
        let mut next = move |below: i64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) % below as u64) as i64
        };
        let local_start = |k: usize, tz: chrono_tz::Tz, at: DateTime<Utc>| {
            INTERVALS[k].truncate(tz.from_utc_datetime(&at.naive_utc()).naive_local())
        };
        let (mut same, mut apart) = (0, 0);
        for tz in chrono_tz::TZ_VARIANTS {
            for _ in 0..40 {
                let k = 2 + next(3) as usize;
                // A UTC start between 1980 and 2040, then two instants around it.
                let day = at("1980-01-01T00:00:00Z") + TimeDelta::days(next(60 * 365));
                let start = utc_start(k, day);
                let a = start + TimeDelta::minutes(next(80 * 60) - 40 * 60);
                // Within hours of each other, or up to 45 days apart.
                let hours = if next(2) == 0 { 60 } else { 45 * 24 };
                let b = a + TimeDelta::minutes(next(hours * 60));
                let shared = local_start(k, tz, a) == local_start(k, tz, b);
                match relation(k, a, b) {
                    Relation::Same => {
                        same += 1;
                        assert!(shared, "{tz} {k} {a} {b}")
                    }
                    Relation::Apart => {
                        apart += 1;
                        assert!(!shared, "{tz} {k} {a} {b}")
                    }
                    Relation::Unsure => {}
                }
            }
        }
        // Both answers are given often enough to be tested.
        assert!(same > 1_000 && apart > 1_000, "{same} {apart}");
    }

    #[test]
    fn taking_a_fact_back_leaves_nothing() {
        let fact = SubscriptionFact {
            organization_id: Uuid::nil(),
            customer_id: Uuid::nil(),
            product_id: Uuid::nil(),
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
