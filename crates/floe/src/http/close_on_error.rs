//! Error answers to requests that carried a body close the connection.
//!
//! A request can be refused before its body is read (401, 403, a malformed ID in the path,
//! 413, an unknown route). The server then has unread bytes on the connection and hyper
//! closes it after the answer; a client that reuses the connection for its next request in
//! the moment before it sees the close gets "server disconnected without a response" (seen
//! once in CI: a POST refused with 403, then a second POST on the same connection). Saying
//! `Connection: close` in the answer makes the client open a new connection instead. Only
//! error answers to requests with a body pay for it.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use axum::middleware::Next;
use axum::response::Response;

pub async fn middleware(request: Request, next: Next) -> Response {
    let has_body = request.headers().contains_key(TRANSFER_ENCODING)
        || request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|length| length > 0);
    let mut response = next.run(request).await;
    if has_body && (response.status().is_client_error() || response.status().is_server_error()) {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
