//! The rules of disputes.
//!
//! Whatever a processor says of a dispute, at any time and any number of times, goes
//! through [`apply`], under the order's row lock (the lock refunds of the order take too):
//! the first report writes the dispute down, later ones move its status until it closes;
//! a closed dispute stays as it closed. When it is won or lost (Polar does both: a buyer
//! who disputed is not served on), what the order gave ends: its subscription is revoked
//! now, or a one-time order's benefits are. The order's amounts do not move: the bank, not
//! a refund, took the money (metrics count a lost dispute against net revenue).

use chrono::{DateTime, Duration, Utc};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use super::entity::Model;
use super::schema::{Dispute, DisputeStatus};
use super::store;
use crate::app::AppState;
use crate::http::{ApiError, ApiResult};
use crate::orders::OrderRow;
use crate::payments::accounts::Account;
use crate::payments::processor::TEST;
use crate::payments::stripe::{Failure, STRIPE};

/// A dispute as its processor reports it.
#[derive(Clone, Debug)]
pub struct Report {
    pub processor_id: String,
    pub status: DisputeStatus,
    /// What is disputed, tax included (processors know no split).
    pub total: i64,
    pub currency: String,
    pub reason: Option<String>,
    pub evidence_due_by: Option<DateTime<Utc>>,
    pub past_due: bool,
}

/// How long the merchant has to answer a test dispute (Stripe gives one to three weeks).
const TEST_EVIDENCE_DAYS: i64 = 7;

/// The test processor's disputed cards (Stripe's 0259 and 2685): the bank disputes the
/// charge as soon as it is paid. Called where a test payment is linked to its paid order,
/// in that transaction.
pub async fn open_for_test_payment(
    txn: &DatabaseTransaction,
    payment: &crate::payments::entity::Model,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let method = crate::payments::processor::MethodDetails::from_metadata(
        &payment.method,
        &payment.method_metadata,
    );
    let (Some(reason), Some(order_id), true) = (
        crate::payments::test_cards::disputes_as(&method.last4),
        payment.order_id,
        payment.processor == TEST && payment.status == "succeeded",
    ) else {
        return Ok(());
    };
    let Some(order) = crate::orders::lock(txn, order_id).await? else {
        return Ok(());
    };
    let report = Report {
        processor_id: format!("dp_test_{}", payment.processor_id),
        status: DisputeStatus::NeedsResponse,
        total: payment.amount,
        currency: payment.currency.clone(),
        reason: Some(reason.to_owned()),
        evidence_due_by: Some(now + Duration::days(TEST_EVIDENCE_DAYS)),
        past_due: false,
    };
    if store::by_processor_id(txn, TEST, &report.processor_id)
        .await?
        .is_none()
    {
        store::insert(txn, new_row(&order, payment.id, TEST, &report, now)).await?;
    }
    Ok(())
}

/// Applies a processor's report of a dispute of `payment_id` (a payment of
/// `organization_id`): written down the first time, moved after. `None` when the payment
/// is not this organization's or has no order.
pub async fn apply(
    app: &AppState,
    organization_id: Uuid,
    processor: &str,
    payment_id: Uuid,
    report: &Report,
) -> ApiResult<Option<Model>> {
    let txn = crate::db::begin_write(&app.db).await?;
    let Some(payment) = crate::payments::store::by_id(&txn, payment_id)
        .await?
        .filter(|p| p.organization_id == organization_id)
    else {
        return Ok(None);
    };
    let Some(order_id) = payment.order_id else {
        return Ok(None);
    };
    // The order first, then the dispute: the order's lock is what its refunds and
    // disputes queue on.
    let Some(order) = crate::orders::lock(&txn, order_id).await? else {
        return Ok(None);
    };
    let now = crate::subscriptions::test_clock::now_for(&txn, &app.clock, organization_id).await?;
    let existing = match store::by_processor_id(&txn, processor, &report.processor_id).await? {
        Some(found) => store::lock(&txn, found.id).await?,
        None => None,
    };
    let (before, mut row) = match existing {
        Some(row) => (Some(row.clone()), row),
        None => (None, new_row(&order, payment.id, processor, report, now)),
    };
    let was = before
        .as_ref()
        .and_then(|b| DisputeStatus::parse(&b.status));
    if !was.is_some_and(DisputeStatus::is_closed) {
        row.status = report.status.as_str().to_owned();
    }
    row.reason = report.reason.clone().or(row.reason);
    row.evidence_due_by = report.evidence_due_by.or(row.evidence_due_by);
    row.past_due = report.past_due;
    let becomes = DisputeStatus::parse(&row.status).unwrap_or(report.status);
    let closes = becomes.is_closed() && !was.is_some_and(DisputeStatus::is_closed);
    if closes {
        row.closed_at = Some(now);
    }
    if before.as_ref() == Some(&row) {
        txn.rollback().await?;
        return Ok(Some(row));
    }
    let row = match before {
        Some(_) => {
            row.modified_at = Some(now);
            store::update(&txn, row).await?
        }
        None => store::insert(&txn, row).await?,
    };
    let queued = if closes && becomes.is_resolved() {
        end_what_the_order_gave(app, &txn, order, now).await?
    } else {
        0
    };
    app.nudge.commit(txn, queued).await?;
    Ok(Some(row))
}

