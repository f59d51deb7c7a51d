//! The files API end to end over HTTP: planning, part uploads, completion, downloads,
//! and everything a client can get wrong along the way.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{Backend, PNG, Reply, TestApp, plan};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

on_both_databases!(
    upload_complete_download_round_trip,
    every_service_kind_and_public_urls,
    part_checksums_are_enforced,
    completion_checks_parts_etags_and_size,
    whole_file_checksum_is_verified,
    images_must_really_be_images,
    plans_are_validated,
    service_rules_are_enforced,
    tampered_and_expired_urls_are_refused,
    part_puts_must_carry_their_exact_length,
    completion_is_idempotent_and_retryable,
    range_downloads,
    unicode_and_hostile_names,
    update_and_delete,
    list_pagination_and_filters,
    sweep_removes_abandoned_uploads,
    concurrent_part_uploads,
);

fn sha256_b64(data: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(data))
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

async fn upload_complete_download_round_trip(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let bytes = data(250_000);
    let created = app
        .create_file(
            &acme.token,
            "downloadable",
            "app.zip",
            "application/zip",
            &bytes,
            100_000,
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let upload = &created.body;
    let id = upload["id"].as_str().unwrap();
    assert_eq!(upload["is_uploaded"], false);
    assert_eq!(
        upload["path"],
        format!("downloadable/{}/{id}/app.zip", acme.id)
    );
    assert_eq!(upload["upload"]["path"], upload["path"]);
    assert_eq!(upload["upload"]["parts"].as_array().unwrap().len(), 3);
    assert_eq!(upload["size_readable"], "244.1 KB");
    // Not listed until uploaded.
    assert_eq!(
        app.get(&acme.token, "/v1/files/").await.body["pagination"]["total_count"],
        0
    );
    assert_eq!(
        app.get(&acme.token, &format!("/v1/files/{id}/download"))
            .await
            .status,
        404
    );

    let parts = app.put_parts(upload, &bytes).await;
    for part in &parts {
        let etag = part["checksum_etag"].as_str().unwrap();
        assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    }
    let done = app.complete(&acme.token, upload, &parts).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let file = done.body;
    assert_eq!(file["is_uploaded"], true);
    assert_eq!(file["service"], "downloadable");
    assert!(file["flagged_malicious_at"].is_null());
    assert!(file.get("public_url").is_none());
    let etag = file["checksum_etag"].as_str().unwrap();
    assert!(etag.ends_with("-3\""), "S3's multipart form: {etag}");
    assert!(file["last_modified_at"].is_string());
    // The part plan served its purpose; later reads of the file do not carry it.
    let plan = {
        use sea_orm::ConnectionTrait;
        use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
        let mut select = Query::select();
        select
            .column(Alias::new("upload_plan"))
            .from(Alias::new("files"))
            .and_where(Expr::col(Alias::new("id")).eq(uuid::Uuid::parse_str(id).unwrap()));
        let row = app.state.db.query_one(&select).await.unwrap().unwrap();
        row.try_get::<String>("", "upload_plan").unwrap()
    };
    assert_eq!(plan, "[]");

    let list = app.get(&acme.token, "/v1/files/").await;
    assert_eq!(
        list.body["pagination"],
        json!({"total_count": 1, "max_page": 1})
    );
    assert_eq!(list.body["items"][0]["id"], id);

    let download = app
        .get(&acme.token, &format!("/v1/files/{id}/download"))
        .await;
    assert_eq!(download.status, 200, "{}", download.body);
    assert_eq!(download.body["download"]["headers"], json!({}));
    let url = download.body["download"]["url"].as_str().unwrap();
    let got = Reply::of(app.client.get(url).send().await.unwrap()).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.bytes, bytes);
    assert_eq!(got.headers["content-type"], "application/zip");
    assert_eq!(
        got.headers["content-disposition"],
        "attachment; filename=\"app.zip\""
    );
    assert_eq!(got.headers["etag"].to_str().unwrap(), etag);
    // A presigned download URL does not need (or accept in place of) a token.
    assert_eq!(
        app.client
            .get(app.url("/v1/files/"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

async fn every_service_kind_and_public_urls(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let media = app
        .upload(
            &acme.token,
            "product_media",
            "cover.png",
            "image/png",
            PNG,
            1 << 20,
        )
        .await;
    let avatar = app
        .upload(
            &acme.token,
            "organization_avatar",
            "logo.png",
            "image/png",
            PNG,
            1 << 20,
        )
        .await;
    let support = app
        .upload(
            &acme.token,
            "support_case_attachment",
            "log.txt",
            "text/plain",
            b"trace",
            1 << 20,
        )
        .await;
    let downloadable = app
        .upload(
            &acme.token,
            "downloadable",
            "a.bin",
            "application/octet-stream",
            b"x",
            1,
        )
        .await;

    for file in [&media, &avatar] {
        let public_url = file["public_url"].as_str().unwrap();
        assert!(public_url.starts_with(&app.base_url));
        let got = Reply::of(app.client.get(public_url).send().await.unwrap()).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.bytes, PNG);
        assert_eq!(got.headers["content-type"], "image/png");
        assert_eq!(got.headers["x-content-type-options"], "nosniff");
    }
    assert!(support.get("public_url").is_none());
    assert!(downloadable.get("public_url").is_none());
    // A private object has no unsigned URL: the public form of its key is refused.
    let private_key = downloadable["path"].as_str().unwrap();
    let forged = app.url(&format!(
        "/_storage/private/{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(private_key)
    ));
    assert_eq!(app.client.get(&forged).send().await.unwrap().status(), 403);
    let forged = app.url(&format!(
        "/_storage/public/{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(private_key)
    ));
    assert_eq!(app.client.get(&forged).send().await.unwrap().status(), 404);

    // Support attachments belong to their case: not listed, not downloadable, not mutable.
    let list = app.get(&acme.token, "/v1/files/?limit=100").await;
    assert_eq!(list.body["pagination"]["total_count"], 3);
    let support_id = support["id"].as_str().unwrap();
    assert_eq!(
        app.get(&acme.token, &format!("/v1/files/{support_id}/download"))
            .await
            .status,
        403
    );
    let reply = app
        .patch(
            &acme.token,
            &format!("/v1/files/{support_id}"),
            &json!({"name": "x"}),
        )
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.body["error"], "NotPermitted");
    assert_eq!(
        app.delete(&acme.token, &format!("/v1/files/{support_id}"))
            .await
            .status,
        403
    );
}

async fn part_checksums_are_enforced(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let bytes = data(20);
    let mut parts = plan(20, 10);
    parts[0]["checksum_sha256_base64"] = json!(sha256_b64(&bytes[..10]));
    parts[1]["checksum_sha256_base64"] = json!(sha256_b64(&bytes[10..]));
    let created = app
        .post(&acme.token, "/v1/files/", &json!({"service": "downloadable", "name": "a", "mime_type": "text/plain", "size": 20, "upload": {"parts": parts}}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let part = &created.body["upload"]["parts"][0];
    assert_eq!(
        part["headers"]["x-amz-checksum-sha256"],
        json!(sha256_b64(&bytes[..10]))
    );
    assert_eq!(part["headers"]["x-amz-sdk-checksum-algorithm"], "SHA256");

    // Wrong bytes under the declared checksum: 400, nothing kept.
    let mut wrong = bytes.clone();
    wrong[3] ^= 1;
    let reply = app.put_part(part, &wrong).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    // Without the declared header: refused too.
    let plain = Reply::of(
        app.client
            .put(part["url"].as_str().unwrap())
            .body(bytes[..10].to_vec())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(plain.status, 400);
    // Then the right bytes.
    let ok = app.put_part(part, &bytes).await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.headers["x-amz-checksum-sha256"],
        sha256_b64(&bytes[..10]).as_str()
    );

    // A part planned without a checksum still verifies one the client sends.
    let created = app
        .create_file(&acme.token, "downloadable", "b", "text/plain", &bytes, 20)
        .await;
    let part = &created.body["upload"]["parts"][0];
    let reply = Reply::of(
        app.client
            .put(part["url"].as_str().unwrap())
            .header("x-amz-checksum-sha256", sha256_b64(b"something else"))
            .body(bytes.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 400);
    let reply = Reply::of(
        app.client
            .put(part["url"].as_str().unwrap())
            .header("x-amz-checksum-sha256", "not base64!")
            .body(bytes.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 400);
    // Nothing was kept: completing names a part that never arrived.
    let done = app
        .complete(
            &acme.token,
            &created.body,
            &[json!({"number": 1, "checksum_etag": "\"abc\"", "checksum_sha256_base64": null})],
        )
        .await;
    assert_eq!(done.status, 422);
}

async fn completion_checks_parts_etags_and_size(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let bytes = data(30);
    let created = app
        .create_file(&acme.token, "downloadable", "a", "text/plain", &bytes, 10)
        .await;
    let upload = &created.body;
    let parts = upload["upload"]["parts"].as_array().unwrap().clone();
    // Only two of three parts uploaded.
    let mut done = Vec::new();
    for part in &parts[..2] {
        let reply = app.put_part(part, &bytes).await;
        done.push(json!({"number": part["number"], "checksum_etag": reply.headers["etag"].to_str().unwrap(), "checksum_sha256_base64": null}));
    }
    let missing = app.complete(&acme.token, upload, &done).await;
    assert_eq!(missing.status, 422, "{}", missing.body);
    assert_eq!(missing.body["detail"][0]["loc"], json!(["body", "parts"]));
    assert!(
        missing.body["detail"][0]["msg"]
            .as_str()
            .unwrap()
            .contains('3')
    );

    // Named but never uploaded.
    let mut with_ghost = done.clone();
    with_ghost.push(json!({"number": 3, "checksum_etag": "\"0123456789abcdef0123456789abcdef\"", "checksum_sha256_base64": null}));
    let reply = app.complete(&acme.token, upload, &with_ghost).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(
        reply.body["detail"][0]["loc"],
        json!(["body", "parts", 2, "checksum_etag"])
    );

    let third = app.put_part(&parts[2], &bytes).await;
    let mut all = done.clone();
    all.push(json!({"number": 3, "checksum_etag": third.headers["etag"].to_str().unwrap(), "checksum_sha256_base64": null}));

    // A wrong ETag.
    let mut wrong = all.clone();
    wrong[1]["checksum_etag"] = json!("\"ffffffffffffffffffffffffffffffff\"");
    let reply = app.complete(&acme.token, upload, &wrong).await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.body["detail"][0]["loc"],
        json!(["body", "parts", 1, "checksum_etag"])
    );
    // A part named twice, a part that is not in the plan.
    let mut twice = all.clone();
    twice.push(all[0].clone());
    assert_eq!(app.complete(&acme.token, upload, &twice).await.status, 422);
    let mut extra = all.clone();
    extra.push(json!({"number": 4, "checksum_etag": "\"x\"", "checksum_sha256_base64": null}));
    assert_eq!(app.complete(&acme.token, upload, &extra).await.status, 422);
    // The wrong upload id or path.
    let mut other = upload.clone();
    other["upload"]["id"] = json!("0123");
    assert_eq!(app.complete(&acme.token, &other, &all).await.status, 422);
    let mut other = upload.clone();
    other["upload"]["path"] = json!("downloadable/x");
    assert_eq!(app.complete(&acme.token, &other, &all).await.status, 422);

    // ETags may come back bare or quoted; parts in any order.
    all.reverse();
    all[0]["checksum_etag"] = json!(all[0]["checksum_etag"].as_str().unwrap().trim_matches('"'));
    let ok = app.complete(&acme.token, upload, &all).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["size"], 30);
}

async fn whole_file_checksum_is_verified(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let bytes = data(25);
    for (declared, expect) in [(sha256_b64(b"other bytes"), 422), (sha256_b64(&bytes), 200)] {
        let created = app
            .post(&acme.token, "/v1/files/", &json!({"service": "downloadable", "name": "a", "mime_type": "text/plain", "size": 25, "checksum_sha256_base64": declared, "upload": {"parts": plan(25, 10)}}))
            .await;
        assert_eq!(created.status, 201);
        let parts = app.put_parts(&created.body, &bytes).await;
        let done = app.complete(&acme.token, &created.body, &parts).await;
        assert_eq!(done.status, expect, "{}", done.body);
        if expect == 200 {
            assert_eq!(done.body["checksum_sha256_base64"], declared);
            assert_eq!(
                done.body["checksum_sha256_hex"],
                hex::encode(Sha256::digest(&bytes))
            );
        }
    }
    let reply = app
        .post(&acme.token, "/v1/files/", &json!({"service": "downloadable", "name": "a", "mime_type": "text/plain", "size": 25, "checksum_sha256_base64": "abc", "upload": {"parts": plan(25, 10)}}))
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.body["detail"][0]["loc"],
        json!(["body", "downloadable", "checksum_sha256_base64"])
    );
}

async fn images_must_really_be_images(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let created = app
        .create_file(
            &acme.token,
            "product_media",
            "cover.png",
            "image/png",
            b"<html>not a png</html>",
            1 << 20,
        )
        .await;
    assert_eq!(created.status, 201);
    let parts = app
        .put_parts(&created.body, b"<html>not a png</html>")
        .await;
    let reply = app.complete(&acme.token, &created.body, &parts).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(
        reply.body["detail"][0]["msg"]
            .as_str()
            .unwrap()
            .contains("image/png")
    );
    let id = created.body["id"].as_str().unwrap();
    // The refused file is gone for good.
    assert_eq!(
        app.complete(&acme.token, &created.body, &parts)
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(&acme.token, &format!("/v1/files/{id}/download"))
            .await
            .status,
        404
    );
    // A PNG declared as JPEG is refused too; an SVG passes.
    let created = app
        .create_file(
            &acme.token,
            "organization_avatar",
            "a.jpg",
            "image/jpeg",
            PNG,
            1 << 20,
        )
        .await;
    let parts = app.put_parts(&created.body, PNG).await;
    assert_eq!(
        app.complete(&acme.token, &created.body, &parts)
            .await
            .status,
        422
    );
    let svg =
        br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>"#;
    let file = app
        .upload(
            &acme.token,
            "product_media",
            "icon.svg",
            "image/svg+xml",
            svg,
            1 << 20,
        )
        .await;
    let got = Reply::of(
        app.client
            .get(file["public_url"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got.bytes, svg);
    assert!(
        got.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
}

async fn plans_are_validated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let create = |size: i64, parts: Value| {
        app.post(&acme.token, "/v1/files/", json!({"service": "downloadable", "name": "a", "mime_type": "text/plain", "size": size, "upload": {"parts": parts}}))
    };
    // Inclusive ends, as an older uploader might send them.
    let reply = create(10, json!([{"number": 1, "chunk_start": 0, "chunk_end": 4}, {"number": 2, "chunk_start": 5, "chunk_end": 9}])).await;
    assert_eq!(reply.status, 422);
    assert!(
        reply.body["detail"][0]["msg"]
            .as_str()
            .unwrap()
            .contains("half-open"),
        "{}",
        reply.body
    );
    assert_eq!(create(10, json!([])).await.status, 422);
    assert_eq!(
        create(0, json!([{"number": 1, "chunk_start": 0, "chunk_end": 0}]))
            .await
            .status,
        422
    );
    assert_eq!(
        create(-5, json!([{"number": 1, "chunk_start": 0, "chunk_end": 0}]))
            .await
            .status,
        422
    );
    assert_eq!(
        create(
            10,
            json!([{"number": 2, "chunk_start": 0, "chunk_end": 10}])
        )
        .await
        .status,
        422
    );
    // Polar's uploader on an exact multiple: a trailing empty part.
    let reply = create(20, json!([{"number": 1, "chunk_start": 0, "chunk_end": 10}, {"number": 2, "chunk_start": 10, "chunk_end": 20}, {"number": 3, "chunk_start": 20, "chunk_end": 20}])).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let bytes = data(20);
    let parts = app.put_parts(&reply.body, &bytes).await;
    let done = app.complete(&acme.token, &reply.body, &parts).await;
    assert_eq!(done.status, 200, "{}", done.body);
    // organization_id is the token's: naming one is refused, as in Polar.
    let reply = app
        .post(&acme.token, "/v1/files/", &json!({"organization_id": acme.id, "service": "downloadable", "name": "a", "mime_type": "text/plain", "size": 1, "upload": {"parts": plan(1, 1)}}))
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.body["detail"][0]["type"], "organization_token");
    assert_eq!(
        reply.body["detail"][0]["loc"],
        json!(["body", "organization_id"])
    );
}

async fn service_rules_are_enforced(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let create = |service: &str, mime: &str, size: i64| {
        app.post(&acme.token, "/v1/files/", json!({"service": service, "name": "a", "mime_type": mime, "size": size, "upload": {"parts": plan(size.max(1) as usize, 1 << 30)}}))
    };
    assert_eq!(
        create("product_media", "image/png", 10 * 1024 * 1024)
            .await
            .status,
        201
    );
    let reply = create("product_media", "image/png", 10 * 1024 * 1024 + 1).await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.body["detail"][0]["loc"],
        json!(["body", "product_media", "size"])
    );
    assert_eq!(
        create("organization_avatar", "image/webp", 1024 * 1024)
            .await
            .status,
        201
    );
    assert_eq!(
        create("organization_avatar", "image/webp", 1024 * 1024 + 1)
            .await
            .status,
        422
    );
    let reply = create("product_media", "application/pdf", 10).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.body["detail"][0]["type"], "string_pattern_mismatch");
    assert_eq!(
        create("organization_avatar", "image/bmp", 10).await.status,
        422
    );
    assert_eq!(
        create(
            "support_case_attachment",
            "application/pdf",
            250 * 1024 * 1024
        )
        .await
        .status,
        201
    );
    assert_eq!(
        create("support_case_attachment", "application/zip", 10)
            .await
            .status,
        422
    );
    assert_eq!(
        create(
            "support_case_attachment",
            "application/pdf",
            250 * 1024 * 1024 + 1
        )
        .await
        .status,
        422
    );
    assert_eq!(
        create("downloadable", "application/x-anything", 10)
            .await
            .status,
        201
    );
    assert_eq!(
        create("downloadable", "text/plain\r\nX-Injected: 1", 10)
            .await
            .status,
        422
    );
    assert_eq!(create("downloadable", "", 10).await.status, 422);
}

async fn tampered_and_expired_urls_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let bytes = data(10);
    let created = app
        .create_file(&acme.token, "downloadable", "a", "text/plain", &bytes, 10)
        .await;
    let part = created.body["upload"]["parts"][0].clone();
    let url = part["url"].as_str().unwrap().to_owned();
    let put = |url: String| {
        let body = bytes.clone();
        let client = app.client.clone();
        async move { Reply::of(client.put(url).body(body).send().await.unwrap()).await }
    };
    // Another part number, another expiry, a forged signature, no signature.
    let tampered = url.replace("partNumber=1", "partNumber=2");
    assert_eq!(put(tampered).await.status, 403);
    let expires = url
        .split("X-Floe-Expires=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let later = (expires.parse::<i64>().unwrap() + 3600).to_string();
    assert_eq!(put(url.replace(&expires, &later)).await.status, 403);
    let signature = url.split("X-Floe-Signature=").nth(1).unwrap().to_owned();
    let mut forged = signature.clone().into_bytes();
    forged[0] = if forged[0] == b'0' { b'1' } else { b'0' };
    assert_eq!(
        put(url.replace(&signature, std::str::from_utf8(&forged).unwrap()))
            .await
            .status,
        403
    );
    assert_eq!(
        put(url.split('?').next().unwrap().to_owned()).await.status,
        403
    );
    let reply = put(url.replace("X-Floe-Signature", "X-Other")).await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.body["error"], "NotPermitted");

    // Past its lifetime the untouched URL is refused too.
    app.clock.advance(chrono::Duration::seconds(601));
    let reply = put(url.clone()).await;
    assert_eq!(reply.status, 403);
    assert!(reply.body["detail"].as_str().unwrap().contains("expired"));
    app.clock.advance(chrono::Duration::seconds(-601));
    assert_eq!(put(url).await.status, 200);

    // Downloads too: a changed disposition or type breaks the signature.
    let file = app
        .upload(
            &acme.token,
            "downloadable",
            "b.txt",
            "text/plain",
            &bytes,
            10,
        )
        .await;
    let url = app.download_url(&acme.token, &file).await;
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 200);
    let changed = url.replace("text%2Fplain", "text%2Fhtml");
    assert_ne!(changed, url);
    assert_eq!(app.client.get(&changed).send().await.unwrap().status(), 403);
    app.clock.advance(chrono::Duration::seconds(601));
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 403);
}

