//! The error rows of CONTRACT.md §2 that are not about tokens: unknown routes and methods, rate
//! limits, and an unavailable database (503, then recovery without a restart).

use std::num::NonZeroU32;
use std::time::Duration;

use giftwire_store::StoreOptions;
use serde_json::json;
use sqlx::Connection as _;

use crate::helpers::{Backend, Proxy, TestConfig, backend_tests, spawn, spawn_with};

async fn an_unknown_route_is_a_404_in_the_envelope(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    for path in [
        "/",
        "/api/v3/nope",
        "/api/v2/send",
        "/api/v3/send/extra/path",
        "/api/v3/sendx",
    ] {
        let (status, headers, body) = app.get(path, &org.token).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(headers["content-type"], "application/json; charset=utf-8");
        assert_eq!(
            body,
            json!({"success": false, "message": "Not found"}),
            "{path}"
        );
    }
}

/// A path parameter that does not decode to UTF-8 (`%FF`) names nothing: a 404 in the shape of
/// its part of the server (the envelope, SCIM's error, the pages' HTML), not axum's plain-text 400.
async fn a_path_parameter_that_is_not_utf8_is_a_404_in_its_parts_shape(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    let scim = app.create_token(&org.user, "scim", None).await;
    for (path, token, content_type) in [
        (
            "/api/v3/send/%FF",
            org.token.as_str(),
            "application/json; charset=utf-8",
        ),
        (
            "/api/v3/touches/%FF%FE",
            org.token.as_str(),
            "application/json; charset=utf-8",
        ),
        (
            "/api/scim/v2/Users/%FF",
            scim.as_str(),
            "application/scim+json; charset=utf-8",
        ),
        ("/track/%FF", "", "text/html; charset=utf-8"),
        ("/invitations/%C3%28", "", "text/html; charset=utf-8"),
    ] {
        let response = app
            .get_raw(
                path,
                (!token.is_empty())
                    .then(|| format!("Bearer {token}"))
                    .as_deref(),
            )
            .await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(response.headers()["content-type"], content_type, "{path}");
    }
    // A page's query is read leniently: `return_to` twice is the first one, not a 400.
    let page = app
        .get_raw("/sign_in?return_to=/a&return_to=/b", None)
        .await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(r#"value="/a""#));
}

async fn a_known_route_with_another_method_is_a_405_in_the_envelope(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    let response = app
        .client
        .delete(app.url("/api/v3/send"))
        .bearer_auth(&org.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert!(
        response.headers()["allow"]
            .to_str()
            .unwrap()
            .contains("GET")
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"success": false, "message": "Method DELETE is not allowed on /api/v3/send"})
    );
}

