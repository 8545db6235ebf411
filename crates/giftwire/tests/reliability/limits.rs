//! Resource limits against abusive clients (OWASP API4), over raw TCP against the real binary:
//! headers or a body trickled a byte at a time are cut off, a request that takes too long is a
//! 503, connections beyond the cap are refused with a 503, and a thousand idle connections do
//! not slow anyone else down.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::harness::{Fixture, Server, create, get};

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("limits.db").display())
}

fn host(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// Writes `bytes` one at a time, `gap` apart, until the server closes the connection; returns
/// how many it took and what the server answered.
async fn trickle(stream: &mut TcpStream, bytes: &[u8], gap: Duration) -> (usize, String) {
    let mut sent = 0;
    for b in bytes {
        if stream.write_all(&[*b]).await.is_err() {
            break;
        }
        sent += 1;
        let mut buf = [0u8; 4096];
        match tokio::time::timeout(gap, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                let mut answer = String::from_utf8_lossy(&buf[..n]).into_owned();
                let mut rest = Vec::new();
                let _ = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut rest))
                    .await;
                answer.push_str(&String::from_utf8_lossy(&rest));
                return (sent, answer);
            }
            Err(_) => {}
        }
    }
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut rest)).await;
    (sent, String::from_utf8_lossy(&rest).into_owned())
}

#[tokio::test]
async fn headers_trickled_a_byte_at_a_time_are_cut_off_at_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let fixture = Fixture::create(&url);
    let server = Server::start(&url, &["--header-timeout", "1"]);
    let request = format!(
        "GET /api/v3/send HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nX-Padding: {}\r\n\r\n",
        host(&server),
        fixture.token,
        "p".repeat(40)
    );
    let mut stream = TcpStream::connect(host(&server)).await.unwrap();
    let started = Instant::now();
    let (sent, answer) = trickle(&mut stream, request.as_bytes(), Duration::from_millis(100)).await;
    let took = started.elapsed();
    assert!(
        sent < request.len(),
        "the whole request went through: {answer}"
    );
    assert!(!answer.contains("200 OK"), "{answer}");
    assert!(
        took >= Duration::from_millis(900) && took <= Duration::from_secs(3),
        "cut off after {took:?}"
    );
    // Others are served meanwhile and after.
    let client = crate::http::client();
    assert_eq!(
        get(&client, &server, &fixture, "/api/v3/send")
            .await
            .unwrap()
            .status,
        200
    );
}

#[tokio::test]
async fn a_body_trickled_a_byte_at_a_time_is_a_408_at_the_body_timeout_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let fixture = Fixture::create(&url);
    let server = Server::start(&url, &["--body-timeout", "1"]);
    let body = fixture.egift(1);
    let head = format!(
        "POST /api/v3/send HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        host(&server),
        fixture.token,
        body.len()
    );
    let mut stream = TcpStream::connect(host(&server)).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (sent, answer) = trickle(&mut stream, body.as_bytes(), Duration::from_millis(100)).await;
    let took = started.elapsed();
    assert!(sent < body.len(), "{answer}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer
            .to_lowercase()
            .contains("content-type: application/json; charset=utf-8"),
        "{answer}"
    );
    assert!(
        answer.to_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(
        answer.contains(r#"{"success":false,"message":"The request body did not arrive in time"}"#),
        "{answer}"
    );
    assert!(took <= Duration::from_secs(3), "{took:?}");
    let client = crate::http::client();
    assert_eq!(crate::harness::total(&client, &server, &fixture).await, 0);
}

#[tokio::test]
async fn a_request_that_takes_longer_than_the_request_timeout_is_a_503_and_its_retry_creates_nothing_more()
 {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let fixture = Fixture::create(&url);
    // The database would let the request wait 10 s for the write lock; the request may take 1 s.
    let server = Server::start(
        &url,
        &["--request-timeout", "1", "--database-timeout", "10"],
    );
    let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let client = crate::http::client();
    let answer = create(&client, &server, &fixture, "slow", 1).await.unwrap();
    answer.assert_unavailable();
    assert_eq!(
        answer.body["message"],
        "The request took too long; retry shortly"
    );
    assert!(
        answer.took >= Duration::from_millis(950) && answer.took <= Duration::from_secs(3),
        "{:?}",
        answer.took
    );
    // Nothing is applied while the lock is held.
    assert_eq!(crate::harness::total(&client, &server, &fixture).await, 0);
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    // On SQLite the write under way when the deadline passed runs to its end, whole (README,
    // docs/RELIABILITY.md); the retry with its key queues behind it and replays it.
    let again = create(&client, &server, &fixture, "slow", 1).await.unwrap();
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.headers["idempotent-replayed"], "true", "{again:?}");
    assert_eq!(crate::harness::total(&client, &server, &fixture).await, 1);
}

