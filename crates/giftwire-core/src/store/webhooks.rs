//! Webhook endpoints and their deliveries. Every send event is fanned out, in the transaction
//! that writes it, to a delivery for each enabled endpoint of its organization that wants its
//! type; the delivery worker claims due deliveries (a lease, so that two workers do not send
//! the same one at once and a crashed one's are taken up again), sends them and records each
//! attempt. A send's deliveries to one endpoint are made in the order of its events: only the
//! oldest pending one of each send is ever due.

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};

use crate::error::StoreError;
use crate::ids::{OrgId, SendId};
use crate::page::PageRequest;
use crate::store::{Listed, SendEvent};
use crate::time::OrgTimeZone;
use crate::webhooks::EventFilter;

/// What a sealed signing secret is sealed for (see [`crate::seal`]).
pub const SECRET_PURPOSE: &str = "webhook signing secret";

/// An endpoint. Its secrets are sealed (see [`crate::seal`]); they never leave the server but
/// once, in clear, to whoever created or rotated them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: i64,
    pub org_id: OrgId,
    pub url: String,
    pub events: EventFilter,
    pub description: String,
    pub enabled: bool,
    /// Why a disabled endpoint is disabled.
    pub disabled_reason: Option<DisabledReason>,
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<Timestamp>,
    /// When the failures since the last successful delivery began.
    pub failing_since: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Endpoint {
    /// The previous secret, while it still signs at `now`.
    pub fn previous_secret_at(&self, now: Timestamp) -> Option<&str> {
        match (&self.previous_secret, self.previous_secret_until) {
            (Some(secret), Some(until)) if now < until => Some(secret),
            _ => None,
        }
    }
}

string_enum! {
    /// Why an endpoint is disabled: by a person, or after failing for too long.
    pub enum DisabledReason ("disabled_reason") {
        Manual => "manual",
        Failing => "failing",
    }
}

string_enum! {
    /// Where a delivery stands.
    pub enum DeliveryState ("state") {
        Pending => "pending",
        Delivered => "delivered",
        Failed => "failed",
    }
}

#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub org_id: OrgId,
    pub url: String,
    pub events: EventFilter,
    pub description: String,
    /// The signing secret, sealed.
    pub secret: String,
    pub at: Timestamp,
}

/// The settings a change names (the others are kept).
#[derive(Debug, Clone, Default)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub events: Option<EventFilter>,
    pub description: Option<String>,
    /// Enabling clears the failures; disabling is [`DisabledReason::Manual`].
    pub enabled: Option<bool>,
}

/// One delivery of an event to an endpoint, with the outcome of its last attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub id: i64,
    pub org_id: OrgId,
    pub endpoint_id: i64,
    pub event_id: i64,
    pub event_type: String,
    pub send_id: SendId,
    /// Attempts made.
    pub attempts: u32,
    pub state: DeliveryState,
    /// When the next attempt is due (pending deliveries only).
    pub next_attempt_at: Option<Timestamp>,
    pub status_code: Option<u16>,
    pub latency_ms: Option<u32>,
    pub error: Option<String>,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

/// A delivery claimed by a worker: what it needs to send it.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: i64,
    pub endpoint_id: i64,
    pub attempts: u32,
    /// Until when this claim holds it: an attempt is recorded only while it still does.
    pub lease: Timestamp,
    pub event: SendEvent,
    /// The organization's time zone (the body's `status_changed_at` is written in it).
    pub time_zone: OrgTimeZone,
}

/// The outcome of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub delivery_id: i64,
    pub endpoint_id: i64,
    /// The claim's lease ([`DueDelivery::lease`]): a claim that lost it records nothing.
    pub lease: Timestamp,
    pub at: Timestamp,
    pub status_code: Option<u16>,
    pub latency_ms: Option<u32>,
    /// `None` when delivered; else why it failed, and when it is tried again (`None`: given up).
    pub failure: Option<(String, Option<Timestamp>)>,
}

#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    async fn create_endpoint(&self, new: NewEndpoint) -> Result<Endpoint, StoreError>;
    /// An organization's endpoints, oldest first.
    async fn endpoints(
        &self,
        org: OrgId,
        page: PageRequest,
    ) -> Result<Listed<Endpoint>, StoreError>;
    /// One endpoint of `org` (or of any organization: the operator's commands);
    /// `NotFound("Webhook endpoint")` otherwise.
    async fn endpoint(&self, org: Option<OrgId>, id: i64) -> Result<Endpoint, StoreError>;
    async fn update_endpoint(
        &self,
        org: Option<OrgId>,
        id: i64,
        changes: EndpointChanges,
        at: Timestamp,
    ) -> Result<Endpoint, StoreError>;
    /// Replaces the secret with `secret` (sealed); the current one keeps signing until
    /// `previous_until`.
    async fn rotate_endpoint_secret(
        &self,
        org: Option<OrgId>,
        id: i64,
        secret: String,
        previous_until: Timestamp,
        at: Timestamp,
    ) -> Result<Endpoint, StoreError>;
    /// Deletes an endpoint and its deliveries.
    async fn delete_endpoint(&self, org: OrgId, id: i64) -> Result<(), StoreError>;
    /// An endpoint's deliveries, newest first.
    async fn deliveries(
        &self,
        org: Option<OrgId>,
        endpoint: i64,
        page: PageRequest,
    ) -> Result<Listed<WebhookDelivery>, StoreError>;
    /// Queues an event again for each enabled endpoint of its organization that wants its
    /// type; how many deliveries were queued. `NotFound("Event")` for no such event.
    async fn replay_event(
        &self,
        org: Option<OrgId>,
        event: i64,
        at: Timestamp,
    ) -> Result<u64, StoreError>;
    /// Enabled endpoints with a delivery due at `now` (system-wide).
    async fn due_endpoints(&self, now: Timestamp, limit: u32) -> Result<Vec<Endpoint>, StoreError>;
    /// Claims up to `limit` of an endpoint's due deliveries, the oldest pending one of each
    /// send, until `lease_until` (then they are due again unless an attempt was recorded).
    async fn claim_deliveries(
        &self,
        endpoint: i64,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, StoreError>;
    /// Records attempts in one transaction: a delivered one is done and its endpoint no longer
    /// failing; a failed one is retried at its time (the later deliveries of its send wait
    /// until then) or given up; an endpoint failing for `disable_after` without a success (and
    /// without a day between two failures, see [`crate::webhooks::FAILURE_GAP`]) is
    /// disabled ([`DisabledReason::Failing`]).
    async fn record_attempts(
        &self,
        attempts: Vec<Attempt>,
        disable_after: SignedDuration,
    ) -> Result<(), StoreError>;
    /// Forgets up to `limit` deliveries that are done (delivered or given up) and finished
    /// before `before`, oldest first (system-wide); how many.
    async fn purge_deliveries(&self, before: Timestamp, limit: u32) -> Result<u64, StoreError>;
}
