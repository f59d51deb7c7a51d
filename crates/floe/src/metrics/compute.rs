//! Every metric of every period, from the facts (`inputs`), as docs/metrics.md defines
//! them; then the totals. Each group of metrics is one function; values are kept per
//! metric slug until the answer is put together in the contract's order.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::catalog::{METRICS, Total};
use super::inputs::Inputs;
use super::periods::{Interval, Periods};
use super::rollups::columns::REASONS;
use super::rollups::read::Rolled;

/// A metric's value: whole (counts, money in minor units) or fractional (costs, ratios).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            Self::Int(v) => v as f64,
            Self::Float(v) => v,
        }
    }
}

impl serde::Serialize for Num {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Int(v) => serializer.serialize_i64(*v),
            Self::Float(v) if v.is_finite() => serializer.serialize_f64(*v),
            Self::Float(_) => serializer.serialize_f64(0.0),
        }
    }
}

/// Every metric's value in every period, in the contract's order, and their totals.
pub struct Computed {
    /// `values[m][p]`: metric `m` (a place in `METRICS`) in period `p`.
    pub values: Vec<Vec<Num>>,
    pub totals: Vec<Num>,
}

pub(crate) type Series = HashMap<&'static str, Vec<Num>>;

pub(crate) fn ints(values: Vec<i64>) -> Vec<Num> {
    values.into_iter().map(Num::Int).collect()
}

pub(crate) fn floats(values: Vec<f64>) -> Vec<Num> {
    values.into_iter().map(Num::Float).collect()
}

pub(crate) fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator == 0.0 {
        0.0
    } else {
        numerator / denominator
    }
}

/// `⌈a / b⌉` for whole numbers, 0 when `b` is 0.
pub(crate) fn ceil_div(a: i64, b: i64) -> i64 {
    if b == 0 {
        return 0;
    }
    let quotient = a / b;
    if a % b != 0 && ((a < 0) == (b < 0)) {
        quotient + 1
    } else {
        quotient
    }
}

/// Adds `value` to every period in `[from, to)`, through a difference array.
fn add_range(diff: &mut [i64], from: usize, to: usize, value: i64) {
    if from < to {
        diff[from] += value;
        diff[to] -= value;
    }
}

fn running(diff: &[i64], n: usize) -> Vec<i64> {
    let mut sum = 0;
    diff[..n]
        .iter()
        .map(|d| {
            sum += d;
            sum
        })
        .collect()
}

/// Every metric; the order, subscription and churn ones from `rolled` when the request
/// was served from rollups, else from `inputs`.
pub fn compute(periods: &Periods, inputs: &Inputs, rolled: Option<&Rolled>) -> Computed {
    let mut series = Series::new();
    match rolled {
        Some(rolled) => super::rollups::read::series(periods, rolled, &mut series),
        None => {
            subscriptions(periods, inputs, &mut series);
            churn(periods, inputs, &mut series);
            orders(periods, inputs, &mut series);
        }
    }
    checkouts(periods, inputs, &mut series);
    costs(periods, inputs, &mut series);
    seats(periods, inputs, &mut series);
    derived(periods.len(), &mut series);
    let values: Vec<Vec<Num>> = METRICS
        .iter()
        .map(|m| {
            series
                .remove(m.slug)
                .unwrap_or_else(|| vec![Num::Int(0); periods.len()])
        })
        .collect();
    let totals = totals(&values);
    Computed { values, totals }
}

