//! Custom fields: the questions a merchant asks buyers at checkout (text, number, date,
//! checkbox, select), attached to products, and the one function that checks the answers.

pub mod data;
mod entity;
mod properties;
mod routes;
pub mod schema;
mod service;
mod store;

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/custom-fields", routes::list)
        .post("/v1/custom-fields", routes::create)
        .get("/v1/custom-fields/{id}", routes::get)
        .patch("/v1/custom-fields/{id}", routes::update)
        .delete("/v1/custom-fields/{id}", routes::delete)
}

/// The live custom fields of `organization_id` among `ids`, as the API shows them, in any
/// order (missing and deleted ones left out).
pub async fn read_many(
    db: crate::db::Reads<'_>,
    organization_id: uuid::Uuid,
    ids: &[uuid::Uuid],
) -> Result<Vec<schema::CustomField>, sea_orm::DbErr> {
    Ok(store::live_many(db, organization_id, ids)
        .await?
        .iter()
        .filter_map(schema::CustomField::from_row)
        .collect())
}
