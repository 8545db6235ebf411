//! `GET /api/v3/send/changes` (our addition): the incremental sync feed.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use giftwire_core::{ChangePosition, Scope};

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, json_bytes_response};
use crate::{query, render};

/// Sends answered when `limit` is not given, and the most one call answers.
pub(super) const DEFAULT_LIMIT: u32 = 100;
pub(super) const MAX_LIMIT: u32 = 1000;

/// The sends of the token's organization created or changed after the cursor `after` (from the
/// first when it is absent or empty), in the order their changes became visible, each once
/// with its current state: `{"sends": [...], "next_cursor": "..."}`. `next_cursor` is where the
/// next call continues; when nothing changed it is the cursor given (or the start's).
#[utoipa::path(
    get,
    path = "/api/v3/send/changes",
    tag = "Sends",
    operation_id = "send_changes",
    summary = "Sends changed since a cursor (a giftwire addition)",
    description = "The sends of the token's organization created or changed after the cursor \
        `after` (from the first when it is absent or empty), in the order their changes became \
        visible, each once with its current state. Follow `next_cursor` to stay in sync: a reader \
        doing so never misses a change and never sees one twice. When nothing changed, \
        `next_cursor` is the cursor given. Cursors are opaque and bound to the organization.",
    params(
        ("after" = Option<String>, Query, description = "A `next_cursor` of an earlier answer; absent or empty for the start"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Sends at most in the answer (default 100)"),
    ),
    security(("oauth2" = ["public"])),
    responses(
        (status = 200, description = "The sends changed after the cursor, and where to continue", body = giftwire_api::ChangePage),
        (status = 400, description = "The cursor was altered or is another organization's, or `limit` is out of range", body = giftwire_api::ErrorBody),
    ),
    extensions(("x-giftwire-addition" = json!(true))),
)]
pub(super) async fn send_changes(
    auth: Authenticated,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Public)?;
    let org = principal.org_id;
    let params = query::single_values(raw.as_deref(), &["after", "limit"])?;
    let key = &state.webhooks.key;
    let after = match params.get("after").map(String::as_str) {
        None | Some("") => ChangePosition::default(),
        Some(cursor) => ChangePosition::from_cursor(cursor, org, key)
            .map_err(|e| ApiError::BadRequest(e.to_string()))?,
    };
    let limit = match params.get("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "limit must be an integer from 1 to {MAX_LIMIT} (got {raw:?})"
                ))
            })?,
    };
    let changes = state.store.send_changes(org, after, limit).await?;
    let next = changes.last().map_or(after, |c| c.position);
    let records: Vec<_> = changes.into_iter().map(|c| c.send).collect();
    let sends = render::send_array(&records, &principal.time_zone)
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    let cursor = next.cursor(org, key);
    let mut body = Vec::with_capacity(sends.len() + cursor.len() + 32);
    body.extend_from_slice(br#"{"sends":"#);
    body.extend_from_slice(&sends);
    body.extend_from_slice(br#","next_cursor":""#);
    body.extend_from_slice(cursor.as_bytes());
    body.extend_from_slice(br#""}"#);
    Ok(json_bytes_response(StatusCode::OK, body))
}
