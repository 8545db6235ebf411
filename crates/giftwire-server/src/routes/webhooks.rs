//! Webhook endpoints (a giftwire addition; Sendoso configures them in a portal), scope
//! `update`: `GET`/`POST /api/v3/webhook_endpoints`, `GET`/`PATCH`/`DELETE
//! /api/v3/webhook_endpoints/{id}`, `GET /api/v3/webhook_endpoints/{id}/deliveries` and
//! `POST /api/v3/webhook_endpoints/{id}/rotate_secret`. Bodies are flat JSON objects of `url`,
//! `events` (an array of documented types, or `null` for all), `description` and (to change)
//! `enabled`; any other field is refused. The secret is shown by the creation and the rotation
//! only.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use giftwire_api::webhooks::{CreatedEndpoint, DeliveryList, EndpointList, RotatedSecret};
use giftwire_core::Scope;
use giftwire_core::store::{EndpointChanges, NewEndpoint};
use giftwire_core::webhooks::{self, EndpointError, EventFilter};
use serde_json::Value;

use utoipa_axum::routes;

use super::{Routes, numeric_id, page_request};
use crate::AppState;
use crate::auth::Authenticated;
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, json_response};
use crate::query::PathParam;
use crate::render;

const NOT_FOUND: &str = "Webhook endpoint";
const FIELDS: [&str; 4] = ["url", "events", "description", "enabled"];

pub(crate) fn routes() -> Routes {
    Routes::new()
        .routes(routes!(list_endpoints, create_endpoint))
        .routes(routes!(show_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(list_deliveries))
        .routes(routes!(rotate_secret))
}

fn bad(e: EndpointError) -> ApiError {
    ApiError::BadRequest(e.to_string())
}

fn endpoint_id(raw: &str) -> Result<i64, ApiError> {
    numeric_id(raw).ok_or(ApiError::NotFound(NOT_FOUND))
}

/// The body's fields, none but the known ones.
fn fields(body: &JsonBody) -> Result<Fields<'_>, ApiError> {
    let fields = body.fields()?;
    if let Some(unknown) = fields.0.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(ApiError::BadRequest(format!(
            "{unknown} is not a field of a webhook endpoint (url, events, description, enabled)"
        )));
    }
    Ok(fields)
}

/// `events`: absent (`None`), `null` (all of them) or an array of documented types.
fn events(fields: &Fields<'_>) -> Result<Option<EventFilter>, ApiError> {
    match fields.0.get("events") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(EventFilter::all())),
        Some(Value::Array(items)) => {
            let types = items
                .iter()
                .map(|v| v.as_str().ok_or_else(|| ApiError::invalid("events")))
                .collect::<Result<Vec<&str>, _>>()?;
            EventFilter::of(types).map(Some).map_err(bad)
        }
        Some(_) => Err(ApiError::invalid("events")),
    }
}

/// `description`: absent (`None`), `null` (none) or a string of at most 500 characters, none
/// of them a control character.
fn description(fields: &Fields<'_>) -> Result<Option<String>, ApiError> {
    match fields.0.get("description") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(String::new())),
        Some(Value::String(s)) => webhooks::check_description(s).map(Some).map_err(bad),
        Some(_) => Err(ApiError::invalid("description")),
    }
}

#[utoipa::path(
    get,
    path = "/api/v3/webhook_endpoints",
    tag = "Webhooks",
    operation_id = "list_webhook_endpoints",
    summary = "List webhook endpoints (a giftwire addition)",
    description = "The organization's webhook endpoints, a page at a time, without their secrets.",
    params(crate::openapi::PageParams),
    security(("oauth2" = ["update"])),
    responses(
        (status = 200, description = "A page of endpoints", body = giftwire_api::webhooks::EndpointList),
        (status = 400, description = "`page` or `per_page` is repeated or not a positive integer", body = giftwire_api::ErrorBody),
    ),
    extensions(("x-giftwire-addition" = json!(true))),
)]
async fn list_endpoints(
    auth: Authenticated,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Update)?;
    let (page, _) = page_request(raw.as_deref(), &[])?;
    let listed = state.store.endpoints(principal.org_id, page).await?;
    let body = EndpointList {
        current_page: page.page(),
        per_page: page.per_page(),
        total_endpoints: listed.total,
        endpoints: listed
            .items
            .iter()
            .map(|e| render::webhook_endpoint(e, &principal.time_zone))
            .collect(),
    };
    Ok(json_response(StatusCode::OK, &body))
}

