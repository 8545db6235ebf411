//! The OAuth 2.0 authorization server's records: applications (clients), authorization codes and
//! the tokens issued from them. Secrets, codes and tokens are stored as SHA-256 hashes only.
//!
//! Every token obtained from a code, and every token obtained by refreshing one of those, carries
//! the code's id: a family, revoked as a whole when a code is presented twice or a rotated refresh
//! token comes back. Operations that revoke answer the hashes of the access tokens they revoked,
//! so that the server can forget them in its cache at once.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::error::StoreError;
use crate::ids::{AppId, CodeId, OrgId, TokenId, UserId};
use crate::text::Name;
use crate::token::{Scopes, TokenHash};

#[derive(Debug, Clone)]
pub struct NewApp {
    pub client_id: String,
    /// `None`: a public client (no secret; PKCE required).
    pub secret_hash: Option<TokenHash>,
    pub name: Name,
    /// Exact URIs a code may be sent to.
    pub redirect_uris: Vec<String>,
    /// What the application may ever request.
    pub scopes: Scopes,
}

#[derive(Debug, Clone)]
pub struct App {
    pub id: AppId,
    pub org_id: OrgId,
    pub client_id: String,
    pub secret_hash: Option<TokenHash>,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Scopes,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl App {
    pub fn confidential(&self) -> bool {
        self.secret_hash.is_some()
    }
}

#[derive(Debug, Clone)]
pub struct NewCode {
    pub app: AppId,
    pub org: OrgId,
    pub user: UserId,
    pub hash: TokenHash,
    pub redirect_uri: String,
    pub scopes: Scopes,
    /// The PKCE `S256` challenge, when the client sent one.
    pub challenge: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct Code {
    pub id: CodeId,
    pub app_id: AppId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub redirect_uri: String,
    pub scopes: Scopes,
    pub challenge: Option<String>,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// An access token and its refresh token, to store (hashes only).
#[derive(Debug, Clone)]
pub struct NewOAuthToken {
    pub app: AppId,
    pub org: OrgId,
    pub user: UserId,
    /// The code of the family.
    pub code: CodeId,
    pub scopes: Scopes,
    pub access_hash: TokenHash,
    pub refresh_hash: TokenHash,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// What a refresh token stands for.
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub token_id: TokenId,
    pub app_id: AppId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub code_id: CodeId,
    pub scopes: Scopes,
    /// Already exchanged for a new pair, or revoked: presenting it again is a reuse.
    pub spent: bool,
}

/// The outcome of exchanging a code or a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchanged {
    /// Whether the new pair is stored. `false`: the code or refresh token had already been
    /// used, and its family is revoked.
    pub issued: bool,
    /// The access tokens that stopped working: the family's on a reuse, the retired pair's on a
    /// rotation.
    pub revoked: Vec<TokenHash>,
}

#[async_trait]
pub trait OAuthStore: Send + Sync + 'static {
    async fn create_app(&self, org: OrgId, new: NewApp) -> Result<App, StoreError>;
    /// The organization's applications, revoked ones included, by id.
    async fn apps(&self, org: OrgId) -> Result<Vec<App>, StoreError>;
    /// System-wide by nature: a `client_id` is how a request names its application.
    async fn app_by_client_id(&self, client_id: &str) -> Result<Option<App>, StoreError>;
    /// Revokes an application and every token issued to it (system-wide, by `client_id`).
    async fn revoke_app(
        &self,
        client_id: &str,
        at: Timestamp,
    ) -> Result<Vec<TokenHash>, StoreError>;

    async fn create_code(&self, new: NewCode) -> Result<(), StoreError>;
    /// System-wide by nature: the code is the credential.
    async fn code(&self, hash: TokenHash) -> Result<Option<Code>, StoreError>;
    /// Marks the code used and stores `token`, in one transaction; a code already used issues
    /// nothing and revokes its family.
    async fn redeem_code(
        &self,
        code: CodeId,
        at: Timestamp,
        token: NewOAuthToken,
    ) -> Result<Exchanged, StoreError>;
    /// Revokes every token of a code's family.
    async fn revoke_family(
        &self,
        code: CodeId,
        at: Timestamp,
    ) -> Result<Vec<TokenHash>, StoreError>;

    /// System-wide by nature: the refresh token is the credential.
    async fn refresh_grant(&self, hash: TokenHash) -> Result<Option<RefreshGrant>, StoreError>;
    /// Retires the pair of `old` (its access token too) and stores `token`, in one transaction; a
    /// pair already retired issues nothing and revokes the family.
    async fn rotate(
        &self,
        old: TokenId,
        at: Timestamp,
        token: NewOAuthToken,
    ) -> Result<Exchanged, StoreError>;
    /// Revokes the token whose access or refresh hash is `hash`, when it was issued to `app`
    /// (RFC 7009); a refresh token takes its family with it. Unknown tokens revoke nothing.
    async fn revoke_app_token(
        &self,
        app: AppId,
        hash: TokenHash,
        at: Timestamp,
    ) -> Result<Vec<TokenHash>, StoreError>;
}
