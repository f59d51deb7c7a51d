//! The portal's views of records the merchant API also shows. A customer sees its orders,
//! subscriptions and meters as the merchant does, less what is the merchant's alone: the
//! metadata, custom field answers, discount record, platform fees and the customer record
//! itself, and with products and meters cut down to what a buyer may see (no metadata, no
//! meter definitions). Each view is the merchant's record projected field by field, so the
//! two can never disagree about a total or a date; the lists of dropped fields below are
//! the contract's differences between each pair of schemas.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::organization::CustomerOrganization;
use crate::benefits::schema::BenefitPublic;
use crate::products::schema::Product;

/// `Order` fields `CustomerOrder` leaves out.
const ORDER_PRIVATE: &[&str] = &[
    "custom_field_data",
    "customer",
    "discount",
    "metadata",
    "platform_fee_amount",
    "platform_fee_currency",
];
/// `Subscription` fields `CustomerSubscription` leaves out.
const SUBSCRIPTION_PRIVATE: &[&str] = &["custom_field_data", "customer", "discount", "metadata"];
/// `Product` fields the customer's product views leave out.
const PRODUCT_PRIVATE: &[&str] = &["metadata", "attached_custom_fields", "is_deletable"];
/// What a customer sees of a meter (`CustomerCustomerMeterMeter`,
/// `CustomerSubscriptionMeterMeter`).
const METER_PUBLIC: &[&str] = &["created_at", "modified_at", "id", "name"];

fn object(value: impl Serialize) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        // Every record here serializes to an object.
        _ => Map::new(),
    }
}

fn without(mut map: Map<String, Value>, private: &[&str]) -> Map<String, Value> {
    for key in private {
        map.remove(*key);
    }
    map
}

fn only(map: &Map<String, Value>, public: &[&str]) -> Map<String, Value> {
    public
        .iter()
        .filter_map(|key| Some(((*key).to_owned(), map.get(*key)?.clone())))
        .collect()
}

/// `CustomerOrderProduct` / `CustomerSubscriptionProduct`: the product as its buyer sees it,
/// with its seller.
fn customer_product(product: &Product, organization: &CustomerOrganization) -> Value {
    let mut map = without(object(product), PRODUCT_PRIVATE);
    let benefits: Vec<BenefitPublic> = product.benefits.iter().map(BenefitPublic::from).collect();
    map.insert("benefits".to_owned(), serde_json::json!(benefits));
    map.insert("organization".to_owned(), serde_json::json!(organization));
    Value::Object(map)
}

/// The products a page of records names, by ID, and their seller, to present them with.
pub struct Catalog<'a> {
    pub products: HashMap<Uuid, Product>,
    pub organization: &'a CustomerOrganization,
}

impl Catalog<'_> {
    fn product(&self, id: Option<Uuid>) -> Value {
        id.and_then(|id| self.products.get(&id))
            .map_or(Value::Null, |product| {
                customer_product(product, self.organization)
            })
    }
}

/// `CustomerOrder`.
pub fn order(order: impl Serialize, product_id: Option<Uuid>, catalog: &Catalog<'_>) -> Value {
    let mut map = without(object(order), ORDER_PRIVATE);
    map.insert("product".to_owned(), catalog.product(product_id));
    if let Some(Value::Object(subscription)) = map.get_mut("subscription") {
        subscription.remove("metadata");
    }
    Value::Object(map)
}

/// `CustomerSubscription`.
pub fn subscription(
    subscription: impl Serialize,
    product_id: Uuid,
    catalog: &Catalog<'_>,
) -> Value {
    let mut map = without(object(subscription), SUBSCRIPTION_PRIVATE);
    map.insert("product".to_owned(), catalog.product(Some(product_id)));
    if let Some(Value::Array(meters)) = map.get_mut("meters") {
        for meter in meters.iter_mut() {
            cut_meter(meter);
        }
    }
    Value::Object(map)
}

/// `CustomerCustomerMeter`.
pub fn customer_meter(meter: impl Serialize) -> Value {
    let mut value = Value::Object(without(object(meter), &["customer"]));
    cut_meter(&mut value);
    value
}

