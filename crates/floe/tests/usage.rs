//! Customer meters from usage events, credits and resets, over HTTP on both databases.
//! Credits and resets are system events that benefits and subscriptions will record; the
//! test records them through the same functions.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use chrono::{Duration, Utc};
use common::{Backend, TestApp};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_databases!(customer_meters_follow_consumption_credits_and_resets);

async fn customer_meters_follow_consumption_credits_and_resets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.organization("usage").await;
    let customer = app
        .post(
            &org.token,
            "/v1/customers",
            json!({"email": "ada@example.com", "external_id": "ada"}),
        )
        .await;
    assert_eq!(customer.status, 201, "{}", customer.body);
    let customer_id = Uuid::parse_str(customer.body["id"].as_str().unwrap()).unwrap();
    let meter = app
        .post(
            &org.token,
            "/v1/meters",
            json!({"name": "Tokens", "filter": {"conjunction": "and", "clauses": [{"property": "name", "operator": "eq", "value": "llm"}]},
                   "aggregation": {"func": "sum", "property": "tokens"}}),
        )
        .await;
    assert_eq!(meter.status, 201, "{}", meter.body);
    let meter_id = Uuid::parse_str(meter.body["id"].as_str().unwrap()).unwrap();

    let now = Utc::now();
    let at = |minutes: i64| (now - Duration::minutes(minutes)).to_rfc3339();
    let ingested = app
        .post(
            &org.token,
            "/v1/events/ingest",
            json!({"events": [
                {"name": "llm", "customer_id": customer_id, "timestamp": at(50), "metadata": {"tokens": 100}},
                {"name": "llm", "external_customer_id": "ada", "timestamp": at(40), "metadata": {"tokens": 50}},
                {"name": "other", "customer_id": customer_id, "timestamp": at(40), "metadata": {"tokens": 1000}},
            ]}),
        )
        .await;
    assert_eq!(ingested.body, json!({"inserted": 3, "duplicates": 0}));

    let state = |reply: &common::Reply| -> (f64, i64, f64) {
        let item = &reply.body;
        (
            item["consumed_units"].as_f64().unwrap(),
            item["credited_units"].as_i64().unwrap(),
            item["balance"].as_f64().unwrap(),
        )
    };
    let list = app.get(&org.token, "/v1/customer-meters").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["pagination"]["total_count"], 1);
    let item = &list.body["items"][0];
    assert_eq!(item["customer"]["id"], json!(customer_id));
    assert_eq!(item["meter"]["id"], json!(meter_id));
    assert_eq!(
        (
            item["consumed_units"].as_f64(),
            item["credited_units"].as_i64()
        ),
        (Some(150.0), Some(0))
    );
    let id = item["id"].as_str().unwrap().to_owned();

    // Credits: 500 granted, 700 taken back (the running sum stops at 0), 400 granted.
    let db = &app.state.db;
    let credit = |units: i64, minutes: i64| {
        floe::events::system::meter_credited(
            db,
            org.id,
            customer_id,
            meter_id,
            units,
            false,
            now - Duration::minutes(minutes),
        )
    };
    credit(500, 45).await.unwrap();
    credit(-700, 44).await.unwrap();
    credit(400, 43).await.unwrap();
    let one = app
        .get(&org.token, &format!("/v1/customer-meters/{id}"))
        .await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(state(&one), (150.0, 400, 250.0));

    // A reset starts a new period: only what comes after counts.
    floe::events::system::meter_reset(
        db,
        org.id,
        customer_id,
        meter_id,
        now - Duration::minutes(30),
    )
    .await
    .unwrap();
    credit(100, 20).await.unwrap();
    app.post(
        &org.token,
        "/v1/events/ingest",
        json!({"events": [{"name": "llm", "external_customer_id": "ada", "timestamp": at(10), "metadata": {"tokens": 130}}]}),
    )
    .await;
    let one = app
        .get(&org.token, &format!("/v1/customer-meters/{id}"))
        .await;
    assert_eq!(state(&one), (130.0, 100, -30.0));

    // The customer's state lists the meter; the events list shows the system events, typed.
    let customer_state = app
        .get(&org.token, &format!("/v1/customers/{customer_id}/state"))
        .await;
    let meters: &Vec<Value> = customer_state.body["active_meters"].as_array().unwrap();
    assert_eq!(meters.len(), 1);
    assert_eq!(meters[0]["meter_id"], json!(meter_id));
    assert_eq!(meters[0]["balance"].as_f64(), Some(-30.0));
    let system = app
        .get(&org.token, "/v1/events?source=system&limit=100")
        .await;
    assert_eq!(system.body["pagination"]["total_count"], 5);
    let labels: Vec<&str> = system.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap())
        .collect();
    assert!(
        labels.contains(&"Meter Credited") && labels.contains(&"Meter Reset"),
        "{labels:?}"
    );
    let credited = system.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "meter.credited")
        .unwrap();
    assert_eq!(
        credited["metadata"],
        json!({"meter_id": meter_id.to_string(), "units": 100, "rollover": false})
    );

    // Filters, and another organization sees nothing.
    let by_meter = app
        .get(
            &org.token,
            &format!("/v1/customer-meters?meter_id={meter_id}&external_customer_id=ada"),
        )
        .await;
    assert_eq!(by_meter.body["pagination"]["total_count"], 1);
    let none = app
        .get(
            &org.token,
            &format!("/v1/customer-meters?meter_id={}", Uuid::new_v4()),
        )
        .await;
    assert_eq!(none.body["pagination"]["total_count"], 0);
    let other = app.organization("other").await;
    assert_eq!(
        app.get(&other.token, "/v1/customer-meters").await.body["pagination"]["total_count"],
        0
    );
    assert_eq!(
        app.get(&other.token, &format!("/v1/customer-meters/{id}"))
            .await
            .status,
        404
    );
}
