//! Filtered listings, exports and the change feed on SQLite (migration 0010): each finds the
//! positions of its sends along an index, in a read transaction (one snapshot), then reads
//! those sends with [`sends::load_at`].

use async_trait::async_trait;
use giftwire_core::store::{ExportChunk, FilteredPage, SendChange, SendFeedStore};
use giftwire_core::{ChangePosition, OrgId, PageRequest, SendFilter, StoreError, TouchId};
use sqlx::{QueryBuilder, Sqlite};

use super::errors::db_err;
use super::{SqliteStore, sends};
use crate::feed::{self, Window};
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

/// The touches of a type, when the filter names one.
async fn type_touches(
    conn: &mut sqlx::sqlite::SqliteConnection,
    org: OrgId,
    filter: &SendFilter,
) -> Result<Option<Vec<TouchId>>, StoreError> {
    let Some(send_type) = filter.send_type else {
        return Ok(None);
    };
    let rows = sqlx::query("SELECT id FROM touches WHERE org_id = ?1 AND type = ?2 ORDER BY id")
        .bind(org.get())
        .bind(send_type.as_str())
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    rows.iter()
        .map(|row| Ok(TouchId::new(row.int(0)?)))
        .collect::<Result<Vec<_>, StoreError>>()
        .map(Some)
}

/// The positions of one filter's sends after `after`, ascending, `limit` of them after the
/// first `offset`: an ordered index range, read only as deep as that.
fn push_arm(
    query: &mut QueryBuilder<Sqlite>,
    org: OrgId,
    filter: &SendFilter,
    after: Option<u64>,
    (offset, limit): (u64, u64),
) {
    query.push("SELECT s.org_seq FROM sends s");
    push_filter(query, org, filter);
    if let Some(after) = after {
        query.push(" AND s.org_seq > ").push_bind(after as i64);
    }
    query
        .push(" ORDER BY ")
        .push(order_key(filter))
        .push(" LIMIT ")
        .push_bind(limit as i64)
        .push(" OFFSET ")
        .push_bind(offset as i64);
}

/// The order of an arm's sends, `org_seq` after the filter's leading equality when it has one:
/// the same order (that column is constant among them), spelled as the filter's index is, so
/// that the planner walks that index rather than the organization's sends in `org_seq` order
/// looking for matches (which it would otherwise pick for a LIMIT, assuming the matches spread
/// evenly: recent sends are `Sent`, old ones are not).
const EMAIL_ORDER: &str = "s.recipient_email COLLATE NOCASE, s.org_seq";

fn order_key(filter: &SendFilter) -> &'static str {
    if filter.statuses.len() == 1 {
        "s.status, s.org_seq"
    } else if filter.touch.is_some() {
        "s.touch_id, s.org_seq"
    } else if filter.sender.is_some() {
        "s.sender_id, s.org_seq"
    } else if filter.recipient_email.is_some() {
        EMAIL_ORDER
    } else {
        "s.org_seq"
    }
}

/// The positions (`org_seq`, ascending) of the filter's sends in the window: one query, or the
/// merge of its arms, each read only as deep as the window reaches (see [`crate::feed`]).
async fn positions(
    conn: &mut sqlx::sqlite::SqliteConnection,
    org: OrgId,
    filter: &SendFilter,
    touches: Option<&[TouchId]>,
    window: Window,
) -> Result<Vec<i64>, StoreError> {
    let (after, offset, limit) = match window {
        Window::Page { offset, limit } => (None, offset, u64::from(limit)),
        Window::After { after, limit } => (Some(after), 0, u64::from(limit)),
    };
    let mut query = QueryBuilder::new("");
    match feed::plan(filter, touches) {
        feed::Plan::Whole => push_arm(&mut query, org, filter, after, (offset, limit)),
        feed::Plan::Arms(arms) => match arms.as_slice() {
            [] => return Ok(Vec::new()),
            [arm] => push_arm(&mut query, org, arm, after, (offset, limit)),
            arms => {
                for (i, arm) in arms.iter().enumerate() {
                    query.push(if i == 0 { "" } else { " UNION ALL " });
                    query.push("SELECT org_seq FROM (");
                    push_arm(&mut query, org, arm, after, (0, window.depth()));
                    query.push(format!(") a{i}"));
                }
                query
                    .push(" ORDER BY org_seq LIMIT ")
                    .push_bind(limit as i64)
                    .push(" OFFSET ")
                    .push_bind(offset as i64);
            }
        },
    }
    query
        .build()
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| row.int(0))
        .collect()
}

/// The exact number of sends the filter holds: the sum of the per-touch, per-status totals
/// (migration 0011) when it is made of statuses, a touch and a type only; otherwise a count
/// along an index, a type's touches resolved first (never a subquery per send).
async fn total(
    conn: &mut sqlx::sqlite::SqliteConnection,
    org: OrgId,
    filter: &SendFilter,
    touches: Option<&[TouchId]>,
) -> Result<u64, StoreError> {
    let touches: Option<Vec<i64>> = match (touches, filter.touch) {
        (Some(of_type), only) => Some(
            of_type
                .iter()
                .map(|t| t.get())
                .filter(|t| only.is_none_or(|o| o.get() == *t))
                .collect(),
        ),
        (None, Some(touch)) => Some(vec![touch.get()]),
        (None, None) => None,
    };
    let summed = filter.sender.is_none()
        && filter.created_after.is_none()
        && filter.created_before.is_none()
        && filter.recipient_email.is_none();
    let mut query = if summed {
        let mut query = QueryBuilder::new(
            "SELECT COALESCE(SUM(s.n), 0) FROM send_status_counts s WHERE s.org_id = ",
        );
        query.push_bind(org.get());
        if !filter.statuses.is_empty() {
            query.push(" AND s.status IN (");
            let mut list = query.separated(", ");
            for status in &filter.statuses {
                list.push_bind(status.as_str());
            }
            query.push(")");
        }
        query
    } else {
        let untyped = SendFilter {
            send_type: None,
            touch: None,
            ..filter.clone()
        };
        let mut query = QueryBuilder::new("SELECT count(*) FROM sends s");
        push_filter(&mut query, org, &untyped);
        query
    };
    if let Some(touches) = touches {
        if touches.is_empty() {
            return Ok(0);
        }
        query.push(" AND s.touch_id IN (");
        let mut list = query.separated(", ");
        for touch in touches {
            list.push_bind(touch);
        }
        query.push(")");
    }
    Ok(query
        .build()
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)?
        .int(0)? as u64)
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
        // A type's touches, read once for the count and the page.
        let touches = type_touches(&mut tx, org, filter).await?;
        let total = total(&mut tx, org, filter, touches.as_deref()).await?;
        let mut sends = Vec::new();
        if page.offset() < total {
            let window = Window::Page {
                offset: page.offset(),
                limit: page.per_page(),
            };
            let positions = positions(&mut tx, org, filter, touches.as_deref(), window).await?;
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
        let touches = type_touches(&mut tx, org, filter).await?;
        let window = Window::After { after, limit };
        let positions = positions(&mut tx, org, filter, touches.as_deref(), window).await?;
        let sends = sends::load_at(&mut tx, org, &positions).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(ExportChunk {
            sends,
            last: positions.last().map(|&p| p as u64),
        })
    }

    async fn send_changes(
        &self,
        org: OrgId,
        after: ChangePosition,
        limit: u32,
    ) -> Result<Vec<SendChange>, StoreError> {
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
            changed.iter().map(|&(seq, _)| ChangePosition { seq }),
            sends,
        )
    }
}
