//! The rules every endpoint follows: authentication and scopes, tenancy, the version
//! header, path aliases, error shapes, limits.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use common::{Backend, TestApp};
use floe::auth::Scope;
use serde_json::json;

on_both_databases!(
    missing_credentials_are_401_with_www_authenticate,
    bad_tokens_are_401_invalid_token,
    a_missing_scope_is_403_insufficient_scope,
    another_organizations_resources_are_404,
    organizations_are_read_with_an_organization_token,
    organization_list_validates_its_query,
    version_header_is_checked_and_echoed,
    paths_answer_with_and_without_slash_and_under_api,
    malformed_bodies_are_422_never_5xx,
    bodies_over_10_mib_are_refused,
    healthz_and_openapi,
);

async fn missing_credentials_are_401_with_www_authenticate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in ["/v1/files/", "/v1/organizations/"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({"error": "Unauthorized", "detail": "Unauthorized"})
        );
    }
    // Another scheme is no credentials either.
    let response = app
        .client
        .get(app.url("/v1/files/"))
        .basic_auth("a", Some("b"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

async fn bad_tokens_are_401_invalid_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.organization("acme").await;
    let mut tampered = org.token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'a' { 'b' } else { 'a' });
    // Well formed but unknown: a token of another server (different secret).
    let foreign = floe::auth::token::generate("polar_oat_");
    for token in [
        "nonsense",
        "polar_oat_short",
        tampered.as_str(),
        foreign.expose(),
        "polar_pat_abc",
    ] {
        let reply = app.get(token, "/v1/files/").await;
        assert_eq!(reply.status, 401, "{token}");
        assert_eq!(reply.body["error"], "invalid_token");
        assert!(reply.body["error_description"].is_string());
        assert!(
            reply.headers["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("invalid_token")
        );
    }
}

async fn a_missing_scope_is_403_insufficient_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.organization("acme").await;
    let read_only = app.token(org.id, &[Scope::FilesRead]).await;
    let unrelated = app.token(org.id, &[Scope::ProductsRead]).await;

    // files:read is enough to list, not to create.
    assert_eq!(app.get(&read_only, "/v1/files/").await.status, 200);
    let reply = app.post(&read_only, "/v1/files/", &json!({})).await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.body["error"], "insufficient_scope");
    assert!(
        reply.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("scope=\"files:write\"")
    );

    let reply = app.get(&unrelated, "/v1/files/").await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.body["error"], "insufficient_scope");
    assert_eq!(app.get(&unrelated, "/v1/organizations/").await.status, 403);
    // Scope is checked before the body is looked at.
    let reply = app
        .post(&unrelated, "/v1/files/", &json!({"nonsense": true}))
        .await;
    assert_eq!(reply.status, 403);
}

async fn another_organizations_resources_are_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let other = app.organization("other").await;
    let file = app
        .upload(
            &acme.token,
            "downloadable",
            "a.txt",
            "text/plain",
            b"hello",
            5,
        )
        .await;
    let id = file["id"].as_str().unwrap();

    assert_eq!(
        app.get(&other.token, &format!("/v1/organizations/{}", acme.id))
            .await
            .status,
        404
    );
    let reply = app
        .get(&other.token, &format!("/v1/files/{id}/download"))
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.body["error"], "ResourceNotFound");
    assert_eq!(
        app.patch(
            &other.token,
            &format!("/v1/files/{id}"),
            &json!({"name": "x"})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.delete(&other.token, &format!("/v1/files/{id}"))
            .await
            .status,
        404
    );
    let listed = app
        .get(
            &other.token,
            &format!("/v1/files/?organization_id={}", acme.id),
        )
        .await;
    assert_eq!(listed.body["items"], json!([]));
    assert_eq!(
        listed.body["pagination"],
        json!({"total_count": 0, "max_page": 0})
    );
    let listed = app.get(&other.token, &format!("/v1/files/?ids={id}")).await;
    assert_eq!(listed.body["pagination"]["total_count"], 0);
    // The owner still has it.
    assert_eq!(
        app.get(&acme.token, &format!("/v1/files/{id}/download"))
            .await
            .status,
        200
    );
}

async fn organizations_are_read_with_an_organization_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    app.organization("other").await;
    let reply = app
        .get(&acme.token, &format!("/v1/organizations/{}", acme.id))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["slug"], "acme");
    assert_eq!(reply.body["status"], "active");
    let list = app.get(&acme.token, "/v1/organizations/").await;
    assert_eq!(
        list.body["pagination"],
        json!({"total_count": 1, "max_page": 1})
    );
    assert_eq!(list.body["items"][0]["id"], acme.id.to_string());
    let by_slug = app.get(&acme.token, "/v1/organizations/?slug=other").await;
    assert_eq!(by_slug.body["items"], json!([]));
    let sorted = app
        .get(&acme.token, "/v1/organizations/?sorting=-name&sorting=slug")
        .await;
    assert_eq!(sorted.status, 200);
}

