//! Opening a checkout link: `GET /v1/checkout-links/{client_secret}/redirect` makes a
//! checkout with the link's products and settings and sends the buyer to its page. Not an
//! API operation (no token, an HTML redirect): served beside the hosted pages.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

use super::schema::CheckoutCreate;
use super::service::{self, Origin};
use crate::app::AppState;
use crate::http::ApiResult;

/// What the link's URL may prefill: `?customer_email=…&customer_name=…&amount=…`.
fn prefill(query: &HashMap<String, String>) -> (Option<String>, Option<String>, Option<i64>) {
    (
        query.get("customer_email").cloned(),
        query.get("customer_name").cloned(),
        query.get("amount").and_then(|a| a.parse().ok()),
    )
}

pub async fn redirect(
    State(app): State<AppState>,
    Path(client_secret): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let link = crate::checkout_links::by_client_secret((&app.reader).into(), &client_secret)
        .await?
        .ok_or_else(|| {
            crate::http::ApiError::ResourceNotFound("Checkout link not found.".to_owned())
        })?;
    let (customer_email, customer_name, amount) = prefill(&query);
    let body = CheckoutCreate {
        products: link.product_ids.clone(),
        prices: None,
        trial_interval: link.trial_interval,
        trial_interval_count: link.trial_interval_count,
        metadata: Some(link.metadata.clone()),
        custom_field_data: None,
        discount_id: link.discount_id,
        allow_discount_codes: Some(link.allow_discount_codes),
        require_billing_address: Some(link.require_billing_address),
        amount,
        seats: link.seats,
        min_seats: None,
        max_seats: None,
        units: link.units,
        min_units: None,
        max_units: None,
        allow_trial: None,
        customer_id: None,
        is_business_customer: None,
        external_customer_id: None,
        customer_name,
        customer_email: customer_email.filter(|e| crate::customers::service::is_email(e)),
        customer_ip_address: None,
        customer_billing_name: None,
        customer_billing_address: None,
        customer_tax_id: None,
        customer_metadata: None,
        subscription_id: None,
        success_url: link.success_url.clone(),
        return_url: link.return_url.clone(),
        embed_origin: None,
        locale: None,
        currency: None,
    };
    let checkout = service::create(
        &app,
        link.organization_id,
        body,
        b"{}",
        Origin::Link(link.id),
    )
    .await?;
    Ok((
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, checkout.base.url)],
    )
        .into_response())
}
