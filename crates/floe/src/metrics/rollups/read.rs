//! Serving a request from the quarter sums: the sums between every two instants the
//! request needs (period bounds, its own bounds, the churn rate's windows) in one query,
//! the orders and subscriptions ambiguous for its interval one by one, and from them the
//! series of the order, subscription and churn metrics, as `compute` defines them.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{ExprTrait, Query};
use sea_orm::{DbBackend, DbErr, FromQueryResult, Statement};
use serde::Deserialize;
use uuid::Uuid;

use super::columns::*;
use super::facts::{
    CALENDAR_SLACK, Deltas, FIRST_CALENDAR, REACH, SubscriptionFact, add_customer, customer_ranges,
    masks_with, next_utc_start, on_boundary, quarter, utc_start,
};
use super::stored::{Ranges, Stored, decode_ranges};
use super::sync::LEVELS;
use crate::db::Snapshot;
use crate::metrics::compute::{Series, ceil_div, floats, ints, ratio};
use crate::metrics::laps::Laps;
use crate::metrics::periods::{Interval, Periods};
use crate::metrics::sql::col;

/// A subscription order whose new-or-renewed split depends on the period (as read: a
/// fact without a start is neither, and skipped).
#[derive(FromQueryResult, Deserialize)]
struct AmbiguousOrder {
    subscription_id: Option<Uuid>,
    mixed: bool,
    created_at: DateTime<Utc>,
    revenue: i64,
    kept: i64,
    started_at: Option<DateTime<Utc>>,
    previous_at: Option<DateTime<Utc>>,
}

/// A subscription that may have been created and ended in one period.
#[derive(FromQueryResult, Deserialize)]
struct CreatedEnded {
    created_at: DateTime<Utc>,
    end_at: Option<DateTime<Utc>>,
}

/// The sums a request needs, and what it reads one by one.
pub struct Rolled {
    /// Sorted quarters; `prefix[j]` sums every quarter before `cuts[j]`.
    cuts: Vec<i64>,
    prefix: Vec<Sums>,
    /// `ALIVE_EXACT` of quarter `cuts[j]`.
    exact: Vec<i64>,
    orders: Vec<AmbiguousOrder>,
    /// Renewals in the first period, from the request's start, whose subscription's
    /// previous order is in that period but before the start: the sums count them as not
    /// the first of the period, the request as the first it counts.
    first_counted: i64,
    /// Created in the series and ending within one longest period: `(created, end)`.
    ended_early: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Subscriptions started after the request's end but within its last period, which
    /// `compute` leaves out; with their customers' other subscriptions.
    late: Vec<SubscriptionFact>,
    others: HashMap<Uuid, Vec<SubscriptionFact>>,
    /// Read for some products only (their sums and facts).
    filtered: bool,
    /// For several products: `(quarter, change)` to the customers the products' sums add
    /// up, for the customers active in more than one of them at once (counted once).
    shared_customers: Vec<(i64, i64)>,
}

/// Which part of the organization's history a request reads: all of it, or its products'.
#[derive(Clone, Copy)]
pub enum Scope<'a> {
    All,
    Products(&'a [Uuid]),
}

impl Scope<'_> {
    /// Narrows a query of facts to the scope's products.
    fn narrow(&self, query: &mut sea_orm::sea_query::SelectStatement) {
        if let Scope::Products(products) = self {
            query.and_where(col("product_id").is_in(products.iter().copied()));
        }
    }
}

fn place(interval: Interval) -> usize {
    match interval {
        Interval::Hour => 0,
        Interval::Day => 1,
        Interval::Week => 2,
        Interval::Month => 3,
        Interval::Year => 4,
    }
}

/// The instants whose sums a request needs.
fn instants(periods: &Periods) -> Vec<DateTime<Utc>> {
    let n = periods.len();
    let mut all = vec![periods.from, periods.until];
    all.extend((0..n).map(|i| periods.start(i)));
    all.push(periods.end(n - 1));
    if periods.interval != Interval::Year {
        all.extend((0..n).map(|i| periods.days_before_start(i, 30)));
    }
    all
}

