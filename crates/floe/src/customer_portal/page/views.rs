//! The portal's pages. Every control has a visible label or text, forms are native (they
//! work from the keyboard and with assistive technology), and the layout is the checkout
//! page's, which fits a phone-sized screen.

use maud::{Markup, html};
use serde_json::Value;

use super::Visitor;
use super::data::Dashboard;
use crate::app::AppState;
use crate::checkouts::page::layout::document;
use crate::customer_portal::organization::CustomerOrganization;
use crate::subscriptions::preview::ChangePreview;

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or("")
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn money(amount: i64, currency: &str) -> String {
    crate::money::display(amount, currency)
}

/// A date of an RFC 3339 timestamp, as `5 Dec 2026`.
fn date(value: &Value) -> String {
    value
        .as_str()
        .and_then(|raw| chrono::DateTime::parse_from_rfc3339(raw).ok())
        .map(|at| at.format("%-d %b %Y").to_string())
        .unwrap_or_default()
}

fn home(organization: &CustomerOrganization) -> String {
    super::home(&organization.slug)
}

pub fn sign_in(organization: &CustomerOrganization, expired: bool, error: Option<&str>) -> Markup {
    let title = format!("Sign in to {}", organization.name);
    document(
        &title,
        Some(&organization.name),
        html! {},
        html! {
            section.card aria-labelledby="sign-in-title" {
                h1 #sign-in-title { "Your purchases" }
                @if expired {
                    p.notice role="status" { "That link has expired. Sign in with your email instead." }
                }
                p { "Enter the email you bought with. We'll send you a code to sign in." }
                form method="post" action=(format!("{}/sign-in", home(organization))) {
                    div.field.has-error[error.is_some()] {
                        label for="email" { "Email" }
                        @if let Some(error) = error {
                            p.error #email-error { (error) }
                        }
                        input #email type="email" name="email" autocomplete="email" required
                            aria-describedby=[error.map(|_| "email-error")];
                    }
                    button.pay type="submit" { "Send me a code" }
                }
            }
        },
    )
}

pub fn code(organization: &CustomerOrganization, email: &str, error: Option<&str>) -> Markup {
    let title = format!("Enter your code for {}", organization.name);
    document(
        &title,
        Some(&organization.name),
        html! {},
        html! {
            section.card aria-labelledby="code-title" {
                h1 #code-title { "Check your email" }
                p { "If " strong { (email) } " has purchases here, we sent it a six-character code. It works once, for 15 minutes." }
                form method="post" action=(format!("{}/code", home(organization))) {
                    input type="hidden" name="email" value=(email);
                    div.field.has-error[error.is_some()] {
                        label for="code" { "Code" }
                        @if let Some(error) = error {
                            p.error #code-error role="alert" { (error) }
                        }
                        input #code type="text" name="code" inputmode="text" autocomplete="one-time-code"
                            autocapitalize="characters" spellcheck="false" maxlength="6" required
                            aria-describedby=[error.map(|_| "code-error")];
                    }
                    button.pay type="submit" { "Sign in" }
                }
                p.muted { a href=(home(organization)) { "Use another email" } }
            }
        },
    )
}

fn form_token_field(visitor: &Visitor, app: &AppState) -> Markup {
    html! { input type="hidden" name="form_token" value=(visitor.form_token(app)); }
}

fn notice_text(notice: &str) -> Option<&'static str> {
    Some(match notice {
        "changed" => "Your plan was changed.",
        "canceled" => "Your subscription will end at the end of the current period.",
        "uncanceled" => "Your subscription will renew as before.",
        "card_added" => "Your card was saved. Your subscriptions will be charged on it.",
        _ => return None,
    })
}

