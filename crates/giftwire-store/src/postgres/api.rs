//! Single statements of sends over HTTP on PostgreSQL: finding a send by its tracking code, due
//! deadlines, forgetting idempotency keys, and the outbox. The multi-step operations are in
//! `crate::flows`.

use giftwire_core::store::{Mail, RecipientSend};
use giftwire_core::{Deadline, OrgId, OrgTimeZone, SendId, StoreError, TrackingCode};
use jiff::Timestamp;
use sqlx::postgres::PgConnection;

use super::errors::db_err;
use super::sends::{load_delivery, load_send};
use crate::records;
use crate::rows::{RowExt, corrupt};

const MAIL_COLUMNS: &str = "id, org_id, send_id, kind, recipient, subject, text_body, html_body, \
                            extract(epoch FROM created_at)::int8, attempts::int8, \
                            extract(epoch FROM sent_at)::int8, extract(epoch FROM failed_at)::int8, last_error";

pub(super) async fn recipient_send(
    conn: &mut PgConnection,
    code: &TrackingCode,
) -> Result<RecipientSend, StoreError> {
    let row = sqlx::query(
        "SELECT d.org_id, d.send_id, o.name, o.time_zone FROM send_deliveries d \
         JOIN organizations o ON o.id = d.org_id WHERE d.tracking_code = $1",
    )
    .bind(code.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound("Send"))?;
    let org = OrgId::new(row.int(0)?);
    let id = SendId::new(row.int(1)?);
    let send = load_send(conn, org, id, false).await?;
    let delivery = load_delivery(conn, org, id)
        .await?
        .ok_or(StoreError::NotFound("Send"))?;
    Ok(RecipientSend {
        org_id: org,
        org_name: row.text(2)?,
        time_zone: OrgTimeZone::parse(&row.text(3)?).map_err(corrupt)?,
        send,
        delivery,
    })
}

pub(super) async fn due_deadlines(
    conn: &mut PgConnection,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<Deadline>, StoreError> {
    let rows = sqlx::query(
        "SELECT org_id, send_id, kind, extract(epoch FROM due_at)::int8 FROM send_deadlines \
         WHERE due_at <= to_timestamp($1) ORDER BY due_at, org_id, send_id LIMIT $2",
    )
    .bind(now.as_second() as f64)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    rows.iter().map(records::deadline).collect()
}

pub(super) async fn purge_idempotency_keys(
    conn: &mut PgConnection,
    before: Timestamp,
) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < to_timestamp($1)")
        .bind(before.as_second() as f64)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(done.rows_affected())
}

pub(super) async fn due_mail(
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

pub(super) async fn mail_delivered(
    conn: &mut PgConnection,
    org: OrgId,
    id: i64,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET sent_at = to_timestamp($3), attempts = attempts + 1, last_error = NULL \
         WHERE org_id = $1 AND id = $2",
    )
    .bind(org.get())
    .bind(id)
    .bind(at.as_second() as f64)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(super) async fn mail_failed(
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
             failed_at = CASE WHEN $4::float8 IS NULL THEN to_timestamp($5) ELSE NULL END \
         WHERE org_id = $1 AND id = $2",
    )
    .bind(org.get())
    .bind(id)
    .bind(error)
    .bind(retry_at.map(|t| t.as_second() as f64))
    .bind(at.as_second() as f64)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(super) async fn outbox(
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
