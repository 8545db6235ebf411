//! `GET /api/v3/send/export` (our addition): every send the filters hold, streamed.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use giftwire_api as api;
use giftwire_core::store::SendRecord;
use giftwire_core::{OrgId, OrgTimeZone, Scope, SendFilter};

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::render;

/// Sends read, rendered and written at a time: what the export holds in memory, whatever the
/// organization's size.
const CHUNK: u32 = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Ndjson,
    Csv,
}

/// Streams the sends of the token's organization that the filters hold (the listing's filters),
/// ascending by id, as NDJSON (one listing send object per line, the default) or CSV (one row
/// per send, `status_updates` as a JSON array in its column). The answer starts before the
/// first send is read; gzip or brotli when asked (Accept-Encoding). Chunks are read one after
/// another, each in its own snapshot: a send created during the export is in it when it is
/// created before the export reaches its position, and each send shows its state when its chunk
/// was read.
#[utoipa::path(
    get,
    path = "/api/v3/send/export",
    tag = "Sends",
    operation_id = "export_sends",
    summary = "Export sends as NDJSON or CSV (a giftwire addition)",
    description = "Streams every send of the token's organization that the filters hold \
        (the listing's filters), ascending by id: NDJSON, one listing send object per line (the \
        default), or CSV with a header row and one row per send (`status_updates` as a JSON array \
        in its column; fields that a spreadsheet would read as a formula are prefixed with `'`). \
        The answer starts at once and takes constant memory; gzip or brotli on `Accept-Encoding`.",
    params(
        ("format" = Option<String>, Query, description = "`ndjson` (default) or `csv`", pattern = "^(ndjson|csv)$"),
        super::filter::SendFilterParams,
    ),
    security(("oauth2" = ["public"])),
    responses(
        (status = 200, description = "The sends, streamed",
            headers(("Content-Disposition" = String, description = "`attachment` with a file name")),
            content(
                (String = "application/x-ndjson"),
                (String = "text/csv"),
            )),
        (status = 400, description = "A parameter is repeated or has a value it cannot have", body = giftwire_api::ErrorBody),
    ),
    extensions(("x-giftwire-addition" = json!(true))),
)]
pub(super) async fn export_sends(
    auth: Authenticated,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Public)?;
    let mut names = vec!["format"];
    names.extend_from_slice(super::filter::SINGLE);
    let params = crate::query::single_values(raw.as_deref(), &names)?;
    let format = match params.get("format").map(String::as_str) {
        None | Some("ndjson") => Format::Ndjson,
        Some("csv") => Format::Csv,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "format must be ndjson or csv (got {other:?})"
            )));
        }
    };
    let filter = super::filter::parse(raw.as_deref(), &params, &principal.time_zone)?;
    let export = Export {
        state,
        org: principal.org_id,
        tz: principal.time_zone.clone(),
        filter,
        format,
    };
    let body = Body::from_stream(futures_util::stream::try_unfold(
        (export, Some(0u64), true),
        |(export, after, first)| async move {
            let Some(after) = after else {
                return Ok(None);
            };
            let chunk = export
                .state
                .store
                .export_chunk(export.org, &export.filter, after, CHUNK)
                .await?;
            let mut out = Vec::new();
            if first && export.format == Format::Csv {
                out.extend_from_slice(api::csv::line(&api::csv::COLUMNS).as_bytes());
            }
            export.render(&chunk.sends, &mut out)?;
            Ok::<_, ApiError>(Some((Bytes::from(out), (export, chunk.last, false))))
        },
    ));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    let (content_type, disposition) = match format {
        Format::Ndjson => (
            "application/x-ndjson",
            "attachment; filename=\"sends.ndjson\"",
        ),
        Format::Csv => (
            "text/csv; charset=utf-8",
            "attachment; filename=\"sends.csv\"",
        ),
    };
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static(disposition),
    );
    Ok(response)
}

struct Export {
    state: AppState,
    org: OrgId,
    tz: OrgTimeZone,
    filter: SendFilter,
    format: Format,
}

impl Export {
    fn render(&self, sends: &[SendRecord], out: &mut Vec<u8>) -> Result<(), ApiError> {
        let internal = |e: serde_json::Error| ApiError::Internal(Box::new(e));
        for record in sends {
            let send = render::send(record, &self.tz);
            match self.format {
                Format::Ndjson => {
                    serde_json::to_writer(&mut *out, &send).map_err(internal)?;
                    out.push(b'\n');
                }
                Format::Csv => {
                    out.extend_from_slice(api::csv::line(&api::csv::record(&send)).as_bytes());
                }
            }
        }
        Ok(())
    }
}
