//! What every route that serves a URL floe presigned shares: reading the signed query,
//! refusing a bad signature with 403, and CORS for browsers that upload from another origin.

use axum::http::{Method, Uri, header};
use tower_http::cors::{Any, CorsLayer};

use super::signing::SignatureError;
use crate::http::ApiError;

/// The query parameters of `uri`, decoded.
pub fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// A 403 that says what is wrong with the URL.
pub fn refused(error: SignatureError) -> ApiError {
    ApiError::NotPermitted(match error {
        SignatureError::Missing => "This URL needs a signature.".to_owned(),
        SignatureError::Invalid => "The URL's signature does not match; it was altered.".to_owned(),
        SignatureError::Expired => "The URL has expired; ask for a new one.".to_owned(),
    })
}

/// Browsers upload parts straight from a page on another origin and must read the ETag
/// back; the URL's signature, not the origin, is what authorizes the request.
pub fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD, Method::PUT])
        .allow_headers(Any)
        .expose_headers([
            header::ETAG,
            header::CONTENT_RANGE,
            header::CONTENT_DISPOSITION,
        ])
        .max_age(std::time::Duration::from_secs(3600))
}
