//! The checkout form as posted: its values, the changes they make to the checkout (a
//! `CheckoutPatch`, applied by the same rules as `checkouts:client_update`), the card, and
//! the faults to show next to the fields, mapped from the API's 422 locations.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::format;
use crate::address::Address;
use crate::checkouts::schema::{
    BillingAddressFields, CheckoutBase, CheckoutPatch, CheckoutPublic, FieldMode,
};
use crate::custom_fields::schema::CustomFieldType;
use crate::http::ValidationIssue;
use crate::http::error::LocPart;
use crate::payments::test_cards;

/// The address inputs, by their form name, with the `billing_address_fields` entry of each
/// and how a fault names it.
pub const ADDRESS_FIELDS: [(&str, &str); 5] = [
    ("line1", "street address"),
    ("line2", "address line 2"),
    ("city", "city"),
    ("state", "state or province"),
    ("postal_code", "postal code"),
];

/// How `billing_address_fields` asks for the address input `name`.
pub fn mode_of(modes: &BillingAddressFields, name: &str) -> FieldMode {
    match name {
        "line1" => modes.line1,
        "line2" => modes.line2,
        "city" => modes.city,
        "state" => modes.state,
        "postal_code" => modes.postal_code,
        _ => modes.country,
    }
}

/// Whether the form asks for a billing address: with a card (the processor and the
/// confirmation want one) or when the merchant requires it, as the confirmation does.
pub fn asks_address(checkout: &CheckoutBase) -> bool {
    checkout.is_payment_form_required || checkout.require_billing_address
}

/// What the buyer pressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Save the changes and show the new totals.
    Update,
    /// Save the changes and pay.
    Pay,
}

/// The posted form: the first value of each name (a form never repeats one).
#[derive(Debug, Default)]
pub struct Submitted {
    values: HashMap<String, String>,
}

impl Submitted {
    /// Reads an `application/x-www-form-urlencoded` body; anything else reads as empty.
    pub fn parse(body: &[u8]) -> Self {
        let mut values = HashMap::new();
        for (name, value) in form_urlencoded::parse(body) {
            values
                .entry(name.into_owned())
                .or_insert_with(|| value.into_owned());
        }
        Self { values }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    fn trimmed(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim)
    }

    /// A cleared text field is `null`, as a buyer who empties it means.
    fn text(&self, name: &str) -> Option<Option<String>> {
        self.trimmed(name)
            .map(|text| (!text.is_empty()).then(|| text.to_owned()))
    }

    pub fn action(&self) -> Action {
        match self.get("action") {
            Some("pay") => Action::Pay,
            _ => Action::Update,
        }
    }

    /// Whether the totals the buyer saw (`total` of the page) are the checkout's now: a
    /// payment is only made for an amount the buyer was shown.
    pub fn saw_total(&self, checkout: &CheckoutPublic) -> bool {
        self.get("total") == Some(shown_total(checkout).as_str())
    }
}

/// The total a page shows, as its hidden `total` field carries it.
pub fn shown_total(checkout: &CheckoutPublic) -> String {
    format!("{} {}", checkout.base.total_amount, checkout.base.currency)
}

/// What went wrong, by form field name (one message each), and what belongs to no field.
#[derive(Debug, Default)]
pub struct Faults {
    pub fields: Vec<(String, String)>,
    pub general: Vec<String>,
}

impl Faults {
    pub fn field(&mut self, name: &str, message: impl Into<String>) {
        if !self.fields.iter().any(|(field, _)| field == name) {
            self.fields.push((name.to_owned(), message.into()));
        }
    }

    pub fn general(&mut self, message: impl Into<String>) {
        self.general.push(message.into());
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, message)| message.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_empty()
    }
}

/// The form name of a custom field's input.
pub fn custom_field_name(slug: &str) -> String {
    format!("custom_field_data.{slug}")
}

