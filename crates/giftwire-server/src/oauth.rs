//! The OAuth 2.0 authorization server's rules, shared by the routes, the admin commands and the
//! tests: registering applications, passwords, client authentication (RFC 6749 §2.3), PKCE
//! (RFC 7636, `S256` only) and the exact matching of redirect URIs (RFC 9700 §4.1.3).

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use giftwire_core::store::{App, NewApp};
use giftwire_core::{Name, OrgId, PlainToken, Scopes, Store, StoreError, TokenHash, UserId};
use sha2::{Digest, Sha256};

use crate::pages::{constant_time_eq, random_hex};

/// The redirect URI of clients that cannot receive a redirect: the code is shown on a page.
pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
/// Seconds an authorization code may be exchanged.
pub const CODE_LIFETIME_SECS: i64 = 600;
/// Seconds an access token works (Sendoso's, and Doorkeeper's default).
pub const ACCESS_TOKEN_LIFETIME_SECS: i64 = 7200;
/// Seconds a sign-in lasts.
pub const SESSION_LIFETIME_SECS: i64 = 8 * 3600;
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A registered application and its secret, which is shown once and stored as a hash.
#[derive(Debug)]
pub struct Registered {
    pub app: App,
    pub client_secret: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether a redirect URI may be registered: `urn:ietf:wg:oauth:2.0:oob`, an absolute `https`
/// URL, or an `http` URL of a loopback host (RFC 8252 §7.3); never with a fragment or user
/// information. Requests must then repeat it exactly.
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    if uri == OOB {
        return Ok(());
    }
    // URL parsing drops tabs and line breaks silently: the stored string would not be the URL
    // that was checked (and a line break would register a second URI).
    if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "redirect URI {uri:?} contains whitespace or control characters"
        ));
    }
    let parsed =
        url::Url::parse(uri).map_err(|e| format!("redirect URI {uri:?} is not a URL: {e}"))?;
    if parsed.fragment().is_some() {
        return Err(format!("redirect URI {uri:?} has a fragment"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!("redirect URI {uri:?} has user information"));
    }
    let loopback = matches!(
        parsed.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    );
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!(
            "redirect URI {uri:?} must be https (or http on a loopback address), or {OOB}"
        )),
    }
}

/// Registers an application of `org`. A confidential one gets a secret; a public one (a
/// browser or native app that cannot keep one) must use PKCE.
pub async fn register_app(
    store: &dyn Store,
    org: OrgId,
    name: &str,
    redirect_uris: Vec<String>,
    scopes: Scopes,
    confidential: bool,
) -> Result<Registered, RegisterError> {
    let name = Name::parse("name", name).map_err(|e| RegisterError::Invalid(e.to_string()))?;
    if redirect_uris.is_empty() {
        return Err(RegisterError::Invalid(
            "an application needs at least one redirect URI".into(),
        ));
    }
    for uri in &redirect_uris {
        check_redirect_uri(uri).map_err(RegisterError::Invalid)?;
    }
    let client_secret = confidential.then(|| format!("gws_{}", random_hex::<32>()));
    let app = store
        .create_app(
            org,
            NewApp {
                client_id: random_hex::<16>(),
                secret_hash: client_secret.as_deref().map(secret_hash),
                name,
                redirect_uris,
                scopes,
            },
        )
        .await?;
    Ok(Registered { app, client_secret })
}

/// The stored form of a client secret (high-entropy and random: a plain SHA-256 suffices).
pub fn secret_hash(secret: &str) -> TokenHash {
    PlainToken::from_client(secret).hash()
}

/// Whether `secret` is the application's (in constant time over the hashes).
pub fn secret_matches(app: &App, secret: &str) -> bool {
    app.secret_hash
        .is_some_and(|stored| constant_time_eq(stored.as_bytes(), secret_hash(secret).as_bytes()))
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("a password has at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The argon2id PHC string of a password (the crate's defaults: 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::encode_b64(random_hex::<16>().as_bytes())
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Sets a user's password (at least [`MIN_PASSWORD_CHARS`] characters), stored as argon2id.
pub async fn set_password(
    store: &dyn Store,
    user: UserId,
    password: &str,
) -> Result<(), PasswordError> {
    let hash = hash_new_password(password).await?;
    store.set_password(user, hash).await?;
    Ok(())
}

/// The argon2id PHC string of a new password (at least [`MIN_PASSWORD_CHARS`] characters),
/// hashed off the async threads and at most one per core at a time.
pub async fn hash_new_password(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    let password = password.to_owned();
    let _turn = password_checks()
        .acquire()
        .await
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| PasswordError::Hash(e.to_string()))?
}

/// Password checks running at once: one per core. Each takes 19 MiB and tens of milliseconds,
/// so unbounded they would let a burst of sign-ins exhaust memory; beyond it, they queue (and
/// a request that waits too long meets its deadline).
fn password_checks() -> &'static tokio::sync::Semaphore {
    static CHECKS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    CHECKS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from))
    })
}

/// Whether `password` matches a stored hash; with `None` (no such account), the same work is
/// done against a hash of nothing, so that timing does not tell whether an account exists.
pub async fn verify_password(stored: Option<String>, password: String) -> bool {
    let Ok(_turn) = password_checks().acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        static DECOY: OnceLock<String> = OnceLock::new();
        let decoy = DECOY.get_or_init(|| hash_password(&random_hex::<16>()).unwrap_or_default());
        let exists = stored.is_some();
        let phc = stored.unwrap_or_else(|| decoy.clone());
        let matches = PasswordHash::new(&phc).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        });
        exists && matches
    })
    .await
    .unwrap_or(false)
}

/// Whether a PKCE challenge or verifier has the form RFC 7636 §4.1 gives (43 to 128 of
/// `[A-Za-z0-9-._~]`).
pub fn pkce_shaped(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// Whether `verifier` is the one of an `S256` challenge.
pub fn pkce_verifies(challenge: &str, verifier: &str) -> bool {
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    pkce_shaped(verifier) && constant_time_eq(computed.as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_https_loopback_http_or_oob() {
        for ok in [
            "https://app.example/cb",
            "https://app.example:8443/oauth/callback?x=1",
            "http://127.0.0.1:8080/oauth/callback",
            "http://localhost/cb",
            "http://[::1]:9000/cb",
            OOB,
        ] {
            assert!(check_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://app.example/cb",
            "https://app.example/cb#frag",
            "https://user@app.example/cb",
            "https://app.example/cb\nhttp://evil.example/",
            "https://app.example/c b",
            "javascript:alert(1)",
            "/relative",
            "ftp://app.example/",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_verifies(challenge, verifier));
        assert!(!pkce_verifies(
            challenge,
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx"
        ));
        assert!(!pkce_verifies(challenge, "short"));
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let phc = hash_password("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(rt.block_on(verify_password(Some(phc.clone()), "correct horse".into())));
        assert!(!rt.block_on(verify_password(Some(phc), "wrong horse".into())));
        assert!(!rt.block_on(verify_password(None, "correct horse".into())));
    }
}
