//! The local backend's HTTP face, under `/_storage/{bucket}/{key}`: presigned part PUTs
//! and downloads, and unsigned reads of the public bucket. The signature in the URL is
//! the only authorization; bearer tokens play no part here.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::layout::{
    OBJECT_FILE, ObjectManifest, PartRecord, UPLOAD_FILE, UploadManifest, is_upload_id,
    random_name, read_json, sync_dir, write_json_atomic,
};
use super::part::{self, PartError};
use super::{LocalStorage, ROUTE_PREFIX, read};
use crate::http::ApiError;
use crate::storage::Bucket;
use crate::storage::presigned_http::{self, query_pairs, refused};
use crate::storage::signing::SignatureError;

/// Routes of the local backend, ready to merge into the app.
pub fn router<S: Clone + Send + Sync + 'static>(storage: Arc<LocalStorage>) -> Router<S> {
    Router::new()
        .route(
            &format!("{ROUTE_PREFIX}/{{bucket}}/{{key}}"),
            get(get_object).put(put_part),
        )
        // Parts are streamed to disk and bounded by their planned length, not by the
        // API's body limit.
        .layer(DefaultBodyLimit::disable())
        .layer(presigned_http::cors())
        .with_state(storage)
}

/// The bucket and key an URL names, or 404.
fn object_of(bucket: &str, key: &str) -> Result<(Bucket, String), ApiError> {
    let bucket = Bucket::from_name(bucket).ok_or_else(ApiError::not_found)?;
    let key = URL_SAFE_NO_PAD
        .decode(key)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(ApiError::not_found)?;
    Ok((bucket, key))
}

/// A JSON record of the layout, or `None` when there is none at `path`.
async fn read_record<T: serde::de::DeserializeOwned>(
    path: std::path::PathBuf,
) -> Result<Option<T>, ApiError> {
    match tokio::fs::read(&path).await {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(ApiError::internal),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ApiError::internal(e)),
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// PUT of one part of a multipart upload.
async fn put_part(
    State(storage): State<Arc<LocalStorage>>,
    Path((bucket, key)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (bucket, key) = object_of(&bucket, &key)?;
    let path = LocalStorage::object_path(bucket, &key);
    let params = storage
        .signer
        .verify("PUT", &path, &query_pairs(&uri))
        .map_err(refused)?;
    let upload_id = param(&params, "uploadId")
        .filter(|id| is_upload_id(id))
        .ok_or_else(|| ApiError::BadRequest("uploadId is missing or malformed.".to_owned()))?
        .to_owned();
    let number: u32 = param(&params, "partNumber")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| ApiError::BadRequest("partNumber is missing or malformed.".to_owned()))?;

    let upload_dir = storage.layout.upload(bucket, &upload_id);
    let manifest: UploadManifest = read_record(upload_dir.join(UPLOAD_FILE))
        .await?
        .ok_or_else(|| {
            ApiError::ResourceNotFound(
                "No such upload: it was completed, aborted or has expired.".to_owned(),
            )
        })?;
    if manifest.key != key {
        return Err(ApiError::ResourceNotFound("No such upload.".to_owned()));
    }
    let plan = manifest
        .parts
        .iter()
        .find(|p| p.number == number)
        .ok_or_else(|| ApiError::ResourceNotFound(format!("The upload has no part {number}.")))?;

    // The body's length is known from Content-Length, or is zero for an HTTP/1.1 request
    // with neither Content-Length nor Transfer-Encoding; a chunked body is refused, as S3
    // refuses it, because the length must be checked before a byte is stored.
    let length = http_body::Body::size_hint(&body).exact().ok_or_else(|| {
        ApiError::LengthRequired(format!(
            "Send Content-Length: {} (the part's byte range [{}, {})).",
            plan.len(),
            plan.start,
            plan.end
        ))
    })?;
    if length != plan.len() {
        return Err(ApiError::BadRequest(format!(
            "Part {number} covers bytes [{}, {}) and must be {} bytes long; the request has {length}.",
            plan.start,
            plan.end,
            plan.len()
        )));
    }
    let sent_checksum = match headers.get("x-amz-checksum-sha256") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| STANDARD.decode(v.trim()).ok())
                .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "x-amz-checksum-sha256 must be the base64 of a 32-byte SHA-256.".to_owned(),
                    )
                })?,
        ),
    };
    if plan.sha256.is_some() && sent_checksum != plan.sha256 {
        return Err(ApiError::BadRequest(format!(
            "Part {number} was planned with a SHA-256; send it in x-amz-checksum-sha256, as in the part's headers."
        )));
    }

    let incoming = storage
        .layout
        .incoming(bucket)
        .join(format!("{upload_id}-p{number}-{}", random_name()));
    let received = part::receive(
        incoming.clone(),
        length,
        sent_checksum,
        body.into_data_stream(),
    )
    .await
    .map_err(|e| match e {
        PartError::Io(e) => ApiError::internal(e),
        PartError::ChecksumMismatch => ApiError::BadRequest(
            "The part's SHA-256 does not match x-amz-checksum-sha256; nothing was kept.".to_owned(),
        ),
        other => ApiError::BadRequest(format!("{other}; nothing was kept.")),
    })?;

    // Record the part under the upload's lock, unless the upload ended meanwhile.
    let lock = storage.locks.get(&upload_id);
    let guard = lock.lock().await;
    let data_file = format!("p{number}-{}.data", random_name());
    let record = PartRecord {
        number,
        data_file: data_file.clone(),
        size: received.size,
        etag: received.etag.clone(),
        sha256: received.sha256,
    };
    let recorded = tokio::task::spawn_blocking(move || -> std::io::Result<bool> {
        if !upload_dir.join(UPLOAD_FILE).exists() {
            std::fs::remove_file(&incoming)?;
            return Ok(false);
        }
        let record_path = upload_dir.join(format!("part-{number}.json"));
        let previous: Option<PartRecord> = read_json(&record_path).ok();
        std::fs::rename(&incoming, upload_dir.join(&data_file))?;
        sync_dir(&upload_dir)?;
        write_json_atomic(&record_path, &record)?;
        if let Some(previous) = previous {
            let _ = std::fs::remove_file(upload_dir.join(previous.data_file));
        }
        Ok(true)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    drop(guard);
    if !recorded {
        return Err(ApiError::ResourceNotFound(
            "The upload was completed or aborted while this part arrived.".to_owned(),
        ));
    }

    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", received.etag)) {
        headers.insert(header::ETAG, etag);
    }
    if let Some(sha256) = received.sha256
        && let Ok(value) = HeaderValue::from_str(&STANDARD.encode(sha256))
    {
        headers.insert("x-amz-checksum-sha256", value);
    }
    Ok(response)
}