async fn part_puts_must_carry_their_exact_length(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let bytes = data(10);
    let created = app
        .create_file(&acme.token, "downloadable", "a", "text/plain", &bytes, 10)
        .await;
    let url = created.body["upload"]["parts"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    for body in [data(9), data(11), Vec::new()] {
        let reply = Reply::of(
            app.client
                .put(&url)
                .body(body.clone())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, 400, "{} bytes: {}", body.len(), reply.body);
    }
    // A streamed body without Content-Length.
    let stream =
        futures_util::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from(data(10)))]);
    let reply = Reply::of(
        app.client
            .put(&url)
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 411);
    assert_eq!(
        Reply::of(
            app.client
                .put(&url)
                .body(bytes.clone())
                .send()
                .await
                .unwrap()
        )
        .await
        .status,
        200
    );
}

async fn completion_is_idempotent_and_retryable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let bytes = data(20);
    let created = app
        .create_file(&acme.token, "downloadable", "a", "text/plain", &bytes, 10)
        .await;
    let parts = app.put_parts(&created.body, &bytes).await;
    let first = app.complete(&acme.token, &created.body, &parts).await;
    let second = app.complete(&acme.token, &created.body, &parts).await;
    assert_eq!(first.status, 200);
    assert_eq!(second.status, 200);
    assert_eq!(first.body, second.body);
    // A part re-uploaded replaces the earlier one; the completion uses the last.
    let created = app
        .create_file(&acme.token, "downloadable", "b", "text/plain", &bytes, 20)
        .await;
    let part = &created.body["upload"]["parts"][0];
    let first_put = app.put_part(part, &bytes).await;
    let second_put = app.put_part(part, &bytes).await;
    assert_eq!(first_put.headers["etag"], second_put.headers["etag"]);
    let done = app
        .complete(&acme.token, &created.body, &[json!({"number": 1, "checksum_etag": second_put.headers["etag"].to_str().unwrap(), "checksum_sha256_base64": null})])
        .await;
    assert_eq!(done.status, 200);
}

