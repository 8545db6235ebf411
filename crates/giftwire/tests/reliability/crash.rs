//! SIGKILL of the real binary while 8 clients create sends with `Idempotency-Key`s, three
//! rounds per backend: after each restart, every acknowledged send is there exactly once, every
//! creation in flight at the kill can be retried with its key without a duplicate, and (SQLite)
//! the database file passes `integrity_check`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::db::{Backend, TestDb};
use crate::harness::{Fixture, Server, all_sends, create, sqlite_integrity};

/// What a client saw of its creations: acknowledged, or without an answer when the server died.
#[derive(Debug, Default)]
struct Seen {
    acknowledged: Vec<usize>,
    in_flight: Vec<usize>,
}

/// Creates sends from `clients` clients until the server stops answering.
async fn create_until_killed(
    clients: usize,
    server: Arc<Server>,
    fixture: Arc<Fixture>,
    next: Arc<AtomicUsize>,
    acked: Arc<AtomicUsize>,
) -> Seen {
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (server, fixture, next, acked) =
            (server.clone(), fixture.clone(), next.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let client = crate::http::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let mut seen = Seen::default();
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                match create(&client, &server, &fixture, &format!("crash-{n}"), n).await {
                    Ok(answer) if answer.status == 200 => {
                        seen.acknowledged.push(n);
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(answer) => panic!("a creation answered {answer:?}"),
                    Err(_) => {
                        seen.in_flight.push(n);
                        return seen;
                    }
                }
            }
        }));
    }
    let mut all = Seen::default();
    for task in tasks {
        let seen = task.await.unwrap();
        all.acknowledged.extend(seen.acknowledged);
        all.in_flight.extend(seen.in_flight);
    }
    all
}

async fn sigkill_under_load_loses_no_acknowledged_send(backend: Backend) {
    let db = TestDb::new(backend).await;
    let fixture = Arc::new(Fixture::create(&db.url));
    let next = Arc::new(AtomicUsize::new(0));
    let client = crate::http::client();
    // Every recipient number ever sent, with whether it must exist now.
    let mut expected: BTreeMap<usize, &'static str> = BTreeMap::new();
    for round in 0..3u64 {
        let server = Arc::new(Server::start(&db.url, &[]));
        let acked = Arc::new(AtomicUsize::new(0));
        let load = tokio::spawn(create_until_killed(
            8,
            server.clone(),
            fixture.clone(),
            next.clone(),
            acked.clone(),
        ));
        // Under load: at least 400 ms (more each round) and more than 20 acknowledged, however
        // slow the machine is at the moment (other suites share its cores).
        tokio::time::sleep(Duration::from_millis(400 + 300 * round)).await;
        let waiting = std::time::Instant::now();
        while acked.load(Ordering::SeqCst) <= 20 && waiting.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server.signal("KILL");
        let seen = load.await.unwrap();
        drop(server);
        assert!(seen.acknowledged.len() > 20, "round {round}: {seen:?}");

        let server = Server::start(&db.url, &[]);
        let mut replayed = 0;
        for &n in &seen.in_flight {
            let answer = create(&client, &server, &fixture, &format!("crash-{n}"), n)
                .await
                .unwrap();
            assert_eq!(answer.status, 200, "retry of crash-{n}: {answer:?}");
            if answer.headers.get("idempotent-replayed").is_some() {
                replayed += 1;
            }
        }
        for &n in seen.acknowledged.iter().chain(&seen.in_flight) {
            expected.insert(n, "once");
        }
        let sends = all_sends(&client, &server, &fixture).await;
        let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
        for (_, email) in &sends {
            let n: usize = email
                .strip_prefix('r')
                .and_then(|e| e.strip_suffix("@example.com"))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("an unexpected send to {email}"));
            *counts.entry(n).or_default() += 1;
        }
        let doubled: Vec<_> = counts.iter().filter(|(_, c)| **c > 1).collect();
        assert!(
            doubled.is_empty(),
            "round {round}: sends doubled: {doubled:?}"
        );
        let missing: Vec<_> = expected
            .keys()
            .filter(|n| !counts.contains_key(n))
            .collect();
        assert!(
            missing.is_empty(),
            "round {round}: acknowledged sends lost: {missing:?}"
        );
        let unknown: Vec<_> = counts
            .keys()
            .filter(|n| !expected.contains_key(n))
            .collect();
        assert!(
            unknown.is_empty(),
            "round {round}: sends nobody made: {unknown:?}"
        );
        eprintln!(
            "{backend:?} round {round}: SIGKILL after {} acknowledged creations, {} in flight \
             ({replayed} of them had been written: replayed on retry); {} sends, each once",
            seen.acknowledged.len(),
            seen.in_flight.len(),
            sends.len()
        );
        drop(server);
    }
    if backend == Backend::Sqlite {
        assert_eq!(sqlite_integrity(&db.url).await, "ok");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_on_sqlite_loses_no_acknowledged_send() {
    sigkill_under_load_loses_no_acknowledged_send(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(giftwire_pg),
    ignore = "PostgreSQL half: set GIFTWIRE_TEST_POSTGRES_URL to run it"
)]
async fn sigkill_under_load_on_postgres_loses_no_acknowledged_send() {
    sigkill_under_load_loses_no_acknowledged_send(Backend::Postgres).await;
}
