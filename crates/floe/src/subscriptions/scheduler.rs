//! The renewal worker: finds what is due (subscriptions whose `next_action_at` passed on
//! their organization's clock, subscription orders whose charge or retry is due) and hands
//! each to `renewal`, under a lease, so that each is done once however many floe
//! processes share the database. A process that dies holding a lease holds it only until
//! the lease expires; the next pass takes it over and replays from what was committed.
//!
//! The test clock's advance is the same work, run by whoever asks, moment by moment: each
//! step moves the organization's clock to the next moment something is due and runs the
//! passes until nothing is, so a year of renewals is done in order, each as it would have
//! been.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::entity::{Column, Entity};
use super::renewal::{self, Handled};
use super::routes::Advanced;
use crate::app::AppState;
use crate::http::{ApiError, ApiResult, Loc};
use crate::orders::{OrderColumn, OrderRow};

/// How long a claim lasts: longer than any one renewal takes.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// Subscriptions (and orders) taken per query.
const BATCH: u64 = 100;
/// The longest wait between two passes.
const MAX_INTERVAL: Duration = Duration::from_secs(5);

pub fn spawn(
    app: AppState,
    interval: Duration,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval.min(MAX_INTERVAL));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = ticker.tick() => {}
            }
            match run_until_quiet(&app, None).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "subscriptions renewed"),
                Err(error) => tracing::warn!(%error, "renewing subscriptions failed; will retry"),
            }
        }
    })
}

/// The organizations whose time is their own, and their time now; `None` stands for every
/// other organization (real time).
async fn clocks(
    app: &AppState,
    only: Option<Uuid>,
) -> Result<Vec<(Option<Uuid>, DateTime<Utc>)>, DbErr> {
    let real = app.clock.now();
    let offsets = super::test_clock::all(&app.db).await?;
    let mut clocks: Vec<(Option<Uuid>, DateTime<Utc>)> = match only {
        Some(organization_id) => {
            let offset = offsets
                .iter()
                .find(|(id, _)| *id == organization_id)
                .map_or(0, |(_, offset)| *offset);
            vec![(
                Some(organization_id),
                real + chrono::Duration::microseconds(offset),
            )]
        }
        None => offsets
            .iter()
            .map(|(id, offset)| (Some(*id), real + chrono::Duration::microseconds(*offset)))
            .collect(),
    };
    if only.is_none() {
        clocks.push((None, real));
    }
    Ok(clocks)
}

/// One organization (or every organization on real time, excluding those with a clock).
fn scope(organization: Option<Uuid>, with_clocks: &[Uuid], column: impl ColumnTrait) -> Condition {
    match organization {
        Some(id) => Condition::all().add(column.eq(id)),
        None => Condition::all().add(column.is_not_in(with_clocks.iter().copied())),
    }
}

/// Subscriptions handled at once by one process on PostgreSQL.
const PARALLEL_RENEWALS: usize = 4;

/// Runs passes until one finds nothing due; returns how many renewals were made.
pub async fn run_until_quiet(app: &AppState, only: Option<Uuid>) -> ApiResult<usize> {
    let mut renewed = 0;
    loop {
        let (done, count) = run_once(app, only).await?;
        renewed += count;
        if done == 0 {
            return Ok(renewed);
        }
    }
}

/// One pass; returns how many items it handled and how many were renewals.
async fn run_once(app: &AppState, only: Option<Uuid>) -> ApiResult<(usize, usize)> {
    let clocks = clocks(app, only).await?;
    let with_clocks: Vec<Uuid> = clocks.iter().filter_map(|(id, _)| *id).collect();
    let real = app.clock.now();
    let mut handled = 0;
    let mut renewed = 0;
    for (organization, now) in &clocks {
        let due: Vec<Uuid> = Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(scope(*organization, &with_clocks, Column::OrganizationId))
            .filter(Column::NextActionAt.lte(*now))
            .filter(
                Condition::any()
                    .add(Column::ClaimedUntil.is_null())
                    .add(Column::ClaimedUntil.lt(real)),
            )
            .order_by_asc(Column::NextActionAt)
            .limit(BATCH)
            .into_tuple()
            .all(&app.db)
            .await?;
        // Each subscription under its own lease and in its own transactions, so several
        // can be handled at once where the database writes concurrently (PostgreSQL); a
        // SQLite database has one writer, and takes them one by one.
        let parallel = match app.db.get_database_backend() {
            sea_orm::DbBackend::Postgres => PARALLEL_RENEWALS,
            _ => 1,
        };
        let outcomes: Vec<Result<Option<Handled>, DbErr>> = futures_util::stream::iter(due)
            .map(|id| async move {
                let Some(lease) = claim(&app.db, id, real).await? else {
                    return Ok(None);
                };
                match renewal::handle(app, id, lease).await {
                    Ok(handled) => Ok(Some(handled)),
                    Err(error) => {
                        tracing::warn!(subscription_id = %id, %error, "a renewal failed; will retry");
                        Ok(Some(Handled::Idle))
                    }
                }
            })
            .buffer_unordered(parallel)
            .collect()
            .await;
        for outcome in outcomes {
            match outcome? {
                Some(Handled::Renewed(_)) => {
                    handled += 1;
                    renewed += 1;
                }
                Some(_) => handled += 1,
                None => {}
            }
        }
        for id in orders_due(&app.db, *organization, &with_clocks, *now).await? {
            match renewal::collect(app, id).await {
                Ok(_) => handled += 1,
                Err(error) => {
                    tracing::warn!(order_id = %id, %error, "collecting a renewal failed; will retry");
                }
            }
        }
    }
    Ok((handled, renewed))
}

