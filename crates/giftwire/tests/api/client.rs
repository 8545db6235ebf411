//! The giftwire-client crate against the real server, on both databases: pages and the stream
//! of every page, filters, the change feed as a stream, one send, Create Send, its errors,
//! retries after 429 with `Retry-After`, and OAuth refresh (ahead of expiry and after a 401).

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt as _;
use giftwire_client::{Client, Error, ExportFormat, ListQuery, OAuthRefresh, Page, api};
use giftwire_core::Clock;

use crate::helpers::{Backend, TestApp, TestConfig, at, backend_tests, spawn, spawn_with};
use crate::oauth::{grant, register, with_password};

const CALLBACK: &str = "https://crm.example/oauth/callback";

fn client(app: &TestApp, token: &str) -> Client {
    Client::builder(app.address.as_str())
        .token(token)
        .http_client(crate::http::client())
        .build()
        .unwrap()
}

async fn pages_streams_and_filters_match_the_raw_api(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Client", "America/Chicago").await;
    let ids = app.create_sends(&org, 230).await;
    app.change_status(org.org.id, ids[5], "Sent", "2024-01-02T00:00:00Z", None)
        .await;
    app.change_status(org.org.id, ids[77], "Sent", "2024-01-02T00:00:00Z", None)
        .await;
    let c = client(&app, &org.token);

    let page = c
        .sends_page(&ListQuery::default().page(2).per_page(7))
        .await
        .unwrap();
    let (_, _, raw) = app.get("/api/v3/send?page=2&per_page=7", &org.token).await;
    assert_eq!(serde_json::to_value(&page).unwrap(), raw);

    let all: Vec<api::Send> = c
        .all_sends(ListQuery::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|s| s.id).collect::<Vec<_>>(),
        ids.iter().map(|id| id.get()).collect::<Vec<_>>()
    );
    let from_third: Vec<api::Send> = c
        .all_sends(ListQuery::default().page(3).per_page(100))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(from_third.len(), 30);

    let sent: Vec<i64> = c
        .all_sends(ListQuery::default().status("Sent").per_page(1))
        .map_ok(|s| s.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(sent, vec![ids[5].get(), ids[77].get()]);

    let one = c.send(&ids[5].get().to_string()).await.unwrap();
    assert_eq!(one, all[5]);
    let by_gid = c.send(&all[5].send_gid).await.unwrap();
    assert_eq!(by_gid, all[5]);

    let empty: Vec<api::Send> = c
        .all_sends(ListQuery {
            recipient_email: Some("nobody@example.com".into()),
            ..ListQuery::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert!(empty.is_empty());
}

async fn the_change_feed_streams_until_caught_up(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Feed Client", "UTC").await;
    let ids = app.create_sends(&org, 25).await;
    let c = client(&app, &org.token);
    let pages: Vec<api::ChangePage> = c
        .changes_stream(None, Some(10))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages.iter().map(|p| p.sends.len()).collect::<Vec<_>>(),
        [10, 10, 5, 0]
    );
    let cursor = pages.last().unwrap().next_cursor.clone();
    app.change_status(org.org.id, ids[3], "Sent", "2024-02-01T00:00:00Z", None)
        .await;
    let later = c.changes(Some(&cursor), None).await.unwrap();
    assert_eq!(later.sends.len(), 1);
    assert_eq!(later.sends[0].id, ids[3].get());
    assert_eq!(later.sends[0].status, "Sent");
}

async fn creation_and_errors_carry_the_servers_answer(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Creator", "UTC").await;
    let touch = app
        .create_touch(org.org.id, "Coffee", "eGifts USA", "Coffee", "5")
        .await;
    app.fund(&org.user, "100").await;
    let writer = app.create_token(&org.user, "public write", None).await;
    let c = client(&app, &writer);
    let created = c
        .create_send(&api::NewSend {
            touch_id: touch.id.get(),
            via: "single_email_address".into(),
            via_from: "giftwire-client tests".into(),
            name: "Jo Recipient".into(),
            email: "jo@example.com".into(),
            ..api::NewSend::default()
        })
        .await
        .unwrap();
    assert!(created.success);
    assert_eq!(created.tracking_code.len(), 40);
    assert!(created.tracking_url.is_some());
    let listed = c.sends_page(&ListQuery::default()).await.unwrap();
    assert_eq!(listed.total_count, 1);
    assert_eq!(listed.sends[0].recipient.email, "jo@example.com");

    match c.send("999999").await {
        Err(Error::Api {
            status, message, ..
        }) => {
            assert_eq!(status, 404);
            assert_eq!(message, "Send not found");
        }
        other => panic!("expected a 404, got {other:?}"),
    }
    match c.sends_page(&ListQuery::default().status("nope")).await {
        Err(e @ Error::Api { .. }) => {
            assert_eq!(e.status(), Some(400));
            assert!(e.to_string().contains("is not a status"), "{e}");
        }
        other => panic!("expected a 400, got {other:?}"),
    }
    let reader = client(&app, &org.token);
    let refused = reader
        .create_send(&api::NewSend {
            touch_id: touch.id.get(),
            via: "single_email_address".into(),
            via_from: "tests".into(),
            name: "No".into(),
            email: "no@example.com".into(),
            ..api::NewSend::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(403));
    let unknown = client(&app, "not-a-token").me().await.unwrap_err();
    assert_eq!(unknown.status(), Some(401));
}

async fn a_429_is_retried_after_retry_after(backend: Backend) {
    let app = spawn_with(
        backend,
        TestConfig {
            rate_limit_per_second: NonZeroU32::new(1),
            ..TestConfig::default()
        },
    )
    .await;
    let org = app.create_org("Throttled", "UTC").await;
    app.create_sends(&org, 3).await;
    // Without retries, the burst runs into the limit and the error says when to come back.
    let impatient = Client::builder(app.address.as_str())
        .token(org.token.as_str())
        .http_client(crate::http::client())
        .max_retries(0)
        .build()
        .unwrap();
    let mut limited = None;
    for _ in 0..30 {
        if let Err(e) = impatient.sends_page(&ListQuery::default()).await {
            limited = Some(e);
            break;
        }
    }
    match limited {
        Some(Error::Api {
            status: 429,
            retry_after: Some(wait),
            ..
        }) => assert!(wait >= Duration::from_secs(1)),
        other => panic!("expected a 429 with Retry-After, got {other:?}"),
    }
    // One retry, after the Retry-After asked (1 s), is enough for every call of a burst: a
    // client guessing a shorter wait would come back too early and fail.
    let patient = Client::builder(app.address.as_str())
        .token(org.token.as_str())
        .http_client(crate::http::client())
        .max_retries(1)
        .build()
        .unwrap();
    let started = Instant::now();
    for _ in 0..4 {
        let page = patient.sends_page(&ListQuery::default()).await.unwrap();
        assert_eq!(page.total_count, 3);
    }
    assert!(started.elapsed() >= Duration::from_millis(900));
}

async fn oauth_tokens_are_refreshed_before_expiry_and_after_a_401(backend: Backend) {
    let clock = Clock::manual(at("2026-03-01T12:00:00Z"));
    let app = spawn_with(
        backend,
        TestConfig {
            clock: Some(clock.clone()),
            ..TestConfig::default()
        },
    )
    .await;
    let org = app.create_org("Refresher", "UTC").await;
    app.create_sends(&org, 2).await;
    with_password(&app, &org.user).await;
    let registered = register(&app, &org, "Sync job", CALLBACK, "public", true).await;
    let credentials = |refresh: &str| OAuthRefresh {
        client_id: registered.id.clone(),
        client_secret: registered.secret.clone().unwrap(),
        refresh_token: refresh.to_owned(),
    };

    // Told the token expires within the minute, the client refreshes before using it.
    let first = grant(&app, &registered, &org.user.email, "public").await;
    let c = Client::builder(app.address.as_str())
        .token(first.access.as_str())
        .oauth_refresh(credentials(&first.refresh))
        .expires_in(Duration::from_secs(30))
        .http_client(crate::http::client())
        .build()
        .unwrap();
    assert_eq!(
        c.sends_page(&ListQuery::default())
            .await
            .unwrap()
            .total_count,
        2
    );
    let renewed = c.tokens().await;
    assert_ne!(renewed.access_token, first.access);
    assert_ne!(
        renewed.refresh_token.as_deref(),
        Some(first.refresh.as_str())
    );
    let (status, _, _) = app.get("/api/v3/send", &first.access).await;
    assert_eq!(status, 401, "the old access token no longer works");

    // Not told, it learns from the 401 of an expired token, refreshes once and goes on.
    let second = grant(&app, &registered, &org.user.email, "public").await;
    let c = Client::builder(app.address.as_str())
        .token(second.access.as_str())
        .oauth_refresh(credentials(&second.refresh))
        .http_client(crate::http::client())
        .build()
        .unwrap();
    clock.advance(3 * 3600);
    assert_eq!(c.me().await.unwrap().email, org.user.email);
    assert_ne!(c.tokens().await.access_token, second.access);

    // A refresh the server refuses is an error of its own, with the OAuth error.
    let c = Client::builder(app.address.as_str())
        .token("expired-or-unknown")
        .oauth_refresh(credentials("not-a-refresh-token"))
        .http_client(crate::http::client())
        .build()
        .unwrap();
    match c.me().await {
        Err(Error::Refresh { status, error, .. }) => {
            assert_eq!(status, 400);
            assert_eq!(error, "invalid_grant");
        }
        other => panic!("expected a refused refresh, got {other:?}"),
    }
}

/// Every other route of the API through the client: the same answers as raw HTTP.
async fn every_other_route_answers_as_over_raw_http(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Everything", "Europe/Berlin").await;
    let touch = app
        .create_touch(org.org.id, "Coffee", "eGifts USA", "Coffee", "5")
        .await;
    app.fund(&org.user, "100").await;
    let token = app
        .create_token(&org.user, "public write update fulfillment", None)
        .await;
    let c = client(&app, &token);
    let raw = |path: &'static str| {
        let app = &app;
        let token = token.clone();
        async move { app.get(path, &token).await.2 }
    };

    let me = c.me().await.unwrap();
    assert_eq!(serde_json::to_value(&me).unwrap(), raw("/api/v3/me").await);
    let users = c.users(Page::new(1, 1)).await.unwrap();
    assert_eq!(
        serde_json::to_value(&users).unwrap(),
        raw("/api/v3/users?page=1&per_page=1").await
    );
    assert_eq!(
        c.user(org.user.id.get()).await.unwrap().email,
        org.user.email
    );
    let groups = c.groups(Page::default()).await.unwrap();
    assert_eq!(
        serde_json::to_value(&groups).unwrap(),
        raw("/api/v3/groups").await
    );
    let members = c.group_members(org.team.get()).await.unwrap();
    assert_eq!(members.len(), 1);
    let touches = c.touches(Page::default(), Some("email")).await.unwrap();
    assert_eq!(
        serde_json::to_value(&touches).unwrap(),
        raw("/api/v3/touches?delivery_type=email").await
    );
    assert_eq!(c.touch(touch.id.get()).await.unwrap().name, "Coffee");
    let invited = c
        .invite_user(&api::users::NewUser {
            first_name: "New".into(),
            last_name: "Colleague".into(),
            email: "new.colleague@example.com".into(),
            role: "regular".into(),
            team_group_id: Some(org.team.get()),
        })
        .await
        .unwrap();
    assert_eq!(invited.invitation_status, "pending");

    let links = c
        .generate_egift_links(touch.id.get(), "tests", &["a@example.com", "b@example.com"])
        .await
        .unwrap();
    assert_eq!(links.egift_links.len(), 2);
    let first = c
        .all_sends(ListQuery::default())
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    let opened = c
        .report_status(
            &first[0].id.to_string(),
            &api::StatusReport {
                status: "Opened".into(),
                ..api::StatusReport::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(opened.status, "Opened");

    let mut export = std::pin::pin!(
        c.export(ExportFormat::Ndjson, &ListQuery::default().status("Opened"))
            .await
            .unwrap()
    );
    let mut bytes = Vec::new();
    while let Some(chunk) = export.try_next().await.unwrap() {
        bytes.extend_from_slice(&chunk);
    }
    let lines: Vec<api::Send> = String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, vec![opened.clone()]);

    let created = c
        .create_webhook_endpoint(&api::webhooks::NewEndpoint {
            url: "https://hooks.example.com/giftwire".into(),
            events: Some(vec!["send.delivered".into()]),
            description: None,
        })
        .await
        .unwrap();
    assert!(created.secret.starts_with("whsec_"));
    let id = created.endpoint.id;
    let listed = c.webhook_endpoints(Page::default()).await.unwrap();
    assert_eq!(listed.endpoints, vec![created.endpoint.clone()]);
    let changed = c
        .update_webhook_endpoint(
            id,
            &api::webhooks::EndpointChanges {
                enabled: Some(false),
                ..api::webhooks::EndpointChanges::default()
            },
        )
        .await
        .unwrap();
    assert!(!changed.enabled);
    assert_eq!(c.webhook_endpoint(id).await.unwrap(), changed);
    let rotated = c.rotate_webhook_secret(id).await.unwrap();
    assert_ne!(rotated.secret, created.secret);
    assert_eq!(
        c.webhook_deliveries(id, Page::default())
            .await
            .unwrap()
            .total_deliveries,
        0
    );
    c.delete_webhook_endpoint(id).await.unwrap();
    assert_eq!(
        c.webhook_endpoint(id).await.unwrap_err().status(),
        Some(404)
    );
}

/// SCIM through the client with a `scim` token: create, read, list with a filter, search,
/// patch, replace, delete, discovery; each answer as over raw HTTP, errors with SCIM's `detail`.
async fn scim_provisioning_through_the_client(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Provisioned", "UTC").await;
    let token = app.create_token(&org.user, "scim", None).await;
    let c = client(&app, &token);
    let created = c
        .scim_create_user(&serde_json::json!({
            "schemas": [api::scim::USER_SCHEMA],
            "userName": "grace@provisioned.example",
            "name": {"givenName": "Grace", "familyName": "Hopper"},
            "emails": [{"value": "grace@provisioned.example", "primary": true}],
        }))
        .await
        .unwrap();
    assert_eq!(created.user_name, "grace@provisioned.example");
    let shown = c.scim_user(&created.id).await.unwrap();
    assert_eq!(shown, created);
    let (_, _, raw) = app
        .get(&format!("/api/scim/v2/Users/{}", created.id), &token)
        .await;
    assert_eq!(serde_json::to_value(&shown).unwrap(), raw);

    let query = giftwire_client::ScimQuery {
        filter: Some(r#"userName eq "grace@provisioned.example""#.to_owned()),
        ..Default::default()
    };
    let listed = c.scim_users(&query).await.unwrap();
    assert_eq!(listed.total_results, 1);
    assert_eq!(listed.resources, std::slice::from_ref(&created));
    let search = api::scim::SearchRequest {
        schemas: vec![api::scim::SEARCH_SCHEMA.to_owned()],
        filter: query.filter.clone(),
        ..Default::default()
    };
    assert_eq!(c.scim_search(&search).await.unwrap(), listed);

    let patched = c
        .scim_patch_user(
            &created.id,
            &serde_json::json!({
                "schemas": [api::scim::PATCH_SCHEMA],
                "Operations": [{"op": "replace", "path": "name.givenName", "value": "Amazing Grace"}],
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        patched.name.and_then(|n| n.given_name).as_deref(),
        Some("Amazing Grace")
    );
    let replaced = c
        .scim_replace_user(
            &created.id,
            &serde_json::json!({"schemas": [api::scim::USER_SCHEMA], "userName": "grace@provisioned.example", "active": false}),
        )
        .await
        .unwrap();
    assert_eq!(replaced.active, Some(false));
    let config = c.scim_discovery("ServiceProviderConfig").await.unwrap();
    assert_eq!(config["patch"]["supported"], true);

    c.scim_delete_user(&created.id).await.unwrap();
    let gone = c.scim_user(&created.id).await.unwrap_err();
    assert_eq!(gone.status(), Some(404));
    assert!(gone.to_string().contains("not found"), "{gone}");
    // The client's Core calls are refused to a SCIM token, with the server's message.
    assert_eq!(c.me().await.unwrap_err().status(), Some(403));
}

/// OAuthClient: an authorization code (with PKCE, for a public client) exchanged for tokens that
/// work, a refresh that rotates them, a revocation after which they do not; a wrong code is the
/// server's `invalid_grant` message.
async fn oauth_code_exchange_refresh_and_revocation(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Pipeline", "UTC").await;
    with_password(&app, &org.user).await;
    let registered = register(&app, &org, "Pipeline CRM", CALLBACK, "public", false).await;
    let (code, verifier) =
        crate::oauth::authorization_code(&app, &registered, &org.user.email, "public").await;
    let oauth = giftwire_client::OAuthClient::new(&app.address, &registered.id, None)
        .unwrap()
        .with_http_client(crate::http::client());
    let wrong = oauth
        .exchange_code("0".repeat(64).as_str(), CALLBACK, verifier.as_deref())
        .await
        .unwrap_err();
    assert_eq!(wrong.status(), Some(400), "{wrong}");
    let tokens = oauth
        .exchange_code(&code, CALLBACK, verifier.as_deref())
        .await
        .unwrap();
    assert_eq!(
        (tokens.token_type.as_str(), tokens.scope.as_str()),
        ("Bearer", "public")
    );
    let me = client(&app, &tokens.access_token).me().await.unwrap();
    assert_eq!(me.email, org.user.email);

    let renewed = oauth.refresh(&tokens.refresh_token).await.unwrap();
    assert_ne!(renewed.access_token, tokens.access_token);
    assert_eq!(
        client(&app, &tokens.access_token)
            .me()
            .await
            .unwrap_err()
            .status(),
        Some(401),
        "the old access token went with the rotation"
    );
    oauth.revoke(&renewed.refresh_token).await.unwrap();
    assert_eq!(
        client(&app, &renewed.access_token)
            .me()
            .await
            .unwrap_err()
            .status(),
        Some(401),
        "revoking the refresh token revoked its access token"
    );
    oauth.revoke("no-such-token").await.unwrap();
}

backend_tests!(
    scim_provisioning_through_the_client,
    oauth_code_exchange_refresh_and_revocation,
    every_other_route_answers_as_over_raw_http,
    pages_streams_and_filters_match_the_raw_api,
    the_change_feed_streams_until_caught_up,
    creation_and_errors_carry_the_servers_answer,
    a_429_is_retried_after_retry_after,
    oauth_tokens_are_refreshed_before_expiry_and_after_a_401,
);
