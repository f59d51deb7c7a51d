//! The sweep that expires open checkouts past their `expires_at`: each becomes `expired`
//! with its `checkout.expired` event in one transaction, and the prices made for it stay
//! (orders never reference them: it was never paid). The same sweep drops expired customer
//! sessions and email-change requests.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::schema::CheckoutStatus;
use super::{service, store};
use crate::app::AppState;
use crate::http::ApiResult;
use crate::webhooks::EventType;

/// Checkouts expired per transaction.
const BATCH: u64 = 100;

/// Expires what is due; returns how many checkouts it expired.
pub async fn run_once(app: &AppState) -> ApiResult<usize> {
    let mut expired = 0;
    loop {
        let now = app.clock.now();
        let txn = crate::db::begin_write(&app.db).await?;
        let due = store::expired(&txn, now, BATCH).await?;
        if due.is_empty() {
            txn.commit().await?;
            return Ok(expired);
        }
        let mut queued = 0;
        for mut row in due {
            // Another instance may have taken it since it was read: re-read it locked.
            let Some(locked) = store::lock(&txn, row.id).await? else {
                continue;
            };
            if locked.status != CheckoutStatus::Open.as_str() {
                continue;
            }
            row = locked;
            row.status = CheckoutStatus::Expired.as_str().to_owned();
            row.modified_at = Some(now);
            let row = store::update(&txn, row).await?;
            let checkout = service::show(app, &txn, &row).await?;
            queued += crate::webhooks::emit(
                &txn,
                row.organization_id,
                EventType::CheckoutExpired,
                &checkout,
                now,
            )
            .await?;
            expired += 1;
        }
        app.nudge.commit(txn, queued).await?;
    }
}

pub fn spawn(
    app: AppState,
    interval: Duration,
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
            match run_once(&app).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "checkouts expired"),
                Err(error) => tracing::warn!(%error, "checkout expiry failed; will retry"),
            }
            // The same cadence suits the other short-lived records: customer sessions past
            // their hour can never authenticate again.
            match crate::customer_portal::sessions::purge_expired(&app.db, app.clock.now()).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "expired customer sessions purged"),
                Err(error) => {
                    tracing::warn!(%error, "purging customer sessions failed; will retry")
                }
            }
            let now = app.clock.now();
            let purged = async {
                let codes = crate::customer_portal::sign_in::purge_expired(&app.db, now).await?;
                let windows = crate::http::rate_limit::purge(
                    &app.db,
                    now,
                    crate::customer_portal::sign_in::PER_IP.window,
                )
                .await?;
                Ok::<_, sea_orm::DbErr>(codes + windows)
            };
            match purged.await {
                Ok(0) => {}
                Ok(count) => {
                    tracing::info!(count, "expired sign-in codes and limit windows purged")
                }
                Err(error) => tracing::warn!(%error, "purging sign-in codes failed; will retry"),
            }
        }
    })
}
