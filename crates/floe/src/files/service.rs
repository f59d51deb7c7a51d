//! The rules of files: what a valid upload is, how one completes, what deleting means.
//! No HTTP here: handlers in `routes` call these with an authenticated organization.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use uuid::Uuid;

use super::content;
use super::entity::Model;
use super::plan;
use super::schema::{
    FileCreate, FileDownload, FilePatch, FileRead, FileServiceTypes, FileUpload,
    FileUploadCompleted, S3FileUploadPart, service_of,
};
use super::store;
use crate::app::AppState;
use crate::http::{ApiError, ApiResult, Loc, Validator};
use crate::storage::{
    CompleteUpload, CompletedPart, DownloadAs, NewUpload, PlannedPart, StorageError,
};

/// Longest file name, in characters; it becomes part of the object key.
const MAX_NAME_CHARS: usize = 255;
const MAX_VERSION_CHARS: usize = 255;
const MAX_MIME_CHARS: usize = 255;

/// Image types accepted for product media and avatars.
const IMAGE_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/svg+xml",
];
/// Types accepted for support-case attachments.
const SUPPORT_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "application/pdf",
    "text/csv",
    "text/plain",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
];

struct ServiceRules {
    /// The accepted MIME types and the pattern the spec gives for them; `None`: any.
    mime_types: Option<(&'static [&'static str], &'static str)>,
    max_size: Option<i64>,
    /// Whether the bytes must be an image of the declared type.
    check_image: bool,
}

fn rules(service: FileServiceTypes) -> ServiceRules {
    const IMAGE_PATTERN: &str = r"^image\/(jpeg|png|gif|webp|svg\+xml)$";
    match service {
        FileServiceTypes::Downloadable => ServiceRules {
            mime_types: None,
            max_size: None,
            check_image: false,
        },
        FileServiceTypes::ProductMedia => ServiceRules {
            mime_types: Some((IMAGE_TYPES, IMAGE_PATTERN)),
            max_size: Some(10 * 1024 * 1024),
            check_image: true,
        },
        FileServiceTypes::OrganizationAvatar => ServiceRules {
            mime_types: Some((IMAGE_TYPES, IMAGE_PATTERN)),
            max_size: Some(1024 * 1024),
            check_image: true,
        },
        FileServiceTypes::SupportCaseAttachment => ServiceRules {
            mime_types: Some((
                SUPPORT_TYPES,
                "one of the supported document, image and video types",
            )),
            max_size: Some(250 * 1024 * 1024),
            check_image: false,
        },
    }
}

fn check_name(name: &str, loc: Loc, validator: &mut Validator) {
    let chars = name.chars().count();
    if chars == 0 {
        validator.push(
            loc,
            "string_too_short",
            "String should have at least 1 character",
            json!(name),
        );
    } else if chars > MAX_NAME_CHARS {
        validator.push(
            loc,
            "string_too_long",
            format!("String should have at most {MAX_NAME_CHARS} characters"),
            json!(name),
        );
    }
}

fn check_version(version: Option<&str>, loc: Loc, validator: &mut Validator) {
    if let Some(version) = version
        && version.chars().count() > MAX_VERSION_CHARS
    {
        validator.push(
            loc,
            "string_too_long",
            format!("String should have at most {MAX_VERSION_CHARS} characters"),
            json!(version),
        );
    }
}

