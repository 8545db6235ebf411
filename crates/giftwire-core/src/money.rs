//! Money: exact decimals, never floats (CONTRACT.md §5), and ISO 4217 currency codes.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::error::InvalidValue;

/// A non-negative exact amount. It renders in its shortest form with at least one fractional
/// digit: `2.0`, `25.5`, `19.99`, `0.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);
    /// The largest amount: 12 integer and 4 fractional digits, all nines.
    pub const MAX: Money = Money(Decimal::from_parts(1_874_919_423, 2_328_306, 0, false, 4));
    /// Most fractional digits an amount may have (enough for every ISO 4217 minor unit).
    pub const MAX_FRACTION_DIGITS: u32 = 4;
    /// Most integer digits an amount may have.
    pub const MAX_INTEGER_DIGITS: usize = 12;

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    pub fn decimal(self) -> Decimal {
        self.0
    }

    /// An amount from a decimal that is already known to be valid (non-negative, in range).
    pub fn from_decimal(d: Decimal) -> Result<Money, InvalidValue> {
        d.normalize().to_string().parse()
    }

    /// The sum of two amounts (used for prices plus shipping).
    pub fn checked_add(self, other: Money) -> Option<Money> {
        Money::from_decimal(self.0.checked_add(other.0)?).ok()
    }

    /// The amount in ten-thousandths ([`Money::MAX_FRACTION_DIGITS`]), exact: how balances and
    /// their movements are stored, so that databases add them up without rounding.
    pub fn units(self) -> i64 {
        // At most 12 integer and 4 fractional digits: 10^16 units fit an i64.
        (self.0 * Decimal::from(Amount::UNITS_PER_ONE))
            .trunc()
            .try_into()
            .unwrap_or(i64::MAX)
    }

    /// The amount of `units` ten-thousandths; `None` when negative.
    pub fn from_units(units: i64) -> Option<Money> {
        (units >= 0).then(|| Money(Decimal::new(units, Money::MAX_FRACTION_DIGITS).normalize()))
    }

    /// The whole part, for the fields the documentation types as integers (`budget`,
    /// `team_balance`): fractions are dropped, never rounded up.
    pub fn whole(self) -> i64 {
        self.units() / Amount::UNITS_PER_ONE
    }

    /// The amount without a forced fractional digit (`"50000"`, `"49.5"`), as the documentation
    /// shows `monthly_budget`.
    pub fn plain(self) -> String {
        self.0.normalize().to_string()
    }
}

/// A signed exact amount, in ten-thousandths: a movement of a balance (a credit is positive, a
/// draw negative). It renders as [`Money`] does, with a `-` for draws: `-25.5`, `100.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(i64);

impl Amount {
    pub const UNITS_PER_ONE: i64 = 10_000;

    pub fn from_units(units: i64) -> Amount {
        Amount(units)
    }

    pub fn units(self) -> i64 {
        self.0
    }

    pub fn credit(money: Money) -> Amount {
        Amount(money.units())
    }

    pub fn draw(money: Money) -> Amount {
        Amount(-money.units())
    }

    pub fn is_draw(self) -> bool {
        self.0 < 0
    }

    /// The amount without its sign.
    pub fn magnitude(self) -> Money {
        Money(
            Decimal::new(self.0, Money::MAX_FRACTION_DIGITS)
                .abs()
                .normalize(),
        )
    }
}

impl FromStr for Amount {
    type Err = InvalidValue;

    /// A [`Money`] amount, optionally preceded by `-`.
    fn from_str(s: &str) -> Result<Amount, InvalidValue> {
        let invalid = || InvalidValue::new("amount", s);
        match s.strip_prefix('-') {
            Some(rest) => Ok(Amount::draw(rest.parse().map_err(|_| invalid())?)),
            None => Ok(Amount::credit(s.parse().map_err(|_| invalid())?)),
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_draw() {
            f.write_str("-")?;
        }
        write!(f, "{}", self.magnitude())
    }
}

impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl FromStr for Money {
    type Err = InvalidValue;

    /// Accepts plain decimal notation only: digits, optionally a point and more digits.
    /// No sign, exponent, spaces or thousands separators.
    fn from_str(s: &str) -> Result<Money, InvalidValue> {
        let invalid = || InvalidValue::new("amount", s);
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty()
            || !digits(int)
            || !digits(frac)
            || (s.contains('.') && frac.is_empty())
            || int.trim_start_matches('0').len() > Money::MAX_INTEGER_DIGITS
        {
            return Err(invalid());
        }
        let int = match int.trim_start_matches('0') {
            "" => "0",
            significant => significant,
        };
        let frac = frac.trim_end_matches('0');
        if frac.len() > Money::MAX_FRACTION_DIGITS as usize {
            return Err(invalid());
        }
        let d = Decimal::from_str(&format!("{int}.{frac}0"))
            .map_err(|_| invalid())?
            .normalize();
        Ok(Money(d))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0.normalize();
        if d.scale() == 0 {
            write!(f, "{d}.0")
        } else {
            write!(f, "{d}")
        }
    }
}

impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// An ISO 4217 alphabetic code: three letters, stored and rendered in upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl FromStr for Currency {
    type Err = InvalidValue;

