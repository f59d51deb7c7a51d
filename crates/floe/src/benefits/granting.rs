//! The grant worker: gives the buyer of a paid order every benefit of the order's product.
//!
//! An order is paid in the checkout's transaction with `grants_done_at` empty; after that
//! commit the worker is woken (`AppState::grants`), and it also looks on an interval, so an
//! order paid just before a crash, or by another process, is granted all the same. It
//! takes pending orders oldest first, in batches, and grants each benefit in a transaction
//! of its own: the grant row, what the benefit's type hands over (a license key, files, a
//! meter credit), and the `benefit_grant.created` and `customer.state_changed` events.
//! When every benefit is done, the order's `grants_done_at` is set.
//!
//! Exactly once, however many processes run and whenever one dies: each grant transaction
//! first locks the order's row (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so a second process
//! moves on instead of waiting; SQLite has one writer), and the unique index on the grant's
//! benefit, customer and scope (`order:<id>`) decides if two ever race. A grant that already
//! exists is skipped, so a retry picks up where a crash left off. A benefit that cannot be
//! granted records its error on the grant and the order goes on; a database error leaves
//! the order pending for the next pass.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::grant_entity;
use super::perform::{self, Outcome};
use super::purchase_entity::{order, product_benefit, subscription};
use super::schema::{Benefit, BenefitType};
use crate::app::AppState;
use crate::http::ApiResult;
use crate::webhooks::EventType;
use crate::webhooks::outbox::{self, Endpoints};

/// Orders read per query.
const BATCH: u64 = 50;
/// The longest wait between two passes: what a grant that failed on the database waits
/// before it is tried again, and how soon an order another process paid is seen.
const MAX_INTERVAL: Duration = Duration::from_secs(30);

pub fn spawn(
    app: AppState,
    interval: Duration,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval.min(MAX_INTERVAL));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let wake = app.grants.clone();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = ticker.tick() => {}
                _ = wake.notified() => {}
            }
            match run_once(&app).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "benefits granted"),
                Err(error) => tracing::warn!(%error, "benefit granting failed; will retry"),
            }
        }
    })
}

/// Grants what is pending; returns how many grants it made.
pub async fn run_once(app: &AppState) -> Result<usize, DbErr> {
    let mut granted = 0;
    let mut after: Option<(DateTime<Utc>, Uuid)> = None;
    loop {
        let batch = pending(&app.db, after, BATCH).await?;
        for row in &batch {
            match grant_source(app, &Source::Order(row.clone())).await {
                Ok(count) => granted += count,
                // This order waits for the next pass; the others go on.
                Err(error) => {
                    tracing::warn!(order_id = %row.id, %error, "granting an order's benefits failed; will retry");
                }
            }
        }
        match batch.last() {
            Some(last) if batch.len() as u64 == BATCH => after = Some((last.created_at, last.id)),
            _ => break,
        }
    }
    // Subscriptions made without an order (the API's free ones) are granted for themselves.
    loop {
        let batch = subscription::Entity::find()
            .filter(subscription::Column::GrantsDoneAt.is_null())
            .filter(subscription::Column::Status.is_in(["trialing", "active"]))
            .order_by_asc(subscription::Column::CreatedAt)
            .limit(BATCH)
            .all(&app.db)
            .await?;
        let full = batch.len() as u64 == BATCH;
        let mut progressed = false;
        for row in batch {
            let id = row.id;
            match grant_source(app, &Source::Subscription(row)).await {
                Ok(count) => {
                    granted += count;
                    progressed = true;
                }
                Err(error) => {
                    tracing::warn!(subscription_id = %id, %error, "granting a subscription's benefits failed; will retry");
                }
            }
        }
        if !full || !progressed {
            return Ok(granted);
        }
    }
}

/// What benefits are granted for: a paid order, or a subscription made without one.
enum Source {
    Order(order::Model),
    Subscription(subscription::Model),
}

impl Source {
    fn id(&self) -> Uuid {
        match self {
            Self::Order(row) => row.id,
            Self::Subscription(row) => row.id,
        }
    }

    fn organization_id(&self) -> Uuid {
        match self {
            Self::Order(row) => row.organization_id,
            Self::Subscription(row) => row.organization_id,
        }
    }

