//! Graceful shutdown under load: SIGTERM while 16 clients create and read, with creations held
//! up in flight by a lock another connection holds. Every request the server accepted is
//! answered before it exits (a creation that got no answer was never written: its retry
//! creates it, it does not replay it), and the process exits cleanly.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::db::{Backend, TestDb};
use crate::harness::{Fixture, Server, all_sends, create, get};

/// Another connection holding what creations need: SQLite's write lock, or PostgreSQL's row of
/// the organization (each creation locks it to number its send). Released when the returned
/// function's task ends.
async fn hold_writes(backend: Backend, url: &str) -> impl FnOnce() -> tokio::task::JoinHandle<()> {
    match backend {
        Backend::Sqlite => hold::<sqlx::SqliteConnection>(url, &["BEGIN IMMEDIATE"]).await,
        Backend::Postgres => {
            let lock = ["BEGIN", "SELECT id FROM organizations FOR UPDATE"];
            hold::<sqlx::PgConnection>(url, &lock).await
        }
    }
}

/// Runs `statements` on a connection of its own; the returned function rolls them back.
async fn hold<C>(
    url: &str,
    statements: &[&'static str],
) -> Box<dyn FnOnce() -> tokio::task::JoinHandle<()>>
where
    C: sqlx::Connection + 'static,
    for<'e> &'e mut C: sqlx::Executor<'e, Database = C::Database>,
{
    let mut conn = C::connect(url).await.unwrap();
    for statement in statements {
        sqlx::raw_sql(*statement).execute(&mut conn).await.unwrap();
    }
    Box::new(move || {
        tokio::spawn(async move {
            sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.unwrap();
        })
    })
}

#[derive(Debug)]
struct Outcome {
    finished: Instant,
    creation: Option<usize>,
    status: Option<u16>,
}

async fn sigterm_under_load_answers_every_accepted_request(backend: Backend) {
    let db = TestDb::new(backend).await;
    let fixture = Arc::new(Fixture::create(&db.url));
    let server = Arc::new(Server::start(&db.url, &["--database-timeout", "5"]));
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..16usize {
        let (server, fixture, next, stop) =
            (server.clone(), fixture.clone(), next.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let client = crate::http::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let mut outcomes = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let (creation, answer) = if c % 4 == 0 {
                    (
                        None,
                        get(&client, &server, &fixture, "/api/v3/send?per_page=5").await,
                    )
                } else {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    (
                        Some(n),
                        create(&client, &server, &fixture, &format!("term-{n}"), n).await,
                    )
                };
                let failed = answer.is_err();
                outcomes.push(Outcome {
                    finished: Instant::now(),
                    creation,
                    status: answer.ok().map(|a| a.status),
                });
                if failed {
                    break;
                }
            }
            outcomes
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let release = hold_writes(backend, &db.url).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let terminated = Instant::now();
    server.signal("TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    release().await.unwrap();
    let mut outcomes = Vec::new();
    for client in clients {
        outcomes.extend(client.await.unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    let mut server = Arc::into_inner(server).expect("the clients are done");
    let exit = server.wait(Duration::from_secs(15));
    let stopped = terminated.elapsed();
    assert!(
        exit.is_some_and(|e| e.success()),
        "{exit:?}\n{:#?}",
        server.log()
    );

    // Everything answered was a success; the requests held up at SIGTERM were answered too.
    for o in &outcomes {
        assert!(matches!(o.status, None | Some(200)), "{o:?}");
    }
    let drained = outcomes
        .iter()
        .filter(|o| o.creation.is_some() && o.status == Some(200) && o.finished > terminated)
        .count();
    assert!(
        drained >= 4,
        "creations in flight at SIGTERM were answered: {drained}"
    );
    let unanswered: Vec<usize> = outcomes
        .iter()
        .filter(|o| o.status.is_none())
        .filter_map(|o| o.creation)
        .collect();
    let acknowledged: Vec<usize> = outcomes
        .iter()
        .filter(|o| o.status == Some(200))
        .filter_map(|o| o.creation)
        .collect();

    // A creation that got no answer was not written: its retry creates it.
    let server = Server::start(&db.url, &[]);
    let client = crate::http::client();
    for &n in &unanswered {
        let answer = create(&client, &server, &fixture, &format!("term-{n}"), n)
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{answer:?}");
        assert!(
            answer.headers.get("idempotent-replayed").is_none(),
            "term-{n} was written but its answer never reached the client"
        );
    }
    let sends = all_sends(&client, &server, &fixture).await;
    assert_eq!(sends.len(), acknowledged.len() + unanswered.len());
    eprintln!(
        "{backend:?}: SIGTERM under 16 clients: {} requests answered, {drained} creations held \
         up at SIGTERM answered while draining, {} clients ended on a closed connection; exited \
         cleanly {stopped:?} after SIGTERM",
        outcomes.iter().filter(|o| o.status.is_some()).count(),
        outcomes.iter().filter(|o| o.status.is_none()).count(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_on_sqlite_answers_every_accepted_request() {
    sigterm_under_load_answers_every_accepted_request(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(giftwire_pg),
    ignore = "PostgreSQL half: set GIFTWIRE_TEST_POSTGRES_URL to run it"
)]
async fn sigterm_under_load_on_postgres_answers_every_accepted_request() {
    sigterm_under_load_answers_every_accepted_request(Backend::Postgres).await;
}
