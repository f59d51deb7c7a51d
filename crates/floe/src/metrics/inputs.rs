//! The facts metrics are computed from, read from floe's own tables for one organization
//! and the request's filters: paid orders with what was refunded of them, lost disputes,
//! started subscriptions, checkouts, events (and their `_cost`), seats.
//!
//! Each fact is read as the few columns it needs, through SeaQuery, so one query serves
//! both databases, and decoded by name into a small row type. Every read of a request goes
//! to one snapshot (`db::Snapshot`): the orders, their disputes and the subscriptions of
//! one answer are of one committed state.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, ExprTrait, Query, SelectStatement};
use sea_orm::{DbErr, FromQueryResult};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::laps::Laps;
use super::params::Request;
use super::rollups::facts::SubscriptionFact;
use super::sql::col;
use crate::db::Snapshot;
use crate::orders::schema::BillingType;

pub struct Order {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub net: i64,
    pub fee: i64,
    /// What its succeeded refunds gave back, before tax.
    pub refunded: i64,
    pub subscription_id: Option<Uuid>,
}

impl Order {
    /// What the merchant kept of it.
    pub fn kept(&self) -> i64 {
        self.net - self.fee - self.refunded
    }
}

pub struct LostDispute {
    pub closed_at: DateTime<Utc>,
    pub amount: i64,
}

pub struct Subscription {
    pub created_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    /// `ended_at`, else `ends_at` (a cancellation at the period's end).
    pub end: Option<DateTime<Utc>>,
    pub canceled_at: Option<DateTime<Utc>>,
    pub cancellation_reason: Option<String>,
    /// Its recurring amount per month, rounded half away from zero.
    pub monthly: i64,
    pub trial_end: Option<DateTime<Utc>>,
    pub customer_id: Uuid,
}

pub struct Checkout {
    pub created_at: DateTime<Utc>,
    pub succeeded: bool,
}

#[derive(FromQueryResult, Deserialize)]
pub struct Event {
    pub timestamp: DateTime<Utc>,
    pub customer_id: Option<Uuid>,
    pub external_customer_id: Option<String>,
}

pub struct Cost {
    pub timestamp: DateTime<Utc>,
    pub amount: f64,
}

pub struct Seat {
    pub created_at: DateTime<Utc>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The customer who pays for it (the subscription's or the order's).
    pub customer_id: Uuid,
}

#[derive(Default)]
pub struct Inputs {
    /// Paid orders (paid, partially refunded or refunded), of all time.
    pub orders: Vec<Order>,
    pub lost_disputes: Vec<LostDispute>,
    pub subscriptions: Vec<Subscription>,
    pub checkouts: Vec<Checkout>,
    /// Events in the request's bounds.
    pub events: Vec<Event>,
    /// Costs reported by events before the request's end, of all time.
    pub costs: Vec<Cost>,
    pub seats: Vec<Seat>,
    /// When each subscription of the organization started (new or renewed revenue reads
    /// it for every subscription order, whatever the filters).
    pub started: HashMap<Uuid, DateTime<Utc>>,
}

fn select(table: &str, columns: &[&str], organization_id: Uuid) -> SelectStatement {
    let mut query = Query::select();
    query
        .from(Alias::new(table))
        .columns(columns.iter().map(|c| Alias::new(*c)))
        .and_where(col("organization_id").eq(organization_id));
    query
}

#[derive(FromQueryResult, Deserialize)]
struct ProductRow {
    id: Uuid,
    recurring_interval: Option<String>,
}

/// The filters that narrow by product: the products they leave, `None` for all.
pub async fn products_left(
    snapshot: &Snapshot,
    organization_id: Uuid,
    request: &Request,
) -> Result<Option<HashSet<Uuid>>, DbErr> {
    if request.product_ids.is_none() && request.billing_types.is_none() {
        return Ok(None);
    }
    let mut left = HashSet::new();
    let query = select("products", &["id", "recurring_interval"], organization_id);
    for ProductRow {
        id,
        recurring_interval,
    } in snapshot.rows(&query).await?
    {
        let kind = if recurring_interval.is_some() {
            BillingType::Recurring
        } else {
            BillingType::OneTime
        };
        let by_id = request
            .product_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&id));
        let by_type = request
            .billing_types
            .as_ref()
            .is_none_or(|types| types.contains(&kind));
        if by_id && by_type {
            left.insert(id);
        }
    }
    Ok(Some(left))
}

#[derive(FromQueryResult, Deserialize)]
struct CheckoutProduct {
    checkout_id: Uuid,
}

