//! Free text that is nevertheless checked: names and email addresses.

use crate::error::InvalidValue;

/// A non-blank name (of a person, organization, team or touch), trimmed, at most 255 characters,
/// without control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name(String);

impl Name {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(what: &'static str, s: &str) -> Result<Name, InvalidValue> {
        let trimmed = s.trim();
        if trimmed.is_empty()
            || trimmed.chars().count() > Self::MAX_CHARS
            || trimmed.chars().any(char::is_control)
        {
            return Err(InvalidValue::new(what, s));
        }
        Ok(Name(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// An email address: one `@` between a non-empty local part and a domain with a dot, no spaces
/// or control characters, at most 254 characters. Kept as given (case included).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(what: &'static str, s: &str) -> Result<Email, InvalidValue> {
        let invalid = || InvalidValue::new(what, s);
        let s_trim = s.trim();
        if s_trim.len() > 254 || s_trim.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = s_trim.split_once('@').ok_or_else(invalid)?;
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty() || !domain_ok {
            return Err(invalid());
        }
        Ok(Email(s_trim.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_must_not_be_blank() {
        assert_eq!(Name::parse("name", "  Marc  ").unwrap().as_str(), "Marc");
        assert!(Name::parse("name", "   ").is_err());
        assert!(Name::parse("name", "a\u{0}b").is_err());
        assert!(Name::parse("name", &"x".repeat(256)).is_err());
        assert_eq!(
            Name::parse("name", "Zoë Müller").unwrap().as_str(),
            "Zoë Müller"
        );
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert_eq!(
            Email::parse("email", "johndoe@acme.com").unwrap().as_str(),
            "johndoe@acme.com"
        );
        for bad in [
            "",
            "johndoe",
            "@acme.com",
            "john@acme",
            "john@@acme.com",
            "jo hn@acme.com",
            "john@.com",
            "john@acme..com",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad:?}");
        }
    }
}
