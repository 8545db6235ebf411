//! Webhook delivery: posts each due delivery to its endpoint, signed (Standard Webhooks / Svix
//! headers), and records the outcome (see `giftwire_core::store::WebhookStore`).
//!
//! Each endpoint is served by a task of its own, [`LANES`] lanes of rounds of: claim up to
//! [`BATCH`] due deliveries (the oldest pending one of each send, so a send's events arrive in
//! order), post them all at once, record the attempts in one transaction. A slow or dead receiver holds only its own
//! task; up to [`MAX_ENDPOINTS_AT_ONCE`] endpoints are served at the same time. A claim is a
//! lease of [`LEASE`]: a worker that dies mid-round leaves its deliveries due again after it
//! (at least once; the `webhook-id` stays the event's, so receivers can drop a repeat).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use giftwire_core::seal::SealingKey;
use giftwire_core::store::{Attempt, DueDelivery, Endpoint, SECRET_PURPOSE};
use giftwire_core::webhooks::{self, EndpointError, SigningSecret};
use giftwire_core::{Clock, Store, StoreError};
use jiff::SignedDuration;
use rand::seq::SliceRandom as _;
use serde::Serialize;
use tokio::task::JoinSet;

use crate::render;

/// Deliveries claimed, and posted at once, per round of one endpoint.
pub const BATCH: u32 = 32;
/// Rounds of one endpoint under way at once while it has a backlog (so at most
/// `LANES * BATCH` posts to it at once).
pub const LANES: usize = 4;
/// How long a claim holds its deliveries: longer than a round can take (its posts run at once,
/// each within the 15 s timeout).
pub const LEASE: SignedDuration = SignedDuration::from_secs(30);
/// Endpoints served at the same time by one worker.
pub const MAX_ENDPOINTS_AT_ONCE: usize = 256;
/// Due endpoints looked at per poll.
const DUE_LIMIT: u32 = 4096;
/// Rounds of one lane per turn: an endpoint with a long backlog then makes way for others.
const ROUNDS_PER_TURN: usize = 64;

/// What delivering needs besides the store: the key that opens the endpoints' secrets, and
/// whether private addresses (and plain http) are allowed, for local development.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub key: Arc<SealingKey>,
    pub allow_private: bool,
}

impl Default for WebhookConfig {
    /// A key that lives as long as the process (for tests; `serve` is given the operator's).
    fn default() -> WebhookConfig {
        WebhookConfig {
            key: Arc::new(SealingKey::generate()),
            allow_private: false,
        }
    }
}

impl WebhookConfig {
    /// A new signing secret, and its sealed form for the store.
    pub fn new_secret(&self) -> (SigningSecret, String) {
        let secret = SigningSecret::generate();
        let sealed = self.key.seal(SECRET_PURPOSE, secret.expose().as_bytes());
        (secret, sealed)
    }

    fn open(&self, sealed: &str) -> Option<SigningSecret> {
        let plain = self.key.open(SECRET_PURPOSE, sealed).ok()?;
        SigningSecret::parse(std::str::from_utf8(&plain).ok()?).ok()
    }

    /// Checks an endpoint's URL as it is created or changed: [`webhooks::check_url`], and its
    /// host must resolve, to public addresses only (unless private ones are allowed).
    pub async fn check_url(&self, raw: &str) -> Result<url::Url, EndpointError> {
        let url = webhooks::check_url(raw, self.allow_private)?;
        if let Some(url::Host::Domain(host)) = url.host()
            && !self.allow_private
        {
            resolve(host)
                .await
                .map_err(|e| EndpointError::Url(e.to_string()))?;
        }
        Ok(url)
    }
}

/// `host`'s addresses; an error if it does not resolve or if any of them is not public.
async fn resolve(host: &str) -> std::io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| std::io::Error::other(format!("{host} does not resolve: {e}")))?
        .collect();
    if let Some(private) = addrs.iter().find(|a| !webhooks::is_public(a.ip())) {
        return Err(std::io::Error::other(format!(
            "{host} resolves to {}, a private, loopback, link-local or reserved address",
            private.ip()
        )));
    }
    if addrs.is_empty() {
        return Err(std::io::Error::other(format!("{host} has no address")));
    }
    Ok(addrs)
}

