//! The routes, one module per resource, merged here; plus the answers for unknown routes and
//! methods, in the error envelope.

use std::collections::HashMap;

use axum::Router;
use axum::http::{Method, Uri};
use giftwire_core::PageRequest;

use crate::error::ApiError;
use crate::{AppState, query};

mod account;
mod docs;
mod groups;
mod invitations;
mod oauth;
mod recipient;
mod scim;
mod sends;
mod touches;
mod users;
mod webhooks;

/// Every route of the server, each with its documentation (the OpenAPI document is made from
/// the same registrations, see [`crate::openapi`]).
pub(crate) fn all() -> Routes {
    Routes::new()
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
        .merge(docs::routes())
}

pub fn router(state: AppState) -> Router {
    all()
        .into_router()
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// The routes of the server as they are registered: each documented one through
/// [`Routes::routes`], from the `#[utoipa::path]` of its handler (path, method, parameters,
/// responses and the handler itself come from that one place), and the few that cannot be
/// described (SCIM's catch-alls) through [`Routes::undocumented`], with the reason. There is no
/// other way to add a route, so a served route missing from the document shows in
/// [`Routes::undocumented_paths`] (the API suite checks that list, and probes every registered
/// path for methods the document does not name).
pub(crate) struct Routes {
    router: utoipa_axum::router::OpenApiRouter<AppState>,
    undocumented: Vec<(&'static str, &'static str)>,
}

impl Routes {
    fn new() -> Routes {
        Routes {
            router: utoipa_axum::router::OpenApiRouter::new(),
            undocumented: Vec::new(),
        }
    }

    /// Documented routes: `utoipa_axum::routes!(handler, ...)` of handlers sharing a path.
    pub(crate) fn routes(
        self,
        routes: utoipa_axum::router::UtoipaMethodRouter<AppState>,
    ) -> Routes {
        Routes {
            router: self.router.routes(routes),
            ..self
        }
    }

    /// A route the document cannot describe, and why.
    pub(crate) fn undocumented(
        mut self,
        path: &'static str,
        method_router: axum::routing::MethodRouter<AppState>,
        why: &'static str,
    ) -> Routes {
        self.undocumented.push((path, why));
        self.router = self.router.route(path, method_router);
        self
    }

    fn merge(mut self, other: Routes) -> Routes {
        self.undocumented.extend(other.undocumented);
        self.router = self.router.merge(other.router);
        self
    }

    /// The paths registered without documentation, with the reason given.
    pub(crate) fn undocumented_paths(&self) -> &[(&'static str, &'static str)] {
        &self.undocumented
    }

    /// The paths registered with documentation, as the document names them.
    pub(crate) fn documented_paths(&self) -> Vec<String> {
        self.router
            .get_openapi()
            .paths
            .paths
            .keys()
            .cloned()
            .collect()
    }

    pub(crate) fn into_openapi(self) -> utoipa::openapi::OpenApi {
        self.router.into_openapi()
    }

    fn into_router(self) -> Router<AppState> {
        self.router.split_for_parts().0
    }
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
