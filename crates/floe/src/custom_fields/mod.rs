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
