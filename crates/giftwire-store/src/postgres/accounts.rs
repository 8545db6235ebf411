//! Passwords and sessions on PostgreSQL.

use async_trait::async_trait;
use giftwire_core::store::{AccountStore, NewSession, PasswordUser, User};
use giftwire_core::{StoreError, TokenHash, UserId};
use jiff::Timestamp;

use super::PgStore;
use super::errors::{db_err, on_unique};
use crate::records::{self, USER_COLUMNS_U};
use crate::rows::RowExt;

#[async_trait]
impl AccountStore for PgStore {
    async fn set_password(&self, user: UserId, password_hash: String) -> Result<(), StoreError> {
        self.write(move |tx| {
            Box::pin(async move {
                let done = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                    .bind(user.get())
                    .bind(password_hash)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| on_unique(e, already_signs_in))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("User"));
                }
                Ok(())
            })
        })
        .await
    }

    async fn password_user(&self, email: &str) -> Result<Option<PasswordUser>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS_U}, u.password_hash FROM users u \
             WHERE lower(u.email) = lower($1) AND u.password_hash IS NOT NULL AND u.state = 'active'"
        )))
        .bind(email)
        .fetch_optional(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        row.map(|row| {
            Ok(PasswordUser {
                user: records::user(&row)?,
                password_hash: row.text(records::USER_COLUMN_COUNT)?,
            })
        })
        .transpose()
    }

    async fn create_session(&self, new: NewSession) -> Result<(), StoreError> {
        self.write(move |tx| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO sessions (session_hash, org_id, user_id, created_at, expires_at) \
                         SELECT $1, org_id, id, to_timestamp($3), to_timestamp($4) FROM users WHERE id = $2",
                    )
                    .bind(new.hash.as_bytes().to_vec())
                    .bind(new.user.get())
                    .bind(new.created_at.as_second() as f64)
                    .bind(new.expires_at.as_second() as f64)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    // Sessions past their end are of no use to anyone.
                    sqlx::query("DELETE FROM sessions WHERE expires_at <= to_timestamp($1)")
                        .bind(new.created_at.as_second() as f64)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                })
            })
            .await
    }

    async fn session_user(
        &self,
        hash: TokenHash,
        now: Timestamp,
    ) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS_U} FROM sessions s \
             JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id AND u.state = 'active' \
             WHERE s.session_hash = $1 AND s.expires_at > to_timestamp($2)"
        )))
        .bind(hash.as_bytes().to_vec())
        .bind(now.as_second() as f64)
        .fetch_optional(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        row.as_ref().map(records::user).transpose()
    }

    async fn end_session(&self, hash: TokenHash) -> Result<(), StoreError> {
        self.write(move |tx| {
            Box::pin(async move {
                sqlx::query("DELETE FROM sessions WHERE session_hash = $1")
                    .bind(hash.as_bytes().to_vec())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                Ok(())
            })
        })
        .await
    }
}

pub(super) fn already_signs_in() -> String {
    "another user with this email address already has a password: an email address signs in \
     to one account"
        .to_owned()
}
