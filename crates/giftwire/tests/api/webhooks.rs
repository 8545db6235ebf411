//! Webhooks end to end: endpoints managed over HTTP, events delivered by the worker to real
//! receivers on loopback, every signature checked by the Standard Webhooks library
//! (`standardwebhooks`, used as a black box), the retry schedule walked with a manual clock.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use giftwire_core::Clock;
use giftwire_core::store::{EndpointChanges, NewEndpoint};
use giftwire_core::webhooks::EventFilter;
use giftwire_server::webhooks::{WebhookConfig, WebhookSender};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, TestConfig, TestOrg, assert_schema, backend_tests, spawn, spawn_with,
};
use crate::receiver::{Received, Receiver, verifies};

async fn update_token(app: &TestApp, org: &TestOrg) -> String {
    app.create_token(&org.user, "public update", None).await
}

/// Creates an endpoint over HTTP; its id and secret.
async fn create_endpoint(app: &TestApp, token: &str, body: Value) -> (i64, String) {
    let (status, created) = app
        .request(
            reqwest::Method::POST,
            "/api/v3/webhook_endpoints",
            token,
            Some(body),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_schema("webhook-endpoint-created", &created);
    (
        created["id"].as_i64().unwrap(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

/// A pending eGift send of `org`, created at `at`, and the touch it is of.
async fn a_send(app: &TestApp, org: &TestOrg, at: &str) -> giftwire_core::SendId {
    let touch = app
        .create_touch(org.org.id, "Thanks", "eGifts USA", "eGift Cards USA", "10")
        .await;
    app.create_send(
        org.org.id,
        &touch,
        &org.user,
        ("Ada Lovelace", "ada@example.com", None),
        "API",
        at,
    )
    .await
}

fn gid(send: giftwire_core::SendId) -> String {
    giftwire_core::SendGid::of(send).as_str().to_owned()
}

async fn manual_app(backend: Backend, start: &str) -> TestApp {
    spawn_with(
        backend,
        TestConfig {
            clock: Some(Clock::manual(start.parse::<Timestamp>().unwrap())),
            ..Default::default()
        },
    )
    .await
}

async fn deliveries(app: &TestApp, token: &str, endpoint: i64) -> Vec<Value> {
    let (status, body) = app
        .request(
            reqwest::Method::GET,
            &format!("/api/v3/webhook_endpoints/{endpoint}/deliveries?per_page=100"),
            token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_schema("webhook-delivery-list", &body);
    body["deliveries"].as_array().unwrap().clone()
}

async fn every_change_reaches_a_verifying_receiver_signed_and_in_order(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "America/New_York").await;
    let token = update_token(&app, &org).await;
    let receiver = Receiver::start().await;
    let (id, secret) = create_endpoint(
        &app,
        &token,
        json!({"url": receiver.url, "description": "CRM sync"}),
    )
    .await;

    let send = a_send(&app, &org, "2025-03-01T10:00:00Z").await;
    app.change_status(org.org.id, send, "Sent", "2025-03-01T10:00:05Z", None)
        .await;
    app.change_status(org.org.id, send, "Opened", "2025-03-01T11:00:00Z", None)
        .await;
    app.change_status(org.org.id, send, "Clicked", "2025-03-01T11:00:30Z", None)
        .await;
    app.change_status(org.org.id, send, "Used", "2025-03-02T09:00:00Z", None)
        .await;

    let report = app.worker.tick().await.unwrap();
    assert_eq!(report.webhooks_delivered, 5, "{report:?}");
    let got = receiver.received();
    assert_eq!(
        got.iter().map(Received::json).collect::<Vec<_>>(),
        [
            json!({"send_gid": gid(send), "status_changed_at": "2025-03-01T05:00:00-05:00",
                   "type": "send.initiated", "status": "pending"}),
            json!({"send_gid": gid(send), "status_changed_at": "2025-03-01T05:00:05-05:00",
                   "type": "send.sent", "status": "Sent"}),
            json!({"send_gid": gid(send), "status_changed_at": "2025-03-01T06:00:00-05:00",
                   "type": "send.opened", "status": "Opened"}),
            json!({"send_gid": gid(send), "status_changed_at": "2025-03-01T06:00:30-05:00",
                   "type": "send.clicked", "status": "Clicked"}),
            json!({"send_gid": gid(send), "status_changed_at": "2025-03-02T04:00:00-05:00",
                   "type": "send.redeemed", "status": "Used"}),
        ]
    );
    let events = app.store.send_events(org.org.id, send).await.unwrap();
    for (r, event) in got.iter().zip(&events) {
        assert_schema("webhook-body", &r.json());
        assert!(
            verifies(&secret, r),
            "the Standard Webhooks library rejects it"
        );
        assert_eq!(r.header("webhook-id"), format!("msg_{}", event.id));
        for name in ["id", "timestamp", "signature"] {
            assert_eq!(
                r.header(&format!("svix-{name}")),
                r.header(&format!("webhook-{name}"))
            );
        }
        assert_eq!(r.header("content-type"), "application/json");
        let ts: i64 = r.header("webhook-timestamp").parse().unwrap();
        assert!((Timestamp::now().as_second() - ts).abs() < 60);
    }
    // Another secret does not verify it: the signature is the endpoint's.
    let (_, other) = create_endpoint(&app, &token, json!({"url": receiver.url})).await;
    assert!(!verifies(&other, &got[0]));

    let shown = deliveries(&app, &token, id).await;
    assert_eq!(shown.len(), 5);
    assert_eq!(shown[0]["event_type"], "send.redeemed", "newest first");
    for d in &shown {
        assert_eq!(d["state"], "delivered");
        assert_eq!(d["attempt"], 1);
        assert_eq!(d["status_code"], 200);
        assert_eq!(d["send_gid"], gid(send));
        assert!(d["latency_ms"].as_u64().is_some());
        assert_eq!(d["next_attempt_at"], Value::Null);
    }
    // Nothing more is due: a second tick sends nothing again.
    assert_eq!(app.worker.tick().await.unwrap().webhooks_delivered, 0);
    assert_eq!(receiver.received().len(), 5);
}

async fn failed_attempts_follow_the_documented_schedule_and_the_send_waits(backend: Backend) {
    let app = manual_app(backend, "2030-01-01T00:00:00Z").await;
    let org = app.create_org("Acme", "UTC").await;
    let token = update_token(&app, &org).await;
    let receiver = Receiver::start().await;
    receiver.answer(500);
    let (id, secret) = create_endpoint(&app, &token, json!({"url": receiver.url})).await;
    let send = a_send(&app, &org, "2030-01-01T00:00:00Z").await;
    app.change_status(org.org.id, send, "Sent", "2030-01-01T00:00:00Z", None)
        .await;

    let types = |r: &Receiver| -> Vec<String> {
        r.bodies()
            .iter()
            .map(|b| b["type"].as_str().unwrap().to_owned())
            .collect()
    };
    // The first attempt at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    let schedule = [5, 300, 1800, 7200, 18000, 36000, 36000];
    assert_eq!(app.worker.tick().await.unwrap().webhooks_retried, 1);
    for (n, wait) in schedule.iter().enumerate() {
        app.clock.advance(wait - 1);
        app.worker.tick().await.unwrap();
        assert_eq!(receiver.received().len(), n + 1, "not before {wait} s");
        app.clock.advance(1);
        app.worker.tick().await.unwrap();
        let types = types(&receiver);
        let initiated = types.iter().filter(|t| *t == "send.initiated").count();
        assert_eq!(initiated, n + 2, "after {wait} s");
        if n + 2 < 8 {
            // The send's later event waits while its first one is retried.
            assert_eq!(types.len(), initiated, "{types:?}");
        } else {
            // Given up after the eighth attempt, it no longer holds the send back: the next
            // event is tried at once.
            assert_eq!(types.last().unwrap(), "send.sent");
        }
    }
    let all: Vec<Received> = receiver
        .received()
        .into_iter()
        .filter(|r| r.json()["type"] == "send.initiated")
        .collect();
    let first_id = all[0].header("webhook-id").to_owned();
    assert!(
        all.iter().all(|r| r.header("webhook-id") == first_id),
        "one id for every attempt"
    );
    assert!(receiver.received().iter().all(|r| verifies(&secret, r)));
    let shown = deliveries(&app, &token, id).await;
    let initiated = shown
        .iter()
        .find(|d| d["event_type"] == "send.initiated")
        .unwrap();
    assert_eq!(
        initiated["state"], "failed",
        "given up after the eighth attempt"
    );
    assert_eq!(initiated["attempt"], 8);
    assert_eq!(initiated["status_code"], 500);
    assert_eq!(initiated["error"], "the endpoint answered 500");
    assert_eq!(initiated["next_attempt_at"], Value::Null);
    let sent = shown
        .iter()
        .find(|d| d["event_type"] == "send.sent")
        .unwrap();
    assert_eq!(sent["state"], "pending");
    assert_eq!(sent["attempt"], 1);
    assert_eq!(
        sent["next_attempt_at"], "2030-01-02T03:35:10+00:00",
        "5 s after its first failure"
    );

    // The receiver recovers: the retry gets through.
    receiver.answer(204);
    app.clock.advance(5);
    app.worker.tick().await.unwrap();
    assert_eq!(types(&receiver).last().unwrap(), "send.sent");
    let shown = deliveries(&app, &token, id).await;
    let sent = shown
        .iter()
        .find(|d| d["event_type"] == "send.sent")
        .unwrap();
    assert_eq!(sent["state"], "delivered");
    assert_eq!(sent["status_code"], 204);
}

async fn a_receiver_that_fails_then_recovers_gets_every_event_in_order(backend: Backend) {
    let app = manual_app(backend, "2030-01-01T00:00:00Z").await;
    let org = app.create_org("Acme", "UTC").await;
    let token = update_token(&app, &org).await;
    let receiver = Receiver::start().await;
    let (id, secret) = create_endpoint(&app, &token, json!({"url": receiver.url})).await;
    receiver.answer(503);
    let mut sends = Vec::new();
    for i in 0..3 {
        let send = a_send(&app, &org, "2030-01-01T00:00:00Z").await;
        app.change_status(org.org.id, send, "Sent", "2030-01-01T00:00:00Z", None)
            .await;
        if i == 0 {
            app.change_status(org.org.id, send, "Opened", "2030-01-01T00:00:00Z", None)
                .await;
        }
        sends.push(send);
    }
    app.worker.tick().await.unwrap();
    app.clock.advance(5);
    app.worker.tick().await.unwrap();
    // Down: each send's first event was tried twice; no later event was.
    assert_eq!(receiver.received().len(), 6);
    receiver.answer(200);
    app.clock.advance(300);
    app.worker.tick().await.unwrap();

    let mut per_send: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for r in receiver.received() {
        let body = r.json();
        assert!(verifies(&secret, &r));
        per_send
            .entry(body["send_gid"].as_str().unwrap().to_owned())
            .or_default()
            .push((
                body["type"].as_str().unwrap().to_owned(),
                r.header("webhook-id").to_owned(),
            ));
    }
    for (i, send) in sends.iter().enumerate() {
        let got: Vec<&str> = per_send[&gid(*send)]
            .iter()
            .map(|(t, _)| t.as_str())
            .collect();
        let mut want = vec![
            "send.initiated",
            "send.initiated",
            "send.initiated",
            "send.sent",
        ];
        if i == 0 {
            want.push("send.opened");
        }
        assert_eq!(got, want, "send {i}");
    }
    let shown = deliveries(&app, &token, id).await;
    assert!(shown.iter().all(|d| d["state"] == "delivered"), "{shown:?}");
}

async fn event_filters_and_disabled_endpoints_get_only_what_they_want(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    let token = update_token(&app, &org).await;
    let (wants_sent, all, disabled) = (
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    );
    let (filtered, _) = create_endpoint(
        &app,
        &token,
        json!({"url": wants_sent.url, "events": ["send.sent", "send.redeemed"]}),
    )
    .await;
    create_endpoint(&app, &token, json!({"url": all.url})).await;
    let (off, _) = create_endpoint(&app, &token, json!({"url": disabled.url})).await;
    let (status, body) = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v3/webhook_endpoints/{off}"),
            &token,
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["enabled"], false);
    assert_eq!(body["disabled_reason"], "manual");

    // Now, so that no deadline (the eGift's expiry) is due at the ticks.
    let now = Timestamp::now().to_string();
    let send = a_send(&app, &org, &now).await;
    app.change_status(org.org.id, send, "Sent", &now, None)
        .await;
    app.change_status(org.org.id, send, "Opened", &now, None)
        .await;
    app.worker.tick().await.unwrap();
    let types = |r: &Receiver| -> Vec<String> {
        r.bodies()
            .iter()
            .map(|b| b["type"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(types(&wants_sent), ["send.sent"]);
    assert_eq!(types(&all), ["send.initiated", "send.sent", "send.opened"]);
    assert!(disabled.received().is_empty());
    assert!(
        deliveries(&app, &token, off).await.is_empty(),
        "nothing queued while disabled"
    );

    // Enabled again, it gets what happens from then on; the filter can be widened to all.
    app.request(
        reqwest::Method::PATCH,
        &format!("/api/v3/webhook_endpoints/{off}"),
        &token,
        Some(json!({"enabled": true})),
    )
    .await;
    let (status, body) = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v3/webhook_endpoints/{filtered}"),
            &token,
            Some(json!({"events": null})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["events"].as_array().unwrap().len(), 28);
    app.change_status(org.org.id, send, "Clicked", &now, None)
        .await;
    app.worker.tick().await.unwrap();
    assert_eq!(types(&disabled), ["send.clicked"]);
    assert_eq!(types(&wants_sent), ["send.sent", "send.clicked"]);
}

async fn a_rotated_secret_signs_beside_the_previous_one_for_24_hours(backend: Backend) {
    let app = manual_app(backend, "2030-01-01T00:00:00Z").await;
    let org = app.create_org("Acme", "UTC").await;
    let token = update_token(&app, &org).await;
    let receiver = Receiver::start().await;
    let (id, old) = create_endpoint(&app, &token, json!({"url": receiver.url})).await;
    let (status, rotated) = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v3/webhook_endpoints/{id}/rotate_secret"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    assert_schema("webhook-secret", &rotated);
    assert_eq!(rotated["id"], id);
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);

    a_send(&app, &org, "2030-01-01T00:00:00Z").await;
    app.worker.tick().await.unwrap();
    let during = receiver.received().pop().unwrap();
    assert_eq!(during.header("webhook-signature").split(' ').count(), 2);
    assert!(verifies(&new, &during) && verifies(&old, &during));

    app.clock.advance(24 * 3600);
    a_send(&app, &org, "2030-01-02T00:00:00Z").await;
    app.worker.tick().await.unwrap();
    let after = receiver.received().pop().unwrap();
    assert_eq!(after.header("webhook-signature").split(' ').count(), 1);
    assert!(verifies(&new, &after));
    assert!(
        !verifies(&old, &after),
        "the previous secret no longer signs"
    );
}

async fn endpoint_urls_must_be_https_to_public_addresses(backend: Backend) {
    let app = spawn_with(
        backend,
        TestConfig {
            webhooks: Some(WebhookConfig::default()),
            ..Default::default()
        },
    )
    .await;
    let org = app.create_org("Acme", "UTC").await;
    let token = update_token(&app, &org).await;
    for (url, why) in [
        ("http://hooks.example.com/in", "it must be https"),
        ("https://127.0.0.1/in", "127.0.0.1 is a private"),
        ("https://[::1]/in", "::1 is a private"),
        ("https://10.1.2.3/in", "10.1.2.3 is a private"),
        (
            "https://169.254.169.254/latest",
            "169.254.169.254 is a private",
        ),
        ("https://localhost/in", "resolves to"),
        ("https://user:pw@hooks.example.com/", "credentials"),
        ("ftp://hooks.example.com/", "https URL"),
    ] {
        let (status, body) = app
            .request(
                reqwest::Method::POST,
                "/api/v3/webhook_endpoints",
                &token,
                Some(json!({ "url": url })),
            )
            .await;
        assert_eq!(status, 400, "{url}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.starts_with("url is invalid: "), "{message}");
        assert!(message.contains(why), "{url}: {message}");
    }
    let (_, listed) = app
        .request(
            reqwest::Method::GET,
            "/api/v3/webhook_endpoints",
            &token,
            None,
        )
        .await;
    assert_eq!(listed["total_endpoints"], 0, "nothing was created");

    // Checked again when connecting: an endpoint on loopback (made while private addresses
    // were allowed) gets nothing from a worker that does not allow them.
    let receiver = Receiver::start().await;
    let endpoint = app
        .store
        .create_endpoint(NewEndpoint {
            org_id: org.org.id,
            url: receiver.url.clone(),
            events: EventFilter::all(),
            description: String::new(),
            secret: app.webhooks.new_secret().1,
            at: Timestamp::now(),
        })
        .await
        .unwrap();
    a_send(&app, &org, "2025-03-01T10:00:00Z").await;
    let report = app.sender.deliver_due().await.unwrap();
    assert_eq!(report.retried, 1);
    assert!(receiver.received().is_empty());
    let shown = deliveries(&app, &token, endpoint.id).await;
    assert!(
        shown[0]["error"]
            .as_str()
            .unwrap()
            .contains("it must be https"),
        "{shown:?}"
    );
    // Over https, the name is resolved at connection time and its loopback address refused.
    app.store
        .update_endpoint(
            None,
            endpoint.id,
            EndpointChanges {
                url: Some(
                    receiver
                        .url
                        .replace("http://127.0.0.1", "https://localhost"),
                ),
                ..Default::default()
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    let late = a_send(&app, &org, "2025-03-01T10:00:00Z").await;
    app.sender.deliver_due().await.unwrap();
    let shown = deliveries(&app, &token, endpoint.id).await;
    let d = shown.iter().find(|d| d["send_gid"] == gid(late)).unwrap();
    assert!(
        d["error"].as_str().unwrap().contains("private, loopback"),
        "{d}"
    );
    assert!(receiver.received().is_empty());
}

async fn organizations_never_see_each_others_endpoints_or_events(backend: Backend) {
    let app = spawn(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    let globex = app.create_org("Globex", "UTC").await;
    let (acme_token, globex_token) = (
        update_token(&app, &acme).await,
        update_token(&app, &globex).await,
    );
    let (acme_rx, globex_rx) = (Receiver::start().await, Receiver::start().await);
    let (acme_id, _) = create_endpoint(&app, &acme_token, json!({"url": acme_rx.url})).await;
    create_endpoint(&app, &globex_token, json!({"url": globex_rx.url})).await;
    let acme_send = a_send(&app, &acme, "2025-03-01T10:00:00Z").await;
    let globex_send = a_send(&app, &globex, "2025-03-01T10:00:00Z").await;
    app.worker.tick().await.unwrap();
    let gids = |r: &Receiver| -> Vec<String> {
        r.bodies()
            .iter()
            .map(|b| b["send_gid"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(gids(&acme_rx), [gid(acme_send)]);
    assert_eq!(gids(&globex_rx), [gid(globex_send)]);

    let (_, listed) = app
        .request(
            reqwest::Method::GET,
            "/api/v3/webhook_endpoints",
            &globex_token,
            None,
        )
        .await;
    assert_eq!(listed["total_endpoints"], 1);
    assert_ne!(listed["endpoints"][0]["id"], acme_id);
    for (method, path, body) in [
        (
            reqwest::Method::GET,
            format!("/api/v3/webhook_endpoints/{acme_id}"),
            None,
        ),
        (
            reqwest::Method::PATCH,
            format!("/api/v3/webhook_endpoints/{acme_id}"),
            Some(json!({"enabled": false})),
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/v3/webhook_endpoints/{acme_id}"),
            None,
        ),
        (
            reqwest::Method::GET,
            format!("/api/v3/webhook_endpoints/{acme_id}/deliveries"),
            None,
        ),
        (
            reqwest::Method::POST,
            format!("/api/v3/webhook_endpoints/{acme_id}/rotate_secret"),
            None,
        ),
    ] {
        let (status, answer) = app
            .request(method.clone(), &path, &globex_token, body)
            .await;
        assert_eq!(status, 404, "{method} {path}");
        assert_eq!(
            answer,
            json!({"success": false, "message": "Webhook endpoint not found"})
        );
    }
    let still = app.store.endpoint(None, acme_id).await.unwrap();
    assert!(still.enabled);
}

async fn endpoints_are_managed_over_http_in_the_api_error_shape(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "America/Los_Angeles").await;
    let token = update_token(&app, &org).await;
    let public = app.create_token(&org.user, "public", None).await;
    let url = "http://127.0.0.1:9/hook";

    let (status, created) = app.request(reqwest::Method::POST,
        "/api/v3/webhook_endpoints",
        &token,
        Some(json!({"url": url, "events": ["send.delivered", "send.sent"], "description": "Ops"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["url"], url);
    assert_eq!(created["events"], json!(["send.delivered", "send.sent"]));
    assert_eq!(created["enabled"], true);
    assert_eq!(created["description"], "Ops");
    assert_eq!(created["disabled_reason"], Value::Null);
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    // The secret is stored sealed, and never shown again.
    let stored = app.store.endpoint(None, id).await.unwrap();
    assert!(stored.secret.starts_with("v1."));
    assert!(!stored.secret.contains(created["secret"].as_str().unwrap()));
    let (status, shown) = app
        .request(
            reqwest::Method::GET,
            &format!("/api/v3/webhook_endpoints/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_schema("webhook-endpoint", &shown);
    assert_eq!(shown.get("secret"), None);
    assert!(
        shown["created_at"].as_str().unwrap().ends_with("-07:00")
            || shown["created_at"].as_str().unwrap().ends_with("-08:00")
    );

    let (status, listed) = app
        .request(
            reqwest::Method::GET,
            "/api/v3/webhook_endpoints?per_page=1&page=1",
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_schema("webhook-endpoint-list", &listed);
    assert_eq!(listed["current_page"], 1);
    assert_eq!(listed["per_page"], 1);
    assert_eq!(listed["total_endpoints"], 1);
    assert_eq!(listed["endpoints"][0], shown);

    let (status, changed) = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v3/webhook_endpoints/{id}"),
            &token,
            Some(json!({"description": "Finance", "url": "http://127.0.0.1:10/other"})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_schema("webhook-endpoint", &changed);
    assert_eq!(changed["description"], "Finance");
    assert_eq!(changed["url"], "http://127.0.0.1:10/other");
    assert_eq!(
        changed["events"],
        json!(["send.delivered", "send.sent"]),
        "kept"
    );

    for (body, message) in [
        (
            json!({"url": url, "events": ["send.nope"]}),
            "events: \"send.nope\" is not an event type (one of the 28 documented send.* types)",
        ),
        (
            json!({"url": url, "events": []}),
            "events must name at least one event type (or be null for all of them)",
        ),
        (
            json!({"url": url, "events": "send.sent"}),
            "events is invalid",
        ),
        (
            json!({"url": url, "secret": "whsec_x"}),
            "secret is not a field of a webhook endpoint (url, events, description, enabled)",
        ),
        (json!({"events": ["send.sent"]}), "url can't be blank"),
        (
            json!({"url": "nope"}),
            "url is invalid: relative URL without a base",
        ),
        (
            json!({"url": url, "description": "x".repeat(501)}),
            "description is longer than 500 characters",
        ),
        (
            json!({"url": url, "enabled": false}),
            "enabled is not set at creation: an endpoint starts enabled",
        ),
        (json!([1]), "The request body must be a JSON object"),
    ] {
        let (status, answer) = app
            .request(
                reqwest::Method::POST,
                "/api/v3/webhook_endpoints",
                &token,
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert_schema("error", &answer);
        assert_eq!(
            answer,
            json!({"success": false, "message": message}),
            "{body}"
        );
    }
    let (_, listed) = app
        .request(
            reqwest::Method::GET,
            "/api/v3/webhook_endpoints",
            &token,
            None,
        )
        .await;
    assert_eq!(
        listed["total_endpoints"], 1,
        "refused creations wrote nothing"
    );

    // Scope `update` for every route, reads included.
    let (status, answer) = app
        .request(
            reqwest::Method::GET,
            "/api/v3/webhook_endpoints",
            &public,
            None,
        )
        .await;
    assert_eq!(status, 403, "{answer}");
    for path in [
        "/api/v3/webhook_endpoints/999999",
        "/api/v3/webhook_endpoints/abc",
        "/api/v3/webhook_endpoints/999999/deliveries",
    ] {
        let (status, answer) = app.request(reqwest::Method::GET, path, &token, None).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(
            answer,
            json!({"success": false, "message": "Webhook endpoint not found"})
        );
    }

    let (status, gone) = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v3/webhook_endpoints/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(gone, Value::Null);
    let (status, _) = app
        .request(
            reqwest::Method::GET,
            &format!("/api/v3/webhook_endpoints/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 404);
}

async fn a_replayed_event_is_delivered_again_with_its_id(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    let token = update_token(&app, &org).await;
    let receiver = Receiver::start().await;
    create_endpoint(&app, &token, json!({"url": receiver.url})).await;
    let send = a_send(&app, &org, "2025-03-01T10:00:00Z").await;
    app.worker.tick().await.unwrap();
    let event = app.store.send_events(org.org.id, send).await.unwrap()[0].id;
    assert_eq!(
        app.store
            .replay_event(Some(org.org.id), event, Timestamp::now())
            .await
            .unwrap(),
        1
    );
    let other = app.create_org("Globex", "UTC").await;
    assert!(
        app.store
            .replay_event(Some(other.org.id), event, Timestamp::now())
            .await
            .is_err()
    );
    app.worker.tick().await.unwrap();
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    assert_eq!(got[0].body, got[1].body);
}

async fn redirects_are_not_followed_and_any_2xx_succeeds(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    let token = update_token(&app, &org).await;
    let receiver = Receiver::start().await;
    let (id, _) = create_endpoint(&app, &token, json!({"url": receiver.url})).await;
    receiver.answer(302);
    a_send(&app, &org, "2025-03-01T10:00:00Z").await;
    app.worker.tick().await.unwrap();
    let shown = deliveries(&app, &token, id).await;
    assert_eq!(shown[0]["status_code"], 302);
    assert_eq!(shown[0]["state"], "pending");
    assert_eq!(
        receiver.received().len(),
        1,
        "the redirect was not followed"
    );
    receiver.answer(202);
    a_send(&app, &org, "2025-03-01T10:00:00Z").await;
    app.worker.tick().await.unwrap();
    let shown = deliveries(&app, &token, id).await;
    assert_eq!(shown[0]["status_code"], 202);
    assert_eq!(shown[0]["state"], "delivered");
}

async fn a_slow_receiver_does_not_hold_the_others(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    let token = update_token(&app, &org).await;
    let (slow, fast) = (Receiver::start().await, Receiver::start().await);
    slow.delay(2_000);
    create_endpoint(&app, &token, json!({"url": slow.url})).await;
    create_endpoint(&app, &token, json!({"url": fast.url})).await;
    for _ in 0..5 {
        a_send(&app, &org, "2025-03-01T10:00:00Z").await;
    }
    let started = Instant::now();
    let sender: WebhookSender = app.sender.clone();
    let run = tokio::spawn(sender.run(Duration::from_millis(50), std::future::pending()));
    while fast.received().len() < 5 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the fast receiver waits"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let fast_done = started.elapsed();
    assert!(
        slow.received().is_empty(),
        "the slow one is still answering"
    );
    while slow.received().len() < 5 {
        assert!(started.elapsed() < Duration::from_secs(20));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Its five deliveries were posted at once, not one after the other.
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert!(fast_done < Duration::from_millis(1_500), "{fast_done:?}");
    run.abort();
}

async fn an_endpoint_failing_for_five_days_is_disabled(backend: Backend) {
    let app = manual_app(backend, "2030-01-01T00:00:00Z").await;
    let org = app.create_org("Acme", "UTC").await;
    let token = update_token(&app, &org).await;
    let receiver = Receiver::start().await;
    receiver.answer(500);
    let (id, _) = create_endpoint(&app, &token, json!({"url": receiver.url})).await;
    // A send a day, failing; the worker ticks twice a day.
    for day in 0..=5 {
        a_send(&app, &org, &format!("2030-01-0{}T00:00:00Z", day + 1)).await;
        app.worker.tick().await.unwrap();
        let endpoint = app.store.endpoint(None, id).await.unwrap();
        assert_eq!(endpoint.enabled, day < 5, "day {day}");
        app.clock.advance(12 * 3600);
        app.worker.tick().await.unwrap();
        app.clock.advance(12 * 3600);
    }
    let (_, shown) = app
        .request(
            reqwest::Method::GET,
            &format!("/api/v3/webhook_endpoints/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(shown["enabled"], false);
    assert_eq!(shown["disabled_reason"], "failing");
    let before = receiver.received().len();
    a_send(&app, &org, "2030-01-07T00:00:00Z").await;
    app.worker.tick().await.unwrap();
    assert_eq!(
        receiver.received().len(),
        before,
        "a disabled endpoint gets nothing"
    );

    // Enabled again (and answering), what was still pending is delivered.
    receiver.answer(200);
    let (_, shown) = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v3/webhook_endpoints/{id}"),
            &token,
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(shown["disabled_reason"], Value::Null);
    app.worker.tick().await.unwrap();
    assert!(receiver.received().len() > before);
    assert!(
        app.store
            .endpoint(None, id)
            .await
            .unwrap()
            .failing_since
            .is_none()
    );
}

async fn a_failure_after_a_quiet_day_starts_a_new_run_of_failures(backend: Backend) {
    let app = manual_app(backend, "2030-01-01T00:00:00Z").await;
    let org = app.create_org("Acme", "UTC").await;
    let token = update_token(&app, &org).await;
    let receiver = Receiver::start().await;
    receiver.answer(500);
    let (id, _) = create_endpoint(&app, &token, json!({"url": receiver.url})).await;
    a_send(&app, &org, "2030-01-01T00:00:00Z").await;
    // Its eight attempts fail, over 27 h 35 min 5 s; then nothing happens for days.
    app.worker.tick().await.unwrap();
    for wait in [5, 300, 1800, 7200, 18000, 36000, 36000] {
        app.clock.advance(wait);
        app.worker.tick().await.unwrap();
    }
    assert_eq!(receiver.received().len(), 8);
    let first_run = app.store.endpoint(None, id).await.unwrap().failing_since;
    assert_eq!(first_run, Some("2030-01-01T00:00:00Z".parse().unwrap()));
    app.clock.advance(6 * 24 * 3600);
    let now = app.clock.now();
    a_send(&app, &org, &now.to_string()).await;
    app.worker.tick().await.unwrap();
    // One failure a week after the first run is not a week of failures.
    let endpoint = app.store.endpoint(None, id).await.unwrap();
    assert!(endpoint.enabled);
    assert_eq!(endpoint.failing_since, Some(now));
}

async fn an_attempt_whose_claim_lost_its_lease_records_nothing(backend: Backend) {
    let app = manual_app(backend, "2030-01-01T00:00:00Z").await;
    let org = app.create_org("Acme", "UTC").await;
    let token = update_token(&app, &org).await;
    let (id, _) = create_endpoint(&app, &token, json!({"url": "http://127.0.0.1:9/"})).await;
    a_send(&app, &org, "2030-01-01T00:00:00Z").await;
    let now = app.clock.now();
    let lease = jiff::SignedDuration::from_secs(30);
    let first = app
        .store
        .claim_deliveries(id, now, now + lease, 10)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        app.store
            .claim_deliveries(id, now, now + lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "held"
    );
    // The first claim overruns its lease; another takes the delivery up.
    app.clock.advance(31);
    let later = app.clock.now();
    let second = app
        .store
        .claim_deliveries(id, later, later + lease, 10)
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    let attempt = |d: &giftwire_core::store::DueDelivery, failure| giftwire_core::store::Attempt {
        delivery_id: d.id,
        endpoint_id: id,
        lease: d.lease,
        at: later,
        status_code: Some(200),
        latency_ms: Some(1),
        failure,
    };
    // The first claim's late outcome changes nothing; the second's is recorded.
    app.store
        .record_attempts(
            vec![attempt(&first[0], Some(("timed out".to_owned(), None)))],
            giftwire_core::webhooks::DISABLE_AFTER,
        )
        .await
        .unwrap();
    let shown = deliveries(&app, &token, id).await;
    assert_eq!(shown[0]["state"], "pending");
    assert_eq!(shown[0]["attempt"], 0);
    app.store
        .record_attempts(
            vec![attempt(&second[0], None)],
            giftwire_core::webhooks::DISABLE_AFTER,
        )
        .await
        .unwrap();
    let shown = deliveries(&app, &token, id).await;
    assert_eq!(shown[0]["state"], "delivered");
    assert_eq!(shown[0]["attempt"], 1);
}

async fn endpoints_are_capped_ids_never_reused_and_descriptions_plain_text(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    let token = update_token(&app, &org).await;
    let (first, _) = create_endpoint(&app, &token, json!({"url": "http://127.0.0.1:9/a"})).await;
    let (status, _) = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v3/webhook_endpoints/{first}"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (second, _) = create_endpoint(&app, &token, json!({"url": "http://127.0.0.1:9/b"})).await;
    assert!(second > first, "a deleted endpoint's id is not given again");
    for bad in ["line\nbreak", "nul\u{0}byte", "bell\u{7}"] {
        let body = json!({"url": "http://127.0.0.1:9/", "description": bad});
        let (status, answer) = app
            .request(
                reqwest::Method::POST,
                "/api/v3/webhook_endpoints",
                &token,
                Some(body),
            )
            .await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(
            answer["message"],
            "description must not contain control characters"
        );
    }
    for n in 1..50 {
        create_endpoint(
            &app,
            &token,
            json!({"url": format!("http://127.0.0.1:9/{n}")}),
        )
        .await;
    }
    let (status, answer) = app
        .request(
            reqwest::Method::POST,
            "/api/v3/webhook_endpoints",
            &token,
            Some(json!({"url": "http://127.0.0.1:9/51"})),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        answer["message"],
        "an organization has at most 50 webhook endpoints"
    );
    // The cap is each organization's.
    let other = app.create_org("Globex", "UTC").await;
    let other_token = update_token(&app, &other).await;
    create_endpoint(&app, &other_token, json!({"url": "http://127.0.0.1:9/"})).await;
}

async fn finished_deliveries_are_forgotten_after_30_days_and_pending_ones_kept(backend: Backend) {
    let app = manual_app(backend, "2030-01-01T00:00:00Z").await;
    let org = app.create_org("Acme", "UTC").await;
    let token = update_token(&app, &org).await;
    let (up, down) = (Receiver::start().await, Receiver::start().await);
    down.answer(500);
    let (delivered, _) = create_endpoint(&app, &token, json!({"url": up.url})).await;
    let (retrying, _) = create_endpoint(&app, &token, json!({"url": down.url})).await;
    a_send(&app, &org, "2030-01-01T00:00:00Z").await;
    app.worker.tick().await.unwrap();
    app.clock.advance(29 * 24 * 3600);
    assert_eq!(
        app.worker.tick().await.unwrap().webhook_deliveries_purged,
        0
    );
    assert_eq!(
        deliveries(&app, &token, delivered).await.len(),
        1,
        "kept for 30 days"
    );
    app.clock.advance(2 * 24 * 3600);
    assert_eq!(
        app.worker.tick().await.unwrap().webhook_deliveries_purged,
        1
    );
    assert!(deliveries(&app, &token, delivered).await.is_empty());
    let pending = deliveries(&app, &token, retrying).await;
    assert_eq!(pending.len(), 1, "a pending delivery is never forgotten");
    assert_eq!(pending[0]["state"], "pending");
}

/// CONTRACT.md §1-§4 on the webhook routes: the scope named in a 403, an unknown token's 401,
/// malformed or repeated paging parameters a 400, a page past the end empty with the true total,
/// the `.json` suffix.
async fn the_contract_holds_on_the_webhook_routes(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    let token = update_token(&app, &org).await;
    let public = app.create_token(&org.user, "public", None).await;
    let (id, _) = create_endpoint(&app, &token, json!({"url": "http://127.0.0.1:9/"})).await;
    let paths = [
        "/api/v3/webhook_endpoints".to_owned(),
        format!("/api/v3/webhook_endpoints/{id}"),
        format!("/api/v3/webhook_endpoints/{id}/deliveries"),
    ];
    for path in &paths {
        let (status, headers, body) = app.get(path, &public).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_schema("error", &body);
        assert_eq!(
            headers["www-authenticate"],
            r#"Bearer realm="giftwire", error="insufficient_scope", scope="update""#,
            "{path}"
        );
        let (status, headers, _) = app.get(path, "gw_unknown").await;
        assert_eq!(status, 401, "{path}");
        assert!(
            headers["www-authenticate"]
                .to_str()
                .unwrap()
                .contains(r#"error="invalid_token""#)
        );
    }
    for (list, total) in [
        ("/api/v3/webhook_endpoints".to_owned(), "total_endpoints"),
        (
            format!("/api/v3/webhook_endpoints/{id}/deliveries"),
            "total_deliveries",
        ),
    ] {
        for bad in ["?per_page=1&per_page=2", "?page=0", "?per_page=abc"] {
            let (status, _, body) = app.get(&format!("{list}{bad}"), &token).await;
            assert_eq!(status, 400, "{list}{bad}: {body}");
            assert_schema("error", &body);
        }
        let (status, _, body) = app.get(&format!("{list}?page=99"), &token).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["current_page"], 99);
        let items = if total == "total_endpoints" {
            "endpoints"
        } else {
            "deliveries"
        };
        assert_eq!(body[items], json!([]));
        let (_, _, first) = app.get(&format!("{list}?per_page=100"), &token).await;
        assert_eq!(body[total], first[total], "the true total past the end");
    }
    let (_, _, listed) = app.get("/api/v3/webhook_endpoints", &token).await;
    let (status, _, suffixed) = app.get("/api/v3/webhook_endpoints.json", &token).await;
    assert_eq!(status, 200);
    assert_eq!(suffixed, listed);
    let (status, _, shown) = app
        .get(&format!("/api/v3/webhook_endpoints/{id}.json"), &token)
        .await;
    assert_eq!(status, 200);
    assert_eq!(shown["id"], id);
}

backend_tests!(
    the_contract_holds_on_the_webhook_routes,
    finished_deliveries_are_forgotten_after_30_days_and_pending_ones_kept,
    a_failure_after_a_quiet_day_starts_a_new_run_of_failures,
    an_attempt_whose_claim_lost_its_lease_records_nothing,
    endpoints_are_capped_ids_never_reused_and_descriptions_plain_text,
    every_change_reaches_a_verifying_receiver_signed_and_in_order,
    failed_attempts_follow_the_documented_schedule_and_the_send_waits,
    a_receiver_that_fails_then_recovers_gets_every_event_in_order,
    event_filters_and_disabled_endpoints_get_only_what_they_want,
    a_rotated_secret_signs_beside_the_previous_one_for_24_hours,
    endpoint_urls_must_be_https_to_public_addresses,
    organizations_never_see_each_others_endpoints_or_events,
    endpoints_are_managed_over_http_in_the_api_error_shape,
    a_replayed_event_is_delivered_again_with_its_id,
    redirects_are_not_followed_and_any_2xx_succeeds,
    a_slow_receiver_does_not_hold_the_others,
    an_endpoint_failing_for_five_days_is_disabled,
);
