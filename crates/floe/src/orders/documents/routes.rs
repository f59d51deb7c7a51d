//! Handlers of the order documents: `orders:generate_invoice`, `orders:invoice` and
//! `orders:receipt`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::service;
use crate::app::AppState;
use crate::auth::Authorized;
use crate::http::{ApiResult, IdPath};
use crate::orders::routes::OrdersRead;
use crate::orders::schema::{OrderInvoice, OrderReceipt};

/// `orders:generate_invoice`: 202 once the invoice is scheduled (or already drawn from the
/// order's current billing details); `order.updated` follows when it is stored.
pub async fn generate_invoice(
    auth: Authorized<OrdersRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<Response> {
    service::request_invoice(&app, auth.organization_id, id).await?;
    // The contract's 202 is JSON with any schema; Polar's body is `null`.
    Ok((StatusCode::ACCEPTED, axum::Json(serde_json::Value::Null)).into_response())
}

/// `orders:invoice`: a signed URL of the invoice once it was generated; 404 before.
pub async fn invoice(
    auth: Authorized<OrdersRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<OrderInvoice>> {
    Ok(axum::Json(
        service::invoice(&app, auth.organization_id, id).await?,
    ))
}

/// `orders:receipt`: a signed URL of the receipt of a paid order, or 202 (no body) while it
/// is being generated; the first request starts that.
pub async fn receipt(
    auth: Authorized<OrdersRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<Response> {
    Ok(
        match service::receipt(&app, auth.organization_id, id).await? {
            Some(receipt) => axum::Json::<OrderReceipt>(receipt).into_response(),
            None => StatusCode::ACCEPTED.into_response(),
        },
    )
}