/// Subscriptions active in each period, their monthly amounts, ARPU.
fn subscriptions(periods: &Periods, inputs: &Inputs, series: &mut Series) {
    let n = periods.len();
    let mut active = vec![0; n + 1];
    let mut committed = vec![0; n + 1];
    let mut mrr = vec![0; n + 1];
    let mut trial_mrr = vec![0; n + 1];
    let mut committed_mrr = vec![0; n + 1];
    let mut trial_committed_mrr = vec![0; n + 1];
    let mut ranges: HashMap<Uuid, Vec<(usize, usize)>> = HashMap::new();
    for s in &inputs.subscriptions {
        if s.started_at >= periods.until || s.end.is_some_and(|end| end < periods.from) {
            continue;
        }
        // Active from the period it started in, until (not in) the period it ends in.
        let first = periods.first_ending_after(s.started_at);
        let last = s.end.map_or(n, |end| periods.first_ending_after(end));
        if first >= last {
            continue;
        }
        let trial_until = s.trial_end.map_or(first, |at| {
            periods.first_ending_after(at).clamp(first, last)
        });
        add_range(&mut active, first, last, 1);
        add_range(&mut mrr, trial_until, last, s.monthly);
        add_range(&mut trial_mrr, first, trial_until, s.monthly);
        if s.end.is_none() {
            add_range(&mut committed, first, last, 1);
            add_range(&mut committed_mrr, trial_until, last, s.monthly);
            add_range(&mut trial_committed_mrr, first, trial_until, s.monthly);
        }
        ranges.entry(s.customer_id).or_default().push((first, last));
    }
    // Customers with any active subscription: each customer's ranges, merged.
    let mut customers = vec![0; n + 1];
    for mut spans in ranges.into_values() {
        spans.sort_unstable();
        let mut current: Option<(usize, usize)> = None;
        for (from, to) in spans {
            current = match current {
                Some((a, b)) if from <= b => Some((a, b.max(to))),
                Some((a, b)) => {
                    add_range(&mut customers, a, b, 1);
                    Some((from, to))
                }
                None => Some((from, to)),
            };
        }
        if let Some((a, b)) = current {
            add_range(&mut customers, a, b, 1);
        }
    }
    let mrr = running(&mrr, n);
    let customers = running(&customers, n);
    let arpu = mrr
        .iter()
        .zip(&customers)
        .map(|(m, c)| {
            if *c == 0 {
                0
            } else {
                (*m as f64 / *c as f64).round() as i64
            }
        })
        .collect();
    series.insert("active_subscriptions", ints(running(&active, n)));
    series.insert("committed_subscriptions", ints(running(&committed, n)));
    series.insert(
        "trial_monthly_recurring_revenue",
        ints(running(&trial_mrr, n)),
    );
    let committed_mrr = running(&committed_mrr, n);
    series.insert(
        "committed_annual_recurring_revenue",
        ints(committed_mrr.iter().map(|v| v * 12).collect()),
    );
    series.insert("committed_monthly_recurring_revenue", ints(committed_mrr));
    series.insert(
        "trial_committed_monthly_recurring_revenue",
        ints(running(&trial_committed_mrr, n)),
    );
    series.insert(
        "annual_recurring_revenue",
        ints(mrr.iter().map(|v| v * 12).collect()),
    );
    series.insert("monthly_recurring_revenue", ints(mrr));
    series.insert("average_revenue_per_user", ints(arpu));
}

/// Subscriptions that end, are canceled, the churn rate, and the ones that start.
fn churn(periods: &Periods, inputs: &Inputs, series: &mut Series) {
    let n = periods.len();
    let mut churned = vec![0; n];
    let mut canceled = vec![0; n];
    let mut by_reason: HashMap<&str, Vec<i64>> = HashMap::new();
    let mut new = vec![0; n];
    for s in &inputs.subscriptions {
        if let Some(i) = s.end.and_then(|end| periods.of(end)) {
            churned[i] += 1;
        }
        if let Some(i) = s.canceled_at.and_then(|at| periods.of(at)) {
            canceled[i] += 1;
            let reason = s
                .cancellation_reason
                .as_deref()
                .filter(|r| REASONS.contains(r))
                .unwrap_or("other");
            by_reason.entry(reason).or_insert_with(|| vec![0; n])[i] += 1;
        }
        // Counted from the series' first period, unless it also ends in its period.
        if s.created_at < periods.until
            && let Some(i) = periods.of_series(s.created_at)
            && s.end.and_then(|end| periods.of_series(end)) != Some(i)
        {
            new[i] += 1;
        }
    }
    // Sorted instants, so each period's window is two binary searches rather than a pass
    // over every subscription. (A subscription ends after it starts, so the ones active at
    // `from` are those started by then less those ended by then.)
    let mut starts: Vec<_> = inputs.subscriptions.iter().map(|s| s.started_at).collect();
    let mut ends: Vec<_> = inputs.subscriptions.iter().filter_map(|s| s.end).collect();
    let mut cancels: Vec<_> = inputs
        .subscriptions
        .iter()
        .filter_map(|s| s.canceled_at)
        .collect();
    starts.sort_unstable();
    ends.sort_unstable();
    cancels.sort_unstable();
    let rate = (0..n)
        .map(|i| {
            let (from, to) = if periods.interval == Interval::Year {
                (periods.start(i), periods.end(i))
            } else {
                (periods.days_before_start(i, 30), periods.start(i))
            };
            let at_start = starts
                .partition_point(|at| *at <= from)
                .saturating_sub(ends.partition_point(|at| *at <= from));
            let canceled =
                cancels.partition_point(|at| *at < to) - cancels.partition_point(|at| *at < from);
            ratio(canceled as f64, at_start as f64)
        })
        .collect();
    series.insert("churned_subscriptions", ints(churned));
    series.insert("churn_rate", floats(rate));
    series.insert("canceled_subscriptions", ints(canceled));
    for reason in REASONS.iter().chain(["other"].iter()) {
        series.insert(
            canceled_slug(reason),
            ints(by_reason.remove(reason).unwrap_or_else(|| vec![0; n])),
        );
    }
    series.insert("new_subscriptions", ints(new));
}