#[utoipa::path(
    post,
    path = "/api/v3/webhook_endpoints",
    tag = "Webhooks",
    operation_id = "create_webhook_endpoint",
    summary = "Create a webhook endpoint (a giftwire addition)",
    description = "A URL that receives the organization's events (all of them unless `events` names \
        some), signed per Standard Webhooks with the secret in this answer, the only time it is shown. \
        The URL must be https (http only when private addresses are allowed) and must not resolve to \
        a private address unless the server allows it.",
    request_body = giftwire_api::webhooks::NewEndpoint,
    security(("oauth2" = ["update"])),
    responses(
        (status = 201, description = "Created, with its signing secret", body = giftwire_api::webhooks::CreatedEndpoint),
        (status = 400, description = "A field is missing, unknown or invalid, or the organization has its 50 endpoints already", body = giftwire_api::ErrorBody),
    ),
    extensions(("x-giftwire-addition" = json!(true))),
)]
async fn create_endpoint(
    auth: Authenticated,
    State(state): State<AppState>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Update)?;
    let fields = fields(&body)?;
    if fields.0.contains_key("enabled") {
        return Err(ApiError::BadRequest(
            "enabled is not set at creation: an endpoint starts enabled".to_owned(),
        ));
    }
    let url = state
        .webhooks
        .check_url(fields.string("url")?)
        .await
        .map_err(bad)?;
    let events = events(&fields)?.unwrap_or_else(EventFilter::all);
    let description = description(&fields)?.unwrap_or_default();
    let (secret, sealed) = state.webhooks.new_secret();
    let endpoint = state
        .store
        .create_endpoint(NewEndpoint {
            org_id: principal.org_id,
            url: url.to_string(),
            events,
            description,
            secret: sealed,
            at: state.clock.now(),
        })
        .await?;
    let body = CreatedEndpoint {
        endpoint: render::webhook_endpoint(&endpoint, &principal.time_zone),
        secret: secret.expose(),
    };
    Ok(json_response(StatusCode::CREATED, &body))
}

#[utoipa::path(
    get,
    path = "/api/v3/webhook_endpoints/{id}",
    tag = "Webhooks",
    operation_id = "show_webhook_endpoint",
    summary = "One webhook endpoint (a giftwire addition)",
    description = "An endpoint of the organization, without its secret.",
    params(("id" = String, Path, description = "The endpoint's id")),
    security(("oauth2" = ["update"])),
    responses(
        (status = 200, description = "The endpoint", body = giftwire_api::webhooks::WebhookEndpoint),
        (status = 404, description = "No endpoint of the organization has this id", body = giftwire_api::ErrorBody),
    ),
    extensions(("x-giftwire-addition" = json!(true))),
)]
async fn show_endpoint(
    auth: Authenticated,
    State(state): State<AppState>,
    PathParam(raw): PathParam,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Update)?;
    let endpoint = state
        .store
        .endpoint(Some(principal.org_id), endpoint_id(&raw)?)
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &render::webhook_endpoint(&endpoint, &principal.time_zone),
    ))
}

#[utoipa::path(
    patch,
    path = "/api/v3/webhook_endpoints/{id}",
    tag = "Webhooks",
    operation_id = "update_webhook_endpoint",
    summary = "Change a webhook endpoint (a giftwire addition)",
    description = "Changes the fields given (`url`, `events`, `description`, `enabled`); the others keep their value.",
    params(("id" = String, Path, description = "The endpoint's id")),
    request_body = giftwire_api::webhooks::EndpointChanges,
    security(("oauth2" = ["update"])),
    responses(
        (status = 200, description = "The endpoint after the change", body = giftwire_api::webhooks::WebhookEndpoint),
        (status = 400, description = "A field is unknown or invalid", body = giftwire_api::ErrorBody),
        (status = 404, description = "No endpoint of the organization has this id", body = giftwire_api::ErrorBody),
    ),
    extensions(("x-giftwire-addition" = json!(true))),
)]
async fn update_endpoint(
    auth: Authenticated,
    State(state): State<AppState>,
    PathParam(raw): PathParam,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Update)?;
    let id = endpoint_id(&raw)?;
    let fields = fields(&body)?;
    let url = match fields.opt_string("url")? {
        Some(raw) => Some(
            state
                .webhooks
                .check_url(raw)
                .await
                .map_err(bad)?
                .to_string(),
        ),
        None => None,
    };
    let changes = EndpointChanges {
        url,
        events: events(&fields)?,
        description: description(&fields)?,
        enabled: fields.opt_boolean("enabled")?,
    };
    let endpoint = state
        .store
        .update_endpoint(Some(principal.org_id), id, changes, state.clock.now())
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &render::webhook_endpoint(&endpoint, &principal.time_zone),
    ))
}

