//! PostgreSQL's errors as [`StoreError`]s: what can pass by waiting (a server restarting, too
//! many connections, a lost connection) is `Unavailable`.

use giftwire_core::StoreError;

/// Whether a SQLSTATE says the server cannot serve now rather than that the request is wrong:
/// it is unreachable or going away, out of resources or storage, the storage failed under it,
/// or the statement lost a race or a lock that a retry can win. docs/RELIABILITY.md lists them.
fn transient(code: &str) -> bool {
    code.starts_with("08") // connection exception
        || code.starts_with("53") // insufficient resources: disk full, out of memory, too many connections
        || code.starts_with("57P") // operator intervention: shutdown, crash of another backend, cannot connect now
        || code == "57014" // query canceled (statement timeout, or cancelled by an operator)
        || code.starts_with("58") // system error: I/O error, a file missing under the server
        || code == "XX001" // data corrupted
        || code == "XX002" // index corrupted
        || code == "40001" // serialization failure
        || code == "40P01" // deadlock detected
        || code == "55P03" // lock not available
}

/// Whether an error of a connection attempt says the server cannot be reached at all (rather
/// than that it refused this connection): what shuts the pool's [`Gate`](super::gate::Gate).
/// A pool timeout is the gate's own question.
pub(super) fn unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        // Not 53300 (too many connections): the server is there, and the pool's own
        // connections may still serve.
        sqlx::Error::Database(db) => db.code().is_some_and(|c| {
            c.starts_with("08") // connection exception
                || c.starts_with("57P") // shutting down, cannot connect now
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

#[cfg(test)]
mod tests {
    use super::transient;

    #[test]
    fn storage_and_availability_codes_are_transient_and_client_errors_are_not() {
        for code in [
            "08000", "08006", "08P01", "53100", "53200", "53300", "57P01", "57P02", "57P03",
            "57014", "58030", "58P01", "XX001", "XX002", "40001", "40P01", "55P03",
        ] {
            assert!(transient(code), "{code}");
        }
        // Our defects (syntax, undefined column, constraint other than unique), not the server's.
        for code in [
            "42601", "42703", "23502", "23503", "22P02", "XX000", "25P02",
        ] {
            assert!(!transient(code), "{code}");
        }
    }
}
