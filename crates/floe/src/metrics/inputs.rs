//! The facts metrics are computed from, read from floe's own tables for one organization
//! and the request's filters: paid orders with what was refunded of them, lost disputes,
//! started subscriptions, checkouts, events (and their `_cost`), seats.
//!
//! Each fact is read as the few columns it needs, through SeaQuery, so one query serves
//! both databases.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, ExprTrait, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DbErr, QueryResult};
use serde_json::Value;
use uuid::Uuid;

use super::laps::Laps;
use super::params::Request;
use super::rollups::facts::SubscriptionFact;
use super::sql::{col, get, rows};
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

/// The filters that narrow by product: the products they leave, `None` for all.
async fn products_left(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    request: &Request,
) -> Result<Option<HashSet<Uuid>>, DbErr> {
    if request.product_ids.is_none() && request.billing_types.is_none() {
        return Ok(None);
    }
    let mut left = HashSet::new();
    for row in rows(
        db,
        &select("products", &["id", "recurring_interval"], organization_id),
    )
    .await?
    {
        let id: Uuid = get(&row, "id")?;
        let recurring = get::<Option<String>>(&row, "recurring_interval")?.is_some();
        let kind = if recurring {
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

pub async fn load(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    request: &Request,
    until: DateTime<Utc>,
    from: DateTime<Utc>,
    sales: bool,
    laps: &mut Laps,
) -> Result<Inputs, DbErr> {
    let products = products_left(db, organization_id, request).await?;
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
        load_sales(db, organization_id, &narrow).await?
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
            let mut ids = HashSet::new();
            for row in rows(db, &query).await? {
                ids.insert(get(&row, "checkout_id")?);
            }
            Some(ids)
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
    for row in rows(db, &query).await? {
        let id: Uuid = get(&row, "id")?;
        if with_product.as_ref().is_some_and(|ids| !ids.contains(&id)) {
            continue;
        }
        checkouts.push(Checkout {
            created_at: get(&row, "created_at")?,
            succeeded: get::<String>(&row, "status")? == "succeeded",
        });
    }

    laps.lap("checkouts");

    // Events: by customer, or by the external ID of one (product filters do not apply).
    let external_ids: Option<Vec<String>> = match &customers {
        None => None,
        Some(ids) => {
            let mut query = select("customers", &["external_id"], organization_id);
            query.and_where(col("id").is_in(ids.iter().copied()));
            let mut external = Vec::new();
            for row in rows(db, &query).await? {
                if let Some(id) = get::<Option<String>>(&row, "external_id")? {
                    external.push(id);
                }
            }
            Some(external)
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
    let mut events = Vec::new();
    for row in rows(db, &query).await? {
        events.push(Event {
            timestamp: get(&row, "timestamp")?,
            customer_id: get(&row, "customer_id")?,
            external_customer_id: get(&row, "external_customer_id")?,
        });
    }
    laps.lap("events");
    let mut query = select("events", &["timestamp", "metadata"], organization_id);
    query
        .and_where(col("timestamp").lt(until))
        .and_where(col("metadata").like("%\"_cost\"%"));
    by_customer(&mut query);
    let mut costs = Vec::new();
    for row in rows(db, &query).await? {
        let metadata: Value =
            serde_json::from_str(&get::<String>(&row, "metadata")?).unwrap_or(Value::Null);
        let cost = &metadata["_cost"];
        if let (Some(amount), Some("usd")) = (cost["amount"].as_f64(), cost["currency"].as_str()) {
            costs.push(Cost {
                timestamp: get(&row, "timestamp")?,
                amount,
            });
        }
    }

    laps.lap("costs");

    // Filters left some subscriptions out; their orders still need their start.
    if sales && (products.is_some() || customers.is_some()) {
        let mut query = select("subscriptions", &["id", "started_at"], organization_id);
        query.and_where(col("started_at").is_not_null());
        for row in rows(db, &query).await? {
            started.insert(get(&row, "id")?, get(&row, "started_at")?);
        }
    }

    let seats = load_seats(db, organization_id, products.as_ref(), customers.as_deref()).await?;
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

/// Paid orders, lost disputes and started subscriptions (what rollups hold otherwise).
async fn load_sales(
    db: &impl ConnectionTrait,
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
    let mut orders = Vec::new();
    for row in rows(db, &query).await? {
        let id: Uuid = get(&row, "id")?;
        orders.push(Order {
            id,
            created_at: get(&row, "created_at")?,
            net: get(&row, "net_amount")?,
            fee: get(&row, "platform_fee_amount")?,
            refunded: get(&row, "refunded_amount")?,
            subscription_id: get(&row, "subscription_id")?,
        });
    }
    let counted: HashSet<Uuid> = orders.iter().map(|o| o.id).collect();

    let mut query = select(
        "disputes",
        &["order_id", "closed_at", "amount"],
        organization_id,
    );
    query.and_where(col("status").eq("lost"));
    let mut lost_disputes = Vec::new();
    for row in rows(db, &query).await? {
        let (order_id, closed_at) = (
            get::<Uuid>(&row, "order_id")?,
            get::<Option<DateTime<Utc>>>(&row, "closed_at")?,
        );
        if let (true, Some(closed_at)) = (counted.contains(&order_id), closed_at) {
            lost_disputes.push(LostDispute {
                closed_at,
                amount: get(&row, "amount")?,
            });
        }
    }

    let mut query = select("subscriptions", &SUBSCRIPTION_COLUMNS, organization_id);
    query.and_where(col("started_at").is_not_null());
    narrow(&mut query, "product_id", "customer_id");
    let mut subscriptions = Vec::new();
    let mut started = HashMap::new();
    for row in rows(db, &query).await? {
        if let Some((id, fact)) = started_subscription(&row)? {
            started.insert(id, fact.started_at);
            subscriptions.push(fact.into());
        }
    }

    Ok((orders, lost_disputes, subscriptions, started))
}

/// The columns of a subscription row that `started_subscription` reads.
pub const SUBSCRIPTION_COLUMNS: [&str; 13] = [
    "id",
    "organization_id",
    "customer_id",
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

/// A subscription row as metrics count it (`SUBSCRIPTION_COLUMNS`); none before it starts.
/// Both the rows path and the rollups read subscriptions through it.
pub fn started_subscription(row: &QueryResult) -> Result<Option<(Uuid, SubscriptionFact)>, DbErr> {
    let Some(started_at) = get::<Option<DateTime<Utc>>>(row, "started_at")? else {
        return Ok(None);
    };
    let ended: Option<DateTime<Utc>> = get(row, "ended_at")?;
    let interval: String = get(row, "recurring_interval")?;
    let fact = SubscriptionFact {
        organization_id: get(row, "organization_id")?,
        customer_id: get(row, "customer_id")?,
        created_at: get(row, "created_at")?,
        started_at,
        end_at: ended.or(get(row, "ends_at")?),
        canceled_at: get(row, "canceled_at")?,
        reason: get(row, "customer_cancellation_reason")?,
        monthly: monthly(
            get(row, "amount")?,
            &interval,
            get(row, "recurring_interval_count")?,
        ),
        trial_end: get(row, "trial_end")?,
    };
    Ok(Some((get(row, "id")?, fact)))
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

/// Seats, each with the customer who pays for it and that purchase's product.
async fn load_seats(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    products: Option<&HashSet<Uuid>>,
    customers: Option<&[Uuid]>,
) -> Result<Vec<Seat>, DbErr> {
    let seat_rows = rows(
        db,
        &select(
            "customer_seats",
            &[
                "created_at",
                "claimed_at",
                "revoked_at",
                "subscription_id",
                "order_id",
            ],
            organization_id,
        ),
    )
    .await?;
    if seat_rows.is_empty() {
        return Ok(Vec::new());
    }
    // Who pays, and for which product: of every subscription and order with seats.
    let mut payer: HashMap<Uuid, (Uuid, Option<Uuid>)> = HashMap::new();
    for table in ["subscriptions", "orders"] {
        let mut query = select(table, &["id", "customer_id", "product_id"], organization_id);
        query.and_where(col("seats").is_not_null());
        for row in rows(db, &query).await? {
            payer.insert(
                get(&row, "id")?,
                (get(&row, "customer_id")?, get(&row, "product_id")?),
            );
        }
    }
    let mut seats = Vec::new();
    for row in seat_rows {
        let purchase: Option<Uuid> =
            get::<Option<Uuid>>(&row, "subscription_id")?
                .or(get::<Option<Uuid>>(&row, "order_id")?);
        let Some(&(customer_id, product_id)) = purchase.and_then(|id| payer.get(&id)) else {
            continue;
        };
        let product_ok = products.is_none_or(|p| product_id.is_some_and(|id| p.contains(&id)));
        let customer_ok = customers.is_none_or(|c| c.contains(&customer_id));
        if product_ok && customer_ok {
            seats.push(Seat {
                created_at: get(&row, "created_at")?,
                claimed_at: get(&row, "claimed_at")?,
                revoked_at: get(&row, "revoked_at")?,
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
