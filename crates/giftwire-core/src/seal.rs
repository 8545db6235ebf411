//! Sealing: how secrets giftwire must use again (webhook signing secrets, which sign every
//! message and so cannot be hashed) are stored. A sealed value is `v1.` + base64 of a random
//! 24-byte nonce and the XChaCha20-Poly1305 encryption of the secret under the operator's
//! sealing key, bound to what the secret is for: the database alone reveals no secret, and a
//! sealed value cannot be moved to another use or altered without failing to open.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore as _;

use crate::error::InvalidValue;

const VERSION: &str = "v1.";
const NONCE_BYTES: usize = 24;

/// The key secrets are sealed with: 32 random bytes, kept by the operator outside the database
/// (`--sealing-key-file`). `Debug` never shows it.
#[derive(Clone)]
pub struct SealingKey([u8; 32]);

/// A sealed value that does not open with this key (another key, or altered).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a sealed secret does not open with this sealing key (another key sealed it, or it was altered)"
)]
pub struct Unsealable;

impl SealingKey {
    /// A new key from the thread-local CSPRNG.
    pub fn generate() -> SealingKey {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        SealingKey(key)
    }

    /// Reads the key file's form: base64 of 32 bytes (surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<SealingKey, InvalidValue> {
        let invalid = || InvalidValue::new("sealing key", "(base64 of 32 bytes expected)");
        let bytes = STANDARD.decode(text.trim()).map_err(|_| invalid())?;
        Ok(SealingKey(bytes.try_into().map_err(|_| invalid())?))
    }

    /// The key file's form.
    pub fn encode(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Seals `secret` for `purpose` (a fixed label, such as `webhook signing secret`).
    pub fn seal(&self, purpose: &str, secret: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: secret,
                    aad: purpose.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any message of a secret's size");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{VERSION}{}", STANDARD.encode(out))
    }

    /// Opens what [`SealingKey::seal`] sealed for the same `purpose`.
    pub fn open(&self, purpose: &str, sealed: &str) -> Result<Vec<u8>, Unsealable> {
        let bytes = sealed
            .strip_prefix(VERSION)
            .and_then(|b64| STANDARD.decode(b64).ok())
            .filter(|b| b.len() > NONCE_BYTES)
            .ok_or(Unsealable)?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| Unsealable)?;
        self.cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| Unsealable)
    }

    /// An HMAC-SHA256 of `data` for `purpose` under this key: what makes a value handed to
    /// clients (a change feed cursor) tamper-evident without storing it.
    pub fn mac(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0)
            .expect("HMAC takes keys of any size");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_with_its_key_and_purpose_only() {
        let key = SealingKey::generate();
        let sealed = key.seal("webhook signing secret", b"the secret");
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("the secret"));
        assert_eq!(
            key.open("webhook signing secret", &sealed).unwrap(),
            b"the secret"
        );
        // A new nonce each time: the same secret seals differently.
        assert_ne!(sealed, key.seal("webhook signing secret", b"the secret"));
        assert_eq!(key.open("another purpose", &sealed), Err(Unsealable));
        assert_eq!(
            SealingKey::generate().open("webhook signing secret", &sealed),
            Err(Unsealable)
        );
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 3;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            key.open(
                "webhook signing secret",
                std::str::from_utf8(&altered).unwrap()
            ),
            Err(Unsealable)
        );
        assert_eq!(key.open("webhook signing secret", "v1."), Err(Unsealable));
        assert_eq!(key.open("webhook signing secret", "plain"), Err(Unsealable));
    }

    #[test]
    fn keys_round_trip_through_their_file_form_and_never_show() {
        let key = SealingKey::generate();
        let again = SealingKey::parse(&format!("{}\n", key.encode())).unwrap();
        assert_eq!(again.0, key.0);
        assert!(SealingKey::parse("c2hvcnQ=").is_err());
        assert!(SealingKey::parse("not base64!").is_err());
        assert_eq!(format!("{key:?}"), "SealingKey(<redacted>)");
    }
}
