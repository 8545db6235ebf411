//! The project's reliability suite: the real binary, as an operator runs it, under the faults
//! it must survive (a full or read-only disk, a database that stops, SIGKILL under load,
//! hostile clients, shutdown under load). docs/RELIABILITY.md says what each test guarantees
//! and the figures of its last run; the tests print those figures (`--nocapture` shows them).
//!
//! Tests that need root (to mount a tmpfs, to make files immutable) or a PostgreSQL
//! installation are reported as ignored, with the reason, where those are missing.

#[path = "../common/db.rs"]
mod db;
#[path = "../common/http.rs"]
mod http;

mod crash;
mod harness;
mod hostile;
mod limits;
mod mail;
mod outage;
mod postgres;
mod shutdown;
// The API suite's SMTP listener; this suite uses part of it.
// The API suite's webhook receiver; this suite uses part of it.
#[allow(dead_code)]
#[path = "../api/receiver.rs"]
mod receiver;
#[allow(dead_code)]
#[path = "../api/smtp.rs"]
mod smtp;
mod storage;
mod webhooks;
