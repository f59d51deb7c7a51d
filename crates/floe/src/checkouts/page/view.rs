//! The checkout form: what is bought and its totals (as the checkout stores them), the
//! choices that change them, the buyer's details, the custom fields, the card, and the
//! faults of the last submission beside their fields.

use maud::{Markup, html};
use serde_json::{Map, Value};

use super::card::{self, CardForm};
use super::countries::COUNTRIES;
use super::fields::{Input, Render, id_of};
use super::form::{self, Faults, Submitted};
use super::format;
use super::layout;
use crate::checkouts::schema::{AttachedCustomField, CheckoutBase, CheckoutPublic, FieldMode};
use crate::custom_fields::schema::CustomFieldType;

/// Everything the form page shows.
pub struct FormPage<'a> {
    pub checkout: &'a CheckoutPublic,
    pub card: CardForm,
    pub faults: &'a Faults,
    /// The values just submitted, shown again after a refusal.
    pub submitted: Option<&'a Submitted>,
    /// A message about the last change (`role=status`).
    pub notice: Option<&'a str>,
    /// The processor's answer to the last payment attempt.
    pub payment_error: Option<&'a str>,
}

/// The whole form page: faults beside their fields and summed up at the top.
pub fn page(page: &FormPage<'_>) -> Markup {
    let checkout = &page.checkout.base;
    let r = Render::new(page.faults, page.submitted);
    let product_name = checkout
        .product
        .as_ref()
        .map_or("Checkout", |p| p.name.as_str());
    let changes_totals = has_choices(checkout);
    // Rendered before the summary, which lists the faults these showed beside fields.
    let order = order(checkout, &r);
    let details = details(page, &r);
    let problems = r.summary(page.payment_error);
    let body = html! {
        form.checkout method="post" novalidate {
            div.top {
                @if changes_totals || checkout.allow_discount_codes {
                    // Enter in any field submits with the form's first button: make it
                    // Pay, not "Update total" (a changed total is shown before paying).
                    button.visually-hidden type="submit" name="action" value="pay"
                        tabindex="-1" aria-hidden="true" { "Pay" }
                }
                (problems)
                @if let Some(notice) = page.notice {
                    div.notice role="status" { (notice) }
                }
            }
            (order)
            (details)
        }
        (card::scripts(&page.card))
    };
    let title = format!("{product_name} · {}", page.checkout.organization.name);
    layout::document(
        &title,
        Some(&page.checkout.organization.name),
        html! {},
        body,
    )
}

/// Whether the buyer can change what is bought (the product, the amount, the seats).
fn has_choices(checkout: &CheckoutBase) -> bool {
    checkout.products.len() > 1
        || checkout.product.as_ref().is_some_and(|product| {
            format::custom_bounds(checkout, product).is_some()
                || format::is_seat_based(checkout, product)
        })
}

