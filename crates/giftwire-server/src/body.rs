//! JSON request bodies: read within the 1 MiB cap (413 beyond), parsed leniently whatever the
//! `Content-Type`, and read field by field with the documented messages (`"<field> can't be
//! blank"`, `"<field> is invalid"`).

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// Largest request body accepted (CONTRACT.md §1).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// A request body parsed as JSON.
#[derive(Debug)]
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else if timed_out(&rejection) {
                    ApiError::BodyTimeout
                } else {
                    ApiError::BadRequest("The request body could not be read".to_owned())
                }
            })?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|_| ApiError::BadRequest("The request body is not valid JSON".to_owned()))
    }
}

/// Whether reading a body failed because its deadline passed.
fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(e) = cause {
        if e.is::<BodyTimedOut>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// Why a [`DeadlineBody`] ended early.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within the body timeout")]
pub struct BodyTimedOut;

/// A request body that fails once its deadline has passed, however its bytes trickle in (a
/// deadline between frames, as tower-http's body timeout has, never cuts off a client that
/// sends one byte a second).
pub struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl DeadlineBody {
    pub fn new(inner: Body, timeout: std::time::Duration) -> DeadlineBody {
        DeadlineBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match this.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl JsonBody {
    /// The object under `key` (`{"send": {...}}`).
    pub fn object(&self, key: &str) -> Result<Fields<'_>, ApiError> {
        match self.0.get(key) {
            Some(Value::Object(map)) => Ok(Fields(map)),
            None | Some(Value::Null) => Err(ApiError::blank(key)),
            Some(_) => Err(ApiError::invalid(key)),
        }
    }

    /// The body itself as an object.
    pub fn fields(&self) -> Result<Fields<'_>, ApiError> {
        match &self.0 {
            Value::Object(map) => Ok(Fields(map)),
            _ => Err(ApiError::BadRequest(
                "The request body must be a JSON object".to_owned(),
            )),
        }
    }

    /// SHA-256 of `scope` and the body in a canonical form (object keys sorted), so that the
    /// same request re-serialized in another key order has the same hash.
    pub fn hash(&self, scope: &str) -> [u8; 32] {
        fn canonical(v: &Value, out: &mut String) {
            match v {
                Value::Object(map) => {
                    let mut keys: Vec<&String> = map.keys().collect();
                    keys.sort();
                    out.push('{');
                    for (i, k) in keys.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str(&Value::String((*k).clone()).to_string());
                        out.push(':');
                        canonical(&map[*k], out);
                    }
                    out.push('}');
                }
                Value::Array(items) => {
                    out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        canonical(item, out);
                    }
                    out.push(']');
                }
                other => out.push_str(&other.to_string()),
            }
        }
        let mut text = String::from(scope);
        text.push('\n');
        canonical(&self.0, &mut text);
        Sha256::digest(text.as_bytes()).into()
    }
}

/// The fields of a JSON object, read with the documented messages.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a>(pub &'a Map<String, Value>);

fn present(v: Option<&Value>) -> Option<&Value> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        other => other,
    }
}

impl<'a> Fields<'a> {
    /// A non-blank string, trimmed.
    pub fn string(&self, name: &str) -> Result<&'a str, ApiError> {
        self.opt_string(name)?.ok_or_else(|| ApiError::blank(name))
    }

    pub fn opt_string(&self, name: &str) -> Result<Option<&'a str>, ApiError> {
        match present(self.0.get(name)) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim())),
            Some(_) => Err(ApiError::invalid(name)),
        }
    }

    /// A boolean: JSON `true`/`false`, or the strings `"true"`/`"false"` as form-minded clients send.
    pub fn boolean(&self, name: &str) -> Result<bool, ApiError> {
        self.opt_boolean(name)?.ok_or_else(|| ApiError::blank(name))
    }

    pub fn opt_boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match present(self.0.get(name)) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" => Ok(Some(false)),
            Some(_) => Err(ApiError::invalid(name)),
        }
    }

    /// An integer: a JSON integer or a string of decimal digits (clients send `"61383"`).
    pub fn integer(&self, name: &str) -> Result<i64, ApiError> {
        self.opt_integer(name)?.ok_or_else(|| ApiError::blank(name))
    }

    pub fn opt_integer(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match present(self.0.get(name)) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| ApiError::invalid(name)),
            Some(Value::String(s)) => {
                let s = s.trim();
                if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                    s.parse().map(Some).map_err(|_| ApiError::invalid(name))
                } else {
                    Err(ApiError::invalid(name))
                }
            }
            Some(_) => Err(ApiError::invalid(name)),
        }
    }

    /// A phone number: a JSON integer (as documented) or a string of digits, spaces, `+-().`.
    pub fn opt_phone(&self, name: &str) -> Result<Option<String>, ApiError> {
        match present(self.0.get(name)) {
            None => Ok(None),
            Some(Value::Number(n)) if n.is_u64() => Ok(Some(n.to_string())),
            Some(Value::String(s))
                if s.chars().any(|c| c.is_ascii_digit())
                    && s.chars()
                        .all(|c| c.is_ascii_digit() || " +-().".contains(c)) =>
            {
                Ok(Some(s.trim().to_owned()))
            }
            Some(_) => Err(ApiError::invalid(name)),
        }
    }

    /// A decimal amount: a string (`"12.50"`) or a JSON number.
    pub fn opt_money(&self, name: &str) -> Result<Option<giftwire_core::Money>, ApiError> {
        let text = match present(self.0.get(name)) {
            None => return Ok(None),
            Some(Value::String(s)) => s.trim().to_owned(),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => return Err(ApiError::invalid(name)),
        };
        text.parse().map(Some).map_err(|_| ApiError::invalid(name))
    }

    /// An array of objects.
    pub fn objects(&self, name: &str) -> Result<Vec<Fields<'a>>, ApiError> {
        match present(self.0.get(name)) {
            None => Err(ApiError::blank(name)),
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|item| match item {
                    Value::Object(map) => Ok(Fields(map)),
                    _ => Err(ApiError::invalid(name)),
                })
                .collect(),
            Some(Value::Array(_)) => Err(ApiError::blank(name)),
            Some(_) => Err(ApiError::invalid(name)),
        }
    }
}
