//! Sends on PostgreSQL, the [`SendStore`] and the SQL its operations share: reading a send with its history,
//! its delivery and its page's version, and creating one at the end of its organization.

use async_trait::async_trait;
use giftwire_core::lifecycle::StatusChange;
use giftwire_core::store::{
    BulkLoaded, Created, IdempotencyClaim, NewSend, PageVersion, RecipientSend, SeedSend,
    SendOrder, SendPage, SendRecord, SendStore,
};
use giftwire_core::{
    Address, Deadline, Delivery, Money, OrgId, OrgTimeZone, PageRequest, SendId, StoreError,
    TouchId, TrackingCode, UserId,
};
use jiff::Timestamp;
use sqlx::postgres::PgConnection;

use super::errors::db_err;
use super::{PgStore, bulk};
use crate::flows;
use crate::records;
use crate::rows::RowExt;
use crate::rows::corrupt;

/// The columns of a listed send (see [`records::send`]), joined with its touch, sender and
/// team. Extended with a `WHERE` clause.
macro_rules! send_columns {
    () => {
        "SELECT s.id, s.touch_id, t.name, t.type, t.subtype, t.currency, \
                s.recipient_name, s.recipient_email, s.recipient_company, \
                s.sender_id, u.name, u.email, u.team_id, tm.name, \
                s.sent_via, s.cost::text, extract(epoch FROM s.created_at)::int8 "
    };
}

macro_rules! send_from {
    () => {
        "FROM sends s \
         JOIN touches t ON t.org_id = s.org_id AND t.id = s.touch_id \
         JOIN users u ON u.org_id = s.org_id AND u.id = s.sender_id \
         LEFT JOIN teams tm ON tm.org_id = u.org_id AND tm.id = u.team_id "
    };
}

macro_rules! send_select {
    () => {
        concat!(send_columns!(), send_from!())
    };
}

