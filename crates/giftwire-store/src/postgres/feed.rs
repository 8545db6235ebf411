//! Filtered listings, exports and the change feed on PostgreSQL (migration 0010): each finds
//! the positions of its sends along an index, in a repeatable-read transaction (one snapshot),
//! then reads those sends with [`sends::load_at`].

use async_trait::async_trait;
use giftwire_core::store::{ExportChunk, FilteredPage, SendChange, SendFeedStore};
use giftwire_core::{ChangePosition, OrgId, PageRequest, SendFilter, StoreError};
use sqlx::{Postgres, QueryBuilder};

use super::errors::db_err;
use super::{PgStore, sends};
use crate::rows::RowExt;

/// `WHERE` and the filter's conditions on `sends s`.
fn push_filter(query: &mut QueryBuilder<Postgres>, org: OrgId, filter: &SendFilter) {
    query.push(" WHERE s.org_id = ").push_bind(org.get());
    if !filter.statuses.is_empty() {
        let statuses: Vec<String> = filter
            .statuses
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        query
            .push(" AND s.status = ANY(")
            .push_bind(statuses)
            .push(")");
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
        query
            .push(" AND s.created_at > to_timestamp(")
            .push_bind(after as f64)
            .push(")");
    }
    if let Some(before) = filter.created_before_second() {
        query
            .push(" AND s.created_at < to_timestamp(")
            .push_bind(before as f64)
            .push(")");
    }
    if let Some(email) = &filter.recipient_email {
        // ASCII case only, as on SQLite: lower() of the ASCII-lowered value is the same.
        query
            .push(" AND lower(s.recipient_email) = lower(")
            .push_bind(email.to_ascii_lowercase())
            .push(")");
    }
}

#[async_trait]
impl SendFeedStore for PgStore {
    async fn filtered_sends(
        &self,
        org: OrgId,
        filter: &SendFilter,
        page: PageRequest,
    ) -> Result<FilteredPage, StoreError> {
        let mut tx = self.read_snapshot().await?;
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
        let mut tx = self.read_snapshot().await?;
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

    /// Only changes of transactions below the snapshot's xmin (all finished) are answered: a
    /// transaction still running, or not begun, has an id at or above it, so every change a
    /// later call can find is above every change answered here. A send whose last visible
    /// change is not yet answerable is left out whole (its row holds only its last change), so
    /// the state answered is always the one at the position answered.
    async fn send_changes(
        &self,
        org: OrgId,
        after: ChangePosition,
        limit: u32,
    ) -> Result<Vec<SendChange>, StoreError> {
        let mut tx = self.read_snapshot().await?;
        let rows = sqlx::query(
            "SELECT s.change_xid::text::int8, s.change_seq, s.org_seq FROM sends s \
             WHERE s.org_id = $1 \
               AND (s.change_xid, s.change_seq) > ($2::int8::text::xid8, $3) \
               AND s.change_xid < pg_snapshot_xmin(pg_current_snapshot()) \
             ORDER BY s.change_xid, s.change_seq LIMIT $4",
        )
        .bind(org.get())
        .bind(after.epoch)
        .bind(after.seq)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut changed = rows
            .iter()
            .map(|row| {
                Ok((
                    ChangePosition {
                        epoch: row.int(0)?,
                        seq: row.int(1)?,
                    },
                    row.int(2)?,
                ))
            })
            .collect::<Result<Vec<(ChangePosition, i64)>, StoreError>>()?;
        changed.sort_unstable_by_key(|&(_, position)| position);
        let positions: Vec<i64> = changed.iter().map(|&(_, position)| position).collect();
        let sends = sends::load_at(&mut tx, org, &positions).await?;
        tx.commit().await.map_err(db_err)?;
        crate::records::in_change_order(changed.iter().map(|&(at, _)| at), sends)
    }
}
