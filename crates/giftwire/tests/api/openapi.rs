//! The OpenAPI document (`GET /openapi.json`) and its page (`GET /docs`): the document covers
//! every route the server serves (a route served but missing from it fails here), and the page
//! works from the binary alone. That every response of this suite conforms to the document is
//! checked outside it, by an independent validator (`.ci/openapi/validate.py`, run by `.ci/run`
//! over the exchanges this suite records with `GIFTWIRE_RECORD_EXCHANGES`).

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{Backend, TestApp, spawn};

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"];

async fn document(app: &TestApp) -> Value {
    let response = app.get_raw("/openapi.json", None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

/// A path template with each `{param}` replaced by `1`.
fn instance(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').expect("a closed parameter") + open;
        out.push('1');
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The router's fallbacks: what a path no route has is answered (in the envelope, or SCIM's).
fn fallback(body: &str) -> bool {
    body == r#"{"success":false,"message":"Not found"}"# || body.contains("No such SCIM endpoint")
}

/// The routes registered without documentation are SCIM's two catch-alls only (each with its
/// reason); on every documented path, each method the document names is served (not the
/// router's 404 or 405) and every other method is a 405 (HEAD is served exactly where GET is,
/// as HTTP has it). Together: no route or method is served that the document does not describe.
/// And each scope-guarded operation refuses a token with every scope but the one it names (403).
async fn every_served_route_is_in_the_document(backend: Backend) {
    let app = spawn(backend).await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc, giftwire_server::openapi::document());
    let paths = doc["paths"].as_object().unwrap();
    let table = giftwire_server::openapi::route_table();
    let undocumented: Vec<&str> = table.undocumented.iter().map(|(p, _)| *p).collect();
    assert_eq!(undocumented, ["/api/scim/v2", "/api/scim/v2/{*rest}"]);

    // Tokens that get past authentication everywhere: SCIM's scope is held alone.
    let org = app.create_org("Initech", "UTC").await;
    let all = ["public", "write", "update", "fulfillment"];
    let api = app.create_token(&org.user, &all.join(" "), None).await;
    let scim = app.create_token(&org.user, "scim", None).await;
    let mut without = std::collections::HashMap::new();
    for scope in all {
        let others: Vec<&str> = all.iter().copied().filter(|s| *s != scope).collect();
        without.insert(
            scope,
            app.create_token(&org.user, &others.join(" "), None).await,
        );
    }
    let mut probed = 0;
    let mut refused = 0;
    for (template, item) in paths {
        let url = app.url(&instance(template));
        let is_scim = template.starts_with("/api/scim/v2");
        let token = if is_scim { &scim } else { &api };
        for method in METHODS.iter().chain(&["HEAD"]) {
            let name = if *method == "HEAD" {
                "get"
            } else {
                &method.to_ascii_lowercase()
            };
            let op = item.get(name);
            let response = app
                .client
                .request(Method::from_bytes(method.as_bytes()).unwrap(), &url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            let Some(op) = op else {
                assert_eq!(
                    status, 405,
                    "{method} {template} is served ({status}) but not in the document"
                );
                continue;
            };
            assert!(
                status != 405 && !(status == 404 && fallback(&body)),
                "{method} {template} is documented but not served ({status} {body})"
            );
            probed += 1;
            let scopes: Vec<&str> = op["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.get("oauth2"))
                .flat_map(|s| s.as_array().unwrap())
                .map(|s| s.as_str().unwrap())
                .collect();
            if *method == "HEAD" || scopes.is_empty() {
                continue;
            }
            let lacking = if is_scim { &api } else { &without[scopes[0]] };
            // A body that reads (the scope is checked once the request is read).
            let mut request = app
                .client
                .request(Method::from_bytes(method.as_bytes()).unwrap(), &url)
                .bearer_auth(lacking);
            if op.get("requestBody").is_some() {
                request = request.json(&serde_json::json!({}));
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status(),
                403,
                "{method} {template} with a token without {scopes:?}"
            );
            refused += 1;
        }
    }
    assert_eq!(probed, 56 + 33, "operations probed, and HEAD of each GET");
    assert_eq!(
        refused, 36,
        "scope-guarded operations refused a token without their scope"
    );
}

/// What the document promises integrators: every operation has an id, a tag and its answers;
/// every scope-guarded one names its scope in the OAuth2 scheme, and says what a missing token,
/// a missing scope and the rate limit answer; our additions are marked.
async fn the_document_describes_auth_errors_and_additions(backend: Backend) {
    let app = spawn(backend).await;
    let doc = document(&app).await;
    let scopes =
        doc["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]["scopes"]
            .as_object()
            .unwrap();
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "{id} twice");
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{id}");
            let responses = op["responses"].as_object().unwrap();
            for status in ["500", "503"] {
                assert!(responses.contains_key(status), "{method} {path}: {status}");
            }
            let Some(security) = op.get("security").and_then(Value::as_array) else {
                continue;
            };
            for requirement in security {
                for scope in requirement
                    .get("oauth2")
                    .into_iter()
                    .flat_map(|s| s.as_array().unwrap())
                {
                    assert!(
                        scopes.contains_key(scope.as_str().unwrap()),
                        "{id}: {scope}"
                    );
                }
            }
            assert!(
                security.iter().any(|r| r.get("operator_token").is_some()),
                "{id}"
            );
            for status in ["401", "403", "429"] {
                assert!(responses.contains_key(status), "{method} {path}: {status}");
            }
        }
    }
    let addition = |path: &str, method: &str| {
        doc["paths"][path][method]["x-giftwire-addition"] == Value::Bool(true)
    };
    assert!(addition("/api/v3/send/changes", "get"));
    assert!(addition("/api/v3/send/export", "get"));
    assert!(addition("/api/v3/webhook_endpoints", "post"));
    assert!(!addition("/api/v3/send", "get"));
    assert!(!addition("/api/v3/send", "post"));
    // The filters of the listing are documented, each saying it is an addition.
    let params: Vec<(&str, &str)> = doc["paths"]["/api/v3/send"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["description"].as_str().unwrap(),
            )
        })
        .collect();
    let names: Vec<&str> = params.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "page",
            "per_page",
            "status",
            "type",
            "touch_id",
            "sender_id",
            "created_after",
            "created_before",
            "recipient_email"
        ]
    );
    for (name, description) in &params[2..] {
        assert!(description.contains("giftwire addition"), "{name}");
    }
}