    fn customer_id(&self) -> Uuid {
        match self {
            Self::Order(row) => row.customer_id,
            Self::Subscription(row) => row.customer_id,
        }
    }

    fn product_id(&self) -> Option<Uuid> {
        match self {
            Self::Order(row) => row.product_id,
            Self::Subscription(row) => Some(row.product_id),
        }
    }

    /// Seats bought: the benefits go to whoever holds a seat (the buyer too, with one),
    /// not to the buyer for buying them, as at Polar.
    fn is_seats(&self) -> bool {
        match self {
            Self::Order(row) => row.seats.is_some(),
            Self::Subscription(row) => row.seats.is_some(),
        }
    }

    fn subscription_id(&self) -> Option<Uuid> {
        match self {
            Self::Order(row) => row.subscription_id,
            Self::Subscription(row) => Some(row.id),
        }
    }

    fn order_id(&self) -> Option<Uuid> {
        match self {
            Self::Order(row) => Some(row.id),
            Self::Subscription(_) => None,
        }
    }

    /// What a grant is for: a subscription's benefits are granted once for the
    /// subscription (its renewal orders grant nothing new), a one-time purchase's once for
    /// its order.
    fn scope_key(&self) -> String {
        match self.subscription_id() {
            Some(subscription_id) => format!("subscription:{subscription_id}"),
            None => format!("order:{}", self.id()),
        }
    }
}

