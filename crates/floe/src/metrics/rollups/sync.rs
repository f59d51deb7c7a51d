//! Rolling up: takes the marks of changed rows (`metric_dirty`), recomputes the facts of
//! everything they touch and moves the quarter sums by the difference between each fact
//! as it was rolled up and as it is now. Recomputing from the rows, not from the change,
//! makes a pass idempotent: a row marked twice, or rolled up by two passes, counts once.
//!
//! A marked order recomputes every order of its subscription (an order's facts depend on
//! its subscription's start and on the paid order before it); a marked subscription its
//! own facts, its orders' and its customers' active ranges; an order whose being paid
//! changed, its disputes.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
};
use uuid::Uuid;

use super::columns::{COUNT, NAMES, Sums};
use super::facts::{
    Deltas, DisputeFact, OrderFact, SubscriptionFact, add_customer, customer_ranges, quarter,
};
use super::stored::{
    CHUNK, Replaced, decode_ranges, delete_where, encode_ranges, replace, rows_where, stored_where,
    upsert,
};
use crate::metrics::inputs::{SUBSCRIPTION_COLUMNS, SubscriptionRow, started_subscription};
use crate::metrics::laps::Laps;
use crate::metrics::sql::{col, get, rows};

/// Marks taken per transaction.
const BATCH: u64 = 2_000;
/// Sum rows per upsert (each binds `COUNT + 4` values at most).
const QUARTER_ROWS: usize = 300;
/// Serializes passes on PostgreSQL, across floe instances (two passes computing the same
/// fact's difference at once would both apply it).
const PASS_LOCK: i64 = 0x6d65_7472_6963; // "metric"

const ORDER: i16 = 1;
const SUBSCRIPTION: i16 = 2;
const DISPUTE: i16 = 3;

/// The statuses of an order metrics count.
const COUNTED: [&str; 3] = ["paid", "partially_refunded", "refunded"];

struct Mark {
    kind: i16,
    id: Uuid,
    marks: i64,
}

/// How many rows of `organization` wait to be rolled up, counted up to `limit`.
pub async fn waiting(
    db: &DatabaseConnection,
    organization: Uuid,
    limit: u64,
) -> Result<u64, DbErr> {
    let mut marks = Query::select();
    marks
        .from(Alias::new("metric_dirty"))
        .column(Alias::new("kind"))
        .and_where(col("organization_id").eq(organization))
        .limit(limit);
    let count = Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("waiting"))
        .from_subquery(marks, Alias::new("marks"))
        .to_owned();
    let found = rows(db, &count).await?;
    Ok(found
        .first()
        .map(|row| get::<i64>(row, "waiting"))
        .transpose()?
        .unwrap_or(0) as u64)
}

/// Rolls up every marked row (of one organization, or all), in passes of `BATCH`; answers
/// how many marks were cleared. With `pause`, it rests after each pass as long as the pass
/// took: on SQLite a pass holds the only write lock, which other writers (the API) must
/// get in between.
pub async fn catch_up(
    db: &DatabaseConnection,
    organization: Option<Uuid>,
    pause: bool,
) -> Result<usize, DbErr> {
    // Most of the time there is nothing to roll up: a read finds that out without taking
    // SQLite's write lock (or PostgreSQL's pass lock).
    let mut query = Query::select();
    query
        .from(Alias::new("metric_dirty"))
        .column(Alias::new("kind"))
        .limit(1);
    if let Some(organization) = organization {
        query.and_where(col("organization_id").eq(organization));
    }
    if rows(db, &query).await?.is_empty() {
        return Ok(0);
    }
    let mut cleared = 0;
    loop {
        let began = std::time::Instant::now();
        let txn = crate::db::begin_write(db).await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({PASS_LOCK})"))
                .await?;
            // Every statement of a pass looks rows up by key. The fact tables fill from
            // empty faster than autovacuum analyzes them, and a plan made while they
            // looked empty scans them whole for each `IN` list (250 ms per 500 IDs at
            // 50,000 facts): keys it is, whatever the statistics say.
            txn.execute_unprepared("SET LOCAL enable_seqscan = off")
                .await?;
        }
        let mut laps = Laps::start();
        let marks = claim(&txn, organization).await?;
        laps.lap("claim");
        if marks.is_empty() {
            txn.commit().await?;
            return Ok(cleared);
        }
        let related = roll_up(&txn, &marks, &mut laps).await?;
        let marks = merge(marks, related);
        clear(&txn, &marks).await?;
        txn.commit().await?;
        laps.lap("clear_commit");
        tracing::debug!(marks = marks.len(), phases_ms = %laps, "metric rollup pass");
        cleared += marks.len();
        if pause {
            tokio::time::sleep(began.elapsed()).await;
        }
    }
}

