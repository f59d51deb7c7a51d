//! Members: the people of a customer (issue 17). A team customer has members with roles
//! (`owner`, `billing_manager`, `member`); an individual customer has one, its owner. The
//! merchant manages them by customer ID or external ID (`customers:members:*`) and lists
//! them across customers (`members:list_members`); each change is announced by
//! `member.created`, `member.updated` or `member.deleted`, in its transaction.
//!
//! As at Polar: a customer's first member operation makes its owner from the customer's
//! email when it has none; an existing email answers the existing member (no event); the
//! owner cannot be created directly (only transferred by an update, the old owner becoming
//! a billing manager), nor deleted or demoted while it is the only owner. floe keeps no
//! organization flag for members (as for seats). A merchant opens a member session by
//! naming a member in `POST /v1/customer-sessions/`; an owner or billing manager manages
//! the team in the portal ([`portal`]).

mod entity;
pub mod portal;
mod routes;
pub mod schema;
mod service;

use crate::http::routes::Routes;

pub use service::{by_email, for_session, live_ids, live_member, remove_all_of_customer};

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/members", routes::list)
        .get("/v1/customers/{id}/members", routes::list_of_customer)
        .post("/v1/customers/{id}/members", routes::create)
        .get(
            "/v1/customers/external/{external_id}/members",
            routes::list_of_customer_external,
        )
        .post(
            "/v1/customers/external/{external_id}/members",
            routes::create_external,
        )
        .get("/v1/customers/{id}/members/{member_id}", routes::get)
        .patch("/v1/customers/{id}/members/{member_id}", routes::update)
        .delete("/v1/customers/{id}/members/{member_id}", routes::delete)
        .get(
            "/v1/customers/external/{external_id}/members/{member_external_id}",
            routes::get_external,
        )
        .patch(
            "/v1/customers/external/{external_id}/members/{member_external_id}",
            routes::update_external,
        )
        .delete(
            "/v1/customers/external/{external_id}/members/{member_external_id}",
            routes::delete_external,
        )
        .get("/v1/customer-portal/members", routes::portal_list)
        .post("/v1/customer-portal/members", routes::portal_add)
        .patch("/v1/customer-portal/members/{id}", routes::portal_update)
        .delete("/v1/customer-portal/members/{id}", routes::portal_remove)
}