pub(super) async fn org_exists(conn: &mut PgConnection, org: OrgId) -> Result<(), StoreError> {
    sqlx::query("SELECT 1 FROM organizations WHERE id = $1")
        .bind(org.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Organization"))
        .map(|_| ())
}

/// Reads one send with its history; with `lock`, holds the send's row until the transaction ends.
pub(super) async fn load_send(
    conn: &mut PgConnection,
    org: OrgId,
    id: SendId,
    lock: bool,
) -> Result<SendRecord, StoreError> {
    let mut sends = [load_row(conn, org, id, lock).await?];
    attach_histories(conn, org, &mut sends).await?;
    let [send] = sends;
    Ok(send)
}

/// Reads a send just created in this transaction: it has no history yet.
pub(super) async fn load_new_send(
    conn: &mut PgConnection,
    org: OrgId,
    id: SendId,
) -> Result<SendRecord, StoreError> {
    load_row(conn, org, id, false).await
}

/// A send without its history.
async fn load_row(
    conn: &mut PgConnection,
    org: OrgId,
    id: SendId,
    lock: bool,
) -> Result<SendRecord, StoreError> {
    let sql = if lock {
        concat!(
            send_select!(),
            "WHERE s.org_id = $1 AND s.id = $2 FOR UPDATE OF s"
        )
    } else {
        concat!(send_select!(), "WHERE s.org_id = $1 AND s.id = $2")
    };
    let row = sqlx::query(sql)
        .bind(org.get())
        .bind(id.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Send"))?;
    records::send(&row)
}

/// Fills the histories of `sends` (ascending by id, all of `org`) with one range read.
pub(super) async fn attach_histories(
    conn: &mut PgConnection,
    org: OrgId,
    sends: &mut [SendRecord],
) -> Result<(), StoreError> {
    let (Some(first), Some(last)) = (sends.first(), sends.last()) else {
        return Ok(());
    };
    let rows = sqlx::query(
        "SELECT send_id, status, extract(epoch FROM occurred_at)::int8 FROM send_status_updates \
         WHERE org_id = $1 AND send_id BETWEEN $2 AND $3 ORDER BY send_id, seq",
    )
    .bind(org.get())
    .bind(first.id.get())
    .bind(last.id.get())
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    records::attach_histories(sends, &rows)
}

/// The delivery of a send made through the API, if it was.
pub(super) async fn load_delivery(
    conn: &mut PgConnection,
    org: OrgId,
    id: SendId,
) -> Result<Option<Delivery>, StoreError> {
    let row = sqlx::query(
        "SELECT tracking_code, variant, custom_message, address, city, state, zip, country, \
                mobile_no, address_confirmation_via, expire_after_days::int8, \
                resume_with_unconfirmed_address::int4::int8, hide_product_info::int4::int8, \
                address_confirmation_custom_message \
         FROM send_deliveries WHERE org_id = $1 AND send_id = $2",
    )
    .bind(org.get())
    .bind(id.get())
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?;
    row.map(|r| records::delivery(&r, 0)).transpose()
}

/// The version of a page in one statement: total, catalog version, and the sum of the page's
/// send versions (an index-only range scan of the primary key).
pub(super) async fn read_page_version(
    conn: &mut PgConnection,
    org: OrgId,
    page: PageRequest,
) -> Result<PageVersion, StoreError> {
    let row = sqlx::query(
        "SELECT o.send_count, o.catalog_version, \
                (SELECT COALESCE(SUM(s.version), 0)::int8 FROM sends s \
                 WHERE s.org_id = o.id AND s.org_seq > $2 AND s.org_seq <= $3) \
         FROM organizations o WHERE o.id = $1",
    )
    .bind(org.get())
    .bind(page.offset() as i64)
    .bind((page.offset() + u64::from(page.per_page())) as i64)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound("Organization"))?;
    Ok(PageVersion {
        total: row.int(0)? as u64,
        catalog: row.int(1)?,
        changes: row.int(2)?,
    })
}

/// Checks, in one query, that a touch and a user are both the organization's; returns the
/// touch's price.
async fn touch_price_and_sender(
    conn: &mut PgConnection,
    org: OrgId,
    touch: TouchId,
    sender: UserId,
) -> Result<Money, StoreError> {
    let row = sqlx::query(
        "SELECT (SELECT price::text FROM touches WHERE org_id = $1 AND id = $2), \
                (SELECT 1::int8 FROM users WHERE org_id = $1 AND id = $3)",
    )
    .bind(org.get())
    .bind(touch.get())
    .bind(sender.get())
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    let price = row.opt_text(0)?.ok_or(StoreError::NotFound("Touch"))?;
    if row.opt_int(1)?.is_none() {
        return Err(StoreError::NotFound("User"));
    }
    price.parse().map_err(crate::rows::corrupt)
}

/// Reserves `n` consecutive org_seq values and returns the first. The organization's row stays
/// locked until the transaction ends, so its sends are created one transaction at a time.
pub(super) async fn reserve_seqs(
    conn: &mut PgConnection,
    org: OrgId,
    n: u64,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "UPDATE organizations SET send_count = send_count + $2 WHERE id = $1 RETURNING send_count",
    )
    .bind(org.get())
    .bind(n as i64)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound("Organization"))?;
    Ok(row.int(0)? - n as i64 + 1)
}

