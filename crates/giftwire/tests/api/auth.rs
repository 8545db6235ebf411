//! Bearer tokens and scopes (CONTRACT.md §2–3): 401 with the right `WWW-Authenticate`, 403 for a
//! missing scope, and tokens that stop working when they expire or are revoked.

use giftwire_core::PlainToken;
use serde_json::json;

use crate::helpers::{Backend, at, backend_tests, spawn};

const INVALID: &str = "The access token is invalid";

async fn no_header_or_another_scheme_is_a_401_with_the_bare_challenge(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    for header in [
        None,
        Some("Basic dXNlcjpwYXNz".to_owned()),
        Some(format!("Token {}", org.token)),
        Some("Bearer".to_owned()),
        Some("Bearer ".to_owned()),
        Some(format!("Bearer {} extra", org.token)),
        Some(org.token.clone()),
    ] {
        let response = app.get_raw("/api/v3/send", header.as_deref()).await;
        assert_eq!(response.status(), 401, "{header:?}");
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer realm="giftwire""#,
            "{header:?}"
        );
        assert_eq!(
            response.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body, json!({"success": false, "message": INVALID}));
    }
}

async fn the_scheme_name_is_case_insensitive(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let response = app
            .get_raw("/api/v3/send", Some(&format!("{scheme} {}", org.token)))
            .await;
        assert_eq!(response.status(), 200, "{scheme}");
    }
}

async fn unknown_expired_and_revoked_tokens_are_a_401_invalid_token(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    let expired = app
        .create_token(&org.user, "public", Some(at("2020-01-01T00:00:00Z")))
        .await;
    let live = app
        .create_token(&org.user, "public", Some(at("2999-01-01T00:00:00Z")))
        .await;
    let revoked = app.create_token(&org.user, "public", None).await;
    app.store
        .revoke_token(
            PlainToken::from_client(&revoked).hash(),
            at("2024-01-01T00:00:00Z"),
        )
        .await
        .unwrap();
    let unknown = PlainToken::generate().expose().to_owned();
    for token in [&unknown, &expired, &revoked] {
        let response = app
            .get_raw("/api/v3/send", Some(&format!("Bearer {token}")))
            .await;
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer realm="giftwire", error="invalid_token""#
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body, json!({"success": false, "message": INVALID}));
    }
    let response = app
        .get_raw("/api/v3/send", Some(&format!("Bearer {live}")))
        .await;
    assert_eq!(response.status(), 200);
}

async fn a_token_without_the_public_scope_is_a_403_naming_it(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    app.create_sends(&org, 1).await;
    let writer = app.create_token(&org.user, "write fulfillment", None).await;
    let response = app
        .get_raw("/api/v3/send", Some(&format!("Bearer {writer}")))
        .await;
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="giftwire", error="insufficient_scope", scope="public""#
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("\"public\" scope"),
        "{body}"
    );
    assert!(!body.to_string().contains("Recipient"));

    let both = app.create_token(&org.user, "write public", None).await;
    let response = app
        .get_raw("/api/v3/send", Some(&format!("Bearer {both}")))
        .await;
    assert_eq!(response.status(), 200);
}

async fn authentication_comes_before_parameter_checks(backend: Backend) {
    let app = spawn(backend).await;
    let response = app.get_raw("/api/v3/send?per_page=abc", None).await;
    assert_eq!(response.status(), 401);
}

backend_tests!(
    no_header_or_another_scheme_is_a_401_with_the_bare_challenge,
    the_scheme_name_is_case_insensitive,
    unknown_expired_and_revoked_tokens_are_a_401_invalid_token,
    a_token_without_the_public_scope_is_a_403_naming_it,
    authentication_comes_before_parameter_checks,
);