/// Reads what `periods` need for `organization`; `None` when the sums cannot answer them
/// exactly (a bound off the quarter hours, as in some zones' history before 1980, or a
/// period longer than its interval's reach).
pub async fn load(
    snapshot: &Snapshot,
    organization: Uuid,
    scope: Scope<'_>,
    periods: &Periods,
    laps: &mut Laps,
) -> Result<Option<Rolled>, DbErr> {
    let n = periods.len();
    let k = place(periods.interval);
    if n == 0
        || (0..n).any(|i| periods.end(i) - periods.start(i) > REACH[k])
        || !calendar_fits(periods, k)
    {
        return Ok(None);
    }
    let instants = instants(periods);
    if !instants.iter().all(|at| on_boundary(*at)) {
        return Ok(None);
    }
    let mut cuts: Vec<i64> = instants.into_iter().map(quarter).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let (prefix, exact) = sums_at(snapshot, organization, scope, &cuts).await?;
    laps.lap("sums");
    // Each mask with the interval's bit a seek of its own: given a range or a bit test,
    // SQLite's planner, once it has statistics, skip-scans the index over every mask and
    // the whole history instead (140 ms for 1,000,000 facts instead of 15).
    let ambiguous = || col("ambiguity").is_in(masks_with(k));

    let mut query = Query::select();
    query
        .from(sea_orm::sea_query::Alias::new("metric_order_facts"))
        .columns(
            [
                "subscription_id",
                "mixed",
                "created_at",
                "revenue",
                "kept",
                "started_at",
                "previous_at",
            ]
            .map(sea_orm::sea_query::Alias::new),
        )
        .and_where(col("organization_id").eq(organization))
        .and_where(ambiguous())
        .and_where(col("created_at").gte(periods.from))
        .and_where(col("created_at").lt(periods.until));
    scope.narrow(&mut query);
    let orders: Vec<AmbiguousOrder> = snapshot.rows(&query).await?;
    laps.lap("ambiguous_orders");
    let first_counted = first_counted(snapshot, organization, scope, periods, k).await?;

    let mut query = Query::select();
    query
        .from(sea_orm::sea_query::Alias::new("metric_subscription_facts"))
        .columns(["created_at", "end_at"].map(sea_orm::sea_query::Alias::new))
        .and_where(col("organization_id").eq(organization))
        .and_where(ambiguous())
        .and_where(col("created_at").gte(periods.start(0)))
        .and_where(col("created_at").lt(periods.until));
    scope.narrow(&mut query);
    let ended_early: Vec<(DateTime<Utc>, DateTime<Utc>)> = snapshot
        .rows::<CreatedEnded>(&query)
        .await?
        .into_iter()
        .filter_map(|s| Some((s.created_at, s.end_at?)))
        .collect();
    laps.lap("ended_early");
    let (late, others) = late_starters(snapshot, organization, scope, periods).await?;
    laps.lap("late_starters");
    let shared_customers = match scope {
        Scope::Products(products) if products.len() > 1 => {
            shared_customers(snapshot, organization, products).await?
        }
        _ => Vec::new(),
    };
    laps.lap("shared_customers");
    Ok(Some(Rolled {
        cuts,
        prefix,
        exact,
        orders,
        first_counted,
        ended_early,
        late,
        others,
        filtered: matches!(scope, Scope::Products(_)),
        shared_customers,
    }))
}

/// Whether every period bound lies within `CALENDAR_SLACK` of the UTC start of the same
/// calendar week, month or year, one after the other, as the facts' decisions for these
/// intervals assume (not so in some zones' history of local mean time, say).
fn calendar_fits(periods: &Periods, k: usize) -> bool {
    if k < FIRST_CALENDAR {
        return true; // Decided by distance alone.
    }
    let bounds = periods.bounds();
    let mut label = utc_start(k, periods.local(bounds[0]).and_utc());
    for (i, bound) in bounds.iter().enumerate() {
        if i > 0 {
            match next_utc_start(k, label) {
                Some(next) => label = next,
                None => return false,
            }
        }
        if (*bound - label).abs() > CALENDAR_SLACK {
            return false;
        }
    }
    true
}

