//! `floe storage check`: proves the S3 settings against the store, one step at a time,
//! and says exactly which step failed and what the store answered.

use aws_sdk_s3::primitives::ByteStream;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use super::errors::sdk_error;
use super::{Bucketed, Location, S3Config};

/// One step of the check and how it went.
pub struct Step {
    pub what: String,
    pub outcome: Result<(), String>,
}

/// Runs every step against the buckets `config` names; later steps of a bucket that cannot
/// be reached are skipped.
pub async fn check(config: &S3Config) -> Vec<Step> {
    let storage = Bucketed::connect(config);
    let mut steps = Vec::new();
    let mut locations: Vec<(&str, &Location)> = vec![("private", &storage.private)];
    locations.push(("public", &storage.public));
    for (kind, location) in locations {
        let bucket = &location.bucket;
        let reachable = step(
            &mut steps,
            format!("{kind} bucket {bucket:?} is reachable"),
            async {
                storage
                    .client
                    .head_bucket()
                    .bucket(bucket)
                    .send()
                    .await
                    .map_err(said)
                    .map(|_| ())
            },
        )
        .await;
        if !reachable {
            continue;
        }
        let key = location.key(&format!("floe-storage-check/{}", uuid::Uuid::new_v4()));
        let body = format!("floe storage check {key}");
        let written = step(&mut steps, format!("write {bucket}/{key}"), async {
            storage
                .client
                .put_object()
                .bucket(bucket)
                .key(&key)
                .body(ByteStream::from(body.clone().into_bytes()))
                .send()
                .await
                .map_err(said)
                .map(|_| ())
        })
        .await;
        if written {
            step(&mut steps, format!("read {bucket}/{key} back"), async {
                let object = storage
                    .client
                    .get_object()
                    .bucket(bucket)
                    .key(&key)
                    .send()
                    .await
                    .map_err(said)?;
                let bytes = object.body.collect().await.map_err(|e| e.to_string())?;
                if bytes.into_bytes().as_ref() == body.as_bytes() {
                    Ok(())
                } else {
                    Err("the object read back differs from what was written".into())
                }
            })
            .await;
            step(&mut steps, format!("delete {bucket}/{key}"), async {
                storage
                    .client
                    .delete_object()
                    .bucket(bucket)
                    .key(&key)
                    .send()
                    .await
                    .map_err(said)
                    .map(|_| ())
            })
            .await;
        }
        step(
            &mut steps,
            format!("start and abort a multipart upload in {bucket}"),
            async {
                let created = storage
                    .client
                    .create_multipart_upload()
                    .bucket(bucket)
                    .key(&key)
                    .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
                    .send()
                    .await
                    .map_err(said)?;
                let upload_id = created
                    .upload_id()
                    .ok_or("the store returned no upload ID")?;
                storage
                    .client
                    .abort_multipart_upload()
                    .bucket(bucket)
                    .key(&key)
                    .upload_id(upload_id)
                    .send()
                    .await
                    .map_err(said)
                    .map(|_| ())
            },
        )
        .await;
    }
    steps
}

async fn step(
    steps: &mut Vec<Step>,
    what: String,
    run: impl std::future::Future<Output = Result<(), String>>,
) -> bool {
    let outcome = run.await;
    let ok = outcome.is_ok();
    steps.push(Step { what, outcome });
    ok
}

/// What the store said, as the check prints it.
fn said<E>(error: SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    sdk_error(error).to_string()
}
