//! Rate limits (CONTRACT.md §2: 429 with `Retry-After` and `X-Rate-Limit-Reset`), all of one
//! kind: a governor token bucket per key, checked in one layer ([`crate::auth::gatekeeper`]).
//!
//! - an OAuth application: `--app-rate-limit` requests a second in bursts of as many (Sendoso's
//!   documented 10 a second per application), shared by all of its tokens;
//! - an operator token: `--rate-limit` a second;
//! - a client address on the sign-in and token endpoints: `--auth-rate-limit` a minute.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use giftwire_core::{AppId, TokenId};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::ApiError;

/// What a request is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateKey {
    App(AppId),
    Token(TokenId),
    Address(IpAddr),
}

/// The limits of a server; a `None` quota does not limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateQuotas {
    pub app_per_second: Option<NonZeroU32>,
    pub token_per_second: Option<NonZeroU32>,
    pub auth_per_minute: Option<NonZeroU32>,
}

struct Bucket<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    /// Checks since the bucket last forgot idle keys.
    checks: AtomicU32,
}

/// How many checks pass between two sweeps of the keys whose buckets are full again.
const SWEEP_EVERY: u32 = 1 << 14;

impl<K: Hash + Eq + Clone> Bucket<K> {
    fn new(quota: Quota) -> Bucket<K> {
        Bucket {
            limiter: DefaultKeyedRateLimiter::keyed(quota),
            checks: AtomicU32::new(0),
        }
    }

    fn check(&self, key: &K, clock: &DefaultClock) -> Result<(), ApiError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            // Keys (client addresses above all) would otherwise pile up for ever.
            self.limiter.retain_recent();
        }
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(clock.now());
            let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let reset = SystemTime::now() + Duration::from_secs(retry_after_secs);
            let reset_at_unix = reset
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            ApiError::RateLimited {
                retry_after_secs,
                reset_at_unix,
            }
        })
    }
}

pub struct RateLimiter {
    apps: Option<Bucket<AppId>>,
    tokens: Option<Bucket<TokenId>>,
    addresses: Option<Bucket<IpAddr>>,
    clock: DefaultClock,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("apps", &self.apps.is_some())
            .field("tokens", &self.tokens.is_some())
            .field("addresses", &self.addresses.is_some())
            .finish()
    }
}

impl RateLimiter {
    pub fn new(quotas: RateQuotas) -> RateLimiter {
        RateLimiter {
            apps: quotas
                .app_per_second
                .map(|n| Bucket::new(Quota::per_second(n))),
            tokens: quotas
                .token_per_second
                .map(|n| Bucket::new(Quota::per_second(n))),
            addresses: quotas
                .auth_per_minute
                .map(|n| Bucket::new(Quota::per_minute(n))),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one request against `key`; 429 when its bucket is empty.
    pub fn check(&self, key: RateKey) -> Result<(), ApiError> {
        match key {
            RateKey::App(app) => self.apps.as_ref().map(|b| b.check(&app, &self.clock)),
            RateKey::Token(token) => self.tokens.as_ref().map(|b| b.check(&token, &self.clock)),
            RateKey::Address(ip) => self.addresses.as_ref().map(|b| b.check(&ip, &self.clock)),
        }
        .unwrap_or(Ok(()))
    }
}