/// After a large catch-up on PostgreSQL, vacuums and analyzes the rollup tables, rather
/// than wait for autovacuum (up to a minute, or more on a busy server): until then every
/// request's count of waiting marks walks the dead rows of the cleared ones (30 ms after
/// 1.1M), the planner's statistics say the marks are all still there, and the sums carry
/// every superseded version of their rows. SQLite keeps no dead rows.
pub async fn tidy(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    db.execute_unprepared(
        "VACUUM (ANALYZE) metric_dirty, metric_sums, metric_product_sums, metric_order_facts, \
         metric_subscription_facts, metric_customer_ranges, metric_customer_product_ranges, \
         metric_dispute_facts",
    )
    .await?;
    Ok(())
}

/// The marks of rows a pass rolls up besides those it claimed: its subscriptions' own and
/// their orders' (a bulk import marks a subscription and each of its orders, and one pass
/// rolls them all up). Read before any of those rows is, so that a change committed after
/// this read moves the counter and keeps its mark (see `clear`). An order's subscription
/// never changes, so rolling up its subscription rolls the order up.
async fn related_marks(
    txn: &DatabaseTransaction,
    subscriptions: &[Uuid],
) -> Result<Vec<Mark>, DbErr> {
    let mut found = Vec::new();
    for chunk in subscriptions.chunks(CHUNK) {
        let mut orders = Query::select();
        orders
            .from(Alias::new("orders"))
            .column(Alias::new("id"))
            .and_where(col("subscription_id").is_in(chunk.iter().copied()));
        for (kind, ids) in [
            (SUBSCRIPTION, col("id").is_in(chunk.iter().copied())),
            (ORDER, col("id").in_subquery(orders)),
        ] {
            let mut query = Query::select();
            query
                .from(Alias::new("metric_dirty"))
                .columns([Alias::new("kind"), Alias::new("id"), Alias::new("marks")])
                .and_where(col("kind").eq(kind))
                .and_where(ids);
            found.extend(
                rows(txn, &query)
                    .await?
                    .iter()
                    .map(mark)
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
    }
    Ok(found)
}

/// The marks claimed and the related ones, once each: a related mark, read later, holds
/// the counter as the pass saw the row.
fn merge(claimed: Vec<Mark>, related: Vec<Mark>) -> Vec<Mark> {
    let mut by_row: HashMap<(i16, Uuid), Mark> = HashMap::new();
    for mark in claimed.into_iter().chain(related) {
        by_row.insert((mark.kind, mark.id), mark);
    }
    by_row.into_values().collect()
}

fn mark(row: &sea_orm::QueryResult) -> Result<Mark, DbErr> {
    Ok(Mark {
        kind: get(row, "kind")?,
        id: get(row, "id")?,
        marks: get(row, "marks")?,
    })
}

async fn claim(txn: &DatabaseTransaction, organization: Option<Uuid>) -> Result<Vec<Mark>, DbErr> {
    let mut query = Query::select();
    query
        .from(Alias::new("metric_dirty"))
        .columns([Alias::new("kind"), Alias::new("id"), Alias::new("marks")])
        .order_by(Alias::new("kind"), sea_orm::Order::Asc)
        .order_by(Alias::new("id"), sea_orm::Order::Asc)
        .limit(BATCH);
    if let Some(organization) = organization {
        query.and_where(col("organization_id").eq(organization));
    }
    rows(txn, &query).await?.iter().map(mark).collect()
}

/// Clears the marks rolled up, unless marked again since they were read (that change was
/// not seen: the next pass rolls it up). On SQLite nothing can mark a row during a pass,
/// which holds the only write lock: the marks go by key.
async fn clear(txn: &DatabaseTransaction, marks: &[Mark]) -> Result<(), DbErr> {
    let postgres = txn.get_database_backend() == DbBackend::Postgres;
    for kind in [ORDER, SUBSCRIPTION, DISPUTE] {
        let of_kind: Vec<&Mark> = marks.iter().filter(|m| m.kind == kind).collect();
        for chunk in of_kind.chunks(CHUNK) {
            if postgres {
                // Joined to a list of pairs: PostgreSQL plans `(id, marks) IN (…)` as one
                // bitmap per pair (40 ms of planning for 500).
                let pairs: Vec<String> = (0..chunk.len())
                    .map(|i| format!("(${}::uuid, ${}::bigint)", 2 * i + 2, 2 * i + 3))
                    .collect();
                let mut values: Vec<sea_orm::Value> = vec![kind.into()];
                for mark in chunk {
                    values.push(mark.id.into());
                    values.push(mark.marks.into());
                }
                let sql = format!(
                    "DELETE FROM metric_dirty d USING (VALUES {}) AS v(id, marks) \
                     WHERE d.kind = $1 AND d.id = v.id AND d.marks = v.marks",
                    pairs.join(", ")
                );
                txn.execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    sql,
                    values,
                ))
                .await?;
            } else {
                let delete = Query::delete()
                    .from_table(Alias::new("metric_dirty"))
                    .and_where(col("kind").eq(kind))
                    .and_where(col("id").is_in(chunk.iter().map(|m| m.id)))
                    .to_owned();
                txn.execute(&delete).await?;
            }
        }
    }
    Ok(())
}

