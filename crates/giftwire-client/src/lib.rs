//! A typed async client of the giftwire API (wire-compatible with Sendoso's): a page of sends,
//! every page as a [`Stream`](futures_util::Stream), the change feed (one call, or a stream until
//! caught up), the export, one send, Create Send, eGift links, fulfillment status reports, users
//! (and invitations), team groups, touches, webhook endpoints and their deliveries, SCIM
//! provisioning ([`scim`](Client::scim_users) methods, with a `scim` token), the OAuth token
//! endpoints ([`OAuthClient`]: code exchange, refresh, revocation) and the OpenAPI document
//! ([`Client::openapi`]). Not in it: the pages made for browsers (OAuth consent, sign-in,
//! invitations, the recipient's pages).
//!
//! ```no_run
//! # async fn run() -> Result<(), giftwire_client::Error> {
//! use futures_util::TryStreamExt as _;
//! let client = giftwire_client::Client::builder("https://gifts.example.com")
//!     .token("an access token")
//!     .build()?;
//! let sent: Vec<_> = client
//!     .all_sends(giftwire_client::ListQuery::default().status("Sent"))
//!     .try_collect()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Requests answered 429 or 503 are retried after the server's `Retry-After` (at most
//! [`ClientBuilder::max_retries`] times, each wait at most [`ClientBuilder::max_retry_wait`]);
//! Create Send carries an `Idempotency-Key`, so a retried creation creates one send. Given a
//! refresh token and the application's credentials, the client refreshes an access token that
//! is about to expire, or that the server refuses with a 401, once, and goes on with the new one.
//! Every failure is one [`Error`], carrying the server's message when it sent one.

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use giftwire_api as api;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;
use url::Url;

mod directory;
mod oauth;
mod scim;
mod sends;
mod webhooks;

pub use oauth::OAuthClient;
pub use scim::ScimQuery;
pub use sends::{ExportFormat, ListQuery};

/// Retries of a request answered 429 or 503, by default.
pub const DEFAULT_MAX_RETRIES: u32 = 5;
/// The longest wait before a retry, by default, whatever `Retry-After` asks.
pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(30);
/// Pages fetched at once when streaming every page, by default.
pub const DEFAULT_PAGE_CONCURRENCY: usize = 4;
/// An access token this close to its expiry is refreshed before it is used.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// What a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error status: its `message` (or the body, when it is not the
    /// error envelope). `retry_after` is what it asked for a 429 or 503 that was not retried
    /// further.
    #[error("the server answered {status}: {message}")]
    Api {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    /// The OAuth token endpoint refused to refresh the access token.
    #[error("refreshing the access token failed ({status}): {error}: {description}")]
    Refresh {
        status: u16,
        error: String,
        description: String,
    },
    /// The request did not complete: connection, TLS or timeout.
    #[error("the request failed: {0}")]
    Transport(#[from] reqwest::Error),
    /// A success whose body is not what the API defines.
    #[error("unexpected response body ({status}): {detail}")]
    Decode { status: u16, detail: String },
    /// The client was built without what it needs (a base URL, a token).
    #[error("{0}")]
    Config(String),
}

impl Error {
    /// The HTTP status of an error the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Refresh { status, .. } => Some(*status),
            Error::Decode { status, .. } => Some(*status),
            Error::Transport(e) => e.status().map(|s| s.as_u16()),
            Error::Config(_) => None,
        }
    }
}

/// What lets the client refresh its access token (`POST /oauth/token`,
/// `grant_type=refresh_token`).
#[derive(Clone)]
pub struct OAuthRefresh {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
}

impl std::fmt::Debug for OAuthRefresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthRefresh")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The tokens the client holds now: after a refresh, new ones (persist them to start the next
/// run with them; a refresh token works once).
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(<redacted>)")
    }
}

struct Credentials {
    access_token: String,
    refresh: Option<OAuthRefresh>,
    expires_at: Option<Instant>,
}

