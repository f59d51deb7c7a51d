//! The test processor's cards: Stripe's test payment methods (`pm_card_visa`, …) and card
//! numbers (4242 4242 4242 4242, …), with what each does, and the checks the hosted card
//! form makes before anything is charged.

use chrono::{Datelike, NaiveDate};

/// How a card answers a charge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Every charge succeeds.
    Succeeds,
    /// Every charge is declined.
    Declines(Decline),
    /// The first charge needs the buyer to authenticate (3-D Secure); then it succeeds.
    NeedsAuthentication,
    /// The card can be saved, and the charge made while saving it succeeds, but every
    /// later charge on the saved card is declined (renewals, off-session charges).
    LaterChargesDecline(Decline),
}

/// A decline, in Stripe's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decline {
    /// Stripe's `decline_code`.
    pub code: &'static str,
    /// What the buyer is told.
    pub message: &'static str,
}

pub const GENERIC_DECLINE: Decline = Decline {
    code: "generic_decline",
    message: "Your card was declined.",
};

pub const INSUFFICIENT_FUNDS: Decline = Decline {
    code: "insufficient_funds",
    message: "Your card has insufficient funds.",
};

/// A test card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TestCard {
    /// The payment method's ID, as Stripe names its test payment methods.
    pub payment_method: &'static str,
    pub number: &'static str,
    pub brand: &'static str,
    pub behaviour: Behaviour,
}

impl TestCard {
    pub fn last4(&self) -> &'static str {
        &self.number[self.number.len() - 4..]
    }
}

const CARDS: &[TestCard] = &[
    TestCard {
        payment_method: "pm_card_visa",
        number: "4242424242424242",
        brand: "visa",
        behaviour: Behaviour::Succeeds,
    },
    TestCard {
        payment_method: "pm_card_mastercard",
        number: "5555555555554444",
        brand: "mastercard",
        behaviour: Behaviour::Succeeds,
    },
    TestCard {
        payment_method: "pm_card_visa_debit",
        number: "4000056655665556",
        brand: "visa",
        behaviour: Behaviour::Succeeds,
    },
    TestCard {
        payment_method: "pm_card_chargeDeclined",
        number: "4000000000000002",
        brand: "visa",
        behaviour: Behaviour::Declines(GENERIC_DECLINE),
    },
    TestCard {
        payment_method: "pm_card_chargeDeclinedInsufficientFunds",
        number: "4000000000009995",
        brand: "visa",
        behaviour: Behaviour::Declines(INSUFFICIENT_FUNDS),
    },
    TestCard {
        payment_method: "pm_card_authenticationRequired",
        number: "4000002500003155",
        brand: "visa",
        behaviour: Behaviour::NeedsAuthentication,
    },
    TestCard {
        payment_method: "pm_card_chargeCustomerFail",
        number: "4000000000000341",
        brand: "visa",
        behaviour: Behaviour::LaterChargesDecline(GENERIC_DECLINE),
    },
    // Stripe's asynchronous refund failure: charges succeed, refunds fail afterwards.
    TestCard {
        payment_method: "pm_card_refundFail",
        number: "4000000000005126",
        brand: "visa",
        behaviour: Behaviour::Succeeds,
    },
    // Stripe's disputed cards: the charge succeeds, then the bank disputes it.
    TestCard {
        payment_method: "pm_card_createDispute",
        number: "4000000000000259",
        brand: "visa",
        behaviour: Behaviour::Succeeds,
    },
    TestCard {
        payment_method: "pm_card_createDisputeProductNotReceived",
        number: "4000000000002685",
        brand: "visa",
        behaviour: Behaviour::Succeeds,
    },
];

/// The reason the bank disputes a charge on the card ending `last4` with, for the cards
/// whose charges are disputed once paid (Stripe's 0259 and 2685).
pub fn disputes_as(last4: &str) -> Option<&'static str> {
    match last4 {
        "0259" => Some("fraudulent"),
        "2685" => Some("product_not_received"),
        _ => None,
    }
}

/// Whether refunds of a charge on the card ending `last4` are answered `pending` and fail
/// when the processor is next asked (Stripe's 5126 card: the bank refuses them later).
pub fn refunds_fail_later(last4: &str) -> bool {
    last4 == "5126"
}

/// The card behind a test payment method ID (`pm_card_visa`, …).
pub fn by_payment_method(id: &str) -> Option<TestCard> {
    CARDS.iter().find(|card| card.payment_method == id).copied()
}

/// A field of the card form that is wrong, and what to tell the buyer.
#[derive(Debug, PartialEq, Eq)]
pub struct FormFault {
    /// `number`, `expiry` or `cvc`.
    pub field: &'static str,
    pub message: &'static str,
}

