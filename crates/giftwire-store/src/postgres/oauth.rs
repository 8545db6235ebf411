//! OAuth applications, codes and the tokens issued from them, on PostgreSQL.

use async_trait::async_trait;
use giftwire_core::store::{
    App, Code, Exchanged, NewApp, NewCode, NewOAuthToken, OAuthStore, RefreshGrant,
};
use giftwire_core::{AppId, CodeId, OrgId, StoreError, TokenHash, TokenId};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgConnection;

use super::PgStore;
use super::errors::{db_err, on_unique};
use super::sends::org_exists;
use crate::records;
use crate::rows::RowExt;

const APP_COLUMNS: &str = "id, org_id, client_id, secret_hash, name, redirect_uris, scopes, \
                           extract(epoch FROM created_at)::int8, \
                           extract(epoch FROM revoked_at)::int8";
const CODE_COLUMNS: &str = "id, app_id, org_id, user_id, redirect_uri, scopes, code_challenge, \
                            extract(epoch FROM expires_at)::int8, \
                            extract(epoch FROM used_at)::int8";

fn hash(h: &TokenHash) -> Vec<u8> {
    h.as_bytes().to_vec()
}

/// Locks a family (its code's row) until the transaction ends. Every write to a family takes it
/// first: a revocation then waits for a rotation in flight and sees the token it inserted (under
/// READ COMMITTED, an UPDATE alone would miss rows committed after it began).
async fn lock_family(conn: &mut PgConnection, code: CodeId) -> Result<(), StoreError> {
    sqlx::query("SELECT 1 FROM oauth_codes WHERE id = $1 FOR UPDATE")
        .bind(code.get())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

async fn revoke_family(
    conn: &mut PgConnection,
    code: CodeId,
    at: Timestamp,
) -> Result<Vec<TokenHash>, StoreError> {
    lock_family(conn, code).await?;
    let rows = sqlx::query(
        "UPDATE api_tokens SET revoked_at = to_timestamp($2) WHERE code_id = $1 AND revoked_at IS NULL \
         RETURNING token_hash",
    )
    .bind(code.get())
    .bind(at.as_second() as f64)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    records::hashes(&rows)
}

async fn insert_token(conn: &mut PgConnection, token: &NewOAuthToken) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO api_tokens (org_id, user_id, token_hash, scopes, created_at, expires_at, \
                                 app_id, code_id, refresh_hash) \
         VALUES ($1, $2, $3, $4, to_timestamp($5), to_timestamp($6), $7, $8, $9)",
    )
    .bind(token.org.get())
    .bind(token.user.get())
    .bind(hash(&token.access_hash))
    .bind(token.scopes.to_string())
    .bind(token.created_at.as_second() as f64)
    .bind(token.expires_at.as_second() as f64)
    .bind(token.app.get())
    .bind(token.code.get())
    .bind(hash(&token.refresh_hash))
    .execute(&mut *conn)
    .await
    .map_err(|e| on_unique(e, || "a token with that hash already exists".to_owned()))?;
    Ok(())
}

