//! Sends over HTTP on SQLite: creation with deliveries, mail and deadlines (idempotently),
//! recipient pages, time-driven changes and the outbox.

use giftwire_core::lifecycle::{self, SendState, StatusChange};
use giftwire_core::store::{
    Created, CreatedSend, IdempotencyClaim, Mail, RecipientSend, SendOrder, SendRecord,
};
use giftwire_core::{
    Address, Deadline, Delivery, OrgId, OrgTimeZone, SendId, SendStatus, StoreError, TrackingCode,
    Variant,
};
use jiff::Timestamp;
use sqlx::sqlite::SqliteConnection;

use super::errors::{db_err, on_unique};
use super::sends::{
    expiry_days, insert_deadline, insert_send, load_delivery, load_new_send, load_send,
    record_transition,
};
use crate::records;
use crate::rows::{RowExt, corrupt};

const MAIL_COLUMNS: &str = "id, org_id, send_id, kind, recipient, subject, text_body, html_body, \
                            created_at, attempts, sent_at, failed_at, last_error";

async fn created(
    conn: &mut SqliteConnection,
    org: OrgId,
    ids: &[SendId],
) -> Result<Vec<CreatedSend>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let send = load_send(conn, org, *id).await?;
        let delivery = load_delivery(conn, org, *id)
            .await?
            .ok_or(StoreError::NotFound("Send"))?;
        out.push(CreatedSend { send, delivery });
    }
    Ok(out)
}

fn parse_ids(s: &str) -> Result<Vec<SendId>, StoreError> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<i64>()
                .map(SendId::new)
                .map_err(|_| corrupt(giftwire_core::InvalidValue::new("send_ids", s)))
        })
        .collect()
}

async fn insert_delivery(
    conn: &mut SqliteConnection,
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
    .execute(&mut *conn)
    .await
    .map_err(|e| on_unique(e, || "tracking code already in use".to_owned()))?;
    Ok(())
}

