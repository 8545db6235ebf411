//! Bearer tokens, stored as hashes, and authentication: how a request finds its principal.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::error::StoreError;
use crate::ids::{AppId, OrgId, TokenId, UserId};
use crate::time::OrgTimeZone;
use crate::token::{Scopes, TokenHash};

#[derive(Debug, Clone)]
pub struct NewToken {
    pub user: UserId,
    pub hash: TokenHash,
    pub scopes: Scopes,
    pub expires_at: Option<Timestamp>,
}

/// A stored token, never the token itself.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub id: TokenId,
    pub user_id: UserId,
    pub org_id: OrgId,
    pub scopes: Scopes,
    pub expires_at: Option<Timestamp>,
}

/// Who a valid token speaks for: the result of authentication.
#[derive(Debug, Clone)]
pub struct Principal {
    pub token_id: TokenId,
    pub user_id: UserId,
    pub org_id: OrgId,
    pub time_zone: OrgTimeZone,
    pub scopes: Scopes,
    /// The OAuth application the token was issued to; `None` for an operator's token.
    pub app_id: Option<AppId>,
    /// When the token stops working, if ever.
    pub expires_at: Option<Timestamp>,
}

#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    async fn create_token(&self, new: NewToken) -> Result<TokenInfo, StoreError>;
    /// Marks a token revoked. System-wide by hash: whoever holds the token may revoke it.
    async fn revoke_token(&self, hash: TokenHash, at: Timestamp) -> Result<(), StoreError>;
    /// The principal of a token that exists, is not revoked and has not expired at `now`.
    /// System-wide by nature: this is how a request finds its organization.
    async fn authenticate(
        &self,
        hash: TokenHash,
        now: Timestamp,
    ) -> Result<Option<Principal>, StoreError>;
}
