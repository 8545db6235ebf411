//! Sends: their creation (with everything it causes), their pages, their status changes, and
//! what the recipient pages of a tracking code read and do.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::catalog::{SendType, Subtype};
use crate::delivery::{Address, Delivery, NewMail, TrackingCode};
use crate::error::StoreError;
use crate::ids::{OrgId, SendId, TeamId, TouchId, UserId};
use crate::lifecycle::{StatusChange, StatusEntry, current_status};
use crate::money::{Currency, Money};
use crate::page::PageRequest;
use crate::status::SendStatus;
use crate::time::OrgTimeZone;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub name: String,
    pub email: String,
    pub company_name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewSend {
    pub touch: TouchId,
    pub sender: UserId,
    pub recipient: Recipient,
    pub sent_via: String,
    pub created_at: Timestamp,
    /// The cost at creation; `None` takes the touch's price.
    pub cost: Option<Money>,
}

/// A send with its full history, ready to bulk-load (seeding). The history must already have
/// been checked against the lifecycle by the caller.
#[derive(Debug, Clone)]
pub struct SeedSend {
    pub send: NewSend,
    pub cost: Money,
    pub history: Vec<StatusEntry>,
    /// When this eGift, still waiting for its recipient, expires (its deadline is loaded too).
    pub egift_expires_at: Option<Timestamp>,
    /// Whether the load funds the sender with this send's cost before drawing it, in the same
    /// transaction (seeding); otherwise the sender's balance must cover it.
    pub fund: bool,
}

/// The touch of a send as it is listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TouchRef {
    pub id: TouchId,
    pub name: String,
    pub send_type: SendType,
    pub subtype: Subtype,
    pub currency: Currency,
}

/// The sender of a send as it is listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderRef {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub team: Option<(TeamId, String)>,
}

/// A send as the API lists it, in domain types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRecord {
    pub id: SendId,
    pub touch: TouchRef,
    pub recipient: Recipient,
    pub sender: SenderRef,
    pub sent_via: String,
    pub cost: Money,
    pub created_at: Timestamp,
    /// Oldest first.
    pub history: Vec<StatusEntry>,
}

impl SendRecord {
    /// The status of the last history entry, or `pending`.
    pub fn status(&self) -> SendStatus {
        current_status(&self.history)
    }

    /// The earliest time a next change may carry: the last change's, or the creation's.
    pub fn last_change_at(&self) -> Timestamp {
        self.history
            .last()
            .map_or(self.created_at, |e| e.occurred_at)
    }
}

/// What a page's content depends on, read in O(1) of the organization's size and the page's
/// depth. Two reads with equal versions (and the same page request) list the same sends with
/// the same content, so a rendered page can be reused while its version holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageVersion {
    /// The organization's exact number of sends (`total_count`).
    pub total: u64,
    /// The sum of the changes made to the page's sends since their creation; it grows with
    /// every status update or cost change of any of them.
    pub changes: i64,
    /// The organization's catalog version (names of touches, users and teams).
    pub catalog: i64,
}

impl PageVersion {
    /// How many sends precede the first of the page, and how many the page holds.
    pub fn range(&self, page: PageRequest) -> (u64, u64) {
        let first = page.offset().min(self.total);
        let last = (page.offset() + u64::from(page.per_page())).min(self.total);
        (first, last - first)
    }
}

/// One page of an organization's sends, ascending by id, with the version it was read at.
#[derive(Debug, Clone)]
pub struct SendPage {
    pub version: PageVersion,
    pub sends: Vec<SendRecord>,
}

impl SendPage {
    /// The exact number of the organization's sends.
    pub fn total(&self) -> u64 {
        self.version.total
    }
}

/// A send to create through the API, with everything its creation causes; all of it is written
/// in one transaction.
#[derive(Debug, Clone)]
pub struct SendOrder {
    pub send: NewSend,
    pub delivery: Delivery,
    /// The status the send starts in, recorded at its creation time (`Sent` for an eGift,
    /// `Confirming Address` for an address collection); `None` leaves it `pending`.
    pub initial_status: Option<SendStatus>,
    /// Mail the creation sends (to the outbox).
    pub mail: Vec<NewMail>,
}

/// The `Idempotency-Key` of a request and the hash of what it asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    pub key: String,
    pub request_hash: [u8; 32],
    /// When the request came (keys are kept at least 24 hours from then).
    pub at: Timestamp,
}

/// A send as created through the API.
#[derive(Debug, Clone)]
pub struct CreatedSend {
    pub send: SendRecord,
    pub delivery: Delivery,
}

/// The outcome of a creation: new sends, or those of an earlier request with the same key.
#[derive(Debug, Clone)]
pub struct Created {
    pub replayed: bool,
    pub sends: Vec<CreatedSend>,
}

/// What the recipient pages of a tracking code show and act on.
#[derive(Debug, Clone)]
pub struct RecipientSend {
    pub org_id: OrgId,
    pub org_name: String,
    pub time_zone: OrgTimeZone,
    pub send: SendRecord,
    pub delivery: Delivery,
}

/// Counts of what a bulk load wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BulkLoaded {
    pub sends: u64,
    pub status_updates: u64,
}

#[async_trait]
pub trait SendStore: Send + Sync + 'static {
    /// Creates a pending send. The touch and the sender must both be the organization's.
    async fn create_send(&self, org: OrgId, new: NewSend) -> Result<SendRecord, StoreError>;
    async fn send(&self, org: OrgId, id: SendId) -> Result<SendRecord, StoreError>;
    /// The organization a send belongs to. System-wide: for admin commands given a send id.
    async fn send_org_system_wide(&self, id: SendId) -> Result<OrgId, StoreError>;
    /// Records a status change after the lifecycle accepted it, in one transaction with the
    /// read of the send's current state; returns the send as it is afterwards.
    async fn change_status(
        &self,
        org: OrgId,
        id: SendId,
        change: StatusChange,
    ) -> Result<SendRecord, StoreError>;
    /// One page, ascending by id, and its version read in the same snapshot. Its cost does not
    /// depend on how deep the page is nor on how many sends the organization has.
    async fn list_sends(&self, org: OrgId, page: PageRequest) -> Result<SendPage, StoreError>;
    /// The version of a page alone: one indexed read of the page's range, cheaper than
    /// [`SendStore::list_sends`]. Callers that cached a page at this version may serve it again.
    async fn page_version(&self, org: OrgId, page: PageRequest) -> Result<PageVersion, StoreError>;
    /// Loads many sends with their histories in one transaction (seeding).
    async fn bulk_load(&self, org: OrgId, sends: Vec<SeedSend>) -> Result<BulkLoaded, StoreError>;
    /// Creates sends with their deliveries, initial statuses, mail and deadlines, in one
    /// transaction. With a claim, a key already used with the same request hash answers the sends
    /// it created (`replayed`) and creates nothing; with another hash it is a `Conflict`.
    async fn create_api_sends(
        &self,
        org: OrgId,
        orders: Vec<SendOrder>,
        claim: Option<IdempotencyClaim>,
    ) -> Result<Created, StoreError>;
    /// The send a tracking code opens. System-wide by nature: the code is the credential.
    async fn recipient_send(&self, code: &TrackingCode) -> Result<RecipientSend, StoreError>;
    /// Records the address a recipient confirmed and moves the send to `Processing`, through the
    /// lifecycle, in one transaction.
    async fn confirm_address(
        &self,
        org: OrgId,
        id: SendId,
        address: Address,
        at: Timestamp,
    ) -> Result<SendRecord, StoreError>;
}
