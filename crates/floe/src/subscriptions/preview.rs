//! What a change of plan would do, told before it is made: the change is applied in a
//! transaction that is always rolled back, and what it wrote is read back first. The
//! figures are therefore the ones the change itself computes (one computation, not a copy
//! of it), including what the customer's balance would pay. Nothing leaves the
//! transaction: its webhooks and mail are rolled back with it, and a Stripe invoice is only
//! ever charged after a commit.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
use serde_json::Value;
use uuid::Uuid;

use super::update::{Patch, parse};
use super::{pending, store};
use crate::app::AppState;
use crate::http::{ApiError, ApiResult, Loc};

/// A line of an order the change would make, or of the next invoice.
#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    pub amount: i64,
}

/// What a change of plan would do.
#[derive(Clone, Debug, Default)]
pub struct ChangePreview {
    pub currency: String,
    /// The order charged now (`invoice`, `reset`): its lines, total, and what is left to
    /// charge after the customer's balance.
    pub now: Option<(Vec<Line>, i64, i64)>,
    /// Prorated lines the next invoice would carry (`prorate`).
    pub next_invoice: Vec<Line>,
    /// When a change scheduled for the period's end (`next_period`) applies.
    pub scheduled_for: Option<DateTime<Utc>>,
}

/// Previews the merchant's update `body` (a change of plan) of subscription `id`.
pub async fn plan_change(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    body: Value,
) -> ApiResult<ChangePreview> {
    let change = match parse(&body)? {
        Patch::Quantity(request) => request,
        Patch::Base { change, .. } if change.changes_plan() => change,
        _ => {
            return Err(ApiError::validation(
                Loc::body(),
                "value_error",
                "Only a change of plan can be previewed.",
                body,
            ));
        }
    };
    let txn = crate::db::begin_write(&app.db).await?;
    let before = store::lock(&txn, id)
        .await?
        .filter(|row| row.organization_id == organization_id && row.started_at.is_some())
        .ok_or_else(super::not_found)?;
    let now = super::test_clock::now_for(&txn, &app.clock, organization_id).await?;
    let waiting_before: Vec<Uuid> = pending::waiting(&txn, id)
        .await?
        .iter()
        .map(|line| line.id)
        .collect();
    super::change::apply(app, &txn, &before, change, now).await?;
    let mut preview = ChangePreview {
        currency: before.currency.clone(),
        ..ChangePreview::default()
    };
    let made = crate::orders::find()
        .filter(crate::orders::OrderColumn::SubscriptionId.eq(id))
        .filter(crate::orders::OrderColumn::CreatedAt.eq(now))
        .order_by_desc(crate::orders::OrderColumn::CreatedAt)
        .one(&txn)
        .await?;
    if let Some(order) = made {
        let lines = crate::orders::items_of_order(&txn, order.id)
            .await?
            .into_iter()
            .map(|item| Line {
                label: item.label,
                amount: item.amount,
            })
            .collect();
        preview.now = Some((lines, order.total_amount, order.due_amount()));
    }
    preview.next_invoice = pending::waiting(&txn, id)
        .await?
        .into_iter()
        .filter(|line| !waiting_before.contains(&line.id))
        .map(|line| Line {
            label: line.label,
            amount: line.amount,
        })
        .collect();
    let scheduled = pending::updates_of((&txn).into(), &[id]).await?;
    preview.scheduled_for = scheduled.first().map(|update| update.applies_at);
    txn.rollback().await?;
    Ok(preview)
}
