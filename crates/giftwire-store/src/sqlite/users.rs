//! Users as the API lists them, on SQLite.

use async_trait::async_trait;
use giftwire_core::store::{Listed, User, UserStore};
use giftwire_core::{OrgId, PageRequest, StoreError, UserId, UserState};
use sqlx::AssertSqlSafe;

use super::SqliteStore;
use super::errors::db_err;
use crate::records::{self, USER_COLUMNS};
use crate::rows::RowExt;

#[async_trait]
impl UserStore for SqliteStore {
    async fn user(&self, org: OrgId, id: UserId) -> Result<User, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE org_id = ?1 AND id = ?2"
        )))
        .bind(org.get())
        .bind(id.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("User"))?;
        records::user(&row)
    }

    async fn set_user_state(
        &self,
        org: OrgId,
        id: UserId,
        state: UserState,
    ) -> Result<User, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "UPDATE users SET state = ?3 \
                         WHERE org_id = ?1 AND id = ?2 AND state <> 'invited' \
                         RETURNING {USER_COLUMNS}"
                    )))
                    .bind(org.get())
                    .bind(id.get())
                    .bind(state.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .ok_or(StoreError::NotFound("User"))?;
                    records::user(&row)
                })
            })
            .await
    }

    async fn active_users(
        &self,
        org: OrgId,
        page: PageRequest,
    ) -> Result<Listed<User>, StoreError> {
        let mut tx = self.read_tx().await?;
        let total =
            sqlx::query("SELECT count(*) FROM users WHERE org_id = ?1 AND state = 'active'")
                .bind(org.get())
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?
                .int(0)?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE org_id = ?1 AND state = 'active' \
             ORDER BY id LIMIT ?2 OFFSET ?3"
        )))
        .bind(org.get())
        .bind(i64::from(page.per_page()))
        .bind(page.offset() as i64)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Listed {
            total: total as u64,
            items: rows.iter().map(records::user).collect::<Result<_, _>>()?,
        })
    }
}
