//! The local backend: objects on the filesystem under the data dir, with floe itself as
//! the S3-like endpoint. Part uploads and downloads go to floe's `/_storage/…` routes
//! ([`http`]) through URLs presigned by [`UrlSigner`].
//!
//! A part is kept as its own file, and an object is the ordered list of its part files,
//! so completing an upload is a rename rather than a copy of the whole file.
//!
//! A data dir belongs to one floe process: the locks that order part uploads against
//! completion live in memory. Several instances need a shared object store (S3).

mod http;
mod layout;
mod part;
mod read;

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use md5::{Digest, Md5};

pub use http::router;
use layout::{
    Layout, OBJECT_FILE, ObjectManifest, ObjectPart, PartRecord, UPLOAD_FILE, UploadManifest,
    is_upload_id, random_name, read_json, sync_dir, write_json_atomic,
};

use super::signing::UrlSigner;
use super::{
    Bucket, CompleteUpload, DownloadAs, NewUpload, ObjectStorage, PresignedRequest, PutObject,
    StartedUpload, StorageError, StoredObject, content_disposition, normalize_etag,
};
use crate::clock::Clock;

/// URL prefix of the routes that serve the local backend.
pub const ROUTE_PREFIX: &str = "/_storage";

pub struct LocalStorage {
    layout: Layout,
    public_url: String,
    signer: UrlSigner,
    clock: Clock,
    locks: UploadLocks,
}

impl LocalStorage {
    /// A backend rooted at `root`, handing out URLs under `public_url`.
    pub fn open(
        root: PathBuf,
        public_url: &str,
        signer: UrlSigner,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let layout = Layout::new(root);
        layout
            .create_dirs()
            .context("creating the local storage directories")?;
        Ok(Self {
            layout,
            public_url: public_url.trim_end_matches('/').to_owned(),
            signer,
            clock,
            locks: UploadLocks::default(),
        })
    }

    /// The path of an object's URL: the key, base64url-encoded, so that no client can
    /// mistake part of a file name for a path segment (a name of `..` included).
    fn object_path(bucket: Bucket, key: &str) -> String {
        format!(
            "{ROUTE_PREFIX}/{}/{}",
            bucket.as_str(),
            URL_SAFE_NO_PAD.encode(key)
        )
    }

    fn presign(
        &self,
        method: &str,
        bucket: Bucket,
        key: &str,
        params: &[(&str, &str)],
    ) -> PresignedRequest {
        let path = Self::object_path(bucket, key);
        let (query, expires_at) = self.signer.sign(method, &path, params);
        PresignedRequest {
            url: format!("{}{path}?{query}", self.public_url),
            headers: Vec::new(),
            expires_at,
        }
    }
}

#[async_trait::async_trait]
impl ObjectStorage for LocalStorage {
    async fn create_upload(&self, upload: NewUpload<'_>) -> Result<StartedUpload, StorageError> {
        let upload_id = random_name();
        let dir = self.layout.upload(upload.bucket, &upload_id);
        let manifest = UploadManifest {
            key: upload.key.to_owned(),
            content_type: upload.content_type.to_owned(),
            size: upload.size,
            created_at: self.clock.now(),
            parts: upload.parts.to_vec(),
        };
        let dir_for_write = dir.clone();
        blocking(move || {
            std::fs::create_dir(&dir_for_write)?;
            write_json_atomic(&dir_for_write.join(UPLOAD_FILE), &manifest)
        })
        .await?;

        let parts = upload
            .parts
            .iter()
            .map(|part| {
                let number = part.number.to_string();
                let mut request = self.presign(
                    "PUT",
                    upload.bucket,
                    upload.key,
                    &[("uploadId", &upload_id), ("partNumber", &number)],
                );
                if let Some(sha256) = part.sha256 {
                    request.headers = checksum_headers(&sha256);
                }
                request
            })
            .collect();
        Ok(StartedUpload { upload_id, parts })
    }

    async fn complete_upload(
        &self,
        complete: CompleteUpload<'_>,
    ) -> Result<StoredObject, StorageError> {
        if !is_upload_id(complete.upload_id) {
            return Err(StorageError::NoSuchUpload);
        }
        let lock = self.locks.get(complete.upload_id);
        let _guard = lock.lock().await;
        let upload_dir = self.layout.upload(complete.bucket, complete.upload_id);
        let object_dir = self.layout.object(complete.bucket, complete.key);
        let layout = self.layout.clone();
        let upload_id = complete.upload_id.to_owned();
        let key = complete.key.to_owned();
        let parts = complete.parts.to_vec();
        let size = complete.size;
        let sha256 = complete.sha256;
        let now = self.clock.now();
        let result = blocking(move || {
            assemble(
                &layout,
                &upload_dir,
                &object_dir,
                &upload_id,
                &key,
                &parts,
                size,
                sha256,
                now,
            )
        })
        .await;
        if result.is_ok() {
            self.locks.forget(complete.upload_id);
        }
        result
    }