/// `files:create`: plans the upload, presigns its parts and records the file.
pub async fn create(
    app: &AppState,
    organization_id: Uuid,
    body: FileCreate,
) -> ApiResult<FileUpload> {
    let body_loc = Loc::body().key(body.service.as_str());
    let mut validator = Validator::new();
    validator.reject_organization_id(body.organization_id);
    let rules = rules(body.service);
    check_name(&body.name, body_loc.key("name"), &mut validator);
    check_version(
        body.version.as_deref(),
        body_loc.key("version"),
        &mut validator,
    );
    match rules.mime_types {
        Some((allowed, pattern)) if !allowed.contains(&body.mime_type.as_str()) => validator.push(
            body_loc.key("mime_type"),
            "string_pattern_mismatch",
            format!("String should match pattern '{pattern}'"),
            json!(body.mime_type),
        ),
        _ => {}
    }
    // The type ends up in Content-Type headers: printable ASCII only.
    if body.mime_type.is_empty()
        || body.mime_type.len() > MAX_MIME_CHARS
        || !body.mime_type.contains('/')
        || !body.mime_type.bytes().all(|b| (0x20..0x7f).contains(&b))
    {
        validator.push(
            body_loc.key("mime_type"),
            "value_error",
            "Value should be a MIME type such as application/zip",
            json!(body.mime_type),
        );
    }
    if body.size <= 0 {
        validator.push(
            body_loc.key("size"),
            "greater_than",
            "Input should be greater than 0",
            json!(body.size),
        );
    } else if let Some(max) = rules.max_size
        && body.size > max
    {
        validator.push(
            body_loc.key("size"),
            "less_than_equal",
            format!("Input should be less than or equal to {max}"),
            json!(body.size),
        );
    }
    let sha256 = plan::checked_sha256(
        body.checksum_sha256_base64.as_deref(),
        body_loc.clone(),
        &mut validator,
    );
    let parts = if body.size > 0 {
        plan::validate(body.size, &body.upload.parts, &mut validator)
    } else {
        None
    };
    if let Some(parts) = &parts
        && let Err(reason) = app.storage.check_plan(parts)
    {
        validator.push(
            body_loc.key("upload").key("parts"),
            "value_error",
            reason,
            json!(body.upload.parts.len()),
        );
    }
    validator.finish()?;
    let parts =
        parts.ok_or_else(|| ApiError::internal(anyhow::anyhow!("validated plan missing")))?;

    let id = Uuid::new_v4();
    let path = format!(
        "{}/{organization_id}/{id}/{}",
        body.service.as_str(),
        key_name(&body.name)
    );
    let started = app
        .storage
        .create_upload(NewUpload {
            bucket: body.service.bucket(),
            key: &path,
            content_type: &body.mime_type,
            size: body.size as u64,
            parts: &parts,
            metadata: object_metadata(id, organization_id, &body.name, body.size, sha256),
        })
        .await
        .map_err(storage_error)?;

    let row = Model {
        id,
        created_at: app.clock.now(),
        modified_at: None,
        deleted_at: None,
        organization_id,
        service: body.service.as_str().to_owned(),
        name: body.name,
        path,
        mime_type: body.mime_type,
        size: body.size,
        version: body.version,
        storage_version: None,
        checksum_etag: None,
        checksum_sha256_base64: sha256.map(|d| STANDARD.encode(d)),
        checksum_sha256_hex: sha256.map(hex::encode),
        last_modified_at: None,
        is_uploaded: false,
        flagged_malicious_at: None,
        upload_id: started.upload_id.clone(),
        upload_plan: serde_json::to_string(&parts).map_err(ApiError::internal)?,
        storage_purged_at: None,
    };
    let key = row.path.clone();
    let row = match store::insert(&app.db, row).await {
        Ok(row) => row,
        Err(error) => {
            // Nothing refers to the upload: give it back now rather than at the sweep.
            let _ = app
                .storage
                .abort_upload(body.service.bucket(), &key, &started.upload_id)
                .await;
            return Err(error.into());
        }
    };

    let upload_parts = parts
        .iter()
        .zip(started.parts)
        .map(|(planned, presigned)| S3FileUploadPart {
            number: planned.number,
            chunk_start: planned.start,
            chunk_end: planned.end,
            checksum_sha256_base64: planned.sha256.map(|d| STANDARD.encode(d)),
            url: presigned.url,
            expires_at: presigned.expires_at,
            headers: presigned.headers.into_iter().collect(),
        })
        .collect();
    Ok(FileUpload::new(&row, upload_parts))
}

