//! Users: `GET /api/v3/me`, `GET /api/v3/users`, `GET /api/v3/users/{id}` and the invitation
//! answer of `POST /api/v3/users` (API_REFERENCE.md §6). Ids are integers, as every example shows
//! them (the reference types some as strings).

use serde::{Deserialize, Serialize};

/// `GET /api/v3/me`: the token's user. `balance` is a decimal string, `team_balance` the whole
/// part of what the user's team (or, in no team, the user) may still spend, as documented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Me {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub role: String,
    pub balance: String,
    pub team_balance: i64,
}

/// A user as `GET /api/v3/users` lists it (and `GET /api/v3/users/{id}` shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// `null` for a user in no team.
    pub team_group_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserList {
    pub current_page: u32,
    pub per_page: u32,
    pub total_users: u64,
    pub users: Vec<User>,
}

/// The 201 answer of `POST /api/v3/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Invited {
    pub success: bool,
    pub message: String,
    pub receiver_email: String,
    pub team_group_id: i64,
    pub user_role: String,
    /// `pending`, `accepted` or `expired`.
    pub invitation_status: String,
    pub expires_at: String,
}

/// The body of `POST /api/v3/users` (Invite New User): `{"user": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Invite {
    pub user: NewUser,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// `regular` or `manager`.
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_group_id: Option<i64>,
}
