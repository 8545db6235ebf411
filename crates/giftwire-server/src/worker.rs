//! The background worker of `serve` (and `giftwire tick`, once): applies due deadlines (eGifts
//! expiring, address collections running out), delivers the outbox over SMTP, and forgets old
//! idempotency keys and finished webhook deliveries older than 30 days; `tick` also delivers the webhooks that are due (`serve` runs
//! [`crate::webhooks::WebhookSender::run`] beside the worker, which polls more often).
//!
//! Each deadline is applied in the transaction that deletes it, and each mail is marked after
//! its delivery, so a crash or restart neither skips a change nor makes one twice (a mail whose
//! delivery was interrupted before it was marked may be sent again: at least once).

use std::sync::Arc;
use std::time::Duration;

use giftwire_core::lifecycle::StatusChange;
use giftwire_core::store::Mail;
use giftwire_core::{Clock, MailKind, SendStatus, Store, StoreError, webhooks};
use jiff::{SignedDuration, Timestamp};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;

use crate::webhooks::WebhookSender;

/// Deadlines applied per query while catching up.
const DEADLINE_BATCH: u32 = 500;
/// Mail delivered per tick.
const MAIL_BATCH: u32 = 200;
/// Attempts before a mail that keeps failing transiently is given up.
const MAX_ATTEMPTS: u32 = 6;
/// Finished webhook deliveries forgotten per tick at most.
const DELIVERY_PURGE_BATCH: u32 = 10_000;
/// How long idempotency keys are kept (at least 24 hours, CONTRACT.md §7).
const IDEMPOTENCY_KEEP: SignedDuration = SignedDuration::from_hours(48);

/// Delivers mail over SMTP.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish()
    }
}

/// A delivery that failed; `permanent` when retrying cannot help (a 5xx, a bad address),
/// `unreachable` when the mail server could not be reached or did not answer (nothing is
/// wrong with the message itself).
#[derive(Debug)]
pub struct DeliveryError {
    pub permanent: bool,
    pub unreachable: bool,
    pub message: String,
}

impl Mailer {
    /// `smtp://[user:pass@]host[:port]` (plain; `?tls=required` for STARTTLS) or `smtps://…`,
    /// sending as `from` (`giftwire <gifts@example.com>`).
    pub fn new(url: &str, from: &str) -> Result<Mailer, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("--smtp-url is invalid: {e}"))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from = from
            .parse()
            .map_err(|e| format!("--mail-from is invalid: {e}"))?;
        Ok(Mailer { transport, from })
    }

    pub async fn deliver(&self, mail: &Mail) -> Result<(), DeliveryError> {
        let permanent = |message: String| DeliveryError {
            permanent: true,
            unreachable: false,
            message,
        };
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| permanent(format!("invalid recipient address: {e}")))?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone());
        let message = match &mail.html_body {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                mail.text_body.clone(),
                html.clone(),
            )),
            None => builder.body(mail.text_body.clone()),
        }
        .map_err(|e| permanent(format!("cannot build the message: {e}")))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError {
                // A 5xx, or a message this client cannot send (an address the server cannot
                // take, say): trying again cannot help.
                permanent: e.is_permanent() || e.is_client(),
                // No reply at all (refused, reset, timed out, TLS): the server, not this mail.
                unreachable: !e.is_permanent()
                    && !e.is_transient()
                    && !e.is_client()
                    && !e.is_response(),
                message: e.to_string(),
            })
    }
}

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TickReport {
    pub deadlines_applied: u64,
    pub deadlines_dropped: u64,
    pub mail_delivered: u64,
    pub mail_retried: u64,
    pub mail_failed: u64,
    pub idempotency_keys_purged: u64,
    pub webhooks_delivered: u64,
    pub webhooks_retried: u64,
    pub webhooks_failed: u64,
    pub webhook_deliveries_purged: u64,
}

