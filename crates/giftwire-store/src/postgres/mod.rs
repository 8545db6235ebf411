//! The PostgreSQL store. Writes that read first lock what they read (`FOR UPDATE`, or the
//! organization's row for new sends); page reads run in one `REPEATABLE READ` snapshot. Columns
//! are selected in the same order and types as the SQLite store's, converting `timestamptz` to
//! epoch seconds and `numeric` to text in SQL.

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
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::flows;
use crate::records::{self, ORG_COLUMNS, USER_COLUMNS};
use crate::rows::RowExt;
use crate::{OpenError, StoreOptions};

mod api;
mod bulk;
mod errors;
mod gate;
mod sends;
mod sql;

use errors::{db_err, on_unique};
use gate::Gate;
use sends::{load_send, org_exists, read_page_version};

/// A [`Store`] on a PostgreSQL database, with an optional read replica for the API's listings.
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
}

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

const TOUCH_COLUMNS: &str = "id, org_id, name, type, subtype, currency, price::text, delivery_type, \
                             starts_on::text, ends_on::text, active::int4::int8, ship_to_countries";

#[async_trait]
impl Store for PgStore {
    async fn create_org(&self, new: NewOrg) -> Result<Org, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO organizations (name, time_zone, egift_expiry_days) VALUES ($1, $2, $3) \
             RETURNING {ORG_COLUMNS}"
        )))
        .bind(new.name.as_str())
        .bind(new.time_zone.name())
        .bind(i64::from(new.egift_expiry_days))
        .fetch_one(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        records::org(&row)
    }

    async fn org(&self, org: OrgId) -> Result<Org, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM organizations WHERE id = $1"
        )))
        .bind(org.get())
        .fetch_optional(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Organization"))?;
        records::org(&row)
    }

    async fn all_orgs(&self) -> Result<Vec<Org>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM organizations ORDER BY id"
        )))
        .fetch_all(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        rows.iter().map(records::org).collect()
    }

    async fn create_team(&self, org: OrgId, name: Name) -> Result<Team, StoreError> {
        let mut tx = self.tx().await?;
        org_exists(&mut tx, org).await?;
        let row = sqlx::query(
            "INSERT INTO teams (org_id, name) VALUES ($1, $2) RETURNING id, org_id, name",
        )
        .bind(org.get())
        .bind(name.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let team = records::team(&row)?;
        tx.commit().await.map_err(db_err)?;
        Ok(team)
    }

    async fn teams(&self, org: OrgId) -> Result<Vec<Team>, StoreError> {
        let rows = sqlx::query("SELECT id, org_id, name FROM teams WHERE org_id = $1 ORDER BY id")
            .bind(org.get())
            .fetch_all(&mut *self.pool.acquire().await?)
            .await
            .map_err(db_err)?;
        rows.iter().map(records::team).collect()
    }

    async fn create_user(&self, org: OrgId, new: NewUser) -> Result<User, StoreError> {
        let mut tx = self.tx().await?;
        org_exists(&mut tx, org).await?;
        if let Some(team) = new.team {
            sqlx::query("SELECT 1 FROM teams WHERE org_id = $1 AND id = $2")
                .bind(org.get())
                .bind(team.get())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .ok_or(StoreError::NotFound("Team"))?;
        }
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO users (org_id, team_id, name, email, role) VALUES ($1, $2, $3, $4, $5) \
             RETURNING {USER_COLUMNS}"
        )))
        .bind(org.get())
        .bind(new.team.map(TeamId::get))
        .bind(new.name.as_str())
        .bind(new.email.as_str())
        .bind(new.role.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| on_unique(e, || records::duplicate_email(&new, org)))?;
        let user = records::user(&row)?;
        tx.commit().await.map_err(db_err)?;
        Ok(user)
    }

    async fn users(&self, org: OrgId) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 ORDER BY id"
        )))
        .bind(org.get())
        .fetch_all(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        rows.iter().map(records::user).collect()
    }

    async fn user_system_wide(&self, user: UserId) -> Result<User, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
        )))
        .bind(user.get())
        .fetch_optional(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("User"))?;
        records::user(&row)
    }

    async fn create_touch(&self, org: OrgId, new: NewTouch) -> Result<Touch, StoreError> {
        let mut tx = self.tx().await?;
        org_exists(&mut tx, org).await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO touches (org_id, name, type, subtype, currency, price, delivery_type, \
                                  starts_on, ends_on, active, ship_to_countries) \
             VALUES ($1, $2, $3, $4, $5, $6::numeric, $7, $8::date, $9::date, $10, $11) \
             RETURNING {TOUCH_COLUMNS}"
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
        .bind(new.active)
        .bind(new.ship_to.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let touch = records::touch(&row)?;
        tx.commit().await.map_err(db_err)?;
        Ok(touch)
    }

    async fn touches(&self, org: OrgId) -> Result<Vec<Touch>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOUCH_COLUMNS} FROM touches WHERE org_id = $1 ORDER BY id"
        )))
        .bind(org.get())
        .fetch_all(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        rows.iter().map(records::touch).collect()
    }

    async fn create_token(&self, new: NewToken) -> Result<TokenInfo, StoreError> {
        let mut tx = self.tx().await?;
        let org = sqlx::query("SELECT org_id FROM users WHERE id = $1")
            .bind(new.user.get())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound("User"))?
            .int(0)?;
        let row = sqlx::query(
            "INSERT INTO api_tokens (org_id, user_id, token_hash, scopes, expires_at) \
             VALUES ($1, $2, $3, $4, to_timestamp($5)) RETURNING id",
        )
        .bind(org)
        .bind(new.user.get())
        .bind(new.hash.as_bytes().to_vec())
        .bind(new.scopes.to_string())
        .bind(new.expires_at.map(|t| t.as_second() as f64))
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
        tx.commit().await.map_err(db_err)?;
        Ok(info)
    }

    async fn revoke_token(&self, hash: TokenHash, at: Timestamp) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, to_timestamp($2)) \
             WHERE token_hash = $1",
        )
        .bind(hash.as_bytes().to_vec())
        .bind(at.as_second() as f64)
        .execute(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("Token"));
        }
        Ok(())
    }

    async fn authenticate(
        &self,
        hash: TokenHash,
        now: Timestamp,
    ) -> Result<Option<Principal>, StoreError> {
        let row = sqlx::query(
            "SELECT k.id, k.user_id, k.org_id, k.scopes, o.time_zone, \
                    extract(epoch FROM k.expires_at)::int8 \
             FROM api_tokens k JOIN organizations o ON o.id = k.org_id \
             WHERE k.token_hash = $1 AND k.revoked_at IS NULL \
               AND (k.expires_at IS NULL OR k.expires_at > to_timestamp($2))",
        )
        .bind(hash.as_bytes().to_vec())
        .bind(now.as_second() as f64)
        .fetch_optional(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        row.as_ref().map(records::principal).transpose()
    }

    async fn create_send(&self, org: OrgId, new: NewSend) -> Result<SendRecord, StoreError> {
        let mut tx = self.tx().await?;
        let id = sends::insert_send(&mut tx, org, &new).await?;
        let send = load_send(&mut tx, org, id, false).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(send)
    }

    async fn send(&self, org: OrgId, id: SendId) -> Result<SendRecord, StoreError> {
        let mut conn = self.read_pool.acquire().await?;
        load_send(&mut conn, org, id, false).await
    }

    async fn send_org_system_wide(&self, id: SendId) -> Result<OrgId, StoreError> {
        let row = sqlx::query("SELECT org_id FROM sends WHERE id = $1")
            .bind(id.get())
            .fetch_optional(&mut *self.pool.acquire().await?)
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
        let mut tx = self.tx().await?;
        let send = flows::change_status(&mut *tx, org, id, change).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(send)
    }

    /// Two statements, no transaction: the page's version, then its sends with their histories
    /// (aggregated per send), bounded by the version's total so that the two always agree on
    /// which sends the page holds. The sends' statuses are as fresh as the second statement.
    async fn list_sends(&self, org: OrgId, page: PageRequest) -> Result<SendPage, StoreError> {
        let mut conn = self.read_pool.acquire().await?;
        let version = read_page_version(&mut conn, org, page).await?;
        let (first, count) = version.range(page);
        let sends = if count > 0 {
            sends::load_page(&mut conn, org, first, first + count).await?
        } else {
            Vec::new()
        };
        Ok(SendPage { version, sends })
    }

    async fn page_version(&self, org: OrgId, page: PageRequest) -> Result<PageVersion, StoreError> {
        let mut conn = self.read_pool.acquire().await?;
        read_page_version(&mut conn, org, page).await
    }

    async fn bulk_load(&self, org: OrgId, sends: Vec<SeedSend>) -> Result<BulkLoaded, StoreError> {
        let mut tx = self.tx().await?;
        let loaded = bulk::insert(&mut tx, org, &sends).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(loaded)
    }

    async fn touch(&self, org: OrgId, id: TouchId) -> Result<Touch, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOUCH_COLUMNS} FROM touches WHERE org_id = $1 AND id = $2"
        )))
        .bind(org.get())
        .bind(id.get())
        .fetch_optional(&mut *self.pool.acquire().await?)
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
        let mut tx = self.tx().await?;
        let created = flows::create_api_sends(&mut *tx, org, orders, claim).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(created)
    }

    async fn recipient_send(&self, code: &TrackingCode) -> Result<RecipientSend, StoreError> {
        let mut conn = self.pool.acquire().await?;
        api::recipient_send(&mut conn, code).await
    }

    async fn confirm_address(
        &self,
        org: OrgId,
        id: SendId,
        address: Address,
        at: Timestamp,
    ) -> Result<SendRecord, StoreError> {
        let mut tx = self.tx().await?;
        let send = flows::confirm_address(&mut *tx, org, id, &address, at).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(send)
    }

    async fn due_deadlines(&self, now: Timestamp, limit: u32) -> Result<Vec<Deadline>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        api::due_deadlines(&mut conn, now, limit).await
    }

    async fn apply_deadline(
        &self,
        deadline: &Deadline,
        now: Timestamp,
    ) -> Result<Option<SendRecord>, StoreError> {
        let mut tx = self.tx().await?;
        let applied = flows::apply_deadline(&mut *tx, deadline, now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(applied)
    }

    async fn purge_idempotency_keys(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        api::purge_idempotency_keys(&mut conn, before).await
    }

    async fn due_mail(&self, now: Timestamp, limit: u32) -> Result<Vec<Mail>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        api::due_mail(&mut conn, now, limit).await
    }

    async fn mail_delivered(&self, org: OrgId, id: i64, at: Timestamp) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        api::mail_delivered(&mut conn, org, id, at).await
    }

    async fn mail_failed(
        &self,
        org: OrgId,
        id: i64,
        at: Timestamp,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        api::mail_failed(&mut conn, org, id, at, error, retry_at).await
    }

    async fn outbox(&self, org: Option<OrgId>, limit: u32) -> Result<Vec<Mail>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        api::outbox(&mut conn, org, limit).await
    }
}
