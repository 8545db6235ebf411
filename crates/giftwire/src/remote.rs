//! `giftwire sends list` and `giftwire sends sync`: commands that read a server over HTTP with
//! the giftwire-client crate (no database of their own).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result};
use futures_util::StreamExt as _;
use giftwire_client::{Client, ListQuery, api};
use serde::{Deserialize, Serialize};

use crate::cli::{ListFormat, RemoteArgs, SendsCommand, SendsListArgs, SendsSyncArgs};

pub async fn sends(command: SendsCommand) -> Result<()> {
    match command {
        SendsCommand::List(args) => list(args).await,
        SendsCommand::Sync(args) => sync(args).await,
    }
}

fn client(remote: &RemoteArgs) -> Result<Client> {
    Ok(Client::builder(remote.url.as_str())
        .token(remote.token.clone())
        .build()?)
}

fn query(args: &SendsListArgs) -> ListQuery {
    ListQuery {
        page: args.page,
        per_page: args.per_page,
        statuses: args.status.clone(),
        send_type: args.send_type.clone(),
        touch_id: args.touch_id,
        sender_id: args.sender_id,
        created_after: args.created_after.clone(),
        created_before: args.created_before.clone(),
        recipient_email: args.recipient_email.clone(),
    }
}

/// Writes sends in a format, as they come.
struct Output {
    format: ListFormat,
    out: std::io::BufWriter<std::io::Stdout>,
    written: usize,
}

impl Output {
    fn new(format: ListFormat) -> Result<Output> {
        let mut output = Output {
            format,
            out: std::io::BufWriter::new(std::io::stdout()),
            written: 0,
        };
        match format {
            ListFormat::Json => output.out.write_all(b"[")?,
            ListFormat::Csv => output
                .out
                .write_all(api::csv::line(&api::csv::COLUMNS).as_bytes())?,
            ListFormat::Table => writeln!(
                output.out,
                "{:>10}  {:<28}  {:<20}  {:<25}  {:>10}  recipient",
                "id", "status", "type", "created_at", "cost"
            )?,
            ListFormat::Ndjson => {}
        }
        Ok(output)
    }

    fn send(&mut self, send: &api::Send) -> Result<()> {
        match self.format {
            ListFormat::Json => {
                if self.written > 0 {
                    self.out.write_all(b",")?;
                }
                serde_json::to_writer(&mut self.out, send)?;
            }
            ListFormat::Ndjson => {
                serde_json::to_writer(&mut self.out, send)?;
                self.out.write_all(b"\n")?;
            }
            ListFormat::Csv => self
                .out
                .write_all(api::csv::line(&api::csv::record(send)).as_bytes())?,
            ListFormat::Table => writeln!(
                self.out,
                "{:>10}  {:<28}  {:<20}  {:<25}  {:>10}  {}",
                send.id,
                send.status,
                send.send_type,
                send.created_at,
                send.current_total_cost,
                send.recipient.email
            )?,
        }
        self.written += 1;
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        if self.format == ListFormat::Json {
            self.out.write_all(b"]\n")?;
        }
        self.out.flush()?;
        Ok(())
    }
}

/// One page (the query's), or with `--all` every page with a progress bar on stderr.
async fn list(args: SendsListArgs) -> Result<()> {
    let client = client(&args.remote)?;
    let mut output = Output::new(args.format)?;
    if !args.all {
        let page = client.sends_page(&query(&args)).await?;
        for send in &page.sends {
            output.send(send)?;
        }
        return output.finish();
    }
    let progress = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} sends ({per_sec}, {eta} left)",
        )
        .expect("a valid template"),
    );
    progress.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    let mut pages = std::pin::pin!(client.pages(query(&args)));
    while let Some(page) = pages.next().await {
        let page = page?;
        progress.set_length(page.total_count);
        for send in &page.sends {
            output.send(send)?;
        }
        progress.inc(page.sends.len() as u64);
    }
    progress.finish_and_clear();
    output.finish()
}

/// The local copy `sync` keeps: the feed's cursor and every send by id.
#[derive(Debug, Default, Serialize, Deserialize)]
struct SyncState {
    /// The server the copy is of: a state file is never applied to another.
    url: String,
    cursor: Option<String>,
    sends: BTreeMap<i64, api::Send>,
}

#[derive(Debug, Serialize)]
struct SyncReport {
    changed: usize,
    total: usize,
    cursor: Option<String>,
}

/// Follows the change feed from the state file's cursor until caught up, saving the copy after
/// every answer (written to a temporary file, then renamed over the old one): an interrupted
/// sync loses nothing and the next continues where it stopped.
async fn sync(args: SendsSyncArgs) -> Result<()> {
    let client = client(&args.remote)?;
    let mut state = load_state(&args.state)?;
    let url = args.remote.url.to_string();
    if state.url.is_empty() {
        state.url = url.clone();
    } else if state.url != url {
        anyhow::bail!(
            "{} is a copy of {}, not of {url}; give another --state file",
            args.state.display(),
            state.url
        );
    }
    let mut changed = 0;
    let mut feed = std::pin::pin!(client.changes_stream(state.cursor.clone(), Some(args.limit)));
    while let Some(page) = feed.next().await {
        let page = page?;
        changed += page.sends.len();
        for send in page.sends {
            state.sends.insert(send.id, send);
        }
        state.cursor = Some(page.next_cursor);
        save_state(&args.state, &state)?;
    }
    let report = SyncReport {
        changed,
        total: state.sends.len(),
        cursor: state.cursor,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

fn load_state(path: &Path) -> Result<SyncState> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a sync state file", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SyncState::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn save_state(path: &Path, state: &SyncState) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file =
        std::fs::File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    let mut writer = std::io::BufWriter::new(&mut file);
    serde_json::to_writer(&mut writer, state)?;
    // A failed last write (a full disk) must stop here, before the good copy is replaced.
    writer.flush()?;
    drop(writer);
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}