/// `/docs` is Swagger UI from the binary: the page, its scripts and styles, pointed at
/// `/openapi.json`, nothing loaded from elsewhere.
async fn the_docs_page_is_served_from_the_binary(backend: Backend) {
    let app = spawn(backend).await;
    let client = crate::http::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let root = client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(root.status(), 303);
    assert_eq!(root.headers()["location"], "/docs/");

    let page = app.get_raw("/docs/", None).await;
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // Every script and style the page loads is one of ours.
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in html.match_indices(attribute) {
            let target = &html[at + attribute.len()..];
            let target = &target[..target.find('"').unwrap()];
            assert!(!target.contains("//"), "{target} is not ours");
            let file = app
                .get_raw(&format!("/docs/{}", target.trim_start_matches("./")), None)
                .await;
            assert_eq!(file.status(), 200, "{target}");
        }
    }
    let initializer = app.get_raw("/docs/swagger-initializer.js", None).await;
    assert_eq!(initializer.status(), 200);
    assert!(initializer.text().await.unwrap().contains("/openapi.json"));
    let missing = app.get_raw("/docs/nothing-here.js", None).await;
    assert_eq!(missing.status(), 404);
}

crate::helpers::backend_tests!(
    every_served_route_is_in_the_document,
    the_document_describes_auth_errors_and_additions,
    the_docs_page_is_served_from_the_binary,
);
