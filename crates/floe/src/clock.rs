//! Business time. Every timestamp floe records comes from a [`Clock`], so that tests (and,
//! later, an organization's test mode) can move time without touching the system clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, DurationRound, Utc};

/// A clock that reads system time plus an adjustable offset.
///
/// Times are truncated to microseconds: that is what PostgreSQL stores, so a value reads
/// back equal to what was written on both databases.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_micros: Arc<AtomicI64>,
}

impl Clock {
    /// The current business time.
    pub fn now(&self) -> DateTime<Utc> {
        let now = Utc::now() + Duration::microseconds(self.offset_micros.load(Ordering::Relaxed));
        now.duration_trunc(Duration::microseconds(1)).unwrap_or(now)
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        let micros = by.num_microseconds().unwrap_or(i64::MAX);
        self.offset_micros.fetch_add(micros, Ordering::Relaxed);
    }
}
