//! Currencies and amounts. Money is an integer of the currency's minor unit (cents for
//! `usd`, yen for `jpy`); rates finer than that (metered unit prices) are decimals, never
//! floats.

use rust_decimal::Decimal;

/// The presentment currencies a price can be set in (lowercase ISO 4217), each with the
/// smallest amount a card processor charges in it, in minor units. The minimums are
/// Stripe's per-currency charge minimums, raised where Polar raises them so that no
/// currency undercuts 0.50 USD.
const CURRENCIES: &[(&str, i64)] = &[
    ("aed", 200),
    ("all", 5_000),
    ("amd", 20_000),
    ("aoa", 50_000),
    ("ars", 75_000),
    ("aud", 70),
    ("awg", 100),
    ("azn", 100),
    ("bam", 100),
    ("bbd", 200),
    ("bdt", 7_000),
    ("bif", 2_000),
    ("bmd", 100),
    ("bnd", 100),
    ("bob", 500),
    ("brl", 250),
    ("bsd", 100),
    ("bwp", 1_000),
    ("bzd", 200),
    ("cad", 70),
    ("cdf", 200_000),
    ("chf", 50),
    ("clp", 500),
    ("cny", 500),
    ("cop", 200_000),
    ("crc", 30_000),
    ("cve", 5_000),
    ("czk", 1_500),
    ("djf", 100),
    ("dkk", 320),
    ("dop", 4_000),
    ("dzd", 7_000),
    ("egp", 3_000),
    ("etb", 8_000),
    ("eur", 50),
    ("fjd", 200),
    ("fkp", 100),
    ("gbp", 40),
    ("gel", 200),
    ("gip", 100),
    ("gmd", 4_000),
    ("gnf", 5_000),
    ("gtq", 500),
    ("gyd", 20_000),
    ("hkd", 400),
    ("hnl", 2_000),
    ("htg", 7_000),
    ("huf", 17_500),
    ("idr", 900_000),
    ("ils", 150),
    ("inr", 6_000),
    ("isk", 7_000),
    ("jmd", 8_000),
    ("jpy", 80),
    ("kes", 7_000),
    ("kgs", 5_000),
    ("khr", 300_000),
    ("kmf", 500),
    ("krw", 800),
    ("kyd", 100),
    ("kzt", 30_000),
    ("lak", 2_000_000),
    ("lkr", 20_000),
    ("lrd", 10_000),
    ("lsl", 1_000),
    ("mad", 500),
    ("mdl", 1_000),
    ("mga", 3_000),
    ("mkd", 5_000),
    ("mnt", 200_000),
    ("mop", 500),
    ("mur", 5_000),
    ("mvr", 800),
    ("mwk", 100_000),
    ("mxn", 900),
    ("myr", 200),
    ("mzn", 5_000),
    ("nad", 1_000),
    ("ngn", 70_000),
    ("nio", 2_000),
    ("nok", 500),
    ("npr", 8_000),
    ("nzd", 90),
    ("pab", 100),
    ("pen", 200),
    ("pgk", 300),
    ("php", 3_500),
    ("pkr", 20_000),
    ("pln", 200),
    ("pyg", 4_000),
    ("qar", 200),
    ("ron", 250),
    ("rsd", 6_000),
    ("rwf", 1_000),
    ("sar", 200),
    ("sbd", 400),
    ("scr", 800),
    ("sek", 500),
    ("sgd", 70),
    ("shp", 100),
    ("sos", 50_000),
    ("srd", 2_000),
    ("szl", 1_000),
    ("thb", 2_000),
    ("tjs", 500),
    ("top", 200),
    ("try", 3_000),
    ("ttd", 400),
    ("twd", 2_000),
    ("tzs", 200_000),
    ("uah", 3_000),
    // Stripe takes UGX in two-decimal form.
    ("ugx", 200_000),
    ("usd", 50),
    ("uyu", 2_000),
    ("uzs", 700_000),
    ("vnd", 20_000),
    ("vuv", 100),
    ("wst", 200),
    ("xaf", 500),
    ("xcd", 200),
    ("xcg", 100),
    ("xof", 500),
    ("xpf", 100),
    ("yer", 20_000),
    ("zar", 900),
    ("zmw", 1_000),
];

