//! A webhook receiver on loopback, for the tests: records every request and answers with the
//! status it is told, after the delay it is told.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;

/// What a receiver got: one request.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }
}

#[derive(Default)]
struct ReceiverState {
    got: Mutex<Vec<Received>>,
    /// The status it answers (200 unless told otherwise).
    status: AtomicU16,
    /// How long it takes to answer.
    delay_ms: AtomicU64,
}

/// A webhook receiver on loopback: records every request, answers with the status it is told.
pub struct Receiver {
    pub url: String,
    state: Arc<ReceiverState>,
    _shutdown: oneshot::Sender<()>,
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    state.got.lock().unwrap().push(Received { headers, body });
    let status = StatusCode::from_u16(state.status.load(Ordering::SeqCst)).unwrap();
    (status, "ok")
}

impl Receiver {
    pub async fn start() -> Receiver {
        Receiver::start_on("127.0.0.1:0").await
    }

    /// On `addr` (a receiver restarted on the address of one that stopped).
    pub async fn start_on(addr: &str) -> Receiver {
        let state = Arc::new(ReceiverState::default());
        state.status.store(200, Ordering::SeqCst);
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        Receiver {
            url,
            state,
            _shutdown: tx,
        }
    }

    pub fn answer(&self, status: u16) {
        self.state.status.store(status, Ordering::SeqCst);
    }

    pub fn delay(&self, ms: u64) {
        self.state.delay_ms.store(ms, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.got.lock().unwrap().clone()
    }

    /// The bodies received, as JSON.
    pub fn bodies(&self) -> Vec<Value> {
        self.received().iter().map(Received::json).collect()
    }
}

/// Checks a delivery with the Standard Webhooks library, as a receiver would.
pub fn verifies(secret: &str, r: &Received) -> bool {
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(&r.body, &r.headers)
        .is_ok()
}
