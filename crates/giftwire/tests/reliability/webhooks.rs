//! Webhooks through failures of both sides: the real binary delivers to a receiver in this
//! process while clients create sends; the receiver fails for a while, then the server is
//! SIGKILLed mid-delivery and restarted while the receiver is down, and the receiver comes back
//! on its address a second later. Every event of every send created reaches the receiver
//! at least once, verified by the Standard Webhooks library, and each send's events arrive in
//! the order they happened (a repeat of an event, after the kill, comes before the next one).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::db::{Backend, TestDb};
use crate::harness::{Fixture, Server, admin, create};
use crate::receiver::{Receiver, verifies};

/// Creates sends from 4 clients until the server stops answering; how many were acknowledged.
async fn create_until_killed(
    server: Arc<Server>,
    fixture: Arc<Fixture>,
    next: Arc<AtomicUsize>,
) -> usize {
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (server, fixture, next) = (server.clone(), fixture.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let client = crate::http::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let mut acknowledged = 0;
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                match create(&client, &server, &fixture, &format!("hook-{n}"), n).await {
                    Ok(answer) if answer.status == 200 => acknowledged += 1,
                    Ok(answer) => panic!("a creation answered {answer:?}"),
                    Err(_) => return acknowledged,
                }
            }
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    total
}

async fn every_event_is_delivered_in_order_through_failures_and_a_sigkill(backend: Backend) {
    let db = TestDb::new(backend).await;
    let fixture = Arc::new(Fixture::create(&db.url));
    let receiver = Receiver::start().await;
    // Slow enough that deliveries are in flight when the server is killed.
    receiver.delay(30);
    let created = admin(
        &db.url,
        &[
            "webhook",
            "create",
            "--org",
            "1",
            "--url",
            &receiver.url,
            "--webhook-allow-private",
        ],
    );
    let secret = created["secret"].as_str().unwrap().to_owned();
    let next = Arc::new(AtomicUsize::new(0));

    let server = Arc::new(Server::start(&db.url, &["--webhook-allow-private"]));
    let load = tokio::spawn(create_until_killed(
        server.clone(),
        fixture.clone(),
        next.clone(),
    ));
    // The receiver fails for a while (its attempts are retried 5 s later), then recovers.
    receiver.answer(503);
    tokio::time::sleep(Duration::from_millis(700)).await;
    receiver.answer(200);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let before_kill = receiver.received().len();
    server.signal("KILL");
    let acknowledged = load.await.unwrap();
    drop(server);
    assert!(acknowledged > 10, "only {acknowledged} sends were made");
    assert!(before_kill > 0, "nothing was delivered before the kill");

    // The receiver goes down too (connections refused), and comes back a second after the
    // server restarted, on its address, with what it had received.
    let address = receiver
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/hook")
        .to_owned();
    let before_restart = receiver.received();
    drop(receiver);
    let restarted = Instant::now();
    let server = Server::start(&db.url, &["--webhook-allow-private"]);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let receiver = Receiver::start_on(&address).await;
    // Every send made (acknowledged or not, its creation committed) has two events.
    let made = || -> BTreeMap<String, Vec<(i64, String)>> {
        let mut per_send: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
        for r in before_restart.iter().cloned().chain(receiver.received()) {
            assert!(verifies(&secret, &r), "a delivery does not verify");
            let body = r.json();
            let event: i64 = r
                .header("webhook-id")
                .trim_start_matches("msg_")
                .parse()
                .unwrap();
            per_send
                .entry(body["send_gid"].as_str().unwrap().to_owned())
                .or_default()
                .push((event, body["type"].as_str().unwrap().to_owned()));
        }
        per_send
    };
    let complete = |per_send: &BTreeMap<String, Vec<(i64, String)>>| {
        per_send.len() >= acknowledged
            && per_send
                .values()
                .all(|events| events.iter().any(|(_, t)| t == "send.sent"))
    };
    // Deliveries held by the killed process are due again when their 30 s lease ends; those
    // that failed, 5 s after.
    while !complete(&made()) {
        assert!(
            restarted.elapsed() < Duration::from_secs(90),
            "not everything was delivered: {:?}",
            made().values().filter(|e| e.len() < 2).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let took = restarted.elapsed();
    let per_send = made();
    let mut repeats = 0;
    for (gid, events) in &per_send {
        // In order: the event ids a send's deliveries carry never go down.
        assert!(
            events.windows(2).all(|w| w[0].0 <= w[1].0),
            "{gid}: {events:?}"
        );
        let mut distinct: Vec<&(i64, String)> = events.iter().collect();
        distinct.dedup();
        repeats += events.len() - distinct.len();
        let types: Vec<&str> = distinct.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(types, ["send.initiated", "send.sent"], "{gid}");
    }
    println!(
        "webhooks ({backend:?}): {acknowledged} sends acknowledged, {} delivered before the kill, \
         all {} sends' events delivered {:.1} s after the restart, {repeats} repeats",
        before_kill,
        per_send.len(),
        took.as_secs_f64()
    );
    drop(server);
}

#[tokio::test]
async fn sqlite_every_event_is_delivered_in_order_through_failures_and_a_sigkill() {
    every_event_is_delivered_in_order_through_failures_and_a_sigkill(Backend::Sqlite).await
}

#[tokio::test]
#[cfg_attr(
    not(giftwire_pg),
    ignore = "PostgreSQL half: set GIFTWIRE_TEST_POSTGRES_URL to run it"
)]
async fn postgres_every_event_is_delivered_in_order_through_failures_and_a_sigkill() {
    every_event_is_delivered_in_order_through_failures_and_a_sigkill(Backend::Postgres).await
}
