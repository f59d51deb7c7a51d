//! What an invoice and a receipt say about an order, in words: the seller, the buyer's
//! billing details, the lines and the totals, with amounts written by `money::display`.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::Kind;
use super::pdf::Sheet;
use crate::orders::entity::{Model, item};

/// Bump when the documents' wording or layout changes, so that an invoice asked for again
/// is drawn again even though the order's details did not change.
const TEMPLATE_VERSION: u32 = 1;

/// Everything a document is drawn from.
pub struct Source<'a> {
    pub order: &'a Model,
    pub items: &'a [item::Model],
    /// The organization's name.
    pub seller: &'a str,
}

/// A digest of what may change on an order after its invoice was drawn (the billing
/// details): an invoice asked for again is only drawn again when it differs.
pub fn checksum(order: &Model) -> String {
    let inputs = serde_json::json!([TEMPLATE_VERSION, order.billing_name, order.billing_address]);
    hex::encode(Sha256::digest(inputs.to_string().as_bytes()))
}

fn date(at: DateTime<Utc>) -> String {
    at.format("%B %-d, %Y").to_string()
}

/// The billing name, then the address a line each (postal code and city on one).
fn buyer(order: &Model) -> Vec<String> {
    let mut lines: Vec<String> = order.billing_name.iter().cloned().collect();
    let address: Option<crate::address::Address> = order
        .billing_address
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok());
    if let Some(address) = address {
        let city: Vec<&str> = [address.postal_code.as_deref(), address.city.as_deref()]
            .into_iter()
            .flatten()
            .filter(|part| !part.trim().is_empty())
            .collect();
        lines.extend(address.line1);
        lines.extend(address.line2);
        lines.push(city.join(" "));
        lines.extend(address.state);
        lines.push(address.country);
    }
    lines.retain(|line| !line.trim().is_empty());
    lines
}

/// The sheet of `kind` for `source`.
pub fn sheet(kind: Kind, source: &Source<'_>) -> Sheet {
    let order = source.order;
    let money = |amount: i64| crate::money::display(amount, &order.currency);
    let number = order.invoice_number.clone().unwrap_or_default();
    let mut totals = vec![("Subtotal".to_owned(), money(order.subtotal_amount), false)];
    if order.discount_amount != 0 {
        totals.push(("Discount".to_owned(), money(-order.discount_amount), false));
    }
    totals.push(("Tax".to_owned(), money(order.tax_amount), false));
    totals.push(("Total".to_owned(), money(order.total_amount), true));
    if order.applied_balance_amount != 0 {
        totals.push((
            "Paid from balance".to_owned(),
            money(order.applied_balance_amount),
            false,
        ));
    }
    let facts = match kind {
        Kind::Invoice => vec![
            ("Invoice number".to_owned(), number),
            ("Date of issue".to_owned(), date(order.created_at)),
        ],
        Kind::Receipt => {
            let paid_at = order.paid_at.unwrap_or(order.created_at);
            totals.push(("Amount paid".to_owned(), money(order.due_amount()), true));
            vec![
                ("Receipt number".to_owned(), number),
                ("Status".to_owned(), "Paid".to_owned()),
                ("Date paid".to_owned(), date(paid_at)),
            ]
        }
    };
    Sheet {
        title: match kind {
            Kind::Invoice => "Invoice",
            Kind::Receipt => "Receipt",
        }
        .to_owned(),
        facts,
        seller: vec![source.seller.to_owned()],
        buyer: buyer(order),
        items: source
            .items
            .iter()
            .map(|item| (item.label.clone(), money(item.amount)))
            .collect(),
        totals,
    }
}
