//! Assembling and running the server: shared state, the one route table, middleware, and
//! graceful shutdown.

use std::sync::Arc;

use anyhow::Context;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Router, ServiceExt, middleware};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::Layer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use crate::auth::{ServerSecret, TokenCache};
use crate::clock::Clock;
use crate::config::{Config, StorageConfig};
use crate::http::routes::Routes;
use crate::http::{ApiError, log, version};
use crate::storage::ObjectStorage;
use crate::storage::local::LocalStorage;
use crate::storage::s3::{EmptyParts, S3Storage};
use crate::storage::signing::UrlSigner;
use crate::{customers, db, events, files, meters, openapi, organizations, webhooks};

/// The API's body limit; part uploads to local storage have their own.
pub const BODY_LIMIT: usize = 10 * 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// Where reads outside a transaction go; see [`db::ReadConnection`].
    pub reader: db::ReadConnection,
    pub storage: Arc<dyn ObjectStorage>,
    pub secret: ServerSecret,
    pub clock: Clock,
    pub config: Arc<Config>,
    /// Tokens that authenticated recently; see [`TokenCache`].
    pub tokens: Arc<TokenCache>,
    /// Wakes this process's webhook worker after a commit queued events.
    pub nudge: webhooks::Nudge,
    /// Wakes this process's meter-rollup builder after a meter was created or changed.
    pub meter_builds: Arc<tokio::sync::Notify>,
    /// Wakes this process's benefit-grant worker after an order was paid.
    pub grants: Arc<tokio::sync::Notify>,
    /// Wakes this process's mail worker after a commit queued mail.
    pub mail: Arc<tokio::sync::Notify>,
}

/// A server ready to accept connections.
pub struct Server {
    pub state: AppState,
    router: Router,
}

impl Server {
    /// Connects to the database (migrating it), opens storage and builds the routes.
    pub async fn build(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let mut db = db::connect(&config.database_url)
            .await
            .context("connecting to the database")?;
        if config.count_queries {
            db.set_metric_callback(|_| db::query_count::record());
        }
        let reader = db::ReadConnection::open(&config.database_url, &db)
            .context("opening the database for reading")?;
        let secret = ServerSecret::load_or_create(&config.data_dir)?;
        // Signs the URLs floe itself answers: every part and download on local storage, the
        // empty last parts on S3.
        let signer = UrlSigner::new(secret.clone(), clock.clone(), config.presign_ttl);
        let (storage, storage_routes): (Arc<dyn ObjectStorage>, Router) = match &config.storage {
            StorageConfig::Local => {
                let local = Arc::new(LocalStorage::open(
                    config.data_dir.join("storage"),
                    &config.public_url,
                    signer,
                    clock.clone(),
                )?);
                (local.clone(), crate::storage::local::router(local))
            }
            StorageConfig::S3(s3) => {
                let empty_parts = EmptyParts::new(signer, &config.public_url);
                (
                    Arc::new(S3Storage::new(s3, config.presign_ttl, empty_parts.clone())?),
                    empty_parts.router(),
                )
            }
        };
        let state = AppState {
            db,
            reader,
            storage,
            secret,
            clock,
            config: Arc::new(config),
            tokens: Arc::new(TokenCache::default()),
            nudge: webhooks::Nudge::default(),
            meter_builds: Arc::default(),
            grants: Arc::default(),
            mail: Arc::default(),
        };
        let router = routes(state.clone(), storage_routes);
        Ok(Self { state, router })
    }

    /// Serves on `listener` until `shutdown` fires, then lets requests in flight finish.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let config = self.state.config.clone();
        let sweep = config.run_workers.then(|| {
            files::sweep::spawn(
                self.state.clone(),
                config.sweep_interval,
                config.upload_max_age,
                shutdown.clone(),
            )
        });
        let deliveries = config
            .run_workers
            .then(|| webhooks::worker::spawn(self.state.clone(), shutdown.clone()));
        let expiry = config.run_workers.then(|| {
            crate::checkouts::expiry::spawn(
                self.state.clone(),
                config.sweep_interval,
                shutdown.clone(),
            )
        });
        let documents = config.run_workers.then(|| {
            crate::orders::documents::worker::spawn(
                self.state.clone(),
                config.sweep_interval,
                shutdown.clone(),
            )
        });
        let grants = config.run_workers.then(|| {
            crate::benefits::granting::spawn(
                self.state.clone(),
                config.sweep_interval,
                shutdown.clone(),
            )
        });
        let renewals = config.run_workers.then(|| {
            crate::subscriptions::scheduler::spawn(
                self.state.clone(),
                config.sweep_interval,
                shutdown.clone(),
            )
        });
        let refunds = config.run_workers.then(|| {
            crate::refunds::worker::spawn(
                self.state.clone(),
                config.sweep_interval,
                shutdown.clone(),
            )
        });
        let mail = match config.run_workers {
            true => Some(crate::mail::worker::spawn(
                self.state.clone(),
                crate::mail::Mailer::new(&config.mail, &config.data_dir)?,
                config.sweep_interval,
                shutdown.clone(),
            )),
            false => None,
        };
        let wal = crate::db::wal::spawn(self.state.db.clone(), shutdown.clone());
        let meter_builds = config.run_workers.then(|| {
            crate::meters::rollups::spawn_builder(
                self.state.db.clone(),
                config.meter_build_page,
                self.state.meter_builds.clone(),
                shutdown.clone(),
            )
        });
        let metric_rollups = config.run_workers.then(|| {
            crate::metrics::rollups::spawn(
                self.state.db.clone(),
                config.sweep_interval,
                shutdown.clone(),
            )
        });
        // Trailing slashes are trimmed before routing, so `/v1/files/` and `/v1/files`
        // reach the same handler.
        let app = NormalizePathLayer::trim_trailing_slash().layer(self.router);
        // With the peer's address: the portal's sign-in limits count per IP.
        axum::serve(
            listener,
            ServiceExt::<Request>::into_make_service_with_connect_info::<std::net::SocketAddr>(app),
        )
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await?;
        shutdown.cancel();
        if let Some(sweep) = sweep {
            let _ = sweep.await;
        }
        if let Some(deliveries) = deliveries {
            let _ = deliveries.await;
        }
        if let Some(expiry) = expiry {
            let _ = expiry.await;
        }
        if let Some(documents) = documents {
            let _ = documents.await;
        }
        if let Some(grants) = grants {
            let _ = grants.await;
        }
        if let Some(renewals) = renewals {
            let _ = renewals.await;
        }
        if let Some(refunds) = refunds {
            let _ = refunds.await;
        }
        if let Some(mail) = mail {
            let _ = mail.await;
        }
        if let Some(wal) = wal {
            let _ = wal.await;
        }
        if let Some(meter_builds) = meter_builds {
            let _ = meter_builds.await;
        }
        if let Some(metric_rollups) = metric_rollups {
            let _ = metric_rollups.await;
        }
        Ok(())
    }
}

