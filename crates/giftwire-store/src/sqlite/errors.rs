//! SQLite's errors as [`StoreError`]s: what can pass by waiting is `Unavailable`.

use giftwire_core::StoreError;

/// SQLite's primary result code of a database error (the low byte of the extended code).
fn primary_code(e: &sqlx::Error) -> Option<i64> {
    match e {
        sqlx::Error::Database(db) => db.code()?.parse::<i64>().ok().map(|c| c & 0xff),
        _ => None,
    }
}

const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_IOERR: i64 = 10;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;
const SQLITE_CONSTRAINT_UNIQUE: i64 = 2067;

/// Classifies an error: what can pass by waiting is `Unavailable`, the rest `Internal`.
pub(super) fn db_err(e: sqlx::Error) -> StoreError {
    let unavailable = matches!(
        e,
        sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::WorkerCrashed
    ) || matches!(
        primary_code(&e),
        Some(SQLITE_BUSY | SQLITE_LOCKED | SQLITE_IOERR | SQLITE_FULL | SQLITE_CANTOPEN)
    );
    if unavailable {
        StoreError::Unavailable(Box::new(e))
    } else {
        StoreError::Internal(Box::new(e))
    }
}

/// Maps a uniqueness violation to `Conflict` with the caller's message; anything else as
/// [`db_err`] does.
pub(super) fn on_unique(e: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
    let unique = match &e {
        sqlx::Error::Database(db) => {
            db.code().and_then(|c| c.parse::<i64>().ok()) == Some(SQLITE_CONSTRAINT_UNIQUE)
        }
        _ => false,
    };
    if unique {
        StoreError::Conflict(message())
    } else {
        db_err(e)
    }
}
