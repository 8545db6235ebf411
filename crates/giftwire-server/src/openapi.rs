//! The OpenAPI 3.1 document of the server, made from the routes as they are registered
//! ([`crate::routes::all`]): each handler's `#[utoipa::path]` gives its path, method, parameters,
//! body and answers; the wire types of `giftwire-api` give the schemas. What every route shares
//! because of a mechanism in front of it (the authentication and rate limits of
//! [`crate::auth::gatekeeper`], the deadlines and body limits of the front door, the store's
//! outages) is added here once, in [`shared_answers`], rather than repeated on every handler.
//!
//! Our additions to the documented Sendoso API are marked with `x-giftwire-addition: true` (and
//! say so in their description).

use std::sync::LazyLock;

use bytes::Bytes;
use giftwire_core::Scope;
use serde_json::{Map, Value, json};
use utoipa::OpenApi as _;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{RefOr, Required};

/// The scope names and what each allows, for the OAuth2 scheme.
fn scope_description(scope: Scope) -> &'static str {
    match scope {
        Scope::Public => "Read: the GETs of /api/v3 (webhook endpoints take update)",
        Scope::Write => "Create sends",
        Scope::Update => "Change users, webhook endpoints and other settings",
        Scope::Fulfillment => "Report fulfillment status changes of sends",
        Scope::Scim => "Provision users with SCIM 2.0 (/api/scim/v2)",
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "giftwire",
        description = "The sends service of a corporate gifting platform, wire-compatible with \
            Sendoso's public REST API (`/api/v3`, `/oauth`, `/api/scim/v2`). Operations marked \
            `x-giftwire-addition` are ours, not Sendoso's. Every `/api/v3` path also answers with \
            a `.json` suffix (`/api/v3/send.json`), as Rails clients call it.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    components(schemas(giftwire_api::ErrorBody, giftwire_api::scim::Error)),
    tags(
        (name = "Sends", description = "Sends (gifts) of the organization: listing, creation, one send, status changes"),
        (name = "Users", description = "Users of the organization"),
        (name = "Groups", description = "Team groups and their members"),
        (name = "Touches", description = "Touches (campaigns)"),
        (name = "Webhooks", description = "Webhook endpoints and their deliveries (a giftwire addition)"),
        (name = "SCIM", description = "SCIM 2.0 user provisioning (RFC 7643/7644)"),
        (name = "OAuth", description = "OAuth 2.0 authorization (RFC 6749, PKCE, revocation)"),
        (name = "Recipient pages", description = "The pages a gift's recipient opens from the email"),
        (name = "Account", description = "Signing in to the web pages"),
        (name = "Invitations", description = "Accepting an invitation to an organization"),
        (name = "Documentation", description = "This document and its browsable page (giftwire additions)"),
    )
)]
struct Base;

/// The document as served at `GET /openapi.json`.
pub fn document() -> Value {
    let mut doc = Base::openapi();
    doc.merge(crate::routes::all().into_openapi());
    let Ok(Value::Object(mut doc)) = serde_json::to_value(&doc) else {
        unreachable!("an OpenAPI document serializes to a JSON object");
    };
    security_schemes(&mut doc);
    shared_answers(&mut doc);
    Value::Object(doc)
}

/// The paths the server routes: those the document describes, and those it cannot, each with
/// the reason (see [`crate::routes::Routes`]).
#[derive(Debug, Clone)]
pub struct RouteTable {
    pub documented: Vec<String>,
    pub undocumented: Vec<(&'static str, &'static str)>,
}

pub fn route_table() -> RouteTable {
    let routes = crate::routes::all();
    RouteTable {
        documented: routes.documented_paths(),
        undocumented: routes.undocumented_paths().to_vec(),
    }
}

/// [`document`] serialized once.
pub(crate) fn document_bytes() -> Bytes {
    static DOC: LazyLock<Bytes> = LazyLock::new(|| Bytes::from(document().to_string()));
    DOC.clone()
}