async fn range_downloads(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let bytes = data(1000);
    // Parts of 300 bytes, so ranges cross part boundaries.
    let file = app
        .upload(
            &acme.token,
            "downloadable",
            "r.bin",
            "application/octet-stream",
            &bytes,
            300,
        )
        .await;
    let url = app.download_url(&acme.token, &file).await;
    let range = |spec: &'static str| {
        let client = app.client.clone();
        let url = url.clone();
        async move { Reply::of(client.get(url).header("range", spec).send().await.unwrap()).await }
    };
    let got = range("bytes=250-649").await;
    assert_eq!(got.status, 206);
    assert_eq!(got.headers["content-range"], "bytes 250-649/1000");
    assert_eq!(got.bytes, &bytes[250..650]);
    let got = range("bytes=900-").await;
    assert_eq!(got.bytes, &bytes[900..]);
    let got = range("bytes=-10").await;
    assert_eq!(got.bytes, &bytes[990..]);
    let got = range("bytes=2000-3000").await;
    assert_eq!(got.status, 416);
    assert_eq!(got.headers["content-range"], "bytes */1000");
    // A malformed Range is ignored.
    let got = range("lines=1-2").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.bytes.len(), 1000);
    let head = app.client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], "1000");
}

async fn unicode_and_hostile_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    for name in [
        "résumé 2026.pdf",
        "日本語のファイル.txt",
        "emoji 🚀🔥.bin",
        "../../etc/passwd",
        "..",
        "a/b\\c",
        "quote\"d'.txt",
        "tab\tand\nnewline",
        " spaced ",
    ] {
        let bytes = name.as_bytes().to_vec();
        let file = app
            .upload(
                &acme.token,
                "downloadable",
                name,
                "text/plain",
                &bytes,
                1 << 20,
            )
            .await;
        assert_eq!(file["name"], name);
        let id = file["id"].as_str().unwrap();
        // The key keeps the name, except `.` and `..` segments, which HTTP clients would
        // resolve in a presigned URL's path.
        let key_name = name
            .split('/')
            .map(|s| if s == "." || s == ".." { "_" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        assert!(
            file["path"]
                .as_str()
                .unwrap()
                .ends_with(&format!("{id}/{key_name}"))
        );
        let got = app.fetch(&app.download_url(&acme.token, &file).await).await;
        assert_eq!(got.status, 200, "{name}");
        assert_eq!(got.bytes, bytes, "{name}");
        let disposition = got.headers["content-disposition"].to_str().unwrap();
        assert!(
            disposition.starts_with("attachment; filename=\""),
            "{disposition}"
        );
        if !name.is_ascii() || name.contains(['"', '\n', '\t', '/', '\\']) {
            let encoded = disposition.split("filename*=UTF-8''").nth(1).unwrap();
            let decoded = percent_encoding::percent_decode_str(encoded)
                .decode_utf8()
                .unwrap();
            assert_eq!(decoded, name);
        }
    }
    let too_long = "a".repeat(256);
    let reply = app
        .create_file(
            &acme.token,
            "downloadable",
            &too_long,
            "text/plain",
            b"x",
            1,
        )
        .await;
    assert_eq!(reply.status, 422);
    let reply = app
        .create_file(&acme.token, "downloadable", "", "text/plain", b"x", 1)
        .await;
    assert_eq!(reply.status, 422);
}

async fn update_and_delete(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let file = app
        .upload(
            &acme.token,
            "downloadable",
            "a.txt",
            "text/plain",
            b"abc",
            3,
        )
        .await;
    let id = file["id"].as_str().unwrap();
    let reply = app
        .patch(
            &acme.token,
            &format!("/v1/files/{id}"),
            &json!({"name": "b.txt", "version": "2.0"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["name"], "b.txt");
    assert_eq!(reply.body["version"], "2.0");
    assert!(
        reply.body["path"].as_str().unwrap().ends_with("/a.txt"),
        "the key keeps its name"
    );
    // Absent and null leave fields alone.
    let reply = app
        .patch(
            &acme.token,
            &format!("/v1/files/{id}"),
            &json!({"name": null}),
        )
        .await;
    assert_eq!(reply.body["name"], "b.txt");
    assert_eq!(reply.body["version"], "2.0");
    // Downloads use the new name.
    let url = app.download_url(&acme.token, &file).await;
    let got = app.fetch(&url).await;
    assert_eq!(
        got.headers["content-disposition"],
        "attachment; filename=\"b.txt\""
    );

    assert_eq!(
        app.delete(&acme.token, &format!("/v1/files/{id}"))
            .await
            .status,
        204
    );
    assert_eq!(
        app.delete(&acme.token, &format!("/v1/files/{id}"))
            .await
            .status,
        404
    );
    assert_eq!(
        app.patch(
            &acme.token,
            &format!("/v1/files/{id}"),
            &json!({"name": "c"})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.get(&acme.token, "/v1/files/").await.body["pagination"]["total_count"],
        0
    );
    // The bytes are gone as well: the old URL finds nothing.
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 404);
    let missing = uuid::Uuid::new_v4();
    assert_eq!(
        app.delete(&acme.token, &format!("/v1/files/{missing}"))
            .await
            .status,
        404
    );
}

async fn list_pagination_and_filters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let file = app
            .upload(
                &acme.token,
                "downloadable",
                &format!("f{i}"),
                "text/plain",
                b"x",
                1,
            )
            .await;
        ids.push(file["id"].as_str().unwrap().to_owned());
    }
    let page = app.get(&acme.token, "/v1/files/?limit=2&page=1").await;
    assert_eq!(
        page.body["pagination"],
        json!({"total_count": 5, "max_page": 3})
    );
    assert_eq!(page.body["items"][0]["id"], ids[4], "newest first");
    let page3 = app.get(&acme.token, "/v1/files/?limit=2&page=3").await;
    assert_eq!(page3.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        page3.body["pagination"],
        json!({"total_count": 5, "max_page": 3})
    );
    let all = app.get(&acme.token, "/v1/files/?limit=10").await;
    assert_eq!(
        all.body["pagination"],
        json!({"total_count": 5, "max_page": 1})
    );
    let beyond = app.get(&acme.token, "/v1/files/?limit=2&page=9").await;
    assert_eq!(beyond.body["items"], json!([]));
    assert_eq!(beyond.body["pagination"]["total_count"], 5);
    // Over 100 is clamped.
    let big = app.get(&acme.token, "/v1/files/?limit=1000").await;
    assert_eq!(big.status, 200);
    assert_eq!(big.body["pagination"]["max_page"], 1);
    let filtered = app
        .get(
            &acme.token,
            &format!("/v1/files/?ids={}&ids={}", ids[0], ids[1]),
        )
        .await;
    assert_eq!(filtered.body["pagination"]["total_count"], 2);
    let single = app
        .get(&acme.token, &format!("/v1/files/?ids={}", ids[2]))
        .await;
    assert_eq!(single.body["items"][0]["id"], ids[2]);
    let by_org = app
        .get(
            &acme.token,
            &format!("/v1/files/?organization_id={}", acme.id),
        )
        .await;
    assert_eq!(by_org.body["pagination"]["total_count"], 5);
    let bad = app.get(&acme.token, "/v1/files/?ids=nope").await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["detail"][0]["loc"], json!(["query", "ids", 0]));
}

