//! The command line, run as a user runs it: the real binary on a real SQLite file. Each admin
//! command prints exactly one JSON object on stdout; a refused one exits non-zero with a message
//! on stderr and writes nothing.

use std::process::{Command, Output};

#[path = "../common/db.rs"]
mod db;
#[path = "../common/http.rs"]
mod http;

use db::{Backend, TestDb};

use giftwire_core::lifecycle::{self, SendState, StatusChange, StatusEntry};
use giftwire_core::{Money, OrgTimeZone, SendType};
use serde_json::{Value, json};

struct Cli {
    dir: tempfile::TempDir,
    url: String,
    _db: Option<TestDb>,
}

impl Cli {
    /// On an SQLite file, `cli.db` in a folder of its own (the working directory of commands).
    fn new() -> Cli {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("cli.db").display());
        Cli {
            dir,
            url,
            _db: None,
        }
    }

    fn on(backend: Backend) -> Cli {
        match backend {
            Backend::Sqlite => Cli::new(),
            Backend::Postgres => {
                let db = tokio::runtime::Runtime::new()
                    .unwrap()
                    .block_on(TestDb::new(backend));
                Cli {
                    dir: tempfile::tempdir().unwrap(),
                    url: db.url.clone(),
                    _db: Some(db),
                }
            }
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_giftwire"))
            .args(args)
            .env("GIFTWIRE_DATABASE_URL", &self.url)
            .env("GIFTWIRE_SEALING_KEY_FILE", crate::db::sealing_key_file())
            .env_remove("RUST_LOG")
            .current_dir(self.dir.path())
            .output()
            .expect("the binary runs")
    }

    /// Runs a command that must succeed; returns the one JSON object it printed.
    fn ok(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?} failed: {stderr}");
        assert_eq!(
            stdout.lines().count(),
            1,
            "{args:?} printed more than one line: {stdout}"
        );
        let value: Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        assert!(value.is_object(), "{stdout}");
        value
    }

    /// Runs a command that must be refused; returns its stderr.
    fn refused(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(out.stdout.is_empty(), "a refused command printed on stdout");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.starts_with("error: "), "{stderr}");
        stderr
    }

    /// An organization with a team, a user in it and an eGift touch.
    fn org(&self, name: &str, tz: &str) -> (i64, i64, i64, i64) {
        let org = self.ok(&["org", "create", "--name", name, "--time-zone", tz])["id"]
            .as_i64()
            .unwrap();
        let team = self.ok(&[
            "team",
            "create",
            "--org",
            &org.to_string(),
            "--name",
            "Sales",
        ])["id"]
            .as_i64()
            .unwrap();
        let email = format!("owner@{}.example", name.to_lowercase());
        let user = self.ok(&[
            "user",
            "create",
            "--org",
            &org.to_string(),
            "--name",
            "Owner",
            "--email",
            &email,
            "--team",
            &team.to_string(),
        ])["id"]
            .as_i64()
            .unwrap();
        self.ok(&[
            "user",
            "fund",
            "--user",
            &user.to_string(),
            "--amount",
            "1000",
        ]);
        let touch = self.ok(&[
            "touch",
            "create",
            "--org",
            &org.to_string(),
            "--name",
            "eGift Cards USA",
            "--type",
            "eGifts USA",
            "--subtype",
            "eGift Cards USA",
            "--currency",
            "USD",
            "--price",
            "2.00",
        ])["id"]
            .as_i64()
            .unwrap();
        (org, team, user, touch)
    }

    fn send(&self, user: i64, touch: i64) -> Value {
        self.ok(&[
            "send",
            "create",
            "--user",
            &user.to_string(),
            "--touch",
            &touch.to_string(),
            "--recipient-name",
            "John Doe",
            "--recipient-email",
            "johndoe@acme.com",
            "--company",
            "Acme",
            "--at",
            "2022-09-12T19:08:27Z",
        ])
    }
}

#[test]
fn org_create_prints_the_organization_with_utc_by_default() {
    let cli = Cli::new();
    assert_eq!(
        cli.ok(&["org", "create", "--name", "Acme"]),
        json!({"id": 1, "name": "Acme", "time_zone": "UTC"})
    );
    assert_eq!(
        cli.ok(&[
            "org",
            "create",
            "--name",
            "Globex",
            "--time-zone",
            "Europe/London"
        ]),
        json!({"id": 2, "name": "Globex", "time_zone": "Europe/London"})
    );
}

#[test]
fn org_create_refuses_an_unknown_zone_or_a_blank_name_and_writes_nothing() {
    let cli = Cli::new();
    let err = cli.refused(&[
        "org",
        "create",
        "--name",
        "Acme",
        "--time-zone",
        "Mars/Base",
    ]);
    assert!(
        err.contains("time_zone is invalid") && err.contains("Mars/Base"),
        "{err}"
    );
    let err = cli.refused(&["org", "create", "--name", "  "]);
    assert!(err.contains("name is invalid"), "{err}");
    // Nothing was written: the next organization is the first.
    assert_eq!(cli.ok(&["org", "create", "--name", "Acme"])["id"], 1);
}

#[test]
fn team_and_user_create_print_what_they_made_and_refuse_other_organizations_teams() {
    let cli = Cli::new();
    cli.ok(&["org", "create", "--name", "Acme"]);
    cli.ok(&["org", "create", "--name", "Globex"]);
    assert_eq!(
        cli.ok(&["team", "create", "--org", "1", "--name", "Sales"]),
        json!({"id": 1, "name": "Sales"})
    );
    let user = cli.ok(&[
        "user",
        "create",
        "--org",
        "1",
        "--name",
        "Ann",
        "--email",
        "ann@acme.example",
        "--team",
        "1",
        "--role",
        "manager",
    ]);
    assert_eq!(
        user,
        json!({"id": 1, "org_id": 1, "name": "Ann", "email": "ann@acme.example", "team_id": 1, "role": "manager", "balance": "0.0", "state": "active"})
    );
    let teamless = cli.ok(&[
        "user",
        "create",
        "--org",
        "1",
        "--name",
        "Bo",
        "--email",
        "bo@acme.example",
    ]);
    assert_eq!(
        (teamless["team_id"].clone(), teamless["role"].clone()),
        (Value::Null, json!("regular"))
    );

    let err = cli.refused(&[
        "user",
        "create",
        "--org",
        "2",
        "--name",
        "Eve",
        "--email",
        "eve@globex.example",
        "--team",
        "1",
    ]);
    assert!(err.contains("Team not found"), "{err}");
    let err = cli.refused(&[
        "user",
        "create",
        "--org",
        "1",
        "--name",
        "Ann 2",
        "--email",
        "ANN@acme.example",
    ]);
    assert!(err.contains("already exists"), "{err}");
    let err = cli.refused(&[
        "user",
        "create",
        "--org",
        "1",
        "--name",
        "Cy",
        "--email",
        "not-an-email",
    ]);
    assert!(err.contains("email is invalid"), "{err}");
    let err = cli.refused(&[
        "user",
        "create",
        "--org",
        "1",
        "--name",
        "Cy",
        "--email",
        "cy@acme.example",
        "--role",
        "admin",
    ]);
    assert!(err.contains("role is invalid"), "{err}");
    let err = cli.refused(&["team", "create", "--org", "9", "--name", "Ghosts"]);
    assert!(err.contains("Organization not found"), "{err}");
    // None of the refusals wrote a user: the next one is the third.
    assert_eq!(
        cli.ok(&[
            "user",
            "create",
            "--org",
            "2",
            "--name",
            "Eve",
            "--email",
            "eve@globex.example"
        ])["id"],
        3
    );
}