struct OrderRow {
    id: Uuid,
    organization_id: Uuid,
    product_id: Option<Uuid>,
    subscription_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    counted: bool,
    revenue: i64,
    kept: i64,
}

const ORDER_COLUMNS: [&str; 9] = [
    "id",
    "organization_id",
    "product_id",
    "subscription_id",
    "created_at",
    "status",
    "net_amount",
    "platform_fee_amount",
    "refunded_amount",
];

async fn orders_where(
    txn: &DatabaseTransaction,
    key: &str,
    ids: &[Uuid],
) -> Result<Vec<OrderRow>, DbErr> {
    rows_where(txn, "orders", &ORDER_COLUMNS, key, ids)
        .await?
        .iter()
        .map(|row| {
            let net: i64 = get(row, "net_amount")?;
            let fee: i64 = get(row, "platform_fee_amount")?;
            let refunded: i64 = get(row, "refunded_amount")?;
            Ok(OrderRow {
                id: get(row, "id")?,
                organization_id: get(row, "organization_id")?,
                product_id: get(row, "product_id")?,
                subscription_id: get(row, "subscription_id")?,
                created_at: get(row, "created_at")?,
                counted: COUNTED.contains(&get::<String>(row, "status")?.as_str()),
                revenue: net,
                kept: net - fee - refunded,
            })
        })
        .collect()
}

