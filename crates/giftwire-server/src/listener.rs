//! The HTTP listener: accepts connections up to a cap (beyond it, each gets one `503` and is
//! closed), serves HTTP/1.1 on each with a deadline for a request's headers (which is also how
//! long an idle keep-alive connection stays open), and on shutdown stops accepting, lets every
//! request in flight finish, and closes the idle connections.
//!
//! axum's own `serve` has none of these limits, hence this loop on hyper's connection builder.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::{Service, ServiceExt as _};

use crate::error::ApiError;

/// What one client may take of the server (OWASP API4). Every field is a flag of `serve`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once; beyond, a connection gets one `503` and is closed.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, counted from when the server is
    /// ready for them: a client that trickles them is cut off, and an idle keep-alive
    /// connection is closed after this long.
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body, however the bytes trickle in
    /// (`408` after it).
    pub body_timeout: Duration,
    /// How long a request may take from its headers to its answer (`503` after it).
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Connections beyond the cap being answered at once; beyond these, they are closed unanswered.
const REFUSALS_AT_ONCE: usize = 64;
/// How long a refused connection may take to send the request it is refused.
const REFUSAL_HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// One connection counted against a limit, until it ends.
struct Counted(Arc<AtomicUsize>);

impl Counted {
    /// Counts one more, unless `limit` are counted already.
    fn take(counter: &Arc<AtomicUsize>, limit: usize) -> Option<Counted> {
        counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()
            .map(|_| Counted(counter.clone()))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains: no new connection is
/// accepted, requests in flight finish (for at most the request timeout), idle connections
/// are closed.
pub(crate) async fn run<S>(
    listener: TcpListener,
    app: S,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let open = Arc::new(AtomicUsize::new(0));
    let refusing = Arc::new(AtomicUsize::new(0));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut refusal = builder.clone();
    refusal
        .keep_alive(false)
        .header_read_timeout(REFUSAL_HEADER_TIMEOUT);
    let mut last_accept_warning: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(&e, &mut last_accept_warning).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(stream);
        let Some(counted) = Counted::take(&open, limits.max_connections) else {
            let Some(counted) = Counted::take(&refusing, REFUSALS_AT_ONCE) else {
                continue;
            };
            let refused = refusal.serve_connection(
                io,
                hyper::service::service_fn(|_| async {
                    Ok::<_, Infallible>(ApiError::AtCapacity.into_response())
                }),
            );
            tokio::spawn(async move {
                let _counted = counted;
                let _ = refused.await;
            });
            continue;
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut request = request.map(Body::new);
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            app.clone().oneshot(request)
        });
        let connection = graceful.watch(builder.serve_connection(io, service));
        tokio::spawn(async move {
            let _counted = counted;
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let in_flight = open.load(Ordering::Acquire);
    tracing::info!(
        connections = in_flight,
        "no longer accepting; draining the requests in flight"
    );
    let grace = limits.request_timeout + Duration::from_secs(1);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            connections = open.load(Ordering::Acquire),
            "connections still open after {} s; stopping without them",
            grace.as_secs()
        );
    }
    Ok(())
}

/// A failed `accept`: the client's own trouble (reset before accepted) is ignored; the
/// server's (out of file descriptors) is logged at most once a second, and accepting pauses
/// briefly so that the loop does not spin.
async fn accept_failed(e: &std::io::Error, last_warning: &mut Option<Instant>) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    if last_warning.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
        *last_warning = Some(Instant::now());
        tracing::warn!(error = %e, "cannot accept connections (out of file descriptors?)");
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
}
