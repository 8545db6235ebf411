//! Bearer tokens and authentication on PostgreSQL: tokens are looked up by their hash.

use async_trait::async_trait;
use giftwire_core::store::{NewToken, Principal, TokenInfo, TokenStore};
use giftwire_core::{OrgId, StoreError, TokenHash, TokenId};
use jiff::Timestamp;

use super::PgStore;
use super::errors::{db_err, on_unique};
use crate::records;
use crate::rows::RowExt;

#[async_trait]
impl TokenStore for PgStore {
    async fn create_token(&self, new: NewToken) -> Result<TokenInfo, StoreError> {
        let mut tx = self.tx().await?;
        let org = sqlx::query("SELECT org_id FROM users WHERE id = $1")
            .bind(new.user.get())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound("User"))?
            .int(0)?;
        let row = sqlx::query(
            "INSERT INTO api_tokens (org_id, user_id, token_hash, scopes, expires_at) \
             VALUES ($1, $2, $3, $4, to_timestamp($5)) RETURNING id",
        )
        .bind(org)
        .bind(new.user.get())
        .bind(new.hash.as_bytes().to_vec())
        .bind(new.scopes.to_string())
        .bind(new.expires_at.map(|t| t.as_second() as f64))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| on_unique(e, || "a token with that hash already exists".to_owned()))?;
        let info = TokenInfo {
            id: TokenId::new(row.int(0)?),
            user_id: new.user,
            org_id: OrgId::new(org),
            scopes: new.scopes,
            expires_at: new.expires_at,
        };
        tx.commit().await.map_err(db_err)?;
        Ok(info)
    }

    async fn revoke_token(&self, hash: TokenHash, at: Timestamp) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, to_timestamp($2)) \
             WHERE token_hash = $1",
        )
        .bind(hash.as_bytes().to_vec())
        .bind(at.as_second() as f64)
        .execute(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("Token"));
        }
        Ok(())
    }

    async fn authenticate(
        &self,
        hash: TokenHash,
        now: Timestamp,
    ) -> Result<Option<Principal>, StoreError> {
        let row = sqlx::query(
            "SELECT k.id, k.user_id, k.org_id, k.scopes, o.time_zone, \
                    extract(epoch FROM k.expires_at)::int8, k.app_id \
             FROM api_tokens k JOIN organizations o ON o.id = k.org_id \
             JOIN users u ON u.org_id = k.org_id AND u.id = k.user_id AND u.state = 'active' \
             LEFT JOIN oauth_apps a ON a.id = k.app_id \
             WHERE (k.app_id IS NULL OR a.revoked_at IS NULL) AND k.token_hash = $1 AND k.revoked_at IS NULL \
               AND (k.expires_at IS NULL OR k.expires_at > to_timestamp($2))",
        )
        .bind(hash.as_bytes().to_vec())
        .bind(now.as_second() as f64)
        .fetch_optional(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        row.as_ref().map(records::principal).transpose()
    }
}
