//! Webhook signing secrets and signatures in the Standard Webhooks scheme (what Svix, and so
//! Sendoso, use): a secret is `whsec_` + base64 of its key bytes; a message is signed as
//! `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")); while a secret is being rotated
//! both signatures are sent, space-separated.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::Sha256;

use crate::error::InvalidValue;

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
}
