//! The filters of `GET /api/v3/send` and of the export (our additions): which query parameters
//! they are and how their values are read.

use giftwire_core::{OrgTimeZone, SendFilter, SendStatus, SendType, TouchId, UserId};
use jiff::Timestamp;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn, ParameterStyle};
use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, KnownFormat, SchemaFormat};

use crate::openapi::{integer, query, string};

use crate::error::ApiError;

/// The filter parameters given at most once; `status` may be repeated.
pub(super) const SINGLE: &[&str] = &[
    "type",
    "touch_id",
    "sender_id",
    "created_after",
    "created_before",
    "recipient_email",
];

/// The longest `recipient_email` worth looking for, in characters (RFC 5321's path limit).
const MAX_EMAIL: usize = 320;

/// Reads the filter of a query: `params` holds the single-valued parameters (each given at most
/// once, see [`SINGLE`]), `raw` the whole query for the repeatable `status`. Dates without a
/// time mean the start of that day in the organization's time zone.
pub(super) fn parse(
    raw: Option<&str>,
    params: &std::collections::HashMap<&'static str, String>,
    tz: &OrgTimeZone,
) -> Result<SendFilter, ApiError> {
    let mut filter = SendFilter::default();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if key == "status" {
            let status: SendStatus = value.parse().map_err(|_| {
                ApiError::BadRequest(format!(
                    "status {value:?} is not a status (one of {})",
                    list(SendStatus::ALL.iter().map(|s| s.as_str()))
                ))
            })?;
            if !filter.statuses.contains(&status) {
                filter.statuses.push(status);
            }
        }
    }
    if let Some(value) = params.get("type") {
        filter.send_type = Some(value.parse::<SendType>().map_err(|_| {
            ApiError::BadRequest(format!(
                "type {value:?} is not a send type (one of {})",
                list(SendType::ALL.iter().map(|t| t.as_str()))
            ))
        })?);
    }
    filter.touch = params
        .get("touch_id")
        .map(|v| id("touch_id", v).map(TouchId::new))
        .transpose()?;
    filter.sender = params
        .get("sender_id")
        .map(|v| id("sender_id", v).map(UserId::new))
        .transpose()?;
    filter.created_after = params
        .get("created_after")
        .map(|v| instant("created_after", v, tz))
        .transpose()?;
    filter.created_before = params
        .get("created_before")
        .map(|v| instant("created_before", v, tz))
        .transpose()?;
    if let Some(email) = params.get("recipient_email") {
        let email = email.trim();
        if email.is_empty()
            || email.chars().count() > MAX_EMAIL
            || email.chars().any(char::is_control)
        {
            return Err(ApiError::BadRequest(format!(
                "recipient_email must be an email address of at most {MAX_EMAIL} characters"
            )));
        }
        filter.recipient_email = Some(email.to_owned());
    }
    Ok(filter)
}

fn list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn id(name: &str, value: &str) -> Result<i64, ApiError> {
    super::super::numeric_id(value)
        .filter(|&n| n > 0)
        .ok_or_else(|| ApiError::BadRequest(format!("{name} must be a positive integer")))
}

/// An RFC 3339 instant (`2026-05-01T12:00:00Z`, `2026-05-01T05:00:00-07:00`) or a date
/// (`2026-05-01`: its first instant in the organization's time zone).
fn instant(name: &str, value: &str, tz: &OrgTimeZone) -> Result<Timestamp, ApiError> {
    let invalid = || {
        ApiError::BadRequest(format!(
            "{name} must be an RFC 3339 date-time such as 2026-05-01T12:00:00Z, or a date such \
             as 2026-05-01"
        ))
    };
    let at = match value.parse::<Timestamp>() {
        Ok(at) => at,
        Err(_) => {
            let day: jiff::civil::Date = value.parse().map_err(|_| invalid())?;
            if value.len() != 10 {
                return Err(invalid());
            }
            tz.start_of_day(day).map_err(|_| invalid())?
        }
    };
    // Years 1 to 9999 (jiff reads six-digit years; the databases store four).
    let (earliest, latest) = (-62_135_596_800, 253_402_300_799);
    if !(earliest..=latest).contains(&at.as_second()) {
        return Err(ApiError::BadRequest(format!(
            "{name} must be between the years 1 and 9999"
        )));
    }
    Ok(at)
}

/// A string without control characters that is not blank (what the filters accept).
const PRINTABLE: &str = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$";

