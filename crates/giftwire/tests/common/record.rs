//! Recording of every HTTP exchange the tests have with the server, for CI's independent
//! OpenAPI validation: a Python validator, which shares no code with the server nor with its
//! (utoipa-generated) document, checks every recorded response against the OpenAPI document,
//! so the document is held to what the server really answers across the whole suite.
//!
//! Recording is on when `GIFTWIRE_RECORD_EXCHANGES` names a directory. [`start`] then puts a
//! reverse proxy on a free loopback port in front of a test server; the tests talk to the
//! proxy (its address is `TestApp.address` and the server's public URL). The proxy forwards
//! each request unchanged (HTTP/1.1, no redirects followed, nothing decompressed), streams the
//! answer back while teeing its bytes, and when the response's body ends appends one JSON line
//! to `DIR/exchanges-<process id>.jsonl`:
//!
//! ```json
//! {"method": "GET", "path": "/api/v3/send", "query": "page=2" or null,
//!  "request_headers": {"accept": "...", "authorization": "<redacted>"},
//!  "status": 200, "response_headers": {"content-type": "..."},
//!  "response_body_b64": "<standard base64 of the bytes exactly as the server sent them>"}
//! ```
//!
//! with `"truncated": true` when the body did not complete (the client dropped it, or it
//! failed): what was seen is recorded. Header names are lower case, repeated values joined
//! with `", "`; credentials (`authorization`, `cookie`, `proxy-authorization`) are recorded by
//! name only. When the server cannot be reached, the proxy answers `502` and records nothing:
//! that answer is not the server's. With the variable unset, no proxy runs at all.

use std::convert::Infallible;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;
use http_body_util::{Either, Empty};
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::header::HeaderMap;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Map, Value};

/// The variable naming the directory of the records.
pub const VARIABLE: &str = "GIFTWIRE_RECORD_EXCHANGES";

/// Request headers recorded by name only.
const REDACTED: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// This process's record file, shared by all its proxies; `None` when recording is off.
fn records() -> Option<&'static Mutex<File>> {
    static RECORDS: OnceLock<Option<Mutex<File>>> = OnceLock::new();
    RECORDS
        .get_or_init(|| {
            let dir = std::env::var_os(VARIABLE).filter(|d| !d.is_empty())?;
            let dir = std::path::PathBuf::from(dir);
            std::fs::create_dir_all(&dir)
                .unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
            let path = dir.join(format!("exchanges-{}.jsonl", std::process::id()));
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
            Some(Mutex::new(file))
        })
        .as_ref()
}

/// When recording is on, starts a recording proxy to `server` on a free loopback port and
/// returns its address. Pooled connections to the server are dropped after `idle` (less than
/// the server's own keep-alive, so a request never goes out on a connection it is closing).
pub async fn start(server: SocketAddr, idle: Duration) -> Option<SocketAddr> {
    records()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the recording proxy");
    let address = listener.local_addr().expect("local addr");
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(idle)
        .build(connector);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let client = client.clone();
            let service =
                hyper::service::service_fn(move |request| forward(client.clone(), server, request));
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::spawn(async move {
                let _ = connection.await;
            });
        }
    });
    Some(address)
}

type Forwarded = Response<Either<Tee, Empty<Bytes>>>;

/// Sends `request` on to `server` as it came (its `Host` too) and answers with the server's
/// response, its body teed into the record.
async fn forward(
    client: Client<HttpConnector, Incoming>,
    server: SocketAddr,
    mut request: Request<Incoming>,
) -> Result<Forwarded, Infallible> {
    let uri = request.uri();
    let mut exchange = Map::new();
    exchange.insert("method".into(), request.method().as_str().into());
    exchange.insert("path".into(), uri.path().into());
    exchange.insert("query".into(), uri.query().into());
    exchange.insert("request_headers".into(), headers(request.headers(), true));
    let target = format!(
        "http://{server}{}",
        uri.path_and_query().map_or("/", |p| p.as_str())
    );
    *request.uri_mut() = target.parse().expect("a URI");
    let Ok(response) = client.request(request).await else {
        let mut bad_gateway = Response::new(Either::Right(Empty::new()));
        *bad_gateway.status_mut() = StatusCode::BAD_GATEWAY;
        return Ok(bad_gateway);
    };
    exchange.insert("status".into(), response.status().as_u16().into());
    exchange.insert(
        "response_headers".into(),
        headers(response.headers(), false),
    );
    Ok(response.map(|inner| {
        Either::Left(Tee {
            inner,
            seen: Vec::new(),
            exchange: Some(exchange),
        })
    }))
}

/// `headers` as a JSON object, lower-case name to value (repeated values joined).
fn headers(headers: &HeaderMap, redact: bool) -> Value {
    let mut object = Map::new();
    for name in headers.keys() {
        let value = if redact && REDACTED.contains(&name.as_str()) {
            "<redacted>".to_owned()
        } else {
            let values: Vec<_> = headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()))
                .collect();
            values.join(", ")
        };
        object.insert(name.as_str().to_owned(), value.into());
    }
    Value::Object(object)
}

/// A response body passed through frame by frame, its bytes kept for the record, which is
/// written when the body ends or is dropped.
struct Tee {
    inner: Incoming,
    seen: Vec<u8>,
    /// The exchange's record, until it is written.
    exchange: Option<Map<String, Value>>,
}

impl Tee {
    fn finish(&mut self, truncated: bool) {
        let Some(mut exchange) = self.exchange.take() else {
            return;
        };
        let body = base64::engine::general_purpose::STANDARD.encode(&self.seen);
        exchange.insert("response_body_b64".into(), body.into());
        if truncated {
            exchange.insert("truncated".into(), true.into());
        }
        let mut line = serde_json::to_vec(&exchange).expect("a record is JSON");
        line.push(b'\n');
        if let Some(file) = records() {
            let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
            if let Err(e) = file.write_all(&line) {
                eprintln!("{VARIABLE}: could not record an exchange: {e}");
            }
        }
    }
}

impl Body for Tee {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.seen.extend_from_slice(data);
                }
            }
            Poll::Ready(Some(Err(_))) => self.finish(true),
            Poll::Ready(None) => self.finish(false),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Tee {
    /// A body the server's side ended without its end being polled (its length reached, or
    /// none: `HEAD`, `204`) is complete; any other was cut short.
    fn drop(&mut self) {
        let complete = self.inner.is_end_stream();
        self.finish(!complete);
    }
}