/// Checks what a buyer typed in the hosted card form and finds the test card: the number
/// (spaces and dashes ignored) must pass the Luhn check and be one of the test cards (the
/// test processor moves no real money, and says so), the expiry (`MM/YY` or `MM/YYYY`) must
/// not be past `today`, and the CVC must be three digits.
pub fn from_form(
    number: &str,
    expiry: &str,
    cvc: &str,
    today: NaiveDate,
) -> Result<TestCard, FormFault> {
    let digits: String = number.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.len() < 12 || !digits.chars().all(|c| c.is_ascii_digit()) || !luhn(&digits) {
        return Err(FormFault {
            field: "number",
            message: "Your card number is invalid.",
        });
    }
    let Some(card) = CARDS.iter().find(|card| card.number == digits).copied() else {
        return Err(FormFault {
            field: "number",
            message: "Your card was declined: this is a test checkout, use a test card such as 4242 4242 4242 4242.",
        });
    };
    let expired = FormFault {
        field: "expiry",
        message: "Your card's expiration date is invalid or in the past.",
    };
    let (month, year) = expiry
        .trim()
        .split_once('/')
        .ok_or(FormFault { ..expired })?;
    let month: u32 = month.trim().parse().map_err(|_| FormFault { ..expired })?;
    let year: i32 = year.trim().parse().map_err(|_| FormFault { ..expired })?;
    let year = if year < 100 { 2000 + year } else { year };
    if !(1..=12).contains(&month) || (year, month) < (today.year(), today.month()) {
        return Err(expired);
    }
    if cvc.len() != 3 || !cvc.chars().all(|c| c.is_ascii_digit()) {
        return Err(FormFault {
            field: "cvc",
            message: "Your card's security code is invalid.",
        });
    }
    Ok(card)
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 4).unwrap_or_default()
    }

    #[test]
    fn payment_methods_and_numbers_name_the_same_cards() {
        for card in CARDS {
            assert!(luhn(card.number), "{}", card.number);
            assert_eq!(by_payment_method(card.payment_method), Some(*card));
            assert_eq!(from_form(card.number, "12/34", "123", today()), Ok(*card));
        }
        assert_eq!(
            by_payment_method("pm_card_visa").map(|c| c.last4()),
            Some("4242")
        );
        assert_eq!(by_payment_method("pm_unknown"), None);
    }

    #[test]
    fn behaviours() {
        let of = |pm| by_payment_method(pm).map(|c| c.behaviour);
        assert_eq!(of("pm_card_visa"), Some(Behaviour::Succeeds));
        assert_eq!(
            of("pm_card_chargeDeclined"),
            Some(Behaviour::Declines(GENERIC_DECLINE))
        );
        assert_eq!(
            of("pm_card_chargeDeclinedInsufficientFunds"),
            Some(Behaviour::Declines(INSUFFICIENT_FUNDS))
        );
        assert_eq!(
            of("pm_card_authenticationRequired"),
            Some(Behaviour::NeedsAuthentication)
        );
    }

    #[test]
    fn the_form_is_checked_field_by_field() {
        let card = from_form("4242 4242 4242 4242", "01/27", "123", today());
        assert_eq!(card.map(|c| c.payment_method), Ok("pm_card_visa"));
        assert_eq!(
            from_form("4242-4242-4242-4242", "12/2026", "123", today()).map(|c| c.brand),
            Ok("visa")
        );
        assert_eq!(
            from_form("4242 4242 4242 4241", "12/34", "123", today()).map_err(|f| f.field),
            Err("number")
        );
        // A valid number that is not a test card is refused without charging anything.
        assert_eq!(
            from_form("4000 0000 0000 0077", "12/34", "123", today()).map_err(|f| f.field),
            Err("number")
        );
        assert_eq!(
            from_form("5555 5555 5555 4444", "12/34", "123", today()).map(|c| c.brand),
            Ok("mastercard")
        );
        assert_eq!(
            from_form("4242424242424242", "11/26", "123", today()).map_err(|f| f.field),
            Err("expiry")
        );
        assert_eq!(
            from_form("4242424242424242", "13/30", "123", today()).map_err(|f| f.field),
            Err("expiry")
        );
        assert_eq!(
            from_form("4242424242424242", "soon", "123", today()).map_err(|f| f.field),
            Err("expiry")
        );
        assert_eq!(
            from_form("4242424242424242", "12/34", "12", today()).map_err(|f| f.field),
            Err("cvc")
        );
    }
}
