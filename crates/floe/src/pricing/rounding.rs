//! floe's one rounding rule for money (decision 0019): an amount is computed exactly (a
//! decimal, or a ratio of integers) and rounded once per line to whole minor units, half away
//! from zero. Polar rounds three ways in three places; one rule means an amount computed
//! twice can never differ.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// `exact` in whole minor units, half away from zero; `None` beyond `i64`.
pub fn minor_units(exact: Decimal) -> Option<i64> {
    exact
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
}

/// `amount × numerator / denominator` in whole minor units, half away from zero (computed
/// in 128-bit integers, so exact for any amount and any period in seconds).
pub fn prorate(amount: i64, numerator: i64, denominator: i64) -> i64 {
    if denominator == 0 {
        return 0;
    }
    let product = i128::from(amount) * i128::from(numerator);
    let denominator = i128::from(denominator);
    let (quotient, remainder) = (product / denominator, product % denominator);
    // Half or more of the denominator left over rounds away from zero.
    let rounded = if remainder.abs() * 2 >= denominator.abs() {
        quotient + product.signum() * denominator.signum()
    } else {
        quotient
    };
    i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_away_from_zero() {
        let d = |s: &str| s.parse::<Decimal>().unwrap_or_default();
        assert_eq!(minor_units(d("2.5")), Some(3));
        assert_eq!(minor_units(d("-2.5")), Some(-3));
        assert_eq!(minor_units(d("2.4999")), Some(2));
        assert_eq!(minor_units(d("0.000001")), Some(0));
    }

    #[test]
    fn the_worked_examples_of_decision_0019() {
        // 30.00 → 50.00 a month, 10 of 30 days left.
        assert_eq!(prorate(-3000, 10, 30), -1000);
        assert_eq!(prorate(5000, 10, 30), 1667);
        // Seats 3 → 5 at 10.00, 15 of 31 days left.
        assert_eq!(prorate(2000, 15, 31), 968);
        // 50.00 → 30.00, 20 of 30 days left.
        assert_eq!(prorate(-5000, 20, 30), -3333);
        assert_eq!(prorate(3000, 20, 30), 2000);
        // 0.03 → 0.00 over 2 s, 1 s left: −1.5 → −2.
        assert_eq!(prorate(-3, 1, 2), -2);
        assert_eq!(prorate(3, 1, 2), 2);
        assert_eq!(prorate(i64::MAX, 2, 1), i64::MAX);
    }
}
