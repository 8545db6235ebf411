//! The OAuth 2.0 authorization server (RFC 6749, the authorization code grant; PKCE per
//! RFC 7636; RFC 7009 revocation; the OAuth 2.0 Security BCP, RFC 9700):
//!
//! - `GET /oauth/authorize`: checks the request, sends a browser that is not signed in to the
//!   sign-in page and back, then shows the consent page.
//! - `POST /oauth/authorize`: the consent form; checks everything again, then redirects (303)
//!   with a code, or with `error=access_denied`.
//! - `GET /oauth/authorize/native?code=…`: the code of an out-of-band client, in a `<code>`.
//! - `POST /oauth/token`: the `authorization_code` and `refresh_token` grants.
//! - `POST /oauth/revoke`: revokes an access or refresh token (the whole family for the latter).
//!
//! An unknown client or a redirect URI that is not exactly a registered one is never redirected
//! to: it gets a 400 page. Codes, tokens and secrets are stored as SHA-256 hashes.

use std::collections::HashMap;

use utoipa_axum::routes;

use super::Routes;

mod authorize;
mod token;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .routes(routes!(authorize::authorize_page, authorize::decide))
        .routes(routes!(authorize::native_page))
        .routes(routes!(token::token))
        .routes(routes!(token::revoke))
}

/// Parameters of a query string or form body. A parameter given twice is refused (RFC 6749
/// §3.1).
pub(super) type Params = HashMap<String, String>;

pub(super) fn parse_params(raw: &[u8]) -> Result<Params, String> {
    let mut params = Params::new();
    for (key, value) in form_urlencoded::parse(raw) {
        if params.insert(key.to_string(), value.into_owned()).is_some() {
            return Err(format!("the parameter {key:?} is given more than once"));
        }
    }
    Ok(params)
}

pub(super) fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}
