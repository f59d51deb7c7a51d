//! One error type for the whole API, whose variants are the contract's error names, and
//! the 422 validation shape (`{"error": "RequestValidationError", "detail": [...]}`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::auth::Scope;

pub type ApiResult<T> = Result<T, ApiError>;

/// Realm announced in `WWW-Authenticate`.
const REALM: &str = "floe";

const INVALID_TOKEN_DESCRIPTION: &str =
    "The access token provided is expired, revoked, malformed, or invalid for other reasons.";
const INSUFFICIENT_SCOPE_DESCRIPTION: &str =
    "The request requires higher privileges than provided by the access token.";

/// Every way a request can fail. The client sees the contract's shape; internal causes
/// are logged by [`crate::http::log`] and never sent.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    NotPermitted(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    ResourceAlreadyExists(String),
    /// A 409 the contract names itself (`ProductNotDeletable`, …).
    #[error("{error}: {detail}")]
    Conflict { error: &'static str, detail: String },
    /// Any other error the contract names, with its status (`PaymentError` 400,
    /// `NotOpenCheckout` 403, `ExpiredCheckoutError` 410, …).
    #[error("{error}: {detail}")]
    Named {
        status: StatusCode,
        error: &'static str,
        detail: String,
    },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    LengthRequired(String),
    /// No credentials at all.
    #[error("Unauthorized")]
    Unauthorized,
    /// Credentials that are malformed, unknown, expired or revoked.
    #[error("invalid token")]
    InvalidToken,
    /// A valid token without any of the scopes the operation accepts.
    #[error("insufficient scope")]
    InsufficientScope(Vec<Scope>),
    #[error("request validation failed")]
    Validation(Vec<ValidationIssue>),
    /// A dependency (database, object store) is unreachable; the client may retry.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A dependency did not answer in time; the client may retry.
    #[error("upstream timeout: {0}")]
    UpstreamTimeout(String),
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

impl ApiError {
    pub fn not_found() -> Self {
        Self::ResourceNotFound("Not found".to_owned())
    }

    pub fn named(status: StatusCode, error: &'static str, detail: impl Into<String>) -> Self {
        Self::Named {
            status,
            error,
            detail: detail.into(),
        }
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    /// A single 422 issue.
    pub fn validation(loc: Loc, kind: &str, msg: impl Into<String>, input: Value) -> Self {
        Self::Validation(vec![ValidationIssue::new(loc, kind, msg, input)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::ResourceNotFound(_) => StatusCode::NOT_FOUND,
            Self::NotPermitted(_) | Self::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::ResourceAlreadyExists(_) | Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Named { status, .. } => *status,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::LengthRequired(_) => StatusCode::LENGTH_REQUIRED,
            Self::Unauthorized | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::UpstreamTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn body(&self) -> Value {
        match self {
            Self::ResourceNotFound(detail) => {
                json!({"error": "ResourceNotFound", "detail": detail})
            }
            Self::NotPermitted(detail) => json!({"error": "NotPermitted", "detail": detail}),
            Self::BadRequest(detail) => json!({"error": "BadRequest", "detail": detail}),
            Self::ResourceAlreadyExists(detail) => {
                json!({"error": "ResourceAlreadyExists", "detail": detail})
            }
            Self::Conflict { error, detail } => json!({"error": error, "detail": detail}),
            Self::Named { error, detail, .. } => json!({"error": error, "detail": detail}),
            Self::PayloadTooLarge(detail) => json!({"error": "PayloadTooLarge", "detail": detail}),
            Self::LengthRequired(detail) => json!({"error": "LengthRequired", "detail": detail}),
            Self::Unauthorized => json!({"error": "Unauthorized", "detail": "Unauthorized"}),
            Self::InvalidToken => {
                json!({"error": "invalid_token", "error_description": INVALID_TOKEN_DESCRIPTION})
            }
            Self::InsufficientScope(_) => json!({
                "error": "insufficient_scope",
                "error_description": INSUFFICIENT_SCOPE_DESCRIPTION,
            }),
            Self::Validation(issues) => {
                json!({"error": "RequestValidationError", "detail": issues})
            }
            Self::Unavailable(_) => json!({
                "error": "ServiceUnavailable",
                "detail": "A service floe depends on is unavailable; retry later.",
            }),
            Self::UpstreamTimeout(_) => json!({
                "error": "GatewayTimeout",
                "detail": "A service floe depends on did not answer in time; retry later.",
            }),
            Self::Internal(_) => {
                json!({"error": "InternalServerError", "detail": "Internal Server Error"})
            }
        }
    }

    fn www_authenticate(&self) -> Option<String> {
        match self {
            Self::Unauthorized => Some(format!("Bearer realm=\"{REALM}\"")),
            Self::InvalidToken => Some(format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{INVALID_TOKEN_DESCRIPTION}\""
            )),
            Self::InsufficientScope(scopes) => {
                let scopes: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
                Some(format!(
                    "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", error_description=\"{INSUFFICIENT_SCOPE_DESCRIPTION}\", scope=\"{}\"",
                    scopes.join(" ")
                ))
            }
            _ => None,
        }
    }
}

/// Carries the cause of a 5xx from the handler to the request log.
#[derive(Clone, Debug)]
pub struct LoggedCause(pub std::sync::Arc<String>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, axum::Json(self.body())).into_response();
        if let Some(value) = self.www_authenticate()
            && let Ok(value) = HeaderValue::from_str(&value)
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::GATEWAY_TIMEOUT {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if status.is_server_error() {
            response
                .extensions_mut()
                .insert(LoggedCause(std::sync::Arc::new(format!("{self}"))));
        }
        response
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        use sea_orm::DbErr;
        match error {
            DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => Self::Unavailable(error.to_string()),
            other => Self::Internal(other.into()),
        }
    }
}

/// A location in the request, as FastAPI reports it: `["body", "upload", "parts", 0]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Loc(pub Vec<LocPart>);

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LocPart {
    Key(String),
    Index(usize),
}

impl Loc {
    pub fn body() -> Self {
        Self(vec![LocPart::Key("body".to_owned())])
    }

    pub fn query(name: &str) -> Self {
        Self(vec![
            LocPart::Key("query".to_owned()),
            LocPart::Key(name.to_owned()),
        ])
    }

    /// The query as a whole (a rule across several of its parameters).
    pub fn query_root() -> Self {
        Self(vec![LocPart::Key("query".to_owned())])
    }

    pub fn path(name: &str) -> Self {
        Self(vec![
            LocPart::Key("path".to_owned()),
            LocPart::Key(name.to_owned()),
        ])
    }

    /// This location, one key deeper.
    pub fn key(&self, key: &str) -> Self {
        let mut parts = self.0.clone();
        parts.push(LocPart::Key(key.to_owned()));
        Self(parts)
    }

    /// This location, one index deeper.
    pub fn index(&self, index: usize) -> Self {
        let mut parts = self.0.clone();
        parts.push(LocPart::Index(index));
        Self(parts)
    }
}

impl std::fmt::Display for Loc {
    /// `body.upload.parts.0`: for messages and tests.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|part| match part {
                LocPart::Key(key) => key.clone(),
                LocPart::Index(index) => index.to_string(),
            })
            .collect();
        f.write_str(&parts.join("."))
    }
}