/// Resolves hosts for the HTTP client, refusing those with a private address (so that a name
/// that changed its address since the endpoint was created is checked again when connecting).
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolve(&host).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The lanes serving one endpoint, and what each did.
struct Lanes {
    running: std::sync::atomic::AtomicUsize,
    reports: Mutex<Vec<Result<WebhookReport, StoreError>>>,
}

/// What a pass (or the worker so far) did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WebhookReport {
    pub delivered: u64,
    pub retried: u64,
    pub failed: u64,
}

impl WebhookReport {
    /// The sum of what several tasks did; the first failure if one failed.
    fn total(
        results: impl IntoIterator<Item = Result<WebhookReport, StoreError>>,
    ) -> Result<WebhookReport, StoreError> {
        let mut report = WebhookReport::default();
        for result in results {
            report.add(result?);
        }
        Ok(report)
    }

    fn add(&mut self, other: WebhookReport) {
        self.delivered += other.delivered;
        self.retried += other.retried;
        self.failed += other.failed;
    }
}

/// Sends webhooks: [`WebhookSender::deliver_due`] once (`giftwire tick`), or
/// [`WebhookSender::run`] until shutdown (`serve`).
#[derive(Clone)]
pub struct WebhookSender {
    store: Arc<dyn Store>,
    clock: Clock,
    config: WebhookConfig,
    client: reqwest::Client,
    /// Endpoints whose secret did not open (warned about once).
    unsealable: Arc<Mutex<HashSet<i64>>>,
}