#[test]
fn touch_create_validates_the_vocabulary_and_the_price() {
    let cli = Cli::new();
    cli.ok(&["org", "create", "--name", "Acme"]);
    let touch = cli.ok(&[
        "touch",
        "create",
        "--org",
        "1",
        "--name",
        "Wine night",
        "--type",
        "Sendoso Direct",
        "--subtype",
        "Wine",
        "--currency",
        "eur",
        "--price",
        "49.90",
    ]);
    assert_eq!(
        touch,
        json!({
            "id": 1, "org_id": 1, "name": "Wine night", "type": "Sendoso Direct", "subtype": "Wine",
            "currency": "EUR", "price": "49.9", "delivery_type": "mail", "starts_on": null, "ends_on": null,
            "active": true, "ship_to_countries": ["US"], "description": "", "creator": null,
            "gift_id": null, "egift_prices": null, "hubspot_key": null
        })
    );
    let base = [
        "touch",
        "create",
        "--org",
        "1",
        "--name",
        "X",
        "--currency",
        "USD",
    ];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        base.iter().copied().chain(extra.iter().copied()).collect()
    };
    #[rustfmt::skip]
    let refusals: [(&[&str], &str); 6] = [
        (&["--type", "eGifts EU", "--subtype", "Wine", "--price", "1"], "type is invalid"),
        (&["--type", "Amazon", "--subtype", "Beer", "--price", "1"], "subtype is invalid"),
        (&["--type", "Amazon", "--subtype", "Wine", "--price", "1.5e2"], "price is invalid"),
        (&["--type", "Amazon", "--subtype", "Wine", "--price=-3"], "price is invalid"),
        (&["--type", "Amazon", "--subtype", "Wine", "--price", "3", "--delivery-type", "pigeon"], "delivery_type is invalid"),
        (&["--type", "Amazon", "--subtype", "Wine", "--price", "3", "--starts-on", "2025-05-02", "--ends-on", "2025-05-01"], "before starts_on"),
    ];
    for (extra, message) in refusals {
        let err = cli.refused(&with(extra));
        assert!(err.contains(message), "{extra:?}: {err}");
    }
    let digital = cli.ok(&with(&[
        "--type",
        "eGifts USA",
        "--subtype",
        "Coffee",
        "--price",
        "5",
    ]));
    assert_eq!(
        (digital["id"].clone(), digital["delivery_type"].clone()),
        (json!(2), json!("email"))
    );
}

#[test]
fn token_create_prints_a_token_once_with_its_scope_and_revoke_disables_it() {
    let cli = Cli::new();
    let (_, _, user, _) = cli.org("Acme", "UTC");
    let token = cli.ok(&["token", "create", "--user", &user.to_string()]);
    assert_eq!(token["scope"], "public");
    let plain = token["access_token"].as_str().unwrap().to_owned();
    assert!(plain.starts_with("gw_") && plain.len() == 67, "{plain}");
    assert_eq!(token.as_object().unwrap().len(), 2);
    let scoped = cli.ok(&[
        "token",
        "create",
        "--user",
        &user.to_string(),
        "--scopes",
        "write public",
    ]);
    assert_eq!(scoped["scope"], "public write");
    let err = cli.refused(&[
        "token",
        "create",
        "--user",
        &user.to_string(),
        "--scopes",
        "public admin",
    ]);
    assert!(
        err.contains("scope is invalid") && err.contains("admin"),
        "{err}"
    );
    let err = cli.refused(&["token", "create", "--user", "99"]);
    assert!(err.contains("User not found"), "{err}");

    // The database holds only the hash.
    let db = std::fs::read(cli.dir.path().join("cli.db")).unwrap();
    let wal = std::fs::read(cli.dir.path().join("cli.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !bytes.windows(plain.len()).any(|w| w == plain.as_bytes()),
            "the token is stored in clear"
        );
    }

    assert_eq!(
        cli.ok(&["token", "revoke", "--token", &plain]),
        json!({"revoked": true})
    );
    let err = cli.refused(&["token", "revoke", "--token", "gw_unknown"]);
    assert!(err.contains("Token not found"), "{err}");
}