/// Paid orders whose grants are not done, oldest first, after `after`.
async fn pending(
    db: &impl ConnectionTrait,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<order::Model>, DbErr> {
    let mut select = order::Entity::find()
        .filter(order::Column::GrantsDoneAt.is_null())
        .filter(order::Column::PaidAt.is_not_null());
    if let Some((created_at, id)) = after {
        select = select.filter(
            Condition::any()
                .add(order::Column::CreatedAt.gt(created_at))
                .add(
                    Condition::all()
                        .add(order::Column::CreatedAt.eq(created_at))
                        .add(order::Column::Id.gt(id)),
                ),
        );
    }
    select
        .order_by_asc(order::Column::CreatedAt)
        .order_by_asc(order::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The live benefits of a product, in the merchant's order.
async fn benefits_of(
    db: &impl ConnectionTrait,
    product_id: Option<Uuid>,
) -> Result<Vec<Benefit>, DbErr> {
    let Some(product_id) = product_id else {
        return Ok(Vec::new());
    };
    let links = product_benefit::Entity::find()
        .filter(product_benefit::Column::ProductId.eq(product_id))
        .order_by_asc(product_benefit::Column::Position)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = links.iter().map(|l| l.benefit_id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = super::entity::Entity::find()
        .filter(super::entity::Column::Id.is_in(ids.iter().copied()))
        .filter(super::entity::Column::DeletedAt.is_null())
        .all(db)
        .await?;
    Ok(ids
        .iter()
        .filter_map(|id| rows.iter().find(|r| r.id == *id))
        .filter_map(Benefit::from_row)
        .collect())
}

/// What became of one benefit of an order.
enum Step {
    Granted,
    /// Granted (or failed for good) before: a retry or another process got there first.
    Existing,
    /// Another process holds the order, or finished it: leave it to that one.
    Elsewhere,
}

/// Grants every benefit of the source's product, then marks it done; returns how many
/// grants it made.
async fn grant_source(app: &AppState, source: &Source) -> ApiResult<usize> {
    let mut granted = 0;
    let product_id = source.product_id().filter(|_| !source.is_seats());
    for benefit in benefits_of(&app.db, product_id).await? {
        match grant_one(app, source, &benefit).await? {
            Step::Granted => granted += 1,
            Step::Existing => {}
            Step::Elsewhere => return Ok(granted),
        }
    }
    let now = app.clock.now();
    match source {
        Source::Order(row) => {
            order::Entity::update_many()
                .col_expr(order::Column::GrantsDoneAt, Expr::value(now))
                .filter(order::Column::Id.eq(row.id))
                .filter(order::Column::GrantsDoneAt.is_null())
                .exec(&app.db)
                .await?;
        }
        Source::Subscription(row) => {
            subscription::Entity::update_many()
                .col_expr(subscription::Column::GrantsDoneAt, Expr::value(now))
                .filter(subscription::Column::Id.eq(row.id))
                .filter(subscription::Column::GrantsDoneAt.is_null())
                .exec(&app.db)
                .await?;
        }
    }
    Ok(granted)
}

/// The source's row, locked for this transaction, while its grants are not done.
async fn lock_pending(txn: &DatabaseTransaction, source: &Source) -> Result<bool, DbErr> {
    let postgres = txn.get_database_backend() == DbBackend::Postgres;
    match source {
        Source::Order(row) => {
            let mut select =
                order::Entity::find_by_id(row.id).filter(order::Column::GrantsDoneAt.is_null());
            if postgres {
                select = select.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
            }
            Ok(select.one(txn).await?.is_some())
        }
        Source::Subscription(row) => {
            let mut select = subscription::Entity::find_by_id(row.id)
                .filter(subscription::Column::GrantsDoneAt.is_null());
            if postgres {
                select = select.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
            }
            Ok(select.one(txn).await?.is_some())
        }
    }
}
async fn grant_one(app: &AppState, source: &Source, benefit: &Benefit) -> ApiResult<Step> {
    // Every way out ends the transaction itself: a dropped one is rolled back only when its
    // connection goes back to the pool, and until then it would keep the order locked
    // against this worker's next transaction (which would then skip the order).
    let txn = crate::db::begin_write(&app.db).await?;
    if !lock_pending(&txn, source).await? {
        txn.rollback().await?;
        return Ok(Step::Elsewhere);
    }
    let target = Target {
        organization_id: source.organization_id(),
        customer_id: source.customer_id(),
        scope: source.scope_key(),
        subscription_id: source.subscription_id(),
        order_id: source.order_id(),
    };
    // The organization's time: a credit granted on a test clock falls in its period.
    let now = crate::subscriptions::test_clock::now_for(&txn, &app.clock, source.organization_id())
        .await?;
    match insert_grant(app, &txn, &target, benefit, now).await? {
        Some(queued) => {
            app.nudge.commit(txn, queued).await?;
            Ok(Step::Granted)
        }
        None => {
            // The index decided: someone else's grant stands, and what this one performed
            // (a key, a credit) goes with the rollback.
            txn.rollback().await?;
            Ok(Step::Existing)
        }
    }
}

/// Who a grant is for and why.
pub struct Target {
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    /// Unique with the benefit and the customer: `order:…`, `subscription:…`, `seat:…`.
    pub scope: String,
    pub subscription_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
}

/// Grants `benefit` to `target` in `txn` and queues `benefit_grant.created`; `None` when a
/// grant for the same benefit, customer and scope exists (the caller rolls back what this
/// one performed).
pub async fn insert_grant(
    app: &AppState,
    txn: &DatabaseTransaction,
    target: &Target,
    benefit: &Benefit,
    now: DateTime<Utc>,
) -> ApiResult<Option<usize>> {
    let existing = grant_entity::Entity::find()
        .filter(grant_entity::Column::BenefitId.eq(benefit.id))
        .filter(grant_entity::Column::CustomerId.eq(target.customer_id))
        .filter(grant_entity::Column::ScopeKey.eq(target.scope.as_str()))
        .one(txn)
        .await?;
    if existing.is_some() {
        return Ok(None);
    }
    let outcome = perform::grant(txn, benefit, target.customer_id, now).await?;
    let (granted_at, properties, error) = match &outcome {
        Outcome::Granted(properties) => (Some(now), properties.clone(), None),
        Outcome::Failed { message, kind } => (
            None,
            serde_json::Map::new(),
            Some(json!({"message": message, "type": kind, "timestamp": now}).to_string()),
        ),
    };
    let id = Uuid::new_v4();
    let grant = grant_entity::ActiveModel {
        id: Set(id),
        created_at: Set(now),
        modified_at: Set(None),
        organization_id: Set(target.organization_id),
        benefit_id: Set(benefit.id),
        customer_id: Set(target.customer_id),
        member_id: Set(None),
        subscription_id: Set(target.subscription_id),
        order_id: Set(target.order_id),
        scope_key: Set(target.scope.clone()),
        granted_at: Set(granted_at),
        revoked_at: Set(None),
        properties: Set(Value::Object(properties).to_string()),
        error: Set(error),
    };
    let inserted = grant_entity::Entity::insert(grant)
        .on_conflict_do_nothing_on([
            grant_entity::Column::BenefitId,
            grant_entity::Column::CustomerId,
            grant_entity::Column::ScopeKey,
        ])
        .exec_without_returning(txn)
        .await?;
    if !matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        return Ok(None);
    }
    let credit = match (benefit.kind, &outcome) {
        (BenefitType::MeterCredit, Outcome::Granted(properties)) => Some(properties),
        _ => None,
    };
    let queued = emit(
        app,
        txn,
        GrantEvent {
            kind: EventType::BenefitGrantCreated,
            organization_id: target.organization_id,
            customer_id: target.customer_id,
            grant_id: id,
            credit,
        },
        now,
    )
    .await?;
    Ok(Some(queued))
}

/// Grants every benefit of `product_id` to `target` in `txn` (a claimed seat); returns the
/// deliveries queued. Each benefit once: a grant that exists stays as it is.
pub async fn grant_all_in(
    app: &AppState,
    txn: &DatabaseTransaction,
    target: &Target,
    product_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let mut queued = 0;
    for benefit in benefits_of(txn, Some(product_id)).await? {
        queued += insert_grant(app, txn, target, &benefit, now)
            .await?
            .unwrap_or(0);
    }
    Ok(queued)
}

/// A change of a grant to tell the organization's endpoints about.
pub(super) struct GrantEvent<'a> {
    /// `benefit_grant.created`, `.updated` or `.revoked`.
    pub kind: EventType,
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    pub grant_id: Uuid,
    /// What a meter credit just granted recorded (see [`add_credit`]).
    pub credit: Option<&'a serde_json::Map<String, Value>>,
}

/// Queues the grant's event and the customer's `customer.state_changed`.
pub(super) async fn emit(
    app: &AppState,
    txn: &DatabaseTransaction,
    event: GrantEvent<'_>,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let endpoints = Endpoints::of(txn, event.organization_id).await?;
    let stored = grant_entity::Entity::find_by_id(event.grant_id)
        .one(txn)
        .await?
        .into_iter()
        .collect();
    let Some(grant) = super::grants::present(txn.into(), event.organization_id, stored)
        .await?
        .pop()
    else {
        return Ok(0);
    };
    let mut queued = outbox::emit_to(
        txn,
        &endpoints,
        event.organization_id,
        event.kind,
        &grant,
        now,
    )
    .await?;
    // The state reads the customer's usage: build it only when an endpoint gets it.
    if endpoints.subscribe_to(EventType::CustomerStateChanged) {
        let mut state =
            crate::customers::service::state(app, txn.into(), grant.customer.clone()).await?;
        if let Some(properties) = event.credit {
            add_credit(&mut state, event.customer_id, properties, now);
        }
        queued += outbox::emit_to(
            txn,
            &endpoints,
            event.organization_id,
            EventType::CustomerStateChanged,
            &state,
            now,
        )
        .await?;
    }
    Ok(queued)
}

/// The customer's meters are read beside the grant's transaction, which does not see the
/// credit it just recorded: add it, so the state sent is the state after the grant.
fn add_credit(
    state: &mut crate::customers::schema::CustomerState,
    customer_id: Uuid,
    properties: &serde_json::Map<String, Value>,
    now: DateTime<Utc>,
) {
    let meter_id = properties
        .get("last_credited_meter_id")
        .and_then(Value::as_str)
        .and_then(|id| Uuid::try_parse(id).ok());
    let units = properties
        .get("last_credited_units")
        .and_then(Value::as_i64);
    let (Some(meter_id), Some(units)) = (meter_id, units) else {
        return;
    };
    match state
        .active_meters
        .iter_mut()
        .find(|m| m.meter_id == meter_id)
    {
        Some(meter) => {
            meter.credited_units = meter.credited_units.saturating_add(units);
            meter.balance += units as f64;
            meter.modified_at = Some(now);
        }
        None => state
            .active_meters
            .push(crate::customer_meters::CustomerStateMeter {
                id: crate::customer_meters::state_id(customer_id, meter_id),
                created_at: now,
                modified_at: None,
                meter_id,
                consumed_units: 0.0,
                credited_units: units,
                balance: units as f64,
            }),
    }
}