#[derive(FromQueryResult, Deserialize)]
struct CheckoutRow {
    id: Uuid,
    created_at: DateTime<Utc>,
    status: String,
}

#[derive(FromQueryResult, Deserialize)]
struct ExternalId {
    external_id: Option<String>,
}

#[derive(FromQueryResult, Deserialize)]
struct CostRow {
    timestamp: DateTime<Utc>,
    metadata: String,
}

#[derive(FromQueryResult, Deserialize)]
struct Started {
    id: Uuid,
    started_at: DateTime<Utc>,
}

/// The amount of a subscription per month, as docs/metrics.md defines it.
pub fn monthly(amount: i64, interval: &str, count: i64) -> i64 {
    let count = Ord::max(count, 1);
    let (numerator, denominator) = match interval {
        "year" => (amount, 12 * count),
        "week" => (amount * 52, 12 * count),
        "day" => (amount * 365, 12 * count),
        _ => (amount, count),
    };
    // Half away from zero.
    let doubled = 2 * numerator.abs() + denominator;
    numerator.signum() * (doubled / (2 * denominator))
}

/// The rows a request reads; `products` as `products_left` gives them, and `sales` whether
/// orders, disputes and subscriptions are read too (not when rollups hold them).
pub async fn load(
    snapshot: &Snapshot,
    organization_id: Uuid,
    request: &Request,
    products: Option<HashSet<Uuid>>,
    periods: &crate::metrics::periods::Periods,
    sales: bool,
    laps: &mut Laps,
) -> Result<Inputs, DbErr> {
    let (until, from) = (periods.until, periods.from);
    let customers = request.customer_ids.clone();
    let narrow = |query: &mut SelectStatement, product: &str, customer: &str| {
        if let Some(products) = &products {
            query.and_where(col(product).is_in(products.iter().copied()));
        }
        if let Some(customers) = &customers {
            query.and_where(col(customer).is_in(customers.iter().copied()));
        }
    };

    let (orders, lost_disputes, subscriptions, mut started) = if sales {
        load_sales(snapshot, organization_id, &narrow).await?
    } else {
        Default::default()
    };
    laps.lap("sales");

    // Checkouts, by any of their products.
    let with_product: Option<HashSet<Uuid>> = match &products {
        None => None,
        Some(products) => {
            let mut query = Query::select();
            query
                .from(Alias::new("checkout_products"))
                .column(Alias::new("checkout_id"))
                .and_where(col("product_id").is_in(products.iter().copied()));
            let ids: Vec<CheckoutProduct> = snapshot.rows(&query).await?;
            Some(ids.into_iter().map(|row| row.checkout_id).collect())
        }
    };
    let mut query = select(
        "checkouts",
        &["id", "created_at", "status"],
        organization_id,
    );
    query
        .and_where(col("created_at").gte(from))
        .and_where(col("created_at").lt(until));
    if let Some(customers) = &customers {
        query.and_where(col("customer_id").is_in(customers.iter().copied()));
    }
    let mut checkouts = Vec::new();
    for row in snapshot.rows::<CheckoutRow>(&query).await? {
        if with_product
            .as_ref()
            .is_some_and(|ids| !ids.contains(&row.id))
        {
            continue;
        }
        checkouts.push(Checkout {
            created_at: row.created_at,
            succeeded: row.status == "succeeded",
        });
    }

    laps.lap("checkouts");

    // Events: by customer, or by the external ID of one (product filters do not apply).
    let external_ids: Option<Vec<String>> = match &customers {
        None => None,
        Some(ids) => {
            let mut query = select("customers", &["external_id"], organization_id);
            query.and_where(col("id").is_in(ids.iter().copied()));
            let rows: Vec<ExternalId> = snapshot.rows(&query).await?;
            Some(rows.into_iter().filter_map(|row| row.external_id).collect())
        }
    };
    let by_customer = |query: &mut SelectStatement| {
        if let (Some(ids), Some(external)) = (&customers, &external_ids) {
            query.cond_where(
                sea_orm::Condition::any()
                    .add(col("customer_id").is_in(ids.iter().copied()))
                    .add(col("external_customer_id").is_in(external.iter().cloned())),
            );
        }
    };
    let mut query = select(
        "events",
        &["timestamp", "customer_id", "external_customer_id"],
        organization_id,
    );
    query
        .and_where(col("timestamp").gte(from))
        .and_where(col("timestamp").lt(until));
    by_customer(&mut query);
    let events: Vec<Event> = snapshot.rows(&query).await?;
    laps.lap("events");
    let mut query = select("events", &["timestamp", "metadata"], organization_id);
    query
        .and_where(col("timestamp").lt(until))
        .and_where(col("metadata").like("%\"_cost\"%"));
    by_customer(&mut query);
    let mut costs = Vec::new();
    for row in snapshot.rows::<CostRow>(&query).await? {
        let metadata: Value = serde_json::from_str(&row.metadata).unwrap_or(Value::Null);
        let cost = &metadata["_cost"];
        if let (Some(amount), Some("usd")) = (cost["amount"].as_f64(), cost["currency"].as_str()) {
            costs.push(Cost {
                timestamp: row.timestamp,
                amount,
            });
        }
    }

    laps.lap("costs");

    // Filters left some subscriptions out; their orders still need their start.
    if sales && (products.is_some() || customers.is_some()) {
        let mut query = select("subscriptions", &["id", "started_at"], organization_id);
        query.and_where(col("started_at").is_not_null());
        for row in snapshot.rows::<Started>(&query).await? {
            started.insert(row.id, row.started_at);
        }
    }

    let seats = load_seats(
        snapshot,
        organization_id,
        products.as_ref(),
        customers.as_deref(),
    )
    .await?;
    laps.lap("seats");
    Ok(Inputs {
        orders,
        lost_disputes,
        subscriptions,
        checkouts,
        events,
        costs,
        seats,
        started,
    })
}

