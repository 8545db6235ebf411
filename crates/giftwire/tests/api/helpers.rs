//! The test application: a real SQLite file per test, the real server on a free port, and
//! typed helpers to create organizations with their users, touches, tokens and sends.

use std::num::NonZeroU32;
use std::sync::Arc;

use giftwire_core::lifecycle::StatusChange;
use giftwire_core::store::{
    NewOrg, NewSend, NewToken, NewTouch, NewUser, Org, Recipient, Touch, User,
};
use giftwire_core::time::parse_instant;
use giftwire_core::{
    Clock, DeliveryType, Email, Name, OrgId, OrgTimeZone, PlainToken, Role, Scopes, SendId,
    SendType, Store, Subtype, TeamId,
};
use giftwire_server::webhooks::{WebhookConfig, WebhookSender};
use giftwire_server::worker::Worker;
use giftwire_server::{AppState, ServerConfig};
use giftwire_store::StoreOptions;
use jiff::Timestamp;
use serde_json::Value;
use tokio::sync::oneshot;

pub use crate::db::{Backend, TestDb};

/// Runs each named `async fn(Backend)` twice: on SQLite, and on PostgreSQL when
/// `GIFTWIRE_TEST_POSTGRES_URL` is set (otherwise the PostgreSQL run is reported as ignored).
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                #[cfg_attr(
                    not(giftwire_pg),
                    ignore = "PostgreSQL half: set GIFTWIRE_TEST_POSTGRES_URL to run it"
                )]
                async fn $name() {
                    super::$name(crate::helpers::Backend::Postgres).await
                }
            )*
        }
    };
}
pub(crate) use backend_tests;

pub struct TestApp {
    pub address: String,
    pub store: Arc<dyn Store>,
    pub client: reqwest::Client,
    pub db: TestDb,
    /// The server's clock (a manual one when the test asked for it).
    pub clock: Clock,
    /// A worker on the same store and clock, delivering webhooks too; tests call `tick`
    /// themselves.
    pub worker: Worker,
    /// The server's webhook settings (its sealing key).
    pub webhooks: WebhookConfig,
    /// Delivers webhooks as the test's worker does.
    pub sender: WebhookSender,
    _shutdown: oneshot::Sender<()>,
}

/// Turns the test database's URL into the one the store connects to.
pub type RewriteUrl = Box<dyn FnOnce(&str) -> String + Send>;

/// How to build a [`TestApp`].
#[derive(Default)]
pub struct TestConfig {
    pub rate_limit_per_second: Option<NonZeroU32>,
    /// Requests per second per OAuth application (none by default in tests).
    pub app_rate_limit_per_second: Option<NonZeroU32>,
    /// Requests per minute per address to the sign-in and token endpoints (none by default).
    pub auth_rate_limit_per_minute: Option<NonZeroU32>,
    pub store: Option<StoreOptions>,
    /// Cache settings (the defaults of `serve` otherwise).
    pub cache: Option<giftwire_server::CacheConfig>,
    /// The server's clock; the system clock by default.
    pub clock: Option<Clock>,
    /// How the test's worker delivers mail.
    pub mailer: Option<giftwire_server::worker::Mailer>,
    /// Changes the URL the store connects to (e.g. to go through a [`Proxy`]).
    pub rewrite_url: Option<RewriteUrl>,
    /// What one client may take (the defaults of `serve` otherwise).
    pub limits: Option<giftwire_server::Limits>,
    /// Where browsers reach the server (its own address by default).
    pub public_url: Option<url::Url>,
    /// The sealing key and URL rules of webhooks (a fresh key, private addresses allowed so
    /// that receivers on loopback can be used, by default).
    pub webhooks: Option<WebhookConfig>,
}

pub async fn spawn(backend: Backend) -> TestApp {
    spawn_with(backend, TestConfig::default()).await
}

