//! The background sweep: aborts uploads nobody completed within the configured age, and
//! purges from storage the bytes of deleted files whose removal failed at the time.
//! Every step is idempotent, so several instances may sweep at once.

use std::time::Duration;

use chrono::Duration as ChronoDuration;
use tokio_util::sync::CancellationToken;

use super::service::purge;
use super::store;
use crate::app::AppState;

const BATCH: u64 = 100;

/// What one run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub abandoned_uploads: usize,
    pub purged_files: usize,
    pub orphan_uploads: usize,
}

/// One pass over stale uploads and unpurged deletions.
pub async fn run_once(app: &AppState, upload_max_age: Duration) -> anyhow::Result<SweepReport> {
    let mut report = SweepReport::default();
    let now = app.clock.now();
    let cutoff = now - ChronoDuration::from_std(upload_max_age)?;

    loop {
        let stale = store::stale_uploads(&app.db, cutoff, BATCH).await?;
        for row in &stale {
            if store::mark_deleted(&app.db, row.id, now).await? {
                report.abandoned_uploads += 1;
            }
        }
        if (stale.len() as u64) < BATCH {
            break;
        }
    }
    // Includes the uploads just abandoned. A batch that purges nothing (the store is
    // down) ends the pass; the next one retries.
    loop {
        let deleted = store::unpurged_deleted(&app.db, BATCH).await?;
        let mut purged = 0;
        for row in &deleted {
            if purge(app, row).await {
                purged += 1;
            }
        }
        report.purged_files += purged;
        if (deleted.len() as u64) < BATCH || purged == 0 {
            break;
        }
    }
    report.orphan_uploads = app.storage.sweep_uploads(cutoff).await?;
    // Not files, but the sweep is the one periodic job: forget idempotency keys past 24 h.
    crate::http::idempotency::purge_expired(&app.db, now).await?;
    Ok(report)
}

/// Runs the sweep every `interval` until `shutdown` fires.
pub fn spawn(
    app: AppState,
    interval: Duration,
    upload_max_age: Duration,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = ticker.tick() => {}
            }
            match run_once(&app, upload_max_age).await {
                Ok(report) if report != SweepReport::default() => tracing::info!(?report, "sweep"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "sweep failed; will retry"),
            }
        }
    })
}
