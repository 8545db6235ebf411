//! What a request's URL carries: query strings (CONTRACT.md §1: unknown parameters are ignored;
//! a known one given twice is a 400) and path parameters.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse as _, Response};

use crate::error::ApiError;

/// A route's one path parameter, percent-decoded. One that does not decode to UTF-8 names
/// nothing: the path is answered as one no route has (the envelope's 404, SCIM's under its
/// base, the pages' HTML one elsewhere), never axum's plain-text 400.
#[derive(Debug, Clone)]
pub struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(PathParam(value)),
            Err(_) => Err(nothing_at(parts.uri.path())),
        }
    }
}

/// The answer for a path that names nothing, in the shape its part of the server answers in.
fn nothing_at(path: &str) -> Response {
    if path.starts_with(crate::routes::SCIM_BASE) {
        crate::routes::scim_error(ApiError::NotFound("Resource"))
    } else if path.starts_with("/api/") {
        ApiError::NoRoute.into_response()
    } else {
        crate::pages::not_found()
    }
}

/// The values of the `known` parameters of a raw query string, each given at most once.
pub fn single_values(
    raw: Option<&str>,
    known: &[&'static str],
) -> Result<HashMap<&'static str, String>, ApiError> {
    let mut values: HashMap<&'static str, String> = HashMap::new();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let Some(name) = known.iter().copied().find(|k| *k == key) else {
            continue;
        };
        if let Some(first) = values.get(name) {
            return Err(ApiError::BadRequest(format!(
                "{name} must be given at most once (got {first:?} and {value:?})"
            )));
        }
        values.insert(name, value.into_owned());
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_parameters_are_ignored_and_values_are_decoded() {
        let v = single_values(
            Some("page=2&foo=1&foo=2&per_page=%31%30"),
            &["page", "per_page"],
        )
        .unwrap();
        assert_eq!(v["page"], "2");
        assert_eq!(v["per_page"], "10");
        assert!(single_values(None, &["page"]).unwrap().is_empty());
    }

    #[test]
    fn a_known_parameter_given_twice_is_refused() {
        let err = single_values(Some("page=1&page=2"), &["page"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"page must be given at most once (got "1" and "2")"#
        );
    }
}
