//! Webhook endpoints and deliveries on PostgreSQL (the fan-out of events is a trigger,
//! migration 0009; workers claim with SKIP LOCKED).

use async_trait::async_trait;
use giftwire_core::store::{
    Attempt, DueDelivery, Endpoint, EndpointChanges, Listed, NewEndpoint, WebhookDelivery,
    WebhookStore,
};
use giftwire_core::webhooks::{self, EndpointError};
use giftwire_core::{OrgId, PageRequest, StoreError};
use jiff::{SignedDuration, Timestamp};
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgConnection;

use super::PgStore;
use super::errors::db_err;
use super::sends::org_exists;
use crate::records;
use crate::rows::RowExt;

const ENDPOINT_COLUMNS: &str = "id, org_id, url, events, description, enabled::int4::int8, \
     disabled_reason, secret, previous_secret, extract(epoch FROM previous_secret_until)::int8, \
     extract(epoch FROM failing_since)::int8, extract(epoch FROM created_at)::int8, \
     extract(epoch FROM updated_at)::int8";

const DELIVERY_COLUMNS: &str = "d.id, d.org_id, d.endpoint_id, d.event_id, ev.type, d.send_id, \
     d.attempts::int8, d.state, extract(epoch FROM d.next_attempt_at)::int8, d.status_code::int8, \
     d.latency_ms::int8, d.error, extract(epoch FROM d.created_at)::int8, \
     extract(epoch FROM d.delivered_at)::int8";

/// A pending delivery `d` that is its send's oldest pending one to its endpoint.
const IS_HEAD: &str = "NOT EXISTS (SELECT 1 FROM webhook_deliveries p \
     WHERE p.endpoint_id = d.endpoint_id AND p.send_id = d.send_id AND p.state = 'pending' \
       AND p.id < d.id)";

/// `d` is pending, due at $1 and not held by a worker.
const IS_DUE: &str = "d.state = 'pending' AND d.next_attempt_at <= to_timestamp($1) \
     AND (d.leased_until IS NULL OR d.leased_until <= to_timestamp($1))";

async fn load(
    conn: &mut PgConnection,
    org: Option<OrgId>,
    id: i64,
) -> Result<Endpoint, StoreError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND ($2::int8 IS NULL OR org_id = $2)"
    )))
    .bind(id)
    .bind(org.map(OrgId::get))
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound("Webhook endpoint"))?;
    records::endpoint(&row)
}