/// Runs `user set-password` with `input` on standard input.
fn set_password(cli: &Cli, user: i64, input: &str) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_giftwire"))
        .args(["user", "set-password", "--user", &user.to_string()])
        .env("GIFTWIRE_DATABASE_URL", &cli.url)
        .env("GIFTWIRE_SEALING_KEY_FILE", crate::db::sealing_key_file())
        .env_remove("RUST_LOG")
        .current_dir(cli.dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stored_in_clear(cli: &Cli, secret: &str) -> bool {
    let db = std::fs::read(cli.dir.path().join("cli.db")).unwrap();
    let wal = std::fs::read(cli.dir.path().join("cli.db-wal")).unwrap_or_default();
    [db, wal]
        .iter()
        .any(|bytes| bytes.windows(secret.len()).any(|w| w == secret.as_bytes()))
}

#[test]
fn app_create_shows_the_secret_once_list_hides_it_and_revoke_disables_the_app() {
    let cli = Cli::new();
    let (org, _, _, _) = cli.org("Acme", "UTC");
    let org = org.to_string();
    let app = cli.ok(&[
        "app",
        "create",
        "--org",
        &org,
        "--name",
        "CRM sync",
        "--redirect-uri",
        "https://crm.example/oauth/callback",
        "--redirect-uri",
        "urn:ietf:wg:oauth:2.0:oob",
        "--scopes",
        "write public",
    ]);
    let keys: Vec<&str> = app
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "client_id",
            "client_secret",
            "name",
            "redirect_uris",
            "scopes",
            "confidential"
        ]
    );
    assert_eq!(app["scopes"], "public write");
    assert_eq!(app["confidential"], true);
    assert_eq!(
        app["redirect_uris"],
        json!([
            "https://crm.example/oauth/callback",
            "urn:ietf:wg:oauth:2.0:oob"
        ])
    );
    let secret = app["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("gws_") && secret.len() == 68, "{secret}");
    assert!(
        !stored_in_clear(&cli, &secret),
        "the client secret is stored in clear"
    );

    let public = cli.ok(&[
        "app",
        "create",
        "--org",
        &org,
        "--name",
        "Browser extension",
        "--redirect-uri",
        "http://127.0.0.1:7000/cb",
        "--public",
    ]);
    assert_eq!(public["client_secret"], Value::Null);
    assert_eq!(public["confidential"], false);
    assert_eq!(public["scopes"], "public");

    let listed = cli.ok(&["app", "list", "--org", &org]);
    let apps = listed["apps"].as_array().unwrap();
    assert_eq!(apps.len(), 2);
    assert!(apps.iter().all(|a| a.get("client_secret").is_none()));
    assert_eq!(apps[0]["client_id"], app["client_id"]);
    assert_eq!(apps[0]["revoked"], false);

    for (uri, why) in [
        ("http://crm.example/cb", "https"),
        ("https://crm.example/cb#x", "fragment"),
        ("not-a-url", "not a URL"),
        (
            "https://crm.example/cb\nhttp://evil.example/",
            "control characters",
        ),
    ] {
        let err = cli.refused(&[
            "app",
            "create",
            "--org",
            &org,
            "--name",
            "Bad",
            "--redirect-uri",
            uri,
        ]);
        assert!(err.contains(why), "{uri}: {err}");
    }
    let err = cli.refused(&[
        "app",
        "create",
        "--org",
        &org,
        "--name",
        "Bad",
        "--redirect-uri",
        "https://x.example/cb",
        "--scopes",
        "public admin",
    ]);
    assert!(err.contains("admin"), "{err}");
    let err = cli.refused(&[
        "app",
        "create",
        "--org",
        "99",
        "--name",
        "Bad",
        "--redirect-uri",
        "https://x.example/cb",
    ]);
    assert!(err.contains("Organization not found"), "{err}");
    assert_eq!(
        cli.ok(&["app", "list", "--org", &org])["apps"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let client_id = app["client_id"].as_str().unwrap();
    let revoked = cli.ok(&["app", "revoke", "--client-id", client_id]);
    assert_eq!(revoked["revoked"], true);
    assert_eq!(revoked["tokens_revoked"], 0);
    let listed = cli.ok(&["app", "list", "--org", &org]);
    assert_eq!(listed["apps"][0]["revoked"], true);
    let err = cli.refused(&["app", "revoke", "--client-id", "nope"]);
    assert!(err.contains("Application not found"), "{err}");
}

#[test]
fn set_password_reads_one_line_refuses_short_ones_and_stores_an_argon2id_hash() {
    let cli = Cli::new();
    let (_, _, user, _) = cli.org("Acme", "UTC");
    let out = set_password(&cli, user, "short\n");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("at least 8 characters"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = set_password(&cli, user, "correct horse battery\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, json!({"id": user, "password_set": true}));
    assert!(!stored_in_clear(&cli, "correct horse battery"));
    assert!(
        stored_in_clear(&cli, "$argon2id$"),
        "an argon2id PHC string is stored"
    );
    let out = set_password(&cli, 999, "correct horse battery\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("User not found"));
}

#[test]
fn send_create_prints_the_send_as_the_api_lists_it() {
    let cli = Cli::new();
    let (_, team, user, touch) = cli.org("Acme", "America/Los_Angeles");
    let send = cli.send(user, touch);
    assert_eq!(
        send,
        json!({
            "id": 1,
            "send_gid": "Z2lkOi8vc2VuZG9zby9TZW5kLzE",
            "type": "eGifts USA",
            "subtype": "eGift Cards USA",
            "currency": "USD",
            "current_total_cost": "2.0",
            "status": "pending",
            "created_at": "2022-09-12T12:08:27-07:00",
            "touch": {"id": touch, "name": "eGift Cards USA"},
            "recipient": {"name": "John Doe", "email": "johndoe@acme.com", "company_name": "Acme"},
            "sender": {"id": user, "name": "Owner", "email": "owner@acme.example", "team_id": team, "team_name": "Sales"},
            "sent_via": "Sendoso.com",
            "status_updates": []
        })
    );
    let via = cli.ok(&[
        "send",
        "create",
        "--user",
        &user.to_string(),
        "--touch",
        &touch.to_string(),
        "--recipient-name",
        "Ann",
        "--recipient-email",
        "ann@example.com",
        "--via",
        "Salesforce Trigger",
    ]);
    assert_eq!(via["sent_via"], "Salesforce Trigger");
    assert_eq!(via["recipient"]["company_name"], Value::Null);
}

#[test]
fn send_create_refuses_a_touch_of_another_organization_and_bad_input() {
    let cli = Cli::new();
    let (_, _, user, _) = cli.org("Acme", "UTC");
    let (_, _, _, foreign_touch) = cli.org("Globex", "UTC");
    let args = |touch: i64, email: &'static str, at: &'static str| -> Vec<String> {
        [
            "send",
            "create",
            "--user",
            &user.to_string(),
            "--touch",
            &touch.to_string(),
            "--recipient-name",
            "Ann",
            "--recipient-email",
            email,
            "--at",
            at,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let run = |a: Vec<String>| cli.refused(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let err = run(args(
        foreign_touch,
        "ann@example.com",
        "2024-01-01T00:00:00Z",
    ));
    assert!(err.contains("Touch not found"), "{err}");
    let err = run(args(
        foreign_touch - 1,
        "ann-at-example.com",
        "2024-01-01T00:00:00Z",
    ));
    assert!(err.contains("recipient_email is invalid"), "{err}");
    let err = run(args(foreign_touch - 1, "ann@example.com", "yesterday"));
    assert!(err.contains("at is invalid"), "{err}");
    // Nothing was created: the first accepted send is id 1.
    assert_eq!(cli.send(user, foreign_touch - 1)["id"], 1);
}

#[test]
fn send_status_follows_the_lifecycle_and_a_refusal_names_both_statuses_and_changes_nothing() {
    let cli = Cli::new();
    let (_, _, user, touch) = cli.org("Acme", "America/Los_Angeles");
    cli.send(user, touch);
    let sent = cli.ok(&[
        "send",
        "status",
        "--send",
        "1",
        "--status",
        "Sent",
        "--at",
        "2022-09-12T19:08:27Z",
    ]);
    assert_eq!(sent["status"], "Sent");
    assert_eq!(
        sent["status_updates"],
        json!([{"status": "Sent", "occurred_at": "2022-09-12T12:08:27-07:00"}])
    );

    let err = cli.refused(&["send", "status", "--send", "1", "--status", "Shipped"]);
    assert!(
        err.contains("\"Sent\"") && err.contains("\"Shipped\""),
        "{err}"
    );
    let err = cli.refused(&["send", "status", "--send", "1", "--status", "Lost"]);
    assert!(err.contains("status is invalid"), "{err}");
    let err = cli.refused(&[
        "send",
        "status",
        "--send",
        "1",
        "--status",
        "Opened",
        "--at",
        "2022-09-12T19:00:00Z",
    ]);
    assert!(err.contains("precede"), "{err}");
    let err = cli.refused(&["send", "status", "--send", "7", "--status", "Sent"]);
    assert!(err.contains("Send not found"), "{err}");

    let used = cli.ok(&[
        "send",
        "status",
        "--send",
        "1",
        "--status",
        "Used",
        "--at",
        "2022-09-13T19:00:00Z",
        "--cost",
        "2.50",
    ]);
    assert_eq!(
        (used["status"].clone(), used["current_total_cost"].clone()),
        (json!("Used"), json!("2.5"))
    );
    let err = cli.refused(&[
        "send", "status", "--send", "1", "--status", "Used", "--cost", "3",
    ]);
    assert!(
        err.contains("\"Used\"") && err.contains("cannot change"),
        "{err}"
    );
    // The refusals changed nothing.
    let again = cli.refused(&["send", "status", "--send", "1", "--status", "Expired"]);
    assert!(again.contains("\"Used\""), "{again}");
}

/// Replays a listed history through the core lifecycle, as the service would have applied it.
fn replay(send: &Value, tz: &OrgTimeZone) {
    let send_type: SendType = send["type"].as_str().unwrap().parse().unwrap();
    let created_at: jiff::Timestamp = send["created_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(tz.format(created_at), send["created_at"].as_str().unwrap());
    let mut history: Vec<StatusEntry> = Vec::new();
    let mut cost: Money = "1000000".parse().unwrap();
    for update in send["status_updates"].as_array().unwrap() {
        let change = StatusChange {
            status: update["status"].as_str().unwrap().parse().unwrap(),
            occurred_at: update["occurred_at"].as_str().unwrap().parse().unwrap(),
            cost: None,
        };
        let state = SendState {
            kind: send_type.kind(),
            created_at,
            cost,
            history: &history,
        };
        let t = lifecycle::plan(&state, &change).unwrap_or_else(|e| panic!("{e}: {send}"));
        cost = t.cost;
        history.push(t.entry);
    }
    if cost.is_zero() {
        assert_eq!(send["current_total_cost"], "0.0", "{send}");
    }
    let status = history.last().map_or("pending", |e| e.status.as_str());
    assert_eq!(send["status"], status);
}

#[test]
fn seed_creates_what_it_needs_and_every_history_follows_the_lifecycle() {
    let cli = Cli::new();
    cli.ok(&[
        "org",
        "create",
        "--name",
        "Seeded",
        "--time-zone",
        "America/Chicago",
    ]);
    let out = cli.ok(&["seed", "--org", "1", "--sends", "600", "--seed", "7"]);
    assert_eq!(out["sends"], 600);
    assert_eq!(
        out["created"],
        json!({"teams": 8, "users": 50, "touches": 40})
    );
    let updates = out["status_updates"].as_u64().unwrap();
    assert!((600..=3000).contains(&updates), "{updates}");

    // Read it back over the API, with a token of the organization.
    let token = cli.ok(&["token", "create", "--user", "1"])["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tz = OrgTimeZone::parse("America/Chicago").unwrap();
    let url = cli.url.clone();
    let sends: Vec<Value> = runtime.block_on(async move {
        let store = giftwire_store::open(&url, &Default::default())
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = giftwire_server::AppState::new(
            store,
            giftwire_core::Clock::system(),
            &giftwire_server::ServerConfig::default(),
        );
        tokio::spawn(giftwire_server::serve(
            listener,
            state,
            std::future::pending(),
        ));
        let client = crate::http::client();
        let mut all = Vec::new();
        for page in 1..=6 {
            let body: Value = client
                .get(format!(
                    "http://{addr}/api/v3/send?per_page=100&page={page}"
                ))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(body["total_count"], 600);
            all.extend(body["sends"].as_array().unwrap().iter().cloned());
        }
        all
    });
    assert_eq!(sends.len(), 600);
    let now = jiff::Timestamp::now();
    let year_ago = now - jiff::SignedDuration::from_hours(24 * 367);
    let mut kinds = std::collections::BTreeSet::new();
    for send in &sends {
        replay(send, &tz);
        // An eGift waits for its recipient at most 90 days after it was sent.
        if ["Sent", "Opened", "Clicked"].contains(&send["status"].as_str().unwrap()) {
            let sent: jiff::Timestamp = send["status_updates"][0]["occurred_at"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(
                now - sent < jiff::SignedDuration::from_hours(24 * 90),
                "{send}"
            );
        }
        let created: jiff::Timestamp = send["created_at"].as_str().unwrap().parse().unwrap();
        assert!(created > year_ago && created <= now, "{created}");
        kinds.insert(send["type"].as_str().unwrap().to_owned());
    }
    assert!(kinds.len() >= 5, "{kinds:?}");
    let ids: Vec<i64> = sends.iter().map(|s| s["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));

    // A second seed reuses the catalog and appends.
    let again = cli.ok(&["seed", "--org", "1", "--sends", "10"]);
    assert_eq!(
        again["created"],
        json!({"teams": 0, "users": 0, "touches": 0})
    );
    let err = cli.refused(&["seed", "--org", "2", "--sends", "10"]);
    assert!(err.contains("Organization not found"), "{err}");
    let err = cli.refused(&["seed", "--org", "1", "--sends", "0"]);
    assert!(err.contains("at least 1"), "{err}");
}

#[test]
fn the_same_seed_gives_the_same_sends_and_another_seed_does_not() {
    let clis = [Cli::new(), Cli::new(), Cli::new()];
    for (cli, seed) in clis.iter().zip(["3", "3", "4"]) {
        cli.ok(&["org", "create", "--name", "Twin"]);
        cli.ok(&["seed", "--org", "1", "--sends", "50", "--seed", seed]);
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pages: Vec<_> = clis
        .iter()
        .map(|cli| {
            runtime.block_on(async {
                let store = giftwire_store::open(&cli.url, &Default::default())
                    .await
                    .unwrap();
                let org = giftwire_core::OrgId::new(1);
                store
                    .list_sends(org, giftwire_core::PageRequest::new(1, 100))
                    .await
                    .unwrap()
                    .sends
            })
        })
        .collect();
    assert_eq!(pages[0].len(), 50);
    assert_eq!(pages[0], pages[1]);
    assert_ne!(pages[0], pages[2]);
}

/// A server process started by a test, killed when dropped.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads lines from `reader` until one contains `marker`; returns every line read.
fn read_until(reader: &mut impl std::io::BufRead, marker: &str) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).unwrap();
        assert!(
            n > 0,
            "the process ended before printing {marker:?}: {lines:#?}"
        );
        let done = line.contains(marker);
        lines.push(line.trim_end().to_owned());
        if done {
            return lines;
        }
    }
}

fn get_json(url: &str, token: &str) -> (u16, Value) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let response = crate::http::client()
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    })
}

fn schema_errors(body: &Value) -> Vec<String> {
    let schema: Value =
        serde_json::from_str(include_str!("../fixtures/send-list.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator.iter_errors(body).map(|e| e.to_string()).collect()
}

/// Starts `giftwire demo` on a free port; returns the process, its token and its curl URL.
fn start_demo(cli: &Cli) -> (Running, String, String, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_giftwire"))
        .args(["demo", "--listen", "127.0.0.1:0"])
        .env("GIFTWIRE_DATABASE_URL", &cli.url)
        .env("GIFTWIRE_SEALING_KEY_FILE", crate::db::sealing_key_file())
        .current_dir(cli.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let running = Running(child);
    let lines = read_until(&mut stdout, "serving on http://");
    let curl = lines
        .iter()
        .find(|l| l.trim_start().starts_with("curl "))
        .expect("a curl line")
        .clone();
    let token = curl
        .split("Bearer ")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_owned();
    let url = curl
        .rsplit(' ')
        .next()
        .unwrap()
        .trim_matches('\'')
        .to_owned();
    (running, token, url, lines)
}

#[test]
fn demo_prints_a_token_and_a_curl_line_that_returns_a_valid_page_and_reuses_its_data() {
    let cli = Cli::new();
    let (server, token, url, lines) = start_demo(&cli);
    assert!(lines[0].contains("1500 sends"), "{lines:#?}");
    assert!(url.contains("/api/v3/send?per_page=2"), "{url}");
    let (status, body) = get_json(&url, &token);
    assert_eq!(status, 200, "{body}");
    assert_eq!(schema_errors(&body), Vec::<String>::new());
    assert_eq!(body["per_page"], 2);
    assert_eq!(body["total_count"], 1200);
    // The first organization's times are Pacific.
    let created = body["sends"][0]["created_at"].as_str().unwrap();
    assert!(
        created.ends_with("-08:00") || created.ends_with("-07:00"),
        "{created}"
    );
    drop(server);

    // A second run reuses both organizations and their sends, with a new token.
    let (_server, second_token, url, lines) = start_demo(&cli);
    assert!(lines[0].contains("1500 sends"), "{lines:#?}");
    assert_ne!(second_token, token);
    let (status, body) = get_json(&url, &second_token);
    assert_eq!(status, 200);
    assert_eq!(body["total_count"], 1200);
    let orgs = cli.ok(&["org", "create", "--name", "Third"]);
    assert_eq!(orgs["id"], 3, "the demo created its two organizations once");
}

/// The value after `label` on the demo's lines.
fn printed(lines: &[String], label: &str) -> String {
    lines
        .iter()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} line: {lines:#?}"))
        .trim()
        .to_owned()
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

#[test]
fn demo_prints_an_oauth_application_and_a_sign_in_that_complete_the_flow_in_a_browser() {
    let cli = Cli::new();
    let (_server, _, url, lines) = start_demo(&cli);
    let base = url.split("/api/").next().unwrap().to_owned();
    let client_id = printed(&lines, "client_id");
    let secret = printed(&lines, "client_secret");
    let sign_in = printed(&lines, "sign in as");
    let (email, password) = sign_in.split_once(" / ").unwrap();
    let authorize = lines
        .iter()
        .map(|l| l.trim())
        .find(|l| l.contains("/oauth/authorize?"))
        .unwrap()
        .to_owned();
    assert!(authorize.starts_with(&base), "{authorize}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let browser = crate::http::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let to_sign_in = browser.get(&authorize).send().await.unwrap();
        assert_eq!(to_sign_in.status(), 303);
        let location = to_sign_in.headers()["location"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(location.starts_with("/sign_in?return_to="), "{location}");
        let page = browser
            .get(format!("{base}{location}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let signed_in = browser
            .post(format!("{base}/sign_in"))
            .form(&[
                ("csrf", hidden(&page, "csrf")),
                (
                    "return_to",
                    hidden(&page, "return_to")
                        .replace("&#38;", "&")
                        .replace("&amp;", "&"),
                ),
                ("email", email.to_owned()),
                ("password", password.to_owned()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), 303);
        let back = signed_in.headers()["location"].to_str().unwrap().to_owned();
        let consent = browser
            .get(format!("{base}{back}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            consent.contains("Demo integration") && consent.contains("Acme Corp (demo)"),
            "{back}: {consent}"
        );
        let fields: Vec<(String, String)> = [
            "csrf",
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
        ]
        .iter()
        .map(|n| ((*n).to_owned(), hidden(&consent, n)))
        .chain([("decision".to_owned(), "allow".to_owned())])
        .collect();
        let allowed = browser
            .post(format!("{base}/oauth/authorize"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(allowed.status(), 303);
        let native = allowed.headers()["location"].to_str().unwrap().to_owned();
        let shown = browser
            .get(format!("{base}{native}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let code = shown
            .split("<code id=\"authorization_code\"")
            .nth(1)
            .unwrap()
            .split('>')
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_owned();
        let token: Value = crate::http::client()
            .post(format!("{base}/oauth/token"))
            .basic_auth(&client_id, Some(&secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "urn:ietf:wg:oauth:2.0:oob"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(token["scope"], "public write", "{token}");
        let access = token["access_token"].as_str().unwrap().to_owned();
        let page: Value = crate::http::client()
            .get(format!("{base}/api/v3/send?per_page=1"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["total_count"], 1200, "{page}");
    });
}

#[test]
fn serve_answers_on_its_address_and_stops_cleanly_on_sigterm() {
    let cli = Cli::new();
    let (_, _, user, touch) = cli.org("Acme", "UTC");
    cli.send(user, touch);
    let token = cli.ok(&["token", "create", "--user", &user.to_string()])["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut child = Command::new(env!("CARGO_BIN_EXE_giftwire"))
        .args(["serve", "--listen", "127.0.0.1:0", "--rate-limit", "0"])
        .env("GIFTWIRE_DATABASE_URL", &cli.url)
        .env("GIFTWIRE_SEALING_KEY_FILE", crate::db::sealing_key_file())
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let stdout = child.stdout.take().unwrap();
    let pid = child.id();
    let mut server = Running(child);
    let lines = read_until(&mut stderr, "serving");
    let line = lines.last().unwrap();
    let addr = line
        .split("addr=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let (status, body) = get_json(&format!("http://{addr}/api/v3/send.json"), &token);
    assert_eq!(status, 200);
    assert_eq!(body["total_count"], 1);

    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = server.0.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    let mut printed = String::new();
    std::io::Read::read_to_string(&mut std::io::BufReader::new(stdout), &mut printed).unwrap();
    assert_eq!(printed, "", "serve prints nothing on stdout");
}

#[test]
fn serve_refuses_an_address_in_use() {
    let cli = Cli::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err = cli.refused(&["serve", "--listen", &addr]);
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
}

/// The same session of admin commands on both backends prints the same objects.
fn a_session(backend: Backend) -> Vec<Value> {
    let cli = Cli::on(backend);
    let mut out = Vec::new();
    out.push(cli.ok(&[
        "org",
        "create",
        "--name",
        "Acme",
        "--time-zone",
        "America/Los_Angeles",
    ]));
    out.push(cli.ok(&["team", "create", "--org", "1", "--name", "Sales"]));
    out.push(cli.ok(&[
        "user",
        "create",
        "--org",
        "1",
        "--name",
        "Ann",
        "--email",
        "ann@acme.example",
        "--team",
        "1",
    ]));
    out.push(cli.ok(&[
        "touch",
        "create",
        "--org",
        "1",
        "--name",
        "Wine",
        "--type",
        "Sendoso Direct",
        "--subtype",
        "Wine",
        "--currency",
        "usd",
        "--price",
        "19.90",
        "--starts-on",
        "2024-01-01",
        "--ends-on",
        "2024-12-31",
    ]));
    out.push(timeless(
        cli.ok(&["user", "fund", "--user", "1", "--amount", "100"]),
    ));
    out.push(cli.ok(&[
        "send",
        "create",
        "--user",
        "1",
        "--touch",
        "1",
        "--recipient-name",
        "Zoë O'Brien",
        "--recipient-email",
        "zoe@example.com",
        "--at",
        "2024-03-10T09:59:59Z",
    ]));
    out.push(cli.ok(&[
        "send",
        "status",
        "--send",
        "1",
        "--status",
        "Processing",
        "--at",
        "2024-03-10T10:00:00Z",
        "--cost",
        "25.50",
    ]));
    out.push(json!({"refused": cli.refused(&["send", "status", "--send", "1", "--status", "Delivered"])}));
    out.push(json!({"refused": cli.refused(&["user", "create", "--org", "1", "--name", "A", "--email", "ANN@acme.example"])}));
    let seeded = cli.ok(&["seed", "--org", "1", "--sends", "300", "--seed", "9"]);
    out.push(json!({"sends": seeded["sends"], "status_updates": seeded["status_updates"]}));
    let token = cli.ok(&[
        "token",
        "create",
        "--user",
        "1",
        "--scopes",
        "public fulfillment",
        "--expires-in",
        "60",
    ]);
    out.push(json!({"scope": token["scope"], "expires_in": token["expires_in"]}));
    let mut ledger = cli.ok(&["user", "ledger", "--user", "1"]);
    for m in ledger["movements"].as_array_mut().unwrap() {
        *m = timeless(m.take());
    }
    out.push(ledger);
    out
}

/// A movement without its time (which differs between two runs).
fn timeless(mut movement: Value) -> Value {
    movement.as_object_mut().unwrap().remove("at");
    movement
}

#[test]
#[cfg_attr(
    not(giftwire_pg),
    ignore = "PostgreSQL half: set GIFTWIRE_TEST_POSTGRES_URL to run it"
)]
fn the_admin_commands_answer_the_same_on_sqlite_and_postgres() {
    let sqlite = a_session(Backend::Sqlite);
    assert_eq!(sqlite[6]["current_total_cost"], "25.5");
    assert_eq!(sqlite[6]["created_at"], "2024-03-10T01:59:59-08:00");
    assert!(
        sqlite[7]["refused"]
            .as_str()
            .unwrap()
            .contains("\"Processing\"")
    );
    let postgres = a_session(Backend::Postgres);
    assert_eq!(postgres, sqlite);
}

#[test]
fn tick_applies_what_is_due_once_and_outbox_list_shows_the_mail() {
    let cli = Cli::new();
    let (org, _, user, touch) = cli.org("Acme", "UTC");
    cli.send(user, touch);
    // Sent long ago: its 90 days are over.
    let sent_at = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 100)).to_string();
    cli.ok(&[
        "send", "status", "--send", "1", "--status", "Sent", "--at", &sent_at,
    ]);
    let report = cli.ok(&["tick"]);
    assert_eq!(report["deadlines_applied"], 1, "{report}");
    assert_eq!(report["mail_delivered"], 0);
    let err = cli.refused(&["send", "status", "--send", "1", "--status", "Used"]);
    assert!(err.contains("\"Expired\""), "the send expired: {err}");
    assert_eq!(cli.ok(&["tick"])["deadlines_applied"], 0);

    // Mail comes from sends made over HTTP; put one in the outbox through the store.
    assert_eq!(cli.ok(&["outbox", "list"]), json!({"mail": []}));
    let url = cli.url.clone();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async move {
            let store = giftwire_store::open(&url, &Default::default())
                .await
                .unwrap();
            let order = giftwire_core::store::SendOrder {
                send: giftwire_core::store::NewSend {
                    touch: giftwire_core::TouchId::new(touch),
                    sender: giftwire_core::UserId::new(user),
                    recipient: giftwire_core::store::Recipient {
                        name: "Jo".to_owned(),
                        email: "jo@example.com".to_owned(),
                        company_name: None,
                    },
                    sent_via: "API".to_owned(),
                    created_at: jiff::Timestamp::now(),
                    cost: None,
                },
                delivery: giftwire_core::Delivery {
                    tracking_code: giftwire_core::TrackingCode::generate(),
                    variant: giftwire_core::Variant::Egift,
                    custom_message: None,
                    address: None,
                    collection: None,
                },
                initial_status: Some(giftwire_core::SendStatus::Sent),
                mail: vec![giftwire_core::NewMail {
                    kind: giftwire_core::MailKind::Egift,
                    to: "jo@example.com".to_owned(),
                    subject: "A gift".to_owned(),
                    text_body: "Open it".to_owned(),
                    html_body: None,
                }],
            };
            store
                .create_api_sends(giftwire_core::OrgId::new(org), vec![order], None)
                .await
                .unwrap();
        });
    let listed = cli.ok(&["outbox", "list"]);
    let mail = &listed["mail"][0];
    assert_eq!(
        (
            mail["to"].clone(),
            mail["kind"].clone(),
            mail["send_id"].clone()
        ),
        (json!("jo@example.com"), json!("egift"), json!(2))
    );
    assert_eq!(mail["sent_at"], Value::Null);
    assert_eq!(
        cli.ok(&["outbox", "list", "--org", "99"]),
        json!({"mail": []})
    );
    // Without --smtp-url, tick leaves mail in the outbox.
    cli.ok(&["tick"]);
    assert_eq!(
        cli.ok(&["outbox", "list"])["mail"][0]["sent_at"],
        Value::Null
    );
    let err = cli.refused(&["tick", "--smtp-url", "ftp://nowhere"]);
    assert!(err.contains("--smtp-url is invalid"), "{err}");
}

#[test]
fn user_fund_ledger_and_team_budget_manage_money_and_refuse_what_they_cannot_do() {
    let cli = Cli::new();
    let (_, team, user, touch) = cli.org("Acme", "UTC");
    let user = user.to_string();
    // `org` funded 1000; a withdrawal of more than is left is refused and changes nothing.
    let out = cli.ok(&[
        "user", "fund", "--user", &user, "--amount", "-999.5", "--note", "fix",
    ]);
    assert_eq!(
        (
            out["kind"].clone(),
            out["amount"].clone(),
            out["balance"].clone()
        ),
        (json!("fund"), json!("-999.5"), json!("0.5"))
    );
    let err = cli.refused(&["user", "fund", "--user", &user, "--amount", "-0.51"]);
    assert!(
        err.contains(
            "Insufficient balance: the withdrawal needs 0.51, and the balance of user 1 is 0.5"
        ),
        "{err}"
    );
    for bad in ["0", "abc", "1e3", "--5", "12.34567"] {
        cli.refused(&["user", "fund", "--user", &user, "--amount", bad]);
    }
    cli.refused(&["user", "fund", "--user", "99", "--amount", "5"]);
    // A send the balance cannot cover is refused by `send create` too.
    let err = cli.refused(&[
        "send",
        "create",
        "--user",
        &user,
        "--touch",
        &touch.to_string(),
        "--recipient-name",
        "J",
        "--recipient-email",
        "j@x.example",
    ]);
    assert!(
        err.contains("Insufficient balance: the send costs 2.0"),
        "{err}"
    );
    let ledger = cli.ok(&["user", "ledger", "--user", &user]);
    assert_eq!(ledger["balance"], "0.5");
    let amounts: Vec<&str> = ledger["movements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["amount"].as_str().unwrap())
        .collect();
    assert_eq!(amounts, ["1000.0", "-999.5"]);
    assert_eq!(ledger["movements"][1]["note"], "fix");

    let team = team.to_string();
    let set = cli.ok(&[
        "team",
        "budget",
        "--team",
        &team,
        "--monthly",
        "50000",
        "--rollover",
        "true",
    ]);
    assert_eq!(
        (
            set["monthly_budget"].clone(),
            set["one_time_budget"].clone(),
            set["rollover"].clone()
        ),
        (json!("50000.0"), json!("0.0"), json!(true))
    );
    let set = cli.ok(&["team", "budget", "--team", &team, "--one-time", "250.5"]);
    assert_eq!(
        (
            set["monthly_budget"].clone(),
            set["one_time_budget"].clone(),
            set["rollover"].clone()
        ),
        (json!("50000.0"), json!("250.5"), json!(true)),
        "options left out keep their value"
    );
    cli.refused(&["team", "budget", "--team", "99", "--monthly", "1"]);
    cli.refused(&["team", "budget", "--team", &team, "--monthly", "-1"]);
}

#[test]
fn touch_update_and_user_deactivation_change_what_the_api_shows() {
    let cli = Cli::new();
    let (_, _, user, touch) = cli.org("Acme", "UTC");
    let touch = touch.to_string();
    let out = cli.ok(&[
        "touch",
        "update",
        "--touch",
        &touch,
        "--description",
        "  Thank-you cards ",
        "--creator",
        &user.to_string(),
        "--gift-id",
        "39",
        "--egift-prices",
        "10-100.50",
        "--hubspot-key",
        "hs-1",
    ]);
    assert_eq!(
        (
            out["description"].clone(),
            out["creator"].clone(),
            out["gift_id"].clone(),
            out["egift_prices"].clone(),
            out["hubspot_key"].clone()
        ),
        (
            json!("Thank-you cards"),
            json!(user),
            json!(39),
            json!(["10.0", "100.5"]),
            json!("hs-1")
        )
    );
    // Options left out keep their value; `none` and an empty key remove them.
    let out = cli.ok(&[
        "touch",
        "update",
        "--touch",
        &touch,
        "--egift-prices",
        "none",
        "--hubspot-key",
        "",
        "--active",
        "false",
    ]);
    assert_eq!(
        (
            out["description"].clone(),
            out["egift_prices"].clone(),
            out["hubspot_key"].clone(),
            out["active"].clone()
        ),
        (
            json!("Thank-you cards"),
            Value::Null,
            Value::Null,
            json!(false)
        )
    );
    for bad in [
        vec!["--egift-prices", "100-10"],
        vec!["--egift-prices", "10"],
        vec!["--egift-prices", "a-b"],
        vec!["--creator", "999"],
    ] {
        let mut args = vec!["touch", "update", "--touch", &touch];
        args.extend(bad);
        cli.refused(&args);
    }
    cli.refused(&["touch", "update", "--touch", "999", "--description", "x"]);
    // A user of another organization cannot be a touch's creator.
    let (_, _, other, _) = cli.org("Globex", "UTC");
    cli.refused(&[
        "touch",
        "update",
        "--touch",
        &touch,
        "--creator",
        &other.to_string(),
    ]);

    let user = user.to_string();
    assert_eq!(
        cli.ok(&["user", "deactivate", "--user", &user])["state"],
        "deactivated"
    );
    assert_eq!(
        cli.ok(&["user", "activate", "--user", &user])["state"],
        "active"
    );
    cli.refused(&["user", "deactivate", "--user", "999"]);
}

#[test]
fn user_invite_prints_the_link_once_and_mails_it() {
    let cli = Cli::new();
    let (org, team, _, _) = cli.org("Acme", "UTC");
    let out = cli.ok(&[
        "user",
        "invite",
        "--org",
        &org.to_string(),
        "--first-name",
        "Ada",
        "--last-name",
        "Lovelace",
        "--email",
        "ada@acme.example",
        "--team",
        &team.to_string(),
        "--public-url",
        "https://gifts.example.com",
    ]);
    assert_eq!(
        (out["email"].clone(), out["state"].clone()),
        (json!("ada@acme.example"), json!("invited"))
    );
    let url = out["invitation_url"].as_str().unwrap();
    assert!(
        url.starts_with("https://gifts.example.com/invitations/gw_"),
        "{url}"
    );
    assert!(out["expires_at"].as_str().unwrap().ends_with("+00:00"));
    let mail = cli.ok(&["outbox", "list"]);
    let invitation = &mail["mail"][0];
    assert_eq!(
        (invitation["kind"].clone(), invitation["to"].clone()),
        (json!("invitation"), json!("ada@acme.example"))
    );
    assert!(
        invitation.to_string().contains(url),
        "the mail carries the link"
    );
    // The same email again, an unknown role, another organization's team: refused.
    let args = |email: &'static str, role: &'static str, team: String| {
        vec![
            "user".to_owned(),
            "invite".into(),
            "--org".into(),
            org.to_string(),
            "--first-name".into(),
            "X".into(),
            "--email".into(),
            email.into(),
            "--role".into(),
            role.into(),
            "--team".into(),
            team,
        ]
    };
    for bad in [
        args("ada@acme.example", "regular", team.to_string()),
        args("bo@acme.example", "admin", team.to_string()),
        args("bo@acme.example", "regular", "999".into()),
    ] {
        let bad: Vec<&str> = bad.iter().map(String::as_str).collect();
        cli.refused(&bad);
    }
}

#[test]
fn webhook_commands_manage_endpoints_show_the_secret_once_and_store_it_sealed() {
    let cli = Cli::new();
    let (org, _, user, touch) = cli.org("Acme", "UTC");
    let org = org.to_string();
    for (url, why) in [
        (
            "http://hooks.example.com/in",
            "url is invalid: it must be https",
        ),
        ("https://10.0.0.1/in", "10.0.0.1 is a private"),
        ("https://localhost/in", "resolves to"),
    ] {
        let stderr = cli.refused(&["webhook", "create", "--org", &org, "--url", url]);
        assert!(stderr.contains(why), "{url}: {stderr}");
    }
    let stderr = cli.refused(&[
        "webhook",
        "create",
        "--org",
        &org,
        "--url",
        "https://hooks.example.com/",
        "--events",
        "send.sent,send.nope",
    ]);
    assert!(
        stderr.contains("\"send.nope\" is not an event type"),
        "{stderr}"
    );
    assert_eq!(
        cli.ok(&["webhook", "list", "--org", &org]),
        json!({"endpoints": []})
    );

    let created = cli.ok(&[
        "webhook",
        "create",
        "--org",
        &org,
        "--url",
        "http://127.0.0.1:9/in",
        "--events",
        "send.sent,send.delivered",
        "--description",
        "Ops",
        "--webhook-allow-private",
    ]);
    let id = created["id"].as_i64().unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{created}");
    assert_eq!(created["url"], "http://127.0.0.1:9/in");
    assert_eq!(created["events"], json!(["send.delivered", "send.sent"]));
    assert_eq!(created["enabled"], true);
    assert_eq!(created["description"], "Ops");
    assert!(
        !stored_in_clear(&cli, &secret),
        "the secret is stored sealed"
    );
    let listed = cli.ok(&["webhook", "list", "--org", &org]);
    assert_eq!(listed["endpoints"].as_array().unwrap().len(), 1);
    assert_eq!(listed["endpoints"][0].get("secret"), None);

    let disabled = cli.ok(&["webhook", "disable", "--id", &id.to_string()]);
    assert_eq!(disabled["enabled"], false);
    assert_eq!(disabled["disabled_reason"], "manual");
    let enabled = cli.ok(&["webhook", "enable", "--id", &id.to_string()]);
    assert_eq!(enabled["enabled"], true);
    assert_eq!(enabled["disabled_reason"], Value::Null);
    let rotated = cli.ok(&["webhook", "rotate-secret", "--id", &id.to_string()]);
    assert_eq!(rotated["id"], id);
    let new = rotated["secret"].as_str().unwrap();
    assert!(new.starts_with("whsec_") && new != secret);
    assert!(!stored_in_clear(&cli, new));

    // A send and its status change: only the wanted type is queued for the endpoint.
    let send = cli.send(user, touch);
    cli.ok(&[
        "send",
        "status",
        "--send",
        &send["id"].to_string(),
        "--status",
        "Sent",
    ]);
    let deliveries = cli.ok(&["webhook", "deliveries", "--endpoint", &id.to_string()]);
    let deliveries = deliveries["deliveries"].as_array().unwrap().clone();
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    let d = &deliveries[0];
    assert_eq!(d["event_type"], "send.sent");
    assert_eq!(d["send_gid"], send["send_gid"]);
    assert_eq!(d["attempt"], 0);
    assert_eq!(d["state"], "pending");
    assert_eq!(d["status_code"], Value::Null);
    let event = d["event_id"].to_string();
    assert_eq!(
        cli.ok(&["webhook", "replay", "--event", &event]),
        json!({"event_id": d["event_id"], "queued": 1})
    );
    let deliveries = cli.ok(&[
        "webhook",
        "deliveries",
        "--endpoint",
        &id.to_string(),
        "--limit",
        "1",
    ]);
    assert_eq!(deliveries["deliveries"].as_array().unwrap().len(), 1);

    assert!(
        cli.refused(&["webhook", "disable", "--id", "999"])
            .contains("Webhook endpoint not found")
    );
    assert!(
        cli.refused(&["webhook", "replay", "--event", "999"])
            .contains("Event not found")
    );
    assert!(
        cli.refused(&["webhook", "deliveries", "--endpoint", "999"])
            .contains("Webhook endpoint not found")
    );
}

#[test]
fn the_sealing_key_is_created_beside_the_sqlite_database_readable_by_its_owner_only() {
    let cli = Cli::new();
    let (org, ..) = cli.org("Acme", "UTC");
    let out = Command::new(env!("CARGO_BIN_EXE_giftwire"))
        .args([
            "webhook",
            "create",
            "--org",
            &org.to_string(),
            "--url",
            "http://127.0.0.1:9/",
        ])
        .arg("--webhook-allow-private")
        .env("GIFTWIRE_DATABASE_URL", &cli.url)
        .env_remove("GIFTWIRE_SEALING_KEY_FILE")
        .env_remove("RUST_LOG")
        .current_dir(cli.dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = cli.dir.path().join("cli.db.sealing-key");
    let meta = std::fs::metadata(&key).expect("the key file beside the database");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(
        !stored_in_clear(&cli, text.trim()),
        "the key is not in the database"
    );
    // A key file that is not a key is refused, with its path.
    std::fs::write(&key, "not a key\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_giftwire"))
        .args(["webhook", "rotate-secret", "--id", "1"])
        .env("GIFTWIRE_DATABASE_URL", &cli.url)
        .env_remove("GIFTWIRE_SEALING_KEY_FILE")
        .current_dir(cli.dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cli.db.sealing-key is not a sealing key")
    );
}

#[test]
#[cfg_attr(
    not(giftwire_pg),
    ignore = "PostgreSQL half: set GIFTWIRE_TEST_POSTGRES_URL to run it"
)]
fn on_postgresql_only_serve_creates_a_sealing_key_in_the_working_directory() {
    let cli = Cli::on(Backend::Postgres);
    let (org, ..) = cli.org("Acme", "UTC");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_giftwire"))
            .args(args)
            .env("GIFTWIRE_DATABASE_URL", &cli.url)
            .env_remove("GIFTWIRE_SEALING_KEY_FILE")
            .env_remove("RUST_LOG")
            .current_dir(cli.dir.path())
            .output()
            .unwrap()
    };
    let org = org.to_string();
    let create = [
        "webhook",
        "create",
        "--org",
        &org,
        "--url",
        "http://127.0.0.1:9/",
        "--webhook-allow-private",
    ];
    let out = run(&create);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no sealing key at giftwire.sealing-key"),
        "{stderr}"
    );
    assert!(!cli.dir.path().join("giftwire.sealing-key").exists());
    // `serve` creates it there; commands run in that directory then use it.
    let mut serve = Command::new(env!("CARGO_BIN_EXE_giftwire"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("GIFTWIRE_DATABASE_URL", &cli.url)
        .env_remove("GIFTWIRE_SEALING_KEY_FILE")
        .current_dir(cli.dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let key = cli.dir.path().join("giftwire.sealing-key");
    for _ in 0..100 {
        if key.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    serve.kill().unwrap();
    serve.wait().unwrap();
    assert!(key.exists(), "serve created the key");
    let out = run(&create);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `giftwire sends list` and `giftwire sends sync` read a running server over HTTP with its
/// token (here the demo's), with no database of their own.
#[test]
fn sends_list_and_sync_read_a_server_over_http() {
    let cli = Cli::new();
    let (_server, token, url, _) = start_demo(&cli);
    let base = url.split("/api/").next().unwrap().to_owned();
    let remote = |extra: &[&str]| -> Output {
        let mut args = vec!["sends"];
        args.extend_from_slice(extra);
        Command::new(env!("CARGO_BIN_EXE_giftwire"))
            .args(&args)
            .env("GIFTWIRE_URL", &base)
            .env("GIFTWIRE_TOKEN", &token)
            .env_remove("GIFTWIRE_DATABASE_URL")
            .current_dir(cli.dir.path())
            .output()
            .unwrap()
    };
    let text = |out: &Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout.clone()).unwrap()
    };

    // Every page as NDJSON: the organization's 1,200 sends in order, the listing's objects.
    let all = text(&remote(&["list", "--all", "--format", "ndjson"]));
    let sends: Vec<Value> = all
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(sends.len(), 1200);
    let (_, first_page) = get_json(&format!("{base}/api/v3/send?per_page=100"), &token);
    assert_eq!(Value::Array(sends[..100].to_vec()), first_page["sends"]);
    assert!(
        sends
            .windows(2)
            .all(|w| w[0]["id"].as_i64() < w[1]["id"].as_i64())
    );

    // Filtered, as one JSON array; the same as the API's filtered listing.
    let sent: Value = serde_json::from_str(&text(&remote(&[
        "list", "--all", "--status", "Sent", "--format", "json",
    ])))
    .unwrap();
    let sent = sent.as_array().unwrap();
    assert!(!sent.is_empty());
    assert!(sent.iter().all(|s| s["status"] == "Sent"));
    let (_, filtered) = get_json(
        &format!("{base}/api/v3/send?status=Sent&per_page=1"),
        &token,
    );
    assert_eq!(filtered["total_count"], sent.len());
    // The seed's bulk load keeps the per-status totals too.
    assert_eq!(
        sent.len(),
        sends.iter().filter(|s| s["status"] == "Sent").count()
    );

    // One page as CSV (a header and its rows) and as a table.
    let csv = text(&remote(&["list", "--per-page", "5", "--format", "csv"]));
    let rows: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 6);
    assert!(rows[0].starts_with("id,send_gid,type,"), "{}", rows[0]);
    let table = text(&remote(&["list", "--page", "2"]));
    assert_eq!(table.lines().count(), 11, "{table}");
    assert!(
        table
            .lines()
            .nth(1)
            .unwrap()
            .contains(&sends[10]["id"].to_string())
    );

    // A bad filter: the server's message, and a failure.
    let bad = remote(&["list", "--status", "Lost"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a status"));

    // sync: everything the first time, nothing the second, then only the new send.
    let state = cli.dir.path().join("copy.json");
    let state_arg = state.to_str().unwrap();
    let report: Value =
        serde_json::from_str(&text(&remote(&["sync", "--state", state_arg]))).unwrap();
    assert_eq!(report["changed"], 1200);
    assert_eq!(report["total"], 1200);
    let report: Value =
        serde_json::from_str(&text(&remote(&["sync", "--state", state_arg]))).unwrap();
    assert_eq!(report["changed"], 0);
    let user = sends[0]["sender"]["id"].as_i64().unwrap();
    let touch = sends[0]["touch"]["id"].as_i64().unwrap();
    let created = cli.send(user, touch);
    let report: Value = serde_json::from_str(&text(&remote(&[
        "sync", "--state", state_arg, "--limit", "7",
    ])))
    .unwrap();
    assert_eq!(report["changed"], 1);
    assert_eq!(report["total"], 1201);
    let copy: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(
        copy["sends"][created["id"].to_string()]["recipient"]["email"],
        "johndoe@acme.com"
    );
    assert_eq!(copy["url"].as_str().unwrap().trim_end_matches('/'), base);

    // A state file is a copy of one server only.
    let other = Command::new(env!("CARGO_BIN_EXE_giftwire"))
        .args([
            "sends",
            "sync",
            "--state",
            state_arg,
            "--url",
            "http://127.0.0.1:9/",
        ])
        .env("GIFTWIRE_TOKEN", &token)
        .output()
        .unwrap();
    assert!(!other.status.success());
    assert!(String::from_utf8_lossy(&other.stderr).contains("is a copy of"));
}
