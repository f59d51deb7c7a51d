//! Handlers of the files API. Each authenticates, parses, and hands over to `service`.

use axum::extract::State;
use axum::http::StatusCode;

use super::schema::{
    FileCreate, FileDownload, FilePatch, FileRead, FileUpload, FileUploadCompleted,
};
use super::{service, store};
use crate::app::AppState;
use crate::auth::{Authorized, RequiredScopes, Scope};
use crate::http::{ApiResult, IdPath, Json, ListResource, Pagination, QueryParams};

/// `files:read` or `files:write`.
pub struct FilesRead;

impl RequiredScopes for FilesRead {
    const SCOPES: &'static [Scope] = &[Scope::FilesRead, Scope::FilesWrite];
}

/// `files:write`.
pub struct FilesWrite;

impl RequiredScopes for FilesWrite {
    const SCOPES: &'static [Scope] = &[Scope::FilesWrite];
}

/// `files:list`: uploaded files, newest first, filtered by `organization_id` and `ids`.
pub async fn list(
    auth: Authorized<FilesRead>,
    State(app): State<AppState>,
    query: QueryParams,
) -> ApiResult<axum::Json<ListResource<FileRead>>> {
    let pagination = Pagination::from_query(&query)?;
    let filter = store::ListFilter {
        organization_ids: query.uuids("organization_id")?,
        ids: query.uuids("ids")?,
    };
    let (rows, total) = store::list(&app.reader, auth.organization_id, &filter, pagination).await?;
    let items = rows
        .iter()
        .map(|row| FileRead::from_row(row, app.storage.as_ref()))
        .collect();
    Ok(axum::Json(ListResource::new(items, total, pagination)))
}

/// `files:create`: a file and its upload plan, one presigned URL per part.
pub async fn create(
    auth: Authorized<FilesWrite>,
    State(app): State<AppState>,
    Json(body): Json<FileCreate>,
) -> ApiResult<(StatusCode, axum::Json<FileUpload>)> {
    let upload = service::create(&app, auth.organization_id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(upload)))
}

/// `files:uploaded`: completes an upload from its parts' ETags.
pub async fn uploaded(
    auth: Authorized<FilesWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(body): Json<FileUploadCompleted>,
) -> ApiResult<axum::Json<FileRead>> {
    Ok(axum::Json(
        service::complete(&app, auth.organization_id, id, body).await?,
    ))
}

/// `files:update`: renames a file or sets its version.
pub async fn update(
    auth: Authorized<FilesWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
    Json(patch): Json<FilePatch>,
) -> ApiResult<axum::Json<FileRead>> {
    Ok(axum::Json(
        service::update(&app, auth.organization_id, id, patch).await?,
    ))
}

/// `files:delete`.
pub async fn delete(
    auth: Authorized<FilesWrite>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    service::delete(&app, auth.organization_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/files/{id}/download` (Polar's private `files:download`): a presigned URL.
pub async fn download(
    auth: Authorized<FilesRead>,
    State(app): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<axum::Json<FileDownload>> {
    Ok(axum::Json(
        service::download(&app, auth.organization_id, id).await?,
    ))
}
