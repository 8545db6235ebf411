//! Users: `GET /api/v3/me` (the token's user, how integrations check a connection),
//! `GET /api/v3/users` (active users, paged) and `GET /api/v3/users/{id}` (one user of the
//! organization, whatever its state: undocumented, but clients resolve senders with it).

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use giftwire_api::users::UserList;
use giftwire_core::{Scope, UserId};

use super::{numeric_id, page_request};
use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, json_response};
use crate::render;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v3/me", get(me))
        .route("/api/v3/users", get(list_users))
        .route("/api/v3/users/{id}", get(show_user))
}

async fn me(auth: Authenticated, State(state): State<AppState>) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Public)?;
    let user = state
        .store
        .user(principal.org_id, principal.user_id)
        .await?;
    // A user in no team is its own team.
    let team_balance = match user.team_id {
        Some(team) => state.store.team_balance(principal.org_id, team).await?,
        None => user.balance,
    };
    Ok(json_response(
        StatusCode::OK,
        &render::me(&user, team_balance),
    ))
}

async fn list_users(
    auth: Authenticated,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Public)?;
    let (page, _) = page_request(raw.as_deref(), &[])?;
    let listed = state.store.active_users(principal.org_id, page).await?;
    let body = UserList {
        current_page: page.page(),
        per_page: page.per_page(),
        total_users: listed.total,
        users: listed.items.iter().map(render::user).collect(),
    };
    Ok(json_response(StatusCode::OK, &body))
}

async fn show_user(
    auth: Authenticated,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Public)?;
    let id = numeric_id(&raw).ok_or(ApiError::NotFound("User"))?;
    let user = state.store.user(principal.org_id, UserId::new(id)).await?;
    Ok(json_response(StatusCode::OK, &render::user(&user)))
}
