//! Wire types of the giftwire API: exactly the JSON that `GET /api/v3/send`, the other Core
//! endpoints (one module each) and the error envelope carry (`shared/spec/send-list.schema.json`, CONTRACT.md §2 and §5). Serde only, so
//! the server, the CLI and clients can share them.

use serde::{Deserialize, Serialize};

pub mod csv;
pub mod groups;
pub mod oauth;
pub mod scim;
pub mod touches;
pub mod users;
pub mod webhooks;

/// The response of `GET /api/v3/send` (Retrieve All Sends).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SendList {
    pub current_page: u32,
    pub per_page: u32,
    pub total_count: u64,
    pub sends: Vec<Send>,
}

/// A send as listed. Times are ISO 8601 strings in the organization's time zone; the cost is a
/// decimal string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Send {
    pub id: i64,
    pub send_gid: String,
    #[serde(rename = "type")]
    pub send_type: String,
    pub subtype: String,
    pub currency: String,
    pub current_total_cost: String,
    pub status: String,
    pub created_at: String,
    pub touch: TouchRef,
    pub recipient: Recipient,
    pub sender: Sender,
    pub sent_via: String,
    pub status_updates: Vec<StatusUpdate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TouchRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    pub name: String,
    pub email: String,
    pub company_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Sender {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub team_id: Option<i64>,
    pub team_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StatusUpdate {
    pub status: String,
    pub occurred_at: String,
}

/// The one error envelope: `{"success": false, "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub success: bool,
    pub message: String,
}

impl ErrorBody {
    pub fn new(message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            success: false,
            message: message.into(),
        }
    }
}

/// The response of `GET /api/v3/send/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SendShown {
    pub success: bool,
    pub send: Send,
}

/// The response of `GET /api/v3/send/changes` (ours): the sends changed after the cursor given,
/// and the cursor to continue from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangePage {
    pub sends: Vec<Send>,
    pub next_cursor: String,
}

/// The body of `POST /api/v3/send` (Create Send): `{"send": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateSend {
    pub send: NewSend,
}

/// What Create Send asks, in its three documented variants: a physical gift to a known address
/// (`via: single_person_or_company`, the address fields, `confirm_address: false`), a physical
/// gift with address collection (`no_address: true`, `confirm_address: true`,
/// `address_confirmation_via`, `expire_after_days`, ...), or an eGift by email
/// (`via: single_email_address`). Fields not given are left out of the JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSend {
    pub touch_id: i64,
    pub via: String,
    pub via_from: String,
    pub name: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_no: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_address: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_address: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_confirmation_via: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_with_unconfirmed_address: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_after_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_product_info: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_confirmation_custom_message: Option<String>,
}

/// The answer of Create Send: `tracking_url` for an eGift, `address_confirmation_link` for an
/// address collection by link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SendCreated {
    pub success: bool,
    pub message: String,
    pub tracking_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_confirmation_link: Option<String>,
}

/// The body of `POST /api/v3/send/{id}/status_updates` (fulfillment partners).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StatusReport {
    pub status: String,
    /// RFC 3339; now when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_total_cost: Option<String>,
}

/// The body of `POST /api/v3/send/generate_egift_links`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GenerateEgiftLinks {
    pub send: EgiftLinksOrder,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EgiftLinksOrder {
    /// Always `generate_egift_links`.
    pub via: String,
    pub via_from: String,
    pub touch_id: i64,
    pub recipient_users: Vec<LinkRecipient>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LinkRecipient {
    pub email: String,
}

/// The answer of Generate eGift Links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EgiftLinks {
    pub success: bool,
    pub message: String,
    pub egift_links: Vec<EgiftLink>,
    pub expiration_days: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EgiftLink {
    pub egift_link: String,
    pub recipient_email_or_phone_number: String,
}
