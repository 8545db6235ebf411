//! Webhook signing secrets and signatures in the Standard Webhooks scheme (what Svix, and so
//! Sendoso, use): a secret is `whsec_` + base64 of its key bytes; a message is signed as
//! `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")); while a secret is being rotated
//! both signatures are sent, space-separated.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use jiff::SignedDuration;
use rand::RngCore as _;
use sha2::Sha256;

use crate::error::InvalidValue;
use crate::events::EVENT_TYPES;

/// A signing secret. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(Vec<u8>);

impl SigningSecret {
    pub const PREFIX: &'static str = "whsec_";
    /// Random bytes of a new secret (Standard Webhooks asks for 24 to 64).
    pub const NEW_BYTES: usize = 32;

    /// A new secret from the thread-local CSPRNG.
    pub fn generate() -> SigningSecret {
        let mut key = vec![0u8; Self::NEW_BYTES];
        rand::rng().fill_bytes(&mut key);
        SigningSecret(key)
    }

    /// Reads `whsec_<base64>` with 24 to 64 key bytes.
    pub fn parse(s: &str) -> Result<SigningSecret, InvalidValue> {
        let invalid = || InvalidValue::new("secret", "whsec_…");
        let key = s
            .strip_prefix(Self::PREFIX)
            .and_then(|b64| STANDARD.decode(b64).ok())
            .ok_or_else(invalid)?;
        if !(24..=64).contains(&key.len()) {
            return Err(invalid());
        }
        Ok(SigningSecret(key))
    }

    /// The secret as it is shown once to its owner.
    pub fn expose(&self) -> String {
        format!("{}{}", Self::PREFIX, STANDARD.encode(&self.0))
    }

    /// The signature of one message: `v1,<base64>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any size");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(<redacted>)")
    }
}

/// The `webhook-signature` header of a message signed with each of `secrets` (the current one
/// and, during a rotation, the previous one).
pub fn signature_header(
    secrets: &[&SigningSecret],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|s| s.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// When each attempt of a delivery is made, after the failure of the one before (the first at
/// once): the documented schedule. A delivery whose eighth attempt fails is given up.
pub const RETRY_SCHEDULE: [SignedDuration; 8] = [
    SignedDuration::ZERO,
    SignedDuration::from_secs(5),
    SignedDuration::from_mins(5),
    SignedDuration::from_mins(30),
    SignedDuration::from_hours(2),
    SignedDuration::from_hours(5),
    SignedDuration::from_hours(10),
    SignedDuration::from_hours(10),
];

/// How long after `attempts` failed attempts the next one is made; `None` once all are spent.
pub fn retry_delay(attempts: u32) -> Option<SignedDuration> {
    RETRY_SCHEDULE.get(attempts as usize).copied()
}

/// An endpoint whose deliveries have failed, without one success, for this long is disabled.
pub const DISABLE_AFTER: SignedDuration = SignedDuration::from_hours(5 * 24);
/// Failures further apart than this are not one run of failures: the later one starts a new run
/// (an endpoint idle for days, then failing once, has not been failing for those days).
pub const FAILURE_GAP: SignedDuration = SignedDuration::from_hours(24);
/// How long a finished delivery (delivered or given up) is kept for `deliveries` to show.
pub const DELIVERY_RETENTION: SignedDuration = SignedDuration::from_hours(30 * 24);
/// How long an attempt may take, connecting and reading the response included.
pub const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// How much of a response is read (the rest is dropped).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// How long messages are also signed with the previous secret after a rotation.
pub const ROTATION_OVERLAP: SignedDuration = SignedDuration::from_hours(24);
/// The longest URL an endpoint may have.
pub const MAX_URL_LEN: usize = 2048;
/// The longest description.
pub const MAX_DESCRIPTION_LEN: usize = 500;

/// The most endpoints an organization may have (each event is fanned out to every one of them
/// in the transaction of its change).
pub const MAX_ENDPOINTS_PER_ORG: u64 = 50;

/// A description as given, trimmed: at most [`MAX_DESCRIPTION_LEN`] characters, none of them a
/// control character.
pub fn check_description(raw: &str) -> Result<String, EndpointError> {
    if raw.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(EndpointError::Description);
    }
    if raw.chars().any(char::is_control) {
        return Err(EndpointError::DescriptionControl);
    }
    Ok(raw.trim().to_owned())
}

/// The event types an endpoint wants: all of them, or some of the documented ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter(Option<Vec<&'static str>>);

