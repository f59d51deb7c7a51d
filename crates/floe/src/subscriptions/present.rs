//! Subscriptions as the API shows them: a page with its customers, products, discounts and
//! prices in a fixed number of queries, whatever its size.

use std::collections::HashMap;

use uuid::Uuid;

use super::entity::Model;
use super::schema::{
    CustomerStateSubscription, Subscription, SubscriptionBase, SubscriptionStatus,
};
use super::store;
use crate::db::Reads;
use crate::http::ApiResult;
use crate::products::schema::Interval;
use crate::storage::ObjectStorage;

fn unique(ids: impl Iterator<Item = Uuid>) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The subscription's own fields (`OrderSubscription`).
pub fn base(row: &Model) -> SubscriptionBase {
    SubscriptionBase {
        metadata: crate::metadata::from_text(&row.metadata),
        created_at: row.created_at,
        modified_at: row.modified_at,
        id: row.id,
        amount: row.amount,
        currency: row.currency.clone(),
        recurring_interval: Interval::parse(&row.recurring_interval).unwrap_or(Interval::Month),
        recurring_interval_count: row.recurring_interval_count,
        status: SubscriptionStatus::parse(&row.status).unwrap_or(SubscriptionStatus::Active),
        current_period_start: row.current_period_start,
        current_period_end: row.current_period_end,
        current_meter_period_start: row.current_meter_period_start,
        current_meter_period_end: row.current_meter_period_end,
        trial_start: row.trial_start,
        trial_end: row.trial_end,
        cancel_at_period_end: row.cancel_at_period_end,
        canceled_at: row.canceled_at,
        started_at: row.started_at,
        ends_at: row.ends_at,
        ended_at: row.ended_at,
        past_due_at: row.past_due_at,
        pause_at_period_end: row.pause_at_period_end,
        paused_at: row.paused_at,
        resumes_at: row.resumes_at,
        customer_id: row.customer_id,
        product_id: row.product_id,
        discount_id: row.discount_id,
        checkout_id: row.checkout_id,
        seats: row.seats,
        units: row.units,
        customer_cancellation_reason: row.customer_cancellation_reason.clone(),
        customer_cancellation_comment: row.customer_cancellation_comment.clone(),
    }
}

/// `rows` (subscriptions of `organization_id`) as the API shows them, in the same order.
pub async fn subscriptions(
    db: Reads<'_>,
    storage: &dyn ObjectStorage,
    organization_id: Uuid,
    rows: &[Model],
) -> ApiResult<Vec<Subscription>> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let billed = store::prices_of(db, &ids).await?;
    let price_ids = unique(billed.iter().map(|link| link.price_id));
    let prices: HashMap<Uuid, _> =
        crate::products::sale::prices_by_ids(db, organization_id, &price_ids)
            .await?
            .into_iter()
            .map(|price| (price.id, price))
            .collect();
    let customer_ids = unique(rows.iter().map(|row| row.customer_id));
    let customers: HashMap<Uuid, _> =
        crate::customers::read_many(db, organization_id, &customer_ids)
            .await?
            .into_iter()
            .map(|customer| (customer.id, customer))
            .collect();
    let product_ids = unique(rows.iter().map(|row| row.product_id));
    let products: HashMap<Uuid, _> =
        crate::products::sale::read_many_with_deleted(db, storage, organization_id, &product_ids)
            .await?
            .into_iter()
            .map(|product| (product.base.id, product))
            .collect();
    let discount_ids = unique(rows.iter().filter_map(|row| row.discount_id));
    let discounts = crate::discounts::bases_by_id(db, organization_id, &discount_ids).await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(Subscription {
                base: base(row),
                custom_field_data: serde_json::from_str(&row.custom_field_data).unwrap_or_default(),
                customer: customers.get(&row.customer_id)?.clone(),
                product: products.get(&row.product_id)?.clone(),
                discount: row.discount_id.and_then(|id| discounts.get(&id).cloned()),
                prices: billed
                    .iter()
                    .filter(|link| link.subscription_id == row.id)
                    .filter_map(|link| prices.get(&link.price_id).cloned())
                    .collect(),
                meters: Vec::new(),
                pending_update: None,
            })
        })
        .collect())
}

/// A customer's active and trialing subscriptions, for `CustomerState`.
pub async fn customer_state(
    db: Reads<'_>,
    organization_id: Uuid,
    customer_id: Uuid,
) -> Result<Vec<CustomerStateSubscription>, sea_orm::DbErr> {
    Ok(store::active_of_customer(db, organization_id, customer_id)
        .await?
        .iter()
        .map(|row| {
            let shown = base(row);
            CustomerStateSubscription {
                id: row.id,
                created_at: row.created_at,
                modified_at: row.modified_at,
                custom_field_data: serde_json::from_str(&row.custom_field_data).unwrap_or_default(),
                metadata: shown.metadata,
                status: shown.status,
                amount: row.amount,
                currency: row.currency.clone(),
                recurring_interval: shown.recurring_interval,
                current_period_start: row.current_period_start,
                current_period_end: row.current_period_end,
                trial_start: row.trial_start,
                trial_end: row.trial_end,
                cancel_at_period_end: row.cancel_at_period_end,
                canceled_at: row.canceled_at,
                started_at: row.started_at,
                ends_at: row.ends_at,
                product_id: row.product_id,
                discount_id: row.discount_id,
                seats: row.seats,
                units: row.units,
                meters: Vec::new(),
            }
        })
        .collect())
}
