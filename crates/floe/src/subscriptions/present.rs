//! Subscriptions as the API shows them: a page with its customers, products, discounts and
//! prices in a fixed number of queries, whatever its size.

use std::collections::HashMap;

use serde_json::Value;
use uuid::Uuid;

use super::entity::Model;
use super::schema::{
    CustomerStateSubscription, Subscription, SubscriptionBase, SubscriptionMeter,
    SubscriptionMeterState, SubscriptionStatus,
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
        status: row.current_status(),
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
    let pending: HashMap<Uuid, Value> = super::pending::updates_of(db, &ids)
        .await?
        .iter()
        .map(|update| (update.subscription_id, super::change::shown(update)))
        .collect();
    let mut meters = HashMap::new();
    for row in rows {
        let metered: Vec<&crate::products::schema::Price> = billed
            .iter()
            .filter(|link| link.subscription_id == row.id)
            .filter_map(|link| prices.get(&link.price_id))
            .filter(|price| crate::pricing::totals::is_metered(price))
            .collect();
        if metered.is_empty() {
            continue;
        }
        let external_id = customers
            .get(&row.customer_id)
            .and_then(|c| c.external_id.clone());
        meters.insert(
            row.id,
            current_usage(db, row, external_id.as_deref(), &metered).await?,
        );
    }
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
                meters: meters.get(&row.id).cloned().unwrap_or_default(),
                pending_update: pending.get(&row.id).cloned(),
            })
        })
        .collect())
}

/// What each of `metered` (prices of `row`) used so far and not billed yet (in the current
/// period, or meter period). Nothing used during a trial is charged.
async fn current_usage(
    db: Reads<'_>,
    row: &Model,
    external_id: Option<&str>,
    metered: &[&crate::products::schema::Price],
) -> Result<Vec<SubscriptionMeter>, sea_orm::DbErr> {
    let trialing = row.status == SubscriptionStatus::Trialing.as_str();
    Ok(super::usage::of_window(
        db,
        row.organization_id,
        (row.customer_id, external_id),
        metered,
        row.usage_since.unwrap_or(row.current_period_start),
        row.current_period_end,
    )
    .await?
    .into_iter()
    .map(|used| SubscriptionMeter {
        state: SubscriptionMeterState {
            created_at: row.created_at,
            modified_at: row.modified_at,
            id: crate::customer_meters::state_id(row.id, used.meter.id),
            consumed_units: used.consumed,
            credited_units: used.credited,
            amount: if trialing { 0 } else { used.amount },
            meter_id: used.meter.id,
        },
        meter: used.meter,
    })
    .collect())
}

/// A customer's active and trialing subscriptions, for `CustomerState`.
pub async fn customer_state(
    db: Reads<'_>,
    organization_id: Uuid,
    customer_id: Uuid,
) -> Result<Vec<CustomerStateSubscription>, sea_orm::DbErr> {
    let rows = store::active_of_customer(db, organization_id, customer_id).await?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let billed = store::prices_of(db, &ids).await?;
    let price_ids = unique(billed.iter().map(|link| link.price_id));
    let metered: Vec<crate::products::schema::Price> =
        crate::products::sale::prices_by_ids(db, organization_id, &price_ids)
            .await?
            .into_iter()
            .filter(crate::pricing::totals::is_metered)
            .collect();
    let external_id = if metered.is_empty() {
        None
    } else {
        crate::customers::read_many(db, organization_id, &[customer_id])
            .await?
            .pop()
            .and_then(|c| c.external_id)
    };
    let mut shown = Vec::with_capacity(rows.len());
    for row in &rows {
        let own: Vec<&crate::products::schema::Price> = metered
            .iter()
            .filter(|price| {
                billed
                    .iter()
                    .any(|link| link.subscription_id == row.id && link.price_id == price.id)
            })
            .collect();
        let meters = if own.is_empty() {
            Vec::new()
        } else {
            current_usage(db, row, external_id.as_deref(), &own)
                .await?
                .into_iter()
                .map(|m| m.state)
                .collect()
        };
        let base = base(row);
        shown.push(CustomerStateSubscription {
            id: row.id,
            created_at: row.created_at,
            modified_at: row.modified_at,
            custom_field_data: serde_json::from_str(&row.custom_field_data).unwrap_or_default(),
            metadata: base.metadata,
            status: base.status,
            amount: row.amount,
            currency: row.currency.clone(),
            recurring_interval: base.recurring_interval,
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
            meters,
        });
    }
    Ok(shown)
}
