//! SCIM PATCH (RFC 7644 §3.5.2) on a user's [`Doc`]: `add`, `replace` and `remove`, with a path
//! (`active`, `name.givenName`, `emails[type eq "work"].value`, the enterprise extension's
//! `division`, …) or, for `add` and `replace`, without one and an object of attributes. Written
//! for what identity providers send: Entra ID capitalizes operations (`Replace`) and sends
//! booleans as strings (`"False"`); unknown attributes in a path-less value are ignored.

use giftwire_core::scim::{Attr, Filter};
use giftwire_core::store::ScimEmail;
use serde_json::{Map, Value};

use super::ScimError;
use super::users::{Doc, Field, boolean, email};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

fn get<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// Applies a PatchOp request's operations in order; any refused operation refuses them all
/// (the caller writes nothing).
pub(super) fn apply(doc: &mut Doc, body: &Value) -> Result<(), ScimError> {
    let syntax = |detail: &str| ScimError::bad("invalidSyntax", detail.to_owned());
    let Value::Object(body) = body else {
        return Err(syntax("The request body must be a JSON object"));
    };
    let Some(Value::Array(operations)) = get(body, "Operations") else {
        return Err(syntax("A PatchOp request has an \"Operations\" array"));
    };
    if operations.is_empty() {
        return Err(syntax("\"Operations\" is empty"));
    }
    for operation in operations {
        let Value::Object(operation) = operation else {
            return Err(syntax("Each operation is an object"));
        };
        let op = match get(operation, "op")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
        {
            Some(op) if op == "add" => Op::Add,
            Some(op) if op == "replace" => Op::Replace,
            Some(op) if op == "remove" => Op::Remove,
            _ => return Err(syntax("\"op\" is add, replace or remove")),
        };
        let path = match get(operation, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) if p.trim().is_empty() => None,
            Some(Value::String(p)) => Some(p.trim().to_owned()),
            Some(_) => return Err(ScimError::bad("invalidPath", "\"path\" is a string")),
        };
        let value = get(operation, "value");
        match (op, path) {
            (Op::Remove, None) => {
                return Err(ScimError::bad(
                    "noTarget",
                    "A remove operation needs a path",
                ));
            }
            (Op::Remove, Some(path)) => remove(doc, &path)?,
            (op, None) => {
                let Some(Value::Object(values)) = value else {
                    return Err(ScimError::bad(
                        "invalidValue",
                        "Without a path, the value is an object of attributes",
                    ));
                };
                set_all(doc, values, op == Op::Add)?;
            }
            (op, Some(path)) => {
                let value = value.ok_or_else(|| {
                    ScimError::bad(
                        "invalidValue",
                        format!("The {path:?} operation has no value"),
                    )
                })?;
                set(doc, &path, value, op == Op::Add)?;
            }
        }
    }
    Ok(())
}

/// A path-less value: each key is a path (`active`, `name.givenName`, a schema URN's object).
fn set_all(doc: &mut Doc, values: &Map<String, Value>, merge: bool) -> Result<(), ScimError> {
    for (key, value) in values {
        if key.eq_ignore_ascii_case(giftwire_api::scim::ENTERPRISE_SCHEMA) {
            if let Value::Object(ext) = value {
                set_all(doc, ext, merge)?;
            }
            continue;
        }
        match Field::parse(key) {
            Some(Field::ReadOnly) | None => {}
            Some(field) => doc.set(field, value, merge)?,
        }
    }
    Ok(())
}

fn unknown(path: &str) -> ScimError {
    ScimError::bad(
        "invalidPath",
        format!("{path:?} is not an attribute of a user"),
    )
}

/// An `emails[<filter>]` path: the filter and the sub-attribute after it, if any.
fn email_path(path: &str) -> Result<Option<(Filter, Option<String>)>, ScimError> {
    let lower = path.to_ascii_lowercase();
    let lower = lower
        .strip_prefix("urn:ietf:params:scim:schemas:core:2.0:user:")
        .unwrap_or(&lower);
    if !lower.starts_with("emails[") {
        return Ok(None);
    }
    let offset = path.len() - lower.len();
    let close = path.rfind(']').ok_or_else(|| unknown(path))?;
    // `emails[…]` parses to the filter each email must match.
    let filter = match Filter::parse(&path[offset..=close]) {
        Ok(Filter::Emails(inner)) => *inner,
        Ok(_) => return Err(unknown(path)),
        Err(e) => return Err(ScimError::bad("invalidPath", format!("{path:?}: {e}"))),
    };
    let rest = path[close + 1..].trim();
    let sub = match rest {
        "" => None,
        _ => Some(
            rest.strip_prefix('.')
                .ok_or_else(|| unknown(path))?
                .to_ascii_lowercase(),
        ),
    };
    if sub
        .as_deref()
        .is_some_and(|s| !matches!(s, "value" | "type" | "primary"))
    {
        return Err(unknown(path));
    }
    Ok(Some((filter, sub)))
}

fn set_sub(e: &mut ScimEmail, sub: &str, value: &Value) -> Result<(), ScimError> {
    match sub {
        "value" => {
            e.value = email(&serde_json::json!({"value": value}))?.value;
        }
        "type" => e.kind = value.as_str().map(str::to_owned),
        _ => e.primary = Some(boolean("emails.primary", value)?),
    }
    Ok(())
}

fn set(doc: &mut Doc, path: &str, value: &Value, merge: bool) -> Result<(), ScimError> {
    if let Some((filter, sub)) = email_path(path)? {
        let mut emails = doc.emails.take().unwrap_or_default();
        let mut found = false;
        for e in emails.iter_mut() {
            if filter.matches(&*e) {
                found = true;
                match &sub {
                    Some(sub) => set_sub(e, sub, value)?,
                    None => *e = email(value)?,
                }
            }
        }
        if !found {
            // Entra ID adds a work email this way: the new email takes the filter's type.
            let mut new = match &sub {
                None => email(value)?,
                Some(_) => ScimEmail {
                    value: String::new(),
                    kind: None,
                    primary: None,
                },
            };
            if let Some(sub) = &sub {
                set_sub(&mut new, sub, value)?;
            }
            if let Filter::Compare(Attr::EmailType, _, giftwire_core::scim::Literal::Str(kind)) =
                &filter
            {
                new.kind.get_or_insert_with(|| kind.clone());
            }
            if new.value.is_empty() {
                return Err(ScimError::bad(
                    "noTarget",
                    format!("{path:?} matches no email"),
                ));
            }
            emails.push(new);
        }
        doc.emails = Some(emails);
        return Ok(());
    }
    match Field::parse(path) {
        Some(Field::ReadOnly) => Err(ScimError::bad(
            "mutability",
            "id, meta and schemas cannot change",
        )),
        Some(field) => doc.set(field, value, merge),
        None => Err(unknown(path)),
    }
}

fn remove(doc: &mut Doc, path: &str) -> Result<(), ScimError> {
    if let Some((filter, sub)) = email_path(path)? {
        let mut emails = doc.emails.take().unwrap_or_default();
        match sub.as_deref() {
            None | Some("value") => emails.retain(|e| !filter.matches(e)),
            Some(sub) => {
                for e in emails.iter_mut().filter(|e| filter.matches(&**e)) {
                    if sub == "type" {
                        e.kind = None;
                    } else {
                        e.primary = None;
                    }
                }
            }
        }
        doc.emails = (!emails.is_empty()).then_some(emails);
        return Ok(());
    }
    doc.remove(Field::parse(path).ok_or_else(|| unknown(path))?)
}
