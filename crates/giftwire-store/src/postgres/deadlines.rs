//! Due deadlines and old idempotency keys on PostgreSQL; applying a deadline is a shared flow
//! (`crate::flows`).

use async_trait::async_trait;
use giftwire_core::store::{DeadlineStore, SendRecord};
use giftwire_core::{Deadline, StoreError};
use jiff::Timestamp;
use sqlx::postgres::PgConnection;

use super::PgStore;
use super::errors::db_err;
use crate::flows;
use crate::records;

async fn due_deadlines(
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

async fn purge_idempotency_keys(
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

#[async_trait]
impl DeadlineStore for PgStore {
    async fn due_deadlines(&self, now: Timestamp, limit: u32) -> Result<Vec<Deadline>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        due_deadlines(&mut conn, now, limit).await
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
        purge_idempotency_keys(&mut conn, before).await
    }
}
