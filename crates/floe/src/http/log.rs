//! One log line per request: method, path, status, latency and request id, plus the cause
//! when floe answered with a 5xx (the client only ever sees an opaque body).

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

use super::error::LoggedCause;

pub async fn middleware(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
    if let Some(LoggedCause(cause)) = response.extensions().get::<LoggedCause>() {
        tracing::error!(%method, %path, status, latency_ms, %request_id, cause = %cause, "request");
    } else if status >= 500 {
        tracing::error!(%method, %path, status, latency_ms, %request_id, "request");
    } else {
        tracing::info!(%method, %path, status, latency_ms, %request_id, "request");
    }
    response
}
