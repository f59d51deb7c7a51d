//! Amounts and prices as the buyer reads and types them. Nothing here prices a purchase:
//! the totals shown are the checkout's own; these only write stored amounts for people and
//! read the amount a buyer types into a pay-what-you-want field.

use crate::checkouts::schema::{CheckoutBase, CheckoutProduct};
use crate::money;
use crate::products::schema::{Price, PriceAmount};

/// `1900`, `usd` → `19.00 USD`.
pub fn money(amount: i64, currency: &str) -> String {
    money::display(amount, currency)
}

/// An amount in major units, as an amount field shows it: `1500` → `15.00`, `80 jpy` → `80`.
pub fn major(amount: i64, currency: &str) -> String {
    let shown = money::display(amount, currency);
    shown
        .rsplit_once(' ')
        .map_or(shown.clone(), |(number, _)| number.to_owned())
}

/// What a buyer typed as an amount in major units (`25`, `25.5`, `25,50`, `1 000.00`), in
/// minor units; `None` when it is not a plain non-negative amount in the currency's units.
pub fn parse_major(text: &str, currency: &str) -> Option<i64> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let compact = compact.replace(',', ".");
    let (whole, fraction) = compact.split_once('.').unwrap_or((&compact, ""));
    let places = if money::minor_units_per_major(currency) == 1 {
        0
    } else {
        2
    };
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 12 || !digits(whole) || !digits(fraction) {
        return None;
    }
    if fraction.len() > places || (places == 0 && compact.contains('.')) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<places$}").parse().ok()?
    };
    whole
        .checked_mul(money::minor_units_per_major(currency))?
        .checked_add(fraction)
}

/// ` / month`, ` every 3 months`, or nothing for a one-time product.
pub fn per_interval(product: &CheckoutProduct) -> String {
    match (product.recurring_interval, product.recurring_interval_count) {
        (Some(interval), Some(count)) if count > 1 => {
            format!(" every {count} {}s", interval.as_str())
        }
        (Some(interval), _) => format!(" / {}", interval.as_str()),
        _ => String::new(),
    }
}

/// One price as the buyer reads it, from what the price stores.
pub fn price(price: &Price) -> String {
    let currency = &price.price_currency;
    match &price.amount {
        PriceAmount::Fixed { price_amount: 0 } => "Free".to_owned(),
        PriceAmount::Fixed { price_amount } => money(*price_amount, currency),
        PriceAmount::Custom { minimum_amount, .. } if *minimum_amount > 0 => {
            format!(
                "Pay what you want (from {})",
                money(*minimum_amount, currency)
            )
        }
        PriceAmount::Custom { .. } => "Pay what you want".to_owned(),
        PriceAmount::SeatBased { seat_tiers } => match seat_tiers.tiers.as_slice() {
            [only] => format!("{} per seat", money(only.price_per_seat, currency)),
            [first, ..] => format!("From {} per seat", money(first.price_per_seat, currency)),
            [] => "Priced per seat".to_owned(),
        },
        PriceAmount::UnitBased { .. } => "Priced per unit".to_owned(),
        PriceAmount::MeteredUnit { .. } | PriceAmount::MeteredTiers { .. } => {
            "Billed by usage".to_owned()
        }
    }
}

/// A product's prices in the checkout's currency, archived ones left out.
pub fn prices_of<'a>(checkout: &'a CheckoutBase, product: &'a CheckoutProduct) -> Vec<&'a Price> {
    checkout
        .prices
        .as_ref()
        .and_then(|prices| prices.get(&product.id))
        .map_or(&product.prices, |prices| prices)
        .iter()
        .filter(|price| price.price_currency == checkout.currency && !price.is_archived)
        .collect()
}

/// All of a product's prices in the checkout, as one line: `19.00 USD / month`,
/// `10.00 USD per seat + Billed by usage / month`.
pub fn product_price(checkout: &CheckoutBase, product: &CheckoutProduct) -> String {
    let prices: Vec<String> = prices_of(checkout, product)
        .into_iter()
        .map(price)
        .collect();
    if prices.is_empty() {
        return "Not available in this currency".to_owned();
    }
    format!("{}{}", prices.join(" + "), per_interval(product))
}

/// The pay-what-you-want price of a product, if it has one: `(minimum, maximum)`.
pub fn custom_bounds(
    checkout: &CheckoutBase,
    product: &CheckoutProduct,
) -> Option<(i64, Option<i64>)> {
    prices_of(checkout, product)
        .into_iter()
        .find_map(|price| match &price.amount {
            PriceAmount::Custom {
                minimum_amount,
                maximum_amount,
                ..
            } => Some((*minimum_amount, *maximum_amount)),
            _ => None,
        })
}

/// Whether a product is sold per seat in the checkout.
pub fn is_seat_based(checkout: &CheckoutBase, product: &CheckoutProduct) -> bool {
    prices_of(checkout, product)
        .into_iter()
        .any(|price| matches!(price.amount, PriceAmount::SeatBased { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_typed_by_buyers() {
        assert_eq!(parse_major("25", "usd"), Some(2500));
        assert_eq!(parse_major(" 25.5 ", "usd"), Some(2550));
        assert_eq!(parse_major("25,05", "usd"), Some(2505));
        assert_eq!(parse_major("1 000.00", "usd"), Some(100_000));
        assert_eq!(parse_major("0", "usd"), Some(0));
        assert_eq!(parse_major("80", "jpy"), Some(80));
        for refused in [
            "",
            ".5",
            "25.505",
            "-3",
            "1e3",
            "abc",
            "2.5.1",
            "99999999999999",
        ] {
            assert_eq!(parse_major(refused, "usd"), None, "{refused}");
        }
        assert_eq!(parse_major("80.5", "jpy"), None);
    }

    #[test]
    fn amounts_shown_in_fields() {
        assert_eq!(major(1500, "usd"), "15.00");
        assert_eq!(major(5, "eur"), "0.05");
        assert_eq!(major(80, "jpy"), "80");
        assert_eq!(parse_major(&major(123_456, "usd"), "usd"), Some(123_456));
    }
}
