//! The ingestion ceiling: the batches `bench/ingest.py` posts over HTTP, validated and stored
//! by the same functions (`events::ingest::parse` and `store`, one transaction per batch)
//! but called directly, from 2 tasks, for a fixed time. Prints events per second.
//!
//! usage: ingest-direct DATABASE_URL SECONDS [TASKS] [BATCH]

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
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).cloned().unwrap_or_default();
    let seconds: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let tasks: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2);
    let size: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let db = floe::db::connect(&url).await?;
    let clock = Clock::default();
    let org = floe::organizations::service::create(&db, &clock, "bench", "bench").await?;
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