/// `files:uploaded`: checks the parts the client names against the plan, has the store
/// assemble them, and marks the file uploaded. Completing an uploaded file again returns
/// it unchanged, so a client may retry after a lost response.
pub async fn complete(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    body: FileUploadCompleted,
) -> ApiResult<FileRead> {
    let row = find(app, organization_id, id).await?;
    if row.is_uploaded {
        return Ok(FileRead::from_row(&row, app.storage.as_ref()));
    }
    let service = service_of(&row);
    let planned: Vec<PlannedPart> =
        serde_json::from_str(&row.upload_plan).map_err(ApiError::internal)?;

    let mut validator = Validator::new();
    if body.id != row.upload_id {
        validator.push(
            Loc::body().key("id"),
            "value_error",
            "Value should be the upload's id, as files:create returned it",
            json!(body.id),
        );
    }
    if body.path != row.path {
        validator.push(
            Loc::body().key("path"),
            "value_error",
            "Value should be the upload's path, as files:create returned it",
            json!(body.path),
        );
    }
    let parts_loc = Loc::body().key("parts");
    let mut named = vec![false; planned.len()];
    let mut completed = Vec::with_capacity(body.parts.len());
    for (index, part) in body.parts.iter().enumerate() {
        let loc = parts_loc.index(index);
        let slot = usize::try_from(part.number)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .filter(|i| *i < planned.len());
        match slot {
            None => validator.push(
                loc.key("number"),
                "value_error",
                format!("The upload has parts 1 to {}", planned.len()),
                json!(part.number),
            ),
            Some(i) if named[i] => validator.push(
                loc.key("number"),
                "value_error",
                "This part is named twice",
                json!(part.number),
            ),
            Some(i) => named[i] = true,
        }
        if part.checksum_etag.trim().trim_matches('"').is_empty() {
            validator.push(
                loc.key("checksum_etag"),
                "value_error",
                "Value should be the ETag the part's upload returned",
                json!(part.checksum_etag),
            );
        }
        let sha256 =
            plan::checked_sha256(part.checksum_sha256_base64.as_deref(), loc, &mut validator);
        completed.push(CompletedPart {
            number: u32::try_from(part.number).unwrap_or(0),
            etag: part.checksum_etag.clone(),
            sha256,
        });
    }
    let missing: Vec<String> = named
        .iter()
        .enumerate()
        .filter(|(_, named)| !**named)
        .map(|(i, _)| (i + 1).to_string())
        .collect();
    if !missing.is_empty() && validator.is_empty() {
        validator.push(
            parts_loc.clone(),
            "value_error",
            format!(
                "Every planned part must be named; missing: {}",
                missing.join(", ")
            ),
            Value::Null,
        );
    }
    validator.finish()?;
    completed.sort_by_key(|p| p.number);

    let declared_sha256 = row
        .checksum_sha256_base64
        .as_deref()
        .and_then(plan::decode_sha256);
    let stored = app
        .storage
        .complete_upload(CompleteUpload {
            bucket: service.bucket(),
            key: &row.path,
            upload_id: &row.upload_id,
            parts: &completed,
            planned: &planned,
            size: row.size as u64,
            sha256: declared_sha256,
        })
        .await
        .map_err(|error| match error {
            StorageError::InvalidPart { number, reason } => {
                let index = body
                    .parts
                    .iter()
                    .position(|p| p.number == i64::from(number))
                    .unwrap_or(0);
                ApiError::validation(
                    parts_loc.index(index).key("checksum_etag"),
                    "value_error",
                    format!("Part {number}: {reason}"),
                    json!(body.parts.get(index).map(|p| p.checksum_etag.clone())),
                )
            }
            StorageError::Rejected(reason) => {
                ApiError::validation(Loc::body(), "value_error", reason, Value::Null)
            }
            StorageError::NoSuchUpload => ApiError::validation(
                Loc::body().key("id"),
                "value_error",
                "The upload no longer exists (it expired or was aborted); create the file again",
                json!(body.id),
            ),
            other => storage_error(other),
        })?;

    if rules(service).check_image {
        let head = app
            .storage
            .read_head(service.bucket(), &row.path, content::HEAD_LEN)
            .await
            .map_err(storage_error)?;
        if !content::is_image_of_type(&row.mime_type, &head) {
            discard(app, &row).await;
            return Err(ApiError::validation(
                Loc::body(),
                "value_error",
                format!(
                    "The uploaded bytes are not a {} image; the file was discarded. Upload a real image as a new file.",
                    row.mime_type
                ),
                Value::Null,
            ));
        }
    }

    // Conditional on the file being live and not yet uploaded: a concurrent completion
    // or delete wins, and the reread below tells which.
    store::mark_uploaded(
        &app.db,
        row.id,
        &stored.etag,
        stored.version.as_deref(),
        stored.last_modified,
        app.clock.now(),
    )
    .await?;
    match store::get(&app.reader, organization_id, id).await? {
        Some(current) => Ok(FileRead::from_row(&current, app.storage.as_ref())),
        None => {
            // Deleted while completing: the object must not outlive its file.
            purge(app, &row).await;
            Err(not_found())
        }
    }
}