type Sales = (
    Vec<Order>,
    Vec<LostDispute>,
    Vec<Subscription>,
    HashMap<Uuid, DateTime<Utc>>,
);

#[derive(FromQueryResult, Deserialize)]
struct OrderRow {
    id: Uuid,
    created_at: DateTime<Utc>,
    net_amount: i64,
    platform_fee_amount: i64,
    refunded_amount: i64,
    subscription_id: Option<Uuid>,
}

#[derive(FromQueryResult, Deserialize)]
struct DisputeRow {
    order_id: Uuid,
    closed_at: Option<DateTime<Utc>>,
    amount: i64,
}

/// Paid orders, lost disputes and started subscriptions (what rollups hold otherwise).
async fn load_sales(
    snapshot: &Snapshot,
    organization_id: Uuid,
    narrow: &impl Fn(&mut SelectStatement, &str, &str),
) -> Result<Sales, DbErr> {
    // Paid orders; what their succeeded refunds gave back is on the order itself.
    let mut query = select(
        "orders",
        &[
            "id",
            "created_at",
            "net_amount",
            "platform_fee_amount",
            "refunded_amount",
            "subscription_id",
        ],
        organization_id,
    );
    query.and_where(col("status").is_in(["paid", "partially_refunded", "refunded"]));
    narrow(&mut query, "product_id", "customer_id");
    let orders: Vec<Order> = snapshot
        .rows::<OrderRow>(&query)
        .await?
        .into_iter()
        .map(|row| Order {
            id: row.id,
            created_at: row.created_at,
            net: row.net_amount,
            fee: row.platform_fee_amount,
            refunded: row.refunded_amount,
            subscription_id: row.subscription_id,
        })
        .collect();
    let counted: HashSet<Uuid> = orders.iter().map(|o| o.id).collect();

    let mut query = select(
        "disputes",
        &["order_id", "closed_at", "amount"],
        organization_id,
    );
    query.and_where(col("status").eq("lost"));
    let mut lost_disputes = Vec::new();
    for row in snapshot.rows::<DisputeRow>(&query).await? {
        if let (true, Some(closed_at)) = (counted.contains(&row.order_id), row.closed_at) {
            lost_disputes.push(LostDispute {
                closed_at,
                amount: row.amount,
            });
        }
    }

    let mut query = select("subscriptions", &SUBSCRIPTION_COLUMNS, organization_id);
    query.and_where(col("started_at").is_not_null());
    narrow(&mut query, "product_id", "customer_id");
    let mut subscriptions = Vec::new();
    let mut started = HashMap::new();
    for row in snapshot.rows::<SubscriptionRow>(&query).await? {
        if let Some((id, fact)) = started_subscription(row) {
            started.insert(id, fact.started_at);
            subscriptions.push(fact.into());
        }
    }

    Ok((orders, lost_disputes, subscriptions, started))
}

/// The columns of a subscription row that `started_subscription` reads.
pub const SUBSCRIPTION_COLUMNS: [&str; 14] = [
    "id",
    "organization_id",
    "customer_id",
    "product_id",
    "created_at",
    "started_at",
    "ended_at",
    "ends_at",
    "canceled_at",
    "customer_cancellation_reason",
    "amount",
    "recurring_interval",
    "recurring_interval_count",
    "trial_end",
];

