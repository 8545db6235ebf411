//! The outbox on SQLite: due mail and the outcome of each delivery attempt.

use async_trait::async_trait;
use giftwire_core::store::{Mail, OutboxStore};
use giftwire_core::{OrgId, StoreError};
use jiff::Timestamp;
use sqlx::sqlite::SqliteConnection;

use super::SqliteStore;
use super::errors::db_err;
use crate::records;

const MAIL_COLUMNS: &str = "id, org_id, send_id, kind, recipient, subject, text_body, html_body, \
                            created_at, attempts, sent_at, failed_at, last_error";

async fn due_mail(
    conn: &mut SqliteConnection,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<Mail>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {MAIL_COLUMNS} FROM outbox \
         WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?1 \
         ORDER BY next_attempt_at, id LIMIT ?2"
    )))
    .bind(now.as_second())
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    rows.iter().map(records::mail).collect()
}

async fn mail_delivered(
    conn: &mut SqliteConnection,
    org: OrgId,
    id: i64,
    at: Timestamp,
) -> Result<(), StoreError> {
    // An invitation's link is its only credential: once the mail is out, it is not kept.
    sqlx::query(
        "UPDATE outbox SET sent_at = ?3, attempts = attempts + 1, last_error = NULL, \
             text_body = CASE WHEN kind = 'invitation' THEN ?4 ELSE text_body END \
         WHERE org_id = ?1 AND id = ?2",
    )
    .bind(org.get())
    .bind(id)
    .bind(at.as_second())
    .bind(crate::records::SPENT_INVITATION)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn mail_failed(
    conn: &mut SqliteConnection,
    org: OrgId,
    id: i64,
    at: Timestamp,
    error: &str,
    retry_at: Option<Timestamp>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?3, \
             next_attempt_at = COALESCE(?4, next_attempt_at), \
             failed_at = CASE WHEN ?4 IS NULL THEN ?5 ELSE NULL END, \
             text_body = CASE WHEN ?4 IS NULL AND kind = 'invitation' THEN ?6 ELSE text_body END \
         WHERE org_id = ?1 AND id = ?2",
    )
    .bind(org.get())
    .bind(id)
    .bind(error)
    .bind(retry_at.map(|t| t.as_second()))
    .bind(at.as_second())
    .bind(crate::records::SPENT_INVITATION)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn outbox(
    conn: &mut SqliteConnection,
    org: Option<OrgId>,
    limit: u32,
) -> Result<Vec<Mail>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {MAIL_COLUMNS} FROM outbox WHERE ?1 IS NULL OR org_id = ?1 ORDER BY id DESC LIMIT ?2"
    )))
    .bind(org.map(OrgId::get))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    rows.iter().map(records::mail).collect()
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn due_mail(&self, now: Timestamp, limit: u32) -> Result<Vec<Mail>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        due_mail(&mut conn, now, limit).await
    }

    async fn mail_delivered(&self, org: OrgId, id: i64, at: Timestamp) -> Result<(), StoreError> {
        self.writer
            .write(move |tx| Box::pin(mail_delivered(tx, org, id, at)))
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
                Box::pin(async move { mail_failed(tx, org, id, at, &error, retry_at).await })
            })
            .await
    }

    async fn outbox(&self, org: Option<OrgId>, limit: u32) -> Result<Vec<Mail>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        outbox(&mut conn, org, limit).await
    }
}