/// The OAuth2 scheme (authorization code with PKCE, and refresh) with the scopes, and the
/// operator tokens (`giftwire token create`), which are bearer tokens with the same scopes.
fn security_schemes(doc: &mut Map<String, Value>) {
    let scopes: Map<String, Value> = Scope::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), json!(scope_description(*s))))
        .collect();
    let components = object(doc, "components");
    object(components, "securitySchemes").extend([
        (
            "oauth2".to_owned(),
            json!({
                "type": "oauth2",
                "description": "OAuth 2.0 (RFC 6749) with PKCE (RFC 7636); access tokens last 7200 s, \
                    refresh tokens rotate. Send the access token as `Authorization: Bearer <token>`.",
                "flows": {
                    "authorizationCode": {
                        "authorizationUrl": "/oauth/authorize",
                        "tokenUrl": "/oauth/token",
                        "refreshUrl": "/oauth/token",
                        "scopes": scopes,
                    }
                }
            }),
        ),
        (
            "operator_token".to_owned(),
            json!({
                "type": "http",
                "scheme": "bearer",
                "description": "An operator's token (`giftwire token create --scopes ...`), with the \
                    same scopes as OAuth's.",
            }),
        ),
    ]);
}

/// `map[key]` as an object, made one if absent (or not an object).
fn object<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = map.entry(key).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    entry.as_object_mut().expect("made an object above")
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The answers every operation can give because of what stands in front of its handler, added
/// where the handler did not describe them itself:
/// - any: `500` (a fault of ours) and `503` (the store unreachable, the request's deadline
///   passed, or the server at capacity), with `Retry-After`;
/// - a scope-guarded operation: `401` (no token, or an unknown, expired or revoked one), `403`
///   (the token lacks the scope) and `429` (the token's or application's rate limit), and the
///   operator token as a second way in;
/// - `POST /sign_in`, `/oauth/token`, `/oauth/revoke`: `429` per client address;
/// - an operation with a JSON body: `400` (not JSON), `408` (the body came too slowly) and `413`
///   (over 1 MiB); with a form or raw body, axum's plain-text `400` and `413`.
///
/// SCIM's paths answer errors in SCIM's shape (`application/scim+json`), but for what the front
/// door answers before them (its `503`s, a panic's `500`: the envelope).
fn shared_answers(doc: &mut Map<String, Value>) {
    // Each answer twice: in the envelope, and under SCIM's base in SCIM's error (`Scim<name>`).
    let retry_after = |required: bool| {
        let schema = json!({"type": "integer", "minimum": 0});
        if required {
            json!({"Retry-After": {"required": true, "schema": schema}})
        } else {
            json!({"Retry-After": {"schema": schema}})
        }
    };
    let challenge =
        || json!({"WWW-Authenticate": {"required": true, "schema": {"type": "string"}}});
    let mut shared = Map::new();
    for (name, description, headers) in [
        ("Error", "An error", json!({})),
        (
            "Unavailable",
            "The store is unreachable, the answer was not ready within the request deadline, or \
             the server is at capacity; try again after `Retry-After` seconds",
            retry_after(false),
        ),
        (
            "RateLimited",
            "Too many requests; try again after `Retry-After` seconds",
            retry_after(true),
        ),
        (
            "Unauthorized",
            "No bearer token, or one that is unknown, expired or revoked",
            challenge(),
        ),
        (
            "Forbidden",
            "The token does not hold the scope the operation needs",
            challenge(),
        ),
    ] {
        for (prefix, schema, content_type) in [
            ("", "ErrorBody", "application/json"),
            ("Scim", "ScimError", "application/scim+json"),
        ] {
            let mut response = json!({
                "description": description,
                "content": {content_type: {"schema": {"$ref": format!("#/components/schemas/{schema}")}}},
            });
            if headers.as_object().is_some_and(|h| !h.is_empty()) {
                response["headers"] = headers.clone();
            }
            shared.insert(format!("{prefix}{name}"), response);
        }
    }
    // The front door answers in the envelope whatever the path (its deadline, its connection
    // limit, a panic caught); a page's template failing to render is plain text; axum's own
    // rejections of a form or raw body (unreadable, over 1 MiB) are plain text too.
    let envelope = json!({"schema": {"$ref": "#/components/schemas/ErrorBody"}});
    let text = json!({"schema": {"type": "string"}});
    shared["ScimUnavailable"]["content"]["application/json"] = envelope.clone();
    let mut scim_fault = shared["ScimError"].clone();
    scim_fault["content"]["application/json"] = envelope.clone();
    shared.insert("ScimFault".to_owned(), scim_fault);
    let mut page_fault = shared["Error"].clone();
    page_fault["content"]["text/plain"] = text.clone();
    shared.insert("PageFault".to_owned(), page_fault);
    shared.insert(
        "BodyRejected".to_owned(),
        json!({"description": "The body cannot be read, or is larger than 1 MiB (plain text)",
               "content": {"text/plain": text}}),
    );

    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for (path, item) in paths.iter_mut() {
            add_shared_answers(path, item, &shared);
        }
    }
    object(object(doc, "components"), "responses").extend(shared);
}

