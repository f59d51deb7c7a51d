//! Checkouts as the merchant's API and the buyer's side show them.

use serde_json::{Map, Value};

use super::entity::Model;
use super::offer::{Offer, Offers, main_price};
use super::schema::{
    AttachedCustomField, BillingAddressFields, Checkout, CheckoutBase, CheckoutDiscount,
    CheckoutOrganization, CheckoutProduct, CheckoutPublic, CheckoutStatus, FieldMode,
};
use crate::address::Address;
use crate::benefits::schema::BenefitPublic;
use crate::discounts::schema::Discount;
use crate::organizations::schema::Organization;
use crate::products::schema::{Interval, Product};

/// The flags the totals gave, as stored with the checkout.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Flags {
    pub is_free_product_price: bool,
    pub is_discount_applicable: bool,
    pub is_payment_required: bool,
    pub is_payment_setup_required: bool,
    pub is_payment_form_required: bool,
}

impl Flags {
    pub fn of(row: &Model) -> Self {
        serde_json::from_str(&row.flags).unwrap_or_default()
    }
}

/// The hosted checkout page of `client_secret`.
pub fn page_url(public_url: &str, client_secret: &str) -> String {
    format!(
        "{}/checkout/{client_secret}",
        public_url.trim_end_matches('/')
    )
}

/// Where the buyer goes after paying: the merchant's URL with `{CHECKOUT_ID}` filled in,
/// else floe's confirmation page.
pub fn success_url(public_url: &str, row: &Model) -> String {
    match &row.success_url {
        Some(url) => url.replace("{CHECKOUT_ID}", &row.id.to_string()),
        None => format!("{}/confirmation", page_url(public_url, &row.client_secret)),
    }
}

/// A stored address, as the API shows it.
pub fn address_of(text: Option<&str>) -> Option<Address> {
    serde_json::from_str(text?).ok()
}

/// Which address fields the buyer must give: the country always; the state in the US and
/// Canada; the full address when the merchant or a business purchase asks for it, and
/// always in the US.
pub fn billing_address_fields(row: &Model) -> BillingAddressFields {
    let address = address_of(row.customer_billing_address.as_deref());
    let country = address.as_ref().map(|a| a.country.as_str());
    let full = row.require_billing_address || row.is_business_customer || country == Some("US");
    let when_full = |mode| if full { mode } else { FieldMode::Disabled };
    BillingAddressFields {
        country: FieldMode::Required,
        state: if matches!(country, Some("US" | "CA")) {
            FieldMode::Required
        } else {
            when_full(FieldMode::Optional)
        },
        city: when_full(FieldMode::Required),
        postal_code: when_full(FieldMode::Required),
        line1: when_full(FieldMode::Required),
        line2: when_full(FieldMode::Optional),
    }
}

/// The trial that applies: the checkout's own, else the product's, on a recurring product
/// when trials are allowed.
pub fn active_trial(row: &Model, product: Option<&Product>) -> Option<(Interval, i64)> {
    let product = product?;
    if !row.allow_trial || !product.base.is_recurring {
        return None;
    }
    let own = row
        .trial_interval
        .as_deref()
        .and_then(Interval::parse)
        .zip(row.trial_interval_count);
    own.or_else(|| {
        product
            .base
            .trial_interval
            .zip(product.base.trial_interval_count)
    })
}

pub fn checkout_product(product: &Product) -> CheckoutProduct {
    let base = &product.base;
    CheckoutProduct {
        id: base.id,
        created_at: base.created_at,
        modified_at: base.modified_at,
        trial_interval: base.trial_interval,
        trial_interval_count: base.trial_interval_count,
        name: base.name.clone(),
        description: base.description.clone(),
        visibility: base.visibility,
        recurring_interval: base.recurring_interval,
        recurring_interval_count: base.recurring_interval_count,
        meter_interval: base.meter_interval,
        meter_interval_count: base.meter_interval_count,
        is_recurring: base.is_recurring,
        is_archived: base.is_archived,
        organization_id: base.organization_id,
        prices: product.prices.clone(),
        benefits: product.benefits.iter().map(BenefitPublic::from).collect(),
        medias: product.medias.clone(),
    }
}

fn checkout_discount(discount: &Discount) -> CheckoutDiscount {
    CheckoutDiscount {
        duration: discount.duration,
        duration_in_months: discount.duration_in_months,
        kind: discount.kind,
        basis_points: discount.basis_points,
        amount: discount.amount,
        currency: discount.currency.clone(),
        amounts: discount.amounts.clone(),
        id: discount.id,
        name: discount.name.clone(),
        code: discount.code.clone(),
    }
}

fn object(text: &str) -> Map<String, Value> {
    serde_json::from_str(text).unwrap_or_default()
}

