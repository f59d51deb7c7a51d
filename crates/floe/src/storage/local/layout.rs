//! Where the local backend keeps things under its root, and the small JSON records beside
//! the bytes. Object keys never become paths: an object's directory is named by the
//! SHA-256 of its key, so any Unicode name (with `/`, `..`, NUL, …) is safe.
//!
//! ```text
//! {root}/{bucket}/uploads/{upload_id}/upload.json      the plan
//! {root}/{bucket}/uploads/{upload_id}/part-{n}.json    a received part
//! {root}/{bucket}/uploads/{upload_id}/p{n}-{rand}.data its bytes
//! {root}/{bucket}/incoming/{upload_id}-p{n}-{rand}     a part still arriving
//! {root}/{bucket}/objects/{hh}/{sha256(key)}/object.json + the part files
//! {root}/trash/…                                       on its way out
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rand::{RngCore, TryRngCore};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};

use crate::storage::{Bucket, PlannedPart};

pub const UPLOAD_FILE: &str = "upload.json";
pub const OBJECT_FILE: &str = "object.json";

/// The plan of an upload in progress.
#[derive(Debug, Serialize, Deserialize)]
pub struct UploadManifest {
    pub key: String,
    pub content_type: String,
    pub size: u64,
    pub created_at: DateTime<Utc>,
    pub parts: Vec<PlannedPart>,
}

/// A part that arrived whole.
#[derive(Debug, Serialize, Deserialize)]
pub struct PartRecord {
    pub number: u32,
    pub data_file: String,
    pub size: u64,
    /// Hex digest, unquoted.
    pub etag: String,
    #[serde(default, with = "crate::storage::b64_digest_serde")]
    pub sha256: Option<[u8; 32]>,
}

/// A finished object: its parts, in order, make up its bytes.
#[derive(Debug, Serialize, Deserialize)]
pub struct ObjectManifest {
    pub key: String,
    pub content_type: String,
    pub size: u64,
    /// Quoted, as S3 sends it.
    pub etag: String,
    pub upload_id: String,
    pub last_modified: DateTime<Utc>,
    pub parts: Vec<ObjectPart>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ObjectPart {
    pub data_file: String,
    pub size: u64,
}

#[derive(Clone, Debug)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    pub fn bucket(&self, bucket: Bucket) -> PathBuf {
        self.root.join(bucket.as_str())
    }

    pub fn uploads(&self, bucket: Bucket) -> PathBuf {
        self.bucket(bucket).join("uploads")
    }

    pub fn upload(&self, bucket: Bucket, upload_id: &str) -> PathBuf {
        self.uploads(bucket).join(upload_id)
    }

    pub fn incoming(&self, bucket: Bucket) -> PathBuf {
        self.bucket(bucket).join("incoming")
    }

    pub fn object(&self, bucket: Bucket, key: &str) -> PathBuf {
        let digest = hex::encode(Sha256::digest(key.as_bytes()));
        self.bucket(bucket)
            .join("objects")
            .join(&digest[..2])
            .join(digest)
    }

    pub fn trash(&self) -> PathBuf {
        self.root.join("trash")
    }

    /// Creates every directory the layout needs.
    pub fn create_dirs(&self) -> std::io::Result<()> {
        for bucket in [Bucket::Private, Bucket::Public] {
            std::fs::create_dir_all(self.uploads(bucket))?;
            std::fs::create_dir_all(self.incoming(bucket))?;
            std::fs::create_dir_all(self.bucket(bucket).join("objects"))?;
        }
        std::fs::create_dir_all(self.trash())
    }

    /// Moves `path` into the trash (atomic) and deletes it from there.
    pub fn discard(&self, path: &Path) -> std::io::Result<()> {
        let target = self.trash().join(random_name());
        match std::fs::rename(path, &target) {
            Ok(()) => std::fs::remove_dir_all(&target).or_else(|_| std::fs::remove_file(&target)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Upload IDs are 32 lowercase hex characters; anything else never reaches the disk.
pub fn is_upload_id(value: &str) -> bool {
    value.len() == 32
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// 32 hex characters from the OS RNG.
pub fn random_name() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.unwrap_err().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn read_json<T: DeserializeOwned>(path: &Path) -> std::io::Result<T> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(std::io::Error::other)
}

/// Writes `value` to `path` so that a reader sees the old file or the new one, never a
/// torn one, even across a crash: write a temporary file, sync it, rename it over.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".tmp-{}", random_name()));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(&serde_json::to_vec(value).map_err(std::io::Error::other)?)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    sync_dir(dir)
}

/// Makes a rename in `dir` durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}
