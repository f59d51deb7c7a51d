//! The test harness: a real floe server on an ephemeral port, over a fresh SQLite file or
//! a fresh PostgreSQL database, with organizations and tokens made in one line.
//!
//! PostgreSQL is reached at `FLOE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432`); if it is not there the PostgreSQL variants fail,
//! they never skip.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "shared by test binaries that each use part of it"
)]

use std::time::Duration;

use floe::app::{AppState, Server};
use floe::auth::{Scope, ServerSecret};
use floe::clock::Clock;
use floe::config::Config;
use reqwest::header::HeaderMap;
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn(Backend)` as two tests, `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::common::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            }
        )*
    };
}

/// Knobs a test may turn before the server starts.
pub struct Options {
    pub presign_ttl: Duration,
    pub upload_max_age: Duration,
    pub request_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            presign_ttl: Duration::from_secs(600),
            upload_max_age: Duration::from_secs(86_400),
            request_timeout: Duration::from_secs(30),
        }
    }
}

pub struct TestApp {
    pub base_url: String,
    pub state: AppState,
    pub clock: Clock,
    pub client: reqwest::Client,
    shutdown: CancellationToken,
    server: Option<tokio::task::JoinHandle<()>>,
    postgres_db: Option<String>,
    _dir: tempfile::TempDir,
}