/// Replaces the `meter` of a record with what a customer sees of it.
fn cut_meter(record: &mut Value) {
    if let Some(meter) = record.get_mut("meter")
        && let Value::Object(full) = meter
    {
        *meter = Value::Object(only(full, METER_PUBLIC));
    }
}

/// The catalog to present records of `organization_id` that name `product_ids` (deleted
/// products included: a record keeps showing what was sold).
pub async fn catalog_of(
    app: &crate::app::AppState,
    organization_id: Uuid,
    product_ids: &[Uuid],
) -> crate::http::ApiResult<(HashMap<Uuid, Product>, CustomerOrganization)> {
    let mut ids = product_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let products = crate::products::sale::read_many_with_deleted(
        (&app.reader).into(),
        app.storage.as_ref(),
        organization_id,
        &ids,
    )
    .await?
    .into_iter()
    .map(|product| (product.base.id, product))
    .collect();
    Ok((products, seller(app, organization_id).await?))
}

/// The organization as its customers see it on their records.
pub async fn seller(
    app: &crate::app::AppState,
    organization_id: Uuid,
) -> crate::http::ApiResult<CustomerOrganization> {
    Ok(crate::organizations::read(&app.db, organization_id)
        .await?
        .ok_or_else(crate::http::ApiError::not_found)?
        .into())
}

/// `BenefitSubscriberOrganization`: the seller as a benefit's holder sees it.
const SUBSCRIBER_ORGANIZATION: &[&str] = &[
    "created_at",
    "modified_at",
    "id",
    "name",
    "slug",
    "avatar_url",
    "proration_behavior",
    "allow_customer_updates",
];

/// What a benefit's holder may see of its properties, by type (`Benefit…SubscriberProperties`):
/// never the merchant's integration secrets (a Discord bot's token) or settings.
fn subscriber_properties(kind: &str, properties: &Map<String, Value>) -> Map<String, Value> {
    match kind {
        "custom" => only(properties, &["note"]),
        "license_keys" => only(
            properties,
            &["prefix", "expires", "activations", "limit_usage"],
        ),
        "meter_credit" => only(properties, &["units", "rollover", "meter_id"]),
        "discord" => only(properties, &["guild_id"]),
        "github_repository" => only(properties, &["repository_owner", "repository_name"]),
        "downloadables" => {
            // The files not archived, in their order.
            let archived = properties.get("archived").and_then(Value::as_object);
            let active: Vec<Value> = properties
                .get("files")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|file| {
                    !file.as_str().is_some_and(|id| {
                        archived
                            .and_then(|archived| archived.get(id))
                            .and_then(Value::as_bool)
                            .unwrap_or(false)
                    })
                })
                .cloned()
                .collect();
            let mut map = Map::new();
            map.insert("active_files".to_owned(), Value::Array(active));
            map
        }
        _ => Map::new(),
    }
}

/// `Benefit…Subscriber`: a benefit as its holder sees it, with its seller.
pub fn benefit_subscriber(
    benefit: &crate::benefits::schema::Benefit,
    organization: &CustomerOrganization,
) -> Value {
    let mut map = without(
        object(benefit),
        &["metadata", "visibility", "visibility_configurable"],
    );
    map.insert(
        "properties".to_owned(),
        Value::Object(subscriber_properties(
            benefit.kind.as_str(),
            &benefit.properties,
        )),
    );
    map.insert(
        "organization".to_owned(),
        Value::Object(only(&object(organization), SUBSCRIBER_ORGANIZATION)),
    );
    Value::Object(map)
}

/// `CustomerBenefitGrant…`: a grant as its holder sees it.
pub fn benefit_grant(
    grant: crate::benefits::BenefitGrant,
    organization: &CustomerOrganization,
) -> Value {
    let benefit = benefit_subscriber(&grant.benefit, organization);
    let customer = super::customer::PortalCustomer::from(grant.customer.clone());
    let mut map = without(object(&grant), &["member"]);
    map.insert("benefit".to_owned(), benefit);
    map.insert("customer".to_owned(), serde_json::json!(customer));
    Value::Object(map)
}
