//! The routes, one module per resource, merged here; plus the answers for unknown routes and
//! methods, in the error envelope.

use axum::Router;
use axum::http::{Method, Uri};

use crate::AppState;
use crate::error::ApiError;

mod account;
mod oauth;
mod recipient;
mod sends;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(sends::routes())
        .merge(recipient::routes())
        .merge(account::routes())
        .merge(oauth::routes())
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
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
