//! Files: multipart uploads through presigned part URLs, completion, and downloads. The
//! bytes live in object storage; the database holds what a file is and where.

mod content;
mod entity;
mod plan;
mod routes;
mod schema;
mod service;
mod store;
pub mod sweep;

use axum::Router;
use axum::routing::{get, patch, post};

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/files", get(routes::list).post(routes::create))
        .route(
            "/v1/files/{id}",
            patch(routes::update).delete(routes::delete),
        )
        .route("/v1/files/{id}/uploaded", post(routes::uploaded))
        .route("/v1/files/{id}/download", get(routes::download))
}
