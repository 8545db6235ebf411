//! Time-driven changes: deadlines (an eGift's expiry, an address collection's reminder and
//! expiry) applied through the lifecycle, and the forgetting of old idempotency keys. System-wide:
//! the worker serves every organization.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::delivery::Deadline;
use crate::error::StoreError;
use crate::store::SendRecord;

#[async_trait]
pub trait DeadlineStore: Send + Sync + 'static {
    async fn due_deadlines(&self, now: Timestamp, limit: u32) -> Result<Vec<Deadline>, StoreError>;
    /// Applies a due deadline through the lifecycle and deletes it, in one transaction; a
    /// deadline that no longer applies is deleted without a change (`None`).
    async fn apply_deadline(
        &self,
        deadline: &Deadline,
        now: Timestamp,
    ) -> Result<Option<SendRecord>, StoreError>;
    /// Forgets idempotency keys created before `before`.
    async fn purge_idempotency_keys(&self, before: Timestamp) -> Result<u64, StoreError>;
}