/// The API's operations, every domain's merged: the one route table.
pub fn api_routes() -> Routes {
    Routes::new()
        .merge(files::routes())
        .merge(organizations::routes())
        .merge(customers::routes())
        .merge(webhooks::routes())
        .merge(events::routes())
        .merge(meters::routes())
        .merge(crate::customer_meters::routes())
        .merge(crate::custom_fields::routes())
        .merge(crate::benefits::routes())
        .merge(crate::products::routes())
        .merge(crate::discounts::routes())
        .merge(crate::checkouts::routes())
        .merge(crate::orders::routes())
        .merge(crate::payments::routes())
        .merge(crate::checkout_links::routes())
        .merge(crate::license_keys::routes())
        .merge(crate::subscriptions::routes())
        .merge(crate::customer_seats::routes())
        .merge(crate::customer_portal::routes())
        .merge(crate::members::routes())
        .merge(crate::wallets::routes())
        .merge(crate::refunds::routes())
        .merge(crate::disputes::routes())
        .merge(crate::metrics::routes())
}

/// The routes served: the API under `/v1` and its `/api/v1` alias, storage, health, the
/// contract document.
fn routes(state: AppState, storage_routes: Router) -> Router {
    let mut api = api_routes().into_router();
    if state.config.count_queries {
        api = api.layer(middleware::from_fn(db::query_count::middleware));
    }
    let api = api
        // Inside the timeout, so a replayed response is as quick as any.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::http::idempotency::middleware,
        ))
        .layer(middleware::from_fn_with_state(
            state.config.request_timeout,
            crate::http::timeout::middleware,
        ))
        .layer(middleware::from_fn(refuse_declared_oversize));
    Router::new()
        .merge(api.clone())
        .nest("/api", api)
        .route("/healthz", get(healthz))
        .route("/{version}/openapi.json", get(openapi::serve))
        .merge(crate::checkouts::pages())
        .merge(crate::customer_portal::pages())
        .with_state(state)
        .merge(storage_routes)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(version::middleware))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .layer(middleware::from_fn(log::middleware))
        .layer(middleware::from_fn(crate::http::close_on_error::middleware))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// An API request whose declared length is over the limit is answered 413 before its body
/// is read (the limit also holds for bodies without a declared length, as they are read).
async fn refuse_declared_oversize(request: Request, next: middleware::Next) -> Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT as u64) {
        return ApiError::PayloadTooLarge(format!(
            "The request body is larger than {} MiB.",
            BODY_LIMIT / (1024 * 1024)
        ))
        .into_response();
    }
    next.run(request).await
}

/// `GET /healthz`: 200 when the database answers.
async fn healthz(State(app): State<AppState>) -> Response {
    if db::ping(&app.db).await {
        (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok"})),
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "database unreachable"})),
        )
            .into_response()
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({"detail": "Not Found"})),
    )
        .into_response()
}

async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(serde_json::json!({"detail": "Method Not Allowed"})),
    )
        .into_response()
}

/// `floe serve`: binds, serves, and stops gracefully on SIGINT or SIGTERM.
pub async fn serve(config: Config, listener: TcpListener) -> anyhow::Result<()> {
    let server = Server::build(config, Clock::default()).await?;
    tracing::info!(
        listen = %listener.local_addr()?,
        public_url = %server.state.config.public_url,
        "floe is serving"
    );
    let shutdown = CancellationToken::new();
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            wait_for_signal().await;
            tracing::info!("shutting down; finishing requests in flight");
            shutdown.cancel();
        }
    });
    server.run(listener, shutdown).await
}

async fn wait_for_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// Text logs by default, one JSON object per line with `--log-json`. `RUST_LOG` filters.
///
/// Lines go through a channel to one writer thread that buffers whatever has queued up and
/// writes it with one syscall, instead of every request taking the stderr lock and making its
/// own `write(2)`: under load that was a fifth of a request's CPU (docs/decisions/0004). The
/// channel applies back-pressure rather than dropping lines. Keep the returned guard alive
/// until exit: dropping it flushes what is still queued.
pub fn init_logging(json: bool) -> tracing_appender::non_blocking::WorkerGuard {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::BufWriter::new(std::io::stderr()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
    guard
}
