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

/// The CSV header: the listing's fields, nested ones flattened, the history as JSON.
const CSV_COLUMNS: [&str; 20] = [
    "id",
    "send_gid",
    "type",
    "subtype",
    "currency",
    "current_total_cost",
    "status",
    "created_at",
    "touch_id",
    "touch_name",
    "recipient_name",
    "recipient_email",
    "recipient_company_name",
    "sender_id",
    "sender_name",
    "sender_email",
    "sender_team_id",
    "sender_team_name",
    "sent_via",
    "status_updates",
];

/// Streams the sends of the token's organization that the filters hold (the listing's filters),
/// ascending by id, as NDJSON (one listing send object per line, the default) or CSV (one row
/// per send, `status_updates` as a JSON array in its column). The answer starts before the
/// first send is read; gzip or brotli when asked (Accept-Encoding). Chunks are read one after
/// another, each in its own snapshot: a send created during the export is in it when it is
/// created before the export reaches its position, and each send shows its state when its chunk
/// was read.
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
                out.extend_from_slice(csv_line(CSV_COLUMNS.map(String::from)).as_bytes());
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
                    let history = serde_json::to_string(&send.status_updates).map_err(internal)?;
                    out.extend_from_slice(csv_line(csv_row(send, history)).as_bytes());
                }
            }
        }
        Ok(())
    }
}

fn csv_row(send: api::Send, history: String) -> [String; 20] {
    let opt = |v: Option<String>| v.unwrap_or_default();
    [
        send.id.to_string(),
        send.send_gid,
        send.send_type,
        send.subtype,
        send.currency,
        send.current_total_cost,
        send.status,
        send.created_at,
        send.touch.id.to_string(),
        send.touch.name,
        send.recipient.name,
        send.recipient.email,
        opt(send.recipient.company_name),
        send.sender.id.to_string(),
        send.sender.name,
        send.sender.email,
        opt(send.sender.team_id.map(|id| id.to_string())),
        opt(send.sender.team_name),
        send.sent_via,
        history,
    ]
}

/// One CSV record (RFC 4180, by the csv crate: quoted when it must be, CRLF line ends).
/// Fields that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
/// CR, and not a number) are prefixed with `'`, as OWASP advises against CSV injection.
fn csv_line<const N: usize>(fields: [String; N]) -> String {
    let fields = fields.map(|field| {
        if field.starts_with(['=', '+', '-', '@', '\t', '\r']) && field.parse::<f64>().is_err() {
            format!("'{field}")
        } else {
            field
        }
    });
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to memory cannot fail, and every field is UTF-8.
    let _ = writer.write_record(&fields);
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::csv_line;

    #[test]
    fn csv_fields_are_quoted_when_they_must_be_and_formulas_are_defused() {
        let line = csv_line([
            "plain".to_owned(),
            "a,b".to_owned(),
            "say \"hi\"".to_owned(),
            "two\nlines".to_owned(),
            "=HYPERLINK(\"x\")".to_owned(),
            "-12.5".to_owned(),
            "@SUM(A1)".to_owned(),
            String::new(),
        ]);
        assert_eq!(
            line,
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"'=HYPERLINK(\"\"x\"\")\",-12.5,'@SUM(A1),\r\n"
        );
    }
}
