//! The PostgreSQL store. Writes that read first lock what they read (`FOR UPDATE`, or the
//! organization's row for new sends); page reads run in one `REPEATABLE READ` snapshot. Columns
//! are selected in the same order and types as the SQLite store's, converting `timestamptz` to
//! epoch seconds and `numeric` to text in SQL.

use std::str::FromStr;

use async_trait::async_trait;
use giftwire_core::lifecycle::{self, SendState, StatusChange};
use giftwire_core::store::{
    BulkLoaded, NewOrg, NewSend, NewToken, NewTouch, NewUser, Org, PageVersion, Principal,
    SeedSend, SendPage, SendRecord, Team, TokenInfo, Touch, User,
};
use giftwire_core::{
    Money, Name, OrgId, PageRequest, SendId, Store, StoreError, TeamId, TokenHash, TokenId,
    TouchId, UserId,
};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};

use crate::records::{self, USER_COLUMNS};
use crate::rows::RowExt;
use crate::{OpenError, StoreOptions};

mod bulk;
mod errors;

use errors::{db_err, on_unique};

/// A [`Store`] on a PostgreSQL database, with an optional read replica for the API's listings.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Where `list_sends`, `page_version` and `send` read: the replica's pool, or `pool`.
    read_pool: PgPool,
}

impl PgStore {
    /// Connects to a `postgres://` URL and migrates the database.
    pub async fn open(url: &str, options: &StoreOptions) -> Result<PgStore, OpenError> {
        let connect_err = |source| OpenError::Connect {
            url: redact(url),
            source,
        };
        let pool = Self::pool(url, options).await.map_err(connect_err)?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|source| OpenError::Migrate {
                url: redact(url),
                source,
            })?;
        // The replica is a copy of the primary: it is migrated with it, never by us.
        let read_pool = match &options.read_replica_url {
            Some(replica) => {
                Self::pool(replica, options)
                    .await
                    .map_err(|source| OpenError::Connect {
                        url: redact(replica),
                        source,
                    })?
            }
            None => pool.clone(),
        };
        Ok(PgStore { pool, read_pool })
    }

    async fn pool(url: &str, options: &StoreOptions) -> Result<PgPool, sqlx::Error> {
        PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(options.idle_timeout)
            .min_connections(0)
            .connect_with(PgConnectOptions::from_str(url)?)
            .await
    }

    async fn tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        self.pool.begin().await.map_err(db_err)
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

const ORG_COLUMNS: &str = "id, name, time_zone, send_count";
const TOUCH_COLUMNS: &str = "id, org_id, name, type, subtype, currency, price::text, delivery_type, \
                             starts_on::text, ends_on::text, active::int4::int8";

/// The columns of a listed send (see [`records::send`]), joined with its touch, sender and
/// team. Extended with a `WHERE` clause.
macro_rules! send_select {
    () => {
        "SELECT s.id, s.touch_id, t.name, t.type, t.subtype, t.currency, \
                s.recipient_name, s.recipient_email, s.recipient_company, \
                s.sender_id, u.name, u.email, u.team_id, tm.name, \
                s.sent_via, s.cost::text, extract(epoch FROM s.created_at)::int8 \
         FROM sends s \
         JOIN touches t ON t.org_id = s.org_id AND t.id = s.touch_id \
         JOIN users u ON u.org_id = s.org_id AND u.id = s.sender_id \
         LEFT JOIN teams tm ON tm.org_id = u.org_id AND tm.id = u.team_id "
    };
}

