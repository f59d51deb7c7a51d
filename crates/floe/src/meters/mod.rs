//! Meters: what an organization measures from its usage events (a filter choosing events
//! and an aggregation over them).

mod entity;
pub mod evaluate;
pub mod filter;
pub mod quantities;
mod rollup_entity;
pub mod rollups;
mod routes;
mod samples;
pub mod schema;
mod service;
mod store;

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/meters", routes::list)
        .post("/v1/meters", routes::create)
        .get("/v1/meters/{id}", routes::get)
        .patch("/v1/meters/{id}", routes::update)
        .get("/v1/meters/{id}/quantities", routes::quantities)
}

/// A meter as other domains use it: its wire form and its compiled rules.
pub struct MeterRecord {
    pub meter: schema::Meter,
    pub compiled: rollups::CompiledMeter,
}

/// Meters of `organization_id`: those named in `ids` (archived or not), or else every
/// meter that is not archived.
pub async fn records(
    db: &crate::db::ReadConnection,
    organization_id: uuid::Uuid,
    ids: Option<&[uuid::Uuid]>,
) -> Result<Vec<MeterRecord>, sea_orm::DbErr> {
    let rows = store::for_organization(db, organization_id, ids).await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(MeterRecord {
                meter: schema::Meter::from(row),
                compiled: rollups::CompiledMeter::from_row(row)?,
            })
        })
        .collect())
}

/// Meters of `organization_id` among `ids` (archived ones included), read in `db`.
pub async fn records_in(
    db: crate::db::Reads<'_>,
    organization_id: uuid::Uuid,
    ids: &[uuid::Uuid],
) -> Result<Vec<MeterRecord>, sea_orm::DbErr> {
    let rows = store::by_ids(db, organization_id, ids).await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(MeterRecord {
                meter: schema::Meter::from(row),
                compiled: rollups::CompiledMeter::from_row(row)?,
            })
        })
        .collect())
}

/// Every meter ID of an organization, archived ones included.
pub async fn all_ids(
    db: &crate::db::ReadConnection,
    organization_id: uuid::Uuid,
) -> Result<Vec<uuid::Uuid>, sea_orm::DbErr> {
    Ok(store::all(db, organization_id)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect())
}

/// Whether `id` is a meter of `organization_id`.
pub async fn exists(
    db: &impl sea_orm::ConnectionTrait,
    organization_id: uuid::Uuid,
    id: uuid::Uuid,
) -> Result<bool, sea_orm::DbErr> {
    Ok(service::get_in(db, organization_id, id).await?.is_some())
}

/// Meters of `organization_id` among `ids` (archived ones included), as the API shows them.
pub async fn read_many(
    db: crate::db::Reads<'_>,
    organization_id: uuid::Uuid,
    ids: &[uuid::Uuid],
) -> Result<Vec<schema::Meter>, sea_orm::DbErr> {
    Ok(store::by_ids(db, organization_id, ids)
        .await?
        .iter()
        .map(schema::Meter::from)
        .collect())
}
