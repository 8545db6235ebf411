//! `giftwire webhook …`: endpoints and their deliveries, for operators (any organization's, by
//! id); and the sealing key their secrets are stored under.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use giftwire_core::seal::SealingKey;
use giftwire_core::store::{Endpoint, EndpointChanges, NewEndpoint};
use giftwire_core::webhooks::{EventFilter, ROTATION_OVERLAP};
use giftwire_core::{Clock, OrgId, PageRequest, Store};
use giftwire_server::render;
use giftwire_server::webhooks::WebhookConfig;
use serde_json::{Value, json};

use crate::cli::WebhookCommand;

/// Where the sealing key is when `--sealing-key-file` is not given: beside a SQLite database
/// file (`true`: unambiguous for every process of that database), else in the working
/// directory (`false`).
pub fn default_key_path(database: &str) -> (PathBuf, bool) {
    let file = database
        .strip_prefix("sqlite://")
        .or_else(|| database.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|path| !path.is_empty() && !path.contains(":memory:"));
    match file {
        Some(path) => (PathBuf::from(format!("{path}.sealing-key")), true),
        None => (PathBuf::from("giftwire.sealing-key"), false),
    }
}

/// Reads the key at `path`, or creates one there (mode 0600) if there is none and `may_create`.
pub fn load_or_create_key(path: &Path, may_create: bool) -> Result<Arc<SealingKey>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let key = SealingKey::parse(&text)
                .with_context(|| format!("{} is not a sealing key", path.display()))?;
            return Ok(Arc::new(key));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && may_create => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "no sealing key at {} (webhook secrets are sealed with the key `serve` uses): run \
             this where `serve` runs, or give --sealing-key-file (env GIFTWIRE_SEALING_KEY_FILE)",
            path.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    // Written whole under another name, then linked into place (which fails if another process
    // linked its key first): no process ever reads a half-written key.
    let key = SealingKey::generate();
    let partial = path.with_extension(format!("partial-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&partial)
        .and_then(|mut file| {
            writeln!(file, "{}", key.encode())?;
            file.sync_all()
        })
        .with_context(|| format!("cannot write {}", partial.display()));
    let linked = written.and_then(|()| match std::fs::hard_link(&partial, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    });
    let _ = std::fs::remove_file(&partial);
    if linked? {
        tracing::info!(path = %path.display(), "created the sealing key of webhook secrets");
        Ok(Arc::new(key))
    } else {
        // Another process created it first: use that one.
        load_or_create_key(path, false)
    }
}

fn endpoint_json(endpoint: &Endpoint, tz: &giftwire_core::OrgTimeZone) -> Value {
    serde_json::to_value(render::webhook_endpoint(endpoint, tz)).expect("an endpoint serializes")
}

pub async fn webhook(
    store: &dyn Store,
    clock: &Clock,
    key: impl FnOnce() -> Result<Arc<SealingKey>>,
    command: WebhookCommand,
) -> Result<Value> {
    match command {
        WebhookCommand::Create {
            org,
            url,
            events,
            description,
            rules,
        } => {
            let org = store.org(OrgId::new(org)).await?;
            let events = match events {
                Some(list) => EventFilter::parse_list(&list)?,
                None => EventFilter::all(),
            };
            let description = giftwire_core::webhooks::check_description(&description)?;
            let config = WebhookConfig {
                key: key()?,
                allow_private: rules.allow_private,
            };
            let url = config.check_url(&url).await?;
            let (secret, sealed) = config.new_secret();
            let endpoint = store
                .create_endpoint(NewEndpoint {
                    org_id: org.id,
                    url: url.to_string(),
                    events,
                    description,
                    secret: sealed,
                    at: clock.now(),
                })
                .await?;
            let mut shown = endpoint_json(&endpoint, &org.time_zone);
            shown["secret"] = json!(secret.expose());
            Ok(shown)
        }
        WebhookCommand::List { org } => {
            let org = store.org(OrgId::new(org)).await?;
            let mut endpoints = Vec::new();
            for page in 1.. {
                let listed = store
                    .endpoints(org.id, PageRequest::new(page, PageRequest::MAX_PER_PAGE))
                    .await?;
                let done = listed.items.len() < PageRequest::MAX_PER_PAGE as usize;
                endpoints.extend(
                    listed
                        .items
                        .iter()
                        .map(|e| endpoint_json(e, &org.time_zone)),
                );
                if done {
                    break;
                }
            }
            Ok(json!({ "endpoints": endpoints }))
        }
        WebhookCommand::Disable { id } | WebhookCommand::Enable { id } => {
            let enabled = matches!(command, WebhookCommand::Enable { .. });
            let changes = EndpointChanges {
                enabled: Some(enabled),
                ..EndpointChanges::default()
            };
            let endpoint = store
                .update_endpoint(None, id, changes, clock.now())
                .await?;
            let org = store.org(endpoint.org_id).await?;
            Ok(endpoint_json(&endpoint, &org.time_zone))
        }
        WebhookCommand::RotateSecret { id } => {
            let config = WebhookConfig {
                key: key()?,
                allow_private: false,
            };
            let (secret, sealed) = config.new_secret();
            let now = clock.now();
            let endpoint = store
                .rotate_endpoint_secret(None, id, sealed, now + ROTATION_OVERLAP, now)
                .await?;
            Ok(json!({ "id": endpoint.id, "secret": secret.expose() }))
        }
        WebhookCommand::Deliveries { endpoint, limit } => {
            let found = store.endpoint(None, endpoint).await?;
            let org = store.org(found.org_id).await?;
            let listed = store
                .deliveries(None, endpoint, PageRequest::new(1, limit))
                .await?;
            let deliveries: Vec<Value> = listed
                .items
                .iter()
                .map(|d| {
                    serde_json::to_value(render::webhook_delivery(d, &org.time_zone))
                        .expect("a delivery serializes")
                })
                .collect();
            Ok(json!({ "deliveries": deliveries }))
        }
        WebhookCommand::Replay { event } => {
            let queued = store.replay_event(None, event, clock.now()).await?;
            Ok(json!({ "event_id": event, "queued": queued }))
        }
    }
}
