//! The command line: one binary, `giftwire`, with the server, the demo and the admin commands.

use std::net::SocketAddr;
use std::num::NonZeroU32;

use clap::{Args, Parser, Subcommand};

/// giftwire: a Sendoso-compatible sends service.
#[derive(Debug, Parser)]
#[command(name = "giftwire", version, about, max_term_width = 100)]
pub struct Cli {
    /// Database URL: sqlite://PATH (created if missing). Default: sqlite://giftwire.db, or
    /// sqlite://giftwire-demo.db for `demo`.
    #[arg(long, global = true, env = "GIFTWIRE_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,

    /// PostgreSQL only: a read replica of the database; the API's listings read from it.
    #[arg(
        long,
        global = true,
        env = "GIFTWIRE_DATABASE_REPLICA_URL",
        value_name = "URL"
    )]
    pub database_replica: Option<String>,

    /// Seconds a request waits on the database (for a connection, a lock, its turn to write)
    /// before it is answered 503; also how long one connection attempt may take.
    #[arg(
        long,
        global = true,
        env = "GIFTWIRE_DATABASE_TIMEOUT",
        value_name = "SECONDS",
        default_value = "1",
        value_parser = parse_seconds
    )]
    pub database_timeout: std::time::Duration,

    /// SQLite only: `full` (the default) syncs each commit to stable storage before it is
    /// acknowledged; `normal` is faster but may lose the last acknowledged writes on a power
    /// cut or an operating-system crash.
    #[arg(
        long,
        global = true,
        env = "GIFTWIRE_SQLITE_SYNCHRONOUS",
        value_name = "MODE",
        default_value = "full"
    )]
    pub sqlite_synchronous: SqliteSynchronous,

    /// The key webhook signing secrets are sealed with (created, readable by its owner only, if
    /// missing). Default: next to a SQLite database (giftwire.db -> giftwire.db.sealing-key), or
    /// giftwire.sealing-key in the working directory for PostgreSQL. Every process of one
    /// database must use the same key.
    #[arg(
        long,
        global = true,
        env = "GIFTWIRE_SEALING_KEY_FILE",
        value_name = "PATH"
    )]
    pub sealing_key_file: Option<std::path::PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// How SQLite commits (its `synchronous` setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqliteSynchronous {
    /// Every commit is on stable storage before it is acknowledged.
    Full,
    /// Commits are synced at checkpoints only: durable against a crash of the process, not of
    /// the machine.
    Normal,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API.
    Serve(ServeArgs),
    /// Create (or reuse) a demo database, print a token and a curl line, and serve it.
    Demo(ServeArgs),
    /// Organizations (tenants).
    #[command(subcommand)]
    Org(OrgCommand),
    /// Teams (team groups) of an organization.
    #[command(subcommand)]
    Team(TeamCommand),
    /// Users of an organization.
    #[command(subcommand)]
    User(UserCommand),
    /// Touches (campaigns) of an organization.
    #[command(subcommand)]
    Touch(TouchCommand),
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// OAuth applications (clients) of an organization.
    #[command(subcommand)]
    App(AppCommand),
    /// Sends and their status changes.
    #[command(subcommand)]
    Send(SendCommand),
    /// Fill an organization with realistic synthetic sends.
    Seed(SeedArgs),
    /// Run the worker once: apply due time-driven changes, deliver due mail (with --smtp-url)
    /// and due webhooks, forget old idempotency keys. Prints what it did.
    Tick(TickArgs),
    /// Mail written by sends (eGifts, address requests).
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Webhook endpoints of an organization, and their deliveries.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Read a server's sends over HTTP with an API token (no database needed): list them, or
    /// keep a local copy in sync.
    #[command(subcommand)]
    Sends(SendsCommand),
    /// Print the server's OpenAPI 3.1 document (what `GET /openapi.json` serves).
    Openapi,
}

/// Where the server is and the token to read it with.
#[derive(Debug, Clone, Args)]
pub struct RemoteArgs {
    /// The server's base URL (`https://gifts.example.com`).
    #[arg(long, env = "GIFTWIRE_URL")]
    pub url: url::Url,
    /// An API token with the public scope (an operator's token or an OAuth access token).
    #[arg(long, env = "GIFTWIRE_TOKEN", hide_env_values = true)]
    pub token: String,
}

