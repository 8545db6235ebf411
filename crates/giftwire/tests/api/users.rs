//! Users over HTTP (API_REFERENCE.md §6): `GET /api/v3/me`, `GET /api/v3/users` (active users,
//! paged, `total_users`) and `GET /api/v3/users/{id}`, each checked against its schema; other
//! organizations' users are never seen; deactivated users leave the lists and lose their tokens.

use giftwire_core::UserState;
use serde_json::json;

use crate::helpers::{
    Backend, TestApp, TestConfig, assert_schema, backend_tests, spawn, spawn_with,
};

backend_tests!(
    me_is_the_tokens_user_with_its_balance_and_its_teams,
    users_are_listed_a_page_at_a_time_active_ones_only,
    one_user_is_shown_by_id_and_other_organizations_users_are_not_found,
    the_new_routes_answer_the_contracts_auth_and_parameter_rules,
);

async fn me_is_the_tokens_user_with_its_balance_and_its_teams(backend: Backend) {
    let app = spawn(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    // Marc (in the team) has the test funds; a teammate with 12.75 more; Solo is in no team.
    let mate = app
        .create_unfunded_user(
            acme.org.id,
            "Ada King Lovelace",
            "ada@acme.example",
            Some(acme.team),
        )
        .await;
    app.fund(&mate, "12.75").await;
    let (status, headers, body) = app.get("/api/v3/me", &acme.token).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_schema("me", &body);
    assert_eq!(
        body,
        json!({
            "id": acme.user.id.get(), "first_name": "Marc", "last_name": "Fernandez",
            "email": "marc@Acme.example", "role": "regular",
            "balance": format!("{}.0", TestApp::FUNDS),
            "team_balance": TestApp::FUNDS.parse::<i64>().unwrap() + 12,
        })
    );
    // A name of three words: the first is the first name.
    let token = app.create_token(&mate, "public", None).await;
    let (_, _, body) = app.get("/api/v3/me.json", &token).await;
    assert_eq!(
        (body["first_name"].clone(), body["last_name"].clone()),
        (json!("Ada"), json!("King Lovelace"))
    );
    assert_eq!(body["balance"], "12.75");
    // In no team, the team balance is the user's own (whole part).
    let solo = app.create_token(&acme.teamless, "public", None).await;
    let (_, _, body) = app.get("/api/v3/me", &solo).await;
    assert_schema("me", &body);
    assert_eq!(body["team_balance"], TestApp::FUNDS.parse::<i64>().unwrap());
    // Scopes: `public` reads; a token without it is refused.
    let fulfil = app.create_token(&acme.user, "fulfillment", None).await;
    let (status, _, body) = app.get("/api/v3/me", &fulfil).await;
    assert_eq!(status, 403, "{body}");
    assert_schema("error", &body);
    let (status, _, body) = app.get("/api/v3/me", "gw_nope").await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"success": false, "message": "The access token is invalid"})
    );
}

async fn users_are_listed_a_page_at_a_time_active_ones_only(backend: Backend) {
    // Operator tokens are cached for a second by default; without the cache a deactivation
    // (made here through the store, as another process would) shows at the next request.
    let config = TestConfig {
        cache: Some(giftwire_server::CacheConfig {
            token_ttl: std::time::Duration::ZERO,
            ..Default::default()
        }),
        ..Default::default()
    };
    let app = spawn_with(backend, config).await;
    let acme = app.create_org("Acme", "UTC").await;
    let globex = app.create_org("Globex", "UTC").await;
    let mut ids = vec![acme.user.id.get(), acme.teamless.id.get()];
    for i in 0..11 {
        let user = app
            .create_unfunded_user(
                acme.org.id,
                &format!("User {i}"),
                &format!("u{i}@acme.example"),
                None,
            )
            .await;
        ids.push(user.id.get());
    }
    let listed = |body: &serde_json::Value| -> Vec<i64> {
        body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_i64().unwrap())
            .collect()
    };
    let (status, _, body) = app.get("/api/v3/users", &acme.token).await;
    assert_eq!(status, 200, "{body}");
    assert_schema("user-list", &body);
    assert_eq!(
        (
            body["current_page"].clone(),
            body["per_page"].clone(),
            body["total_users"].clone()
        ),
        (json!(1), json!(10), json!(13))
    );
    assert_eq!(listed(&body), ids[..10]);
    assert_eq!(
        body["users"][0],
        json!({"id": acme.user.id.get(), "first_name": "Marc", "last_name": "Fernandez",
               "email": "marc@Acme.example", "team_group_id": acme.team.get()})
    );
    assert_eq!(body["users"][1]["team_group_id"], json!(null));
    let (_, _, body) = app
        .get("/api/v3/users?page=2&per_page=10", &acme.token)
        .await;
    assert_eq!(listed(&body), ids[10..]);
    let (_, _, body) = app.get("/api/v3/users?per_page=1000", &acme.token).await;
    assert_eq!(
        (body["per_page"].clone(), listed(&body).len()),
        (json!(100), 13)
    );
    let (status, _, body) = app.get("/api/v3/users?page=9", &acme.token).await;
    assert_eq!(status, 200);
    assert_schema("user-list", &body);
    assert_eq!(
        (body["users"].clone(), body["total_users"].clone()),
        (json!([]), json!(13))
    );
    for (query, message) in [
        (
            "per_page=0",
            "per_page must be a positive integer (got \"0\")",
        ),
        ("page=abc", "page must be a positive integer (got \"abc\")"),
        (
            "page=1&page=2",
            "page must be given at most once (got \"1\" and \"2\")",
        ),
    ] {
        let (status, _, body) = app
            .get(&format!("/api/v3/users?{query}"), &acme.token)
            .await;
        assert_eq!(status, 400, "{query}");
        assert_schema("error", &body);
        assert_eq!(body["message"], message, "{query}");
    }

    // A deactivated user leaves the list (and the total), and its token stops working.
    let token = app.create_token(&acme.teamless, "public", None).await;
    assert_eq!(app.get("/api/v3/me", &token).await.0, 200);
    app.store
        .set_user_state(acme.org.id, acme.teamless.id, UserState::Deactivated)
        .await
        .unwrap();
    let (_, _, body) = app.get("/api/v3/users?per_page=100", &acme.token).await;
    assert_eq!(body["total_users"], 12);
    assert!(!listed(&body).contains(&acme.teamless.id.get()));
    let (status, _, _) = app.get("/api/v3/me", &token).await;
    assert_eq!(status, 401, "a deactivated user's token stops working");
    app.store
        .set_user_state(acme.org.id, acme.teamless.id, UserState::Active)
        .await
        .unwrap();
    assert_eq!(
        app.get("/api/v3/me", &token).await.0,
        200,
        "and works again when reactivated"
    );

    // Globex sees its own two users only.
    let (_, _, body) = app.get("/api/v3/users?per_page=100", &globex.token).await;
    assert_eq!(
        listed(&body),
        [globex.user.id.get(), globex.teamless.id.get()]
    );
    assert_eq!(body["total_users"], 2);
}

