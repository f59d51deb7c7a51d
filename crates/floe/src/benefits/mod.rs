//! Benefits: what a product grants its buyers (a note, a feature flag, license keys,
//! downloadable files, meter credits, and the integrations floe stores but cannot grant
//! yet: Discord roles, GitHub repositories, Slack channels), and the grants that give them.

mod entity;
mod grant_entity;
pub mod granting;
mod grants;
pub mod license_key_grants;
mod perform;
pub mod portal;
mod properties;
mod purchase_entity;
mod routes;
pub mod schema;
mod service;
mod state;
mod store;
mod subscription_grants;

use crate::http::routes::Routes;

pub use grants::BenefitGrant;
pub use state::{CustomerStateBenefitGrant, granted_to};
pub use subscription_grants::{
    cycle_subscription_grants, restore_subscription_grants, revoke_scope,
    revoke_subscription_grants,
};

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/benefits", routes::list)
        .post("/v1/benefits", routes::create)
        .get("/v1/benefits/{id}", routes::get)
        .patch("/v1/benefits/{id}", routes::update)
        .delete("/v1/benefits/{id}", routes::delete)
        .get("/v1/benefits/{id}/files", routes::files)
        .get("/v1/benefits/{id}/grants", grants::of_benefit)
        .get("/v1/benefit-grants", grants::list)
}

/// The live benefits of `organization_id` among `ids`, as the API shows them, in any order
/// (missing and deleted ones left out).
pub async fn read_many(
    db: crate::db::Reads<'_>,
    organization_id: uuid::Uuid,
    ids: &[uuid::Uuid],
) -> Result<Vec<schema::Benefit>, sea_orm::DbErr> {
    Ok(store::live_many(db, organization_id, ids)
        .await?
        .iter()
        .filter_map(schema::Benefit::from_row)
        .collect())
}