/// Builds a [`Client`].
pub struct ClientBuilder {
    base: String,
    token: Option<String>,
    refresh: Option<OAuthRefresh>,
    expires_in: Option<Duration>,
    max_retries: u32,
    max_retry_wait: Duration,
    page_concurrency: usize,
    http: Option<reqwest::Client>,
}

impl ClientBuilder {
    /// Pages [`Client::pages`] and [`Client::all_sends`] fetch at once (at least 1).
    pub fn page_concurrency(mut self, pages: usize) -> Self {
        self.page_concurrency = pages.max(1);
        self
    }

    /// The access token (an operator's token or an OAuth access token).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Refreshes the access token with these when it expires (see [`ClientBuilder::expires_in`])
    /// or is refused.
    pub fn oauth_refresh(mut self, refresh: OAuthRefresh) -> Self {
        self.refresh = Some(refresh);
        self
    }

    /// How long the access token given works from now (`expires_in` of the token response).
    pub fn expires_in(mut self, expires_in: Duration) -> Self {
        self.expires_in = Some(expires_in);
        self
    }

    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    pub fn max_retry_wait(mut self, wait: Duration) -> Self {
        self.max_retry_wait = wait;
        self
    }

    /// Uses this HTTP client (its timeouts, proxies, TLS roots) instead of a default one.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    pub fn build(self) -> Result<Client, Error> {
        let mut base = Url::parse(&self.base)
            .map_err(|e| Error::Config(format!("the base URL {:?} is invalid: {e}", self.base)))?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let access_token = self
            .token
            .ok_or_else(|| Error::Config("an access token is required".to_owned()))?;
        let http = match self.http {
            Some(http) => http,
            None => default_http_client()?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                credentials: Mutex::new(Credentials {
                    access_token,
                    refresh: self.refresh,
                    expires_at: self.expires_in.map(|d| Instant::now() + d),
                }),
                max_retries: self.max_retries,
                max_retry_wait: self.max_retry_wait,
                page_concurrency: self.page_concurrency,
            }),
        })
    }
}

/// Installs rustls's ring provider as the process default, once (reqwest is built without one).
pub fn install_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client of one giftwire server, cheap to clone (clones share the connection pool and the
/// tokens).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    credentials: Mutex<Credentials>,
    max_retries: u32,
    max_retry_wait: Duration,
    page_concurrency: usize,
}

/// The most sends a page of the listing holds.
pub const MAX_PER_PAGE: u32 = 100;