/// A subscription row, as `SUBSCRIPTION_COLUMNS`.
#[derive(FromQueryResult, Deserialize)]
pub struct SubscriptionRow {
    id: Uuid,
    organization_id: Uuid,
    customer_id: Uuid,
    product_id: Uuid,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    canceled_at: Option<DateTime<Utc>>,
    customer_cancellation_reason: Option<String>,
    amount: i64,
    recurring_interval: String,
    recurring_interval_count: i64,
    trial_end: Option<DateTime<Utc>>,
}

/// A subscription row as metrics count it; none before it starts. Both the rows path and
/// the rollups read subscriptions through it.
pub fn started_subscription(row: SubscriptionRow) -> Option<(Uuid, SubscriptionFact)> {
    let started_at = row.started_at?;
    let fact = SubscriptionFact {
        organization_id: row.organization_id,
        customer_id: row.customer_id,
        product_id: row.product_id,
        created_at: row.created_at,
        started_at,
        end_at: row.ended_at.or(row.ends_at),
        canceled_at: row.canceled_at,
        reason: row.customer_cancellation_reason,
        monthly: monthly(
            row.amount,
            &row.recurring_interval,
            row.recurring_interval_count,
        ),
        trial_end: row.trial_end,
    };
    Some((row.id, fact))
}

impl From<SubscriptionFact> for Subscription {
    fn from(fact: SubscriptionFact) -> Self {
        Subscription {
            created_at: fact.created_at,
            started_at: fact.started_at,
            end: fact.end_at,
            canceled_at: fact.canceled_at,
            cancellation_reason: fact.reason,
            monthly: fact.monthly,
            trial_end: fact.trial_end,
            customer_id: fact.customer_id,
        }
    }
}

#[derive(FromQueryResult, Deserialize)]
struct SeatRow {
    created_at: DateTime<Utc>,
    claimed_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    subscription_id: Option<Uuid>,
    order_id: Option<Uuid>,
}

#[derive(FromQueryResult, Deserialize)]
struct Payer {
    id: Uuid,
    customer_id: Uuid,
    product_id: Option<Uuid>,
}

/// Seats, each with the customer who pays for it and that purchase's product.
async fn load_seats(
    snapshot: &Snapshot,
    organization_id: Uuid,
    products: Option<&HashSet<Uuid>>,
    customers: Option<&[Uuid]>,
) -> Result<Vec<Seat>, DbErr> {
    let query = select(
        "customer_seats",
        &[
            "created_at",
            "claimed_at",
            "revoked_at",
            "subscription_id",
            "order_id",
        ],
        organization_id,
    );
    let seat_rows: Vec<SeatRow> = snapshot.rows(&query).await?;
    if seat_rows.is_empty() {
        return Ok(Vec::new());
    }
    // Who pays, and for which product: of every subscription and order with seats.
    let mut payer: HashMap<Uuid, (Uuid, Option<Uuid>)> = HashMap::new();
    for table in ["subscriptions", "orders"] {
        let mut query = select(table, &["id", "customer_id", "product_id"], organization_id);
        query.and_where(col("seats").is_not_null());
        for row in snapshot.rows::<Payer>(&query).await? {
            payer.insert(row.id, (row.customer_id, row.product_id));
        }
    }
    let mut seats = Vec::new();
    for row in seat_rows {
        let purchase = row.subscription_id.or(row.order_id);
        let Some(&(customer_id, product_id)) = purchase.and_then(|id| payer.get(&id)) else {
            continue;
        };
        let product_ok = products.is_none_or(|p| product_id.is_some_and(|id| p.contains(&id)));
        let customer_ok = customers.is_none_or(|c| c.contains(&customer_id));
        if product_ok && customer_ok {
            seats.push(Seat {
                created_at: row.created_at,
                claimed_at: row.claimed_at,
                revoked_at: row.revoked_at,
                customer_id,
            });
        }
    }
    Ok(seats)
}

#[cfg(test)]
mod tests {
    use super::monthly;

    #[test]
    fn amounts_per_month() {
        assert_eq!(monthly(10_000, "month", 1), 10_000);
        assert_eq!(monthly(100_000, "year", 1), 8_333);
        assert_eq!(monthly(1_000, "week", 2), 2_167); // 1000 × 52 / 24 = 2166.67
        assert_eq!(monthly(100, "day", 1), 3_042); // 100 × 365 / 12 = 3041.67
        assert_eq!(monthly(3, "month", 2), 2); // 1.5 rounds away from zero
    }
}