async fn organization_list_validates_its_query(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let reply = app
        .get(&acme.token, "/v1/organizations/?sorting=bogus")
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.body["error"], "RequestValidationError");
    assert_eq!(
        reply.body["detail"][0]["loc"],
        json!(["query", "sorting", 0])
    );
    for query in ["page=0", "limit=0", "page=abc", "limit=-1"] {
        let reply = app
            .get(&acme.token, &format!("/v1/organizations/?{query}"))
            .await;
        assert_eq!(reply.status, 422, "{query}");
        assert_eq!(reply.body["detail"][0]["loc"][0], "query");
    }
    let reply = app.get(&acme.token, "/v1/organizations/not-a-uuid").await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.body["detail"][0]["loc"], json!(["path", "id"]));
    assert_eq!(reply.body["detail"][0]["type"], "uuid_parsing");
}

async fn version_header_is_checked_and_echoed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let send = |version: Option<&'static str>| {
        let mut request = app
            .client
            .get(app.url("/v1/files/"))
            .bearer_auth(&acme.token);
        if let Some(version) = version {
            request = request.header("Polar-Version", version);
        }
        request.send()
    };
    let response = send(None).await.unwrap();
    assert_eq!(response.headers()["polar-version"], "2026-04");
    for version in ["2026-04", "2026-10", "2027-01"] {
        let response = send(Some(version)).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["polar-version"], version);
    }
    for version in ["2025-01", "latest", ""] {
        let response = send(Some(version)).await.unwrap();
        assert_eq!(response.status(), 404, "{version:?}");
        assert_eq!(
            response.json::<serde_json::Value>().await.unwrap(),
            json!({"detail": "Not Found"})
        );
    }
}

async fn paths_answer_with_and_without_slash_and_under_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    for path in ["/v1/files/", "/v1/files", "/api/v1/files/", "/api/v1/files"] {
        assert_eq!(app.get(&acme.token, path).await.status, 200, "{path}");
    }
    let id = acme.id;
    for path in [
        format!("/v1/organizations/{id}"),
        format!("/v1/organizations/{id}/"),
        format!("/api/v1/organizations/{id}"),
    ] {
        assert_eq!(app.get(&acme.token, &path).await.status, 200, "{path}");
    }
    let reply = app.get(&acme.token, "/v1/nothing-here").await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.body, json!({"detail": "Not Found"}));
    let reply = Reply::of(
        app.client
            .put(app.url("/v1/files/"))
            .bearer_auth(&acme.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 405);
}

use common::Reply;

async fn malformed_bodies_are_422_never_5xx(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let url = app.url("/v1/files/");
    let cases: Vec<(&str, Option<&str>)> = vec![
        ("{", Some("application/json")),
        ("", Some("application/json")),
        ("[]", Some("application/json")),
        ("null", Some("application/json")),
        ("{} trailing", Some("application/json")),
        ("{\"service\": \"downloadable\"}", Some("text/plain")),
        ("{\"service\": \"downloadable\"}", None),
        ("\u{0}\u{1}", Some("application/json")),
    ];
    for (body, content_type) in cases {
        let mut request = app
            .client
            .post(&url)
            .bearer_auth(&acme.token)
            .body(body.to_owned());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let reply = Reply::of(request.send().await.unwrap()).await;
        assert_eq!(
            reply.status, 422,
            "{body:?} {content_type:?}: {}",
            reply.body
        );
        assert_eq!(reply.body["error"], "RequestValidationError");
        assert!(
            reply.body["detail"][0]["loc"][0] == "body",
            "{}",
            reply.body
        );
    }
    let reply = app
        .post(
            &acme.token,
            "/v1/files/",
            &json!({"service": "downloadable", "name": 3}),
        )
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.body["detail"][0]["loc"], json!(["body", "name"]));
    assert_eq!(reply.body["detail"][0]["type"], "string_type");
    let reply = app
        .post(&acme.token, "/v1/files/", &json!({"service": "nope"}))
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.body["detail"][0]["loc"], json!(["body", "service"]));
    let reply = app
        .post(
            &acme.token,
            "/v1/files/",
            &json!({"service": "downloadable", "name": "a", "mime_type": "text/plain", "size": 1}),
        )
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.body["detail"][0]["type"], "missing");
    assert_eq!(reply.body["detail"][0]["loc"], json!(["body", "upload"]));
}

async fn bodies_over_10_mib_are_refused(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    // The answer comes from the declared length, before the body: written by hand, because
    // an HTTP client sending all 11 MiB may find the connection closed under it (a broken
    // pipe instead of the answer) when the server answers first.
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /v1/files/ HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{{\"name\": \"",
        acme.token,
        11 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

async fn healthz_and_openapi(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    for version in ["2026-04", "2026-10", "2027-01"] {
        let spec: serde_json::Value = app
            .client
            .get(app.url(&format!("/{version}/openapi.json")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(spec["info"]["version"], version);
        assert!(spec["paths"]["/v1/files/"].is_object());
    }
    let response = app
        .client
        .get(app.url("/1999-01/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}
