//! Metric rollups (docs/decisions/0023): the organization's orders, subscriptions and lost
//! disputes summed per UTC quarter hour, so that a request reads sums rather than every
//! row of the history.
//!
//! Triggers mark each changed row in the transaction that changes it (`metric_dirty`,
//! migration 000030); `sync` rolls marked rows up, in the background and, for the
//! organization asking, before a request is answered, so an answer always includes every
//! change committed before it. (An organization with more than `MAX_WAITING` rows waiting,
//! after a bulk import or the migration, is answered from its rows until the worker has
//! caught up: as exact, slower, and no request waits for minutes.) `facts` says what one row adds to the sums, `read` turns
//! the sums into metric series.

pub mod columns;
pub mod facts;
pub mod read;
mod stored;
pub mod sync;

use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

/// The most rows a request rolls up itself before it is answered.
pub const MAX_WAITING: u64 = 20_000;

/// Marks cleared in one catch-up after which PostgreSQL's rollup tables are vacuumed.
const TIDY_AFTER: usize = 10_000;

/// The longest wait between two background passes.
const MAX_INTERVAL: Duration = Duration::from_secs(2);

/// Rolls up marked rows in the background, so that a request rarely finds many.
pub fn spawn(
    db: DatabaseConnection,
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
            // Stops between two batches when asked to (a batch is one transaction).
            let pass = sync::catch_up(&db, None, true);
            let cleared = tokio::select! {
                _ = shutdown.cancelled() => break,
                result = pass => match result {
                    Ok(cleared) => cleared,
                    Err(error) => {
                        tracing::warn!(%error, "rolling up metrics failed; will retry");
                        0
                    }
                }
            };
            if cleared >= TIDY_AFTER
                && let Err(error) = sync::tidy(&db).await
            {
                tracing::warn!(%error, "vacuuming the metric rollups failed");
            }
        }
    })
}
