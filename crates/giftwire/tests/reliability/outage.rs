//! PostgreSQL stops under load (`pg_ctl stop -m immediate`, the test's own server) and starts
//! again: every answer in between is a 503 in the error shape within the database timeout, no
//! acknowledged send is lost, and the service is fully back within 2 s of the database's return.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::harness::{Fixture, Server, all_sends, create, get};
use crate::postgres::OwnPostgres;

/// One request of the load and how it went.
#[derive(Debug)]
struct Sample {
    started: Instant,
    took: Duration,
    /// The status, or why there was none (a transport error or the client's timeout).
    status: Result<u16, String>,
    /// The recipient number of a creation; `None` for a read.
    creation: Option<usize>,
    well_formed_503: bool,
}

/// Clients that create sends (each with its own key) and read pages until told to stop.
async fn load(
    clients: usize,
    server: Arc<Server>,
    fixture: Arc<Fixture>,
    stop: Arc<AtomicBool>,
) -> Vec<Sample> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (server, fixture, stop, next) =
            (server.clone(), fixture.clone(), stop.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let client = crate::http::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            let mut samples = Vec::new();
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let started = Instant::now();
                let (creation, answer) = if (i + c).is_multiple_of(2) {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    (
                        Some(n),
                        create(&client, &server, &fixture, &format!("load-{n}"), n).await,
                    )
                } else {
                    (
                        None,
                        get(&client, &server, &fixture, "/api/v3/send?per_page=20").await,
                    )
                };
                samples.push(match answer {
                    Ok(a) => Sample {
                        started,
                        took: started.elapsed(),
                        well_formed_503: a.status == 503
                            && a.body["success"] == false
                            && a.headers.contains_key("retry-after"),
                        status: Ok(a.status),
                        creation,
                    },
                    Err(e) => Sample {
                        started,
                        took: started.elapsed(),
                        status: Err(e.to_string()),
                        creation,
                        well_formed_503: false,
                    },
                });
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            samples
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all.sort_by_key(|s| s.started);
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(giftwire_pg),
    ignore = "needs a PostgreSQL installation (CI has one; set GIFTWIRE_TEST_POSTGRES_URL to run the PostgreSQL half)"
)]
async fn postgres_stopped_under_load_is_a_fast_503_and_the_service_is_back_within_2_s() {
    let pg = OwnPostgres::start().expect("a PostgreSQL installation under /usr/lib/postgresql");
    let url = pg.url();
    let fixture = Arc::new(Fixture::create(&url));
    let server = Arc::new(Server::start(
        &url,
        &["--database-timeout", "1", "--tick-secs", "1"],
    ));
    let timeout = Duration::from_secs(1);
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(load(8, server.clone(), fixture.clone(), stop.clone()));

    tokio::time::sleep(Duration::from_secs(1)).await;
    let stopping = Instant::now();
    let pg_stop = tokio::task::spawn_blocking({
        let pg = Arc::new(pg);
        let pg2 = pg.clone();
        move || {
            pg2.stop_immediate();
            pg
        }
    });
    let pg = pg_stop.await.unwrap();
    let stopped = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let restarting = Instant::now();
    let pg = tokio::task::spawn_blocking(move || {
        pg.start_again();
        pg
    })
    .await
    .unwrap();
    let up = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let samples = load.await.unwrap();

    // Every request got an answer: a 200 or the contract's 503, never a hang or another 5xx.
    for s in &samples {
        match &s.status {
            Ok(200) => {}
            Ok(503) => assert!(s.well_formed_503, "{s:?}"),
            other => panic!("an answer other than 200 or 503: {other:?} ({s:?})"),
        }
    }
    let unavailable: Vec<&Sample> = samples.iter().filter(|s| s.status == Ok(503)).collect();
    let slowest_503 = unavailable.iter().map(|s| s.took).max().unwrap_or_default();
    assert!(
        slowest_503 <= timeout + Duration::from_millis(500),
        "a 503 took {slowest_503:?} (database timeout {timeout:?})"
    );
    // While the database was down, nothing succeeded.
    let during: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.started >= stopped && s.started + s.took <= restarting)
        .collect();
    assert!(
        during.len() > 20,
        "the load went on during the outage: {}",
        during.len()
    );
    assert!(during.iter().all(|s| s.status == Ok(503)), "{during:#?}");
    let first_503 = unavailable
        .iter()
        .find(|s| s.started + s.took >= stopping)
        .map(|s| (s.started + s.took).duration_since(stopping))
        .expect("the outage was noticed");
    // Back within 2 s of the database's return, and for good.
    let back = samples
        .iter()
        .filter(|s| s.started >= up && s.status == Ok(200))
        .map(|s| (s.started + s.took).duration_since(up))
        .min()
        .expect("requests succeeded after the database returned");
    assert!(back <= Duration::from_secs(2), "back after {back:?}");
    let late_failures: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.started >= up + Duration::from_secs(2) && s.status != Ok(200))
        .collect();
    assert!(late_failures.is_empty(), "{late_failures:#?}");

    // No acknowledged send is lost, none is doubled, and every refused one can be retried.
    let client = crate::http::client();
    let acknowledged: Vec<usize> = samples
        .iter()
        .filter(|s| s.status == Ok(200))
        .filter_map(|s| s.creation)
        .collect();
    let refused: Vec<usize> = samples
        .iter()
        .filter(|s| s.status == Ok(503))
        .filter_map(|s| s.creation)
        .collect();
    for &n in &refused {
        let answer = create(&client, &server, &fixture, &format!("load-{n}"), n)
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "retry of load-{n}: {answer:?}");
    }
    let sends = all_sends(&client, &server, &fixture).await;
    let mut emails: Vec<&str> = sends.iter().map(|(_, e)| e.as_str()).collect();
    emails.sort_unstable();
    let mut expected: Vec<String> = acknowledged
        .iter()
        .chain(&refused)
        .map(|n| format!("r{n}@example.com"))
        .collect();
    expected.sort_unstable();
    assert_eq!(
        emails,
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );

    // One line when the database went away and one when it came back, whatever the load.
    let log = server.log();
    let count = |needle: &str| log.iter().filter(|l| l.contains(needle)).count();
    assert_eq!(count("database unreachable"), 1, "{log:#?}");
    assert_eq!(count("database reachable again"), 1, "{log:#?}");
    assert!(count("the worker pauses") <= 1, "{log:#?}");
    assert_eq!(
        count("the worker pauses"),
        count("the worker resumed"),
        "{log:#?}"
    );
    drop(pg);
    let median_503 = unavailable
        .get(unavailable.len() / 2)
        .map(|s| s.took)
        .unwrap_or_default();
    eprintln!(
        "postgres outage: {} requests, {} answered 503 (slowest {slowest_503:?}, a middle one \
         {median_503:?}); first 503 {first_503:?} after the stop began; back {back:?} after the \
         database accepted connections; {} creations acknowledged, {} refused and retried",
        samples.len(),
        unavailable.len(),
        acknowledged.len(),
        refused.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(giftwire_pg),
    ignore = "needs a PostgreSQL installation (CI has one; set GIFTWIRE_TEST_POSTGRES_URL to run the PostgreSQL half)"
)]
async fn while_postgres_is_down_the_server_tries_to_reach_it_at_most_twice_a_second() {
    let pg = OwnPostgres::start().expect("a PostgreSQL installation under /usr/lib/postgresql");
    let proxy = crate::harness::CountingProxy::start(([127, 0, 0, 1], pg.port).into()).await;
    let url = format!("postgres://postgres@{}/postgres", proxy.addr);
    let fixture = Arc::new(Fixture::create(&url));
    let server = Arc::new(Server::start(
        &url,
        &["--database-timeout", "1", "--tick-secs", "1"],
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(load(8, server.clone(), fixture.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;

    let pg = tokio::task::spawn_blocking(move || {
        pg.stop_immediate();
        pg
    })
    .await
    .unwrap();
    let before = proxy.connections();
    let outage = Duration::from_secs(5);
    tokio::time::sleep(outage).await;
    let attempts = proxy.connections() - before;
    stop.store(true, Ordering::Relaxed);
    let samples = load.await.unwrap();
    let refused = samples.iter().filter(|s| s.status == Ok(503)).count();
    // The probe: at 0.1, 0.3, 0.7, 1.2, 1.7, ... s: 12 in 5 s, plus the pool's own attempts
    // in the moment the outage is noticed.
    assert!(
        attempts <= 12 + 8,
        "{attempts} connection attempts in {outage:?} of outage ({refused} requests refused)"
    );
    assert!(refused > 100, "the load went on: {refused}");
    eprintln!(
        "postgres down for {outage:?} under 8 clients: {refused} requests answered 503, \
         {attempts} connection attempts reached the database's address"
    );
    drop(pg);
}
