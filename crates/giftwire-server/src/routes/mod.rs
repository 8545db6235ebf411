//! The routes, one module per resource, merged here; plus the answers for unknown routes and
//! methods, in the error envelope.

use std::collections::HashMap;

use axum::Router;
use axum::http::{Method, Uri};
use giftwire_core::PageRequest;

use crate::error::ApiError;
use crate::{AppState, query};

mod account;
mod groups;
mod invitations;
mod oauth;
mod recipient;
mod scim;
mod sends;
mod touches;
mod users;
mod webhooks;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(sends::routes())
        .merge(users::routes())
        .merge(groups::routes())
        .merge(touches::routes())
        .merge(webhooks::routes())
        .merge(scim::routes())
        .merge(recipient::routes())
        .merge(account::routes())
        .merge(invitations::routes())
        .merge(oauth::routes())
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

pub(crate) use scim::BASE as SCIM_BASE;

/// An API error answered as SCIM answers errors (for the SCIM paths).
pub(crate) fn scim_error(e: ApiError) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    scim::ScimError::from(e).into_response()
}

/// The page a list's query asks for (CONTRACT.md §4), and the list's own parameters among
/// `known` (each given at most once).
pub(crate) fn page_request(
    raw: Option<&str>,
    known: &[&'static str],
) -> Result<(PageRequest, HashMap<&'static str, String>), ApiError> {
    let mut names = vec!["page", "per_page"];
    names.extend_from_slice(known);
    let params = query::single_values(raw, &names)?;
    let page = PageRequest::parse(
        params.get("page").map(String::as_str),
        params.get("per_page").map(String::as_str),
    )
    .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok((page, params))
}

/// A numeric id in a path (`/api/v3/touches/42`); anything else names nothing (a 404).
pub(crate) fn numeric_id(raw: &str) -> Option<i64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

async fn no_route() -> ApiError {
    ApiError::NoRoute
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}
