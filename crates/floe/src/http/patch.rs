//! Partial updates: telling a field that was left out from one that was set to `null`.
//!
//! `#[serde(default, deserialize_with = "patch::field")] x: Option<Option<T>>` reads as
//! `None` when absent, `Some(None)` when `null`, `Some(Some(v))` when given.

use serde::{Deserialize, Deserializer};

pub fn field<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
