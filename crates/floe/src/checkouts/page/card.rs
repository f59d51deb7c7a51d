//! The card form, which depends on the checkout's payment processor. The test processor's
//! is three plain inputs, checked by `payments::test_cards::from_form`, whose test card's
//! payment method becomes the confirmation token. Stripe's is its Payment Element (Stripe's
//! own fields in frames, so the card number never reaches floe): a small script of floe's
//! own mounts it and, on Pay, asks Stripe.js for a confirmation token, puts its ID in the
//! form and submits it to the same POST. That script, and Stripe.js, are the only scripts
//! any hosted page runs, and only on a Stripe checkout's pages, whose Content-Security-Policy
//! names them.

use std::sync::LazyLock;

use base64::Engine;
use maud::{Markup, PreEscaped, html};
use sha2::{Digest, Sha256};

use super::fields::{Input, Render};
use super::form;
use crate::app::AppState;
use crate::checkouts::entity::Model;
use crate::checkouts::schema::CheckoutBase;
use crate::payments::accounts::Account;
use crate::payments::processor::TEST;
use crate::payments::stripe::STRIPE;

/// Which card form a checkout shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CardForm {
    /// The test processor: number, expiry and CVC posted with the form.
    TestCards,
    /// Stripe's Payment Element, with the account's publishable key.
    Stripe { publishable_key: String },
    /// No card can be taken on this page (a Stripe account without a publishable key).
    Unavailable,
}

/// The card form of `row`, taken by its processor (the checkout's `processor` column).
pub async fn card_form(app: &AppState, row: &Model) -> CardForm {
    if row.processor == TEST {
        return CardForm::TestCards;
    }
    if row.processor != STRIPE {
        return CardForm::Unavailable;
    }
    match crate::payments::accounts::of(&app.db, &app.secret, row.organization_id).await {
        Ok(Account::Stripe(keys)) => keys
            .publishable_key
            .map_or(CardForm::Unavailable, |publishable_key| CardForm::Stripe {
                publishable_key,
            }),
        Ok(Account::Test) => CardForm::Unavailable,
        Err(error) => {
            tracing::warn!(%error, "the Stripe account could not be read for a checkout page");
            CardForm::Unavailable
        }
    }
}

/// Floe's own script on a Stripe checkout's pages. On the form (`#stripe-payment`): mounts
/// the Payment Element and, when Pay is pressed, trades the element for a confirmation
/// token and submits the form with it. On the authentication step (`#stripe-next-action`):
/// hands the intent to Stripe.js for the bank's step, then goes to the confirmation page.
/// Constant (what it needs comes in `data-` attributes), so the page's policy names it by
/// its hash.
const STRIPE_SCRIPT: &str = r##"
(function () {
  "use strict";
  if (typeof Stripe !== "function") return;
  var message = document.getElementById("stripe-message");
  function fail(text) {
    if (!message) return;
    message.textContent = text || "The payment could not be completed. Please try again.";
    message.hidden = false;
  }
  var action = document.getElementById("stripe-next-action");
  if (action) {
    var data = action.dataset;
    Stripe(data.publishableKey).handleNextAction({ clientSecret: data.clientSecret }).then(function (result) {
      if (result && result.error) { fail(result.error.message); return; }
      window.location.replace(data.doneUrl);
    }, function () { fail(); });
    return;
  }
  var box = document.getElementById("stripe-payment");
  if (!box) return;
  var form = box.closest("form");
  var token = document.getElementById("confirmation_token_id");
  var d = box.dataset;
  var stripe = Stripe(d.publishableKey);
  var options = { mode: d.mode, currency: d.currency };
  if (d.mode === "payment") options.amount = parseInt(d.amount, 10);
  if (d.setupFutureUsage) options.setupFutureUsage = d.setupFutureUsage;
  var elements = stripe.elements(options);
  elements.create("payment").mount("#stripe-element");
  var busy = false;
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (!submitter || submitter.value !== "pay" || token.value) return;
    event.preventDefault();
    if (busy) return;
    busy = true;
    if (message) message.hidden = true;
    var done = function (text) { busy = false; fail(text); };
    elements.submit().then(function (checked) {
      if (checked && checked.error) { done(checked.error.message); return; }
      return stripe.createConfirmationToken({ elements: elements }).then(function (result) {
        if (result.error) { done(result.error.message); return; }
        token.value = result.confirmationToken.id;
        // In a later task: a submission asked for while this one's event is still being
        // dispatched (promises that resolve at once) is silently dropped.
        setTimeout(function () { form.requestSubmit(submitter); }, 0);
      });
    }).catch(function () { done(); });
  });
})();
"##;