/// Inserts a pending send at the end of its organization.
pub(super) async fn insert_send(
    conn: &mut PgConnection,
    org: OrgId,
    new: &NewSend,
) -> Result<SendId, StoreError> {
    let price = touch_price_and_sender(conn, org, new.touch, new.sender).await?;
    let seq = reserve_seqs(conn, org, 1).await?;
    // The organization's row is locked: ids taken from the sequence now grow with org_seq.
    let row = sqlx::query(
        "INSERT INTO sends (org_id, org_seq, id, touch_id, sender_id, recipient_name, \
                            recipient_email, recipient_company, sent_via, cost, created_at) \
         VALUES ($1, $2, nextval('send_ids'), $3, $4, $5, $6, $7, $8, $9::numeric, \
                 to_timestamp($10)) RETURNING id",
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
    .bind(new.created_at.as_second() as f64)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    count_new(conn, org, new.touch, giftwire_core::SendStatus::Pending, 1).await?;
    Ok(SendId::new(row.int(0)?))
}

/// Adds `n` sends of `touch` in `status` to the organization's counts (migration 0011).
pub(super) async fn count_new(
    conn: &mut PgConnection,
    org: OrgId,
    touch: TouchId,
    status: giftwire_core::SendStatus,
    n: u64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO send_status_counts (org_id, touch_id, status, n) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id, touch_id, status) DO UPDATE SET n = send_status_counts.n + excluded.n",
    )
    .bind(org.get())
    .bind(touch.get())
    .bind(status.as_str())
    .bind(n as i64)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(super) async fn insert_deadline(
    conn: &mut PgConnection,
    deadline: &Deadline,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO send_deadlines (org_id, send_id, kind, due_at) VALUES ($1, $2, $3, to_timestamp($4)) \
         ON CONFLICT (org_id, send_id, kind) DO UPDATE SET due_at = excluded.due_at",
    )
    .bind(deadline.org.get())
    .bind(deadline.send.get())
    .bind(deadline.kind.as_str())
    .bind(deadline.due_at.as_second() as f64)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// The organization's eGift expiry, in days.
