//! The statements of [`SendSql`] on SQLite. Row locks are not needed: every write transaction
//! holds the database's write lock from its start (`BEGIN IMMEDIATE`).

use async_trait::async_trait;
use giftwire_core::lifecycle::StatusEntry;
use giftwire_core::store::{IdempotencyClaim, NewMovement, NewSend, SendRecord};
use giftwire_core::{
    Address, Deadline, Delivery, Money, NewMail, OrgId, SendId, SendStatus, StoreError,
};
use jiff::Timestamp;
use sqlx::Row as _;
use sqlx::sqlite::SqliteConnection;

use super::errors::{db_err, on_unique};
use super::sends;
use crate::flows::SendSql;

#[async_trait]
impl SendSql for SqliteConnection {
    async fn load_send(
        &mut self,
        org: OrgId,
        id: SendId,
        _lock: bool,
    ) -> Result<SendRecord, StoreError> {
        sends::load_send(self, org, id).await
    }

    /// Nothing to do: a write transaction holds the database's only write lock throughout.
    async fn order_changes(&mut self, _org: OrgId) -> Result<(), StoreError> {
        Ok(())
    }

    async fn load_new_send(&mut self, org: OrgId, id: SendId) -> Result<SendRecord, StoreError> {
        sends::load_new_send(self, org, id).await
    }

    async fn load_delivery(
        &mut self,
        org: OrgId,
        id: SendId,
    ) -> Result<Option<Delivery>, StoreError> {
        sends::load_delivery(self, org, id).await
    }

    async fn insert_send(&mut self, org: OrgId, new: &NewSend) -> Result<SendId, StoreError> {
        sends::insert_send(self, org, new).await
    }

