//! Orders: what a customer bought and paid for (a purchase from a checkout so far;
//! subscription cycles next), with their lines, invoice numbers and billing details, their
//! CSV export, and their invoice and receipt PDFs.

pub mod documents;
mod drafts;
mod entity;
mod export;
pub mod off_session;
mod present;
mod routes;
pub mod schema;
pub mod service;
mod store;

use crate::http::routes::Routes;

pub use entity::Model as OrderRow;

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
