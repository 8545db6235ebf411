//! The closed vocabularies of touches and users: send types and subtypes (the seed's
//! enumerations), digital or physical, delivery types and roles.

string_enum! {
    /// A send's type, from its touch. Exactly the seed's seven values.
    pub enum SendType ("type") {
        Amazon => "Amazon",
        HandwrittenNotes => "Handwritten Notes",
        InventoriedSends => "Inventoried Sends",
        SendosoChoice => "Sendoso Choice",
        SendosoDirect => "Sendoso Direct",
        EgiftsInternational => "eGifts International",
        EgiftsUsa => "eGifts USA",
    }
}

/// Whether a send is delivered electronically or shipped: it decides which lifecycle applies
/// (CONTRACT.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendKind {
    Digital,
    Physical,
}

impl SendType {
    pub const fn kind(self) -> SendKind {
        match self {
            SendType::EgiftsUsa | SendType::EgiftsInternational | SendType::SendosoChoice => {
                SendKind::Digital
            }
            SendType::Amazon
            | SendType::HandwrittenNotes
            | SendType::InventoriedSends
            | SendType::SendosoDirect => SendKind::Physical,
        }
    }
}

string_enum! {
    /// A send's subtype, from its touch. Exactly the seed's thirty values.
    pub enum Subtype ("subtype") {
        Bundles => "Bundles",
        BuySendViaAmazon => "Buy/Send via Amazon",
        BuySendViaAmazonUk => "Buy/Send via Amazon UK",
        Coffee => "Coffee",
        Custom => "Custom",
        CustomBundles => "Custom Bundles",
        DdoGift => "DDO_GIFT",
        DonateToCharity => "Donate to Charity",
        Experiences => "Experiences",
        HandwrittenNotes => "Handwritten Notes",
        Lunch => "Lunch",
        OnDemand => "On-Demand",
        VisaEgiftCreditCardUs => "Visa eGift Credit Card (US)",
        Wine => "Wine",
        EgiftCardsAustralia => "eGift Cards Australia",
        EgiftCardsBrazil => "eGift Cards Brazil",
        EgiftCardsCanada => "eGift Cards Canada",
        EgiftCardsFrance => "eGift Cards France",
        EgiftCardsGermany => "eGift Cards Germany",
        EgiftCardsIndia => "eGift Cards India",
        EgiftCardsIreland => "eGift Cards Ireland",
        EgiftCardsItaly => "eGift Cards Italy",
        EgiftCardsMexico => "eGift Cards Mexico",
        EgiftCardsNetherlands => "eGift Cards Netherlands",
        EgiftCardsNewZealand => "eGift Cards New Zealand",
        EgiftCardsPoland => "eGift Cards Poland",
        EgiftCardsSingapore => "eGift Cards Singapore",
        EgiftCardsSlovakia => "eGift Cards Slovakia",
        EgiftCardsUk => "eGift Cards UK",
        EgiftCardsUsa => "eGift Cards USA",
    }
}

string_enum! {
    /// How a touch reaches its recipient.
    pub enum DeliveryType ("delivery_type") {
        Mail => "mail",
        Email => "email",
    }
}

impl SendType {
    /// The delivery a touch of this type uses unless told otherwise.
    pub const fn default_delivery(self) -> DeliveryType {
        match self.kind() {
            SendKind::Digital => DeliveryType::Email,
            SendKind::Physical => DeliveryType::Mail,
        }
    }
}

string_enum! {
    /// A user's role in their organization.
    pub enum Role ("role") {
        Regular => "regular",
        Manager => "manager",
    }
}

string_enum! {
    /// Where a user stands: `invited` until the invitation is accepted, `active`, or
    /// `deactivated` (by its identity provider). Only active users are listed and only their
    /// tokens and sign-ins work.
    pub enum UserState ("state") {
        Invited => "invited",
        Active => "active",
        Deactivated => "deactivated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_string() {
        for t in SendType::ALL {
            assert_eq!(t.as_str().parse::<SendType>().unwrap(), *t);
        }
        for s in Subtype::ALL {
            assert_eq!(s.as_str().parse::<Subtype>().unwrap(), *s);
        }
        assert_eq!(SendType::ALL.len(), 7);
        assert_eq!(Subtype::ALL.len(), 30);
    }

    #[test]
    fn parsing_is_exact() {
        assert!("egifts usa".parse::<SendType>().is_err());
        assert!(" Amazon".parse::<SendType>().is_err());
        assert_eq!(
            "Wine ".parse::<Subtype>().unwrap_err().to_string(),
            "subtype is invalid (got \"Wine \")"
        );
    }

    #[test]
    fn digital_types_are_the_three_of_the_contract() {
        let digital: Vec<_> = SendType::ALL
            .iter()
            .filter(|t| t.kind() == SendKind::Digital)
            .map(|t| t.as_str())
            .collect();
        assert_eq!(
            digital,
            ["Sendoso Choice", "eGifts International", "eGifts USA"]
        );
    }
}