pub fn dashboard(
    visitor: &Visitor,
    app: &AppState,
    data: &Dashboard,
    notice: Option<&str>,
) -> Markup {
    let organization = &visitor.organization.organization;
    let slug = home(organization);
    let may_bill = visitor.session.may_bill();
    let who = text(&data.customer, "email");
    document(
        &format!("Your purchases from {}", organization.name),
        Some(&organization.name),
        html! {},
        html! {
            div.card {
                h1 { "Your purchases" }
                p.muted { "Signed in as " (who) }
                form method="post" action=(format!("{slug}/sign-out")) {
                    button type="submit" { "Sign out" }
                }
                @if let Some(return_url) = &visitor.session.return_url {
                    p { a href=(return_url) { "Back to " (organization.name) } }
                }
            }
            @if let Some(message) = notice.and_then(notice_text) {
                p.notice role="status" { (message) }
            }
            (subscriptions(visitor, app, data, may_bill))
            @if may_bill {
                (orders(&slug, &data.orders))
                (payment_methods(&slug, &data.payment_methods))
                @if !data.wallets.is_empty() {
                    section.card aria-labelledby="balance-title" {
                        h2 #balance-title { "Balance" }
                        ul {
                            @for wallet in &data.wallets {
                                li { (money(wallet["balance"].as_i64().unwrap_or(0), text(wallet, "currency"))) " to your credit, used on your next invoices" }
                            }
                        }
                    }
                }
                (seats(data))
            }
            (license_keys(&data.license_keys))
            (downloads(&data.downloadables))
        },
    )
}

