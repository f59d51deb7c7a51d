//! License keys: the keys a license-keys benefit issues to its buyers, which the merchant's
//! software validates, activates and deactivates with an organization token.

mod entity;
pub mod portal;
pub mod rate_limit;
mod routes;
pub mod schema;
mod service;
mod store;

use crate::http::routes::Routes;

pub use entity::Model as LicenseKeyRow;
pub use service::{Terms, issue};

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/license-keys", routes::list)
        .get("/v1/license-keys/{id}", routes::get)
        .patch("/v1/license-keys/{id}", routes::update)
        .post("/v1/license-keys/{id}/rotate", routes::rotate)
        .get(
            "/v1/license-keys/{id}/activations/{activation_id}",
            routes::get_activation,
        )
        .post("/v1/license-keys/validate", routes::validate)
        .post("/v1/license-keys/activate", routes::activate)
        .post("/v1/license-keys/deactivate", routes::deactivate)
}
