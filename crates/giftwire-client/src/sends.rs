//! Sends: the listing (a page, every page as a stream), the change feed, the export, one send,
//! Create Send, eGift links and fulfillment status reports.

use futures_util::Stream;
use reqwest::Method;

use crate::{Client, Error, MAX_PER_PAGE, api, encode_segment, idempotency_key};

/// Which sends a listing or a stream of pages reads: the documented `page`/`per_page`, and our
/// filters (see the server's README).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    pub statuses: Vec<String>,
    pub send_type: Option<String>,
    pub touch_id: Option<i64>,
    pub sender_id: Option<i64>,
    pub created_after: Option<String>,
    pub created_before: Option<String>,
    pub recipient_email: Option<String>,
}

impl ListQuery {
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = Some(per_page);
        self
    }

    /// Adds a status the sends may have (repeatable).
    pub fn status(mut self, status: impl Into<String>) -> Self {
        self.statuses.push(status.into());
        self
    }

    /// The query string's pairs, filters only (no `page`/`per_page`).
    pub(crate) fn filter_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs: Vec<(&'static str, String)> = self
            .statuses
            .iter()
            .map(|s| ("status", s.clone()))
            .collect();
        let mut add = |name: &'static str, value: Option<String>| {
            if let Some(v) = value {
                pairs.push((name, v));
            }
        };
        add("type", self.send_type.clone());
        add("touch_id", self.touch_id.map(|v| v.to_string()));
        add("sender_id", self.sender_id.map(|v| v.to_string()));
        add("created_after", self.created_after.clone());
        add("created_before", self.created_before.clone());
        add("recipient_email", self.recipient_email.clone());
        pairs
    }

    pub(crate) fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(page) = self.page {
            pairs.push(("page", page.to_string()));
        }
        if let Some(per_page) = self.per_page {
            pairs.push(("per_page", per_page.to_string()));
        }
        pairs.extend(self.filter_pairs());
        pairs
    }
}

impl Client {
    /// One page of the listing (`GET /api/v3/send`).
    pub async fn sends_page(&self, query: &ListQuery) -> Result<api::SendList, Error> {
        let pairs = query.pairs();
        self.get_json("api/v3/send", &pairs).await
    }