/// The metric of cancellations for `reason` ("other" for any reason without one).
pub(crate) fn canceled_slug(reason: &str) -> &'static str {
    match reason {
        "customer_service" => "canceled_subscriptions_customer_service",
        "low_quality" => "canceled_subscriptions_low_quality",
        "missing_features" => "canceled_subscriptions_missing_features",
        "switched_service" => "canceled_subscriptions_switched_service",
        "too_complex" => "canceled_subscriptions_too_complex",
        "too_expensive" => "canceled_subscriptions_too_expensive",
        "unused" => "canceled_subscriptions_unused",
        _ => "canceled_subscriptions_other",
    }
}

/// Orders and revenue, split by one-time, new and renewed subscriptions.
fn orders(periods: &Periods, inputs: &Inputs, series: &mut Series) {
    let started = &inputs.started;
    let n = periods.len();
    let mut count = vec![0; n];
    let mut revenue = vec![0; n];
    let mut kept = vec![0; n];
    let mut net_revenue = vec![0; n];
    let (mut one_time, mut one_time_revenue, mut one_time_kept) =
        (vec![0; n], vec![0; n], vec![0; n]);
    let (mut new_revenue, mut new_kept) = (vec![0; n], vec![0; n]);
    let (mut renewed, mut renewed_revenue, mut renewed_kept) =
        (vec![HashSet::new(); n], vec![0; n], vec![0; n]);
    let (mut baseline, mut net_baseline) = (0, 0);
    for o in &inputs.orders {
        if o.created_at < periods.from {
            baseline += o.net;
            net_baseline += o.kept();
        }
        let Some(i) = periods.of(o.created_at) else {
            continue;
        };
        count[i] += 1;
        revenue[i] += o.net;
        kept[i] += o.kept();
        net_revenue[i] += o.kept();
        match o.subscription_id {
            None => {
                one_time[i] += 1;
                one_time_revenue[i] += o.net;
                one_time_kept[i] += o.kept();
            }
            Some(subscription) => {
                // (A subscription that never started has no orders to split.)
                let Some(at) = started.get(&subscription) else {
                    continue;
                };
                if *at >= periods.start(i) && *at < periods.end(i) {
                    new_revenue[i] += o.net;
                    new_kept[i] += o.kept();
                } else {
                    renewed[i].insert(subscription);
                    renewed_revenue[i] += o.net;
                    renewed_kept[i] += o.kept();
                }
            }
        }
    }
    // A lost dispute takes its amount off net revenue when it is lost.
    for d in &inputs.lost_disputes {
        if d.closed_at < periods.from {
            net_baseline -= d.amount;
        } else if let Some(i) = periods.of(d.closed_at) {
            net_revenue[i] -= d.amount;
        }
    }
    let cumulative = |base: i64, values: &[i64]| -> Vec<i64> {
        let mut sum = base;
        values
            .iter()
            .map(|v| {
                sum += v;
                sum
            })
            .collect()
    };
    let aov = (0..n).map(|i| ceil_div(revenue[i], count[i])).collect();
    let net_aov = (0..n).map(|i| ceil_div(kept[i], count[i])).collect();
    series.insert("cumulative_revenue", ints(cumulative(baseline, &revenue)));
    series.insert(
        "net_cumulative_revenue",
        ints(cumulative(net_baseline, &net_revenue)),
    );
    series.insert("average_order_value", ints(aov));
    series.insert("net_average_order_value", ints(net_aov));
    series.insert("orders", ints(count));
    series.insert("revenue", ints(revenue));
    series.insert("net_revenue", ints(net_revenue));
    series.insert("one_time_products", ints(one_time));
    series.insert("one_time_products_revenue", ints(one_time_revenue));
    series.insert("one_time_products_net_revenue", ints(one_time_kept));
    series.insert("new_subscriptions_revenue", ints(new_revenue));
    series.insert("new_subscriptions_net_revenue", ints(new_kept));
    series.insert(
        "renewed_subscriptions",
        ints(renewed.iter().map(|s| s.len() as i64).collect()),
    );
    series.insert("renewed_subscriptions_revenue", ints(renewed_revenue));
    series.insert("renewed_subscriptions_net_revenue", ints(renewed_kept));
}

