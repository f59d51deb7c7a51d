//! Where a metrics request spends its time, phase by phase, for the `metrics computed`
//! log line (the benchmark reads it; a slow request in production says why).

use std::fmt;
use std::time::Instant;

pub struct Laps {
    last: Instant,
    laps: Vec<(&'static str, f64)>,
}

impl Laps {
    pub fn start() -> Self {
        Laps {
            last: Instant::now(),
            laps: Vec::new(),
        }
    }

    /// Ends the phase `name` (in milliseconds since the previous lap).
    pub fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.laps
            .push((name, (now - self.last).as_secs_f64() * 1000.0));
        self.last = now;
    }
}

impl fmt::Display for Laps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, ms)) in self.laps.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{name}={ms:.1}")?;
        }
        Ok(())
    }
}
