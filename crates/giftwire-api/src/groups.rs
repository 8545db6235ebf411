//! Team groups: `GET /api/v3/groups` and `GET /api/v3/groups/{id}/members` (API_REFERENCE.md §7),
//! with the documented mix of types (`monthly_budget` a string, `budget` an integer).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: i64,
    /// The whole part of what the team's active users may still spend together.
    pub budget: i64,
    pub created_at: String,
    pub monthly_budget: String,
    pub name: String,
    pub one_time_budget: i64,
    pub rollover: bool,
    /// The organization's id.
    pub team_id: i64,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GroupList {
    pub current_page: u32,
    pub per_page: u32,
    pub total_groups: u64,
    pub groups: Vec<Group>,
}

/// One element of the bare array `GET /api/v3/groups/{id}/members` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub balance: String,
    pub sandbox: bool,
    pub team_group_id: i64,
    pub team_id: i64,
    /// 32 hex characters (the reference types it as an integer; its example is this string).
    pub key: String,
}

/// The documented 404 of the members endpoint: `{"message": "Group not found!"}`, no `success`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GroupNotFound {
    pub message: String,
}
