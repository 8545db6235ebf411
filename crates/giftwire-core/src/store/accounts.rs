//! People who sign in to giftwire's pages (to authorize an OAuth application): their password
//! hashes and their sessions. Both are looked up system-wide by nature: an email address or a
//! session cookie is how a browser finds its organization.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::error::StoreError;
use crate::ids::UserId;
use crate::store::User;
use crate::token::TokenHash;

/// A user who can sign in, with the PHC string of their password's argon2id hash.
#[derive(Clone)]
pub struct PasswordUser {
    pub user: User,
    pub password_hash: String,
}

impl std::fmt::Debug for PasswordUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordUser")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 of the session cookie's value; the value itself is never stored.
    pub hash: TokenHash,
    pub user: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Sets a user's password hash. An email address signs in to one account: `Conflict` when
    /// another user with the same email (case-insensitive, in any organization) has a password.
    async fn set_password(&self, user: UserId, password_hash: String) -> Result<(), StoreError>;
    /// The user with a password and this email address (case-insensitive), if any.
    async fn password_user(&self, email: &str) -> Result<Option<PasswordUser>, StoreError>;
    async fn create_session(&self, new: NewSession) -> Result<(), StoreError>;
    /// The user of a session that exists and has not expired at `now`.
    async fn session_user(
        &self,
        hash: TokenHash,
        now: Timestamp,
    ) -> Result<Option<User>, StoreError>;
    /// Ends a session (signing out); an unknown one is no error.
    async fn end_session(&self, hash: TokenHash) -> Result<(), StoreError>;
}
