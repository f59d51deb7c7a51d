//! The totals of a purchase, computed in one place for the checkout API, the hosted page
//! and the order.
//!
//! `amount` is what the product's prices in the checkout's currency ask up front: a fixed
//! price's amount, the buyer's amount for a pay-what-you-want price (else its preset, else
//! its minimum), seat and unit prices at the chosen quantity under their tiers; metered
//! prices ask nothing up front (they are billed at the end of each period). The discount
//! comes off the whole amount before tax: a percentage rounded half away from zero, or a
//! fixed amount in the checkout's currency, never more than the amount. `net = amount -
//! discount`, `total = net + tax`.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::tiers;
use crate::products::schema::{Price, PriceAmount};

/// A discount's terms, as they apply in the purchase's currency.
#[derive(Clone, Copy, Debug)]
pub enum DiscountTerms {
    /// `basis_points` of the amount; `forever` makes 100 % mean nothing is ever charged.
    Percentage { basis_points: i64, forever: bool },
    /// An amount in the purchase's currency; `None` when the discount has none in it (it
    /// does not apply).
    Fixed { amount: Option<i64> },
}

impl DiscountTerms {
    /// `discount`'s terms in `currency`.
    pub fn of(discount: &crate::discounts::schema::Discount, currency: &str) -> Self {
        use crate::discounts::schema::{DiscountDuration, DiscountType};
        match discount.kind {
            DiscountType::Percentage => Self::Percentage {
                basis_points: discount.basis_points.unwrap_or(0),
                forever: discount.duration == DiscountDuration::Forever,
            },
            DiscountType::Fixed => Self::Fixed {
                amount: discount
                    .amounts
                    .as_ref()
                    .and_then(|amounts| amounts.get(currency).copied()),
            },
        }
    }

    /// What comes off `amount` (non-negative): a percentage rounded half away from zero,
    /// or the fixed amount, never more than `amount`.
    pub fn off(self, amount: i64) -> Option<i64> {
        match self {
            Self::Percentage { basis_points, .. } => {
                // Half away from zero, on non-negative amounts: add half the divisor.
                let product = i128::from(amount) * i128::from(basis_points.clamp(0, 10_000));
                i64::try_from((product + 5_000) / 10_000).ok()
            }
            Self::Fixed { amount: Some(off) } => Some(off.clamp(0, amount)),
            Self::Fixed { amount: None } => Some(0),
        }
    }
}

/// What is being bought.
#[derive(Clone, Copy, Debug)]
pub struct Purchase<'a> {
    /// The product's live prices in the purchase's currency.
    pub prices: &'a [Price],
    pub recurring: bool,
    /// The buyer's amount for a pay-what-you-want price.
    pub custom_amount: Option<i64>,
    pub seats: Option<u64>,
    pub units: Option<u64>,
    pub discount: Option<DiscountTerms>,
    /// A trial applies: nothing is charged now.
    pub on_trial: bool,
    /// Tax on the net amount, when known (floe has no tax engine: `Some(0)` or `None`).
    pub tax_amount: Option<i64>,
}

/// `amount`, `discount_amount`, `net_amount`, `tax_amount`, `total_amount` and the flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totals {
    pub amount: i64,
    pub discount_amount: i64,
    pub net_amount: i64,
    pub tax_amount: Option<i64>,
    pub total_amount: i64,
    pub seats: Option<u64>,
    pub units: Option<u64>,
    pub is_free_product_price: bool,
    pub is_discount_applicable: bool,
    pub is_payment_required: bool,
    pub is_payment_setup_required: bool,
    pub is_payment_form_required: bool,
}

/// Why a purchase cannot be priced; the caller turns it into a located 422.
#[derive(Debug, PartialEq, Eq)]
pub enum Fault {
    /// The pay-what-you-want amount is outside what the price and currency allow.
    CustomAmount(String),
    Seats(String),
    Units(String),
    /// A price that cannot be computed (a tier missing, an amount beyond 64 bits).
    Unpriceable,
}

/// A price that asks nothing (a fixed 0, free seats or units).
pub fn is_free_price(price: &Price) -> bool {
    is_free(price)
}

