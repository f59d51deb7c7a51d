//! Extractors whose rejections are [`ApiError`]s in the contract's shapes: a JSON body, a
//! UUID path parameter and query parameters (which may repeat, e.g. `ids=a&ids=b`).

use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use super::error::{ApiError, ApiResult, Loc, LocPart, ValidationIssue};

/// A JSON request body. Malformed JSON, a non-JSON content type and values of the wrong
/// shape are all 422s that point at the offending field.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_bytes(req, state).await?;
        parse_json(&bytes).map(Json)
    }
}

/// A JSON body parsed like [`Json`], with its text kept for the few fields that must be
/// read exactly as written (decimal rates, which `serde_json::Value` would turn into
/// floats).
pub struct JsonWithText<T> {
    pub value: T,
    pub text: Bytes,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonWithText<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let text = json_bytes(req, state).await?;
        let value = parse_json(&text)?;
        Ok(Self { value, text })
    }
}

async fn json_bytes<S: Send + Sync>(req: Request, state: &S) -> ApiResult<Bytes> {
    if !has_json_content_type(req.headers()) {
        return Err(ApiError::validation(
            Loc::body(),
            "model_attributes_type",
            "Input should be a JSON object sent with Content-Type: application/json",
            Value::Null,
        ));
    }
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge("The request body is larger than 10 MiB.".to_owned())
        } else {
            ApiError::BadRequest(rejection.body_text())
        }
    })
}

fn has_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Where a string of `value` holds a NUL character, if one does.
fn nul_at(value: &Value, loc: &Loc) -> Option<(Loc, Value)> {
    match value {
        Value::String(s) if s.contains('\0') => Some((loc.clone(), value.clone())),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_at(item, &loc.index(i))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                Some((loc.key(key), Value::String(key.clone())))
            } else {
                nul_at(item, &loc.key(key))
            }
        }),
        _ => None,
    }
}

/// Deserializes `bytes` into `T`, reporting the first problem FastAPI-style. Text with a
/// NUL character is refused wherever it is (PostgreSQL cannot store it, and no field of
/// the contract needs it); JSON can only carry one escaped, so only bodies with `\u0000`
/// are looked at closely.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    if bytes.windows(6).any(|w| w == b"\\u0000")
        && let Ok(value) = serde_json::from_slice::<Value>(bytes)
        && let Some((loc, input)) = nul_at(&value, &Loc::body())
    {
        return Err(ApiError::validation(
            loc,
            "string_type",
            "Text must not contain NUL characters",
            input,
        ));
    }
    // The common case pays for nothing more than parsing; only a body that fails is parsed
    // again with path tracking, to say where.
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    match result {
        Ok(value) => {
            deserializer.end().map_err(|e| json_invalid(&e))?;
            Ok(value)
        }
        Err(error) => {
            let inner = error.inner();
            if inner.is_syntax() || inner.is_eof() {
                return Err(json_invalid(inner));
            }
            let mut loc = Loc::body();
            for segment in error.path().iter() {
                match segment {
                    serde_path_to_error::Segment::Seq { index } => {
                        loc.0.push(LocPart::Index(*index))
                    }
                    serde_path_to_error::Segment::Map { key } => {
                        loc.0.push(LocPart::Key(key.clone()))
                    }
                    serde_path_to_error::Segment::Enum { variant } => {
                        loc.0.push(LocPart::Key(variant.clone()))
                    }
                    serde_path_to_error::Segment::Unknown => {}
                }
            }
            let body: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
            Err(ApiError::Validation(vec![describe_data_error(
                &inner.to_string(),
                loc,
                &body,
            )]))
        }
    }
}

fn json_invalid(error: &serde_json::Error) -> ApiError {
    ApiError::Validation(vec![ValidationIssue::new(
        Loc::body().index(error.column()),
        "json_invalid",
        format!("JSON decode error: {error}"),
        Value::Null,
    )])
}

/// The value at `loc` (after its leading "body"), for the `input` of an issue.
fn value_at<'a>(body: &'a Value, loc: &Loc) -> Option<&'a Value> {
    loc.0
        .iter()
        .skip(1)
        .try_fold(body, |value, part| match part {
            LocPart::Key(key) => value.get(key),
            LocPart::Index(index) => value.get(index),
        })
}

