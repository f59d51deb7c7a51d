//! The delivery worker: sends queued events to their endpoints, at least once, in order.
//!
//! - Work is found per endpoint: an endpoint whose `next_attempt_at` has passed has a due
//!   queue. A worker claims it with a lease (a conditional update that only one process
//!   can win, so several floe processes on one database never send an event twice at
//!   once), then sends the endpoint's events strictly in queue order, one at a time.
//! - Success is a 2xx within the timeout; redirects are not followed. A failure is retried
//!   with exponential backoff (doubling from the base, capped, with jitter); after
//!   [`MAX_ATTEMPTS`] the event has failed for good and the next one goes. The schedule is
//!   in the database, so it survives restarts.
//! - After [`DISABLE_AFTER`] events in a row fail for good, the endpoint is disabled and
//!   its pending events are marked skipped.
//! - A process killed mid-send leaves its lease to expire; another process (or itself,
//!   restarted) then sends the same event again with the same `webhook-id`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use futures_util::StreamExt;
use rand::Rng;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::entity::{delivery, endpoint, event};
use super::{secret_box, signature, store, url_guard};
use crate::app::AppState;

/// Attempts per event before it has failed for good.
pub const MAX_ATTEMPTS: i32 = 10;
/// Events in a row that fail for good before the endpoint is disabled.
pub const DISABLE_AFTER: i32 = 10;
/// Longest response body kept per attempt.
const MAX_RESPONSE_BYTES: usize = 2048;
/// Endpoints sent to at once by one process.
const CONCURRENT_ENDPOINTS: usize = 32;
/// Events of one endpoint read at once.
const BATCH: u64 = 100;
/// Longest time sends go unrecorded: bounds what a crash makes floe send twice, and how
/// late the deliveries list shows an attempt.
const RECORD_EVERY: Duration = Duration::from_millis(250);
/// How long the worker waits after a nudge before it looks for work, so that the events
/// committed meanwhile go out in one run. Each run costs the same handful of statements
/// (find, claim, read, record, release) however many events it carries; without the wait a
/// steady stream of changes made every event a run of its own. It adds at most this much
/// to the commit-to-delivery latency.
const GATHER: Duration = Duration::from_millis(10);

/// How deliveries behave; the defaults are the production values, tests shorten them.
#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    /// Allow `http` and private addresses (development and tests only).
    pub allow_private: bool,
    /// First retry delay; each further one doubles.
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_cap: Duration,
    /// How long a claim on an endpoint lasts without renewal; longer than one send.
    pub lease: Duration,
    /// How long a receiver has to answer.
    pub timeout: Duration,
    /// How often the queue is polled when nothing nudges the worker.
    pub poll_interval: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            retry_base: Duration::from_secs(2),
            retry_cap: Duration::from_secs(20 * 60),
            lease: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// Wakes the worker of this process when a transaction queued events.
#[derive(Clone, Default)]
pub struct Nudge(Arc<Notify>);

impl Nudge {
    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// Commits a change that queued `queued` deliveries (`outbox::emit`'s count), then
    /// wakes the worker if there are any: after the commit, or it would find nothing.
    pub async fn commit(
        &self,
        txn: sea_orm::DatabaseTransaction,
        queued: usize,
    ) -> Result<(), sea_orm::DbErr> {
        txn.commit().await?;
        if queued > 0 {
            self.wake();
        }
        Ok(())
    }
}

/// The delay before attempt `attempt + 1`, after `attempt` attempts failed.
pub fn backoff(config: &DeliveryConfig, attempt: i32) -> Duration {
    let exponent = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(30);
    let plain = config
        .retry_base
        .saturating_mul(1u32 << exponent)
        .min(config.retry_cap);
    // ±10% so that endpoints that failed together do not retry together.
    let factor = rand::rng().random_range(0.9..1.1);
    plain.mul_f64(factor).min(config.retry_cap)
}

/// Timestamps used as lease tokens are compared for equality, so they must survive the
/// database's precision (PostgreSQL keeps microseconds).
fn now_micros(app: &AppState) -> DateTime<Utc> {
    let now = app.clock.now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}

fn after(at: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    at + TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX)
}

pub fn client(config: &DeliveryConfig) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .user_agent("floe webhooks")
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(config.timeout)
        .timeout(config.timeout)
        .dns_resolver(Arc::new(url_guard::GuardedResolver {
            allow_private: config.allow_private,
        }))
        .build()?)
}

