//! What the dashboard shows, read through the portal API's own functions with the
//! visitor's session (so it shows exactly what the API would answer), as JSON values the
//! views read by field name. Billing (orders, payment methods, seats, balances) is read
//! only for those who may see it.

use serde::Serialize;
use serde_json::Value;

use crate::app::AppState;
use crate::customer_portal::auth::PortalSession;
use crate::http::{ApiResult, QueryParams};

/// The most of each list the page shows (a portal, not an archive).
const SHOWN: &str = "50";

pub struct Dashboard {
    pub customer: Value,
    pub subscriptions: Vec<Value>,
    pub orders: Vec<Value>,
    pub payment_methods: Vec<Value>,
    pub license_keys: Vec<Value>,
    pub downloadables: Vec<Value>,
    pub wallets: Vec<Value>,
    /// Per seat-based subscription: its ID and its seats list.
    pub seats: Vec<(String, Value)>,
}

fn values<T: Serialize>(items: Vec<T>) -> Vec<Value> {
    items
        .into_iter()
        .filter_map(|item| serde_json::to_value(item).ok())
        .collect()
}

pub async fn dashboard(app: &AppState, session: &PortalSession) -> ApiResult<Dashboard> {
    let page = QueryParams::from_pairs(&[("limit", SHOWN)]);
    let customer = crate::customers::read_many(
        (&app.reader).into(),
        session.organization_id,
        &[session.customer_id],
    )
    .await?
    .into_iter()
    .next()
    .and_then(|customer| serde_json::to_value(customer).ok())
    .unwrap_or_default();
    let subscriptions = crate::subscriptions::portal::list(app, session, &page)
        .await?
        .items;
    let keys = crate::license_keys::portal::list(app, session, &page).await?;
    let mut license_keys = Vec::new();
    for key in keys.items {
        let with = crate::license_keys::portal::get(app, session, key.id).await?;
        license_keys.extend(serde_json::to_value(with).ok());
    }
    let downloadables = values(
        crate::benefits::portal::downloadables(app, session, &page)
            .await?
            .items,
    );
    let mut dashboard = Dashboard {
        customer,
        subscriptions,
        orders: Vec::new(),
        payment_methods: Vec::new(),
        license_keys,
        downloadables,
        wallets: Vec::new(),
        seats: Vec::new(),
    };
    if !session.may_bill() {
        return Ok(dashboard);
    }
    dashboard.orders = crate::orders::portal::list(app, session, &page)
        .await?
        .items;
    dashboard.payment_methods = values(
        crate::customers::portal_methods::list(app, session, &page)
            .await?
            .items,
    );
    dashboard.wallets = values(
        crate::wallets::portal_list(app, session, &page)
            .await?
            .items,
    );
    for subscription in &dashboard.subscriptions {
        if subscription["seats"].is_null() {
            continue;
        }
        let Some(id) = subscription["id"].as_str().and_then(|id| id.parse().ok()) else {
            continue;
        };
        let seats = crate::customer_seats::portal::list(app, session, Some(id), None).await?;
        if let Ok(seats) = serde_json::to_value(seats) {
            dashboard.seats.push((id.to_string(), seats));
        }
    }
    Ok(dashboard)
}
