//! The API's request timeout: a request that takes longer than the configured time is
//! answered 408 (and its work dropped, which rolls back any open transaction). The test
//! clock's advance is the exception: it runs every renewal due on the way, which for a busy
//! test organization takes as long as it takes, and each of its steps commits on its own.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Paths that are not timed.
const UNTIMED: &[&str] = &["/v1/test-clock/advance"];

pub async fn middleware(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let path = path
        .strip_prefix("/api")
        .unwrap_or(path)
        .trim_end_matches('/');
    if UNTIMED.contains(&path) {
        return next.run(request).await;
    }
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}
