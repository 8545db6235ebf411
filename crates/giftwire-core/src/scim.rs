//! SCIM 2.0 filters (RFC 7644 §3.4.2.2) over the User attributes giftwire keeps: what identity
//! providers send to find a user before they create it (`userName eq "ada@acme.com"`,
//! `externalId eq "…"`, `emails[value eq "…"]`), parsed into a tree and evaluated in memory.
//!
//! Written here because no well-kept Rust crate parses SCIM filters; the grammar is small: the
//! comparison operators, `pr`, `and`, `or`, `not (…)`, parentheses and `emails[…]` value paths.
//! Attribute names and operators are case-insensitive; a name may carry the core User schema's
//! URN. Anything else is an error whose message says where (answered 400 `invalidFilter`).

use std::fmt;

/// How deep parentheses and `not` may nest: deeper filters are refused rather than recursed.
const MAX_DEPTH: usize = 32;
/// The longest filter accepted, in bytes.
pub const MAX_LEN: usize = 4096;

/// The User attributes a filter may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attr {
    Id,
    UserName,
    ExternalId,
    DisplayName,
    GivenName,
    FamilyName,
    FormattedName,
    Active,
    UserType,
    Division,
    /// `emails.value` (also plain `emails`, and `value` inside `emails[…]`).
    EmailValue,
    /// `emails.type`
    EmailType,
    /// `emails.primary`
    EmailPrimary,
}

impl Attr {
    /// Whether values compare case-sensitively (RFC 7643: `id` and `externalId` are `caseExact`).
    pub fn case_exact(self) -> bool {
        matches!(self, Attr::Id | Attr::ExternalId)
    }

