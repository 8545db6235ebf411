//! `giftwire`: reads the command line, starts logging (to stderr), opens the database and runs
//! one command. Admin commands print exactly one JSON object on stdout.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use clap::Parser as _;
use giftwire_core::{Clock, OrgId, Store};
use std::time::Duration;

use giftwire_server::AppState;
use giftwire_server::webhooks::WebhookSender;
use giftwire_server::worker::Worker;
use tracing_subscriber::EnvFilter;

mod admin;
mod cli;
mod demo;
mod remote;
mod seed;
mod webhooks;

use cli::{Cli, Command, ServeArgs};

const DEFAULT_DATABASE: &str = "sqlite://giftwire.db";
const DEMO_DATABASE: &str = "sqlite://giftwire-demo.db";

fn init_logging(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}

/// How often `serve` looks for due webhooks.
const WEBHOOK_POLL: Duration = Duration::from_millis(100);

async fn serve(
    store: Arc<dyn Store>,
    args: &ServeArgs,
    key: impl FnOnce() -> Result<Arc<giftwire_core::seal::SealingKey>>,
    banner: Option<String>,
) -> Result<()> {
    // Every connection is a file descriptor: take what the system allows this process, so that
    // --max-connections (not the default soft limit of 1,024) is what caps them.
    let files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0);
    if files < u64::from(args.max_connections) + 64 {
        tracing::warn!(
            open_files = files,
            max_connections = args.max_connections,
            "the open-file limit is below --max-connections: raise it (ulimit -n) or lower the cap"
        );
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let webhooks = giftwire_server::webhooks::WebhookConfig {
        key: key()?,
        allow_private: args.webhooks.allow_private,
    };
    let mut config = args.server_config(webhooks.clone());
    let default_public = format!("http://{addr}");
    config.public_url.get_or_insert(default_public.parse()?);
    let clock = Clock::system();
    let worker = Worker::new(store.clone(), clock.clone(), args.mail.mailer()?);
    let sender =
        WebhookSender::new(store.clone(), clock.clone(), webhooks).map_err(anyhow::Error::msg)?;
    let state = AppState::new(store, clock, &config);
    if let Some(banner) = banner {
        println!("{}", banner.replace("{addr}", &addr.to_string()));
    }
    tracing::info!(%addr, rate_limit = args.rate_limit, "serving");
    let (stop_worker, worker_stopped) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let worker = tokio::spawn(worker.run(
        Duration::from_secs(args.tick_secs.max(1)),
        stopped(worker_stopped.clone()),
    ));
    let sender = tokio::spawn({
        let stop = stopped(worker_stopped);
        let deliver = !args.no_webhook_delivery;
        async move {
            if deliver {
                sender.run(WEBHOOK_POLL, stop).await;
            }
        }
    });
    let served = giftwire_server::serve(listener, state, shutdown_signal()).await;
    let _ = stop_worker.send(true);
    let _ = worker.await;
    let _ = sender.await;
    served?;
    tracing::info!("stopped");
    Ok(())
}

