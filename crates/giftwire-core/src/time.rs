//! Time: instants are stored as UTC seconds and shown in the organization's IANA time zone
//! (CONTRACT.md §5), as `2022-09-12T12:08:27-07:00`.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::error::InvalidValue;

/// An organization's time zone: its IANA name and the rules to apply it.
#[derive(Debug, Clone)]
pub struct OrgTimeZone {
    name: String,
    tz: TimeZone,
}

impl OrgTimeZone {
    /// Accepts IANA names known to the bundled time zone database (`America/Los_Angeles`, `UTC`).
    pub fn parse(name: &str) -> Result<OrgTimeZone, InvalidValue> {
        let tz = TimeZone::get(name).map_err(|_| InvalidValue::new("time_zone", name))?;
        // jiff accepts some names case-insensitively; keep the canonical spelling when it has one.
        let canonical = tz.iana_name().unwrap_or(name).to_owned();
        Ok(OrgTimeZone {
            name: canonical,
            tz,
        })
    }

    pub fn utc() -> OrgTimeZone {
        OrgTimeZone {
            name: "UTC".to_owned(),
            tz: TimeZone::UTC,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The local calendar date of an instant.
    pub fn date_of(&self, at: Timestamp) -> jiff::civil::Date {
        self.tz.to_offset(at).to_datetime(at).date()
    }

    /// The first instant of a local calendar date (midnight, or the first instant after a gap).
    pub fn start_of_day(&self, day: jiff::civil::Date) -> Result<Timestamp, InvalidValue> {
        self.tz
            .to_timestamp(day.to_datetime(jiff::civil::Time::midnight()))
            .map_err(|_| InvalidValue::new("date", &day.to_string()))
    }

    /// ISO 8601 with whole seconds and a numeric offset, never `Z`.
    pub fn format(&self, at: Timestamp) -> String {
        let mut out = String::with_capacity(25);
        self.write(at, &mut out);
        out
    }

    /// ISO 8601 with milliseconds, as the documentation shows the times of groups and
    /// touches: `2020-05-01T13:53:05.000-07:00` (stored times have whole seconds).
    pub fn format_millis(&self, at: Timestamp) -> String {
        let mut out = self.format(at);
        // `…T13:53:05-07:00` or `…+00:00`: the offset is the last six characters.
        out.insert_str(out.len() - 6, ".000");
        out
    }

    /// Midnight of a local date, formatted as [`Self::format_millis`] does (the earliest
    /// instant of the day where a transition skips midnight).
    pub fn format_date_millis(&self, day: jiff::civil::Date) -> String {
        let midnight = day.to_datetime(jiff::civil::Time::midnight());
        match self.tz.to_ambiguous_timestamp(midnight).compatible() {
            Ok(at) => self.format_millis(at),
            Err(_) => format!("{day}T00:00:00.000+00:00"),
        }
    }

    /// Appends what [`Self::format`] returns to `out`.
    pub fn write(&self, at: Timestamp, out: &mut String) {
        let offset = self.tz.to_offset(at);
        let dt = offset.to_datetime(at);
        let secs = offset.seconds();
        let sign = if secs < 0 { '-' } else { '+' };
        let abs = secs.unsigned_abs();
        let _ = write!(
            out,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            abs / 3600,
            (abs / 60) % 60
        );
    }
}

/// Parses an RFC 3339 instant (`2024-05-01T12:00:00Z`, `2024-05-01T05:00:00-07:00`) and drops
/// sub-second precision, as every stored time has whole seconds.
pub fn parse_instant(what: &'static str, s: &str) -> Result<Timestamp, InvalidValue> {
    let ts: Timestamp = s.parse().map_err(|_| InvalidValue::new(what, s))?;
    Timestamp::from_second(ts.as_second()).map_err(|_| InvalidValue::new(what, s))
}

/// The current instant, in whole seconds.
pub fn now() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Where "now" comes from: the system clock, or a manual one that tests (and only tests) move.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock that stays at `start` until it is set or advanced.
    pub fn manual(start: Timestamp) -> Clock {
        Clock(Some(Arc::new(AtomicI64::new(start.as_second()))))
    }

    /// The current instant in whole seconds.
    pub fn now(&self) -> Timestamp {
        match &self.0 {
            None => now(),
            Some(secs) => {
                Timestamp::from_second(secs.load(Ordering::SeqCst)).unwrap_or(Timestamp::UNIX_EPOCH)
            }
        }
    }

    /// Moves a manual clock forward; does nothing to the system clock.
    pub fn advance(&self, secs: i64) {
        if let Some(clock) = &self.0 {
            clock.fetch_add(secs, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_with_milliseconds_keep_the_numeric_offset() {
        let la = OrgTimeZone::parse("America/Los_Angeles").unwrap();
        let at: Timestamp = "2020-05-01T20:53:05Z".parse().unwrap();
        assert_eq!(la.format_millis(at), "2020-05-01T13:53:05.000-07:00");
        assert_eq!(
            OrgTimeZone::utc().format_millis(at),
            "2020-05-01T20:53:05.000+00:00"
        );
        let day: jiff::civil::Date = "2023-10-25".parse().unwrap();
        assert_eq!(la.format_date_millis(day), "2023-10-25T00:00:00.000-07:00");
        assert_eq!(
            la.format_date_millis("2023-12-25".parse().unwrap()),
            "2023-12-25T00:00:00.000-08:00"
        );
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_seeds_example_renders_in_pacific_time_with_both_offsets() {
        let la = OrgTimeZone::parse("America/Los_Angeles").unwrap();
        assert_eq!(
            la.format(at("2022-09-12T19:08:27Z")),
            "2022-09-12T12:08:27-07:00"
        );
        assert_eq!(
            la.format(at("2022-12-11T08:00:02Z")),
            "2022-12-11T00:00:02-08:00"
        );
    }

    #[test]
    fn utc_renders_a_numeric_offset_and_odd_offsets_keep_their_minutes() {
        assert_eq!(
            OrgTimeZone::utc().format(at("2024-01-01T00:00:00Z")),
            "2024-01-01T00:00:00+00:00"
        );
        let kolkata = OrgTimeZone::parse("Asia/Kolkata").unwrap();
        assert_eq!(
            kolkata.format(at("2024-01-01T00:00:00Z")),
            "2024-01-01T05:30:00+05:30"
        );
        let st_johns = OrgTimeZone::parse("America/St_Johns").unwrap();
        assert_eq!(
            st_johns.format(at("2024-01-01T00:00:00Z")),
            "2023-12-31T20:30:00-03:30"
        );
    }

    #[test]
    fn unknown_zones_are_refused() {
        assert!(OrgTimeZone::parse("Mars/Olympus_Mons").is_err());
        assert!(OrgTimeZone::parse("").is_err());
        assert_eq!(
            OrgTimeZone::parse("Europe/Berlin").unwrap().name(),
            "Europe/Berlin"
        );
    }

    #[test]
    fn instants_drop_fractions_and_need_an_offset() {
        assert_eq!(
            parse_instant("at", "2024-05-01T12:00:00.9Z").unwrap(),
            at("2024-05-01T12:00:00Z")
        );
        assert!(parse_instant("at", "2024-05-01T12:00:00").is_err());
        assert!(parse_instant("at", "yesterday").is_err());
    }
}
