//! The SCIM discovery endpoints (RFC 7644 §4): `ServiceProviderConfig`, `ResourceTypes` and
//! `Schemas`. The User schema lists exactly the attributes giftwire keeps, so that providers
//! (and compliance testers) send nothing it would drop; `division` lists the organization's
//! team names as its canonical values.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use giftwire_api::scim as api;
use serde_json::{Value, json};

use super::{BASE, ScimAuth, ScimError, scim_json};
use crate::AppState;
use crate::query::PathParam;

const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

fn base(state: &AppState) -> String {
    format!("{}{BASE}", state.public_url.as_str().trim_end_matches('/'))
}

#[utoipa::path(
    get,
    path = "/api/scim/v2/ServiceProviderConfig",
    tag = "SCIM",
    operation_id = "scim_service_provider_config",
    summary = "Service provider configuration",
    description = "What this SCIM service supports (RFC 7643 §5): PATCH and filters, no bulk, sorting, ETags or password changes.",
    security(("oauth2" = ["scim"])),
    responses((status = 200, description = "The configuration", body = serde_json::Value, content_type = "application/scim+json")),
)]
pub(super) async fn service_provider_config(
    _auth: ScimAuth,
    State(state): State<AppState>,
) -> Response {
    let body = json!({
        "schemas": [SPC_SCHEMA],
        "documentationUri": "https://developer.sendoso.com/scim/",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": super::users::MAX_COUNT},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A bearer token with the scim scope (and no other)",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", base(&state)),
        },
    });
    scim_json(StatusCode::OK, &body)
}

fn user_resource_type(state: &AppState) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "The users of the organization",
        "schema": api::USER_SCHEMA,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{}/ResourceTypes/User", base(state)),
        },
    })
}

fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [api::LIST_SCHEMA],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}

#[utoipa::path(
    get,
    path = "/api/scim/v2/ResourceTypes",
    tag = "SCIM",
    operation_id = "scim_resource_types",
    summary = "Resource types",
    description = "The resource types (RFC 7643 §6): `User` only.",
    security(("oauth2" = ["scim"])),
    responses((status = 200, description = "A list of resource types", body = serde_json::Value, content_type = "application/scim+json")),
)]
pub(super) async fn resource_types(_auth: ScimAuth, State(state): State<AppState>) -> Response {
    scim_json(StatusCode::OK, &list(vec![user_resource_type(&state)]))
}

#[utoipa::path(
    get,
    path = "/api/scim/v2/ResourceTypes/{id}",
    tag = "SCIM",
    operation_id = "scim_resource_type",
    summary = "One resource type",
    params(("id" = String, Path, description = "`User`")),
    security(("oauth2" = ["scim"])),
    responses(
        (status = 200, description = "The resource type", body = serde_json::Value, content_type = "application/scim+json"),
        (status = 404, description = "No such resource type", body = api::Error, content_type = "application/scim+json"),
    ),
)]
pub(super) async fn resource_type(
    _auth: ScimAuth,
    State(state): State<AppState>,
    PathParam(id): PathParam,
) -> Result<Response, ScimError> {
    if id != "User" {
        return Err(ScimError::not_found(format!("No resource type {id:?}")));
    }
    Ok(scim_json(StatusCode::OK, &user_resource_type(&state)))
}

fn attribute(name: &str, kind: &str, description: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": description,
        "required": false,
        "caseExact": false,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    })
}

/// The User schema, with the organization's team names as `division`'s canonical values.
async fn user_schema(auth: &ScimAuth, state: &AppState) -> Result<Value, ScimError> {
    let teams: Vec<String> = state
        .store
        .teams(auth.principal().org_id)
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    let mut user_name = attribute(
        "userName",
        "string",
        "Unique identifier of the user, usually its email address",
    );
    user_name["required"] = json!(true);
    user_name["uniqueness"] = json!("server");
    let mut name = attribute("name", "complex", "The user's name");
    name["subAttributes"] = json!([
        attribute("givenName", "string", "First name"),
        attribute("familyName", "string", "Last name"),
    ]);
    let mut emails = attribute(
        "emails",
        "complex",
        "Email addresses; the primary one (or the first, or the userName) is the user's email",
    );
    emails["multiValued"] = json!(true);
    emails["required"] = json!(true);
    let mut kind = attribute("type", "string", "work, home or other");
    kind["canonicalValues"] = json!(["work", "home", "other"]);
    let mut value = attribute("value", "string", "An email address");
    value["required"] = json!(true);
    emails["subAttributes"] = json!([
        value,
        kind,
        attribute("primary", "boolean", "Whether this is the user's email"),
    ]);
    let active = attribute(
        "active",
        "boolean",
        "false deactivates the user: its tokens stop working and it leaves the Core API's lists",
    );
    let mut user_type = attribute(
        "userType",
        "string",
        "sender (a regular user), manager, or admin (a manager)",
    );
    user_type["canonicalValues"] = json!(["sender", "manager", "admin"]);
    let mut division = attribute(
        "division",
        "string",
        "The name of the user's team group, exactly as GET /api/v3/groups shows it",
    );
    if !teams.is_empty() {
        division["canonicalValues"] = json!(teams);
    }
    Ok(json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": api::USER_SCHEMA,
        "name": "User",
        "description": "A user of the organization",
        "attributes": [user_name, name, emails, active, user_type, division],
        "meta": {
            "resourceType": "Schema",
            "location": format!("{}/Schemas/{}", base(state), api::USER_SCHEMA),
        },
    }))
}

#[utoipa::path(
    get,
    path = "/api/scim/v2/Schemas",
    tag = "SCIM",
    operation_id = "scim_schemas",
    summary = "Schemas",
    description = "The User schema (RFC 7643 §7), the organization's team names as `division`'s canonical values.",
    security(("oauth2" = ["scim"])),
    responses((status = 200, description = "A list of schemas", body = serde_json::Value, content_type = "application/scim+json")),
)]
pub(super) async fn schemas(
    auth: ScimAuth,
    State(state): State<AppState>,
) -> Result<Response, ScimError> {
    Ok(scim_json(
        StatusCode::OK,
        &list(vec![user_schema(&auth, &state).await?]),
    ))
}

#[utoipa::path(
    get,
    path = "/api/scim/v2/Schemas/{id}",
    tag = "SCIM",
    operation_id = "scim_schema",
    summary = "One schema",
    params(("id" = String, Path, description = "`urn:ietf:params:scim:schemas:core:2.0:User`")),
    security(("oauth2" = ["scim"])),
    responses(
        (status = 200, description = "The schema", body = serde_json::Value, content_type = "application/scim+json"),
        (status = 404, description = "No such schema", body = api::Error, content_type = "application/scim+json"),
    ),
)]
pub(super) async fn schema(
    auth: ScimAuth,
    State(state): State<AppState>,
    PathParam(id): PathParam,
) -> Result<Response, ScimError> {
    if id != api::USER_SCHEMA {
        return Err(ScimError::not_found(format!("No schema {id:?}")));
    }
    Ok(scim_json(
        StatusCode::OK,
        &user_schema(&auth, &state).await?,
    ))
}