/// Runs the worker until `shutdown`; sends in flight are finished first.
pub fn spawn(app: AppState, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = match client(&app.config.webhooks) {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(error = %error, "webhook delivery cannot start");
                return;
            }
        };
        let slots = Arc::new(Semaphore::new(CONCURRENT_ENDPOINTS));
        let mut running = JoinSet::new();
        loop {
            while running.try_join_next().is_some() {}
            let now = now_micros(&app);
            match store::due_endpoints(&app.db, now, CONCURRENT_ENDPOINTS as u64).await {
                Ok(due) => {
                    for endpoint_id in due {
                        let Ok(permit) = slots.clone().try_acquire_owned() else {
                            break;
                        };
                        match claim(&app.db, endpoint_id, &app).await {
                            Ok(Some(lease)) => {
                                let app = app.clone();
                                let client = client.clone();
                                running.spawn(async move {
                                    let _permit = permit;
                                    if let Err(error) =
                                        work_endpoint(&app, &client, endpoint_id, lease).await
                                    {
                                        tracing::warn!(endpoint_id = %endpoint_id, error = %error, "webhook delivery interrupted");
                                    }
                                });
                            }
                            Ok(None) => {}
                            Err(error) => {
                                tracing::warn!(error = %error, "claiming a webhook endpoint failed")
                            }
                        }
                    }
                }
                Err(error) => tracing::warn!(error = %error, "polling the webhook queue failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = app.nudge.0.notified() => tokio::time::sleep(GATHER).await,
                _ = tokio::time::sleep(app.config.webhooks.poll_interval) => {}
            }
        }
        while running.join_next().await.is_some() {}
    })
}

/// Claims an endpoint's queue; returns the lease, the token later updates must present.
async fn claim(
    db: &DatabaseConnection,
    endpoint_id: Uuid,
    app: &AppState,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let now = now_micros(app);
    let lease = after(now, app.config.webhooks.lease);
    let result = endpoint::Entity::update_many()
        .col_expr(endpoint::Column::LeaseUntil, Expr::value(lease))
        .filter(endpoint::Column::Id.eq(endpoint_id))
        .filter(
            Condition::any()
                .add(endpoint::Column::LeaseUntil.is_null())
                .add(endpoint::Column::LeaseUntil.lt(now)),
        )
        .exec(db)
        .await?;
    Ok((result.rows_affected == 1).then_some(lease))
}

/// Extends a lease this worker holds; `None` when it was lost (expired and taken).
async fn renew(
    db: &DatabaseConnection,
    endpoint_id: Uuid,
    lease: DateTime<Utc>,
    app: &AppState,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let renewed = after(now_micros(app), app.config.webhooks.lease);
    let result = endpoint::Entity::update_many()
        .col_expr(endpoint::Column::LeaseUntil, Expr::value(renewed))
        .filter(endpoint::Column::Id.eq(endpoint_id))
        .filter(endpoint::Column::LeaseUntil.eq(lease))
        .exec(db)
        .await?;
    Ok((result.rows_affected == 1).then_some(renewed))
}

