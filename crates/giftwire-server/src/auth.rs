//! Authentication: a typed extractor that turns `Authorization: Bearer <token>` into the
//! [`Principal`] the token speaks for, or a 401. Authorization is explicit in each handler,
//! with [`Authenticated::require`], which answers 403 for a valid token without the scope.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use giftwire_core::store::Principal;
use giftwire_core::{PlainToken, Scope};

use crate::AppState;
use crate::error::ApiError;

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

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let mut values = parts.headers.get_all(AUTHORIZATION).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return Err(ApiError::MissingToken);
        };
        let token = value
            .to_str()
            .ok()
            .and_then(bearer_token)
            .ok_or(ApiError::MissingToken)?;
        let hash = PlainToken::from_client(token).hash();
        let now = state.clock.now();
        let cached = state
            .caches
            .token(&hash)
            .filter(|p| p.expires_at.is_none_or(|at| at > now));
        let principal = match cached {
            Some(principal) => principal,
            None => {
                let principal = state
                    .store
                    .authenticate(hash, now)
                    .await?
                    .map(Arc::new)
                    .ok_or(ApiError::InvalidToken)?;
                state.caches.remember_token(hash, principal.clone());
                principal
            }
        };
        if let Some(limiter) = &state.rate_limiter {
            limiter.check(principal.token_id)?;
        }
        Ok(Authenticated(principal))
    }
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
