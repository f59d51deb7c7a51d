//! Answers to custom fields (`custom_field_data`): the one function the checkout (and
//! anything else that collects answers) calls to check what a buyer submitted against the
//! fields a product attaches. Every fault is located under the caller's `loc`, by slug.

use chrono::{DateTime, NaiveDate};
use serde_json::{Map, Value, json};

use super::schema::{CustomField, CustomFieldType};
use crate::http::{Loc, Validator};

/// A field as a product attaches it.
pub struct Attached<'a> {
    pub field: &'a CustomField,
    pub required: bool,
}

/// The answers kept: one entry per attached field, by slug (`null` when an optional field is
/// not answered); keys that name no attached field are dropped. Faults go to `validator` at
/// `loc.<slug>`.
pub fn check(
    attached: &[Attached<'_>],
    submitted: &Map<String, Value>,
    loc: &Loc,
    validator: &mut Validator,
) -> Map<String, Value> {
    let mut kept = Map::new();
    for Attached { field, required } in attached {
        let loc = loc.key(&field.slug);
        let answer = submitted.get(&field.slug).filter(|v| !v.is_null());
        let value = match answer {
            None if *required => {
                validator.push(loc, "missing", "Field required", Value::Null);
                continue;
            }
            None => Value::Null,
            Some(answer) => match check_answer(field, *required, answer, &loc, validator) {
                Some(value) => value,
                None => continue,
            },
        };
        kept.insert(field.slug.clone(), value);
    }
    kept
}

fn property_int(field: &CustomField, name: &str) -> Option<i64> {
    field.properties.get(name).and_then(Value::as_i64)
}

fn check_answer(
    field: &CustomField,
    required: bool,
    answer: &Value,
    loc: &Loc,
    validator: &mut Validator,
) -> Option<Value> {
    let mut fault = |kind: &str, msg: String| {
        validator.push(loc.clone(), kind, msg, answer.clone());
        None
    };
    match field.kind {
        CustomFieldType::Text => {
            let Some(text) = answer.as_str() else {
                return fault("string_type", "Input should be a valid string".to_owned());
            };
            let length = text.chars().count() as i64;
            // A required text must say something, whatever its minimum.
            let min = property_int(field, "min_length")
                .unwrap_or(0)
                .max(i64::from(required));
            if length < min {
                return fault(
                    "string_too_short",
                    format!("String should have at least {min} characters"),
                );
            }
            if let Some(max) = property_int(field, "max_length")
                && length > max
            {
                return fault(
                    "string_too_long",
                    format!("String should have at most {max} characters"),
                );
            }
            Some(json!(text))
        }
        CustomFieldType::Number => {
            let Some(number) = answer.as_i64() else {
                return fault("int_type", "Input should be a valid integer".to_owned());
            };
            if let Some(ge) = property_int(field, "ge")
                && number < ge
            {
                return fault(
                    "greater_than_equal",
                    format!("Input should be greater than or equal to {ge}"),
                );
            }
            if let Some(le) = property_int(field, "le")
                && number > le
            {
                return fault(
                    "less_than_equal",
                    format!("Input should be less than or equal to {le}"),
                );
            }
            Some(json!(number))
        }
        CustomFieldType::Date => {
            let Some(date) = answer.as_str().and_then(parse_date) else {
                return fault(
                    "date_from_datetime_parsing",
                    "Input should be a valid date in the format YYYY-MM-DD".to_owned(),
                );
            };
            // `ge`/`le` are Unix timestamps; a date is compared by its day.
            let day_of =
                |seconds: i64| DateTime::from_timestamp(seconds, 0).map(|t| t.date_naive());
            if let Some(ge) = property_int(field, "ge").and_then(day_of)
                && date < ge
            {
                return fault(
                    "greater_than_equal",
                    format!("Input should be greater than or equal to {ge}"),
                );
            }
            if let Some(le) = property_int(field, "le").and_then(day_of)
                && date > le
            {
                return fault(
                    "less_than_equal",
                    format!("Input should be less than or equal to {le}"),
                );
            }
            Some(json!(date.format("%Y-%m-%d").to_string()))
        }
        CustomFieldType::Checkbox => {
            let Some(checked) = answer.as_bool() else {
                return fault("bool_type", "Input should be a valid boolean".to_owned());
            };
            // A required checkbox is a consent: it must be ticked.
            if required && !checked {
                return fault("literal_error", "Input should be True".to_owned());
            }
            Some(json!(checked))
        }
        CustomFieldType::Select => {
            let values: Vec<&str> = field
                .properties
                .get("options")
                .and_then(Value::as_array)
                .map(|options| {
                    options
                        .iter()
                        .filter_map(|o| o.get("value").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            match answer.as_str() {
                Some(choice) if values.contains(&choice) => Some(json!(choice)),
                _ => {
                    let expected: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
                    fault(
                        "literal_error",
                        format!("Input should be {}", expected.join(", ")),
                    )
                }
            }
        }
    }
}

/// `YYYY-MM-DD`, or a date-time whose date is taken (as pydantic reads a date).
fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .or_else(|| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| t.date_naive())
        })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use uuid::Uuid;

    use super::*;

    fn field(kind: CustomFieldType, slug: &str, properties: Value) -> CustomField {
        CustomField {
            created_at: Utc::now(),
            modified_at: None,
            id: Uuid::new_v4(),
            metadata: Map::new(),
            kind,
            slug: slug.to_owned(),
            name: slug.to_owned(),
            organization_id: Uuid::new_v4(),
            properties: properties.as_object().cloned().unwrap_or_default(),
        }
    }

    fn run(attached: &[Attached<'_>], submitted: Value) -> (Value, Vec<String>) {
        let mut validator = Validator::new();
        let kept = check(
            attached,
            submitted.as_object().expect("an object"),
            &Loc::body().key("custom_field_data"),
            &mut validator,
        );
        let issues = match validator.finish() {
            Ok(()) => Vec::new(),
            Err(crate::http::ApiError::Validation(issues)) => issues
                .iter()
                .map(|issue| format!("{}:{}", issue.loc, issue.kind))
                .collect(),
            Err(other) => panic!("{other:?}"),
        };
        (Value::Object(kept), issues)
    }

    #[test]
    fn answers_are_checked_against_each_type() {
        let company = field(CustomFieldType::Text, "company", json!({"max_length": 5}));
        let seats = field(CustomFieldType::Number, "seats", json!({"ge": 1, "le": 10}));
        // 2026-01-01 and 2026-12-31.
        let start = field(
            CustomFieldType::Date,
            "start",
            json!({"ge": 1767225600, "le": 1798675200}),
        );
        let terms = field(CustomFieldType::Checkbox, "terms", json!({}));
        let size = field(
            CustomFieldType::Select,
            "size",
            json!({"options": [{"value": "s", "label": "S"}, {"value": "m", "label": "M"}]}),
        );
        let attached = [
            Attached {
                field: &company,
                required: false,
            },
            Attached {
                field: &seats,
                required: true,
            },
            Attached {
                field: &start,
                required: false,
            },
            Attached {
                field: &terms,
                required: true,
            },
            Attached {
                field: &size,
                required: false,
            },
        ];
        let (kept, issues) = run(
            &attached,
            json!({"seats": 3, "start": "2026-06-01", "terms": true, "size": "m", "extra": 1}),
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(
            kept,
            json!({"company": null, "seats": 3, "start": "2026-06-01", "terms": true, "size": "m"})
        );

        let (_, issues) = run(
            &attached,
            json!({"company": "toolong", "seats": 11, "start": "2027-01-01", "terms": false, "size": "xl"}),
        );
        assert_eq!(
            issues,
            [
                "body.custom_field_data.company:string_too_long",
                "body.custom_field_data.seats:less_than_equal",
                "body.custom_field_data.start:less_than_equal",
                "body.custom_field_data.terms:literal_error",
                "body.custom_field_data.size:literal_error",
            ]
        );
        let (_, issues) = run(&attached, json!({"seats": "3", "start": "June"}));
        assert_eq!(
            issues,
            [
                "body.custom_field_data.seats:int_type",
                "body.custom_field_data.start:date_from_datetime_parsing",
                "body.custom_field_data.terms:missing",
            ]
        );
    }

    #[test]
    fn a_required_text_must_say_something() {
        let note = field(CustomFieldType::Text, "note", json!({}));
        let required = [Attached {
            field: &note,
            required: true,
        }];
        assert_eq!(
            run(&required, json!({"note": ""})).1,
            ["body.custom_field_data.note:string_too_short"]
        );
        let optional = [Attached {
            field: &note,
            required: false,
        }];
        assert_eq!(run(&optional, json!({"note": ""})).0, json!({"note": ""}));
    }
}