    /// Three ASCII letters, in either case.
    fn from_str(s: &str) -> Result<Currency, InvalidValue> {
        match s.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_alphabetic()) => Ok(Currency([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ])),
            _ => Err(InvalidValue::new("currency", s)),
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fmt(s: &str) -> String {
        s.parse::<Money>().unwrap().to_string()
    }

    #[test]
    fn amounts_render_in_the_shortest_form_with_one_fractional_digit() {
        assert_eq!(fmt("2"), "2.0");
        assert_eq!(fmt("2.00"), "2.0");
        assert_eq!(fmt("25.50"), "25.5");
        assert_eq!(fmt("19.99"), "19.99");
        assert_eq!(fmt("0"), "0.0");
        assert_eq!(fmt("000.000"), "0.0");
        assert_eq!(fmt("100"), "100.0");
        assert_eq!(fmt("1234.5678"), "1234.5678");
        assert_eq!(fmt("0000000000000000000000000000000000042.10"), "42.1");
    }

    #[test]
    fn anything_but_plain_non_negative_decimals_is_refused() {
        for bad in [
            "",
            ".5",
            "5.",
            "-1",
            "+1",
            "1e3",
            "1,000",
            " 1",
            "1.23456",
            "00000000000000000000000000000000001.5x",
            "NaN",
            "0x10",
            "1234567890123",
        ] {
            assert!(bad.parse::<Money>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn currencies_are_three_letters_in_upper_case() {
        assert_eq!("usd".parse::<Currency>().unwrap().as_str(), "USD");
        assert_eq!("EUR".parse::<Currency>().unwrap().to_string(), "EUR");
        for bad in ["", "US", "USDD", "U5D", "€€€"] {
            assert!(bad.parse::<Currency>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn amounts_convert_to_units_exactly_and_movements_carry_a_sign() {
        let m: Money = "1234.5678".parse().unwrap();
        assert_eq!(m.units(), 12_345_678);
        assert_eq!(Money::from_units(12_345_678), Some(m));
        assert_eq!(Money::from_units(-1), None);
        assert_eq!(Money::from_units(0).unwrap().to_string(), "0.0");
        assert_eq!(
            "999999999999.9999".parse::<Money>().unwrap().units(),
            9_999_999_999_999_999
        );
        assert_eq!(m.whole(), 1234);
        assert_eq!(Money::MAX.to_string(), "999999999999.9999");
        assert_eq!(Money::MAX, "999999999999.9999".parse().unwrap());
        assert_eq!("50000".parse::<Money>().unwrap().plain(), "50000");
        assert_eq!("49.50".parse::<Money>().unwrap().plain(), "49.5");
        assert_eq!(Amount::draw("25.5".parse().unwrap()).to_string(), "-25.5");
        assert_eq!(Amount::credit("100".parse().unwrap()).to_string(), "100.0");
        assert_eq!("-0.25".parse::<Amount>().unwrap().units(), -2_500);
        assert_eq!("7".parse::<Amount>().unwrap().units(), 70_000);
        for bad in ["--1", "+1", "-", "- 1", "1-"] {
            assert!(bad.parse::<Amount>().is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn units_round_trip(int in 0u64..1_000_000_000_000, frac in 0u32..10_000) {
            let money: Money = format!("{int}.{frac:04}").parse().unwrap();
            prop_assert_eq!(Money::from_units(money.units()), Some(money));
            prop_assert_eq!(Amount::draw(money).magnitude(), money);
        }

        #[test]
        fn rendering_round_trips_and_matches_the_schema(int in 0u64..1_000_000_000, frac in 0u32..10_000) {
            let input = format!("{int}.{frac:04}");
            let money: Money = input.parse().unwrap();
            let shown = money.to_string();
            prop_assert_eq!(shown.parse::<Money>().unwrap(), money);
            let (i, f) = shown.split_once('.').unwrap();
            prop_assert!(!i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(!f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(f == "0" || !f.ends_with('0'));
            prop_assert_eq!(money.decimal(), Decimal::from_str(&input).unwrap());
        }
    }
}
