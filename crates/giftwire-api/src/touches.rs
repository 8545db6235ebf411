//! Touches (campaigns): `GET /api/v3/touches` and `GET /api/v3/touches/{id}` (API_REFERENCE.md §8).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Touch {
    pub id: i64,
    pub name: String,
    /// Midnight of the first day sends are accepted, in the organization's time zone.
    pub start_date: String,
    /// Midnight of the last day sends are accepted, or `null` for no end.
    pub end_date: Option<String>,
    pub description: String,
    pub created_at: String,
    /// Who made the touch; `null` when an operator made it for no user.
    pub user_id: Option<i64>,
    /// The catalog gift; `null` when none was recorded.
    pub gift_id: Option<i64>,
    pub starting_egift_price: Option<f64>,
    pub ending_egift_price: Option<f64>,
    /// Always `Active`: only active touches are shown.
    pub status: String,
    pub is_default_price: bool,
    pub delivery_type: String,
    pub hubspot_key: Option<String>,
    pub ship_to_countries: Vec<String>,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TouchList {
    pub current_page: u32,
    pub per_page: u32,
    pub total_posts: u64,
    pub touches: Vec<Touch>,
}

/// `GET /api/v3/touches/{id}`: `{"success": true, "touch": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TouchShown {
    pub success: bool,
    pub touch: Touch,
}