fn is_free(price: &Price) -> bool {
    match &price.amount {
        PriceAmount::Fixed { price_amount } => *price_amount == 0,
        PriceAmount::SeatBased { seat_tiers } => {
            seat_tiers.tiers.iter().all(|t| t.price_per_seat == 0)
        }
        PriceAmount::UnitBased { tiers, .. } => tiers
            .tiers
            .iter()
            .all(|t| t.unit_amount.parse::<Decimal>().is_ok_and(|r| r.is_zero())),
        _ => false,
    }
}

pub fn is_metered(price: &Price) -> bool {
    matches!(
        price.amount,
        PriceAmount::MeteredUnit { .. } | PriceAmount::MeteredTiers { .. }
    )
}

fn whole(cost: Option<Decimal>) -> Result<i64, Fault> {
    let cost = cost.ok_or(Fault::Unpriceable)?;
    if !cost.fract().is_zero() {
        return Err(Fault::Unpriceable);
    }
    cost.to_i64().ok_or(Fault::Unpriceable)
}

/// A quantity within `[minimum, maximum]`, the minimum when not chosen.
fn quantity(
    chosen: Option<u64>,
    minimum: i64,
    maximum: Option<i64>,
    what: &str,
) -> Result<u64, String> {
    let minimum = u64::try_from(minimum.max(1)).unwrap_or(1);
    let chosen = chosen.unwrap_or(minimum);
    if chosen < minimum {
        return Err(format!("At least {minimum} {what} are required."));
    }
    if let Some(maximum) = maximum.and_then(|m| u64::try_from(m).ok())
        && chosen > maximum
    {
        return Err(format!("At most {maximum} {what} are allowed."));
    }
    Ok(chosen)
}

pub fn compute(purchase: &Purchase<'_>) -> Result<Totals, Fault> {
    let mut amount: i64 = 0;
    let (mut seats, mut units) = (None, None);
    for price in purchase.prices {
        let asked = match &price.amount {
            PriceAmount::Fixed { price_amount } => *price_amount,
            PriceAmount::Custom {
                minimum_amount,
                maximum_amount,
                preset_amount,
            } => match purchase.custom_amount {
                Some(chosen) => custom_amount(
                    chosen,
                    *minimum_amount,
                    *maximum_amount,
                    &price.price_currency,
                )
                .map_err(Fault::CustomAmount)?,
                None => preset_amount.unwrap_or(*minimum_amount),
            },
            PriceAmount::SeatBased { seat_tiers } => {
                let count = quantity(
                    purchase.seats,
                    seat_tiers.minimum_seats,
                    seat_tiers.maximum_seats,
                    "seats",
                )
                .map_err(Fault::Seats)?;
                seats = Some(count);
                let shared = crate::products::schema::Tiers {
                    kind: seat_tiers.seat_tier_type.clone(),
                    tiers: seat_tiers
                        .tiers
                        .iter()
                        .map(|t| crate::products::schema::Tier {
                            bound: t.max_seats,
                            unit_amount: t.price_per_seat.to_string(),
                        })
                        .collect(),
                };
                whole(tiers::cost(&shared, count))?
            }
            PriceAmount::UnitBased {
                tiers: unit_tiers,
                minimum_units,
                maximum_units,
                ..
            } => {
                let count = quantity(
                    purchase.units,
                    minimum_units.unwrap_or(1),
                    *maximum_units,
                    "units",
                )
                .map_err(Fault::Units)?;
                units = Some(count);
                whole(tiers::cost(unit_tiers, count))?
            }
            PriceAmount::MeteredUnit { .. } | PriceAmount::MeteredTiers { .. } => 0,
        };
        amount = amount.checked_add(asked).ok_or(Fault::Unpriceable)?;
    }

    let is_free_product_price = purchase.prices.iter().all(is_free);
    let is_discount_applicable = purchase.prices.iter().any(|price| !is_free(price));
    let discount_amount = match purchase.discount {
        Some(_) if !is_discount_applicable => 0,
        Some(terms) => terms.off(amount).ok_or(Fault::Unpriceable)?,
        None => 0,
    };
    let net_amount = amount - discount_amount;
    let total_amount = net_amount
        .checked_add(purchase.tax_amount.unwrap_or(0))
        .ok_or(Fault::Unpriceable)?;
    let has_metered = purchase.prices.iter().any(is_metered);
    let free_forever = matches!(
        purchase.discount,
        Some(DiscountTerms::Percentage {
            basis_points: 10_000,
            forever: true
        })
    );
    let is_payment_required = total_amount > 0 && !purchase.on_trial;
    // A recurring product needs a saved payment method for its later charges, unless
    // nothing will ever be charged.
    let charges_later = amount != 0 || has_metered;
    let is_payment_setup_required =
        purchase.recurring && charges_later && !is_free_product_price && !free_forever;
    Ok(Totals {
        amount,
        discount_amount,
        net_amount,
        tax_amount: purchase.tax_amount,
        total_amount,
        seats,
        units,
        is_free_product_price,
        is_discount_applicable,
        is_payment_required,
        is_payment_setup_required,
        is_payment_form_required: is_payment_required || is_payment_setup_required,
    })
}

