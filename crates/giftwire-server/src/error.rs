//! The one API error type: each variant is what the client sees, with one status mapping and
//! one JSON envelope, `{"success": false, "message": ...}` (CONTRACT.md §2). Internal causes are
//! logged here, once, and never put in a body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use giftwire_api::ErrorBody;
use giftwire_core::{Scope, StoreError};

/// Every way a request can fail, as the client sees it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No usable `Authorization: Bearer` header.
    #[error("The access token is invalid")]
    MissingToken,
    /// A bearer token that is unknown, expired or revoked.
    #[error("The access token is invalid")]
    InvalidToken,
    /// A valid token without the scope the endpoint needs.
    #[error("This action requires the \"{0}\" scope, which the access token does not have")]
    Forbidden(Scope),
    #[error("{0}")]
    BadRequest(String),
    /// The message names what was not found (`Send not found`).
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("Not found")]
    NoRoute,
    /// A missing or foreign team group where the documentation answers `{"message": "Group not
    /// found!"}` without `success` (GET /api/v3/groups/{id}/members).
    #[error("Group not found!")]
    GroupNotFound,
    #[error("Method {method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
    #[error("{0}")]
    Conflict(String),
    #[error("The request body is larger than 1 MiB")]
    PayloadTooLarge,
    #[error("Rate limit exceeded: retry in {retry_after_secs} s")]
    RateLimited {
        retry_after_secs: u64,
        reset_at_unix: i64,
    },
    /// The request body did not arrive within the body timeout.
    #[error("The request body did not arrive in time")]
    BodyTimeout,
    #[error("The service is temporarily unavailable; retry shortly")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The request did not finish within the request timeout.
    #[error("The request took too long; retry shortly")]
    TimedOut,
    /// The server is serving as many connections as it may.
    #[error("The server is at its connection limit; retry shortly")]
    AtCapacity,
    #[error("Internal server error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(what),
            StoreError::Conflict(message) => ApiError::Conflict(message),
            StoreError::Refused(message) => ApiError::BadRequest(message),
            StoreError::Lifecycle(e) => ApiError::Conflict(e.to_string()),
            StoreError::Unavailable(source) => ApiError::Unavailable(source),
            StoreError::Internal(source) => ApiError::Internal(source),
        }
    }
}

impl ApiError {
    /// `"<field> can't be blank"`: a required body field is missing, null or empty.
    pub fn blank(field: &str) -> ApiError {
        ApiError::BadRequest(format!("{field} can't be blank"))
    }

    /// `"<field> is invalid"`: a body field has the wrong type or value.
    pub fn invalid(field: &str) -> ApiError {
        ApiError::BadRequest(format!("{field} is invalid"))
    }
}

/// Seconds a client should wait after a 503.
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 1;

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MissingToken | ApiError::InvalidToken => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) | ApiError::NoRoute | ApiError::GroupNotFound => {
                StatusCode::NOT_FOUND
            }
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unavailable(_) | ApiError::TimedOut | ApiError::AtCapacity => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn log(&self) {
        fn chain(e: &dyn std::error::Error) -> String {
            let mut out = e.to_string();
            let mut source = e.source();
            while let Some(s) = source {
                out.push_str(": ");
                out.push_str(&s.to_string());
                source = s.source();
            }
            out
        }
        match self {
            ApiError::Internal(e) => tracing::error!(cause = %chain(e.as_ref()), "internal error"),
            // While the database is known to be unreachable, its gate logged the outage once.
            ApiError::Unavailable(e) if e.is::<giftwire_core::Unreachable>() => {
                tracing::debug!(cause = %chain(e.as_ref()), "database unavailable")
            }
            ApiError::Unavailable(e) => {
                tracing::warn!(cause = %chain(e.as_ref()), "database unavailable")
            }
            ApiError::TimedOut => tracing::warn!("request timed out"),
            _ => {}
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let mut response = match &self {
            ApiError::GroupNotFound => json_response(
                self.status(),
                &giftwire_api::groups::GroupNotFound {
                    message: self.to_string(),
                },
            ),
            _ => json_response(self.status(), &ErrorBody::new(self.to_string())),
        };
        let headers = response.headers_mut();
        let mut set = |name, value: String| {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        };
        match &self {
            ApiError::MissingToken => set(
                header::WWW_AUTHENTICATE,
                r#"Bearer realm="giftwire""#.to_owned(),
            ),
            ApiError::InvalidToken => set(
                header::WWW_AUTHENTICATE,
                r#"Bearer realm="giftwire", error="invalid_token""#.to_owned(),
            ),
            ApiError::Forbidden(scope) => set(
                header::WWW_AUTHENTICATE,
                format!(r#"Bearer realm="giftwire", error="insufficient_scope", scope="{scope}""#),
            ),
            ApiError::RateLimited {
                retry_after_secs,
                reset_at_unix,
            } => {
                set(header::RETRY_AFTER, retry_after_secs.to_string());
                set(
                    header::HeaderName::from_static("x-rate-limit-reset"),
                    reset_at_unix.to_string(),
                );
            }
            ApiError::Unavailable(_) | ApiError::TimedOut | ApiError::AtCapacity => set(
                header::RETRY_AFTER,
                UNAVAILABLE_RETRY_AFTER_SECS.to_string(),
            ),
            // The rest of the body is not read: the connection cannot serve another request.
            ApiError::BodyTimeout => set(header::CONNECTION, "close".to_owned()),
            _ => {}
        }
        response
    }
}

/// A JSON response with the contract's content type, `application/json; charset=utf-8`.
pub fn json_response<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => json_bytes_response(status, bytes),
        Err(e) => {
            tracing::error!(error = %e, "cannot serialize a response");
            let fallback = br#"{"success":false,"message":"Internal server error"}"#.to_vec();
            json_bytes_response(StatusCode::INTERNAL_SERVER_ERROR, fallback)
        }
    }
}

/// Already-serialized JSON with the contract's content type.
pub fn json_bytes_response(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}
