//! Sends: listing (`GET /api/v3/send`, also at `/api/v3/sends`, the plural clients get wrong),
//! creation (`POST /api/v3/send`, `POST /api/v3/send/generate_egift_links`), one send
//! (`GET /api/v3/send/{id}`) and its status changes (`POST /api/v3/send/{id}/status_updates`);
//! our additions: filters on the listing, the change feed (`GET /api/v3/send/changes`) and the
//! streaming export (`GET /api/v3/send/export`).

use utoipa_axum::routes;

use super::Routes;

mod changes;
mod create;
mod export;
mod filter;
mod list;
mod show;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .routes(routes!(list::list_sends, create::create_send))
        .routes(routes!(list::list_sends_plural))
        .routes(routes!(create::generate_egift_links))
        .routes(routes!(changes::send_changes))
        .routes(routes!(export::export_sends))
        .routes(routes!(show::show_send))
        .routes(routes!(show::record_status))
}