#[derive(Clone)]
pub struct Worker {
    store: Arc<dyn Store>,
    clock: Clock,
    mailer: Option<Mailer>,
    webhooks: Option<WebhookSender>,
    /// The database, as the worker last found it.
    database: Arc<Outage>,
    /// The mail server, as the worker last found it.
    mail_server: Arc<Outage>,
}

/// Something the worker depends on, down or up: one log line when it starts failing and one
/// when it works again, whatever the number of attempts in between.
#[derive(Debug)]
struct Outage {
    what: &'static str,
    since: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Outage {
    fn new(what: &'static str) -> Arc<Outage> {
        Arc::new(Outage {
            what,
            since: std::sync::Mutex::default(),
        })
    }

    fn is_down(&self) -> bool {
        self.since.lock().unwrap().is_some()
    }

    fn failed(&self, cause: &dyn std::fmt::Display) {
        let mut since = self.since.lock().unwrap();
        if since.is_none() {
            *since = Some(std::time::Instant::now());
            tracing::warn!(%cause, "{} unavailable: the worker pauses until it answers", self.what);
        }
    }

    fn answered(&self) {
        if let Some(since) = self.since.lock().unwrap().take() {
            tracing::info!(
                after_secs = since.elapsed().as_secs_f64(),
                "{} answers again: the worker resumed",
                self.what
            );
        }
    }
}

/// How soon the worker tries again while the database is unavailable.
const RETRY_WHILE_DOWN: Duration = Duration::from_secs(1);

impl Worker {
    /// Without a mailer, mail stays in the outbox (`giftwire outbox list` shows it).
    pub fn new(store: Arc<dyn Store>, clock: Clock, mailer: Option<Mailer>) -> Worker {
        Worker {
            store,
            clock,
            mailer,
            webhooks: None,
            database: Outage::new("database"),
            mail_server: Outage::new("mail server"),
        }
    }

    /// Each tick also delivers the webhooks that are due.
    pub fn with_webhooks(mut self, sender: WebhookSender) -> Worker {
        self.webhooks = Some(sender);
        self
    }

    /// One pass over everything that is due now. A database that is unavailable ends the pass
    /// (what was not done is due at the next one); a mail server that fails transiently
    /// pauses delivery until the next pass.
    pub async fn tick(&self) -> Result<TickReport, StoreError> {
        let done = self.tick_once().await;
        match &done {
            Ok(_) => self.database.answered(),
            Err(StoreError::Unavailable(cause)) => self.database.failed(cause),
            Err(_) => {}
        }
        done
    }

    async fn tick_once(&self) -> Result<TickReport, StoreError> {
        let now = self.clock.now();
        let mut report = TickReport::default();
        loop {
            let due = self.store.due_deadlines(now, DEADLINE_BATCH).await?;
            let mut progressed = false;
            for deadline in &due {
                match self.store.apply_deadline(deadline, now).await {
                    Ok(Some(_)) => {
                        report.deadlines_applied += 1;
                        progressed = true;
                    }
                    Ok(None) => {
                        report.deadlines_dropped += 1;
                        progressed = true;
                    }
                    Err(e @ StoreError::Unavailable(_)) => return Err(e),
                    Err(e) => {
                        tracing::warn!(error = %e, send = %deadline.send, "deadline not applied")
                    }
                }
            }
            if due.len() < DEADLINE_BATCH as usize || !progressed {
                break;
            }
        }
        if let Some(mailer) = &self.mailer {
            self.deliver_due(mailer, now, &mut report).await?;
        }
        if let Some(webhooks) = &self.webhooks {
            let delivered = webhooks.deliver_due().await?;
            report.webhooks_delivered = delivered.delivered;
            report.webhooks_retried = delivered.retried;
            report.webhooks_failed = delivered.failed;
        }
        report.idempotency_keys_purged = self
            .store
            .purge_idempotency_keys(now - IDEMPOTENCY_KEEP)
            .await?;
        // In batches, so that no transaction holds the writer for long; a backlog is caught up
        // over the following ticks.
        report.webhook_deliveries_purged = self
            .store
            .purge_deliveries(now - webhooks::DELIVERY_RETENTION, DELIVERY_PURGE_BATCH)
            .await?;
        Ok(report)
    }

