//! Drawing and storing due documents: right after they are asked for (a spawned task), and
//! by a sweep that takes whatever is still due (failures after their backoff, and work a
//! restart cut short, since what is due lives in the database).
//!
//! A worker first claims a document (pushing its `due_at` past a lease), so that two
//! tasks or processes never draw the same one at once; a worker that dies leaves the
//! claim to lapse. Storing an invoice sets the order's `is_invoice_generated` and emits
//! `order.updated` in one transaction.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::content::{self, Source};
use super::entity::{Entity, Model};
use super::{Kind, pdf, store};
use crate::app::AppState;
use crate::http::{ApiError, ApiResult};
use crate::storage::Bucket;
use crate::webhooks::EventType;

/// How long a claim holds: far longer than drawing and storing one PDF takes.
const LEASE: Duration = Duration::from_secs(120);
/// Documents taken per sweep.
const BATCH: u64 = 20;
/// The longest the sweep waits between runs, whatever `--sweep-interval` says: a failed
/// document is retried within its backoff plus this.
const MAX_INTERVAL: Duration = Duration::from_secs(30);

fn after(now: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(duration).unwrap_or_default()
}

/// The wait before the next try after `attempts` failures: 5 s, doubling, at most 15 min.
fn backoff(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(8);
    Duration::from_secs(5 * (1u64 << exponent)).min(Duration::from_secs(15 * 60))
}

/// Draws the document now in a task of its own, if it is due and nobody holds it.
pub fn kick(app: AppState, order_id: Uuid, kind: Kind) {
    tokio::spawn(async move {
        if let Err(error) = generate(&app, order_id, kind).await {
            tracing::warn!(%error, %order_id, kind = kind.as_str(), "order document failed; the sweep retries it");
        }
    });
}

/// Draws and stores the document if this worker can claim it, again while it was asked
/// for meanwhile; returns whether it drew it.
pub async fn generate(app: &AppState, order_id: Uuid, kind: Kind) -> ApiResult<bool> {
    let mut drew = false;
    loop {
        let now = app.clock.now();
        if !store::claim(&app.db, order_id, kind, now, after(now, LEASE)).await? {
            return Ok(drew);
        }
        match draw(app, order_id, kind).await {
            Ok(Some(drawn)) => {
                drew = true;
                if !finish(app, order_id, kind, drawn).await? {
                    return Ok(drew);
                }
            }
            Ok(None) => return Ok(drew),
            Err(error) => {
                fail(app, order_id, kind, &error).await?;
                return Err(error);
            }
        }
    }
}

/// A document drawn and stored, not yet recorded.
struct Drawn {
    /// The `requested` count it answers.
    requested: i64,
    path: String,
    checksum: String,
}

/// Draws the document from the order as it is now and stores it; `None` when the row or
/// the order is gone.
async fn draw(app: &AppState, order_id: Uuid, kind: Kind) -> ApiResult<Option<Drawn>> {
    // Read after the claim: any request counted here committed before the order is read
    // below, so the file answers it.
    let Some(row) = Entity::find_by_id((order_id, kind.as_str().to_owned()))
        .one(&app.db)
        .await?
    else {
        return Ok(None);
    };
    let organization_id = row.organization_id;
    let Some(order) =
        crate::orders::store::get((&app.reader).into(), organization_id, order_id).await?
    else {
        return Ok(None);
    };
    let items = crate::orders::store::items((&app.reader).into(), &[order_id]).await?;
    let seller = crate::organizations::read(&app.db, organization_id)
        .await?
        .map(|organization| organization.name)
        .unwrap_or_default();
    let sheet = content::sheet(
        kind,
        &Source {
            order: &order,
            items: &items,
            seller: &seller,
        },
    );
    let bytes = tokio::task::spawn_blocking(move || pdf::render(&sheet))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let path = format!(
        "order-documents/{organization_id}/{order_id}/{}-{}.pdf",
        kind.as_str(),
        Uuid::new_v4()
    );
    let metadata = vec![
        ("organization-id", organization_id.to_string()),
        ("order-id", order_id.to_string()),
        ("document", kind.as_str().to_owned()),
    ];
    app.storage
        .put_object(crate::storage::PutObject {
            bucket: crate::storage::Bucket::Private,
            key: &path,
            content_type: "application/pdf",
            bytes,
            metadata,
        })
        .await
        .map_err(ApiError::internal)?;
    Ok(Some(Drawn {
        requested: row.requested,
        path,
        checksum: content::checksum(&order),
    }))
}

