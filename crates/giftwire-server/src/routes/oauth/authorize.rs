//! The authorization endpoint: checking a request, the sign-in detour, the consent page and
//! its answer, and the out-of-band page.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use giftwire_core::store::{App, NewCode, User};
use giftwire_core::{PlainToken, Scope, Scopes};
use jiff::SignedDuration;

use super::{Params, param, parse_params};
use crate::AppState;
use crate::oauth::{CODE_LIFETIME_SECS, OOB, pkce_shaped};
use crate::pages::{self, ACCOUNT_FORMS, random_hex};
use crate::routes::account::{form_expired, unavailable};
use crate::session::signed_in;

/// The consent page's policy: its form's answer redirects to the client, which a
/// `form-action 'self'` would forbid.
const CONSENT_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

fn scope_meaning(scope: Scope) -> &'static str {
    match scope {
        Scope::Public => "read your organization's sends, touches and users",
        Scope::Write => "send gifts on your behalf",
        Scope::Update => "update your account details",
        Scope::Fulfillment => "record fulfillment updates (statuses and costs) of sends",
        Scope::Scim => "create, update and deactivate your organization's users (SCIM)",
    }
}

/// A checked authorization request.
struct Authorization {
    app: App,
    redirect_uri: String,
    scopes: Scopes,
    state: Option<String>,
    challenge: Option<String>,
}

/// A 400 page: the request cannot be answered by a redirect (unknown client, redirect URI not
/// registered), or is malformed before we know where to redirect.
fn bad_request_page(text: &str) -> Response {
    pages::message(
        StatusCode::BAD_REQUEST,
        "This authorization request is not valid",
        text,
    )
}

/// A 303 to the client's redirect URI with `pairs` added to its query (out-of-band clients: to
/// our page that shows the code).
fn redirect_to_client(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let target = if redirect_uri == OOB {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("/oauth/authorize/native?{query}")
    } else {
        match url::Url::parse(redirect_uri) {
            Ok(mut url) => {
                url.query_pairs_mut().extend_pairs(pairs);
                url.to_string()
            }
            Err(_) => return bad_request_page("The redirect URI is not valid."),
        }
    };
    Redirect::to(&target).into_response()
}

/// An error redirect (RFC 6749 §4.1.2.1) with the request's `state`.
fn error_redirect(
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> Response {
    if redirect_uri == OOB {
        return bad_request_page(description);
    }
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    redirect_to_client(redirect_uri, &pairs)
}

async fn check_authorization(state: &AppState, params: &Params) -> Result<Authorization, Response> {
    let Some(client_id) = param(params, "client_id") else {
        return Err(bad_request_page(
            "The request names no application (client_id).",
        ));
    };
    let app = match state.store.app_by_client_id(client_id).await {
        Ok(Some(app)) if app.revoked_at.is_none() => app,
        Ok(_) => return Err(bad_request_page("There is no such application.")),
        Err(_) => return Err(unavailable()),
    };
    let Some(redirect_uri) = param(params, "redirect_uri")
        .filter(|uri| app.redirect_uris.iter().any(|registered| registered == uri))
    else {
        return Err(bad_request_page(
            "The redirect URI is missing or is not one registered for this application.",
        ));
    };
    let redirect_uri = redirect_uri.to_owned();
    let client_state = param(params, "state");
    let fail = |error: &str, description: &str| {
        error_redirect(&redirect_uri, client_state, error, description)
    };
    if param(params, "response_type") != Some("code") {
        return Err(fail(
            "unsupported_response_type",
            "response_type must be \"code\"",
        ));
    }
    let scopes = match Scopes::parse(param(params, "scope").unwrap_or("public")) {
        Ok(scopes) if scopes.within(app.scopes) => scopes,
        Ok(_) => {
            return Err(fail(
                "invalid_scope",
                "the application may not request that scope",
            ));
        }
        Err(_) => return Err(fail("invalid_scope", "unknown scope")),
    };
    let challenge = match (
        param(params, "code_challenge"),
        param(params, "code_challenge_method"),
    ) {
        (None, None) if app.confidential() => None,
        (None, None) => {
            return Err(fail(
                "invalid_request",
                "a public client must use PKCE (code_challenge)",
            ));
        }
        (Some(c), Some("S256")) if c.len() == 43 && pkce_shaped(c) => Some(c.to_owned()),
        (Some(_), Some("S256")) => {
            return Err(fail("invalid_request", "malformed code_challenge"));
        }
        (None, Some(_)) => {
            return Err(fail(
                "invalid_request",
                "code_challenge_method without code_challenge",
            ));
        }
        (Some(_), _) => {
            return Err(fail(
                "invalid_request",
                "code_challenge_method must be S256",
            ));
        }
    };
    Ok(Authorization {
        redirect_uri: redirect_uri.clone(),
        state: client_state.map(str::to_owned),
        app,
        scopes,
        challenge,
    })
}

#[derive(askama::Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    app_name: &'a str,
    org_name: &'a str,
    user_email: &'a str,
    scopes: Vec<(&'static str, &'static str)>,
    scope: String,
    client_id: &'a str,
    redirect_uri: &'a str,
    state: Option<&'a str>,
    code_challenge: Option<&'a str>,
    csrf: &'a str,
}