#[derive(Debug, Subcommand)]
pub enum SendsCommand {
    /// One page of sends (or, with --all, every page), optionally filtered.
    List(SendsListArgs),
    /// Bring a local copy of the organization's sends (a JSON state file) up to date from the
    /// change feed; prints {"changed", "total", "cursor"}.
    Sync(SendsSyncArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
    Ndjson,
    Csv,
}

#[derive(Debug, Args)]
pub struct SendsListArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Every page, with a progress bar on stderr (from --page, or the first).
    #[arg(long)]
    pub all: bool,
    #[arg(long)]
    pub page: Option<u32>,
    /// Sends per page (at most 100; default 10 for one page, 100 with --all).
    #[arg(long)]
    pub per_page: Option<u32>,
    /// Only sends in this status (repeatable: any of them).
    #[arg(long)]
    pub status: Vec<String>,
    /// Only sends of touches of this type (`eGifts USA`, ...).
    #[arg(long = "type")]
    pub send_type: Option<String>,
    #[arg(long)]
    pub touch_id: Option<i64>,
    #[arg(long)]
    pub sender_id: Option<i64>,
    /// Only sends created after this RFC 3339 instant or date.
    #[arg(long)]
    pub created_after: Option<String>,
    /// Only sends created before this RFC 3339 instant or date.
    #[arg(long)]
    pub created_before: Option<String>,
    #[arg(long)]
    pub recipient_email: Option<String>,
    /// table (the default), json (an array of send objects), ndjson (one per line), csv.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct SendsSyncArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// The local copy: created at the first sync, continued by later ones.
    #[arg(long)]
    pub state: std::path::PathBuf,
    /// Sends per call of the change feed (1 to 1,000).
    #[arg(long, default_value_t = 1000)]
    pub limit: u32,
}

#[derive(Debug, Args)]
pub struct TickArgs {
    #[command(flatten)]
    pub mail: MailArgs,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
}

/// The rule on where webhooks may go.
#[derive(Debug, Clone, Copy, Args)]
pub struct WebhookArgs {
    /// Local development only: allow webhook endpoints on private, loopback and link-local
    /// addresses, and plain http (otherwise endpoints must be https to public addresses).
    #[arg(
        long = "webhook-allow-private",
        env = "GIFTWIRE_WEBHOOK_ALLOW_PRIVATE",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub allow_private: bool,
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Add an endpoint. Prints {"id", "url", "events", "secret", "enabled", "description", ...};
    /// the signing secret is shown only here (and by rotate-secret).
    Create {
        #[arg(long)]
        org: i64,
        /// https://…, to a public address (see --webhook-allow-private).
        #[arg(long)]
        url: String,
        /// The event types it receives, comma-separated (default: all).
        #[arg(long)]
        events: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        rules: WebhookArgs,
    },
    /// An organization's endpoints, without secrets. Prints {"endpoints": [...]}.
    List {
        #[arg(long)]
        org: i64,
    },
    /// Stop delivering to an endpoint (its events meanwhile are not queued for it).
    Disable {
        #[arg(long)]
        id: i64,
    },
    /// Deliver to an endpoint again (what was pending resumes; its failures are forgotten).
    Enable {
        #[arg(long)]
        id: i64,
    },
    /// A new signing secret; messages are signed with it and the previous one for 24 hours.
    /// Prints {"id", "secret"}.
    RotateSecret {
        #[arg(long)]
        id: i64,
    },
    /// An endpoint's deliveries, newest first. Prints {"deliveries": [...]}.
    Deliveries {
        #[arg(long)]
        endpoint: i64,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Queue an event again for each enabled endpoint of its organization that wants it.
    /// Prints {"event_id", "queued"}.
    Replay {
        #[arg(long)]
        event: i64,
    },
}

#[derive(Debug, Args)]
pub struct MailArgs {
    /// SMTP server to deliver mail through: smtp://[user:pass@]host[:port] (add ?tls=required
    /// for STARTTLS) or smtps://…; without it mail waits in the outbox.
    #[arg(long, env = "GIFTWIRE_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of that mail.
    #[arg(
        long,
        env = "GIFTWIRE_MAIL_FROM",
        default_value = "giftwire <giftwire@localhost>"
    )]
    pub mail_from: String,
}