/// Records a failed attempt: retried at its time (the send's later deliveries wait until then)
/// or given up; its endpoint failing since when, and disabled after `disable_after` of it.
async fn record_failure(
    conn: &mut PgConnection,
    a: &Attempt,
    disable_after: SignedDuration,
) -> Result<(), StoreError> {
    let at = a.at.as_second() as f64;
    let Some((error, retry)) = &a.failure else {
        return Ok(());
    };
    let error = Some(error.as_str());
    let retry_at = retry.map(|t| t.as_second() as f64);
    let state = if retry_at.is_some() {
        "pending"
    } else {
        "failed"
    };
    let updated = sqlx::query(
        "UPDATE webhook_deliveries SET state = $2, attempts = attempts + 1, status_code = $3, \
             latency_ms = $4, error = $5, leased_until = NULL, \
             next_attempt_at = COALESCE(to_timestamp($6), next_attempt_at) \
         WHERE id = $1 AND endpoint_id = $7 AND leased_until = to_timestamp($8) \
           AND state = 'pending' RETURNING send_id",
    )
    .bind(a.delivery_id)
    .bind(state)
    .bind(a.status_code.map(i32::from))
    .bind(a.latency_ms.map(|ms| ms.min(i32::MAX as u32) as i32))
    .bind(error)
    .bind(retry_at)
    .bind(a.endpoint_id)
    .bind(a.lease.as_second() as f64)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?;
    let Some(row) = updated else {
        // Recorded already (another worker took it up after a lease ran out).
        return Ok(());
    };
    let send_id = row.int(0)?;
    if let Some(retry_at) = retry_at {
        // The send's later deliveries wait for this one: none is due before it.
        sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at = greatest(next_attempt_at, to_timestamp($4)) \
             WHERE endpoint_id = $1 AND send_id = $2 AND state = 'pending' AND id > $3",
        )
        .bind(a.endpoint_id)
        .bind(send_id)
        .bind(a.delivery_id)
        .bind(retry_at)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    sqlx::query(
        // $4: when the run of failures this one belongs to began (a new run after a quiet day).
        "WITH run AS (SELECT CASE WHEN failing_since IS NULL OR last_failure_at IS NULL \
                                       OR last_failure_at < to_timestamp($2 - $4) \
                                  THEN to_timestamp($2) ELSE failing_since END AS began \
                      FROM webhook_endpoints WHERE id = $1) \
         UPDATE webhook_endpoints e SET failing_since = run.began, \
             last_failure_at = to_timestamp($2), \
             enabled = e.enabled AND NOT run.began <= to_timestamp($3), \
             disabled_reason = CASE WHEN e.enabled AND run.began <= to_timestamp($3) \
                                    THEN 'failing' ELSE e.disabled_reason END, \
             updated_at = CASE WHEN e.enabled AND run.began <= to_timestamp($3) \
                               THEN to_timestamp($2) ELSE e.updated_at END \
         FROM run WHERE e.id = $1",
    )
    .bind(a.endpoint_id)
    .bind(at)
    .bind(at - disable_after.as_secs() as f64)
    .bind(giftwire_core::webhooks::FAILURE_GAP.as_secs() as f64)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl WebhookStore for PgStore {
    async fn create_endpoint(&self, new: NewEndpoint) -> Result<Endpoint, StoreError> {
        self.write(move |tx| {
                Box::pin(async move {
                    org_exists(tx, new.org_id).await?;
                    // Creations of one organization take turns, so the cap holds.
                    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7347))")
                        .bind(format!("webhook_endpoints:{}", new.org_id))
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    let count = sqlx::query(
                        "SELECT count(*) FROM webhook_endpoints WHERE org_id = $1",
                    )
                    .bind(new.org_id.get())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .int(0)?;
                    if count as u64 >= webhooks::MAX_ENDPOINTS_PER_ORG {
                        return Err(StoreError::Refused(EndpointError::TooMany.to_string()));
                    }
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "INSERT INTO webhook_endpoints (org_id, url, events, description, enabled, \
                             secret, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, true, $5, to_timestamp($6), to_timestamp($6)) RETURNING {ENDPOINT_COLUMNS}"
                    )))
                    .bind(new.org_id.get())
                    .bind(&new.url)
                    .bind(new.events.stored())
                    .bind(&new.description)
                    .bind(&new.secret)
                    .bind(new.at.as_second() as f64)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    records::endpoint(&row)
                })
            })
            .await
    }

    async fn endpoints(
        &self,
        org: OrgId,
        page: PageRequest,
    ) -> Result<Listed<Endpoint>, StoreError> {
        let mut tx = self.read_snapshot().await?;
        let total = sqlx::query("SELECT count(*) FROM webhook_endpoints WHERE org_id = $1")
            .bind(org.get())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?
            .int(0)?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 \
             ORDER BY id LIMIT $2 OFFSET $3"
        )))
        .bind(org.get())
        .bind(i64::from(page.per_page()))
        .bind(page.offset() as i64)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Listed {
            total: total as u64,
            items: rows
                .iter()
                .map(records::endpoint)
                .collect::<Result<_, _>>()?,
        })
    }

    async fn endpoint(&self, org: Option<OrgId>, id: i64) -> Result<Endpoint, StoreError> {
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, org, id).await
    }

    async fn update_endpoint(
        &self,
        org: Option<OrgId>,
        id: i64,
        changes: EndpointChanges,
        at: Timestamp,
    ) -> Result<Endpoint, StoreError> {
        self.write(move |tx| {
            Box::pin(async move {
                let row = sqlx::query(AssertSqlSafe(format!(
                    "UPDATE webhook_endpoints SET url = COALESCE($3, url), \
                             events = CASE WHEN $4 THEN $5 ELSE events END, \
                             description = COALESCE($6, description), \
                             enabled = COALESCE($7, enabled), \
                             disabled_reason = CASE WHEN $7::bool IS NULL THEN disabled_reason \
                                                    WHEN $7 THEN NULL ELSE 'manual' END, \
                             failing_since = CASE WHEN $7 THEN NULL ELSE failing_since END, \
                             updated_at = to_timestamp($8) \
                         WHERE id = $1 AND ($2::int8 IS NULL OR org_id = $2) \
                         RETURNING {ENDPOINT_COLUMNS}"
                )))
                .bind(id)
                .bind(org.map(OrgId::get))
                .bind(changes.url.as_deref())
                .bind(changes.events.is_some())
                .bind(changes.events.as_ref().and_then(|e| e.stored()))
                .bind(changes.description.as_deref())
                .bind(changes.enabled)
                .bind(at.as_second() as f64)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .ok_or(StoreError::NotFound("Webhook endpoint"))?;
                records::endpoint(&row)
            })
        })
        .await
    }

    async fn rotate_endpoint_secret(
        &self,
        org: Option<OrgId>,
        id: i64,
        secret: String,
        previous_until: Timestamp,
        at: Timestamp,
    ) -> Result<Endpoint, StoreError> {
        self.write(move |tx| {
            Box::pin(async move {
                let row = sqlx::query(AssertSqlSafe(format!(
                    "UPDATE webhook_endpoints SET previous_secret = secret, \
                             previous_secret_until = to_timestamp($4), secret = $3, \
                             updated_at = to_timestamp($5) \
                         WHERE id = $1 AND ($2::int8 IS NULL OR org_id = $2) \
                         RETURNING {ENDPOINT_COLUMNS}"
                )))
                .bind(id)
                .bind(org.map(OrgId::get))
                .bind(&secret)
                .bind(previous_until.as_second() as f64)
                .bind(at.as_second() as f64)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .ok_or(StoreError::NotFound("Webhook endpoint"))?;
                records::endpoint(&row)
            })
        })
        .await
    }

    async fn delete_endpoint(&self, org: OrgId, id: i64) -> Result<(), StoreError> {
        // Disabled first, in a transaction of its own: from its commit on, no event fans out
        // to it, so no send's transaction is left waiting on (and then failing the foreign key
        // of) a delivery to the row being deleted.
        self.write(move |tx| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE webhook_endpoints SET enabled = false WHERE org_id = $1 AND id = $2 \
                     RETURNING id",
                )
                .bind(org.get())
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .ok_or(StoreError::NotFound("Webhook endpoint"))?;
                Ok(())
            })
        })
        .await?;
        self.write(move |tx| {
            Box::pin(async move {
                // Its deliveries go with it (ON DELETE CASCADE).
                sqlx::query("DELETE FROM webhook_endpoints WHERE org_id = $1 AND id = $2")
                    .bind(org.get())
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                Ok(())
            })
        })
        .await
    }

    async fn deliveries(
        &self,
        org: Option<OrgId>,
        endpoint: i64,
        page: PageRequest,
    ) -> Result<Listed<WebhookDelivery>, StoreError> {
        let mut tx = self.read_snapshot().await?;
        load(&mut tx, org, endpoint).await?;
        let total = sqlx::query("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1")
            .bind(endpoint)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?
            .int(0)?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d \
             JOIN send_events ev ON ev.org_id = d.org_id AND ev.id = d.event_id \
             WHERE d.endpoint_id = $1 ORDER BY d.id DESC LIMIT $2 OFFSET $3"
        )))
        .bind(endpoint)
        .bind(i64::from(page.per_page()))
        .bind(page.offset() as i64)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Listed {
            total: total as u64,
            items: rows
                .iter()
                .map(records::webhook_delivery)
                .collect::<Result<_, _>>()?,
        })
    }

    async fn replay_event(
        &self,
        org: Option<OrgId>,
        event: i64,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        self.write(move |tx| {
                Box::pin(async move {
                    sqlx::query(
                        "SELECT 1 FROM send_events WHERE id = $1 AND ($2::int8 IS NULL OR org_id = $2)",
                    )
                        .bind(event)
                        .bind(org.map(OrgId::get))
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err)?
                        .ok_or(StoreError::NotFound("Event"))?;
                    let queued = sqlx::query(
                        "INSERT INTO webhook_deliveries \
                             (org_id, endpoint_id, event_id, send_id, next_attempt_at, created_at) \
                         SELECT ev.org_id, e.id, ev.id, ev.send_id, to_timestamp($2), to_timestamp($2) \
                         FROM send_events ev JOIN webhook_endpoints e ON e.org_id = ev.org_id \
                         WHERE ev.id = $1 AND e.enabled \
                           AND (e.events IS NULL OR position(' ' || ev.type || ' ' IN e.events) > 0) \
                         ORDER BY e.id",
                    )
                    .bind(event)
                    .bind(at.as_second() as f64)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
                    Ok(queued)
                })
            })
            .await
    }

    async fn due_endpoints(&self, now: Timestamp, limit: u32) -> Result<Vec<Endpoint>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints e WHERE e.enabled AND EXISTS \
                 (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND {IS_DUE} \
                  AND {IS_HEAD}) \
             ORDER BY e.id LIMIT $2"
        )))
        .bind(now.as_second() as f64)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        rows.iter().map(records::endpoint).collect()
    }

    async fn claim_deliveries(
        &self,
        endpoint: i64,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        self.write(move |tx| {
            Box::pin(async move {
                let rows = sqlx::query(AssertSqlSafe(format!(
                    "SELECT d.id, d.endpoint_id, d.attempts::int8, ev.id, ev.org_id, ev.send_id, \
                                ev.seq::int8, ev.type, ev.status, \
                                extract(epoch FROM ev.occurred_at)::int8, o.time_zone \
                         FROM webhook_deliveries d \
                         JOIN send_events ev ON ev.org_id = d.org_id AND ev.id = d.event_id \
                         JOIN organizations o ON o.id = d.org_id \
                         WHERE d.endpoint_id = $2 AND {IS_DUE} AND {IS_HEAD} \
                         ORDER BY d.next_attempt_at, d.id LIMIT $3 \
                         FOR UPDATE OF d SKIP LOCKED"
                )))
                .bind(now.as_second() as f64)
                .bind(endpoint)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
                let due = rows
                    .iter()
                    .map(|row| records::due_delivery(row, lease_until))
                    .collect::<Result<Vec<_>, _>>()?;
                if !due.is_empty() {
                    let ids: Vec<i64> = due.iter().map(|d| d.id).collect();
                    sqlx::query(
                        "UPDATE webhook_deliveries SET leased_until = to_timestamp($1) \
                             WHERE id = ANY($2)",
                    )
                    .bind(lease_until.as_second() as f64)
                    .bind(ids)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                Ok(due)
            })
        })
        .await
    }

    async fn record_attempts(
        &self,
        attempts: Vec<Attempt>,
        disable_after: SignedDuration,
    ) -> Result<(), StoreError> {
        if attempts.is_empty() {
            return Ok(());
        }
        self.write(move |tx| {
            Box::pin(async move {
                // The deliveries that succeeded, in one statement.
                let delivered: Vec<&Attempt> =
                    attempts.iter().filter(|a| a.failure.is_none()).collect();
                if !delivered.is_empty() {
                    sqlx::query(
                        "UPDATE webhook_deliveries d SET state = 'delivered', \
                                 attempts = d.attempts + 1, status_code = u.code, \
                                 latency_ms = u.ms, error = NULL, leased_until = NULL, \
                                 delivered_at = to_timestamp(u.at) \
                             FROM unnest($1::int8[], $2::int4[], $3::int4[], $4::float8[], \
                                         $5::int8[], $6::float8[]) \
                                  AS u(id, code, ms, at, endpoint, lease) \
                             WHERE d.id = u.id AND d.endpoint_id = u.endpoint \
                               AND d.leased_until = to_timestamp(u.lease) \
                               AND d.state = 'pending'",
                    )
                    .bind(
                        delivered
                            .iter()
                            .map(|a| a.delivery_id)
                            .collect::<Vec<i64>>(),
                    )
                    .bind(
                        delivered
                            .iter()
                            .map(|a| a.status_code.map(i32::from))
                            .collect::<Vec<Option<i32>>>(),
                    )
                    .bind(
                        delivered
                            .iter()
                            .map(|a| a.latency_ms.map(|ms| ms.min(i32::MAX as u32) as i32))
                            .collect::<Vec<Option<i32>>>(),
                    )
                    .bind(
                        delivered
                            .iter()
                            .map(|a| a.at.as_second() as f64)
                            .collect::<Vec<f64>>(),
                    )
                    .bind(
                        delivered
                            .iter()
                            .map(|a| a.endpoint_id)
                            .collect::<Vec<i64>>(),
                    )
                    .bind(
                        delivered
                            .iter()
                            .map(|a| a.lease.as_second() as f64)
                            .collect::<Vec<f64>>(),
                    )
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    let mut endpoints: Vec<i64> = delivered.iter().map(|a| a.endpoint_id).collect();
                    endpoints.sort_unstable();
                    endpoints.dedup();
                    for endpoint in endpoints {
                        // Written only when it was failing: a success costs no endpoint write.
                        sqlx::query(
                            "UPDATE webhook_endpoints SET failing_since = NULL \
                                 WHERE id = $1 AND failing_since IS NOT NULL",
                        )
                        .bind(endpoint)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    }
                }
                for attempt in attempts.iter().filter(|a| a.failure.is_some()) {
                    record_failure(tx, attempt, disable_after).await?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn purge_deliveries(&self, before: Timestamp, limit: u32) -> Result<u64, StoreError> {
        self.write(move |tx| {
            Box::pin(async move {
                // Oldest first, along webhook_deliveries_finished (only finished rows are read).
                let purged = sqlx::query(
                    "DELETE FROM webhook_deliveries WHERE id IN \
                         (SELECT id FROM webhook_deliveries \
                          WHERE state <> 'pending' \
                            AND COALESCE(delivered_at, next_attempt_at) < to_timestamp($1) \
                          ORDER BY COALESCE(delivered_at, next_attempt_at) LIMIT $2)",
                )
                .bind(before.as_second() as f64)
                .bind(i64::from(limit))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
                Ok(purged)
            })
        })
        .await
    }
}
