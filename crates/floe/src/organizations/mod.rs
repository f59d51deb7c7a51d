//! Organizations: the tenants. Every other resource belongs to exactly one.

mod entity;
mod routes;
pub mod schema;
pub mod service;
pub mod store;

pub use entity::Model as OrganizationRow;

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/organizations", routes::list)
        .get("/v1/organizations/{id}", routes::get)
        .patch("/v1/organizations/{id}", routes::update)
}

/// An organization's settings document, read alone.
async fn settings_of(
    db: &impl sea_orm::ConnectionTrait,
    id: uuid::Uuid,
) -> Result<Option<schema::Settings>, sea_orm::DbErr> {
    use sea_orm::{EntityTrait, QuerySelect};
    let settings: Option<String> = entity::Entity::find_by_id(id)
        .select_only()
        .column(entity::Column::Settings)
        .into_tuple()
        .one(db)
        .await?;
    Ok(settings.map(|text| schema::Settings::parse(&text)))
}

/// The currency an organization's prices must always include (`usd` unless changed).
pub async fn default_presentment_currency(
    db: &impl sea_orm::ConnectionTrait,
    id: uuid::Uuid,
) -> Result<String, sea_orm::DbErr> {
    Ok(settings_of(db, id)
        .await?
        .and_then(|settings| settings.default_presentment_currency)
        .unwrap_or_else(|| "usd".to_owned()))
}

/// The days between a failed subscription charge and each retry, for `id`: the operator's
/// choice, else `default`.
pub async fn dunning_retry_days(
    db: &impl sea_orm::ConnectionTrait,
    id: uuid::Uuid,
    default: &[i64],
) -> Result<Vec<i64>, sea_orm::DbErr> {
    Ok(settings_of(db, id)
        .await?
        .and_then(|settings| settings.dunning_retry_days)
        .unwrap_or_else(|| default.to_vec()))
}

/// An organization as the API shows it, for records that name theirs (a checkout's buyer
/// sees the seller).
pub async fn read(
    db: &impl sea_orm::ConnectionTrait,
    id: uuid::Uuid,
) -> Result<Option<schema::Organization>, sea_orm::DbErr> {
    use sea_orm::EntityTrait;
    Ok(entity::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(schema::Organization::from))
}

/// An organization's slug (for links that name it).
pub async fn slug_of(
    db: &impl sea_orm::ConnectionTrait,
    id: uuid::Uuid,
) -> Result<Option<String>, sea_orm::DbErr> {
    use sea_orm::{EntityTrait, QuerySelect};
    entity::Entity::find_by_id(id)
        .select_only()
        .column(entity::Column::Slug)
        .into_tuple()
        .one(db)
        .await
}