/// Rolls up the order facts `new` in place of `old`; answers the orders whose disputes
/// count otherwise now: they became, or stopped being, counted, or changed product.
async fn replace_order_facts(
    txn: &DatabaseTransaction,
    old: HashMap<Uuid, OrderFact>,
    new: HashMap<Uuid, OrderFact>,
    deltas: &mut Deltas,
) -> Result<Vec<Uuid>, DbErr> {
    let Replaced { gone, changed } = replace(txn, &old, &new, deltas).await?;
    Ok(gone
        .into_iter()
        .chain(changed.into_iter().filter(|id| {
            old.get(id)
                .is_none_or(|was| was.product_id != new[id].product_id)
        }))
        .collect())
}

/// The subscriptions' facts as they are now (the started ones).
async fn current_subscriptions(
    txn: &DatabaseTransaction,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, SubscriptionFact>, DbErr> {
    let mut facts = HashMap::new();
    for row in rows_where(txn, "subscriptions", &SUBSCRIPTION_COLUMNS, "id", ids).await? {
        let row = <SubscriptionRow as sea_orm::FromQueryResult>::from_query_result(&row, "")?;
        facts.extend(started_subscription(row));
    }
    Ok(facts)
}

/// Rolls up the subscriptions `ids`, and every order of theirs.
async fn roll_up_subscriptions(
    txn: &DatabaseTransaction,
    ids: &[Uuid],
    deltas: &mut Deltas,
    laps: &mut Laps,
) -> Result<Vec<Uuid>, DbErr> {
    let old: HashMap<Uuid, SubscriptionFact> = stored_where(txn, "subscription_id", ids).await?;
    let new = current_subscriptions(txn, ids).await?;
    laps.lap("subscriptions_read");
    let Replaced { gone, changed } = replace(txn, &old, &new, deltas).await?;
    laps.lap("subscriptions_write");
    let customers = customer_changes(&old, &new, gone.iter().chain(&changed));
    roll_up_customers(txn, customers, deltas).await?;
    laps.lap("customers");

    // Their orders, each with its subscription's start and the paid order before it.
    let mut by_subscription: HashMap<Uuid, Vec<OrderRow>> = HashMap::new();
    for order in orders_where(txn, "subscription_id", ids).await? {
        if order.counted
            && let Some(subscription) = order.subscription_id
        {
            by_subscription.entry(subscription).or_default().push(order);
        }
    }
    let mut facts = HashMap::new();
    for (subscription, mut orders) in by_subscription {
        orders.sort_unstable_by_key(|o| (o.created_at, o.id));
        let started_at = new.get(&subscription).map(|s| s.started_at);
        let mixed = orders.iter().any(|o| o.product_id != orders[0].product_id);
        let mut previous_at = None;
        for order in orders {
            facts.insert(
                order.id,
                OrderFact {
                    organization_id: order.organization_id,
                    product_id: order.product_id,
                    mixed,
                    subscription_id: Some(subscription),
                    created_at: order.created_at,
                    revenue: order.revenue,
                    kept: order.kept,
                    started_at,
                    previous_at,
                },
            );
            previous_at = Some(order.created_at);
        }
    }
    let old = stored_where(txn, "subscription_id", ids).await?;
    laps.lap("subscription_orders_read");
    let recounted = replace_order_facts(txn, old, facts, deltas).await?;
    laps.lap("subscription_orders_write");
    Ok(recounted)
}

type Span = (i64, Option<i64>);

/// A customer's active ranges over all its subscriptions (scope `None`) or over those of
/// one product: `(customer, scope)`.
type RangesKey = (Uuid, Option<Uuid>);

/// The scopes a subscription's active span counts in.
fn scopes(fact: &SubscriptionFact) -> [Option<Uuid>; 2] {
    [None, Some(fact.product_id)]
}

/// How a customer's active ranges in one scope move with a pass's subscriptions.
#[derive(Default)]
struct CustomerChange {
    organization: Uuid,
    /// Spans its subscriptions gained.
    added: Vec<Span>,
    /// A span shrank, moved or went: the ranges are recomputed from every subscription.
    recompute: bool,
}

/// A subscription's fact and the quarters it is active, if it has both.
fn active_span<'a>(
    facts: &'a HashMap<Uuid, SubscriptionFact>,
    id: &Uuid,
) -> Option<(&'a SubscriptionFact, Span)> {
    let fact = facts.get(id)?;
    Some((fact, fact.active_quarters()?))
}

