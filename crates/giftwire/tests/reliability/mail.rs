//! The mail server goes away and comes back while the real binary has mail to deliver:
//! delivery pauses with one log line, no mail's attempts are used up (no eGift bounces for it),
//! and everything is delivered once the server answers, with one line more.

use std::time::{Duration, Instant};

use crate::harness::{Fixture, Server, create, get};
use crate::smtp::{Rcpt, SmtpSink};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_server_outage_pauses_delivery_with_one_log_line_and_it_resumes_by_itself() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("mail.db").display());
    let fixture = Fixture::create(&url);
    let smtp = format!("smtp://{addr}");
    let server = Server::start(&url, &["--smtp-url", &smtp, "--tick-secs", "1"]);
    let client = crate::http::client();
    for n in 0..3 {
        let answer = create(&client, &server, &fixture, &format!("mail-{n}"), n)
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let count = |needle: &str| server.log().iter().filter(|l| l.contains(needle)).count();
    assert_eq!(count("mail server unavailable"), 1, "{:#?}", server.log());

    let sink = SmtpSink::start_at(addr, Rcpt::Accept).await;
    let started = Instant::now();
    while sink.received().len() < 3 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sink.received().len(), 3, "{:#?}", server.log());
    let resumed_after = started.elapsed();
    assert_eq!(count("mail server answers again"), 1, "{:#?}", server.log());
    assert_eq!(count("mail server unavailable"), 1);
    let listed = get(&client, &server, &fixture, "/api/v3/send?per_page=10")
        .await
        .unwrap();
    for send in listed.body["sends"].as_array().unwrap() {
        assert_eq!(
            send["status"], "Sent",
            "no eGift bounced for the outage: {send}"
        );
    }
    eprintln!("mail server outage: 3 mails delivered {resumed_after:?} after it came back");
}