/// The left column: the product, the choices, the discount code, the totals.
fn order(checkout: &CheckoutBase, r: &Render<'_>) -> Markup {
    let currency = &checkout.currency;
    let product = checkout.product.as_ref();
    html! {
        section.card aria-labelledby="order-title" {
            h1 id="order-title" { (product.map_or("Checkout", |p| p.name.as_str())) }
            @if let Some(product) = product {
                @if let Some(description) = product.description.as_deref().filter(|d| !d.trim().is_empty()) {
                    p.description { (description) }
                }
                p.price { (format::product_price(checkout, product)) }
                @if let (Some(interval), Some(count)) = (checkout.active_trial_interval, checkout.active_trial_interval_count) {
                    p.muted {
                        "Free trial: " (count) " " (interval.as_str()) @if count > 1 { "s" }
                    }
                }
            }
            @if checkout.products.len() > 1 {
                @let chosen = r.value("product_id", checkout.product_id.map(|id| id.to_string()).unwrap_or_default());
                @let (notes, described) = r.notes(&id_of("product_id"), "product_id", None);
                fieldset id=(id_of("product_id")) aria-describedby=[described] {
                    legend { "Choose a product" }
                    (notes)
                    @for (index, option) in checkout.products.iter().enumerate() {
                        @let id = format!("{}-{index}", id_of("product_id"));
                        label.choice for=(id) {
                            input id=(id) type="radio" name="product_id" value=(option.id)
                                checked[chosen == option.id.to_string()];
                            span {
                                strong { (option.name) }
                                br;
                                span.muted { (format::product_price(checkout, option)) }
                            }
                        }
                    }
                }
            }
            @if let Some(product) = product {
                @if let Some((minimum, maximum)) = format::custom_bounds(checkout, product) {
                    (r.input(Input {
                        inputmode: Some("decimal"),
                        required: true,
                        hint: Some(match maximum {
                            Some(maximum) => format!("Between {} and {}.", format::money(minimum, currency), format::money(maximum, currency)),
                            None => format!("At least {}.", format::money(minimum, currency)),
                        }),
                        ..Input::new("amount", &format!("Amount you pay ({})", currency.to_ascii_uppercase()), format::major(checkout.amount, currency))
                    }))
                }
                @if format::is_seat_based(checkout, product) {
                    (r.input(Input {
                        kind: "number",
                        inputmode: Some("numeric"),
                        required: true,
                        min: Some(checkout.min_seats.unwrap_or(1)),
                        max: checkout.max_seats,
                        ..Input::new("seats", "Seats", checkout.seats.map(|s| s.to_string()).unwrap_or_default())
                    }))
                }
            }
            @if has_choices(checkout) {
                p { button type="submit" name="action" value="update" { "Update total" } }
            }
            @if checkout.allow_discount_codes {
                div.inline {
                    (r.input(Input {
                        autocomplete: Some("off"),
                        ..Input::new("discount_code", "Discount code", checkout.discount.as_ref().and_then(|d| d.code.clone()).unwrap_or_default())
                    }))
                    button type="submit" name="action" value="update" { "Apply" }
                }
            }
            (totals(checkout))
        }
    }
}

/// The totals, exactly as the checkout stores them.
fn totals(checkout: &CheckoutBase) -> Markup {
    let currency = &checkout.currency;
    let discounted = checkout.discount_id.is_some() || checkout.discount_amount != 0;
    html! {
        h2.visually-hidden { "Totals" }
        dl.totals {
            div { dt { "Subtotal" } dd { (format::money(checkout.amount, currency)) } }
            @if discounted {
                div {
                    dt {
                        "Discount"
                        @if let Some(discount) = &checkout.discount { " (" (discount.name) ")" }
                    }
                    dd { (format::money(-checkout.discount_amount, currency)) }
                }
            }
            div {
                dt { "Tax" }
                dd {
                    @match checkout.tax_amount {
                        Some(tax) => (format::money(tax, currency)),
                        None => "Calculated at payment",
                    }
                }
            }
            div.total { dt { "Total" } dd id="total" { (format::money(checkout.total_amount, currency)) } }
        }
    }
}