/// The customers' ranges (per scope) that the subscriptions `ids` (changed or gone) move.
fn customer_changes<'a>(
    old: &HashMap<Uuid, SubscriptionFact>,
    new: &HashMap<Uuid, SubscriptionFact>,
    ids: impl Iterator<Item = &'a Uuid>,
) -> HashMap<RangesKey, CustomerChange> {
    let mut customers: HashMap<RangesKey, CustomerChange> = HashMap::new();
    for id in ids {
        let (before, after) = (active_span(old, id), active_span(new, id));
        for place in 0..2 {
            let before =
                before.map(|(fact, span)| ((fact.customer_id, scopes(fact)[place]), fact, span));
            let after =
                after.map(|(fact, span)| ((fact.customer_id, scopes(fact)[place]), fact, span));
            if let (Some((a, _, x)), Some((b, _, y))) = (before, after)
                && a == b
                && x == y
            {
                continue;
            }
            if let Some((key, fact, _)) = before {
                let change = customers.entry(key).or_default();
                change.organization = fact.organization_id;
                change.recompute = true;
            }
            if let Some((key, fact, span)) = after {
                let change = customers.entry(key).or_default();
                change.organization = fact.organization_id;
                change.added.push(span);
            }
        }
    }
    customers
}

/// Where each scope's ranges are kept: the table, its key columns.
const RANGES: [(&str, &[&str]); 2] = [
    ("metric_customer_ranges", &["customer_id"]),
    (
        "metric_customer_product_ranges",
        &["customer_id", "product_id"],
    ),
];

/// Moves the active ranges of `customers`: ranges whose subscriptions only gained spans
/// merge them in (a bulk import adds every subscription so, and a customer may hold
/// thousands); the others are recomputed from their subscriptions' facts.
async fn roll_up_customers(
    txn: &DatabaseTransaction,
    customers: HashMap<RangesKey, CustomerChange>,
    deltas: &mut Deltas,
) -> Result<(), DbErr> {
    let ids = crate::db::unique(customers.keys().map(|(customer, _)| *customer));
    let recomputed = crate::db::unique(
        customers
            .iter()
            .filter(|(_, change)| change.recompute)
            .map(|((customer, _), _)| *customer),
    );
    let mut spans: HashMap<RangesKey, Vec<Span>> = HashMap::new();
    let facts: HashMap<Uuid, SubscriptionFact> =
        stored_where(txn, "customer_id", &recomputed).await?;
    for fact in facts.into_values() {
        if let Some(span) = fact.active_quarters() {
            for scope in scopes(&fact) {
                spans
                    .entry((fact.customer_id, scope))
                    .or_default()
                    .push(span);
            }
        }
    }
    let mut old: HashMap<RangesKey, Vec<Span>> = HashMap::new();
    for (table, keys) in RANGES {
        let mut columns = keys.to_vec();
        columns.push("ranges");
        for row in rows_where(txn, table, &columns, "customer_id", &ids).await? {
            let scope = match keys.len() {
                1 => None,
                _ => Some(get(&row, "product_id")?),
            };
            let ranges: String = get(&row, "ranges")?;
            old.insert((get(&row, "customer_id")?, scope), decode_ranges(&ranges)?);
        }
    }
    let mut gone: [Vec<RangesKey>; 2] = Default::default();
    let mut values: [Vec<Vec<sea_orm::Value>>; 2] = Default::default();
    for (key, change) in customers {
        let organization = change.organization;
        let before = old.remove(&key).unwrap_or_default();
        let mut all = if change.recompute {
            spans.remove(&key).unwrap_or_default()
        } else {
            let mut all = before.clone();
            all.extend(change.added);
            all
        };
        let new = customer_ranges(&mut all);
        if new == before {
            continue;
        }
        let (customer, scope) = key;
        add_customer(organization, scope, &before, -1, deltas);
        add_customer(organization, scope, &new, 1, deltas);
        let place = usize::from(scope.is_some());
        if new.is_empty() {
            gone[place].push(key);
        } else {
            let text = encode_ranges(&new)?;
            let mut row = vec![customer.into()];
            row.extend(scope.map(sea_orm::Value::from));
            row.extend([organization.into(), text.into()]);
            values[place].push(row);
        }
    }
    let [gone_all, gone_product] = gone;
    let customers: Vec<Uuid> = gone_all.iter().map(|(customer, _)| *customer).collect();
    delete_where(txn, RANGES[0].0, "customer_id", &customers).await?;
    // (Rare: a product's ranges go only when its subscriptions end or move, one by one.)
    for (customer, product) in gone_product {
        let delete = Query::delete()
            .from_table(Alias::new(RANGES[1].0))
            .and_where(col("customer_id").eq(customer))
            .and_where(col("product_id").eq(product))
            .to_owned();
        txn.execute(&delete).await?;
    }
    for ((table, keys), values) in RANGES.into_iter().zip(values) {
        let mut columns = keys.to_vec();
        columns.extend(["organization_id", "ranges"]);
        upsert(txn, table, &columns, keys.len(), values).await?;
    }
    Ok(())
}

