//! The webhook benchmark's two halves (bench/webhooks.sh runs them):
//!
//! - `receive LISTEN PATHS EXPECT`: a receiver answering 204 on `/e/0` … `/e/{PATHS-1}` (one
//!   path per endpoint); once EXPECT requests have arrived it prints the seconds from the first
//!   to the last, and exits.
//! - `lag LISTEN PATHS SERVER TOKEN TOUCH CLIENTS SECONDS`: the same receiver, and CLIENTS
//!   clients creating eGifts over HTTP for SECONDS; then, once every creation's `send.sent` has
//!   reached every path, the lag from each creation's answer to each arrival (percentiles).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;

#[derive(Default)]
struct Seen {
    first: Option<Instant>,
    last: Option<Instant>,
    count: usize,
    /// (send_gid, path) of each send.sent, when it arrived.
    sent: HashMap<(String, u32), Instant>,
}

async fn receive(
    State(seen): State<Arc<Mutex<Seen>>>,
    Path(path): Path<u32>,
    body: Bytes,
) -> StatusCode {
    let now = Instant::now();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut seen = seen.lock().unwrap();
    seen.first.get_or_insert(now);
    seen.last = Some(now);
    seen.count += 1;
    if body["type"] == "send.sent" {
        let gid = body["send_gid"].as_str().unwrap_or_default().to_owned();
        seen.sent.entry((gid, path)).or_insert(now);
    }
    StatusCode::NO_CONTENT
}

async fn start_receiver(listen: &str) -> Arc<Mutex<Seen>> {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let app = axum::Router::new()
        .route("/e/{n}", axum::routing::post(receive))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .expect("bind the receiver");
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    seen
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    giftwire_server::webhooks::install_tls();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("receive") => {
            let expect: usize = args[3].parse().unwrap();
            let seen = start_receiver(&args[1]).await;
            loop {
                tokio::time::sleep(Duration::from_millis(5)).await;
                let seen = seen.lock().unwrap();
                if seen.count >= expect {
                    let span = seen.last.unwrap() - seen.first.unwrap();
                    println!("{:.3}", span.as_secs_f64());
                    return;
                }
            }
        }
        Some("lag") => {
            let paths: u32 = args[2].parse().unwrap();
            let (server, token, touch) = (args[3].clone(), args[4].clone(), args[5].clone());
            let clients: usize = args[6].parse().unwrap();
            let seconds: u64 = args[7].parse().unwrap();
            let seen = start_receiver(&args[1]).await;
            let acked: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
            let until = Instant::now() + Duration::from_secs(seconds);
            let started = Instant::now();
            let mut tasks = Vec::new();
            for c in 0..clients {
                let (server, token, touch, acked) =
                    (server.clone(), token.clone(), touch.clone(), acked.clone());
                tasks.push(tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    let mut n = 0;
                    while Instant::now() < until {
                        n += 1;
                        let email = format!("r{c}-{n}@acme.com");
                        let body = format!(
                            r#"{{"send":{{"touch_id":{touch},"email":"{email}","name":"R {c} {n}","via":"single_email_address","via_from":"bench"}}}}"#
                        );
                        let answer: serde_json::Value = client
                            .post(format!("{server}/api/v3/send"))
                            .bearer_auth(&token)
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                            .await
                            .expect("the server answers")
                            .json()
                            .await
                            .expect("a JSON answer");
                        assert_eq!(answer["success"], true, "{answer}");
                        acked.lock().unwrap().push((email, Instant::now()));
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            let load = started.elapsed();
            // The answers carry no gid: the listing gives each recipient's.
            let client = reqwest::Client::new();
            let mut gids: HashMap<String, String> = HashMap::new();
            for page in 1.. {
                let listed: serde_json::Value = client
                    .get(format!("{server}/api/v3/send?per_page=100&page={page}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("the server answers")
                    .json()
                    .await
                    .expect("a page");
                let sends = listed["sends"].as_array().expect("sends");
                for send in sends {
                    gids.insert(
                        send["recipient"]["email"].as_str().unwrap().to_owned(),
                        send["send_gid"].as_str().unwrap().to_owned(),
                    );
                }
                if sends.len() < 100 {
                    break;
                }
            }
            let acked: Vec<(String, Instant)> = acked
                .lock()
                .unwrap()
                .iter()
                .map(|(email, at)| (gids[email].clone(), *at))
                .collect();
            let want = acked.len() * paths as usize;
            let deadline = Instant::now() + Duration::from_secs(120);
            loop {
                if seen.lock().unwrap().sent.len() >= want || Instant::now() > deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let seen = seen.lock().unwrap();
            let mut lags: Vec<f64> = Vec::with_capacity(want);
            for (gid, at) in &acked {
                for p in 0..paths {
                    if let Some(arrived) = seen.sent.get(&(gid.clone(), p)) {
                        lags.push(arrived.saturating_duration_since(*at).as_secs_f64() * 1000.0);
                    }
                }
            }
            lags.sort_by(f64::total_cmp);
            println!(
                "sends created {} ({:.0}/s over {:.1} s), send.sent deliveries {}/{} (all requests {}), \
                 lag ms p50 {:.0} p95 {:.0} p99 {:.0} max {:.0}",
                acked.len(),
                acked.len() as f64 / load.as_secs_f64(),
                load.as_secs_f64(),
                lags.len(),
                want,
                seen.count,
                percentile(&lags, 0.5),
                percentile(&lags, 0.95),
                percentile(&lags, 0.99),
                lags.last().copied().unwrap_or_default(),
            );
        }
        _ => {
            eprintln!(
                "usage: webhook_bench receive LISTEN PATHS EXPECT | lag LISTEN PATHS SERVER TOKEN TOUCH CLIENTS SECONDS"
            );
            std::process::exit(2);
        }
    }
}
