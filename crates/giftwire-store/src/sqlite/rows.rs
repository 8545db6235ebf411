//! Reading columns into domain types, and turning SQLite's errors into [`StoreError`]s.

use std::str::FromStr;

use giftwire_core::{InvalidValue, StoreError};
use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, Row, Sqlite, Type};

/// A column by position.
pub(super) fn col<'r, T>(row: &'r SqliteRow, idx: usize) -> Result<T, StoreError>
where
    T: Decode<'r, Sqlite> + Type<Sqlite>,
{
    row.try_get(idx)
        .map_err(|e| StoreError::Internal(Box::new(e)))
}

/// A text column parsed into a domain type; a value that does not parse is a corrupt row.
pub(super) fn parse_col<T>(row: &SqliteRow, idx: usize) -> Result<T, StoreError>
where
    T: FromStr<Err = InvalidValue>,
{
    let s: &str = col(row, idx)?;
    s.parse().map_err(corrupt)
}

/// An INTEGER column of UTC seconds.
pub(super) fn time_col(row: &SqliteRow, idx: usize) -> Result<Timestamp, StoreError> {
    let secs: i64 = col(row, idx)?;
    Timestamp::from_second(secs).map_err(|e| StoreError::Internal(Box::new(e)))
}

/// A stored value that the domain refuses: the database was written by something else.
pub(super) fn corrupt(e: InvalidValue) -> StoreError {
    StoreError::Internal(format!("corrupt row: {e}").into())
}

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