/// The changes the form makes to the checkout it was shown for (`before`), and the values
/// that cannot be read at all. Fields of a product the buyer has just switched away from
/// (its amount, its seats) are left out: they priced the other product.
pub fn patch(submitted: &Submitted, before: &CheckoutPublic) -> (CheckoutPatch, Faults) {
    let checkout = &before.base;
    let mut patch = CheckoutPatch::default();
    let mut faults = Faults::default();

    let mut switched = false;
    if checkout.products.len() > 1
        && let Some(chosen) = submitted.trimmed("product_id")
    {
        match chosen.parse::<Uuid>() {
            Ok(id) if Some(id) != checkout.product_id => {
                patch.product_id = Some(id);
                switched = true;
            }
            Ok(_) => {}
            Err(_) => faults.field("product_id", "Choose one of the products."),
        }
    }
    if !switched && let Some(product) = &checkout.product {
        if format::custom_bounds(checkout, product).is_some()
            && let Some(typed) = submitted.trimmed("amount")
        {
            match format::parse_major(typed, &checkout.currency) {
                Some(amount) => patch.amount = Some(amount),
                None => faults.field(
                    "amount",
                    format!(
                        "Enter an amount such as {}.",
                        format::major(2500, &checkout.currency)
                    ),
                ),
            }
        }
        if format::is_seat_based(checkout, product)
            && let Some(typed) = submitted.trimmed("seats")
        {
            match typed.parse::<i64>() {
                Ok(seats) => patch.seats = Some(seats),
                Err(_) => faults.field("seats", "Enter a whole number of seats."),
            }
        }
    }

    if checkout.allow_discount_codes
        && let Some(code) = submitted.trimmed("discount_code")
    {
        let current = checkout
            .discount
            .as_ref()
            .and_then(|d| d.code.as_deref())
            .unwrap_or("");
        // Unchanged (also when a discount without a code applies and the field is empty).
        if !code.eq_ignore_ascii_case(current) {
            patch.discount_code = Some((!code.is_empty()).then(|| code.to_owned()));
        }
    }

    // A checkout whose customer is known keeps the customer's email.
    if checkout.customer_id.is_none() {
        patch.customer_email = submitted.text("customer_email");
    }
    patch.customer_name = submitted.text("customer_name");
    if let Some(country) = submitted.trimmed("country").filter(|c| !c.is_empty()) {
        let part = |name: &str| {
            (mode_of(&checkout.billing_address_fields, name) != FieldMode::Disabled)
                .then(|| submitted.text(name).flatten())
                .flatten()
        };
        patch.customer_billing_address = Some(Address {
            line1: part("line1"),
            line2: part("line2"),
            postal_code: part("postal_code"),
            city: part("city"),
            state: part("state"),
            country: country.to_ascii_uppercase(),
        });
    }

    let attached = checkout
        .attached_custom_fields
        .as_deref()
        .unwrap_or_default();
    if !attached.is_empty() {
        let mut answers = Map::new();
        for field in attached {
            let custom = &field.custom_field;
            let name = custom_field_name(&custom.slug);
            let typed = submitted.trimmed(&name).unwrap_or("");
            let answer = match custom.kind {
                // An unticked box is not sent at all.
                CustomFieldType::Checkbox => Value::Bool(!typed.is_empty()),
                _ if typed.is_empty() => Value::Null,
                CustomFieldType::Number => match typed.parse::<i64>() {
                    Ok(number) => Value::from(number),
                    Err(_) => {
                        faults.field(&name, "Enter a whole number.");
                        continue;
                    }
                },
                _ => Value::String(typed.to_owned()),
            };
            answers.insert(custom.slug.clone(), answer);
        }
        patch.custom_field_data = Some(answers);
    }
    (patch, faults)
}

/// The fields the page marks as required and the buyer left empty, checked when paying
/// as a browser would check the `required` attributes the form disables (`novalidate`, so
/// that every fault is shown the same way). What it names is refused by the confirmation
/// too; checking here first tells all at once without spending a confirmation attempt.
pub fn required_faults(submitted: &Submitted, checkout: &CheckoutPublic, faults: &mut Faults) {
    let checkout = &checkout.base;
    let empty = |name: &str| submitted.trimmed(name).is_none_or(str::is_empty);
    if checkout.customer_id.is_none() && empty("customer_email") {
        faults.field("customer_email", "Enter your email address.");
    }
    if !asks_address(checkout) {
        return custom_required(submitted, checkout, faults);
    }
    if empty("country") {
        faults.field("country", "Select your country.");
    }
    for (name, words) in ADDRESS_FIELDS {
        if mode_of(&checkout.billing_address_fields, name) == FieldMode::Required && empty(name) {
            faults.field(name, format!("Enter your {words}."));
        }
    }
    custom_required(submitted, checkout, faults);
}

fn custom_required(submitted: &Submitted, checkout: &CheckoutBase, faults: &mut Faults) {
    for field in checkout
        .attached_custom_fields
        .as_deref()
        .unwrap_or_default()
    {
        let name = custom_field_name(&field.custom_field.slug);
        if field.required && submitted.trimmed(&name).is_none_or(str::is_empty) {
            let message = if field.custom_field.kind == CustomFieldType::Checkbox {
                "Tick this box to continue."
            } else {
                "This field is required."
            };
            faults.field(&name, message);
        }
    }
}

