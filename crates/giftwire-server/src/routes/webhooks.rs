//! Webhook endpoints (a giftwire addition; Sendoso configures them in a portal), scope
//! `update`: `GET`/`POST /api/v3/webhook_endpoints`, `GET`/`PATCH`/`DELETE
//! /api/v3/webhook_endpoints/{id}`, `GET /api/v3/webhook_endpoints/{id}/deliveries` and
//! `POST /api/v3/webhook_endpoints/{id}/rotate_secret`. Bodies are flat JSON objects of `url`,
//! `events` (an array of documented types, or `null` for all), `description` and (to change)
//! `enabled`; any other field is refused. The secret is shown by the creation and the rotation
//! only.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};
use giftwire_api::webhooks::{CreatedEndpoint, DeliveryList, EndpointList, RotatedSecret};
use giftwire_core::Scope;
use giftwire_core::store::{EndpointChanges, NewEndpoint};
use giftwire_core::webhooks::{self, EndpointError, EventFilter};
use serde_json::Value;

use super::{numeric_id, page_request};
use crate::AppState;
use crate::auth::Authenticated;
use crate::body::{Fields, JsonBody};
use crate::error::{ApiError, json_response};
use crate::render;

const NOT_FOUND: &str = "Webhook endpoint";
const FIELDS: [&str; 4] = ["url", "events", "description", "enabled"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v3/webhook_endpoints",
            get(list_endpoints).post(create_endpoint),
        )
        .route(
            "/api/v3/webhook_endpoints/{id}",
            get(show_endpoint)
                .patch(update_endpoint)
                .delete(delete_endpoint),
        )
        .route(
            "/api/v3/webhook_endpoints/{id}/deliveries",
            get(list_deliveries),
        )
        .route(
            "/api/v3/webhook_endpoints/{id}/rotate_secret",
            post(rotate_secret),
        )
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

async fn show_endpoint(
    auth: Authenticated,
    State(state): State<AppState>,
    Path(raw): Path<String>,
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

async fn update_endpoint(
    auth: Authenticated,
    State(state): State<AppState>,
    Path(raw): Path<String>,
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

async fn delete_endpoint(
    auth: Authenticated,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Update)?;
    state
        .store
        .delete_endpoint(principal.org_id, endpoint_id(&raw)?)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_deliveries(
    auth: Authenticated,
    State(state): State<AppState>,
    Path(raw): Path<String>,
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

async fn rotate_secret(
    auth: Authenticated,
    State(state): State<AppState>,
    Path(raw): Path<String>,
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
