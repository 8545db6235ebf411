//! Storage faults on SQLite: the disk fills up, the files become read-only, another process
//! holds the write lock. Every write during the fault is a 503 in the error shape that changes
//! nothing; reads go on; the first request after the cause is gone succeeds, without a restart.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{self, Fixture, Server, create, get, sh, total};

/// A small tmpfs mounted on a temporary folder, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` when this machine cannot mount one (the test then says it skipped).
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_str().unwrap();
        sh(
            "mount",
            &["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs", path],
        )
        .then_some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the filesystem to the last byte; returns the file doing it.
    fn fill(&self) -> PathBuf {
        use std::io::Write as _;
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 4096];
        while file.write_all(&chunk).is_ok() {}
        let byte = [0u8; 1];
        while file.write_all(&byte).is_ok() {}
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        sh("umount", &["-l", self.dir.path().to_str().unwrap()]);
    }
}

/// Creations until `refusals` of them have been refused (at most `limit` tries): each must be
/// a 200 or the contract's 503. Returns the keys of the accepted and of the refused ones.
async fn create_until_refused(
    client: &reqwest::Client,
    server: &Server,
    fixture: &Fixture,
    prefix: &str,
    refusals: usize,
    limit: usize,
) -> (Vec<String>, Vec<(String, usize)>) {
    let (mut accepted, mut refused) = (Vec::new(), Vec::new());
    for n in 0..limit {
        let key = format!("{prefix}-{n}");
        let answer = create(client, server, fixture, &key, n).await.unwrap();
        match answer.status {
            200 => accepted.push(key),
            _ => {
                answer.assert_unavailable();
                refused.push((key, n));
                if refused.len() == refusals {
                    break;
                }
            }
        }
    }
    (accepted, refused)
}

/// Retries refused creations with their keys: each creates its send now, exactly once.
async fn retry_all(
    client: &reqwest::Client,
    server: &Server,
    fixture: &Fixture,
    refused: &[(String, usize)],
) {
    for (key, n) in refused {
        let answer = create(client, server, fixture, key, *n).await.unwrap();
        assert_eq!(answer.status, 200, "retry of {key}: {answer:?}");
        let again = create(client, server, fixture, key, *n).await.unwrap();
        assert_eq!(again.status, 200, "{again:?}");
        assert_eq!(again.headers["idempotent-replayed"], "true", "{again:?}");
        assert_eq!(again.body, answer.body);
    }
}

#[tokio::test]
#[cfg_attr(
    not(giftwire_root),
    ignore = "needs root (to mount a small tmpfs); CI runs it as root"
)]
async fn sqlite_on_a_full_disk_answers_503_changes_nothing_and_recovers_at_once() {
    let Some(fs) = Tmpfs::mount("4m") else {
        eprintln!("SKIPPED: this machine cannot mount a tmpfs");
        return;
    };
    let url = format!("sqlite://{}", fs.path().join("full.db").display());
    let fixture = Fixture::create(&url);
    let server = Server::start(&url, &[]);
    let client = crate::http::client();
    for n in 0..5 {
        let answer = create(&client, &server, &fixture, &format!("before-{n}"), n)
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{answer:?}");
    }

    let filler = fs.fill();
    let (accepted, refused) =
        create_until_refused(&client, &server, &fixture, "full", 20, 400).await;
    assert_eq!(refused.len(), 20, "the full disk refused writes");
    // Refused creations changed nothing; reads go on.
    assert_eq!(
        total(&client, &server, &fixture).await,
        5 + accepted.len() as u64
    );
    let listed = get(&client, &server, &fixture, "/api/v3/send?per_page=100")
        .await
        .unwrap();
    assert_eq!(listed.status, 200);

    std::fs::remove_file(filler).unwrap();
    // The very next request succeeds, and every refused one can be retried with its key.
    retry_all(&client, &server, &fixture, &refused).await;
    assert_eq!(
        total(&client, &server, &fixture).await,
        5 + accepted.len() as u64 + refused.len() as u64
    );
    let log = server.log().join("\n");
    assert!(
        !log.contains(" 500 ") && !log.contains("internal error"),
        "{log}"
    );
    drop(server);
    assert_eq!(harness::sqlite_integrity(&url).await, "ok");
    eprintln!(
        "full disk: {} accepted in leftover space, {} refused with 503, all retried once freed",
        accepted.len(),
        refused.len()
    );
}