async fn one_user_is_shown_by_id_and_other_organizations_users_are_not_found(backend: Backend) {
    let app = spawn(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    let globex = app.create_org("Globex", "UTC").await;
    let path = format!("/api/v3/users/{}", acme.teamless.id.get());
    let (status, _, body) = app.get(&path, &acme.token).await;
    assert_eq!(status, 200, "{body}");
    assert_schema("user", &body);
    assert_eq!(
        body,
        json!({"id": acme.teamless.id.get(), "first_name": "Solo", "last_name": "Sender",
               "email": "solo@Acme.example", "team_group_id": null})
    );
    // Another organization's user, an unknown id, and ids that are not numbers: all 404.
    for path in [
        format!("/api/v3/users/{}", acme.user.id.get()),
        "/api/v3/users/999999".to_owned(),
        "/api/v3/users/abc".to_owned(),
        "/api/v3/users/-1".to_owned(),
        "/api/v3/users/99999999999999999999".to_owned(),
    ] {
        let (status, _, body) = app.get(&path, &globex.token).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(
            body,
            json!({"success": false, "message": "User not found"}),
            "{path}"
        );
    }
    // A deactivated user is still found by id (its sends name it).
    app.store
        .set_user_state(acme.org.id, acme.teamless.id, UserState::Deactivated)
        .await
        .unwrap();
    assert_eq!(app.get(&path, &acme.token).await.0, 200);
}

/// CONTRACT.md §1–§3 on every Core route this issue added: a token without the scope is a 403
/// naming it (with `WWW-Authenticate`), an unknown token a 401, a repeated list parameter a 400,
/// and each path also answers with a `.json` suffix.
async fn the_new_routes_answer_the_contracts_auth_and_parameter_rules(backend: Backend) {
    let app = spawn(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    let no_public = app.create_token(&acme.user, "fulfillment", None).await;
    let team = acme.team.get();
    let user = acme.user.id.get();
    let gets = [
        "/api/v3/me".to_owned(),
        "/api/v3/users".to_owned(),
        format!("/api/v3/users/{user}"),
        "/api/v3/groups".to_owned(),
        format!("/api/v3/groups/{team}/members"),
        "/api/v3/touches".to_owned(),
    ];
    for path in &gets {
        let (status, headers, body) = app.get(path, &no_public).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(
            headers["www-authenticate"],
            r#"Bearer realm="giftwire", error="insufficient_scope", scope="public""#,
            "{path}"
        );
        assert!(
            body["message"].as_str().unwrap().contains("\"public\""),
            "{path}: {body}"
        );
        let (status, headers, _) = app.get(path, "gw_unknown").await;
        assert_eq!(status, 401, "{path}");
        assert!(
            headers["www-authenticate"]
                .to_str()
                .unwrap()
                .contains(r#"error="invalid_token""#)
        );
        let (status, _, _) = app.get(&format!("{path}.json"), &acme.token).await;
        assert_eq!(status, 200, "{path}.json");
    }
    for path in ["/api/v3/users", "/api/v3/groups", "/api/v3/touches"] {
        let (status, _, body) = app
            .get(&format!("{path}?per_page=5&per_page=6"), &acme.token)
            .await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(
            body["message"],
            r#"per_page must be given at most once (got "5" and "6")"#
        );
    }
    // Inviting takes `update`, and says so.
    let body = json!({"user": {"first_name": "A", "last_name": "B", "email": "a@acme.example",
                               "role": "regular", "team_group_id": team}});
    let response = app
        .client
        .post(app.url("/api/v3/users"))
        .bearer_auth(&acme.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="giftwire", error="insufficient_scope", scope="update""#
    );
}
