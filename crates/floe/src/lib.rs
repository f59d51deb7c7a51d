//! floe: the Polar billing platform API as one self-hostable server.
//!
//! The crate is organised by Polar domain (`files`, `organizations`, …), each with its
//! routes, service, store and wire schemas, around a few shared pieces: `http` (errors,
//! extractors, middleware), `auth`, `db`, `storage` and `clock`.

pub mod address;
pub mod app;
pub mod auth;
pub mod benefits;
pub mod calendar;
pub mod checkout_links;
pub mod checkouts;
pub mod cli;
pub mod clock;
pub mod config;
pub mod csv_export;
pub mod custom_fields;
pub mod customer_meters;
pub mod customer_portal;
pub mod customer_seats;
pub mod customers;
pub mod db;
pub mod discounts;
pub mod disputes;
pub mod events;
pub mod files;
pub mod http;
pub mod license_keys;
pub mod mail;
pub mod members;
pub mod metadata;
pub mod meters;
pub mod metrics;
pub mod money;
pub mod openapi;
pub mod orders;
pub mod organizations;
pub mod payments;
pub mod pricing;
pub mod products;
pub mod refunds;
pub mod storage;
pub mod subscriptions;
pub mod wallets;
pub mod webhooks;
