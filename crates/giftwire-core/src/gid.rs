//! `send_gid`: the base64 of `gid://sendoso/Send/<id>` (CONTRACT.md §5).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

use crate::ids::SendId;

const PREFIX: &str = "gid://sendoso/Send/";

/// The global id of a send as clients see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendGid(String);

impl SendGid {
    /// Standard alphabet, padding removed. For our ids this never contains `+` or `/`.
    pub fn of(id: SendId) -> SendGid {
        SendGid(STANDARD_NO_PAD.encode(format!("{PREFIX}{id}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Reads a gid in the padded, unpadded or URL-safe form. `None` unless it decodes to
    /// `gid://sendoso/Send/<positive decimal id>`.
    pub fn parse(s: &str) -> Option<SendId> {
        let trimmed = s.trim_end_matches('=');
        let bytes = STANDARD_NO_PAD
            .decode(trimmed)
            .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed))
            .ok()?;
        let digits = std::str::from_utf8(&bytes).ok()?.strip_prefix(PREFIX)?;
        if digits.is_empty()
            || digits.starts_with('0')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        digits.parse::<i64>().ok().map(SendId::new)
    }
}

impl std::fmt::Display for SendGid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_seeds_examples_decode_to_their_ids() {
        assert_eq!(
            SendGid::of(SendId::new(44)).as_str(),
            "Z2lkOi8vc2VuZG9zby9TZW5kLzQ0"
        );
        assert_eq!(
            SendGid::of(SendId::new(1)).as_str(),
            "Z2lkOi8vc2VuZG9zby9TZW5kLzE"
        );
        assert_eq!(
            SendGid::parse("Z2lkOi8vc2VuZG9zby9TZW5kLzE="),
            Some(SendId::new(1))
        );
        assert_eq!(
            SendGid::parse("Z2lkOi8vc2VuZG9zby9TZW5kLzE"),
            Some(SendId::new(1))
        );
    }

    #[test]
    fn other_gids_and_garbage_are_refused() {
        use base64::engine::general_purpose::STANDARD;
        assert_eq!(
            SendGid::parse(&STANDARD.encode("gid://sendoso/User/1")),
            None
        );
        assert_eq!(
            SendGid::parse(&STANDARD.encode("gid://sendoso/Send/")),
            None
        );
        assert_eq!(
            SendGid::parse(&STANDARD.encode("gid://sendoso/Send/01")),
            None
        );
        assert_eq!(
            SendGid::parse(&STANDARD.encode("gid://sendoso/Send/1x")),
            None
        );
        assert_eq!(SendGid::parse("!!!"), None);
        assert_eq!(SendGid::parse(""), None);
    }

    proptest! {
        #[test]
        fn every_id_round_trips_in_every_form(id in 1i64..i64::MAX) {
            let gid = SendGid::of(SendId::new(id));
            prop_assert!(gid.as_str().bytes().all(|b| b.is_ascii_alphanumeric()));
            prop_assert_eq!(SendGid::parse(gid.as_str()), Some(SendId::new(id)));
            let raw = format!("gid://sendoso/Send/{id}");
            let padded = base64::engine::general_purpose::STANDARD.encode(&raw);
            let url = base64::engine::general_purpose::URL_SAFE.encode(&raw);
            prop_assert_eq!(SendGid::parse(&padded), Some(SendId::new(id)));
            prop_assert_eq!(SendGid::parse(&url), Some(SendId::new(id)));
        }
    }
}
