//! Number literals of a product body as they were written. `serde_json::Value` keeps a
//! JSON number such as `0.000001` as a float; decimal rates (`unit_amount` of metered
//! prices and of tiers) are read from the body's text instead, so that they never pass
//! through floating point.

use std::collections::HashMap;

use serde_json::value::RawValue;

type Members = HashMap<String, Box<RawValue>>;

/// The literal rates of each price in `prices`, by the price's index.
#[derive(Debug, Default)]
pub struct PriceLiterals {
    prices: Vec<RateLiterals>,
}

/// One price's rates: its own `unit_amount`, and its tiers' by tier index.
#[derive(Debug, Default)]
pub struct RateLiterals {
    pub unit_amount: Option<String>,
    pub tiers: Vec<Option<String>>,
}

impl PriceLiterals {
    /// Reads the `prices` of a JSON body; anything not shaped as expected is skipped (the
    /// checks on the parsed body report it).
    pub fn read(body: &[u8]) -> Self {
        let prices = serde_json::from_slice::<Members>(body)
            .ok()
            .and_then(|mut members| members.remove("prices"))
            .and_then(|raw| serde_json::from_str::<Vec<Box<RawValue>>>(raw.get()).ok())
            .unwrap_or_default();
        Self {
            prices: prices.iter().map(|raw| RateLiterals::read(raw)).collect(),
        }
    }

    /// Reads a list of prices given on its own (a checkout's ad-hoc prices for a product).
    pub fn of_list(list: &RawValue) -> Self {
        let prices = serde_json::from_str::<Vec<Box<RawValue>>>(list.get()).unwrap_or_default();
        Self {
            prices: prices.iter().map(|raw| RateLiterals::read(raw)).collect(),
        }
    }

    pub fn price(&self, index: usize) -> Option<&RateLiterals> {
        self.prices.get(index)
    }
}

impl RateLiterals {
    fn read(price: &RawValue) -> Self {
        let Ok(mut members) = serde_json::from_str::<Members>(price.get()) else {
            return Self::default();
        };
        let unit_amount = members
            .remove("unit_amount")
            .map(|raw| raw.get().to_owned());
        let tiers = members
            .remove("tiers")
            .and_then(|raw| serde_json::from_str::<Members>(raw.get()).ok())
            .and_then(|mut tiers| tiers.remove("tiers"))
            .and_then(|raw| serde_json::from_str::<Vec<Box<RawValue>>>(raw.get()).ok())
            .unwrap_or_default()
            .iter()
            .map(|tier| {
                serde_json::from_str::<Members>(tier.get())
                    .ok()
                    .and_then(|mut tier| tier.remove("unit_amount"))
                    .map(|raw| raw.get().to_owned())
            })
            .collect();
        Self { unit_amount, tiers }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_text_of_numbers() {
        let body = br#"{"name": "x", "prices": [
            {"amount_type": "fixed", "price_amount": 100},
            {"amount_type": "metered_unit", "unit_amount": 0.000001},
            {"amount_type": "metered_tiers", "tiers": {"type": "volume", "tiers": [
                {"bound": 10, "unit_amount": 1e-7}, {"unit_amount": "0.3"}, 5]}}
        ]}"#;
        let literals = PriceLiterals::read(body);
        assert_eq!(literals.price(0).unwrap().unit_amount, None);
        assert_eq!(
            literals.price(1).unwrap().unit_amount.as_deref(),
            Some("0.000001")
        );
        let tiers = &literals.price(2).unwrap().tiers;
        assert_eq!(tiers[0].as_deref(), Some("1e-7"));
        assert_eq!(tiers[1].as_deref(), Some("\"0.3\""));
        assert_eq!(tiers[2], None);
        assert!(literals.price(3).is_none());
        assert!(PriceLiterals::read(b"{\"prices\": 3}").price(0).is_none());
    }
}