    async fn abort_upload(
        &self,
        bucket: Bucket,
        _key: &str,
        upload_id: &str,
    ) -> Result<(), StorageError> {
        if !is_upload_id(upload_id) {
            return Ok(());
        }
        let lock = self.locks.get(upload_id);
        let _guard = lock.lock().await;
        let layout = self.layout.clone();
        let dir = layout.upload(bucket, upload_id);
        blocking(move || layout.discard(&dir)).await?;
        self.locks.forget(upload_id);
        Ok(())
    }

    async fn put_object(&self, object: PutObject<'_>) -> Result<StoredObject, StorageError> {
        // Written as a finished upload directory (its bytes, then its manifest), which then
        // becomes the object by one rename, as a completed upload does: a reader sees the
        // old object or the new one, never half of one.
        let upload_id = random_name();
        let staging = self.layout.upload(object.bucket, &upload_id);
        let object_dir = self.layout.object(object.bucket, object.key);
        let layout = self.layout.clone();
        let key = object.key.to_owned();
        let content_type = object.content_type.to_owned();
        let bytes = object.bytes;
        let now = self.clock.now();
        blocking(move || -> std::io::Result<StoredObject> {
            std::fs::create_dir(&staging)?;
            let data_file = format!("p1-{}.data", random_name());
            let mut file = std::fs::File::create(staging.join(&data_file))?;
            std::io::Write::write_all(&mut file, &bytes)?;
            file.sync_data()?;
            let etag = format!("\"{}\"", hex::encode(Md5::digest(&bytes)));
            let manifest = ObjectManifest {
                key,
                content_type,
                size: bytes.len() as u64,
                etag: etag.clone(),
                upload_id,
                last_modified: now,
                parts: vec![ObjectPart {
                    data_file,
                    size: bytes.len() as u64,
                }],
            };
            write_json_atomic(&staging.join(OBJECT_FILE), &manifest)?;
            if let Some(parent) = object_dir.parent() {
                std::fs::create_dir_all(parent)?;
            }
            layout.discard(&object_dir)?;
            std::fs::rename(&staging, &object_dir)?;
            if let Some(parent) = object_dir.parent() {
                sync_dir(parent)?;
            }
            Ok(StoredObject {
                etag,
                version: None,
                last_modified: now,
            })
        })
        .await
    }

    async fn read_head(
        &self,
        bucket: Bucket,
        key: &str,
        max_len: usize,
    ) -> Result<Vec<u8>, StorageError> {
        let dir = self.layout.object(bucket, key);
        blocking(move || -> std::io::Result<Vec<u8>> {
            let manifest: ObjectManifest = read_json(&dir.join(OBJECT_FILE))?;
            let mut head = Vec::with_capacity(max_len.min(manifest.size as usize));
            for part in &manifest.parts {
                let remaining = max_len - head.len();
                if remaining == 0 {
                    break;
                }
                std::fs::File::open(dir.join(&part.data_file))?
                    .take(remaining as u64)
                    .read_to_end(&mut head)?;
            }
            Ok(head)
        })
        .await
    }

    async fn delete_object(&self, bucket: Bucket, key: &str) -> Result<(), StorageError> {
        let layout = self.layout.clone();
        let dir = layout.object(bucket, key);
        blocking(move || layout.discard(&dir)).await
    }

    async fn presign_download(
        &self,
        bucket: Bucket,
        key: &str,
        download: DownloadAs<'_>,
    ) -> Result<PresignedRequest, StorageError> {
        let disposition = content_disposition("attachment", download.filename);
        Ok(self.presign(
            "GET",
            bucket,
            key,
            &[
                ("response-content-disposition", &disposition),
                ("response-content-type", download.content_type),
            ],
        ))
    }

    fn public_url(&self, key: &str) -> String {
        format!(
            "{}{}",
            self.public_url,
            Self::object_path(Bucket::Public, key)
        )
    }

