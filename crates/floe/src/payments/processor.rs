//! Payment processors behind one trait. A processor is asked to charge (or to save a
//! payment method for later charges); whatever it answers, now or later by webhook, is
//! turned into one [`Outcome`] that `events` records once and the sale applies.

use serde::{Deserialize, Serialize};

use super::test_cards::{self, Behaviour};

/// What an attempt asks of the processor: money now, or only a payment method kept for
/// later charges (a trial, a recurring product free for now). A processor refuses a charge
/// of nothing, so the second is a setup, and it makes no payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    Payment,
    Setup,
}

impl Intent {
    /// The name an outcome of this intent is recorded under (`payment.succeeded`,
    /// `setup.failed`, …).
    pub fn event_kind(self, outcome: &Outcome) -> &'static str {
        match (self, outcome) {
            (Self::Payment, Outcome::Succeeded { .. }) => "payment.succeeded",
            (Self::Payment, Outcome::Declined { .. }) => "payment.failed",
            (Self::Payment, Outcome::RequiresAction { .. }) => "payment.requires_action",
            (Self::Setup, Outcome::Succeeded { .. }) => "setup.succeeded",
            (Self::Setup, Outcome::Declined { .. }) => "setup.failed",
            (Self::Setup, Outcome::RequiresAction { .. }) => "setup.requires_action",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Payment => "payment",
            Self::Setup => "setup",
        }
    }
}

/// What to charge.
#[derive(Clone, Debug)]
pub struct ChargeRequest<'a> {
    /// A payment, or a setup (`amount` is then 0).
    pub intent: Intent,
    /// Sent as the processor's idempotency key: a retried request charges once.
    pub idempotency_key: String,
    pub amount: i64,
    pub currency: &'a str,
    /// The buyer's confirmation token (or, for a later charge, a saved method's ID).
    pub token: &'a str,
    /// Keep the payment method for later charges (recurring products).
    pub save_method: bool,
    /// A charge on a saved method without the buyer present (renewals, drafts).
    pub off_session: bool,
}

/// The payment method a charge used, as the processor described it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodDetails {
    /// `card`, …
    pub kind: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: u32,
    pub exp_year: i32,
    /// The processor's ID of the method, set when it was saved for later charges.
    pub saved_as: Option<String>,
}

impl MethodDetails {
    /// As payments and saved methods store it (`method_metadata`).
    pub fn metadata(&self) -> String {
        serde_json::json!({
            "brand": self.brand,
            "last4": self.last4,
            "exp_month": self.exp_month,
            "exp_year": self.exp_year,
            "saved_as": self.saved_as,
        })
        .to_string()
    }

    /// A method as `metadata` stored it, of `kind` (`card`, …).
    pub fn from_metadata(kind: &str, stored: &str) -> Self {
        let stored: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(stored).unwrap_or_default();
        let text = |key: &str| {
            stored
                .get(key)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        let number = |key: &str| {
            stored
                .get(key)
                .and_then(serde_json::Value::as_i64)
                .unwrap_or(0)
        };
        Self {
            kind: kind.to_owned(),
            brand: text("brand").unwrap_or_default(),
            last4: text("last4").unwrap_or_default(),
            exp_month: u32::try_from(number("exp_month")).unwrap_or(0),
            exp_year: i32::try_from(number("exp_year")).unwrap_or(0),
            saved_as: text("saved_as"),
        }
    }
}

/// How a charge ended, in the processor's words but one shape for all processors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    Succeeded {
        charge_id: String,
        method: MethodDetails,
    },
    Declined {
        charge_id: String,
        method: Option<MethodDetails>,
        /// The processor's decline code (`card_declined`, `insufficient_funds`, …).
        code: String,
        message: String,
    },
    /// The buyer must authenticate (3-D Secure) before the charge completes.
    RequiresAction {
        charge_id: String,
        method: MethodDetails,
        client_secret: String,
    },
}

impl Outcome {
    pub fn charge_id(&self) -> &str {
        match self {
            Self::Succeeded { charge_id, .. }
            | Self::Declined { charge_id, .. }
            | Self::RequiresAction { charge_id, .. } => charge_id,
        }
    }
}

/// The processor could not be asked (unreachable, refused the request itself).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// A token the processor does not know.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UnknownToken(pub String);

/// A refund to ask of the processor.
#[derive(Clone, Debug)]
pub struct RefundRequest<'a> {
    /// The refund's own ID: the processor's idempotency key, so asking again refunds once.
    pub idempotency_key: String,
    /// The processor's ID of the charge refunded.
    pub charge_id: &'a str,
    /// What goes back, tax included.
    pub amount: i64,
    pub currency: &'a str,
    /// The last digits of the card charged (the test processor's cards decide by them).
    pub card_last4: &'a str,
}

/// Where a refund stands at the processor, in the contract's `RefundStatus` terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundState {
    /// Asked, not settled yet: the processor confirms later (event or next check).
    Pending,
    Succeeded,
    /// With the processor's reason (`declined`, `expired_or_canceled_card`, …).
    Failed(String),
    Canceled,
}

impl RefundState {
    pub fn status(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed(_) => "failed",
            Self::Canceled => "canceled",
        }
    }
}

/// The processor's answer to a refund: its ID for it, and its state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundAnswer {
    pub refund_id: String,
    pub state: RefundState,
}

/// The built-in test processor: no account, no network, Stripe's test cards.
pub struct TestProcessor;

pub const TEST: &str = "test";