pub(super) async fn create_api_sends(
    conn: &mut SqliteConnection,
    org: OrgId,
    orders: Vec<SendOrder>,
    claim: Option<IdempotencyClaim>,
) -> Result<Created, StoreError> {
    if let Some(claim) = &claim {
        let earlier = sqlx::query(
            "SELECT request_hash, send_ids FROM idempotency_keys WHERE org_id = ?1 AND key = ?2",
        )
        .bind(org.get())
        .bind(&claim.key)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
        if let Some(row) = earlier {
            let hash: Vec<u8> = sqlx::Row::try_get(&row, 0).map_err(db_err)?;
            if hash != claim.request_hash {
                return Err(StoreError::Conflict(format!(
                    "Idempotency-Key {:?} was already used with another request",
                    claim.key
                )));
            }
            let ids = parse_ids(&row.text(1)?)?;
            return Ok(Created {
                replayed: true,
                sends: created(conn, org, &ids).await?,
            });
        }
    }
    let expiry = expiry_days(conn, org).await?;
    let mut ids = Vec::with_capacity(orders.len());
    let mut sends = Vec::with_capacity(orders.len());
    for order in orders {
        let id = insert_send(conn, org, &order.send).await?;
        insert_delivery(conn, org, id, &order.delivery).await?;
        let mut send = load_new_send(conn, org, id).await?;
        if let Some(status) = order.initial_status {
            let change = StatusChange {
                status,
                occurred_at: send.created_at,
                cost: None,
            };
            let transition = lifecycle::plan(&state_of(&send), &change)?;
            record_transition(conn, org, &mut send, transition, Some(expiry)).await?;
            if order.delivery.variant == Variant::AddressCollection
                && let Some(collection) = &order.delivery.collection
            {
                let deadline = Deadline::address_expiry(
                    org,
                    id,
                    send.created_at,
                    collection.expire_after_days,
                );
                insert_deadline(conn, &deadline).await?;
            }
        }
        for mail in &order.mail {
            sqlx::query(
                "INSERT INTO outbox (org_id, send_id, kind, recipient, subject, text_body, html_body, \
                                     created_at, next_attempt_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            )
            .bind(org.get())
            .bind(id.get())
            .bind(mail.kind.as_str())
            .bind(&mail.to)
            .bind(&mail.subject)
            .bind(&mail.text_body)
            .bind(&mail.html_body)
            .bind(order.send.created_at.as_second())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        }
        ids.push(id);
        sends.push(CreatedSend {
            send,
            delivery: order.delivery,
        });
    }
    if let Some(claim) = &claim {
        let list: Vec<String> = ids.iter().map(|i| i.get().to_string()).collect();
        sqlx::query(
            "INSERT INTO idempotency_keys (org_id, key, request_hash, send_ids, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(org.get())
        .bind(&claim.key)
        .bind(claim.request_hash.to_vec())
        .bind(list.join(","))
        .bind(claim.at.as_second())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    Ok(Created {
        replayed: false,
        sends,
    })
}

fn state_of(send: &SendRecord) -> SendState<'_> {
    SendState {
        kind: send.touch.send_type.kind(),
        created_at: send.created_at,
        cost: send.cost,
        history: &send.history,
    }
}

pub(super) async fn recipient_send(
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

pub(super) async fn confirm_address(
    conn: &mut SqliteConnection,
    org: OrgId,
    id: SendId,
    address: Address,
    at: Timestamp,
) -> Result<SendRecord, StoreError> {
    let mut send = load_send(conn, org, id).await?;
    let change = StatusChange {
        status: SendStatus::Processing,
        occurred_at: at,
        cost: None,
    };
    let transition = lifecycle::plan(&state_of(&send), &change)?;
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
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    record_transition(conn, org, &mut send, transition, None).await?;
    Ok(send)
}

pub(super) async fn due_deadlines(
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
    rows.iter()
        .map(|row| {
            Ok(Deadline {
                org: OrgId::new(row.int(0)?),
                send: SendId::new(row.int(1)?),
                kind: row.parsed(2)?,
                due_at: row.time(3)?,
            })
        })
        .collect()
}

pub(super) async fn apply_deadline(
    conn: &mut SqliteConnection,
    deadline: &Deadline,
    now: Timestamp,
) -> Result<Option<SendRecord>, StoreError> {
    let deleted = sqlx::query("DELETE FROM send_deadlines WHERE org_id = ?1 AND send_id = ?2 AND kind = ?3 AND due_at <= ?4")
        .bind(deadline.org.get())
        .bind(deadline.send.get())
        .bind(deadline.kind.as_str())
        .bind(now.as_second())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    if deleted.rows_affected() == 0 {
        // Another worker applied it, or it moved.
        return Ok(None);
    }
    let mut send = load_send(conn, deadline.org, deadline.send).await?;
    let delivery = load_delivery(conn, deadline.org, deadline.send).await?;
    let Some(status) = deadline.change(&send.history, delivery.as_ref()) else {
        return Ok(None);
    };
    let change = StatusChange {
        status,
        occurred_at: now.max(
            send.history
                .last()
                .map_or(send.created_at, |e| e.occurred_at),
        ),
        cost: None,
    };
    match lifecycle::plan(&state_of(&send), &change) {
        Ok(transition) => {
            record_transition(conn, deadline.org, &mut send, transition, None).await?;
            Ok(Some(send))
        }
        Err(_) => Ok(None),
    }
}

pub(super) async fn purge_idempotency_keys(
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

pub(super) async fn due_mail(
    conn: &mut SqliteConnection,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<Mail>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {MAIL_COLUMNS} FROM outbox \
         WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?1 \
         ORDER BY next_attempt_at, id LIMIT ?2"
    )))
    .bind(now.as_second())
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    rows.iter().map(records::mail).collect()
}

pub(super) async fn mail_delivered(
    conn: &mut SqliteConnection,
    org: OrgId,
    id: i64,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE outbox SET sent_at = ?3, attempts = attempts + 1, last_error = NULL WHERE org_id = ?1 AND id = ?2")
        .bind(org.get())
        .bind(id)
        .bind(at.as_second())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(super) async fn mail_failed(
    conn: &mut SqliteConnection,
    org: OrgId,
    id: i64,
    at: Timestamp,
    error: &str,
    retry_at: Option<Timestamp>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?3, \
             next_attempt_at = COALESCE(?4, next_attempt_at), \
             failed_at = CASE WHEN ?4 IS NULL THEN ?5 ELSE NULL END \
         WHERE org_id = ?1 AND id = ?2",
    )
    .bind(org.get())
    .bind(id)
    .bind(error)
    .bind(retry_at.map(|t| t.as_second()))
    .bind(at.as_second())
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(super) async fn outbox(
    conn: &mut SqliteConnection,
    org: Option<OrgId>,
    limit: u32,
) -> Result<Vec<Mail>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {MAIL_COLUMNS} FROM outbox WHERE ?1 IS NULL OR org_id = ?1 ORDER BY id DESC LIMIT ?2"
    )))
    .bind(org.map(OrgId::get))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    rows.iter().map(records::mail).collect()
}
