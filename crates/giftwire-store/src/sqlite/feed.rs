//! Filtered listings, exports and the change feed on SQLite (migration 0010): each finds the
//! positions of its sends along an index, in a read transaction (one snapshot), then reads
//! those sends with [`sends::load_at`].

use async_trait::async_trait;
use giftwire_core::store::{ExportChunk, FilteredPage, SendChange, SendFeedStore};
use giftwire_core::{ChangePosition, OrgId, PageRequest, SendFilter, StoreError};
use sqlx::{QueryBuilder, Sqlite};

use super::errors::db_err;
use super::{SqliteStore, sends};
use crate::rows::RowExt;

/// `WHERE` and the filter's conditions on `sends s`.
fn push_filter(query: &mut QueryBuilder<Sqlite>, org: OrgId, filter: &SendFilter) {
    query.push(" WHERE s.org_id = ").push_bind(org.get());
    if !filter.statuses.is_empty() {
        query.push(" AND s.status IN (");
        let mut list = query.separated(", ");
        for status in &filter.statuses {
            list.push_bind(status.as_str());
        }
        query.push(")");
    }
    if let Some(send_type) = filter.send_type {
        query
            .push(" AND s.touch_id IN (SELECT id FROM touches WHERE org_id = s.org_id AND type = ")
            .push_bind(send_type.as_str())
            .push(")");
    }
    if let Some(touch) = filter.touch {
        query.push(" AND s.touch_id = ").push_bind(touch.get());
    }
    if let Some(sender) = filter.sender {
        query.push(" AND s.sender_id = ").push_bind(sender.get());
    }
    if let Some(after) = filter.created_after_second() {
        query.push(" AND s.created_at > ").push_bind(after);
    }
    if let Some(before) = filter.created_before_second() {
        query.push(" AND s.created_at < ").push_bind(before);
    }
    if let Some(email) = &filter.recipient_email {
        query
            .push(" AND s.recipient_email = ")
            .push_bind(email.clone())
            .push(" COLLATE NOCASE");
    }
}

#[async_trait]
impl SendFeedStore for SqliteStore {
    async fn filtered_sends(
        &self,
        org: OrgId,
        filter: &SendFilter,
        page: PageRequest,
    ) -> Result<FilteredPage, StoreError> {
        let mut tx = self.read_tx().await?;
        let mut count = QueryBuilder::new("SELECT count(*) FROM sends s");
        push_filter(&mut count, org, filter);
        let total = count
            .build()
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?
            .int(0)? as u64;
        let mut sends = Vec::new();
        if page.offset() < total {
            let mut positions = QueryBuilder::new("SELECT s.org_seq FROM sends s");
            push_filter(&mut positions, org, filter);
            positions
                .push(" ORDER BY s.org_seq LIMIT ")
                .push_bind(i64::from(page.per_page()))
                .push(" OFFSET ")
                .push_bind(page.offset() as i64);
            let positions = positions
                .build()
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?
                .iter()
                .map(|row| row.int(0))
                .collect::<Result<Vec<_>, _>>()?;
            sends = sends::load_at(&mut tx, org, &positions).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(FilteredPage { total, sends })
    }

    async fn export_chunk(
        &self,
        org: OrgId,
        filter: &SendFilter,
        after: u64,
        limit: u32,
    ) -> Result<ExportChunk, StoreError> {
        let mut tx = self.read_tx().await?;
        let mut query = QueryBuilder::new("SELECT s.org_seq FROM sends s");
        push_filter(&mut query, org, filter);
        query
            .push(" AND s.org_seq > ")
            .push_bind(after as i64)
            .push(" ORDER BY s.org_seq LIMIT ")
            .push_bind(i64::from(limit));
        let positions = query
            .build()
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?
            .iter()
            .map(|row| row.int(0))
            .collect::<Result<Vec<_>, _>>()?;
        let sends = sends::load_at(&mut tx, org, &positions).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(ExportChunk {
            sends,
            last: positions.last().map(|&p| p as u64),
        })
    }

    /// Epochs are always 0 here: after a position of a later epoch there is nothing.
    async fn send_changes(
        &self,
        org: OrgId,
        after: ChangePosition,
        limit: u32,
    ) -> Result<Vec<SendChange>, StoreError> {
        if after.epoch > 0 {
            return Ok(Vec::new());
        }
        let mut tx = self.read_tx().await?;
        let rows = sqlx::query(
            "SELECT change_seq, org_seq FROM sends \
             WHERE org_id = ?1 AND change_seq > ?2 ORDER BY change_seq LIMIT ?3",
        )
        .bind(org.get())
        .bind(after.seq)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut changed = rows
            .iter()
            .map(|row| Ok((row.int(0)?, row.int(1)?)))
            .collect::<Result<Vec<(i64, i64)>, StoreError>>()?;
        changed.sort_unstable_by_key(|&(_, position)| position);
        let positions: Vec<i64> = changed.iter().map(|&(_, position)| position).collect();
        let sends = sends::load_at(&mut tx, org, &positions).await?;
        tx.commit().await.map_err(db_err)?;
        crate::records::in_change_order(
            changed
                .iter()
                .map(|&(seq, _)| ChangePosition { epoch: 0, seq }),
            sends,
        )
    }
}
