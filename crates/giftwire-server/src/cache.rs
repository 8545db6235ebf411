//! In-memory caches of the hot path, both exact by construction:
//!
//! - **Tokens**: a successful authentication of an operator token is reused for a short time
//!   (one second by default), so a busy client costs one token lookup a second; expiry is still
//!   checked on every request, and a revocation by the admin commands takes effect within the
//!   time to live. OAuth tokens are never cached: revoked by their clients, their family or
//!   their application from any process, they fail at the next request.
//! - **Pages**: the rendered `sends` array of a page, keyed by the page's range and its
//!   [`PageVersion`] (the sum of its sends' change counters and the catalog version). A request
//!   reads the version (one indexed range read) and reuses the bytes only when it is unchanged,
//!   so a cached page is never stale. Sends in a final status never change, so old pages stay.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use giftwire_core::store::{PageVersion, Principal};
use giftwire_core::{OrgId, PageRequest, TokenHash};
use moka::sync::Cache;

/// Sizes and lifetimes of the caches; zero disables one.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    pub token_ttl: Duration,
    pub page_bytes: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            token_ttl: Duration::from_secs(1),
            page_bytes: 32 << 20,
        }
    }
}

/// What identifies the content of a rendered page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageKey {
    org: OrgId,
    /// Sends before the page, and on it.
    first: u64,
    count: u64,
    changes: i64,
    catalog: i64,
}

impl PageKey {
    pub fn new(org: OrgId, page: PageRequest, version: &PageVersion) -> PageKey {
        let (first, count) = version.range(page);
        PageKey {
            org,
            first,
            count,
            changes: version.changes,
            catalog: version.catalog,
        }
    }
}

pub struct Caches {
    tokens: Option<Cache<TokenHash, Arc<Principal>>>,
    pages: Option<Cache<PageKey, Bytes>>,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches")
            .field("tokens", &self.tokens.as_ref().map(Cache::entry_count))
            .field("pages", &self.pages.as_ref().map(Cache::weighted_size))
            .finish()
    }
}

impl Caches {
    pub fn new(config: &CacheConfig) -> Caches {
        Caches {
            tokens: (!config.token_ttl.is_zero()).then(|| {
                Cache::builder()
                    .max_capacity(100_000)
                    .time_to_live(config.token_ttl)
                    .build()
            }),
            pages: (config.page_bytes > 0).then(|| {
                Cache::builder()
                    .max_capacity(config.page_bytes)
                    .weigher(|_: &PageKey, bytes: &Bytes| {
                        u32::try_from(bytes.len()).unwrap_or(u32::MAX)
                    })
                    .build()
            }),
        }
    }

    pub fn token(&self, hash: &TokenHash) -> Option<Arc<Principal>> {
        self.tokens.as_ref()?.get(hash)
    }

    pub fn remember_token(&self, hash: TokenHash, principal: Arc<Principal>) {
        if let Some(tokens) = &self.tokens {
            tokens.insert(hash, principal);
        }
    }

    pub fn pages_enabled(&self) -> bool {
        self.pages.is_some()
    }

    pub fn page(&self, key: &PageKey) -> Option<Bytes> {
        self.pages.as_ref()?.get(key)
    }

    pub fn remember_page(&self, key: PageKey, bytes: Bytes) {
        if let Some(pages) = &self.pages {
            pages.insert(key, bytes);
        }
    }
}