/// [`shared_answers`] of one path's operations. Where a handler describes a status itself (a
/// page's HTML 429, say), the shared answer's content types are added to its own (the front
/// door's JSON one).
fn add_shared_answers(path: &str, item: &mut Value, shared: &Map<String, Value>) {
    let scim = path.starts_with(crate::routes::SCIM_BASE);
    let named = |name: &str| {
        if scim {
            format!("Scim{name}")
        } else {
            name.to_owned()
        }
    };
    for method in METHODS {
        let Some(Value::Object(op)) = item.get_mut(method) else {
            continue;
        };
        let guarded = op
            .get("security")
            .and_then(Value::as_array)
            .is_some_and(|s| !s.is_empty());
        if guarded {
            add_operator_token(op);
        }
        let body_types: Vec<String> = op
            .get("requestBody")
            .and_then(|b| b.get("content"))
            .and_then(Value::as_object)
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default();
        let json_body = body_types.iter().any(|t| t.contains("json"));
        let page = op
            .get("responses")
            .and_then(Value::as_object)
            .is_some_and(|r| {
                r.values()
                    .any(|r| r.pointer("/content/text~1html").is_some())
            });
        let answers = object(op, "responses");
        let mut add = |status: &str, name: String, description: Option<&str>| {
            let Some(Value::Object(own)) = answers.get_mut(status) else {
                let mut reference = json!({"$ref": format!("#/components/responses/{name}")});
                if let Some(description) = description {
                    reference["description"] = json!(description);
                }
                answers.insert(status.to_owned(), reference);
                return;
            };
            if own.contains_key("$ref") {
                return;
            }
            if let Some(Value::Object(content)) = shared.get(&name).and_then(|r| r.get("content")) {
                let own_content = object(own, "content");
                for (media_type, media) in content {
                    own_content
                        .entry(media_type.clone())
                        .or_insert(media.clone());
                }
            }
        };
        if guarded {
            add("401", named("Unauthorized"), None);
            add("403", named("Forbidden"), None);
            add("429", named("RateLimited"), None);
        } else if method == "post" && matches!(path, "/sign_in" | "/oauth/token" | "/oauth/revoke")
        {
            add("429", named("RateLimited"), None);
        }
        if json_body {
            let bad = "The body cannot be read, or a field is missing or invalid";
            add("400", named("Error"), Some(bad));
            let slow = "The body did not arrive within the body deadline";
            add("408", named("Error"), Some(slow));
            add("413", named("Error"), Some("The body is larger than 1 MiB"));
        } else if !body_types.is_empty() {
            add("400", "BodyRejected".to_owned(), None);
            add("413", "BodyRejected".to_owned(), None);
        }
        let fault = "A fault of ours (logged with its cause)";
        let fault_kind = match (scim, page) {
            (true, _) => "ScimFault",
            (false, true) => "PageFault",
            (false, false) => "Error",
        };
        add("500", fault_kind.to_owned(), Some(fault));
        add("503", named("Unavailable"), None);
    }
}

/// Each `oauth2` requirement of an operation holds for an operator token with the same scopes.
fn add_operator_token(op: &mut Map<String, Value>) {
    let Some(Value::Array(requirements)) = op.get_mut("security") else {
        return;
    };
    let operator: Vec<Value> = requirements
        .iter()
        .filter_map(|r| r.get("oauth2"))
        .map(|scopes| json!({"operator_token": scopes}))
        .collect();
    requirements.extend(operator);
}

/// `page` and `per_page` of every list (CONTRACT.md §4).
pub(crate) struct PageParams;

impl utoipa::IntoParams for PageParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            query(
                "page",
                "The page, from 1 (past the last page: an empty list)",
                integer(1, i32::MAX.into()).default(Some(json!(1))),
            ),
            query(
                "per_page",
                "Items per page, 10 when absent; above 100 it is 100",
                integer(1, i32::MAX.into()).default(Some(json!(10))),
            ),
        ]
    }
}

/// An integer schema from `minimum` to `maximum`.
pub(crate) fn integer(minimum: i64, maximum: i64) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Integer))
        .minimum(Some(minimum))
        .maximum(Some(maximum))
}

/// A string schema.
pub(crate) fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::Type(Type::String))
}

/// An optional query parameter.
pub(crate) fn query(name: &str, description: &str, schema: impl Into<RefOr<Schema>>) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_the_oauth2_scopes() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let scopes =
            &doc["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]["scopes"];
        for scope in Scope::ALL {
            assert!(scopes.get(scope.as_str()).is_some(), "{scope:?}");
        }
    }
}
