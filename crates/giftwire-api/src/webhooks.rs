//! Webhooks (API_REFERENCE.md §10): the body giftwire posts to endpoints, and the management API
//! under `/api/v3/webhook_endpoints` (a giftwire addition: Sendoso has only a portal). Times are
//! ISO 8601 strings in the organization's time zone.

use serde::{Deserialize, Serialize};

/// What an endpoint receives: the documented two fields, plus (giftwire additions) the event
/// type and the send's status after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    pub send_gid: String,
    pub status_changed_at: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub status: String,
}

/// An endpoint as shown (never with its secret but once, see [`CreatedEndpoint`]). Not closed
/// to unknown fields: [`CreatedEndpoint`] flattens it beside `secret`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEndpoint {
    pub id: i64,
    pub url: String,
    /// The event types it receives, in the documentation's order (all 28 unless it chose some).
    pub events: Vec<String>,
    pub enabled: bool,
    pub description: String,
    /// `manual` or `failing` (5 days of failed deliveries) for a disabled endpoint.
    pub disabled_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// An endpoint just created, with its signing secret: the only time it is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedEndpoint {
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EndpointList {
    pub current_page: u32,
    pub per_page: u32,
    pub total_endpoints: u64,
    pub endpoints: Vec<WebhookEndpoint>,
}

/// A new secret after a rotation (the previous one keeps signing for 24 hours).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RotatedSecret {
    pub id: i64,
    pub secret: String,
}

/// One delivery of an event to an endpoint, as its last attempt left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookDelivery {
    pub event_id: i64,
    pub event_type: String,
    pub send_gid: String,
    /// Attempts made.
    pub attempt: u32,
    /// The last attempt's HTTP status; `null` before one, or when no response came.
    pub status_code: Option<u16>,
    pub latency_ms: Option<u32>,
    /// `pending`, `delivered` or `failed` (given up after the last retry).
    pub state: String,
    /// When a pending delivery is tried next.
    pub next_attempt_at: Option<String>,
    /// Why the last attempt failed (a giftwire addition).
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeliveryList {
    pub current_page: u32,
    pub per_page: u32,
    pub total_deliveries: u64,
    pub deliveries: Vec<WebhookDelivery>,
}

/// The body of `POST /api/v3/webhook_endpoints`: every event type when `events` is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The body of `PATCH /api/v3/webhook_endpoints/{id}`: what is absent keeps its value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EndpointChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}
