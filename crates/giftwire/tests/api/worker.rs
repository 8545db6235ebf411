//! The worker with a controllable clock: time-driven changes happen when due, once, even with
//! two workers at once; mail reaches a real SMTP listener, and an undeliverable eGift bounces.

use giftwire_core::Clock;
use giftwire_server::worker::Mailer;
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::create::{collection_body, egift, egift_body, shop};
use crate::helpers::{Backend, TestApp, TestConfig, backend_tests, spawn_with};
use crate::smtp::{Rcpt, SmtpSink};

const DAY: i64 = 86_400;

async fn app_at(backend: Backend, start: &str, mailer: Option<Mailer>) -> TestApp {
    spawn_with(
        backend,
        TestConfig {
            clock: Some(Clock::manual(start.parse::<Timestamp>().unwrap())),
            mailer,
            ..Default::default()
        },
    )
    .await
}

fn statuses(body: &Value) -> Vec<Vec<String>> {
    body["sends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["status_updates"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["status"].as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

async fn an_unredeemed_egift_expires_when_due_and_only_then(backend: Backend) {
    let app = app_at(backend, "2030-03-01T12:00:00Z", None).await;
    let shop = shop(&app, "Acme").await;
    app.api(&shop.token)
        .create_send(&egift(shop.egift))
        .await
        .unwrap();
    let clicked = app
        .api(&shop.token)
        .create_send(&egift(shop.egift))
        .await
        .unwrap();
    // The second recipient clicks (but does not redeem): a clicked eGift expires too.
    app.client
        .get(clicked.tracking_url.as_deref().unwrap())
        .send()
        .await
        .unwrap();

    app.clock.advance(89 * DAY);
    let report = app.worker.tick().await.unwrap();
    assert_eq!(report.deadlines_applied, 0);
    assert_eq!(statuses(&app.all_sends(&shop.token).await)[0], ["Sent"]);

    app.clock.advance(DAY + 1);
    let report = app.worker.tick().await.unwrap();
    assert_eq!(report.deadlines_applied, 2);
    let listed = app.all_sends(&shop.token).await;
    assert_eq!(statuses(&listed)[0], ["Sent", "Expired"]);
    assert_eq!(statuses(&listed)[1], ["Sent", "Clicked", "Expired"]);
    assert_eq!(
        listed["sends"][0]["status_updates"][1]["occurred_at"],
        "2030-05-30T05:00:01-07:00"
    );
    assert_eq!(listed["sends"][0]["current_total_cost"], "25.0");

    // Nothing is due any more.
    app.clock.advance(DAY);
    let report = app.worker.tick().await.unwrap();
    assert_eq!(report.deadlines_applied + report.deadlines_dropped, 0);
    assert_eq!(app.all_sends(&shop.token).await, listed);
}

async fn a_redeemed_egift_never_expires(backend: Backend) {
    let app = app_at(backend, "2030-03-01T12:00:00Z", None).await;
    let shop = shop(&app, "Acme").await;
    app.api(&shop.token)
        .create_send(&egift(shop.egift))
        .await
        .unwrap();
    let id = app.all_sends(&shop.token).await["sends"][0]["id"]
        .as_i64()
        .unwrap();
    app.post(
        &format!("/api/v3/send/{id}/status_updates"),
        &shop.token,
        &json!({"status": "Used"}),
        None,
    )
    .await;
    app.clock.advance(91 * DAY);
    let report = app.worker.tick().await.unwrap();
    assert_eq!((report.deadlines_applied, report.deadlines_dropped), (0, 1));
    assert_eq!(
        statuses(&app.all_sends(&shop.token).await)[0],
        ["Sent", "Used"]
    );
}

async fn an_unanswered_address_collection_is_cancelled_or_resumes(backend: Backend) {
    let app = app_at(backend, "2030-03-01T12:00:00Z", None).await;
    let shop = shop(&app, "Acme").await;
    let mut cancel = collection_body(shop.wine, "email");
    cancel["send"]["expire_after_days"] = json!(2);
    let mut resume = cancel.clone();
    resume["send"]["resume_with_unconfirmed_address"] = json!(true);
    app.post("/api/v3/send", &shop.token, &cancel, None).await;
    app.post("/api/v3/send", &shop.token, &resume, None).await;

    app.clock.advance(2 * DAY - 1);
    assert_eq!(app.worker.tick().await.unwrap().deadlines_applied, 0);
    app.clock.advance(1);
    assert_eq!(app.worker.tick().await.unwrap().deadlines_applied, 2);
    let listed = statuses(&app.all_sends(&shop.token).await);
    assert_eq!(
        listed[0],
        ["Confirming Address", "Address Confirmation - Cancelled"]
    );
    assert_eq!(listed[1], ["Confirming Address", "Processing"]);
}

async fn two_workers_at_once_apply_each_change_once(backend: Backend) {
    let app = app_at(backend, "2030-03-01T12:00:00Z", None).await;
    let shop = shop(&app, "Acme").await;
    for _ in 0..30 {
        app.api(&shop.token)
            .create_send(&egift(shop.egift))
            .await
            .unwrap();
    }
    app.clock.advance(91 * DAY);
    let (a, b) = tokio::join!(app.worker.tick(), app.worker.tick());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.deadlines_applied + b.deadlines_applied, 30, "{a:?} {b:?}");
    for history in statuses(&app.all_sends(&shop.token).await) {
        assert_eq!(history, ["Sent", "Expired"]);
    }
    // A restarted worker finds nothing left to do.
    let again = app.worker.tick().await.unwrap();
    assert_eq!(again.deadlines_applied + again.deadlines_dropped, 0);
}

async fn mail_reaches_a_real_smtp_listener_once(backend: Backend) {
    let sink = SmtpSink::start(false).await;
    let mailer = Mailer::new(&sink.url(), "Gifts <gifts@acme.example>").unwrap();
    let app = app_at(backend, "2030-03-01T12:00:00Z", Some(mailer)).await;
    let shop = shop(&app, "Acme").await;
    let created = app
        .api(&shop.token)
        .create_send(&egift(shop.egift))
        .await
        .unwrap();
    app.post(
        "/api/v3/send",
        &shop.token,
        &collection_body(shop.wine, "email"),
        None,
    )
    .await;

    let report = app.worker.tick().await.unwrap();
    assert_eq!(report.mail_delivered, 2, "{report:?}");
    let received = sink.received();
    assert_eq!(received.len(), 2);
    let egift = received
        .iter()
        .find(|m| m.rcpt_to == ["john.doe@acme.com"])
        .expect("the eGift mail");
    assert!(
        egift.data.contains("From: Gifts <gifts@acme.example>"),
        "{}",
        egift.data
    );
    // The body is quoted-printable: undo its soft line breaks before looking for the link.
    let body = egift.data.replace("=\n", "");
    assert!(body.contains(created.tracking_code.as_str()), "{body}");
    assert!(received.iter().any(|m| m.rcpt_to == ["bo@initech.com"]));
    let outbox = app.store.outbox(Some(shop.org.org.id), 10).await.unwrap();
    assert!(
        outbox
            .iter()
            .all(|m| m.sent_at.is_some() && m.attempts == 1)
    );

    // Delivered mail is not sent again.
    assert_eq!(app.worker.tick().await.unwrap().mail_delivered, 0);
    assert_eq!(sink.received().len(), 2);
}

async fn an_egift_the_mail_server_refuses_bounces_and_is_credited(backend: Backend) {
    let sink = SmtpSink::start(true).await;
    let mailer = Mailer::new(&sink.url(), "gifts@acme.example").unwrap();
    let app = app_at(backend, "2030-03-01T12:00:00Z", Some(mailer)).await;
    let shop = shop(&app, "Acme").await;
    app.api(&shop.token)
        .create_send(&egift(shop.egift))
        .await
        .unwrap();
    let report = app.worker.tick().await.unwrap();
    assert_eq!(report.mail_failed, 1, "{report:?}");
    let listed = app.all_sends(&shop.token).await;
    assert_eq!(statuses(&listed)[0], ["Sent", "Bounced and Credited"]);
    assert_eq!(listed["sends"][0]["current_total_cost"], "0.0");
    let outbox = app.store.outbox(Some(shop.org.org.id), 10).await.unwrap();
    assert!(outbox[0].failed_at.is_some());
    assert!(
        outbox[0].last_error.as_deref().unwrap().contains("550"),
        "{:?}",
        outbox[0].last_error
    );
}

async fn an_unreachable_smtp_server_pauses_delivery_without_using_up_attempts(backend: Backend) {
    // Nothing listens on this port, for now.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mailer = Mailer::new(&format!("smtp://{addr}"), "gifts@acme.example").unwrap();
    let app = app_at(backend, "2030-03-01T12:00:00Z", Some(mailer)).await;
    let shop = shop(&app, "Acme").await;
    for _ in 0..2 {
        app.api(&shop.token)
            .create_send(&egift(shop.egift))
            .await
            .unwrap();
    }
    // More ticks than a mail has attempts: none is used up, none given up, nothing bounces.
    for _ in 0..8 {
        let report = app.worker.tick().await.unwrap();
        assert_eq!(
            (
                report.mail_delivered,
                report.mail_failed,
                report.mail_retried
            ),
            (0, 0, 2),
            "a second try confirms the server is down, then delivery pauses: {report:?}"
        );
    }
    let outbox = app.store.outbox(Some(shop.org.org.id), 10).await.unwrap();
    assert!(
        outbox
            .iter()
            .all(|m| m.sent_at.is_none() && m.failed_at.is_none() && m.attempts == 0),
        "{outbox:#?}"
    );
    let listed = app.all_sends(&shop.token).await;
    assert_eq!(statuses(&listed)[0], ["Sent"]);

    // The mail server comes up: the next tick delivers everything.
    let sink = SmtpSink::start_at(addr, Rcpt::Accept).await;
    let report = app.worker.tick().await.unwrap();
    assert_eq!(report.mail_delivered, 2, "{report:?}");
    assert_eq!(sink.received().len(), 2);
}

async fn a_mail_the_server_hangs_up_on_uses_up_its_attempts_while_the_others_go_through(
    backend: Backend,
) {
    let sink = SmtpSink::start_at("127.0.0.1:0".parse().unwrap(), Rcpt::HangUpOn("choke")).await;
    let mailer = Mailer::new(&sink.url(), "gifts@acme.example").unwrap();
    let app = app_at(backend, "2030-03-01T12:00:00Z", Some(mailer)).await;
    let shop = shop(&app, "Acme").await;
    for email in ["choke@acme.com", "fine@acme.com"] {
        let mut body = egift_body(shop.egift);
        body["send"]["email"] = json!(email);
        app.post("/api/v3/send", &shop.token, &body, None).await;
    }
    let report = app.worker.tick().await.unwrap();
    assert_eq!(report.mail_delivered, 1, "{report:?}");
    assert_eq!(sink.received().len(), 1);
    let outbox = app.store.outbox(Some(shop.org.org.id), 10).await.unwrap();
    let choked = outbox.iter().find(|m| m.to.contains("choke")).unwrap();
    assert_eq!(choked.attempts, 1, "{choked:#?}");
    assert!(choked.sent_at.is_none() && choked.failed_at.is_none());
}

async fn a_deferring_smtp_server_gets_the_mail_again_later(backend: Backend) {
    let sink = SmtpSink::start_at("127.0.0.1:0".parse().unwrap(), Rcpt::Defer).await;
    let mailer = Mailer::new(&sink.url(), "gifts@acme.example").unwrap();
    let app = app_at(backend, "2030-03-01T12:00:00Z", Some(mailer)).await;
    let shop = shop(&app, "Acme").await;
    app.api(&shop.token)
        .create_send(&egift(shop.egift))
        .await
        .unwrap();
    let report = app.worker.tick().await.unwrap();
    assert_eq!(report.mail_retried, 1, "{report:?}");
    // Not due again at once: the retry waits, and the attempt counts.
    assert_eq!(app.worker.tick().await.unwrap().mail_retried, 0);
    let outbox = app.store.outbox(Some(shop.org.org.id), 10).await.unwrap();
    assert!(
        outbox[0].sent_at.is_none() && outbox[0].failed_at.is_none() && outbox[0].attempts == 1,
        "{outbox:#?}"
    );
    assert!(
        outbox[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("451")
    );
    assert_eq!(statuses(&app.all_sends(&shop.token).await)[0], ["Sent"]);
}

async fn idempotency_keys_are_kept_a_day_and_then_forgotten(backend: Backend) {
    let app = app_at(backend, "2030-03-01T12:00:00Z", None).await;
    let shop = shop(&app, "Acme").await;
    let body = egift_body(shop.egift);
    let (_, _, first) = app
        .post("/api/v3/send", &shop.token, &body, Some("k-1"))
        .await;
    app.clock.advance(DAY);
    app.worker.tick().await.unwrap();
    let (_, _, replay) = app
        .post("/api/v3/send", &shop.token, &body, Some("k-1"))
        .await;
    assert_eq!(replay, first);
    app.clock.advance(DAY + 1);
    let report = app.worker.tick().await.unwrap();
    assert_eq!(report.idempotency_keys_purged, 1);
    let (_, _, fresh) = app
        .post("/api/v3/send", &shop.token, &body, Some("k-1"))
        .await;
    assert_ne!(fresh["tracking_code"], first["tracking_code"]);
}

backend_tests!(
    an_unredeemed_egift_expires_when_due_and_only_then,
    a_redeemed_egift_never_expires,
    an_unanswered_address_collection_is_cancelled_or_resumes,
    two_workers_at_once_apply_each_change_once,
    mail_reaches_a_real_smtp_listener_once,
    an_egift_the_mail_server_refuses_bounces_and_is_credited,
    an_unreachable_smtp_server_pauses_delivery_without_using_up_attempts,
    a_deferring_smtp_server_gets_the_mail_again_later,
    a_mail_the_server_hangs_up_on_uses_up_its_attempts_while_the_others_go_through,
    idempotency_keys_are_kept_a_day_and_then_forgotten,
);
