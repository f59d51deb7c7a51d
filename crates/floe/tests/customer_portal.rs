//! Customer sessions and who may call the portal: a session reaches its own customer for an
//! hour, and not a moment longer; it stops at once when its customer is deleted; the portal
//! and the merchant API each refuse the other's kind of token with 401; expired sessions
//! are purged.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use common::{Backend, TestApp};
use serde_json::json;

on_both_databases!(a_session_reaches_its_customer_for_an_hour);

async fn a_session_reaches_its_customer_for_an_hour(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let customer = app
        .post(
            &acme.token,
            "/v1/customers/",
            json!({"email": "ada@example.com", "name": "Ada"}),
        )
        .await;
    assert_eq!(customer.status, 201, "{}", customer.body);
    let opened = app
        .post(
            &acme.token,
            "/v1/customer-sessions/",
            json!({"customer_id": customer.body["id"], "return_url": "https://acme.example/account"}),
        )
        .await;
    assert_eq!(opened.status, 201, "{}", opened.body);
    let token = opened.body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("polar_cst_"));

    let me = app.get(&token, "/v1/customer-portal/customers/me").await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["email"], "ada@example.com");
    let introspected = app
        .get(&token, "/v1/customer-portal/customer-session/introspect")
        .await;
    assert_eq!(
        introspected.body["return_url"],
        "https://acme.example/account"
    );

    let asked = app
        .post(
            &token,
            "/v1/customer-portal/customers/me/email-update/request",
            json!({"email": "ada.new@example.com"}),
        )
        .await;
    assert_eq!(asked.status, 202, "{}", asked.body);

    // Each API refuses the other's token: 401, as at Polar.
    let portal_with_org_token = app
        .get(&acme.token, "/v1/customer-portal/customers/me")
        .await;
    assert_eq!(portal_with_org_token.status, 401);
    assert_eq!(portal_with_org_token.body["error"], "Unauthorized");
    let merchant_with_session = app.get(&token, "/v1/customers/").await;
    assert_eq!(merchant_with_session.status, 401);
    let garbage = app
        .get("polar_cst_nonsense", "/v1/customer-portal/customers/me")
        .await;
    assert_eq!(
        (garbage.status, garbage.body["error"].as_str()),
        (401, Some("invalid_token"))
    );

    // Valid until its hour is over, then refused.
    app.clock.advance(chrono::Duration::minutes(59));
    assert_eq!(
        app.get(&token, "/v1/customer-portal/customers/me")
            .await
            .status,
        200
    );
    app.clock.advance(chrono::Duration::minutes(1));
    let expired = app.get(&token, "/v1/customer-portal/customers/me").await;
    assert_eq!(
        (expired.status, expired.body["error"].as_str()),
        (401, Some("invalid_token"))
    );
    let purged = floe::customer_portal::sessions::purge_expired(&app.state.db, app.clock.now())
        .await
        .unwrap();
    assert_eq!(purged, 1);
    let purged = floe::customers::email_update::purge_expired(&app.state.db, app.clock.now())
        .await
        .unwrap();
    assert_eq!(purged, 1, "the email change expired after half an hour");

    // A deleted customer's session stops working at once.
    let second = app
        .post(
            &acme.token,
            "/v1/customer-sessions/",
            json!({"customer_id": customer.body["id"]}),
        )
        .await;
    let token = second.body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get(&token, "/v1/customer-portal/customers/me")
            .await
            .status,
        200
    );
    let id = customer.body["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&acme.token, &format!("/v1/customers/{id}"))
            .await
            .status,
        204
    );
    assert_eq!(
        app.get(&token, "/v1/customer-portal/customers/me")
            .await
            .status,
        401
    );
}
