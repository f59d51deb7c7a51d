//! Settings of a running floe, resolved from the command line and the environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything `floe serve` needs to know, once parsed.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// Where the embedded database, local objects and the generated secret live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Base of every URL floe hands out (part uploads, downloads, public files), without a
    /// trailing slash.
    pub public_url: String,
    /// Lifetime of presigned upload and download URLs.
    pub presign_ttl: Duration,
    /// Uploads not completed within this age are aborted by the sweep.
    pub upload_max_age: Duration,
    /// How often the sweep runs.
    pub sweep_interval: Duration,
    /// Longest time an API request may take before it is answered with 408.
    pub request_timeout: Duration,
    /// Whether this process runs the background workers (the sweep).
    pub run_workers: bool,
    /// Meter reads recompute from the events (reference path for tests).
    pub meter_reads_from_events: bool,
    /// Answers carry the number of statements they ran (`x-floe-queries`), for tests.
    pub count_queries: bool,
    /// Events added to a meter's rollups per transaction while they are built.
    pub meter_build_page: u64,
    /// Where files live.
    pub storage: StorageConfig,
    /// How webhooks are delivered.
    pub webhooks: crate::webhooks::DeliveryConfig,
    /// Where Stripe's API is (`https://api.stripe.com`; a local fake in tests).
    pub stripe_api_base: String,
    /// How mail leaves floe.
    pub mail: crate::mail::MailConfig,
    /// Proxies in front of floe whose `X-Forwarded-For` is believed (the per-IP limits
    /// count the client they name); without any, the peer's address is the client's.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// Where files live: under the data dir with floe as the endpoint, or in an S3-compatible
/// store that the clients talk to directly.
#[derive(Clone, Debug, Default)]
pub enum StorageConfig {
    #[default]
    Local,
    S3(crate::storage::s3::S3Config),
}

impl Config {
    /// The SQLite database inside `data_dir`, used when no database URL is given.
    pub fn default_database_url(data_dir: &std::path::Path) -> String {
        format!("sqlite://{}?mode=rwc", data_dir.join("floe.db").display())
    }
}