#[async_trait]
impl OAuthStore for PgStore {
    async fn create_app(&self, org: OrgId, new: NewApp) -> Result<App, StoreError> {
        self.write(move |tx| {
            Box::pin(async move {
                org_exists(tx, org).await?;
                let row = sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO oauth_apps (org_id, client_id, secret_hash, name, \
                                                 redirect_uris, scopes, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7)) RETURNING {APP_COLUMNS}"
                )))
                .bind(org.get())
                .bind(&new.client_id)
                .bind(new.secret_hash.as_ref().map(hash))
                .bind(new.name.as_str())
                .bind(new.redirect_uris.join("\n"))
                .bind(new.scopes.to_string())
                .bind(Timestamp::now().as_second() as f64)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| on_unique(e, || "that client_id is taken".to_owned()))?;
                records::app(&row)
            })
        })
        .await
    }

    async fn apps(&self, org: OrgId) -> Result<Vec<App>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {APP_COLUMNS} FROM oauth_apps WHERE org_id = $1 ORDER BY id"
        )))
        .bind(org.get())
        .fetch_all(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        rows.iter().map(records::app).collect()
    }

    async fn app_by_client_id(&self, client_id: &str) -> Result<Option<App>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {APP_COLUMNS} FROM oauth_apps WHERE client_id = $1"
        )))
        .bind(client_id)
        .fetch_optional(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        row.as_ref().map(records::app).transpose()
    }

    async fn revoke_app(
        &self,
        client_id: &str,
        at: Timestamp,
    ) -> Result<Vec<TokenHash>, StoreError> {
        let client_id = client_id.to_owned();
        self.write(move |tx| {
            Box::pin(async move {
                let app = sqlx::query(
                    "UPDATE oauth_apps SET revoked_at = COALESCE(revoked_at, to_timestamp($2)) \
                         WHERE client_id = $1 RETURNING id",
                )
                .bind(&client_id)
                .bind(at.as_second() as f64)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .ok_or(StoreError::NotFound("Application"))?
                .int(0)?;
                let rows = sqlx::query(
                    "UPDATE api_tokens SET revoked_at = to_timestamp($2) \
                         WHERE app_id = $1 AND revoked_at IS NULL RETURNING token_hash",
                )
                .bind(app)
                .bind(at.as_second() as f64)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
                records::hashes(&rows)
            })
        })
        .await
    }

    async fn create_code(&self, new: NewCode) -> Result<(), StoreError> {
        self.write(move |tx| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO oauth_codes (app_id, org_id, user_id, code_hash, redirect_uri, \
                                                  scopes, code_challenge, created_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8), to_timestamp($9))",
                )
                .bind(new.app.get())
                .bind(new.org.get())
                .bind(new.user.get())
                .bind(hash(&new.hash))
                .bind(&new.redirect_uri)
                .bind(new.scopes.to_string())
                .bind(&new.challenge)
                .bind(new.created_at.as_second() as f64)
                .bind(new.expires_at.as_second() as f64)
                .execute(&mut *tx)
                .await
                .map_err(|e| on_unique(e, || "a code with that hash already exists".to_owned()))?;
                Ok(())
            })
        })
        .await
    }

    async fn code(&self, code_hash: TokenHash) -> Result<Option<Code>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CODE_COLUMNS} FROM oauth_codes WHERE code_hash = $1"
        )))
        .bind(hash(&code_hash))
        .fetch_optional(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        row.as_ref().map(records::code).transpose()
    }

    async fn redeem_code(
        &self,
        code: CodeId,
        at: Timestamp,
        token: NewOAuthToken,
    ) -> Result<Exchanged, StoreError> {
        self.write(move |tx| {
                Box::pin(async move {
                    lock_family(tx, code).await?;
                    let fresh = sqlx::query(
                        "UPDATE oauth_codes SET used_at = to_timestamp($2) WHERE id = $1 AND used_at IS NULL",
                    )
                    .bind(code.get())
                    .bind(at.as_second() as f64)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected()
                        == 1;
                    if !fresh {
                        let revoked = revoke_family(tx, code, at).await?;
                        return Ok(Exchanged {
                            issued: false,
                            revoked,
                        });
                    }
                    insert_token(tx, &token).await?;
                    Ok(Exchanged {
                        issued: true,
                        revoked: Vec::new(),
                    })
                })
            })
            .await
    }

    async fn revoke_family(
        &self,
        code: CodeId,
        at: Timestamp,
    ) -> Result<Vec<TokenHash>, StoreError> {
        self.write(move |tx| Box::pin(revoke_family(tx, code, at)))
            .await
    }

    async fn refresh_grant(&self, refresh: TokenHash) -> Result<Option<RefreshGrant>, StoreError> {
        let row = sqlx::query(
            "SELECT id, app_id, org_id, user_id, code_id, scopes, \
                    (refreshed_at IS NOT NULL OR revoked_at IS NOT NULL)::int4::int8 \
             FROM api_tokens WHERE refresh_hash = $1",
        )
        .bind(hash(&refresh))
        .fetch_optional(&mut *self.pool.acquire().await?)
        .await
        .map_err(db_err)?;
        row.as_ref().map(records::refresh_grant).transpose()
    }

    async fn rotate(
        &self,
        old: TokenId,
        at: Timestamp,
        token: NewOAuthToken,
    ) -> Result<Exchanged, StoreError> {
        self.write(move |tx| {
                Box::pin(async move {
                    lock_family(tx, token.code).await?;
                    let retired = sqlx::query(
                        "UPDATE api_tokens SET refreshed_at = to_timestamp($3), revoked_at = to_timestamp($3) \
                         WHERE org_id = $1 AND id = $2 \
                           AND refreshed_at IS NULL AND revoked_at IS NULL \
                         RETURNING token_hash",
                    )
                    .bind(token.org.get())
                    .bind(old.get())
                    .bind(at.as_second() as f64)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    if retired.is_empty() {
                        let revoked = revoke_family(tx, token.code, at).await?;
                        return Ok(Exchanged {
                            issued: false,
                            revoked,
                        });
                    }
                    insert_token(tx, &token).await?;
                    Ok(Exchanged {
                        issued: true,
                        revoked: records::hashes(&retired)?,
                    })
                })
            })
            .await
    }

    async fn revoke_app_token(
        &self,
        app: AppId,
        token: TokenHash,
        at: Timestamp,
    ) -> Result<Vec<TokenHash>, StoreError> {
        self.write(move |tx| {
                Box::pin(async move {
                    let Some(row) = sqlx::query(
                        "SELECT id, code_id, COALESCE(refresh_hash = $2, false)::int4::int8 FROM api_tokens \
                         WHERE app_id = $1 AND (token_hash = $2 OR refresh_hash = $2)",
                    )
                    .bind(app.get())
                    .bind(hash(&token))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?
                    else {
                        return Ok(Vec::new());
                    };
                    let (id, code, is_refresh) = (row.int(0)?, row.opt_int(1)?, row.int(2)? != 0);
                    match code {
                        Some(code) if is_refresh => revoke_family(tx, CodeId::new(code), at).await,
                        _ => {
                            let rows = sqlx::query(
                                "UPDATE api_tokens SET revoked_at = to_timestamp($2) \
                                 WHERE id = $1 AND revoked_at IS NULL RETURNING token_hash",
                            )
                            .bind(id)
                            .bind(at.as_second() as f64)
                            .fetch_all(&mut *tx)
                            .await
                            .map_err(db_err)?;
                            records::hashes(&rows)
                        }
                    }
                })
            })
            .await
    }
}