impl WebhookSender {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Clock,
        config: WebhookConfig,
    ) -> Result<WebhookSender, String> {
        install_tls();
        let mut client = reqwest::Client::builder()
            .timeout(webhooks::TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("giftwire-webhooks/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(30));
        if !config.allow_private {
            client = client.dns_resolver(Arc::new(PublicOnly));
        }
        let client = client
            .build()
            .map_err(|e| format!("cannot start the webhook client: {e}"))?;
        Ok(WebhookSender {
            store,
            clock,
            config,
            client,
            unsealable: Arc::default(),
        })
    }

    /// Delivers everything due now, every endpoint at once, each until nothing of it is due.
    pub async fn deliver_due(&self) -> Result<WebhookReport, StoreError> {
        let mut report = WebhookReport::default();
        loop {
            let pass = self.deliver_pass().await?;
            report.add(pass);
            // A turn of an endpoint ends after ROUNDS_PER_TURN rounds: what it left is due still.
            if pass == WebhookReport::default() {
                return Ok(report);
            }
        }
    }

    async fn deliver_pass(&self) -> Result<WebhookReport, StoreError> {
        let mut tasks = JoinSet::new();
        for endpoint in self
            .store
            .due_endpoints(self.clock.now(), DUE_LIMIT)
            .await?
        {
            let sender = self.clone();
            tasks.spawn(async move { sender.drain(endpoint.id).await });
        }
        let mut results = Vec::new();
        while let Some(done) = tasks.join_next().await {
            results.push(done.expect("a delivery task does not panic"));
        }
        WebhookReport::total(results)
    }

    /// Serves due endpoints every `poll` until `shutdown` resolves. Rounds under way are cut
    /// short (their deliveries are due again when their lease ends).
    pub async fn run(self, poll: Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut ticks = tokio::time::interval(poll);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut tasks: JoinSet<(i64, Result<WebhookReport, StoreError>)> = JoinSet::new();
        let mut owners: HashMap<tokio::task::Id, i64> = HashMap::new();
        let mut active: HashSet<i64> = HashSet::new();
        let mut failing_store = false;
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                Some(done) = tasks.join_next_with_id() => {
                    let (task, id, result) = match done {
                        Ok((task, (id, result))) => (task, id, Some(result)),
                        Err(e) => (e.id(), owners.get(&e.id()).copied().unwrap_or_default(), None),
                    };
                    owners.remove(&task);
                    active.remove(&id);
                    match result {
                        Some(Ok(_)) => {}
                        Some(Err(e)) => tracing::warn!(error = %e, endpoint = id, "webhook round failed"),
                        None => tracing::error!(endpoint = id, "webhook delivery task panicked"),
                    }
                    continue;
                }
                _ = ticks.tick() => {}
            }
            match self.store.due_endpoints(self.clock.now(), DUE_LIMIT).await {
                Ok(mut due) => {
                    if failing_store {
                        tracing::info!("webhook delivery resumed: the database answers again");
                        failing_store = false;
                    }
                    // In no fixed order, so that no endpoint waits behind the same others.
                    due.shuffle(&mut rand::rng());
                    for endpoint in due {
                        if active.len() >= MAX_ENDPOINTS_AT_ONCE || !active.insert(endpoint.id) {
                            continue;
                        }
                        let sender = self.clone();
                        let task = tasks
                            .spawn(async move { (endpoint.id, sender.drain(endpoint.id).await) });
                        owners.insert(task.id(), endpoint.id);
                    }
                }
                Err(e) => {
                    if !failing_store {
                        tracing::warn!(error = %e, "webhook delivery paused: the database fails");
                        failing_store = true;
                    }
                }
            }
        }
        tasks.abort_all();
        tracing::info!("webhook delivery stopped: the server is shutting down");
    }

    /// Serves one endpoint until none of its deliveries is due (or it is disabled): one lane of
    /// rounds, and up to [`LANES`] at once while rounds come back full (a backlog), so that
    /// claiming and recording (writes) overlap with posting.
    async fn drain(&self, endpoint_id: i64) -> Result<WebhookReport, StoreError> {
        let lanes = Arc::new(Lanes {
            running: std::sync::atomic::AtomicUsize::new(1),
            reports: Mutex::new(Vec::new()),
        });
        let (done, mut all_done) = tokio::sync::mpsc::channel::<()>(1);
        self.spawn_lane(endpoint_id, lanes.clone(), done);
        // Every lane holds a sender: the channel closes when the last one ends.
        let _ = all_done.recv().await;
        WebhookReport::total(std::mem::take(&mut *lanes.reports.lock().unwrap()))
    }

    fn spawn_lane(&self, endpoint_id: i64, lanes: Arc<Lanes>, done: tokio::sync::mpsc::Sender<()>) {
        let sender = self.clone();
        tokio::spawn(async move {
            let result = sender.lane(endpoint_id, &lanes, &done).await;
            lanes.running.fetch_sub(1, Ordering::SeqCst);
            lanes.reports.lock().unwrap().push(result);
            drop(done);
        });
    }

    /// Rounds for one endpoint until none of its deliveries is due (or it is disabled). Lanes
    /// never post the same delivery (each claims its own) nor two of one send at once (only
    /// the oldest pending delivery of a send can be claimed).
    async fn lane(
        &self,
        endpoint_id: i64,
        lanes: &Arc<Lanes>,
        done: &tokio::sync::mpsc::Sender<()>,
    ) -> Result<WebhookReport, StoreError> {
        let mut report = WebhookReport::default();
        for _ in 0..ROUNDS_PER_TURN {
            // Read again each round: a change of URL, events, secret or state applies at once.
            let endpoint = match self.store.endpoint(None, endpoint_id).await {
                Ok(e) => e,
                Err(StoreError::NotFound(_)) => return Ok(report),
                Err(e) => return Err(e),
            };
            if !endpoint.enabled {
                return Ok(report);
            }
            let now = self.clock.now();
            let Some(secrets) = self.secrets(&endpoint, now) else {
                return Ok(report);
            };
            let batch = self
                .store
                .claim_deliveries(endpoint.id, now, now + LEASE, BATCH)
                .await?;
            if batch.is_empty() {
                return Ok(report);
            }
            if batch.len() == BATCH as usize
                && lanes
                    .running
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                        (n < LANES).then_some(n + 1)
                    })
                    .is_ok()
            {
                self.spawn_lane(endpoint_id, lanes.clone(), done.clone());
            }
            let endpoint = Arc::new(endpoint);
            let secrets = Arc::new(secrets);
            let mut posts = JoinSet::new();
            for delivery in batch {
                let (sender, endpoint, secrets) = (self.clone(), endpoint.clone(), secrets.clone());
                posts.spawn(async move { sender.attempt(&endpoint, &secrets, delivery).await });
            }
            let mut attempts = Vec::new();
            while let Some(attempt) = posts.join_next().await {
                let attempt = attempt.expect("an attempt does not panic");
                match &attempt.failure {
                    None => report.delivered += 1,
                    Some((_, Some(_))) => report.retried += 1,
                    Some((_, None)) => report.failed += 1,
                }
                attempts.push(attempt);
            }
            self.store
                .record_attempts(attempts, webhooks::DISABLE_AFTER)
                .await?;
        }
        Ok(report)
    }

    /// The secrets that sign now: the current one, and the previous one during a rotation.
    fn secrets(&self, endpoint: &Endpoint, now: jiff::Timestamp) -> Option<Vec<SigningSecret>> {
        let mut secrets = vec![self.config.open(&endpoint.secret)];
        if let Some(previous) = endpoint.previous_secret_at(now) {
            secrets.push(self.config.open(previous));
        }
        let secrets: Option<Vec<SigningSecret>> = secrets.into_iter().collect();
        if secrets.is_none() && self.unsealable.lock().unwrap().insert(endpoint.id) {
            tracing::error!(
                endpoint = endpoint.id,
                "webhook endpoint's secret does not open with this sealing key: its deliveries \
                 wait (start with the --sealing-key-file that sealed it)"
            );
        }
        secrets
    }

    /// One attempt of one delivery.
    async fn attempt(
        &self,
        endpoint: &Endpoint,
        secrets: &[SigningSecret],
        delivery: DueDelivery,
    ) -> Attempt {
        let started = Instant::now();
        let outcome = self.post(endpoint, secrets, &delivery).await;
        let at = self.clock.now();
        let latency_ms = Some(started.elapsed().as_millis().min(u128::from(u32::MAX)) as u32);
        let (status_code, failure) = match outcome {
            Ok(code) if (200..300).contains(&code) => (Some(code), None),
            Ok(code) => (Some(code), Some(format!("the endpoint answered {code}"))),
            Err(e) => (None, Some(e)),
        };
        let failure = failure.map(|error| {
            let retry = webhooks::retry_delay(delivery.attempts + 1).map(|delay| at + delay);
            (error, retry)
        });
        Attempt {
            delivery_id: delivery.id,
            endpoint_id: endpoint.id,
            lease: delivery.lease,
            at,
            status_code,
            latency_ms,
            failure,
        }
    }

    /// Posts the delivery; the response's status, or why none came.
    async fn post(
        &self,
        endpoint: &Endpoint,
        secrets: &[SigningSecret],
        delivery: &DueDelivery,
    ) -> Result<u16, String> {
        // Checked again at each attempt: the operator's rules may have changed since.
        let url = webhooks::check_url(&endpoint.url, self.config.allow_private)
            .map_err(|e| e.to_string())?;
        let body = serde_json::to_vec(&render::webhook_body(&delivery.event, &delivery.time_zone))
            .expect("a webhook body serializes");
        let id = message_id(delivery.event.id);
        // The attempt's real time, whatever the service's clock: receivers compare it with theirs.
        let timestamp = jiff::Timestamp::now().as_second();
        let refs: Vec<&SigningSecret> = secrets.iter().collect();
        let signature = webhooks::signature_header(&refs, &id, timestamp, &body);
        let timestamp = timestamp.to_string();
        let mut response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", &timestamp)
            .header("webhook-signature", &signature)
            .header("svix-id", &id)
            .header("svix-timestamp", &timestamp)
            .header("svix-signature", &signature)
            .body(body)
            .send()
            .await
            .map_err(describe)?;
        let status = response.status().as_u16();
        // Read (and drop) at most 64 KiB of the answer.
        let mut read = 0;
        while read < webhooks::MAX_RESPONSE_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                Ok(None) => break,
                Err(e) => return Err(describe(e)),
            }
        }
        Ok(status)
    }
}

/// Installs the process-wide TLS provider of HTTP clients (rustls with ring, as the mail client
/// uses), once; every reqwest client of the process needs it before it is built.
pub fn install_tls() {
    // Already installed (by an earlier call) is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The `webhook-id` of an event: the same on every attempt and to every endpoint.
pub fn message_id(event_id: i64) -> String {
    format!("msg_{event_id}")
}

/// A transport error, with its causes, in one line.
fn describe(e: reqwest::Error) -> String {
    let mut message = if e.is_timeout() {
        "timed out after 15 s".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message.chars().take(500).collect()
}
