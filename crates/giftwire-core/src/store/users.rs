//! The users of an organization as the API lists them: active ones a page at a time, any one by
//! id.

use async_trait::async_trait;

use crate::catalog::UserState;
use crate::error::StoreError;
use crate::ids::{OrgId, UserId};
use crate::page::PageRequest;
use crate::store::User;

/// A page of a list and the exact number of items the list has.
#[derive(Debug, Clone)]
pub struct Listed<T> {
    pub total: u64,
    pub items: Vec<T>,
}

#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// One user of the organization, whatever its state; `NotFound("User")` otherwise.
    async fn user(&self, org: OrgId, id: UserId) -> Result<User, StoreError>;
    /// Deactivates or reactivates a user (not an invited one, which becomes active by accepting
    /// its invitation): a deactivated user's tokens and sign-ins stop working and it leaves the
    /// lists, but keeps its sends, balance and ledger.
    async fn set_user_state(
        &self,
        org: OrgId,
        id: UserId,
        state: UserState,
    ) -> Result<User, StoreError>;
    /// A page of the organization's active users, ascending by id.
    async fn active_users(&self, org: OrgId, page: PageRequest)
    -> Result<Listed<User>, StoreError>;
}