/// Stand-ins that pass `from_form`, to check one card field at a time (until 2099).
const VALID_NUMBER: &str = "4242424242424242";
const VALID_EXPIRY: &str = "12/99";
const VALID_CVC: &str = "000";

/// A card fault: the field (`card_number`, `card_expiry`, `card_cvc`) and what to tell
/// the buyer.
pub type CardFault = (&'static str, &'static str);

/// The test card the form names, or every card field at fault. An expiry typed without its
/// slash on a phone's number pad (`1234`, `122034`) is read as `MM/YY` or `MM/YYYY`.
pub fn test_card(
    submitted: &Submitted,
    today: NaiveDate,
) -> Result<test_cards::TestCard, Vec<CardFault>> {
    let number = submitted.trimmed("card_number").unwrap_or("");
    let expiry: String = submitted
        .get("card_expiry")
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let expiry = match expiry.len() {
        4 | 6 if expiry.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{}/{}", &expiry[..2], &expiry[2..])
        }
        _ => expiry,
    };
    let cvc = submitted.trimmed("card_cvc").unwrap_or("");
    let from_form =
        |number: &str, expiry: &str, cvc: &str| test_cards::from_form(number, expiry, cvc, today);
    // Each field on its own, the others valid, so that every fault is named at once.
    let checks = [
        (
            "card_number",
            number,
            "Enter your card number.",
            from_form(number, VALID_EXPIRY, VALID_CVC),
        ),
        (
            "card_expiry",
            expiry.as_str(),
            "Enter the card's expiry date.",
            from_form(VALID_NUMBER, &expiry, VALID_CVC),
        ),
        (
            "card_cvc",
            cvc,
            "Enter the card's security code.",
            from_form(VALID_NUMBER, VALID_EXPIRY, cvc),
        ),
    ];
    let mut faults = Vec::new();
    for (field, typed, blank, checked) in checks {
        if typed.is_empty() {
            faults.push((field, blank));
        } else if let Err(fault) = checked {
            faults.push((field, fault.message));
        }
    }
    if !faults.is_empty() {
        return Err(faults);
    }
    from_form(number, &expiry, cvc).map_err(|fault| {
        let field = match fault.field {
            "expiry" => "card_expiry",
            "cvc" => "card_cvc",
            _ => "card_number",
        };
        vec![(field, fault.message)]
    })
}

/// Whether `number` is one of the test cards: only those are shown again in the form.
pub fn is_test_card(number: &str) -> bool {
    // Any day before the stand-in expiry will do: only the number is in question.
    test_cards::from_form(number, VALID_EXPIRY, VALID_CVC, NaiveDate::MIN).is_ok()
}

