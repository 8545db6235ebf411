//! Due deadlines and old idempotency keys on SQLite; applying a deadline is a shared flow
//! (`crate::flows`).

use async_trait::async_trait;
use giftwire_core::store::{DeadlineStore, SendRecord};
use giftwire_core::{Deadline, StoreError};
use jiff::Timestamp;
use sqlx::sqlite::SqliteConnection;

use super::SqliteStore;
use super::errors::db_err;
use crate::flows;
use crate::records;

async fn due_deadlines(
    conn: &mut SqliteConnection,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<Deadline>, StoreError> {
    let rows = sqlx::query(
        "SELECT org_id, send_id, kind, due_at FROM send_deadlines WHERE due_at <= ?1 \
         ORDER BY due_at, org_id, send_id LIMIT ?2",
    )
    .bind(now.as_second())
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    rows.iter().map(records::deadline).collect()
}

async fn purge_idempotency_keys(
    conn: &mut SqliteConnection,
    before: Timestamp,
) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < ?1")
        .bind(before.as_second())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(done.rows_affected())
}

#[async_trait]
impl DeadlineStore for SqliteStore {
    async fn due_deadlines(&self, now: Timestamp, limit: u32) -> Result<Vec<Deadline>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        due_deadlines(&mut conn, now, limit).await
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
            .write(move |tx| Box::pin(purge_idempotency_keys(tx, before)))
            .await
    }
}