fn checkouts(periods: &Periods, inputs: &Inputs, series: &mut Series) {
    let n = periods.len();
    let (mut all, mut succeeded) = (vec![0; n], vec![0; n]);
    for c in &inputs.checkouts {
        if let Some(i) = periods.of(c.created_at) {
            all[i] += 1;
            succeeded[i] += i64::from(c.succeeded);
        }
    }
    let conversion = (0..n)
        .map(|i| ratio(succeeded[i] as f64, all[i] as f64))
        .collect();
    series.insert("checkouts", ints(all));
    series.insert("succeeded_checkouts", ints(succeeded));
    series.insert("checkouts_conversion", floats(conversion));
}

/// Costs from events' `_cost`, and the customers that sent events.
fn costs(periods: &Periods, inputs: &Inputs, series: &mut Series) {
    let n = periods.len();
    let mut costs = vec![0.0; n];
    let mut baseline = 0.0;
    for c in &inputs.costs {
        if c.timestamp < periods.from {
            baseline += c.amount;
        } else if let Some(i) = periods.of(c.timestamp) {
            costs[i] += c.amount;
        }
    }
    let mut customers: Vec<HashSet<Uuid>> = vec![HashSet::new(); n];
    let mut external: Vec<HashSet<&str>> = vec![HashSet::new(); n];
    for e in &inputs.events {
        if let Some(i) = periods.of(e.timestamp) {
            if let Some(id) = e.customer_id {
                customers[i].insert(id);
            }
            if let Some(id) = &e.external_customer_id {
                external[i].insert(id);
            }
        }
    }
    let users: Vec<i64> = (0..n)
        .map(|i| (customers[i].len() + external[i].len()) as i64)
        .collect();
    let per_user = (0..n).map(|i| ratio(costs[i], users[i] as f64)).collect();
    let mut sum = baseline;
    let cumulative = costs
        .iter()
        .map(|c| {
            sum += c;
            sum
        })
        .collect();
    series.insert("costs", floats(costs));
    series.insert("cumulative_costs", floats(cumulative));
    series.insert("active_user_by_event", ints(users));
    series.insert("cost_per_user", floats(per_user));
}

