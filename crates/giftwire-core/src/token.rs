//! API tokens: scopes, the plain token shown once, and the hash that is all we store.

use std::fmt;

use rand::RngCore as _;
use sha2::{Digest, Sha256};

use crate::error::InvalidValue;

string_enum! {
    /// What a token may do (CONTRACT.md §3): `public` reads, `write` creates sends, `update`
    /// changes users, `fulfillment` records status changes and costs, `scim` provisions users
    /// over SCIM (and nothing else: it is held alone).
    pub enum Scope ("scope") {
        Public => "public",
        Write => "write",
        Update => "update",
        Fulfillment => "fulfillment",
        Scim => "scim",
    }
}

/// A set of scopes. Written as the OAuth `scope` string: space-separated, in a fixed order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    fn bit(scope: Scope) -> u8 {
        1 << (Scope::ALL.iter().position(|s| *s == scope).unwrap_or(0) as u8)
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & Self::bit(scope) != 0
    }

    /// Whether every scope of `self` is one of `other`'s.
    pub fn within(self, other: Scopes) -> bool {
        self.0 & !other.0 == 0
    }

    /// Each scope, in the fixed order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL
            .iter()
            .copied()
            .filter(move |s| self.contains(*s))
    }

    pub fn with(self, scope: Scope) -> Scopes {
        Scopes(self.0 | Self::bit(scope))
    }

    /// Parses a space-separated list (the OAuth form). Blank lists, unknown scopes and `scim`
    /// with any other scope are refused: a SCIM token reaches SCIM alone (CONTRACT.md §3).
    pub fn parse(s: &str) -> Result<Scopes, InvalidValue> {
        let mut scopes = Scopes::default();
        for word in s.split_ascii_whitespace() {
            let scope: Scope = word.parse().map_err(|_| InvalidValue::new("scope", word))?;
            scopes = scopes.with(scope);
        }
        if scopes == Scopes::default() {
            return Err(InvalidValue::new("scope", s));
        }
        if scopes.contains(Scope::Scim) && scopes != Scopes::default().with(Scope::Scim) {
            return Err(InvalidValue::new("scope (scim is held alone)", s));
        }
        Ok(scopes)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

/// A bearer token as handed to its owner once. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainToken(String);

impl PlainToken {
    /// The recognisable prefix of every giftwire token (so that leaked ones can be found).
    pub const PREFIX: &'static str = "gw_";

    /// A new token: the prefix and 32 random bytes in hex, from `rand`'s thread-local CSPRNG
    /// (ChaCha seeded by the operating system).
    pub fn generate() -> PlainToken {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let mut s = String::with_capacity(Self::PREFIX.len() + 64);
        s.push_str(Self::PREFIX);
        for b in bytes {
            s.push_str(&format!("{b:02x}"));
        }
        PlainToken(s)
    }

    /// Wraps a token received from a client. Any string is accepted: unknown ones simply do not
    /// match a stored hash.
    pub fn from_client(s: &str) -> PlainToken {
        PlainToken(s.to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for PlainToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainToken(<redacted>)")
    }
}

/// The SHA-256 of a token: what the database stores and looks tokens up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scim_is_held_alone() {
        assert!(Scopes::parse("scim").unwrap().contains(Scope::Scim));
        for mixed in ["scim public", "public scim", "scim write update"] {
            assert!(Scopes::parse(mixed).is_err(), "{mixed}");
        }
    }

    #[test]
    fn scopes_parse_from_and_print_as_the_oauth_string() {
        let s = Scopes::parse("write  public").unwrap();
        assert!(s.contains(Scope::Public) && s.contains(Scope::Write));
        assert!(!s.contains(Scope::Fulfillment));
        assert_eq!(s.to_string(), "public write");
        assert!(Scopes::parse("public admin").is_err());
        assert!(Scopes::parse("  ").is_err());
        let public = Scopes::parse("public").unwrap();
        assert!(public.within(s) && !s.within(public) && s.within(s));
    }

    #[test]
    fn tokens_are_random_prefixed_and_hash_stably() {
        let a = PlainToken::generate();
        let b = PlainToken::generate();
        assert_ne!(a, b);
        assert!(a.expose().starts_with("gw_") && a.expose().len() == 67);
        assert_eq!(a.hash(), PlainToken::from_client(a.expose()).hash());
        assert_ne!(a.hash(), b.hash());
        assert!(!format!("{a:?}").contains(a.expose()));
    }
}
