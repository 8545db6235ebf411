//! SQLite's errors as [`StoreError`]s. A failure of the storage under the database (disk full,
//! read-only or missing files, I/O errors, a lock held beyond the busy timeout) is
//! `Unavailable`: the client is not at fault and the same request succeeds once the cause is
//! gone. What remains (SQL errors, constraint violations other than the ones mapped to
//! conflicts) is a defect of ours and `Internal`. docs/RELIABILITY.md lists the mapping.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
const SQLITE_NOMEM: i64 = 7;
const SQLITE_READONLY: i64 = 8;
const SQLITE_INTERRUPT: i64 = 9;
const SQLITE_IOERR: i64 = 10;
const SQLITE_CORRUPT: i64 = 11;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;
const SQLITE_PROTOCOL: i64 = 15;
const SQLITE_NOTADB: i64 = 26;
const SQLITE_CONSTRAINT_UNIQUE: i64 = 2067;

/// Whether a primary result code says the storage cannot serve now.
fn storage_failure(code: i64) -> bool {
    matches!(
        code,
        SQLITE_BUSY
            | SQLITE_LOCKED
            | SQLITE_NOMEM
            | SQLITE_READONLY
            | SQLITE_INTERRUPT
            | SQLITE_IOERR
            | SQLITE_CORRUPT
            | SQLITE_FULL
            | SQLITE_CANTOPEN
            | SQLITE_PROTOCOL
            | SQLITE_NOTADB
    )
}

/// Whether a failure leaves the connection that saw it suspect: a fault of the files under the
/// database rather than contention for its lock (busy, locked), which passes by itself.
fn storage_fault(code: i64) -> bool {
    storage_failure(code) && !matches!(code, SQLITE_BUSY | SQLITE_LOCKED)
}

/// The process's clock for [`FAULT_AT`].
static EPOCH: OnceLock<Instant> = OnceLock::new();
/// When this process last saw a storage fault, in nanoseconds after [`EPOCH`] plus one (0:
/// never). Process-wide, like the files it is about: a connection of any pool of this process
/// that was open at that moment is replaced rather than reused.
static FAULT_AT: AtomicU64 = AtomicU64::new(0);

fn note_fault() {
    let epoch = EPOCH.get_or_init(Instant::now);
    let nanos = u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1);
    FAULT_AT.store(nanos + 1, Ordering::Release);
}

/// Whether this process has seen a storage fault at all.
pub(super) fn faults_seen() -> bool {
    FAULT_AT.load(Ordering::Acquire) != 0
}

/// Whether a connection opened `age` ago was open at this process's last storage fault.
pub(super) fn lived_through_fault(age: Duration) -> bool {
    let at = FAULT_AT.load(Ordering::Acquire);
    let Some(epoch) = EPOCH.get() else {
        return false;
    };
    if at == 0 {
        return false;
    }
    let since_fault = epoch.elapsed().saturating_sub(Duration::from_nanos(at - 1));
    age >= since_fault
}

/// Classifies an error: storage failures are `Unavailable`, the rest `Internal`. A storage
/// fault is noted so that the connections that lived through it are replaced.
pub(super) fn db_err(e: sqlx::Error) -> StoreError {
    let code = primary_code(&e);
    if code.is_some_and(storage_fault) || matches!(e, sqlx::Error::Io(_)) {
        note_fault();
    }
    let unavailable = matches!(
        e,
        sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::WorkerCrashed
    ) || code.is_some_and(storage_failure);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_failures_are_the_environmental_codes() {
        for code in [5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 26] {
            assert!(storage_failure(code), "{code}");
        }
        // SQLITE_ERROR (bad SQL), INTERNAL, PERM, ABORT, SCHEMA, TOOBIG, CONSTRAINT, MISMATCH,
        // MISUSE, RANGE: our defects, not the storage's.
        for code in [1, 2, 3, 4, 17, 18, 19, 20, 21, 25] {
            assert!(!storage_failure(code), "{code}");
        }
    }
}
