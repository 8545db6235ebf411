//! The SQLite store: one file, WAL mode, a small pool of connections. Commits are durable by
//! default (`synchronous=FULL`: the log is synced before a commit returns). This process's
//! writers take turns and commit together when they queue up ([`writer`]); they take the write
//! lock up front (`BEGIN IMMEDIATE`) so that a transaction that reads then writes never fails
//! half-way on a lock upgrade. Reads run in deferred transactions, which are snapshots in WAL.

use std::str::FromStr;

use giftwire_core::StoreError;
use jiff::Timestamp;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::{OpenError, StoreOptions};

mod accounts;
mod balances;
mod bulk;
mod deadlines;
mod directory;
mod errors;
mod events;
mod feed;
mod groups;
mod invitations;
mod oauth;
mod outbox;
mod scim;
mod sends;
mod sql;
mod tokens;
mod touches;
mod users;
mod webhooks;
mod writer;

use errors::db_err;
use writer::Writer;

/// A [`Store`](giftwire_core::Store) on an SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// SQLite has one writer at a time. Writers of this process take turns here, in order,
    /// rather than polling the file lock (which other processes, like the admin commands, still
    /// do), and those that queue up commit together ([`writer`]).
    writer: Writer,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at a `sqlite://PATH` URL and migrates it.
    pub async fn open(url: &str, options: &StoreOptions) -> Result<SqliteStore, OpenError> {
        let connect_err = |source| OpenError::Connect {
            url: url.to_owned(),
            source,
        };
        let connect = SqliteConnectOptions::from_str(url)
            .map_err(connect_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if options.durable_commits {
                SqliteSynchronous::Full
            } else {
                SqliteSynchronous::Normal
            })
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout)
            // 16 MiB of page cache per connection; the operating system caches the rest.
            .pragma("cache_size", "-16384")
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(options.idle_timeout)
            .min_connections(0)
            .before_acquire(|_, meta| {
                Box::pin(async move { Ok(!errors::lived_through_fault(meta.age)) })
            })
            .after_release(|conn, meta| Box::pin(reusable(conn, meta.age)))
            .connect_with(connect)
            .await
            .map_err(connect_err)?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|source| OpenError::Migrate {
                url: url.to_owned(),
                source,
            })?;
        Ok(SqliteStore {
            writer: Writer::new(pool.clone(), options.busy_timeout),
            pool,
        })
    }

    async fn read_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        self.pool.begin().await.map_err(db_err)
    }
}

/// Whether a connection handed back to the pool may serve again: not left inside a failed
/// transaction, and open since the last storage fault of this
/// process (a connection that saw the disk fill up or its files become read-only can keep
/// refusing writes after the cause is gone). Once this process has seen a storage fault, also
/// able to write (SQLite opens a database it cannot write read-only, silently, for the
/// connection's whole life) and not inside a transaction SQLite still has open. Connections
/// closed here are replaced by fresh ones on demand, so the first request after the cause is
/// gone succeeds.
///
/// The common case costs no round trip to the connection's worker thread (sqlx pings it once
/// more on its own after this): this runs on every request.
async fn reusable(
    conn: &mut sqlx::SqliteConnection,
    age: std::time::Duration,
) -> Result<bool, sqlx::Error> {
    if sqlx::Connection::is_in_transaction(conn) {
        // A transaction dropped unfinished: the ping runs the rollback sqlx's worker has queued
        // for it, and the count is looked at again.
        sqlx::Connection::ping(conn).await?;
    }
    if sqlx::Connection::is_in_transaction(conn) {
        // A transaction whose COMMIT failed (disk full, read-only file) and that SQLite had
        // already rolled back by itself: sqlx's own rollback failed, and it would refuse every
        // later BEGIN on this connection.
        tracing::warn!("closing an SQLite connection left inside a failed transaction");
        return Ok(false);
    }
    if errors::lived_through_fault(age) {
        return Ok(false);
    }
    if !errors::faults_seen() {
        return Ok(true);
    }
    let mut handle = conn.lock_handle().await?;
    let raw = handle.as_raw_handle().as_ptr();
    // SAFETY: the handle is a live connection, and locked: sqlx's worker thread makes no call on
    // it while `handle` exists. The schema name is a NUL-terminated string.
    let (read_only, autocommit) = unsafe {
        (
            libsqlite3_sys::sqlite3_db_readonly(raw, c"main".as_ptr()),
            libsqlite3_sys::sqlite3_get_autocommit(raw),
        )
    };
    if read_only != 0 {
        tracing::warn!("closing an SQLite connection that opened the database read-only");
    }
    // A transaction begun by statement that is still open (a group of the writer's cut short
    // by a fault): closing the connection rolls it back.
    if autocommit == 0 {
        tracing::warn!("closing an SQLite connection left inside a transaction");
    }
    Ok(read_only == 0 && autocommit != 0)
}

fn now_secs() -> i64 {
    Timestamp::now().as_second()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn synchronous(options: &StoreOptions) -> i64 {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("sync.db").display());
        let store = SqliteStore::open(&url, options).await.unwrap();
        let mut conn = store.pool.acquire().await.unwrap();
        sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn commits_are_synced_to_stable_storage_unless_the_operator_opts_out() {
        assert_eq!(synchronous(&StoreOptions::default()).await, 2, "FULL");
        let relaxed = StoreOptions {
            durable_commits: false,
            ..StoreOptions::default()
        };
        assert_eq!(synchronous(&relaxed).await, 1, "NORMAL");
    }
}
