//! Files: multipart uploads through presigned part URLs, completion, and downloads. The
//! bytes live in object storage; the database holds what a file is and where.

mod content;
mod entity;
mod plan;
mod routes;
pub mod schema;
mod service;
mod store;
pub mod sweep;

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/files", routes::list)
        .post("/v1/files", routes::create)
        .patch("/v1/files/{id}", routes::update)
        .delete("/v1/files/{id}", routes::delete)
        .post("/v1/files/{id}/uploaded", routes::uploaded)
        .get("/v1/files/{id}/download", routes::download)
}

/// Which of `ids` are files of `organization_id` for `service` (`downloadable`,
/// `product_media`, …) that other resources may point at: uploaded, not deleted, not
/// flagged.
pub async fn usable(
    db: &impl sea_orm::ConnectionTrait,
    organization_id: uuid::Uuid,
    service: &str,
    ids: &[uuid::Uuid],
) -> Result<Vec<uuid::Uuid>, sea_orm::DbErr> {
    store::usable(db, organization_id, service, ids).await
}

/// [`usable`] as a subquery, for queries that keep only what points at usable files.
pub fn usable_subquery(
    organization_id: uuid::Uuid,
    service: &str,
) -> sea_orm::sea_query::SelectStatement {
    store::usable_subquery(organization_id, service)
}

/// The live files of `organization_id` among `ids`, as the API shows them, in the order of
/// `ids` (missing ones left out).
pub async fn read_many(
    db: crate::db::Reads<'_>,
    storage: &dyn crate::storage::ObjectStorage,
    organization_id: uuid::Uuid,
    ids: &[uuid::Uuid],
) -> Result<Vec<schema::FileRead>, sea_orm::DbErr> {
    let rows = store::live_many(db, organization_id, ids).await?;
    let by_id: std::collections::HashMap<_, _> = rows.iter().map(|row| (row.id, row)).collect();
    Ok(ids
        .iter()
        .filter_map(|id| by_id.get(id))
        .map(|row| schema::FileRead::from_row(row, storage))
        .collect())
}

/// A signed, expiring download of `organization_id`'s uploaded file `id` (for a customer's
/// downloadables; the same rules as `GET /v1/files/{id}/download`).
pub async fn download(
    app: &crate::app::AppState,
    organization_id: uuid::Uuid,
    id: uuid::Uuid,
) -> crate::http::ApiResult<schema::FileDownload> {
    service::download(app, organization_id, id).await
}
