//! Bulk loading (seeding): many sends and their histories in the caller's write transaction,
//! with multi-row `INSERT`s of a fixed shape so that SQLite prepares each statement once.

use std::collections::BTreeSet;

use giftwire_core::lifecycle::current_status;
use giftwire_core::store::{BulkLoaded, SeedSend};
use giftwire_core::{OrgId, StoreError};
use sqlx::sqlite::SqliteConnection;
use sqlx::{AssertSqlSafe, Row};

use super::errors::db_err;
use crate::rows::RowExt;

/// Sends per `INSERT` (12 parameters each; SQLite allows 32,766 per statement).
const SENDS_PER_STATEMENT: usize = 500;
/// Status updates per `INSERT` (5 parameters each).
const UPDATES_PER_STATEMENT: usize = 2000;

fn values_sql(head: &str, columns: usize, rows: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(", "));
    let mut sql = String::with_capacity(head.len() + rows * (row.len() + 2));
    sql.push_str(head);
    sql.push_str(" VALUES ");
    for i in 0..rows {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&row);
    }
    sql
}

/// Checks that every touch and sender named by `sends` is the organization's, so that a bad
/// batch is refused with a clear error before anything is written.
async fn check_references(
    conn: &mut SqliteConnection,
    org: OrgId,
    sends: &[SeedSend],
) -> Result<(), StoreError> {
    let touches: BTreeSet<i64> = sends.iter().map(|s| s.send.touch.get()).collect();
    let senders: BTreeSet<i64> = sends.iter().map(|s| s.send.sender.get()).collect();
    for (table, ids, what) in [("touches", touches, "Touch"), ("users", senders, "User")] {
        let sql = format!("SELECT id FROM {table} WHERE org_id = ?1 ORDER BY id");
        let known: BTreeSet<i64> = sqlx::query(AssertSqlSafe(sql))
            .bind(org.get())
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?
            .iter()
            .map(|row| row.try_get::<i64, _>(0))
            .collect::<Result<_, _>>()
            .map_err(db_err)?;
        if !ids.is_subset(&known) {
            return Err(StoreError::NotFound(what));
        }
    }
    Ok(())
}

pub(super) async fn insert(
    conn: &mut SqliteConnection,
    org: OrgId,
    sends: &[SeedSend],
) -> Result<BulkLoaded, StoreError> {
    if sends.is_empty() {
        return Ok(BulkLoaded::default());
    }
    check_references(conn, org, sends).await?;
    let first_seq = super::sends::reserve_seqs(conn, org, sends.len() as u64).await?;
    let first_id: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 FROM sends")
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)?
        .int(0)?;
    let first_change = super::sends::next_change_seq(conn, org).await?;

    let mut offset = 0usize;
    for chunk in sends.chunks(SENDS_PER_STATEMENT) {
        let sql = values_sql(
            "INSERT INTO sends (id, org_id, org_seq, version, touch_id, sender_id, recipient_name, \
             recipient_email, recipient_company, sent_via, cost, created_at, status, change_seq)",
            14,
            chunk.len(),
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (i, s) in chunk.iter().enumerate() {
            let n = (offset + i) as i64;
            query = query
                .bind(first_id + n)
                .bind(org.get())
                .bind(first_seq + n)
                .bind(s.history.len() as i64)
                .bind(s.send.touch.get())
                .bind(s.send.sender.get())
                .bind(s.send.recipient.name.clone())
                .bind(s.send.recipient.email.clone())
                .bind(s.send.recipient.company_name.clone())
                .bind(s.send.sent_via.clone())
                .bind(s.cost.to_string())
                .bind(s.send.created_at.as_second())
                .bind(current_status(&s.history).as_str())
                .bind(first_change + n);
        }
        query.execute(&mut *conn).await.map_err(db_err)?;
        offset += chunk.len();
    }

    let updates: Vec<(i64, i64, &giftwire_core::lifecycle::StatusEntry)> = sends
        .iter()
        .enumerate()
        .flat_map(|(n, s)| {
            s.history
                .iter()
                .enumerate()
                .map(move |(k, e)| (first_id + n as i64, k as i64 + 1, e))
        })
        .collect();
    for chunk in updates.chunks(UPDATES_PER_STATEMENT) {
        let sql = values_sql(
            "INSERT INTO send_status_updates (org_id, send_id, seq, status, occurred_at)",
            5,
            chunk.len(),
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (send_id, seq, entry) in chunk {
            query = query
                .bind(org.get())
                .bind(*send_id)
                .bind(*seq)
                .bind(entry.status.as_str())
                .bind(entry.occurred_at.as_second());
        }
        query.execute(&mut *conn).await.map_err(db_err)?;
    }
    // eGifts still waiting for their recipients get the deadline the worker will apply.
    let deadlines: Vec<(i64, i64)> = sends
        .iter()
        .enumerate()
        .filter_map(|(n, s)| {
            s.egift_expires_at
                .map(|at| (first_id + n as i64, at.as_second()))
        })
        .collect();
    for chunk in deadlines.chunks(UPDATES_PER_STATEMENT) {
        let sql = values_sql(
            "INSERT INTO send_deadlines (org_id, send_id, kind, due_at)",
            4,
            chunk.len(),
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (send_id, due_at) in chunk {
            query = query
                .bind(org.get())
                .bind(*send_id)
                .bind(giftwire_core::DeadlineKind::EgiftExpiry.as_str())
                .bind(*due_at);
        }
        query.execute(&mut *conn).await.map_err(db_err)?;
    }
    let mut counts: std::collections::BTreeMap<(i64, &str), (giftwire_core::SendStatus, u64)> =
        std::collections::BTreeMap::new();
    for s in sends {
        let status = current_status(&s.history);
        counts
            .entry((s.send.touch.get(), status.as_str()))
            .or_insert((status, 0))
            .1 += 1;
    }
    for ((touch, _), (status, n)) in counts {
        super::sends::count_new(conn, org, giftwire_core::TouchId::new(touch), status, n).await?;
    }
    crate::flows::draw_bulk(conn, org, sends).await?;
    Ok(BulkLoaded {
        sends: sends.len() as u64,
        status_updates: updates.len() as u64,
    })
}
