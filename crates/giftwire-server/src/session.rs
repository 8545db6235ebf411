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
/// (Attempts are counted when they start; a successful one is taken back.)
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

/// The key of an address: IPv4 addresses one by one, IPv6 ones by /64 (what one subscriber
/// usually holds).
pub fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(std::net::Ipv6Addr::from(prefix))
        }
    }
}

/// The one spelling of an email address for throttling and lookup: trimmed, lowercase.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// An attempt, counted before its password is checked (so that parallel attempts cannot all
/// pass the check); [`SignInThrottle::succeeded`] takes it back.
#[derive(Debug)]
#[must_use]
pub struct Attempt {
    account: String,
    address: Option<IpAddr>,
}

fn one_more<K>(count: Option<moka::Entry<K, u32>>) -> u32 {
    count.map_or(1, |e| e.into_value().saturating_add(1))
}

impl SignInThrottle {
    /// Counts an attempt for `email` (normalized) from `address`; `None` when either has failed
    /// too often recently.
    pub fn attempt(&self, email: &str, address: Option<IpAddr>) -> Option<Attempt> {
        let address = address.map(address_key);
        let account = self
            .accounts
            .entry(email.to_owned())
            .and_upsert_with(one_more)
            .into_value();
        let from = address.map_or(0, |a| {
            self.addresses
                .entry(a)
                .and_upsert_with(one_more)
                .into_value()
        });
        (account <= ACCOUNT_FAILURES && from <= ADDRESS_FAILURES).then(|| Attempt {
            account: email.to_owned(),
            address,
        })
    }

    /// The attempt's password was right: the account's failures are forgotten, and the address
    /// is not charged for it.
    pub fn succeeded(&self, attempt: Attempt) {
        self.accounts.invalidate(&attempt.account);
        if let Some(a) = attempt.address {
            self.addresses
                .entry(a)
                .and_compute_with(|e| match e.map(|e| e.into_value()) {
                    Some(n) if n > 1 => moka::ops::compute::Op::Put(n - 1),
                    _ => moka::ops::compute::Op::Remove,
                });
        }
    }
}

/// The client's address, when the server knows it (it does behind its own listener).
pub(crate) fn client_address(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

/// [`client_address`] as an extractor.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(client_address(&parts.extensions)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_count_by_their_64_bit_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(address_key(v4), v4);
    }

    #[test]
    fn attempts_are_counted_before_the_check_and_a_success_is_taken_back() {
        let throttle = SignInThrottle::default();
        let from: Option<IpAddr> = Some("192.0.2.7".parse().unwrap());
        for _ in 0..ACCOUNT_FAILURES {
            assert!(throttle.attempt("a@x.example", from).is_some());
        }
        assert!(throttle.attempt("a@x.example", from).is_none());
        let ok = throttle.attempt("b@x.example", from).unwrap();
        throttle.succeeded(ok);
        assert!(throttle.attempt("b@x.example", from).is_some());
    }
}