/// Currencies without a minor unit: an amount of 80 `jpy` is 80 yen.
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "vnd", "vuv", "xaf",
    "xof", "xpf",
];

/// The largest amount one price may ask, in minor units: 999,999.99 in most currencies,
/// about 1,000 USD's worth in those whose unit is worth so little that this would be less.
const DEFAULT_MAXIMUM: i64 = 99_999_999;
const MAXIMUMS: &[(&str, i64)] = &[
    ("ars", 140_000_000),
    ("cdf", 280_000_000),
    ("cop", 400_000_000),
    ("idr", 1_600_000_000),
    ("khr", 400_000_000),
    ("lak", 2_100_000_000),
    ("mnt", 350_000_000),
    ("mwk", 175_000_000),
    ("ngn", 155_000_000),
    ("tzs", 250_000_000),
    ("ugx", 370_000_000),
    ("uzs", 1_250_000_000),
];

/// The presentment currencies, lowercase, in alphabetical order.
pub fn currencies() -> impl Iterator<Item = &'static str> {
    CURRENCIES.iter().map(|(code, _)| *code)
}

pub fn is_presentment_currency(code: &str) -> bool {
    CURRENCIES.iter().any(|(c, _)| *c == code)
}

/// The smallest non-zero amount a price may ask in `currency`, in minor units.
pub fn minimum_amount(currency: &str) -> i64 {
    CURRENCIES
        .iter()
        .find(|(c, _)| *c == currency)
        .map_or(50, |(_, minimum)| *minimum)
}

/// The largest amount a price may ask in `currency`, in minor units.
pub fn maximum_amount(currency: &str) -> i64 {
    MAXIMUMS
        .iter()
        .find(|(c, _)| *c == currency)
        .map_or(DEFAULT_MAXIMUM, |(_, maximum)| *maximum)
}

/// How many minor units make one major unit (100, or 1 for zero-decimal currencies).
pub fn minor_units_per_major(currency: &str) -> i64 {
    if ZERO_DECIMAL.contains(&currency) {
        1
    } else {
        100
    }
}

/// `amount` minor units written for people: `0.50 USD`, `80 JPY`.
pub fn display(amount: i64, currency: &str) -> String {
    let code = currency.to_ascii_uppercase();
    let factor = minor_units_per_major(currency);
    if factor == 1 {
        return format!("{amount} {code}");
    }
    let sign = if amount < 0 { "-" } else { "" };
    let amount = amount.unsigned_abs();
    let factor = factor.unsigned_abs();
    format!("{sign}{}.{:02} {code}", amount / factor, amount % factor)
}

/// Why a decimal rate was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum RateFault {
    /// Not a decimal number at all.
    Invalid,
    /// More decimal places than allowed.
    Places(u32),
    /// More digits before the point than allowed.
    WholeDigits(u32),
    /// Below zero, or zero where a positive rate is needed.
    Sign,
}

/// A decimal rate in minor units (`"0.005"`, `1e-6`, `"+12.50"`), read from the literal text
/// of a JSON string or number, so that it never passes through a float. At most `places`
/// decimal places and `whole_digits` digits before the point; `positive` refuses zero.
pub fn parse_rate(
    literal: &str,
    places: u32,
    whole_digits: u32,
    positive: bool,
) -> Result<Decimal, RateFault> {
    let rate = decimal(literal).ok_or(RateFault::Invalid)?.normalize();
    if rate.is_sign_negative() && !rate.is_zero() || positive && rate.is_zero() {
        return Err(RateFault::Sign);
    }
    if rate.scale() > places {
        return Err(RateFault::Places(places));
    }
    let whole = rate.trunc().abs();
    let digits = if whole.is_zero() {
        0
    } else {
        whole.to_string().len() as u32
    };
    if digits > whole_digits {
        return Err(RateFault::WholeDigits(whole_digits));
    }
    Ok(rate)
}