/// Rolls up disputes: a lost one of a counted order takes its amount back when lost.
async fn roll_up_disputes(
    txn: &DatabaseTransaction,
    ids: &[Uuid],
    deltas: &mut Deltas,
) -> Result<(), DbErr> {
    let disputes = rows_where(
        txn,
        "disputes",
        &[
            "id",
            "organization_id",
            "order_id",
            "status",
            "closed_at",
            "amount",
        ],
        "id",
        ids,
    )
    .await?;
    let order_ids: Vec<Uuid> = disputes
        .iter()
        .map(|row| get(row, "order_id"))
        .collect::<Result<_, _>>()?;
    // The counted ones, with their product.
    let counted: HashMap<Uuid, Option<Uuid>> =
        orders_where(txn, "id", &crate::db::unique(order_ids.into_iter()))
            .await?
            .into_iter()
            .filter(|o| o.counted)
            .map(|o| (o.id, o.product_id))
            .collect();
    let mut new = HashMap::new();
    for row in &disputes {
        let closed_at: Option<DateTime<Utc>> = get(row, "closed_at")?;
        let lost = get::<String>(row, "status")? == "lost";
        if let (true, Some(closed_at), Some(product_id)) =
            (lost, closed_at, counted.get(&get(row, "order_id")?))
        {
            new.insert(
                get::<Uuid>(row, "id")?,
                DisputeFact {
                    organization_id: get(row, "organization_id")?,
                    product_id: *product_id,
                    quarter: quarter(closed_at),
                    amount: get(row, "amount")?,
                },
            );
        }
    }
    let old: HashMap<Uuid, DisputeFact> = stored_where(txn, "dispute_id", ids).await?;
    replace(txn, &old, &new, deltas).await?;
    Ok(())
}

