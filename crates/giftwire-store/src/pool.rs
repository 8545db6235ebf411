//! What the backends' connection pools share: the check that decides whether a connection
//! handed back to the pool may serve the next request, and the [`Gate`] that makes requests
//! fail fast, without storming the server with connections, while a database is unreachable.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use giftwire_core::{StoreError, Unreachable};
use sqlx::Connection;
use sqlx::pool::PoolConnection;

/// Whether a connection coming back to the pool can be reused.
///
/// A transaction whose `COMMIT` failed (disk full, read-only file, I/O error) is rolled back
/// when it is dropped; when that rollback fails too (SQLite has often rolled the transaction
/// back by itself, so there is nothing left to roll back), sqlx still counts the connection
/// as inside a transaction and refuses every later `BEGIN` on it. Such a connection is closed
/// here instead of being reused, so that one failed commit costs one request, not every
/// later one. (SQLite's caller first pings the connection, which runs the rollback its driver
/// queued; PostgreSQL's driver counts a queued rollback as done.)
pub(crate) fn reusable<C: Connection>(conn: &mut C) -> bool {
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::warn!("closing a database connection left inside a failed transaction");
    }
    clean
}

/// A pool behind a gate that stays shut while its database is unreachable.
///
/// When the pool cannot reach its database (the server refuses connections, the network is
/// down, every attempt timed out, and a connection attempt of the gate's own fails too: a pool
/// timeout alone may be overload, with the database well), the gate shuts: requests get `Unavailable` at once instead
/// of each waiting out the timeout and retrying connections of its own, and a single probe
/// tries one connection after 100 ms, then after twice as long each time (at most 500 ms
/// apart), until the database answers and the gate opens again. One line is logged when the
/// gate shuts and one when it opens, whatever the number of requests in between.
#[derive(Debug)]
pub(crate) struct Gate<DB: sqlx::Database> {
    pool: sqlx::Pool<DB>,
    connect: <DB::Connection as Connection>::Options,
    /// When the gate shut; `None` while it is open.
    shut_at: Arc<Mutex<Option<Instant>>>,
    /// A connection attempt is checking whether a pool timeout means the database is gone.
    verifying: Arc<AtomicBool>,
    /// How long the probe's one connection attempt may take.
    timeout: Duration,
    /// What the log calls this database (`primary`, `replica`).
    name: &'static str,
    /// The backend's mapping of its errors.
    classify: fn(sqlx::Error) -> StoreError,
    /// Whether an error says the database cannot be reached (rather than a failed statement).
    unreachable: fn(&sqlx::Error) -> bool,
}

// By hand: a derived Clone would ask the database type itself to be Clone.
impl<DB: sqlx::Database> Clone for Gate<DB> {
    fn clone(&self) -> Self {
        Gate {
            pool: self.pool.clone(),
            connect: self.connect.clone(),
            shut_at: self.shut_at.clone(),
            verifying: self.verifying.clone(),
            timeout: self.timeout,
            name: self.name,
            classify: self.classify,
            unreachable: self.unreachable,
        }
    }
}

/// First wait of the probe after the gate shuts; it doubles up to [`PROBE_MAX`].
const PROBE_FIRST: Duration = Duration::from_millis(100);
const PROBE_MAX: Duration = Duration::from_millis(500);

/// What a [`Gate`] needs of its backend.
pub(crate) struct GateConfig {
    pub timeout: Duration,
    pub name: &'static str,
    pub classify: fn(sqlx::Error) -> StoreError,
    pub unreachable: fn(&sqlx::Error) -> bool,
}

impl<DB: sqlx::Database> Gate<DB> {
    pub(crate) fn new(
        pool: sqlx::Pool<DB>,
        connect: <DB::Connection as Connection>::Options,
        config: GateConfig,
    ) -> Gate<DB> {
        Gate {
            pool,
            connect,
            shut_at: Arc::default(),
            verifying: Arc::default(),
            timeout: config.timeout,
            name: config.name,
            classify: config.classify,
            unreachable: config.unreachable,
        }
    }

    /// The pool itself, for what runs before the service starts (migrations).
    pub(crate) fn pool(&self) -> &sqlx::Pool<DB> {
        &self.pool
    }

    /// `Unavailable` at once while the gate is shut.
    fn admit(&self) -> Result<(), StoreError> {
        match *self.shut_at.lock().unwrap() {
            None => Ok(()),
            Some(since) => Err(StoreError::Unavailable(Box::new(Unreachable {
                database: self.name,
                secs: since.elapsed().as_secs_f64(),
            }))),
        }
    }

    /// The backend's error, having shut the gate when it says the database is unreachable.
    fn failed(&self, e: sqlx::Error) -> StoreError {
        if matches!(e, sqlx::Error::PoolTimedOut) {
            // No connection within the timeout: the database is gone, or every connection
            // is busy (overload). One connection attempt of its own tells which.
            if !self.verifying.swap(true, Ordering::AcqRel) {
                let gate = self.clone();
                tokio::spawn(async move {
                    if !gate.answers().await {
                        gate.shut(&"no connection within the timeout, and none can be made");
                    }
                    gate.verifying.store(false, Ordering::Release);
                });
            }
        } else if (self.unreachable)(&e) {
            self.shut(&e);
        }
        (self.classify)(e)
    }

    /// Whether the database answers one connection attempt: it accepts it, or it refuses it for
    /// a reason of its own (too many connections), which says it is there and that the pool's
    /// connections may serve.
    async fn answers(&self) -> bool {
        let attempt =
            tokio::time::timeout(self.timeout, DB::Connection::connect_with(&self.connect));
        match attempt.await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                true
            }
            Ok(Err(e)) => !(self.unreachable)(&e),
            Err(_) => false,
        }
    }

    /// A connection of the pool.
    pub(crate) async fn acquire(&self) -> Result<PoolConnection<DB>, StoreError> {
        self.admit()?;
        self.pool.acquire().await.map_err(|e| self.failed(e))
    }

    /// A transaction on a connection of the pool.
    pub(crate) async fn begin(&self) -> Result<sqlx::Transaction<'static, DB>, StoreError> {
        self.admit()?;
        self.pool.begin().await.map_err(|e| self.failed(e))
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
        let gate = self.clone();
        tokio::spawn(gate.probe());
    }

    /// Tries one connection at growing intervals until one succeeds, then opens the gate.
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
