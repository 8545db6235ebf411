//! The events of sends on SQLite (written by the flows, read here).

use async_trait::async_trait;
use giftwire_core::store::{EventStore, SendEvent};
use giftwire_core::{OrgId, SendId, StoreError};

use super::SqliteStore;
use super::errors::db_err;
use crate::records;

#[async_trait]
impl EventStore for SqliteStore {
    async fn send_events(&self, org: OrgId, send: SendId) -> Result<Vec<SendEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, org_id, send_id, seq, type, status, occurred_at FROM send_events \
             WHERE org_id = ?1 AND send_id = ?2 ORDER BY seq",
        )
        .bind(org.get())
        .bind(send.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(records::send_event).collect()
    }
}
