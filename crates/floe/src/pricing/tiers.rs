//! Tiered rates applied to a quantity (seats, units, metered usage), exactly.

use rust_decimal::Decimal;

use crate::products::schema::Tiers;

/// What `quantity` costs under `tiers`, in minor units (a decimal: metered rates may be
/// fractions of a cent). `volume` charges every unit at the rate of the tier the quantity
/// falls in; `graduated` charges each tier's units at its own rate. `None` when no tier
/// covers the quantity or a stored rate is not a decimal.
pub fn cost(tiers: &Tiers, quantity: u64) -> Option<Decimal> {
    if quantity == 0 {
        return Some(Decimal::ZERO);
    }
    let rate = |text: &str| text.parse::<Decimal>().ok();
    let bounded = |bound: Option<i64>| bound.and_then(|b| u64::try_from(b).ok());
    if tiers.kind == "graduated" {
        let mut total = Decimal::ZERO;
        let mut charged = 0_u64;
        for tier in &tiers.tiers {
            let end = bounded(tier.bound).map_or(quantity, |bound| bound.min(quantity));
            if end > charged {
                total = total.checked_add(
                    rate(&tier.unit_amount)?.checked_mul(Decimal::from(end - charged))?,
                )?;
                charged = end;
            }
            if charged >= quantity {
                return Some(total);
            }
        }
        return None;
    }
    let tier = tiers
        .tiers
        .iter()
        .find(|tier| bounded(tier.bound).is_none_or(|bound| quantity <= bound))?;
    rate(&tier.unit_amount)?.checked_mul(Decimal::from(quantity))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::products::schema::Tier;

    fn tiers(kind: &str, rates: &[(Option<i64>, &str)]) -> Tiers {
        Tiers {
            kind: kind.to_owned(),
            tiers: rates
                .iter()
                .map(|(bound, rate)| Tier {
                    bound: *bound,
                    unit_amount: (*rate).to_owned(),
                })
                .collect(),
        }
    }

    fn cost_of(t: &Tiers, quantity: u64) -> Option<String> {
        cost(t, quantity).map(|d| d.normalize().to_string())
    }

    #[test]
    fn volume_charges_every_unit_at_the_tier_reached() {
        let t = tiers(
            "volume",
            &[(Some(5), "1000"), (Some(10), "900"), (None, "800")],
        );
        assert_eq!(cost_of(&t, 0).as_deref(), Some("0"));
        assert_eq!(cost_of(&t, 5).as_deref(), Some("5000"));
        assert_eq!(cost_of(&t, 6).as_deref(), Some("5400"));
        assert_eq!(cost_of(&t, 11).as_deref(), Some("8800"));
    }

    #[test]
    fn graduated_charges_each_tier_its_own_rate() {
        let t = tiers(
            "graduated",
            &[(Some(5), "1000"), (Some(10), "900"), (None, "800")],
        );
        assert_eq!(cost_of(&t, 5).as_deref(), Some("5000"));
        assert_eq!(cost_of(&t, 6).as_deref(), Some("5900"));
        assert_eq!(cost_of(&t, 12).as_deref(), Some("11100"));
    }

    #[test]
    fn fractional_rates_stay_exact_and_bounds_are_enforced() {
        let t = tiers("graduated", &[(Some(1000), "0"), (None, "0.000001")]);
        assert_eq!(cost_of(&t, 1_000_000).as_deref(), Some("0.999"));
        let capped = tiers("volume", &[(Some(10), "3")]);
        assert_eq!(cost_of(&capped, 11), None);
        let capped = tiers("graduated", &[(Some(10), "3")]);
        assert_eq!(cost_of(&capped, 11), None);
    }
}