#[tokio::test]
#[cfg_attr(
    not(giftwire_root),
    ignore = "needs root (to make files immutable with chattr); CI runs it as root"
)]
async fn sqlite_with_read_only_files_answers_503_keeps_reading_and_recovers_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ro.db");
    let url = format!("sqlite://{}", db.display());
    let fixture = Fixture::create(&url);
    let server = Server::start(&url, &[]);
    let client = crate::http::client();
    for n in 0..3 {
        let answer = create(&client, &server, &fixture, &format!("before-{n}"), n)
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    // The database and its log; not the -shm file, which is shared memory: SQLite maps it, and
    // a write to an immutable mapped file is a SIGBUS (docs/RELIABILITY.md).
    let files: Vec<String> = ["ro.db", "ro.db-wal"]
        .iter()
        .map(|f| dir.path().join(f).display().to_string())
        .collect();
    let mut immutable = vec!["+i"];
    immutable.extend(files.iter().map(String::as_str));
    if !sh("chattr", &immutable) {
        eprintln!("SKIPPED: chattr +i does not work on this filesystem");
        return;
    }
    let (accepted, refused) = create_until_refused(&client, &server, &fixture, "ro", 10, 10).await;
    let mut writable = vec!["-i"];
    writable.extend(files.iter().map(String::as_str));
    assert!(
        accepted.is_empty(),
        "a read-only database accepted {accepted:?}"
    );
    assert_eq!(refused.len(), 10);
    // Reads go on.
    assert_eq!(total(&client, &server, &fixture).await, 3);

    assert!(sh("chattr", &writable));
    retry_all(&client, &server, &fixture, &refused).await;
    assert_eq!(total(&client, &server, &fixture).await, 13);
    drop(server);
    assert_eq!(harness::sqlite_integrity(&url).await, "ok");
}

#[tokio::test]
async fn sqlite_locked_by_another_process_beyond_the_timeout_is_a_503_in_time_and_reads_go_on() {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("locked.db").display());
    let fixture = Fixture::create(&url);
    let server = Server::start(&url, &["--database-timeout", "0.5"]);
    let client = crate::http::client();
    let answer = create(&client, &server, &fixture, "before", 0)
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "{answer:?}");

    // Another process writes and does not commit: it holds the write lock.
    let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    sqlx::query("UPDATE organizations SET name = name")
        .execute(&mut other)
        .await
        .unwrap();
    for n in 1..=3 {
        let answer = create(&client, &server, &fixture, &format!("locked-{n}"), n)
            .await
            .unwrap();
        answer.assert_unavailable();
        assert!(
            answer.took >= std::time::Duration::from_millis(450)
                && answer.took <= std::time::Duration::from_millis(1500),
            "a 503 after the 0.5 s timeout, not before and not much later: {:?}",
            answer.took
        );
    }
    assert_eq!(total(&client, &server, &fixture).await, 1, "reads go on");

    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    let answer = create(&client, &server, &fixture, "locked-1", 1)
        .await
        .unwrap();
    assert_eq!(
        answer.status, 200,
        "the next request after the lock is gone: {answer:?}"
    );
    assert_eq!(total(&client, &server, &fixture).await, 2);
}

#[tokio::test]
async fn the_token_endpoints_answer_a_locked_database_with_a_503_server_error_and_recover() {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("oauth.db").display());
    Fixture::create(&url);
    let app = harness::admin(
        &url,
        &[
            "app",
            "create",
            "--org",
            "1",
            "--name",
            "CRM",
            "--redirect-uri",
            "https://crm.example/cb",
        ],
    );
    let (id, secret) = (
        app["client_id"].as_str().unwrap().to_owned(),
        app["client_secret"].as_str().unwrap().to_owned(),
    );
    let server = Server::start(&url, &["--database-timeout", "0.5"]);
    let client = crate::http::client();
    let revoke = || {
        client
            .post(server.url("/oauth/revoke"))
            .basic_auth(&id, Some(&secret))
            .form(&[("token", "gw_some_token")])
            .send()
    };

    // Revoking writes: with the write lock held elsewhere, it cannot, and says so as OAuth does.
    let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let response = revoke().await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "server_error", "{body}");
    let description = body["error_description"].as_str().unwrap().to_lowercase();
    for internal in ["sqlite", "sql", "database", "pool", "lock"] {
        assert!(
            !description.contains(internal),
            "{internal:?} in {description:?}"
        );
    }

    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    let response = revoke().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        serde_json::json!({})
    );
}
