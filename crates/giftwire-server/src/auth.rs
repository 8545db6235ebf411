//! Authentication: [`gatekeeper`] turns `Authorization: Bearer <token>` into the [`Principal`]
//! the token speaks for (an operator's token and an OAuth access token alike) and applies the
//! rate limits; the typed extractor [`Authenticated`] hands it to handlers, or answers 401. Authorization is explicit in each handler,
//! with [`Authenticated::require`], which answers 403 for a valid token without the scope.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request};
use axum::http::Method;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use giftwire_core::store::Principal;
use giftwire_core::{PlainToken, Scope};

use crate::AppState;
use crate::error::ApiError;
use crate::rate_limit::RateKey;

/// A request whose bearer token is valid (and within its rate limit).
#[derive(Debug, Clone)]
pub struct Authenticated(pub Arc<Principal>);

impl Authenticated {
    /// The principal, if its token holds `scope`; 403 otherwise.
    pub fn require(&self, scope: Scope) -> Result<&Principal, ApiError> {
        if self.0.scopes.contains(scope) {
            Ok(&self.0)
        } else {
            Err(ApiError::Forbidden(scope))
        }
    }
}

/// The token of an `Authorization` header value, when it is `Bearer <token68>` (the scheme
/// name in any case, RFC 7235).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim_start_matches(' ');
    let token68 = |b: u8| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b);
    (!token.is_empty() && token.bytes().all(token68)).then_some(token)
}

/// What [`gatekeeper`] found out about a request's bearer token.
#[derive(Debug, Clone)]
enum Authentication {
    Valid(Arc<Principal>),
    Invalid,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        match parts.extensions.get::<Authentication>() {
            Some(Authentication::Valid(principal)) => Ok(Authenticated(principal.clone())),
            Some(Authentication::Invalid) => Err(ApiError::InvalidToken),
            None => Err(ApiError::MissingToken),
        }
    }
}

/// The bearer token of a request: one `Authorization` header, `Bearer <token68>`.
fn request_token(parts: &axum::http::HeaderMap) -> Option<&str> {
    let mut values = parts.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return None;
    };
    value.to_str().ok().and_then(bearer_token)
}

/// The principal of a token: from the cache (operator tokens; entries are still checked for
/// expiry), or the store.
async fn principal_of(state: &AppState, token: &str) -> Result<Option<Arc<Principal>>, ApiError> {
    let hash = PlainToken::from_client(token).hash();
    let now = state.clock.now();
    if let Some(principal) = state
        .caches
        .token(&hash)
        .filter(|p| p.expires_at.is_none_or(|at| at > now))
    {
        return Ok(Some(principal));
    }
    let Some(principal) = state.store.authenticate(hash, now).await?.map(Arc::new) else {
        return Ok(None);
    };
    // OAuth tokens are not cached: revoking one (or its application) from any process, or
    // through another server of the same database, takes effect at the next request.
    if principal.app_id.is_none() {
        state.caches.remember_token(hash, principal.clone());
    }
    Ok(Some(principal))
}

/// The paths whose requests are counted per client address (sign-in and token endpoints).
fn counted_per_address(method: &Method, path: &str) -> bool {
    method == Method::POST && matches!(path, "/sign_in" | "/oauth/token" | "/oauth/revoke")
}

/// The one layer of authentication and rate limits. A request to the API with a bearer token
/// has it looked up here (the handlers' [`Authenticated`] reads the outcome) and is counted
/// against its OAuth application's limit, or its operator token's; a request to a sign-in or
/// token endpoint is counted against its client address.
pub(crate) async fn gatekeeper(state: &AppState, mut request: Request, next: Next) -> Response {
    if counted_per_address(request.method(), request.uri().path())
        && let Some(address) = crate::session::client_address(request.extensions())
        && let Err(e) = state
            .rate_limiter
            .check(RateKey::Address(crate::session::address_key(address)))
    {
        return e.into_response();
    }
    // SCIM clients get SCIM's error bodies, from here as from its routes.
    let scim = request.uri().path().starts_with(crate::routes::SCIM_BASE);
    let refuse = |e: ApiError| {
        if scim {
            crate::routes::scim_error(e)
        } else {
            e.into_response()
        }
    };
    if request.uri().path().starts_with("/api/")
        && let Some(token) = request_token(request.headers())
    {
        let found = match principal_of(state, token).await {
            Ok(found) => found,
            Err(e) => return refuse(e),
        };
        let authentication = match found {
            Some(principal) => {
                let key = principal
                    .app_id
                    .map_or(RateKey::Token(principal.token_id), RateKey::App);
                if let Err(e) = state.rate_limiter.check(key) {
                    return refuse(e);
                }
                Authentication::Valid(principal)
            }
            None => Authentication::Invalid,
        };
        request.extensions_mut().insert(authentication);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn only_bearer_with_a_token68_is_accepted() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER  gw_12=="), Some("gw_12=="));
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer a b"), None);
        assert_eq!(bearer_token("Token abc"), None);
    }
}
