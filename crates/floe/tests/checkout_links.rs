//! `checkout_links::by_client_secret`, what the redirect will start a checkout from: the
//! live link named by its secret, with everything the checkout needs, whatever the
//! organization; nothing for a deleted link, an unknown or a malformed secret.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use common::{Backend, TestApp};
use floe::checkout_links::by_client_secret;
use floe::db::Reads;
use floe::products::schema::Interval;
use serde_json::json;

on_both_databases!(a_link_is_found_by_its_secret_until_deleted);

async fn product(app: &TestApp, token: &str, name: &str) -> uuid::Uuid {
    let made = app
        .post(
            token,
            "/v1/products/",
            json!({"name": name, "prices": [{"amount_type": "fixed", "price_amount": 500}]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    made.body["id"].as_str().unwrap().parse().unwrap()
}

async fn a_link_is_found_by_its_secret_until_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.organization("links").await;
    let (first, second) = (
        product(&app, &org.token, "First").await,
        product(&app, &org.token, "Second").await,
    );
    let sale = app
        .post(
            &org.token,
            "/v1/discounts/",
            json!({"type": "percentage", "name": "Sale", "duration": "once", "basis_points": 500}),
        )
        .await;
    let sale: uuid::Uuid = sale.body["id"].as_str().unwrap().parse().unwrap();
    let made = app
        .post(
            &org.token,
            "/v1/checkout-links/",
            json!({"payment_processor": "stripe", "products": [second, first], "discount_id": sale,
                   "label": "Footer", "success_url": "https://example.com/ok", "return_url": "https://example.com/",
                   "allow_discount_codes": false, "require_billing_address": true,
                   "trial_interval": "month", "trial_interval_count": 1, "metadata": {"source": "footer"}}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let secret = made.body["client_secret"].as_str().unwrap().to_owned();

    let reader = || Reads::from(&app.state.reader);
    let link = by_client_secret(reader(), &secret).await.unwrap().unwrap();
    assert_eq!(link.id.to_string(), made.body["id"].as_str().unwrap());
    assert_eq!(link.organization_id, org.id);
    assert_eq!(link.product_ids, vec![second, first]);
    assert_eq!(link.discount_id, Some(sale));
    assert_eq!(link.label.as_deref(), Some("Footer"));
    assert_eq!(link.success_url.as_deref(), Some("https://example.com/ok"));
    assert_eq!(link.return_url.as_deref(), Some("https://example.com/"));
    assert!(!link.allow_discount_codes && link.require_billing_address);
    assert_eq!(link.seats, None);
    assert_eq!(
        (link.trial_interval, link.trial_interval_count),
        (Some(Interval::Month), Some(1))
    );
    assert_eq!(link.metadata["source"], "footer");

    // A well-formed secret nobody has, a malformed one, another prefix: nothing.
    let unknown = floe::auth::token::generate("polar_cl_");
    assert!(
        by_client_secret(reader(), unknown.expose())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        by_client_secret(reader(), "polar_cl_nope")
            .await
            .unwrap()
            .is_none()
    );
    let renamed = secret.replacen("polar_cl_", "polar_c_x", 1);
    assert!(
        by_client_secret(reader(), &renamed)
            .await
            .unwrap()
            .is_none()
    );

    let id = made.body["id"].as_str().unwrap();
    let deleted = app
        .delete(&org.token, &format!("/v1/checkout-links/{id}"))
        .await;
    assert_eq!(deleted.status, 204);
    assert!(by_client_secret(reader(), &secret).await.unwrap().is_none());
}