/// One entry of a 422's `detail`.
#[derive(Clone, Debug, Serialize)]
pub struct ValidationIssue {
    #[serde(rename = "type")]
    pub kind: String,
    pub loc: Loc,
    pub msg: String,
    pub input: Value,
}

impl ValidationIssue {
    pub fn new(loc: Loc, kind: &str, msg: impl Into<String>, input: Value) -> Self {
        Self {
            kind: kind.to_owned(),
            loc,
            msg: msg.into(),
            input,
        }
    }
}

/// Collects every problem of a request before answering, so a client fixes them in one go.
#[derive(Debug, Default)]
pub struct Validator {
    issues: Vec<ValidationIssue>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, loc: Loc, kind: &str, msg: impl Into<String>, input: Value) {
        self.issues
            .push(ValidationIssue::new(loc, kind, msg, input));
    }

    /// With an organization token the organization is implied: a body that names one is
    /// refused, as Polar does.
    pub fn reject_organization_id(&mut self, given: Option<uuid::Uuid>) {
        if let Some(given) = given {
            self.push(
                Loc::body().key("organization_id"),
                "organization_token",
                "Setting organization_id is disallowed when using an organization token.",
                Value::String(given.to_string()),
            );
        }
    }

    pub fn is_empty(&self) -> bool {
        self.issues.is_empty()
    }

    /// How many problems so far: a part of a request is sound when checking it added none.
    pub fn len(&self) -> usize {
        self.issues.len()
    }

    /// `Ok(())` when nothing was pushed, else the 422.
    pub fn finish(self) -> ApiResult<()> {
        if self.issues.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.issues))
        }
    }
}
