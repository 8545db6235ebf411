//! The outbox: mail written with the change that causes it, delivered by the worker.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::delivery::MailKind;
use crate::error::StoreError;
use crate::ids::{OrgId, SendId};

/// A mail of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub id: i64,
    pub org_id: OrgId,
    pub send_id: Option<SendId>,
    pub kind: MailKind,
    pub to: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    pub created_at: Timestamp,
    pub attempts: u32,
    pub sent_at: Option<Timestamp>,
    pub failed_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Mail not yet delivered whose next attempt is due (system-wide).
    async fn due_mail(&self, now: Timestamp, limit: u32) -> Result<Vec<Mail>, StoreError>;
    async fn mail_delivered(&self, org: OrgId, id: i64, at: Timestamp) -> Result<(), StoreError>;
    /// Records a failed attempt; `retry_at` schedules another, `None` gives up.
    async fn mail_failed(
        &self,
        org: OrgId,
        id: i64,
        at: Timestamp,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<(), StoreError>;
    /// The outbox, newest first; one organization's or everyone's.
    async fn outbox(&self, org: Option<OrgId>, limit: u32) -> Result<Vec<Mail>, StoreError>;
}
