//! `GET /api/v3/send` (Retrieve All Sends).

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use giftwire_core::{PageRequest, Scope};

use crate::AppState;
use crate::auth::Authenticated;
use crate::cache::PageKey;
use crate::error::{ApiError, json_bytes_response};
use crate::render;

/// Every send of the token's organization, a page at a time, ascending by id; with filters
/// (see [`super::filter`]), those the filters hold, with their exact count.
///
/// Without filters, the `sends` array of a page is reused from the page cache while the page's version (read
/// first, in one indexed range read) is unchanged; otherwise the page is read and rendered.
#[utoipa::path(
    get,
    path = "/api/v3/send",
    tag = "Sends",
    operation_id = "list_sends",
    summary = "Retrieve All Sends",
    description = "Every send of the token's organization, a page at a time, ascending by id. \
        The filters are giftwire additions: with any of them, the sends they all hold (several \
        `status` values: any of them), with `total_count` their exact number. Unknown parameters \
        are ignored; a parameter other than `status` given twice is a 400.",
    params(crate::openapi::PageParams, super::filter::SendFilterParams),
    security(("oauth2" = ["public"])),
    responses(
        (status = 200, description = "A page of sends", body = giftwire_api::SendList),
        (status = 400, description = "A parameter is repeated or has a value it cannot have (the message says which and what is expected)", body = giftwire_api::ErrorBody),
    )
)]
pub(super) async fn list_sends(
    auth: Authenticated,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Public)?;
    let (page, params) = super::super::page_request(raw.as_deref(), super::filter::SINGLE)?;
    let filter = super::filter::parse(raw.as_deref(), &params, &principal.time_zone)?;
    let org = principal.org_id;
    if !filter.is_empty() {
        let listed = state.store.filtered_sends(org, &filter, page).await?;
        let sends = render::send_array(&listed.sends, &principal.time_zone)
            .map_err(|e| ApiError::Internal(Box::new(e)))?;
        return Ok(json_bytes_response(
            StatusCode::OK,
            page_body(page, listed.total, &sends),
        ));
    }

    let cached = if state.caches.pages_enabled() {
        let version = state.store.page_version(org, page).await?;
        state
            .caches
            .page(&PageKey::new(org, page, &version))
            .map(|sends| (version.total, sends))
    } else {
        None
    };
    let (total, sends) = match cached {
        Some(hit) => hit,
        None => {
            let listed = state.store.list_sends(org, page).await?;
            let sends = Bytes::from(
                render::send_array(&listed.sends, &principal.time_zone)
                    .map_err(|e| ApiError::Internal(Box::new(e)))?,
            );
            if !listed.sends.is_empty() {
                state
                    .caches
                    .remember_page(PageKey::new(org, page, &listed.version), sends.clone());
            }
            (listed.total(), sends)
        }
    };
    Ok(json_bytes_response(
        StatusCode::OK,
        page_body(page, total, &sends),
    ))
}

/// `GET /api/v3/sends`: the listing under the plural some clients use.
#[utoipa::path(
    get,
    path = "/api/v3/sends",
    tag = "Sends",
    operation_id = "list_sends_plural",
    summary = "Retrieve All Sends (plural path)",
    description = "The same as `GET /api/v3/send`, at the plural path some clients call.",
    params(crate::openapi::PageParams, super::filter::SendFilterParams),
    security(("oauth2" = ["public"])),
    responses(
        (status = 200, description = "A page of sends", body = giftwire_api::SendList),
        (status = 400, description = "A parameter is repeated or has a value it cannot have", body = giftwire_api::ErrorBody),
    )
)]
pub(super) async fn list_sends_plural(
    auth: Authenticated,
    state: State<AppState>,
    raw: RawQuery,
) -> Result<Response, ApiError> {
    list_sends(auth, state, raw).await
}

/// `{"current_page":..,"per_page":..,"total_count":..,"sends":[..]}` around a rendered array.
fn page_body(page: PageRequest, total: u64, sends: &[u8]) -> Vec<u8> {
    let head = format!(
        r#"{{"current_page":{},"per_page":{},"total_count":{total},"sends":"#,
        page.page(),
        page.per_page()
    );
    let mut body = Vec::with_capacity(head.len() + sends.len() + 1);
    body.extend_from_slice(head.as_bytes());
    body.extend_from_slice(sends);
    body.push(b'}');
    body
}
