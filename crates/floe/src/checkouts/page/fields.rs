//! Labelled inputs with their hints and inline errors, and the summary of every error at
//! the top of the form (each a link to its field), so that a fault is announced once and
//! found by keyboard.

use std::cell::RefCell;

use maud::{Markup, html};

use super::form::{Faults, Submitted};

/// One input: a `<label>` tied to it, an optional hint, the error if any.
pub struct Input<'a> {
    pub name: &'a str,
    pub label: &'a str,
    /// `text`, `email`, `number`, `date`.
    pub kind: &'a str,
    /// What the checkout holds; a value the buyer just submitted takes its place.
    pub stored: String,
    pub required: bool,
    pub autocomplete: Option<&'a str>,
    pub inputmode: Option<&'a str>,
    pub placeholder: Option<&'a str>,
    pub hint: Option<String>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub maxlength: Option<i64>,
    /// Whether a submitted value is shown again (not for card numbers and codes).
    pub sticky: bool,
    /// Shown but not changeable.
    pub readonly: bool,
}

impl<'a> Input<'a> {
    pub fn new(name: &'a str, label: &'a str, stored: String) -> Self {
        Self {
            name,
            label,
            kind: "text",
            stored,
            required: false,
            autocomplete: None,
            inputmode: None,
            placeholder: None,
            hint: None,
            min: None,
            max: None,
            maxlength: None,
            sticky: true,
            readonly: false,
        }
    }
}

/// Renders fields against the faults of a submission, remembering which faults it has
/// shown beside a field, so the summary links those and lists the rest.
pub struct Render<'a> {
    faults: &'a Faults,
    submitted: Option<&'a Submitted>,
    shown: RefCell<Vec<String>>,
}

/// The element ID of a form name (`custom_field_data.size` → `f-custom_field_data-size`).
pub fn id_of(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("f-{safe}")
}

impl<'a> Render<'a> {
    pub fn new(faults: &'a Faults, submitted: Option<&'a Submitted>) -> Self {
        Self {
            faults,
            submitted,
            shown: RefCell::new(Vec::new()),
        }
    }

    /// The value to show: what was just submitted, else what the checkout holds.
    pub fn value(&self, name: &str, stored: String) -> String {
        self.submitted
            .and_then(|s| s.get(name))
            .map_or(stored, str::to_owned)
    }

    /// What was just submitted under `name`, if anything.
    pub fn submitted(&self, name: &str) -> Option<&str> {
        self.submitted.and_then(|s| s.get(name))
    }