#[utoipa::path(
    delete,
    path = "/api/v3/webhook_endpoints/{id}",
    tag = "Webhooks",
    operation_id = "delete_webhook_endpoint",
    summary = "Delete a webhook endpoint (a giftwire addition)",
    description = "The endpoint and its deliveries are deleted; it receives nothing more.",
    params(("id" = String, Path, description = "The endpoint's id")),
    security(("oauth2" = ["update"])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No endpoint of the organization has this id", body = giftwire_api::ErrorBody),
    ),
    extensions(("x-giftwire-addition" = json!(true))),
)]
async fn delete_endpoint(
    auth: Authenticated,
    State(state): State<AppState>,
    PathParam(raw): PathParam,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Update)?;
    state
        .store
        .delete_endpoint(principal.org_id, endpoint_id(&raw)?)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(
    get,
    path = "/api/v3/webhook_endpoints/{id}/deliveries",
    tag = "Webhooks",
    operation_id = "list_webhook_deliveries",
    summary = "Deliveries to a webhook endpoint (a giftwire addition)",
    description = "The deliveries of events to the endpoint, newest first, each as its last attempt left it.",
    params(("id" = String, Path, description = "The endpoint's id"), crate::openapi::PageParams),
    security(("oauth2" = ["update"])),
    responses(
        (status = 200, description = "A page of deliveries", body = giftwire_api::webhooks::DeliveryList),
        (status = 400, description = "`page` or `per_page` is repeated or not a positive integer", body = giftwire_api::ErrorBody),
        (status = 404, description = "No endpoint of the organization has this id", body = giftwire_api::ErrorBody),
    ),
    extensions(("x-giftwire-addition" = json!(true))),
)]
async fn list_deliveries(
    auth: Authenticated,
    State(state): State<AppState>,
    PathParam(raw): PathParam,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Update)?;
    let id = endpoint_id(&raw)?;
    let (page, _) = page_request(query.as_deref(), &[])?;
    let listed = state
        .store
        .deliveries(Some(principal.org_id), id, page)
        .await?;
    let body = DeliveryList {
        current_page: page.page(),
        per_page: page.per_page(),
        total_deliveries: listed.total,
        deliveries: listed
            .items
            .iter()
            .map(|d| render::webhook_delivery(d, &principal.time_zone))
            .collect(),
    };
    Ok(json_response(StatusCode::OK, &body))
}

#[utoipa::path(
    post,
    path = "/api/v3/webhook_endpoints/{id}/rotate_secret",
    tag = "Webhooks",
    operation_id = "rotate_webhook_secret",
    summary = "Rotate a webhook endpoint's secret (a giftwire addition)",
    description = "A new signing secret, shown this once; the previous one keeps signing (as a second signature) for 24 hours.",
    params(("id" = String, Path, description = "The endpoint's id")),
    security(("oauth2" = ["update"])),
    responses(
        (status = 200, description = "The new secret", body = giftwire_api::webhooks::RotatedSecret),
        (status = 404, description = "No endpoint of the organization has this id", body = giftwire_api::ErrorBody),
    ),
    extensions(("x-giftwire-addition" = json!(true))),
)]
async fn rotate_secret(
    auth: Authenticated,
    State(state): State<AppState>,
    PathParam(raw): PathParam,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Update)?;
    let id = endpoint_id(&raw)?;
    let (secret, sealed) = state.webhooks.new_secret();
    let now = state.clock.now();
    let endpoint = state
        .store
        .rotate_endpoint_secret(
            Some(principal.org_id),
            id,
            sealed,
            now + webhooks::ROTATION_OVERLAP,
            now,
        )
        .await?;
    let body = RotatedSecret {
        id: endpoint.id,
        secret: secret.expose(),
    };
    Ok(json_response(StatusCode::OK, &body))
}