/// The Content-Security-Policy of a Stripe checkout's pages: floe's own inline script by
/// its hash, Stripe.js and the frames, requests and images it makes (as Stripe documents
/// them), and nothing else.
pub fn stripe_policy() -> &'static str {
    static POLICY: LazyLock<String> = LazyLock::new(|| {
        let hash = base64::engine::general_purpose::STANDARD
            .encode(Sha256::digest(STRIPE_SCRIPT.as_bytes()));
        format!(
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
             script-src 'sha256-{hash}' https://js.stripe.com https://*.js.stripe.com; \
             frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com; \
             connect-src https://api.stripe.com https://*.stripe.com; \
             img-src https://*.stripe.com"
        )
    });
    &POLICY
}

/// Stripe.js and floe's script, after the page's content.
pub fn stripe_scripts() -> Markup {
    html! {
        script src="https://js.stripe.com/v3/" {}
        script { (PreEscaped(STRIPE_SCRIPT)) }
    }
}

/// The scripts `form` needs (none for the test processor's).
pub fn scripts(form: &CardForm) -> Markup {
    match form {
        CardForm::Stripe { .. } => stripe_scripts(),
        _ => html! {},
    }
}

/// The authentication step of a Stripe intent: Stripe.js shows the bank's step, then the
/// buyer goes to `done_url`, where the webhook's outcome shows.
pub fn stripe_next_action(publishable_key: &str, client_secret: &str, done_url: &str) -> Markup {
    html! {
        div id="stripe-next-action" data-publishable-key=(publishable_key)
            data-client-secret=(client_secret) data-done-url=(done_url) {
            p role="status" { "Your bank asks you to confirm this payment in the window that opens." }
            p.error id="stripe-message" role="alert" hidden {}
            noscript { p.error { "Confirming this payment needs JavaScript. Turn it on, then reload this page." } }
        }
    }
}

/// Stripe's Payment Element's place in the form: what Stripe.js needs to draw it (the
/// intent it will confirm: a payment of the total, or a setup when nothing is paid now),
/// and the hidden input its confirmation token is posted in.
fn stripe_fields(publishable_key: &str, checkout: &CheckoutBase) -> Markup {
    let recurring = checkout.product.as_ref().is_some_and(|p| p.is_recurring);
    let mode = if checkout.is_payment_required {
        "payment"
    } else {
        "setup"
    };
    html! {
        div id="stripe-payment" data-publishable-key=(publishable_key) data-mode=(mode)
            data-amount=(checkout.total_amount) data-currency=(checkout.currency)
            data-setup-future-usage=[(recurring && checkout.is_payment_required).then_some("off_session")] {
            div id="stripe-element" {}
            p.error id="stripe-message" role="alert" hidden {}
            noscript { p.error { "Card payments need JavaScript on this page. Turn it on, then reload." } }
        }
        input type="hidden" id="confirmation_token_id" name="confirmation_token_id" value="";
    }
}

/// The card inputs. A number the buyer typed comes back only when it was a test card (so a
/// real card number typed by mistake is not echoed into the page); a CVC never does.
pub fn fields(form: &CardForm, r: &Render<'_>, checkout: &CheckoutBase) -> Markup {
    match form {
        CardForm::Unavailable => {
            return html! {
                p.error { "Card payments are not available for this checkout yet." }
            };
        }
        CardForm::Stripe { publishable_key } => return stripe_fields(publishable_key, checkout),
        CardForm::TestCards => {}
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