/// The fields every shape has, for `row` with its `offer`.
pub fn base(public_url: &str, row: &Model, offer: &Offer<'_>, offers: &Offers) -> CheckoutBase {
    let flags = Flags::of(row);
    let product = row.product_id.and_then(|id| offer.product(id));
    let prices_here = row
        .product_id
        .map(|id| offer.prices_in(id, &row.currency))
        .unwrap_or_default();
    let product_price = row
        .product_price_id
        .and_then(|id| {
            offer
                .prices
                .values()
                .flatten()
                .find(|price| price.id == id)
                .cloned()
        })
        .or_else(|| main_price(&prices_here).cloned());
    let trial = active_trial(row, product);
    CheckoutBase {
        id: row.id,
        created_at: row.created_at,
        modified_at: row.modified_at,
        custom_field_data: object(&row.custom_field_data),
        payment_processor: "stripe",
        status: CheckoutStatus::parse(&row.status).unwrap_or(CheckoutStatus::Open),
        client_secret: row.client_secret.clone(),
        url: page_url(public_url, &row.client_secret),
        expires_at: row.expires_at,
        success_url: success_url(public_url, row),
        return_url: row.return_url.clone(),
        embed_origin: row.embed_origin.clone(),
        amount: row.amount,
        seats: row.seats,
        min_seats: row.min_seats,
        max_seats: row.max_seats,
        units: row.units,
        min_units: row.min_units,
        max_units: row.max_units,
        discount_amount: row.discount_amount,
        net_amount: row.net_amount,
        tax_amount: row.tax_amount,
        tax_behavior: product_price.as_ref().and_then(|p| p.tax_behavior.clone()),
        total_amount: row.total_amount,
        currency: row.currency.clone(),
        allow_trial: Some(row.allow_trial),
        active_trial_interval: trial.map(|(interval, _)| interval),
        active_trial_interval_count: trial.map(|(_, count)| count),
        trial_end: row.trial_end,
        organization_id: row.organization_id,
        product_id: row.product_id,
        product_price_id: product_price.as_ref().map(|p| p.id),
        discount_id: row.discount_id,
        allow_discount_codes: row.allow_discount_codes,
        require_billing_address: row.require_billing_address,
        is_discount_applicable: flags.is_discount_applicable,
        is_free_product_price: flags.is_free_product_price,
        is_payment_required: flags.is_payment_required,
        is_payment_setup_required: flags.is_payment_setup_required,
        is_payment_form_required: flags.is_payment_form_required,
        customer_id: row.customer_id,
        is_business_customer: row.is_business_customer,
        customer_name: row.customer_name.clone(),
        customer_email: row.customer_email.clone(),
        customer_ip_address: row.customer_ip_address.clone(),
        customer_billing_name: row.customer_billing_name.clone(),
        customer_billing_address: address_of(row.customer_billing_address.as_deref()),
        customer_tax_id: crate::address::tax_id_from_text(row.customer_tax_id.as_deref())
            .and_then(|value| value.get(0).and_then(Value::as_str).map(str::to_owned)),
        locale: row.locale.clone(),
        payment_method_type: row.payment_method_type.clone(),
        payment_processor_metadata: object(&row.payment_processor_metadata),
        billing_address_fields: billing_address_fields(row),
        products: offer.products.iter().map(|p| checkout_product(p)).collect(),
        product: product.map(checkout_product),
        product_price,
        prices: Some(offer.prices.clone()),
        discount: offers.discount(row.discount_id).map(checkout_discount),
        attached_custom_fields: product.map(|product| {
            product
                .attached_custom_fields
                .iter()
                .map(|field| AttachedCustomField {
                    custom_field_id: field.custom_field_id,
                    custom_field: field.custom_field.clone(),
                    order: field.order,
                    required: field.required,
                })
                .collect()
        }),
    }
}

/// `Checkout`, the merchant's view.
pub fn checkout(public_url: &str, row: &Model, offers: &Offers) -> Checkout {
    let offer = offers.of(row.id);
    Checkout {
        base: base(public_url, row, &offer, offers),
        trial_interval: row.trial_interval.as_deref().and_then(Interval::parse),
        trial_interval_count: row.trial_interval_count,
        metadata: object(&row.metadata),
        external_customer_id: row.external_customer_id.clone(),
        subscription_id: row.subscription_id,
        customer_metadata: object(&row.customer_metadata),
    }
}

/// `CheckoutPublic`, the buyer's view.
pub fn public(
    public_url: &str,
    row: &Model,
    offers: &Offers,
    organization: &Organization,
) -> CheckoutPublic {
    let offer = offers.of(row.id);
    CheckoutPublic {
        base: base(public_url, row, &offer, offers),
        organization: CheckoutOrganization {
            created_at: organization.created_at,
            modified_at: organization.modified_at,
            id: organization.id,
            name: organization.name.clone(),
            slug: organization.slug.clone(),
            avatar_url: organization.avatar_url.clone(),
            proration_behavior: organization.proration_behavior.clone(),
            allow_customer_updates: organization.allow_customer_updates,
        },
    }
}