/// `files:update`: renames a file or sets its version.
pub async fn update(
    app: &AppState,
    organization_id: Uuid,
    id: Uuid,
    patch: FilePatch,
) -> ApiResult<FileRead> {
    let row = find(app, organization_id, id).await?;
    ensure_mutable(&row)?;
    let mut validator = Validator::new();
    // As in Polar, an empty name leaves the name unchanged.
    let name = patch.name.filter(|n| !n.is_empty());
    if let Some(name) = &name {
        check_name(name, Loc::body().key("name"), &mut validator);
    }
    check_version(
        patch.version.as_deref(),
        Loc::body().key("version"),
        &mut validator,
    );
    validator.finish()?;
    let version = patch.version.filter(|v| !v.is_empty());
    if name.is_none() && version.is_none() {
        return Ok(FileRead::from_row(&row, app.storage.as_ref()));
    }
    let row = store::update_name_version(&app.db, row, name, version, app.clock.now()).await?;
    Ok(FileRead::from_row(&row, app.storage.as_ref()))
}

/// `files:delete`: the file is gone at once; its bytes leave storage now, or at the next
/// sweep if the store is unreachable.
pub async fn delete(app: &AppState, organization_id: Uuid, id: Uuid) -> ApiResult<()> {
    let row = find(app, organization_id, id).await?;
    ensure_mutable(&row)?;
    if !store::mark_deleted(&app.db, row.id, app.clock.now()).await? {
        return Err(not_found());
    }
    purge(app, &row).await;
    Ok(())
}

/// `GET /v1/files/{id}/download`: a presigned URL for an uploaded file.
pub async fn download(app: &AppState, organization_id: Uuid, id: Uuid) -> ApiResult<FileDownload> {
    let row = find(app, organization_id, id).await?;
    if !row.is_uploaded {
        return Err(not_found());
    }
    if row.flagged_malicious_at.is_some() {
        return Err(ApiError::NotPermitted(
            "This file has been flagged as malicious and cannot be downloaded.".to_owned(),
        ));
    }
    let service = service_of(&row);
    if service == FileServiceTypes::SupportCaseAttachment {
        return Err(ApiError::NotPermitted(
            "Support case attachments cannot be downloaded through the files API.".to_owned(),
        ));
    }
    let presigned = app
        .storage
        .presign_download(
            service.bucket(),
            &row.path,
            DownloadAs {
                filename: &row.name,
                content_type: &row.mime_type,
            },
        )
        .await
        .map_err(storage_error)?;
    Ok(FileDownload::new(&row, presigned))
}

