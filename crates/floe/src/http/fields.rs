//! Reading fields out of a JSON object that is checked by hand (bodies whose shape depends
//! on a `type`): each reader pushes a located, pydantic-worded fault and returns `None`
//! when the field is absent, `null` or wrong.

use serde_json::{Map, Value};

use super::{Loc, Validator};

/// A field that is there and not `null`.
pub fn present<'a>(given: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    given.get(name).filter(|value| !value.is_null())
}

pub fn string(
    given: &Map<String, Value>,
    name: &str,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<String> {
    let value = present(given, name)?;
    match value.as_str() {
        Some(text) if !text.is_empty() => Some(text.to_owned()),
        Some(_) => {
            validator.push(
                loc.key(name),
                "string_too_short",
                "String should have at least 1 character",
                value.clone(),
            );
            None
        }
        None => {
            validator.push(
                loc.key(name),
                "string_type",
                "Input should be a valid string",
                value.clone(),
            );
            None
        }
    }
}

pub fn boolean(
    given: &Map<String, Value>,
    name: &str,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<bool> {
    let value = present(given, name)?;
    let parsed = value.as_bool();
    if parsed.is_none() {
        validator.push(
            loc.key(name),
            "bool_type",
            "Input should be a valid boolean",
            value.clone(),
        );
    }
    parsed
}

/// An integer from `min` to `max`.
pub fn integer(
    given: &Map<String, Value>,
    name: &str,
    min: i64,
    max: i64,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<i64> {
    let value = present(given, name)?;
    let Some(number) = value.as_i64() else {
        validator.push(
            loc.key(name),
            "int_type",
            "Input should be a valid integer",
            value.clone(),
        );
        return None;
    };
    within(number, min, max, &loc.key(name), validator).then_some(number)
}

/// Whether `number` lies from `min` to `max`; if not, the fault at `loc`, worded as
/// pydantic words `ge`/`le`.
pub fn within(number: i64, min: i64, max: i64, loc: &Loc, validator: &mut Validator) -> bool {
    if number < min {
        validator.push(
            loc.clone(),
            "greater_than_equal",
            format!("Input should be greater than or equal to {min}"),
            Value::from(number),
        );
        return false;
    }
    if number > max {
        validator.push(
            loc.clone(),
            "less_than_equal",
            format!("Input should be less than or equal to {max}"),
            Value::from(number),
        );
        return false;
    }
    true
}

/// A UUID (a string in any of the forms Polar reads).
pub fn uuid(value: &Value, loc: &Loc, validator: &mut Validator) -> Option<uuid::Uuid> {
    let parsed = value.as_str().and_then(super::extract::parse_uuid);
    if parsed.is_none() {
        validator.push(
            loc.clone(),
            "uuid_parsing",
            "Input should be a valid UUID",
            value.clone(),
        );
    }
    parsed
}

/// A field that must be there: `missing` when it is absent or `null`.
pub fn required<'a>(
    given: &'a Map<String, Value>,
    name: &str,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<&'a Value> {
    let value = present(given, name);
    if value.is_none() {
        validator.push(loc.key(name), "missing", "Field required", Value::Null);
    }
    value
}

/// A string of `min` to `max` characters (any string when absent or `null`: `None`).
pub fn text(
    given: &Map<String, Value>,
    name: &str,
    (min, max): (usize, usize),
    loc: &Loc,
    validator: &mut Validator,
) -> Option<String> {
    let value = present(given, name)?;
    let Some(text) = value.as_str() else {
        validator.push(
            loc.key(name),
            "string_type",
            "Input should be a valid string",
            value.clone(),
        );
        return None;
    };
    let length = text.chars().count();
    if length < min {
        validator.push(
            loc.key(name),
            "string_too_short",
            format!("String should have at least {min} characters"),
            value.clone(),
        );
        return None;
    }
    if length > max {
        validator.push(
            loc.key(name),
            "string_too_long",
            format!("String should have at most {max} characters"),
            value.clone(),
        );
        return None;
    }
    Some(text.to_owned())
}

/// An object field (`None` when absent or `null`).
pub fn object<'a>(
    given: &'a Map<String, Value>,
    name: &str,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<&'a Map<String, Value>> {
    let value = present(given, name)?;
    let object = value.as_object();
    if object.is_none() {
        validator.push(
            loc.key(name),
            "model_type",
            "Input should be a valid dictionary or object",
            value.clone(),
        );
    }
    object
}

/// A list of IDs at `loc`: at most `max`, each once.
pub fn unique_ids(ids: &[uuid::Uuid], max: usize, loc: &Loc, validator: &mut Validator) {
    if ids.len() > max {
        validator.push(
            loc.clone(),
            "too_long",
            format!(
                "List should have at most {max} items after validation, not {}",
                ids.len()
            ),
            Value::Null,
        );
        return;
    }
    let mut seen = std::collections::HashSet::new();
    for (index, id) in ids.iter().enumerate() {
        if !seen.insert(id) {
            validator.push(
                loc.index(index),
                "value_error",
                "Listed twice.",
                Value::String(id.to_string()),
            );
        }
    }
}

/// The longest URL accepted (the contract's `maxLength` for URLs).
pub const MAX_URL_CHARS: usize = 2083;

/// Checks that `url` is an `http` or `https` URL with a host, of at most
/// [`MAX_URL_CHARS`] characters.
pub fn http_url(url: &str, loc: &Loc, validator: &mut Validator) -> bool {
    if url.chars().count() > MAX_URL_CHARS {
        validator.push(
            loc.clone(),
            "url_too_long",
            format!("URL should have at most {MAX_URL_CHARS} characters"),
            serde_json::json!(url),
        );
        return false;
    }
    let valid = url::Url::parse(url)
        .is_ok_and(|parsed| matches!(parsed.scheme(), "http" | "https") && parsed.has_host());
    if !valid {
        validator.push(
            loc.clone(),
            "url_parsing",
            "Input should be a valid URL",
            serde_json::json!(url),
        );
    }
    valid
}
