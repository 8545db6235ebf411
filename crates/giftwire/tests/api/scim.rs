//! SCIM 2.0 provisioning over HTTP (API_REFERENCE.md §13.2, RFC 7643/7644) on both databases:
//! what Okta and Entra ID send (lookups by filter, creation, PUT and PATCH with their quirks,
//! deactivation), the discovery endpoints, SCIM error bodies with their status and `scimType`,
//! malformed filters (400 `invalidFilter`, never a 5xx), and tenancy. `.ci/scim.sh` runs an
//! independent compliance tester (scim2-tester) against the same endpoints.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestConfig, TestOrg, backend_tests, spawn_with};

backend_tests!(
    an_identity_provider_provisions_finds_and_deprovisions_a_user,
    filters_find_users_and_malformed_ones_are_invalid_filter_errors,
    list_paging_follows_start_index_and_count,
    patch_accepts_what_entra_id_sends,
    errors_are_scim_errors_with_their_status_and_type,
    scim_and_core_tokens_stay_apart_and_organizations_never_mix,
    discovery_describes_the_user_resource,
    scim_writes_keep_what_they_do_not_set,
);

const CONTENT_TYPE: &str = "application/scim+json";

/// A server whose operator tokens are not cached, so that a deactivation shows at once.
async fn app(backend: Backend) -> TestApp {
    let config = TestConfig {
        cache: Some(giftwire_server::CacheConfig {
            token_ttl: std::time::Duration::ZERO,
            ..Default::default()
        }),
        ..Default::default()
    };
    spawn_with(backend, config).await
}

async fn scim_token(app: &TestApp, org: &TestOrg) -> String {
    app.create_token(&org.user, "scim", None).await
}

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method, app.url(&format!("/api/scim/v2{path}")))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("content-type", CONTENT_TYPE)
            .body(body.to_string());
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    if status == 204 {
        return (status, Value::Null);
    }
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with(CONTENT_TYPE),
        "{path}: {content_type}"
    );
    (status, response.json().await.expect("a JSON body"))
}

async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    call(app, reqwest::Method::GET, path, token, None).await
}

fn sendoso_user(email: &str, division: &str) -> Value {
    // The body API_REFERENCE.md §13.2 documents.
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "userType": "manager",
        "division": division,
    })
}

fn assert_error(body: &Value, status: u16, scim_type: Option<&str>) {
    assert_eq!(
        body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
        "{body}"
    );
    assert_eq!(body["status"], status.to_string(), "{body}");
    match scim_type {
        Some(t) => assert_eq!(body["scimType"], t, "{body}"),
        None => assert!(body.get("scimType").is_none(), "{body}"),
    }
    assert!(!body["detail"].as_str().unwrap().is_empty());
}

