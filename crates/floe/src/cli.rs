//! The command line: `serve`, `migrate`, and the admin commands that work on the same data
//! as a running server (`organization create`, `token create`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::auth::{self, Scope, ServerSecret};
use crate::config::{Config, StorageConfig};
use crate::organizations;
use crate::storage::s3::S3Config;
use crate::{app, db};

/// floe: the Polar billing platform API as one self-hostable server.
#[derive(Debug, Parser)]
#[command(name = "floe", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Where floe keeps its data; shared by every command so that admin commands reach the
/// same database as `serve`.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Directory for the embedded database, local file storage and the generated secret.
    #[arg(
        long,
        env = "FLOE_DATA_DIR",
        default_value = "./floe-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Database URL: `postgres://…` selects PostgreSQL; default is SQLite in the data dir.
    #[arg(long, env = "FLOE_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Log one JSON object per line instead of text.
    #[arg(long, env = "FLOE_LOG_JSON", value_parser = clap::builder::FalseyValueParser::new(), global = true)]
    pub log_json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API and the background workers.
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage organizations.
    #[command(subcommand)]
    Organization(OrganizationCommand),
    /// Manage access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Object storage.
    #[command(subcommand)]
    Storage(StorageCommand),
    /// Test clocks: move a test-mode organization's time forward.
    #[command(subcommand)]
    Clock(ClockCommand),
    /// Customer meter adjustments by hand (what benefits and subscriptions do on their own).
    #[command(subcommand)]
    Meter(MeterCommand),
    /// Print the API operations this build serves, one JSON object per line
    /// (`{"method": "GET", "path": "/v1/files"}`); also under `/api`.
    Routes,
}

#[derive(Debug, Subcommand)]
pub enum MeterCommand {
    /// Credit units of a meter to a customer (negative units take credit back); prints the
    /// event ID.
    Credit {
        /// The organization's slug or ID.
        #[arg(long)]
        organization: String,
        #[arg(long)]
        customer: uuid::Uuid,
        #[arg(long)]
        meter: uuid::Uuid,
        #[arg(long, allow_hyphen_values = true)]
        units: i64,
        /// Mark the credit as rolled over from the previous period.
        #[arg(long)]
        rollover: bool,
    },
    /// Start a new period of a meter for a customer; prints the event ID.
    Reset {
        #[arg(long)]
        organization: String,
        #[arg(long)]
        customer: uuid::Uuid,
        #[arg(long)]
        meter: uuid::Uuid,
    },
}

#[derive(Debug, Subcommand)]
pub enum StorageCommand {
    /// Check the storage settings against the store: buckets reachable, an object written,
    /// read back and deleted, a multipart upload started and aborted.
    Check(StorageArgs),
}

/// Where files live. `local` keeps them under the data dir and makes floe the upload and
/// download endpoint; `s3` puts them in an S3-compatible store that clients reach directly.
#[derive(Debug, Args)]
pub struct StorageArgs {
    /// `local` or `s3`.
    #[arg(long, env = "FLOE_STORAGE", default_value = "local", value_parser = ["local", "s3"])]
    pub storage: String,
    /// S3 endpoint URL (e.g. `https://<account>.r2.cloudflarestorage.com`); none means AWS.
    #[arg(long, env = "FLOE_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// S3 region (`auto` on R2).
    #[arg(long, env = "FLOE_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,
    /// Bucket for private files (downloadables, support attachments).
    #[arg(long, env = "FLOE_S3_BUCKET")]
    pub s3_bucket: Option<String>,
    /// Bucket for public files (product media, avatars); default: the private bucket, with
    /// `--s3-public-prefix`.
    #[arg(long, env = "FLOE_S3_PUBLIC_BUCKET")]
    pub s3_public_bucket: Option<String>,
    /// Key prefix of public files, e.g. `public/`.
    #[arg(long, env = "FLOE_S3_PUBLIC_PREFIX", default_value = "")]
    pub s3_public_prefix: String,
    /// Base URL public files are served from (a CDN, an R2 custom domain, a website
    /// endpoint); an object's URL is this, `/`, and its key.
    #[arg(long, env = "FLOE_S3_PUBLIC_URL")]
    pub s3_public_url: Option<String>,
    #[arg(long, env = "FLOE_S3_ACCESS_KEY_ID")]
    pub s3_access_key_id: Option<String>,
    #[arg(long, env = "FLOE_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), as most self-hosted stores want.
    #[arg(long, env = "FLOE_S3_PATH_STYLE", value_parser = clap::builder::FalseyValueParser::new())]
    pub s3_path_style: bool,
}

