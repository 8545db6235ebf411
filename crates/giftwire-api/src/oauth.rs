//! Wire types of the OAuth endpoints: the token response (Doorkeeper's shape, `API_REFERENCE.md`
//! §2.2) and the errors of RFC 6749 §5.2.

use serde::{Deserialize, Serialize};

/// The answer of `POST /oauth/token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[serde(deny_unknown_fields)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_scope` (or `server_error`).
    pub error: String,
    pub error_description: String,
}