/// GET (and HEAD) of an object: presigned for any bucket, unsigned for the public one.
async fn get_object(
    State(storage): State<Arc<LocalStorage>>,
    Path((bucket, key)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (bucket, key) = object_of(&bucket, &key)?;
    let path = LocalStorage::object_path(bucket, &key);
    let query = query_pairs(&uri);
    let params = match storage.signer.verify("GET", &path, &query) {
        Ok(params) => params,
        Err(SignatureError::Missing) if bucket == Bucket::Public => Vec::new(),
        Err(error) => return Err(refused(error)),
    };

    let dir = storage.layout.object(bucket, &key);
    let manifest: ObjectManifest = read_record(dir.join(OBJECT_FILE))
        .await?
        .ok_or_else(ApiError::not_found)?;

    let size = manifest.size;
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| http_range_header::parse_range_header(v).ok())
        .map(|parsed| parsed.validate(size));
    let (status, start, end) = match range {
        // One satisfiable range: serve it.
        Some(Ok(ranges)) if ranges.len() == 1 => {
            let range = &ranges[0];
            (StatusCode::PARTIAL_CONTENT, *range.start(), range.end() + 1)
        }
        Some(Err(_)) => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(response);
        }
        // No Range, a malformed one or several: the whole object, as RFC 9110 allows.
        _ => (StatusCode::OK, 0, size),
    };

    let content_type = param(&params, "response-content-type").unwrap_or(&manifest.content_type);
    let disposition = param(&params, "response-content-disposition").map(str::to_owned);
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LENGTH, end - start)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, &manifest.etag)
        .header(
            header::LAST_MODIFIED,
            httpdate::fmt_http_date(manifest.last_modified.into()),
        )
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        // User content served from floe's origin must never run as a page (an SVG with a
        // script, an HTML file uploaded as a downloadable).
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        );
    if status == StatusCode::PARTIAL_CONTENT {
        builder = builder.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{size}", end - 1),
        );
    }
    if let Some(disposition) = disposition {
        builder = builder.header(header::CONTENT_DISPOSITION, disposition);
    }
    if bucket == Bucket::Public && params.is_empty() {
        builder = builder.header(header::CACHE_CONTROL, "public, max-age=86400");
    }
    let body = Body::from_stream(read::stream_range(dir, &manifest, start, end));
    builder.body(body).map_err(ApiError::internal)
}
