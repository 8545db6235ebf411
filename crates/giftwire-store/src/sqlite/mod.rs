//! The SQLite store: one file, WAL mode, a small pool of connections. Writes take the write
//! lock up front (`BEGIN IMMEDIATE`) so that a transaction that reads then writes never fails
//! half-way on a lock upgrade; reads run in deferred transactions, which are snapshots in WAL.

use std::str::FromStr;

use async_trait::async_trait;
use giftwire_core::lifecycle::{self, SendState, StatusChange, StatusEntry};
use giftwire_core::store::{
    BulkLoaded, NewOrg, NewSend, NewToken, NewTouch, NewUser, Org, Principal, Recipient, SeedSend,
    SendPage, SendRecord, SenderRef, Team, TokenInfo, Touch, TouchRef, User,
};
use giftwire_core::{
    Currency, InvalidValue, Money, OrgId, OrgTimeZone, PageRequest, Scopes, SendId, SendStatus,
    SendType, Store, StoreError, Subtype, TeamId, TokenHash, TokenId, TouchId, UserId,
};
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::AssertSqlSafe;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};

use crate::{OpenError, StoreOptions};

mod bulk;
mod rows;

use rows::{col, db_err, parse_col, time_col};

/// A [`Store`] on an SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
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
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout)
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(options.idle_timeout)
            .min_connections(0)
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
        Ok(SqliteStore { pool })
    }

    /// Closes every connection, waiting for the ones in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err)
    }

    async fn read_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        self.pool.begin().await.map_err(db_err)
    }
}

fn now_secs() -> i64 {
    Timestamp::now().as_second()
}

fn org_from_row(row: &SqliteRow) -> Result<Org, StoreError> {
    let tz: String = col(row, 2)?;
    Ok(Org {
        id: OrgId::new(col(row, 0)?),
        name: col(row, 1)?,
        time_zone: OrgTimeZone::parse(&tz).map_err(rows::corrupt)?,
        send_count: col::<i64>(row, 3)? as u64,
    })
}

fn user_from_row(row: &SqliteRow) -> Result<User, StoreError> {
    Ok(User {
        id: UserId::new(col(row, 0)?),
        org_id: OrgId::new(col(row, 1)?),
        team_id: col::<Option<i64>>(row, 2)?.map(TeamId::new),
        name: col(row, 3)?,
        email: col(row, 4)?,
        role: parse_col(row, 5)?,
    })
}

fn date_col(row: &SqliteRow, idx: usize) -> Result<Option<Date>, StoreError> {
    col::<Option<String>>(row, idx)?
        .map(|s| {
            s.parse::<Date>()
                .map_err(|_| rows::corrupt(InvalidValue::new("date", &s)))
        })
        .transpose()
}

fn touch_from_row(row: &SqliteRow) -> Result<Touch, StoreError> {
    Ok(Touch {
        id: TouchId::new(col(row, 0)?),
        org_id: OrgId::new(col(row, 1)?),
        name: col(row, 2)?,
        send_type: parse_col(row, 3)?,
        subtype: parse_col(row, 4)?,
        currency: parse_col(row, 5)?,
        price: parse_col(row, 6)?,
        delivery_type: parse_col(row, 7)?,
        starts_on: date_col(row, 8)?,
        ends_on: date_col(row, 9)?,
        active: col::<i64>(row, 10)? != 0,
    })
}

const USER_COLUMNS: &str = "id, org_id, team_id, name, email, role";
const TOUCH_COLUMNS: &str =
    "id, org_id, name, type, subtype, currency, price, delivery_type, starts_on, ends_on, active";

/// The columns of a listed send, joined with its touch, sender and team. Extended with a
/// `WHERE` clause by [`send_query!`].
macro_rules! send_select {
    () => {
        "SELECT s.id, s.touch_id, t.name, t.type, t.subtype, t.currency, \
                s.recipient_name, s.recipient_email, s.recipient_company, \
                s.sender_id, u.name, u.email, u.team_id, tm.name, \
                s.sent_via, s.cost, s.created_at \
         FROM sends s \
         JOIN touches t ON t.org_id = s.org_id AND t.id = s.touch_id \
         JOIN users u ON u.org_id = s.org_id AND u.id = s.sender_id \
         LEFT JOIN teams tm ON tm.org_id = u.org_id AND tm.id = u.team_id "
    };
}