/// Why an endpoint's settings were refused; the message is the client's answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("events: {0:?} is not an event type (one of the 28 documented send.* types)")]
    UnknownEvent(String),
    #[error("events must name at least one event type (or be null for all of them)")]
    NoEvents,
    #[error("url is invalid: {0}")]
    Url(String),
    #[error("description is longer than {MAX_DESCRIPTION_LEN} characters")]
    Description,
    #[error("description must not contain control characters")]
    DescriptionControl,
    #[error("an organization has at most {MAX_ENDPOINTS_PER_ORG} webhook endpoints")]
    TooMany,
}

impl EventFilter {
    /// Every event type, including any documented later.
    pub fn all() -> EventFilter {
        EventFilter(None)
    }

    /// Some documented types (in the documentation's order, once each); none is refused.
    pub fn of<'a>(types: impl IntoIterator<Item = &'a str>) -> Result<EventFilter, EndpointError> {
        let mut wanted = Vec::new();
        for t in types {
            let t = t.trim();
            let known = EVENT_TYPES
                .iter()
                .find(|known| **known == t)
                .ok_or_else(|| EndpointError::UnknownEvent(t.to_owned()))?;
            wanted.push(*known);
        }
        if wanted.is_empty() {
            return Err(EndpointError::NoEvents);
        }
        Ok(EventFilter(Some(
            EVENT_TYPES
                .iter()
                .copied()
                .filter(|t| wanted.contains(t))
                .collect(),
        )))
    }

    /// `send.sent,send.delivered` (the command line's form).
    pub fn parse_list(s: &str) -> Result<EventFilter, EndpointError> {
        EventFilter::of(s.split(',').filter(|t| !t.trim().is_empty()))
    }

    /// The stored form: `None` for all, else ` send.a send.b ` (spaces around each, so that a
    /// database can match a type with a substring search).
    pub fn stored(&self) -> Option<String> {
        self.0
            .as_ref()
            .map(|types| format!(" {} ", types.join(" ")))
    }

    /// Reads [`EventFilter::stored`]; unknown types are dropped.
    pub fn from_stored(stored: Option<&str>) -> EventFilter {
        match stored {
            None => EventFilter::all(),
            Some(s) => EventFilter(Some(
                EVENT_TYPES
                    .iter()
                    .copied()
                    .filter(|t| s.split(' ').any(|part| part == *t))
                    .collect(),
            )),
        }
    }

    pub fn is_all(&self) -> bool {
        self.0.is_none()
    }

    /// The types wanted, in the documentation's order.
    pub fn types(&self) -> Vec<&'static str> {
        match &self.0 {
            None => EVENT_TYPES.to_vec(),
            Some(types) => types.clone(),
        }
    }

    pub fn matches(&self, event_type: &str) -> bool {
        self.0
            .as_ref()
            .is_none_or(|types| types.contains(&event_type))
    }
}

/// Whether a webhook may be sent to `ip`: not to a private, loopback, link-local, unspecified,
/// shared (carrier-grade NAT), broadcast, multicast or reserved address, nor to one of those
/// written as IPv6 (IPv4-mapped, IPv4-compatible or NAT64).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let segments = v6.segments();
            // ::a.b.c.d (IPv4-compatible, deprecated) and 64:ff9b::a.b.c.d (NAT64).
            let embedded = Ipv4Addr::from_bits(v6.to_bits() as u32);
            // … and 64:ff9b:1::/48 (local-use NAT64), whose last 32 bits are an IPv4 address.
            if segments[..6] == [0, 0, 0, 0, 0, 0]
                || segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
                || segments[..3] == [0x64, 0xff9b, 1]
            {
                return !v6.is_unspecified() && !v6.is_loopback() && is_public_v4(embedded);
            }
            // 6to4 (2002::/16) carries an IPv4 address in its bits 16 to 48.
            if segments[0] == 0x2002 {
                let v4 =
                    Ipv4Addr::from_bits((u32::from(segments[1]) << 16) | u32::from(segments[2]));
                return is_public_v4(v4);
            }
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                // Site-local (fec0::/10, deprecated but still routed inside some networks).
                || segments[0] & 0xffc0 == 0xfec0
                // Documentation (2001:db8::/32), Teredo (2001::/32, which tunnels to any IPv4
                // address), benchmarking (2001:2::/48), discard-only (100::/64).
                || (segments[0] == 0x2001 && segments[1] == 0x0db8)
                || (segments[0] == 0x2001 && segments[1] == 0)
                || (segments[0] == 0x2001 && segments[1] == 2 && segments[2] == 0)
                || segments[..4] == [0x100, 0, 0, 0])
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (100.64.0.0/10), IETF protocol assignments (192.0.0.0/24),
        // 6to4 relays (192.88.99.0/24), benchmarking (198.18.0.0/15), reserved (240/4).
        || (a == 100 && (64..128).contains(&b))
        || ip.octets()[..3] == [192, 0, 0]
        || ip.octets()[..3] == [192, 88, 99]
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

