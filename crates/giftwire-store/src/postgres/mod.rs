//! The PostgreSQL store. Writes that read first lock what they read (`FOR UPDATE`; the
//! organization's row for new sends, a token family's code row for its tokens); page reads run in
//! one `REPEATABLE READ` snapshot. Columns are selected in the same order and types as the SQLite
//! store's, converting `timestamptz` to epoch seconds and `numeric` to text in SQL.

use std::str::FromStr;

use giftwire_core::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::{OpenError, StoreOptions};

mod accounts;
mod balances;
mod bulk;
mod deadlines;
mod directory;
mod errors;
mod events;
mod feed;
mod gate;
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

use errors::db_err;
use gate::Gate;

/// A [`Store`](giftwire_core::Store) on a PostgreSQL database, with an optional read replica
/// for the API's listings.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: Gate,
    /// Where `list_sends`, `page_version` and `send` read: the replica's pool, or `pool`.
    read_pool: Gate,
}

impl PgStore {
    /// Connects to a `postgres://` URL and migrates the database.
    pub async fn open(url: &str, options: &StoreOptions) -> Result<PgStore, OpenError> {
        let connect_err = |source| OpenError::Connect {
            url: redact(url),
            source,
        };
        let pool = Self::pool(url, options, "primary")
            .await
            .map_err(connect_err)?;
        sqlx::migrate!("./migrations/postgres")
            .run(pool.pool())
            .await
            .map_err(|source| OpenError::Migrate {
                url: redact(url),
                source,
            })?;
        // The replica is a copy of the primary: it is migrated with it, never by us.
        let read_pool = match &options.read_replica_url {
            Some(replica) => Self::pool(replica, options, "replica")
                .await
                .map_err(|source| OpenError::Connect {
                    url: redact(replica),
                    source,
                })?,
            None => pool.clone(),
        };
        Ok(PgStore { pool, read_pool })
    }

    async fn pool(
        url: &str,
        options: &StoreOptions,
        name: &'static str,
    ) -> Result<Gate, sqlx::Error> {
        let connect = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(options.idle_timeout)
            .min_connections(0)
            .connect_with(connect.clone())
            .await?;
        Ok(Gate::new(pool, connect, options.acquire_timeout, name))
    }

    async fn tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        self.pool.begin().await
    }

    /// A read-only transaction on the primary whose statements all see one snapshot (a count
    /// and the page it counts, a balance and its ledger).
    async fn read_snapshot(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        let mut tx = self.tx().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        Ok(tx)
    }

    /// Runs `work` in a transaction on the primary and commits it: the same shape as the
    /// SQLite store's writes, so that a resource's two backends read alike.
    async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send,
        F: for<'c> FnOnce(&'c mut sqlx::PgConnection) -> WorkFuture<'c, T> + Send,
    {
        let mut tx = self.tx().await?;
        let value = work(&mut tx).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(value)
    }
}

/// What a write's work returns: its statements on the connection it is given.
type WorkFuture<'c, T> = std::pin::Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'c>>;

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