    /// Delivers the mail that is due. A mail the server could not be reached for is not held
    /// against the mail (no attempt is used up) unless the server then takes the next one: one
    /// such failure makes the mail a suspect, a second in a row (or no other mail to try) means
    /// the server is down, and delivery pauses until the next tick.
    async fn deliver_due(
        &self,
        mailer: &Mailer,
        now: Timestamp,
        report: &mut TickReport,
    ) -> Result<(), StoreError> {
        let mut suspect: Option<(Mail, DeliveryError)> = None;
        for mail in self.store.due_mail(now, MAIL_BATCH).await? {
            match mailer.deliver(&mail).await {
                Ok(()) => {
                    self.mail_server.answered();
                    self.store
                        .mail_delivered(mail.org_id, mail.id, self.clock.now())
                        .await?;
                    report.mail_delivered += 1;
                    // The server works: the suspect's failure was its own.
                    if let Some((suspect, e)) = suspect.take() {
                        self.failed(&suspect, e, now, report).await?;
                    }
                }
                Err(e) if e.unreachable => {
                    report.mail_retried += 1;
                    if suspect.is_some() {
                        self.mail_server.failed(&e.message);
                        return Ok(());
                    }
                    suspect = Some((mail, e));
                }
                Err(e) => self.failed(&mail, e, now, report).await?,
            }
        }
        if let Some((_, e)) = suspect {
            self.mail_server.failed(&e.message);
        }
        Ok(())
    }

    /// Records a failed delivery: retried later with backoff while attempts remain and the
    /// failure may pass (a 4xx), given up otherwise (and an eGift that cannot reach its
    /// recipient bounces, and is credited).
    async fn failed(
        &self,
        mail: &Mail,
        e: DeliveryError,
        now: Timestamp,
        report: &mut TickReport,
    ) -> Result<(), StoreError> {
        if !e.permanent && mail.attempts + 1 < MAX_ATTEMPTS {
            let backoff = SignedDuration::from_secs(60 << mail.attempts.min(10));
            self.store
                .mail_failed(mail.org_id, mail.id, now, &e.message, Some(now + backoff))
                .await?;
            report.mail_retried += 1;
            return Ok(());
        }
        tracing::warn!(mail = mail.id, error = %e.message, "mail given up");
        self.store
            .mail_failed(mail.org_id, mail.id, now, &e.message, None)
            .await?;
        report.mail_failed += 1;
        if let (MailKind::Egift, Some(send)) = (mail.kind, mail.send_id) {
            let change = StatusChange {
                status: SendStatus::BouncedAndCredited,
                occurred_at: now,
                cost: None,
            };
            match self.store.change_status(mail.org_id, send, change).await {
                Ok(_) | Err(StoreError::Lifecycle(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Ticks every `interval` (every second while the database is unavailable, so that the
    /// worker resumes soon after it returns) until `shutdown` resolves; logs why it ends.
    pub async fn run(self, interval: Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut wait = Duration::ZERO;
        loop {
            // Shutdown does not wait for a tick under way (a mail server that does not answer
            // could hold it for its 30 s timeout): every step of a tick is safe to cut short,
            // at worst sending a mail again (at least once).
            let ticked = tokio::select! {
                () = &mut shutdown => None,
                ticked = async {
                    tokio::time::sleep(wait).await;
                    self.tick().await
                } => Some(ticked),
            };
            match ticked {
                None => {
                    tracing::info!("worker stopped: the server is shutting down");
                    return;
                }
                Some(Ok(report)) if report != TickReport::default() => {
                    tracing::info!(?report, "worker tick")
                }
                Some(Ok(_)) => {}
                // Logged once per outage, by the tick.
                Some(Err(StoreError::Unavailable(_))) => {}
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "worker tick failed; retrying at the next one")
                }
            }
            wait = if self.database.is_down() {
                RETRY_WHILE_DOWN.min(interval)
            } else {
                interval
            };
        }
    }
}
