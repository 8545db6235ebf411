//! The OAuth 2.0 authorization server (RFC 6749, the authorization code grant; PKCE per
//! RFC 7636; RFC 7009 revocation; the OAuth 2.0 Security BCP, RFC 9700):
//!
//! - `GET /oauth/authorize`: checks the request, sends a browser that is not signed in to the
//!   sign-in page and back, then shows the consent page.
//! - `POST /oauth/authorize`: the consent form; checks everything again, then redirects (303)
//!   with a code, or with `error=access_denied`.
//! - `GET /oauth/authorize/native?code=…`: the code of an out-of-band client, in a `<code>`.
//! - `POST /oauth/token`: the `authorization_code` and `refresh_token` grants.
//! - `POST /oauth/revoke`: revokes an access or refresh token (the whole family for the latter).
//!
//! An unknown client or a redirect URI that is not exactly a registered one is never redirected
//! to: it gets a 400 page. Codes, tokens and secrets are stored as SHA-256 hashes.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use base64::Engine as _;
use giftwire_api::oauth::{OAuthErrorBody, TokenResponse};
use giftwire_core::store::{App, NewCode, NewOAuthToken, User};
use giftwire_core::{PlainToken, Scope, Scopes, TokenHash};
use jiff::SignedDuration;

use super::account::{form_expired, unavailable};
use crate::AppState;
use crate::error::json_response;
use crate::oauth::{
    ACCESS_TOKEN_LIFETIME_SECS, CODE_LIFETIME_SECS, OOB, pkce_shaped, pkce_verifies, secret_matches,
};
use crate::pages::{self, ACCOUNT_FORMS, random_hex};
use crate::session::signed_in;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth/authorize", get(authorize_page).post(decide))
        .route("/oauth/authorize/native", get(native_page))
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
}

/// The consent page's policy: its form's answer redirects to the client, which a
/// `form-action 'self'` would forbid.
const CONSENT_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

/// Parameters of a query string or form body. A parameter given twice is refused (RFC 6749
/// §3.1), and so is one that is not UTF-8.
type Params = HashMap<String, String>;

fn parse_params(raw: &[u8]) -> Result<Params, String> {
    let mut params = Params::new();
    for (key, value) in form_urlencoded::parse(raw) {
        if params.insert(key.to_string(), value.into_owned()).is_some() {
            return Err(format!("the parameter {key:?} is given more than once"));
        }
    }
    Ok(params)
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

fn scope_meaning(scope: Scope) -> &'static str {
    match scope {
        Scope::Public => "read your organization's sends, touches and users",
        Scope::Write => "send gifts on your behalf",
        Scope::Update => "update your account details",
        Scope::Fulfillment => "record fulfillment updates (statuses and costs) of sends",
    }
}

// ---------------------------------------------------------------------------------------------
// Authorization.

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

async fn authorize_page(
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

/// The consent form's answer.
async fn decide(State(state): State<AppState>, jar: CookieJar, body: Bytes) -> Response {
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

async fn native_page(RawQuery(query): RawQuery) -> Response {
    let params = parse_params(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    match param(&params, "code") {
        Some(code) if code.len() == 64 && code.bytes().all(|b| b.is_ascii_hexdigit()) => {
            pages::render(StatusCode::OK, &NativePage { code })
        }
        _ => bad_request_page("There is no code to show."),
    }
}

// ---------------------------------------------------------------------------------------------
// The token endpoint.

/// An error of the token and revocation endpoints, as `{"error", "error_description"}`: the
/// client's (RFC 6749 §5.2), or the server's (`server_error`, with the status and headers the API
/// gives the same failure: 503 with `Retry-After` for an unavailable database, 500 otherwise).
struct OAuthError {
    error: &'static str,
    description: String,
    server: Option<crate::error::ApiError>,
}

fn oauth_error(error: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError {
        error,
        description: description.into(),
        server: None,
    }
}

fn error_json(error: &str, description: &str) -> OAuthErrorBody {
    OAuthErrorBody {
        error: error.to_owned(),
        error_description: description.to_owned(),
    }
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        if let Some(api) = self.server {
            let status = api.status();
            // Logged once, and given its headers, as the API would; the body is OAuth's.
            let mut response = api.into_response();
            let body = json_response(status, &error_json(self.error, &self.description));
            *response.body_mut() = body.into_body();
            return no_store(response);
        }
        let status = if self.error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        let mut response = no_store(json_response(
            status,
            &error_json(self.error, &self.description),
        ));
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Basic realm="giftwire""#),
            );
        }
        response
    }
}

impl From<giftwire_core::StoreError> for OAuthError {
    fn from(e: giftwire_core::StoreError) -> OAuthError {
        let api = crate::error::ApiError::from(e);
        OAuthError {
            error: "server_error",
            description: api.to_string(),
            server: Some(api),
        }
    }
}

