//! Per-token rate limiting (CONTRACT.md §2: 429 with `Retry-After` and `X-Rate-Limit-Reset`).
//! Sendoso throttles above 10 requests per second per client; so do we by default.

use std::num::NonZeroU32;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use giftwire_core::TokenId;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::ApiError;

/// A token bucket per API token: `per_second` requests a second, in bursts of up to as many.
pub struct RateLimiter {
    limiter: DefaultKeyedRateLimiter<TokenId>,
    clock: DefaultClock,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RateLimiter")
    }
}

impl RateLimiter {
    pub fn per_second(per_second: NonZeroU32) -> RateLimiter {
        RateLimiter {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_second(per_second)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one request of `token`; 429 when its bucket is empty.
    pub fn check(&self, token: TokenId) -> Result<(), ApiError> {
        match self.limiter.check_key(&token) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                let reset = SystemTime::now() + Duration::from_secs(retry_after_secs);
                let reset_at_unix = reset
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                Err(ApiError::RateLimited {
                    retry_after_secs,
                    reset_at_unix,
                })
            }
        }
    }
}
