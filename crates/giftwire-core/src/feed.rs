//! Reading an organization's sends other than page by page: the filters of the listing and of
//! the export, and the change feed's positions and cursors.
//!
//! A send's position in its organization's change feed is that of its last change (its
//! creation or its latest status update): a number given to each change in the order the
//! changes of the organization commit (see migration 0010), so that a reader continuing after
//! the last position it saw misses nothing and sees nothing twice.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;

use crate::catalog::SendType;
use crate::ids::{OrgId, TouchId, UserId};
use crate::seal::SealingKey;
use crate::status::SendStatus;

/// Which sends a listing or an export holds: all of them when every field is empty. Each given
/// field narrows the set (they combine with AND; the statuses are alternatives).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendFilter {
    /// The send's current status is one of these (any when empty).
    pub statuses: Vec<SendStatus>,
    /// The type of the send's touch.
    pub send_type: Option<SendType>,
    pub touch: Option<TouchId>,
    pub sender: Option<UserId>,
    /// Created strictly after this instant.
    pub created_after: Option<Timestamp>,
    /// Created strictly before this instant.
    pub created_before: Option<Timestamp>,
    /// The recipient's email, compared without regard to ASCII case.
    pub recipient_email: Option<String>,
}

impl SendFilter {
    /// Whether the filter holds every send.
    pub fn is_empty(&self) -> bool {
        *self == SendFilter::default()
    }

    /// `created_after` for creation times in whole seconds: a time c is after t exactly when c
    /// is after floor(t).
    pub fn created_after_second(&self) -> Option<i64> {
        self.created_after
            .map(|t| t.as_second() - i64::from(t.subsec_nanosecond() < 0))
    }

    /// `created_before` for creation times in whole seconds: c is before t exactly when c is
    /// before ceil(t).
    pub fn created_before_second(&self) -> Option<i64> {
        self.created_before
            .map(|t| t.as_second() + i64::from(t.subsec_nanosecond() > 0))
    }
}

/// Where a change stands in its organization's feed (see the module's documentation). The
/// default is before every change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChangePosition {
    pub seq: i64,
}

/// What a cursor's MAC binds it to, besides its position.
const CURSOR_PURPOSE: &str = "giftwire send changes cursor";
const CURSOR_VERSION: u8 = 1;
const MAC_BYTES: usize = 16;
const CURSOR_BYTES: usize = 1 + 8 + MAC_BYTES;

/// A cursor a client cannot forge or alter, nor use with another organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("after is not a cursor this server gave to this organization")]
pub struct InvalidCursor;

impl ChangePosition {
    /// The opaque cursor of this position for `org`: base64url of a version byte, the position,
    /// and 16 bytes of an HMAC-SHA256 over them and the organization under the server's key.
    pub fn cursor(self, org: OrgId, key: &SealingKey) -> String {
        let mut bytes = Vec::with_capacity(CURSOR_BYTES);
        bytes.push(CURSOR_VERSION);
        bytes.extend_from_slice(&self.seq.to_be_bytes());
        let mac = cursor_mac(org, key, &bytes);
        bytes.extend_from_slice(&mac);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The position of a cursor [`ChangePosition::cursor`] made for `org` with `key`.
    pub fn from_cursor(
        cursor: &str,
        org: OrgId,
        key: &SealingKey,
    ) -> Result<ChangePosition, InvalidCursor> {
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| InvalidCursor)?;
        if bytes.len() != CURSOR_BYTES || bytes[0] != CURSOR_VERSION {
            return Err(InvalidCursor);
        }
        let (body, mac) = bytes.split_at(CURSOR_BYTES - MAC_BYTES);
        let expected = cursor_mac(org, key, body);
        // Constant time: the comparison does not tell how much of a forged MAC was right.
        let differs = expected
            .iter()
            .zip(mac)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if differs != 0 {
            return Err(InvalidCursor);
        }
        let position = ChangePosition {
            seq: i64::from_be_bytes(body[1..9].try_into().expect("8 bytes")),
        };
        if position.seq < 0 {
            return Err(InvalidCursor);
        }
        Ok(position)
    }
}

fn cursor_mac(org: OrgId, key: &SealingKey, body: &[u8]) -> [u8; MAC_BYTES] {
    let mut data = org.get().to_be_bytes().to_vec();
    data.extend_from_slice(body);
    let mac = key.mac(CURSOR_PURPOSE, &data);
    mac[..MAC_BYTES].try_into().expect("16 of 32 bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_gives_back_its_position_for_its_organization_only() {
        let key = SealingKey::generate();
        let org = OrgId::new(7);
        let at = ChangePosition { seq: 1 << 40 };
        let cursor = at.cursor(org, &key);
        assert!(
            cursor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(ChangePosition::from_cursor(&cursor, org, &key), Ok(at));
        assert_eq!(
            ChangePosition::from_cursor(&cursor, OrgId::new(8), &key),
            Err(InvalidCursor)
        );
        assert_eq!(
            ChangePosition::from_cursor(&cursor, org, &SealingKey::generate()),
            Err(InvalidCursor)
        );
    }

    #[test]
    fn any_altered_cursor_is_refused() {
        let key = SealingKey::generate();
        let org = OrgId::new(1);
        let cursor = ChangePosition { seq: 99 }.cursor(org, &key);
        let bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut altered = bytes.clone();
                altered[i] ^= 1 << bit;
                let altered = URL_SAFE_NO_PAD.encode(altered);
                assert_eq!(
                    ChangePosition::from_cursor(&altered, org, &key),
                    Err(InvalidCursor)
                );
            }
        }
        for bad in ["", "x", "not base64!", &cursor[1..], &format!("{cursor}A")] {
            assert_eq!(
                ChangePosition::from_cursor(bad, org, &key),
                Err(InvalidCursor)
            );
        }
    }

    #[test]
    fn creation_bounds_in_whole_seconds_keep_strictness() {
        let at = |s: &str| Some(s.parse::<Timestamp>().unwrap());
        let f = SendFilter {
            created_after: at("2026-01-01T00:00:10.5Z"),
            created_before: at("2026-01-01T00:00:20.5Z"),
            ..SendFilter::default()
        };
        let base = at("2026-01-01T00:00:00Z").unwrap().as_second();
        assert_eq!(f.created_after_second(), Some(base + 10));
        assert_eq!(f.created_before_second(), Some(base + 21));
        let whole = SendFilter {
            created_after: at("2026-01-01T00:00:10Z"),
            created_before: at("2026-01-01T00:00:20Z"),
            ..SendFilter::default()
        };
        assert_eq!(whole.created_after_second(), Some(base + 10));
        assert_eq!(whole.created_before_second(), Some(base + 20));
        let early = SendFilter {
            created_after: at("1969-12-31T23:59:59.5Z"),
            created_before: at("1969-12-31T23:59:59.5Z"),
            ..SendFilter::default()
        };
        assert_eq!(early.created_after_second(), Some(-1));
        assert_eq!(early.created_before_second(), Some(0));
    }
}
