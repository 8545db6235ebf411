//! Wire types of the OAuth endpoints: the token response (Doorkeeper's shape, `API_REFERENCE.md`
//! §2.2) and the errors of RFC 6749 §5.2.

use serde::{Deserialize, Serialize};

/// The answer of `POST /oauth/token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the access token works (7200).
    pub expires_in: i64,
    pub refresh_token: String,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// When the token was issued, in Unix seconds.
    pub created_at: i64,
}

/// An error of the token and revocation endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_scope` (or `server_error`).
    pub error: String,
    pub error_description: String,
}

/// The form body of `POST /oauth/token` (`application/x-www-form-urlencoded`): an authorization
/// code grant (`code`, `redirect_uri`, `code_verifier`) or a refresh (`refresh_token`, optionally
/// a narrower `scope`). The client authenticates with HTTP Basic, or with `client_id` (and
/// `client_secret` for a confidential client) here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenRequest {
    /// `authorization_code` or `refresh_token`.
    pub grant_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_verifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// The form body of `POST /oauth/revoke` (RFC 7009).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokeRequest {
    /// The access or refresh token to revoke.
    pub token: String,
    /// `access_token` or `refresh_token` (a hint only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type_hint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}