impl Client {
    /// A builder for the server at `base_url` (`https://gifts.example.com`).
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base: base_url.into(),
            token: None,
            refresh: None,
            expires_in: None,
            max_retries: DEFAULT_MAX_RETRIES,
            max_retry_wait: DEFAULT_MAX_RETRY_WAIT,
            page_concurrency: DEFAULT_PAGE_CONCURRENCY,
            http: None,
        }
    }

    /// The tokens in use now (new ones after a refresh).
    pub async fn tokens(&self) -> Tokens {
        let credentials = self.inner.credentials.lock().await;
        Tokens {
            access_token: credentials.access_token.clone(),
            refresh_token: credentials
                .refresh
                .as_ref()
                .map(|r| r.refresh_token.clone()),
        }
    }

    /// The server's OpenAPI 3.1 document (`GET /openapi.json`).
    pub async fn openapi(&self) -> Result<serde_json::Value, Error> {
        self.get_json("openapi.json", &[]).await
    }

    /// Sends a JSON body (or none) and decodes the JSON answer; `key` as `Idempotency-Key`.
    async fn send_json<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        key: Option<&str>,
    ) -> Result<T, Error> {
        let url = self.url(path, &[]);
        let retry = if key.is_some() {
            Retry::Always
        } else {
            Retry::OnlyTooMany
        };
        let response = self
            .execute_with(retry, |http, token| {
                let mut request = http.request(method.clone(), url.clone()).bearer_auth(token);
                if let Some(key) = key {
                    request = request.header("Idempotency-Key", key);
                }
                if let Some(body) = body {
                    request = request.json(body);
                }
                request
            })
            .await?;
        decode(response).await
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        pairs: &[(&'static str, String)],
    ) -> Result<T, Error> {
        let url = self.url(path, pairs);
        let response = self
            .execute(|http, token| http.get(url.clone()).bearer_auth(token))
            .await?;
        decode(response).await
    }

    fn url(&self, path: &str, pairs: &[(&'static str, String)]) -> Url {
        let mut url = self.inner.base.join(path).expect("a relative API path");
        if !pairs.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// Sends a request built by `build` with the current token: retried after `Retry-After` on
    /// 429 and 503 within the bounds, and once with a refreshed token on a 401 when the client
    /// can refresh. Answers the first success; anything else as an [`Error`].
    async fn execute(
        &self,
        build: impl Fn(&reqwest::Client, &str) -> RequestBuilder,
    ) -> Result<reqwest::Response, Error> {
        self.execute_with(Retry::Always, build).await
    }

    /// As [`Client::execute`]; with [`Retry::OnlyTooMany`], a 503 is not retried (it can come
    /// after the server committed, so a request without an idempotency key must not be sent
    /// again), a 429 is (the server refused it before doing anything).
    async fn execute_with(
        &self,
        retry: Retry,
        build: impl Fn(&reqwest::Client, &str) -> RequestBuilder,
    ) -> Result<reqwest::Response, Error> {
        let mut retries = 0;
        let mut refreshed = false;
        loop {
            let token = self.fresh_token().await?;
            let response = build(&self.inner.http, &token).send().await?;
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            if status == StatusCode::UNAUTHORIZED && !refreshed && self.can_refresh().await {
                refreshed = true;
                self.refresh(&token).await?;
                continue;
            }
            let retriable = status == StatusCode::TOO_MANY_REQUESTS
                || (status == StatusCode::SERVICE_UNAVAILABLE && retry == Retry::Always);
            if retriable && retries < self.inner.max_retries {
                let wait = retry_after(&response)
                    .unwrap_or_else(|| Duration::from_millis(250 << retries.min(6)))
                    .min(self.inner.max_retry_wait);
                retries += 1;
                tokio::time::sleep(wait).await;
                continue;
            }
            return Err(api_error(response).await);
        }
    }

    async fn can_refresh(&self) -> bool {
        self.inner.credentials.lock().await.refresh.is_some()
    }

    /// The access token, refreshed first when it expires within a minute and can be.
    async fn fresh_token(&self) -> Result<String, Error> {
        let (token, expiring) = {
            let credentials = self.inner.credentials.lock().await;
            let expiring = credentials.refresh.is_some()
                && credentials
                    .expires_at
                    .is_some_and(|at| at <= Instant::now() + REFRESH_MARGIN);
            (credentials.access_token.clone(), expiring)
        };
        if expiring {
            // The current token still works for up to a minute: a refresh that fails now is
            // tried again by the next call (or after a 401), not this call's failure.
            if self.refresh(&token).await.is_ok() {
                return Ok(self.inner.credentials.lock().await.access_token.clone());
            }
        }
        Ok(token)
    }

    /// Exchanges the refresh token for new tokens, unless another call already replaced
    /// `stale` meanwhile (the lock is held throughout, so one refresh happens at a time).
    async fn refresh(&self, stale: &str) -> Result<(), Error> {
        let mut credentials = self.inner.credentials.lock().await;
        if credentials.access_token != stale {
            return Ok(());
        }
        let Some(refresh) = credentials.refresh.clone() else {
            return Ok(());
        };
        let response = self
            .inner
            .http
            .post(self.url("oauth/token", &[]))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.refresh_token.as_str()),
                ("client_id", refresh.client_id.as_str()),
                ("client_secret", refresh.client_secret.as_str()),
            ])
            .send()
            .await?;
        let status = response.status().as_u16();
        if !response.status().is_success() {
            let text = response.text().await.unwrap_or_default();
            let (error, description) =
                match serde_json::from_str::<api::oauth::OAuthErrorBody>(&text) {
                    Ok(body) => (body.error, body.error_description),
                    Err(_) => ("unexpected_response".to_owned(), text),
                };
            return Err(Error::Refresh {
                status,
                error,
                description,
            });
        }
        let tokens: api::oauth::TokenResponse = decode(response).await?;
        credentials.access_token = tokens.access_token;
        credentials.expires_at =
            Some(Instant::now() + Duration::from_secs(tokens.expires_in.max(0) as u64));
        credentials.refresh = Some(OAuthRefresh {
            refresh_token: tokens.refresh_token,
            ..refresh
        });
        Ok(())
    }
}

/// The HTTP client used when none is given: rustls, with connect (10 s) and per-read (60 s)
/// timeouts.
fn default_http_client() -> Result<reqwest::Client, Error> {
    install_tls();
    Ok(reqwest::Client::builder()
        .user_agent(concat!("giftwire-client/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        // Per read, not per request: a long export keeps streaming.
        .read_timeout(Duration::from_secs(60))
        .build()?)
}

/// Which refusals a request is sent again after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// 429 and 503: reads, and writes with an idempotency key.
    Always,
    /// 429 only: other writes.
    OnlyTooMany,
}

/// A fresh `Idempotency-Key`: 128 random bits.
fn idempotency_key() -> String {
    format!("giftwire-client-{:032x}", rand::random::<u128>())
}

/// `page` and `per_page` of the documented lists (the server's defaults when absent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Page {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl Page {
    pub fn new(page: u32, per_page: u32) -> Page {
        Page {
            page: Some(page),
            per_page: Some(per_page),
        }
    }

    fn pairs(self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(page) = self.page {
            pairs.push(("page", page.to_string()));
        }
        if let Some(per_page) = self.per_page {
            pairs.push(("per_page", per_page.to_string()));
        }
        pairs
    }
}

/// A path segment with everything but unreserved characters percent-encoded.
fn encode_segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `Retry-After` in seconds (the form giftwire and most servers send).
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, Error> {
    let status = response.status().as_u16();
    let bytes = response.bytes().await?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
        status,
        detail: e.to_string(),
    })
}