    async fn sweep_uploads(&self, cutoff: DateTime<Utc>) -> Result<usize, StorageError> {
        // Plans carry business time; file modification times are real time.
        let real_cutoff = Utc::now() - (self.clock.now() - cutoff);
        let mut removed = 0;
        for bucket in [Bucket::Private, Bucket::Public] {
            let uploads = self.layout.uploads(bucket);
            let entries = blocking(move || -> std::io::Result<Vec<String>> {
                let mut stale = Vec::new();
                for entry in std::fs::read_dir(&uploads)? {
                    let entry = entry?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let manifest: std::io::Result<UploadManifest> =
                        read_json(&entry.path().join(UPLOAD_FILE));
                    let is_stale = match manifest {
                        Ok(manifest) => manifest.created_at < cutoff,
                        // No readable plan: a create that never finished.
                        Err(_) => is_older_than(&entry.path(), real_cutoff),
                    };
                    if is_stale {
                        stale.push(name);
                    }
                }
                Ok(stale)
            })
            .await?;
            for upload_id in entries {
                self.abort_upload(bucket, "", &upload_id).await?;
                removed += 1;
            }
            let incoming = self.layout.incoming(bucket);
            blocking(move || -> std::io::Result<()> {
                for entry in std::fs::read_dir(&incoming)? {
                    let path = entry?.path();
                    if is_older_than(&path, real_cutoff) {
                        let _ = std::fs::remove_file(&path);
                    }
                }
                Ok(())
            })
            .await?;
        }
        Ok(removed)
    }
}

/// Headers a client must send with a part whose SHA-256 it declared, as S3 signs them.
fn checksum_headers(sha256: &[u8; 32]) -> Vec<(String, String)> {
    vec![
        (
            "x-amz-checksum-sha256".to_owned(),
            base64::engine::general_purpose::STANDARD.encode(sha256),
        ),
        (
            "x-amz-sdk-checksum-algorithm".to_owned(),
            "SHA256".to_owned(),
        ),
    ]
}

/// Verifies the parts a client names and turns the upload into the object.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site, each argument distinct"
)]
fn assemble(
    layout: &Layout,
    upload_dir: &std::path::Path,
    object_dir: &std::path::Path,
    upload_id: &str,
    key: &str,
    parts: &[super::CompletedPart],
    size: u64,
    sha256: Option<[u8; 32]>,
    now: DateTime<Utc>,
) -> Result<StoredObject, StorageError> {
    let manifest: UploadManifest = match read_json(&upload_dir.join(UPLOAD_FILE)) {
        Ok(manifest) => manifest,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Completed before (a retry after a lost response) or never started.
            return match read_json::<ObjectManifest>(&object_dir.join(OBJECT_FILE)) {
                Ok(object) if object.upload_id == upload_id => Ok(StoredObject {
                    etag: object.etag,
                    version: None,
                    last_modified: object.last_modified,
                }),
                _ => Err(StorageError::NoSuchUpload),
            };
        }
        Err(e) => return Err(e.into()),
    };
    if manifest.key != key {
        return Err(StorageError::NoSuchUpload);
    }

    let mut records = Vec::with_capacity(parts.len());
    for part in parts {
        let record: PartRecord =
            match read_json(&upload_dir.join(format!("part-{}.json", part.number))) {
                Ok(record) => record,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(StorageError::InvalidPart {
                        number: part.number,
                        reason: "this part was never uploaded".to_owned(),
                    });
                }
                Err(e) => return Err(e.into()),
            };
        if normalize_etag(&part.etag) != record.etag {
            return Err(StorageError::InvalidPart {
                number: part.number,
                reason: "the ETag does not match the uploaded part".to_owned(),
            });
        }
        if part.sha256.is_some() && part.sha256 != record.sha256 {
            return Err(StorageError::InvalidPart {
                number: part.number,
                reason: "checksum_sha256_base64 does not match the uploaded part".to_owned(),
            });
        }
        records.push(record);
    }
    let total: u64 = records.iter().map(|r| r.size).sum();
    if total != size || total != manifest.size {
        return Err(StorageError::Rejected(format!(
            "The parts add up to {total} bytes; the file was declared with {size}."
        )));
    }
    if let Some(expected) = sha256 {
        let mut hasher = ring::digest::Context::new(&ring::digest::SHA256);
        let mut buffer = vec![0u8; 1 << 20];
        for record in &records {
            let mut file = std::fs::File::open(upload_dir.join(&record.data_file))?;
            loop {
                let n = file.read(&mut buffer)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buffer[..n]);
            }
        }
        let actual = hasher.finish();
        if actual.as_ref() != expected.as_slice() {
            return Err(StorageError::Rejected(
                "The uploaded file's SHA-256 does not match checksum_sha256_base64.".to_owned(),
            ));
        }
    }

    let etag = multipart_etag(records.iter().map(|r| r.etag.as_str()));
    let object = ObjectManifest {
        key: key.to_owned(),
        content_type: manifest.content_type,
        size,
        etag: etag.clone(),
        upload_id: upload_id.to_owned(),
        last_modified: now,
        parts: records
            .iter()
            .map(|r| ObjectPart {
                data_file: r.data_file.clone(),
                size: r.size,
            })
            .collect(),
    };
    // Drop what the object does not need (part records, bytes of superseded parts), so
    // the upload directory becomes the object directory by one rename.
    let keep: std::collections::HashSet<&str> =
        records.iter().map(|r| r.data_file.as_str()).collect();
    for entry in std::fs::read_dir(upload_dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !keep.contains(name.as_str()) {
            std::fs::remove_file(entry.path())?;
        }
    }
    write_json_atomic(&upload_dir.join(OBJECT_FILE), &object)?;
    if let Some(parent) = object_dir.parent() {
        std::fs::create_dir_all(parent)?;
    }
    layout.discard(object_dir)?;
    std::fs::rename(upload_dir, object_dir)?;
    if let Some(parent) = object_dir.parent() {
        sync_dir(parent)?;
    }
    Ok(StoredObject {
        etag,
        version: None,
        last_modified: now,
    })
}