fn subscriptions(visitor: &Visitor, app: &AppState, data: &Dashboard, may_bill: bool) -> Markup {
    let organization = &visitor.organization.organization;
    let slug = home(organization);
    let settings = &organization.customer_portal_settings.subscription;
    html! {
        section.card aria-labelledby="subscriptions-title" {
            h2 #subscriptions-title { "Subscriptions" }
            @if data.subscriptions.is_empty() {
                p.muted { "No subscriptions." }
            }
            @for subscription in &data.subscriptions {
                @let id = text(subscription, "id");
                @let product = &subscription["product"];
                @let status = text(subscription, "status");
                @let canceling = subscription["cancel_at_period_end"].as_bool().unwrap_or(false);
                @let live = matches!(status, "active" | "trialing" | "past_due");
                article.subscription aria-labelledby=(format!("sub-{id}")) {
                    h3 #(format!("sub-{id}")) { (text(product, "name")) }
                    p {
                        (money(subscription["amount"].as_i64().unwrap_or(0), text(subscription, "currency")))
                        " per " (text(subscription, "recurring_interval"))
                        " · " (status.replace('_', " "))
                    }
                    @if canceling {
                        p { "Ends on " (date(&subscription["current_period_end"])) ". You keep access until then." }
                    } @else if live {
                        p.muted { "Renews on " (date(&subscription["current_period_end"])) }
                    }
                    @if may_bill && live {
                        div.actions.start {
                            @if canceling {
                                form method="post" action=(format!("{slug}/subscriptions/{id}/uncancel")) {
                                    (form_token_field(visitor, app))
                                    button type="submit" { "Keep my subscription" }
                                }
                            } @else {
                                a.button href=(format!("{slug}/subscriptions/{id}/cancel")) { "Cancel subscription" }
                            }
                        }
                        @let others: Vec<_> = visitor.organization.products.iter()
                            .filter(|p| p.recurring_interval.is_some() && p.id.to_string() != text(product, "id"))
                            .collect();
                        @if settings.update_plan && !canceling && !others.is_empty() {
                            form method="get" action=(format!("{slug}/subscriptions/{id}/change")) {
                                div.inline {
                                    div.field {
                                        label for=(format!("plan-{id}")) { "Change plan" }
                                        select #(format!("plan-{id}")) name="product_id" {
                                            @for other in &others {
                                                option value=(other.id) { (other.name) }
                                            }
                                        }
                                    }
                                    button type="submit" { "Review change" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn orders(slug: &str, orders: &[Value]) -> Markup {
    html! {
        section.card aria-labelledby="orders-title" {
            h2 #orders-title { "Orders" }
            @if orders.is_empty() {
                p.muted { "No orders." }
            }
            ul.orders {
                @for order in orders {
                    @let id = text(order, "id");
                    li {
                        (date(&order["created_at"])) " · " (text(order, "description"))
                        " · " (money(order["total_amount"].as_i64().unwrap_or(0), text(order, "currency")))
                        " · " (text(order, "status"))
                        @if matches!(text(order, "status"), "paid" | "refunded" | "partially_refunded") {
                            " · " a href=(format!("{slug}/orders/{id}/invoice")) aria-label=(format!("Invoice for the order of {}", date(&order["created_at"]))) { "Invoice" }
                        }
                    }
                }
            }
        }
    }
}

fn payment_methods(slug: &str, methods: &[Value]) -> Markup {
    html! {
        section.card aria-labelledby="methods-title" {
            h2 #methods-title { "Payment methods" }
            p { a.button href=(format!("{slug}/payment-methods/new")) { "Add a card" } }
            @if methods.is_empty() {
                p.muted { "No saved payment method." }
            }
            ul {
                @for method in methods {
                    @let card = &method["method_metadata"];
                    li {
                        (capitalized(text(card, "brand"))) " ending in " (text(card, "last4"))
                        @if let (Some(month), Some(year)) = (card["exp_month"].as_i64(), card["exp_year"].as_i64()) {
                            ", expires " (format!("{month:02}/{year}"))
                        }
                    }
                }
            }
        }
    }
}

fn seats(data: &Dashboard) -> Markup {
    html! {
        @for (subscription_id, list) in &data.seats {
            section.card aria-labelledby=(format!("seats-{subscription_id}")) {
                h2 #(format!("seats-{subscription_id}")) { "Seats" }
                p { (list["available_seats"].as_i64().unwrap_or(0)) " of " (list["total_seats"].as_i64().unwrap_or(0)) " seats available" }
                ul {
                    @for seat in list["seats"].as_array().into_iter().flatten() {
                        li { (text(seat, "customer_email")) " · " (text(seat, "status")) }
                    }
                }
            }
        }
    }
}

fn license_keys(keys: &[Value]) -> Markup {
    html! {
        @if !keys.is_empty() {
            section.card aria-labelledby="keys-title" {
                h2 #keys-title { "License keys" }
                ul {
                    @for key in keys {
                        li {
                            code { (text(key, "key")) }
                            " · " (text(key, "status"))
                            @let activations = key["activations"].as_array().cloned().unwrap_or_default();
                            @if !activations.is_empty() {
                                ul {
                                    @for activation in &activations {
                                        li { "Activated on " (text(activation, "label")) " (" (date(&activation["created_at"])) ")" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn downloads(files: &[Value]) -> Markup {
    html! {
        @if !files.is_empty() {
            section.card aria-labelledby="downloads-title" {
                h2 #downloads-title { "Downloads" }
                ul {
                    @for downloadable in files {
                        @let file = &downloadable["file"];
                        li {
                            a href=(text(&file["download"], "url")) download=(text(file, "name")) { (text(file, "name")) }
                            @if let Some(size) = file["size"].as_i64() {
                                span.muted { " (" (size_text(size)) ")" }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn size_text(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} bytes"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

fn lines(lines: &[crate::subscriptions::preview::Line], currency: &str) -> Markup {
    html! {
        @for line in lines {
            div { dt { (line.label) } dd { (money(line.amount, currency)) } }
        }
    }
}

pub fn change(
    visitor: &Visitor,
    app: &AppState,
    subscription: &Value,
    product_id: uuid::Uuid,
    product: &str,
    preview: &ChangePreview,
) -> Markup {
    let organization = &visitor.organization.organization;
    let slug = home(organization);
    let id = text(subscription, "id");
    let current = text(&subscription["product"], "name");
    let currency = &preview.currency;
    document(
        &format!("Change to {product}"),
        Some(&organization.name),
        html! {},
        html! {
            section.card aria-labelledby="change-title" {
                h1 #change-title { "Change " (current) " to " (product) }
                @if let Some((items, total, due)) = &preview.now {
                    p { "You'll be charged now:" }
                    dl.totals {
                        (lines(items, currency))
                        div.total { dt { "Total" } dd { (money(*total, currency)) } }
                        @if due != total {
                            div { dt { "Paid from your balance" } dd { (money(due - total, currency)) } }
                            div.total { dt { "Charged to your card" } dd { (money(*due, currency)) } }
                        }
                    }
                } @else if let Some(at) = preview.scheduled_for {
                    p { "The change takes effect on " (at.format("%-d %b %Y")) ", at your next renewal. Nothing is charged now." }
                } @else if !preview.next_invoice.is_empty() {
                    p { "Nothing is charged now. Your next invoice will include:" }
                    dl.totals { (lines(&preview.next_invoice, currency)) }
                } @else {
                    p { "The change takes effect now. Nothing is charged now." }
                }
                form method="post" action=(format!("{slug}/subscriptions/{id}/change")) {
                    (form_token_field(visitor, app))
                    input type="hidden" name="product_id" value=(product_id);
                    div.actions {
                        button.pay type="submit" { "Confirm change" }
                        a href=(slug) { "Keep " (current) }
                    }
                }
            }
        },
    )
}

pub fn cancel(visitor: &Visitor, app: &AppState, subscription: &Value) -> Markup {
    let organization = &visitor.organization.organization;
    let slug = home(organization);
    let id = text(subscription, "id");
    let name = text(&subscription["product"], "name");
    document(
        &format!("Cancel {name}"),
        Some(&organization.name),
        html! {},
        html! {
            section.card aria-labelledby="cancel-title" {
                h1 #cancel-title { "Cancel " (name) "?" }
                p { "Your subscription ends on " strong { (date(&subscription["current_period_end"])) } ". You keep access until then and are not charged again. You can keep it any time before that date." }
                form method="post" action=(format!("{slug}/subscriptions/{id}/cancel")) {
                    (form_token_field(visitor, app))
                    div.actions {
                        button.pay type="submit" { "Cancel at period end" }
                        a href=(slug) { "Keep my subscription" }
                    }
                }
            }
        },
    )
}

pub fn invoice_pending(visitor: &Visitor, again: &str) -> Markup {
    let organization = &visitor.organization.organization;
    document(
        "Your invoice is being prepared",
        Some(&organization.name),
        html! {},
        html! {
            section.card.status aria-labelledby="invoice-title" {
                h1 #invoice-title { "Your invoice is being prepared" }
                p { "It takes a few seconds." }
                div.actions {
                    a.button href=(again) { "Download the invoice" }
                    a href=(home(organization)) { "Back to your purchases" }
                }
            }
        },
    )
}

pub fn invoice_details(visitor: &Visitor, app: &AppState, order: &Value) -> Markup {
    let organization = &visitor.organization.organization;
    let id = text(order, "id");
    let address = &order["billing_address"];
    document(
        "Your invoice needs your billing details",
        Some(&organization.name),
        html! {},
        html! {
            section.card aria-labelledby="details-title" {
                h1 #details-title { "Who is the invoice for?" }
                p { "An invoice needs the name and address it is made out to." }
                form method="post" action=(format!("{}/orders/{id}/invoice", home(organization))) {
                    (form_token_field(visitor, app))
                    div.field {
                        label for="billing_name" { "Billing name" }
                        input #billing_name type="text" name="billing_name" autocomplete="name" required
                            value=(order["billing_name"].as_str().unwrap_or(""));
                    }
                    div.field {
                        label for="line1" { "Address" }
                        input #line1 type="text" name="line1" autocomplete="address-line1" value=(text(address, "line1"));
                    }
                    div.row {
                        div.field {
                            label for="postal_code" { "Postal code" }
                            input #postal_code type="text" name="postal_code" autocomplete="postal-code" value=(text(address, "postal_code"));
                        }
                        div.field {
                            label for="city" { "City" }
                            input #city type="text" name="city" autocomplete="address-level2" value=(text(address, "city"));
                        }
                    }
                    p.muted { "Country: " (text(address, "country")) }
                    button.pay type="submit" { "Get the invoice" }
                }
            }
        },
    )
}

/// The card form a seller's processor takes.
pub enum CardKind {
    /// The test processor: three plain inputs, test cards only.
    Test,
    /// Stripe's Payment Element (setup mode), with the account's publishable key.
    Stripe(String),
    /// A Stripe account without a publishable key: no card can be taken here.
    Unavailable,
}

pub fn card_form(
    visitor: &Visitor,
    app: &AppState,
    kind: &CardKind,
    error: Option<&str>,
) -> Markup {
    let organization = &visitor.organization.organization;
    let slug = home(organization);
    document(
        "Add a card",
        Some(&organization.name),
        html! {},
        html! {
            section.card aria-labelledby="card-title" {
                h1 #card-title { "Add a card" }
                p { "It becomes the card your subscriptions are charged on." }
                @if let Some(error) = error {
                    p.alert role="alert" { (error) }
                }
                form method="post" action=(format!("{slug}/payment-methods/new")) {
                    (form_token_field(visitor, app))
                    @match kind {
                        CardKind::Test => {
                            p.test-mode { "Test mode: use a test card such as 4242 4242 4242 4242 or 5555 5555 5555 4444, any future expiry date and any three digits." }
                            div.field {
                                label for="card_number" { "Card number" }
                                input #card_number type="text" name="card_number" autocomplete="cc-number" inputmode="numeric" maxlength="23" required;
                            }
                            div.row {
                                div.field {
                                    label for="card_expiry" { "Expiry date" }
                                    input #card_expiry type="text" name="card_expiry" autocomplete="cc-exp" inputmode="numeric" placeholder="MM/YY" maxlength="7" required;
                                }
                                div.field {
                                    label for="card_cvc" { "Security code (CVC)" }
                                    input #card_cvc type="text" name="card_cvc" autocomplete="cc-csc" inputmode="numeric" maxlength="4" required;
                                }
                            }
                        }
                        CardKind::Stripe(key) => {
                            div id="stripe-payment" data-publishable-key=(key) data-mode="setup"
                                data-currency="usd" {
                                div id="stripe-element" {}
                                p.error id="stripe-message" role="alert" hidden {}
                                noscript { p.error { "Adding a card needs JavaScript on this page. Turn it on, then reload." } }
                            }
                            input type="hidden" id="confirmation_token_id" name="confirmation_token_id" value="";
                        }
                        CardKind::Unavailable => {
                            p.error { "Cards cannot be added here yet." }
                        }
                    }
                    div.actions {
                        button.pay type="submit" name="action" value="pay" { "Save card" }
                        a href=(slug) { "Back to your purchases" }
                    }
                }
            }
            @if let CardKind::Stripe(_) = kind {
                (crate::checkouts::page::card::stripe_scripts())
            }
        },
    )
}

pub fn card_next_action(
    visitor: &Visitor,
    app: &AppState,
    kind: &CardKind,
    client_secret: &str,
    setup: &str,
    done: &str,
) -> Markup {
    let organization = &visitor.organization.organization;
    let slug = home(organization);
    document(
        "Confirm your card",
        Some(&organization.name),
        html! {},
        html! {
            section.card aria-labelledby="confirm-title" {
                h1 #confirm-title { "Confirm your card" }
                @match kind {
                    CardKind::Stripe(key) => {
                        (crate::checkouts::page::card::stripe_next_action(key, client_secret, done))
                        (crate::checkouts::page::card::stripe_scripts())
                    }
                    _ => {
                        p { "Your bank asks you to confirm this card (test mode: confirming stands for the bank's step)." }
                        form method="post" action=(format!("{slug}/payment-methods/confirm")) {
                            (form_token_field(visitor, app))
                            input type="hidden" name="setup_intent_id" value=(setup);
                            button.pay type="submit" { "Confirm" }
                        }
                    }
                }
            }
        },
    )
}