impl StorageArgs {
    pub fn resolve(&self) -> anyhow::Result<StorageConfig> {
        if self.storage == "local" {
            return Ok(StorageConfig::Local);
        }
        let required = |value: &Option<String>, name: &str| {
            value
                .clone()
                .filter(|v| !v.is_empty())
                .with_context(|| format!("--storage s3 needs {name}"))
        };
        let bucket = required(&self.s3_bucket, "--s3-bucket (FLOE_S3_BUCKET)")?;
        let config = S3Config {
            endpoint: self.s3_endpoint.clone().filter(|v| !v.is_empty()),
            region: self.s3_region.clone(),
            public_bucket: self
                .s3_public_bucket
                .clone()
                .unwrap_or_else(|| bucket.clone()),
            bucket,
            public_prefix: self.s3_public_prefix.clone(),
            access_key_id: required(
                &self.s3_access_key_id,
                "--s3-access-key-id (FLOE_S3_ACCESS_KEY_ID)",
            )?,
            secret_access_key: required(
                &self.s3_secret_access_key,
                "--s3-secret-access-key (FLOE_S3_SECRET_ACCESS_KEY)",
            )?,
            path_style: self.s3_path_style,
            public_base_url: required(&self.s3_public_url, "--s3-public-url (FLOE_S3_PUBLIC_URL)")?,
        };
        config.validate()?;
        Ok(StorageConfig::S3(config))
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "FLOE_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,
    /// Base URL of every URL floe hands out; default `http://{listen}`.
    #[arg(long, env = "FLOE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Lifetime of presigned upload and download URLs, in seconds.
    #[arg(long, env = "FLOE_PRESIGN_TTL", default_value_t = 600)]
    pub presign_ttl: u64,
    /// Age in seconds after which an upload that was never completed is removed.
    #[arg(long, env = "FLOE_UPLOAD_MAX_AGE", default_value_t = 86_400)]
    pub upload_max_age: u64,
    /// Seconds between two runs of the background sweep.
    /// Stripe's API base URL (for organizations that use Stripe; tests point it at a fake).
    #[arg(
        long,
        env = "FLOE_STRIPE_API_BASE",
        default_value = "https://api.stripe.com"
    )]
    pub stripe_api_base: String,
    /// The SMTP server mail goes through: `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS), `smtps://user:pass@host:465` (TLS), or `smtp://host:25` (no TLS: a relay
    /// on the same machine). Without one, each message is written as an `.eml` file under
    /// `{data-dir}/mail/` and its path logged.
    #[arg(long, env = "FLOE_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// Addresses of the proxies in front of floe (comma-separated): their
    /// `X-Forwarded-For` names the client for the per-IP limits (portal sign-in).
    #[arg(long, env = "FLOE_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The sender of floe's mail.
    #[arg(
        long,
        env = "FLOE_MAIL_FROM",
        default_value = "floe <no-reply@floe.localhost>"
    )]
    pub mail_from: String,
    #[arg(long, env = "FLOE_SWEEP_INTERVAL", default_value_t = 600)]
    pub sweep_interval: u64,
    /// Seconds an API request may take before it is answered with 408.
    #[arg(long, env = "FLOE_REQUEST_TIMEOUT", default_value_t = 30)]
    pub request_timeout: u64,
    /// Serve the API only; leave background work to other processes.
    #[arg(long, env = "FLOE_NO_WORKERS", value_parser = clap::builder::FalseyValueParser::new())]
    pub no_workers: bool,
    /// Compute meter quantities and customer meters from the stored events instead of the
    /// rollups (the reference the tests compare the rollups with; slow).
    #[arg(long, env = "FLOE_METER_READS_FROM_EVENTS", value_parser = clap::builder::FalseyValueParser::new(), hide = true)]
    pub meter_reads_from_events: bool,
    /// Report in `x-floe-queries` how many statements each API request ran (tests use it to
    /// prove that lists do not query per row).
    #[arg(long, env = "FLOE_COUNT_QUERIES", value_parser = clap::builder::FalseyValueParser::new(), hide = true)]
    pub count_queries: bool,
    /// Events added to a meter's rollups per transaction while they are built.
    #[arg(
        long,
        env = "FLOE_METER_BUILD_PAGE",
        default_value_t = 5_000,
        hide = true
    )]
    pub meter_build_page: u64,
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
}

