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
