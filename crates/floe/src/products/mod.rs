//! Products: what a merchant sells, one-time or recurring, with prices in one or more
//! currencies, the benefits a purchase grants, media files and the custom fields asked at
//! checkout.

mod entity;
mod links;
mod literals;
mod present;
mod price_entity;
mod prices;
mod routes;
pub mod sale;
pub mod schema;
mod service;
mod store;

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/products", routes::list)
        .post("/v1/products", routes::create)
        .get("/v1/products/{id}", routes::get)
        .patch("/v1/products/{id}", routes::update)
        .delete("/v1/products/{id}", routes::delete)
        .post("/v1/products/{id}/benefits", routes::update_benefits)
}

/// Takes a deleted benefit off every product (in the deletion's transaction).
pub async fn detach_benefit(
    txn: &impl sea_orm::ConnectionTrait,
    benefit_id: uuid::Uuid,
) -> Result<(), sea_orm::DbErr> {
    store::detach_benefit(txn, benefit_id).await
}

/// Takes a deleted custom field off every product (in the deletion's transaction).
pub async fn detach_custom_field(
    txn: &impl sea_orm::ConnectionTrait,
    custom_field_id: uuid::Uuid,
) -> Result<(), sea_orm::DbErr> {
    store::detach_custom_field(txn, custom_field_id).await
}

/// The products of `organization_id` among `ids` that are not deleted (archived ones
/// included), without their prices and the rest, in any order.
pub async fn bases(
    db: crate::db::Reads<'_>,
    organization_id: uuid::Uuid,
    ids: &[uuid::Uuid],
) -> Result<Vec<schema::ProductBase>, sea_orm::DbErr> {
    Ok(store::live_many(db, organization_id, ids)
        .await?
        .iter()
        .map(schema::ProductBase::from_row)
        .collect())
}

/// The products of `organization_id` among `ids`, deleted ones included (records such as
/// orders keep naming theirs), without their prices and the rest.
pub async fn bases_with_deleted(
    db: crate::db::Reads<'_>,
    organization_id: uuid::Uuid,
    ids: &[uuid::Uuid],
) -> Result<Vec<schema::ProductBase>, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let select = entity::Entity::find().filter(entity::Column::OrganizationId.eq(organization_id));
    Ok(db
        .among(select, entity::Column::Id, ids)
        .await?
        .iter()
        .map(schema::ProductBase::from_row)
        .collect())
}

/// The products a customer portal offers: `organization_id`'s public products on sale, as
/// the API shows them (at most 100, which no catalog shown on one page exceeds).
pub async fn public_on_sale(
    db: &crate::db::ReadConnection,
    storage: &dyn crate::storage::ObjectStorage,
    organization_id: uuid::Uuid,
) -> Result<Vec<schema::Product>, sea_orm::DbErr> {
    let rows = store::public_on_sale(db, organization_id, 100).await?;
    present::products(db.into(), storage, organization_id, &rows).await
}

/// The IDs of products (of any organization: callers filter on their own records) whose
/// name contains `text`, as a subquery.
pub fn ids_named_like(text: &str) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::Query;
    Query::select()
        .column(entity::Column::Id)
        .from(entity::Entity)
        .and_where(crate::db::contains(entity::Column::Name, text))
        .to_owned()
}