fn first_upper(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The API's 422 issues as faults of the page's fields, in the buyer's words where the
/// API's are a developer's.
pub fn faults_of(
    issues: &[ValidationIssue],
    checkout: &CheckoutPublic,
    submitted: Option<&Submitted>,
) -> Faults {
    let mut faults = Faults::default();
    for issue in issues {
        let keys: Vec<&str> = issue
            .loc
            .0
            .iter()
            .skip(1)
            .map(|part| match part {
                LocPart::Key(key) => key.as_str(),
                LocPart::Index(_) => "",
            })
            .collect();
        let missing = issue.kind == "missing";
        match keys.as_slice() {
            ["customer_email", ..] if missing => {
                faults.field("customer_email", "Enter your email address.");
            }
            ["customer_email", ..] => faults.field(
                "customer_email",
                "Enter a valid email address, like name@example.com.",
            ),
            ["customer_name", ..] => faults.field("customer_name", first_upper(&issue.msg)),
            ["customer_billing_address"] => address_faults(&mut faults, checkout, submitted),
            ["customer_billing_address", "country", ..] => {
                faults.field("country", "Select your country.");
            }
            ["customer_billing_address", part, ..]
                if ADDRESS_FIELDS.iter().any(|(name, _)| name == part) =>
            {
                faults.field(part, first_upper(&issue.msg));
            }
            ["amount", ..] => faults.field("amount", first_upper(&issue.msg)),
            ["seats", ..] => faults.field("seats", first_upper(&issue.msg)),
            ["discount_code" | "discount_id", ..] => {
                let message = if issue.msg == "Discount does not exist." {
                    "This discount code is not valid.".to_owned()
                } else {
                    first_upper(&issue.msg)
                };
                faults.field("discount_code", message);
            }
            ["product_id" | "product_price_id", ..] => {
                faults.field("product_id", first_upper(&issue.msg));
            }
            ["custom_field_data", slug, ..] => {
                let message = match issue.kind.as_str() {
                    "missing" => "This field is required.".to_owned(),
                    // A required checkbox left unticked.
                    "literal_error" => "Tick this box to continue.".to_owned(),
                    _ => first_upper(&issue.msg),
                };
                faults.field(&custom_field_name(slug), message);
            }
            ["confirmation_token_id", ..] => {
                faults.field("card_number", "Enter your card details.");
            }
            _ => faults.general(first_upper(&issue.msg)),
        }
    }
    faults
}

/// "The billing address is missing or incomplete": each required address field left empty
/// is named, else the country.
fn address_faults(faults: &mut Faults, checkout: &CheckoutPublic, submitted: Option<&Submitted>) {
    let stored = checkout.base.customer_billing_address.as_ref();
    let given = |name: &str| -> bool {
        match submitted {
            Some(submitted) => submitted.trimmed(name).is_some_and(|v| !v.is_empty()),
            None => stored.is_some_and(|address| {
                let part = match name {
                    "line1" => &address.line1,
                    "line2" => &address.line2,
                    "city" => &address.city,
                    "state" => &address.state,
                    "postal_code" => &address.postal_code,
                    _ => return !address.country.is_empty(),
                };
                part.is_some()
            }),
        }
    };
    if !given("country") {
        faults.field("country", "Select your country.");
        return;
    }
    let mut named = false;
    for (name, words) in ADDRESS_FIELDS {
        if mode_of(&checkout.base.billing_address_fields, name) == FieldMode::Required
            && !given(name)
        {
            faults.field(name, format!("Enter your {words}."));
            named = true;
        }
    }
    if !named {
        faults.field("country", "Enter your full billing address.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 4).unwrap_or_default()
    }

    #[test]
    fn a_posted_form_reads_its_first_values_and_its_action() {
        let form = Submitted::parse(b"customer_email=a%40b.example&action=pay&action=update&x");
        assert_eq!(form.get("customer_email"), Some("a@b.example"));
        assert_eq!(form.action(), Action::Pay);
        assert_eq!(form.get("x"), Some(""));
        assert_eq!(Submitted::parse(b"\xff\x00=").action(), Action::Update);
        assert_eq!(form.text("missing"), None);
        assert_eq!(Submitted::parse(b"n=+").text("n"), Some(None));
    }

    #[test]
    fn the_card_form_names_the_field_at_fault() {
        let card = |body: &str| test_card(&Submitted::parse(body.as_bytes()), today());
        let ok = "card_number=4242+4242+4242+4242&card_expiry=12%2F34&card_cvc=123";
        assert_eq!(card(ok).map(|c| c.payment_method), Ok("pm_card_visa"));
        // A phone's number pad has no slash.
        let no_slash = "card_number=4000002500003155&card_expiry=1234&card_cvc=123";
        assert_eq!(
            card(no_slash).map(|c| c.payment_method),
            Ok("pm_card_authenticationRequired")
        );
        let long_year = "card_number=4242424242424242&card_expiry=122034&card_cvc=123";
        assert!(card(long_year).is_ok());
        let fields = |body: &str| {
            card(body)
                .err()
                .map(|faults| faults.iter().map(|(field, _)| *field).collect::<Vec<_>>())
        };
        let one = |field: &'static str| Some(vec![field]);
        assert_eq!(
            fields("card_expiry=12%2F34&card_cvc=123"),
            one("card_number")
        );
        let wrong_number = "card_number=4242424242424241&card_expiry=12%2F34&card_cvc=123";
        assert_eq!(fields(wrong_number), one("card_number"));
        let past = "card_number=4242424242424242&card_expiry=11%2F26&card_cvc=123";
        assert_eq!(fields(past), one("card_expiry"));
        let short_cvc = "card_number=4242424242424242&card_expiry=12%2F34&card_cvc=1";
        assert_eq!(fields(short_cvc), one("card_cvc"));
        // Every fault at once.
        assert_eq!(
            fields("card_number=1234&card_expiry=13%2F30"),
            Some(vec!["card_number", "card_expiry", "card_cvc"])
        );
        assert!(is_test_card("4000 0000 0000 0002"));
        assert!(!is_test_card("4000 0000 0000 0077"));
    }
}
