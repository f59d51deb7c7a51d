//! The empty last part. Polar's uploader cuts files into equal chunks and, when the size is
//! an exact multiple of the chunk, plans one more part with no bytes. S3 stores differ on
//! such a part (Garage refuses an empty UploadPart body), so floe never sends it to the
//! store: its URL points at floe itself, which checks the signature, takes no bytes and
//! answers with the ETag of nothing, and completion leaves the part out. The object is the
//! same bytes either way; only its ETag counts one part fewer.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::put;

use crate::http::ApiError;
use crate::storage::PresignedRequest;
use crate::storage::presigned_http::{self, query_pairs, refused};
use crate::storage::signing::UrlSigner;

/// Where empty parts are "uploaded".
pub const ROUTE: &str = "/_storage/empty-part";
/// S3's ETag of no bytes: the MD5 of the empty string, quoted.
pub const EMPTY_ETAG: &str = "\"d41d8cd98f00b204e9800998ecf8427e\"";

/// Presigns empty parts as URLs of this floe.
#[derive(Clone)]
pub struct EmptyParts {
    signer: UrlSigner,
    base_url: String,
}

impl EmptyParts {
    /// `base_url` is floe's public URL.
    pub fn new(signer: UrlSigner, base_url: &str) -> Self {
        Self {
            signer,
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    pub fn presign(&self, upload_id: &str, number: u32) -> PresignedRequest {
        let number = number.to_string();
        let (query, expires_at) = self.signer.sign(
            "PUT",
            ROUTE,
            &[("uploadId", upload_id), ("partNumber", &number)],
        );
        PresignedRequest {
            url: format!("{}{ROUTE}?{query}", self.base_url),
            headers: Vec::new(),
            expires_at,
        }
    }

    /// The route that answers those URLs.
    pub fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        Router::new()
            .route(ROUTE, put(put_empty_part))
            .layer(presigned_http::cors())
            .with_state(Arc::new(self))
    }
}

async fn put_empty_part(
    State(parts): State<Arc<EmptyParts>>,
    uri: Uri,
    body: Body,
) -> Result<Response, ApiError> {
    parts
        .signer
        .verify("PUT", ROUTE, &query_pairs(&uri))
        .map_err(refused)?;
    // A limit of 0 bytes: any byte at all is an error.
    if axum::body::to_bytes(body, 0).await.is_err() {
        return Err(ApiError::BadRequest(
            "This part is planned empty: send no bytes.".to_owned(),
        ));
    }
    Ok((StatusCode::OK, [(header::ETAG, EMPTY_ETAG)]).into_response())
}
