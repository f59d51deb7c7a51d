//! The webhook tables: endpoints, the outbox of events (one row per event and endpoint),
//! and the log of delivery attempts.

pub mod delivery;
pub mod endpoint;
pub mod event;
