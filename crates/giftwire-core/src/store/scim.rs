//! SCIM 2.0 provisioning of users (RFC 7643/7644, at `/api/scim/v2`): what an identity
//! provider reads and writes of an organization's users. Users deleted over SCIM stay (their
//! sends and ledger name them) but are deactivated and no longer found here.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::catalog::{Role, UserState};
use crate::error::StoreError;
use crate::ids::{OrgId, TeamId, UserId};
use crate::store::User;
use crate::text::Email;

string_enum! {
    /// SCIM's `userType` (API_REFERENCE.md §13.2); each maps to a role of ours.
    pub enum UserType ("userType") {
        Sender => "sender",
        Manager => "manager",
        Admin => "admin",
    }
}

impl UserType {
    /// `sender` is a regular user; `manager` and `admin` are managers (giftwire has no
    /// administrators of its own).
    pub fn role(self) -> Role {
        match self {
            UserType::Sender => Role::Regular,
            UserType::Manager | UserType::Admin => Role::Manager,
        }
    }

    /// Parses a provider's value in any case (`Sender`, `ADMIN`).
    pub fn parse_loose(s: &str) -> Option<UserType> {
        s.to_ascii_lowercase().parse().ok()
    }
}

/// One of a user's `emails`, as the provider gave it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScimEmail {
    pub value: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
}

/// A user as SCIM shows it: what the provider set, as it set it, beside the user's own fields.
#[derive(Debug, Clone)]
pub struct ScimUser {
    pub user: User,
    /// `userName` as the provider spelled it (the email for users it did not provision).
    pub user_name: String,
    /// `emails` as given; `None` for a user no provider gave emails (its email alone is shown).
    pub emails: Option<Vec<ScimEmail>>,
    /// Whether `active` is shown (a PATCH may remove it; the user stays active then).
    pub active_shown: bool,
    /// The name of its team (`division`).
    pub team_name: Option<String>,
    pub external_id: Option<String>,
    pub user_type: Option<UserType>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Everything SCIM sets of a user, written whole by a create, a replace or a patch.
#[derive(Debug, Clone)]
pub struct ScimUserData {
    pub user_name: String,
    /// Either may be blank.
    pub first_name: String,
    pub last_name: String,
    pub emails: Option<Vec<ScimEmail>>,
    /// The user's email: its primary (or first) email, or its userName.
    pub email: Email,
    /// The state to set (`active` set by the request); `None` keeps the current one (a new user
    /// is active).
    pub state: Option<UserState>,
    /// Whether `active` is shown (it is, unless a PATCH removed it).
    pub active_shown: bool,
    pub user_type: Option<UserType>,
    /// The role: the user type's, or the user's current role when no type was set.
    pub role: Role,
    pub team: Option<TeamId>,
    pub external_id: Option<String>,
}

impl ScimUserData {
    /// The full name sends show: the first and last names, or the userName when both are blank.
    pub fn display_name(&self) -> String {
        let joined = format!("{} {}", self.first_name.trim(), self.last_name.trim());
        match joined.trim() {
            "" => self.user_name.clone(),
            name => name.to_owned(),
        }
    }
}

impl ScimUser {
    /// Everything a SCIM write reads before it writes: a replace made from a user whose
    /// fingerprint has changed since would lose that change, so it is refused.
    pub fn fingerprint(&self) -> String {
        let u = &self.user;
        format!(
            "{:?}",
            (
                (
                    &u.name,
                    &u.first_name,
                    &u.last_name,
                    &u.email,
                    u.role,
                    u.state,
                    u.team_id
                ),
                (
                    &self.user_name,
                    &self.emails,
                    self.active_shown,
                    &self.external_id
                ),
                self.user_type,
            )
        )
    }
}

#[async_trait]
pub trait ScimStore: Send + Sync + 'static {
    /// Every user of the organization SCIM sees (not deleted), by id.
    async fn scim_users(&self, org: OrgId) -> Result<Vec<ScimUser>, StoreError>;
    async fn scim_user(&self, org: OrgId, id: UserId) -> Result<ScimUser, StoreError>;
    /// Creates a user, or brings back one deleted over SCIM with the same userName; `Conflict`
    /// when another user of the organization has the userName.
    async fn scim_create(
        &self,
        org: OrgId,
        data: ScimUserData,
        now: Timestamp,
    ) -> Result<ScimUser, StoreError>;
    /// Replaces what SCIM sets of a user, made from the user as it was with `fingerprint`
    /// ([`ScimUser::fingerprint`]); `Conflict` when the user has changed since, or when the
    /// userName is another user's.
    async fn scim_replace(
        &self,
        org: OrgId,
        id: UserId,
        fingerprint: String,
        data: ScimUserData,
        now: Timestamp,
    ) -> Result<ScimUser, StoreError>;
    /// Deactivates a user and hides it from SCIM.
    async fn scim_delete(&self, org: OrgId, id: UserId, now: Timestamp) -> Result<(), StoreError>;
    /// The organization's team of exactly this name (`division`).
    async fn team_named(&self, org: OrgId, name: &str) -> Result<Option<TeamId>, StoreError>;
}