/// The error of a non-success answer: the envelope's `message`, SCIM's `detail`, OAuth's
/// `error_description`, or the body itself.
async fn api_error(response: reqwest::Response) -> Error {
    let status = response.status().as_u16();
    let retry_after = retry_after(&response);
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            ["message", "detail", "error_description"]
                .iter()
                .find_map(|k| v.get(k).and_then(|m| m.as_str()).map(str::to_owned))
        })
        .unwrap_or_else(|| text.chars().take(500).collect());
    Error::Api {
        status,
        message,
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_carry_pages_and_repeated_statuses() {
        let q = ListQuery {
            touch_id: Some(4),
            recipient_email: Some("a+b@example.com".into()),
            ..ListQuery::default()
        }
        .page(2)
        .per_page(50)
        .status("Sent")
        .status("Confirming Address");
        let client = Client::builder("http://localhost:1/base")
            .token("t")
            .build()
            .unwrap();
        let url = client.url("api/v3/send", &q.pairs());
        assert_eq!(
            url.as_str(),
            "http://localhost:1/base/api/v3/send?page=2&per_page=50&status=Sent&status=Confirming+Address&touch_id=4&recipient_email=a%2Bb%40example.com"
        );
    }

    #[test]
    fn ids_are_encoded_as_one_segment() {
        assert_eq!(encode_segment("Z2lk/Ly9+"), "Z2lk%2FLy9%2B");
        assert_eq!(encode_segment("42"), "42");
    }

    #[test]
    fn a_client_needs_a_url_and_a_token() {
        assert!(matches!(
            Client::builder("not a url").token("t").build(),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            Client::builder("http://localhost").build(),
            Err(Error::Config(_))
        ));
    }
}
