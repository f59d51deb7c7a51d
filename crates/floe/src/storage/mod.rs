//! Object storage behind one trait, [`ObjectStorage`], shaped after S3's multipart upload:
//! floe plans an upload, hands the client one presigned URL per part, completes the upload
//! from the parts' ETags, and presigns downloads. The local backend makes floe itself the
//! S3-like endpoint; an S3 backend talks to a real store with the same calls.

pub mod local;
pub mod presigned_http;
pub mod s3;
pub mod signing;

use chrono::{DateTime, Utc};

/// Which bucket an object lives in. Downloadables and support attachments are private;
/// product media and avatars are public (served without a signature).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    Private,
    Public,
}

impl Bucket {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Public => "public",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "private" => Some(Self::Private),
            "public" => Some(Self::Public),
            _ => None,
        }
    }
}

/// One part of an upload plan: the half-open byte range `[start, end)` of the file, and
/// the part's SHA-256 when the client declared it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlannedPart {
    pub number: u32,
    pub start: u64,
    pub end: u64,
    #[serde(default, with = "b64_digest_serde")]
    pub sha256: Option<[u8; 32]>,
}

impl PlannedPart {
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// Starts a multipart upload.
#[derive(Debug)]
pub struct NewUpload<'a> {
    pub bucket: Bucket,
    pub key: &'a str,
    pub content_type: &'a str,
    pub size: u64,
    pub parts: &'a [PlannedPart],
    /// User metadata for the object (`x-amz-meta-*`), as Polar sets it: the file's ID,
    /// organization, name, size and declared checksum, so that a bucket explains itself.
    pub metadata: Vec<(&'static str, String)>,
}

/// A whole object floe writes itself (a generated PDF), in one request.
pub struct PutObject<'a> {
    pub bucket: Bucket,
    pub key: &'a str,
    pub content_type: &'a str,
    pub bytes: Vec<u8>,
    /// As [`NewUpload::metadata`].
    pub metadata: Vec<(&'static str, String)>,
}

/// A presigned request the client makes itself: the URL, the headers it must send, and
/// when the signature stops being accepted.
#[derive(Clone, Debug)]
pub struct PresignedRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug)]
pub struct StartedUpload {
    pub upload_id: String,
    /// One presigned PUT per planned part, in plan order.
    pub parts: Vec<PresignedRequest>,
}

/// A part as the client reports it on completion.
#[derive(Clone, Debug)]
pub struct CompletedPart {
    pub number: u32,
    pub etag: String,
    pub sha256: Option<[u8; 32]>,
}

#[derive(Debug)]
pub struct CompleteUpload<'a> {
    pub bucket: Bucket,
    pub key: &'a str,
    pub upload_id: &'a str,
    pub parts: &'a [CompletedPart],
    /// The plan the upload was created with (the parts above name each of them once).
    pub planned: &'a [PlannedPart],
    pub size: u64,
    /// The whole file's SHA-256, when the client declared it: the assembled object must
    /// match it or the completion is refused.
    pub sha256: Option<[u8; 32]>,
}

/// What the store reports about a finished object.
#[derive(Clone, Debug)]
pub struct StoredObject {
    /// The object's ETag, quoted as S3 sends it: `"<hex>-<parts>"` for multipart uploads.
    pub etag: String,
    pub version: Option<String>,
    pub last_modified: DateTime<Utc>,
}

