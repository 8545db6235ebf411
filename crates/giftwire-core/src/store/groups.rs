//! Team groups as the API lists them: with their budgets, the balance of their members, and
//! the members themselves.

use async_trait::async_trait;

use crate::error::StoreError;
use crate::ids::{OrgId, TeamId};
use crate::money::Money;
use crate::page::PageRequest;
use crate::store::{Listed, Team, User};

/// A team with what its active users may still spend together.
#[derive(Debug, Clone)]
pub struct Group {
    pub team: Team,
    pub balance: Money,
}

#[async_trait]
pub trait GroupStore: Send + Sync + 'static {
    /// A page of the organization's teams, ascending by id.
    async fn groups(&self, org: OrgId, page: PageRequest) -> Result<Listed<Group>, StoreError>;
    /// The active users of one team of the organization, by id; `NotFound("Group")` for a team
    /// that is not the organization's.
    async fn group_members(&self, org: OrgId, team: TeamId) -> Result<Vec<User>, StoreError>;
    /// The sum of the balances of a team's active users.
    async fn team_balance(&self, org: OrgId, team: TeamId) -> Result<Money, StoreError>;
}