pub async fn spawn_with(backend: Backend, config: TestConfig) -> TestApp {
    let db = TestDb::new(backend).await;
    let url = match config.rewrite_url {
        Some(rewrite) => rewrite(&db.url),
        None => db.url.clone(),
    };
    let store = giftwire_store::open(&url, &config.store.unwrap_or_default())
        .await
        .expect("open the test database");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let limits = config.limits.unwrap_or_default();
    // Recording on, the tests talk to the server through the recording proxy instead.
    let server = listener.local_addr().expect("local addr");
    let address = match crate::record::start(server, limits.header_timeout / 2).await {
        Some(proxy) => format!("http://{proxy}"),
        None => format!("http://{server}"),
    };
    let clock = config.clock.unwrap_or_default();
    let webhooks = config.webhooks.unwrap_or_else(|| WebhookConfig {
        allow_private: true,
        ..WebhookConfig::default()
    });
    let state = AppState::new(
        store.clone(),
        clock.clone(),
        &ServerConfig {
            rate_limit_per_second: config.rate_limit_per_second,
            app_rate_limit_per_second: config.app_rate_limit_per_second,
            auth_rate_limit_per_minute: config.auth_rate_limit_per_minute,
            cache: config.cache.unwrap_or_default(),
            public_url: Some(
                config
                    .public_url
                    .unwrap_or_else(|| address.parse().expect("a URL")),
            ),
            limits,
            webhooks: webhooks.clone(),
        },
    );
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        giftwire_server::serve(listener, state, async {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    let sender =
        WebhookSender::new(store.clone(), clock.clone(), webhooks.clone()).expect("webhook client");
    let worker =
        Worker::new(store.clone(), clock.clone(), config.mailer).with_webhooks(sender.clone());
    TestApp {
        address,
        store,
        client: crate::http::client(),
        db,
        clock,
        worker,
        webhooks,
        sender,
        _shutdown: tx,
    }
}

/// An organization with one team, a user in it, a user in no team, and a token.
pub struct TestOrg {
    pub org: Org,
    pub team: TeamId,
    pub user: User,
    pub teamless: User,
    pub token: String,
}

pub fn at(s: &str) -> Timestamp {
    parse_instant("at", s).expect("a valid instant")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// GET with a bearer token; returns status, headers and the JSON body.
    pub async fn get(&self, path: &str, token: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.json::<Value>().await.expect("a JSON body");
        (status, headers, body)
    }

    /// Any method with a bearer token and an optional JSON body; the status and the JSON body
    /// (`null` for an empty one).
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON: {text}"))
        };
        (status, body)
    }

    /// GET with whatever `Authorization` header is given (or none).
    pub async fn get_raw(&self, path: &str, authorization: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        request.send().await.expect("request")
    }

    pub async fn create_org(&self, name: &str, tz: &str) -> TestOrg {
        let org = self
            .store
            .create_org(NewOrg {
                name: Name::parse("name", name).unwrap(),
                time_zone: OrgTimeZone::parse(tz).unwrap(),
                egift_expiry_days: 90,
            })
            .await
            .unwrap();
        let team = self
            .store
            .create_team(org.id, Name::parse("name", "Marketing Ops").unwrap())
            .await
            .unwrap();
        let slug: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
        let user = self
            .create_user(
                org.id,
                "Marc Fernandez",
                &format!("marc@{slug}.example"),
                Some(team.id),
            )
            .await;
        let teamless = self
            .create_user(org.id, "Solo Sender", &format!("solo@{slug}.example"), None)
            .await;
        let token = self.create_token(&user, "public", None).await;
        TestOrg {
            org,
            team: team.id,
            user,
            teamless,
            token,
        }
    }

    /// A user funded with [`TestApp::FUNDS`], enough for any test's sends.
    pub async fn create_user(
        &self,
        org: OrgId,
        name: &str,
        email: &str,
        team: Option<TeamId>,
    ) -> User {
        let user = self.create_unfunded_user(org, name, email, team).await;
        self.fund(&user, TestApp::FUNDS).await;
        user
    }

    pub const FUNDS: &str = "1000000";

    /// Adds `amount` (negative: withdraws) to a user's balance; returns the balance after it.
    pub async fn fund(&self, user: &User, amount: &str) -> giftwire_core::Money {
        let movement = giftwire_core::store::NewMovement {
            user: user.id,
            kind: giftwire_core::store::MovementKind::Fund,
            amount: amount.parse().unwrap(),
            send: None,
            note: Some("test funds".into()),
            at: Timestamp::now(),
        };
        let done = self.store.fund(user.org_id, vec![movement]).await.unwrap();
        done[0].balance
    }

    /// A user with a balance of 0.0.
    pub async fn create_unfunded_user(
        &self,
        org: OrgId,
        name: &str,
        email: &str,
        team: Option<TeamId>,
    ) -> User {
        self.store
            .create_user(
                org,
                NewUser::new(
                    Name::parse("name", name).unwrap(),
                    Email::parse("email", email).unwrap(),
                    team,
                    Role::Regular,
                ),
            )
            .await
            .unwrap()
    }

    pub async fn create_token(
        &self,
        user: &User,
        scopes: &str,
        expires_at: Option<Timestamp>,
    ) -> String {
        let token = PlainToken::generate();
        self.store
            .create_token(NewToken {
                user: user.id,
                hash: token.hash(),
                scopes: Scopes::parse(scopes).unwrap(),
                expires_at,
            })
            .await
            .unwrap();
        token.expose().to_owned()
    }

    pub async fn create_touch(
        &self,
        org: OrgId,
        name: &str,
        send_type: &str,
        subtype: &str,
        price: &str,
    ) -> Touch {
        let send_type: SendType = send_type.parse().unwrap();
        self.store
            .create_touch(
                org,
                NewTouch {
                    name: Name::parse("name", name).unwrap(),
                    send_type,
                    subtype: subtype.parse::<Subtype>().unwrap(),
                    currency: "usd".parse().unwrap(),
                    price: price.parse().unwrap(),
                    delivery_type: if send_type.kind() == giftwire_core::SendKind::Digital {
                        DeliveryType::Email
                    } else {
                        DeliveryType::Mail
                    },
                    starts_on: None,
                    ends_on: None,
                    active: true,
                    ship_to: giftwire_core::ShipTo::parse("US,CA").unwrap(),
                    details: Default::default(),
                },
            )
            .await
            .unwrap()
    }

    /// A pending send created at `created_at` (RFC 3339).
    pub async fn create_send(
        &self,
        org: OrgId,
        touch: &Touch,
        sender: &User,
        recipient: (&str, &str, Option<&str>),
        via: &str,
        created_at: &str,
    ) -> SendId {
        self.store
            .create_send(
                org,
                NewSend {
                    touch: touch.id,
                    sender: sender.id,
                    recipient: Recipient {
                        name: recipient.0.to_owned(),
                        email: recipient.1.to_owned(),
                        company_name: recipient.2.map(str::to_owned),
                    },
                    sent_via: via.to_owned(),
                    created_at: at(created_at),
                    cost: None,
                },
            )
            .await
            .unwrap()
            .id
    }

    pub async fn change_status(
        &self,
        org: OrgId,
        send: SendId,
        status: &str,
        occurred_at: &str,
        cost: Option<&str>,
    ) {
        self.store
            .change_status(
                org,
                send,
                StatusChange {
                    status: status.parse().unwrap(),
                    occurred_at: at(occurred_at),
                    cost: cost.map(|c| c.parse().unwrap()),
                },
            )
            .await
            .unwrap();
    }

    /// `n` quick pending sends of a fresh eGift touch, a second apart from 2024-01-01.
    pub async fn create_sends(&self, org: &TestOrg, n: usize) -> Vec<SendId> {
        let touch = self
            .create_touch(org.org.id, "Bulk", "eGifts USA", "eGift Cards USA", "10")
            .await;
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let created = at("2024-01-01T00:00:00Z") + jiff::SignedDuration::from_secs(i as i64);
            ids.push(
                self.create_send(
                    org.org.id,
                    &touch,
                    &org.user,
                    (
                        &format!("Recipient {i}"),
                        &format!("r{i}@example.com"),
                        Some("Acme"),
                    ),
                    "API",
                    &created.to_string(),
                )
                .await,
            );
        }
        ids
    }
}

