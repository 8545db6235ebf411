//! The hot path's caches never show anything stale, and responses are compressed on request.

use std::io::Read as _;
use std::time::Duration;

use giftwire_core::PlainToken;
use serde_json::Value;

use crate::helpers::{Backend, at, backend_tests, spawn};

async fn a_cached_page_shows_every_change_at_once(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    let ids = app.create_sends(&org, 3).await;
    let path = "/api/v3/send?per_page=5";
    let (_, _, first) = app.get(path, &org.token).await;
    let (_, _, again) = app.get(path, &org.token).await;
    assert_eq!(first, again);

    app.change_status(
        org.org.id,
        ids[1],
        "Sent",
        "2024-02-01T00:00:00Z",
        Some("12.5"),
    )
    .await;
    let (_, _, body) = app.get(path, &org.token).await;
    assert_eq!(body["sends"][1]["status"], "Sent");
    assert_eq!(body["sends"][1]["current_total_cost"], "12.5");
    assert_eq!(body["sends"][0], first["sends"][0]);

    // A new send lands on the same page.
    let more = app.create_sends(&org, 1).await;
    let (_, _, body) = app.get(path, &org.token).await;
    assert_eq!(body["total_count"], 4);
    assert_eq!(body["sends"][3]["id"], more[0].get());

    // A page full before a creation keeps its sends but shows the new total.
    let (_, _, full) = app.get("/api/v3/send?per_page=2", &org.token).await;
    app.create_sends(&org, 1).await;
    let (_, _, after) = app.get("/api/v3/send?per_page=2", &org.token).await;
    assert_eq!(after["sends"], full["sends"]);
    assert_eq!(after["total_count"], 5);
}

async fn a_revoked_token_stops_working_within_the_token_cache_lifetime(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    let (status, _, _) = app.get("/api/v3/send", &org.token).await;
    assert_eq!(status, 200);
    app.store
        .revoke_token(
            PlainToken::from_client(&org.token).hash(),
            at("2024-01-01T00:00:00Z"),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, headers, _) = app.get("/api/v3/send", &org.token).await;
    assert_eq!(status, 401);
    assert_eq!(
        headers["www-authenticate"],
        r#"Bearer realm="giftwire", error="invalid_token""#
    );
}

async fn responses_are_compressed_when_the_client_asks(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    app.create_sends(&org, 30).await;
    let path = "/api/v3/send?per_page=30";
    let plain = app
        .get_raw(path, Some(&format!("Bearer {}", org.token)))
        .await;
    assert!(plain.headers().get("content-encoding").is_none());
    let plain: Value = plain.json().await.unwrap();
    for (encoding, decode) in [
        (
            "gzip",
            (|b: &[u8]| {
                let mut out = String::new();
                flate2::read::GzDecoder::new(b)
                    .read_to_string(&mut out)
                    .unwrap();
                out
            }) as fn(&[u8]) -> String,
        ),
        ("br", |b: &[u8]| {
            let mut out = String::new();
            brotli::Decompressor::new(b, 4096)
                .read_to_string(&mut out)
                .unwrap();
            out
        }),
    ] {
        let response = app
            .client
            .get(app.url(path))
            .bearer_auth(&org.token)
            .header("Accept-Encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-encoding"], encoding);
        assert_eq!(
            response.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        let bytes = response.bytes().await.unwrap();
        let body: Value = serde_json::from_str(&decode(&bytes)).unwrap();
        assert_eq!(body, plain, "{encoding}");
        assert!(
            bytes.len() * 3 < serde_json::to_vec(&plain).unwrap().len(),
            "{encoding} compresses"
        );
    }
}

backend_tests!(
    a_cached_page_shows_every_change_at_once,
    a_revoked_token_stops_working_within_the_token_cache_lifetime,
    responses_are_compressed_when_the_client_asks,
);