    async fn insert_delivery(
        &mut self,
        org: OrgId,
        id: SendId,
        d: &Delivery,
    ) -> Result<(), StoreError> {
        let a = d.address.as_ref();
        let c = d.collection.as_ref();
        sqlx::query(
            "INSERT INTO send_deliveries (org_id, send_id, tracking_code, variant, custom_message, \
                 address, city, state, zip, country, mobile_no, address_confirmation_via, \
                 expire_after_days, resume_with_unconfirmed_address, hide_product_info, \
                 address_confirmation_custom_message) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        )
        .bind(org.get())
        .bind(id.get())
        .bind(d.tracking_code.as_str())
        .bind(d.variant.as_str())
        .bind(&d.custom_message)
        .bind(a.map(|a| a.line.clone()))
        .bind(a.map(|a| a.city.clone()))
        .bind(a.map(|a| a.state.clone()))
        .bind(a.map(|a| a.zip.clone()))
        .bind(a.map(|a| a.country.as_str().to_owned()))
        .bind(a.and_then(|a| a.mobile_no.clone()))
        .bind(c.map(|c| c.via.as_str()))
        .bind(c.map(|c| i64::from(c.expire_after_days)))
        .bind(c.map(|c| i64::from(c.resume_with_unconfirmed_address)))
        .bind(c.map(|c| i64::from(c.hide_product_info)))
        .bind(c.and_then(|c| c.custom_message.clone()))
        .execute(&mut *self)
        .await
        .map_err(|e| on_unique(e, || "tracking code already in use".to_owned()))?;
        Ok(())
    }

    async fn set_address(
        &mut self,
        org: OrgId,
        id: SendId,
        address: &Address,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE send_deliveries SET address = ?3, city = ?4, state = ?5, zip = ?6, country = ?7, \
                 mobile_no = ?8 WHERE org_id = ?1 AND send_id = ?2",
        )
        .bind(org.get())
        .bind(id.get())
        .bind(&address.line)
        .bind(&address.city)
        .bind(&address.state)
        .bind(&address.zip)
        .bind(address.country.as_str())
        .bind(&address.mobile_no)
        .execute(&mut *self)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn append_status(
        &mut self,
        org: OrgId,
        send: &SendRecord,
        entry: &StatusEntry,
        cost: Money,
    ) -> Result<(), StoreError> {
        let (id, seq, touch, previous) = (
            send.id,
            send.history.len() + 1,
            send.touch.id,
            send.status(),
        );
        sqlx::query(
            "INSERT INTO send_status_updates (org_id, send_id, seq, status, occurred_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(org.get())
        .bind(id.get())
        .bind(seq as i64)
        .bind(entry.status.as_str())
        .bind(entry.occurred_at.as_second())
        .execute(&mut *self)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "UPDATE sends SET cost = ?3, version = version + 1, status = ?4, \
             change_seq = (SELECT MAX(change_seq) + 1 FROM sends WHERE org_id = ?1) \
             WHERE org_id = ?1 AND id = ?2",
        )
        .bind(org.get())
        .bind(id.get())
        .bind(cost.to_string())
        .bind(entry.status.as_str())
        .execute(&mut *self)
        .await
        .map_err(db_err)?;
        if previous == entry.status {
            return Ok(());
        }
        // Two statements: a row inserted with -1 would fail its CHECK before any conflict.
        sqlx::query(
            "UPDATE send_status_counts SET n = n - 1 \
             WHERE org_id = ?1 AND touch_id = ?2 AND status = ?3",
        )
        .bind(org.get())
        .bind(touch.get())
        .bind(previous.as_str())
        .execute(&mut *self)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO send_status_counts (org_id, touch_id, status, n) VALUES (?1, ?2, ?3, 1) \
             ON CONFLICT (org_id, touch_id, status) DO UPDATE SET n = send_status_counts.n + 1",
        )
        .bind(org.get())
        .bind(touch.get())
        .bind(entry.status.as_str())
        .execute(&mut *self)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn insert_event(
        &mut self,
        org: OrgId,
        send: SendId,
        seq: usize,
        event_type: &str,
        status: SendStatus,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO send_events (org_id, send_id, seq, type, status, occurred_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(org.get())
        .bind(send.get())
        .bind(seq as i64)
        .bind(event_type)
        .bind(status.as_str())
        .bind(at.as_second())
        .execute(&mut *self)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn move_balance(&mut self, org: OrgId, movement: &NewMovement) -> Result<(), StoreError> {
        super::balances::apply_movement(self, org, movement)
            .await
            .map(|_| ())
    }

    async fn insert_deadline(&mut self, deadline: &Deadline) -> Result<(), StoreError> {
        sends::insert_deadline(self, deadline).await
    }

    async fn take_deadline(
        &mut self,
        deadline: &Deadline,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let deleted = sqlx::query(
            "DELETE FROM send_deadlines \
             WHERE org_id = ?1 AND send_id = ?2 AND kind = ?3 AND due_at <= ?4",
        )
        .bind(deadline.org.get())
        .bind(deadline.send.get())
        .bind(deadline.kind.as_str())
        .bind(now.as_second())
        .execute(&mut *self)
        .await
        .map_err(db_err)?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn insert_mail(
        &mut self,
        org: OrgId,
        send: Option<SendId>,
        mail: &NewMail,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO outbox (org_id, send_id, kind, recipient, subject, text_body, html_body, \
                                 created_at, next_attempt_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        )
        .bind(org.get())
        .bind(send.map(SendId::get))
        .bind(mail.kind.as_str())
        .bind(&mail.to)
        .bind(&mail.subject)
        .bind(&mail.text_body)
        .bind(&mail.html_body)
        .bind(at.as_second())
        .execute(&mut *self)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn expiry_days(&mut self, org: OrgId) -> Result<u32, StoreError> {
        sends::expiry_days(self, org).await
    }

    /// The write lock held since `BEGIN IMMEDIATE` already orders concurrent requests.
    async fn idempotency_key(
        &mut self,
        org: OrgId,
        key: &str,
    ) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT request_hash, send_ids FROM idempotency_keys WHERE org_id = ?1 AND key = ?2",
        )
        .bind(org.get())
        .bind(key)
        .fetch_optional(&mut *self)
        .await
        .map_err(db_err)?;
        row.map(|r| Ok((r.try_get(0).map_err(db_err)?, r.try_get(1).map_err(db_err)?)))
            .transpose()
    }

    async fn remember_idempotency_key(
        &mut self,
        org: OrgId,
        claim: &IdempotencyClaim,
        send_ids: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO idempotency_keys (org_id, key, request_hash, send_ids, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(org.get())
        .bind(&claim.key)
        .bind(claim.request_hash.to_vec())
        .bind(send_ids)
        .bind(claim.at.as_second())
        .execute(&mut *self)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
