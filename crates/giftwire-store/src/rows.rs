//! Reading columns into domain types, the same way for both backends. Each backend selects its
//! columns in the same order and with the same types (integers, text), converting in SQL where
//! its storage differs (PostgreSQL's `timestamptz` and `numeric`).

use std::str::FromStr;

use giftwire_core::{InvalidValue, StoreError, TokenHash};
use jiff::Timestamp;
use sqlx::Row as _;

/// Typed access to the columns of a row by position.
pub(crate) trait RowExt {
    fn int(&self, idx: usize) -> Result<i64, StoreError>;
    fn opt_int(&self, idx: usize) -> Result<Option<i64>, StoreError>;
    fn text(&self, idx: usize) -> Result<String, StoreError>;
    fn opt_text(&self, idx: usize) -> Result<Option<String>, StoreError>;
    fn opt_bytes(&self, idx: usize) -> Result<Option<Vec<u8>>, StoreError>;
    /// A text column parsed into a domain type; a value that does not parse is a corrupt row.
    fn parsed<T: FromStr<Err = InvalidValue>>(&self, idx: usize) -> Result<T, StoreError>;

    /// An integer column of UTC seconds.
    fn time(&self, idx: usize) -> Result<Timestamp, StoreError> {
        Timestamp::from_second(self.int(idx)?).map_err(|e| StoreError::Internal(Box::new(e)))
    }

    /// An integer column of UTC seconds, or null.
    fn opt_time(&self, idx: usize) -> Result<Option<Timestamp>, StoreError> {
        self.opt_int(idx)?
            .map(Timestamp::from_second)
            .transpose()
            .map_err(|e| StoreError::Internal(Box::new(e)))
    }

    /// A SHA-256 hash column, or null.
    fn opt_hash(&self, idx: usize) -> Result<Option<TokenHash>, StoreError> {
        self.opt_bytes(idx)?
            .map(|b| {
                <[u8; 32]>::try_from(b.as_slice())
                    .map(TokenHash)
                    .map_err(|_| {
                        StoreError::Internal("corrupt row: a hash of the wrong size".into())
                    })
            })
            .transpose()
    }
}

fn decode_err(e: sqlx::Error) -> StoreError {
    StoreError::Internal(Box::new(e))
}

macro_rules! impl_row_ext {
    ($row:ty) => {
        impl RowExt for $row {
            fn int(&self, idx: usize) -> Result<i64, StoreError> {
                self.try_get(idx).map_err(decode_err)
            }
            fn opt_int(&self, idx: usize) -> Result<Option<i64>, StoreError> {
                self.try_get(idx).map_err(decode_err)
            }
            fn text(&self, idx: usize) -> Result<String, StoreError> {
                self.try_get(idx).map_err(decode_err)
            }
            fn opt_text(&self, idx: usize) -> Result<Option<String>, StoreError> {
                self.try_get(idx).map_err(decode_err)
            }
            fn opt_bytes(&self, idx: usize) -> Result<Option<Vec<u8>>, StoreError> {
                self.try_get(idx).map_err(decode_err)
            }
            fn parsed<T: FromStr<Err = InvalidValue>>(&self, idx: usize) -> Result<T, StoreError> {
                let s: &str = self.try_get(idx).map_err(decode_err)?;
                s.parse().map_err(corrupt)
            }
        }
    };
}

impl_row_ext!(sqlx::sqlite::SqliteRow);
impl_row_ext!(sqlx::postgres::PgRow);

/// A stored value that the domain refuses: the database was written by something else.
pub(crate) fn corrupt(e: InvalidValue) -> StoreError {
    StoreError::Internal(format!("corrupt row: {e}").into())
}
