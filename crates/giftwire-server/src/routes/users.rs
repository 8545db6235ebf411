//! Users: `GET /api/v3/me` (the token's user, how integrations check a connection),
//! `GET /api/v3/users` (active users, paged) and `GET /api/v3/users/{id}` (one user of the
//! organization, whatever its state: undocumented, but clients resolve senders with it), and
//! `POST /api/v3/users` (Invite New User; accepted on the page of [`super::invitations`]).

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use giftwire_api::users::{Invited, UserList};
use giftwire_core::store::{InvitationStatus, NewUser};
use giftwire_core::{Email, Name, Role, Scope, StoreError, TeamId, UserId};

use utoipa_axum::routes;

use super::{Routes, numeric_id, page_request};
use crate::AppState;
use crate::auth::Authenticated;
use crate::body::JsonBody;
use crate::error::{ApiError, json_response};
use crate::query::PathParam;
use crate::{invitation, render};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .routes(routes!(me))
        .routes(routes!(list_users, invite_user))
        .routes(routes!(show_user))
}

#[utoipa::path(
    get,
    path = "/api/v3/me",
    tag = "Users",
    operation_id = "me",
    summary = "The token's user",
    description = "The user the token speaks for, with its balance and what its team may still spend.",
    security(("oauth2" = ["public"])),
    responses((status = 200, description = "The user", body = giftwire_api::users::Me)),
)]
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

#[utoipa::path(
    get,
    path = "/api/v3/users",
    tag = "Users",
    operation_id = "list_users",
    summary = "List users",
    description = "The active users of the token's organization, a page at a time.",
    params(crate::openapi::PageParams),
    security(("oauth2" = ["public"])),
    responses(
        (status = 200, description = "A page of users", body = giftwire_api::users::UserList),
        (status = 400, description = "`page` or `per_page` is repeated or not a positive integer", body = giftwire_api::ErrorBody),
    ),
)]
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

#[utoipa::path(
    get,
    path = "/api/v3/users/{id}",
    tag = "Users",
    operation_id = "show_user",
    summary = "One user",
    description = "A user of the token's organization, whatever its state (active, invited or deactivated).",
    params(("id" = String, Path, description = "The user's id")),
    security(("oauth2" = ["public"])),
    responses(
        (status = 200, description = "The user", body = giftwire_api::users::User),
        (status = 404, description = "No user of the organization has this id", body = giftwire_api::ErrorBody),
    ),
)]
async fn show_user(
    auth: Authenticated,
    State(state): State<AppState>,
    PathParam(raw): PathParam,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Public)?;
    let id = numeric_id(&raw).ok_or(ApiError::NotFound("User"))?;
    let user = state.store.user(principal.org_id, UserId::new(id)).await?;
    Ok(json_response(StatusCode::OK, &render::user(&user)))
}

/// `POST /api/v3/users` (Invite New User): `{"user": {first_name, last_name, email, role,
/// team_group_id}}` makes an invited user, mails it a link to the page that sets its password
/// (after which it is active), and answers 201 with the invitation.
#[utoipa::path(
    post,
    path = "/api/v3/users",
    tag = "Users",
    operation_id = "invite_user",
    summary = "Invite New User",
    description = "Makes an invited user in a team and mails it a link to the page where it sets its \
        password (after which it is active).",
    request_body = giftwire_api::users::Invite,
    security(("oauth2" = ["update"])),
    responses(
        (status = 201, description = "Invited", body = giftwire_api::users::Invited),
        (status = 400, description = "A field is missing or invalid, the role is not `manager` or `regular`, or the team is not the organization's", body = giftwire_api::ErrorBody),
        (status = 409, description = "A user with this email exists", body = giftwire_api::ErrorBody),
    ),
)]
async fn invite_user(
    auth: Authenticated,
    State(state): State<AppState>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Update)?;
    let fields = body.object("user")?;
    let name = |field: &'static str| -> Result<Name, ApiError> {
        Name::parse(field, fields.string(field)?).map_err(|_| ApiError::invalid(field))
    };
    let first_name = name("first_name")?;
    let last_name = name("last_name")?;
    let email =
        Email::parse("email", fields.string("email")?).map_err(|_| ApiError::invalid("email"))?;
    let role = fields
        .opt_string("role")
        .ok()
        .flatten()
        .and_then(|r| r.parse::<Role>().ok())
        .ok_or_else(|| {
            ApiError::BadRequest("Role can be one of these: manager,regular".to_owned())
        })?;
    let invalid_team = || ApiError::BadRequest("Please enter a valid team group".to_owned());
    let team = fields
        .opt_integer("team_group_id")
        .ok()
        .flatten()
        .filter(|id| *id > 0)
        .map(TeamId::new)
        .ok_or_else(invalid_team)?;
    let new = NewUser::from_parts(first_name, last_name.as_str(), email, Some(team), role)
        .map_err(|_| ApiError::invalid("last_name"))?;

    let org = principal.org_id;
    let inviter = state.store.user(org, principal.user_id).await?;
    let invited = match invitation::invite(
        state.store.as_ref(),
        org,
        new,
        &inviter.name,
        &state.public_url,
        state.clock.now(),
    )
    .await
    {
        Err(StoreError::NotFound("Team")) => return Err(invalid_team()),
        other => other?,
    };
    let user = &invited.user;
    let body = Invited {
        success: true,
        message: format!("Invitation sent to {}", user.email),
        receiver_email: user.email.clone(),
        team_group_id: team.get(),
        user_role: user.role.as_str().to_owned(),
        invitation_status: InvitationStatus::Pending.as_str().to_owned(),
        expires_at: principal.time_zone.format(invited.expires_at),
    };
    Ok(json_response(StatusCode::CREATED, &body))
}
