//! PostgreSQL's errors as [`StoreError`]s: what can pass by waiting (a server restarting, too
//! many connections, a lost connection) is `Unavailable`.

use giftwire_core::StoreError;

/// Whether a SQLSTATE says the server cannot serve now rather than that the request is wrong.
fn transient(code: &str) -> bool {
    code.starts_with("08") // connection exception
        || code.starts_with("53") // insufficient resources (too many connections, disk full)
        || code.starts_with("57P") // operator intervention: shutdown, cannot connect now
        || code == "40001" // serialization failure
        || code == "40P01" // deadlock detected
        || code == "55P03" // lock not available
}

/// Whether an error says the server cannot be reached at all (rather than that one statement
/// failed): what shuts the pool's [`Gate`](crate::pool::Gate).
pub(super) fn unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| {
            c.starts_with("08") // connection exception
                || c.starts_with("57P") // shutting down, cannot connect now
                || c == "53300" // too many connections
        }),
        _ => false,
    }
}

pub(super) fn db_err(e: sqlx::Error) -> StoreError {
    let unavailable = match &e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| transient(&c)),
        _ => false,
    };
    if unavailable {
        StoreError::Unavailable(Box::new(e))
    } else {
        StoreError::Internal(Box::new(e))
    }
}

/// Maps a uniqueness violation (23505) to `Conflict` with the caller's message.
pub(super) fn on_unique(e: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
            StoreError::Conflict(message())
        }
        _ => db_err(e),
    }
}
