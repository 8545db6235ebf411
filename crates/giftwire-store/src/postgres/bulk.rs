//! Bulk loading (seeding) with `COPY`: the sends and their histories stream to the server in
//! PostgreSQL's text format, inside the caller's transaction.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use giftwire_core::lifecycle::current_status;
use giftwire_core::store::{BulkLoaded, SeedSend};
use giftwire_core::{OrgId, StoreError};
use sqlx::postgres::PgConnection;

use super::errors::db_err;
use crate::rows::RowExt;

/// Bytes buffered before they are sent to the server.
const CHUNK: usize = 1 << 20;

/// Appends a value in COPY's text format: backslash, tab, newline and carriage return escaped.
fn field(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// Refuses a batch that names a touch or a sender of another organization, before writing.
async fn check_references(
    conn: &mut PgConnection,
    org: OrgId,
    sends: &[SeedSend],
) -> Result<(), StoreError> {
    let touches: Vec<i64> = sends
        .iter()
        .map(|s| s.send.touch.get())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let senders: Vec<i64> = sends
        .iter()
        .map(|s| s.send.sender.get())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for (sql, ids, what) in [
        (
            "SELECT count(*) FROM touches WHERE org_id = $1 AND id = ANY($2)",
            touches,
            "Touch",
        ),
        (
            "SELECT count(*) FROM users WHERE org_id = $1 AND id = ANY($2)",
            senders,
            "User",
        ),
    ] {
        let found = sqlx::query(sql)
            .bind(org.get())
            .bind(&ids)
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?
            .int(0)?;
        if found != ids.len() as i64 {
            return Err(StoreError::NotFound(what));
        }
    }
    Ok(())
}

async fn copy(conn: &mut PgConnection, statement: &str, data: &[String]) -> Result<(), StoreError> {
    let mut copy = conn.copy_in_raw(statement).await.map_err(db_err)?;
    for chunk in data {
        copy.send(chunk.as_bytes()).await.map_err(db_err)?;
    }
    copy.finish().await.map_err(db_err)?;
    Ok(())
}

pub(super) async fn insert(
    conn: &mut PgConnection,
    org: OrgId,
    sends: &[SeedSend],
) -> Result<BulkLoaded, StoreError> {
    if sends.is_empty() {
        return Ok(BulkLoaded::default());
    }
    crate::flows::SendSql::order_changes(&mut *conn, org).await?;
    check_references(conn, org, sends).await?;
    let first_seq = super::sends::reserve_seqs(conn, org, sends.len() as u64).await?;
    // The organization's row is locked, so these ids grow with org_seq like single creations'.
    let ids: Vec<i64> =
        sqlx::query("SELECT nextval('send_ids') FROM generate_series(1, $1) ORDER BY 1")
            .bind(sends.len() as i64)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?
            .iter()
            .map(|row| row.int(0))
            .collect::<Result<_, _>>()?;

    let mut send_rows = vec![String::with_capacity(CHUNK + 1024)];
    let mut update_rows = vec![String::with_capacity(CHUNK + 1024)];
    let mut updates = 0u64;
    let mut deadline_rows = String::new();
    for (n, (s, id)) in sends.iter().zip(&ids).enumerate() {
        // eGifts still waiting for their recipients get the deadline the worker will apply.
        if let Some(at) = s.egift_expires_at {
            let _ = writeln!(
                deadline_rows,
                "{}\t{id}\t{}\t{at}",
                org.get(),
                giftwire_core::DeadlineKind::EgiftExpiry.as_str()
            );
        }
        let out = send_rows.last_mut().expect("never empty");
        let _ = write!(
            out,
            "{}\t{}\t{id}\t{}\t{}\t{}\t",
            org.get(),
            first_seq + n as i64,
            s.history.len(),
            s.send.touch.get(),
            s.send.sender.get()
        );
        field(out, &s.send.recipient.name);
        out.push('\t');
        field(out, &s.send.recipient.email);
        out.push('\t');
        match &s.send.recipient.company_name {
            Some(c) => field(out, c),
            None => out.push_str("\\N"),
        }
        out.push('\t');
        field(out, &s.send.sent_via);
        let _ = writeln!(
            out,
            "\t{}\t{}\t{}",
            s.cost,
            s.send.created_at,
            current_status(&s.history).as_str()
        );
        if out.len() >= CHUNK {
            send_rows.push(String::with_capacity(CHUNK + 1024));
        }
        for (k, entry) in s.history.iter().enumerate() {
            let out = update_rows.last_mut().expect("never empty");
            let _ = writeln!(
                out,
                "{}\t{id}\t{}\t{}\t{}",
                org.get(),
                k + 1,
                entry.status.as_str(),
                entry.occurred_at
            );
            updates += 1;
            if out.len() >= CHUNK {
                update_rows.push(String::with_capacity(CHUNK + 1024));
            }
        }
    }
    copy(
        conn,
        "COPY sends (org_id, org_seq, id, version, touch_id, sender_id, recipient_name, \
         recipient_email, recipient_company, sent_via, cost, created_at, status) FROM STDIN",
        &send_rows,
    )
    .await?;
    copy(
        conn,
        "COPY send_status_updates (org_id, send_id, seq, status, occurred_at) FROM STDIN",
        &update_rows,
    )
    .await?;
    if !deadline_rows.is_empty() {
        copy(
            conn,
            "COPY send_deadlines (org_id, send_id, kind, due_at) FROM STDIN",
            &[deadline_rows],
        )
        .await?;
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
        status_updates: updates,
    })
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn copy_text_escapes_the_special_characters() {
        let mut out = String::new();
        field(&mut out, "a\\b\tc\nd\re O'Brien");
        assert_eq!(out, "a\\\\b\\tc\\nd\\re O'Brien");
    }
}
