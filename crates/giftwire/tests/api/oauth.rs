//! The OAuth 2.0 authorization server (RFC 6749, PKCE of RFC 7636, revocation of RFC 7009),
//! driven over HTTP as a client application and a person's browser drive it: sign-in, consent,
//! codes with and without PKCE, refresh rotation, revocation, rate limits, and the attacks each
//! step must withstand. After each attack the test checks that nothing usable was left behind.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use giftwire_core::store::User;
use giftwire_core::{Clock, Scopes};
use giftwire_server::CacheConfig;
use giftwire_server::oauth::{register_app, set_password};
use rand::Rng as _;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::create::egift_body;
use crate::helpers::{
    Backend, TestApp, TestConfig, TestOrg, assert_valid, at, backend_tests, ids, spawn, spawn_with,
};

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery staple";
/// Where the test client application receives its codes.
const CALLBACK: &str = "https://crm.example/oauth/callback";
/// The redirect URI of a native application that shows the code to the person.
const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
/// The `state` an authorization request carries unless a test says otherwise.
const STATE: &str = "af0ifjsldkj";

// ---------------------------------------------------------------------------------------------
// Registered applications and users who can sign in.

/// A registered application as its developer knows it.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    /// `None` for a public client.
    pub secret: Option<String>,
    /// Its one registered redirect URI.
    pub redirect: String,
}

pub async fn register(
    app: &TestApp,
    org: &TestOrg,
    name: &str,
    redirect: &str,
    scopes: &str,
    confidential: bool,
) -> Client {
    let registered = register_app(
        &*app.store,
        org.org.id,
        name,
        vec![redirect.to_owned()],
        Scopes::parse(scopes).expect("valid scopes"),
        confidential,
    )
    .await
    .expect("the application is registered");
    assert_eq!(
        registered.client_secret.is_some(),
        confidential,
        "a secret for confidential clients only"
    );
    Client {
        id: registered.app.client_id,
        secret: registered.client_secret,
        redirect: redirect.to_owned(),
    }
}

pub async fn with_password(app: &TestApp, user: &User) {
    set_password(&*app.store, user.id, PASSWORD)
        .await
        .expect("the password is set");
}

// ---------------------------------------------------------------------------------------------
// The browser: cookies kept, redirects shown rather than followed, forms read off the pages.

/// A browser: keeps cookies and follows no redirects (so each can be checked).
pub fn browser() -> reqwest::Client {
    crate::http::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[track_caller]
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("a Location header on a {}", response.status()))
        .to_str()
        .expect("an ASCII Location")
        .to_owned()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn content_type(response: &reqwest::Response) -> String {
    header(response.headers(), "content-type")
        .unwrap_or_default()
        .to_owned()
}

/// The `Set-Cookie` line that gives the browser a session, if the response has one.
fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("gw_session=") && !c.starts_with("gw_session=;"))
        .map(str::to_owned)
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn query_of(url: &str) -> HashMap<String, String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// A form of a page: how and where it posts, its hidden fields and its buttons.
#[derive(Debug, Clone)]
pub struct Form {
    pub method: String,
    pub action: String,
    pub hidden: Vec<(String, String)>,
    pub buttons: Vec<(String, String)>,
}

impl Form {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.hidden
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The hidden fields, with `name` set to `value`.
    fn with(&self, name: &str, value: &str) -> Vec<(String, String)> {
        let mut fields: Vec<(String, String)> = self.without(name);
        fields.push((name.to_owned(), value.to_owned()));
        fields
    }

    /// The hidden fields but `name`.
    fn without(&self, name: &str) -> Vec<(String, String)> {
        self.hidden
            .iter()
            .filter(|(n, _)| n != name)
            .cloned()
            .collect()
    }
}

/// Every form of a page.
pub fn forms(page: &str) -> Vec<Form> {
    let lower = page.to_ascii_lowercase();
    let mut forms = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find("<form") {
        let start = at + i;
        let end = lower[start..]
            .find("</form>")
            .map_or(page.len(), |e| start + e);
        let chunk = &page[start..end];
        let form = tags(chunk, "form").into_iter().next().unwrap_or_default();
        let named = |a: &Vec<(String, String)>| {
            Some((
                attribute(a, "name")?.to_owned(),
                attribute(a, "value").unwrap_or_default().to_owned(),
            ))
        };
        let of_type = |a: &&Vec<(String, String)>, kind: &str| {
            attribute(a, "type").is_some_and(|t| t.eq_ignore_ascii_case(kind))
        };
        let inputs = tags(chunk, "input");
        let hidden = inputs
            .iter()
            .filter(|a| of_type(a, "hidden"))
            .filter_map(named)
            .collect();
        let mut buttons: Vec<(String, String)> =
            tags(chunk, "button").iter().filter_map(named).collect();
        buttons.extend(
            inputs
                .iter()
                .filter(|a| of_type(a, "submit"))
                .filter_map(named),
        );
        forms.push(Form {
            method: attribute(&form, "method")
                .unwrap_or("get")
                .to_ascii_lowercase(),
            action: attribute(&form, "action").unwrap_or_default().to_owned(),
            hidden,
            buttons,
        });
        at = end.max(start + 1);
    }
    forms
}

/// The one form of a consent page, which posts to `/oauth/authorize`.
#[track_caller]
pub fn consent_form(page: &str) -> Form {
    let mut found: Vec<Form> = forms(page)
        .into_iter()
        .filter(|f| f.action == "/oauth/authorize")
        .collect();
    assert_eq!(found.len(), 1, "one form posts to /oauth/authorize: {page}");
    let form = found.remove(0);
    assert_eq!(form.method, "post", "{page}");
    form
}

/// The hidden CSRF field of a page.
#[track_caller]
pub fn csrf_of(page: &str) -> String {
    forms(page)
        .iter()
        .find_map(|f| f.field("csrf").map(str::to_owned))
        .unwrap_or_else(|| panic!("a form with a CSRF token: {page}"))
}

/// A token that is not the one given, of the same length.
fn tampered(token: &str) -> String {
    let mut wrong = token.to_owned();
    let first = if wrong.starts_with('0') { "1" } else { "0" };
    wrong.replace_range(0..1, first);
    wrong
}

fn attribute<'a>(attributes: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The attributes of each `<name …>` tag of `html`: names lowercased, values unescaped.
fn tags(html: &str, name: &str) -> Vec<Vec<(String, String)>> {
    let lower = html.to_ascii_lowercase();
    let open = format!("<{name}");
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find(&open) {
        let start = at + i + open.len();
        at = start;
        if !html[start..].starts_with(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/') {
            continue;
        }
        let (attributes, length) = attributes(&html[start..]);
        found.push(attributes);
        at = start + length;
    }
    found
}

/// The attributes at the start of `tag` (just after its name), and the length up to its `>`.
fn attributes(tag: &str) -> (Vec<(String, String)>, usize) {
    let bytes = tag.as_bytes();
    let mut attributes = Vec::new();
    let mut i = 0;
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() {
            return (attributes, i);
        }
        if bytes[i] == b'>' {
            return (attributes, i + 1);
        }
        let name_start = i;
        while i < bytes.len()
            && !bytes[i].is_ascii_whitespace()
            && !matches!(bytes[i], b'=' | b'>' | b'/')
        {
            i += 1;
        }
        let name = tag[name_start..i].to_ascii_lowercase();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < bytes.len() && matches!(bytes[i], b'"' | b'\'') {
                let quote = bytes[i];
                let value_start = i + 1;
                i = value_start;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
                value = unescape(&tag[value_start..i]);
                i = (i + 1).min(bytes.len());
            } else {
                let value_start = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                value = unescape(&tag[value_start..i]);
            }
        }
        attributes.push((name, value));
    }
}

/// Text with its HTML character references decoded.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after.find(';').filter(|&end| end <= 8).and_then(|end| {
            let entity = &after[..end];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let number = entity.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => number.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What a person reads on a page: the text outside tags (and styles), decoded.
