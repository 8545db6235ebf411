//! The real `giftwire` binary as a child process: admin commands, a server on a free port with
//! its log, and the HTTP requests the suite makes of it.

use std::io::BufRead as _;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_giftwire")
}

/// Runs an admin command that must succeed; returns the one JSON object it printed.
pub fn admin(database: &str, args: &[&str]) -> Value {
    let out = Command::new(bin())
        .args(args)
        .env("GIFTWIRE_DATABASE_URL", database)
        .env("GIFTWIRE_SEALING_KEY_FILE", crate::db::sealing_key_file())
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
}

/// An organization with a user, an eGift touch and a token that may read and create.
pub struct Fixture {
    pub token: String,
    pub touch: i64,
}

impl Fixture {
    pub fn create(database: &str) -> Fixture {
        let org = admin(database, &["org", "create", "--name", "Reliable"])["id"].to_string();
        let user = admin(
            database,
            &[
                "user",
                "create",
                "--org",
                &org,
                "--name",
                "Ann Lee",
                "--email",
                "ann@reliable.example",
            ],
        )["id"]
            .to_string();
        admin(
            database,
            &["user", "fund", "--user", &user, "--amount", "100000000"],
        );
        let touch = admin(
            database,
            &[
                "touch",
                "create",
                "--org",
                &org,
                "--name",
                "eGift",
                "--type",
                "eGifts USA",
                "--subtype",
                "eGift Cards USA",
                "--currency",
                "USD",
                "--price",
                "25",
            ],
        )["id"]
            .as_i64()
            .unwrap();
        let token = admin(
            database,
            &[
                "token",
                "create",
                "--user",
                &user,
                "--scopes",
                "public write",
            ],
        )["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        Fixture { token, touch }
    }

    /// The body of an eGift creation for recipient number `n`.
    pub fn egift(&self, n: usize) -> String {
        format!(
            r#"{{"send":{{"touch_id":{},"email":"r{n}@example.com","name":"Recipient {n}","via":"single_email_address","via_from":"reliability"}}}}"#,
            self.touch
        )
    }
}

/// `giftwire serve` on a free port of 127.0.0.1, with its log collected.
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub pid: u32,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `serve` (rate limit off) with `args` and waits until it listens.
    pub fn start(database: &str, args: &[&str]) -> Server {
        Server::start_on(database, "127.0.0.1:0", args)
    }