/// Gives the queue back, recording when it is next due, unless an event was queued since
/// `version` was read (then the caller looks again).
async fn release(
    db: &DatabaseConnection,
    endpoint_id: Uuid,
    lease: DateTime<Utc>,
    version: i64,
    next_attempt_at: Option<DateTime<Utc>>,
) -> Result<bool, DbErr> {
    let result = endpoint::Entity::update_many()
        .col_expr(
            endpoint::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            endpoint::Column::NextAttemptAt,
            Expr::value(next_attempt_at),
        )
        .filter(endpoint::Column::Id.eq(endpoint_id))
        .filter(endpoint::Column::LeaseUntil.eq(lease))
        .filter(endpoint::Column::QueueVersion.eq(version))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Sends an endpoint's due events in order while this worker holds its lease.
///
/// Events are read a batch at a time and sent one after another; the outcomes of a run of
/// successes are recorded together, in one transaction, when the batch ends or after
/// [`RECORD_EVERY`]. A failure ends the run (the events behind it wait for its retry) and
/// is recorded at once. Sends that a crash leaves unrecorded are sent again (with the same
/// `webhook-id`) once the lease expires: delivery is at least once, never at most once.
async fn work_endpoint(
    app: &AppState,
    client: &reqwest::Client,
    endpoint_id: Uuid,
    mut lease: DateTime<Utc>,
) -> anyhow::Result<()> {
    let db = &app.db;
    loop {
        let Some(endpoint) = endpoint::Entity::find_by_id(endpoint_id).one(db).await? else {
            return Ok(());
        };
        let version = endpoint.queue_version;
        if !endpoint.enabled || endpoint.deleted_at.is_some() {
            let txn = db.begin().await?;
            store::skip_pending(&txn, endpoint_id, now_micros(app)).await?;
            txn.commit().await?;
            if release(db, endpoint_id, lease, version, None).await? {
                return Ok(());
            }
            continue;
        }
        let batch = event::Entity::find()
            .filter(event::Column::EndpointId.eq(endpoint_id))
            .filter(event::Column::NextAttemptAt.is_not_null())
            .order_by_asc(event::Column::Seq)
            .limit(BATCH)
            .all(db)
            .await?;
        let now = now_micros(app);
        match batch.first() {
            None => {
                if release(db, endpoint_id, lease, version, None).await? {
                    return Ok(());
                }
                continue;
            }
            Some(head) if head.next_attempt_at.is_some_and(|at| at > now) => {
                let wait = head
                    .next_attempt_at
                    .and_then(|at| (at - now).to_std().ok())
                    .unwrap_or_default();
                // A retry due before the next poll is waited for here, holding the lease,
                // so short backoffs are kept to rather than rounded up to the poll.
                if wait <= app.config.webhooks.poll_interval {
                    tokio::time::sleep(wait).await;
                    continue;
                }
                if release(db, endpoint_id, lease, version, head.next_attempt_at).await? {
                    return Ok(());
                }
                continue;
            }
            Some(_) => {}
        }
        let secret = secret_box::open(&app.secret, endpoint.id, &endpoint.secret_sealed)
            .map_err(|error| format!("floe could not open the signing secret: {error}"));
        let started = Instant::now();
        // Whether this batch is the whole queue as of `version`.
        let whole_queue = batch.len() < BATCH as usize;
        let read = batch.len();
        let mut sent = Vec::new();
        for event in batch {
            // Behind the head, only a redelivered or retried event can be due later; the
            // queue stops there, as it does at the head.
            if event.next_attempt_at.is_some_and(|at| at > now_micros(app)) {
                break;
            }
            // Renewed only when what is left might not outlast one more send (its timeout
            // plus a second's margin): most sends then skip this write, and none can
            // outlive the lease.
            let needed = TimeDelta::from_std(app.config.webhooks.timeout + Duration::from_secs(1))
                .unwrap_or(TimeDelta::MAX);
            if lease - now_micros(app) < needed {
                match renew(db, endpoint_id, lease, app).await? {
                    Some(renewed) => lease = renewed,
                    None => {
                        // Another worker owns the queue now; what was sent is still recorded.
                        record(app, &endpoint, sent).await?;
                        return Ok(());
                    }
                }
            }
            let outcome = send(
                app,
                client,
                &endpoint,
                secret.as_deref().map_err(String::as_str),
                &event,
            )
            .await;
            let failed = !outcome.succeeded;
            sent.push((event, outcome));
            if failed || started.elapsed() >= RECORD_EVERY {
                break;
            }
        }
        let emptied = whole_queue && sent.len() == read && sent.iter().all(|(_, o)| o.succeeded);
        record(app, &endpoint, sent).await?;
        // Every event of the queue went out: unless one was queued since `version` (then
        // the release fails and the loop reads again), the queue is empty, and giving it
        // back now saves reading it once more to find that out.
        if emptied && release(db, endpoint_id, lease, version, None).await? {
            return Ok(());
        }
    }
}

/// What one attempt gave.
struct Outcome {
    /// When the attempt started (its time in the deliveries list).
    at: DateTime<Utc>,
    http_code: Option<i32>,
    response: Option<String>,
    succeeded: bool,
    duration: Duration,
}

async fn send(
    app: &AppState,
    client: &reqwest::Client,
    endpoint: &endpoint::Model,
    secret: Result<&str, &str>,
    event: &event::Model,
) -> Outcome {
    let started = Instant::now();
    let at = now_micros(app);
    let failed = |message: String| Outcome {
        at,
        http_code: None,
        response: Some(truncate(message)),
        succeeded: false,
        duration: started.elapsed(),
    };
    let Some(body) = event.payload.clone() else {
        return failed("The event was archived; its payload is gone.".to_owned());
    };
    // Literal IP addresses never reach the resolver, so the URL is checked again here.
    let url = match url_guard::check(&endpoint.url, app.config.webhooks.allow_private) {
        Ok(url) => url,
        Err(refused) => return failed(refused.to_string()),
    };
    let secret = match secret {
        Ok(secret) => secret,
        Err(error) => return failed(error.to_owned()),
    };
    let id = event.id.to_string();
    let timestamp = app.clock.now().timestamp();
    let request = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signature::sign(secret, &id, timestamp, &body),
        )
        .body(body);
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            let text = read_prefix(response).await;
            Outcome {
                at,
                http_code: Some(i32::from(status.as_u16())),
                response: text,
                succeeded: status.is_success(),
                duration: started.elapsed(),
            }
        }
        Err(error) => {
            let message = if error.is_timeout() {
                "The endpoint did not answer in time.".to_owned()
            } else {
                // The chain says why (refused address, connection refused, TLS...).
                let mut message = error.to_string();
                let mut source = std::error::Error::source(&error);
                while let Some(cause) = source {
                    message.push_str(": ");
                    message.push_str(&cause.to_string());
                    source = cause.source();
                }
                message
            };
            failed(message)
        }
    }
}