impl MailArgs {
    pub fn mailer(&self) -> anyhow::Result<Option<giftwire_server::worker::Mailer>> {
        self.smtp_url
            .as_deref()
            .map(|url| {
                giftwire_server::worker::Mailer::new(url, &self.mail_from)
                    .map_err(anyhow::Error::msg)
            })
            .transpose()
    }
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// The outbox, newest first. Prints {"mail": [...]}.
    List {
        /// Only this organization's mail.
        #[arg(long)]
        org: Option<i64>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "GIFTWIRE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Requests per second allowed per operator token (OAuth tokens count against their
    /// application: --app-rate-limit); 0 disables the limit.
    #[arg(long, env = "GIFTWIRE_RATE_LIMIT", default_value_t = 10)]
    pub rate_limit: u32,
    /// Requests per second per OAuth application, shared by all of its tokens, in bursts of
    /// as many (Sendoso documents 10); 0 disables the limit.
    #[arg(long, env = "GIFTWIRE_APP_RATE_LIMIT", default_value_t = 10)]
    pub app_rate_limit: u32,
    /// Requests per minute per client address to the sign-in and token endpoints; 0 disables
    /// the limit.
    #[arg(long, env = "GIFTWIRE_AUTH_RATE_LIMIT", default_value_t = 60)]
    pub auth_rate_limit: u32,
    /// Memory for rendered pages, reused while their content is unchanged (MiB; 0 disables).
    #[arg(long, env = "GIFTWIRE_PAGE_CACHE_MB", default_value_t = 32)]
    pub page_cache_mb: u64,
    /// Seconds a successful token lookup is reused (0 disables); a token revoked by another
    /// process stops working within this time.
    #[arg(long, env = "GIFTWIRE_TOKEN_CACHE_SECS", default_value_t = 1)]
    pub token_cache_secs: u64,
    /// Where recipients reach this server (the base of tracking and address links); by
    /// default http:// and the listening address.
    #[arg(long, env = "GIFTWIRE_PUBLIC_URL")]
    pub public_url: Option<url::Url>,
    /// Seconds between two runs of the background worker.
    #[arg(long, env = "GIFTWIRE_TICK_SECS", default_value_t = 30)]
    pub tick_secs: u64,
    /// Connections served at once; each one beyond gets a 503 and is closed.
    #[arg(long, env = "GIFTWIRE_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// Seconds a client may take to send a request's headers (also how long an idle
    /// keep-alive connection stays open).
    #[arg(long, env = "GIFTWIRE_HEADER_TIMEOUT", value_name = "SECONDS", default_value = "10", value_parser = parse_seconds)]
    pub header_timeout: std::time::Duration,
    /// Seconds a client may take to send a request's body (408 after it).
    #[arg(long, env = "GIFTWIRE_BODY_TIMEOUT", value_name = "SECONDS", default_value = "10", value_parser = parse_seconds)]
    pub body_timeout: std::time::Duration,
    /// Seconds a request may take from its headers to its answer (503 after it).
    #[arg(long, env = "GIFTWIRE_REQUEST_TIMEOUT", value_name = "SECONDS", default_value = "30", value_parser = parse_seconds)]
    pub request_timeout: std::time::Duration,
    #[command(flatten)]
    pub mail: MailArgs,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    /// Do not deliver webhooks from this process (another `serve`, or `giftwire tick`, does):
    /// for API processes that should only answer requests.
    #[arg(
        long,
        env = "GIFTWIRE_NO_WEBHOOK_DELIVERY",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub no_webhook_delivery: bool,
}

impl ServeArgs {
    pub fn server_config(
        &self,
        webhooks: giftwire_server::webhooks::WebhookConfig,
    ) -> giftwire_server::ServerConfig {
        giftwire_server::ServerConfig {
            webhooks,
            rate_limit_per_second: NonZeroU32::new(self.rate_limit),
            app_rate_limit_per_second: NonZeroU32::new(self.app_rate_limit),
            auth_rate_limit_per_minute: NonZeroU32::new(self.auth_rate_limit),
            cache: giftwire_server::CacheConfig {
                token_ttl: std::time::Duration::from_secs(self.token_cache_secs),
                page_bytes: self.page_cache_mb << 20,
            },
            public_url: self.public_url.clone(),
            limits: giftwire_server::Limits {
                max_connections: self.max_connections as usize,
                header_timeout: self.header_timeout,
                body_timeout: self.body_timeout,
                request_timeout: self.request_timeout,
            },
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// List every organization with its number of sends. Prints {"organizations": [...]}.
    List,
    /// Create an organization. Prints {"id", "name", "time_zone"}.
    Create {
        #[arg(long)]
        name: String,
        /// IANA time zone in which its times are shown.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        /// Days after which an unredeemed eGift expires.
        #[arg(long, default_value_t = 90)]
        egift_expiry_days: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Create a team. Prints {"id", "name"}.
    Create {
        #[arg(long)]
        org: i64,
        #[arg(long)]
        name: String,
    },
    /// Set a team's budgets (what `GET /api/v3/groups` shows); options left out keep their
    /// value. Prints the team with its budgets.
    Budget {
        #[arg(long)]
        team: i64,
        /// The monthly budget, a decimal amount.
        #[arg(long, value_name = "DECIMAL")]
        monthly: Option<String>,
        /// A one-time budget, a decimal amount.
        #[arg(long, value_name = "DECIMAL")]
        one_time: Option<String>,
        /// Whether an unspent monthly budget rolls over into the next month.
        #[arg(long, value_name = "BOOL")]
        rollover: Option<bool>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. Prints the user.
    Create {
        #[arg(long)]
        org: i64,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// A team of the same organization.
        #[arg(long)]
        team: Option<i64>,
        /// regular or manager.
        #[arg(long, default_value = "regular")]
        role: String,
    },
    /// Set a user's password (to sign in and authorize OAuth applications), read as one line
    /// from standard input; at least 8 characters. Prints {"id", "password_set": true}.
    SetPassword {
        #[arg(long)]
        user: i64,
    },
    /// Add funds to a user's balance, or withdraw them with a negative amount (never below
    /// zero). Prints the movement with the balance after it.
    Fund {
        #[arg(long)]
        user: i64,
        /// A decimal amount, e.g. 250 or 19.99; -50 withdraws.
        #[arg(long, value_name = "DECIMAL", allow_hyphen_values = true)]
        amount: String,
        /// Why (kept in the ledger).
        #[arg(long)]
        note: Option<String>,
    },
    /// Invite a user (as `POST /api/v3/users` does): it is mailed a link to choose its password
    /// and is active once it has. Prints {"id", "email", "state", "invitation_url",
    /// "expires_at"}; the link is its only credential and is shown only here.
    Invite {
        #[arg(long)]
        org: i64,
        #[arg(long)]
        first_name: String,
        #[arg(long, default_value = "")]
        last_name: String,
        #[arg(long)]
        email: String,
        /// A team of the same organization.
        #[arg(long)]
        team: Option<i64>,
        /// regular or manager.
        #[arg(long, default_value = "regular")]
        role: String,
        /// Where the invited user reaches the server (the base of the link).
        #[arg(
            long,
            env = "GIFTWIRE_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        public_url: url::Url,
    },
    /// Deactivate a user: its tokens and sign-ins stop working and it leaves the API's user
    /// lists; its sends, balance and ledger stay. Prints the user.
    Deactivate {
        #[arg(long)]
        user: i64,
    },
    /// Reactivate a deactivated user. Prints the user.
    Activate {
        #[arg(long)]
        user: i64,
    },
    /// A user's balance and every movement of it, oldest first. Prints {"user_id", "balance",
    /// "movements": [...]}; the balance is the sum of the movements.
    Ledger {
        #[arg(long)]
        user: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Register an OAuth application. Prints {"id", "client_id", "client_secret", "name",
    /// "redirect_uris", "scopes", "confidential"}; the secret is shown only here.
    Create {
        #[arg(long)]
        org: i64,
        #[arg(long)]
        name: String,
        /// Where codes may be sent (exactly); repeat for several. https, http on a loopback
        /// address, or urn:ietf:wg:oauth:2.0:oob (the code is shown on a page).
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// What the application may ever request, space-separated.
        #[arg(long, default_value = "public")]
        scopes: String,
        /// A public client (a browser or native app): no secret, PKCE required.
        #[arg(long)]
        public: bool,
    },
    /// List an organization's applications (no secrets). Prints {"apps": [...]}.
    List {
        #[arg(long)]
        org: i64,
    },
    /// Revoke an application: it can no longer authorize, and its tokens stop working.
    /// Prints {"client_id", "revoked": true, "tokens_revoked"}.
    Revoke {
        #[arg(long)]
        client_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TouchCommand {
    /// Create a touch (campaign). Prints the touch.
    Create(Box<TouchCreateArgs>),
    /// Change what `GET /api/v3/touches` shows of a touch, or whether it is active; options left
    /// out keep their value. Prints the touch.
    Update {
        #[arg(long)]
        touch: i64,
        #[command(flatten)]
        details: TouchDetailsArgs,
        /// Whether sends can be made from it (and it is listed).
        #[arg(long, value_name = "BOOL")]
        active: Option<bool>,
    },
}

/// The fields the touches endpoints show beyond a touch's sending terms.
#[derive(Debug, Args, Default)]
pub struct TouchDetailsArgs {
    /// What the campaign is for.
    #[arg(long)]
    pub description: Option<String>,
    /// The user of the organization who made it.
    #[arg(long, value_name = "USER_ID")]
    pub creator: Option<i64>,
    /// The catalog gift it sends.
    #[arg(long)]
    pub gift_id: Option<i64>,
    /// An eGift campaign's denomination range, LOW-HIGH (`10-100`); `none` removes it.
    #[arg(long, value_name = "LOW-HIGH")]
    pub egift_prices: Option<String>,
    /// The HubSpot integration key; an empty value removes it.
    #[arg(long)]
    pub hubspot_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct TouchCreateArgs {
    #[arg(long)]
    pub org: i64,
    #[arg(long)]
    pub name: String,
    /// One of the seven send types (`eGifts USA`, `Inventoried Sends`, ...).
    #[arg(long = "type")]
    pub send_type: String,
    /// One of the thirty subtypes (`eGift Cards USA`, `Custom`, ...).
    #[arg(long)]
    pub subtype: String,
    /// ISO 4217 code.
    #[arg(long)]
    pub currency: String,
    /// Exact decimal, e.g. 25.00.
    #[arg(long)]
    pub price: String,
    /// mail or email; by default email for digital types and mail for physical ones.
    #[arg(long)]
    pub delivery_type: Option<String>,
    /// First day the touch can be sent (YYYY-MM-DD).
    #[arg(long)]
    pub starts_on: Option<String>,
    /// Last day the touch can be sent (YYYY-MM-DD).
    #[arg(long)]
    pub ends_on: Option<String>,
    /// Create it inactive.
    #[arg(long)]
    pub inactive: bool,
    /// Countries physical gifts may ship to: ISO 3166-1 codes or names, comma-separated.
    #[arg(long, default_value = "US")]
    pub ship_to: String,
    #[command(flatten)]
    pub details: TouchDetailsArgs,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for a user. Prints {"access_token", "scope"}; the token is shown only here.
    Create {
        #[arg(long)]
        user: i64,
        /// Space-separated scopes: public, write, update, fulfillment.
        #[arg(long, default_value = "public")]
        scopes: String,
        /// Seconds until the token expires (default: never).
        #[arg(long)]
        expires_in: Option<u32>,
    },
    /// Revoke a token. Prints {"revoked": true}.
    Revoke {
        /// The token itself.
        #[arg(long, env = "GIFTWIRE_TOKEN", hide_env_values = true)]
        token: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SendCommand {
    /// Create a pending send. Prints the send as the API lists it.
    Create {
        /// The sender; the touch must be of the same organization.
        #[arg(long)]
        user: i64,
        #[arg(long)]
        touch: i64,
        #[arg(long)]
        recipient_name: String,
        #[arg(long)]
        recipient_email: String,
        /// The recipient's company.
        #[arg(long)]
        company: Option<String>,
        /// Where the send was initiated.
        #[arg(long, default_value = "Sendoso.com")]
        via: String,
        /// When it was created (RFC 3339); default now.
        #[arg(long)]
        at: Option<String>,
    },
    /// Record a status change. Prints the send as the API lists it.
    Status {
        #[arg(long)]
        send: i64,
        #[arg(long)]
        status: String,
        /// When it happened (RFC 3339); default now.
        #[arg(long)]
        at: Option<String>,
        /// The send's new current_total_cost.
        #[arg(long)]
        cost: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    #[arg(long)]
    pub org: i64,
    /// How many sends to create.
    #[arg(long)]
    pub sends: u64,
    /// Seed of the random generator: the same seed on the same day gives the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// A positive number of seconds, at most an hour, with up to millisecond precision (`0.5`).
pub fn parse_seconds(text: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("expected a number of seconds, got {text:?}"))?;
    if !(0.001..=3600.0).contains(&secs) {
        return Err(format!(
            "expected between 0.001 and 3600 seconds, got {text}"
        ));
    }
    Ok(std::time::Duration::from_millis(
        (secs * 1000.0).round() as u64
    ))
}

#[cfg(test)]
mod tests {
    use super::parse_seconds;
    use std::time::Duration;

    #[test]
    fn seconds_are_positive_decimals_up_to_an_hour() {
        assert_eq!(parse_seconds("1"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_seconds("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_seconds("3600"), Ok(Duration::from_secs(3600)));
        for bad in ["0", "-1", "abc", "", "3601", "NaN", "inf"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }
}
