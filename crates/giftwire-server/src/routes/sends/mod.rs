//! Sends: listing (`GET /api/v3/send`, also at `/api/v3/sends`, the plural clients get wrong),
//! creation (`POST /api/v3/send`, `POST /api/v3/send/generate_egift_links`), one send
//! (`GET /api/v3/send/{id}`) and its status changes (`POST /api/v3/send/{id}/status_updates`);
//! our additions: filters on the listing, the change feed (`GET /api/v3/send/changes`) and the
//! streaming export (`GET /api/v3/send/export`).

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

mod changes;
mod create;
mod export;
mod filter;
mod list;
mod show;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v3/send",
            get(list::list_sends).post(create::create_send),
        )
        .route("/api/v3/sends", get(list::list_sends))
        .route(
            "/api/v3/send/generate_egift_links",
            post(create::generate_egift_links),
        )
        .route("/api/v3/send/changes", get(changes::send_changes))
        .route("/api/v3/send/export", get(export::export_sends))
        .route("/api/v3/send/{id}", get(show::show_send))
        .route(
            "/api/v3/send/{id}/status_updates",
            post(show::record_status),
        )
}
