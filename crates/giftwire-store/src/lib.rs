//! The implementations of [`giftwire_core::Store`]: SQLite (embedded, the default) and
//! PostgreSQL, behind the same trait. Each backend keeps its own SQL and migrations;
//! [`open`] picks one from a database URL and runs its migrations.

use std::sync::Arc;

use giftwire_core::Store;

mod flows;
mod pool;
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
    /// How long a statement waits for a lock held by another connection before giving up.
    pub busy_timeout: std::time::Duration,
    /// How long a request waits for a free connection before the database counts as unavailable.
    pub acquire_timeout: std::time::Duration,
    /// How long an unused connection stays open (and, on SQLite, keeps its shared lock).
    pub idle_timeout: std::time::Duration,
    /// PostgreSQL only: a read replica (hot standby) of the database, where the API's listing
    /// reads go. Writes, authentication and admin reads stay on the primary.
    pub read_replica_url: Option<String>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 8,
            busy_timeout: std::time::Duration::from_secs(5),
            acquire_timeout: std::time::Duration::from_secs(10),
            idle_timeout: std::time::Duration::from_secs(600),
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