fn text_of(page: &str) -> String {
    let mut visible = String::new();
    let mut rest = page;
    while let Some(start) = rest.find("<style") {
        visible.push_str(&rest[..start]);
        let after = &rest[start..];
        rest = match after.find("</style>") {
            Some(end) => &after[end + "</style>".len()..],
            None => "",
        };
    }
    visible.push_str(rest);
    let mut text = String::new();
    let mut in_tag = false;
    for c in visible.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    unescape(&text)
}

/// The text of the first `<code>` element of a page.
fn code_element(page: &str) -> Option<String> {
    let start = page.find("<code")?;
    let open_end = start + page[start..].find('>')? + 1;
    let close = open_end + page[open_end..].find("</code>")?;
    Some(unescape(page[open_end..close].trim()))
}

#[track_caller]
fn assert_error_page(response: &reqwest::Response, what: &str) {
    assert_eq!(response.status(), 400, "{what}");
    assert!(
        response.headers().get("location").is_none(),
        "no redirect for {what}: {:?}",
        response.headers().get("location")
    );
    assert!(
        content_type(response).starts_with("text/html"),
        "an HTML page for {what}"
    );
}

#[track_caller]
fn assert_sent_to_sign_in(response: &reqwest::Response) {
    assert_eq!(response.status(), 303, "to the sign-in page");
    let to = location(response);
    assert!(to.starts_with("/sign_in?"), "{to}");
}

// ---------------------------------------------------------------------------------------------
// Signing in and authorizing.

/// Fills in the sign-in page of `browser` and posts it.
pub async fn submit_sign_in(
    app: &TestApp,
    browser: &reqwest::Client,
    email: &str,
    password: &str,
    return_to: &str,
) -> reqwest::Response {
    let page = browser
        .get(app.url(&format!("/sign_in?return_to={}", enc(return_to))))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("a page");
    let csrf = csrf_of(&page);
    browser
        .post(app.url("/sign_in"))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf", csrf.as_str()),
            ("return_to", return_to),
        ])
        .send()
        .await
        .expect("request")
}

async fn sign_in(app: &TestApp, browser: &reqwest::Client, email: &str) {
    let response = submit_sign_in(app, browser, email, PASSWORD, "/").await;
    assert_eq!(response.status(), 303, "{email} signs in");
    assert!(session_cookie(&response).is_some(), "a session cookie");
}

/// From an anonymous browser's redirect to the sign-in page: signs `email` in there, as a person
/// would, and returns the page the browser is sent back to.
pub async fn sign_in_from(
    app: &TestApp,
    browser: &reqwest::Client,
    redirect: reqwest::Response,
    email: &str,
) -> String {
    assert_sent_to_sign_in(&redirect);
    let page = browser
        .get(app.url(&location(&redirect)))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("a page");
    let form = forms(&page)
        .into_iter()
        .find(|f| f.action == "/sign_in")
        .unwrap_or_else(|| panic!("a sign-in form: {page}"));
    assert_eq!(form.method, "post");
    let mut fields = form.hidden.clone();
    fields.push(("email".to_owned(), email.to_owned()));
    fields.push(("password".to_owned(), PASSWORD.to_owned()));
    let response = browser
        .post(app.url("/sign_in"))
        .form(&fields)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 303, "{email} signs in");
    assert!(session_cookie(&response).is_some(), "a session cookie");
    let back = location(&response);
    assert!(back.starts_with("/oauth/authorize?"), "back to {back}");
    let response = browser.get(app.url(&back)).send().await.expect("request");
    assert_eq!(response.status(), 200, "the consent page");
    response.text().await.expect("a page")
}

/// The parameters of an authorization request.
#[derive(Debug, Clone)]
struct Authorization {
    params: Vec<(String, String)>,
}

impl Authorization {
    /// `response_type=code` for `client` and its redirect URI, with a state and nothing else.
    fn new(client: &Client) -> Authorization {
        Authorization {
            params: vec![
                ("response_type".to_owned(), "code".to_owned()),
                ("client_id".to_owned(), client.id.clone()),
                ("redirect_uri".to_owned(), client.redirect.clone()),
                ("state".to_owned(), STATE.to_owned()),
            ],
        }
    }

    fn set(self, key: &str, value: &str) -> Authorization {
        let mut request = self.without(key);
        request.params.push((key.to_owned(), value.to_owned()));
        request
    }

    fn without(mut self, key: &str) -> Authorization {
        self.params.retain(|(k, _)| k != key);
        self
    }

    fn scope(self, scope: &str) -> Authorization {
        self.set("scope", scope)
    }

    fn challenge(self, challenge: &str) -> Authorization {
        self.set("code_challenge", challenge)
            .set("code_challenge_method", "S256")
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn redirect_uri(&self) -> &str {
        self.get("redirect_uri").unwrap_or_default()
    }

    fn path(&self) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .finish();
        format!("/oauth/authorize?{query}")
    }
}

/// The consent page `browser` (signed in) gets for `request`.
async fn consent(app: &TestApp, browser: &reqwest::Client, request: &Authorization) -> String {
    let response = browser
        .get(app.url(&request.path()))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200, "a consent page for {request:?}");
    response.text().await.expect("a page")
}

/// Presses `decision` ("allow" or "deny") on a consent page.
async fn decide(
    app: &TestApp,
    browser: &reqwest::Client,
    page: &str,
    decision: &str,
) -> reqwest::Response {
    let form = consent_form(page);
    assert!(
        form.buttons
            .iter()
            .any(|(name, value)| name == "decision" && value == decision),
        "a {decision} button: {page}"
    );
    let mut fields = form.hidden;
    fields.push(("decision".to_owned(), decision.to_owned()));
    browser
        .post(app.url("/oauth/authorize"))
        .form(&fields)
        .send()
        .await
        .expect("request")
}

/// Where a 303 sends the browser back to the client: checks that it is `redirect_uri` exactly,
/// and returns its parameters.
#[track_caller]
fn callback(response: &reqwest::Response, redirect_uri: &str) -> HashMap<String, String> {
    assert_eq!(response.status(), 303, "a redirect back to the client");
    let to = location(response);
    assert_eq!(
        to.split('?').next().unwrap_or_default(),
        redirect_uri,
        "{to}"
    );
    query_of(&to)
}

/// The code `browser` (signed in) obtains for the client by allowing `request`.
async fn authorize(app: &TestApp, browser: &reqwest::Client, request: &Authorization) -> String {
    let page = consent(app, browser, request).await;
    let response = decide(app, browser, &page, "allow").await;
    let params = callback(&response, request.redirect_uri());
    assert_eq!(
        params.get("state").map(String::as_str),
        request.get("state"),
        "the state comes back as it was sent"
    );
    params.get("code").expect("a code").clone()
}

/// What the client is told when the authorization page refuses `request` at once: no code.
async fn refused(
    app: &TestApp,
    browser: &reqwest::Client,
    request: &Authorization,
) -> HashMap<String, String> {
    let response = browser
        .get(app.url(&request.path()))
        .send()
        .await
        .expect("request");
    let params = callback(&response, request.redirect_uri());
    assert!(
        !params.contains_key("code"),
        "no code with an error: {params:?}"
    );
    assert_eq!(
        params.get("state").map(String::as_str),
        request.get("state")
    );
    params
}

/// A fresh browser in which `email` signs in and allows `request`: the client's code.
async fn code_for(app: &TestApp, email: &str, request: &Authorization) -> String {
    let browser = browser();
    sign_in(app, &browser, email).await;
    authorize(app, &browser, request).await
}

/// Tokens for `client` that `email` granted for `scope` (with PKCE for a public client).
/// An authorization code for `client`, as a person signing in and consenting gets it, and for a
/// public client the PKCE verifier that goes with it.
pub(crate) async fn authorization_code(
    app: &TestApp,
    client: &Client,
    email: &str,
    scope: &str,
) -> (String, Option<String>) {
    let (verifier, challenge) = pkce();
    let public = client.secret.is_none();
    let mut request = Authorization::new(client).scope(scope);
    if public {
        request = request.challenge(&challenge);
    }
    let code = code_for(app, email, &request).await;
    (code, public.then_some(verifier))
}

pub(crate) async fn grant(app: &TestApp, client: &Client, email: &str, scope: &str) -> Tokens {
    let (code, verifier) = authorization_code(app, client, email, scope).await;
    exchange(app, client, &code, verifier.as_deref())
        .await
        .tokens()
}

