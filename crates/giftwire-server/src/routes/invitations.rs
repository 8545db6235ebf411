//! The page of an invitation's link (`POST /api/v3/users` mails it):
//!
//! - `GET /invitations/{token}`: the form that chooses a password, or why it cannot be used
//!   (unknown 404, expired 410, already accepted).
//! - `POST /invitations/{token}`: sets the password (argon2id) and makes the user active, in one
//!   transaction; then the user signs in like any other.
//!
//! The token is the link's only credential; only its SHA-256 is stored. The form carries the
//! token of [`pages::ACCOUNT_FORMS`], checked on submit.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use giftwire_core::store::{Invitation, InvitationStatus};
use giftwire_core::{PlainToken, StoreError};
use serde::Deserialize;

use super::account::{form_expired, unavailable};
use utoipa_axum::routes;

use super::Routes;
use crate::AppState;
use crate::oauth::{MIN_PASSWORD_CHARS, PasswordError, hash_new_password};
use crate::pages::{self, ACCOUNT_FORMS};
use crate::query::PathParam;

pub(crate) fn routes() -> Routes {
    Routes::new().routes(routes!(page, accept))
}

#[derive(askama::Template)]
#[template(path = "invitation.html")]
struct InvitationPage<'a> {
    org_name: &'a str,
    first_name: &'a str,
    email: &'a str,
    token: &'a str,
    csrf: &'a str,
    min_chars: usize,
    error: Option<&'a str>,
}

/// The invitation a link opens, or the page that says why it cannot be used.
async fn open(state: &AppState, token: &str) -> Result<Invitation, Response> {
    let found = state
        .store
        .invitation(&PlainToken::from_client(token).hash())
        .await
        .map_err(|_| unavailable())?;
    let Some(invitation) = found else {
        return Err(pages::message(
            StatusCode::NOT_FOUND,
            "Invitation not found",
            "This invitation link is not valid. Please check that you opened the whole link.",
        ));
    };
    match invitation.status(state.clock.now()) {
        InvitationStatus::Pending => Ok(invitation),
        InvitationStatus::Accepted => Err(accepted(StatusCode::OK)),
        InvitationStatus::Expired => Err(pages::message(
            StatusCode::GONE,
            "This invitation has expired",
            "Please ask whoever invited you for a new invitation.",
        )),
    }
}

fn accepted(status: StatusCode) -> Response {
    pages::message(
        status,
        "Your account is ready",
        "Your invitation is accepted. Sign in at /sign_in with your email and the password you chose.",
    )
}

fn form(
    state: &AppState,
    jar: CookieJar,
    invitation: &Invitation,
    token: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let (jar, csrf) = ACCOUNT_FORMS.token(jar, state.https());
    let page = InvitationPage {
        org_name: &invitation.org_name,
        first_name: &invitation.user.first_name,
        email: &invitation.user.email,
        token,
        csrf: &csrf,
        min_chars: MIN_PASSWORD_CHARS,
        error,
    };
    (jar, pages::render(status, &page)).into_response()
}

#[utoipa::path(
    get,
    path = "/invitations/{token}",
    tag = "Invitations",
    operation_id = "invitation_page",
    summary = "The invitation page",
    description = "The form where an invited user chooses a password.",
    params(("token" = String, Path, description = "The invitation's token, from the mail (the credential)")),
    responses(
        (status = 200, description = "The form (or, accepted already, a page saying so)", body = String, content_type = "text/html"),
        (status = 404, description = "No invitation has this token", body = String, content_type = "text/html"),
        (status = 410, description = "The invitation has expired", body = String, content_type = "text/html"),
        crate::pages::PageUnavailable,
    ),
)]
async fn page(
    State(state): State<AppState>,
    PathParam(token): PathParam,
    jar: CookieJar,
) -> Response {
    match open(&state, &token).await {
        Ok(invitation) => form(&state, jar, &invitation, &token, StatusCode::OK, None),
        Err(page) => page,
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
struct AcceptForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirmation: String,
}

#[utoipa::path(
    post,
    path = "/invitations/{token}",
    tag = "Invitations",
    operation_id = "accept_invitation",
    summary = "Accept the invitation",
    description = "Sets the password (typed twice); the user is then active.",
    params(("token" = String, Path, description = "The invitation's token, from the mail (the credential)")),
    request_body(content = AcceptForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Accepted", body = String, content_type = "text/html"),
        (status = 400, description = "The form again: the password is too short or the two differ", body = String, content_type = "text/html"),
        (status = 403, description = "The form has expired", body = String, content_type = "text/html"),
        (status = 404, description = "No invitation has this token", body = String, content_type = "text/html"),
        (status = 409, description = "Another account has this email", body = String, content_type = "text/html"),
        (status = 410, description = "The invitation has expired, or was accepted meanwhile", body = String, content_type = "text/html"),
        crate::pages::PageUnavailable,
        crate::pages::FormRejections,
    ),
)]
async fn accept(
    State(state): State<AppState>,
    PathParam(token): PathParam,
    jar: CookieJar,
    Form(posted): Form<AcceptForm>,
) -> Response {
    if !ACCOUNT_FORMS.accepts(&jar, &posted.csrf) {
        return form_expired();
    }
    let invitation = match open(&state, &token).await {
        Ok(invitation) => invitation,
        Err(page) => return page,
    };
    let refuse = |jar, message: &str| {
        form(
            &state,
            jar,
            &invitation,
            &token,
            StatusCode::BAD_REQUEST,
            Some(message),
        )
    };
    if posted.password != posted.confirmation {
        return refuse(jar, "The two passwords differ.");
    }
    let hash = match hash_new_password(&posted.password).await {
        Ok(hash) => hash,
        Err(PasswordError::TooShort) => {
            return refuse(
                jar,
                &format!("A password has at least {MIN_PASSWORD_CHARS} characters."),
            );
        }
        Err(_) => return unavailable(),
    };
    let token_hash = PlainToken::from_client(&token).hash();
    match state
        .store
        .accept_invitation(&token_hash, hash, state.clock.now())
        .await
    {
        Ok(_) => accepted(StatusCode::OK),
        Err(StoreError::NotFound(_)) => pages::message(
            StatusCode::GONE,
            "This invitation can no longer be used",
            "It has expired or was accepted already. Please ask whoever invited you for a new one.",
        ),
        Err(StoreError::Conflict(_)) => pages::message(
            StatusCode::CONFLICT,
            "This email address already signs in",
            "Another account signs in with this email address. Please ask whoever invited you to use another one.",
        ),
        Err(_) => unavailable(),
    }
}
