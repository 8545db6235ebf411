//! Signed-in browsers: the session cookie (a random value whose SHA-256 is the stored session;
//! the browser keeps it until it closes, the server for `oauth::SESSION_LIFETIME_SECS`),
//! and the throttling of failed sign-ins, per account and per client address.

use std::net::IpAddr;
use std::time::Duration;

use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use giftwire_core::store::User;
use giftwire_core::{PlainToken, StoreError, TokenHash};
use moka::sync::Cache;

use crate::AppState;

pub(crate) const SESSION_COOKIE: &str = "gw_session";

/// Failed sign-ins one account may have within [`FAILURE_WINDOW`] before it is throttled.
pub const ACCOUNT_FAILURES: u32 = 5;
/// Failed sign-ins one client address may have within [`FAILURE_WINDOW`].
pub const ADDRESS_FAILURES: u32 = 20;
/// How long failures are remembered (from the last one).
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The session hash of a browser's cookie, if it has one.
pub(crate) fn session_hash(jar: &CookieJar) -> Option<TokenHash> {
    jar.get(SESSION_COOKIE)
        .map(|c| PlainToken::from_client(c.value()).hash())
}

/// The user a browser is signed in as.
pub(crate) async fn signed_in(
    state: &AppState,
    jar: &CookieJar,
) -> Result<Option<User>, StoreError> {
    match session_hash(jar) {
        Some(hash) => state.store.session_user(hash, state.clock.now()).await,
        None => Ok(None),
    }
}

/// The cookie of a new session.
pub(crate) fn session_cookie(value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, value))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .build()
}

/// The browser forgets its session cookie.
pub(crate) fn forget_session(jar: CookieJar) -> CookieJar {
    jar.remove(Cookie::build(SESSION_COOKIE).path("/"))
}

/// Counts of recent failed sign-ins, per account (lowercased email) and per address.
pub struct SignInThrottle {
    accounts: Cache<String, u32>,
    addresses: Cache<IpAddr, u32>,
}

impl std::fmt::Debug for SignInThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignInThrottle")
    }
}

impl Default for SignInThrottle {
    fn default() -> Self {
        SignInThrottle {
            accounts: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(FAILURE_WINDOW)
                .build(),
            addresses: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(FAILURE_WINDOW)
                .build(),
        }
    }
}

impl SignInThrottle {
    /// Whether another attempt for `email` from `address` may be checked at all.
    pub fn allows(&self, email: &str, address: Option<IpAddr>) -> bool {
        let account = self.accounts.get(&email.to_lowercase()).unwrap_or(0);
        let from = address.and_then(|a| self.addresses.get(&a)).unwrap_or(0);
        account < ACCOUNT_FAILURES && from < ADDRESS_FAILURES
    }

    pub fn failed(&self, email: &str, address: Option<IpAddr>) {
        let key = email.to_lowercase();
        self.accounts
            .insert(key.clone(), self.accounts.get(&key).unwrap_or(0) + 1);
        if let Some(a) = address {
            self.addresses
                .insert(a, self.addresses.get(&a).unwrap_or(0) + 1);
        }
    }
}

/// The client's address, when the server knows it (it does behind its own listener).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}
