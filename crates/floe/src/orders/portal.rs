//! Orders as their customer reaches them through the portal (`customer_portal:orders:*`):
//! only the session's customer's orders exist here (another customer's is 404, as a draft
//! is: not the customer's yet), shown as `CustomerOrder`; the billing details, invoice and
//! receipt follow the merchant's rules, through the same functions.

use serde_json::Value;
use uuid::Uuid;

use super::entity::Model;
use super::schema::{
    BillingType, OrderInvoice, OrderReceipt, OrderSortProperty, OrderStatus, OrderUpdate,
};
use super::{documents, present, service, store};
use crate::app::AppState;
use crate::customer_portal::auth::PortalSession;
use crate::customer_portal::present::{self as view, Catalog};
use crate::http::pagination::{Direction, SortProperty};
use crate::http::{ApiError, ApiResult, ListResource, Pagination, QueryParams};

/// `CustomerOrderSortProperty` (amount sorts by the net amount, as at Polar).
#[derive(Clone, Copy, Debug)]
struct Sort(OrderSortProperty);

impl SortProperty for Sort {
    const NAMES: &'static [&'static str] = &[
        "created_at",
        "amount",
        "net_amount",
        "product",
        "subscription",
    ];

    fn from_name(name: &str) -> Option<Self> {
        Some(Self(match name {
            "created_at" => OrderSortProperty::CreatedAt,
            "amount" | "net_amount" => OrderSortProperty::NetAmount,
            "product" => OrderSortProperty::Product,
            "subscription" => OrderSortProperty::Subscription,
            _ => return None,
        }))
    }
}

fn not_found() -> ApiError {
    ApiError::ResourceNotFound("Order not found.".to_owned())
}

/// The session's customer's order `id` (not a draft), or 404.
async fn owned(app: &AppState, session: &PortalSession, id: Uuid) -> ApiResult<Model> {
    store::get((&app.reader).into(), session.organization_id, id)
        .await?
        .filter(|row| row.customer_id == session.customer_id)
        .filter(|row| row.status != OrderStatus::Draft.as_str())
        .ok_or_else(not_found)
}

/// `CustomerOrder`s of `rows`.
async fn show(app: &AppState, session: &PortalSession, rows: &[Model]) -> ApiResult<Vec<Value>> {
    let orders = present::orders((&app.reader).into(), session.organization_id, rows).await?;
    let product_ids: Vec<Uuid> = rows.iter().filter_map(|row| row.product_id).collect();
    let (products, organization) =
        view::catalog_of(app, session.organization_id, &product_ids).await?;
    let catalog = Catalog {
        products,
        organization: &organization,
    };
    Ok(orders
        .into_iter()
        .zip(rows)
        .map(|(order, row)| view::order(order, row.product_id, &catalog))
        .collect())
}

/// `customer_portal:orders:list`.
pub async fn list(
    app: &AppState,
    session: &PortalSession,
    query: &QueryParams,
) -> ApiResult<ListResource<Value>> {
    let pagination = Pagination::from_query(query)?;
    let sorting: Vec<(OrderSortProperty, Direction)> = query
        .sorting(&[(Sort(OrderSortProperty::CreatedAt), Direction::Descending)])?
        .into_iter()
        .map(|(sort, direction)| (sort.0, direction))
        .collect();
    let filter = store::ListFilter {
        product_ids: query.uuids("product_id")?,
        billing_types: query.enums::<BillingType>("product_billing_type")?,
        subscription_ids: query.uuids("subscription_id")?,
        customer_ids: Some(vec![session.customer_id]),
        statuses: Some(
            OrderStatus::ALL
                .into_iter()
                .filter(|status| *status != OrderStatus::Draft)
                .collect(),
        ),
        product_name: query.text("query"),
        ..store::ListFilter::default()
    };
    let (rows, total) = store::list(
        &app.reader,
        session.organization_id,
        &filter,
        &sorting,
        pagination,
    )
    .await?;
    let items = show(app, session, &rows).await?;
    Ok(ListResource::new(items, total, pagination))
}

/// `customer_portal:orders:get`.
pub async fn get(app: &AppState, session: &PortalSession, id: Uuid) -> ApiResult<Value> {
    let row = owned(app, session, id).await?;
    show(app, session, std::slice::from_ref(&row))
        .await?
        .pop()
        .ok_or_else(not_found)
}

/// `customer_portal:orders:update`: the billing name and address lines, as the merchant's
/// update (`order.updated` follows).
pub async fn update(
    app: &AppState,
    session: &PortalSession,
    id: Uuid,
    patch: OrderUpdate,
) -> ApiResult<Value> {
    owned(app, session, id).await?;
    service::update(app, session.organization_id, id, patch).await?;
    get(app, session, id).await
}

