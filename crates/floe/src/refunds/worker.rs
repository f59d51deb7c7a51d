//! The refund worker: asks again about refunds left `pending` (a processor that confirms
//! later, a call whose answer was lost, a process that died between writing a refund down
//! and asking for it), with the refund's own ID as idempotency key, so a refund is made
//! once whoever asks. Each is asked less often the longer it waits: after a quarter of its
//! age, at least every 2 seconds and at most every hour. `settle` applies each answer
//! under the order's lock, so two processes asking at once change it once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::entity::Model;
use super::{service, store};
use crate::app::AppState;
use crate::http::ApiResult;

/// Pending refunds looked at per pass.
const BATCH: u64 = 200;
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
            if let Err(error) = pass(&app).await {
                tracing::warn!(%error, "checking pending refunds failed; will retry");
            }
        }
    })
}

/// Whether `refund` is due to be asked about at `now`.
fn due(refund: &Model, now: DateTime<Utc>) -> bool {
    let age = now - refund.created_at;
    let wait = (age / 4).clamp(chrono::Duration::seconds(2), chrono::Duration::hours(1));
    refund
        .checked_at
        .is_none_or(|checked| now - checked >= wait)
}

/// One look at the pending refunds; answers how many were asked about.
pub async fn pass(app: &AppState) -> ApiResult<usize> {
    let pending = store::pending(&app.db, BATCH).await?;
    let mut asked = 0;
    for refund in pending {
        // Each refund on its organization's clock (a test clock may run ahead).
        let now =
            crate::subscriptions::test_clock::now_for(&app.db, &app.clock, refund.organization_id)
                .await?;
        if !due(&refund, now) {
            continue;
        }
        let Some(payment_id) = refund.payment_id else {
            continue;
        };
        let Some(payment) =
            crate::payments::store::get((&app.reader).into(), refund.organization_id, payment_id)
                .await?
        else {
            continue;
        };
        asked += 1;
        let answer = match service::ask_processor(app, &refund, &payment).await {
            Ok(answer) => Some(answer),
            Err(service::Asked::Unanswered(error)) => {
                tracing::warn!(%error, refund = %refund.id, "a processor did not answer about a refund");
                None
            }
            Err(service::Asked::Refused(reason)) => {
                Some(crate::payments::processor::RefundAnswer {
                    refund_id: refund
                        .processor_id
                        .clone()
                        .unwrap_or_else(|| format!("refused-{}", refund.id)),
                    state: crate::payments::processor::RefundState::Failed(reason),
                })
            }
        };
        service::settle(app, refund.id, answer).await?;
    }
    Ok(asked)
}