/// How a download should present itself to the browser.
#[derive(Clone, Debug)]
pub struct DownloadAs<'a> {
    pub filename: &'a str,
    pub content_type: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("no such upload")]
    NoSuchUpload,
    /// A part named on completion is missing or does not match what was uploaded.
    #[error("part {number}: {reason}")]
    InvalidPart { number: u32, reason: String },
    /// The store refused the request because of what the client sent.
    #[error("{0}")]
    Rejected(String),
    /// The store is unreachable or failing; the same request may succeed later.
    #[error("object store unavailable: {0}")]
    Unavailable(String),
    /// The store did not answer in time; the same request may succeed later.
    #[error("object store timed out: {0}")]
    Timeout(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<std::io::Error> for StorageError {
    fn from(error: std::io::Error) -> Self {
        Self::Internal(error.into())
    }
}

/// An S3-compatible object store.
#[async_trait::async_trait]
pub trait ObjectStorage: Send + Sync + 'static {
    /// Why this store would refuse `parts` as the parts of a multipart upload, beyond the
    /// rules every plan follows (`files::plan`): S3 wants equal parts of at least 5 MiB.
    fn check_plan(&self, parts: &[PlannedPart]) -> Result<(), String> {
        let _ = parts;
        Ok(())
    }

    /// Starts a multipart upload and presigns one PUT per planned part.
    async fn create_upload(&self, upload: NewUpload<'_>) -> Result<StartedUpload, StorageError>;

    /// Assembles the parts into the object. Completing an upload that already completed
    /// returns the same object, so a client may retry after a lost response.
    async fn complete_upload(
        &self,
        complete: CompleteUpload<'_>,
    ) -> Result<StoredObject, StorageError>;

    /// Discards an upload and every part received for it.
    async fn abort_upload(
        &self,
        bucket: Bucket,
        key: &str,
        upload_id: &str,
    ) -> Result<(), StorageError>;

    /// Stores a whole object at once, replacing one under the same key. For what floe
    /// makes itself (small, in memory); clients upload through presigned parts instead.
    async fn put_object(&self, object: PutObject<'_>) -> Result<StoredObject, StorageError>;

    /// Up to `max_len` bytes from the start of an object (to check what it really is).
    async fn read_head(
        &self,
        bucket: Bucket,
        key: &str,
        max_len: usize,
    ) -> Result<Vec<u8>, StorageError>;

    /// Removes an object; removing one that does not exist succeeds.
    async fn delete_object(&self, bucket: Bucket, key: &str) -> Result<(), StorageError>;

    /// A presigned GET of a whole object.
    async fn presign_download(
        &self,
        bucket: Bucket,
        key: &str,
        download: DownloadAs<'_>,
    ) -> Result<PresignedRequest, StorageError>;

    /// The unsigned URL of an object in the public bucket.
    fn public_url(&self, key: &str) -> String;

    /// Removes uploads started before `cutoff` that floe no longer tracks (e.g. after a
    /// crash between starting an upload and recording it). Returns how many went.
    async fn sweep_uploads(&self, cutoff: DateTime<Utc>) -> Result<usize, StorageError>;
}

/// ETags arrive quoted (as the PUT returned them) or bare; compare them bare.
pub fn normalize_etag(etag: &str) -> &str {
    etag.trim().trim_matches('"')
}

/// `Content-Disposition` that survives any file name: an ASCII fallback with quotes and
/// control characters made safe, and the exact name in RFC 5987's `filename*`.
pub fn content_disposition(kind: &str, filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| match c {
            '"' | '\\' | '/' => '_',
            c if c.is_ascii() && !c.is_ascii_control() => c,
            _ => '_',
        })
        .collect();
    if filename.is_ascii()
        && !filename.chars().any(|c| c.is_ascii_control())
        && fallback == filename
    {
        return format!("{kind}; filename=\"{fallback}\"");
    }
    const ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let encoded = percent_encoding::utf8_percent_encode(filename, ATTR_CHAR);
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// Base64 for optional 32-byte digests in stored JSON.
pub(crate) mod b64_digest_serde {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(bytes) => s.serialize_some(&STANDARD.encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<[u8; 32]>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        let bytes = STANDARD.decode(text).map_err(serde::de::Error::custom)?;
        <[u8; 32]>::try_from(bytes.as_slice())
            .map(Some)
            .map_err(|_| serde::de::Error::custom("expected 32 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_handles_any_name() {
        assert_eq!(
            content_disposition("attachment", "a.txt"),
            "attachment; filename=\"a.txt\""
        );
        assert_eq!(
            content_disposition("attachment", "say \"hi\".txt"),
            "attachment; filename=\"say _hi_.txt\"; filename*=UTF-8''say%20%22hi%22.txt"
        );
        assert_eq!(
            content_disposition("attachment", "résumé\r\n.pdf"),
            "attachment; filename=\"r_sum___.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%0D%0A.pdf"
        );
    }
}
