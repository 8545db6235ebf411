//! Team groups: `GET /api/v3/groups` (paged, with budgets) and
//! `GET /api/v3/groups/{id}/members` (a bare array; a missing or foreign group is the documented
//! `404 {"message": "Group not found!"}`).

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use giftwire_api::groups::{GroupList, Member};
use giftwire_core::{Scope, StoreError, TeamId};

use super::{numeric_id, page_request};
use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, json_response};
use crate::render;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v3/groups", get(list_groups))
        .route("/api/v3/groups/{id}/members", get(members))
}

async fn list_groups(
    auth: Authenticated,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Public)?;
    let (page, _) = page_request(raw.as_deref(), &[])?;
    let listed = state.store.groups(principal.org_id, page).await?;
    let body = GroupList {
        current_page: page.page(),
        per_page: page.per_page(),
        total_groups: listed.total,
        groups: listed
            .items
            .iter()
            .map(|g| render::group(g, &principal.time_zone))
            .collect(),
    };
    Ok(json_response(StatusCode::OK, &body))
}

async fn members(
    auth: Authenticated,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Public)?;
    let team = TeamId::new(numeric_id(&raw).ok_or(ApiError::GroupNotFound)?);
    let users = match state.store.group_members(principal.org_id, team).await {
        Ok(users) => users,
        Err(StoreError::NotFound(_)) => return Err(ApiError::GroupNotFound),
        Err(e) => return Err(e.into()),
    };
    let body: Vec<Member> = users.iter().map(|u| render::member(u, team)).collect();
    Ok(json_response(StatusCode::OK, &body))
}
