//! Touches (campaigns): `GET /api/v3/touches` (active ones, paged, `delivery_type` `mail` or
//! `email`) and `GET /api/v3/touches/{id}` (`{"success": true, "touch": {...}}`; a missing,
//! foreign or inactive touch is `404 "Touch not found"`).

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use giftwire_api::touches::{TouchList, TouchShown};
use giftwire_core::{DeliveryType, InvalidValue, Scope, TouchId};

use utoipa_axum::routes;

use super::{Routes, numeric_id, page_request};
use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, json_response};
use crate::query::PathParam;
use crate::render;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .routes(routes!(list_touches))
        .routes(routes!(show_touch))
}

#[utoipa::path(
    get,
    path = "/api/v3/touches",
    tag = "Touches",
    operation_id = "list_touches",
    summary = "List touches",
    description = "The active touches (campaigns) of the token's organization, a page at a time.",
    params(
        crate::openapi::PageParams,
        ("delivery_type" = Option<String>, Query, pattern = "^(mail|email)$", description = "Only touches delivered this way: `mail` (physical) or `email` (eGifts)"),
    ),
    security(("oauth2" = ["public"])),
    responses(
        (status = 200, description = "A page of touches", body = giftwire_api::touches::TouchList),
        (status = 400, description = "A parameter is repeated or has a value it cannot have", body = giftwire_api::ErrorBody),
    ),
)]
async fn list_touches(
    auth: Authenticated,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Public)?;
    let (page, params) = page_request(raw.as_deref(), &["delivery_type"])?;
    let delivery = params
        .get("delivery_type")
        .map(|v| {
            v.parse::<DeliveryType>()
                .map_err(|_| InvalidValue::new("delivery_type", v))
        })
        .transpose()
        .map_err(|e| ApiError::BadRequest(format!("{e}: it must be mail or email")))?;
    let listed = state
        .store
        .active_touches(principal.org_id, page, delivery)
        .await?;
    let body = TouchList {
        current_page: page.page(),
        per_page: page.per_page(),
        total_posts: listed.total,
        touches: listed
            .items
            .iter()
            .map(|t| render::touch(t, &principal.time_zone))
            .collect(),
    };
    Ok(json_response(StatusCode::OK, &body))
}

#[utoipa::path(
    get,
    path = "/api/v3/touches/{id}",
    tag = "Touches",
    operation_id = "show_touch",
    summary = "One touch",
    description = "An active touch of the token's organization.",
    params(("id" = String, Path, description = "The touch's id")),
    security(("oauth2" = ["public"])),
    responses(
        (status = 200, description = "The touch", body = giftwire_api::touches::TouchShown),
        (status = 404, description = "No active touch of the organization has this id", body = giftwire_api::ErrorBody),
    ),
)]
async fn show_touch(
    auth: Authenticated,
    State(state): State<AppState>,
    PathParam(raw): PathParam,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Public)?;
    let id = numeric_id(&raw).ok_or(ApiError::NotFound("Touch"))?;
    let touch = state
        .store
        .touch(principal.org_id, TouchId::new(id))
        .await?;
    if !touch.active {
        return Err(ApiError::NotFound("Touch"));
    }
    let body = TouchShown {
        success: true,
        touch: render::touch(&touch, &principal.time_zone),
    };
    Ok(json_response(StatusCode::OK, &body))
}