#[derive(FromQueryResult, Deserialize)]
struct Exact {
    quarter: i64,
    alive_exact: i64,
}

#[derive(FromQueryResult, Deserialize)]
struct Count {
    count: i64,
}

/// How many renewals the first period counts from the request's start on that the sums
/// hold as a later order in the period (`Rolled::first_counted`).
async fn first_counted(
    snapshot: &Snapshot,
    organization: Uuid,
    scope: Scope<'_>,
    periods: &Periods,
    k: usize,
) -> Result<i64, DbErr> {
    let (start, from) = (periods.start(0), periods.from);
    if from <= start {
        return Ok(0);
    }
    let mut query = Query::select();
    query
        .from(sea_orm::sea_query::Alias::new("metric_order_facts"))
        .expr_as(
            sea_orm::sea_query::Expr::cust("COUNT(*)"),
            sea_orm::sea_query::Alias::new("count"),
        )
        .and_where(col("organization_id").eq(organization))
        .and_where(col("previous_at").gte(start))
        .and_where(col("previous_at").lt(from))
        .and_where(col("created_at").gte(from))
        .and_where(col("created_at").lt(Ord::min(periods.end(0), periods.until)))
        .and_where(col("renews").is_in(masks_with(k)));
    scope.narrow(&mut query);
    let counts: Vec<Count> = snapshot.rows(&query).await?;
    Ok(counts.first().map_or(0, |c| c.count))
}

/// `[from, to)` (quarters) as runs of whole buckets, `(level, first start, end)`: quarters
/// up to the first hour, hours up to the first day, days, then hours and quarters again.
/// `from` may be `None`: everything before `to`.
fn runs(from: Option<i64>, to: i64) -> Vec<(usize, i64, i64)> {
    let [_, hour, day] = LEVELS;
    let mut runs = Vec::new();
    let mut push = |level: usize, lo: i64, hi: i64| {
        if lo < hi {
            runs.push((level, lo, hi));
        }
    };
    let Some(from) = from else {
        let days_end = to.div_euclid(day) * day;
        let hours_end = to.div_euclid(hour) * hour;
        push(2, i64::MIN / 2, days_end);
        push(1, days_end, hours_end);
        push(0, hours_end, to);
        return runs;
    };
    let up = |at: i64, size: i64| (at + size - 1).div_euclid(size) * size;
    let down = |at: i64, size: i64| at.div_euclid(size) * size;
    // Whole days inside, whole hours inside, the rest in quarters.
    let (day_lo, day_hi) = (up(from, day), down(to, day));
    let (hour_lo, hour_hi) = (up(from, hour), down(to, hour));
    if day_lo < day_hi {
        push(0, from, hour_lo);
        push(1, hour_lo, day_lo);
        push(2, day_lo, day_hi);
        push(1, day_hi, hour_hi);
        push(0, hour_hi, to);
    } else if hour_lo < hour_hi {
        push(0, from, hour_lo);
        push(1, hour_lo, hour_hi);
        push(0, hour_hi, to);
    } else {
        push(0, from, to);
    }
    runs
}

