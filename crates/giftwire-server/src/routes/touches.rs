//! Touches (campaigns): `GET /api/v3/touches` (active ones, paged, `delivery_type` `mail` or
//! `email`) and `GET /api/v3/touches/{id}` (`{"success": true, "touch": {...}}`; a missing,
//! foreign or inactive touch is `404 "Touch not found"`).

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use giftwire_api::touches::{TouchList, TouchShown};
use giftwire_core::{DeliveryType, InvalidValue, Scope, TouchId};

use super::{numeric_id, page_request};
use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, json_response};
use crate::render;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v3/touches", get(list_touches))
        .route("/api/v3/touches/{id}", get(show_touch))
}

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

async fn show_touch(
    auth: Authenticated,
    State(state): State<AppState>,
    Path(raw): Path<String>,
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