/// A PKCE verifier (64 unreserved characters) and its `S256` challenge.
fn pkce() -> (String, String) {
    const UNRESERVED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    let mut rng = rand::rng();
    let verifier: String = (0..64)
        .map(|_| UNRESERVED[rng.random_range(0..UNRESERVED.len())] as char)
        .collect();
    let challenge = challenge_of(&verifier);
    (verifier, challenge)
}

fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

// ---------------------------------------------------------------------------------------------
// The token and revocation endpoints.

/// How a request to the token or revocation endpoint authenticates its client.
#[derive(Debug, Clone, Copy)]
enum Auth<'a> {
    /// `Authorization: Basic` with the form-urlencoded id and secret (RFC 6749 §2.3.1).
    Basic(&'a Client),
    /// `client_id` and `client_secret` in the body.
    Body(&'a Client),
    /// Both at once, which is not allowed.
    BasicAndBody(&'a Client),
    /// `client_id` alone in the body: a public client.
    IdOnly(&'a Client),
}

impl<'a> Auth<'a> {
    /// What the client would normally send: Basic when it has a secret.
    fn of(client: &'a Client) -> Auth<'a> {
        if client.secret.is_some() {
            Auth::Basic(client)
        } else {
            Auth::IdOnly(client)
        }
    }
}

fn basic(client: &Client) -> String {
    let secret = client.secret.as_deref().expect("a confidential client");
    let pair = format!("{}:{}", enc(&client.id), enc(secret));
    format!("Basic {}", STANDARD.encode(pair))
}

/// An answer of the token or revocation endpoint.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: HeaderMap,
    /// The JSON body (`null` when the body is not JSON).
    body: Value,
}

impl Answer {
    async fn read(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a body");
        Answer {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// The tokens of a successful answer, checked against RFC 6749 §5.1.
    #[track_caller]
    fn tokens(&self) -> Tokens {
        assert_eq!(self.status, 200, "{}", self.body);
        assert_eq!(
            header(&self.headers, "cache-control"),
            Some("no-store"),
            "tokens are never cached"
        );
        assert_eq!(self.body["token_type"], "Bearer", "{}", self.body);
        assert_eq!(self.body["expires_in"], 7200, "{}", self.body);
        assert!(self.body["created_at"].is_number(), "{}", self.body);
        let text = |key: &str| {
            self.body[key]
                .as_str()
                .unwrap_or_else(|| panic!("{key} in {}", self.body))
                .to_owned()
        };
        Tokens {
            access: text("access_token"),
            refresh: text("refresh_token"),
            scope: text("scope"),
        }
    }

    /// An error answer (RFC 6749 §5.2), and no token in it.
    #[track_caller]
    fn refused(&self, status: u16, error: &str) {
        assert_eq!(
            (self.status, self.body["error"].as_str()),
            (status, Some(error)),
            "{}",
            self.body
        );
        assert!(
            self.body["error_description"].is_string(),
            "an error_description: {}",
            self.body
        );
        assert!(
            header(&self.headers, "content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "a JSON error"
        );
        assert!(self.body.get("access_token").is_none(), "{}", self.body);
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Tokens {
    pub(crate) access: String,
    pub(crate) refresh: String,
    scope: String,
}

/// POSTs `params` form-encoded to `path`, the client authenticated by `auth`.
async fn post_as(app: &TestApp, path: &str, auth: Auth<'_>, params: &[(&str, &str)]) -> Answer {
    let mut form: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let mut request = app.client.post(app.url(path));
    let credentials = |form: &mut Vec<(String, String)>, client: &Client, secret: bool| {
        form.push(("client_id".to_owned(), client.id.clone()));
        if secret {
            let secret = client.secret.clone().expect("a confidential client");
            form.push(("client_secret".to_owned(), secret));
        }
    };
    match auth {
        Auth::Basic(client) => request = request.header("Authorization", basic(client)),
        Auth::Body(client) => credentials(&mut form, client, true),
        Auth::BasicAndBody(client) => {
            request = request.header("Authorization", basic(client));
            credentials(&mut form, client, true);
        }
        Auth::IdOnly(client) => credentials(&mut form, client, false),
    }
    let response = request.form(&form).send().await.expect("request");
    Answer::read(response).await
}

async fn token(app: &TestApp, auth: Auth<'_>, params: &[(&str, &str)]) -> Answer {
    post_as(app, "/oauth/token", auth, params).await
}

async fn revoke(app: &TestApp, auth: Auth<'_>, token: &str) -> Answer {
    post_as(app, "/oauth/revoke", auth, &[("token", token)]).await
}

/// The client exchanges `code` (with `verifier` if given) as it normally authenticates.
async fn exchange(app: &TestApp, client: &Client, code: &str, verifier: Option<&str>) -> Answer {
    let mut params = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", client.redirect.as_str()),
    ];
    if let Some(verifier) = verifier {
        params.push(("code_verifier", verifier));
    }
    token(app, Auth::of(client), &params).await
}

async fn refresh(
    app: &TestApp,
    client: &Client,
    refresh_token: &str,
    scope: Option<&str>,
) -> Answer {
    let mut params = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(scope) = scope {
        params.push(("scope", scope));
    }
    token(app, Auth::of(client), &params).await
}

/// The status of listing sends with `token`.
async fn api(app: &TestApp, token: &str) -> u16 {
    app.get_raw("/api/v3/send", Some(&format!("Bearer {token}")))
        .await
        .status()
        .as_u16()
}

// ---------------------------------------------------------------------------------------------
// The flows.

#[test]
fn the_pkce_helper_matches_rfc_7636() {
    // RFC 7636, appendix B.
    assert_eq!(
        challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    let (verifier, challenge) = pkce();
    assert!(verifier.len() >= 43);
    assert_eq!(challenge.len(), 43);
}

async fn the_whole_flow_with_a_confidential_client(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    let sends = app.create_sends(&org, 3).await;
    let other = app.create_org("Globex", "UTC").await;
    app.create_sends(&other, 2).await;
    with_password(&app, &org.user).await;
    let client = register(&app, &org, "Pipeline CRM", CALLBACK, "public write", true).await;

    // The client sends the browser to the authorization page; nobody is signed in there yet, so
    // the person signs in first and comes back to the same request.
    let browser = browser();
    let request = Authorization::new(&client).scope("public");
    let response = browser.get(app.url(&request.path())).send().await.unwrap();
    let page = sign_in_from(&app, &browser, response, &org.user.email).await;

    // The consent page names the application, its organization and what it asks for.
    let text = text_of(&page);
    assert!(text.contains("Pipeline CRM"), "{text}");
    assert!(text.contains("Initech"), "{text}");
    assert!(text.contains("public"), "{text}");
    let form = consent_form(&page);
    for key in [
        "client_id",
        "redirect_uri",
        "response_type",
        "state",
        "scope",
    ] {
        assert_eq!(form.field(key), request.get(key), "{key}");
    }
    assert!(form.field("csrf").is_some_and(|c| !c.is_empty()));

    // Allowed: the browser goes back to the client with a code and the state.
    let response = decide(&app, &browser, &page, "allow").await;
    let params = callback(&response, CALLBACK);
    assert_eq!(params["state"], STATE);
    let code = &params["code"];

    // The client exchanges it, authenticated with HTTP Basic.
    let tokens = exchange(&app, &client, code, None).await.tokens();
    assert_eq!(tokens.scope, "public");

    // The token lists the organization's sends, and only those.
    let (status, _, body) = app.get("/api/v3/send?per_page=100", &tokens.access).await;
    assert_eq!(status, 200, "{body}");
    assert_valid(&body);
    assert_eq!(body["total_count"], 3);
    let mut listed = ids(&body);
    listed.sort_unstable();
    let mut created: Vec<i64> = sends.iter().map(|id| id.get()).collect();
    created.sort_unstable();
    assert_eq!(listed, created);

    // Refreshing gives a new pair; the old access token stops working at once.
    let renewed = refresh(&app, &client, &tokens.refresh, None).await.tokens();
    assert_ne!(renewed.access, tokens.access);
    assert_ne!(renewed.refresh, tokens.refresh);
    assert_eq!(renewed.scope, "public");
    assert_eq!(api(&app, &tokens.access).await, 401);
    // CONTRACT §2: a revoked OAuth token is an invalid token like any other.
    let revoked = app
        .get_raw("/api/v3/send", Some(&format!("Bearer {}", tokens.access)))
        .await;
    assert_eq!(
        revoked.headers()["www-authenticate"],
        r#"Bearer realm="giftwire", error="invalid_token""#
    );
    assert_eq!(api(&app, &renewed.access).await, 200);

    // The client revokes the new access token, named in the query string: a 401 at once.
    let response = app
        .client
        .post(format!(
            "{}?token={}",
            app.url("/oauth/revoke"),
            enc(&renewed.access)
        ))
        .header("Authorization", basic(&client))
        .send()
        .await
        .unwrap();
    let answer = Answer::read(response).await;
    assert_eq!((answer.status, &answer.body), (200, &json!({})));
    assert_eq!(api(&app, &renewed.access).await, 401);

    // The first refresh token was spent by the refresh: it is refused (and takes its family with
    // it, so the second one is dead too).
    refresh(&app, &client, &tokens.refresh, None)
        .await
        .refused(400, "invalid_grant");
    refresh(&app, &client, &renewed.refresh, None)
        .await
        .refused(400, "invalid_grant");
}

async fn a_public_client_must_prove_it_started_the_flow(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let client = register(&app, &org, "Pipeline Mobile", CALLBACK, "public", false).await;
    let browser = browser();
    sign_in(&app, &browser, &org.user.email).await;
    let (verifier, challenge) = pkce();

    // No challenge, `plain`, a challenge without its method, malformed challenges: each is an
    // invalid_request for the client, and no code.
    for request in [
        Authorization::new(&client),
        Authorization::new(&client)
            .set("code_challenge", &verifier)
            .set("code_challenge_method", "plain"),
        Authorization::new(&client).set("code_challenge", &challenge),
        Authorization::new(&client).challenge("tooshort"),
        Authorization::new(&client).challenge(&"*".repeat(43)),
    ] {
        let params = refused(&app, &browser, &request).await;
        assert_eq!(params["error"], "invalid_request", "{request:?}");
    }

    // With a challenge, the code is worth nothing without the verifier, or with another one.
    let request = Authorization::new(&client).challenge(&challenge);
    let code = authorize(&app, &browser, &request).await;
    exchange(&app, &client, &code, None)
        .await
        .refused(400, "invalid_grant");
    let code = authorize(&app, &browser, &request).await;
    let (another, _) = pkce();
    exchange(&app, &client, &code, Some(&another))
        .await
        .refused(400, "invalid_grant");

    // With it, the public client (client_id alone in the body) gets its tokens.
    let code = authorize(&app, &browser, &request).await;
    let tokens = exchange(&app, &client, &code, Some(&verifier))
        .await
        .tokens();
    assert_eq!(api(&app, &tokens.access).await, 200);
    let renewed = refresh(&app, &client, &tokens.refresh, None).await.tokens();
    assert_eq!(api(&app, &renewed.access).await, 200);

    // A code issued without a challenge does not take a verifier: no downgrade.
    let web = register(&app, &org, "Pipeline Web", CALLBACK, "public", true).await;
    let code = authorize(&app, &browser, &Authorization::new(&web)).await;
    exchange(&app, &web, &code, Some(&verifier))
        .await
        .refused(400, "invalid_grant");
}

async fn a_replayed_code_revokes_every_token_issued_from_it(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let client = register(&app, &org, "Pipeline CRM", CALLBACK, "public", true).await;
    let browser = browser();
    sign_in(&app, &browser, &org.user.email).await;
    let request = Authorization::new(&client).scope("public");

    let code = authorize(&app, &browser, &request).await;
    let first = exchange(&app, &client, &code, None).await.tokens();
    let renewed = refresh(&app, &client, &first.refresh, None).await.tokens();
    assert_eq!(api(&app, &renewed.access).await, 200);
    // Another grant of the same person to the same client: another family.
    let unrelated = grant(&app, &client, &org.user.email, "public").await;

    // The code leaked and is presented again: refused, and everything issued from it dies.
    exchange(&app, &client, &code, None)
        .await
        .refused(400, "invalid_grant");
    assert_eq!(api(&app, &first.access).await, 401);
    assert_eq!(api(&app, &renewed.access).await, 401);
    refresh(&app, &client, &renewed.refresh, None)
        .await
        .refused(400, "invalid_grant");
    assert_eq!(api(&app, &unrelated.access).await, 200);
}

async fn a_reused_refresh_token_revokes_its_family(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let client = register(&app, &org, "Pipeline CRM", CALLBACK, "public", true).await;

    let first = grant(&app, &client, &org.user.email, "public").await;
    let renewed = refresh(&app, &client, &first.refresh, None).await.tokens();
    assert_eq!(api(&app, &renewed.access).await, 200);
    let unrelated = grant(&app, &client, &org.user.email, "public").await;

    // The rotated refresh token comes back (stolen, or replayed): the whole family is revoked,
    // the newest pair included.
    refresh(&app, &client, &first.refresh, None)
        .await
        .refused(400, "invalid_grant");
    assert_eq!(api(&app, &renewed.access).await, 401);
    refresh(&app, &client, &renewed.refresh, None)
        .await
        .refused(400, "invalid_grant");
    assert_eq!(api(&app, &unrelated.access).await, 200);
}

async fn a_refresh_may_narrow_the_scopes_but_never_widen_them(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let touch = app
        .create_touch(
            org.org.id,
            "eGift Cards USA",
            "eGifts USA",
            "eGift Cards USA",
            "25",
        )
        .await;
    let client = register(&app, &org, "Pipeline CRM", CALLBACK, "public write", true).await;

    let tokens = grant(&app, &client, &org.user.email, "public write").await;
    assert_eq!(tokens.scope, "public write");
    let (status, _, body) = app
        .post(
            "/api/v3/send",
            &tokens.access,
            &egift_body(touch.id.get()),
            None,
        )
        .await;
    assert_eq!(status, 200, "write creates sends: {body}");

    // Narrowed to public: it reads, it no longer writes.
    let narrowed = refresh(&app, &client, &tokens.refresh, Some("public"))
        .await
        .tokens();
    assert_eq!(narrowed.scope, "public");
    assert_eq!(api(&app, &narrowed.access).await, 200);
    let (status, headers, body) = app
        .post(
            "/api/v3/send",
            &narrowed.access,
            &egift_body(touch.id.get()),
            None,
        )
        .await;
    assert_eq!(status, 403, "{body}");
    // CONTRACT §2: an OAuth token without the scope is answered as any token is.
    assert_eq!(body["success"], false, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("write"),
        "{body}"
    );
    assert_eq!(
        headers["www-authenticate"],
        r#"Bearer realm="giftwire", error="insufficient_scope", scope="write""#
    );

    // Back to public write from the narrowed grant: refused, and nothing wider is issued.
    refresh(&app, &client, &narrowed.refresh, Some("public write"))
        .await
        .refused(400, "invalid_scope");
    let (status, _, body) = app
        .post(
            "/api/v3/send",
            &narrowed.access,
            &egift_body(touch.id.get()),
            None,
        )
        .await;
    assert_ne!(status, 200, "{body}");
}

async fn the_token_endpoint_answers_each_mistake_with_its_error(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let client = register(&app, &org, "Pipeline CRM", CALLBACK, "public", true).await;
    let other = register(&app, &org, "Initech Reports", CALLBACK, "public", true).await;
    let browser = browser();
    sign_in(&app, &browser, &org.user.email).await;
    let request = Authorization::new(&client).scope("public");
    let code = authorize(&app, &browser, &request).await;
    let params = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
    ];

    // A grant type the server does not issue.
    token(
        &app,
        Auth::Basic(&client),
        &[
            ("grant_type", "password"),
            ("username", org.user.email.as_str()),
            ("password", PASSWORD),
        ],
    )
    .await
    .refused(400, "unsupported_grant_type");
    // No code.
    token(
        &app,
        Auth::Basic(&client),
        &[
            ("grant_type", "authorization_code"),
            ("redirect_uri", CALLBACK),
        ],
    )
    .await
    .refused(400, "invalid_request");

    // A wrong secret in the Authorization header: 401, and the Basic challenge.
    let wrong = Client {
        secret: Some("not-the-secret".to_owned()),
        ..client.clone()
    };
    let answer = token(&app, Auth::Basic(&wrong), &params).await;
    answer.refused(401, "invalid_client");
    assert_eq!(
        header(&answer.headers, "www-authenticate"),
        Some(r#"Basic realm="giftwire""#)
    );
    // ... in the body; an unknown client; a confidential client that sends no secret.
    token(&app, Auth::Body(&wrong), &params)
        .await
        .refused(401, "invalid_client");
    let stranger = Client {
        id: "no-such-client".to_owned(),
        ..client.clone()
    };
    token(&app, Auth::Basic(&stranger), &params)
        .await
        .refused(401, "invalid_client");
    token(&app, Auth::IdOnly(&client), &params)
        .await
        .refused(401, "invalid_client");
    // Both ways at once.
    token(&app, Auth::BasicAndBody(&client), &params)
        .await
        .refused(400, "invalid_request");

    // Another client's code.
    let code = authorize(&app, &browser, &request).await;
    token(
        &app,
        Auth::Basic(&other),
        &[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
        ],
    )
    .await
    .refused(400, "invalid_grant");
    // A redirect_uri other than the authorization request's.
    let code = authorize(&app, &browser, &request).await;
    token(
        &app,
        Auth::Basic(&client),
        &[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "https://crm.example/other"),
        ],
    )
    .await
    .refused(400, "invalid_grant");

    // A JSON body works as the form does, credentials in it.
    let code = authorize(&app, &browser, &request).await;
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .json(&json!({
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": client.id,
            "client_secret": client.secret,
        }))
        .send()
        .await
        .unwrap();
    let tokens = Answer::read(response).await.tokens();
    assert_eq!(api(&app, &tokens.access).await, 200);
}

async fn a_redirect_uri_must_match_exactly_and_a_mismatch_never_redirects(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let good = "https://good.example/cb";
    let client = register(&app, &org, "Pipeline CRM", good, "public", true).await;
    let browser = browser();
    sign_in(&app, &browser, &org.user.email).await;
    // A real consent page: its form, with a valid CSRF token, is what a forged POST starts from.
    let form = consent_form(&consent(&app, &browser, &Authorization::new(&client)).await);

    for evil in [
        "https://evil.example/cb",
        "https://good.example/cb/extra",
        "https://good.example/cb?next=https://evil.example/",
        "https://good.example:8443/cb",
        "https://good.example@evil.example/cb",
        "https://good.example.evil.example/cb",
        "http://good.example/cb",
        "https://good.example/cb/",
        "https://good.example/cb#fragment",
        "https://good.example/cb/../../evil",
        "//evil.example/cb",
    ] {
        let request = Authorization::new(&client).set("redirect_uri", evil);
        let response = browser.get(app.url(&request.path())).send().await.unwrap();
        assert_error_page(&response, evil);

        let mut fields = form.with("redirect_uri", evil);
        fields.push(("decision".to_owned(), "allow".to_owned()));
        let response = browser
            .post(app.url("/oauth/authorize"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_error_page(&response, &format!("{evil} (posted)"));
    }

    // No redirect_uri at all.
    let request = Authorization::new(&client).without("redirect_uri");
    let response = browser.get(app.url(&request.path())).send().await.unwrap();
    assert_error_page(&response, "no redirect_uri");
    // An error the client would normally hear is not sent to a URI that is not its own.
    for request in [
        Authorization::new(&client)
            .set("redirect_uri", "https://evil.example/cb")
            .set("response_type", "token"),
        Authorization::new(&client)
            .set("redirect_uri", "https://evil.example/cb")
            .scope("admin"),
    ] {
        let response = browser.get(app.url(&request.path())).send().await.unwrap();
        assert_error_page(&response, &format!("{request:?}"));
    }
    // A browser that is not signed in is not sent elsewhere either.
    let request = Authorization::new(&client).set("redirect_uri", "https://evil.example/cb");
    let response = self::browser()
        .get(app.url(&request.path()))
        .send()
        .await
        .unwrap();
    let to = header(response.headers(), "location");
    assert!(
        to.is_none_or(|to| to.starts_with('/') && !to.starts_with("//")),
        "{to:?}"
    );

    // The registered URI, exactly, works.
    let code = authorize(&app, &browser, &Authorization::new(&client)).await;
    let tokens = exchange(&app, &client, &code, None).await.tokens();
    assert_eq!(api(&app, &tokens.access).await, 200);
}

async fn an_unknown_client_gets_an_error_page_not_a_redirect(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let client = register(&app, &org, "Pipeline CRM", CALLBACK, "public", true).await;
    let browser = browser();
    sign_in(&app, &browser, &org.user.email).await;
    let stranger = Client {
        id: "no-such-client".to_owned(),
        secret: None,
        redirect: CALLBACK.to_owned(),
    };
    for request in [
        Authorization::new(&stranger),
        Authorization::new(&client).without("client_id"),
    ] {
        let response = browser.get(app.url(&request.path())).send().await.unwrap();
        assert_error_page(&response, &format!("{request:?}"));
    }
    // A posted consent form naming an unknown client gets no further.
    let form = consent_form(&consent(&app, &browser, &Authorization::new(&client)).await);
    let mut fields = form.with("client_id", "no-such-client");
    fields.push(("decision".to_owned(), "allow".to_owned()));
    let response = browser
        .post(app.url("/oauth/authorize"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_error_page(&response, "an unknown client, posted");
}

async fn forms_without_this_browsers_csrf_token_are_refused(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let email = org.user.email.as_str();
    let client = register(&app, &org, "Pipeline CRM", CALLBACK, "public", true).await;
    let request = Authorization::new(&client).scope("public");

    // Sign-in: no token, a wrong one, another browser's.
    let victim = browser();
    let page = victim
        .get(app.url("/sign_in?return_to=%2F"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let own = csrf_of(&page);
    let attacker = browser();
    let theirs = csrf_of(
        &attacker
            .get(app.url("/sign_in?return_to=%2F"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    for forged in [None, Some(tampered(&own)), Some(theirs.clone())] {
        let mut fields = vec![
            ("email", email.to_owned()),
            ("password", PASSWORD.to_owned()),
            ("return_to", "/".to_owned()),
        ];
        if let Some(csrf) = &forged {
            fields.push(("csrf", csrf.clone()));
        }
        let response = victim
            .post(app.url("/sign_in"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{forged:?}");
        assert!(content_type(&response).starts_with("text/html"));
        assert!(
            session_cookie(&response).is_none(),
            "no session: {forged:?}"
        );
    }
    // Still signed out.
    let response = victim.get(app.url(&request.path())).send().await.unwrap();
    assert_sent_to_sign_in(&response);

    // Consent: the victim is signed in; a forged allow carries no token, or the attacker's.
    sign_in(&app, &victim, email).await;
    let form = consent_form(&consent(&app, &victim, &request).await);
    for forged in [None, Some(theirs)] {
        let mut fields = form.without("csrf");
        if let Some(csrf) = &forged {
            fields.push(("csrf".to_owned(), csrf.clone()));
        }
        fields.push(("decision".to_owned(), "allow".to_owned()));
        let response = victim
            .post(app.url("/oauth/authorize"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{forged:?}");
        assert!(response.headers().get("location").is_none(), "no code");
        assert!(content_type(&response).starts_with("text/html"));
    }

    // The victim's own form still works.
    let code = authorize(&app, &victim, &request).await;
    let tokens = exchange(&app, &client, &code, None).await.tokens();
    assert_eq!(api(&app, &tokens.access).await, 200);
}

async fn a_user_of_another_organization_is_denied(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    let globex = app.create_org("Globex", "UTC").await;
    with_password(&app, &globex.user).await;
    let client = register(&app, &org, "Pipeline CRM", CALLBACK, "public", true).await;
    let browser = browser();
    sign_in(&app, &browser, &globex.user.email).await;

    let request = Authorization::new(&client).scope("public");
    let params = refused(&app, &browser, &request).await;
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], STATE);

    // A consent form made by hand (with this browser's valid token, from a consent page of its
    // own organization's application) does no better.
    let own = register(&app, &globex, "Globex Tools", CALLBACK, "public", true).await;
    let page = consent(&app, &browser, &Authorization::new(&own)).await;
    let mut fields: Vec<(String, String)> = request.params.clone();
    fields.push(("csrf".to_owned(), csrf_of(&page)));
    fields.push(("decision".to_owned(), "allow".to_owned()));
    let response = browser
        .post(app.url("/oauth/authorize"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    match response.status().as_u16() {
        303 => {
            let params = callback(&response, CALLBACK);
            assert_eq!(
                params.get("error").map(String::as_str),
                Some("access_denied")
            );
            assert!(!params.contains_key("code"), "{params:?}");
        }
        status => assert_eq!(status, 403, "denied, one way or the other"),
    }
}

async fn denying_tells_the_client_with_its_state(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let client = register(&app, &org, "Pipeline CRM", CALLBACK, "public", true).await;
    let browser = browser();
    sign_in(&app, &browser, &org.user.email).await;

    let state = "st@te with spaces & symbols/?=";
    let request = Authorization::new(&client)
        .scope("public")
        .set("state", state);
    let page = consent(&app, &browser, &request).await;
    let response = decide(&app, &browser, &page, "deny").await;
    let params = callback(&response, CALLBACK);
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("access_denied")
    );
    assert_eq!(params.get("state").map(String::as_str), Some(state));
    assert!(!params.contains_key("code"), "{params:?}");
}

async fn codes_access_tokens_and_sessions_expire(backend: Backend) {
    let app = spawn_with(
        backend,
        TestConfig {
            clock: Some(Clock::manual(at("2026-03-01T12:00:00Z"))),
            ..TestConfig::default()
        },
    )
    .await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let client = register(&app, &org, "Pipeline CRM", CALLBACK, "public", true).await;
    let browser = browser();
    sign_in(&app, &browser, &org.user.email).await; // t = 0
    let request = Authorization::new(&client).scope("public");

    // A code is good for ten minutes.
    let code = authorize(&app, &browser, &request).await;
    app.clock.advance(601); // t = 601
    exchange(&app, &client, &code, None)
        .await
        .refused(400, "invalid_grant");
    let code = authorize(&app, &browser, &request).await;
    app.clock.advance(599); // t = 1200
    let tokens = exchange(&app, &client, &code, None).await.tokens();

    // An access token for two hours.
    app.clock.advance(7199); // t = 8399
    assert_eq!(api(&app, &tokens.access).await, 200);
    app.clock.advance(2); // t = 8401
    assert_eq!(api(&app, &tokens.access).await, 401);

    // A session for eight hours from signing in.
    app.clock.advance(8 * 3600 - 1 - 8401); // t = 8 h - 1 s
    consent(&app, &browser, &request).await;
    app.clock.advance(2); // t = 8 h + 1 s
    let response = browser.get(app.url(&request.path())).send().await.unwrap();
    assert_sent_to_sign_in(&response);
}

async fn scopes_are_limited_to_what_the_application_may_request(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let client = register(&app, &org, "Pipeline CRM", CALLBACK, "public", true).await;
    let browser = browser();
    sign_in(&app, &browser, &org.user.email).await;

    // More than the application may ask for, or a scope that does not exist.
    for scope in ["public write", "write", "admin", "public admin"] {
        let params = refused(&app, &browser, &Authorization::new(&client).scope(scope)).await;
        assert_eq!(params["error"], "invalid_scope", "{scope}");
    }
    // A consent form whose scope was raised on the way is checked again.
    let form =
        consent_form(&consent(&app, &browser, &Authorization::new(&client).scope("public")).await);
    let mut fields = form.with("scope", "public write");
    fields.push(("decision".to_owned(), "allow".to_owned()));
    let response = browser
        .post(app.url("/oauth/authorize"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    let params = callback(&response, CALLBACK);
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("invalid_scope")
    );
    assert!(!params.contains_key("code"), "{params:?}");

    // No scope means public; and without a state, none comes back.
    let request = Authorization::new(&client).without("state");
    let page = consent(&app, &browser, &request).await;
    assert!(text_of(&page).contains("public"), "{page}");
    let response = decide(&app, &browser, &page, "allow").await;
    let params = callback(&response, CALLBACK);
    assert!(!params.contains_key("state"), "{params:?}");
    let tokens = exchange(&app, &client, &params["code"], None)
        .await
        .tokens();
    assert_eq!(tokens.scope, "public");
}

async fn signing_in_reveals_nothing_and_slows_guessing(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let email = org.user.email.as_str();
    let nobody = "nobody@initech.example";
    let browser = browser();

    // An unknown address and a wrong password look alike.
    let unknown = submit_sign_in(&app, &browser, nobody, PASSWORD, "/").await;
    let wrong = submit_sign_in(&app, &browser, email, "not the password", "/").await;
    let mut pages = Vec::new();
    for (response, address) in [(unknown, nobody), (wrong, email)] {
        assert_eq!(response.status(), 401, "{address}");
        assert!(content_type(&response).starts_with("text/html"));
        assert!(session_cookie(&response).is_none());
        let page = response.text().await.unwrap();
        assert!(page.contains("Invalid email or password"), "{page}");
        // The address typed and this browser's CSRF token may be on the page again.
        let mut normalised = page.replace(address, "EMAIL");
        for form in forms(&page) {
            if let Some(csrf) = form.field("csrf").filter(|c| !c.is_empty()) {
                normalised = normalised.replace(csrf, "CSRF");
            }
        }
        pages.push(normalised);
    }
    assert_eq!(pages[0], pages[1]);

    // Five failures for the address: the sixth attempt is refused, right password or not.
    for _ in 0..4 {
        let response = submit_sign_in(&app, &browser, email, "still not it", "/").await;
        assert_eq!(response.status(), 401);
    }
    let response = submit_sign_in(&app, &browser, email, PASSWORD, "/").await;
    assert_eq!(response.status(), 429);
    assert!(content_type(&response).starts_with("text/html"));
    assert!(session_cookie(&response).is_none());

    // Another person, from the same address, still signs in.
    with_password(&app, &org.teamless).await;
    sign_in(&app, &self::browser(), &org.teamless.email).await;
}

async fn sign_in_returns_only_to_local_paths(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let here = "/oauth/authorize?client_id=abc&state=xyz";
    for (return_to, expected) in [
        (here, here),
        ("https://evil.example/", "/sign_in"),
        ("//evil.example/", "/sign_in"),
        // Browsers read a backslash as a slash, and drop tabs: both are `//evil.example/`.
        ("/\\evil.example/", "/sign_in"),
        ("/\t/evil.example/", "/sign_in"),
        ("evil.example", "/sign_in"),
        ("", "/sign_in"),
    ] {
        let response = submit_sign_in(&app, &browser(), &org.user.email, PASSWORD, return_to).await;
        assert_eq!(response.status(), 303, "{return_to:?}");
        assert_eq!(location(&response), expected, "{return_to:?}");
        assert!(session_cookie(&response).is_some(), "{return_to:?}");
    }
}

async fn signing_out_ends_the_session_on_the_server(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let client = register(&app, &org, "Pipeline CRM", CALLBACK, "public", true).await;
    let browser = browser();
    let response = submit_sign_in(&app, &browser, &org.user.email, PASSWORD, "/").await;
    assert_eq!(response.status(), 303);
    let cookie = session_cookie(&response).expect("a session cookie");
    let lower = cookie.to_ascii_lowercase();
    for attribute in ["httponly", "samesite=lax", "path=/"] {
        assert!(lower.contains(attribute), "{attribute} in {cookie}");
    }
    // Reached over plain HTTP: a Secure cookie would never come back.
    assert!(!lower.contains("secure"), "{cookie}");
    let session = cookie.split(';').next().unwrap_or_default().to_owned();
    let request = Authorization::new(&client);
    let page = consent(&app, &browser, &request).await;
    let csrf = csrf_of(&page);

    // A sign-out without this browser's token changes nothing.
    let response = browser
        .post(app.url("/sign_out"))
        .form(&[("csrf", tampered(&csrf))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    consent(&app, &browser, &request).await;

    let response = browser
        .post(app.url("/sign_out"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/sign_in");
    let response = browser.get(app.url(&request.path())).send().await.unwrap();
    assert_sent_to_sign_in(&response);
    // The old cookie, replayed by hand, opens nothing: the session ended on the server.
    let replay = crate::http::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = replay
        .get(app.url(&request.path()))
        .header("Cookie", session.as_str())
        .send()
        .await
        .unwrap();
    assert_sent_to_sign_in(&response);
}

async fn a_revoked_application_loses_its_tokens_and_its_page(backend: Backend) {
    // No token cache: the store is revoked behind the server's back.
    let app = spawn_with(
        backend,
        TestConfig {
            cache: Some(CacheConfig {
                token_ttl: Duration::ZERO,
                ..CacheConfig::default()
            }),
            ..TestConfig::default()
        },
    )
    .await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let client = register(&app, &org, "Pipeline CRM", CALLBACK, "public", true).await;
    let tokens = grant(&app, &client, &org.user.email, "public").await;
    assert_eq!(api(&app, &tokens.access).await, 200);
    let browser = browser();
    sign_in(&app, &browser, &org.user.email).await;
    let request = Authorization::new(&client).scope("public");
    let code = authorize(&app, &browser, &request).await;

    app.store
        .revoke_app(&client.id, app.clock.now())
        .await
        .expect("the application is revoked");

    // Its tokens, its refresh token and its pending code are worth nothing.
    assert_eq!(api(&app, &tokens.access).await, 401);
    for answer in [
        refresh(&app, &client, &tokens.refresh, None).await,
        exchange(&app, &client, &code, None).await,
    ] {
        assert!(matches!(answer.status, 400 | 401), "{answer:?}");
        assert!(answer.body["error"].is_string(), "{answer:?}");
        assert!(answer.body.get("access_token").is_none(), "{answer:?}");
    }
    // Its authorization page is an error page.
    let response = browser.get(app.url(&request.path())).send().await.unwrap();
    assert_error_page(&response, "a revoked application");
}

async fn revocation_answers_200_and_touches_only_the_clients_own_tokens(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let client = register(&app, &org, "Pipeline CRM", CALLBACK, "public", true).await;
    let reports = register(
        &app,
        &org,
        "Initech Reports",
        "https://reports.example/cb",
        "public",
        true,
    )
    .await;
    let tokens = grant(&app, &client, &org.user.email, "public").await;
    let ok = |answer: &Answer| {
        assert_eq!(
            (answer.status, &answer.body),
            (200, &json!({})),
            "{answer:?}"
        );
    };

    // Another application cannot revoke them (and is not told so), nor an unknown token.
    for token in [&tokens.access, &tokens.refresh] {
        ok(&revoke(&app, Auth::Basic(&reports), token).await);
    }
    ok(&revoke(&app, Auth::Basic(&client), "no-such-token").await);
    assert_eq!(api(&app, &tokens.access).await, 200);
    // The right client with a wrong secret cannot either.
    let wrong = Client {
        secret: Some("not-the-secret".to_owned()),
        ..client.clone()
    };
    revoke(&app, Auth::Basic(&wrong), &tokens.access)
        .await
        .refused(401, "invalid_client");
    assert_eq!(api(&app, &tokens.access).await, 200);

    // Revoking a refresh token revokes its family: the access token dies with it.
    let renewed = refresh(&app, &client, &tokens.refresh, None).await.tokens();
    ok(&revoke(&app, Auth::Basic(&client), &renewed.refresh).await);
    assert_eq!(api(&app, &renewed.access).await, 401);
    refresh(&app, &client, &renewed.refresh, None)
        .await
        .refused(400, "invalid_grant");
}

async fn one_applications_requests_share_one_budget(backend: Backend) {
    let app = spawn_with(
        backend,
        TestConfig {
            app_rate_limit_per_second: NonZeroU32::new(10),
            ..TestConfig::default()
        },
    )
    .await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    with_password(&app, &org.teamless).await;
    let crm = register(&app, &org, "Pipeline CRM", CALLBACK, "public", true).await;
    let reports = register(&app, &org, "Initech Reports", CALLBACK, "public", true).await;
    let marc = grant(&app, &crm, &org.user.email, "public").await.access;
    let solo = grant(&app, &crm, &org.teamless.email, "public")
        .await
        .access;
    let other = grant(&app, &reports, &org.user.email, "public")
        .await
        .access;

    // Two people's tokens of one application, taking turns, spend one budget: ten at once,
    // then one more per tenth of a second that passed (were the budgets theirs, twenty would
    // pass at once).
    let bearer = |token: &str| format!("Bearer {token}");
    let started = std::time::Instant::now();
    let mut allowed = 0u32;
    let limited = loop {
        let token = if allowed.is_multiple_of(2) {
            &marc
        } else {
            &solo
        };
        let response = app.get_raw("/api/v3/send", Some(&bearer(token))).await;
        if response.status() == 429 {
            break response;
        }
        assert_eq!(response.status(), 200);
        allowed += 1;
        assert!(allowed < 100, "never limited");
    };
    let refilled = (started.elapsed().as_millis() / 100) as u32 + 1;
    assert!(
        (10..=10 + refilled).contains(&allowed),
        "{allowed} passed in {:?}",
        started.elapsed()
    );
    // Another application's budget is its own.
    let response = app.get_raw("/api/v3/send", Some(&bearer(&other))).await;
    assert_eq!(response.status(), 200);

    assert!(limited.headers().contains_key("retry-after"));
    assert!(limited.headers().contains_key("x-rate-limit-reset"));
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["success"], false);
}

async fn the_token_endpoint_and_sign_in_are_limited_per_address(backend: Backend) {
    let limited = || TestConfig {
        auth_rate_limit_per_minute: NonZeroU32::new(3),
        ..TestConfig::default()
    };

    let app = spawn_with(backend, limited()).await;
    let org = app.create_org("Initech", "UTC").await;
    let client = register(&app, &org, "Pipeline CRM", CALLBACK, "public", true).await;
    let guess = [
        ("grant_type", "authorization_code"),
        ("code", "a-guessed-code"),
        ("redirect_uri", CALLBACK),
    ];
    for _ in 0..3 {
        token(&app, Auth::Basic(&client), &guess)
            .await
            .refused(400, "invalid_grant");
    }
    let answer = token(&app, Auth::Basic(&client), &guess).await;
    assert_eq!(answer.status, 429, "{answer:?}");
    // CONTRACT §2: the envelope, Retry-After (seconds) and X-Rate-Limit-Reset (unix seconds).
    assert_eq!(answer.body["success"], false, "{answer:?}");
    let retry_after: u64 = header(&answer.headers, "retry-after")
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{answer:?}");
    let reset: i64 = header(&answer.headers, "x-rate-limit-reset")
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset >= jiff::Timestamp::now().as_second(), "{answer:?}");

    let app = spawn_with(backend, limited()).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let browser = browser();
    for _ in 0..3 {
        let response = submit_sign_in(&app, &browser, &org.user.email, "a guess", "/").await;
        assert_eq!(response.status(), 401);
    }
    let response = submit_sign_in(&app, &browser, &org.user.email, PASSWORD, "/").await;
    assert_eq!(response.status(), 429);
    assert!(session_cookie(&response).is_none());
}

async fn a_native_app_gets_its_code_on_a_page(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let client = register(&app, &org, "Pipeline Desktop", OOB, "public", false).await;
    let browser = browser();
    sign_in(&app, &browser, &org.user.email).await;
    let (verifier, challenge) = pkce();

    let request = Authorization::new(&client).challenge(&challenge);
    let page = consent(&app, &browser, &request).await;
    let response = decide(&app, &browser, &page, "allow").await;
    let code = callback(&response, "/oauth/authorize/native")
        .get("code")
        .expect("a code")
        .clone();
    let shown = browser
        .get(app.url(&location(&response)))
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 200);
    assert!(content_type(&shown).starts_with("text/html"));
    let shown = shown.text().await.unwrap();
    assert_eq!(
        code_element(&shown).as_deref(),
        Some(code.as_str()),
        "{shown}"
    );

    // The person copies it into the application, which exchanges it.
    let tokens = exchange(&app, &client, &code, Some(&verifier))
        .await
        .tokens();
    assert_eq!(api(&app, &tokens.access).await, 200);
}

async fn registration_refuses_redirect_uris_that_could_leak_codes(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    let scopes = Scopes::parse("public").unwrap();
    let store = &*app.store;
    for uri in [
        "http://crm.example/cb",
        "/cb",
        "crm.example/cb",
        "",
        "https://",
        "javascript:alert(1)",
        "data:text/html,hello",
        "file:///etc/passwd",
        "ftp://crm.example/cb",
        "http://127.0.0.1.evil.example/cb",
        "http://localhost.evil.example/cb",
    ] {
        let registered = register_app(
            store,
            org.org.id,
            "Refused",
            vec![uri.to_owned()],
            scopes,
            true,
        )
        .await;
        assert!(registered.is_err(), "{uri:?} is refused");
    }
    let registered = register_app(
        store,
        org.org.id,
        "Refused",
        vec![CALLBACK.to_owned(), "http://crm.example/cb".to_owned()],
        scopes,
        true,
    )
    .await;
    assert!(registered.is_err(), "one bad URI refuses the list");
    for uri in [
        CALLBACK,
        "http://127.0.0.1:8123/cb",
        "http://localhost:8123/cb",
        "http://[::1]:8123/cb",
        OOB,
    ] {
        let registered = register_app(
            store,
            org.org.id,
            "Accepted",
            vec![uri.to_owned()],
            scopes,
            false,
        )
        .await;
        assert!(registered.is_ok(), "{uri:?} is accepted");
    }
}

async fn the_consent_page_escapes_what_the_client_chose(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let name = r#"Pipeline <b>CRM</b> & "Partners""#;
    let client = register(&app, &org, name, CALLBACK, "public", true).await;
    let browser = browser();
    sign_in(&app, &browser, &org.user.email).await;

    let state = r#""><script>alert(1)</script>"#;
    let request = Authorization::new(&client).set("state", state);
    let page = consent(&app, &browser, &request).await;
    assert!(!page.contains("<b>CRM</b>"), "{page}");
    assert!(!page.contains("<script>alert(1)</script>"), "{page}");
    assert!(text_of(&page).contains(name), "{page}");
    assert_eq!(consent_form(&page).field("state"), Some(state));
}

async fn a_family_revoked_while_it_is_being_refreshed_keeps_no_token(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let client = register(&app, &org, "Pipeline CRM", CALLBACK, "public", true).await;
    for _ in 0..5 {
        let code = code_for(&app, &org.user.email, &Authorization::new(&client)).await;
        let first = exchange(&app, &client, &code, None).await.tokens();
        // A thief refreshes as fast as it can while the rightful client presents the code
        // again: whatever pair the thief holds last, the family's revocation reaches it.
        let thief = async {
            let (mut access, mut refresh_token) = (first.access.clone(), first.refresh.clone());
            for _ in 0..200 {
                let answer = refresh(&app, &client, &refresh_token, None).await;
                if answer.status != 200 {
                    return (access, refresh_token);
                }
                let tokens = answer.tokens();
                (access, refresh_token) = (tokens.access, tokens.refresh);
            }
            panic!("the family was never revoked");
        };
        let replay = async {
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
            exchange(&app, &client, &code, None)
                .await
                .refused(400, "invalid_grant");
        };
        let ((access, refresh_token), ()) = tokio::join!(thief, replay);
        assert_eq!(api(&app, &access).await, 401);
        refresh(&app, &client, &refresh_token, None)
            .await
            .refused(400, "invalid_grant");
    }
}

async fn a_json_body_may_not_repeat_a_parameter(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    let client = register(&app, &org, "Pipeline CRM", CALLBACK, "public", true).await;
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .header("Authorization", basic(&client))
        .header("Content-Type", "application/json")
        .body(r#"{"grant_type":"authorization_code","grant_type":"refresh_token","refresh_token":"x"}"#)
        .send()
        .await
        .unwrap();
    Answer::read(response).await.refused(400, "invalid_request");
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .header("Authorization", basic(&client))
        .header("Content-Type", "application/json")
        .body(r#"{"grant_type":"refresh_token","refresh_token":7}"#)
        .send()
        .await
        .unwrap();
    Answer::read(response).await.refused(400, "invalid_request");
}

async fn spellings_of_one_email_share_its_failed_sign_ins(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let email = org.user.email.as_str();
    let browser = browser();
    let spellings = [
        email.to_uppercase(),
        format!(" {email}"),
        format!("\t{email} "),
        email.to_owned(),
        format!("  {}", email.to_uppercase()),
    ];
    for spelling in &spellings {
        let response = submit_sign_in(&app, &browser, spelling, "a guess", "/").await;
        assert_eq!(response.status(), 401, "{spelling:?}");
    }
    let response = submit_sign_in(&app, &browser, &format!(" {email} "), PASSWORD, "/").await;
    assert_eq!(response.status(), 429);
    assert!(session_cookie(&response).is_none());
}

async fn cookies_are_secure_when_the_server_is_reached_over_https(backend: Backend) {
    let app = spawn_with(
        backend,
        TestConfig {
            public_url: Some("https://gifts.example".parse().unwrap()),
            ..TestConfig::default()
        },
    )
    .await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    // A plain client: a cookie store would keep Secure cookies off this test's plain HTTP.
    let plain = crate::http::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = plain.get(app.url("/sign_in")).send().await.unwrap();
    let form_cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("gw_form="))
        .expect("the form cookie");
    let lower = form_cookie.to_ascii_lowercase();
    for attribute in ["secure", "httponly", "samesite=lax"] {
        assert!(lower.contains(attribute), "{attribute} in {form_cookie}");
    }
    let csrf = csrf_of(&page.text().await.unwrap());
    let signed_in = plain
        .post(app.url("/sign_in"))
        .header("Cookie", form_cookie.split(';').next().unwrap())
        .form(&[
            ("email", org.user.email.as_str()),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
            ("return_to", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let session = session_cookie(&signed_in).expect("a session cookie");
    let lower = session.to_ascii_lowercase();
    for attribute in ["secure", "httponly", "samesite=lax"] {
        assert!(lower.contains(attribute), "{attribute} in {session}");
    }
}

backend_tests!(
    the_whole_flow_with_a_confidential_client,
    a_public_client_must_prove_it_started_the_flow,
    a_replayed_code_revokes_every_token_issued_from_it,
    a_reused_refresh_token_revokes_its_family,
    a_refresh_may_narrow_the_scopes_but_never_widen_them,
    the_token_endpoint_answers_each_mistake_with_its_error,
    a_redirect_uri_must_match_exactly_and_a_mismatch_never_redirects,
    an_unknown_client_gets_an_error_page_not_a_redirect,
    forms_without_this_browsers_csrf_token_are_refused,
    a_user_of_another_organization_is_denied,
    denying_tells_the_client_with_its_state,
    codes_access_tokens_and_sessions_expire,
    scopes_are_limited_to_what_the_application_may_request,
    signing_in_reveals_nothing_and_slows_guessing,
    sign_in_returns_only_to_local_paths,
    signing_out_ends_the_session_on_the_server,
    a_revoked_application_loses_its_tokens_and_its_page,
    revocation_answers_200_and_touches_only_the_clients_own_tokens,
    one_applications_requests_share_one_budget,
    the_token_endpoint_and_sign_in_are_limited_per_address,
    a_native_app_gets_its_code_on_a_page,
    registration_refuses_redirect_uris_that_could_leak_codes,
    the_consent_page_escapes_what_the_client_chose,
    a_family_revoked_while_it_is_being_refreshed_keeps_no_token,
    a_json_body_may_not_repeat_a_parameter,
    spellings_of_one_email_share_its_failed_sign_ins,
    cookies_are_secure_when_the_server_is_reached_over_https,
);
