//! Putting a generated PDF into the private bucket through [`ObjectStorage`]'s own calls:
//! a one-part upload, the part sent to its presigned URL as any client would send it, then
//! completed. The trait has no server-side put, and this path works the same on the local
//! backend (floe's own `/_storage` route, at `public_url`) and on S3.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::storage::{
    Bucket, CompleteUpload, CompletedPart, NewUpload, ObjectStorage, PlannedPart,
};

const PUT_TIMEOUT: Duration = Duration::from_secs(60);

/// Stores `bytes` as a PDF under `key` in the private bucket.
pub async fn put_pdf(
    storage: &dyn ObjectStorage,
    key: &str,
    bytes: Vec<u8>,
    metadata: Vec<(&'static str, String)>,
) -> anyhow::Result<()> {
    let size = bytes.len() as u64;
    let sha256: [u8; 32] = Sha256::digest(&bytes).into();
    let planned = [PlannedPart {
        number: 1,
        start: 0,
        end: size,
        sha256: Some(sha256),
    }];
    let started = storage
        .create_upload(NewUpload {
            bucket: Bucket::Private,
            key,
            content_type: "application/pdf",
            size,
            parts: &planned,
            metadata,
        })
        .await?;
    let result = send_part(&started.parts, bytes).await;
    let etag = match result {
        Ok(etag) => etag,
        Err(error) => {
            let _ = storage
                .abort_upload(Bucket::Private, key, &started.upload_id)
                .await;
            return Err(error);
        }
    };
    storage
        .complete_upload(CompleteUpload {
            bucket: Bucket::Private,
            key,
            upload_id: &started.upload_id,
            parts: &[CompletedPart {
                number: 1,
                etag,
                sha256: Some(sha256),
            }],
            planned: &planned,
            size,
            sha256: Some(sha256),
        })
        .await?;
    Ok(())
}

/// PUTs the one part to its presigned URL; returns its ETag.
async fn send_part(
    parts: &[crate::storage::PresignedRequest],
    bytes: Vec<u8>,
) -> anyhow::Result<String> {
    let part = parts
        .first()
        .ok_or_else(|| anyhow::anyhow!("the store presigned no part"))?;
    let client = reqwest::Client::builder().timeout(PUT_TIMEOUT).build()?;
    let mut request = client.put(&part.url).body(bytes);
    for (name, value) in &part.headers {
        request = request.header(name, value);
    }
    let response = request.send().await?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        anyhow::bail!("the part upload answered {status}: {body}");
    }
    response
        .headers()
        .get(reqwest::header::ETAG)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("the part upload returned no ETag"))
}
