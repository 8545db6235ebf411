//! What both backends' connection pools share: the check that decides whether a connection
//! handed back to the pool may serve the next request.

use sqlx::Connection;

/// Whether a connection coming back to the pool can be reused.
///
/// A transaction whose `COMMIT` failed (disk full, read-only file, I/O error) is rolled back
/// when it is dropped; when that rollback fails too (SQLite has often rolled the transaction
/// back by itself, so there is nothing left to roll back), sqlx still counts the connection
/// as inside a transaction and refuses every later `BEGIN` on it. Such a connection is closed
/// here instead of being reused, so that one failed commit costs one request, not every
/// later one. The ping first runs whatever rollback is still queued on the connection.
pub(crate) async fn reusable<C: Connection>(conn: &mut C) -> Result<bool, sqlx::Error> {
    conn.ping().await?;
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::warn!("closing a database connection left inside a failed transaction");
    }
    Ok(clean)
}