/// The compiled response schema of `GET /api/v3/send`.
pub fn schema() -> jsonschema::Validator {
    let text = include_str!("../fixtures/send-list.schema.json");
    let schema: Value = serde_json::from_str(text).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

/// Panics with every violation of `body` against `tests/fixtures/schemas/<name>.schema.json`,
/// the response schema of one endpoint.
pub fn assert_schema(name: &str, body: &Value) {
    let path = format!(
        "{}/tests/fixtures/schemas/{name}.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}\n{body:#}");
}

/// Panics with every schema violation of `body`.
pub fn assert_valid(body: &Value) {
    let validator = schema();
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "response violates the schema: {errors:#?}\n{body:#}"
    );
}

/// The ids of a listed page.
pub fn ids(body: &Value) -> Vec<i64> {
    body["sends"]
        .as_array()
        .expect("sends is an array")
        .iter()
        .map(|s| s["id"].as_i64().expect("id is an integer"))
        .collect()
}

/// A TCP forwarder between the server and PostgreSQL that a test can cut and restore, as a
/// network partition would.
pub struct Proxy {
    pub addr: std::net::SocketAddr,
    target: std::net::SocketAddr,
    tasks: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    /// A proxy to the server of `GIFTWIRE_TEST_POSTGRES_URL`.
    pub async fn to_test_postgres() -> Proxy {
        let base = std::env::var("GIFTWIRE_TEST_POSTGRES_URL").expect("GIFTWIRE_TEST_POSTGRES_URL");
        let url = url::Url::parse(&base).expect("a URL");
        let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
        let port = url.port().unwrap_or(5432);
        let target = tokio::net::lookup_host((host.as_str(), port))
            .await
            .expect("resolve the PostgreSQL host")
            .next()
            .expect("an address");
        let proxy = Proxy {
            addr: "127.0.0.1:0".parse().unwrap(),
            target,
            tasks: Arc::default(),
        };
        let addr = proxy.addr;
        proxy.listen(addr).await
    }

    async fn listen(mut self, addr: std::net::SocketAddr) -> Proxy {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(addr).unwrap();
        let listener = socket.listen(64).unwrap();
        self.addr = listener.local_addr().unwrap();
        let (target, tasks) = (self.target, self.tasks.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(conn);
            }
        });
        self.tasks.lock().unwrap().push(accept);
        self
    }

    /// Closes the port and every connection through it.
    pub fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// Opens the same port again.
    pub async fn restore(&self) {
        let again = Proxy {
            addr: self.addr,
            target: self.target,
            tasks: self.tasks.clone(),
        };
        let _ = again.listen(self.addr).await;
    }

    /// `url` with its host and port replaced by `via`.
    pub fn rewrite(url: &str, via: std::net::SocketAddr) -> String {
        let mut u = url::Url::parse(url).expect("a URL");
        u.set_host(Some(&via.ip().to_string())).unwrap();
        u.set_port(Some(via.port())).unwrap();
        u.to_string()
    }
}
