//! Counting the statements a request runs, so that tests can prove a list does not issue a
//! query per row: with `--count-queries` every API answer carries `x-floe-queries`, the
//! number of statements its handler ran (through the pool, in transactions, and on the
//! SQLite read connections). Off by default; when off nothing is counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

tokio::task_local! {
    static STATEMENTS: Arc<AtomicU32>;
}

/// The header that carries the count.
pub const HEADER: &str = "x-floe-queries";

/// Notes one statement for the request running on this task, if it is being counted.
pub fn record() {
    let _ = STATEMENTS.try_with(|count| count.fetch_add(1, Ordering::Relaxed));
}

/// Runs the request with a counter and reports what it counted.
pub async fn middleware(request: Request, next: Next) -> Response {
    let count = Arc::new(AtomicU32::new(0));
    let mut response = STATEMENTS.scope(count.clone(), next.run(request)).await;
    response
        .headers_mut()
        .insert(HEADER, HeaderValue::from(count.load(Ordering::Relaxed)));
    response
}