async fn find(app: &AppState, organization_id: Uuid, id: Uuid) -> ApiResult<Model> {
    store::get(&app.reader, organization_id, id)
        .await?
        .ok_or_else(not_found)
}

fn not_found() -> ApiError {
    ApiError::ResourceNotFound("File not found.".to_owned())
}

/// Support-case attachments are part of the case's record, as in Polar.
fn ensure_mutable(row: &Model) -> ApiResult<()> {
    if service_of(row) == FileServiceTypes::SupportCaseAttachment {
        return Err(ApiError::NotPermitted(
            "Support case attachments cannot be modified or deleted through the files API."
                .to_owned(),
        ));
    }
    Ok(())
}

/// Marks a file deleted and removes its bytes (used when its content is refused).
async fn discard(app: &AppState, row: &Model) {
    if let Err(error) = store::mark_deleted(&app.db, row.id, app.clock.now()).await {
        tracing::warn!(file_id = %row.id, %error, "could not mark a refused file deleted");
    }
    purge(app, row).await;
}

/// Removes a deleted file's object (or its unfinished upload) and records that it is gone.
/// On failure the file stays unpurged and the sweep tries again. Returns whether it is gone.
pub async fn purge(app: &AppState, row: &Model) -> bool {
    let bucket = service_of(row).bucket();
    // Whatever state the file was in, make sure neither an object nor an upload remains.
    let result = async {
        app.storage
            .abort_upload(bucket, &row.path, &row.upload_id)
            .await?;
        app.storage.delete_object(bucket, &row.path).await
    }
    .await;
    if let Err(error) = result {
        tracing::warn!(file_id = %row.id, %error, "purge deferred to the sweep");
        return false;
    }
    match store::mark_purged(&app.db, row.id, app.clock.now()).await {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(file_id = %row.id, %error, "could not record a purge");
            false
        }
    }
}

/// The object's metadata, under Polar's names. Header values carry printable ASCII only, so
/// the name keeps just those characters (Polar drops the non-ASCII ones too).
fn object_metadata(
    id: Uuid,
    organization_id: Uuid,
    name: &str,
    size: i64,
    sha256: Option<[u8; 32]>,
) -> Vec<(&'static str, String)> {
    let mut metadata = vec![
        ("polar-id", id.to_string()),
        ("polar-organization-id", organization_id.to_string()),
        (
            "polar-name",
            name.chars()
                .filter(|c| matches!(c, ' '..='~'))
                .collect::<String>()
                .trim()
                .to_owned(),
        ),
        ("polar-size", size.to_string()),
    ];
    if let Some(digest) = sha256 {
        metadata.push(("polar-sha256-base64", STANDARD.encode(digest)));
        metadata.push(("polar-sha256-hex", hex::encode(digest)));
    }
    metadata
}

/// The file name as the last part of its object key. Any name is kept as given, except
/// `.` and `..` segments: HTTP clients resolve those in a URL's path (`a/../b` becomes
/// `b`), so a presigned URL to such a key would reach another key and fail its signature.
fn key_name(name: &str) -> String {
    name.split('/')
        .map(|segment| match segment {
            "." | ".." => "_",
            other => other,
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn storage_error(error: StorageError) -> ApiError {
    match error {
        StorageError::Unavailable(reason) => ApiError::Unavailable(reason),
        StorageError::Timeout(reason) => ApiError::UpstreamTimeout(reason),
        StorageError::NoSuchUpload => {
            ApiError::BadRequest("The upload no longer exists.".to_owned())
        }
        StorageError::InvalidPart { number, reason } => {
            ApiError::BadRequest(format!("Part {number}: {reason}"))
        }
        StorageError::Rejected(reason) => ApiError::BadRequest(reason),
        StorageError::Internal(error) => ApiError::Internal(error),
    }
}
