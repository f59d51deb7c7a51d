//! The mail worker: sends what `mail::queue` wrote, each message under a short lease so that
//! one process sends it however many share the database. A refused or failed send is
//! retried with a growing wait (1, 2, 4, … minutes, at most an hour) and given up after
//! `MAX_ATTEMPTS`, with the error kept on the row.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio_util::sync::CancellationToken;

use super::Mailer;
use super::entity::{Column, Entity};
use crate::app::AppState;

const BATCH: u64 = 20;
const LEASE: TimeDelta = TimeDelta::seconds(60);
pub const MAX_ATTEMPTS: i64 = 10;

pub fn spawn(
    app: AppState,
    mailer: Mailer,
    interval: Duration,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval.min(Duration::from_secs(10)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = ticker.tick() => {}
                _ = app.mail.notified() => {}
            }
            if let Err(error) = run_once(&app, &mailer).await {
                tracing::warn!(%error, "sending mail failed; will retry");
            }
        }
    })
}

/// Sends what is due; returns how many messages were sent.
pub async fn run_once(app: &AppState, mailer: &Mailer) -> Result<usize, sea_orm::DbErr> {
    let mut sent = 0;
    loop {
        let now = Utc::now();
        let due = Entity::find()
            .filter(Column::SentAt.is_null())
            .filter(Column::FailedAt.is_null())
            .filter(Column::NextAttemptAt.lte(now))
            .filter(
                Condition::any()
                    .add(Column::ClaimedUntil.is_null())
                    .add(Column::ClaimedUntil.lt(now)),
            )
            .order_by_asc(Column::NextAttemptAt)
            .limit(BATCH)
            .all(&app.db)
            .await?;
        if due.is_empty() {
            return Ok(sent);
        }
        for row in due {
            // Claimed by the one process whose update finds it unclaimed.
            let claimed = Entity::update_many()
                .col_expr(Column::ClaimedUntil, Expr::value(now + LEASE))
                .filter(Column::Id.eq(row.id))
                .filter(Column::SentAt.is_null())
                .filter(
                    Condition::any()
                        .add(Column::ClaimedUntil.is_null())
                        .add(Column::ClaimedUntil.lt(now)),
                )
                .exec(&app.db)
                .await?;
            if claimed.rows_affected != 1 {
                continue;
            }
            let attempts = row.attempts + 1;
            match mailer.send(&row).await {
                Ok(place) => {
                    tracing::info!(mail_id = %row.id, kind = %row.kind, to = %row.recipient, %place, "mail sent");
                    Entity::update_many()
                        .col_expr(Column::SentAt, Expr::value(Utc::now()))
                        .col_expr(Column::Attempts, Expr::value(attempts))
                        .col_expr(
                            Column::ClaimedUntil,
                            Expr::value(Option::<chrono::DateTime<Utc>>::None),
                        )
                        .filter(Column::Id.eq(row.id))
                        .exec(&app.db)
                        .await?;
                    sent += 1;
                }
                Err(error) => {
                    tracing::warn!(mail_id = %row.id, kind = %row.kind, %error, attempts, "mail not sent");
                    let wait = TimeDelta::minutes(1 << (attempts - 1).clamp(0, 6))
                        .min(TimeDelta::hours(1));
                    let mut update = Entity::update_many()
                        .col_expr(Column::Attempts, Expr::value(attempts))
                        .col_expr(Column::LastError, Expr::value(error))
                        .col_expr(Column::NextAttemptAt, Expr::value(Utc::now() + wait))
                        .col_expr(
                            Column::ClaimedUntil,
                            Expr::value(Option::<chrono::DateTime<Utc>>::None),
                        );
                    if attempts >= MAX_ATTEMPTS {
                        update = update.col_expr(Column::FailedAt, Expr::value(Utc::now()));
                    }
                    update.filter(Column::Id.eq(row.id)).exec(&app.db).await?;
                }
            }
        }
    }
}