fn send_from_row(row: &SqliteRow) -> Result<SendRecord, StoreError> {
    let team = match (
        col::<Option<i64>>(row, 12)?,
        col::<Option<String>>(row, 13)?,
    ) {
        (Some(id), Some(name)) => Some((TeamId::new(id), name)),
        _ => None,
    };
    Ok(SendRecord {
        id: SendId::new(col(row, 0)?),
        touch: TouchRef {
            id: TouchId::new(col(row, 1)?),
            name: col(row, 2)?,
            send_type: parse_col::<SendType>(row, 3)?,
            subtype: parse_col::<Subtype>(row, 4)?,
            currency: parse_col::<Currency>(row, 5)?,
        },
        recipient: Recipient {
            name: col(row, 6)?,
            email: col(row, 7)?,
            company_name: col(row, 8)?,
        },
        sender: SenderRef {
            id: UserId::new(col(row, 9)?),
            name: col(row, 10)?,
            email: col(row, 11)?,
            team,
        },
        sent_via: col(row, 14)?,
        cost: parse_col::<Money>(row, 15)?,
        created_at: time_col(row, 16)?,
        history: Vec::new(),
    })
}

/// Reads one send of an organization with its history, inside the caller's transaction.
async fn load_send(
    conn: &mut SqliteConnection,
    org: OrgId,
    id: SendId,
) -> Result<SendRecord, StoreError> {
    let row = sqlx::query(concat!(send_select!(), "WHERE s.org_id = ?1 AND s.id = ?2"))
        .bind(org.get())
        .bind(id.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Send"))?;
    let mut sends = [send_from_row(&row)?];
    attach_histories(conn, org, &mut sends).await?;
    let [send] = sends;
    Ok(send)
}

/// Fills the histories of `sends`, which are ascending by id and all of `org`, with one range
/// read of the status updates between the first and the last id.
async fn attach_histories(
    conn: &mut SqliteConnection,
    org: OrgId,
    sends: &mut [SendRecord],
) -> Result<(), StoreError> {
    let (Some(first), Some(last)) = (sends.first(), sends.last()) else {
        return Ok(());
    };
    let rows = sqlx::query(
        "SELECT send_id, status, occurred_at FROM send_status_updates \
         WHERE org_id = ?1 AND send_id BETWEEN ?2 AND ?3 ORDER BY send_id, seq",
    )
    .bind(org.get())
    .bind(first.id.get())
    .bind(last.id.get())
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    let mut i = 0;
    for row in &rows {
        let send_id: i64 = col(row, 0)?;
        while i < sends.len() && sends[i].id.get() < send_id {
            i += 1;
        }
        match sends.get_mut(i) {
            Some(send) if send.id.get() == send_id => send.history.push(StatusEntry {
                status: parse_col::<SendStatus>(row, 1)?,
                occurred_at: time_col(row, 2)?,
            }),
            // An update of a send of the org that is between two listed ids cannot exist:
            // org_seq and id grow together. Skip it rather than misattribute it.
            _ => {}
        }
    }
    Ok(())
}

/// Checks that a touch and a user are both the organization's; returns the touch's price.
async fn touch_price_and_sender(
    conn: &mut SqliteConnection,
    org: OrgId,
    touch: TouchId,
    sender: UserId,
) -> Result<Money, StoreError> {
    let price = sqlx::query("SELECT price FROM touches WHERE org_id = ?1 AND id = ?2")
        .bind(org.get())
        .bind(touch.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Touch"))?;
    sqlx::query("SELECT 1 FROM users WHERE org_id = ?1 AND id = ?2")
        .bind(org.get())
        .bind(sender.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("User"))?;
    parse_col(&price, 0)
}

/// Reserves `n` consecutive org_seq values: returns the first. Holds the write lock.
async fn reserve_seqs(conn: &mut SqliteConnection, org: OrgId, n: u64) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "UPDATE organizations SET send_count = send_count + ?2 WHERE id = ?1 RETURNING send_count",
    )
    .bind(org.get())
    .bind(n as i64)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound("Organization"))?;
    Ok(col::<i64>(&row, 0)? - n as i64 + 1)
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_org(&self, new: NewOrg) -> Result<Org, StoreError> {
        let row = sqlx::query(
            "INSERT INTO organizations (name, time_zone, created_at) VALUES (?1, ?2, ?3) \
             RETURNING id, name, time_zone, send_count",
        )
        .bind(new.name.as_str())
        .bind(new.time_zone.name())
        .bind(now_secs())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        org_from_row(&row)
    }

    async fn org(&self, org: OrgId) -> Result<Org, StoreError> {
        let row =
            sqlx::query("SELECT id, name, time_zone, send_count FROM organizations WHERE id = ?1")
                .bind(org.get())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?
                .ok_or(StoreError::NotFound("Organization"))?;
        org_from_row(&row)
    }

    async fn all_orgs(&self) -> Result<Vec<Org>, StoreError> {
        let rows =
            sqlx::query("SELECT id, name, time_zone, send_count FROM organizations ORDER BY id")
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        rows.iter().map(org_from_row).collect()
    }

    async fn create_team(&self, org: OrgId, name: giftwire_core::Name) -> Result<Team, StoreError> {
        let mut tx = self.write_tx().await?;
        self.org_exists(&mut tx, org).await?;
        let row = sqlx::query(
            "INSERT INTO teams (org_id, name, created_at) VALUES (?1, ?2, ?3) RETURNING id, org_id, name",
        )
        .bind(org.get())
        .bind(name.as_str())
        .bind(now_secs())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let team = Team {
            id: TeamId::new(col(&row, 0)?),
            org_id: OrgId::new(col(&row, 1)?),
            name: col(&row, 2)?,
        };
        tx.commit().await.map_err(db_err)?;
        Ok(team)
    }

    async fn teams(&self, org: OrgId) -> Result<Vec<Team>, StoreError> {
        let rows = sqlx::query("SELECT id, org_id, name FROM teams WHERE org_id = ?1 ORDER BY id")
            .bind(org.get())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                Ok(Team {
                    id: TeamId::new(col(row, 0)?),
                    org_id: OrgId::new(col(row, 1)?),
                    name: col(row, 2)?,
                })
            })
            .collect()
    }

    async fn create_user(&self, org: OrgId, new: NewUser) -> Result<User, StoreError> {
        let mut tx = self.write_tx().await?;
        self.org_exists(&mut tx, org).await?;
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
        .map_err(|e| {
            rows::on_unique(e, || {
                format!(
                    "a user with email {} already exists in organization {org}",
                    new.email.as_str()
                )
            })
        })?;
        let user = user_from_row(&row)?;
        tx.commit().await.map_err(db_err)?;
        Ok(user)
    }

    async fn users(&self, org: OrgId) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE org_id = ?1 ORDER BY id"
        )))
        .bind(org.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(user_from_row).collect()
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
        user_from_row(&row)
    }

    async fn create_touch(&self, org: OrgId, new: NewTouch) -> Result<Touch, StoreError> {
        let mut tx = self.write_tx().await?;
        self.org_exists(&mut tx, org).await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO touches (org_id, name, type, subtype, currency, price, delivery_type, \
                                  starts_on, ends_on, active, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING {TOUCH_COLUMNS}"
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
        .bind(now_secs())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let touch = touch_from_row(&row)?;
        tx.commit().await.map_err(db_err)?;
        Ok(touch)
    }

    async fn touches(&self, org: OrgId) -> Result<Vec<Touch>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOUCH_COLUMNS} FROM touches WHERE org_id = ?1 ORDER BY id"
        )))
        .bind(org.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(touch_from_row).collect()
    }

    async fn create_token(&self, new: NewToken) -> Result<TokenInfo, StoreError> {
        let mut tx = self.write_tx().await?;
        let org: i64 = sqlx::query("SELECT org_id FROM users WHERE id = ?1")
            .bind(new.user.get())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound("User"))
            .and_then(|row| col(&row, 0))?;
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
        .map_err(|e| rows::on_unique(e, || "a token with that hash already exists".to_owned()))?;
        let info = TokenInfo {
            id: TokenId::new(col(&row, 0)?),
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
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE token_hash = ?1",
        )
        .bind(hash.as_bytes().to_vec())
        .bind(at.as_second())
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
        let Some(row) = sqlx::query(
            "SELECT k.id, k.user_id, k.org_id, k.scopes, o.time_zone \
             FROM api_tokens k JOIN organizations o ON o.id = k.org_id \
             WHERE k.token_hash = ?1 AND k.revoked_at IS NULL \
               AND (k.expires_at IS NULL OR k.expires_at > ?2)",
        )
        .bind(hash.as_bytes().to_vec())
        .bind(now.as_second())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        else {
            return Ok(None);
        };
        let scopes: String = col(&row, 3)?;
        let tz: String = col(&row, 4)?;
        Ok(Some(Principal {
            token_id: TokenId::new(col(&row, 0)?),
            user_id: UserId::new(col(&row, 1)?),
            org_id: OrgId::new(col(&row, 2)?),
            scopes: Scopes::parse(&scopes).map_err(rows::corrupt)?,
            time_zone: OrgTimeZone::parse(&tz).map_err(rows::corrupt)?,
        }))
    }

    async fn create_send(&self, org: OrgId, new: NewSend) -> Result<SendRecord, StoreError> {
        let mut tx = self.write_tx().await?;
        let price = touch_price_and_sender(&mut tx, org, new.touch, new.sender).await?;
        let seq = reserve_seqs(&mut tx, org, 1).await?;
        let row = sqlx::query(
            "INSERT INTO sends (org_id, org_seq, touch_id, sender_id, recipient_name, \
                                recipient_email, recipient_company, sent_via, cost, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
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
        .bind(new.created_at.as_second())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let id = SendId::new(col(&row, 0)?);
        let send = load_send(&mut tx, org, id).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(send)
    }

    async fn send(&self, org: OrgId, id: SendId) -> Result<SendRecord, StoreError> {
        let mut tx = self.read_tx().await?;
        let send = load_send(&mut tx, org, id).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(send)
    }

    async fn send_org_system_wide(&self, id: SendId) -> Result<OrgId, StoreError> {
        sqlx::query("SELECT org_id FROM sends WHERE id = ?1")
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound("Send"))
            .and_then(|row| Ok(OrgId::new(col(&row, 0)?)))
    }

    async fn change_status(
        &self,
        org: OrgId,
        id: SendId,
        change: StatusChange,
    ) -> Result<SendRecord, StoreError> {
        let mut tx = self.write_tx().await?;
        let mut send = load_send(&mut tx, org, id).await?;
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
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(org.get())
        .bind(id.get())
        .bind(send.history.len() as i64 + 1)
        .bind(transition.entry.status.as_str())
        .bind(transition.entry.occurred_at.as_second())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if transition.cost != send.cost {
            sqlx::query("UPDATE sends SET cost = ?3 WHERE org_id = ?1 AND id = ?2")
                .bind(org.get())
                .bind(id.get())
                .bind(transition.cost.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        send.history.push(transition.entry);
        send.cost = transition.cost;
        Ok(send)
    }

    async fn list_sends(&self, org: OrgId, page: PageRequest) -> Result<SendPage, StoreError> {
        let mut tx = self.read_tx().await?;
        let total: i64 = sqlx::query("SELECT send_count FROM organizations WHERE id = ?1")
            .bind(org.get())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound("Organization"))
            .and_then(|row| col(&row, 0))?;
        let total = total as u64;
        let first = page.offset();
        let last = (first + u64::from(page.per_page())).min(total);
        let mut sends = Vec::new();
        if first < total {
            let rows = sqlx::query(concat!(
                send_select!(),
                "WHERE s.org_id = ?1 AND s.org_seq > ?2 AND s.org_seq <= ?3 ORDER BY s.org_seq"
            ))
            .bind(org.get())
            .bind(first as i64)
            .bind(last as i64)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
            sends = rows
                .iter()
                .map(send_from_row)
                .collect::<Result<Vec<_>, _>>()?;
            attach_histories(&mut tx, org, &mut sends).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(SendPage { total, sends })
    }

    async fn bulk_load(&self, org: OrgId, sends: Vec<SeedSend>) -> Result<BulkLoaded, StoreError> {
        let mut tx = self.write_tx().await?;
        let loaded = bulk::insert(&mut tx, org, &sends).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(loaded)
    }
}

impl SqliteStore {
    async fn org_exists(&self, conn: &mut SqliteConnection, org: OrgId) -> Result<(), StoreError> {
        sqlx::query("SELECT 1 FROM organizations WHERE id = ?1")
            .bind(org.get())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound("Organization"))
            .map(|_| ())
    }
}
