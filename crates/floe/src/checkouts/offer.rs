//! What checkouts offer: their products as the catalog shows them, the prices each product
//! is sold at in the checkout (its own, or prices made for that checkout), and the
//! discounts they name. Read for a whole page of checkouts at once.

use std::collections::{BTreeMap, HashMap};

use uuid::Uuid;

use super::entity::{Model, product};
use super::store;
use crate::db::Reads;
use crate::discounts::schema::Discount;
use crate::http::ApiResult;
use crate::products::schema::{Price, PriceAmount, Product};
use crate::storage::ObjectStorage;

/// The products, prices and discounts of some checkouts of one organization.
#[derive(Default)]
pub struct Offers {
    products: HashMap<Uuid, Product>,
    links: Vec<product::Model>,
    ad_hoc: HashMap<Uuid, Price>,
    discounts: HashMap<Uuid, Discount>,
}

/// One checkout's offer.
pub struct Offer<'a> {
    /// The products, in the checkout's order.
    pub products: Vec<&'a Product>,
    /// Each product's prices in this checkout (every currency, archived ones left out).
    pub prices: BTreeMap<Uuid, Vec<Price>>,
}

impl Offers {
    /// What one checkout offers.
    pub async fn of_checkout(
        db: Reads<'_>,
        storage: &dyn ObjectStorage,
        row: &Model,
    ) -> ApiResult<Self> {
        Self::load(db, storage, row.organization_id, std::slice::from_ref(row)).await
    }

    pub async fn load(
        db: Reads<'_>,
        storage: &dyn ObjectStorage,
        organization_id: Uuid,
        rows: &[Model],
    ) -> ApiResult<Self> {
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        let links = store::products(db, &ids).await?;
        let product_ids = unique(links.iter().map(|link| link.product_id));
        let products = crate::products::sale::read_many(db, storage, organization_id, &product_ids)
            .await?
            .into_iter()
            .map(|product| (product.base.id, product))
            .collect();
        let ad_hoc_ids = unique(links.iter().flat_map(ad_hoc_ids));
        let ad_hoc = crate::products::sale::prices_by_ids(db, organization_id, &ad_hoc_ids)
            .await?
            .into_iter()
            .map(|price| (price.id, price))
            .collect();
        let discount_ids = unique(rows.iter().filter_map(|row| row.discount_id));
        let discounts = crate::discounts::read_many(db, organization_id, &discount_ids)
            .await?
            .into_iter()
            .map(|discount| (discount.id, discount))
            .collect();
        Ok(Self {
            products,
            links,
            ad_hoc,
            discounts,
        })
    }

    pub fn of(&self, checkout_id: Uuid) -> Offer<'_> {
        let mut products = Vec::new();
        let mut prices = BTreeMap::new();
        for link in self.links.iter().filter(|l| l.checkout_id == checkout_id) {
            let Some(product) = self.products.get(&link.product_id) else {
                continue;
            };
            let own: Vec<Uuid> = ad_hoc_ids(link).collect();
            let sold_at: Vec<Price> = if own.is_empty() {
                product.prices.clone()
            } else {
                own.iter()
                    .filter_map(|id| self.ad_hoc.get(id).cloned())
                    .collect()
            };
            prices.insert(product.base.id, sold_at);
            products.push(product);
        }
        Offer { products, prices }
    }

    /// Reads `row`'s discount again: the one a change just chose (a code the buyer typed)
    /// is not among those read with the offers, and a redemption changes what it shows.
    pub async fn refresh_discount(&mut self, db: Reads<'_>, row: &Model) -> ApiResult<()> {
        if let Some(id) = row.discount_id {
            let mut found = crate::discounts::read_many(db, row.organization_id, &[id]).await?;
            match found.pop() {
                Some(discount) => self.discounts.insert(id, discount),
                None => self.discounts.remove(&id),
            };
        }
        Ok(())
    }

    pub fn discount(&self, id: Option<Uuid>) -> Option<&Discount> {
        self.discounts.get(&id?)
    }
}

impl Offer<'_> {
    pub fn product(&self, id: Uuid) -> Option<&Product> {
        self.products.iter().copied().find(|p| p.base.id == id)
    }

    /// The prices `product_id` is sold at in `currency`.
    pub fn prices_in(&self, product_id: Uuid, currency: &str) -> Vec<Price> {
        self.prices
            .get(&product_id)
            .map(|prices| {
                prices
                    .iter()
                    .filter(|p| !p.is_archived && p.price_currency == currency)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The currencies `product_id` can be bought in here.
    pub fn currencies(&self, product_id: Uuid) -> Vec<String> {
        let mut currencies: Vec<String> = self
            .prices
            .get(&product_id)
            .into_iter()
            .flatten()
            .filter(|p| !p.is_archived)
            .map(|p| p.price_currency.clone())
            .collect();
        currencies.sort_unstable();
        currencies.dedup();
        currencies
    }
}

/// The price a checkout names as its `product_price`: the first that asks something up
/// front (fixed, pay-what-you-want, seats, units), else the first.
pub fn main_price(prices: &[Price]) -> Option<&Price> {
    prices
        .iter()
        .find(|price| {
            !matches!(
                price.amount,
                PriceAmount::MeteredUnit { .. } | PriceAmount::MeteredTiers { .. }
            )
        })
        .or_else(|| prices.first())
}

fn ad_hoc_ids(link: &product::Model) -> impl Iterator<Item = Uuid> {
    serde_json::from_str::<Vec<Uuid>>(&link.ad_hoc_price_ids)
        .unwrap_or_default()
        .into_iter()
}

fn unique(ids: impl Iterator<Item = Uuid>) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}