/// Every quarter's sums before each cut, and `ALIVE_EXACT` at each cut: one query summing
/// the buckets between consecutive cuts, one reading the cuts' own quarters.
async fn sums_at(
    snapshot: &Snapshot,
    organization: Uuid,
    scope: Scope<'_>,
    cuts: &[i64],
) -> Result<(Vec<Sums>, Vec<i64>), DbErr> {
    let backend = snapshot.backend();
    // The organization's sums, or its products' (added up).
    let mut binds: Vec<sea_orm::Value> = vec![organization.into()];
    let (table, products) = match scope {
        Scope::All => ("metric_sums", String::new()),
        Scope::Products([]) => return Ok((vec![[0; COUNT]; cuts.len()], vec![0; cuts.len()])),
        Scope::Products(products) => {
            let marks: Vec<String> = products
                .iter()
                .map(|product| {
                    binds.push((*product).into());
                    match backend {
                        DbBackend::Postgres => format!("${}", binds.len()),
                        _ => "?".to_owned(),
                    }
                })
                .collect();
            let list = format!(" AND m.product_id IN ({})", marks.join(", "));
            ("metric_product_sums", list)
        }
    };
    // Segment 0 is everything before the first cut; segment j ≥ 1 is [cuts[j-1], cuts[j]).
    let mut values = Vec::new();
    for j in 0..cuts.len() {
        let from = j.checked_sub(1).map(|i| cuts[i]);
        for (level, lo, hi) in runs(from, cuts[j]) {
            values.push(format!("({j}, {level}, {lo}, {hi})"));
        }
    }
    // Each bucket column summed over the buckets matched.
    let sums: Vec<String> = NAMES
        .iter()
        .map(|name| format!("SUM(m.{name}) AS {name}"))
        .collect();
    let sql = if backend == DbBackend::Postgres {
        // Summed run by run through the key: joined as a whole, PostgreSQL hashes the runs
        // by level and tests every bucket against every run of its level (seconds for a
        // zone whose days are hours and quarters of UTC's).
        let outer: Vec<String> = NAMES
            .iter()
            .map(|name| format!("CAST(SUM(x.{name}) AS BIGINT) AS {name}"))
            .collect();
        format!(
            "WITH s(j, lvl, lo, hi) AS (VALUES {}) \
             SELECT CAST(s.j AS BIGINT) AS j, {} \
             FROM s CROSS JOIN LATERAL (SELECT {} FROM {table} m \
               WHERE m.organization_id = $1{products} AND m.level = s.lvl \
                 AND m.quarter >= s.lo AND m.quarter < s.hi) x \
             GROUP BY s.j",
            values.join(", "),
            outer.join(", "),
            sums.join(", ")
        )
    } else {
        // SQLite's plan is that already: each run a search of the key.
        format!(
            "WITH s(j, lvl, lo, hi) AS (VALUES {}) \
             SELECT s.j AS j, {} \
             FROM s CROSS JOIN {table} m \
             WHERE m.organization_id = ?{products} AND m.level = s.lvl \
               AND m.quarter >= s.lo AND m.quarter < s.hi \
             GROUP BY s.j",
            values.join(", "),
            sums.join(", ")
        )
    };
    let statement = Statement::from_sql_and_values(backend, sql, binds);
    let mut each = vec![[0i64; COUNT]; cuts.len()];
    // `j`, then the sums in `NAMES` order.
    for row in snapshot.integers(statement, 1 + COUNT).await? {
        let Some(segment) = row[0].and_then(|j| each.get_mut(j as usize)) else {
            continue;
        };
        for (place, value) in row[1..].iter().enumerate() {
            segment[place] = value.unwrap_or(0);
        }
    }
    let mut prefix = Vec::with_capacity(cuts.len());
    let mut running = [0i64; COUNT];
    for segment in &each {
        add(&mut running, segment);
        prefix.push(running);
    }

    let mut exact = vec![0i64; cuts.len()];
    for chunk in cuts.chunks(500) {
        let mut query = Query::select();
        query
            .from(sea_orm::sea_query::Alias::new(table))
            .columns(["quarter", "alive_exact"].map(sea_orm::sea_query::Alias::new))
            .and_where(col("organization_id").eq(organization))
            .and_where(col("level").eq(0i16))
            .and_where(col("quarter").is_in(chunk.iter().copied()));
        scope.narrow(&mut query);
        for row in snapshot.rows::<Exact>(&query).await? {
            if let Ok(j) = cuts.binary_search(&row.quarter) {
                exact[j] += row.alive_exact;
            }
        }
    }
    Ok((prefix, exact))
}