impl TestProcessor {
    /// Charges `request` with a test payment method (`pm_card_visa`, …) or a method saved
    /// earlier (`pm_card_visa_<id>`). The charge ID is derived from the idempotency key,
    /// so asking twice describes one charge.
    pub fn charge(&self, request: &ChargeRequest<'_>) -> Result<Outcome, UnknownToken> {
        let base = saved_base(request.token);
        let card = test_cards::by_payment_method(base).ok_or_else(|| {
            UnknownToken(format!(
                "No such payment method or confirmation token: '{}'",
                request.token
            ))
        })?;
        let prefix = match request.intent {
            Intent::Payment => "py_test",
            Intent::Setup => "seti_test",
        };
        let charge_id = format!("{prefix}_{}", short_hash(&request.idempotency_key));
        let saved = request.token != base;
        let method = MethodDetails {
            kind: "card".to_owned(),
            brand: card.brand.to_owned(),
            last4: card.last4().to_owned(),
            exp_month: 12,
            exp_year: 2034,
            saved_as: if saved {
                Some(request.token.to_owned())
            } else if request.save_method {
                Some(format!("{base}_{}", short_hash(&request.idempotency_key)))
            } else {
                None
            },
        };
        Ok(match card.behaviour {
            Behaviour::Succeeds => Outcome::Succeeded { charge_id, method },
            Behaviour::Declines(decline) => Outcome::Declined {
                charge_id,
                method: Some(method),
                code: decline.code.to_owned(),
                message: decline.message.to_owned(),
            },
            Behaviour::NeedsAuthentication if !request.off_session => Outcome::RequiresAction {
                client_secret: format!("{charge_id}_secret"),
                charge_id,
                method,
            },
            Behaviour::NeedsAuthentication => Outcome::Declined {
                charge_id,
                method: Some(method),
                code: "authentication_required".to_owned(),
                message: "Your card was declined. This transaction requires authentication."
                    .to_owned(),
            },
            Behaviour::LaterChargesDecline(decline) if saved => Outcome::Declined {
                charge_id,
                method: Some(method),
                code: decline.code.to_owned(),
                message: decline.message.to_owned(),
            },
            Behaviour::LaterChargesDecline(_) => Outcome::Succeeded { charge_id, method },
        })
    }
}

impl TestProcessor {
    /// Refunds a charge: settled at once, except on the card whose refunds fail later
    /// (answered `pending`). The refund ID is derived from the idempotency key, so asking
    /// twice describes one refund.
    pub fn refund(&self, request: &RefundRequest<'_>) -> RefundAnswer {
        RefundAnswer {
            refund_id: format!("re_test_{}", short_hash(&request.idempotency_key)),
            state: if test_cards::refunds_fail_later(request.card_last4) {
                RefundState::Pending
            } else {
                RefundState::Succeeded
            },
        }
    }

    /// What became of a pending refund when the processor is asked again.
    pub fn refund_settled(&self, card_last4: &str) -> RefundState {
        if test_cards::refunds_fail_later(card_last4) {
            RefundState::Failed("declined".to_owned())
        } else {
            RefundState::Succeeded
        }
    }
}

/// The test payment method a saved method was made from (`pm_card_visa_ab12…` →
/// `pm_card_visa`).
fn saved_base(token: &str) -> &str {
    match token.rsplit_once('_') {
        Some((base, suffix))
            if suffix.len() == 16
                && suffix.chars().all(|c| c.is_ascii_hexdigit())
                && test_cards::by_payment_method(base).is_some() =>
        {
            base
        }
        _ => token,
    }
}

fn short_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(token: &str, off_session: bool) -> ChargeRequest<'_> {
        ChargeRequest {
            intent: Intent::Payment,
            idempotency_key: "checkout-1".to_owned(),
            amount: 1000,
            currency: "usd",
            token,
            save_method: true,
            off_session,
        }
    }

    #[test]
    fn cards_behave_as_in_stripe_test_mode() {
        let processor = TestProcessor;
        let visa = processor.charge(&request("pm_card_visa", false));
        assert!(matches!(visa, Ok(Outcome::Succeeded { .. })));
        let declined = processor.charge(&request("pm_card_chargeDeclined", false));
        assert!(
            matches!(declined, Ok(Outcome::Declined { ref code, .. }) if code == "generic_decline")
        );
        let three_ds = processor.charge(&request("pm_card_authenticationRequired", false));
        assert!(matches!(three_ds, Ok(Outcome::RequiresAction { .. })));
        assert!(processor.charge(&request("tok_unknown", false)).is_err());
    }

    #[test]
    fn a_saved_0341_card_fails_later_charges() {
        let processor = TestProcessor;
        let Ok(Outcome::Succeeded { method, .. }) =
            processor.charge(&request("pm_card_chargeCustomerFail", false))
        else {
            panic!("the first charge succeeds");
        };
        let saved = method.saved_as.unwrap_or_default();
        assert!(saved.starts_with("pm_card_chargeCustomerFail_"));
        let later = processor.charge(&request(&saved, true));
        assert!(matches!(later, Ok(Outcome::Declined { .. })));
        // The same key describes the same charge.
        let again = processor
            .charge(&request("pm_card_visa", false))
            .map(|o| o.charge_id().to_owned());
        let first = processor
            .charge(&request("pm_card_visa", false))
            .map(|o| o.charge_id().to_owned());
        assert_eq!(again.ok(), first.ok());
    }
}