#[utoipa::path(
    get,
    path = "/oauth/authorize",
    tag = "OAuth",
    operation_id = "authorize",
    summary = "Authorization request (RFC 6749 §4.1.1)",
    description = "The consent page for a signed-in user (else a redirect to sign in and back). A request that cannot \
        be answered by a redirect (unknown client, unregistered redirect URI) is a 400 page; other errors go to the \
        redirect URI as `error=`.",
    params(
        ("response_type" = String, Query, description = "`code`"),
        ("client_id" = String, Query, description = "The application's client id"),
        ("redirect_uri" = String, Query, description = "One of the application's redirect URIs, or `urn:ietf:wg:oauth:2.0:oob`"),
        ("scope" = Option<String>, Query, description = "Space-separated scopes (`public` when absent)"),
        ("state" = Option<String>, Query, description = "Returned as given"),
        ("code_challenge" = Option<String>, Query, description = "PKCE (RFC 7636): required for public clients"),
        ("code_challenge_method" = Option<String>, Query, description = "`S256`"),
    ),
    responses(
        (status = 200, description = "The consent page", body = String, content_type = "text/html"),
        (status = 303, description = "To sign in first, or to the redirect URI with an `error`", headers(("Location" = String))),
        (status = 400, description = "The request is not valid and cannot be redirected", body = String, content_type = "text/html"),
        crate::pages::PageUnavailable,
    ),
)]
pub(super) async fn authorize_page(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    jar: CookieJar,
) -> Response {
    let query = query.unwrap_or_default();
    let params = match parse_params(query.as_bytes()) {
        Ok(params) => params,
        Err(e) => return bad_request_page(&e),
    };
    let request = match check_authorization(&state, &params).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let user = match signed_in(&state, &jar).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            let back = format!("/oauth/authorize?{query}");
            let query: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("return_to", &back)
                .finish();
            return Redirect::to(&format!("/sign_in?{query}")).into_response();
        }
        Err(_) => return unavailable(),
    };
    if let Some(denied) = other_organization(&request, &user) {
        return denied;
    }
    let org = match state.store.org(request.app.org_id).await {
        Ok(org) => org,
        Err(_) => return unavailable(),
    };
    let (jar, csrf) = ACCOUNT_FORMS.token(jar, state.https());
    let page = ConsentPage {
        app_name: &request.app.name,
        org_name: &org.name,
        user_email: &user.email,
        scopes: request
            .scopes
            .iter()
            .map(|s| (s.as_str(), scope_meaning(s)))
            .collect(),
        scope: request.scopes.to_string(),
        client_id: &request.app.client_id,
        redirect_uri: &request.redirect_uri,
        state: request.state.as_deref(),
        code_challenge: request.challenge.as_deref(),
        csrf: &csrf,
    };
    (
        jar,
        pages::render_with_policy(StatusCode::OK, &page, CONSENT_POLICY),
    )
        .into_response()
}