async fn run(cli: Cli) -> Result<()> {
    if let Command::Sends(command) = cli.command {
        return remote::sends(command).await;
    }
    if let Command::Openapi = cli.command {
        println!("{:#}", giftwire_server::openapi::document());
        return Ok(());
    }
    let database = match (&cli.database, &cli.command) {
        (Some(url), _) => url.clone(),
        (None, Command::Demo(_)) => DEMO_DATABASE.to_owned(),
        (None, _) => DEFAULT_DATABASE.to_owned(),
    };
    let options = giftwire_store::StoreOptions {
        read_replica_url: cli.database_replica.clone(),
        durable_commits: cli.sqlite_synchronous == cli::SqliteSynchronous::Full,
        ..giftwire_store::StoreOptions::with_timeout(cli.database_timeout)
    };
    let store = giftwire_store::open(&database, &options).await?;
    let clock = Clock::system();
    // A key given, or beside a SQLite file, is the database's: any command may create it. The
    // working directory's (PostgreSQL without --sealing-key-file) only `serve` and `demo` may,
    // so that a command run elsewhere cannot seal a secret with a key `serve` does not have.
    let (key_path, may_create) = match &cli.sealing_key_file {
        Some(path) => (path.clone(), true),
        None => {
            let (path, beside_database) = webhooks::default_key_path(&database);
            let serving = matches!(cli.command, Command::Serve(_) | Command::Demo(_));
            (path, beside_database || serving)
        }
    };
    let key = || webhooks::load_or_create_key(&key_path, may_create);
    let output = match cli.command {
        Command::Serve(args) => return serve(store, &args, key, None).await,
        Command::Demo(args) => {
            let demo = demo::prepare(store.as_ref()).await?;
            let oauth = &demo.oauth;
            let authorize: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("client_id", &oauth.client_id)
                .append_pair("redirect_uri", giftwire_server::oauth::OOB)
                .append_pair("response_type", "code")
                .append_pair("scope", "public write")
                .finish();
            let banner = format!(
                "giftwire demo: {} sends in {database}\n\
                 token of {} (organization {}, time zone {}), scopes \"{}\":\n  {}\n\
                 try:\n  curl -s -H 'Authorization: Bearer {}' 'http://{{addr}}/api/v3/send?per_page=2'\n\
                 OAuth application \"Demo integration\" (confidential, scopes \"public write\"):\n\
                 \x20 client_id     {}\n\
                 \x20 client_secret {}\n\
                 \x20 sign in as    {} / {}\n\
                 open in a browser (sign in, allow, copy the code):\n\
                 \x20 http://{{addr}}/oauth/authorize?{authorize}\n\
                 then:\n\
                 \x20 curl -s -u '{}:{}' -d grant_type=authorization_code -d code=CODE \\\n\
                 \x20   -d redirect_uri={} 'http://{{addr}}/oauth/token'\n\
                 serving on http://{{addr}} (Ctrl-C to stop)",
                demo.total_sends,
                demo.org.name,
                demo.org.id,
                demo.org.time_zone.name(),
                demo.scopes,
                demo.token.expose(),
                demo.token.expose(),
                oauth.client_id,
                oauth.client_secret,
                oauth.email,
                oauth.password,
                oauth.client_id,
                oauth.client_secret,
                giftwire_server::oauth::OOB,
            );
            return serve(store, &args, key, Some(banner)).await;
        }
        Command::Org(c) => admin::org(store.as_ref(), c).await?,
        Command::Team(c) => admin::team(store.as_ref(), c).await?,
        Command::User(c) => admin::user(store.as_ref(), c).await?,
        Command::Touch(c) => admin::touch(store.as_ref(), c).await?,
        Command::Token(c) => admin::token(store.as_ref(), &clock, c).await?,
        Command::App(c) => admin::app(store.as_ref(), &clock, c).await?,
        Command::Send(c) => admin::send(store.as_ref(), &clock, c).await?,
        Command::Tick(args) => {
            let webhooks = giftwire_server::webhooks::WebhookConfig {
                key: key()?,
                allow_private: args.webhooks.allow_private,
            };
            let sender = WebhookSender::new(store.clone(), clock.clone(), webhooks)
                .map_err(anyhow::Error::msg)?;
            let worker = Worker::new(store.clone(), clock.clone(), args.mail.mailer()?)
                .with_webhooks(sender);
            serde_json::to_value(worker.tick().await?)?
        }
        Command::Webhook(c) => webhooks::webhook(store.as_ref(), &clock, key, c).await?,
        Command::Sends(_) => anyhow::bail!("sends commands are answered before the store opens"),
        Command::Openapi => anyhow::bail!("openapi is answered before the store opens"),
        Command::Outbox(cli::OutboxCommand::List { org, limit }) => {
            admin::outbox(store.as_ref(), org.map(OrgId::new), limit).await?
        }
        Command::Seed(args) => {
            let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
            seed::run(
                store.as_ref(),
                OrgId::new(args.org),
                args.sends,
                args.seed,
                progress,
            )
            .await?
        }
    };
    println!("{output}");
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(match cli.command {
        Command::Serve(_) | Command::Demo(_) => "info",
        _ => "warn",
    });
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