/// One request on a fresh connection, read to its end.
async fn one_request(host: &str, token: &str) -> String {
    let mut stream = TcpStream::connect(host).await.unwrap();
    let request = format!(
        "GET /api/v3/send HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn connections_beyond_the_cap_get_a_503_and_the_cap_frees_up_when_they_close() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let fixture = Fixture::create(&url);
    let server = Server::start(&url, &["--max-connections", "4"]);
    let host = host(&server);
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(&host).await.unwrap());
    }
    // Let the server accept them.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let refused = one_request(&host, &fixture.token).await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(
        refused
            .to_lowercase()
            .contains("content-type: application/json; charset=utf-8"),
        "{refused}"
    );
    assert!(
        refused.to_lowercase().contains("retry-after: 1"),
        "{refused}"
    );
    assert!(
        refused.to_lowercase().contains("connection: close"),
        "{refused}"
    );
    assert!(
        refused.contains(
            r#"{"success":false,"message":"The server is at its connection limit; retry shortly"}"#
        ),
        "{refused}"
    );
    drop(idle);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let served = one_request(&host, &fixture.token).await;
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
}

/// Latencies of `n` sequential reads on one keep-alive connection, sorted.
async fn latencies(server: &Server, fixture: &Fixture, n: usize) -> Vec<Duration> {
    let client = crate::http::client();
    let mut took = Vec::with_capacity(n);
    for _ in 0..n {
        let answer = get(&client, server, fixture, "/api/v3/send?per_page=10")
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
        took.push(answer.took);
    }
    took.sort();
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_idle_connections_do_not_slow_other_clients() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let fixture = Fixture::create(&url);
    let server = Server::start(
        &url,
        &["--max-connections", "1100", "--header-timeout", "30"],
    );
    let client = crate::http::client();
    for n in 0..20 {
        create(&client, &server, &fixture, &format!("k{n}"), n)
            .await
            .unwrap();
    }
    latencies(&server, &fixture, 50).await; // warm-up
    let before = latencies(&server, &fixture, 300).await;
    let host = host(&server);
    let mut idle = Vec::with_capacity(1000);
    for _ in 0..1000 {
        idle.push(TcpStream::connect(&host).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let during = latencies(&server, &fixture, 300).await;
    let p = |v: &[Duration], q: f64| v[((v.len() - 1) as f64 * q) as usize];
    let (p50_before, p99_before) = (p(&before, 0.5), p(&before, 0.99));
    let (p50_during, p99_during) = (p(&during, 0.5), p(&during, 0.99));
    eprintln!(
        "1,000 idle connections: p50 {p50_before:?} -> {p50_during:?}, p99 {p99_before:?} -> \
         {p99_during:?}; server RSS {} KiB",
        server.rss_kib()
    );
    assert!(
        p50_during <= p50_before * 2 + Duration::from_millis(2),
        "p50 {p50_before:?} -> {p50_during:?}"
    );
    assert!(
        p99_during <= p99_before * 3 + Duration::from_millis(10),
        "p99 {p99_before:?} -> {p99_during:?}"
    );
    // They are connections the server holds, not ones it dropped: one of them still works.
    let mut last = idle.pop().unwrap();
    let request = format!(
        "GET /api/v3/send HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        fixture.token
    );
    last.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), last.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
}