/// Webhook delivery settings.
#[derive(Debug, Args)]
pub struct WebhookArgs {
    /// Let webhook endpoints use `http` and private, loopback or link-local addresses.
    /// For development and tests only: in production it lets an endpoint reach floe's own
    /// network.
    #[arg(long, env = "FLOE_ALLOW_PRIVATE_WEBHOOKS", value_parser = clap::builder::FalseyValueParser::new())]
    pub allow_private_webhooks: bool,
    /// First retry delay of a failed delivery, in milliseconds; each retry doubles it.
    #[arg(
        long,
        env = "FLOE_WEBHOOK_RETRY_BASE_MS",
        default_value_t = 2_000,
        hide = true
    )]
    pub webhook_retry_base_ms: u64,
    /// Longest retry delay, in milliseconds.
    #[arg(
        long,
        env = "FLOE_WEBHOOK_RETRY_CAP_MS",
        default_value_t = 1_200_000,
        hide = true
    )]
    pub webhook_retry_cap_ms: u64,
    /// How long a process holds an endpoint's queue without renewing, in milliseconds;
    /// after a crash, another process resumes that endpoint's deliveries after this long.
    #[arg(
        long,
        env = "FLOE_WEBHOOK_LEASE_MS",
        default_value_t = 30_000,
        hide = true
    )]
    pub webhook_lease_ms: u64,
    /// How long a receiver has to answer, in milliseconds.
    #[arg(
        long,
        env = "FLOE_WEBHOOK_TIMEOUT_MS",
        default_value_t = 10_000,
        hide = true
    )]
    pub webhook_timeout_ms: u64,
}