pub(super) async fn expiry_days(conn: &mut PgConnection, org: OrgId) -> Result<u32, StoreError> {
    let row = sqlx::query("SELECT egift_expiry_days FROM organizations WHERE id = $1")
        .bind(org.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Organization"))?;
    Ok(row.int(0)? as u32)
}

/// The sends at positions `(first, last]` of an organization, each with its history aggregated
/// in the same statement (one index range for the sends, one index lookup per send).
pub(super) async fn load_page(
    conn: &mut PgConnection,
    org: OrgId,
    first: u64,
    last: u64,
) -> Result<Vec<SendRecord>, StoreError> {
    let rows = sqlx::query(concat!(
        send_columns!(),
        ", h.statuses, h.times ",
        send_from!(),
        "LEFT JOIN LATERAL ( \
             SELECT array_agg(x.status ORDER BY x.seq) AS statuses, \
                    array_agg(extract(epoch FROM x.occurred_at)::int8 ORDER BY x.seq) AS times \
             FROM send_status_updates x WHERE x.org_id = s.org_id AND x.send_id = s.id) h ON true \
         WHERE s.org_id = $1 AND s.org_seq > $2 AND s.org_seq <= $3 ORDER BY s.org_seq"
    ))
    .bind(org.get())
    .bind(first as i64)
    .bind(last as i64)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    with_histories(&rows)
}

/// The sends of an organization at these positions (`org_seq`, ascending), with their
/// histories, in one statement.
pub(super) async fn load_at(
    conn: &mut PgConnection,
    org: OrgId,
    positions: &[i64],
) -> Result<Vec<SendRecord>, StoreError> {
    let (Some(&first), Some(&last)) = (positions.first(), positions.last()) else {
        return Ok(Vec::new());
    };
    if last - first + 1 == positions.len() as i64 {
        // One run of positions: the page's range read.
        return load_page(conn, org, (first - 1) as u64, last as u64).await;
    }
    let rows = sqlx::query(concat!(
        send_columns!(),
        ", h.statuses, h.times ",
        send_from!(),
        "LEFT JOIN LATERAL ( \
             SELECT array_agg(x.status ORDER BY x.seq) AS statuses, \
                    array_agg(extract(epoch FROM x.occurred_at)::int8 ORDER BY x.seq) AS times \
             FROM send_status_updates x WHERE x.org_id = s.org_id AND x.send_id = s.id) h ON true \
         WHERE s.org_id = $1 AND s.org_seq = ANY($2) ORDER BY s.org_seq"
    ))
    .bind(org.get())
    .bind(positions)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    with_histories(&rows)
}

/// Rows of [`send_columns`] followed by the arrays of their statuses and times, as sends.
fn with_histories(rows: &[sqlx::postgres::PgRow]) -> Result<Vec<SendRecord>, StoreError> {
    rows.iter()
        .map(|row| {
            let mut send = records::send(row)?;
            let statuses: Option<Vec<String>> = sqlx::Row::try_get(row, 17).map_err(db_err)?;
            let times: Option<Vec<i64>> = sqlx::Row::try_get(row, 18).map_err(db_err)?;
            for (status, at) in statuses
                .unwrap_or_default()
                .iter()
                .zip(times.unwrap_or_default())
            {
                send.history.push(giftwire_core::lifecycle::StatusEntry {
                    status: status.parse().map_err(crate::rows::corrupt)?,
                    occurred_at: jiff::Timestamp::from_second(at)
                        .map_err(|e| StoreError::Internal(Box::new(e)))?,
                });
            }
            Ok(send)
        })
        .collect()
}

#[async_trait]
impl SendStore for PgStore {
    async fn create_send(&self, org: OrgId, new: NewSend) -> Result<SendRecord, StoreError> {
        self.write(move |tx| Box::pin(async move { flows::create_send(tx, org, &new).await }))
            .await
    }

    async fn send(&self, org: OrgId, id: SendId) -> Result<SendRecord, StoreError> {
        let mut conn = self.read_pool.acquire().await?;
        load_send(&mut conn, org, id, false).await
    }

    async fn send_org_system_wide(&self, id: SendId) -> Result<OrgId, StoreError> {
        let row = sqlx::query("SELECT org_id FROM sends WHERE id = $1")
            .bind(id.get())
            .fetch_optional(&mut *self.pool.acquire().await?)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound("Send"))?;
        Ok(OrgId::new(row.int(0)?))
    }

    async fn change_status(
        &self,
        org: OrgId,
        id: SendId,
        change: StatusChange,
    ) -> Result<SendRecord, StoreError> {
        let mut tx = self.tx().await?;
        let send = flows::change_status(&mut *tx, org, id, change).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(send)
    }

    /// Two statements, no transaction: the page's version, then its sends with their histories
    /// (aggregated per send), bounded by the version's total so that the two always agree on
    /// which sends the page holds. The sends' statuses are as fresh as the second statement.
    async fn list_sends(&self, org: OrgId, page: PageRequest) -> Result<SendPage, StoreError> {
        let mut conn = self.read_pool.acquire().await?;
        let version = read_page_version(&mut conn, org, page).await?;
        let (first, count) = version.range(page);
        let sends = if count > 0 {
            load_page(&mut conn, org, first, first + count).await?
        } else {
            Vec::new()
        };
        Ok(SendPage { version, sends })
    }

    async fn page_version(&self, org: OrgId, page: PageRequest) -> Result<PageVersion, StoreError> {
        let mut conn = self.read_pool.acquire().await?;
        read_page_version(&mut conn, org, page).await
    }

    async fn bulk_load(&self, org: OrgId, sends: Vec<SeedSend>) -> Result<BulkLoaded, StoreError> {
        let mut tx = self.tx().await?;
        let loaded = bulk::insert(&mut tx, org, &sends).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(loaded)
    }

    async fn create_api_sends(
        &self,
        org: OrgId,
        orders: Vec<SendOrder>,
        claim: Option<IdempotencyClaim>,
    ) -> Result<Created, StoreError> {
        let mut tx = self.tx().await?;
        let created = flows::create_api_sends(&mut *tx, org, orders, claim).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(created)
    }

    async fn recipient_send(&self, code: &TrackingCode) -> Result<RecipientSend, StoreError> {
        let mut conn = self.pool.acquire().await?;
        recipient_send(&mut conn, code).await
    }

    async fn confirm_address(
        &self,
        org: OrgId,
        id: SendId,
        address: Address,
        at: Timestamp,
    ) -> Result<SendRecord, StoreError> {
        let mut tx = self.tx().await?;
        let send = flows::confirm_address(&mut *tx, org, id, &address, at).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(send)
    }
}

async fn recipient_send(
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