fn postgres_base() -> String {
    std::env::var("FLOE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, Options::default()).await
    }

    pub async fn spawn_with(backend: Backend, options: Options) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (database_url, postgres_db) = match backend {
            Backend::Sqlite => (Config::default_database_url(dir.path()), None),
            Backend::Postgres => {
                let name = format!("floe_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(format!("{}/postgres", postgres_base()))
                    .await
                    .expect("PostgreSQL must be reachable for the postgres tests");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                admin.close().await.ok();
                (format!("{}/{name}", postgres_base()), Some(name))
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base_url = format!("http://{addr}");
        let config = Config {
            listen: addr,
            data_dir: dir.path().to_path_buf(),
            database_url,
            public_url: base_url.clone(),
            presign_ttl: options.presign_ttl,
            upload_max_age: options.upload_max_age,
            sweep_interval: Duration::from_secs(3600),
            request_timeout: options.request_timeout,
            // Tests run the sweep themselves, at the moment they choose.
            run_workers: false,
            meter_reads_from_events: false,
            count_queries: false,
            meter_build_page: 5_000,
            storage: Default::default(),
            webhooks: Default::default(),
            stripe_api_base: "http://127.0.0.1:9".to_owned(),
            mail: floe::mail::MailConfig {
                smtp_url: None,
                from: "floe <no-reply@floe.localhost>".to_owned(),
            },
            trusted_proxies: Vec::new(),
        };
        let clock = Clock::default();
        let server = Server::build(config, clock.clone()).await.unwrap();
        let state = server.state.clone();
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn({
            let shutdown = shutdown.clone();
            async move {
                server.run(listener, shutdown).await.unwrap();
            }
        });
        Self {
            base_url,
            state,
            clock,
            client: reqwest::Client::new(),
            shutdown,
            server: Some(handle),
            postgres_db,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A new organization and a token with every scope.
    pub async fn organization(&self, slug: &str) -> TestOrg {
        let org = floe::organizations::service::create(&self.state.db, &self.clock, slug, slug)
            .await
            .unwrap();
        let token = self
            .token(org.id, &Scope::organization_token_default())
            .await;
        TestOrg { id: org.id, token }
    }

    /// A token of `organization_id` with exactly `scopes`.
    pub async fn token(&self, organization_id: uuid::Uuid, scopes: &[Scope]) -> String {
        let created = floe::auth::store::create_organization_token(
            &self.state.db,
            &self.clock,
            &self.state.secret,
            floe::auth::store::NewOrganizationToken {
                organization_id,
                comment: "test".to_owned(),
                scopes: scopes.to_vec(),
                expires_in: None,
            },
        )
        .await
        .unwrap();
        created.token.expose().to_owned()
    }

    pub fn secret(&self) -> &ServerSecret {
        &self.state.secret
    }

    async fn send(&self, request: reqwest::RequestBuilder, token: &str) -> Reply {
        Reply::of(request.bearer_auth(token).send().await.unwrap()).await
    }

    pub async fn get(&self, token: &str, path: &str) -> Reply {
        self.send(self.client.get(self.url(path)), token).await
    }

    pub async fn post(&self, token: &str, path: &str, body: impl serde::Serialize) -> Reply {
        self.send(self.client.post(self.url(path)).json(&body), token)
            .await
    }

    pub async fn patch(&self, token: &str, path: &str, body: impl serde::Serialize) -> Reply {
        self.send(self.client.patch(self.url(path)).json(&body), token)
            .await
    }

    pub async fn delete(&self, token: &str, path: &str) -> Reply {
        self.send(self.client.delete(self.url(path)), token).await
    }

    /// Creates a file, uploads `data` in parts of `part_size` and completes it.
    pub async fn upload(
        &self,
        token: &str,
        service: &str,
        name: &str,
        mime: &str,
        data: &[u8],
        part_size: usize,
    ) -> Value {
        let created = self
            .create_file(token, service, name, mime, data, part_size)
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        let parts = self.put_parts(&created.body, data).await;
        let completed = self.complete(token, &created.body, &parts).await;
        assert_eq!(completed.status, 200, "{}", completed.body);
        completed.body
    }

    pub async fn create_file(
        &self,
        token: &str,
        service: &str,
        name: &str,
        mime: &str,
        data: &[u8],
        part_size: usize,
    ) -> Reply {
        let body = serde_json::json!({
            "service": service,
            "name": name,
            "mime_type": mime,
            "size": data.len(),
            "upload": {"parts": plan(data.len(), part_size)},
        });
        self.post(token, "/v1/files/", &body).await
    }

    /// PUTs every part of an upload; returns the parts as `files:uploaded` wants them.
    pub async fn put_parts(&self, upload: &Value, data: &[u8]) -> Vec<Value> {
        let mut done = Vec::new();
        for part in upload["upload"]["parts"].as_array().unwrap() {
            let reply = self.put_part(part, data).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            done.push(serde_json::json!({
                "number": part["number"],
                "checksum_etag": reply.headers["etag"].to_str().unwrap(),
                "checksum_sha256_base64": part["checksum_sha256_base64"],
            }));
        }
        done
    }

    /// The presigned download URL of an uploaded file, via `GET /v1/files/{id}/download`.
    pub async fn download_url(&self, token: &str, file: &Value) -> String {
        let id = file["id"].as_str().unwrap();
        let reply = self.get(token, &format!("/v1/files/{id}/download")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["download"]["url"].as_str().unwrap().to_owned()
    }

    /// GET of a URL floe handed out (no token).
    pub async fn fetch(&self, url: &str) -> Reply {
        Reply::of(self.client.get(url).send().await.unwrap()).await
    }

    pub async fn put_part(&self, part: &Value, data: &[u8]) -> Reply {
        let start = part["chunk_start"].as_u64().unwrap() as usize;
        let end = part["chunk_end"].as_u64().unwrap() as usize;
        let mut request = self
            .client
            .put(part["url"].as_str().unwrap())
            .body(data[start..end].to_vec());
        for (name, value) in part["headers"].as_object().unwrap() {
            request = request.header(name, value.as_str().unwrap());
        }
        Reply::of(request.send().await.unwrap()).await
    }

    pub async fn complete(&self, token: &str, upload: &Value, parts: &[Value]) -> Reply {
        let id = upload["id"].as_str().unwrap();
        let body = serde_json::json!({
            "id": upload["upload"]["id"],
            "path": upload["upload"]["path"],
            "parts": parts,
        });
        self.post(token, &format!("/v1/files/{id}/uploaded"), &body)
            .await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.server.take() {
            handle.abort();
        }
        if let Some(name) = self.postgres_db.take() {
            // Drop the test database from a thread of its own: Drop cannot await.
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    if let Ok(admin) =
                        Database::connect(format!("{}/postgres", postgres_base())).await
                    {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                    }
                });
            })
            .join()
            .ok();
        }
    }
}

pub struct TestOrg {
    pub id: uuid::Uuid,
    pub token: String,
}

/// The half-open part plan Polar's uploader sends, in parts of `part_size`.
pub fn plan(size: usize, part_size: usize) -> Vec<Value> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut number = 1;
    while start < size {
        let end = (start + part_size).min(size);
        parts.push(serde_json::json!({"number": number, "chunk_start": start, "chunk_end": end}));
        start = end;
        number += 1;
    }
    parts
}

/// A response, read whole.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub async fn of(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap().to_vec();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            body,
            bytes,
        }
    }
}

/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];
