//! Organizations, their teams, users and touches (campaigns): the catalog sends are made from.

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;

use crate::catalog::{DeliveryType, Role, SendType, Subtype, UserState};
use crate::delivery::ShipTo;
use crate::error::{InvalidValue, StoreError};
use crate::ids::{OrgId, TeamId, TouchId, UserId};
use crate::money::{Currency, Money};
use crate::store::TeamBudget;
use crate::text::{Email, Name};
use crate::time::OrgTimeZone;

#[derive(Debug, Clone)]
pub struct NewOrg {
    pub name: Name,
    pub time_zone: OrgTimeZone,
    /// Days after which an unredeemed eGift expires (90 by default).
    pub egift_expiry_days: u32,
}

impl NewOrg {
    pub const DEFAULT_EGIFT_EXPIRY_DAYS: u32 = 90;
}

#[derive(Debug, Clone)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    pub time_zone: OrgTimeZone,
    /// Sends ever created in the organization (they are never deleted).
    pub send_count: u64,
    pub egift_expiry_days: u32,
}

#[derive(Debug, Clone)]
pub struct Team {
    pub id: TeamId,
    pub org_id: OrgId,
    pub name: String,
    pub budget: TeamBudget,
    pub created_at: Timestamp,
    /// The last change of the team (its creation, until its budget is set).
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    /// The full name, as sends show their sender: the first and last names joined by a space.
    pub name: Name,
    pub first_name: String,
    pub last_name: String,
    pub email: Email,
    pub team: Option<TeamId>,
    pub role: Role,
}

impl NewUser {
    /// A user from a full name, split at its first space (`Ada King Lovelace` is first name
    /// `Ada`, last name `King Lovelace`; a single word has an empty last name).
    pub fn new(name: Name, email: Email, team: Option<TeamId>, role: Role) -> NewUser {
        let (first, last) = match name.as_str().split_once(' ') {
            Some((first, last)) => (first.to_owned(), last.trim().to_owned()),
            None => (name.as_str().to_owned(), String::new()),
        };
        NewUser {
            name,
            first_name: first,
            last_name: last,
            email,
            team,
            role,
        }
    }

    /// A user from a first and a last name (which may be blank).
    pub fn from_parts(
        first: Name,
        last: &str,
        email: Email,
        team: Option<TeamId>,
        role: Role,
    ) -> Result<NewUser, InvalidValue> {
        let last = last.trim();
        let name = match last {
            "" => first.clone(),
            last => Name::parse("last_name", &format!("{} {last}", first.as_str()))?,
        };
        Ok(NewUser {
            name,
            first_name: first.into_string(),
            last_name: last.to_owned(),
            email,
            team,
            role,
        })
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub team_id: Option<TeamId>,
    /// The full name (the first and last names joined).
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub role: Role,
    /// What the user may still spend (never negative; the sum of the user's ledger).
    pub balance: Money,
    pub state: UserState,
    /// 32 hex characters identifying the user's invitation (`key` of the members endpoint).
    pub key: String,
}

#[derive(Debug, Clone)]
pub struct NewTouch {
    pub name: Name,
    pub send_type: SendType,
    pub subtype: Subtype,
    pub currency: Currency,
    pub price: Money,
    pub delivery_type: DeliveryType,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub active: bool,
    pub ship_to: ShipTo,
    pub details: TouchDetails,
}

/// What the touches endpoints show beyond what sends are made from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TouchDetails {
    pub description: String,
    /// The user of the organization who made the touch.
    pub created_by: Option<UserId>,
    /// The catalog gift the touch sends.
    pub gift_id: Option<i64>,
    /// An eGift campaign's denomination range (lowest, highest), lowest first.
    pub egift_prices: Option<(Money, Money)>,
    pub hubspot_key: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Touch {
    pub id: TouchId,
    pub org_id: OrgId,
    pub name: String,
    pub send_type: SendType,
    pub subtype: Subtype,
    pub currency: Currency,
    pub price: Money,
    pub delivery_type: DeliveryType,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub active: bool,
    pub ship_to: ShipTo,
    pub details: TouchDetails,
    pub created_at: Timestamp,
}

impl Touch {
    /// Whether a send can be made from this touch on `day` (the organization's local date).
    pub fn open_on(&self, day: Date) -> bool {
        self.active
            && self.starts_on.is_none_or(|start| start <= day)
            && self.ends_on.is_none_or(|end| day <= end)
    }
}

#[async_trait]
pub trait DirectoryStore: Send + Sync + 'static {
    async fn create_org(&self, new: NewOrg) -> Result<Org, StoreError>;
    async fn org(&self, org: OrgId) -> Result<Org, StoreError>;
    /// Every organization, by id. System-wide: for operators (the demo finds its own with it).
    async fn all_orgs(&self) -> Result<Vec<Org>, StoreError>;
    async fn create_team(&self, org: OrgId, name: Name) -> Result<Team, StoreError>;
    async fn teams(&self, org: OrgId) -> Result<Vec<Team>, StoreError>;
    /// A team by id alone. System-wide: for admin commands that are given a team id.
    async fn team_system_wide(&self, team: TeamId) -> Result<Team, StoreError>;
    /// Fails with `NotFound("Team")` when the team is not the organization's, and with
    /// `Conflict` when the organization already has a user with that email (case-insensitive).
    async fn create_user(&self, org: OrgId, new: NewUser) -> Result<User, StoreError>;
    async fn users(&self, org: OrgId) -> Result<Vec<User>, StoreError>;
    /// A user by id alone. System-wide: for admin commands that are given a user id.
    async fn user_system_wide(&self, user: UserId) -> Result<User, StoreError>;
    async fn create_touch(&self, org: OrgId, new: NewTouch) -> Result<Touch, StoreError>;
    async fn touches(&self, org: OrgId) -> Result<Vec<Touch>, StoreError>;
    async fn touch(&self, org: OrgId, id: TouchId) -> Result<Touch, StoreError>;
}