/// Only users of the application's organization may authorize it.
fn other_organization(request: &Authorization, user: &User) -> Option<Response> {
    (user.org_id != request.app.org_id).then(|| {
        error_redirect(
            &request.redirect_uri,
            request.state.as_deref(),
            "access_denied",
            "this application belongs to another organization",
        )
    })
}

/// The fields of the consent form (its answer is read from the parameters by name, as the
/// authorization request's are: [`parse_params`] refuses a repeated one); described for the
/// document only.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ConsentForm {
    /// The form's double-submit token.
    csrf: String,
    /// `allow` or `deny`.
    decision: String,
    response_type: String,
    client_id: String,
    redirect_uri: String,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

/// The consent form's answer.
#[utoipa::path(
    post,
    path = "/oauth/authorize",
    tag = "OAuth",
    operation_id = "authorize_decision",
    summary = "The consent form's answer",
    description = "Allow or deny: to the redirect URI with a `code` (and `state`), or `error=access_denied`.",
    request_body(content = inline(ConsentForm), content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "To the redirect URI", headers(("Location" = String))),
        (status = 400, description = "The request is not valid and cannot be redirected", body = String, content_type = "text/html"),
        (status = 403, description = "The form has expired", body = String, content_type = "text/html"),
        crate::pages::PageUnavailable,
    ),
)]
pub(super) async fn decide(State(state): State<AppState>, jar: CookieJar, body: Bytes) -> Response {
    let params = match parse_params(&body) {
        Ok(params) => params,
        Err(e) => return bad_request_page(&e),
    };
    if !ACCOUNT_FORMS.accepts(&jar, params.get("csrf").map_or("", String::as_str)) {
        return form_expired();
    }
    let request = match check_authorization(&state, &params).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let user = match signed_in(&state, &jar).await {
        Ok(Some(user)) => user,
        Ok(None) => return form_expired(),
        Err(_) => return unavailable(),
    };
    if let Some(denied) = other_organization(&request, &user) {
        return denied;
    }
    match param(&params, "decision") {
        Some("allow") => {}
        Some("deny") => {
            return error_redirect(
                &request.redirect_uri,
                request.state.as_deref(),
                "access_denied",
                "the user denied the request",
            );
        }
        _ => {
            return error_redirect(
                &request.redirect_uri,
                request.state.as_deref(),
                "invalid_request",
                "decision must be allow or deny",
            );
        }
    }
    let code = random_hex::<32>();
    let now = state.clock.now();
    let created = state
        .store
        .create_code(NewCode {
            app: request.app.id,
            org: request.app.org_id,
            user: user.id,
            hash: PlainToken::from_client(&code).hash(),
            redirect_uri: request.redirect_uri.clone(),
            scopes: request.scopes,
            challenge: request.challenge.clone(),
            created_at: now,
            expires_at: now + SignedDuration::from_secs(CODE_LIFETIME_SECS),
        })
        .await;
    if created.is_err() {
        return unavailable();
    }
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = request.state.as_deref() {
        pairs.push(("state", state));
    }
    redirect_to_client(&request.redirect_uri, &pairs)
}

#[derive(askama::Template)]
#[template(path = "native.html")]
struct NativePage<'a> {
    code: &'a str,
}

#[utoipa::path(
    get,
    path = "/oauth/authorize/native",
    tag = "OAuth",
    operation_id = "authorize_native",
    summary = "The code, for out-of-band clients",
    description = "Shows the authorization code to copy, for the redirect URI `urn:ietf:wg:oauth:2.0:oob`.",
    params(("code" = String, Query, description = "The authorization code (64 hex characters)")),
    responses(
        (status = 200, description = "The page with the code", body = String, content_type = "text/html"),
        (status = 400, description = "There is no code to show", body = String, content_type = "text/html"),
    ),
)]
pub(super) async fn native_page(RawQuery(query): RawQuery) -> Response {
    let params = parse_params(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    match param(&params, "code") {
        Some(code) if code.len() == 64 && code.bytes().all(|b| b.is_ascii_hexdigit()) => {
            pages::render(StatusCode::OK, &NativePage { code })
        }
        _ => bad_request_page("There is no code to show."),
    }
}
