//! Benefits: what a product grants its buyers (a note, a feature flag, license keys,
//! downloadable files, meter credits, and the integrations floe stores but cannot grant
//! yet: Discord roles, GitHub repositories, Slack channels).

mod entity;
mod grant_entity;
mod grants;
mod properties;
mod routes;
pub mod schema;
mod service;
mod store;

use crate::http::routes::Routes;

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
