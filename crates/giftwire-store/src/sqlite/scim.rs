//! SCIM provisioning on SQLite.

use async_trait::async_trait;
use giftwire_core::store::{ScimStore, ScimUser, ScimUserData};
use giftwire_core::{OrgId, StoreError, TeamId, UserId};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use sqlx::sqlite::SqliteConnection;

use super::SqliteStore;
use super::errors::{db_err, on_unique};
use super::sends::org_exists;
use crate::records::{self, USER_COLUMNS_U};
use crate::rows::RowExt;

/// A SCIM user's columns, from `users u` joined with its team `tm`.
fn select() -> String {
    format!(
        "SELECT {USER_COLUMNS_U}, tm.name, u.external_id, u.user_type, u.created_at, \
                COALESCE(u.updated_at, u.created_at), COALESCE(u.scim_user_name, u.email), \
                u.scim_emails, u.scim_active_shown \
         FROM users u LEFT JOIN teams tm ON tm.org_id = u.org_id AND tm.id = u.team_id \
         WHERE u.org_id = ?1 AND u.scim_deleted_at IS NULL"
    )
}

async fn load(conn: &mut SqliteConnection, org: OrgId, id: UserId) -> Result<ScimUser, StoreError> {
    let row = sqlx::query(AssertSqlSafe(format!("{} AND u.id = ?2", select())))
        .bind(org.get())
        .bind(id.get())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("User"))?;
    records::scim_user(&row)
}

/// Orders the SCIM writes of an organization (SQLite's writer already does; this checks the
/// organization exists).
async fn lock_org(conn: &mut SqliteConnection, org: OrgId) -> Result<(), StoreError> {
    org_exists(conn, org).await
}

fn taken(user_name: &str) -> String {
    format!("userName {user_name:?} is already taken")
}

/// Writes everything SCIM sets of a user; its names and team are shown with its sends, so
/// cached pages of the organization are invalidated.
async fn write(
    conn: &mut SqliteConnection,
    org: OrgId,
    id: UserId,
    data: &ScimUserData,
    now: Timestamp,
) -> Result<(), StoreError> {
    let other = sqlx::query(
        "SELECT 1 FROM users WHERE org_id = ?1 AND id <> ?2 AND scim_deleted_at IS NULL \
         AND lower(COALESCE(scim_user_name, email)) = lower(?3)",
    )
    .bind(org.get())
    .bind(id.get())
    .bind(&data.user_name)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?;
    if other.is_some() {
        return Err(StoreError::Conflict(taken(&data.user_name)));
    }
    let emails = data
        .emails
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Internal(Box::new(e)))?;
    let done = sqlx::query(
        "UPDATE users SET name = ?3, first_name = ?4, last_name = ?5, email = ?6, role = ?7, \
                team_id = ?8, external_id = ?9, user_type = ?10, \
                state = COALESCE(?11, state), updated_at = ?12, \
                scim_user_name = ?13, scim_emails = ?14, scim_active_shown = ?15, \
                scim_deleted_at = NULL \
         WHERE org_id = ?1 AND id = ?2",
    )
    .bind(org.get())
    .bind(id.get())
    .bind(data.display_name())
    .bind(&data.first_name)
    .bind(&data.last_name)
    .bind(data.email.as_str())
    .bind(data.role.as_str())
    .bind(data.team.map(TeamId::get))
    .bind(data.external_id.as_deref())
    .bind(data.user_type.map(|t| t.as_str()))
    .bind(data.state.map(|s| s.as_str()))
    .bind(now.as_second())
    .bind(&data.user_name)
    .bind(emails)
    .bind(i64::from(data.active_shown))
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        on_unique(e, || {
            format!("email {:?} is already taken", data.email.as_str())
        })
    })?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("User"));
    }
    sqlx::query("UPDATE organizations SET catalog_version = catalog_version + 1 WHERE id = ?1")
        .bind(org.get())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl ScimStore for SqliteStore {
    async fn scim_users(&self, org: OrgId) -> Result<Vec<ScimUser>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!("{} ORDER BY u.id", select())))
            .bind(org.get())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(records::scim_user).collect()
    }

    async fn scim_user(&self, org: OrgId, id: UserId) -> Result<ScimUser, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        load(&mut conn, org, id).await
    }

    async fn scim_create(
        &self,
        org: OrgId,
        data: ScimUserData,
        now: Timestamp,
    ) -> Result<ScimUser, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    lock_org(tx, org).await?;
                    let existing = sqlx::query(
                        "SELECT id, scim_deleted_at IS NOT NULL FROM users WHERE org_id = ?1 \
                         AND lower(COALESCE(scim_user_name, email)) = lower(?2) \
                         ORDER BY scim_deleted_at IS NOT NULL, id LIMIT 1",
                    )
                    .bind(org.get())
                    .bind(&data.user_name)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    let id = match existing {
                        Some(row) if row.int(1)? == 0 => {
                            return Err(StoreError::Conflict(taken(&data.user_name)));
                        }
                        // Deleted over SCIM: brought back.
                        Some(row) => UserId::new(row.int(0)?),
                        None => {
                            let row = sqlx::query(
                                "INSERT INTO users (org_id, name, first_name, last_name, email, \
                                                    role, state, key, created_at) \
                                 VALUES (?1, ?2, '', '', ?3, 'regular', 'active', \
                                         lower(hex(randomblob(16))), ?4) RETURNING id",
                            )
                            .bind(org.get())
                            .bind(data.display_name())
                            .bind(data.email.as_str())
                            .bind(now.as_second())
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(|e| {
                                on_unique(e, || {
                                    format!("email {:?} is already taken", data.email.as_str())
                                })
                            })?;
                            UserId::new(row.int(0)?)
                        }
                    };
                    write(tx, org, id, &data, now).await?;
                    load(tx, org, id).await
                })
            })
            .await
    }

    async fn scim_replace(
        &self,
        org: OrgId,
        id: UserId,
        fingerprint: String,
        data: ScimUserData,
        now: Timestamp,
    ) -> Result<ScimUser, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    lock_org(tx, org).await?;
                    if load(tx, org, id).await?.fingerprint() != fingerprint {
                        return Err(StoreError::Conflict(
                            "the user changed while this request was made: read it again".into(),
                        ));
                    }
                    write(tx, org, id, &data, now).await?;
                    load(tx, org, id).await
                })
            })
            .await
    }

    async fn scim_delete(&self, org: OrgId, id: UserId, now: Timestamp) -> Result<(), StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    lock_org(tx, org).await?;
                    let done = sqlx::query(
                        "UPDATE users SET state = 'deactivated', scim_deleted_at = ?3, \
                                updated_at = ?3 \
                         WHERE org_id = ?1 AND id = ?2 AND scim_deleted_at IS NULL",
                    )
                    .bind(org.get())
                    .bind(id.get())
                    .bind(now.as_second())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound("User"));
                    }
                    Ok(())
                })
            })
            .await
    }

    async fn team_named(&self, org: OrgId, name: &str) -> Result<Option<TeamId>, StoreError> {
        let row =
            sqlx::query("SELECT id FROM teams WHERE org_id = ?1 AND name = ?2 ORDER BY id LIMIT 1")
                .bind(org.get())
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        row.map(|r| r.int(0).map(TeamId::new)).transpose()
    }
}
