//! The pages around the form: the confirmation (the default success URL), the
//! authentication step a card may ask for, and the pages for a checkout that is expired,
//! unknown, or could not be shown.

use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use super::layout::{document, respond, respond_with_policy};
use super::{card, format};
use crate::checkouts::schema::{CheckoutPublic, CheckoutStatus};

fn plain(status: StatusCode, title: &str, organization: Option<&str>, body: Markup) -> Response {
    respond(
        status,
        document(
            title,
            organization,
            html! {},
            html! { div.card.status { (body) } },
        ),
    )
}

pub fn not_found() -> Response {
    plain(
        StatusCode::NOT_FOUND,
        "Checkout not found",
        None,
        html! {
            h1 { "Checkout not found" }
            p { "This checkout link is not valid. Check the link you were given, or ask the seller for a new one." }
        },
    )
}

pub fn expired(organization: Option<&str>) -> Response {
    plain(
        StatusCode::GONE,
        "Checkout expired",
        organization,
        html! {
            h1 { "This checkout has expired" }
            p { "Checkouts stay open for a limited time and nothing was charged. Go back to the seller's site to start again." }
        },
    )
}

/// A fault that is not the buyer's to fix (`status` 4xx or 5xx), in words for the buyer.
pub fn failure(status: StatusCode, message: &str) -> Response {
    plain(
        status,
        "Something went wrong",
        None,
        html! {
            h1 { "Something went wrong" }
            p { (message) }
        },
    )
}

fn summary(checkout: &CheckoutPublic) -> Markup {
    let base = &checkout.base;
    html! {
        @if let Some(product) = &base.product {
            p { strong { (product.name) } }
        }
        p { "Total: " strong { (format::money(base.total_amount, &base.currency)) } }
        @if let Some(email) = &base.customer_email {
            p.muted { "A receipt goes to " (email) "." }
        }
    }
}

/// `GET /checkout/{client_secret}/confirmation`: what became of the payment.
pub fn confirmation(checkout: &CheckoutPublic, checkout_url: &str, needs_action: bool) -> Response {
    let organization = Some(checkout.organization.name.as_str());
    let (title, body, refresh) = match checkout.base.status {
        CheckoutStatus::Succeeded => (
            "Thank you",
            html! {
                h1 { "Thank you! Payment received" }
                p role="status" { "Your order is confirmed." }
                (summary(checkout))
            },
            false,
        ),
        CheckoutStatus::Confirmed if needs_action => (
            "Confirm your payment",
            html! {
                h1 { "Your bank asks you to confirm this payment" }
                p { a href={(checkout_url) "/authenticate"} { "Confirm the payment" } }
            },
            false,
        ),
        CheckoutStatus::Confirmed => (
            "Processing",
            html! {
                h1 { "Your payment is processing" }
                p role="status" { "This page refreshes itself; you can also come back later." }
                (summary(checkout))
            },
            true,
        ),
        CheckoutStatus::Failed => (
            "Payment failed",
            html! {
                h1 { "The payment failed" }
                p { "Nothing was charged." }
            },
            false,
        ),
        CheckoutStatus::Open | CheckoutStatus::Expired => (
            "Not paid yet",
            html! {
                h1 { "This checkout is not paid yet" }
                p { a href=(checkout_url) { "Go back to the checkout" } }
            },
            false,
        ),
    };
    // A refresh without script: a processing payment settles on its own.
    let head = if refresh {
        html! { meta http-equiv="refresh" content="3"; }
    } else {
        html! {}
    };
    respond(
        StatusCode::OK,
        document(
            title,
            organization,
            head,
            html! { div.card.status { (body) } },
        ),
    )
}

/// `GET /checkout/{client_secret}/authenticate`: the test processor's stand-in for the
/// bank's 3-D Secure page.
pub fn authenticate(checkout: &CheckoutPublic) -> Response {
    let base = &checkout.base;
    respond(
        StatusCode::OK,
        document(
            "Confirm your payment",
            Some(&checkout.organization.name),
            html! {},
            html! {
                div.card.status {
                    h1 { "Confirm your payment" }
                    p {
                        "Your bank asks you to confirm the payment of "
                        strong { (format::money(base.total_amount, &base.currency)) }
                        " to " (checkout.organization.name) "."
                    }
                    p.test-mode { "Test mode: choose what the bank answers." }
                    form method="post" {
                        div.actions {
                            button.pay type="submit" name="action" value="complete" { "Complete" }
                            button type="submit" name="action" value="fail" { "Fail" }
                        }
                    }
                }
            },
        ),
    )
}

/// `GET /checkout/{client_secret}/authenticate` of a Stripe checkout: Stripe.js shows the
/// bank's step for the intent, then the buyer goes to `done_url` (the confirmation page,
/// which shows what Stripe's webhook reported).
pub fn authenticate_with_stripe(
    checkout: &CheckoutPublic,
    publishable_key: &str,
    client_secret: &str,
    done_url: &str,
) -> Response {
    let base = &checkout.base;
    respond_with_policy(
        StatusCode::OK,
        document(
            "Confirm your payment",
            Some(&checkout.organization.name),
            html! {},
            html! {
                div.card.status {
                    h1 { "Confirm your payment" }
                    p {
                        (format::money(base.total_amount, &base.currency))
                        " to " (checkout.organization.name) "."
                    }
                    (card::stripe_next_action(publishable_key, client_secret, done_url))
                }
                (card::stripe_scripts())
            },
        ),
        card::stripe_policy(),
    )
}