/// The parameters of a token or revocation request: a form body or, as Sendoso's documentation
/// shows, a JSON object of strings.
fn body_params(headers: &HeaderMap, body: &[u8]) -> Result<Params, OAuthError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !json {
        return parse_params(body).map_err(|e| oauth_error("invalid_request", e));
    }
    let JsonParams(pairs) = serde_json::from_slice(body).map_err(|_| {
        oauth_error(
            "invalid_request",
            "the body is not a JSON object of strings",
        )
    })?;
    let mut params = Params::new();
    for (key, value) in pairs {
        if params.contains_key(&key) {
            return Err(oauth_error(
                "invalid_request",
                format!("the parameter {key:?} is given more than once"),
            ));
        }
        params.insert(key, value);
    }
    Ok(params)
}

/// A JSON object of strings, each key as often as it came (a map would keep the last silently).
struct JsonParams(Vec<(String, String)>);

impl<'de> serde::Deserialize<'de> for JsonParams {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> serde::de::Visitor<'de> for Pairs {
            type Value = JsonParams;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonParams, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<String, String>()? {
                    pairs.push(pair);
                }
                Ok(JsonParams(pairs))
            }
        }
        deserializer.deserialize_map(Pairs)
    }
}

/// `client_id:client_secret` of an `Authorization: Basic` header, each form-urlencoded
/// (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || oauth_error("invalid_client", "malformed Basic credentials");
    let value = value.to_str().map_err(|_| bad())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(bad());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| -> String {
        form_urlencoded::parse(format!("v={}", s.replace('&', "%26")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

/// The application a request authenticates as (RFC 6749 §2.3): HTTP Basic or the body's
/// `client_id` and `client_secret`, never both; a public client names itself only.
async fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<App, OAuthError> {
    let basic = basic_credentials(headers)?;
    let (client_id, secret) = match basic {
        Some((id, secret)) => {
            if params.contains_key("client_secret") {
                return Err(oauth_error(
                    "invalid_request",
                    "the client authenticated twice (Basic and client_secret)",
                ));
            }
            if param(params, "client_id").is_some_and(|body_id| body_id != id) {
                return Err(oauth_error(
                    "invalid_request",
                    "client_id differs from the Basic credentials",
                ));
            }
            (id, Some(secret).filter(|s| !s.is_empty()))
        }
        None => match param(params, "client_id") {
            Some(id) => (
                id.to_owned(),
                param(params, "client_secret").map(str::to_owned),
            ),
            None => {
                return Err(oauth_error(
                    "invalid_client",
                    "client authentication failed",
                ));
            }
        },
    };
    let failed = || oauth_error("invalid_client", "client authentication failed");
    let app = match state.store.app_by_client_id(&client_id).await? {
        Some(app) if app.revoked_at.is_none() => app,
        _ => return Err(failed()),
    };
    let authenticated = match (&secret, app.confidential()) {
        (Some(secret), true) => secret_matches(&app, secret),
        (None, false) => true,
        _ => false,
    };
    if authenticated {
        Ok(app)
    } else {
        Err(failed())
    }
}

/// A new pair for `app` and the user of `grant`.
struct NewPair {
    access: PlainToken,
    refresh: PlainToken,
    token: NewOAuthToken,
}

fn new_pair(
    state: &AppState,
    app: &App,
    user: giftwire_core::UserId,
    code: giftwire_core::CodeId,
    scopes: Scopes,
) -> NewPair {
    let (access, refresh) = (PlainToken::generate(), PlainToken::generate());
    let now = state.clock.now();
    NewPair {
        token: NewOAuthToken {
            app: app.id,
            org: app.org_id,
            user,
            code,
            scopes,
            access_hash: access.hash(),
            refresh_hash: refresh.hash(),
            created_at: now,
            expires_at: now + SignedDuration::from_secs(ACCESS_TOKEN_LIFETIME_SECS),
        },
        access,
        refresh,
    }
}

fn token_response(pair: NewPair) -> Response {
    no_store(json_response(
        StatusCode::OK,
        &TokenResponse {
            access_token: pair.access.expose().to_owned(),
            token_type: "Bearer".to_owned(),
            expires_in: ACCESS_TOKEN_LIFETIME_SECS,
            refresh_token: pair.refresh.expose().to_owned(),
            scope: pair.token.scopes.to_string(),
            created_at: pair.token.created_at.as_second(),
        },
    ))
}

fn forget(state: &AppState, revoked: &[TokenHash]) {
    state.caches.forget_tokens(revoked);
}

async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match exchange(&state, &headers, &body).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn exchange(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, OAuthError> {
    let params = body_params(headers, body)?;
    let grant_type = param(&params, "grant_type");
    if grant_type.is_none() {
        return Err(oauth_error("invalid_request", "grant_type is missing"));
    }
    let app = authenticate_client(state, headers, &params).await?;
    match grant_type {
        Some("authorization_code") => code_grant(state, &app, &params).await,
        Some("refresh_token") => refresh_grant(state, &app, &params).await,
        _ => Err(oauth_error(
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token",
        )),
    }
}

async fn code_grant(state: &AppState, app: &App, params: &Params) -> Result<Response, OAuthError> {
    let (Some(code), Some(redirect_uri)) = (param(params, "code"), param(params, "redirect_uri"))
    else {
        return Err(oauth_error(
            "invalid_request",
            "code and redirect_uri are required",
        ));
    };
    let invalid = |why: &str| oauth_error("invalid_grant", why);
    let Some(found) = state
        .store
        .code(PlainToken::from_client(code).hash())
        .await?
    else {
        return Err(invalid("the code is not valid"));
    };
    let now = state.clock.now();
    if found.used_at.is_some() {
        // A code presented twice was intercepted or replayed: nothing issued from it stands.
        let revoked = state.store.revoke_family(found.id, now).await?;
        forget(state, &revoked);
        return Err(invalid("the code was already used"));
    }
    if found.app_id != app.id {
        return Err(invalid("the code was issued to another client"));
    }
    if now >= found.expires_at {
        return Err(invalid("the code has expired"));
    }
    if found.redirect_uri != redirect_uri {
        return Err(invalid(
            "redirect_uri differs from the authorization request's",
        ));
    }
    match (&found.challenge, param(params, "code_verifier")) {
        (Some(challenge), Some(verifier)) if pkce_verifies(challenge, verifier) => {}
        (Some(_), Some(_)) => return Err(invalid("the code_verifier does not match")),
        (Some(_), None) => return Err(invalid("code_verifier is required")),
        // RFC 9700 §2.1.1: a verifier for a code issued without a challenge is a downgrade.
        (None, Some(_)) => return Err(invalid("the authorization request had no code_challenge")),
        (None, None) => {}
    }
    let pair = new_pair(state, app, found.user_id, found.id, found.scopes);
    let exchanged = state
        .store
        .redeem_code(found.id, now, pair.token.clone())
        .await?;
    forget(state, &exchanged.revoked);
    if !exchanged.issued {
        return Err(invalid("the code was already used"));
    }
    Ok(token_response(pair))
}

async fn refresh_grant(
    state: &AppState,
    app: &App,
    params: &Params,
) -> Result<Response, OAuthError> {
    let Some(refresh) = param(params, "refresh_token") else {
        return Err(oauth_error("invalid_request", "refresh_token is required"));
    };
    let invalid = || oauth_error("invalid_grant", "the refresh token is not valid");
    let Some(grant) = state
        .store
        .refresh_grant(PlainToken::from_client(refresh).hash())
        .await?
    else {
        return Err(invalid());
    };
    if grant.app_id != app.id {
        return Err(invalid());
    }
    let now = state.clock.now();
    if grant.spent {
        // A rotated refresh token came back: one of its holders stole it. The family dies.
        let revoked = state.store.revoke_family(grant.code_id, now).await?;
        forget(state, &revoked);
        return Err(invalid());
    }
    let scopes = match param(params, "scope") {
        None => grant.scopes,
        Some(requested) => match Scopes::parse(requested) {
            Ok(scopes) if scopes.within(grant.scopes) => scopes,
            _ => {
                return Err(oauth_error(
                    "invalid_scope",
                    "a refresh may narrow the scope, never widen it",
                ));
            }
        },
    };
    let pair = new_pair(state, app, grant.user_id, grant.code_id, scopes);
    let exchanged = state
        .store
        .rotate(grant.token_id, now, pair.token.clone())
        .await?;
    forget(state, &exchanged.revoked);
    if !exchanged.issued {
        return Err(invalid());
    }
    Ok(token_response(pair))
}

/// RFC 7009: `200 {}` whether or not the token existed.
async fn revoke(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let params = body_params(&headers, &body)?;
        let query = parse_params(query.unwrap_or_default().as_bytes())
            .map_err(|e| oauth_error("invalid_request", e))?;
        let app = authenticate_client(&state, &headers, &params).await?;
        let token = param(&params, "token")
            .or_else(|| param(&query, "token"))
            .ok_or_else(|| oauth_error("invalid_request", "token is required"))?;
        let revoked = state
            .store
            .revoke_app_token(
                app.id,
                PlainToken::from_client(token).hash(),
                state.clock.now(),
            )
            .await?;
        forget(&state, &revoked);
        Ok::<_, OAuthError>(no_store(json_response(
            StatusCode::OK,
            &serde_json::json!({}),
        )))
    }
    .await;
    match result {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}