/// The decimal a literal writes, in any of the forms JSON numbers and Python's `Decimal`
/// strings take: a sign, leading zeros, a bare point on either side, an exponent.
fn decimal(literal: &str) -> Option<Decimal> {
    let text = literal.trim();
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(text[at + 1..].parse::<i32>().ok()?)),
        None => (text, None),
    };
    let (negative, digits) = match mantissa.as_bytes().first()? {
        b'+' => (false, &mantissa[1..]),
        b'-' => (true, &mantissa[1..]),
        _ => (false, mantissa),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    let mut unscaled = format!("{whole}{fraction}");
    let mut scale = i64::try_from(fraction.len()).ok()?;
    if let Some(exponent) = exponent {
        scale -= i64::from(exponent);
    }
    if scale < 0 {
        let zeros = usize::try_from(-scale).ok().filter(|z| *z <= 28)?;
        unscaled.push_str(&"0".repeat(zeros));
        scale = 0;
    }
    let unscaled = unscaled.trim_start_matches('0');
    let digits = if unscaled.is_empty() { "0" } else { unscaled };
    // Digits beyond what a `Decimal` holds are refused, not rounded.
    if digits.len() > 28 || scale > 28 {
        return None;
    }
    let mantissa: i128 = digits.parse().ok()?;
    let value = Decimal::try_from_i128_with_scale(mantissa, u32::try_from(scale).ok()?).ok()?;
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_read_exactly() {
        let rate = |text: &str| parse_rate(text, 12, 5, true).map(|d| d.to_string());
        assert_eq!(rate("0.5").as_deref(), Ok("0.5"));
        assert_eq!(rate("0.50").as_deref(), Ok("0.5"));
        assert_eq!(rate("+00012.250").as_deref(), Ok("12.25"));
        assert_eq!(rate(".5").as_deref(), Ok("0.5"));
        assert_eq!(rate("5.").as_deref(), Ok("5"));
        assert_eq!(rate("1e-6").as_deref(), Ok("0.000001"));
        assert_eq!(rate("1E+2").as_deref(), Ok("100"));
        assert_eq!(rate("0.000000000001").as_deref(), Ok("0.000000000001"));
        // 0.1 + 0.2 as floats is not 0.3; as literals it is exactly what was written.
        assert_eq!(rate("0.30000000000000004"), Err(RateFault::Places(12)));
        assert_eq!(rate("0.0000000000001"), Err(RateFault::Places(12)));
        assert_eq!(rate("123456"), Err(RateFault::WholeDigits(5)));
        assert_eq!(
            rate("99999.999999999999").as_deref(),
            Ok("99999.999999999999")
        );
        assert_eq!(rate("0"), Err(RateFault::Sign));
        assert_eq!(rate("-1"), Err(RateFault::Sign));
        for bad in [
            "",
            ".",
            "+",
            "1.2.3",
            "abc",
            "1e",
            "e5",
            "0x10",
            "1e99999999999",
            " ",
        ] {
            assert_eq!(rate(bad), Err(RateFault::Invalid), "{bad:?}");
        }
        assert_eq!(
            parse_rate("0", 12, 5, false)
                .map(|d| d.to_string())
                .as_deref(),
            Ok("0")
        );
    }

    #[test]
    fn currencies_are_sorted_lowercase_and_unique() {
        let codes: Vec<&str> = currencies().collect();
        assert_eq!(codes.len(), 126);
        assert!(codes.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 3 && c.chars().all(|ch| ch.is_ascii_lowercase()))
        );
        assert!(ZERO_DECIMAL.iter().all(|c| is_presentment_currency(c)));
        assert!(MAXIMUMS.iter().all(|(c, _)| is_presentment_currency(c)));
    }

    #[test]
    fn minimums_and_display() {
        assert_eq!(minimum_amount("usd"), 50);
        assert_eq!(minimum_amount("jpy"), 80);
        assert_eq!(display(50, "usd"), "0.50 USD");
        assert_eq!(display(80, "jpy"), "80 JPY");
        assert_eq!(display(99_999_999, "eur"), "999999.99 EUR");
        assert_eq!(maximum_amount("ngn"), 155_000_000);
        assert_eq!(maximum_amount("usd"), 99_999_999);
    }
}
