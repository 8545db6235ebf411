//! The implementations of [`giftwire_core::Store`]: SQLite (embedded, the default) and
//! PostgreSQL, behind the same trait. Each backend keeps its own SQL and migrations;
//! [`open`] picks one from a database URL and runs its migrations.

use std::sync::Arc;

use giftwire_core::Store;

mod feed;
mod flows;
mod postgres;
mod records;
mod rows;
mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "unsupported database URL {0:?}: expected sqlite://PATH (PostgreSQL support is coming)"
    )]
    UnsupportedUrl(String),
    #[error("read replicas need PostgreSQL: an SQLite database has none")]
    ReplicaNeedsPostgres,
    #[error("cannot open {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot migrate {url}: {source}")]
    Migrate {
        url: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
}

/// Tuning that is not part of the URL.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most connections the pool keeps open.
    pub max_connections: u32,
    /// How long a statement waits for a lock held by another connection before giving up (and,
    /// on SQLite, how long a writer waits for this process's turn to write).
    pub busy_timeout: std::time::Duration,
    /// How long a request waits for a connection (PostgreSQL: including connecting) before the
    /// database counts as unavailable.
    pub acquire_timeout: std::time::Duration,
    /// How long an unused connection stays open (and, on SQLite, keeps its shared lock).
    pub idle_timeout: std::time::Duration,
    /// SQLite only: whether a commit is on stable storage before it returns (`synchronous=FULL`,
    /// the default). `false` (`synchronous=NORMAL`) trades durability for speed: the last
    /// commits before a power cut or an operating-system crash may be lost (never on a crash of
    /// the process alone). PostgreSQL's durability is its server's (`fsync`, `synchronous_commit`).
    pub durable_commits: bool,
    /// PostgreSQL only: a read replica (hot standby) of the database, where the API's listing
    /// reads go. Writes, authentication and admin reads stay on the primary.
    pub read_replica_url: Option<String>,
}

impl StoreOptions {
    /// How long a request waits on the database by default before it counts as unavailable.
    pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

    /// The defaults, with every wait on the database (for a connection, for a lock, for this
    /// process's turn to write) bounded by `timeout` (`--database-timeout`).
    pub fn with_timeout(timeout: std::time::Duration) -> StoreOptions {
        StoreOptions {
            busy_timeout: timeout,
            acquire_timeout: timeout,
            ..StoreOptions::default()
        }
    }
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 8,
            busy_timeout: StoreOptions::DEFAULT_TIMEOUT,
            acquire_timeout: StoreOptions::DEFAULT_TIMEOUT,
            idle_timeout: std::time::Duration::from_secs(600),
            durable_commits: true,
            read_replica_url: None,
        }
    }
}

/// Opens the database at `url`, creating it if needed, and brings its schema up to date.
pub async fn open(url: &str, options: &StoreOptions) -> Result<Arc<dyn Store>, OpenError> {
    if url.starts_with("sqlite:") {
        if options.read_replica_url.is_some() {
            return Err(OpenError::ReplicaNeedsPostgres);
        }
        Ok(Arc::new(SqliteStore::open(url, options).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open(url, options).await?))
    } else {
        Err(OpenError::UnsupportedUrl(url.to_owned()))
    }
}
