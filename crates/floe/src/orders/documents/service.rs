//! Asking for an order's documents and handing out their URLs. Drawing them is the
//! [`worker`](super::worker)'s.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::entity::Model;
use super::{Kind, content, store, worker};
use crate::app::AppState;
use crate::http::{ApiError, ApiResult};
use crate::orders::entity::Model as Order;
use crate::orders::schema::{OrderInvoice, OrderReceipt, OrderStatus};
use crate::orders::service::not_found;
use crate::storage::{Bucket, DownloadAs, StorageError};

/// A document asked for the first time.
fn new_row(order: &Order, kind: Kind, now: DateTime<Utc>) -> Model {
    Model {
        order_id: order.id,
        kind: kind.as_str().to_owned(),
        organization_id: order.organization_id,
        created_at: now,
        modified_at: None,
        requested: 1,
        rendered: 0,
        due_at: Some(now),
        attempts: 0,
        last_error: None,
        path: None,
        checksum: None,
        generated_at: None,
    }
}

/// Polar draws invoices for any order but drafts and voided ones.
fn eligible_for_invoice(status: &str) -> bool {
    !matches!(
        OrderStatus::parse(status),
        None | Some(OrderStatus::Draft | OrderStatus::Void)
    )
}

fn has_billing_details(order: &Order) -> bool {
    order
        .billing_name
        .as_deref()
        .is_some_and(|name| !name.trim().is_empty())
        && order.billing_address.is_some()
}

/// A paid order has a receipt number (its invoice number, see `present`).
fn has_receipt(order: &Order) -> bool {
    order.invoice_number.is_some()
        && matches!(
            OrderStatus::parse(&order.status),
            Some(OrderStatus::Paid | OrderStatus::Refunded | OrderStatus::PartiallyRefunded)
        )
}

/// `orders:generate_invoice`: schedules the invoice unless the stored one was drawn from
/// the order's current billing details.
pub async fn request_invoice(app: &AppState, organization_id: Uuid, id: Uuid) -> ApiResult<()> {
    let txn = crate::db::begin_write(&app.db).await?;
    let order = crate::orders::store::get((&txn).into(), organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    if !eligible_for_invoice(&order.status) {
        return Err(ApiError::Conflict {
            error: "OrderNotEligibleForInvoice",
            detail: format!(
                "Order {id} is not eligible for invoice generation (current status: {}).",
                order.status
            ),
        });
    }
    if !has_billing_details(&order) {
        return Err(ApiError::named(
            StatusCode::UNPROCESSABLE_ENTITY,
            "MissingInvoiceBillingDetails",
            "Billing name and address are required to generate an invoice for this order.",
        ));
    }
    let now = app.clock.now();
    let checksum = content::checksum(&order);
    let scheduled = match store::lock(&txn, id, Kind::Invoice).await? {
        None => {
            store::insert(&txn, new_row(&order, Kind::Invoice, now)).await?;
            true
        }
        Some(mut row) => {
            let pending = row.requested > row.rendered;
            let current = row.path.is_some() && row.checksum.as_deref() == Some(&checksum);
            if pending || !current {
                row.requested += 1;
                // A document being drawn or waiting out a failure keeps its time.
                row.due_at = row.due_at.or(Some(now));
                row.modified_at = Some(now);
                store::update(&txn, row).await?;
                true
            } else {
                false
            }
        }
    };
    txn.commit().await?;
    if scheduled {
        worker::kick(app.clone(), id, Kind::Invoice);
    }
    Ok(())
}

/// `orders:invoice`.
pub async fn invoice(app: &AppState, organization_id: Uuid, id: Uuid) -> ApiResult<OrderInvoice> {
    let order = crate::orders::store::get((&app.reader).into(), organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    let stored = store::get((&app.reader).into(), organization_id, id, Kind::Invoice)
        .await?
        .and_then(|row| row.path);
    let Some(path) = stored else {
        return Err(ApiError::ResourceNotFound(format!(
            "No invoice exists for order {id}."
        )));
    };
    Ok(OrderInvoice {
        url: download_url(app, &order, Kind::Invoice, &path).await?,
    })
}

/// `orders:receipt`: the URL, or `None` while the receipt is drawn (asked for here the
/// first time).
pub async fn receipt(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
) -> ApiResult<Option<OrderReceipt>> {
    let order = crate::orders::store::get((&app.reader).into(), organization_id, id)
        .await?
        .ok_or_else(not_found)?;
    if !has_receipt(&order) {
        return Err(ApiError::ResourceNotFound(format!(
            "No receipt allocated for order {id}."
        )));
    }
    let stored = store::get((&app.reader).into(), organization_id, id, Kind::Receipt).await?;
    if let Some(path) = stored.as_ref().and_then(|row| row.path.as_deref()) {
        return Ok(Some(OrderReceipt {
            url: download_url(app, &order, Kind::Receipt, path).await?,
        }));
    }
    if stored.is_none() {
        let txn = crate::db::begin_write(&app.db).await?;
        if store::lock(&txn, id, Kind::Receipt).await?.is_none() {
            store::insert(&txn, new_row(&order, Kind::Receipt, app.clock.now())).await?;
        }
        txn.commit().await?;
    }
    // Also when it was asked for before: a task cut short by a restart is retried now
    // rather than at the next sweep (the claim keeps two tasks from drawing it at once).
    worker::kick(app.clone(), id, Kind::Receipt);
    Ok(None)
}

async fn download_url(app: &AppState, order: &Order, kind: Kind, path: &str) -> ApiResult<String> {
    let filename = kind.filename(order.invoice_number.as_deref().unwrap_or("order"));
    let presigned = app
        .storage
        .presign_download(
            Bucket::Private,
            path,
            DownloadAs {
                filename: &filename,
                content_type: "application/pdf",
            },
        )
        .await
        .map_err(|error| match error {
            StorageError::Unavailable(reason) => ApiError::Unavailable(reason),
            StorageError::Timeout(reason) => ApiError::UpstreamTimeout(reason),
            other => ApiError::internal(other),
        })?;
    Ok(presigned.url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_and_void_orders_get_no_invoice() {
        assert!(eligible_for_invoice("paid"));
        assert!(eligible_for_invoice("pending"));
        assert!(eligible_for_invoice("refunded"));
        assert!(!eligible_for_invoice("draft"));
        assert!(!eligible_for_invoice("void"));
        assert!(!eligible_for_invoice("unknown"));
    }
}
