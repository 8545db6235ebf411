//! The SQLite store: one file, WAL mode, a small pool of connections. Commits are durable by
//! default (`synchronous=FULL`: the log is synced before a commit returns). This process's
//! writers take turns and commit together when they queue up ([`writer`]); they take the write
//! lock up front (`BEGIN IMMEDIATE`) so that a transaction that reads then writes never fails
//! half-way on a lock upgrade. Reads run in deferred transactions, which are snapshots in WAL.

use std::str::FromStr;

use async_trait::async_trait;
use giftwire_core::lifecycle::StatusChange;
use giftwire_core::store::{
    BulkLoaded, Created, IdempotencyClaim, Mail, NewOrg, NewSend, NewToken, NewTouch, NewUser, Org,
    PageVersion, Principal, RecipientSend, SeedSend, SendOrder, SendPage, SendRecord, Team,
    TokenInfo, Touch, User,
};
use giftwire_core::{
    Address, Deadline, Name, OrgId, PageRequest, SendId, Store, StoreError, TeamId, TokenHash,
    TokenId, TouchId, TrackingCode, UserId,
};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::flows;
use crate::records::{self, ORG_COLUMNS, USER_COLUMNS};
use crate::rows::RowExt;
use crate::{OpenError, StoreOptions};

mod api;
mod bulk;
mod errors;
mod sends;
mod sql;
mod writer;

use errors::{db_err, on_unique};
use sends::{attach_histories, load_send, org_exists, read_page_version, send_select};
use writer::Writer;

/// A [`Store`] on an SQLite database file.
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

const TOUCH_COLUMNS: &str = "id, org_id, name, type, subtype, currency, price, delivery_type, \
                             starts_on, ends_on, active, ship_to_countries";

