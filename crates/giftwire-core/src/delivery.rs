//! How a send created over the API reaches its recipient (API_REFERENCE.md §9.2, CONTRACT.md §7):
//! the variant, the address or its collection, the tracking code, the mail it causes, and the
//! changes time makes to it.

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use rand::RngCore as _;

use crate::error::InvalidValue;
use crate::ids::{OrgId, SendId};
use crate::lifecycle::{StatusEntry, current_status};
use crate::status::SendStatus;

string_enum! {
    /// The documented Create Send variants, plus the eGift links of `generate_egift_links`.
    pub enum Variant ("variant") {
        /// Physical gift to a known address (`via: single_person_or_company`).
        Physical => "physical",
        /// Physical gift whose address the recipient gives (`no_address: true`).
        AddressCollection => "address_collection",
        /// eGift emailed by us (`via: single_email_address`).
        Egift => "egift",
        /// eGift link handed to the sender (`generate_egift_links`).
        EgiftLink => "egift_link",
    }
}

string_enum! {
    /// How the recipient of an address collection is asked for the address.
    pub enum ConfirmVia ("address_confirmation_via") {
        Email => "email",
        Link => "link",
    }
}

/// The credential of a send's recipient pages: 40 random lower-case hex characters.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TrackingCode(String);

impl TrackingCode {
    pub fn generate() -> TrackingCode {
        let mut bytes = [0u8; 20];
        rand::rng().fill_bytes(&mut bytes);
        TrackingCode(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Only the exact form is accepted (a malformed code is simply not found).
    pub fn parse(s: &str) -> Option<TrackingCode> {
        (s.len() == 40
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| TrackingCode(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TrackingCode {
    /// Tracking codes are credentials: logs show their first characters only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TrackingCode({}…)", &self.0[..6.min(self.0.len())])
    }
}

/// An ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Country([u8; 2]);

impl Country {
    /// Reads an alpha-2 or alpha-3 code or an English name, in any case (`US`, `USA`,
    /// `United States`); the documented Create Send example sends `"USA"`.
    pub fn parse(what: &'static str, s: &str) -> Result<Country, InvalidValue> {
        let key: String = s
            .trim()
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect();
        let aliases = match key.as_str() {
            "usa" | "us" | "unitedstates" | "unitedstatesofamerica" | "america" => "us",
            "uk" | "gb" | "greatbritain" | "unitedkingdom" | "england" => "gb",
            other => other,
        };
        let country: celes::Country = aliases.parse().map_err(|_| InvalidValue::new(what, s))?;
        let code = country.alpha2.as_bytes();
        match code {
            [a, b] => Ok(Country([a.to_ascii_uppercase(), b.to_ascii_uppercase()])),
            _ => Err(InvalidValue::new(what, s)),
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("ZZ")
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The countries a touch ships to; stored as `US,CA,ES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipTo(Vec<Country>);

impl ShipTo {
    /// Comma- or space-separated codes or names; at least one.
    pub fn parse(s: &str) -> Result<ShipTo, InvalidValue> {
        let mut countries = Vec::new();
        for part in s.split([',', ' ']).filter(|p| !p.trim().is_empty()) {
            let country = Country::parse("ship_to_countries", part)?;
            if !countries.contains(&country) {
                countries.push(country);
            }
        }
        if countries.is_empty() {
            return Err(InvalidValue::new("ship_to_countries", s));
        }
        Ok(ShipTo(countries))
    }

    pub fn us() -> ShipTo {
        ShipTo(vec![Country(*b"US")])
    }

    pub fn contains(&self, country: Country) -> bool {
        self.0.contains(&country)
    }

    pub fn countries(&self) -> &[Country] {
        &self.0
    }
}

impl fmt::Display for ShipTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let codes: Vec<&str> = self.0.iter().map(Country::as_str).collect();
        f.write_str(&codes.join(","))
    }
}

/// A postal address (plus the phone number couriers want for non-US addresses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub line: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub country: Country,
    pub mobile_no: Option<String>,
}

/// The parameters of an address collection (`no_address: true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressCollection {
    pub via: ConfirmVia,
    /// 2 to 7 days.
    pub expire_after_days: u8,
    pub resume_with_unconfirmed_address: bool,
    pub hide_product_info: bool,
    pub custom_message: Option<String>,
}

/// How a send made through the API is delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub tracking_code: TrackingCode,
    pub variant: Variant,
    pub custom_message: Option<String>,
    /// Known at creation (physical), or once the recipient confirmed it (address collection).
    pub address: Option<Address>,
    pub collection: Option<AddressCollection>,
}

string_enum! {
    /// The kinds of time-driven changes.
    pub enum DeadlineKind ("deadline") {
        /// An eGift not redeemed within the organization's expiry after it was sent.
        EgiftExpiry => "egift_expiry",
        /// An address collection not answered within `expire_after_days`.
        AddressExpiry => "address_expiry",
    }
}

/// A change that time will make to a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub org: OrgId,
    pub send: SendId,
    pub kind: DeadlineKind,
    pub due_at: Timestamp,
}

impl Deadline {
    /// When an eGift sent at `sent_at` expires.
    pub fn egift_expiry(org: OrgId, send: SendId, sent_at: Timestamp, days: u32) -> Deadline {
        Deadline {
            org,
            send,
            kind: DeadlineKind::EgiftExpiry,
            due_at: sent_at + SignedDuration::from_hours(24 * i64::from(days)),
        }
    }

    /// When an address collection started at `started_at` runs out.
    pub fn address_expiry(org: OrgId, send: SendId, started_at: Timestamp, days: u8) -> Deadline {
        Deadline {
            org,
            send,
            kind: DeadlineKind::AddressExpiry,
            due_at: started_at + SignedDuration::from_hours(24 * i64::from(days)),
        }
    }

    /// The status this deadline moves a send to, if it still applies to a send with `history`:
    /// an unredeemed eGift expires; an unanswered address collection is cancelled, or resumes
    /// (`Processing`) when it was created with `resume_with_unconfirmed_address`.
    pub fn change(
        &self,
        history: &[StatusEntry],
        delivery: Option<&Delivery>,
    ) -> Option<SendStatus> {
        let now = current_status(history);
        match self.kind {
            DeadlineKind::EgiftExpiry => matches!(
                now,
                SendStatus::Sent | SendStatus::Opened | SendStatus::Clicked
            )
            .then_some(SendStatus::Expired),
            DeadlineKind::AddressExpiry => {
                if !matches!(
                    now,
                    SendStatus::ConfirmingAddress | SendStatus::CollectingRecipientInfo
                ) {
                    return None;
                }
                let resume = delivery
                    .and_then(|d| d.collection.as_ref())
                    .is_some_and(|c| c.resume_with_unconfirmed_address);
                Some(if resume {
                    SendStatus::Processing
                } else {
                    SendStatus::AddressConfirmationCancelled
                })
            }
        }
    }
}

/// The time-driven change a new status starts: an eGift that is `Sent` expires after the
/// organization's `egift_expiry_days` unless it is redeemed first.
pub fn deadline_after(
    kind: crate::SendKind,
    org: OrgId,
    send: SendId,
    entry: &StatusEntry,
    egift_expiry_days: u32,
) -> Option<Deadline> {
    (kind == crate::SendKind::Digital && entry.status == SendStatus::Sent)
        .then(|| Deadline::egift_expiry(org, send, entry.occurred_at, egift_expiry_days))
}

string_enum! {
    /// What a mail is for.
    pub enum MailKind ("kind") {
        /// The eGift itself, to the recipient.
        Egift => "egift",
        /// The request to confirm an address, to the recipient.
        AddressConfirmation => "address_confirmation",
        /// The address-collection link, to the sender (`address_confirmation_via: link`).
        AddressLink => "address_link",
        /// An invitation to join an organization, to the invited user.
        Invitation => "invitation",
    }
}

/// A mail to write to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    pub kind: MailKind,
    pub to: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_codes_are_40_random_lower_hex() {
        let a = TrackingCode::generate();
        assert_eq!(a.as_str().len(), 40);
        assert!(TrackingCode::parse(a.as_str()).is_some());
        assert_ne!(a, TrackingCode::generate());
        assert!(TrackingCode::parse(&"AB".repeat(20)).is_none());
        assert!(TrackingCode::parse("abc").is_none());
        assert!(TrackingCode::parse(&"g".repeat(40)).is_none());
        assert!(!format!("{a:?}").contains(a.as_str()));
    }

    #[test]
    fn countries_are_read_from_codes_and_names() {
        for (input, code) in [
            ("USA", "US"),
            ("us", "US"),
            ("United States", "US"),
            ("ES", "ES"),
            ("esp", "ES"),
            ("Canada", "CA"),
            ("UK", "GB"),
        ] {
            assert_eq!(
                Country::parse("country", input).unwrap().as_str(),
                code,
                "{input}"
            );
        }
        assert!(Country::parse("country", "Atlantis").is_err());
        assert!(Country::parse("country", "").is_err());
        let ship = ShipTo::parse("US, ca,ES,us").unwrap();
        assert_eq!(ship.to_string(), "US,CA,ES");
        assert!(ship.contains(Country::parse("c", "Canada").unwrap()));
        assert!(!ship.contains(Country::parse("c", "FR").unwrap()));
        assert!(ShipTo::parse(" , ").is_err());
    }

    #[test]
    fn deadlines_apply_only_while_the_send_waits() {
        let t = |s: i64| Timestamp::from_second(1_700_000_000 + s).unwrap();
        let entry = |status, s| StatusEntry {
            status,
            occurred_at: t(s),
        };
        let egift = Deadline::egift_expiry(OrgId::new(1), SendId::new(1), t(0), 90);
        assert_eq!(egift.due_at, t(90 * 86_400));
        assert_eq!(
            egift.change(&[entry(SendStatus::Sent, 0)], None),
            Some(SendStatus::Expired)
        );
        assert_eq!(
            egift.change(
                &[entry(SendStatus::Sent, 0), entry(SendStatus::Used, 5)],
                None
            ),
            None
        );

        let mut delivery = Delivery {
            tracking_code: TrackingCode::generate(),
            variant: Variant::AddressCollection,
            custom_message: None,
            address: None,
            collection: Some(AddressCollection {
                via: ConfirmVia::Email,
                expire_after_days: 5,
                resume_with_unconfirmed_address: false,
                hide_product_info: false,
                custom_message: None,
            }),
        };
        let address = Deadline::address_expiry(OrgId::new(1), SendId::new(1), t(0), 5);
        let waiting = [entry(SendStatus::ConfirmingAddress, 0)];
        assert_eq!(
            address.change(&waiting, Some(&delivery)),
            Some(SendStatus::AddressConfirmationCancelled)
        );
        if let Some(c) = delivery.collection.as_mut() {
            c.resume_with_unconfirmed_address = true;
        }
        assert_eq!(
            address.change(&waiting, Some(&delivery)),
            Some(SendStatus::Processing)
        );
        let confirmed = [
            entry(SendStatus::ConfirmingAddress, 0),
            entry(SendStatus::Processing, 9),
        ];
        assert_eq!(address.change(&confirmed, Some(&delivery)), None);
    }
}