async fn org_exists(conn: &mut PgConnection, org: OrgId) -> Result<(), StoreError> {
    sqlx::query("SELECT 1 FROM organizations WHERE id = $1")
        .bind(org.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Organization"))
        .map(|_| ())
}

/// Reads one send with its history; with `lock`, holds the send's row until the transaction ends.
async fn load_send(
    conn: &mut PgConnection,
    org: OrgId,
    id: SendId,
    lock: bool,
) -> Result<SendRecord, StoreError> {
    let sql = if lock {
        concat!(
            send_select!(),
            "WHERE s.org_id = $1 AND s.id = $2 FOR UPDATE OF s"
        )
    } else {
        concat!(send_select!(), "WHERE s.org_id = $1 AND s.id = $2")
    };
    let row = sqlx::query(sql)
        .bind(org.get())
        .bind(id.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Send"))?;
    let mut sends = [records::send(&row)?];
    attach_histories(conn, org, &mut sends).await?;
    let [send] = sends;
    Ok(send)
}

/// Fills the histories of `sends` (ascending by id, all of `org`) with one range read.
async fn attach_histories(
    conn: &mut PgConnection,
    org: OrgId,
    sends: &mut [SendRecord],
) -> Result<(), StoreError> {
    let (Some(first), Some(last)) = (sends.first(), sends.last()) else {
        return Ok(());
    };
    let rows = sqlx::query(
        "SELECT send_id, status, extract(epoch FROM occurred_at)::int8 FROM send_status_updates \
         WHERE org_id = $1 AND send_id BETWEEN $2 AND $3 ORDER BY send_id, seq",
    )
    .bind(org.get())
    .bind(first.id.get())
    .bind(last.id.get())
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    records::attach_histories(sends, &rows)
}

/// The version of a page in one statement: total, catalog version, and the sum of the page's
/// send versions (an index-only range scan of the primary key).
async fn read_page_version(
    conn: &mut PgConnection,
    org: OrgId,
    page: PageRequest,
) -> Result<PageVersion, StoreError> {
    let row = sqlx::query(
        "SELECT o.send_count, o.catalog_version, \
                (SELECT COALESCE(SUM(s.version), 0)::int8 FROM sends s \
                 WHERE s.org_id = o.id AND s.org_seq > $2 AND s.org_seq <= $3) \
         FROM organizations o WHERE o.id = $1",
    )
    .bind(org.get())
    .bind(page.offset() as i64)
    .bind((page.offset() + u64::from(page.per_page())) as i64)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound("Organization"))?;
    Ok(PageVersion {
        total: row.int(0)? as u64,
        catalog: row.int(1)?,
        changes: row.int(2)?,
    })
}

/// Checks that a touch and a user are both the organization's; returns the touch's price.
async fn touch_price_and_sender(
    conn: &mut PgConnection,
    org: OrgId,
    touch: TouchId,
    sender: UserId,
) -> Result<Money, StoreError> {
    let price = sqlx::query("SELECT price::text FROM touches WHERE org_id = $1 AND id = $2")
        .bind(org.get())
        .bind(touch.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Touch"))?;
    sqlx::query("SELECT 1 FROM users WHERE org_id = $1 AND id = $2")
        .bind(org.get())
        .bind(sender.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("User"))?;
    price.parsed(0)
}

/// Reserves `n` consecutive org_seq values and returns the first. The organization's row stays
/// locked until the transaction ends, so its sends are created one transaction at a time.
async fn reserve_seqs(conn: &mut PgConnection, org: OrgId, n: u64) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "UPDATE organizations SET send_count = send_count + $2 WHERE id = $1 RETURNING send_count",
    )
    .bind(org.get())
    .bind(n as i64)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound("Organization"))?;
    Ok(row.int(0)? - n as i64 + 1)
}