/// Rolls up what `marks` point at; answers the related marks it rolled up too.
async fn roll_up(
    txn: &DatabaseTransaction,
    marks: &[Mark],
    laps: &mut Laps,
) -> Result<Vec<Mark>, DbErr> {
    let of_kind = |kind| -> Vec<Uuid> {
        marks
            .iter()
            .filter(|m| m.kind == kind)
            .map(|m| m.id)
            .collect()
    };
    let order_ids = of_kind(ORDER);
    let mut deltas = Deltas::new();

    // Which subscription each marked order belongs to, now or as it was rolled up.
    let mut owner: HashMap<Uuid, Option<Uuid>> = HashMap::new();
    for order in orders_where(txn, "id", &order_ids).await? {
        owner.insert(order.id, order.subscription_id);
    }
    let facts: HashMap<Uuid, OrderFact> = stored_where(txn, "order_id", &order_ids).await?;
    for (id, fact) in facts {
        let entry = owner.entry(id).or_insert(None);
        *entry = entry.or(fact.subscription_id);
    }
    let mut subscriptions: BTreeSet<Uuid> = of_kind(SUBSCRIPTION).into_iter().collect();
    let mut one_time = Vec::new();
    for (id, subscription) in owner {
        match subscription {
            Some(subscription) => {
                subscriptions.insert(subscription);
            }
            None => one_time.push(id),
        }
    }

    let new: HashMap<Uuid, OrderFact> = orders_where(txn, "id", &one_time)
        .await?
        .into_iter()
        .filter(|o| o.counted)
        .map(|o| {
            let fact = OrderFact {
                organization_id: o.organization_id,
                product_id: o.product_id,
                mixed: false,
                subscription_id: None,
                created_at: o.created_at,
                revenue: o.revenue,
                kept: o.kept,
                started_at: None,
                previous_at: None,
            };
            (o.id, fact)
        })
        .collect();
    let old = stored_where(txn, "order_id", &one_time).await?;
    laps.lap("orders_read");
    let mut recounted = replace_order_facts(txn, old, new, &mut deltas).await?;
    laps.lap("orders_write");
    let subscriptions: Vec<Uuid> = subscriptions.into_iter().collect();
    let related = related_marks(txn, &subscriptions).await?;
    recounted.extend(roll_up_subscriptions(txn, &subscriptions, &mut deltas, laps).await?);

    // Disputes marked, and those of orders that became or stopped being counted.
    let mut disputes: BTreeSet<Uuid> = of_kind(DISPUTE).into_iter().collect();
    for row in rows_where(txn, "disputes", &["id"], "order_id", &recounted).await? {
        disputes.insert(get(&row, "id")?);
    }
    let disputes: Vec<Uuid> = disputes.into_iter().collect();
    roll_up_disputes(txn, &disputes, &mut deltas).await?;
    laps.lap("disputes");

    add_to_quarters(txn, deltas).await?;
    laps.lap("sums");
    Ok(related)
}

/// Quarters per bucket of each level of `metric_sums`: quarter hour, hour, day.
pub const LEVELS: [i64; 3] = [1, 4, 96];

/// Adds `deltas` to the sums of their quarter, hour and day (rows made when missing), in
/// key order: the organization's in `metric_sums`, its products' in `metric_product_sums`.
async fn add_to_quarters(txn: &DatabaseTransaction, deltas: Deltas) -> Result<(), DbErr> {
    let mut buckets: HashMap<(Uuid, Option<Uuid>, i16, i64), Sums> = HashMap::new();
    for ((organization, scope, quarter), sums) in deltas {
        if sums.iter().all(|v| *v == 0) {
            continue;
        }
        for (level, size) in LEVELS.iter().enumerate() {
            let start = quarter.div_euclid(*size) * size;
            let bucket = buckets
                .entry((organization, scope, level as i16, start))
                .or_insert([0; COUNT]);
            super::columns::add(bucket, &sums);
        }
    }
    // In key order, so that concurrent passes (of other organizations) never deadlock.
    let mut buckets: Vec<_> = buckets.into_iter().collect();
    buckets.sort_unstable_by_key(|(key, _)| *key);
    let (mut all, mut products) = (Vec::new(), Vec::new());
    for ((organization, scope, level, quarter), sums) in buckets {
        let (level, quarter) = (Expr::val(level), Expr::val(quarter));
        match scope {
            None => all.push((vec![Expr::val(organization), level, quarter], sums)),
            Some(product) => products.push((
                vec![Expr::val(organization), Expr::val(product), level, quarter],
                sums,
            )),
        }
    }
    add_to(
        txn,
        "metric_sums",
        &["organization_id", "level", "quarter"],
        all,
    )
    .await?;
    add_to(
        txn,
        "metric_product_sums",
        &["organization_id", "product_id", "level", "quarter"],
        products,
    )
    .await
}

