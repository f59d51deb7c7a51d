//! Keeps SQLite's write-ahead log from growing without bound.
//!
//! After a commit SQLite copies the log into the database (a passive checkpoint, which never
//! waits), but it can start the log over only at a moment when no reader is using it. Under
//! steady concurrent load some reader nearly always is ("checkpoint starvation"): loading 1M
//! usage events over HTTP left a 7.5 GB log whose 1.9M frames had all been copied into a
//! 330 MB database, and reads had to search that log. So the log is looked at every second
//! and, past [`LIMIT_FRAMES`], truncated: a TRUNCATE checkpoint waits (within the busy
//! timeout) for the readers present to finish, holds writers back meanwhile, and starts the
//! log over at zero bytes.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tokio_util::sync::CancellationToken;

/// Frames (pages) the log may hold before it is truncated: 64 MiB of 4 KiB pages.
const LIMIT_FRAMES: i64 = 16_384;
const EVERY: Duration = Duration::from_secs(1);

/// Watches the log of an SQLite database until `shutdown`; nothing for PostgreSQL.
pub fn spawn(
    db: DatabaseConnection,
    shutdown: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    Some(tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(EVERY) => {}
            }
            if let Err(error) = keep_small(&db).await {
                tracing::warn!(error = %error, "checkpointing the SQLite log failed");
            }
        }
    }))
}

async fn keep_small(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    let pragma = |mode: &str| {
        Statement::from_string(DbBackend::Sqlite, format!("PRAGMA wal_checkpoint({mode})"))
    };
    // (busy, frames in the log, frames copied into the database)
    let Some(row) = db.query_one_raw(pragma("PASSIVE")).await? else {
        return Ok(());
    };
    let frames: i64 = row.try_get_by_index(1)?;
    if frames > LIMIT_FRAMES {
        db.execute_raw(pragma("TRUNCATE")).await?;
        tracing::debug!(frames, "SQLite log truncated");
    }
    Ok(())
}