/// The first 2 KiB of a response body, without reading the rest.
async fn read_prefix(response: reqwest::Response) -> Option<String> {
    let mut kept = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        let room = MAX_RESPONSE_BYTES - kept.len();
        kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if kept.len() >= MAX_RESPONSE_BYTES {
            break;
        }
    }
    if kept.is_empty() {
        return None;
    }
    Some(truncate(String::from_utf8_lossy(&kept).into_owned()))
}

/// At most 2 KiB, cut on a character boundary, without NULs (PostgreSQL text refuses them).
fn truncate(mut text: String) -> String {
    text.retain(|c| c != '\0');
    if text.len() > MAX_RESPONSE_BYTES {
        let mut end = MAX_RESPONSE_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// Records attempts, and what they mean for their events and the endpoint, in one
/// transaction. `sent` is a run of successes, possibly ended by one failure.
async fn record(
    app: &AppState,
    endpoint: &endpoint::Model,
    sent: Vec<(event::Model, Outcome)>,
) -> Result<(), DbErr> {
    // Scoped here: at module level its `min`/`max` would shadow `Ord`'s on integers.
    use sea_orm::sea_query::ExprTrait as _;
    if sent.is_empty() {
        return Ok(());
    }
    let now = now_micros(app);
    let txn = app.db.begin().await?;
    let attempts = sent.iter().map(|(event, outcome)| delivery::ActiveModel {
        id: Set(Uuid::new_v4()),
        created_at: Set(outcome.at),
        modified_at: Set(None),
        organization_id: Set(event.organization_id),
        endpoint_id: Set(endpoint.id),
        event_id: Set(event.id),
        succeeded: Set(outcome.succeeded),
        http_code: Set(outcome.http_code),
        response: Set(outcome.response.clone()),
        duration_ms: Set(i64::try_from(outcome.duration.as_millis()).unwrap_or(i64::MAX)),
    });
    delivery::Entity::insert_many(attempts).exec(&txn).await?;

    // Successes sharing a status and a version of the row are marked in one statement.
    let mut groups: BTreeMap<(i32, Option<DateTime<Utc>>), Vec<Uuid>> = BTreeMap::new();
    let mut failure = None;
    for (event, outcome) in &sent {
        match outcome.http_code.filter(|_| outcome.succeeded) {
            Some(code) => groups
                .entry((code, event.modified_at))
                .or_default()
                .push(event.id),
            None => failure = Some((event, outcome)),
        }
    }
    let succeeded_any = !groups.is_empty();
    for ((code, modified_at), ids) in groups {
        event::Entity::update_many()
            .col_expr(
                event::Column::Attempts,
                Expr::col(event::Column::Attempts).add(1),
            )
            .col_expr(event::Column::LastHttpCode, Expr::value(code))
            .col_expr(event::Column::Succeeded, Expr::value(true))
            .col_expr(
                event::Column::NextAttemptAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(event::Column::ModifiedAt, Expr::value(now))
            .filter(event::Column::Id.is_in(ids))
            .filter(unchanged_since(modified_at))
            .exec(&txn)
            .await?;
    }
    if succeeded_any {
        // Written only when there is a streak to end: a success then does not lock the
        // endpoint's row, which every change queuing an event for it also updates.
        endpoint::Entity::update_many()
            .col_expr(endpoint::Column::FailureStreak, Expr::value(0))
            .filter(endpoint::Column::Id.eq(endpoint.id))
            .filter(endpoint::Column::FailureStreak.ne(0))
            .exec(&txn)
            .await?;
    }
    if let Some((event, outcome)) = failure {
        record_failure(app, &txn, endpoint, event, outcome, now).await?;
    }
    txn.commit().await
}

/// An event's row is only updated if nobody changed it since it was read: an attempt that
/// ran while the event was redelivered must not overwrite the redelivery.
fn unchanged_since(modified_at: Option<DateTime<Utc>>) -> sea_orm::sea_query::SimpleExpr {
    match modified_at {
        Some(at) => event::Column::ModifiedAt.eq(at),
        None => event::Column::ModifiedAt.is_null(),
    }
}

/// A failed attempt: schedules the retry, or gives the event up and counts it towards
/// disabling the endpoint.
async fn record_failure(
    app: &AppState,
    txn: &DatabaseTransaction,
    endpoint: &endpoint::Model,
    event: &event::Model,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let attempts = event.attempts + 1;
    let gave_up = attempts >= MAX_ATTEMPTS;
    let next_attempt_at = if gave_up {
        None
    } else {
        Some(after(now, backoff(&app.config.webhooks, attempts)))
    };
    let succeeded = if gave_up {
        Some(false)
    } else {
        event.succeeded
    };
    event::Entity::update_many()
        .col_expr(event::Column::Attempts, Expr::value(attempts))
        .col_expr(event::Column::LastHttpCode, Expr::value(outcome.http_code))
        .col_expr(event::Column::Succeeded, Expr::value(succeeded))
        .col_expr(event::Column::NextAttemptAt, Expr::value(next_attempt_at))
        .col_expr(event::Column::ModifiedAt, Expr::value(now))
        .filter(event::Column::Id.eq(event.id))
        .filter(unchanged_since(event.modified_at))
        .exec(txn)
        .await?;
    if !gave_up {
        return Ok(());
    }
    let current = endpoint::Entity::find_by_id(endpoint.id)
        .one(txn)
        .await?
        .map_or(0, |e| e.failure_streak);
    let streak = current + 1;
    let disable = streak >= DISABLE_AFTER;
    endpoint::Entity::update_many()
        .col_expr(endpoint::Column::FailureStreak, Expr::value(streak))
        .col_expr(endpoint::Column::Enabled, Expr::value(!disable))
        .filter(endpoint::Column::Id.eq(endpoint.id))
        .exec(txn)
        .await?;
    if disable {
        let skipped = store::skip_pending(txn, endpoint.id, now).await?;
        tracing::warn!(
            endpoint_id = %endpoint.id,
            skipped,
            "webhook endpoint disabled after {DISABLE_AFTER} events in a row failed"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let config = DeliveryConfig::default();
        let within = |attempt: i32, secs: f64| {
            let d = backoff(&config, attempt).as_secs_f64();
            d >= secs * 0.9 - 1e-9 && d <= (secs * 1.1).min(1200.0) + 1e-9
        };
        assert!(within(1, 2.0));
        assert!(within(2, 4.0));
        assert!(within(5, 32.0));
        assert!(within(9, 512.0));
        assert!(backoff(&config, 12) <= Duration::from_secs(1200));
        assert!(backoff(&config, 12) >= Duration::from_secs(1080));
    }

    #[test]
    fn truncation_keeps_characters_whole() {
        let text = "é".repeat(2000);
        let cut = truncate(text);
        assert!(cut.len() <= MAX_RESPONSE_BYTES);
        assert!(cut.chars().all(|c| c == 'é'));
        assert_eq!(truncate("a\0b".to_owned()), "ab");
    }
}