/// Adds each row's sums to `table`'s row of its key (made when missing).
async fn add_to(
    txn: &DatabaseTransaction,
    table: &str,
    keys: &[&str],
    rows: Vec<(Vec<Expr>, Sums)>,
) -> Result<(), DbErr> {
    let mut on_conflict = OnConflict::columns(keys.iter().map(|k| Alias::new(*k)));
    for name in NAMES {
        on_conflict.value(
            Alias::new(name),
            Expr::cust(format!("{table}.{name} + excluded.{name}")),
        );
    }
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(table))
            .columns(keys.iter().chain(NAMES.iter()).map(|c| Alias::new(*c)))
            .on_conflict(on_conflict.clone());
        for (mut row, sums) in rows.by_ref().take(QUARTER_ROWS) {
            row.extend(sums.iter().map(|v| Expr::val(*v)));
            insert.values_panic(row);
        }
        txn.execute(&insert).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn subscription(customer: u128, end: Option<&str>, monthly: i64) -> SubscriptionFact {
        SubscriptionFact {
            organization_id: Uuid::nil(),
            customer_id: Uuid::from_u128(customer),
            product_id: Uuid::nil(),
            created_at: at("2025-01-01T00:00:00Z"),
            started_at: at("2025-01-01T00:00:00Z"),
            end_at: end.map(at),
            canceled_at: None,
            reason: None,
            monthly,
            trial_end: None,
        }
    }

    #[test]
    fn customers_merge_new_spans_and_recompute_only_what_shrank_or_moved() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let old = HashMap::from([
            (a, subscription(10, None, 900)),
            (b, subscription(20, None, 900)),
        ]);
        let new = HashMap::from([
            // Same span, another price: the customer's ranges do not move.
            (a, subscription(10, None, 1_200)),
            // Ended: its customer's ranges are recomputed.
            (b, subscription(20, Some("2025-03-01T00:00:00Z"), 900)),
            // New: merged into its customer's ranges.
            (c, subscription(30, None, 900)),
        ]);
        let changes = customer_changes(&old, &new, [a, b, c].iter());
        let product = Some(Uuid::nil());
        for scope in [None, product] {
            assert!(!changes.contains_key(&(Uuid::from_u128(10), scope)));
            assert!(changes[&(Uuid::from_u128(20), scope)].recompute);
            let added = &changes[&(Uuid::from_u128(30), scope)];
            assert!(!added.recompute);
            assert_eq!(added.added, vec![new[&c].active_quarters().unwrap()]);
        }
        // Moved to another product: that product's ranges gain it, the old one's recompute.
        let mut moved = old[&a].clone();
        moved.product_id = Uuid::from_u128(99);
        let changes = customer_changes(&old, &HashMap::from([(a, moved)]), [a].iter());
        assert_eq!(changes.len(), 2);
        assert!(changes[&(Uuid::from_u128(10), product)].recompute);
        assert!(!changes[&(Uuid::from_u128(10), Some(Uuid::from_u128(99)))].recompute);
    }

    #[test]
    fn related_and_claimed_marks_count_once_with_the_later_counter() {
        let id = Uuid::from_u128(7);
        let claimed = vec![Mark {
            kind: ORDER,
            id,
            marks: 1,
        }];
        let related = vec![
            Mark {
                kind: ORDER,
                id,
                marks: 2,
            },
            Mark {
                kind: SUBSCRIPTION,
                id,
                marks: 1,
            },
        ];
        let mut merged = merge(claimed, related);
        merged.sort_by_key(|m| m.kind);
        assert_eq!(merged.len(), 2);
        assert_eq!((merged[0].kind, merged[0].marks), (ORDER, 2));
    }
}
