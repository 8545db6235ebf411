//! Team groups: `GET /api/v3/groups` (paged, with budgets) and
//! `GET /api/v3/groups/{id}/members` (a bare array; a missing or foreign group is the documented
//! `404 {"message": "Group not found!"}`).

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use giftwire_api::groups::{GroupList, Member};
use giftwire_core::{Scope, StoreError, TeamId};

use utoipa_axum::routes;

use super::{Routes, numeric_id, page_request};
use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, json_response};
use crate::query::PathParam;
use crate::render;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .routes(routes!(list_groups))
        .routes(routes!(members))
}

#[utoipa::path(
    get,
    path = "/api/v3/groups",
    tag = "Groups",
    operation_id = "list_groups",
    summary = "List team groups",
    description = "The team groups of the token's organization with their budgets, a page at a time.",
    params(crate::openapi::PageParams),
    security(("oauth2" = ["public"])),
    responses(
        (status = 200, description = "A page of groups", body = giftwire_api::groups::GroupList),
        (status = 400, description = "`page` or `per_page` is repeated or not a positive integer", body = giftwire_api::ErrorBody),
    ),
)]
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

#[utoipa::path(
    get,
    path = "/api/v3/groups/{id}/members",
    tag = "Groups",
    operation_id = "group_members",
    summary = "Members of a team group",
    description = "The active users of a team group, as a bare array.",
    params(("id" = String, Path, description = "The group's id")),
    security(("oauth2" = ["public"])),
    responses(
        (status = 200, description = "The members", body = Vec<giftwire_api::groups::Member>),
        (status = 404, description = "No group of the organization has this id (the documented shape, without `success`)", body = giftwire_api::groups::GroupNotFound),
    ),
)]
async fn members(
    auth: Authenticated,
    State(state): State<AppState>,
    PathParam(raw): PathParam,
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
