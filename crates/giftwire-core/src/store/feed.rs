//! Sends read other than page by page: filtered listings, exports in chunks, and the change
//! feed.

use async_trait::async_trait;

use crate::error::StoreError;
use crate::feed::{ChangePosition, SendFilter};
use crate::ids::OrgId;
use crate::page::PageRequest;
use crate::store::SendRecord;

/// One page of a filtered listing, ascending by id, with the exact number of sends the filter
/// holds, both read in one snapshot.
#[derive(Debug, Clone)]
pub struct FilteredPage {
    pub total: u64,
    pub sends: Vec<SendRecord>,
}

/// A chunk of an export: sends ascending by id, and where the next chunk starts.
#[derive(Debug, Clone)]
pub struct ExportChunk {
    pub sends: Vec<SendRecord>,
    /// The position (in the organization's order) of the chunk's last send; `None` when the
    /// chunk is empty, which ends the export.
    pub last: Option<u64>,
}

/// A send as the change feed answers it: its current state, at the position of its last change.
#[derive(Debug, Clone)]
pub struct SendChange {
    pub position: ChangePosition,
    pub send: SendRecord,
}

#[async_trait]
pub trait SendFeedStore: Send + Sync + 'static {
    /// One page of the sends `filter` holds, by offset, and their exact count.
    async fn filtered_sends(
        &self,
        org: OrgId,
        filter: &SendFilter,
        page: PageRequest,
    ) -> Result<FilteredPage, StoreError>;

    /// Up to `limit` of the sends `filter` holds whose position in the organization is after
    /// `after` (0: from the first), ascending: an export reads these chunk after chunk, each in
    /// time independent of how far into the organization it is.
    async fn export_chunk(
        &self,
        org: OrgId,
        filter: &SendFilter,
        after: u64,
        limit: u32,
    ) -> Result<ExportChunk, StoreError>;

    /// Up to `limit` sends whose last change is after `after`, in the order of their last
    /// changes, each with its current state. A position once answered is never followed later
    /// by a change below it: a reader that continues from the last position it got misses no
    /// change and sees none twice. The cost depends on `limit` alone.
    async fn send_changes(
        &self,
        org: OrgId,
        after: ChangePosition,
        limit: u32,
    ) -> Result<Vec<SendChange>, StoreError>;
}