/// `customer_portal:orders:generate_invoice`.
pub async fn generate_invoice(app: &AppState, session: &PortalSession, id: Uuid) -> ApiResult<()> {
    owned(app, session, id).await?;
    documents::service::request_invoice(app, session.organization_id, id).await
}

/// `customer_portal:orders:invoice`.
pub async fn invoice(app: &AppState, session: &PortalSession, id: Uuid) -> ApiResult<OrderInvoice> {
    owned(app, session, id).await?;
    documents::service::invoice(app, session.organization_id, id).await
}

/// `customer_portal:orders:receipt`: `None` while it is drawn.
pub async fn receipt(
    app: &AppState,
    session: &PortalSession,
    id: Uuid,
) -> ApiResult<Option<OrderReceipt>> {
    owned(app, session, id).await?;
    documents::service::receipt(app, session.organization_id, id).await
}

/// `CustomerOrderPaymentStatus`.
#[derive(Debug, serde::Serialize)]
pub struct PaymentStatus {
    status: String,
    error: Option<String>,
}

/// `customer_portal:orders:get_payment_status`: the order's latest payment, or
/// `no_payment`.
pub async fn payment_status(
    app: &AppState,
    session: &PortalSession,
    id: Uuid,
) -> ApiResult<PaymentStatus> {
    owned(app, session, id).await?;
    let latest =
        crate::payments::store::latest_of_order(&app.reader, session.organization_id, id).await?;
    Ok(match latest {
        Some(payment) => PaymentStatus {
            status: payment.status,
            error: payment.decline_message,
        },
        None => PaymentStatus {
            status: "no_payment".to_owned(),
            error: None,
        },
    })
}

/// `CustomerOrderConfirmPayment`: a saved method, or a new one by its confirmation token.
#[derive(Debug, serde::Deserialize)]
pub struct ConfirmPayment {
    #[serde(default)]
    confirmation_token_id: Option<String>,
    #[serde(default)]
    payment_method_id: Option<Uuid>,
    #[serde(default)]
    #[allow(
        dead_code,
        reason = "the contract's only value, `stripe`: the account decides"
    )]
    payment_processor: Option<String>,
}

/// The contract's only 422 for `confirm-payment` is `OrderNotEligibleForRetry`: a body
/// floe cannot take is answered in that shape, saying why.
fn refused_body(detail: impl Into<String>) -> ApiError {
    ApiError::named(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "OrderNotEligibleForRetry",
        detail,
    )
}

/// Reads a `CustomerOrderConfirmPayment` body.
pub fn parse_confirm_payment(body: &[u8]) -> ApiResult<ConfirmPayment> {
    crate::http::extract::parse_json(body).map_err(|error| match error {
        ApiError::Validation(issues) => refused_body(
            issues
                .first()
                .map_or_else(|| "Invalid body.".to_owned(), |issue| issue.msg.clone()),
        ),
        other => other,
    })
}

/// `customer_portal:orders:confirm_retry_payment`: the customer pays its failed
/// subscription order now (see `subscriptions::customer_retry`).
pub async fn confirm_retry_payment(
    app: &AppState,
    session: &PortalSession,
    id: Uuid,
    body: ConfirmPayment,
) -> ApiResult<crate::subscriptions::customer_retry::RetryOutcome> {
    use crate::customers::portal_methods::{self, MethodCreate, MethodCreated};
    use crate::subscriptions::customer_retry::{self, RetryOutcome};
    owned(app, session, id).await?;
    let method_id = match (body.payment_method_id, body.confirmation_token_id) {
        (Some(method_id), None) => method_id,
        (None, Some(token)) => {
            let added = portal_methods::add(
                app,
                session,
                MethodCreate::for_payment(token, app.config.public_url.clone()),
            )
            .await;
            match added {
                Ok(MethodCreated::Succeeded { payment_method, .. }) => payment_method.id,
                Ok(MethodCreated::RequiresAction { client_secret, .. }) => {
                    return Ok(RetryOutcome {
                        status: "requires_action",
                        client_secret: Some(client_secret),
                        error: None,
                    });
                }
                Err(ApiError::Named { detail, .. }) => {
                    return Ok(RetryOutcome {
                        status: "failed",
                        client_secret: None,
                        error: Some(detail),
                    });
                }
                Err(other) => return Err(other),
            }
        }
        _ => {
            return Err(refused_body(
                "Give either confirmation_token_id or payment_method_id.",
            ));
        }
    };
    let method =
        crate::payments::store::live_method_of_customer(&app.db, session.customer_id, method_id)
            .await?
            .ok_or_else(|| refused_body("Payment method does not exist."))?;
    customer_retry::retry(app, id, method).await
}