    /// The fault of `name`, recorded as shown beside it.
    pub fn fault(&self, name: &str) -> Option<&'a str> {
        let fault = self.faults.get(name)?;
        self.shown.borrow_mut().push(name.to_owned());
        Some(fault)
    }

    pub fn has_fault(&self, name: &str) -> bool {
        self.faults.get(name).is_some()
    }

    /// The label's text with the required marker (announced by the input's `required`).
    pub fn label(&self, id: &str, text: &str, required: bool) -> Markup {
        html! {
            label for=(id) {
                (text)
                @if required { " " span.req aria-hidden="true" { "*" } }
            }
        }
    }

    /// The hint and error paragraphs of a field, and the IDs that describe its input.
    pub fn notes(&self, id: &str, name: &str, hint: Option<&str>) -> (Markup, Option<String>) {
        let fault = self.fault(name);
        let mut described = Vec::new();
        if hint.is_some() {
            described.push(format!("{id}-hint"));
        }
        if fault.is_some() {
            described.push(format!("{id}-error"));
        }
        let markup = html! {
            @if let Some(hint) = hint { p.hint id={(id) "-hint"} { (hint) } }
            @if let Some(fault) = fault {
                p.error id={(id) "-error"} { span.visually-hidden { "Error: " } (fault) }
            }
        };
        (markup, (!described.is_empty()).then(|| described.join(" ")))
    }

    /// An `<input>`.
    pub fn input(&self, input: Input<'_>) -> Markup {
        let id = id_of(input.name);
        let (notes, described) = self.notes(&id, input.name, input.hint.as_deref());
        let invalid = self.has_fault(input.name);
        let value = if input.sticky {
            self.value(input.name, input.stored)
        } else {
            input.stored
        };
        html! {
            div.field.has-error[invalid] {
                (self.label(&id, input.label, input.required))
                (notes)
                input id=(id) name=(input.name) type=(input.kind) value=(value)
                    required[input.required] readonly[input.readonly]
                    autocomplete=[input.autocomplete]
                    inputmode=[input.inputmode]
                    placeholder=[input.placeholder]
                    min=[input.min] max=[input.max] maxlength=[input.maxlength]
                    aria-invalid=[invalid.then_some("true")]
                    aria-describedby=[described];
            }
        }
    }

    /// A `<select>` of `(value, text)` options, with an empty first choice.
    pub fn select(&self, input: Input<'_>, prompt: &str, options: &[(String, String)]) -> Markup {
        let id = id_of(input.name);
        let (notes, described) = self.notes(&id, input.name, input.hint.as_deref());
        let invalid = self.has_fault(input.name);
        let value = self.value(input.name, input.stored);
        html! {
            div.field.has-error[invalid] {
                (self.label(&id, input.label, input.required))
                (notes)
                select id=(id) name=(input.name)
                    required[input.required]
                    autocomplete=[input.autocomplete]
                    aria-invalid=[invalid.then_some("true")]
                    aria-describedby=[described] {
                    option value="" { (prompt) }
                    @for (option, text) in options {
                        option value=(option) selected[*option == value] { (text) }
                    }
                }
            }
        }
    }

    /// A `<textarea>`.
    pub fn textarea(&self, input: Input<'_>) -> Markup {
        let id = id_of(input.name);
        let (notes, described) = self.notes(&id, input.name, input.hint.as_deref());
        let invalid = self.has_fault(input.name);
        let value = self.value(input.name, input.stored);
        html! {
            div.field.has-error[invalid] {
                (self.label(&id, input.label, input.required))
                (notes)
                textarea id=(id) name=(input.name) required[input.required]
                    placeholder=[input.placeholder] maxlength=[input.maxlength]
                    aria-invalid=[invalid.then_some("true")]
                    aria-describedby=[described] { (value) }
            }
        }
    }

    /// A checkbox, ticked as submitted (an unticked box is not submitted at all) or else
    /// as stored.
    pub fn checkbox(&self, input: Input<'_>, stored: bool) -> Markup {
        let id = id_of(input.name);
        let (notes, described) = self.notes(&id, input.name, input.hint.as_deref());
        let invalid = self.has_fault(input.name);
        let checked = match self.submitted {
            Some(submitted) => submitted.get(input.name).is_some(),
            None => stored,
        };
        html! {
            div.field.has-error[invalid] {
                (notes)
                label.choice for=(id) {
                    input id=(id) name=(input.name) type="checkbox" value="true"
                        checked[checked] required[input.required]
                        aria-invalid=[invalid.then_some("true")]
                        aria-describedby=[described];
                    span {
                        (input.label)
                        @if input.required { " " span.req aria-hidden="true" { "*" } }
                    }
                }
            }
        }
    }

    /// The list of every fault at the top of the form, after the fields were rendered:
    /// links to the fields that show theirs, plain text for the rest.
    pub fn summary(&self, payment_error: Option<&str>) -> Markup {
        let shown = self.shown.borrow();
        if self.faults.is_empty() && payment_error.is_none() {
            return html! {};
        }
        html! {
            div.alert role="alert" tabindex="-1" id="problems" {
                @if let Some(message) = payment_error {
                    h2 { "Payment failed" }
                    p { (message) }
                }
                @if !self.faults.is_empty() {
                    h2 { "Please check the form" }
                    ul {
                        @for (name, message) in &self.faults.fields {
                            li {
                                @if shown.contains(name) {
                                    a href={"#" (id_of(name))} { (message) }
                                } @else {
                                    (message)
                                }
                            }
                        }
                        @for message in &self.faults.general { li { (message) } }
                    }
                }
            }
        }
    }
}