async fn sweep_removes_abandoned_uploads(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let bytes = data(10);
    let stale = app
        .create_file(
            &acme.token,
            "downloadable",
            "stale",
            "text/plain",
            &bytes,
            5,
        )
        .await;
    let stale_part = stale.body["upload"]["parts"][0].clone();
    assert_eq!(app.put_part(&stale_part, &bytes).await.status, 200);
    let done = app
        .upload(&acme.token, "downloadable", "done", "text/plain", &bytes, 5)
        .await;

    app.clock.advance(chrono::Duration::hours(25));
    let fresh = app
        .create_file(
            &acme.token,
            "downloadable",
            "fresh",
            "text/plain",
            &bytes,
            5,
        )
        .await;
    let report = floe::files::sweep::run_once(&app.state, std::time::Duration::from_secs(86_400))
        .await
        .unwrap();
    assert_eq!(report.abandoned_uploads, 1, "{report:?}");

    // The stale upload is gone: its file, its parts, its URLs.
    let parts =
        vec![json!({"number": 1, "checksum_etag": "\"x\"", "checksum_sha256_base64": null})];
    assert_eq!(
        app.complete(&acme.token, &stale.body, &parts).await.status,
        404
    );
    // The completed file and the fresh upload are untouched.
    let id = done["id"].as_str().unwrap();
    assert_eq!(
        app.get(&acme.token, &format!("/v1/files/{id}/download"))
            .await
            .status,
        200
    );
    let fresh_parts = app.put_parts(&fresh.body, &bytes).await;
    assert_eq!(
        app.complete(&acme.token, &fresh.body, &fresh_parts)
            .await
            .status,
        200
    );
    let again = floe::files::sweep::run_once(&app.state, std::time::Duration::from_secs(86_400))
        .await
        .unwrap();
    assert_eq!(again.abandoned_uploads, 0);
}

async fn concurrent_part_uploads(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.organization("acme").await;
    let bytes = data(64 * 1024 * 8);
    let created = app
        .create_file(
            &acme.token,
            "downloadable",
            "c.bin",
            "application/octet-stream",
            &bytes,
            64 * 1024,
        )
        .await;
    let parts = created.body["upload"]["parts"].as_array().unwrap().clone();
    // Every part twice, all at once.
    let uploads = parts
        .iter()
        .chain(parts.iter())
        .map(|part| app.put_part(part, &bytes));
    let replies = futures_util::future::join_all(uploads).await;
    assert!(replies.iter().all(|r| r.status == 200));
    let done: Vec<Value> = parts
        .iter()
        .zip(&replies)
        .map(|(part, reply)| json!({"number": part["number"], "checksum_etag": reply.headers["etag"].to_str().unwrap(), "checksum_sha256_base64": null}))
        .collect();
    let file = app.complete(&acme.token, &created.body, &done).await;
    assert_eq!(file.status, 200, "{}", file.body);
    let got = app
        .fetch(&app.download_url(&acme.token, &file.body).await)
        .await;
    assert_eq!(got.bytes, bytes);
}
