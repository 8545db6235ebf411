//! The authorization server as a standard client library sees it: the `oauth2` crate, given only
//! our URLs and a registered client, gets a code (our cookie-keeping client plays the person's
//! browser: it signs in and presses Allow on the page the library's URL leads to), exchanges it
//! with PKCE, lists sends with the token, refreshes it and revokes it.

use std::collections::HashMap;
use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest, HttpResponse,
    PkceCodeChallenge, RedirectUrl, RequestTokenError, RevocationUrl, Scope,
    StandardRevocableToken, TokenResponse, TokenUrl,
};

use crate::helpers::{Backend, TestApp, backend_tests, spawn};
use crate::oauth::{browser, consent_form, location, register, sign_in_from, with_password};

const CALLBACK: &str = "https://crm.example/oauth/callback";

/// The library's HTTP client, on the test's reqwest (which follows no redirects, as the library
/// advises against SSRF).
///
/// The library refuses a revocation URL that is not `https` (RFC 7009 §2), so it is given the
/// server's address with `https://`; this client, standing in for the TLS termination a real
/// deployment has in front of the server, speaks plain `http` to it.
async fn send(
    client: reqwest::Client,
    request: HttpRequest,
) -> Result<HttpResponse, reqwest::Error> {
    let mut request = reqwest::Request::try_from(request)?;
    if request.url().scheme() == "https" {
        request
            .url_mut()
            .set_scheme("http")
            .expect("https and http are interchangeable schemes");
    }
    let response = client.execute(request).await?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await?.to_vec();
    let mut answer = HttpResponse::new(body);
    *answer.status_mut() = status;
    *answer.headers_mut() = headers;
    Ok(answer)
}

async fn api(app: &TestApp, token: &str) -> u16 {
    app.get_raw("/api/v3/send", Some(&format!("Bearer {token}")))
        .await
        .status()
        .as_u16()
}

/// The whole flow, for a confidential client (secret, HTTP Basic) or a public one (PKCE alone).
async fn the_library_runs_the_whole_flow(backend: Backend, confidential: bool) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    app.create_sends(&org, 2).await;
    with_password(&app, &org.user).await;
    let registered = register(
        &app,
        &org,
        "Pipeline CRM",
        CALLBACK,
        "public write",
        confidential,
    )
    .await;

    // The library knows our URLs and its registration, nothing else.
    let mut library = BasicClient::new(ClientId::new(registered.id.clone()))
        .set_auth_uri(AuthUrl::new(app.url("/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(app.url("/oauth/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(CALLBACK.to_owned()).unwrap())
        .set_revocation_url(
            RevocationUrl::new(app.url("/oauth/revoke").replacen("http://", "https://", 1))
                .unwrap(),
        );
    if let Some(secret) = &registered.secret {
        library = library.set_client_secret(ClientSecret::new(secret.clone()));
    }
    let backchannel = crate::http::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let http = |request: HttpRequest| send(backchannel.clone(), request);

    // The library's authorization URL, opened in a browser where nobody is signed in yet.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = library
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("public".to_owned()))
        .add_scope(Scope::new("write".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    let browser = browser();
    let response = browser.get(url.as_str()).send().await.unwrap();
    let page = sign_in_from(&app, &browser, response, &org.user.email).await;
    let mut fields = consent_form(&page).hidden;
    fields.push(("decision".to_owned(), "allow".to_owned()));
    let response = browser
        .post(app.url("/oauth/authorize"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let back = location(&response);
    assert!(back.starts_with(&format!("{CALLBACK}?")), "{back}");
    let params: HashMap<String, String> = url::Url::parse(&back)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(params.get("state"), Some(state.secret()));

    // The library exchanges the code with its verifier.
    let tokens = library
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("the code is exchanged");
    assert_eq!(*tokens.token_type(), BasicTokenType::Bearer);
    assert_eq!(tokens.expires_in(), Some(Duration::from_secs(7200)));
    let scopes: Vec<&str> = tokens
        .scopes()
        .expect("the scopes granted")
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(scopes, ["public", "write"]);
    let access = tokens.access_token().secret();
    let (status, _, body) = app.get("/api/v3/send", access).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total_count"], 2);

    // It refreshes: a new pair, and the old access token is dead.
    let first_refresh = tokens.refresh_token().expect("a refresh token");
    let renewed = library
        .exchange_refresh_token(first_refresh)
        .request_async(&http)
        .await
        .expect("the token is refreshed");
    let renewed_access = renewed.access_token().secret();
    assert_ne!(renewed_access, access);
    assert_eq!(api(&app, access).await, 401);
    assert_eq!(api(&app, renewed_access).await, 200);

    // It revokes the new access token: a 401 at once.
    library
        .revoke_token(StandardRevocableToken::AccessToken(
            renewed.access_token().clone(),
        ))
        .expect("an https revocation URL")
        .request_async(&http)
        .await
        .expect("the token is revoked");
    assert_eq!(api(&app, renewed_access).await, 401);

    // The spent refresh token comes back as an error the library understands.
    match library
        .exchange_refresh_token(first_refresh)
        .request_async(&http)
        .await
    {
        Err(RequestTokenError::ServerResponse(error)) => {
            assert_eq!(*error.error(), BasicErrorResponseType::InvalidGrant);
        }
        other => panic!("a spent refresh token is refused: {other:?}"),
    }
}

async fn a_confidential_client_built_with_the_oauth2_crate(backend: Backend) {
    the_library_runs_the_whole_flow(backend, true).await;
}

async fn a_public_client_built_with_the_oauth2_crate(backend: Backend) {
    the_library_runs_the_whole_flow(backend, false).await;
}

backend_tests!(
    a_confidential_client_built_with_the_oauth2_crate,
    a_public_client_built_with_the_oauth2_crate,
);
