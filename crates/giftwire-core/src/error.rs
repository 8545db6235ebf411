//! The errors of the domain: a value that failed to parse, and what a store can refuse.

use crate::lifecycle::LifecycleError;

/// A value that is not one of the accepted forms, with what it was meant to be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} is invalid (got {value:?})")]
pub struct InvalidValue {
    /// The field or kind of value, as the client names it (`status`, `time_zone`, ...).
    pub what: &'static str,
    /// The offending input, truncated to a readable length.
    pub value: String,
}

impl InvalidValue {
    pub fn new(what: &'static str, value: &str) -> Self {
        let value = match value.char_indices().nth(80) {
            Some((cut, _)) => format!("{}…", &value[..cut]),
            None => value.to_owned(),
        };
        InvalidValue { what, value }
    }
}

/// What a store operation can fail with. Variants name what the caller does with it; the
/// source of an `Unavailable` or `Internal` error is for logs only.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist, or belongs to another organization (the two are the same to a caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule refused the write (e.g. a user's email in an organization).
    #[error("{0}")]
    Conflict(String),
    /// A rule of the data refused the write, for a reason the client can fix (a balance that
    /// cannot cover a send); nothing was written. The message says why.
    #[error("{0}")]
    Refused(String),
    /// The lifecycle refused a status change; nothing was written.
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    /// The database cannot be reached or is busy; retrying later may succeed.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else: a bug or a corrupted database.
    #[error("database error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The source of an `Unavailable` error answered at once, without trying the database, because
/// it is known to be unreachable (its outage is logged once, where it was noticed).
#[derive(Debug, thiserror::Error)]
#[error("the {database} database has been unreachable for {secs:.1} s")]
pub struct Unreachable {
    /// Which database (`primary`, `replica`).
    pub database: &'static str,
    pub secs: f64,
}
