//! The giftwire HTTP server. [`router`] builds the application (tests and `serve` share it);
//! [`serve`] adds what sits in front of routing (the `.json` suffix, request ids, tracing) and
//! runs it until shutdown.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::Uri;
use giftwire_core::{Clock, Store};
use tokio::net::TcpListener;
use tower::Layer as _;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub mod auth;
mod body;
pub mod cache;
pub mod error;
pub mod invitation;
mod listener;
pub mod mail;
pub mod oauth;
pub mod openapi;
mod pages;
mod query;
pub mod rate_limit;
pub mod render;
mod routes;
pub mod session;
pub mod webhooks;
pub mod worker;

pub use cache::CacheConfig;
pub use listener::Limits;
pub use rate_limit::RateLimiter;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Clock,
    pub rate_limiter: Arc<RateLimiter>,
    pub caches: Arc<cache::Caches>,
    /// Where recipients reach this server: the base of tracking and address links.
    pub public_url: Arc<url::Url>,
    /// What one client may take of the server.
    pub limits: Limits,
    /// Recent failed sign-ins.
    pub sign_ins: Arc<session::SignInThrottle>,
    /// The sealing key of webhook secrets and the rules of endpoint URLs.
    pub webhooks: webhooks::WebhookConfig,
}

/// Settings of the HTTP layer.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// Requests per second per operator token; `None` disables that limit.
    pub rate_limit_per_second: Option<NonZeroU32>,
    /// Requests per second per OAuth application, shared by its tokens; `None` disables it.
    pub app_rate_limit_per_second: Option<NonZeroU32>,
    /// Requests per minute per client address to the sign-in and token endpoints; `None`
    /// disables it.
    pub auth_rate_limit_per_minute: Option<NonZeroU32>,
    pub cache: CacheConfig,
    /// Where recipients reach this server (`https://gifts.example.com`); the base of the links in
    /// responses and mail. Defaults to `http://` and the listening address.
    pub public_url: Option<url::Url>,
    pub limits: Limits,
    /// The sealing key of webhook secrets and the rules of endpoint URLs.
    pub webhooks: webhooks::WebhookConfig,
}

impl AppState {
    /// Whether browsers reach this server over https (cookies are then `Secure`).
    pub fn https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    pub fn new(store: Arc<dyn Store>, clock: Clock, config: &ServerConfig) -> AppState {
        AppState {
            store,
            clock,
            rate_limiter: Arc::new(RateLimiter::new(rate_limit::RateQuotas {
                app_per_second: config.app_rate_limit_per_second,
                token_per_second: config.rate_limit_per_second,
                auth_per_minute: config.auth_rate_limit_per_minute,
            })),
            caches: Arc::new(cache::Caches::new(&config.cache)),
            public_url: Arc::new(
                config.public_url.clone().unwrap_or_else(|| {
                    url::Url::parse("http://127.0.0.1:8080").expect("a valid URL")
                }),
            ),
            limits: config.limits,
            sign_ins: Arc::default(),
            webhooks: config.webhooks.clone(),
        }
    }
}

/// The application's routes with their state; [`serve`] puts the front door (deadlines,
/// authentication, rate limits) before them.
fn router(state: AppState) -> Router {
    routes::router(state)
}

/// `/api/v3/send.json` is `/api/v3/send` (CONTRACT.md §1): Rails clients add the suffix.
fn strip_json_suffix(mut request: Request) -> Request {
    let path = request.uri().path();
    if let Some(stripped) = path
        .strip_suffix(".json")
        .filter(|p| p.starts_with("/api/v3/"))
    {
        let path_and_query = match request.uri().query() {
            Some(q) => format!("{stripped}?{q}"),
            None => stripped.to_owned(),
        };
        let mut parts = request.uri().clone().into_parts();
        if let Ok(pq) = path_and_query.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
        }
    }
    request
}

/// The front door of every request, in one middleware (each one costs a clone of the route it
/// wraps, per request): the request deadline (a `503` when the answer is not ready in time) and
/// the body deadline (reading the body fails once it has passed, a `408`), counted from the
/// request's headers; then authentication and the rate limits ([`auth::gatekeeper`]).
async fn front_door(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let limits = state.limits;
    // A request without a body (most GETs) has nothing to wait for: no timer for it.
    let request = request.map(|b| {
        if http_body::Body::is_end_stream(&b) {
            b
        } else {
            axum::body::Body::new(body::DeadlineBody::new(b, limits.body_timeout))
        }
    });
    match tokio::time::timeout(
        limits.request_timeout,
        auth::gatekeeper(&state, request, next),
    )
    .await
    {
        Ok(response) => response,
        Err(_) => axum::response::IntoResponse::into_response(error::ApiError::TimedOut),
    }
}

/// A panic in a handler is a bug: the client gets a 500 in the envelope, the log the message.
fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    axum::response::IntoResponse::into_response(error::ApiError::Internal(message.into()))
}

/// Serves `state`'s application on `listener` until `shutdown` resolves, then drains the
/// requests in flight (see [`Limits`] for what each client may take).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.limits;
    let front = Arc::new(state.clone());
    let app = router(state)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .layer(axum::middleware::from_fn_with_state(front, front_door))
        .layer(axum::extract::DefaultBodyLimit::max(body::MAX_BODY_BYTES))
        // gzip or brotli when the client asks for it (Accept-Encoding); bodies under 1 KiB
        // and error bodies stay as they are.
        .layer(CompressionLayer::new().gzip(true).br(true))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let request_id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %loggable_path(request.uri().path()),
                        request_id = %request_id,
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                // Each 5xx is logged once with its cause where it is made (ApiError); the
                // status is in the response line above.
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));
    let app = tower::util::MapRequestLayer::new(strip_json_suffix).layer(app);
    listener::run(listener, app, limits, shutdown).await
}

/// A request path as logs may show it: the credential in the recipient pages' and invitations'
/// paths (`/track/<code>`, `/address/<code>`, `/invitations/<token>`) is replaced by `…`.
fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in ["/track/", "/address/", "/invitations/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.find('/').map_or("", |i| &rest[i..]);
            return format!("{prefix}…{tail}").into();
        }
    }
    path.into()
}

#[cfg(test)]
mod log_tests {
    use super::loggable_path;

    #[test]
    fn credentials_in_paths_are_not_logged() {
        assert_eq!(loggable_path("/invitations/gw_abc"), "/invitations/…");
        assert_eq!(
            loggable_path("/track/0123abcd/open.gif"),
            "/track/…/open.gif"
        );
        assert_eq!(loggable_path("/address/0123/confirm"), "/address/…/confirm");
        assert_eq!(loggable_path("/api/v3/send"), "/api/v3/send");
    }
}
