//! The S3 backend: files live in an S3-compatible store (AWS S3, Cloudflare R2, Garage…)
//! that every floe instance shares. Clients upload parts and download objects straight from
//! the store with presigned URLs; floe only makes the control calls, the same ones Polar
//! makes: CreateMultipartUpload, presigned UploadPart, CompleteMultipartUpload, HeadObject,
//! presigned GetObject, DeleteObject, AbortMultipartUpload.

mod check;
mod empty_part;
mod errors;
mod rules;

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::presigning::{PresignedRequest as SdkPresigned, PresigningConfig};
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};

pub use check::check;
use empty_part::EMPTY_ETAG;
pub use empty_part::EmptyParts;
use errors::{sdk_error, upload_error};

use super::{
    Bucket, CompleteUpload, DownloadAs, NewUpload, ObjectStorage, PlannedPart, PresignedRequest,
    PutObject, StartedUpload, StorageError, StoredObject, content_disposition, normalize_etag,
};

/// Presigned URLs live at most this long (SigV4's limit).
pub const MAX_PRESIGN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// Connecting to the store gives up after this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A response that stops arriving for this long is abandoned.
const READ_TIMEOUT: Duration = Duration::from_secs(20);
/// Tries per call, the first included, for errors the SDK considers transient.
const MAX_ATTEMPTS: u32 = 3;
/// A call with its retries gives up after this long: before the API's own request
/// timeout (30 s by default), so the client gets the store's 504 rather than a 408.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(25);

