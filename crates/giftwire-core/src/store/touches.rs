//! Touches (campaigns) as the API lists them, and the fields operators manage on them.

use async_trait::async_trait;

use crate::catalog::DeliveryType;
use crate::error::StoreError;
use crate::ids::{OrgId, TouchId};
use crate::page::PageRequest;
use crate::store::{Listed, Touch, TouchDetails};

#[async_trait]
pub trait TouchStore: Send + Sync + 'static {
    /// A page of the organization's active touches, ascending by id, of one delivery type or all.
    async fn active_touches(
        &self,
        org: OrgId,
        page: PageRequest,
        delivery: Option<DeliveryType>,
    ) -> Result<Listed<Touch>, StoreError>;
    /// A touch by id alone. System-wide: for admin commands that are given a touch id.
    async fn touch_system_wide(&self, id: TouchId) -> Result<Touch, StoreError>;
    /// Replaces what the touches endpoints show of a touch beyond its sending terms; the creator
    /// must be a user of the organization.
    async fn set_touch_details(
        &self,
        org: OrgId,
        id: TouchId,
        details: TouchDetails,
        active: bool,
    ) -> Result<Touch, StoreError>;
}
