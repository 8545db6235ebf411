//! SCIM 2.0 (RFC 7643/7644) at `/api/scim/v2`, for identity providers that provision users:
//! the discovery endpoints ([`discovery`]), `Users` ([`users`]) and their PATCH ([`patch`]).
//! Every answer is `application/scim+json`, errors included (`urn:…:Error` with `scimType`).
//! Only tokens with the `scim` scope, which is held alone, are let in.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use giftwire_api::scim as api;
use giftwire_core::store::Principal;
use giftwire_core::{Scope, StoreError};

use utoipa_axum::router::UtoipaMethodRouter;
use utoipa_axum::routes;

use super::Routes;
use crate::AppState;
use crate::auth::Authenticated;
use crate::body::JsonBody;
use crate::error::ApiError;

mod discovery;
mod patch;
mod users;

pub const BASE: &str = "/api/scim/v2";

pub(crate) fn routes() -> Routes {
    Routes::new()
        .routes(scim(routes!(discovery::service_provider_config)))
        .routes(scim(routes!(discovery::resource_types)))
        .routes(scim(routes!(discovery::resource_type)))
        .routes(scim(routes!(discovery::schemas)))
        .routes(scim(routes!(discovery::schema)))
        .routes(scim(routes!(users::list, users::create)))
        .routes(scim(routes!(
            users::show,
            users::replace,
            users::patch,
            users::delete
        )))
        .routes(scim(routes!(search)))
        .routes(scim(routes!(search_users)))
        .undocumented(
            "/api/scim/v2",
            any(no_resource),
            "SCIM's base path names no resource: a SCIM 404 for any method",
        )
        .undocumented(
            "/api/scim/v2/{*rest}",
            any(no_resource),
            "any other path under SCIM's base is a SCIM 404 (a path template cannot say \"the rest\")",
        )
}

/// A SCIM route answers a method it does not have in SCIM's error shape (after authentication).
fn scim(routes: UtoipaMethodRouter<AppState>) -> UtoipaMethodRouter<AppState> {
    let (schemas, paths, method_router) = routes;
    (schemas, paths, method_router.fallback(method_not_allowed))
}

/// A SCIM error: its status, `scimType` and `detail`, plus the headers the API's error of the
/// same case carries (`WWW-Authenticate`, `Retry-After`).
#[derive(Debug)]
pub struct ScimError {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
    headers: Box<axum::http::HeaderMap>,
}

impl ScimError {
    pub fn new(
        status: StatusCode,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
            headers: Box::default(),
        }
    }

    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::NOT_FOUND, None, detail)
    }
}

impl From<ApiError> for ScimError {
    fn from(e: ApiError) -> ScimError {
        let status = e.status();
        let detail = e.to_string();
        let scim_type = match &e {
            ApiError::BadRequest(_) => Some("invalidSyntax"),
            _ => None,
        };
        // The API's answer logs the cause once and carries the headers of the case.
        let headers = Box::new(e.into_response().headers().clone());
        ScimError {
            status,
            scim_type,
            detail,
            headers,
        }
    }
}

impl From<StoreError> for ScimError {
    fn from(e: StoreError) -> ScimError {
        match e {
            StoreError::NotFound(what) => ScimError::not_found(format!("{what} not found")),
            StoreError::Conflict(message) => {
                ScimError::new(StatusCode::CONFLICT, Some("uniqueness"), message)
            }
            StoreError::Refused(message) => ScimError::bad("invalidValue", message),
            other => ApiError::from(other).into(),
        }
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let body = api::Error {
            schemas: vec![api::ERROR_SCHEMA.to_owned()],
            status: self.status.as_u16().to_string(),
            scim_type: self.scim_type.map(str::to_owned),
            detail: self.detail,
        };
        let mut response = scim_json(self.status, &body);
        for (name, value) in self.headers.iter() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                response.headers_mut().insert(name.clone(), value.clone());
            }
        }
        response
    }
}

/// A SCIM body: JSON as `application/scim+json`.
pub fn scim_json<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    let mut response = crate::error::json_response(status, body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/scim+json; charset=utf-8"),
    );
    response
}

/// The principal of a request with a `scim` token, or the SCIM error that refuses it.
pub struct ScimAuth(pub std::sync::Arc<Principal>);

impl FromRequestParts<AppState> for ScimAuth {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ScimError> {
        let auth = Authenticated::from_request_parts(parts, state).await?;
        auth.require(Scope::Scim)?;
        Ok(ScimAuth(auth.0))
    }
}

impl ScimAuth {
    pub fn principal(&self) -> &Principal {
        &self.0
    }
}

async fn method_not_allowed(_auth: ScimAuth) -> ScimError {
    ScimError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        "This method is not allowed on this endpoint",
    )
}

#[utoipa::path(
    post,
    path = "/api/scim/v2/.search",
    tag = "SCIM",
    operation_id = "scim_search",
    summary = "Search with POST",
    description = "RFC 7644 §3.4.3: the parameters of `GET /api/scim/v2/Users` in a `SearchRequest` \
        body (users are the only resources).",
    request_body(content = api::SearchRequest, content_type = "application/scim+json"),
    security(("oauth2" = ["scim"])),
    responses(
        (status = 200, description = "A list response of users", body = api::ListResponse<api::User>, content_type = "application/scim+json"),
        (status = 400, description = "The body is not a search request, the filter cannot be read, or a value is invalid", body = api::Error, content_type = "application/scim+json"),
    ),
)]
async fn search(
    auth: ScimAuth,
    State(state): State<AppState>,
    body: Result<JsonBody, ApiError>,
) -> Result<Response, ScimError> {
    users::search(&auth, &state, body).await
}

#[utoipa::path(
    post,
    path = "/api/scim/v2/Users/.search",
    tag = "SCIM",
    operation_id = "scim_search_users",
    summary = "Search users with POST",
    description = "As `POST /api/scim/v2/.search`.",
    request_body(content = api::SearchRequest, content_type = "application/scim+json"),
    security(("oauth2" = ["scim"])),
    responses(
        (status = 200, description = "A list response of users", body = api::ListResponse<api::User>, content_type = "application/scim+json"),
        (status = 400, description = "The body is not a search request, the filter cannot be read, or a value is invalid", body = api::Error, content_type = "application/scim+json"),
    ),
)]
async fn search_users(
    auth: ScimAuth,
    State(state): State<AppState>,
    body: Result<JsonBody, ApiError>,
) -> Result<Response, ScimError> {
    users::search(&auth, &state, body).await
}

async fn no_resource(_auth: ScimAuth) -> ScimError {
    ScimError::not_found("No such SCIM endpoint")
}
