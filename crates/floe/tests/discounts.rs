//! The discount redemption the checkout calls, hammered: many buyers, each on a connection
//! of their own, race for the last redemptions of a capped discount on a real database,
//! and exactly the cap wins.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use std::sync::Arc;

use common::{Backend, TestApp};
use floe::discounts::NotRedeemable;
use serde_json::json;
use tokio::sync::Barrier;

on_both_databases!(
    only_the_cap_wins_a_race_for_redemptions,
    per_customer_limits_hold_under_a_race,
    windows_and_deletion_stop_redemptions,
);

const BUYERS: usize = 48;
const CAP: i64 = 7;

async fn discount(app: &TestApp, token: &str, body: serde_json::Value) -> uuid::Uuid {
    let made = app.post(token, "/v1/discounts/", body).await;
    assert_eq!(made.status, 201, "{}", made.body);
    made.body["id"].as_str().unwrap().parse().unwrap()
}

/// Runs `BUYERS` redemptions at once (after a barrier), each in its own write transaction
/// that commits when it won; returns how many won and the reasons the others lost.
async fn race(
    app: &TestApp,
    organization_id: uuid::Uuid,
    discount_id: uuid::Uuid,
    customer: impl Fn(usize) -> Option<uuid::Uuid>,
) -> (usize, Vec<NotRedeemable>) {
    let barrier = Arc::new(Barrier::new(BUYERS));
    let mut buyers = Vec::new();
    for buyer in 0..BUYERS {
        let db = app.state.db.clone();
        let barrier = barrier.clone();
        let customer_id = customer(buyer);
        let now = app.clock.now();
        buyers.push(tokio::spawn(async move {
            barrier.wait().await;
            // SQLite's single writer may be busy past its timeout under this load: a buyer
            // then tries again, as a checkout would.
            loop {
                let Ok(txn) = floe::db::begin_write(&db).await else {
                    tokio::task::yield_now().await;
                    continue;
                };
                let outcome = floe::discounts::redeem(
                    &txn,
                    organization_id,
                    discount_id,
                    customer_id,
                    None,
                    now,
                )
                .await
                .unwrap();
                txn.commit().await.unwrap();
                return outcome;
            }
        }));
    }
    let (mut won, mut lost) = (0, Vec::new());
    for buyer in buyers {
        match buyer.await.unwrap() {
            Ok(_) => won += 1,
            Err(why) => lost.push(why),
        }
    }
    (won, lost)
}

async fn only_the_cap_wins_a_race_for_redemptions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.organization("race").await;
    let id = discount(
        &app,
        &org.token,
        json!({"type": "percentage", "name": "Launch", "duration": "once", "basis_points": 2500,
               "code": "LAUNCH", "max_redemptions": CAP}),
    )
    .await;
    let (won, lost) = race(&app, org.id, id, |_| None).await;
    assert_eq!(won, CAP as usize);
    assert!(lost.iter().all(|why| *why == NotRedeemable::Unavailable));
    let shown = app.get(&org.token, &format!("/v1/discounts/{id}")).await;
    assert_eq!(shown.body["redemptions_count"], json!(CAP));

    // Without a cap every buyer wins, and each is counted once.
    let open = discount(
        &app,
        &org.token,
        json!({"type": "fixed", "name": "Open", "duration": "forever", "amounts": {"usd": 500}}),
    )
    .await;
    let (won, _) = race(&app, org.id, open, |_| None).await;
    assert_eq!(won, BUYERS);
    let shown = app.get(&org.token, &format!("/v1/discounts/{open}")).await;
    assert_eq!(shown.body["redemptions_count"], json!(BUYERS));
}

async fn per_customer_limits_hold_under_a_race(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.organization("per-customer").await;
    let id = discount(
        &app,
        &org.token,
        json!({"type": "percentage", "name": "Twice each", "duration": "once", "basis_points": 1000,
               "max_redemptions_per_customer": 2}),
    )
    .await;
    let customers: Vec<uuid::Uuid> = (0..4).map(|_| uuid::Uuid::new_v4()).collect();
    let (won, lost) = race(&app, org.id, id, |buyer| Some(customers[buyer % 4])).await;
    assert_eq!(won, 8, "two per customer");
    assert!(lost.iter().all(|why| *why == NotRedeemable::CustomerLimit));
    let shown = app.get(&org.token, &format!("/v1/discounts/{id}")).await;
    assert_eq!(shown.body["redemptions_count"], json!(8));
}

async fn windows_and_deletion_stop_redemptions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.organization("windows").await;
    let other = app.organization("other").await;
    let now = app.clock.now();
    let later = discount(
        &app,
        &org.token,
        json!({"type": "percentage", "name": "Later", "duration": "once", "basis_points": 100,
               "starts_at": (now + chrono::Duration::days(1)).to_rfc3339()}),
    )
    .await;
    let over = discount(
        &app,
        &org.token,
        json!({"type": "percentage", "name": "Over", "duration": "once", "basis_points": 100,
               "starts_at": (now - chrono::Duration::days(2)).to_rfc3339(),
               "ends_at": (now - chrono::Duration::days(1)).to_rfc3339()}),
    )
    .await;
    let gone = discount(
        &app,
        &org.token,
        json!({"type": "percentage", "name": "Gone", "duration": "once", "basis_points": 100}),
    )
    .await;
    assert_eq!(
        app.delete(&org.token, &format!("/v1/discounts/{gone}"))
            .await
            .status,
        204
    );
    let redeem = |organization_id, discount_id| {
        let db = app.state.db.clone();
        async move {
            let txn = floe::db::begin_write(&db).await.unwrap();
            let outcome =
                floe::discounts::redeem(&txn, organization_id, discount_id, None, None, now)
                    .await
                    .unwrap();
            txn.commit().await.unwrap();
            outcome
        }
    };
    assert_eq!(redeem(org.id, later).await, Err(NotRedeemable::Unavailable));
    assert_eq!(redeem(org.id, over).await, Err(NotRedeemable::Unavailable));
    assert_eq!(redeem(org.id, gone).await, Err(NotRedeemable::Unknown));
    // Another organization's discount is not there at all.
    let theirs = discount(
        &app,
        &other.token,
        json!({"type": "percentage", "name": "Theirs", "duration": "once", "basis_points": 100}),
    )
    .await;
    assert_eq!(redeem(org.id, theirs).await, Err(NotRedeemable::Unknown));

    // A released redemption frees its place under the cap.
    let capped = discount(
        &app,
        &org.token,
        json!({"type": "percentage", "name": "One", "duration": "once", "basis_points": 100,
               "max_redemptions": 1}),
    )
    .await;
    let first = redeem(org.id, capped).await.unwrap();
    assert_eq!(
        redeem(org.id, capped).await,
        Err(NotRedeemable::Unavailable)
    );
    let txn = floe::db::begin_write(&app.state.db).await.unwrap();
    floe::discounts::release(&txn, first).await.unwrap();
    txn.commit().await.unwrap();
    assert!(redeem(org.id, capped).await.is_ok());
}
