//! What every HTML page of ours shares: its security headers, the message page, and the
//! double-submit token of its forms (a random value in an HttpOnly cookie that each form repeats
//! in a hidden field; a cross-site page can neither read the cookie nor guess the value).

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use rand::RngCore as _;

/// The policy of pages whose forms post to ourselves only.
pub(crate) const SAME_ORIGIN_FORMS: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     img-src 'self'; form-action 'self'; frame-ancestors 'none'";

/// An HTML page with the headers every page of ours carries: never cached, never framed, never
/// leaking its URL (which may hold a credential) in a `Referer`.
pub(crate) fn html(status: StatusCode, body: String) -> Response {
    html_with_policy(status, body, SAME_ORIGIN_FORMS)
}

/// [`html`] with another content security policy.
pub(crate) fn html_with_policy(status: StatusCode, body: String, policy: &str) -> Response {
    let mut response = (status, axum::response::Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if let Ok(value) = HeaderValue::from_str(policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// What a form's route answers before its handler when the body is not a form it can read
/// (axum's `Form` rejections, plain text), for the document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum FormRejections {
    /// The body is not `application/x-www-form-urlencoded`.
    #[response(status = 415, content_type = "text/plain")]
    NotAForm(String),
    /// The form's fields cannot be read (a field given twice, say).
    #[response(status = 422, content_type = "text/plain")]
    Unreadable(String),
}

/// A page's answer when it cannot be shown right now (the store unreachable): try again in a
/// minute. For the document.
#[derive(utoipa::IntoResponses)]
#[response(status = 503, content_type = "text/html")]
#[allow(dead_code)]
pub(crate) struct PageUnavailable(String);

/// A form that posts nothing but its double-submit token.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct CsrfForm {
    /// The token the page put in the form (it must match the form cookie).
    #[serde(default)]
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    title: &'a str,
    text: &'a str,
}

/// A page with a title and one paragraph.
/// The page of a link that names nothing (unknown and malformed credentials alike).
pub(crate) fn not_found() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "Not found",
        "This link is not valid.",
    )
}

pub(crate) fn message(status: StatusCode, title: &str, text: &str) -> Response {
    render(status, &MessagePage { title, text })
}

/// A page from its template; a template that fails to render is logged and answers 500.
pub(crate) fn render(status: StatusCode, page: &impl Template) -> Response {
    render_with_policy(status, page, SAME_ORIGIN_FORMS)
}

pub(crate) fn render_with_policy(
    status: StatusCode,
    page: &impl Template,
    policy: &str,
) -> Response {
    match page.render() {
        Ok(body) => html_with_policy(status, body, policy),
        Err(e) => {
            tracing::error!(error = %e, "cannot render a page");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal server error").into_response()
        }
    }
}

/// The cookie behind the forms of a set of pages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FormCookie {
    pub name: &'static str,
    pub same_site: SameSite,
}

/// The recipient pages' forms: never posted from another site's page.
pub(crate) const RECIPIENT_FORMS: FormCookie = FormCookie {
    name: "gw_csrf",
    same_site: SameSite::Strict,
};

/// The sign-in and consent forms. `Lax`, so that the cookie already comes with the first page
/// a client application's link opens.
pub(crate) const ACCOUNT_FORMS: FormCookie = FormCookie {
    name: "gw_form",
    same_site: SameSite::Lax,
};

impl FormCookie {
    /// The form token of this browser: the cookie's, or a new one set with the response
    /// (`Secure` when the server is reached over https).
    pub(crate) fn token(self, jar: CookieJar, secure: bool) -> (CookieJar, String) {
        if let Some(token) = jar
            .get(self.name)
            .map(|c| c.value().to_owned())
            .filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return (jar, token);
        }
        let token = random_hex::<16>();
        let cookie = Cookie::build((self.name, token.clone()))
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(self.same_site)
            .build();
        (jar.add(cookie), token)
    }

    /// Whether a posted form carries this browser's token.
    pub(crate) fn accepts(self, jar: &CookieJar, posted: &str) -> bool {
        jar.get(self.name)
            .is_some_and(|cookie| constant_time_eq(cookie.value().as_bytes(), posted.as_bytes()))
    }
}

/// `N` random bytes from the thread-local CSPRNG, in lowercase hex.
pub(crate) fn random_hex<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equality in time independent of where the first difference is (over equal lengths).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && !a.is_empty()
        && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
