//! Invitations: `POST /api/v3/users` makes an invited user and mails it a link; the page of that
//! link sets the user's password, which makes it active. The link's token is the invitation's
//! only credential and is stored as its SHA-256.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::delivery::NewMail;
use crate::error::StoreError;
use crate::ids::OrgId;
use crate::store::{NewUser, User};
use crate::time::OrgTimeZone;
use crate::token::TokenHash;

/// An invitation to write with its user and its mail, in one transaction.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub user: NewUser,
    pub token_hash: TokenHash,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub mail: NewMail,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Expired,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Expired => "expired",
        }
    }
}

/// An invitation as its page shows it.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub org_id: OrgId,
    pub org_name: String,
    pub time_zone: OrgTimeZone,
    pub user: User,
    pub expires_at: Timestamp,
    pub accepted_at: Option<Timestamp>,
}

impl Invitation {
    pub fn status(&self, now: Timestamp) -> InvitationStatus {
        match self.accepted_at {
            Some(_) => InvitationStatus::Accepted,
            None if now >= self.expires_at => InvitationStatus::Expired,
            None => InvitationStatus::Pending,
        }
    }
}

#[async_trait]
pub trait InvitationStore: Send + Sync + 'static {
    /// Writes an invited user, its invitation and the invitation's mail in one transaction; the
    /// team must be the organization's and the email unused in it (`Conflict`).
    async fn invite(&self, org: OrgId, new: NewInvitation) -> Result<User, StoreError>;
    /// The invitation a token opens. System-wide by nature: the token is the credential.
    async fn invitation(&self, token: &TokenHash) -> Result<Option<Invitation>, StoreError>;
    /// Accepts a pending invitation at `now`: sets the user's password (an argon2 PHC string)
    /// and makes it active, in one transaction. `NotFound("Invitation")` when the token opens no
    /// invitation that is still pending; `Conflict` when another account signs in with the email.
    async fn accept_invitation(
        &self,
        token: &TokenHash,
        password_hash: String,
        now: Timestamp,
    ) -> Result<User, StoreError>;
}
