//! The properties of each custom field type (`CustomField*Properties`): checked field by
//! field with the location of every fault, and kept with only the keys the type knows.

use serde_json::{Map, Value, json};

use super::schema::CustomFieldType;
use crate::http::fields::{boolean, integer, present, string};
use crate::http::{Loc, Validator};

/// Bounds of the contract's integer properties (a 32-bit signed column in Polar).
const INT_MIN: i64 = i32::MIN as i64;
const INT_MAX: i64 = i32::MAX as i64;

/// The labels every type may carry.
const FORM_TEXTS: [&str; 3] = ["form_label", "form_help_text", "form_placeholder"];

/// `properties` of a field of `kind`, checked at `loc`; the kept keys, when all is well.
pub fn check(
    kind: CustomFieldType,
    value: Option<&Value>,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<Map<String, Value>> {
    let empty = Map::new();
    let given = match value {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(map)) => map,
        Some(other) => {
            validator.push(
                loc.clone(),
                "model_type",
                "Input should be a valid dictionary or object",
                other.clone(),
            );
            return None;
        }
    };
    let before = validator.len();
    let mut kept = Map::new();
    for name in FORM_TEXTS {
        if let Some(text) = string(given, name, loc, validator) {
            kept.insert(name.to_owned(), json!(text));
        }
    }
    match kind {
        CustomFieldType::Text => {
            if let Some(textarea) = boolean(given, "textarea", loc, validator) {
                kept.insert("textarea".to_owned(), json!(textarea));
            }
            let min = integer(given, "min_length", 0, INT_MAX, loc, validator);
            let max = integer(given, "max_length", 0, INT_MAX, loc, validator);
            ordered(min, max, ("min_length", "max_length"), loc, validator);
            insert_some(&mut kept, "min_length", min);
            insert_some(&mut kept, "max_length", max);
        }
        CustomFieldType::Number | CustomFieldType::Date => {
            let ge = integer(given, "ge", INT_MIN, INT_MAX, loc, validator);
            let le = integer(given, "le", INT_MIN, INT_MAX, loc, validator);
            ordered(ge, le, ("ge", "le"), loc, validator);
            insert_some(&mut kept, "ge", ge);
            insert_some(&mut kept, "le", le);
        }
        CustomFieldType::Checkbox => {}
        CustomFieldType::Select => {
            if let Some(options) = options(given, loc, validator) {
                kept.insert("options".to_owned(), Value::Array(options));
            }
        }
    }
    (validator.len() == before).then_some(kept)
}

/// A lower bound above its upper bound could never be met: refused at the upper one.
fn ordered(
    low: Option<i64>,
    high: Option<i64>,
    (low_name, high_name): (&str, &str),
    loc: &Loc,
    validator: &mut Validator,
) {
    if let (Some(low), Some(high)) = (low, high)
        && low > high
    {
        validator.push(
            loc.key(high_name),
            "value_error",
            format!("{high_name} must be greater than or equal to {low_name}."),
            json!(high),
        );
    }
}

fn insert_some(kept: &mut Map<String, Value>, name: &str, value: Option<i64>) {
    if let Some(value) = value {
        kept.insert(name.to_owned(), json!(value));
    }
}

/// `options` of a select: at least one, each a non-empty `value` and `label`, values
/// distinct (a submitted value must name one option).
fn options(given: &Map<String, Value>, loc: &Loc, validator: &mut Validator) -> Option<Vec<Value>> {
    let loc = loc.key("options");
    let Some(value) = present(given, "options") else {
        validator.push(loc, "missing", "Field required", Value::Null);
        return None;
    };
    let Some(items) = value.as_array() else {
        validator.push(
            loc,
            "list_type",
            "Input should be a valid list",
            value.clone(),
        );
        return None;
    };
    if items.is_empty() {
        validator.push(
            loc,
            "too_short",
            "List should have at least 1 item after validation, not 0",
            value.clone(),
        );
        return None;
    }
    let before = validator.len();
    let mut kept = Vec::with_capacity(items.len());
    let mut seen = std::collections::HashSet::new();
    for (index, item) in items.iter().enumerate() {
        let item_loc = loc.index(index);
        let Some(object) = item.as_object() else {
            validator.push(
                item_loc,
                "model_type",
                "Input should be a valid dictionary or object",
                item.clone(),
            );
            continue;
        };
        let mut option = Map::new();
        for name in ["value", "label"] {
            match string(object, name, &item_loc, validator) {
                Some(text) => {
                    option.insert(name.to_owned(), json!(text));
                }
                None if present(object, name).is_none() => {
                    validator.push(item_loc.key(name), "missing", "Field required", Value::Null);
                }
                None => {}
            }
        }
        if let Some(Value::String(value)) = option.get("value")
            && !seen.insert(value.clone())
        {
            validator.push(
                item_loc.key("value"),
                "value_error",
                "Option values must be unique.",
                json!(value),
            );
        }
        kept.push(Value::Object(option));
    }
    (validator.len() == before).then_some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(kind: CustomFieldType, properties: Value) -> Result<Value, Vec<String>> {
        let mut validator = Validator::new();
        let kept = check(
            kind,
            Some(&properties),
            &Loc::body().key("properties"),
            &mut validator,
        );
        match validator.finish() {
            Ok(()) => Ok(Value::Object(kept.expect("kept when valid"))),
            Err(crate::http::ApiError::Validation(issues)) => Err(issues
                .iter()
                .map(|issue| format!("{}:{}", issue.loc, issue.kind))
                .collect()),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn keeps_only_what_the_type_knows() {
        let text = checked(
            CustomFieldType::Text,
            json!({"form_label": "Company", "textarea": true, "min_length": 2, "max_length": 9, "ge": 1, "other": 1}),
        );
        assert_eq!(
            text,
            Ok(
                json!({"form_label": "Company", "textarea": true, "min_length": 2, "max_length": 9})
            )
        );
        assert_eq!(
            checked(CustomFieldType::Checkbox, json!({"textarea": true})),
            Ok(json!({}))
        );
        assert_eq!(
            checked(CustomFieldType::Number, json!({"ge": -5, "le": 5})),
            Ok(json!({"ge": -5, "le": 5}))
        );
    }

    #[test]
    fn faults_are_located() {
        assert_eq!(
            checked(
                CustomFieldType::Text,
                json!({"min_length": -1, "form_label": ""})
            ),
            Err(vec![
                "body.properties.form_label:string_too_short".to_owned(),
                "body.properties.min_length:greater_than_equal".to_owned(),
            ])
        );
        assert_eq!(
            checked(CustomFieldType::Number, json!({"ge": 10, "le": 1})),
            Err(vec!["body.properties.le:value_error".to_owned()])
        );
        assert_eq!(
            checked(CustomFieldType::Date, json!({"le": 2147483648i64})),
            Err(vec!["body.properties.le:less_than_equal".to_owned()])
        );
        assert_eq!(
            checked(CustomFieldType::Select, json!({})),
            Err(vec!["body.properties.options:missing".to_owned()])
        );
        assert_eq!(
            checked(
                CustomFieldType::Select,
                json!({"options": [{"value": "a", "label": "A"}, {"value": "a"}, 3]})
            ),
            Err(vec![
                "body.properties.options.1.label:missing".to_owned(),
                "body.properties.options.1.value:value_error".to_owned(),
                "body.properties.options.2:model_type".to_owned(),
            ])
        );
    }
}
