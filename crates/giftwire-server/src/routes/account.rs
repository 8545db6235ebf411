//! Signing in and out of giftwire's pages (to authorize OAuth applications).
//!
//! - `GET /sign_in?return_to=/path`: the form (or, when signed in, who you are and a sign-out
//!   form).
//! - `POST /sign_in`: checks the password; 303 to `return_to` (a local path only) with a new
//!   session cookie. A wrong email and a wrong password get the same answer, and failures are
//!   throttled per account and per client address.
//! - `POST /sign_out`: ends the session.
//!
//! Every form carries the token of [`pages::ACCOUNT_FORMS`], checked on submit.

use axum::Form;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use giftwire_core::PlainToken;
use giftwire_core::store::NewSession;
use serde::Deserialize;

use utoipa_axum::routes;

use super::Routes;
use crate::AppState;
use crate::oauth::{SESSION_LIFETIME_SECS, verify_password};
use crate::pages::{self, ACCOUNT_FORMS, CsrfForm, random_hex};
use crate::session::{
    self, ClientAddress, forget_session, normalize_email, session_cookie, signed_in,
};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .routes(routes!(sign_in_page, sign_in))
        .routes(routes!(sign_out))
}

#[derive(askama::Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    csrf: &'a str,
    return_to: &'a str,
    email: &'a str,
    error: Option<&'a str>,
    signed_in_as: Option<&'a str>,
}

/// Where a sign-in may send the browser: a path of ours, never another site (`//host`, `/\host`).
fn local_path(return_to: Option<&str>) -> &str {
    match return_to {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with("/\\")
                && !p.bytes().any(|b| b.is_ascii_control()) =>
        {
            p
        }
        _ => "/sign_in",
    }
}

pub(crate) fn unavailable() -> Response {
    pages::message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Please try again",
        "This page cannot be shown right now. Please try again in a minute.",
    )
}

pub(crate) fn form_expired() -> Response {
    pages::message(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "Please go back, reload the page and try again.",
    )
}

#[utoipa::path(
    get,
    path = "/sign_in",
    tag = "Account",
    operation_id = "sign_in_page",
    summary = "The sign-in page",
    params(("return_to" = Option<String>, Query, description = "A path of ours to go to after signing in (another site's is ignored)")),
    responses(
        (status = 200, description = "The page (or, signed in, who is)", body = String, content_type = "text/html"),
        crate::pages::PageUnavailable,
    ),
)]
async fn sign_in_page(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    jar: CookieJar,
) -> Response {
    // The first `return_to` (a page's query is read leniently: a browser followed a link).
    let return_to = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "return_to")
        .map(|(_, v)| v.into_owned());
    let user = match signed_in(&state, &jar).await {
        Ok(user) => user,
        Err(_) => return unavailable(),
    };
    let (jar, csrf) = ACCOUNT_FORMS.token(jar, state.https());
    let page = SignInPage {
        csrf: &csrf,
        return_to: local_path(return_to.as_deref()),
        email: "",
        error: None,
        signed_in_as: user.as_ref().map(|u| u.email.as_str()),
    };
    (jar, pages::render(StatusCode::OK, &page)).into_response()
}

#[derive(Deserialize, utoipa::ToSchema)]
struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    return_to: Option<String>,
}

#[utoipa::path(
    post,
    path = "/sign_in",
    tag = "Account",
    operation_id = "sign_in",
    summary = "Sign in",
    description = "Checks the email and password; on success a session cookie and a redirect to `return_to`.",
    request_body(content = SignInForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: to `return_to`", headers(("Location" = String), ("Set-Cookie" = String))),
        (status = 401, description = "The form again: the email or password is wrong", body = String, content_type = "text/html"),
        (status = 403, description = "The form has expired", body = String, content_type = "text/html"),
        (status = 429, description = "The form again: too many attempts, wait", body = String, content_type = "text/html"),
        crate::pages::PageUnavailable,
        crate::pages::FormRejections,
    ),
)]
async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    jar: CookieJar,
    Form(form): Form<SignInForm>,
) -> Response {
    if !ACCOUNT_FORMS.accepts(&jar, &form.csrf) {
        return form_expired();
    }
    let return_to = local_path(form.return_to.as_deref()).to_owned();
    let again = |jar: CookieJar, status: StatusCode, error: &str| {
        let (jar, csrf) = ACCOUNT_FORMS.token(jar, state.https());
        let page = SignInPage {
            csrf: &csrf,
            return_to: &return_to,
            email: &form.email,
            error: Some(error),
            signed_in_as: None,
        };
        (jar, pages::render(status, &page)).into_response()
    };
    let email = normalize_email(&form.email);
    // Longer than any email address: not worth an argon2 check (nor room in the throttle).
    let plausible = email.len() <= 254;
    let Some(attempt) = state
        .sign_ins
        .attempt(if plausible { &email } else { "" }, address)
    else {
        return again(
            jar,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed sign-ins. Please wait 15 minutes and try again.",
        );
    };
    let found = if plausible {
        match state.store.password_user(&email).await {
            Ok(found) => found,
            Err(_) => return unavailable(),
        }
    } else {
        None
    };
    let (user, stored) = match found {
        Some(found) => (Some(found.user), Some(found.password_hash)),
        None => (None, None),
    };
    // One argon2 check whether or not the account exists (against a decoy when it does not).
    let matches = verify_password(stored, form.password.clone()).await;
    let user = match user {
        Some(user) if matches => user,
        _ => return again(jar, StatusCode::UNAUTHORIZED, "Invalid email or password."),
    };
    state.sign_ins.succeeded(attempt);
    // A new session id at every sign-in: a value planted before it is worth nothing after.
    let value = format!("gws_{}", random_hex::<32>());
    let now = state.clock.now();
    let created = state
        .store
        .create_session(NewSession {
            hash: PlainToken::from_client(&value).hash(),
            user: user.id,
            created_at: now,
            expires_at: now + jiff::SignedDuration::from_secs(SESSION_LIFETIME_SECS),
        })
        .await;
    if created.is_err() {
        return unavailable();
    }
    let jar = jar.add(session_cookie(value, state.https()));
    (jar, Redirect::to(&return_to)).into_response()
}

#[utoipa::path(
    post,
    path = "/sign_out",
    tag = "Account",
    operation_id = "sign_out",
    summary = "Sign out",
    request_body(content = CsrfForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed out: to the sign-in page", headers(("Location" = String))),
        (status = 403, description = "The form has expired", body = String, content_type = "text/html"),
        crate::pages::PageUnavailable,
        crate::pages::FormRejections,
    ),
)]
async fn sign_out(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !ACCOUNT_FORMS.accepts(&jar, &form.csrf) {
        return form_expired();
    }
    if let Some(hash) = session::session_hash(&jar)
        && state.store.end_session(hash).await.is_err()
    {
        return unavailable();
    }
    (forget_session(jar), Redirect::to("/sign_in")).into_response()
}