/// An endpoint's URL, checked: `https` with a host and no credentials, at most
/// [`MAX_URL_LEN`] long, and not an address [`is_public`] refuses. With `allow_private` (local
/// development) `http` and every address are allowed. A host name is resolved (and its
/// addresses checked) by the caller, when the endpoint is created and at each connection.
pub fn check_url(raw: &str, allow_private: bool) -> Result<url::Url, EndpointError> {
    let bad = |why: &str| EndpointError::Url(why.to_owned());
    if raw.len() > MAX_URL_LEN {
        return Err(bad("it is longer than 2048 characters"));
    }
    let url = url::Url::parse(raw.trim()).map_err(|e| EndpointError::Url(e.to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err(bad("it must be https")),
        _ => return Err(bad("it must be an https URL")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("it must not carry credentials"));
    }
    if url.fragment().is_some() {
        return Err(bad("it must not have a fragment"));
    }
    let ip = match url.host() {
        None => return Err(bad("it has no host")),
        Some(url::Host::Domain(_)) => None,
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
    };
    if let Some(ip) = ip
        && !allow_private
        && !is_public(ip)
    {
        return Err(EndpointError::Url(format!(
            "{ip} is a private, loopback, link-local or reserved address"
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification.
    #[test]
    fn the_published_example_signs_as_published() {
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            secret.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert_eq!(secret.expose(), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    }

    #[test]
    fn a_rotation_sends_both_signatures_and_secrets_round_trip() {
        let new = SigningSecret::generate();
        let old = SigningSecret::generate();
        assert_ne!(new, old);
        assert_eq!(SigningSecret::parse(&new.expose()).unwrap(), new);
        let header = signature_header(&[&new, &old], "msg_1", 1, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(
            parts,
            [new.sign("msg_1", 1, b"{}"), old.sign("msg_1", 1, b"{}")]
        );
        assert_ne!(new.sign("msg_1", 1, b"{}"), new.sign("msg_1", 2, b"{}"));
        assert_eq!(format!("{new:?}"), "SigningSecret(<redacted>)");
    }

    #[test]
    fn malformed_secrets_are_refused() {
        for bad in [
            "",
            "whsec_",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_!!!",
            "whsec_c2hvcnQ=",
        ] {
            assert!(SigningSecret::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_schedule_is_the_documented_one() {
        let secs: Vec<i64> = (0..9).map_while(retry_delay).map(|d| d.as_secs()).collect();
        assert_eq!(secs, [0, 5, 300, 1800, 7200, 18000, 36000, 36000]);
    }

    #[test]
    fn event_filters_name_documented_types_in_a_stored_form_databases_can_match() {
        let some = EventFilter::parse_list("send.sent, send.delivered").unwrap();
        assert_eq!(some.types(), ["send.delivered", "send.sent"]);
        assert_eq!(some.stored().as_deref(), Some(" send.delivered send.sent "));
        assert_eq!(EventFilter::from_stored(some.stored().as_deref()), some);
        assert!(some.matches("send.sent") && !some.matches("send.opened"));
        assert!(EventFilter::all().matches("send.opened"));
        assert_eq!(EventFilter::all().types().len(), 28);
        assert_eq!(EventFilter::from_stored(None), EventFilter::all());
        assert_eq!(
            EventFilter::parse_list("send.sent,send.nope"),
            Err(EndpointError::UnknownEvent("send.nope".into()))
        );
        assert_eq!(EventFilter::parse_list(""), Err(EndpointError::NoEvents));
        // A prefix of a type is not that type.
        assert!(EventFilter::parse_list("send.sen").is_err());
    }

    #[test]
    fn only_public_addresses_receive_webhooks() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "fc00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "::127.0.0.1",
            "ff02::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn urls_must_be_https_to_a_public_host_unless_private_ones_are_allowed() {
        assert!(check_url("https://hooks.example.com/in", false).is_ok());
        for bad in [
            "http://hooks.example.com/in",
            "ftp://hooks.example.com/",
            "https://user:pw@hooks.example.com/",
            "https://127.0.0.1/in",
            "https://[::1]:8443/in",
            "https://10.0.0.5/in",
            "https://169.254.169.254/latest/meta-data",
            "https://0x7f000001/",
            "not a url",
            "https://",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_url("http://127.0.0.1:9000/in", true).is_ok());
        assert!(check_url("ftp://127.0.0.1/", true).is_err());
        assert!(check_url(&format!("https://a.example/{}", "x".repeat(2048)), false).is_err());
    }
}
