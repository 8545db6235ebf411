//! How fast giftwire-client reads every send of an organization, against raw HTTP doing the same
//! requests (bench/client-paging.sh runs it):
//!
//! `client_paging URL TOKEN CONCURRENCY` fetches every page (`per_page=100`) twice, each time
//! CONCURRENCY requests at once on one connection pool: first as raw HTTP (the bytes of each
//! answer, nothing decoded), then through `Client::all_sends` (every page decoded into typed
//! sends, in order). Prints one JSON object with both durations and rates.

use std::time::Instant;

use futures_util::{StreamExt as _, TryStreamExt as _};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, token, concurrency] = args.as_slice() else {
        return Err("usage: client_paging URL TOKEN CONCURRENCY".into());
    };
    let concurrency: usize = concurrency.parse()?;
    giftwire_client::install_tls();
    let http = reqwest::Client::new();

    let first: serde_json::Value = http
        .get(format!("{url}/api/v3/send?per_page=100"))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    let total = first["total_count"].as_u64().ok_or("no total_count")?;
    let pages = total.div_ceil(100);

    let started = Instant::now();
    let bytes: u64 = futures_util::stream::iter(1..=pages)
        .map(|page| {
            let request = http
                .get(format!("{url}/api/v3/send?per_page=100&page={page}"))
                .bearer_auth(token);
            async move {
                let response = request.send().await?.error_for_status()?;
                Ok::<u64, reqwest::Error>(response.bytes().await?.len() as u64)
            }
        })
        .buffered(concurrency)
        .try_fold(0u64, |sum, n| async move { Ok(sum + n) })
        .await?;
    let raw = started.elapsed().as_secs_f64();

    let client = giftwire_client::Client::builder(url.as_str())
        .token(token.as_str())
        .page_concurrency(concurrency)
        .http_client(http.clone())
        .build()?;
    let started = Instant::now();
    let sends = client
        .all_sends(giftwire_client::ListQuery::default())
        .try_fold(0u64, |n, _| async move { Ok(n + 1) })
        .await?;
    let typed = started.elapsed().as_secs_f64();
    if sends != total {
        return Err(format!("the client read {sends} sends of {total}").into());
    }
    println!(
        "{}",
        serde_json::json!({
            "sends": total,
            "pages": pages,
            "concurrency": concurrency,
            "raw_seconds": raw,
            "raw_sends_per_second": total as f64 / raw,
            "raw_megabytes": bytes as f64 / 1e6,
            "client_seconds": typed,
            "client_sends_per_second": total as f64 / typed,
            "client_over_raw": raw / typed,
        })
    );
    Ok(())
}