/// Turns serde's message for a data error into a pydantic-style type and message.
fn describe_data_error(message: &str, loc: Loc, body: &Value) -> ValidationIssue {
    let message = message.split(" at line ").next().unwrap_or(message);
    if let Some(field) = between(message, "missing field `", "`") {
        let input = value_at(body, &loc).cloned().unwrap_or(Value::Null);
        return ValidationIssue::new(loc.key(field), "missing", "Field required", input);
    }
    let input = value_at(body, &loc).cloned().unwrap_or(Value::Null);
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let expected = rest.split("expected ").nth(1).unwrap_or("a known value");
        return ValidationIssue::new(loc, "enum", format!("Input should be {expected}"), input);
    }
    if message.contains("UUID parsing failed") || message.contains("expected UUID") {
        return ValidationIssue::new(loc, "uuid_parsing", "Input should be a valid UUID", input);
    }
    if let Some(expected) = message.split(", expected ").nth(1) {
        let (kind, msg) = match expected {
            "a string" => ("string_type", "Input should be a valid string"),
            "a boolean" => ("bool_type", "Input should be a valid boolean"),
            e if e.starts_with("i64")
                || e.starts_with("u64")
                || e.starts_with("i32")
                || e.starts_with("u32")
                || e.starts_with("u16")
                || e.starts_with("usize") =>
            {
                ("int_type", "Input should be a valid integer")
            }
            e if e.starts_with("a sequence") => ("list_type", "Input should be a valid list"),
            e if e.starts_with("struct") || e.starts_with("a map") => (
                "model_attributes_type",
                "Input should be a valid dictionary or object to extract fields from",
            ),
            _ => ("value_error", message),
        };
        return ValidationIssue::new(loc, kind, msg, input);
    }
    ValidationIssue::new(loc, "value_error", message, input)
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = text.split_once(start)?.1;
    Some(rest.split_once(end)?.0)
}

/// The `{id}` path parameter of item routes, which must be a UUID.
#[derive(Clone, Copy, Debug)]
pub struct IdPath(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found())?;
        let raw = params
            .iter()
            .find(|(name, _)| *name == "id")
            .map(|(_, value)| value.to_owned())
            .ok_or_else(ApiError::not_found)?;
        path_uuid("id", &raw).map(IdPath)
    }
}

/// The path parameter `name`'s value `raw` as a UUID, or the 422 naming it.
pub fn path_uuid(name: &str, raw: &str) -> ApiResult<Uuid> {
    parse_uuid(raw).ok_or_else(|| uuid_issue(Loc::path(name), raw))
}

/// Parses a UUID in its hyphenated form, the only form the API uses.
pub fn parse_uuid(raw: &str) -> Option<Uuid> {
    if raw.len() != 36 {
        return None;
    }
    Uuid::try_parse(raw).ok()
}

fn uuid_issue(loc: Loc, raw: &str) -> ApiError {
    ApiError::validation(
        loc,
        "uuid_parsing",
        "Input should be a valid UUID",
        Value::String(raw.to_owned()),
    )
}

/// Most values a multi-value filter (`ids=a&ids=b…`) takes; a page holds at most 100 items
/// anyway, and the limit bounds the query floe sends to the database.
pub const MAX_FILTER_VALUES: usize = 100;