/// The filters of the send listing and the export (our additions), from the same lists the
/// parser reads ([`SendStatus::ALL`], [`SendType::ALL`]).
pub(super) struct SendFilterParams;

impl utoipa::IntoParams for SendFilterParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let status = ParameterBuilder::new()
            .name("status")
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(
                "Sends in one of these statuses (repeat the parameter for several); a giftwire \
                 addition",
            ))
            .schema(Some(ArrayBuilder::new().items(
                string().enum_values(Some(SendStatus::ALL.iter().map(|s| s.as_str()))),
            )))
            .style(Some(ParameterStyle::Form))
            .explode(Some(true))
            .build();
        let instant = || {
            AnyOfBuilder::new()
                .item(string().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))))
                .item(string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))))
        };
        vec![
            status,
            query(
                "type",
                "Sends of touches of this type; a giftwire addition",
                string().enum_values(Some(SendType::ALL.iter().map(|t| t.as_str()))),
            ),
            query(
                "touch_id",
                "Sends of this touch; a giftwire addition",
                integer(1, i64::MAX),
            ),
            query(
                "sender_id",
                "Sends this user sent; a giftwire addition",
                integer(1, i64::MAX),
            ),
            query(
                "created_after",
                "Sends created strictly after this instant (RFC 3339, years 1 to 9999), or after \
                 the start of this date in the organization's time zone; a giftwire addition",
                instant(),
            ),
            query(
                "created_before",
                "Sends created strictly before this instant (RFC 3339, years 1 to 9999), or \
                 before the start of this date in the organization's time zone; a giftwire \
                 addition",
                instant(),
            ),
            query(
                "recipient_email",
                "Sends to this address (the whole address, spaces around it ignored, ASCII case \
                 ignored); a giftwire addition",
                string()
                    .max_length(Some(MAX_EMAIL))
                    .pattern(Some(PRINTABLE)),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn params(pairs: &[(&'static str, &str)]) -> HashMap<&'static str, String> {
        pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    }

    #[test]
    fn statuses_repeat_and_other_filters_parse() {
        let tz = OrgTimeZone::parse("America/Los_Angeles").unwrap();
        let f = parse(
            Some("status=Sent&status=Opened&status=Sent&type=eGifts%20USA"),
            &params(&[
                ("type", "eGifts USA"),
                ("touch_id", "4"),
                ("sender_id", "9"),
                ("created_after", "2026-05-01"),
                ("created_before", "2026-05-02T00:00:00Z"),
                ("recipient_email", " A@Example.com "),
            ]),
            &tz,
        )
        .unwrap();
        assert_eq!(f.statuses, [SendStatus::Sent, SendStatus::Opened]);
        assert_eq!(f.send_type, Some(SendType::EgiftsUsa));
        assert_eq!(f.touch, Some(TouchId::new(4)));
        assert_eq!(f.sender, Some(UserId::new(9)));
        assert_eq!(
            f.created_after,
            Some("2026-05-01T07:00:00Z".parse().unwrap())
        );
        assert_eq!(
            f.created_before,
            Some("2026-05-02T00:00:00Z".parse().unwrap())
        );
        assert_eq!(f.recipient_email.as_deref(), Some("A@Example.com"));
    }

    #[test]
    fn bad_values_are_refused_with_what_is_expected() {
        let tz = OrgTimeZone::utc();
        let bad = |raw: &str, p: &[(&'static str, &str)]| {
            parse(Some(raw), &params(p), &tz).unwrap_err().to_string()
        };
        assert!(bad("status=sent", &[]).contains("\"Sent\""));
        assert!(bad("", &[("type", "egift")]).contains("\"eGifts USA\""));
        assert!(bad("", &[("touch_id", "0")]).contains("touch_id must be a positive integer"));
        assert!(bad("", &[("sender_id", "-3")]).contains("sender_id"));
        assert!(bad("", &[("created_after", "yesterday")]).contains("RFC 3339"));
        assert!(bad("", &[("created_before", "2026-5-1")]).contains("RFC 3339"));
        assert!(bad("", &[("recipient_email", "  ")]).contains("recipient_email"));
        assert!(bad("", &[("recipient_email", "a\0b@x.com")]).contains("recipient_email"));
        assert!(bad("", &[("created_after", "0000-06-01T00:00:00Z")]).contains("years 1 and 9999"));
        assert!(bad("", &[("created_before", "0000-01-01")]).contains("years 1 and 9999"));
        assert!(parse(None, &params(&[]), &tz).unwrap().is_empty());
    }
}
