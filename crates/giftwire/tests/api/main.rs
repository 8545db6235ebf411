//! Black-box tests of the HTTP API: a real SQLite file per test, the real server on a free port,
//! requests over real HTTP.

#[path = "../common/db.rs"]
mod db;
#[path = "../common/http.rs"]
mod http;
#[path = "../common/record.rs"]
mod record;

mod auth;
mod balances;
mod browser;
mod caching;
mod client;
mod create;
mod errors;
mod events;
mod feed;
mod groups;
mod helpers;
mod invitations;
mod isolation;
mod list;
mod oauth;
mod oauth_client;
mod openapi;
mod pagination;
mod receiver;
mod recipient;
mod scim;
mod smtp;
mod store;
mod touches;
mod users;
mod webhooks;
mod worker;