/// How to reach the store. Public files (product media, avatars) go to their own bucket
/// or under their own prefix, which the operator makes publicly readable.
#[derive(Clone, Debug)]
pub struct S3Config {
    /// `None` talks to AWS.
    pub endpoint: Option<String>,
    pub region: String,
    pub bucket: String,
    pub public_bucket: String,
    /// Prepended to the key of every public object (`""` for none).
    pub public_prefix: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key`.
    pub path_style: bool,
    /// Where public objects are served from, without a trailing slash; an object's public
    /// URL is this, `/`, and its key (with the prefix).
    pub public_base_url: String,
}

impl S3Config {
    /// Refuses settings that would be wrong whatever the store says.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(!self.bucket.is_empty(), "the S3 bucket is not set");
        anyhow::ensure!(
            !self.public_base_url.is_empty(),
            "the public base URL for public files is not set"
        );
        anyhow::ensure!(
            self.public_bucket != self.bucket || !self.public_prefix.is_empty(),
            "public files need their own bucket or a key prefix: with neither, making them \
             public would make every downloadable public too"
        );
        Ok(())
    }
}

/// A client of the store and the two places objects go: what every call needs, and all
/// that `floe storage check` needs.
struct Bucketed {
    client: Client,
    private: Location,
    public: Location,
}

impl Bucketed {
    fn connect(config: &S3Config) -> Self {
        // rustls with ring, like the rest of floe, rather than the SDK's default aws-lc.
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut builder = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(http_client)
            .region(Region::new(config.region.clone()))
            .credentials_provider(Credentials::new(
                &config.access_key_id,
                &config.secret_access_key,
                None,
                None,
                "floe",
            ))
            .force_path_style(config.path_style)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .read_timeout(READ_TIMEOUT)
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            // Checksums are floe's to choose (SHA-256, as Polar), not the SDK's CRC defaults.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(endpoint) = &config.endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        Self {
            client: Client::from_conf(builder.build()),
            private: Location {
                bucket: config.bucket.clone(),
                prefix: String::new(),
            },
            public: Location {
                bucket: config.public_bucket.clone(),
                prefix: config.public_prefix.clone(),
            },
        }
    }
}

/// Where objects of one [`Bucket`] kind go.
#[derive(Clone, Debug)]
struct Location {
    bucket: String,
    prefix: String,
}

impl Location {
    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

pub struct S3Storage {
    client: Client,
    private: Location,
    public: Location,
    public_base_url: String,
    presign_ttl: Duration,
    empty_parts: EmptyParts,
}

impl S3Storage {
    /// `empty_parts` presigns the empty last parts, which floe answers itself.
    pub fn new(
        config: &S3Config,
        presign_ttl: Duration,
        empty_parts: EmptyParts,
    ) -> anyhow::Result<Self> {
        config.validate()?;
        anyhow::ensure!(
            presign_ttl <= MAX_PRESIGN_TTL && !presign_ttl.is_zero(),
            "presigned URLs on S3 live between 1 s and 7 days"
        );
        let Bucketed {
            client,
            private,
            public,
        } = Bucketed::connect(config);
        Ok(Self {
            client,
            private,
            public,
            public_base_url: config.public_base_url.trim_end_matches('/').to_owned(),
            presign_ttl,
            empty_parts,
        })
    }

    fn location(&self, bucket: Bucket) -> &Location {
        match bucket {
            Bucket::Private => &self.private,
            Bucket::Public => &self.public,
        }
    }

    /// Signed now, by the wall clock: the store checks the signing time against its own.
    fn presigning(&self) -> Result<(PresigningConfig, DateTime<Utc>), StorageError> {
        let now = SystemTime::now();
        let config = PresigningConfig::builder()
            .start_time(now)
            .expires_in(self.presign_ttl)
            .build()
            .map_err(|e| StorageError::Internal(e.into()))?;
        Ok((config, DateTime::<Utc>::from(now + self.presign_ttl)))
    }

    /// Streams the object and compares its SHA-256 with the declared one. Only needed when
    /// the parts' own checksums do not already prove it (see `complete_upload`).
    async fn verify_sha256(
        &self,
        location: &Location,
        key: &str,
        expected: &[u8; 32],
    ) -> Result<bool, StorageError> {
        let object = self
            .client
            .get_object()
            .bucket(&location.bucket)
            .key(key)
            .send()
            .await
            .map_err(sdk_error)?;
        let mut body = object.body;
        let mut hasher = ring::digest::Context::new(&ring::digest::SHA256);
        while let Some(chunk) = body
            .try_next()
            .await
            .map_err(|e| StorageError::Unavailable(e.to_string()))?
        {
            hasher.update(&chunk);
        }
        Ok(hasher.finish().as_ref() == expected)
    }

    /// Aborts an upload; `false` when it was already gone (completed, aborted, or another
    /// instance's sweep was first).
    async fn abort(&self, bucket: &str, key: &str, upload_id: &str) -> Result<bool, StorageError> {
        match self
            .client
            .abort_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
            .map_err(upload_error)
        {
            Ok(_) => Ok(true),
            Err(StorageError::NoSuchUpload) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// The parts the store holds for an upload, by number: ETag and SHA-256.
    async fn uploaded_parts(
        &self,
        location: &Location,
        key: &str,
        upload_id: &str,
    ) -> Result<HashMap<u32, (String, Option<String>)>, StorageError> {
        let mut parts = HashMap::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client
                .list_parts()
                .bucket(&location.bucket)
                .key(key)
                .upload_id(upload_id)
                .set_part_number_marker(marker.clone())
                .send()
                .await
                .map_err(upload_error)?;
            for part in page.parts() {
                if let (Some(number), Some(etag)) = (part.part_number(), part.e_tag()) {
                    parts.insert(
                        number as u32,
                        (etag.to_owned(), part.checksum_sha256().map(str::to_owned)),
                    );
                }
            }
            match page.next_part_number_marker() {
                Some(next) if page.is_truncated() == Some(true) => marker = Some(next.to_owned()),
                _ => return Ok(parts),
            }
        }
    }
}

fn sha256_b64(digest: &[u8; 32]) -> String {
    STANDARD.encode(digest)
}

fn to_chrono(time: &aws_sdk_s3::primitives::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(time.secs(), time.subsec_nanos()).unwrap_or_default()
}

fn presigned(request: SdkPresigned, expires_at: DateTime<Utc>) -> PresignedRequest {
    // Headers the HTTP client sets by itself (and browsers refuse to set) are left out;
    // they are still signed, so a body of the wrong length is refused by the store.
    let headers = request
        .headers()
        .filter(|(name, _)| {
            !matches!(
                name.to_ascii_lowercase().as_str(),
                "host" | "content-length"
            )
        })
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    PresignedRequest {
        url: request.uri().to_owned(),
        headers,
        expires_at,
    }
}

#[async_trait::async_trait]
impl ObjectStorage for S3Storage {
    fn check_plan(&self, parts: &[PlannedPart]) -> Result<(), String> {
        rules::check(parts)
    }

    async fn create_upload(&self, upload: NewUpload<'_>) -> Result<StartedUpload, StorageError> {
        let location = self.location(upload.bucket);
        let key = location.key(upload.key);
        // SHA-256 part checksums when the client declared every part's: the store then
        // checks each part as it arrives, and completion names them all (AWS refuses a
        // completion that leaves out part checksums of a SHA-256 upload).
        let all_checksummed = upload.parts.iter().all(|p| p.sha256.is_some());
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&location.bucket)
            .key(&key)
            .content_type(upload.content_type)
            .set_metadata(Some(
                upload
                    .metadata
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.clone()))
                    .collect(),
            ))
            .set_checksum_algorithm(all_checksummed.then_some(ChecksumAlgorithm::Sha256))
            .send()
            .await
            .map_err(sdk_error)?;
        let upload_id = created
            .upload_id()
            .context("the store returned no upload ID")?
            .to_owned();
        let mut parts = Vec::with_capacity(upload.parts.len());
        for part in upload.parts {
            if part.is_empty() {
                parts.push(self.empty_parts.presign(&upload_id, part.number));
                continue;
            }
            let (config, expires_at) = self.presigning()?;
            let mut request = self
                .client
                .upload_part()
                .bucket(&location.bucket)
                .key(&key)
                .upload_id(&upload_id)
                .part_number(part.number as i32)
                .content_length(part.len() as i64);
            if let Some(digest) = &part.sha256 {
                request = request
                    .checksum_algorithm(ChecksumAlgorithm::Sha256)
                    .checksum_sha256(sha256_b64(digest));
            }
            let signed = request
                .presigned(config)
                .await
                .map_err(|e| StorageError::Internal(anyhow::anyhow!("presigning a part: {e}")))?;
            parts.push(presigned(signed, expires_at));
        }
        Ok(StartedUpload { upload_id, parts })
    }

    async fn complete_upload(
        &self,
        complete: CompleteUpload<'_>,
    ) -> Result<StoredObject, StorageError> {
        let location = self.location(complete.bucket);
        let key = location.key(complete.key);
        let stored = match self
            .uploaded_parts(location, &key, complete.upload_id)
            .await
        {
            Ok(stored) => Some(stored),
            // Completed before (a retry after a lost response): the object answers below.
            Err(StorageError::NoSuchUpload) => None,
            Err(other) => return Err(other),
        };
        // Only the last planned part may be empty (files::plan).
        let empty_part = complete
            .planned
            .last()
            .filter(|p| p.is_empty())
            .map(|p| p.number);
        let is_empty = |number: u32| empty_part == Some(number);
        if let Some(stored) = &stored {
            // The store would refuse these too, but without saying which part.
            for part in complete.parts {
                if is_empty(part.number) {
                    if normalize_etag(&part.etag) != normalize_etag(EMPTY_ETAG) {
                        return Err(StorageError::InvalidPart {
                            number: part.number,
                            reason: "the ETag does not match the uploaded part".into(),
                        });
                    }
                    continue;
                }
                match stored.get(&part.number) {
                    None => {
                        return Err(StorageError::InvalidPart {
                            number: part.number,
                            reason: "this part was never uploaded".into(),
                        });
                    }
                    Some((etag, _)) if normalize_etag(etag) != normalize_etag(&part.etag) => {
                        return Err(StorageError::InvalidPart {
                            number: part.number,
                            reason: "the ETag does not match the uploaded part".into(),
                        });
                    }
                    Some(_) => {}
                }
            }
            let completed_parts = complete
                .parts
                .iter()
                .filter(|part| !is_empty(part.number))
                .map(|part| {
                    aws_sdk_s3::types::CompletedPart::builder()
                        .part_number(part.number as i32)
                        .e_tag(&part.etag)
                        .set_checksum_sha256(
                            stored
                                .get(&part.number)
                                .and_then(|(_, sha)| sha.clone())
                                .or_else(|| part.sha256.as_ref().map(sha256_b64)),
                        )
                        .build()
                })
                .collect();
            self.client
                .complete_multipart_upload()
                .bucket(&location.bucket)
                .key(&key)
                .upload_id(complete.upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(completed_parts))
                        .build(),
                )
                .send()
                .await
                .map_err(upload_error)?;
        }
        let head = self
            .client
            .head_object()
            .bucket(&location.bucket)
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .map_err(|e| match upload_error(e) {
                StorageError::Rejected(_) if stored.is_none() => StorageError::NoSuchUpload,
                other => other,
            })?;
        let size = head.content_length().unwrap_or(-1);
        let refuse = |reason: String| async {
            let _ = self.delete_object(complete.bucket, complete.key).await;
            Err(StorageError::Rejected(reason))
        };
        if u64::try_from(size).ok() != Some(complete.size) {
            return refuse(format!(
                "The parts add up to {size} bytes, but the file was declared with {}",
                complete.size
            ))
            .await;
        }
        if let Some(expected) = &complete.sha256 {
            // A single part planned with this SHA-256 was verified by the store: the checksum
            // header is signed into its URL. Otherwise read the object back once (the store
            // keeps only a checksum of checksums, and a client's claim proves nothing).
            let proven =
                matches!(complete.planned, [only] if only.sha256.as_ref() == Some(expected));
            if !proven && !self.verify_sha256(location, &key, expected).await? {
                return refuse(
                    "The uploaded file does not match the declared SHA-256 checksum".into(),
                )
                .await;
            }
        }
        Ok(StoredObject {
            etag: head.e_tag().unwrap_or_default().to_owned(),
            version: head.version_id().map(str::to_owned),
            last_modified: head.last_modified().map(to_chrono).unwrap_or_else(Utc::now),
        })
    }

    async fn abort_upload(
        &self,
        bucket: Bucket,
        key: &str,
        upload_id: &str,
    ) -> Result<(), StorageError> {
        let location = self.location(bucket);
        self.abort(&location.bucket, &location.key(key), upload_id)
            .await
            .map(|_| ())
    }

    async fn read_head(
        &self,
        bucket: Bucket,
        key: &str,
        max_len: usize,
    ) -> Result<Vec<u8>, StorageError> {
        let location = self.location(bucket);
        let object = self
            .client
            .get_object()
            .bucket(&location.bucket)
            .key(location.key(key))
            .range(format!("bytes=0-{}", max_len.saturating_sub(1)))
            .send()
            .await
            .map_err(sdk_error)?;
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| StorageError::Unavailable(e.to_string()))?
            .into_bytes();
        Ok(bytes[..bytes.len().min(max_len)].to_vec())
    }

    async fn put_object(&self, object: PutObject<'_>) -> Result<StoredObject, StorageError> {
        let location = self.location(object.bucket);
        let digest = ring::digest::digest(&ring::digest::SHA256, &object.bytes);
        let put = self
            .client
            .put_object()
            .bucket(&location.bucket)
            .key(location.key(object.key))
            .content_type(object.content_type)
            .set_metadata(Some(
                object
                    .metadata
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.clone()))
                    .collect(),
            ))
            // The store checks the bytes against the digest before keeping them.
            .checksum_sha256(STANDARD.encode(digest.as_ref()))
            .body(aws_sdk_s3::primitives::ByteStream::from(object.bytes))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(StoredObject {
            etag: put.e_tag().unwrap_or_default().to_owned(),
            version: put.version_id().map(str::to_owned),
            last_modified: Utc::now(),
        })
    }

    async fn delete_object(&self, bucket: Bucket, key: &str) -> Result<(), StorageError> {
        let location = self.location(bucket);
        self.client
            .delete_object()
            .bucket(&location.bucket)
            .key(location.key(key))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    async fn presign_download(
        &self,
        bucket: Bucket,
        key: &str,
        download: DownloadAs<'_>,
    ) -> Result<PresignedRequest, StorageError> {
        let location = self.location(bucket);
        let (config, expires_at) = self.presigning()?;
        let signed = self
            .client
            .get_object()
            .bucket(&location.bucket)
            .key(location.key(key))
            .response_content_disposition(content_disposition("attachment", download.filename))
            .response_content_type(download.content_type)
            .presigned(config)
            .await
            .map_err(|e| StorageError::Internal(anyhow::anyhow!("presigning a download: {e}")))?;
        Ok(presigned(signed, expires_at))
    }

    fn public_url(&self, key: &str) -> String {
        const PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'/')
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~');
        let key = self.public.key(key);
        format!(
            "{}/{}",
            self.public_base_url,
            percent_encoding::utf8_percent_encode(&key, PATH)
        )
    }

    async fn sweep_uploads(&self, cutoff: DateTime<Utc>) -> Result<usize, StorageError> {
        let mut aborted = 0;
        // Public files sharing the private bucket are under its listing already.
        let shared = self.public.bucket == self.private.bucket;
        let locations = if shared {
            vec![&self.private]
        } else {
            vec![&self.private, &self.public]
        };
        for location in locations {
            let mut key_marker: Option<String> = None;
            let mut upload_marker: Option<String> = None;
            loop {
                let page = self
                    .client
                    .list_multipart_uploads()
                    .bucket(&location.bucket)
                    .prefix(&location.prefix)
                    .set_key_marker(key_marker.clone())
                    .set_upload_id_marker(upload_marker.clone())
                    .send()
                    .await
                    .map_err(sdk_error)?;
                for upload in page.uploads() {
                    let old = upload.initiated().is_some_and(|t| to_chrono(t) < cutoff);
                    if let (true, Some(key), Some(id)) = (old, upload.key(), upload.upload_id())
                        && self.abort(&location.bucket, key, id).await?
                    {
                        aborted += 1;
                    }
                }
                if page.is_truncated() != Some(true) {
                    break;
                }
                key_marker = page.next_key_marker().map(str::to_owned);
                upload_marker = page.next_upload_id_marker().map(str::to_owned);
            }
        }
        Ok(aborted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::ServerSecret;
    use crate::clock::Clock;
    use crate::storage::signing::UrlSigner;

    fn config() -> S3Config {
        S3Config {
            endpoint: Some("http://127.0.0.1:3900".into()),
            region: "us-east-1".into(),
            bucket: "private".into(),
            public_bucket: "public".into(),
            public_prefix: String::new(),
            access_key_id: "key".into(),
            secret_access_key: "secret".into(),
            path_style: true,
            public_base_url: "https://cdn.example.com/".into(),
        }
    }

    fn storage(config: &S3Config, ttl: Duration) -> anyhow::Result<S3Storage> {
        let signer = UrlSigner::new(ServerSecret::new(b"k".to_vec()), Clock::default(), ttl);
        S3Storage::new(config, ttl, EmptyParts::new(signer, "http://floe"))
    }

    #[test]
    fn public_files_need_their_own_bucket_or_prefix() {
        let mut shared = config();
        shared.public_bucket = shared.bucket.clone();
        assert!(shared.validate().is_err());
        shared.public_prefix = "public/".into();
        assert!(shared.validate().is_ok());
        let mut no_base = config();
        no_base.public_base_url.clear();
        assert!(no_base.validate().is_err());
    }

    #[test]
    fn presigned_urls_live_at_most_7_days() {
        assert!(storage(&config(), MAX_PRESIGN_TTL).is_ok());
        assert!(storage(&config(), MAX_PRESIGN_TTL + Duration::from_secs(1)).is_err());
        assert!(storage(&config(), Duration::ZERO).is_err());
    }

    #[test]
    fn public_urls_are_the_base_and_the_encoded_key() {
        let mut with_prefix = config();
        with_prefix.public_prefix = "media/".into();
        let storage = storage(&with_prefix, Duration::from_secs(600)).unwrap();
        assert_eq!(
            storage.public_url("product_media/org/id/logo 1 ü?.png"),
            "https://cdn.example.com/media/product_media/org/id/logo%201%20%C3%BC%3F.png"
        );
    }
}