/// Subscription orders whose charge (or retry) is due.
async fn orders_due(
    db: &impl ConnectionTrait,
    organization: Option<Uuid>,
    with_clocks: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, DbErr> {
    let rows: Vec<OrderRow> = crate::orders::find()
        .filter(scope(
            organization,
            with_clocks,
            OrderColumn::OrganizationId,
        ))
        .filter(OrderColumn::Status.eq("pending"))
        .filter(OrderColumn::SubscriptionId.is_not_null())
        .filter(OrderColumn::NextPaymentAttemptAt.lte(now))
        .order_by_asc(OrderColumn::NextPaymentAttemptAt)
        .limit(BATCH)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}

/// Takes subscription `id` for this process until the lease ends; `None` when another
/// process holds it.
async fn claim(
    db: &impl ConnectionTrait,
    id: Uuid,
    real: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let lease = real + LEASE;
    let result = Entity::update_many()
        .col_expr(Column::ClaimedUntil, Expr::value(lease))
        .filter(Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(Column::ClaimedUntil.is_null())
                .add(Column::ClaimedUntil.lt(real)),
        )
        .exec(db)
        .await?;
    Ok((result.rows_affected == 1).then_some(lease))
}

/// The earliest moment something is due for `organization_id`, if any.
async fn next_due(app: &AppState, organization_id: Uuid) -> Result<Option<DateTime<Utc>>, DbErr> {
    let subscription: Option<Option<DateTime<Utc>>> = Entity::find()
        .select_only()
        .column(Column::NextActionAt)
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::NextActionAt.is_not_null())
        .order_by_asc(Column::NextActionAt)
        .limit(1)
        .into_tuple()
        .one(&app.db)
        .await?;
    let order = crate::orders::find()
        .filter(OrderColumn::OrganizationId.eq(organization_id))
        .filter(OrderColumn::Status.eq("pending"))
        .filter(OrderColumn::SubscriptionId.is_not_null())
        .filter(OrderColumn::NextPaymentAttemptAt.is_not_null())
        .order_by_asc(OrderColumn::NextPaymentAttemptAt)
        .one(&app.db)
        .await?
        .and_then(|row| row.next_payment_attempt_at);
    Ok([subscription.flatten(), order].into_iter().flatten().min())
}

/// Moves a test-mode organization's clock to `to`, stopping at each moment something is
/// due on the way and doing it.
pub async fn advance(
    app: &AppState,
    organization_id: Uuid,
    to: DateTime<Utc>,
) -> ApiResult<Advanced> {
    if !crate::payments::accounts::is_test_mode(&app.db, &app.secret, organization_id).await? {
        return Err(super::routes::not_test_mode());
    }
    let current = super::test_clock::now_for(&app.db, &app.clock, organization_id).await?;
    if to < current {
        return Err(ApiError::validation(
            Loc::body().key("to"),
            "value_error",
            format!(
                "The organization's time is already {current}; a test clock only moves forward."
            ),
            serde_json::json!(to),
        ));
    }
    let mut renewals = 0;
    let mut waited = 0;
    loop {
        let now = super::test_clock::now_for(&app.db, &app.clock, organization_id).await?;
        let step = match next_due(app, organization_id).await? {
            Some(due) if due <= to => due.max(now),
            _ => to,
        };
        super::test_clock::set(&app.db, &app.clock, organization_id, step).await?;
        let (handled, renewed) = run_once(app, Some(organization_id)).await?;
        renewals += renewed;
        if step >= to && handled == 0 {
            // Nothing more is due by `to` (unless another process holds a lease on it).
            match next_due(app, organization_id).await? {
                Some(due) if due <= to && waited < 120 => {
                    waited += 1;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                _ => break,
            }
        } else if handled == 0 && step < to {
            // Due but held elsewhere: wait for that process, or its lease to run out.
            waited += 1;
            if waited > 120 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    let now = super::test_clock::now_for(&app.db, &app.clock, organization_id).await?;
    Ok(Advanced { now, renewals })
}