fn seats(periods: &Periods, inputs: &Inputs, series: &mut Series) {
    let n = periods.len();
    let mut total = vec![0; n];
    let mut claimed = vec![0; n];
    let mut customers = vec![0; n];
    let mut new = vec![0; n];
    let mut churned = vec![0; n];
    let mut first_seat: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    let mut last_revoked: HashMap<Uuid, Option<DateTime<Utc>>> = HashMap::new();
    for s in &inputs.seats {
        first_seat
            .entry(s.customer_id)
            .and_modify(|at| *at = (*at).min(s.created_at))
            .or_insert(s.created_at);
        let revoked = last_revoked.entry(s.customer_id).or_insert(s.revoked_at);
        *revoked = match (*revoked, s.revoked_at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
    for i in 0..n {
        let end = periods.end(i);
        let mut holders = HashSet::new();
        for s in &inputs.seats {
            let held = s.created_at < end
                && s.created_at < periods.until
                && s.revoked_at
                    .is_none_or(|at| at >= end && at >= periods.from);
            if held {
                total[i] += 1;
                claimed[i] += i64::from(s.claimed_at.is_some_and(|at| at < end));
                holders.insert(s.customer_id);
            }
        }
        customers[i] = holders.len() as i64;
    }
    // A customer is new in the period of its first seat.
    for first in first_seat.values() {
        if let Some(i) = periods.of(*first) {
            new[i] += 1;
        }
    }
    for revoked in last_revoked.values().flatten() {
        if let Some(i) = periods.of(*revoked) {
            churned[i] += 1;
        }
    }
    let pending = (0..n).map(|i| total[i] - claimed[i]).collect();
    let per_customer = (0..n)
        .map(|i| ratio(total[i] as f64, customers[i] as f64))
        .collect();
    let utilization = (0..n)
        .map(|i| ratio(claimed[i] as f64, total[i] as f64))
        .collect();
    series.insert("seats_total", ints(total));
    series.insert("seats_claimed", ints(claimed));
    series.insert("seats_pending", ints(pending));
    series.insert("seat_customers", ints(customers));
    series.insert("new_seat_customers", ints(new));
    series.insert("churned_seat_customers", ints(churned));
    series.insert("average_seats_per_customer", floats(per_customer));
    series.insert("seat_utilization_rate", floats(utilization));
}

/// Metrics made of other metrics of the same period.
fn derived(n: usize, series: &mut Series) {
    let get = |series: &Series, slug: &str| -> Vec<f64> {
        series
            .get(slug)
            .map(|v| v.iter().map(|x| x.as_f64()).collect())
            .unwrap_or_else(|| vec![0.0; n])
    };
    let revenue = get(series, "revenue");
    let costs = get(series, "costs");
    let cumulative_revenue = get(series, "cumulative_revenue");
    let cumulative_costs = get(series, "cumulative_costs");
    let arpu = get(series, "average_revenue_per_user");
    let per_user = get(series, "cost_per_user");
    let churn = get(series, "churn_rate");
    let margin: Vec<f64> = (0..n)
        .map(|i| cumulative_revenue[i] - cumulative_costs[i])
        .collect();
    let margin_share = (0..n)
        .map(|i| {
            if cumulative_revenue[i] <= 0.0 {
                0.0
            } else {
                margin[i] / cumulative_revenue[i]
            }
        })
        .collect();
    let ltv = (0..n)
        .map(|i| {
            if churn[i] == 0.0 {
                0
            } else {
                (((arpu[i] - per_user[i]) / churn[i]).trunc() as i64).max(0)
            }
        })
        .collect();
    series.insert(
        "cashflow",
        floats((0..n).map(|i| revenue[i] - costs[i]).collect()),
    );
    series.insert("gross_margin", floats(margin));
    series.insert("gross_margin_percentage", floats(margin_share));
    series.insert("ltv", ints(ltv));
}

/// The answer's `totals`: the last period's value, the periods' sum, or a ratio of totals.
fn totals(values: &[Vec<Num>]) -> Vec<Num> {
    let index = |slug: &str| super::catalog::find(slug).unwrap_or(0);
    let sum = |m: usize| -> Num {
        let column = &values[m];
        if column.iter().all(|v| matches!(v, Num::Int(_))) {
            Num::Int(
                column
                    .iter()
                    .map(|v| if let Num::Int(x) = v { *x } else { 0 })
                    .sum(),
            )
        } else {
            Num::Float(column.iter().map(|v| v.as_f64()).sum())
        }
    };
    let last = |m: usize| values[m].last().copied().unwrap_or(Num::Int(0));
    let orders = sum(index("orders")).as_f64();
    METRICS
        .iter()
        .enumerate()
        .map(|(m, metric)| match metric.total {
            Total::Last => last(m),
            Total::Sum => sum(m),
            Total::Own => Num::Float(match metric.slug {
                "average_order_value" => ratio(sum(index("revenue")).as_f64(), orders),
                "net_average_order_value" => ratio(sum(index("net_revenue")).as_f64(), orders),
                "checkouts_conversion" => ratio(
                    sum(index("succeeded_checkouts")).as_f64(),
                    sum(index("checkouts")).as_f64(),
                ),
                // Costs over the users of the last period.
                _ => ratio(
                    sum(index("costs")).as_f64(),
                    last(index("active_user_by_event")).as_f64(),
                ),
            }),
        })
        .collect()
}
