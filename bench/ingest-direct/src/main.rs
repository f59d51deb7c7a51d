//! The ingestion ceiling: the batches `bench/ingest.py` posts over HTTP, validated and stored
//! by the same functions (`events::ingest::parse` and `store`, one transaction per batch)
//! but called directly, from 2 tasks, for a fixed time. Prints events per second.
//!
//! usage: ingest-direct DATABASE_URL SECONDS [TASKS] [BATCH]
//!
//! With `--raw-sqlite` first (SQLite only), the ceiling under that one: the rows floe stores
//! for those batches, inserted into the same table (made by floe's migrations, with its
//! indexes) by one prepared statement in one transaction per batch, nothing else: no JSON,
//! no validation, no event types, no meters. What SQLite itself can take on this machine.

use std::time::{Duration, Instant};

use floe::clock::Clock;
use floe::events::ingest;
use serde_json::json;

/// The batch `bench/ingest.py` sends, with a placeholder where each batch's own tag goes.
fn template(size: usize) -> String {
    let events: Vec<serde_json::Value> = (0..size)
        .map(|j| {
            json!({
                "name": "llm.call",
                "external_customer_id": format!("customer-{}", j % 100),
                "external_id": format!("@BATCH@-{j}"),
                "metadata": {"model": "gpt-4o", "tokens": j, "route": "/v1/chat", "ok": true},
            })
        })
        .collect();
    json!({ "events": events }).to_string()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().collect();
    let raw = args.get(1).is_some_and(|a| a == "--raw-sqlite");
    if raw {
        args.remove(1);
    }
    let url = args.get(1).cloned().unwrap_or_default();
    let seconds: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let tasks: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2);
    let size: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let db = floe::db::connect(&url).await?;
    let clock = Clock::default();
    let org = floe::organizations::service::create(&db, &clock, "bench", "bench").await?;
    if raw {
        let rate = raw_sqlite(&url, org.id, seconds, size)?;
        println!("{rate:.0}");
        return Ok(());
    }
    let template = std::sync::Arc::new(template(size));
    let run = uuid::Uuid::new_v4().simple().to_string();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut handles = Vec::new();
    for task in 0..tasks {
        let db = db.clone();
        let template = template.clone();
        let run = run.clone();
        handles.push(tokio::spawn(async move {
            let mut stored = 0u64;
            let mut index = task;
            while Instant::now() < deadline {
                // Like the server, each batch arrives as bytes and is parsed here.
                let bytes = template.replace("@BATCH@", &format!("{run}-{index}"));
                let body: serde_json::Value = serde_json::from_slice(bytes.as_bytes())?;
                let now = chrono::Utc::now();
                let events = ingest::parse(&body, now).map_err(|e| anyhow::anyhow!("{e:?}"))?;
                let txn = floe::db::begin_write(&db).await?;
                let result = ingest::store(&txn, org.id, events, now).await?;
                txn.commit().await?;
                anyhow::ensure!(result.duplicates == 0, "a batch was not new");
                stored += result.inserted;
                index += tasks;
            }
            anyhow::Ok(stored)
        }));
    }
    let mut total = 0;
    for handle in handles {
        total += handle.await??;
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    println!("{rate:.0}");
    Ok(())
}

/// Inserts rows shaped like the benchmark's events straight into floe's `events` table.
fn raw_sqlite(url: &str, org: uuid::Uuid, seconds: u64, size: usize) -> anyhow::Result<f64> {
    let path = url
        .strip_prefix("sqlite://")
        .and_then(|rest| rest.split('?').next())
        .ok_or_else(|| anyhow::anyhow!("--raw-sqlite needs a sqlite:// URL"))?;
    let mut db = rusqlite::Connection::open(path)?;
    db.pragma_update(None, "journal_mode", "wal")?;
    db.pragma_update(None, "synchronous", "normal")?;
    let metadata =
        json!({"model": "gpt-4o", "tokens": 1, "route": "/v1/chat", "ok": true}).to_string();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut stored = 0u64;
    let mut batch = 0u64;
    while Instant::now() < deadline {
        let txn = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut insert = txn.prepare_cached(
                "INSERT INTO events (id, organization_id, timestamp, ingested_at, name, source, \
                 customer_id, external_customer_id, member_id, external_member_id, external_id, \
                 parent_ref, parent_id, metadata) \
                 VALUES (?, ?, ?, ?, 'llm.call', 'user', NULL, ?, NULL, NULL, ?, NULL, NULL, ?) \
                 ON CONFLICT DO NOTHING",
            )?;
            let now = chrono::Utc::now().to_rfc3339();
            for j in 0..size {
                let id = floe::events::new_event_id();
                stored += insert.execute(rusqlite::params![
                    &id.as_bytes()[..],
                    &org.as_bytes()[..],
                    now,
                    now,
                    format!("customer-{}", j % 100),
                    format!("raw-{batch}-{j}"),
                    metadata,
                ])? as u64;
            }
        }
        txn.commit()?;
        batch += 1;
    }
    Ok(stored as f64 / started.elapsed().as_secs_f64())
}