    pub fn start_on(database: &str, listen: &str, args: &[&str]) -> Server {
        let mut child = Command::new(bin())
            .args(["serve", "--listen", listen, "--rate-limit", "0"])
            .args(args)
            .env("GIFTWIRE_DATABASE_URL", database)
            .env("GIFTWIRE_SEALING_KEY_FILE", crate::db::sealing_key_file())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let pid = child.id();
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut addr = None;
        let mut line = String::new();
        while addr.is_none() {
            line.clear();
            let n = stderr.read_line(&mut line).unwrap_or(0);
            assert!(
                n > 0,
                "serve ended before listening: {:#?}",
                log.lock().unwrap()
            );
            if line.contains("serving") {
                addr = line
                    .split("addr=")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .map(str::to_owned);
            }
            log.lock().unwrap().push(line.trim_end().to_owned());
        }
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        Server {
            child: Some(child),
            base: format!("http://{}", addr.unwrap()),
            pid,
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Every line the server logged so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// SIGKILL: the process ends at once, as on a power cut of the process.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends a signal (`TERM`, `KILL`) to the process and goes on at once: the clients may
    /// still hold the server.
    pub fn signal(&self, name: &str) {
        assert!(sh("kill", &[&format!("-{name}"), &self.pid.to_string()]));
    }

    /// Waits up to `limit` for the process to end by itself.
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The server's resident memory, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One answer of the server.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub took: Duration,
}

impl Answer {
    /// Asserts the contract's 503 (CONTRACT.md §1, §2): the error shape as JSON, `Retry-After`,
    /// and nothing internal in the message.
    pub fn assert_unavailable(&self) {
        assert_eq!(self.status, 503, "{self:?}");
        assert_eq!(
            self.headers["content-type"], "application/json; charset=utf-8",
            "{self:?}"
        );
        assert_eq!(self.body["success"], false, "{self:?}");
        let message = self.body["message"]
            .as_str()
            .expect("a message")
            .to_lowercase();
        for internal in [
            "sqlite", "postgres", "sql", "code:", "database", "pool", "i/o",
        ] {
            assert!(!message.contains(internal), "{internal:?} in {message:?}");
        }
        assert_eq!(self.headers["retry-after"], "1", "{self:?}");
    }
}

async fn answer(request: reqwest::RequestBuilder) -> Result<Answer, reqwest::Error> {
    let started = Instant::now();
    let response = request.send().await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await?;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok(Answer {
        status,
        headers,
        body,
        took: started.elapsed(),
    })
}

/// POST /api/v3/send with an `Idempotency-Key`.
pub async fn create(
    client: &reqwest::Client,
    server: &Server,
    fixture: &Fixture,
    key: &str,
    n: usize,
) -> Result<Answer, reqwest::Error> {
    answer(
        client
            .post(server.url("/api/v3/send"))
            .bearer_auth(&fixture.token)
            .header("Idempotency-Key", key)
            .header("Content-Type", "application/json")
            .body(fixture.egift(n)),
    )
    .await
}

/// GET with the fixture's token.
pub async fn get(
    client: &reqwest::Client,
    server: &Server,
    fixture: &Fixture,
    path: &str,
) -> Result<Answer, reqwest::Error> {
    answer(client.get(server.url(path)).bearer_auth(&fixture.token)).await
}

/// The organization's `total_count`.
pub async fn total(client: &reqwest::Client, server: &Server, fixture: &Fixture) -> u64 {
    let listed = get(client, server, fixture, "/api/v3/send?per_page=1")
        .await
        .expect("the listing answers");
    assert_eq!(listed.status, 200, "{listed:?}");
    listed.body["total_count"].as_u64().unwrap()
}

/// Every send of the organization: its ids and the recipients' emails, in order.
pub async fn all_sends(
    client: &reqwest::Client,
    server: &Server,
    fixture: &Fixture,
) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    for page in 1.. {
        let listed = get(
            client,
            server,
            fixture,
            &format!("/api/v3/send?per_page=100&page={page}"),
        )
        .await
        .expect("the listing answers");
        assert_eq!(listed.status, 200, "{listed:?}");
        let sends = listed.body["sends"].as_array().unwrap();
        if sends.is_empty() {
            return out;
        }
        for send in sends {
            out.push((
                send["id"].as_i64().unwrap(),
                send["recipient"]["email"].as_str().unwrap().to_owned(),
            ));
        }
    }
    out
}

/// `PRAGMA integrity_check` of an SQLite database file (with the server stopped).
pub async fn sqlite_integrity(url: &str) -> String {
    use sqlx::Connection as _;
    let mut conn = sqlx::SqliteConnection::connect(url)
        .await
        .expect("open the file");
    let (result,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .expect("integrity_check runs");
    result
}

/// Runs a command of the operating system; whether it succeeded.
pub fn sh(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A TCP forwarder to `target` that counts the connections made through it: how a test sees
/// how often the server tries to reach its database.
pub struct CountingProxy {
    pub addr: std::net::SocketAddr,
    connections: Arc<std::sync::atomic::AtomicUsize>,
    _accept: tokio::task::JoinHandle<()>,
}

impl CountingProxy {
    pub async fn start(target: std::net::SocketAddr) -> CountingProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = connections.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    // Upstream down: the connection is closed at once, as a load balancer in
                    // front of a stopped database would.
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        CountingProxy {
            addr,
            connections,
            _accept: accept,
        }
    }

    /// Connections made through the proxy so far.
    pub fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}