#[async_trait]
impl Store for PgStore {
    async fn create_org(&self, new: NewOrg) -> Result<Org, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO organizations (name, time_zone) VALUES ($1, $2) RETURNING {ORG_COLUMNS}"
        )))
        .bind(new.name.as_str())
        .bind(new.time_zone.name())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        records::org(&row)
    }

    async fn org(&self, org: OrgId) -> Result<Org, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM organizations WHERE id = $1"
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
            .fetch_all(&self.pool)
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
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(records::user).collect()
    }

    async fn user_system_wide(&self, user: UserId) -> Result<User, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
        )))
        .bind(user.get())
        .fetch_optional(&self.pool)
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
                                  starts_on, ends_on, active) \
             VALUES ($1, $2, $3, $4, $5, $6::numeric, $7, $8::date, $9::date, $10) \
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
        .fetch_all(&self.pool)
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
        .execute(&self.pool)
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
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(records::principal).transpose()
    }

    async fn create_send(&self, org: OrgId, new: NewSend) -> Result<SendRecord, StoreError> {
        let mut tx = self.tx().await?;
        let price = touch_price_and_sender(&mut tx, org, new.touch, new.sender).await?;
        let seq = reserve_seqs(&mut tx, org, 1).await?;
        // The organization's row is locked: ids taken from the sequence now grow with org_seq.
        let row = sqlx::query(
            "INSERT INTO sends (org_id, org_seq, id, touch_id, sender_id, recipient_name, \
                                recipient_email, recipient_company, sent_via, cost, created_at) \
             VALUES ($1, $2, nextval('send_ids'), $3, $4, $5, $6, $7, $8, $9::numeric, \
                     to_timestamp($10)) RETURNING id",
        )
        .bind(org.get())
        .bind(seq)
        .bind(new.touch.get())
        .bind(new.sender.get())
        .bind(&new.recipient.name)
        .bind(&new.recipient.email)
        .bind(&new.recipient.company_name)
        .bind(&new.sent_via)
        .bind(new.cost.unwrap_or(price).to_string())
        .bind(new.created_at.as_second() as f64)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let send = load_send(&mut tx, org, SendId::new(row.int(0)?), false).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(send)
    }

    async fn send(&self, org: OrgId, id: SendId) -> Result<SendRecord, StoreError> {
        let mut conn = self.read_pool.acquire().await.map_err(db_err)?;
        load_send(&mut conn, org, id, false).await
    }

    async fn send_org_system_wide(&self, id: SendId) -> Result<OrgId, StoreError> {
        let row = sqlx::query("SELECT org_id FROM sends WHERE id = $1")
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
        let mut tx = self.tx().await?;
        let mut send = load_send(&mut tx, org, id, true).await?;
        let transition = lifecycle::plan(
            &SendState {
                kind: send.touch.send_type.kind(),
                created_at: send.created_at,
                cost: send.cost,
                history: &send.history,
            },
            &change,
        )?;
        sqlx::query(
            "INSERT INTO send_status_updates (org_id, send_id, seq, status, occurred_at) \
             VALUES ($1, $2, $3, $4, to_timestamp($5))",
        )
        .bind(org.get())
        .bind(id.get())
        .bind(send.history.len() as i32 + 1)
        .bind(transition.entry.status.as_str())
        .bind(transition.entry.occurred_at.as_second() as f64)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "UPDATE sends SET cost = $3::numeric, version = version + 1 WHERE org_id = $1 AND id = $2",
        )
        .bind(org.get())
        .bind(id.get())
        .bind(transition.cost.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        send.history.push(transition.entry);
        send.cost = transition.cost;
        Ok(send)
    }

    async fn list_sends(&self, org: OrgId, page: PageRequest) -> Result<SendPage, StoreError> {
        let mut tx = self
            .read_pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .map_err(db_err)?;
        let version = read_page_version(&mut tx, org, page).await?;
        let (first, count) = version.range(page);
        let mut sends = Vec::new();
        if count > 0 {
            let rows = sqlx::query(concat!(
                send_select!(),
                "WHERE s.org_id = $1 AND s.org_seq > $2 AND s.org_seq <= $3 ORDER BY s.org_seq"
            ))
            .bind(org.get())
            .bind(first as i64)
            .bind((first + count) as i64)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
            sends = rows
                .iter()
                .map(records::send)
                .collect::<Result<Vec<_>, _>>()?;
            attach_histories(&mut tx, org, &mut sends).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(SendPage { version, sends })
    }

    async fn page_version(&self, org: OrgId, page: PageRequest) -> Result<PageVersion, StoreError> {
        let mut conn = self.read_pool.acquire().await.map_err(db_err)?;
        read_page_version(&mut conn, org, page).await
    }

    async fn bulk_load(&self, org: OrgId, sends: Vec<SeedSend>) -> Result<BulkLoaded, StoreError> {
        let mut tx = self.tx().await?;
        let loaded = bulk::insert(&mut tx, org, &sends).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(loaded)
    }
}
