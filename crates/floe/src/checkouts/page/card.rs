//! The card form, which depends on the checkout's payment processor. The test processor's
//! is served here: three plain inputs, checked by `payments::test_cards::from_form`, whose
//! test card's payment method becomes the confirmation token. Stripe's would be Stripe
//! Elements (Stripe's own fields in frames, which hand back a confirmation token and never
//! let the card number reach floe); that processor does not exist yet, so this is the one
//! place that will choose it.

use maud::{Markup, html};

use super::fields::{Input, Render};
use super::form;
use crate::payments::processor::TEST;

/// Which card form a checkout shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardForm {
    /// The test processor: number, expiry and CVC posted with the form.
    TestCards,
    /// A processor whose form is not built (Stripe Elements, once Stripe exists): no card
    /// can be taken on this page.
    Unavailable,
}

/// The card form of a checkout taken by `processor` (the checkout's `processor` column).
pub fn card_form(processor: &str) -> CardForm {
    if processor == TEST {
        CardForm::TestCards
    } else {
        CardForm::Unavailable
    }
}

/// The card inputs. A number the buyer typed comes back only when it was a test card (so a
/// real card number typed by mistake is not echoed into the page); a CVC never does.
pub fn fields(form: CardForm, r: &Render<'_>) -> Markup {
    if form == CardForm::Unavailable {
        return html! {
            p.error { "Card payments are not available for this checkout yet." }
        };
    }
    let number = r
        .submitted("card_number")
        .filter(|number| form::is_test_card(number))
        .unwrap_or("")
        .to_owned();
    html! {
        p.test-mode {
            "Test mode: no real money moves. Pay with the test card 4242 4242 4242 4242, "
            "any future expiry date and any three digits."
        }
        (r.input(Input {
            autocomplete: Some("cc-number"),
            inputmode: Some("numeric"),
            required: true,
            placeholder: Some("1234 1234 1234 1234"),
            maxlength: Some(23),
            sticky: false,
            ..Input::new("card_number", "Card number", number)
        }))
        div.row {
            (r.input(Input {
                autocomplete: Some("cc-exp"),
                inputmode: Some("numeric"),
                required: true,
                placeholder: Some("MM/YY"),
                hint: Some("MM/YY".to_owned()),
                maxlength: Some(7),
                ..Input::new("card_expiry", "Expiry date", String::new())
            }))
            (r.input(Input {
                autocomplete: Some("cc-csc"),
                inputmode: Some("numeric"),
                required: true,
                hint: Some("3 digits on the back".to_owned()),
                maxlength: Some(4),
                sticky: false,
                ..Input::new("card_cvc", "Security code (CVC)", String::new())
            }))
        }
    }
}