/// Records the stored file (and, for an invoice, the order's flag and `order.updated`);
/// returns whether the document is due again (asked for while it was drawn).
async fn finish(app: &AppState, order_id: Uuid, kind: Kind, drawn: Drawn) -> ApiResult<bool> {
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let Some(mut row) = store::lock(&txn, order_id, kind).await? else {
        txn.commit().await?;
        discard(app, &drawn.path).await;
        return Ok(false);
    };
    // The file it replaces stays: a URL handed out for it a moment ago must still work
    // until it expires. Invoices are only drawn again when the billing details changed.
    row.path = Some(drawn.path);
    row.rendered = row.rendered.max(drawn.requested);
    row.checksum = Some(drawn.checksum);
    row.generated_at = Some(now);
    row.attempts = 0;
    row.last_error = None;
    let again = row.requested > row.rendered;
    row.due_at = again.then_some(now);
    row.modified_at = Some(now);
    let row = store::update(&txn, row).await?;
    let mut queued = 0;
    if kind == Kind::Invoice {
        queued = invoice_generated(&txn, &row, now).await?;
    }
    app.nudge.commit(txn, queued).await?;
    Ok(again)
}

/// Flags the order's invoice as generated and emits `order.updated`, as Polar does each
/// time it stores one.
async fn invoice_generated(
    txn: &sea_orm::DatabaseTransaction,
    row: &Model,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    let Some(mut order) =
        crate::orders::store::get(txn.into(), row.organization_id, row.order_id).await?
    else {
        return Ok(0);
    };
    order.is_invoice_generated = true;
    order.modified_at = Some(now);
    let order = crate::orders::store::update(txn, order).await?;
    let Some(shown) = crate::orders::present::orders(txn.into(), row.organization_id, &[order])
        .await?
        .pop()
    else {
        return Ok(0);
    };
    Ok(crate::webhooks::emit(
        txn,
        row.organization_id,
        EventType::OrderUpdated,
        &shown,
        now,
    )
    .await?)
}

/// Records a failed try: the document stays due, after a backoff.
async fn fail(app: &AppState, order_id: Uuid, kind: Kind, error: &ApiError) -> ApiResult<()> {
    let now = app.clock.now();
    let Some(mut row) = Entity::find_by_id((order_id, kind.as_str().to_owned()))
        .one(&app.db)
        .await?
    else {
        return Ok(());
    };
    row.attempts += 1;
    row.last_error = Some(error.to_string().chars().take(2000).collect());
    row.due_at = Some(after(now, backoff(row.attempts)));
    row.modified_at = Some(now);
    store::update(&app.db, row).await?;
    Ok(())
}

/// Removes a file stored for an order that is gone; one left behind only costs space.
async fn discard(app: &AppState, path: &str) {
    if let Err(error) = app.storage.delete_object(Bucket::Private, path).await {
        tracing::warn!(%error, path, "could not remove a replaced order document");
    }
}

/// Draws whatever is due; returns how many it drew.
pub async fn run_once(app: &AppState) -> ApiResult<usize> {
    let due = store::due(&app.db, app.clock.now(), BATCH).await?;
    let mut drawn = 0;
    for (order_id, kind) in due {
        match generate(app, order_id, kind).await {
            Ok(true) => drawn += 1,
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(%error, %order_id, kind = kind.as_str(), "order document failed; will retry");
            }
        }
    }
    Ok(drawn)
}

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
            match run_once(&app).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "order documents generated"),
                Err(error) => tracing::warn!(%error, "order document sweep failed; will retry"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_ceiling() {
        assert_eq!(backoff(1), Duration::from_secs(5));
        assert_eq!(backoff(2), Duration::from_secs(10));
        assert_eq!(backoff(4), Duration::from_secs(40));
        assert_eq!(backoff(100), Duration::from_secs(15 * 60));
    }
}
