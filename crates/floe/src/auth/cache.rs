//! A short-lived, in-process cache of authenticated tokens, so that a client making many
//! requests with one token does not pay a database lookup for each.
//!
//! Only tokens that authenticated are cached, never failures, so a token created a moment
//! ago works at once and garbage cannot fill the cache. An entry lives [`TTL`]: a revoked
//! token keeps working for at most that long (floe has no revocation endpoint yet; the one
//! to come must also evict from this instance's cache). Expiry is checked on every hit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::subject::AuthSubject;

/// How long a cached token is trusted without asking the database again.
pub const TTL: Duration = Duration::from_secs(10);
/// Entries kept at most; past that the cache starts over (a burst of distinct tokens).
const CAPACITY: usize = 10_000;

#[derive(Clone)]
struct Entry {
    subject: AuthSubject,
    expires_at: Option<DateTime<Utc>>,
    cached_at: Instant,
}

#[derive(Default)]
pub struct TokenCache(Mutex<HashMap<String, Entry>>);

impl TokenCache {
    /// The subject of the token with this hash, if cached, fresh and not expired at `now`.
    pub fn get(&self, token_hash: &str, now: DateTime<Utc>) -> Option<AuthSubject> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map.get(token_hash)?;
        let fresh = entry.cached_at.elapsed() < TTL && entry.expires_at.is_none_or(|at| at > now);
        fresh.then(|| entry.subject.clone())
    }

    pub fn insert(
        &self,
        token_hash: String,
        subject: AuthSubject,
        expires_at: Option<DateTime<Utc>>,
    ) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(
            token_hash,
            Entry {
                subject,
                expires_at,
                cached_at: Instant::now(),
            },
        );
    }
}