/// A pay-what-you-want amount: at least the price's minimum, and if not zero at least the
/// currency's; at most the price's maximum and the currency's.
fn custom_amount(
    chosen: i64,
    minimum: i64,
    maximum: Option<i64>,
    currency: &str,
) -> Result<i64, String> {
    let shown = |amount| crate::money::display(amount, currency);
    if chosen < minimum.max(0) {
        return Err(format!(
            "Amount must be at least {}.",
            shown(minimum.max(0))
        ));
    }
    let floor = crate::money::minimum_amount(currency);
    if chosen > 0 && chosen < floor {
        return Err(format!("Amount must be 0 or at least {}.", shown(floor)));
    }
    let ceiling = maximum
        .unwrap_or(i64::MAX)
        .min(crate::money::maximum_amount(currency));
    if chosen > ceiling {
        return Err(format!("Amount must be at most {}.", shown(ceiling)));
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use uuid::Uuid;

    use super::*;
    use crate::products::schema::{PriceMeter, SeatTier, SeatTiers, Tier, Tiers};

    fn price(amount: PriceAmount) -> Price {
        Price {
            created_at: DateTime::UNIX_EPOCH,
            modified_at: None,
            id: Uuid::nil(),
            source: "catalog",
            amount,
            price_currency: "usd".to_owned(),
            tax_behavior: None,
            is_archived: false,
            product_id: Uuid::nil(),
        }
    }

    fn fixed(amount: i64) -> Price {
        price(PriceAmount::Fixed {
            price_amount: amount,
        })
    }

    fn metered() -> Price {
        price(PriceAmount::MeteredUnit {
            unit_amount: "0.5".to_owned(),
            cap_amount: None,
            meter_id: Uuid::nil(),
            meter: PriceMeter {
                id: Uuid::nil(),
                name: "calls".to_owned(),
                unit: "scalar".to_owned(),
                custom_label: None,
                custom_multiplier: None,
            },
        })
    }

    fn purchase(prices: &[Price]) -> Purchase<'_> {
        Purchase {
            prices,
            recurring: false,
            custom_amount: None,
            seats: None,
            units: None,
            discount: None,
            on_trial: false,
            tax_amount: Some(0),
        }
    }

    #[test]
    fn a_fixed_price_with_a_percentage_discount_rounds_half_away_from_zero() {
        let prices = [fixed(1999)];
        let mut p = purchase(&prices);
        p.discount = Some(DiscountTerms::Percentage {
            basis_points: 2_500,
            forever: false,
        });
        let t = compute(&p).unwrap();
        // 1999 × 25 % = 499.75 → 500.
        assert_eq!(
            (t.amount, t.discount_amount, t.net_amount, t.total_amount),
            (1999, 500, 1499, 1499)
        );
        assert!(
            t.is_payment_required && t.is_payment_form_required && !t.is_payment_setup_required
        );
        p.discount = Some(DiscountTerms::Percentage {
            basis_points: 5_000,
            forever: false,
        });
        // 999.5 → 1000.
        assert_eq!(compute(&p).unwrap().discount_amount, 1000);
    }

    #[test]
    fn a_fixed_discount_is_capped_and_needs_the_currency() {
        let prices = [fixed(300)];
        let mut p = purchase(&prices);
        p.discount = Some(DiscountTerms::Fixed { amount: Some(500) });
        let t = compute(&p).unwrap();
        assert_eq!((t.discount_amount, t.total_amount), (300, 0));
        assert!(!t.is_payment_required && !t.is_payment_form_required);
        p.discount = Some(DiscountTerms::Fixed { amount: None });
        assert_eq!(compute(&p).unwrap().discount_amount, 0);
    }

    #[test]
    fn pay_what_you_want_takes_the_buyers_amount_within_bounds() {
        let prices = [price(PriceAmount::Custom {
            minimum_amount: 0,
            maximum_amount: Some(10_000),
            preset_amount: Some(1500),
        })];
        let mut p = purchase(&prices);
        assert_eq!(compute(&p).unwrap().amount, 1500);
        p.custom_amount = Some(0);
        let free = compute(&p).unwrap();
        assert_eq!(free.amount, 0);
        assert!(!free.is_payment_required && !free.is_free_product_price);
        p.custom_amount = Some(30);
        assert!(matches!(compute(&p), Err(Fault::CustomAmount(_))));
        p.custom_amount = Some(10_001);
        assert!(matches!(compute(&p), Err(Fault::CustomAmount(_))));
        p.custom_amount = Some(-1);
        assert!(matches!(compute(&p), Err(Fault::CustomAmount(_))));
    }

    #[test]
    fn fixed_plus_seats_and_metered_on_a_recurring_product() {
        let seats = price(PriceAmount::SeatBased {
            seat_tiers: SeatTiers {
                seat_tier_type: "graduated".to_owned(),
                tiers: vec![
                    SeatTier {
                        min_seats: 1,
                        max_seats: Some(5),
                        price_per_seat: 1000,
                    },
                    SeatTier {
                        min_seats: 6,
                        max_seats: None,
                        price_per_seat: 800,
                    },
                ],
                minimum_seats: 1,
                maximum_seats: None,
            },
        });
        let prices = [fixed(500), seats, metered()];
        let mut p = purchase(&prices);
        p.recurring = true;
        p.seats = Some(7);
        let t = compute(&p).unwrap();
        assert_eq!((t.amount, t.seats), (500 + 5 * 1000 + 2 * 800, Some(7)));
        assert!(t.is_payment_setup_required);
        p.seats = Some(0);
        assert!(matches!(compute(&p), Err(Fault::Seats(_))));
        // A trial charges nothing now but still saves a payment method.
        p.seats = None;
        p.on_trial = true;
        let t = compute(&p).unwrap();
        assert_eq!(t.amount, 1500);
        assert!(
            !t.is_payment_required && t.is_payment_setup_required && t.is_payment_form_required
        );
    }

    #[test]
    fn metered_only_asks_for_a_card_not_a_charge_and_free_forever_asks_nothing() {
        let prices = [fixed(0), metered()];
        let mut p = purchase(&prices);
        p.recurring = true;
        let t = compute(&p).unwrap();
        assert_eq!(t.amount, 0);
        assert!(!t.is_payment_required && t.is_payment_setup_required && !t.is_free_product_price);
        let prices = [fixed(2000)];
        let mut p = purchase(&prices);
        p.recurring = true;
        p.discount = Some(DiscountTerms::Percentage {
            basis_points: 10_000,
            forever: true,
        });
        let t = compute(&p).unwrap();
        assert!(
            !t.is_payment_required && !t.is_payment_setup_required && !t.is_payment_form_required
        );
        let free = [fixed(0)];
        let t = compute(&purchase(&free)).unwrap();
        assert!(
            t.is_free_product_price && !t.is_discount_applicable && !t.is_payment_form_required
        );
    }

    #[test]
    fn units_use_their_tiers() {
        let prices = [price(PriceAmount::UnitBased {
            tiers: Tiers {
                kind: "volume".to_owned(),
                tiers: vec![
                    Tier {
                        bound: Some(100),
                        unit_amount: "50".to_owned(),
                    },
                    Tier {
                        bound: None,
                        unit_amount: "40".to_owned(),
                    },
                ],
            },
            minimum_units: Some(5),
            unit_label: None,
            maximum_units: None,
        })];
        let mut p = purchase(&prices);
        assert_eq!(compute(&p).unwrap().amount, 250);
        p.units = Some(101);
        assert_eq!(compute(&p).unwrap().amount, 4040);
        p.units = Some(4);
        assert!(matches!(compute(&p), Err(Fault::Units(_))));
    }
}
