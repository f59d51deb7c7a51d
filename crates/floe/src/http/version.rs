//! The `Polar-Version` header: absent means 2026-04; a supported version is echoed back on
//! the response; anything else is 404 `{"detail": "Not Found"}`, as Polar answers.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub const HEADER: HeaderName = HeaderName::from_static("polar-version");
pub const DEFAULT: &str = "2026-04";
pub const SUPPORTED: &[&str] = &["2026-04", "2026-10", "2027-01"];

/// The API version of the current request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiVersion(pub &'static str);

pub async fn middleware(mut request: Request, next: Next) -> Response {
    let requested = match request.headers().get(&HEADER) {
        None => Some(DEFAULT),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| SUPPORTED.iter().copied().find(|s| *s == v.trim())),
    };
    let Some(version) = requested else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"detail": "Not Found"})),
        )
            .into_response();
    };
    request.extensions_mut().insert(ApiVersion(version));
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(HEADER, HeaderValue::from_static(version));
    response
}