/// Subscriptions started at or after the request's end but before its last period ends,
/// and the other subscriptions of their customers.
async fn late_starters(
    snapshot: &Snapshot,
    organization: Uuid,
    scope: Scope<'_>,
    periods: &Periods,
) -> Result<(Vec<SubscriptionFact>, HashMap<Uuid, Vec<SubscriptionFact>>), DbErr> {
    let last_end = periods.end(periods.len() - 1);
    if periods.until >= last_end {
        return Ok((Vec::new(), HashMap::new()));
    }
    let read = |query: sea_orm::sea_query::SelectStatement| async move {
        snapshot.rows::<SubscriptionFact>(&query).await
    };
    let select = || {
        let mut query = Query::select();
        query
            .from(sea_orm::sea_query::Alias::new(SubscriptionFact::TABLE))
            .columns(
                SubscriptionFact::COLUMNS
                    .iter()
                    .map(|c| sea_orm::sea_query::Alias::new(*c)),
            )
            .and_where(col("organization_id").eq(organization));
        scope.narrow(&mut query);
        query
    };
    let mut query = select();
    query
        .and_where(col("started_at").gte(periods.until))
        .and_where(col("started_at").lt(last_end));
    let late = read(query).await?;
    let customers = crate::db::unique(late.iter().map(|s| s.customer_id));
    let mut others: HashMap<Uuid, Vec<SubscriptionFact>> = HashMap::new();
    for chunk in customers.chunks(500) {
        let mut query = select();
        query.and_where(col("customer_id").is_in(chunk.iter().copied()));
        for fact in read(query).await? {
            if fact.started_at < periods.until {
                others.entry(fact.customer_id).or_default().push(fact);
            }
        }
    }
    Ok((late, others))
}

#[derive(FromQueryResult, Deserialize)]
struct ProductRanges {
    customer_id: Uuid,
    ranges: String,
}

/// What makes the products' customers add up to the customers of the set: a customer
/// with active ranges under several of `products` counts once where they overlap.
async fn shared_customers(
    snapshot: &Snapshot,
    organization: Uuid,
    products: &[Uuid],
) -> Result<Vec<(i64, i64)>, DbErr> {
    use sea_orm::sea_query::{Alias, Expr};
    let table = Alias::new("metric_customer_product_ranges");
    let of_products = |query: &mut sea_orm::sea_query::SelectStatement| {
        query
            .from(table.clone())
            .and_where(col("organization_id").eq(organization))
            .and_where(col("product_id").is_in(products.iter().copied()));
    };
    let mut shared = Query::select();
    of_products(&mut shared);
    shared
        .column(Alias::new("customer_id"))
        .group_by_col(Alias::new("customer_id"))
        .and_having(Expr::cust("COUNT(*) > 1"));
    let mut query = Query::select();
    of_products(&mut query);
    query
        .columns([Alias::new("customer_id"), Alias::new("ranges")])
        .and_where(col("customer_id").in_subquery(shared));
    // Each customer's ranges under each of the products.
    let mut by_customer: HashMap<Uuid, Vec<Ranges>> = HashMap::new();
    for row in snapshot.rows::<ProductRanges>(&query).await? {
        let ranges = decode_ranges(&row.ranges)?;
        by_customer.entry(row.customer_id).or_default().push(ranges);
    }
    let mut deltas = Deltas::new();
    for each in by_customer.into_values() {
        let mut all: Ranges = each.iter().flatten().copied().collect();
        for ranges in &each {
            add_customer(organization, None, ranges, -1, &mut deltas);
        }
        add_customer(
            organization,
            None,
            &customer_ranges(&mut all),
            1,
            &mut deltas,
        );
    }
    let mut changes: Vec<(i64, i64)> = deltas
        .into_iter()
        .map(|((_, _, q), sums)| (q, sums[CUSTOMERS]))
        .filter(|(_, change)| *change != 0)
        .collect();
    changes.sort_unstable();
    Ok(changes)
}

