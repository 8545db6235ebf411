//! The outbox on PostgreSQL: due mail and the outcome of each delivery attempt.

use async_trait::async_trait;
use giftwire_core::store::{Mail, OutboxStore};
use giftwire_core::{OrgId, StoreError};
use jiff::Timestamp;
use sqlx::postgres::PgConnection;

use super::PgStore;
use super::errors::db_err;
use crate::records;

const MAIL_COLUMNS: &str = "id, org_id, send_id, kind, recipient, subject, text_body, html_body, \
                            extract(epoch FROM created_at)::int8, attempts::int8, \
                            extract(epoch FROM sent_at)::int8, extract(epoch FROM failed_at)::int8, last_error";

async fn due_mail(
    conn: &mut PgConnection,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<Mail>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {MAIL_COLUMNS} FROM outbox \
         WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= to_timestamp($1) \
         ORDER BY next_attempt_at, id LIMIT $2"
    )))
    .bind(now.as_second() as f64)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    rows.iter().map(records::mail).collect()
}

async fn mail_delivered(
    conn: &mut PgConnection,
    org: OrgId,
    id: i64,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET sent_at = to_timestamp($3), attempts = attempts + 1, last_error = NULL, \
             text_body = CASE WHEN kind = 'invitation' THEN $4 ELSE text_body END \
         WHERE org_id = $1 AND id = $2",
    )
    .bind(org.get())
    .bind(id)
    .bind(at.as_second() as f64)
    .bind(crate::records::SPENT_INVITATION)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn mail_failed(
    conn: &mut PgConnection,
    org: OrgId,
    id: i64,
    at: Timestamp,
    error: &str,
    retry_at: Option<Timestamp>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $3, \
             next_attempt_at = COALESCE(to_timestamp($4), next_attempt_at), \
             failed_at = CASE WHEN $4::float8 IS NULL THEN to_timestamp($5) ELSE NULL END, \
             text_body = CASE WHEN $4::float8 IS NULL AND kind = 'invitation' THEN $6 \
                              ELSE text_body END \
         WHERE org_id = $1 AND id = $2",
    )
    .bind(org.get())
    .bind(id)
    .bind(error)
    .bind(retry_at.map(|t| t.as_second() as f64))
    .bind(at.as_second() as f64)
    .bind(crate::records::SPENT_INVITATION)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn outbox(
    conn: &mut PgConnection,
    org: Option<OrgId>,
    limit: u32,
) -> Result<Vec<Mail>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {MAIL_COLUMNS} FROM outbox WHERE $1::int8 IS NULL OR org_id = $1 ORDER BY id DESC LIMIT $2"
    )))
    .bind(org.map(OrgId::get))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    rows.iter().map(records::mail).collect()
}

#[async_trait]
impl OutboxStore for PgStore {
    async fn due_mail(&self, now: Timestamp, limit: u32) -> Result<Vec<Mail>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        due_mail(&mut conn, now, limit).await
    }

    async fn mail_delivered(&self, org: OrgId, id: i64, at: Timestamp) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        mail_delivered(&mut conn, org, id, at).await
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
        mail_failed(&mut conn, org, id, at, error, retry_at).await
    }

    async fn outbox(&self, org: Option<OrgId>, limit: u32) -> Result<Vec<Mail>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        outbox(&mut conn, org, limit).await
    }
}