    /// Every send the query holds, page after page (100 a page unless the query says otherwise,
    /// from its page or the first), as one stream.
    pub fn all_sends(
        &self,
        query: ListQuery,
    ) -> impl Stream<Item = Result<api::Send, Error>> + use<> {
        use futures_util::{StreamExt as _, TryStreamExt as _};
        self.pages(query)
            .map_ok(|page| futures_util::stream::iter(page.sends.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// Every page the query holds, from its page (or the first), in order: as many pages as the
    /// first page's `total_count` makes (sends created meanwhile are not waited for; the change
    /// feed is what follows changes), fetched [`ClientBuilder::page_concurrency`] at a time (4 by
    /// default), stopping early at an empty page. Pages are by offset: a send that leaves a
    /// filter meanwhile shifts later pages.
    pub fn pages(
        &self,
        query: ListQuery,
    ) -> impl Stream<Item = Result<api::SendList, Error>> + use<> {
        use futures_util::{StreamExt as _, TryStreamExt as _};
        let per_page = query.per_page.unwrap_or(MAX_PER_PAGE);
        let first = query.page.unwrap_or(1);
        let concurrency = self.inner.page_concurrency;
        let client = self.clone();
        let head = {
            let (client, query) = (client.clone(), query.clone());
            async move {
                client
                    .sends_page(&query.page(first).per_page(per_page))
                    .await
            }
        };
        futures_util::stream::once(head)
            .map_ok(move |list| {
                // Pages after the first, up to the one holding the last send counted.
                let per = u64::from(list.per_page.max(1));
                let last = list.total_count.div_ceil(per).min(u64::from(u32::MAX)) as u32;
                let rest = if list.sends.is_empty() {
                    0..0
                } else {
                    first.saturating_add(1)..last.saturating_add(1)
                };
                let (client, query) = (client.clone(), query.clone());
                let rest = futures_util::stream::iter(rest)
                    .map(move |page| {
                        let (client, query) = (client.clone(), query.clone());
                        async move {
                            client
                                .sends_page(&query.page(page).per_page(per_page))
                                .await
                        }
                    })
                    .buffered(concurrency)
                    // A page emptied meanwhile (a filter's sends changing) ends the stream.
                    .try_take_while(|list| std::future::ready(Ok(!list.sends.is_empty())));
                futures_util::stream::once(std::future::ready(Ok(list)))
                    .try_filter(|list| std::future::ready(!list.sends.is_empty()))
                    .chain(rest)
            })
            .try_flatten()
    }

    /// One send, by id or `send_gid` (`GET /api/v3/send/{id}`).
    pub async fn send(&self, id: &str) -> Result<api::Send, Error> {
        let path = format!("api/v3/send/{}", encode_segment(id));
        let shown: api::SendShown = self.get_json(&path, &[]).await?;
        Ok(shown.send)
    }

    /// One call of the change feed (`GET /api/v3/send/changes`): the sends changed after
    /// `after` (from the beginning when `None`), at most `limit` (the server's default, 100,
    /// when `None`).
    pub async fn changes(
        &self,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<api::ChangePage, Error> {
        let mut pairs = Vec::new();
        if let Some(after) = after {
            pairs.push(("after", after.to_owned()));
        }
        if let Some(limit) = limit {
            pairs.push(("limit", limit.to_string()));
        }
        self.get_json("api/v3/send/changes", &pairs).await
    }

    /// The change feed from `after` until caught up: every answer in turn, the last one empty
    /// (its `next_cursor` is where to continue later), then the end of the stream.
    pub fn changes_stream(
        &self,
        after: Option<String>,
        limit: Option<u32>,
    ) -> impl Stream<Item = Result<api::ChangePage, Error>> + use<> {
        let client = self.clone();
        futures_util::stream::try_unfold(Some(after), move |state| {
            let client = client.clone();
            async move {
                let Some(after) = state else {
                    return Ok(None);
                };
                let page = client.changes(after.as_deref(), limit).await?;
                let next = (!page.sends.is_empty()).then(|| Some(page.next_cursor.clone()));
                Ok(Some((page, next)))
            }
        })
    }

    /// Create Send (`POST /api/v3/send`), with a fresh `Idempotency-Key` kept across retries.
    pub async fn create_send(&self, send: &api::NewSend) -> Result<api::SendCreated, Error> {
        let body = api::CreateSend { send: send.clone() };
        let key = idempotency_key();
        self.send_json(Method::POST, "api/v3/send", Some(&body), Some(&key))
            .await
    }

    /// Records a status change reported by a fulfillment partner
    /// (`POST /api/v3/send/{id}/status_updates`, scope fulfillment); the send afterwards.
    pub async fn report_status(
        &self,
        id: &str,
        report: &api::StatusReport,
    ) -> Result<api::Send, Error> {
        let path = format!("api/v3/send/{}/status_updates", encode_segment(id));
        let shown: api::SendShown = self
            .send_json(Method::POST, &path, Some(report), None)
            .await?;
        Ok(shown.send)
    }

    /// Generate eGift Links (`POST /api/v3/send/generate_egift_links`): one eGift and link per
    /// recipient, with an `Idempotency-Key` kept across retries.
    pub async fn generate_egift_links(
        &self,
        touch_id: i64,
        via_from: &str,
        emails: &[&str],
    ) -> Result<api::EgiftLinks, Error> {
        let body = api::GenerateEgiftLinks {
            send: api::EgiftLinksOrder {
                via: "generate_egift_links".to_owned(),
                via_from: via_from.to_owned(),
                touch_id,
                recipient_users: emails
                    .iter()
                    .map(|e| api::LinkRecipient {
                        email: (*e).to_owned(),
                    })
                    .collect(),
            },
        };
        let key = idempotency_key();
        self.send_json(
            Method::POST,
            "api/v3/send/generate_egift_links",
            Some(&body),
            Some(&key),
        )
        .await
    }

    /// Every send the query's filters hold, streamed by the server
    /// (`GET /api/v3/send/export`): NDJSON lines or CSV, as the bytes arrive (gzip is decoded
    /// when the HTTP client was built to).
    pub async fn export(
        &self,
        format: ExportFormat,
        query: &ListQuery,
    ) -> Result<impl Stream<Item = Result<bytes::Bytes, Error>> + use<>, Error> {
        use futures_util::TryStreamExt as _;
        let mut pairs = vec![("format", format.as_str().to_owned())];
        pairs.extend(query.filter_pairs());
        let url = self.url("api/v3/send/export", &pairs);
        let response = self
            .execute(|http, token| http.get(url.clone()).bearer_auth(token))
            .await?;
        Ok(response.bytes_stream().map_err(Error::Transport))
    }
}

/// The formats of the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Ndjson,
    Csv,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Ndjson => "ndjson",
            ExportFormat::Csv => "csv",
        }
    }
}