impl Rolled {
    /// The sums of every quarter before `at` (a cut).
    fn before(&self, at: DateTime<Utc>) -> Sums {
        let j = self.cuts.partition_point(|c| *c < quarter(at));
        self.prefix[j]
    }

    fn exact_at(&self, at: DateTime<Utc>) -> i64 {
        let j = self.cuts.partition_point(|c| *c < quarter(at));
        self.exact[j]
    }

    /// The sums of the quarters in `[from, to)` (both cuts); zeros when empty.
    fn between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Sums {
        if from >= to {
            return [0; COUNT];
        }
        let mut sums = self.before(to);
        sub(&mut sums, &self.before(from));
        sums
    }
}

/// Whether a subscription is active in the period that ends at quarter `end`.
fn active_at(fact: &SubscriptionFact, end: i64) -> bool {
    fact.active_quarters()
        .is_some_and(|(from, to)| from < end && to.is_none_or(|to| end <= to))
}

/// The order, subscription and churn metrics of every period, from the sums.
pub fn series(periods: &Periods, rolled: &Rolled, series: &mut Series) {
    let n = periods.len();
    let k = place(periods.interval);
    let (from, until) = (periods.from, periods.until);
    let inside = |i: usize| {
        (
            Ord::max(periods.start(i), from),
            Ord::min(periods.end(i), until),
        )
    };

    // Orders.
    let mut flows: Vec<Sums> = (0..n)
        .map(|i| {
            let (a, b) = inside(i);
            rolled.between(a, b)
        })
        .collect();
    // Subscriptions of a changed product renewed in each period, when some products only
    // count (its first renewal of the period may be another product's).
    let mut renewed: HashSet<(usize, Uuid)> = HashSet::new();
    for o in &rolled.orders {
        let (Some(i), Some(started_at)) = (periods.of(o.created_at), o.started_at) else {
            continue;
        };
        let (start, end) = (periods.start(i), periods.end(i));
        let sums = &mut flows[i];
        if started_at >= start && started_at < end {
            sums[NEW_REVENUE + k] += o.revenue;
            sums[NEW_KEPT + k] += o.kept;
        } else {
            sums[OLD_REVENUE + k] += o.revenue;
            sums[OLD_KEPT + k] += o.kept;
            if rolled.filtered && o.mixed {
                renewed.extend(o.subscription_id.map(|s| (i, s)));
                continue;
            }
            // The first of its subscription's orders counted in the period (the period's
            // orders before the request's start do not count).
            let counted_from = Ord::max(start, from);
            sums[RENEWED + k] += i64::from(o.previous_at.is_none_or(|at| at < counted_from));
        }
    }
    for (i, _) in renewed {
        flows[i][RENEWED + k] += 1;
    }
    flows[0][RENEWED + k] += rolled.first_counted;
    let column = |place: usize| -> Vec<i64> { flows.iter().map(|s| s[place]).collect() };
    let before = rolled.before(from);
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
    let (count, revenue, kept) = (column(ORDERS), column(REVENUE), column(KEPT));
    let net_revenue: Vec<i64> = flows.iter().map(|s| s[KEPT] - s[DISPUTES_LOST]).collect();
    series.insert(
        "cumulative_revenue",
        ints(cumulative(before[REVENUE], &revenue)),
    );
    series.insert(
        "net_cumulative_revenue",
        ints(cumulative(
            before[KEPT] - before[DISPUTES_LOST],
            &net_revenue,
        )),
    );
    series.insert(
        "average_order_value",
        ints((0..n).map(|i| ceil_div(revenue[i], count[i])).collect()),
    );
    series.insert(
        "net_average_order_value",
        ints((0..n).map(|i| ceil_div(kept[i], count[i])).collect()),
    );
    series.insert("orders", ints(count));
    series.insert("revenue", ints(revenue));
    series.insert("net_revenue", ints(net_revenue));
    series.insert("one_time_products", ints(column(ONE_TIME_ORDERS)));
    series.insert("one_time_products_revenue", ints(column(ONE_TIME_REVENUE)));
    series.insert("one_time_products_net_revenue", ints(column(ONE_TIME_KEPT)));
    series.insert("new_subscriptions_revenue", ints(column(NEW_REVENUE + k)));
    series.insert("new_subscriptions_net_revenue", ints(column(NEW_KEPT + k)));
    series.insert("renewed_subscriptions", ints(column(RENEWED + k)));
    series.insert(
        "renewed_subscriptions_revenue",
        ints(column(OLD_REVENUE + k)),
    );
    series.insert(
        "renewed_subscriptions_net_revenue",
        ints(column(OLD_KEPT + k)),
    );

    // Subscription states at the end of each period.
    let mut states: Vec<Sums> = (0..n).map(|i| rolled.before(periods.end(i))).collect();
    for (i, state) in states.iter_mut().enumerate() {
        let end = quarter(periods.end(i));
        state[CUSTOMERS] += rolled
            .shared_customers
            .iter()
            .filter(|(q, _)| *q < end)
            .map(|(_, change)| change)
            .sum::<i64>();
    }
    late_correction(periods, rolled, &mut states[n - 1]);
    let state = |place: usize| -> Vec<i64> { states.iter().map(|s| s[place]).collect() };
    let mrr = state(MRR);
    let customers = state(CUSTOMERS);
    let arpu = (0..n)
        .map(|i| {
            if customers[i] == 0 {
                0
            } else {
                (mrr[i] as f64 / customers[i] as f64).round() as i64
            }
        })
        .collect();
    let committed_mrr = state(COMMITTED_MRR);
    series.insert("active_subscriptions", ints(state(ACTIVE)));
    series.insert("committed_subscriptions", ints(state(COMMITTED)));
    series.insert("trial_monthly_recurring_revenue", ints(state(TRIAL_MRR)));
    series.insert(
        "committed_annual_recurring_revenue",
        ints(committed_mrr.iter().map(|v| v * 12).collect()),
    );
    series.insert("committed_monthly_recurring_revenue", ints(committed_mrr));
    series.insert(
        "trial_committed_monthly_recurring_revenue",
        ints(state(TRIAL_COMMITTED_MRR)),
    );
    series.insert(
        "annual_recurring_revenue",
        ints(mrr.iter().map(|v| v * 12).collect()),
    );
    series.insert("monthly_recurring_revenue", ints(mrr));
    series.insert("average_revenue_per_user", ints(arpu));

    // Churn.
    let canceled_between = |a: DateTime<Utc>, b: DateTime<Utc>| -> i64 {
        let sums = rolled.between(a, b);
        (0..=REASONS.len()).map(|r| sums[CANCELED + r]).sum()
    };
    let rate = (0..n)
        .map(|i| {
            let (a, b) = if periods.interval == Interval::Year {
                (periods.start(i), periods.end(i))
            } else {
                (periods.days_before_start(i, 30), periods.start(i))
            };
            let at_start = Ord::max(rolled.before(a)[ALIVE] + rolled.exact_at(a), 0);
            ratio(canceled_between(a, b) as f64, at_start as f64)
        })
        .collect();
    series.insert("churned_subscriptions", ints(column(CHURNED)));
    series.insert("churn_rate", floats(rate));
    series.insert(
        "canceled_subscriptions",
        ints(
            flows
                .iter()
                .map(|s| (0..=REASONS.len()).map(|r| s[CANCELED + r]).sum())
                .collect(),
        ),
    );
    for (r, reason) in REASONS.iter().chain(["other"].iter()).enumerate() {
        let slug = crate::metrics::compute::canceled_slug(reason);
        series.insert(slug, ints(column(CANCELED + r)));
    }
    let mut new: Vec<i64> = (0..n)
        .map(|i| {
            let sums = rolled.between(periods.start(i), Ord::min(periods.end(i), until));
            sums[CREATED] - sums[CREATED_GONE + k]
        })
        .collect();
    for (created, end) in &rolled.ended_early {
        if let Some(i) = periods.of_series(*created)
            && periods.of_series(*end) == Some(i)
        {
            new[i] -= 1;
        }
    }
    series.insert("new_subscriptions", ints(new));
}

