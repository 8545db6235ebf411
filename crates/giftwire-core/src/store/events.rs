//! The events of sends, as written by every change (see `giftwire-store`'s flows): what webhook
//! delivery reads.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::error::StoreError;
use crate::ids::{OrgId, SendId};
use crate::status::SendStatus;

/// One event: a send's creation (`seq` 0) or its `seq`-th status change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendEvent {
    pub id: i64,
    pub org_id: OrgId,
    pub send_id: SendId,
    pub seq: u32,
    /// One of [`crate::events::EVENT_TYPES`].
    pub event_type: String,
    pub status: SendStatus,
    pub occurred_at: Timestamp,
}

#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// A send's events, oldest first.
    async fn send_events(&self, org: OrgId, send: SendId) -> Result<Vec<SendEvent>, StoreError>;
}