/// S3's ETag of a multipart object: the MD5 of the parts' binary digests, then `-N`.
fn multipart_etag<'a>(part_etags: impl ExactSizeIterator<Item = &'a str>) -> String {
    let count = part_etags.len();
    let mut md5 = Md5::new();
    for etag in part_etags {
        md5.update(hex::decode(etag).unwrap_or_default());
    }
    format!("\"{}-{count}\"", hex::encode(md5.finalize()))
}

fn is_older_than(path: &std::path::Path, cutoff: DateTime<Utc>) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map(|modified| DateTime::<Utc>::from(modified) < cutoff)
        .unwrap_or(false)
}

async fn blocking<T, E>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, StorageError>
where
    T: Send + 'static,
    E: Into<StorageError> + Send + 'static,
{
    tokio::task::spawn_blocking(move || work().map_err(Into::into))
        .await
        .map_err(|e| StorageError::Internal(anyhow::anyhow!("storage task failed: {e}")))?
}

/// One lock per upload in flight: recording a part and completing or aborting the upload
/// exclude each other, so a completion never sees half of a part's replacement.
#[derive(Default)]
struct UploadLocks(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl UploadLocks {
    fn get(&self, upload_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(upload_id.to_owned()).or_default().clone()
    }

    fn forget(&self, upload_id: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(upload_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(root: &std::path::Path) -> LocalStorage {
        let signer = UrlSigner::new(
            crate::auth::ServerSecret::new(b"k".to_vec()),
            Clock::default(),
            std::time::Duration::from_secs(60),
        );
        LocalStorage::open(
            root.to_owned(),
            "http://floe.test",
            signer,
            Clock::default(),
        )
        .expect("local storage")
    }

    #[tokio::test]
    async fn a_put_object_replaces_the_object_whole() {
        let root = tempfile::tempdir().expect("tempdir");
        let storage = storage(root.path());
        for content in [&b"%PDF-first"[..], &b"%PDF-the second, longer"[..]] {
            let stored = storage
                .put_object(PutObject {
                    bucket: Bucket::Private,
                    key: "order-documents/a/b/invoice.pdf",
                    content_type: "application/pdf",
                    bytes: content.to_vec(),
                    metadata: Vec::new(),
                })
                .await
                .expect("put");
            assert_eq!(
                stored.etag,
                format!("\"{}\"", hex::encode(Md5::digest(content)))
            );
            let head = storage
                .read_head(Bucket::Private, "order-documents/a/b/invoice.pdf", 1024)
                .await
                .expect("read");
            assert_eq!(head, content);
        }
        // Nothing is left among the uploads in progress (the sweep would find nothing).
        let uploads = std::fs::read_dir(storage.layout.uploads(Bucket::Private))
            .expect("uploads dir")
            .count();
        assert_eq!(uploads, 0);
    }

    #[test]
    fn multipart_etag_is_md5_of_part_digests() {
        // Two parts whose MD5s are those of "a" and "b".
        let a = hex::encode(Md5::digest(b"a"));
        let b = hex::encode(Md5::digest(b"b"));
        let mut concat = Md5::digest(b"a").to_vec();
        concat.extend_from_slice(&Md5::digest(b"b"));
        let expected = format!("\"{}-2\"", hex::encode(Md5::digest(&concat)));
        assert_eq!(
            multipart_etag([a.as_str(), b.as_str()].into_iter()),
            expected
        );
    }
}