/// Takes out of the last period's states the subscriptions that start after the request's
/// end (a last period running past `end_date`): `compute` does not count them.
fn late_correction(periods: &Periods, rolled: &Rolled, last: &mut Sums) {
    if rolled.late.is_empty() {
        return;
    }
    let end = quarter(periods.end(periods.len() - 1));
    let mut deltas = Deltas::new();
    for fact in &rolled.late {
        fact.add_to(1, &mut deltas);
    }
    // (Each fact adds the same to the organization's sums as to its product's.)
    for ((_, scope, q), sums) in &deltas {
        if scope.is_none() && *q < end {
            sub(last, sums);
        }
    }
    // Their customers' part of the sums: a customer counts once, and only if no other
    // subscription of theirs is active then.
    let mut customers: HashSet<Uuid> = HashSet::new();
    for fact in rolled.late.iter().filter(|f| active_at(f, end)) {
        customers.insert(fact.customer_id);
    }
    for customer in customers {
        let held = rolled
            .others
            .get(&customer)
            .is_some_and(|others| others.iter().any(|f| active_at(f, end)));
        if !held {
            last[CUSTOMERS] -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Interval, Periods, calendar_fits, place, runs};
    use chrono::NaiveDate;

    /// The zones of the extreme offsets (+14, −12), a half-hour one and one with clock
    /// changes: their weeks, months and years since 2020 lie within the slack of the UTC
    /// calendar, so they are answered from the sums.
    #[test]
    fn periods_of_today_s_zones_fit_the_calendar() {
        let (start, end) = (
            NaiveDate::from_ymd_opt(2020, 1, 15).unwrap(),
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
        );
        for zone in [
            chrono_tz::Pacific::Kiritimati,
            chrono_tz::Etc::GMTPlus12,
            chrono_tz::Asia::Kolkata,
            chrono_tz::America::Sao_Paulo,
        ] {
            for interval in [Interval::Week, Interval::Month, Interval::Year] {
                let periods = Periods::new(start, end, interval, zone);
                assert!(
                    calendar_fits(&periods, place(interval)),
                    "{zone} {interval:?}"
                );
            }
        }
    }

    /// Every quarter of `[from, to)` is in exactly one run's buckets.
    fn covered(runs: &[(usize, i64, i64)]) -> Vec<i64> {
        let size = [1, 4, 96];
        let mut quarters = Vec::new();
        for &(level, lo, hi) in runs {
            assert_eq!(lo % size[level], 0);
            let mut start = lo;
            while start < hi {
                quarters.extend(start..start + size[level]);
                start += size[level];
            }
        }
        quarters.sort();
        quarters
    }

    #[test]
    fn runs_cover_a_range_once_with_the_largest_buckets() {
        for (from, to) in [
            (0, 96),
            (2, 500),
            (94, 98),
            (5, 7),
            (96 * 3 + 74, 96 * 4 + 74),
        ] {
            let found = runs(Some(from), to);
            assert_eq!(
                covered(&found),
                (from..to).collect::<Vec<_>>(),
                "{from}..{to}"
            );
        }
        // Kolkata's day (18:30 to 18:30): 2 quarters, 23 hours, 2 quarters.
        assert_eq!(
            runs(Some(74), 96 + 74),
            vec![(0, 74, 76), (1, 76, 168), (0, 168, 170)]
        );
        assert_eq!(runs(Some(96), 192), vec![(2, 96, 192)]);
        let before = runs(None, 96 * 2 + 5);
        assert_eq!(before.last(), Some(&(0, 196, 197)));
    }
}