/// The query string, decoded, with every repetition of a key kept.
#[derive(Clone, Debug, Default)]
pub struct QueryParams(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        Ok(Self(
            form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
}

/// An integer query value, by sign; a magnitude beyond 64 bits saturates.
#[derive(Debug, PartialEq, Eq)]
enum QueryInt {
    Positive(u64),
    ZeroOrNegative,
}

/// Python's `int()` grammar for a query string, as pydantic applies it: optional spaces
/// around, an optional sign, decimal digits with single `_` between them, and an optional
/// fraction of zeros. `None` when it is not an integer.
fn parse_int(raw: &str) -> Option<QueryInt> {
    let text = raw.trim();
    let (negative, text) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (digits, fraction) = match text.split_once('.') {
        Some((digits, fraction)) => (digits, Some(fraction)),
        None => (text, None),
    };
    if fraction.is_some_and(|f| f.is_empty() || f.bytes().any(|b| b != b'0')) {
        return None;
    }
    let well_formed = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    if !well_formed {
        return None;
    }
    let magnitude = digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .fold(0u64, |acc, digit| {
            acc.saturating_mul(10)
                .saturating_add(u64::from(digit - b'0'))
        });
    Some(if negative || magnitude == 0 {
        QueryInt::ZeroOrNegative
    } else {
        QueryInt::Positive(magnitude)
    })
}

impl QueryParams {
    /// Parameters made in code (the hosted pages call the API's functions with them).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    /// Every name and value, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// An optional boolean (`true`/`false`, as FastAPI also reads `1`/`0`, `yes`/`no`).
    pub fn boolean(&self, name: &str) -> ApiResult<Option<bool>> {
        let Some(raw) = self.last(name) else {
            return Ok(None);
        };
        match raw.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" | "t" | "y" => Ok(Some(true)),
            "false" | "0" | "no" | "off" | "f" | "n" => Ok(Some(false)),
            _ => Err(ApiError::validation(
                Loc::query(name),
                "bool_parsing",
                "Input should be a valid boolean, unable to interpret input",
                Value::String(raw.to_owned()),
            )),
        }
    }

    /// Every value given for `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The last value given for `name`.
    pub fn last(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A text filter: the last value given for `name`, unless it is empty (an empty search
    /// filters nothing).
    pub fn text(&self, name: &str) -> Option<String> {
        self.last(name)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    }

    /// A positive integer, or `default` when absent. Integers are read as Polar's server
    /// reads them (surrounding spaces, a sign, `_` between digits and a zero fraction such
    /// as `2.0` are fine); one too large for 64 bits is `u64::MAX` rather than an error, so
    /// that a page far past the end is an empty page.
    pub fn positive_int(&self, name: &str, default: u64) -> ApiResult<u64> {
        let Some(raw) = self.last(name) else {
            return Ok(default);
        };
        match parse_int(raw) {
            Some(QueryInt::Positive(value)) => Ok(value),
            Some(QueryInt::ZeroOrNegative) => Err(ApiError::validation(
                Loc::query(name),
                "greater_than",
                "Input should be greater than 0",
                Value::String(raw.to_owned()),
            )),
            None => Err(ApiError::validation(
                Loc::query(name),
                "int_parsing",
                "Input should be a valid integer, unable to parse string as an integer",
                Value::String(raw.to_owned()),
            )),
        }
    }

    /// Whether the `organization_id` filter, if given, includes the caller's organization; a
    /// list filtered on other organizations is empty for an organization token.
    pub fn allows_organization(&self, organization_id: Uuid) -> ApiResult<bool> {
        Ok(self
            .uuids("organization_id")?
            .is_none_or(|ids| ids.contains(&organization_id)))
    }

    /// A date-time filter with a timezone (RFC 3339); `None` when absent.
    pub fn datetime(&self, name: &str) -> ApiResult<Option<chrono::DateTime<chrono::Utc>>> {
        self.datetime_or_issue(name)
            .map_err(|issue| ApiError::Validation(vec![issue]))
    }

    /// [`Self::datetime`] for callers that gather every issue of a query before answering.
    pub fn datetime_or_issue(
        &self,
        name: &str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, ValidationIssue> {
        let Some(raw) = self.last(name) else {
            return Ok(None);
        };
        match chrono::DateTime::parse_from_rfc3339(raw) {
            Ok(at) => Ok(Some(at.with_timezone(&chrono::Utc))),
            Err(_) => Err(ValidationIssue::new(
                Loc::query(name),
                "datetime_from_date_parsing",
                "Input should be a valid datetime with a timezone",
                Value::String(raw.to_owned()),
            )),
        }
    }

    /// A filter that takes one UUID or many (`ids=a&ids=b`); `None` when absent.
    pub fn uuids(&self, name: &str) -> ApiResult<Option<Vec<Uuid>>> {
        let values = self.all(name);
        if values.is_empty() {
            return Ok(None);
        }
        if values.len() > MAX_FILTER_VALUES {
            return Err(ApiError::validation(
                Loc::query(name),
                "too_long",
                format!(
                    "List should have at most {MAX_FILTER_VALUES} items, not {}",
                    values.len()
                ),
                Value::Null,
            ));
        }
        let mut issues = Vec::new();
        let mut ids = Vec::with_capacity(values.len());
        for (index, raw) in values.iter().enumerate() {
            match parse_uuid(raw) {
                Some(id) => ids.push(id),
                None => issues.push(ValidationIssue::new(
                    Loc::query(name).index(index),
                    "uuid_parsing",
                    "Input should be a valid UUID",
                    Value::String((*raw).to_owned()),
                )),
            }
        }
        if issues.is_empty() {
            Ok(Some(ids))
        } else {
            Err(ApiError::Validation(issues))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{QueryInt, parse_int};

    #[test]
    fn integers_read_as_polar_reads_them() {
        let positive = |n| Some(QueryInt::Positive(n));
        assert_eq!(parse_int("7"), positive(7));
        assert_eq!(parse_int(" +7 "), positive(7));
        assert_eq!(parse_int("1_000"), positive(1000));
        assert_eq!(parse_int("2.0"), positive(2));
        assert_eq!(parse_int("2.000"), positive(2));
        assert_eq!(parse_int("18446744073709551615"), positive(u64::MAX));
        assert_eq!(parse_int("21971857824477790339072"), positive(u64::MAX));
        assert_eq!(parse_int(&"9".repeat(400)), positive(u64::MAX));
        for zero_or_negative in ["0", "-0", "-1", "-99999999999999999999999", "0.0"] {
            assert_eq!(
                parse_int(zero_or_negative),
                Some(QueryInt::ZeroOrNegative),
                "{zero_or_negative}"
            );
        }
        for not_integer in [
            "", " ", "-", "+", "2.5", "2.", ".0", "1e3", "0x10", "1__0", "_1", "1_", "٣", "1 2",
            "NaN", "inf", "--1",
        ] {
            assert_eq!(parse_int(not_integer), None, "{not_integer:?}");
        }
    }
}
