//! The API's own documentation (our additions): `GET /openapi.json`, the OpenAPI 3.1 document
//! made from the routes ([`crate::openapi`]), and `GET /docs`, Swagger UI over it, its files
//! built into the binary (no CDN: it works offline).

use std::sync::{Arc, LazyLock};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use utoipa_axum::routes;

use super::Routes;
use crate::error::ApiError;
use crate::query::PathParam;

/// What the documentation page may load: its own scripts and styles (Swagger UI sets inline
/// styles), images inline, and requests to ourselves ("Try it out").
const DOCS_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'";

pub(crate) fn routes() -> Routes {
    Routes::new()
        .routes(routes!(openapi_json))
        .routes(routes!(docs_root))
        .routes(routes!(docs_index))
        .routes(routes!(docs_file))
}

#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "Documentation",
    operation_id = "openapi",
    summary = "This document (a giftwire addition)",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)),
    extensions(("x-giftwire-addition" = json!(true))),
)]
async fn openapi_json() -> Response {
    let mut response = crate::openapi::document_bytes().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[utoipa::path(
    get,
    path = "/docs",
    tag = "Documentation",
    operation_id = "docs",
    summary = "The documentation page (a giftwire addition)",
    responses((status = 303, description = "To `/docs/`", headers(("Location" = String)))),
    extensions(("x-giftwire-addition" = json!(true))),
)]
async fn docs_root() -> Redirect {
    Redirect::to("/docs/")
}

#[utoipa::path(
    get,
    path = "/docs/",
    tag = "Documentation",
    operation_id = "docs_index",
    summary = "The documentation page (a giftwire addition)",
    description = "Swagger UI over `/openapi.json`, served from the binary.",
    responses((status = 200, description = "The page", body = String, content_type = "text/html")),
    extensions(("x-giftwire-addition" = json!(true))),
)]
async fn docs_index() -> Response {
    swagger_file("index.html")
}

#[utoipa::path(
    get,
    path = "/docs/{file}",
    tag = "Documentation",
    operation_id = "docs_file",
    summary = "A file of the documentation page (a giftwire addition)",
    params(("file" = String, Path, description = "`swagger-ui.css`, `swagger-ui-bundle.js`, `swagger-initializer.js`, ...")),
    responses(
        (status = 200, description = "The file", content(
            (String = "text/html"), (String = "text/css"), (String = "text/javascript"), (String = "image/png"),
        )),
        (status = 404, description = "No such file", body = giftwire_api::ErrorBody),
    ),
    extensions(("x-giftwire-addition" = json!(true))),
)]
async fn docs_file(PathParam(file): PathParam) -> Response {
    swagger_file(&file)
}

/// Swagger UI's configuration: the document, with "Try it out" against this server.
static CONFIG: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        utoipa_swagger_ui::Config::from("/openapi.json")
            .try_it_out_enabled(true)
            .display_operation_id(true),
    )
});

fn swagger_file(path: &str) -> Response {
    match utoipa_swagger_ui::serve(path, CONFIG.clone()) {
        Ok(Some(file)) => {
            let mut response = (StatusCode::OK, file.bytes.into_owned()).into_response();
            let headers = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&file.content_type) {
                headers.insert(header::CONTENT_TYPE, value);
            }
            if file.gzpipped {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(DOCS_POLICY),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response
        }
        Ok(None) => ApiError::NotFound("File").into_response(),
        Err(e) => ApiError::Internal(e.to_string().into()).into_response(),
    }
}
