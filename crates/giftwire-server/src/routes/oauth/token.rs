//! The token endpoint (the code and refresh grants, client authentication) and revocation.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use giftwire_api::oauth::{OAuthErrorBody, TokenResponse};
use giftwire_core::store::{App, NewOAuthToken};
use giftwire_core::{PlainToken, Scopes};
use jiff::SignedDuration;

use super::{Params, param, parse_params};
use crate::AppState;
use crate::error::json_response;
use crate::oauth::{ACCESS_TOKEN_LIFETIME_SECS, pkce_verifies, secret_matches};

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

#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "OAuth",
    operation_id = "token",
    summary = "Token request (RFC 6749 §4.1.3, §6)",
    description = "Exchanges an authorization code (with the PKCE verifier) or a refresh token (which rotates) for an \
        access token. The client authenticates with HTTP Basic or `client_id`/`client_secret` in the body; public \
        clients with `client_id` alone.",
    request_body(content(
        (giftwire_api::oauth::TokenRequest = "application/x-www-form-urlencoded"),
        (giftwire_api::oauth::TokenRequest = "application/json"),
    )),
    responses(
        (status = 200, description = "The tokens", body = giftwire_api::oauth::TokenResponse),
        (status = 500, description = "`server_error`", body = giftwire_api::oauth::OAuthErrorBody),
        (status = 503, description = "`server_error`: the store is unreachable", body = giftwire_api::oauth::OAuthErrorBody),
        (status = 400, description = "`invalid_request`, `invalid_grant`, `unsupported_grant_type`, `invalid_scope`, `unauthorized_client`", body = giftwire_api::oauth::OAuthErrorBody),
        (status = 401, description = "`invalid_client`", body = giftwire_api::oauth::OAuthErrorBody, headers(("WWW-Authenticate" = String))),
    ),
)]
pub(super) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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
        state.store.revoke_family(found.id, now).await?;
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
        state.store.revoke_family(grant.code_id, now).await?;
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
    if !exchanged.issued {
        return Err(invalid());
    }
    Ok(token_response(pair))
}

/// RFC 7009: `200 {}` whether or not the token existed.
#[utoipa::path(
    post,
    path = "/oauth/revoke",
    tag = "OAuth",
    operation_id = "revoke",
    summary = "Token revocation (RFC 7009)",
    description = "Revokes a token of the client: an access token alone, a refresh token with every token issued from \
        the same grant; `200 {}` whether or not it existed. The token may also come in the query string.",
    params(("token" = Option<String>, Query, description = "The token, when the body does not carry it")),
    request_body(content(
        (giftwire_api::oauth::RevokeRequest = "application/x-www-form-urlencoded"),
        (giftwire_api::oauth::RevokeRequest = "application/json"),
    )),
    responses(
        (status = 200, description = "Revoked, or there was nothing to revoke", body = Object),
        (status = 500, description = "`server_error`", body = giftwire_api::oauth::OAuthErrorBody),
        (status = 503, description = "`server_error`: the store is unreachable", body = giftwire_api::oauth::OAuthErrorBody),
        (status = 400, description = "`invalid_request`", body = giftwire_api::oauth::OAuthErrorBody),
        (status = 401, description = "`invalid_client`", body = giftwire_api::oauth::OAuthErrorBody, headers(("WWW-Authenticate" = String))),
    ),
)]
pub(super) async fn revoke(
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
        state
            .store
            .revoke_app_token(
                app.id,
                PlainToken::from_client(token).hash(),
                state.clock.now(),
            )
            .await?;
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
