//! One send: `GET /api/v3/send/{id}` (our addition; `id` or `send_gid`) and
//! `POST /api/v3/send/{id}/status_updates`, how fulfillment partners report progress and costs.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use giftwire_core::lifecycle::StatusChange;
use giftwire_core::time::parse_instant;
use giftwire_core::{Scope, SendGid, SendId, SendStatus};
use serde_json::json;

use crate::AppState;
use crate::auth::Authenticated;
use crate::body::JsonBody;
use crate::error::{ApiError, json_response};
use crate::query::PathParam;
use crate::render;

/// A send's id in the path: its number, or its gid in any accepted form.
fn send_id(raw: &str) -> Result<SendId, ApiError> {
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        return raw
            .parse::<i64>()
            .map(SendId::new)
            .map_err(|_| ApiError::NotFound("Send"));
    }
    SendGid::parse(raw).ok_or(ApiError::NotFound("Send"))
}

/// `{"success": true, "send": {...}}`, the send as the listing shows it.
#[utoipa::path(
    get,
    path = "/api/v3/send/{id}",
    tag = "Sends",
    operation_id = "show_send",
    summary = "Retrieve a send",
    description = "One send of the token's organization, as the listing shows it.",
    params(("id" = String, Path, description = "The send's id (a number) or its `send_gid`")),
    security(("oauth2" = ["public"])),
    responses(
        (status = 200, description = "The send", body = giftwire_api::SendShown),
        (status = 404, description = "No send of the organization has this id", body = giftwire_api::ErrorBody),
    ),
)]
pub(super) async fn show_send(
    auth: Authenticated,
    State(state): State<AppState>,
    PathParam(raw): PathParam,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Public)?;
    let send = state.store.send(principal.org_id, send_id(&raw)?).await?;
    let body = json!({"success": true, "send": render::send(&send, &principal.time_zone)});
    Ok(json_response(StatusCode::OK, &body))
}

/// Records `{"status", "occurred_at"?, "current_total_cost"?}` through the lifecycle.
#[utoipa::path(
    post,
    path = "/api/v3/send/{id}/status_updates",
    tag = "Sends",
    operation_id = "record_send_status",
    summary = "Report a fulfillment status change",
    description = "A fulfillment partner reports what happened to a send: its new status, when \
        (RFC 3339; now when absent) and optionally the final cost. The change must follow the \
        lifecycle of the send's kind (CONTRACT.md); the answer is the send as it now is.",
    params(("id" = String, Path, description = "The send's id (a number) or its `send_gid`")),
    request_body = giftwire_api::StatusReport,
    security(("oauth2" = ["fulfillment"])),
    responses(
        (status = 200, description = "The send after the change", body = giftwire_api::SendShown),
        (status = 400, description = "A field is missing or invalid", body = giftwire_api::ErrorBody),
        (status = 404, description = "No send of the organization has this id", body = giftwire_api::ErrorBody),
        (status = 409, description = "The lifecycle does not allow this change from the send's status", body = giftwire_api::ErrorBody),
    ),
)]
pub(super) async fn record_status(
    auth: Authenticated,
    State(state): State<AppState>,
    PathParam(raw): PathParam,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Fulfillment)?;
    let id = send_id(&raw)?;
    let fields = body.fields()?;
    let status: SendStatus = fields
        .string("status")?
        .parse()
        .map_err(|_| ApiError::invalid("status"))?;
    if status == SendStatus::Pending {
        return Err(ApiError::invalid("status"));
    }
    let occurred_at = match fields.opt_string("occurred_at")? {
        Some(at) => {
            parse_instant("occurred_at", at).map_err(|_| ApiError::invalid("occurred_at"))?
        }
        None => state.clock.now(),
    };
    let cost = fields.opt_money("current_total_cost")?;
    let change = StatusChange {
        status,
        occurred_at,
        cost,
    };
    let send = state
        .store
        .change_status(principal.org_id, id, change)
        .await?;
    let body = json!({"success": true, "send": render::send(&send, &principal.time_zone)});
    Ok(json_response(StatusCode::OK, &body))
}
