//! Receiving one part: the body streams to a file on a blocking thread (hashing as it
//! goes), never held in memory; only a part that arrived whole, with the announced length
//! and checksum, is recorded.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use md5::{Digest, Md5};
use tokio::sync::mpsc;

/// Chunks buffered between the network and the disk, per upload in flight. With hyper's
/// chunk sizes this bounds a part's memory to well under a megabyte.
const CHANNEL_CHUNKS: usize = 8;
const WRITE_BUFFER: usize = 1 << 20;

/// Why a part was refused.
#[derive(Debug, thiserror::Error)]
pub enum PartError {
    #[error("the body is longer than the part's {expected} bytes")]
    TooLong { expected: u64 },
    #[error("the body has {received} bytes; the part has {expected}")]
    TooShort { received: u64, expected: u64 },
    #[error("the body's SHA-256 does not match x-amz-checksum-sha256")]
    ChecksumMismatch,
    #[error("the request body could not be read: {0}")]
    Body(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A part written to disk and verified.
#[derive(Debug)]
pub struct ReceivedPart {
    pub size: u64,
    /// Hex digest, unquoted: MD5 of the bytes as S3 computes it, or, when the client
    /// sent the part's SHA-256 (which floe must compute anyway to verify it), the first
    /// 16 bytes of that, which saves hashing every byte twice.
    pub etag: String,
    pub sha256: Option<[u8; 32]>,
}

/// SHA-256 comes from `ring` (assembly): on this machine's CPU, without SHA
/// instructions, it hashes about twice as fast as the portable `sha2` crate.
enum PartHasher {
    Md5(Md5),
    Sha256(ring::digest::Context),
}

impl PartHasher {
    fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Md5(h) => h.update(bytes),
            Self::Sha256(h) => h.update(bytes),
        }
    }
}

/// Streams `body` into a new file at `path`, expecting exactly `expected` bytes and, if
/// given, this SHA-256. On any failure the file is removed.
pub async fn receive<S, E>(
    path: PathBuf,
    expected: u64,
    sha256: Option<[u8; 32]>,
    body: S,
) -> Result<ReceivedPart, PartError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let result = receive_inner(path.clone(), expected, sha256, body).await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&path).await;
    }
    result
}

async fn receive_inner<S, E>(
    path: PathBuf,
    expected: u64,
    sha256: Option<[u8; 32]>,
    mut body: S,
) -> Result<ReceivedPart, PartError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let (tx, mut rx) = mpsc::channel::<Bytes>(CHANNEL_CHUNKS);
    let writer =
        tokio::task::spawn_blocking(move || -> Result<(u64, PartHasher), std::io::Error> {
            let mut out = BufWriter::with_capacity(WRITE_BUFFER, File::create(&path)?);
            let mut hasher = match sha256 {
                Some(_) => PartHasher::Sha256(ring::digest::Context::new(&ring::digest::SHA256)),
                None => PartHasher::Md5(Md5::new()),
            };
            let mut written = 0u64;
            while let Some(chunk) = rx.blocking_recv() {
                hasher.update(&chunk);
                out.write_all(&chunk)?;
                written += chunk.len() as u64;
            }
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_data()?;
            Ok((written, hasher))
        });

    let mut received = 0u64;
    let mut failure = None;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(chunk) => {
                received += chunk.len() as u64;
                if received > expected {
                    failure = Some(PartError::TooLong { expected });
                    break;
                }
                if tx.send(chunk).await.is_err() {
                    break; // the writer failed; its error is reported below
                }
            }
            Err(e) => {
                failure = Some(PartError::Body(e.to_string()));
                break;
            }
        }
    }
    drop(tx);
    let written = writer
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    if let Some(failure) = failure {
        return Err(failure);
    }
    let (written, hasher) = written?;
    if written != expected {
        return Err(PartError::TooShort {
            received: written,
            expected,
        });
    }
    let (etag, digest) = match hasher {
        PartHasher::Md5(h) => (hex::encode(h.finalize()), None),
        PartHasher::Sha256(h) => {
            let digest: [u8; 32] = h.finish().as_ref().try_into().unwrap_or_default();
            (hex::encode(&digest[..16]), Some(digest))
        }
    };
    if digest != sha256 {
        return Err(PartError::ChecksumMismatch);
    }
    Ok(ReceivedPart {
        size: written,
        etag,
        sha256: digest,
    })
}
