//! The baseline of `bench/run`: a bare axum hello-world, built in the same run as floe
//! so that floe's request rate can be reported as a ratio that survives a noisy machine.

use axum::{Router, routing::get};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8001".to_owned());
    let app = Router::new().route("/", get(|| async { "Hello, World!" }));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await
}
