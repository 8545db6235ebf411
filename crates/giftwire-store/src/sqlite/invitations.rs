//! Invitations on SQLite: the invited user, its invitation and its mail in one transaction; the
//! acceptance that sets the password and activates the user in another.

use async_trait::async_trait;
use giftwire_core::store::{Invitation, InvitationStore, NewInvitation, User};
use giftwire_core::{OrgId, OrgTimeZone, StoreError, TokenHash, UserState};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;

use super::SqliteStore;
use super::accounts::already_signs_in;
use super::directory::insert_user;
use super::errors::{db_err, on_unique};
use crate::flows::SendSql as _;
use crate::records::{self, USER_COLUMN_COUNT, USER_COLUMNS, USER_COLUMNS_U};
use crate::rows::{RowExt, corrupt};

#[async_trait]
impl InvitationStore for SqliteStore {
    async fn invite(&self, org: OrgId, new: NewInvitation) -> Result<User, StoreError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let user = insert_user(tx, org, &new.user, UserState::Invited).await?;
                    sqlx::query(
                        "INSERT INTO invitations (org_id, user_id, token_hash, created_at, expires_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )
                    .bind(org.get())
                    .bind(user.id.get())
                    .bind(new.token_hash.as_bytes().to_vec())
                    .bind(new.created_at.as_second())
                    .bind(new.expires_at.as_second())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    tx.insert_mail(org, None, &new.mail, new.created_at).await?;
                    Ok(user)
                })
            })
            .await
    }

    async fn invitation(&self, token: &TokenHash) -> Result<Option<Invitation>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS_U}, o.name, o.time_zone, i.expires_at, i.accepted_at \
             FROM invitations i JOIN users u ON u.org_id = i.org_id AND u.id = i.user_id \
             JOIN organizations o ON o.id = i.org_id WHERE i.token_hash = ?1"
        )))
        .bind(token.as_bytes().to_vec())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(|row| {
            let user = records::user(&row)?;
            let at = USER_COLUMN_COUNT;
            Ok(Invitation {
                org_id: user.org_id,
                org_name: row.text(at)?,
                time_zone: OrgTimeZone::parse(&row.text(at + 1)?).map_err(corrupt)?,
                expires_at: row.time(at + 2)?,
                accepted_at: row.opt_time(at + 3)?,
                user,
            })
        })
        .transpose()
    }

    async fn accept_invitation(
        &self,
        token: &TokenHash,
        password_hash: String,
        now: Timestamp,
    ) -> Result<User, StoreError> {
        let token = *token;
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let row = sqlx::query(
                        "UPDATE invitations SET accepted_at = ?2 \
                         WHERE token_hash = ?1 AND accepted_at IS NULL AND expires_at > ?2 \
                         RETURNING org_id, user_id",
                    )
                    .bind(token.as_bytes().to_vec())
                    .bind(now.as_second())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .ok_or(StoreError::NotFound("Invitation"))?;
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "UPDATE users SET password_hash = ?3, state = 'active' \
                         WHERE org_id = ?1 AND id = ?2 AND state = 'invited' \
                         RETURNING {USER_COLUMNS}"
                    )))
                    .bind(row.int(0)?)
                    .bind(row.int(1)?)
                    .bind(password_hash)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(|e| on_unique(e, already_signs_in))?
                    .ok_or(StoreError::NotFound("Invitation"))?;
                    records::user(&row)
                })
            })
            .await
    }
}
