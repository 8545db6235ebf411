//! Sends: `GET /api/v3/send` (Retrieve All Sends), also answered at `/api/v3/sends`, the plural
//! that clients get wrong (CONTRACT.md §1).

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use giftwire_api::SendList;
use giftwire_core::{PageRequest, Scope};

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, json_response};
use crate::{query, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v3/send", get(list_sends))
        .route("/api/v3/sends", get(list_sends))
}

/// Every send of the token's organization, a page at a time, ascending by id.
async fn list_sends(
    auth: Authenticated,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Public)?;
    let params = query::single_values(raw.as_deref(), &["page", "per_page"])?;
    let page = PageRequest::parse(
        params.get("page").map(String::as_str),
        params.get("per_page").map(String::as_str),
    )
    .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let listed = state.store.list_sends(principal.org_id, page).await?;
    let body = SendList {
        current_page: page.page(),
        per_page: page.per_page(),
        total_count: listed.total(),
        sends: listed
            .sends
            .iter()
            .map(|s| render::send(s, &principal.time_zone))
            .collect(),
    };
    Ok(json_response(StatusCode::OK, &body))
}
