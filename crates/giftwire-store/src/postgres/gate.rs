//! The pool behind a gate that stays shut while PostgreSQL is unreachable.
//!
//! When the pool cannot reach the server (it refuses connections, the network is down, or no
//! connection came within the timeout and a connection attempt of the gate's own fails too: a
//! pool timeout alone may be overload, with the server well), the gate shuts: requests get
//! `Unavailable` at once instead of each waiting out the timeout and retrying connections of its
//! own, and a single probe tries one connection after 100 ms, then after twice as long each time
//! (at most 500 ms apart), until the server answers and the gate opens again. One line is logged
//! when the gate shuts and one when it opens, whatever the number of requests in between.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use giftwire_core::{StoreError, Unreachable};
use sqlx::Connection as _;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool};
use sqlx::{Postgres, Transaction};

use super::errors::{db_err, unreachable};

/// First wait of the probe after the gate shuts; it doubles up to [`PROBE_MAX`].
const PROBE_FIRST: Duration = Duration::from_millis(100);
const PROBE_MAX: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub(super) struct Gate {
    pool: PgPool,
    connect: PgConnectOptions,
    /// When the gate shut; `None` while it is open.
    shut_at: Arc<Mutex<Option<Instant>>>,
    /// A connection attempt is checking whether a pool timeout means the server is gone.
    verifying: Arc<AtomicBool>,
    /// How long one connection attempt of the gate's may take.
    timeout: Duration,
    /// What the log calls this database (`primary`, `replica`).
    name: &'static str,
}

impl Gate {
    pub(super) fn new(
        pool: PgPool,
        connect: PgConnectOptions,
        timeout: Duration,
        name: &'static str,
    ) -> Gate {
        Gate {
            pool,
            connect,
            shut_at: Arc::default(),
            verifying: Arc::default(),
            timeout,
            name,
        }
    }

    /// The pool itself, for what runs before the service starts (migrations).
    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A connection of the pool, or `Unavailable` at once while the gate is shut.
    pub(super) async fn acquire(&self) -> Result<PoolConnection<Postgres>, StoreError> {
        self.admit()?;
        self.pool.acquire().await.map_err(|e| self.failed(e))
    }

    /// A transaction on a connection of the pool, or `Unavailable` at once while the gate is
    /// shut.
    pub(super) async fn begin(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.admit()?;
        self.pool.begin().await.map_err(|e| self.failed(e))
    }

    fn admit(&self) -> Result<(), StoreError> {
        match *self.shut_at.lock().unwrap() {
            None => Ok(()),
            Some(since) => Err(StoreError::Unavailable(Box::new(Unreachable {
                database: self.name,
                secs: since.elapsed().as_secs_f64(),
            }))),
        }
    }

    /// The error as the backend maps it, having shut the gate when it says the server is
    /// unreachable.
    fn failed(&self, e: sqlx::Error) -> StoreError {
        if matches!(e, sqlx::Error::PoolTimedOut) {
            // No connection within the timeout: the server is gone, or every connection is
            // busy (overload). One connection attempt of the gate's own tells which.
            if !self.verifying.swap(true, Ordering::AcqRel) {
                let gate = self.clone();
                tokio::spawn(async move {
                    if !gate.answers().await {
                        gate.shut(&"no connection within the timeout, and none can be made");
                    }
                    gate.verifying.store(false, Ordering::Release);
                });
            }
        } else if unreachable(&e) {
            self.shut(&e);
        }
        db_err(e)
    }

    /// Whether the server answers one connection attempt: it accepts it, or refuses it for a
    /// reason of its own (too many connections), which says it is there and that the pool's
    /// connections may serve.
    async fn answers(&self) -> bool {
        match tokio::time::timeout(self.timeout, PgConnection::connect_with(&self.connect)).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                true
            }
            Ok(Err(e)) => !unreachable(&e),
            Err(_) => false,
        }
    }

    /// Shuts the gate (once) and starts the probe that opens it again.
    fn shut(&self, cause: &dyn std::fmt::Display) {
        {
            let mut shut_at = self.shut_at.lock().unwrap();
            if shut_at.is_some() {
                return;
            }
            *shut_at = Some(Instant::now());
        }
        tracing::warn!(
            database = self.name,
            cause = %cause,
            "database unreachable: requests answer 503 at once until it answers again"
        );
        tokio::spawn(self.clone().probe());
    }

    /// Tries one connection at growing intervals until the server answers, then opens the gate.
    async fn probe(self) {
        let mut wait = PROBE_FIRST;
        let mut attempts = 0u32;
        loop {
            tokio::time::sleep(wait).await;
            attempts += 1;
            if self.answers().await {
                break;
            }
            wait = (wait * 2).min(PROBE_MAX);
        }
        let since = self.shut_at.lock().unwrap().take();
        tracing::warn!(
            database = self.name,
            after_secs = since.map_or(0.0, |s| s.elapsed().as_secs_f64()),
            attempts,
            "database reachable again: serving"
        );
    }
}
