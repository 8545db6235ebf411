//! Sends on SQLite, the [`SendStore`] and the SQL its operations share: reading a send with its history,
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
use sqlx::sqlite::SqliteConnection;

use super::errors::db_err;
use super::{SqliteStore, bulk};
use crate::flows;
use crate::records;
use crate::rows::RowExt;
use crate::rows::corrupt;

/// The columns of a listed send (see [`records::send`]), joined with its touch, sender and
/// team. Extended with a `WHERE` clause.
macro_rules! send_select {
    () => {
        "SELECT s.id, s.touch_id, t.name, t.type, t.subtype, t.currency, \
                s.recipient_name, s.recipient_email, s.recipient_company, \
                s.sender_id, u.name, u.email, u.team_id, tm.name, \
                s.sent_via, s.cost, s.created_at \
         FROM sends s \
         JOIN touches t ON t.org_id = s.org_id AND t.id = s.touch_id \
         JOIN users u ON u.org_id = s.org_id AND u.id = s.sender_id \
         LEFT JOIN teams tm ON tm.org_id = u.org_id AND tm.id = u.team_id "
    };
}

pub(super) async fn org_exists(conn: &mut SqliteConnection, org: OrgId) -> Result<(), StoreError> {
    sqlx::query("SELECT 1 FROM organizations WHERE id = ?1")
        .bind(org.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Organization"))
        .map(|_| ())
}

/// Reads one send of an organization with its history, inside the caller's transaction.
pub(super) async fn load_send(
    conn: &mut SqliteConnection,
    org: OrgId,
    id: SendId,
) -> Result<SendRecord, StoreError> {
    let mut sends = [load_new_send(conn, org, id).await?];
    attach_histories(conn, org, &mut sends).await?;
    let [send] = sends;
    Ok(send)
}

/// Reads a send without its history (as a send just created in this transaction has none).
pub(super) async fn load_new_send(
    conn: &mut SqliteConnection,
    org: OrgId,
    id: SendId,
) -> Result<SendRecord, StoreError> {
    let row = sqlx::query(concat!(send_select!(), "WHERE s.org_id = ?1 AND s.id = ?2"))
        .bind(org.get())
        .bind(id.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Send"))?;
    records::send(&row)
}

/// Fills the histories of `sends`, which are ascending by id and all of `org`, with one range
/// read of the status updates between the first and the last id.
pub(super) async fn attach_histories(
    conn: &mut SqliteConnection,
    org: OrgId,
    sends: &mut [SendRecord],
) -> Result<(), StoreError> {
    let (Some(first), Some(last)) = (sends.first(), sends.last()) else {
        return Ok(());
    };
    let rows = sqlx::query(
        "SELECT send_id, status, occurred_at FROM send_status_updates \
         WHERE org_id = ?1 AND send_id BETWEEN ?2 AND ?3 ORDER BY send_id, seq",
    )
    .bind(org.get())
    .bind(first.id.get())
    .bind(last.id.get())
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    records::attach_histories(sends, &rows)
}

/// The sends at positions (`org_seq`) after `after` up to `last`, with their histories: two
/// range reads.
async fn load_range(
    conn: &mut SqliteConnection,
    org: OrgId,
    after: i64,
    last: i64,
) -> Result<Vec<SendRecord>, StoreError> {
    let rows = sqlx::query(concat!(
        send_select!(),
        "WHERE s.org_id = ?1 AND s.org_seq > ?2 AND s.org_seq <= ?3 ORDER BY s.org_seq"
    ))
    .bind(org.get())
    .bind(after)
    .bind(last)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    let mut sends = rows
        .iter()
        .map(records::send)
        .collect::<Result<Vec<_>, _>>()?;
    attach_histories(conn, org, &mut sends).await?;
    Ok(sends)
}

/// The sends of an organization at these positions (`org_seq`, ascending), with their
/// histories: two indexed reads whatever the positions are.
pub(super) async fn load_at(
    conn: &mut SqliteConnection,
    org: OrgId,
    positions: &[i64],
) -> Result<Vec<SendRecord>, StoreError> {
    let (Some(&first), Some(&last)) = (positions.first(), positions.last()) else {
        return Ok(Vec::new());
    };
    if last - first + 1 == positions.len() as i64 {
        // One run of positions (an unfiltered export, a feed read of sends made in a row): the
        // page's range read.
        return load_range(conn, org, first - 1, last).await;
    }
    let list = serde_json::to_string(positions).map_err(|e| StoreError::Internal(Box::new(e)))?;
    let rows = sqlx::query(concat!(
        send_select!(),
        "WHERE s.org_id = ?1 AND s.org_seq IN (SELECT value FROM json_each(?2)) ORDER BY s.org_seq"
    ))
    .bind(org.get())
    .bind(&list)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    let mut sends = rows
        .iter()
        .map(records::send)
        .collect::<Result<Vec<_>, _>>()?;
    let ids = serde_json::to_string(&sends.iter().map(|s| s.id.get()).collect::<Vec<_>>())
        .map_err(|e| StoreError::Internal(Box::new(e)))?;
    let updates = sqlx::query(
        "SELECT send_id, status, occurred_at FROM send_status_updates \
         WHERE org_id = ?1 AND send_id IN (SELECT value FROM json_each(?2)) ORDER BY send_id, seq",
    )
    .bind(org.get())
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    records::attach_histories(&mut sends, &updates)?;
    Ok(sends)
}

/// The delivery of a send made through the API, if it was.
pub(super) async fn load_delivery(
    conn: &mut SqliteConnection,
    org: OrgId,
    id: SendId,
) -> Result<Option<Delivery>, StoreError> {
    let row = sqlx::query(
        "SELECT tracking_code, variant, custom_message, address, city, state, zip, country, \
                mobile_no, address_confirmation_via, expire_after_days, \
                resume_with_unconfirmed_address, hide_product_info, \
                address_confirmation_custom_message \
         FROM send_deliveries WHERE org_id = ?1 AND send_id = ?2",
    )
    .bind(org.get())
    .bind(id.get())
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?;
    row.map(|r| records::delivery(&r, 0)).transpose()
}

/// The version of a page, in one statement (so one snapshot): the organization's total and
/// catalog version, and the sum of the versions of the sends in the page's range.
pub(super) async fn read_page_version(
    conn: &mut SqliteConnection,
    org: OrgId,
    page: PageRequest,
) -> Result<PageVersion, StoreError> {
    let row = sqlx::query(
        "SELECT o.send_count, o.catalog_version, \
                (SELECT COALESCE(SUM(s.version), 0) FROM sends s \
                 WHERE s.org_id = o.id AND s.org_seq > ?2 AND s.org_seq <= ?3) \
         FROM organizations o WHERE o.id = ?1",
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
    conn: &mut SqliteConnection,
    org: OrgId,
    touch: TouchId,
    sender: UserId,
) -> Result<Money, StoreError> {
    let row = sqlx::query(
        "SELECT (SELECT price FROM touches WHERE org_id = ?1 AND id = ?2), \
                (SELECT 1 FROM users WHERE org_id = ?1 AND id = ?3)",
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

/// Reserves `n` consecutive org_seq values: returns the first. Holds the write lock.
pub(super) async fn reserve_seqs(
    conn: &mut SqliteConnection,
    org: OrgId,
    n: u64,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "UPDATE organizations SET send_count = send_count + ?2 WHERE id = ?1 RETURNING send_count",
    )
    .bind(org.get())
    .bind(n as i64)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound("Organization"))?;
    Ok(row.int(0)? - n as i64 + 1)
}

/// Inserts a pending send at the end of its organization; the caller holds the write lock.
pub(super) async fn insert_send(
    conn: &mut SqliteConnection,
    org: OrgId,
    new: &NewSend,
) -> Result<SendId, StoreError> {
    let price = touch_price_and_sender(conn, org, new.touch, new.sender).await?;
    let seq = reserve_seqs(conn, org, 1).await?;
    // The write lock is held: the next id is the largest plus one, and ids grow with org_seq.
    let row = sqlx::query(
        "INSERT INTO sends (org_id, org_seq, id, touch_id, sender_id, recipient_name, \
                            recipient_email, recipient_company, sent_via, cost, created_at, \
                            change_seq) \
         VALUES (?1, ?2, (SELECT COALESCE(MAX(id), 0) + 1 FROM sends), \
                 ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, \
                 (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM sends WHERE org_id = ?1)) \
         RETURNING id",
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
    .bind(new.created_at.as_second())
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    count_new(conn, org, new.touch, giftwire_core::SendStatus::Pending, 1).await?;
    Ok(SendId::new(row.int(0)?))
}

/// The change feed position the organization's next change takes (see migration 0010); the
/// caller holds the write lock, so it is the next one in commit order.
pub(super) async fn next_change_seq(
    conn: &mut SqliteConnection,
    org: OrgId,
) -> Result<i64, StoreError> {
    sqlx::query("SELECT COALESCE(MAX(change_seq), 0) + 1 FROM sends WHERE org_id = ?1")
        .bind(org.get())
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)?
        .int(0)
}

/// Adds `n` sends of `touch` in `status` to the organization's counts (migration 0011).
pub(super) async fn count_new(
    conn: &mut SqliteConnection,
    org: OrgId,
    touch: TouchId,
    status: giftwire_core::SendStatus,
    n: u64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO send_status_counts (org_id, touch_id, status, n) \
         VALUES (?1, ?2, ?3, ?4) \
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
    conn: &mut SqliteConnection,
    deadline: &Deadline,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO send_deadlines (org_id, send_id, kind, due_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (org_id, send_id, kind) DO UPDATE SET due_at = excluded.due_at",
    )
    .bind(deadline.org.get())
    .bind(deadline.send.get())
    .bind(deadline.kind.as_str())
    .bind(deadline.due_at.as_second())
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// The organization's eGift expiry, in days.
pub(super) async fn expiry_days(
    conn: &mut SqliteConnection,
    org: OrgId,
) -> Result<u32, StoreError> {
    let row = sqlx::query("SELECT egift_expiry_days FROM organizations WHERE id = ?1")
        .bind(org.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("Organization"))?;
    Ok(row.int(0)? as u32)
}

#[async_trait]
impl SendStore for SqliteStore {
    async fn create_send(&self, org: OrgId, new: NewSend) -> Result<SendRecord, StoreError> {
        self.writer
            .write(move |tx| Box::pin(async move { flows::create_send(tx, org, &new).await }))
            .await
    }

    async fn send(&self, org: OrgId, id: SendId) -> Result<SendRecord, StoreError> {
        let mut tx = self.read_tx().await?;
        let send = load_send(&mut tx, org, id).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(send)
    }

    async fn send_org_system_wide(&self, id: SendId) -> Result<OrgId, StoreError> {
        let row = sqlx::query("SELECT org_id FROM sends WHERE id = ?1")
            .bind(id.get())
            .fetch_optional(&self.pool)
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
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let send = flows::change_status(&mut *tx, org, id, change).await?;
                    Ok(send)
                })
            })
            .await
    }

    /// On one connection, no transaction: the page's version, then the page bounded by the
    /// version's total (so the two agree on which sends it holds), then their histories.
    async fn list_sends(&self, org: OrgId, page: PageRequest) -> Result<SendPage, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let version = read_page_version(&mut conn, org, page).await?;
        let (first, count) = version.range(page);
        let mut sends = Vec::new();
        if count > 0 {
            sends = load_range(&mut conn, org, first as i64, (first + count) as i64).await?;
        }
        Ok(SendPage { version, sends })
    }

    async fn page_version(&self, org: OrgId, page: PageRequest) -> Result<PageVersion, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        read_page_version(&mut conn, org, page).await
    }

    async fn bulk_load(&self, org: OrgId, sends: Vec<SeedSend>) -> Result<BulkLoaded, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let loaded = bulk::insert(tx, org, &sends).await?;
                    Ok(loaded)
                })
            })
            .await
    }

    async fn create_api_sends(
        &self,
        org: OrgId,
        orders: Vec<SendOrder>,
        claim: Option<IdempotencyClaim>,
    ) -> Result<Created, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let created = flows::create_api_sends(&mut *tx, org, orders, claim).await?;
                    Ok(created)
                })
            })
            .await
    }

    async fn recipient_send(&self, code: &TrackingCode) -> Result<RecipientSend, StoreError> {
        let mut tx = self.read_tx().await?;
        let found = recipient_send(&mut tx, code).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(found)
    }

    async fn confirm_address(
        &self,
        org: OrgId,
        id: SendId,
        address: Address,
        at: Timestamp,
    ) -> Result<SendRecord, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let send = flows::confirm_address(&mut *tx, org, id, &address, at).await?;
                    Ok(send)
                })
            })
            .await
    }
}

async fn recipient_send(
    conn: &mut SqliteConnection,
    code: &TrackingCode,
) -> Result<RecipientSend, StoreError> {
    let row = sqlx::query(
        "SELECT d.org_id, d.send_id, o.name, o.time_zone FROM send_deliveries d \
         JOIN organizations o ON o.id = d.org_id WHERE d.tracking_code = ?1",
    )
    .bind(code.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound("Send"))?;
    let org = OrgId::new(row.int(0)?);
    let id = SendId::new(row.int(1)?);
    let send = load_send(conn, org, id).await?;
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