async fn too_many_requests_get_a_429_with_retry_after_and_reset(backend: Backend) {
    let app = spawn_with(
        backend,
        TestConfig {
            rate_limit_per_second: NonZeroU32::new(2),
            ..Default::default()
        },
    )
    .await;
    let org = app.create_org("Acme", "UTC").await;
    let other = app.create_org("Globex", "UTC").await;
    let mut limited = None;
    for _ in 0..10 {
        let response = app
            .get_raw("/api/v3/send", Some(&format!("Bearer {}", org.token)))
            .await;
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
        assert_eq!(response.status(), 200);
    }
    let response = limited.expect("ten requests at once exceed 2 per second");
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let reset: i64 = response.headers()["x-rate-limit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = jiff::Timestamp::now().as_second();
    assert!(reset >= now && reset <= now + 3, "{reset} vs {now}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["success"], false);
    // The limit is per token: another token is unaffected.
    let response = app
        .get_raw("/api/v3/send", Some(&format!("Bearer {}", other.token)))
        .await;
    assert_eq!(response.status(), 200);
    // And it refills.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    let response = app
        .get_raw("/api/v3/send", Some(&format!("Bearer {}", org.token)))
        .await;
    assert_eq!(response.status(), 200);
}

/// SQLite: another process holds the database exclusively.
#[tokio::test]
async fn a_locked_sqlite_database_is_a_503_with_retry_after_and_the_server_recovers() {
    let app = spawn_with(
        Backend::Sqlite,
        TestConfig {
            store: Some(StoreOptions {
                busy_timeout: Duration::from_millis(200),
                acquire_timeout: Duration::from_secs(2),
                idle_timeout: Duration::from_millis(100),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await;
    let org = app.create_org("Acme", "UTC").await;
    app.create_sends(&org, 2).await;
    let (status, _, _) = app.get("/api/v3/send", &org.token).await;
    assert_eq!(status, 200);

    // Another process takes the database for itself, once the server's idle connections (and
    // their shared locks) are closed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let url = app.db.url.clone();
    let mut locker = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("PRAGMA locking_mode = EXCLUSIVE")
        .execute(&mut locker)
        .await
        .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut locker)
        .await
        .unwrap();
    sqlx::query("UPDATE organizations SET name = name")
        .execute(&mut locker)
        .await
        .unwrap();

    assert_unavailable(&app, &org.token).await;

    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
    locker.close().await.unwrap();
    let (status, _, body) = app.get("/api/v3/send", &org.token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total_count"], 2);
}

/// Asserts a 503 in the envelope, with `Retry-After` and nothing internal in the message.
async fn assert_unavailable(app: &crate::helpers::TestApp, token: &str) {
    let (status, headers, body) = app.get("/api/v3/send", token).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(body["success"], false);
    let message = body["message"].as_str().unwrap().to_lowercase();
    for internal in [
        "sqlite",
        "postgres",
        "lock",
        "sql",
        "database is",
        "error returned",
        "connection refused",
    ] {
        assert!(!message.contains(internal), "{message}");
    }
}

/// PostgreSQL: the network between the server and the database goes down, then comes back.
#[tokio::test]
#[cfg_attr(
    not(giftwire_pg),
    ignore = "PostgreSQL half: set GIFTWIRE_TEST_POSTGRES_URL to run it"
)]
async fn an_unreachable_postgres_is_a_503_with_retry_after_and_the_server_recovers() {
    let proxy = Proxy::to_test_postgres().await;
    let via = proxy.addr;
    let app = spawn_with(
        Backend::Postgres,
        TestConfig {
            store: Some(StoreOptions {
                acquire_timeout: Duration::from_secs(1),
                ..Default::default()
            }),
            rewrite_url: Some(Box::new(move |url: &str| Proxy::rewrite(url, via))),
            ..Default::default()
        },
    )
    .await;
    let org = app.create_org("Acme", "UTC").await;
    app.create_sends(&org, 2).await;
    let (status, _, _) = app.get("/api/v3/send", &org.token).await;
    assert_eq!(status, 200);

    proxy.cut();
    assert_unavailable(&app, &org.token).await;
    assert_unavailable(&app, &org.token).await;

    proxy.restore().await;
    let mut recovered = None;
    for _ in 0..50 {
        let (status, _, body) = app.get("/api/v3/send", &org.token).await;
        if status == 200 {
            recovered = Some(body);
            break;
        }
        assert_eq!(status, 503);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = recovered.expect("the server recovers within 5 s of the database's return");
    assert_eq!(body["total_count"], 2);
}

/// PostgreSQL: the pool's only connection is busy (a creation waits for a row another
/// connection holds), so a read gets no connection within the timeout: a 503 for that read, but
/// not an outage: the next request after the creation is served at once.
#[tokio::test]
#[cfg_attr(
    not(giftwire_pg),
    ignore = "PostgreSQL half: set GIFTWIRE_TEST_POSTGRES_URL to run it"
)]
async fn an_exhausted_postgres_pool_is_a_503_for_that_request_and_not_an_outage() {
    let app = spawn_with(
        Backend::Postgres,
        TestConfig {
            store: Some(StoreOptions {
                max_connections: 1,
                acquire_timeout: Duration::from_millis(300),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await;
    let org = app.create_org("Acme", "UTC").await;
    let touch = app
        .create_touch(org.org.id, "eGift", "eGifts USA", "eGift Cards USA", "10")
        .await;
    let mut locker = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut locker).await.unwrap();
    sqlx::query("SELECT id FROM organizations FOR UPDATE")
        .execute(&mut locker)
        .await
        .unwrap();
    let store = app.store.clone();
    let (org_id, sender, touch_id) = (org.org.id, org.user.id, touch.id);
    let creating = tokio::spawn(async move {
        store
            .create_send(
                org_id,
                giftwire_core::store::NewSend {
                    touch: touch_id,
                    sender,
                    recipient: giftwire_core::store::Recipient {
                        name: "Held Up".to_owned(),
                        email: "held@example.com".to_owned(),
                        company_name: None,
                    },
                    sent_via: "API".to_owned(),
                    created_at: jiff::Timestamp::now(),
                    cost: None,
                },
            )
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_unavailable(&app, &org.token).await;

    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
    creating
        .await
        .unwrap()
        .expect("the held-up creation completes");
    // Give the pool's check of the timeout (one connection attempt) time to run.
    tokio::time::sleep(Duration::from_millis(50)).await;
    for _ in 0..3 {
        let (status, _, body) = app.get("/api/v3/send", &org.token).await;
        assert_eq!(status, 200, "the database was never down: {body}");
        assert_eq!(body["total_count"], 1);
    }
}

backend_tests!(
    an_unknown_route_is_a_404_in_the_envelope,
    a_path_parameter_that_is_not_utf8_is_a_404_in_its_parts_shape,
    a_known_route_with_another_method_is_a_405_in_the_envelope,
    too_many_requests_get_a_429_with_retry_after_and_reset,
);