async fn an_identity_provider_provisions_finds_and_deprovisions_a_user(backend: Backend) {
    let app = app(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    let token = scim_token(&app, &acme).await;

    // The provider looks the user up first, finds nothing, creates it.
    let (status, body) = get(
        &app,
        "/Users?filter=userName%20eq%20%22ada%40acme.example%22",
        &token,
    )
    .await;
    assert_eq!(
        (
            status,
            body["totalResults"].clone(),
            body["Resources"].clone()
        ),
        (200, json!(0), json!([]))
    );
    let (status, created) = call(
        &app,
        reqwest::Method::POST,
        "/Users",
        &token,
        Some(sendoso_user("ada@acme.example", "Marketing Ops")),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id is a string").to_owned();
    assert_eq!(created["userName"], "ada@acme.example");
    assert_eq!(
        created["name"],
        json!({"givenName": "Ada", "familyName": "Lovelace"})
    );
    assert_eq!(
        created["emails"],
        json!([{"value": "ada@acme.example", "type": "work", "primary": true}])
    );
    assert_eq!(
        (created["userType"].clone(), created["division"].clone()),
        (json!("manager"), json!("Marketing Ops"))
    );
    assert_eq!(created["meta"]["resourceType"], "User");
    assert!(
        created["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/api/scim/v2/Users/{id}"))
    );

    // The Core API sees it: listed, in its team, a manager.
    let (_, _, users) = app.get("/api/v3/users?per_page=100", &acme.token).await;
    let listed = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == json!(id.parse::<i64>().unwrap()))
        .cloned()
        .unwrap();
    assert_eq!(
        (
            listed["first_name"].clone(),
            listed["team_group_id"].clone()
        ),
        (json!("Ada"), json!(acme.team.get()))
    );
    let (status, found) = get(
        &app,
        "/Users?filter=userName%20eq%20%22ADA%40acme.example%22",
        &token,
    )
    .await;
    assert_eq!((status, found["totalResults"].clone()), (200, json!(1)));
    assert_eq!(found["Resources"][0]["id"], json!(id));
    assert_eq!(
        found["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );

    // Its own token works until the provider deactivates it (PUT, as Sendoso documents).
    let user = app
        .store
        .user(acme.org.id, giftwire_core::UserId::new(id.parse().unwrap()))
        .await
        .unwrap();
    let own = app.create_token(&user, "public", None).await;
    assert_eq!(app.get("/api/v3/me", &own).await.0, 200);
    let (status, body) = call(
        &app,
        reqwest::Method::PUT,
        &format!("/Users/{id}"),
        &token,
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["active"], false);
    assert_eq!(
        body["name"]["givenName"], "Ada",
        "a PUT changes what it carries only"
    );
    assert_eq!(
        app.get("/api/v3/me", &own).await.0,
        401,
        "a deactivated user's token stops working"
    );
    let (_, _, users) = app.get("/api/v3/users?per_page=100", &acme.token).await;
    assert!(
        !users.to_string().contains("ada@acme.example"),
        "it leaves the Core API's lists"
    );
    // SCIM still finds it, inactive, and can bring it back.
    let (_, found) = get(&app, &format!("/Users/{id}"), &token).await;
    assert_eq!(found["active"], false);
    let (_, found) = get(&app, "/Users?filter=active%20eq%20false", &token).await;
    assert_eq!(found["totalResults"], 1);
    let reactivate = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": true}}]});
    let (status, body) = call(
        &app,
        reqwest::Method::PATCH,
        &format!("/Users/{id}"),
        &token,
        Some(reactivate),
    )
    .await;
    assert_eq!((status, body["active"].clone()), (200, json!(true)));
    assert_eq!(app.get("/api/v3/me", &own).await.0, 200);

    // A second user with the same userName is a uniqueness conflict; DELETE hides it from
    // SCIM (404) while its row stays for its sends.
    let (status, body) = call(
        &app,
        reqwest::Method::POST,
        "/Users",
        &token,
        Some(sendoso_user("Ada@Acme.example", "Marketing Ops")),
    )
    .await;
    assert_eq!(status, 409);
    assert_error(&body, 409, Some("uniqueness"));
    let (status, _) = call(
        &app,
        reqwest::Method::DELETE,
        &format!("/Users/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, body) = get(&app, &format!("/Users/{id}"), &token).await;
    assert_eq!(status, 404);
    assert_error(&body, 404, None);
    assert_eq!(app.get("/api/v3/me", &own).await.0, 401);
    assert_eq!(
        app.get(&format!("/api/v3/users/{id}"), &acme.token).await.0,
        200
    );
    // Creating it again brings the same user back.
    let (status, again) = call(
        &app,
        reqwest::Method::POST,
        "/Users",
        &token,
        Some(sendoso_user("ada@acme.example", "Marketing Ops")),
    )
    .await;
    assert_eq!((status, again["id"].clone()), (201, json!(id)));
}

async fn filters_find_users_and_malformed_ones_are_invalid_filter_errors(backend: Backend) {
    let app = app(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    let token = scim_token(&app, &acme).await;
    for (email, external) in [("ada@acme.example", "00u1"), ("bo@acme.example", "00u2")] {
        let mut body = sendoso_user(email, "Marketing Ops");
        body["externalId"] = json!(external);
        body["emails"] =
            json!([{"value": email.replace("@", "+work@"), "type": "work", "primary": true}]);
        assert_eq!(
            call(&app, reqwest::Method::POST, "/Users", &token, Some(body))
                .await
                .0,
            201
        );
    }
    let count = |filter: &str| {
        let app = &app;
        let token = token.clone();
        let path = format!("/Users?filter={}", urlencode(filter));
        async move {
            let (status, body) = get(app, &path, &token).await;
            assert_eq!(status, 200, "{path}: {body}");
            body["totalResults"].as_u64().unwrap()
        }
    };
    assert_eq!(count(r#"userName eq "ada@acme.example""#).await, 1);
    assert_eq!(count(r#"externalId eq "00u2""#).await, 1);
    assert_eq!(
        count(r#"externalId eq "00U2""#).await,
        0,
        "externalId is case-exact"
    );
    assert_eq!(count(r#"emails.value eq "bo+work@acme.example""#).await, 1);
    assert_eq!(
        count(r#"emails[type eq "work" and value eq "ada+work@acme.example"]"#).await,
        1
    );
    assert_eq!(
        count(r#"userName eq "ada@acme.example" and externalId eq "00u1""#).await,
        1
    );
    assert_eq!(
        count(r#"userName eq "ada@acme.example" and externalId eq "00u2""#).await,
        0
    );
    assert_eq!(count(r#"userName sw "bo" or userName sw "ada""#).await, 2);
    // Marc and Solo (made by the Core API) are users too.
    assert_eq!(count(r#"userName ew "acme.example""#).await, 4);

    for bad in [
        "",
        "userName",
        "userName eq",
        r#"userName eq "unclosed"#,
        r#"userName eq ada"#,
        r#"userName like "a""#,
        r#"password eq "x""#,
        r#"(userName eq "a""#,
        r#"userName eq "a" and"#,
        r#"emails[value eq "a""#,
        "((((((((((((((((((((((((((((((((((((((((userName pr))))))))))))))))))))))))))))))))))))))))",
        "\u{0}\u{1}",
    ] {
        let path = format!("/Users?filter={}", urlencode(bad));
        let (status, body) = get(&app, &path, &token).await;
        assert_eq!(status, 400, "{bad:?}: {body}");
        assert_error(&body, 400, Some("invalidFilter"));
    }
}

async fn list_paging_follows_start_index_and_count(backend: Backend) {
    let app = app(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    let token = scim_token(&app, &acme).await;
    for i in 0..5 {
        let body = sendoso_user(&format!("u{i}@acme.example"), "Marketing Ops");
        assert_eq!(
            call(&app, reqwest::Method::POST, "/Users", &token, Some(body))
                .await
                .0,
            201
        );
    }
    // 7 users: Marc, Solo and the five.
    let page = |query: &str| {
        let app = &app;
        let token = token.clone();
        let path = format!("/Users?{query}");
        async move {
            let (status, body) = get(app, &path, &token).await;
            assert_eq!(status, 200, "{path}: {body}");
            let names: Vec<String> = body["Resources"].as_array().map_or(vec![], |r| {
                r.iter()
                    .map(|u| u["userName"].as_str().unwrap().to_owned())
                    .collect()
            });
            (
                body["totalResults"].as_u64().unwrap(),
                body["startIndex"].as_u64().unwrap(),
                body["itemsPerPage"].as_u64().unwrap(),
                names,
            )
        }
    };
    let (total, start, per, names) = page("").await;
    assert_eq!((total, start, per, names.len()), (7, 1, 7, 7));
    let (_, start, per, names) = page("startIndex=3&count=2").await;
    assert_eq!((start, per), (3, 2));
    assert_eq!(names, ["u0@acme.example", "u1@acme.example"]);
    let (_, start, _, names) = page("startIndex=0&count=1").await;
    assert_eq!((start, names.len()), (1, 1), "startIndex below 1 is 1");
    let (total, _, per, names) = page("startIndex=7&count=500").await;
    assert_eq!(
        (total, per, names),
        (7, 1, vec!["u4@acme.example".to_owned()]),
        "count is at most 100"
    );
    let (total, _, per, _) = page("startIndex=99").await;
    assert_eq!((total, per), (7, 0));
    let (_, _, per, _) = page("count=-3").await;
    assert_eq!(per, 0, "a negative count is 0");
    let (status, body) = get(&app, "/Users?count=ten", &token).await;
    assert_eq!(status, 400);
    assert_error(&body, 400, Some("invalidValue"));
    // excludedAttributes and attributes.
    let (_, body) = get(
        &app,
        "/Users?count=1&excludedAttributes=name,emails",
        &token,
    )
    .await;
    let user = &body["Resources"][0];
    assert!(
        user.get("name").is_none()
            && user.get("emails").is_none()
            && user.get("userName").is_some(),
        "{user}"
    );
    let (_, body) = get(&app, "/Users?count=1&attributes=userName", &token).await;
    let keys: Vec<&String> = body["Resources"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["schemas", "id", "userName"]);
}

async fn patch_accepts_what_entra_id_sends(backend: Backend) {
    let app = app(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    app.store
        .create_team(
            acme.org.id,
            giftwire_core::Name::parse("name", "Field Marketing").unwrap(),
        )
        .await
        .unwrap();
    let token = scim_token(&app, &acme).await;
    let (_, created) = call(
        &app,
        reqwest::Method::POST,
        "/Users",
        &token,
        Some(sendoso_user("ada@acme.example", "Marketing Ops")),
    )
    .await;
    let path = format!("/Users/{}", created["id"].as_str().unwrap());
    let patch = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    // Entra ID: capitalized operations, booleans as strings, the enterprise extension's division.
    let (status, body) = call(&app, reqwest::Method::PATCH, &path, &token, Some(patch(json!([
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "Add", "path": "name.givenName", "value": "Augusta"},
        {"op": "Replace", "path": "userType", "value": "Sender"},
        {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division", "value": "Field Marketing"},
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "augusta@acme.example"},
        {"op": "Add", "path": "externalId", "value": "ENTRA-1"},
    ])))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["active"].clone(),
            body["name"]["givenName"].clone(),
            body["userType"].clone(),
            body["division"].clone(),
            body["externalId"].clone()
        ),
        (
            json!(false),
            json!("Augusta"),
            json!("sender"),
            json!("Field Marketing"),
            json!("ENTRA-1")
        )
    );
    assert_eq!(
        body["emails"],
        json!([{"value": "augusta@acme.example", "type": "work", "primary": true}])
    );
    let id = giftwire_core::UserId::new(created["id"].as_str().unwrap().parse().unwrap());
    let user = app.store.user(acme.org.id, id).await.unwrap();
    assert_eq!(
        (user.email.as_str(), user.role, user.state),
        (
            "augusta@acme.example",
            giftwire_core::Role::Regular,
            giftwire_core::UserState::Deactivated
        )
    );
    assert_eq!(user.name, "Augusta Lovelace", "sends show the new name");
    // Removing: the attribute is gone; removing userName is refused and nothing is written.
    let (status, body) = call(
        &app,
        reqwest::Method::PATCH,
        &path,
        &token,
        Some(patch(json!([
            {"op": "remove", "path": "externalId"}, {"op": "remove", "path": "division"}
        ]))),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.get("externalId").is_none() && body.get("division").is_none(),
        "{body}"
    );
    let (status, body) = call(&app, reqwest::Method::PATCH, &path, &token, Some(patch(json!([
        {"op": "replace", "path": "userType", "value": "admin"}, {"op": "remove", "path": "userName"}
    ])))).await;
    assert_eq!(status, 400);
    assert_error(&body, 400, Some("mutability"));
    assert_eq!(
        get(&app, &path, &token).await.1["userType"],
        "sender",
        "a refused PATCH writes nothing"
    );
    // Bad operations, paths and values.
    for (ops, scim_type) in [
        (
            json!([{"op": "move", "path": "active", "value": true}]),
            "invalidSyntax",
        ),
        (json!([]), "invalidSyntax"),
        (
            json!([{"op": "replace", "path": "password", "value": "x"}]),
            "invalidPath",
        ),
        (
            json!([{"op": "replace", "path": "active", "value": "maybe"}]),
            "invalidValue",
        ),
        (
            json!([{"op": "replace", "path": "userType", "value": "owner"}]),
            "invalidValue",
        ),
        (
            json!([{"op": "replace", "path": "division", "value": "No Such Team"}]),
            "invalidValue",
        ),
        (json!([{"op": "remove"}]), "noTarget"),
        (
            json!([{"op": "replace", "path": "emails[value eq ", "value": "x"}]),
            "invalidPath",
        ),
    ] {
        let (status, body) = call(
            &app,
            reqwest::Method::PATCH,
            &path,
            &token,
            Some(patch(ops.clone())),
        )
        .await;
        assert_eq!(status, 400, "{ops}: {body}");
        assert_error(&body, 400, Some(scim_type));
    }
    // admin maps to a manager, and reads back as admin.
    let (_, body) = call(
        &app,
        reqwest::Method::PATCH,
        &path,
        &token,
        Some(patch(
            json!([{"op": "replace", "path": "userType", "value": "admin"}]),
        )),
    )
    .await;
    assert_eq!(body["userType"], "admin");
    assert_eq!(
        app.store.user(acme.org.id, id).await.unwrap().role,
        giftwire_core::Role::Manager
    );
}

async fn errors_are_scim_errors_with_their_status_and_type(backend: Backend) {
    let app = app(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    let token = scim_token(&app, &acme).await;
    let post = |body: Value| {
        let app = &app;
        let token = token.clone();
        async move { call(app, reqwest::Method::POST, "/Users", &token, Some(body)).await }
    };
    for (body, scim_type) in [
        (json!({"name": {"givenName": "A"}}), "invalidValue"),
        (json!({"userName": "   "}), "invalidValue"),
        (json!({"userName": "no-email-anywhere"}), "invalidValue"),
        (
            json!({"userName": "ada@acme.example", "userType": "owner"}),
            "invalidValue",
        ),
        (
            json!({"userName": "ada@acme.example", "division": "Nowhere"}),
            "invalidValue",
        ),
        (
            json!({"userName": "ada@acme.example", "active": "sometimes"}),
            "invalidValue",
        ),
        (json!(["not", "an", "object"]), "invalidSyntax"),
    ] {
        let (status, answer) = post(body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_error(&answer, 400, Some(scim_type));
    }
    // Not JSON at all.
    let response = app
        .client
        .post(app.url("/api/scim/v2/Users"))
        .bearer_auth(&token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_error(&response.json().await.unwrap(), 400, Some("invalidSyntax"));
    assert_eq!(
        app.store.users(acme.org.id).await.unwrap().len(),
        2,
        "nothing was created"
    );
    for path in [
        "/Users/999999",
        "/Users/abc",
        "/Nope",
        "/ResourceTypes/Group",
        "/Schemas/urn:x",
    ] {
        let (status, body) = get(&app, path, &token).await;
        assert_eq!(status, 404, "{path}");
        assert_error(&body, 404, None);
    }
    let (status, body) = call(
        &app,
        reqwest::Method::DELETE,
        "/ServiceProviderConfig",
        &token,
        None,
    )
    .await;
    assert_eq!(status, 405);
    assert_error(&body, 405, None);
    let (status, body) = call(
        &app,
        reqwest::Method::POST,
        "/.search",
        &token,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 400, "not a SearchRequest");
    assert_error(&body, 400, Some("invalidSyntax"));
    // A search request (RFC 7644 §3.4.3) answers as the listing with the same parameters.
    let (status, listed) = get(
        &app,
        "/Users?filter=userName%20pr&count=1&attributes=userName",
        &token,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(listed["Resources"].as_array().unwrap().len(), 1);
    for path in ["/.search", "/Users/.search"] {
        let search = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "userName pr", "count": 1, "attributes": ["userName"],
        });
        let (status, found) = call(&app, reqwest::Method::POST, path, &token, Some(search)).await;
        assert_eq!(status, 200, "{path}: {found}");
        assert_eq!(found, listed, "{path}");
    }
    let bad = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "count": "many",
    });
    let (status, body) = call(&app, reqwest::Method::POST, "/.search", &token, Some(bad)).await;
    assert_eq!(status, 400);
    assert_error(&body, 400, Some("invalidValue"));
    // Names in any case, but each once; whole numbers in any JSON spelling; empty values absent.
    let twice = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "count": 1, "COUNT": 100,
    });
    let (status, body) = call(&app, reqwest::Method::POST, "/.search", &token, Some(twice)).await;
    assert_eq!(status, 400);
    assert_error(&body, 400, Some("invalidSyntax"));
    let spelled = json!({
        "SCHEMAS": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "Filter": "userName pr", "count": 1.0, "attributes": "userName", "excludedAttributes": [],
    });
    let (status, found) = call(
        &app,
        reqwest::Method::POST,
        "/.search",
        &token,
        Some(spelled),
    )
    .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found, listed);
    // Without a token, or with an unknown one: 401, in SCIM's shape too.
    let response = app
        .client
        .get(app.url("/api/scim/v2/Users"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    assert_error(&response.json().await.unwrap(), 401, None);
    let (status, body) = get(&app, "/Users", "gw_unknown").await;
    assert_eq!(status, 401);
    assert_error(&body, 401, None);
}

async fn scim_and_core_tokens_stay_apart_and_organizations_never_mix(backend: Backend) {
    let app = app(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    let globex = app.create_org("Globex", "UTC").await;
    let acme_scim = scim_token(&app, &acme).await;
    let globex_scim = scim_token(&app, &globex).await;
    // A SCIM token cannot call the Core API; a Core token (every scope) cannot call SCIM.
    for path in [
        "/api/v3/send",
        "/api/v3/me",
        "/api/v3/users",
        "/api/v3/touches",
    ] {
        assert_eq!(app.get(path, &acme_scim).await.0, 403, "{path}");
    }
    let core = app
        .create_token(&acme.user, "public write update fulfillment", None)
        .await;
    let (status, body) = get(&app, "/Users", &core).await;
    assert_eq!(status, 403);
    assert_error(&body, 403, None);
    // Another organization's users are not found, not listed and not changed.
    let (_, listed) = get(&app, "/Users", &acme_scim).await;
    let acme_ids: Vec<String> = listed["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        acme_ids,
        [
            acme.user.id.get().to_string(),
            acme.teamless.id.get().to_string()
        ]
    );
    // POST search (RFC 7644 §3.4.3) reads the same organization's users only, at both paths.
    for path in ["/.search", "/Users/.search"] {
        let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]});
        let (status, found) = call(
            &app,
            reqwest::Method::POST,
            path,
            &globex_scim,
            Some(search),
        )
        .await;
        assert_eq!(status, 200, "{path}: {found}");
        let ids: Vec<&str> = found["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap())
            .collect();
        assert!(!ids.is_empty(), "{path}: Globex's own users");
        for id in &acme_ids {
            assert!(
                !ids.contains(&id.as_str()),
                "{path}: Acme's user {id} in Globex's search"
            );
        }
    }
    for id in &acme_ids {
        let path = format!("/Users/{id}");
        assert_eq!(get(&app, &path, &globex_scim).await.0, 404);
        assert_eq!(
            call(
                &app,
                reqwest::Method::PUT,
                &path,
                &globex_scim,
                Some(json!({"active": false}))
            )
            .await
            .0,
            404
        );
        let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false}]});
        assert_eq!(
            call(
                &app,
                reqwest::Method::PATCH,
                &path,
                &globex_scim,
                Some(patch)
            )
            .await
            .0,
            404
        );
        assert_eq!(
            call(&app, reqwest::Method::DELETE, &path, &globex_scim, None)
                .await
                .0,
            404
        );
    }
    let (_, filtered) = get(
        &app,
        "/Users?filter=userName%20eq%20%22marc%40Acme.example%22",
        &globex_scim,
    )
    .await;
    assert_eq!(filtered["totalResults"], 0);
    // Globex's team names are not Acme's divisions.
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/Users",
        &globex_scim,
        Some(sendoso_user("x@globex.example", "Marketing Ops")),
    )
    .await;
    assert_eq!(status, 201, "Globex has its own Marketing Ops");
    assert_eq!(
        app.get("/api/v3/me", &acme.token).await.0,
        200,
        "Acme's users are untouched"
    );
    // Tokens with `scim` and another scope cannot be made.
    let mixed = app
        .store
        .create_token(giftwire_core::store::NewToken {
            user: acme.user.id,
            hash: giftwire_core::PlainToken::generate().hash(),
            scopes: giftwire_core::Scopes::parse("scim").unwrap(),
            expires_at: None,
        })
        .await;
    assert!(mixed.is_ok());
    assert!(giftwire_core::Scopes::parse("scim public").is_err());
}

async fn discovery_describes_the_user_resource(backend: Backend) {
    let app = app(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    let token = scim_token(&app, &acme).await;
    let (status, config) = get(&app, "/ServiceProviderConfig", &token).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            config["patch"]["supported"].clone(),
            config["filter"]["supported"].clone(),
            config["filter"]["maxResults"].clone()
        ),
        (json!(true), json!(true), json!(100))
    );
    assert_eq!(
        config["authenticationSchemes"][0]["type"],
        "oauthbearertoken"
    );
    let (_, types) = get(&app, "/ResourceTypes", &token).await;
    assert_eq!(types["Resources"][0]["endpoint"], "/Users");
    let (_, user_type) = get(&app, "/ResourceTypes/User", &token).await;
    assert_eq!(
        user_type["schema"],
        "urn:ietf:params:scim:schemas:core:2.0:User"
    );
    let (_, schemas) = get(&app, "/Schemas", &token).await;
    let attributes = schemas["Resources"][0]["attributes"].as_array().unwrap();
    let names: Vec<&str> = attributes
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "userName", "name", "emails", "active", "userType", "division"
        ]
    );
    let division = attributes.iter().find(|a| a["name"] == "division").unwrap();
    assert_eq!(
        division["canonicalValues"],
        json!(["Marketing Ops"]),
        "the organization's team names"
    );
    let (status, schema) = get(
        &app,
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
        &token,
    )
    .await;
    assert_eq!(
        (status, schema["id"].clone()),
        (200, json!("urn:ietf:params:scim:schemas:core:2.0:User"))
    );
}

/// A PATCH of one attribute changes that attribute only: a manager stays a manager, an invited
/// user stays invited, a user in one of two teams of the same name stays in its team, and
/// removing `active` leaves a deactivated user deactivated. A write made from a stale read is
/// refused rather than lose the change made in between.
async fn scim_writes_keep_what_they_do_not_set(backend: Backend) {
    use giftwire_core::store::NewUser;
    use giftwire_core::{Email, Name, Role, UserState};
    let app = app(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    let token = scim_token(&app, &acme).await;
    let first = app
        .store
        .create_team(acme.org.id, Name::parse("name", "Twins").unwrap())
        .await
        .unwrap();
    let second = app
        .store
        .create_team(acme.org.id, Name::parse("name", "Twins").unwrap())
        .await
        .unwrap();
    let manager = app
        .store
        .create_user(
            acme.org.id,
            NewUser::new(
                Name::parse("name", "Meg Boss").unwrap(),
                Email::parse("e", "meg@acme.example").unwrap(),
                Some(second.id),
                Role::Manager,
            ),
        )
        .await
        .unwrap();
    let patch = |op: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [op]});
    let path = format!("/Users/{}", manager.id.get());
    let (status, body) = call(
        &app,
        reqwest::Method::PATCH,
        &path,
        &token,
        Some(patch(
            json!({"op": "replace", "path": "name.givenName", "value": "Megan"}),
        )),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let after = app.store.user(acme.org.id, manager.id).await.unwrap();
    assert_eq!(
        (after.role, after.team_id, after.name.as_str()),
        (Role::Manager, Some(second.id), "Megan Boss")
    );
    assert_ne!(after.team_id, Some(first.id));

    // Removing `active` from a deactivated user hides the attribute (it has no value then, RFC
    // 7644) and leaves the user deactivated, which filters still find.
    call(
        &app,
        reqwest::Method::PATCH,
        &path,
        &token,
        Some(patch(
            json!({"op": "replace", "path": "active", "value": false}),
        )),
    )
    .await;
    let (status, body) = call(
        &app,
        reqwest::Method::PATCH,
        &path,
        &token,
        Some(patch(json!({"op": "remove", "path": "active"}))),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("active").is_none(), "{body}");
    assert_eq!(
        app.store.user(acme.org.id, manager.id).await.unwrap().state,
        UserState::Deactivated
    );
    let (_, found) = get(&app, "/Users?filter=active%20eq%20false", &token).await;
    let ids: Vec<&Value> = found["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["id"])
        .collect();
    assert!(
        ids.contains(&&json!(manager.id.get().to_string())),
        "{found}"
    );

    // An invited user (POST /api/v3/users) renamed over SCIM is still invited.
    let update = app.create_token(&acme.user, "update", None).await;
    let invite = json!({"user": {"first_name": "Ivy", "last_name": "New", "email": "ivy@acme.example", "role": "regular", "team_group_id": acme.team.get()}});
    assert_eq!(
        app.post("/api/v3/users", &update, &invite, None).await.0,
        201
    );
    let ivy = app
        .store
        .users(acme.org.id)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == "ivy@acme.example")
        .unwrap();
    let (status, body) = call(
        &app,
        reqwest::Method::PATCH,
        &format!("/Users/{}", ivy.id.get()),
        &token,
        Some(patch(
            json!({"op": "replace", "path": "name.familyName", "value": "Newer"}),
        )),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.store.user(acme.org.id, ivy.id).await.unwrap().state,
        UserState::Invited
    );

    // A replace made from a read the user has changed since is a conflict, and writes nothing.
    let stale = app
        .store
        .scim_user(acme.org.id, acme.teamless.id)
        .await
        .unwrap();
    app.store
        .set_user_state(acme.org.id, acme.teamless.id, UserState::Deactivated)
        .await
        .unwrap();
    let data = giftwire_core::store::ScimUserData {
        user_name: "solo@Acme.example".into(),
        first_name: "Solo".into(),
        last_name: "Renamed".into(),
        emails: None,
        email: Email::parse("e", "solo@Acme.example").unwrap(),
        state: None,
        active_shown: true,
        user_type: None,
        role: Role::Regular,
        team: None,
        external_id: None,
    };
    let refused = app
        .store
        .scim_replace(
            acme.org.id,
            acme.teamless.id,
            stale.fingerprint(),
            data,
            jiff::Timestamp::now(),
        )
        .await;
    assert!(
        matches!(refused, Err(giftwire_core::StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(
        app.store
            .user(acme.org.id, acme.teamless.id)
            .await
            .unwrap()
            .last_name,
        "Sender"
    );
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