impl WebhookArgs {
    pub fn resolve(&self) -> anyhow::Result<crate::webhooks::DeliveryConfig> {
        let timeout = Duration::from_millis(self.webhook_timeout_ms.max(1));
        let lease = Duration::from_millis(self.webhook_lease_ms);
        // A lease shorter than one send would let a second process send the same event
        // while the first is still waiting for the answer.
        if lease <= timeout {
            anyhow::bail!("--webhook-lease-ms must be longer than --webhook-timeout-ms");
        }
        Ok(crate::webhooks::DeliveryConfig {
            allow_private: self.allow_private_webhooks,
            retry_base: Duration::from_millis(self.webhook_retry_base_ms.max(1)),
            retry_cap: Duration::from_millis(self.webhook_retry_cap_ms.max(1)),
            lease,
            timeout,
            poll_interval: Duration::from_secs(1),
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum OrganizationCommand {
    /// Create an organization and print it as JSON.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        slug: String,
    },
    /// Turn on or off a feature only the operator controls (e.g.
    /// `off_session_charges_enabled`, which `POST /v1/orders/` needs), and print the
    /// organization as JSON.
    Feature {
        /// The organization's slug or ID.
        #[arg(long)]
        organization: String,
        /// The feature's name, as in `feature_settings`.
        #[arg(long)]
        name: String,
        #[arg(long, action = clap::ArgAction::Set)]
        enabled: bool,
    },
    /// Choose the payment processor of an organization's checkouts: `test` (built in, the
    /// default) or `stripe` with the merchant's keys (sealed at rest with the server's
    /// secret). Stripe's webhook endpoint for it is
    /// `{public_url}/v1/integrations/stripe/webhook/{organization_id}`.
    Processor {
        /// The organization's slug or ID.
        #[arg(long)]
        organization: String,
        /// `test` or `stripe`.
        #[arg(long)]
        processor: String,
        #[arg(long, env = "FLOE_STRIPE_SECRET_KEY")]
        stripe_secret_key: Option<String>,
        #[arg(long, env = "FLOE_STRIPE_WEBHOOK_SECRET")]
        stripe_webhook_secret: Option<String>,
        #[arg(long)]
        stripe_publishable_key: Option<String>,
    },
    /// Set when a failed subscription charge is retried: days after each failure, e.g.
    /// `--retry-days 1,3,5` (the subscription is revoked when the last retry fails), or
    /// `--default` for Polar's 2, 5, 7 and 7.
    Dunning {
        /// The organization's slug or ID.
        #[arg(long)]
        organization: String,
        #[arg(
            long,
            value_delimiter = ',',
            conflicts_with = "default",
            required_unless_present = "default"
        )]
        retry_days: Option<Vec<i64>>,
        #[arg(long)]
        default: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClockCommand {
    /// Move an organization in test mode (test processor, or a Stripe test key) to a later
    /// time, running every renewal, trial end and retry due on the way, in order; prints
    /// the organization's time after it and how many renewals ran.
    Advance {
        /// The organization's slug or ID.
        #[arg(long)]
        organization: String,
        /// The time to move to (RFC 3339, or a date: `2027-12-31`, at midnight UTC).
        #[arg(long)]
        to: String,
        #[command(flatten)]
        serve: Box<ServeArgs>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an organization access token; the token is the last line of stdout.
    Create {
        /// The organization's slug or ID.
        #[arg(long)]
        organization: String,
        /// A scope to grant (repeatable); none means every scope.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// A name to recognise the token by.
        #[arg(long)]
        name: Option<String>,
        /// Seconds until the token expires; none means it never does.
        #[arg(long)]
        expires_in: Option<u64>,
    },
}

/// Runs one command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Routes = cli.command {
        // Touches no data: no data dir is made for it.
        return print_routes();
    }
    let _log_writer = app::init_logging(cli.data.log_json);
    let data_dir = cli.data.data_dir.clone();
    let database_url = cli
        .data
        .database_url
        .clone()
        .unwrap_or_else(|| Config::default_database_url(&data_dir));
    // Only floe's user may read the database, the files and the secret.
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(&data_dir)
        .with_context(|| format!("creating data dir {}", data_dir.display()))?;

    match cli.command {
        Command::Serve(args) => {
            // Bind first, so that `--listen 127.0.0.1:0` hands out URLs with the real port.
            let listener = tokio::net::TcpListener::bind(args.listen)
                .await
                .with_context(|| format!("binding {}", args.listen))?;
            let listen = listener.local_addr()?;
            let config = config_of(*args, listen, data_dir, database_url)?;
            app::serve(config, listener).await
        }
        Command::Clock(ClockCommand::Advance {
            organization,
            to,
            serve,
        }) => {
            let to = parse_moment(&to)?;
            let listen = serve.listen;
            let config = config_of(*serve, listen, data_dir, database_url)?;
            let server = app::Server::build(config, crate::clock::Clock::default()).await?;
            let found = organizations::store::find_by_slug_or_id(&server.state.db, &organization)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no organization {organization}"))?;
            let advanced = crate::subscriptions::scheduler::advance(&server.state, found.id, to)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            print_stdout(&serde_json::to_string(&advanced)?);
            Ok(())
        }
        Command::Storage(StorageCommand::Check(args)) => storage_check(&args).await,
        Command::Routes => print_routes(),
        Command::Migrate => {
            db::connect(&database_url).await?;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Organization(OrganizationCommand::Create { name, slug }) => {
            let db = db::connect(&database_url).await?;
            let clock = crate::clock::Clock::default();
            let organization = organizations::service::create(&db, &clock, &name, &slug)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            print_stdout(&serde_json::to_string_pretty(&organization)?);
            Ok(())
        }
        Command::Organization(OrganizationCommand::Feature {
            organization,
            name,
            enabled,
        }) => {
            let db = db::connect(&database_url).await?;
            let clock = crate::clock::Clock::default();
            let organization =
                organizations::service::set_feature(&db, &clock, &organization, &name, enabled)
                    .await?;
            print_stdout(&serde_json::to_string_pretty(&organization)?);
            Ok(())
        }
        Command::Organization(OrganizationCommand::Dunning {
            organization,
            retry_days,
            default: _,
        }) => {
            let db = db::connect(&database_url).await?;
            let clock = crate::clock::Clock::default();
            let organization =
                organizations::service::set_dunning(&db, &clock, &organization, retry_days).await?;
            print_stdout(&serde_json::to_string_pretty(&organization)?);
            Ok(())
        }
        Command::Organization(OrganizationCommand::Processor {
            organization,
            processor,
            stripe_secret_key,
            stripe_webhook_secret,
            stripe_publishable_key,
        }) => {
            use crate::payments::accounts::{Account, StripeKeys};
            let db = db::connect(&database_url).await?;
            let secret = ServerSecret::load_or_create(&data_dir)?;
            let found = organizations::store::find_by_slug_or_id(&db, &organization)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no organization {organization}"))?;
            let account = match processor.as_str() {
                "test" => Account::Test,
                "stripe" => Account::Stripe(StripeKeys {
                    secret_key: stripe_secret_key
                        .ok_or_else(|| anyhow::anyhow!("--stripe-secret-key is required"))?,
                    webhook_secret: stripe_webhook_secret
                        .ok_or_else(|| anyhow::anyhow!("--stripe-webhook-secret is required"))?,
                    publishable_key: stripe_publishable_key,
                }),
                other => anyhow::bail!("unknown processor {other}: `test` or `stripe`"),
            };
            crate::payments::accounts::set(&db, &secret, found.id, &account, chrono::Utc::now())
                .await?;
            print_stdout(&format!(
                "{} now uses the {processor} processor",
                found.slug
            ));
            Ok(())
        }
        Command::Meter(command) => {
            let db = db::connect(&database_url).await?;
            let now = chrono::Utc::now();
            let (organization, customer, meter) = match &command {
                MeterCommand::Credit {
                    organization,
                    customer,
                    meter,
                    ..
                }
                | MeterCommand::Reset {
                    organization,
                    customer,
                    meter,
                } => (organization, *customer, *meter),
            };
            let org = organizations::store::find_by_slug_or_id(&db, organization)
                .await?
                .with_context(|| format!("no organization {organization:?}"))?;
            if crate::customers::live_ids(&db, org.id, &[customer])
                .await?
                .is_empty()
            {
                anyhow::bail!("no customer {customer} in {organization}");
            }
            if !crate::meters::exists(&db, org.id, meter).await? {
                anyhow::bail!("no meter {meter} in {organization}");
            }
            let id = match command {
                MeterCommand::Credit {
                    units, rollover, ..
                } => {
                    crate::events::system::meter_credited(
                        &db, org.id, customer, meter, units, rollover, now,
                    )
                    .await?
                }
                MeterCommand::Reset { .. } => {
                    crate::events::system::meter_reset(&db, org.id, customer, meter, now).await?
                }
            };
            print_stdout(&id.to_string());
            Ok(())
        }
        Command::Token(TokenCommand::Create {
            organization,
            scopes,
            name,
            expires_in,
        }) => {
            let db = db::connect(&database_url).await?;
            let secret = ServerSecret::load_or_create(&data_dir)?;
            let clock = crate::clock::Clock::default();
            let scopes = if scopes.is_empty() {
                Scope::organization_token_default()
            } else {
                scopes
                    .iter()
                    .map(|s| s.parse::<Scope>().map_err(|e| anyhow::anyhow!("{e}")))
                    .collect::<anyhow::Result<Vec<_>>>()?
            };
            let org = organizations::store::find_by_slug_or_id(&db, &organization)
                .await?
                .with_context(|| format!("no organization {organization:?}"))?;
            let created = auth::store::create_organization_token(
                &db,
                &clock,
                &secret,
                auth::store::NewOrganizationToken {
                    organization_id: org.id,
                    comment: name.unwrap_or_default(),
                    scopes,
                    expires_in: expires_in.map(|s| chrono::Duration::seconds(s as i64)),
                },
            )
            .await?;
            eprintln!(
                "created token {} for organization {} ({})",
                created.id, org.slug, org.id
            );
            print_stdout(created.token.expose());
            Ok(())
        }
    }
}

/// Prints a line of output; a closed stdout (`| head`) is not an error worth a panic.
/// `floe routes`: the route table, one JSON object per operation.
/// The server's settings from its flags.
fn config_of(
    args: ServeArgs,
    listen: SocketAddr,
    data_dir: std::path::PathBuf,
    database_url: String,
) -> anyhow::Result<Config> {
    let public_url = args
        .public_url
        .unwrap_or_else(|| format!("http://{listen}"));
    Ok(Config {
        listen,
        data_dir,
        database_url,
        public_url: public_url.trim_end_matches('/').to_owned(),
        presign_ttl: Duration::from_secs(args.presign_ttl),
        upload_max_age: Duration::from_secs(args.upload_max_age),
        sweep_interval: Duration::from_secs(args.sweep_interval.max(1)),
        request_timeout: Duration::from_secs(args.request_timeout.max(1)),
        run_workers: !args.no_workers,
        meter_reads_from_events: args.meter_reads_from_events,
        count_queries: args.count_queries,
        meter_build_page: args.meter_build_page.max(1),
        storage: args.storage.resolve()?,
        webhooks: args.webhooks.resolve()?,
        stripe_api_base: args.stripe_api_base.trim_end_matches('/').to_owned(),
        mail: crate::mail::MailConfig {
            smtp_url: args.smtp_url,
            from: args.mail_from,
        },
        trusted_proxies: args.trusted_proxies,
    })
}

/// A moment given on the command line: RFC 3339, or a date at midnight UTC.
fn parse_moment(text: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&chrono::Utc));
    }
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .with_context(|| format!("{text} is neither an RFC 3339 time nor a date"))?;
    Ok(date.and_time(chrono::NaiveTime::MIN).and_utc())
}

fn print_routes() -> anyhow::Result<()> {
    let mut out = String::new();
    for route in app::api_routes().served() {
        out.push_str(&serde_json::to_string(&route)?);
        out.push('\n');
    }
    print_stdout(out.trim_end());
    Ok(())
}

fn print_stdout(line: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
}

/// `floe storage check`: one line per step, and a failing exit status if any step failed.
async fn storage_check(args: &StorageArgs) -> anyhow::Result<()> {
    let StorageConfig::S3(config) = args.resolve()? else {
        println!("ok    local storage needs no check: files live under the data dir");
        return Ok(());
    };
    let steps = crate::storage::s3::check(&config).await;
    let mut failed = 0;
    for step in &steps {
        match &step.outcome {
            Ok(()) => println!("ok    {}", step.what),
            Err(why) => {
                failed += 1;
                println!("FAIL  {}: {why}", step.what);
            }
        }
    }
    anyhow::ensure!(
        failed == 0,
        "{failed} of {} storage checks failed",
        steps.len()
    );
    println!("storage is ready");
    Ok(())
}