/// A dispute was decided: the order's subscription is revoked now, or a one-time order's
/// benefits are.
async fn end_what_the_order_gave(
    app: &AppState,
    txn: &DatabaseTransaction,
    order: OrderRow,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    match order.subscription_id {
        Some(subscription_id) => {
            crate::subscriptions::revoke_now(app, txn, subscription_id, now).await
        }
        None => crate::orders::revoke_grants(app, txn, order, now).await,
    }
}

/// A dispute first reported: its amount split as the order's total was (all the tax when
/// all of the order is disputed).
fn new_row(
    order: &OrderRow,
    payment_id: Uuid,
    processor: &str,
    report: &Report,
    now: DateTime<Utc>,
) -> Model {
    let charged = order.net_amount + order.tax_amount;
    let tax = if report.total >= charged {
        order.tax_amount
    } else if charged > 0 {
        let scaled =
            i128::from(report.total) * i128::from(order.tax_amount) * 2 + i128::from(charged);
        i64::try_from(scaled / (2 * i128::from(charged))).unwrap_or(0)
    } else {
        0
    };
    Model {
        id: Uuid::new_v4(),
        created_at: now,
        modified_at: None,
        organization_id: order.organization_id,
        order_id: order.id,
        payment_id,
        customer_id: order.customer_id,
        status: report.status.as_str().to_owned(),
        amount: report.total - tax,
        tax_amount: tax,
        currency: report.currency.clone(),
        reason: report.reason.clone(),
        evidence_due_by: report.evidence_due_by,
        past_due: report.past_due,
        processor: processor.to_owned(),
        processor_id: report.processor_id.clone(),
        closed_at: report.status.is_closed().then_some(now),
    }
}

/// `disputes:accept`: the merchant concedes a dispute that awaits its response; it closes
/// as lost (at the processor too).
pub async fn accept(app: &AppState, organization_id: Uuid, id: Uuid) -> ApiResult<Model> {
    let row = store::get((&app.reader).into(), organization_id, id)
        .await?
        .ok_or_else(super::routes::not_found)?;
    if DisputeStatus::parse(&row.status) != Some(DisputeStatus::NeedsResponse) {
        return Err(ApiError::named(
            axum::http::StatusCode::CONFLICT,
            "DisputeNotOpenError",
            format!("Dispute {id} is not awaiting a response."),
        ));
    }
    let report = if row.processor == STRIPE {
        let Account::Stripe(keys) =
            crate::payments::accounts::of(&app.db, &app.secret, organization_id).await?
        else {
            return Err(ApiError::named(
                axum::http::StatusCode::CONFLICT,
                "DisputeNotOpenError",
                "The organization's Stripe account is gone: the dispute cannot be closed."
                    .to_owned(),
            ));
        };
        let client =
            crate::payments::stripe::Client::new(&app.config.stripe_api_base, &keys.secret_key);
        let closed =
            client
                .close_dispute(&row.processor_id)
                .await
                .map_err(|failure| match failure {
                    Failure::Unanswered(e) => ApiError::UpstreamTimeout(e),
                    // Stripe no longer takes a response (it closed meanwhile; its event tells).
                    Failure::Refused(e) => ApiError::named(
                        axum::http::StatusCode::CONFLICT,
                        "DisputeNotOpenError",
                        format!("Dispute {id} is not awaiting a response at Stripe: {e}"),
                    ),
                })?;
        super::stripe::report_of(&closed).ok_or_else(|| {
            ApiError::UpstreamTimeout("Stripe answered an unreadable dispute".to_owned())
        })?
    } else {
        Report {
            processor_id: row.processor_id.clone(),
            status: DisputeStatus::Lost,
            total: row.amount + row.tax_amount,
            currency: row.currency.clone(),
            reason: row.reason.clone(),
            evidence_due_by: row.evidence_due_by,
            past_due: row.past_due,
        }
    };
    let processor = row.processor.clone();
    Ok(
        apply(app, organization_id, &processor, row.payment_id, &report)
            .await?
            .unwrap_or(row),
    )
}

/// `rows` as the API shows them, with their customers.
pub async fn present(
    db: crate::db::Reads<'_>,
    organization_id: Uuid,
    rows: &[Model],
) -> ApiResult<Vec<Dispute>> {
    let ids = crate::db::unique(rows.iter().map(|r| r.customer_id));
    let customers: std::collections::HashMap<Uuid, _> =
        crate::customers::read_many(db, organization_id, &ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    Ok(rows
        .iter()
        .filter_map(|row| Some(Dispute::of(row, customers.get(&row.customer_id)?.clone())))
        .collect())
}