    fn parse(name: &str, in_emails: bool) -> Option<Attr> {
        let lower = name.to_ascii_lowercase();
        let lower = lower
            .strip_prefix("urn:ietf:params:scim:schemas:core:2.0:user:")
            .unwrap_or(&lower);
        let lower = lower
            .strip_prefix("urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:")
            .unwrap_or(lower);
        if in_emails {
            return match lower {
                "value" => Some(Attr::EmailValue),
                "type" => Some(Attr::EmailType),
                "primary" => Some(Attr::EmailPrimary),
                _ => None,
            };
        }
        Some(match lower {
            "id" => Attr::Id,
            "username" => Attr::UserName,
            "externalid" => Attr::ExternalId,
            "displayname" => Attr::DisplayName,
            "name.givenname" => Attr::GivenName,
            "name.familyname" => Attr::FamilyName,
            "name.formatted" => Attr::FormattedName,
            "active" => Attr::Active,
            "usertype" => Attr::UserType,
            "division" => Attr::Division,
            "emails" | "emails.value" => Attr::EmailValue,
            "emails.type" => Attr::EmailType,
            "emails.primary" => Attr::EmailPrimary,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A comparison's value: a JSON string, boolean, number or null.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Bool(bool),
    Num(f64),
    Null,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare(Attr, Op, Literal),
    Present(Attr),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `emails[…]`: a filter one email must match as a whole.
    Emails(Box<Filter>),
}

/// An attribute's value on a resource, as filters compare it.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue<'a> {
    Str(&'a str),
    Bool(bool),
}

/// A resource a filter is evaluated on: the values of each attribute (none when absent, several
/// for a multi-valued one).
pub trait Filterable {
    fn values(&self, attr: Attr) -> Vec<AttrValue<'_>>;

    /// The resource's emails, each a resource of its own for `emails[…]`.
    fn emails(&self) -> Vec<&dyn Filterable> {
        Vec::new()
    }
}

impl Filterable for crate::store::ScimEmail {
    fn values(&self, attr: Attr) -> Vec<AttrValue<'_>> {
        match attr {
            Attr::EmailValue => vec![AttrValue::Str(&self.value)],
            Attr::EmailType => self
                .kind
                .as_deref()
                .map(AttrValue::Str)
                .into_iter()
                .collect(),
            Attr::EmailPrimary => self.primary.map(AttrValue::Bool).into_iter().collect(),
            _ => Vec::new(),
        }
    }
}

/// Why a filter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

impl Filter {
    /// Parses a filter; every malformed or unsupported one is an error, never a panic.
    pub fn parse(s: &str) -> Result<Filter, FilterError> {
        if s.len() > MAX_LEN {
            return Err(FilterError(format!(
                "the filter is longer than {MAX_LEN} bytes"
            )));
        }
        let tokens = tokenize(s)?;
        let mut parser = Parser {
            tokens,
            at: 0,
            depth: 0,
        };
        let filter = parser.or(false)?;
        match parser.tokens.get(parser.at) {
            None => Ok(filter),
            Some(t) => Err(FilterError(format!(
                "unexpected {t} after a complete filter"
            ))),
        }
    }

    /// Whether `resource` matches.
    pub fn matches(&self, resource: &dyn Filterable) -> bool {
        match self {
            Filter::Emails(inner) => resource.emails().iter().any(|e| inner.matches(*e)),
            Filter::And(a, b) => a.matches(resource) && b.matches(resource),
            Filter::Or(a, b) => a.matches(resource) || b.matches(resource),
            Filter::Not(f) => !f.matches(resource),
            Filter::Present(attr) => resource.values(*attr).iter().any(|v| match v {
                AttrValue::Str(s) => !s.is_empty(),
                AttrValue::Bool(_) => true,
            }),
            Filter::Compare(attr, op, literal) => {
                let values = resource.values(*attr);
                if *literal == Literal::Null {
                    // `eq null` matches an absent attribute, `ne null` a present one.
                    return match op {
                        Op::Eq => values.is_empty(),
                        Op::Ne => !values.is_empty(),
                        _ => false,
                    };
                }
                if *op == Op::Ne {
                    return !values.iter().any(|v| compare(*attr, Op::Eq, v, literal));
                }
                values.iter().any(|v| compare(*attr, *op, v, literal))
            }
        }
    }
}

fn compare(attr: Attr, op: Op, value: &AttrValue<'_>, literal: &Literal) -> bool {
    match (value, literal) {
        (AttrValue::Bool(v), Literal::Bool(l)) => match op {
            Op::Eq => v == l,
            _ => false,
        },
        (AttrValue::Str(v), Literal::Str(l)) => {
            let (v, l) = if attr.case_exact() {
                (v.to_string(), l.clone())
            } else {
                (v.to_lowercase(), l.to_lowercase())
            };
            match op {
                Op::Eq => v == l,
                Op::Ne => v != l,
                Op::Co => v.contains(&l),
                Op::Sw => v.starts_with(&l),
                Op::Ew => v.ends_with(&l),
                Op::Gt => v > l,
                Op::Ge => v >= l,
                Op::Lt => v < l,
                Op::Le => v <= l,
            }
        }
        _ => false,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Num(f64),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Word(w) => write!(f, "{w:?}"),
            Token::Str(s) => write!(f, "the string {s:?}"),
            Token::Num(n) => write!(f, "the number {n}"),
            Token::Open => f.write_str("\"(\""),
            Token::Close => f.write_str("\")\""),
            Token::OpenBracket => f.write_str("\"[\""),
            Token::CloseBracket => f.write_str("\"]\""),
        }
    }
}

fn tokenize(s: &str) -> Result<Vec<Token>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    '[' => Token::OpenBracket,
                    _ => Token::CloseBracket,
                });
            }
            '"' => {
                // A JSON string: find its end, then let serde_json decode the escapes.
                chars.next();
                let mut escaped = false;
                let mut end = None;
                for (j, c) in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        end = Some(j);
                        break;
                    }
                }
                let end = end.ok_or_else(|| {
                    FilterError(format!("the string starting at {i} is not closed"))
                })?;
                let value: String = serde_json::from_str(&s[i..=end]).map_err(|_| {
                    FilterError(format!(
                        "the string starting at {i} is not a valid JSON string"
                    ))
                })?;
                tokens.push(Token::Str(value));
            }
            _ => {
                let start = i;
                let mut end = s.len();
                while let Some(&(j, c)) = chars.peek() {
                    if c.is_whitespace() || "()[]\"".contains(c) {
                        end = j;
                        break;
                    }
                    chars.next();
                }
                let word = &s[start..end];
                match word.parse::<f64>() {
                    Ok(n)
                        if n.is_finite()
                            && word.starts_with(|c: char| c == '-' || c.is_ascii_digit()) =>
                    {
                        tokens.push(Token::Num(n))
                    }
                    _ => tokens.push(Token::Word(word.to_owned())),
                }
            }
        }
    }
    if tokens.is_empty() {
        return Err(FilterError("the filter is empty".to_owned()));
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn deeper(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError(format!(
                "the filter nests deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(())
    }

    /// `or` binds loosest, then `and`, then `not` and the atoms (RFC 7644 §3.4.2.2).
    fn or(&mut self, in_emails: bool) -> Result<Filter, FilterError> {
        let mut left = self.and(in_emails)?;
        while self.peek_word("or") {
            self.at += 1;
            let right = self.and(in_emails)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, in_emails: bool) -> Result<Filter, FilterError> {
        let mut left = self.unary(in_emails)?;
        while self.peek_word("and") {
            self.at += 1;
            let right = self.unary(in_emails)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, in_emails: bool) -> Result<Filter, FilterError> {
        if self.peek_word("not") {
            self.at += 1;
            self.deeper()?;
            if self.next() != Some(Token::Open) {
                return Err(FilterError("\"not\" must be followed by \"(\"".to_owned()));
            }
            let inner = self.or(in_emails)?;
            self.close(Token::Close)?;
            self.depth -= 1;
            return Ok(Filter::Not(Box::new(inner)));
        }
        match self.next() {
            Some(Token::Open) => {
                self.deeper()?;
                let inner = self.or(in_emails)?;
                self.close(Token::Close)?;
                self.depth -= 1;
                Ok(inner)
            }
            Some(Token::Word(name)) => self.comparison(&name, in_emails),
            Some(t) => Err(FilterError(format!("expected an attribute, found {t}"))),
            None => Err(FilterError(
                "the filter ends where an attribute was expected".to_owned(),
            )),
        }
    }

    fn close(&mut self, expected: Token) -> Result<(), FilterError> {
        match self.next() {
            Some(t) if t == expected => Ok(()),
            Some(t) => Err(FilterError(format!("expected {expected}, found {t}"))),
            None => Err(FilterError(format!("the filter ends before {expected}"))),
        }
    }

    fn comparison(&mut self, name: &str, in_emails: bool) -> Result<Filter, FilterError> {
        // `emails[value eq "…"]`: a filter on the sub-attributes of each email.
        if !in_emails
            && name.eq_ignore_ascii_case("emails")
            && self.tokens.get(self.at) == Some(&Token::OpenBracket)
        {
            self.at += 1;
            self.deeper()?;
            let inner = self.or(true)?;
            self.close(Token::CloseBracket)?;
            self.depth -= 1;
            return Ok(Filter::Emails(Box::new(inner)));
        }
        let attr = Attr::parse(name, in_emails)
            .ok_or_else(|| FilterError(format!("{name:?} is not an attribute a filter may use")))?;
        let op = match self.next() {
            Some(Token::Word(op)) => op.to_ascii_lowercase(),
            Some(t) => {
                return Err(FilterError(format!(
                    "expected an operator after {name:?}, found {t}"
                )));
            }
            None => return Err(FilterError(format!("the filter ends after {name:?}"))),
        };
        let op = match op.as_str() {
            "pr" => return Ok(Filter::Present(attr)),
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return Err(FilterError(format!("{op:?} is not a filter operator"))),
        };
        let literal = match self.next() {
            Some(Token::Str(s)) => Literal::Str(s),
            Some(Token::Num(n)) => Literal::Num(n),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("null") => Literal::Null,
            Some(t) => {
                return Err(FilterError(format!(
                    "expected a value after the operator, found {t}"
                )));
            }
            None => {
                return Err(FilterError(
                    "the filter ends where a value was expected".to_owned(),
                ));
            }
        };
        Ok(Filter::Compare(attr, op, literal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::store::ScimEmail;

    struct User {
        user_name: &'static str,
        external_id: Option<&'static str>,
        emails: Vec<ScimEmail>,
        active: bool,
    }

    impl Filterable for User {
        fn values(&self, attr: Attr) -> Vec<AttrValue<'_>> {
            match attr {
                Attr::UserName => vec![AttrValue::Str(self.user_name)],
                Attr::ExternalId => self.external_id.map(AttrValue::Str).into_iter().collect(),
                Attr::EmailValue | Attr::EmailType => {
                    self.emails.iter().flat_map(|e| e.values(attr)).collect()
                }
                Attr::Active => vec![AttrValue::Bool(self.active)],
                _ => vec![],
            }
        }

        fn emails(&self) -> Vec<&dyn Filterable> {
            self.emails.iter().map(|e| e as &dyn Filterable).collect()
        }
    }

    fn email(value: &str, kind: &str) -> ScimEmail {
        ScimEmail {
            value: value.to_owned(),
            kind: Some(kind.to_owned()),
            primary: None,
        }
    }

    fn ada() -> User {
        User {
            user_name: "Ada@Acme.example",
            external_id: Some("00u1ABC"),
            emails: vec![
                email("Ada@Acme.example", "work"),
                email("ada@home.example", "home"),
            ],
            active: true,
        }
    }

    fn matches(filter: &str) -> bool {
        Filter::parse(filter)
            .unwrap_or_else(|e| panic!("{filter}: {e}"))
            .matches(&ada())
    }

    #[test]
    fn what_identity_providers_send_matches_as_rfc_7644_says() {
        assert!(
            matches(r#"userName eq "ada@acme.example""#),
            "userName is not case-exact"
        );
        assert!(matches(r#"USERNAME EQ "ADA@ACME.EXAMPLE""#));
        assert!(matches(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ada@acme.example""#
        ));
        assert!(matches(r#"externalId eq "00u1ABC""#));
        assert!(
            !matches(r#"externalId eq "00u1abc""#),
            "externalId is case-exact"
        );
        assert!(matches(r#"emails.value eq "ada@home.example""#));
        assert!(matches(r#"emails[value eq "ada@home.example"]"#));
        assert!(matches(
            r#"emails[type eq "home" and value eq "ada@home.example"]"#
        ));
        assert!(
            !matches(r#"emails[type eq "work" and value eq "ada@home.example"]"#),
            "one email must match the whole value filter"
        );
        assert!(matches(
            r#"userName eq "ada@acme.example" and externalId eq "00u1ABC""#
        ));
        assert!(!matches(
            r#"userName eq "ada@acme.example" and externalId eq "other""#
        ));
        assert!(matches(
            r#"userName eq "x" or (active eq true and emails co "home")"#
        ));
        assert!(matches(r#"not (userName sw "bo")"#));
        assert!(matches("externalId pr"));
        assert!(!matches("displayName pr"));
        assert!(matches("displayName eq null"));
        assert!(matches(r#"userName ne "bo@acme.example""#));
        assert!(matches(r#"userName ew "EXAMPLE""#));
        assert!(matches(
            r#"userName eq "ada@acme.example" and active eq true"#
        ));
        assert!(
            matches(r#"userName eq "\u0061da@acme.example""#),
            "JSON escapes"
        );
    }

    #[test]
    fn malformed_filters_are_refused_with_a_reason() {
        for bad in [
            "",
            "   ",
            "userName",
            "userName eq",
            r#"userName eq "unterminated"#,
            r#"userName eq ada"#,
            r#"userName equals "a""#,
            r#"password eq "x""#,
            r#"(userName eq "a""#,
            r#"userName eq "a")"#,
            r#"userName eq "a" and"#,
            r#"userName eq "a" userName eq "b""#,
            r#"not userName eq "a""#,
            r#"emails[value eq "a""#,
            r#"emails[password eq "a"]"#,
            r#"userName eq "\x""#,
            "and",
            "()",
            "[",
        ] {
            assert!(Filter::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let deep = format!("{}userName eq \"a\"{}", "(".repeat(100), ")".repeat(100));
        assert!(Filter::parse(&deep).unwrap_err().0.contains("deeper"));
        assert!(Filter::parse(&"x".repeat(MAX_LEN + 1)).is_err());
    }

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC{0,80}") {
            let _ = Filter::parse(&s);
        }

        #[test]
        fn parsing_filter_like_text_never_panics(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "userName", "eq", "\"a\"", "and", "or", "not", "(", ")", "[", "]", "emails",
                    "value", "pr", "true", "null", "1.5", "\"", "\\", "co",
                ]),
                0..24,
            )
        ) {
            let _ = Filter::parse(&parts.join(" "));
        }
    }
}