#[async_trait]
impl Store for SqliteStore {
    async fn create_org(&self, new: NewOrg) -> Result<Org, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "INSERT INTO organizations (name, time_zone, egift_expiry_days, created_at) \
                         VALUES (?1, ?2, ?3, ?4) RETURNING {ORG_COLUMNS}"
                    )))
                    .bind(new.name.as_str())
                    .bind(new.time_zone.name())
                    .bind(i64::from(new.egift_expiry_days))
                    .bind(now_secs())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    records::org(&row)
                })
            })
            .await
    }

    async fn org(&self, org: OrgId) -> Result<Org, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM organizations WHERE id = ?1"
        )))
        .bind(org.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Organization"))?;
        records::org(&row)
    }

    async fn all_orgs(&self) -> Result<Vec<Org>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM organizations ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(records::org).collect()
    }

    async fn create_team(&self, org: OrgId, name: Name) -> Result<Team, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
        org_exists(tx, org).await?;
        let row = sqlx::query(
            "INSERT INTO teams (org_id, name, created_at) VALUES (?1, ?2, ?3) RETURNING id, org_id, name",
        )
        .bind(org.get())
        .bind(name.as_str())
        .bind(now_secs())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let team = records::team(&row)?;
        Ok(team)
                })
            })
            .await
    }

    async fn teams(&self, org: OrgId) -> Result<Vec<Team>, StoreError> {
        let rows = sqlx::query("SELECT id, org_id, name FROM teams WHERE org_id = ?1 ORDER BY id")
            .bind(org.get())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(records::team).collect()
    }

    async fn create_user(&self, org: OrgId, new: NewUser) -> Result<User, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    org_exists(tx, org).await?;
                    if let Some(team) = new.team {
                        sqlx::query("SELECT 1 FROM teams WHERE org_id = ?1 AND id = ?2")
                            .bind(org.get())
                            .bind(team.get())
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(db_err)?
                            .ok_or(StoreError::NotFound("Team"))?;
                    }
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "INSERT INTO users (org_id, team_id, name, email, role, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING {USER_COLUMNS}"
                    )))
                    .bind(org.get())
                    .bind(new.team.map(TeamId::get))
                    .bind(new.name.as_str())
                    .bind(new.email.as_str())
                    .bind(new.role.as_str())
                    .bind(now_secs())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| on_unique(e, || records::duplicate_email(&new, org)))?;
                    let user = records::user(&row)?;
                    Ok(user)
                })
            })
            .await
    }

    async fn users(&self, org: OrgId) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE org_id = ?1 ORDER BY id"
        )))
        .bind(org.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(records::user).collect()
    }

    async fn user_system_wide(&self, user: UserId) -> Result<User, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = ?1"
        )))
        .bind(user.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("User"))?;
        records::user(&row)
    }

    async fn create_touch(&self, org: OrgId, new: NewTouch) -> Result<Touch, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    org_exists(tx, org).await?;
                    let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO touches (org_id, name, type, subtype, currency, price, delivery_type, \
                                  starts_on, ends_on, active, ship_to_countries, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING {TOUCH_COLUMNS}"
        )))
        .bind(org.get())
        .bind(new.name.as_str())
        .bind(new.send_type.as_str())
        .bind(new.subtype.as_str())
        .bind(new.currency.as_str())
        .bind(new.price.to_string())
        .bind(new.delivery_type.as_str())
        .bind(new.starts_on.map(|d| d.to_string()))
        .bind(new.ends_on.map(|d| d.to_string()))
        .bind(i64::from(new.active))
        .bind(new.ship_to.to_string())
        .bind(now_secs())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
                    let touch = records::touch(&row)?;
                    Ok(touch)
                })
            })
            .await
    }

    async fn touches(&self, org: OrgId) -> Result<Vec<Touch>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOUCH_COLUMNS} FROM touches WHERE org_id = ?1 ORDER BY id"
        )))
        .bind(org.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(records::touch).collect()
    }

    async fn create_token(&self, new: NewToken) -> Result<TokenInfo, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let org = sqlx::query("SELECT org_id FROM users WHERE id = ?1")
                        .bind(new.user.get())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err)?
                        .ok_or(StoreError::NotFound("User"))?
                        .int(0)?;
                    let row = sqlx::query(
            "INSERT INTO api_tokens (org_id, user_id, token_hash, scopes, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        )
        .bind(org)
        .bind(new.user.get())
        .bind(new.hash.as_bytes().to_vec())
        .bind(new.scopes.to_string())
        .bind(now_secs())
        .bind(new.expires_at.map(|t| t.as_second()))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| on_unique(e, || "a token with that hash already exists".to_owned()))?;
                    let info = TokenInfo {
                        id: TokenId::new(row.int(0)?),
                        user_id: new.user,
                        org_id: OrgId::new(org),
                        scopes: new.scopes,
                        expires_at: new.expires_at,
                    };
                    Ok(info)
                })
            })
            .await
    }

    async fn revoke_token(&self, hash: TokenHash, at: Timestamp) -> Result<(), StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE token_hash = ?1",
        )
        .bind(hash.as_bytes().to_vec())
        .bind(at.as_second())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound("Token"));
                    }
                    Ok(())
                })
            })
            .await
    }

    async fn authenticate(
        &self,
        hash: TokenHash,
        now: Timestamp,
    ) -> Result<Option<Principal>, StoreError> {
        let row = sqlx::query(
            "SELECT k.id, k.user_id, k.org_id, k.scopes, o.time_zone, k.expires_at \
             FROM api_tokens k JOIN organizations o ON o.id = k.org_id \
             WHERE k.token_hash = ?1 AND k.revoked_at IS NULL \
               AND (k.expires_at IS NULL OR k.expires_at > ?2)",
        )
        .bind(hash.as_bytes().to_vec())
        .bind(now.as_second())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(records::principal).transpose()
    }

    async fn create_send(&self, org: OrgId, new: NewSend) -> Result<SendRecord, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let id = sends::insert_send(tx, org, &new).await?;
                    let send = load_send(tx, org, id).await?;
                    Ok(send)
                })
            })
            .await
    }

    async fn send(&self, org: OrgId, id: SendId) -> Result<SendRecord, StoreError> {
        let mut tx = self.read_tx().await?;
        let send = load_send(&mut tx, org, id).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(send)
    }

    async fn send_org_system_wide(&self, id: SendId) -> Result<OrgId, StoreError> {
        let row = sqlx::query("SELECT org_id FROM sends WHERE id = ?1")
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound("Send"))?;
        Ok(OrgId::new(row.int(0)?))
    }

    async fn change_status(
        &self,
        org: OrgId,
        id: SendId,
        change: StatusChange,
    ) -> Result<SendRecord, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let send = flows::change_status(&mut *tx, org, id, change).await?;
                    Ok(send)
                })
            })
            .await
    }

    /// On one connection, no transaction: the page's version, then the page bounded by the
    /// version's total (so the two agree on which sends it holds), then their histories.
    async fn list_sends(&self, org: OrgId, page: PageRequest) -> Result<SendPage, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let version = read_page_version(&mut conn, org, page).await?;
        let (first, count) = version.range(page);
        let mut sends = Vec::new();
        if count > 0 {
            let rows = sqlx::query(concat!(
                send_select!(),
                "WHERE s.org_id = ?1 AND s.org_seq > ?2 AND s.org_seq <= ?3 ORDER BY s.org_seq"
            ))
            .bind(org.get())
            .bind(first as i64)
            .bind((first + count) as i64)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
            sends = rows
                .iter()
                .map(records::send)
                .collect::<Result<Vec<_>, _>>()?;
            attach_histories(&mut conn, org, &mut sends).await?;
        }
        Ok(SendPage { version, sends })
    }

    async fn page_version(&self, org: OrgId, page: PageRequest) -> Result<PageVersion, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        read_page_version(&mut conn, org, page).await
    }

    async fn bulk_load(&self, org: OrgId, sends: Vec<SeedSend>) -> Result<BulkLoaded, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let loaded = bulk::insert(tx, org, &sends).await?;
                    Ok(loaded)
                })
            })
            .await
    }

    async fn touch(&self, org: OrgId, id: TouchId) -> Result<Touch, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOUCH_COLUMNS} FROM touches WHERE org_id = ?1 AND id = ?2"
        )))
        .bind(org.get())
        .bind(id.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Touch"))?;
        records::touch(&row)
    }

    async fn create_api_sends(
        &self,
        org: OrgId,
        orders: Vec<SendOrder>,
        claim: Option<IdempotencyClaim>,
    ) -> Result<Created, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let created = flows::create_api_sends(&mut *tx, org, orders, claim).await?;
                    Ok(created)
                })
            })
            .await
    }

    async fn recipient_send(&self, code: &TrackingCode) -> Result<RecipientSend, StoreError> {
        let mut tx = self.read_tx().await?;
        let found = api::recipient_send(&mut tx, code).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(found)
    }

    async fn confirm_address(
        &self,
        org: OrgId,
        id: SendId,
        address: Address,
        at: Timestamp,
    ) -> Result<SendRecord, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let send = flows::confirm_address(&mut *tx, org, id, &address, at).await?;
                    Ok(send)
                })
            })
            .await
    }

    async fn due_deadlines(&self, now: Timestamp, limit: u32) -> Result<Vec<Deadline>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        api::due_deadlines(&mut conn, now, limit).await
    }

    async fn apply_deadline(
        &self,
        deadline: &Deadline,
        now: Timestamp,
    ) -> Result<Option<SendRecord>, StoreError> {
        let deadline = deadline.clone();
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let applied = flows::apply_deadline(&mut *tx, &deadline, now).await?;
                    Ok(applied)
                })
            })
            .await
    }

    async fn purge_idempotency_keys(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.writer
            .write(move |tx| Box::pin(api::purge_idempotency_keys(tx, before)))
            .await
    }

    async fn due_mail(&self, now: Timestamp, limit: u32) -> Result<Vec<Mail>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        api::due_mail(&mut conn, now, limit).await
    }

    async fn mail_delivered(&self, org: OrgId, id: i64, at: Timestamp) -> Result<(), StoreError> {
        self.writer
            .write(move |tx| Box::pin(api::mail_delivered(tx, org, id, at)))
            .await
    }

    async fn mail_failed(
        &self,
        org: OrgId,
        id: i64,
        at: Timestamp,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let error = error.to_owned();
        self.writer
            .write(move |tx| {
                Box::pin(async move { api::mail_failed(tx, org, id, at, &error, retry_at).await })
            })
            .await
    }

    async fn outbox(&self, org: Option<OrgId>, limit: u32) -> Result<Vec<Mail>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        api::outbox(&mut conn, org, limit).await
    }
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
