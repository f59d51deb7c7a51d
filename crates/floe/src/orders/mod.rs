//! Orders: what a customer bought and paid for (a purchase from a checkout so far;
//! subscription cycles next), with their lines, invoice numbers and billing details, their
//! CSV export, and their invoice and receipt PDFs.

pub mod documents;
mod drafts;
mod entity;
mod export;
pub mod off_session;
pub mod portal;
mod present;
mod routes;
pub mod schema;
pub mod service;
mod store;

use crate::http::routes::Routes;

pub use entity::Column as OrderColumn;
pub use entity::Entity as OrderEntity;
pub use entity::Model as OrderRow;

/// A query on every organization's orders (the renewal worker's).
pub fn find() -> sea_orm::Select<entity::Entity> {
    <entity::Entity as sea_orm::EntityTrait>::find()
}

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/orders", routes::list)
        .post("/v1/orders", routes::create)
        .post("/v1/orders/{id}/finalize", routes::finalize)
        .get("/v1/orders/export", export::export)
        .get("/v1/orders/{id}", routes::get)
        .patch("/v1/orders/{id}", routes::update)
        .post(
            "/v1/orders/{id}/invoice",
            documents::routes::generate_invoice,
        )
        .get("/v1/orders/{id}/invoice", documents::routes::invoice)
        .get("/v1/orders/{id}/receipt", documents::routes::receipt)
}

/// The order a checkout made, if any (in `txn`).
pub async fn of_checkout(
    txn: &impl sea_orm::ConnectionTrait,
    checkout_id: uuid::Uuid,
) -> Result<Option<OrderRow>, sea_orm::DbErr> {
    store::by_checkout(txn, checkout_id).await
}

/// The order `id`, locked for `txn` (on PostgreSQL).
pub async fn lock(
    txn: &impl sea_orm::ConnectionTrait,
    id: uuid::Uuid,
) -> Result<Option<OrderRow>, sea_orm::DbErr> {
    store::lock(txn, id).await
}

/// Revokes the grants a one-time order gave (a refund or a dispute took the money back),
/// and tells the grant worker it is done with the order, so nothing is granted after.
pub async fn revoke_grants(
    app: &crate::app::AppState,
    txn: &sea_orm::DatabaseTransaction,
    mut order: OrderRow,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::http::ApiResult<usize> {
    let scope = format!("order:{}", order.id);
    let queued = crate::benefits::revoke_scope(
        app,
        txn,
        order.organization_id,
        order.customer_id,
        &scope,
        now,
    )
    .await?;
    if order.grants_done_at.is_none() {
        order.grants_done_at = Some(now);
        update_row(txn, order).await?;
    }
    Ok(queued)
}

/// Writes `row` over the stored order.
pub async fn update_row(
    txn: &impl sea_orm::ConnectionTrait,
    row: OrderRow,
) -> Result<OrderRow, sea_orm::DbErr> {
    store::update(txn, row).await
}

/// Queues `kind` (`order.created`, `order.updated`, …) for `row`, as the API shows it.
pub async fn emit(
    txn: &sea_orm::DatabaseTransaction,
    row: &OrderRow,
    kind: crate::webhooks::EventType,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::http::ApiResult<usize> {
    // Presented only for someone who receives it.
    let endpoints = crate::webhooks::outbox::Endpoints::of(txn, row.organization_id).await?;
    if !endpoints.subscribe_to(kind) {
        return Ok(0);
    }
    let order = service::show(txn, row).await?;
    Ok(
        crate::webhooks::outbox::emit_to(txn, &endpoints, row.organization_id, kind, &order, now)
            .await?,
    )
}

/// The customer of order `id` of `organization_id` (drafts included).
pub async fn customer_of(
    db: &crate::db::ReadConnection,
    organization_id: uuid::Uuid,
    id: uuid::Uuid,
) -> Result<Option<uuid::Uuid>, sea_orm::DbErr> {
    Ok(store::get(db.into(), organization_id, id)
        .await?
        .map(|row| row.customer_id))
}

/// The lines of `order_id`, in order, read in the caller's transaction.
pub async fn items_of_order(
    txn: &sea_orm::DatabaseTransaction,
    order_id: uuid::Uuid,
) -> Result<Vec<entity::item::Model>, sea_orm::DbErr> {
    store::items(txn.into(), &[order_id]).await
}
