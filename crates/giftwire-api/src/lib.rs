//! Wire types of the giftwire API: exactly the JSON that `GET /api/v3/send`, the other Core
//! endpoints (one module each) and the error envelope carry (`shared/spec/send-list.schema.json`, CONTRACT.md §2 and §5). Serde only, so
//! the server, the CLI and clients can share them.

use serde::{Deserialize, Serialize};

pub mod groups;
pub mod oauth;
pub mod scim;
pub mod touches;
pub mod users;
pub mod webhooks;

/// The response of `GET /api/v3/send` (Retrieve All Sends).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[serde(deny_unknown_fields)]
pub struct TouchRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    pub name: String,
    pub email: String,
    pub company_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sender {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub team_id: Option<i64>,
    pub team_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusUpdate {
    pub status: String,
    pub occurred_at: String,
}

/// The one error envelope: `{"success": false, "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