/// The right column: contact, billing address, custom fields, card, and the Pay button.
fn details(page: &FormPage<'_>, r: &Render<'_>) -> Markup {
    let checkout = &page.checkout.base;
    let address = checkout.customer_billing_address.as_ref();
    let modes = &checkout.billing_address_fields;
    let countries: Vec<(String, String)> = COUNTRIES
        .iter()
        .map(|(code, name)| ((*code).to_owned(), (*name).to_owned()))
        .collect();
    let part = |name: &str| -> String {
        address
            .and_then(|a| match name {
                "line1" => a.line1.clone(),
                "line2" => a.line2.clone(),
                "city" => a.city.clone(),
                "state" => a.state.clone(),
                _ => a.postal_code.clone(),
            })
            .unwrap_or_default()
    };
    let address_lines = [
        ("line1", "Address line 1", "address-line1", modes.line1),
        ("line2", "Address line 2", "address-line2", modes.line2),
        ("city", "City", "address-level2", modes.city),
        ("state", "State / Province", "address-level1", modes.state),
        (
            "postal_code",
            "Postal code",
            "postal-code",
            modes.postal_code,
        ),
    ];
    let mut attached: Vec<&AttachedCustomField> = checkout
        .attached_custom_fields
        .as_deref()
        .unwrap_or_default()
        .iter()
        .collect();
    attached.sort_by_key(|field| field.order);
    html! {
        div {
            section.card aria-labelledby="contact-title" {
                h2 id="contact-title" { "Contact" }
                p.muted { "Fields marked " span.req { "*" } " are required." }
                @let linked = checkout.customer_id.is_some();
                (r.input(Input {
                    kind: "email",
                    autocomplete: Some("email"),
                    required: true,
                    // The checkout's customer is known (given by the merchant, or made by a
                    // payment attempt): its email is the order's.
                    readonly: linked,
                    sticky: !linked,
                    hint: Some(if linked { "Your receipt is sent here; this order belongs to this email address." } else { "Your receipt is sent here." }.to_owned()),
                    ..Input::new("customer_email", "Email", checkout.customer_email.clone().unwrap_or_default())
                }))
                (r.input(Input {
                    autocomplete: Some("name"),
                    ..Input::new("customer_name", "Name", checkout.customer_name.clone().unwrap_or_default())
                }))
            }
            @if form::asks_address(checkout) {
            section.card aria-labelledby="address-title" {
                h2 id="address-title" { "Billing address" }
                (r.select(Input {
                    autocomplete: Some("country"),
                    required: true,
                    ..Input::new("country", "Country", address.map(|a| a.country.clone()).unwrap_or_default())
                }, "Select a country", &countries))
                @for (name, label, token, mode) in address_lines {
                    @if mode != FieldMode::Disabled {
                        (r.input(Input {
                            autocomplete: Some(token),
                            required: mode == FieldMode::Required,
                            ..Input::new(name, label, part(name))
                        }))
                    }
                }
            }
            }
            @if !attached.is_empty() {
                section.card aria-labelledby="more-title" {
                    h2 id="more-title" { "Additional information" }
                    @for field in &attached {
                        (custom_field(r, field, &checkout.custom_field_data))
                    }
                }
            }
            section.card aria-labelledby="payment-title" {
                h2 id="payment-title" { "Payment" }
                @if checkout.is_payment_form_required {
                    (card::fields(&page.card, r, checkout))
                } @else {
                    p.muted { "No payment details are needed." }
                }
                input type="hidden" name="total" value=(form::shown_total(page.checkout));
                button.pay id="pay" type="submit" name="action" value="pay" { (pay_label(checkout)) }
            }
        }
    }
}

fn pay_label(checkout: &CheckoutBase) -> String {
    if checkout.is_payment_required {
        format!(
            "Pay {}",
            format::money(checkout.total_amount, &checkout.currency)
        )
    } else if checkout.is_payment_setup_required {
        "Start trial".to_owned()
    } else {
        "Complete order".to_owned()
    }
}

fn text_property<'a>(properties: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    properties
        .get(name)
        .and_then(Value::as_str)
        .filter(|text| !text.trim().is_empty())
}

/// One custom field, by its type, with the merchant's label, help text and placeholder.
fn custom_field(
    r: &Render<'_>,
    attached: &AttachedCustomField,
    answers: &Map<String, Value>,
) -> Markup {
    let field = &attached.custom_field;
    let properties = &field.properties;
    let name = form::custom_field_name(&field.slug);
    let label = text_property(properties, "form_label").unwrap_or(&field.name);
    let stored = answers.get(&field.slug);
    let stored_text = match stored {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        _ => String::new(),
    };
    let int = |key: &str| properties.get(key).and_then(Value::as_i64);
    let input = Input {
        required: attached.required,
        hint: text_property(properties, "form_help_text").map(str::to_owned),
        placeholder: text_property(properties, "form_placeholder"),
        ..Input::new(&name, label, stored_text)
    };
    match field.kind {
        CustomFieldType::Text if properties.get("textarea") == Some(&Value::Bool(true)) => r
            .textarea(Input {
                maxlength: int("max_length"),
                ..input
            }),
        CustomFieldType::Text => r.input(Input {
            maxlength: int("max_length"),
            ..input
        }),
        CustomFieldType::Number => r.input(Input {
            kind: "number",
            inputmode: Some("numeric"),
            min: int("ge"),
            max: int("le"),
            ..input
        }),
        CustomFieldType::Date => r.input(Input {
            kind: "date",
            ..input
        }),
        CustomFieldType::Checkbox => r.checkbox(input, stored == Some(&Value::Bool(true))),
        CustomFieldType::Select => {
            let options: Vec<(String, String)> = properties
                .get("options")
                .and_then(Value::as_array)
                .map(|options| {
                    options
                        .iter()
                        .filter_map(|option| {
                            Some((
                                option.get("value")?.as_str()?.to_owned(),
                                option.get("label")?.as_str()?.to_owned(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            r.select(input, "Choose…", &options)
        }
    }
}
