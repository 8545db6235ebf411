//! The OAuth token endpoints for the steps before a [`Client`](crate::Client) has a token (and
//! after): exchanging an authorization code (with its PKCE verifier) for tokens, and revoking a
//! token (RFC 7009). A client that holds a refresh token refreshes by itself
//! ([`ClientBuilder::oauth_refresh`](crate::ClientBuilder::oauth_refresh)).

use url::Url;

use crate::{Error, api};

/// `POST /oauth/token` and `POST /oauth/revoke` of one server, for one OAuth application.
#[derive(Clone)]
pub struct OAuthClient {
    http: reqwest::Client,
    base: Url,
    client_id: String,
    client_secret: Option<String>,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("base", &self.base.as_str())
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl OAuthClient {
    /// The application `client_id` (with its secret for a confidential client; `None` for a
    /// public one, which proves itself with PKCE) at the server at `base_url`.
    pub fn new(
        base_url: &str,
        client_id: impl Into<String>,
        client_secret: Option<String>,
    ) -> Result<OAuthClient, Error> {
        crate::install_tls();
        let mut base = Url::parse(base_url).map_err(|e| Error::Config(e.to_string()))?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(OAuthClient {
            http: crate::default_http_client()?,
            base,
            client_id: client_id.into(),
            client_secret,
        })
    }

    /// The HTTP client to use (a connection pool shared with others, say).
    pub fn with_http_client(mut self, http: reqwest::Client) -> OAuthClient {
        self.http = http;
        self
    }

    /// Exchanges an authorization code for tokens (`grant_type=authorization_code`).
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        code_verifier: Option<&str>,
    ) -> Result<api::oauth::TokenResponse, Error> {
        let request = api::oauth::TokenRequest {
            grant_type: "authorization_code".to_owned(),
            code: Some(code.to_owned()),
            redirect_uri: Some(redirect_uri.to_owned()),
            code_verifier: code_verifier.map(str::to_owned),
            ..self.credentials()
        };
        self.token(&request).await
    }

    /// New tokens for a refresh token (which is replaced: refresh tokens rotate).
    pub async fn refresh(&self, refresh_token: &str) -> Result<api::oauth::TokenResponse, Error> {
        let request = api::oauth::TokenRequest {
            grant_type: "refresh_token".to_owned(),
            refresh_token: Some(refresh_token.to_owned()),
            ..self.credentials()
        };
        self.token(&request).await
    }

    /// Revokes an access token, or a refresh token with every token of its grant. Revoking a
    /// token that does not exist succeeds, as RFC 7009 has it.
    pub async fn revoke(&self, token: &str) -> Result<(), Error> {
        let credentials = self.credentials();
        let request = api::oauth::RevokeRequest {
            token: token.to_owned(),
            token_type_hint: None,
            client_id: credentials.client_id,
            client_secret: credentials.client_secret,
        };
        let response = self
            .http
            .post(self.url("oauth/revoke"))
            .form(&request)
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(crate::api_error(response).await);
        }
        Ok(())
    }

    async fn token(
        &self,
        request: &api::oauth::TokenRequest,
    ) -> Result<api::oauth::TokenResponse, Error> {
        let response = self
            .http
            .post(self.url("oauth/token"))
            .form(request)
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(crate::api_error(response).await);
        }
        crate::decode(response).await
    }

    /// The client's credentials, in the body (RFC 6749 §2.3.1 allows it, and public clients
    /// have no other way).
    fn credentials(&self) -> api::oauth::TokenRequest {
        api::oauth::TokenRequest {
            client_id: Some(self.client_id.clone()),
            client_secret: self.client_secret.clone(),
            ..Default::default()
        }
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("a relative path")
    }
}
