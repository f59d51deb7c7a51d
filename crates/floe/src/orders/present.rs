//! Orders as the API shows them: a page with its items, customers, products and discounts
//! in a fixed number of queries.

use std::collections::HashMap;

use serde_json::Value;
use uuid::Uuid;

use super::entity::Model;
use super::schema::{Order, OrderItem, OrderStatus};
use super::store;
use crate::db::{Reads, unique};
use crate::http::ApiResult;

/// `rows` (orders of `organization_id`) as the API shows them, in the same order.
pub async fn orders(db: Reads<'_>, organization_id: Uuid, rows: &[Model]) -> ApiResult<Vec<Order>> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let items = store::items(db, &ids).await?;
    let customer_ids = unique(rows.iter().map(|row| row.customer_id));
    let customers: HashMap<Uuid, _> =
        crate::customers::read_many(db, organization_id, &customer_ids)
            .await?
            .into_iter()
            .map(|customer| (customer.id, customer))
            .collect();
    let product_ids = unique(rows.iter().filter_map(|row| row.product_id));
    let products: HashMap<Uuid, _> =
        crate::products::bases_with_deleted(db, organization_id, &product_ids)
            .await?
            .into_iter()
            .map(|product| (product.id, product))
            .collect();
    let discount_ids = unique(rows.iter().filter_map(|row| row.discount_id));
    let discounts = crate::discounts::bases_by_id(db, organization_id, &discount_ids).await?;
    let subscription_ids = unique(rows.iter().filter_map(|row| row.subscription_id));
    let subscriptions: HashMap<Uuid, Value> =
        crate::subscriptions::bases(db, organization_id, &subscription_ids)
            .await?
            .into_iter()
            .map(|s| (s.id, serde_json::to_value(&s).unwrap_or_default()))
            .collect();
    Ok(rows
        .iter()
        .filter_map(|row| {
            let customer = customers.get(&row.customer_id)?.clone();
            let status = OrderStatus::parse(&row.status)?;
            let paid = matches!(
                status,
                OrderStatus::Paid | OrderStatus::Refunded | OrderStatus::PartiallyRefunded
            );
            // As at Polar: what the balance paid is not refunded, and `refunded_amount`
            // is what went back before tax.
            let refundable = if paid {
                (row.net_amount + row.applied_balance_amount - row.refunded_amount).max(0)
            } else {
                0
            };
            Some(Order {
                id: row.id,
                created_at: row.created_at,
                modified_at: row.modified_at,
                status,
                paid,
                subtotal_amount: row.subtotal_amount,
                discount_amount: row.discount_amount,
                net_amount: row.net_amount,
                tax_amount: row.tax_amount,
                total_amount: row.total_amount,
                applied_balance_amount: row.applied_balance_amount,
                due_amount: row.due_amount(),
                refunded_amount: row.refunded_amount,
                refunded_tax_amount: row.refunded_tax_amount,
                currency: row.currency.clone(),
                billing_reason: row.billing_reason.clone(),
                billing_name: row.billing_name.clone(),
                billing_address: row
                    .billing_address
                    .as_deref()
                    .and_then(|text| serde_json::from_str(text).ok()),
                invoice_number: row.invoice_number.clone(),
                is_invoice_generated: row.is_invoice_generated,
                receipt_number: paid.then(|| row.invoice_number.clone()).flatten(),
                seats: row.seats,
                units: row.units,
                customer_id: row.customer_id,
                product_id: row.product_id,
                discount_id: row.discount_id,
                subscription_id: row.subscription_id,
                checkout_id: row.checkout_id,
                next_payment_attempt_at: row.next_payment_attempt_at,
                metadata: crate::metadata::from_text(&row.metadata),
                custom_field_data: serde_json::from_str(&row.custom_field_data).unwrap_or_default(),
                platform_fee_amount: row.platform_fee_amount,
                platform_fee_currency: None,
                customer,
                product: row.product_id.and_then(|id| products.get(&id).cloned()),
                discount: row.discount_id.and_then(|id| discounts.get(&id).cloned()),
                subscription: row
                    .subscription_id
                    .and_then(|id| subscriptions.get(&id).cloned()),
                items: items
                    .iter()
                    .filter(|item| item.order_id == row.id)
                    .map(|item| OrderItem {
                        created_at: item.created_at,
                        modified_at: item.modified_at,
                        id: item.id,
                        label: item.label.clone(),
                        amount: item.amount,
                        tax_amount: item.tax_amount,
                        proration: item.proration,
                        product_price_id: item.product_price_id,
                        start_timestamp: item.start_timestamp,
                        end_timestamp: item.end_timestamp,
                    })
                    .collect(),
                description: row.description.clone(),
                refundable_amount: refundable,
                refundable_tax_amount: if paid {
                    (row.tax_amount - row.refunded_tax_amount).max(0)
                } else {
                    0
                },
            })
        })
        .collect())
}
