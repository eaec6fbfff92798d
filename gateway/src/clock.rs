//! Time, injected: the core never reads the system clock directly, so tests can
//! stand at 59:59 of an upload window or at the instant a message expires.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// A moment in UTC, in milliseconds since the Unix epoch (how it is stored).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// From milliseconds since the Unix epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// This moment plus a duration (saturating).
    pub fn plus(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
    }

    /// This moment minus a duration (saturating).
    pub fn minus(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
    }

    /// RFC 3339 in UTC, to the second.
    pub fn rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
            Ok(t) => t
                .replace_nanosecond(0)
                .unwrap_or(t)
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_else(|_| self.0.to_string()),
            Err(_) => self.0.to_string(),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

/// The operator's time zone: where the people who read the pages and the
/// mails live, so that "valid until" is their own evening, not UTC's.
#[derive(Clone, Debug)]
pub struct LocalZone(jiff::tz::TimeZone);

impl LocalZone {
    /// An IANA zone such as `Europe/Amsterdam`.
    pub fn named(name: &str) -> Result<LocalZone, String> {
        jiff::tz::TimeZone::get(name)
            .map(LocalZone)
            .map_err(|_| format!("{name:?} is not a time zone of the IANA database (such as Europe/Amsterdam)"))
    }

    /// A moment as a sentence shows it: `6 december 2026 om 21:05`,
    /// `6 December 2026 at 21:05`, in this zone.
    pub fn show(&self, t: Timestamp, language: crate::Language) -> String {
        let Ok(utc) = jiff::Timestamp::from_millisecond(t.as_millis()) else {
            return t.rfc3339();
        };
        let local = utc.to_zoned(self.0.clone());
        let month = usize::try_from(local.month() - 1).unwrap_or_default();
        let (names, at) = match language {
            crate::Language::Nl => (MONTHS_NL, "om"),
            crate::Language::En => (MONTHS_EN, "at"),
        };
        format!("{} {} {} {at} {:02}:{:02}", local.day(), names[month % 12], local.year(), local.hour(), local.minute())
    }
}

impl LocalZone {
    /// The day of a moment in this zone, `YYYY-MM-DD`.
    pub fn today(&self, t: Timestamp) -> String {
        match jiff::Timestamp::from_millisecond(t.as_millis()) {
            Ok(utc) => utc.to_zoned(self.0.clone()).date().to_string(),
            Err(_) => String::new(),
        }
    }

    /// The first moment of a day (`YYYY-MM-DD`) in this zone.
    pub fn start_of_day(&self, day: &str) -> Option<Timestamp> {
        let date: jiff::civil::Date = day.parse().ok()?;
        self.first_moment(date)
    }

    /// The first moment of the day after a day (`YYYY-MM-DD`): where a
    /// period that includes that day ends.
    pub fn start_of_day_after(&self, day: &str) -> Option<Timestamp> {
        let date: jiff::civil::Date = day.parse().ok()?;
        self.first_moment(date.tomorrow().ok()?)
    }

    fn first_moment(&self, date: jiff::civil::Date) -> Option<Timestamp> {
        let zoned = date.to_zoned(self.0.clone()).ok()?;
        Some(Timestamp::from_millis(zoned.timestamp().as_millisecond()))
    }
}

impl Default for LocalZone {
    /// Europe/Amsterdam, the embedded default; UTC if even the built-in
    /// database lacks it.
    fn default() -> Self {
        LocalZone::named("Europe/Amsterdam").unwrap_or(LocalZone(jiff::tz::TimeZone::UTC))
    }
}

const MONTHS_NL: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> Timestamp;

    /// Whether this is the world's time, which every node reads from its
    /// own clock with its own error: then what nodes must agree on (leases)
    /// is timed by the database's clock instead. A clock a test moves is
    /// its own time, and times everything.
    fn is_world_time(&self) -> bool {
        true
    }
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that only moves when told to; for tests and simulations.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock(Arc::new(AtomicI64::new(start.0)))
    }

    /// Move forward.
    pub fn advance(&self, d: Duration) {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// Stand at a given moment.
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }

    fn is_world_time(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Language;

    fn at(rfc3339: &str) -> Timestamp {
        let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339).expect("a moment");
        Timestamp::from_millis(i64::try_from(t.unix_timestamp_nanos() / 1_000_000).expect("in range"))
    }

    #[test]
    fn moments_are_shown_in_the_operators_zone_with_summer_time() {
        let zone = LocalZone::default();
        assert_eq!(zone.show(at("2026-12-06T20:05:00Z"), Language::Nl), "6 december 2026 om 21:05");
        assert_eq!(zone.show(at("2026-12-06T20:05:00Z"), Language::En), "6 December 2026 at 21:05");
        // Summer time: two hours ahead; the day turns over in the zone, not in UTC.
        assert_eq!(zone.show(at("2026-07-01T22:30:00Z"), Language::Nl), "2 juli 2026 om 00:30");
        // The night the clocks go back: 01:00 UTC is 02:00 CET, 00:59 UTC still 02:59 CEST.
        assert_eq!(zone.show(at("2026-10-25T00:59:00Z"), Language::En), "25 October 2026 at 02:59");
        assert_eq!(zone.show(at("2026-10-25T01:00:00Z"), Language::En), "25 October 2026 at 02:00");
        let utc = LocalZone::named("UTC").expect("UTC is a zone");
        assert_eq!(utc.show(at("2026-12-06T20:05:00Z"), Language::En), "6 December 2026 at 20:05");
        let day = zone.start_of_day("2026-07-01").expect("a day");
        assert_eq!(utc.show(day, Language::En), "30 June 2026 at 22:00", "midnight in summer is 22:00 UTC");
        let after = zone.start_of_day_after("2026-12-31").expect("a day");
        assert_eq!(zone.show(after, Language::Nl), "1 januari 2027 om 00:00");
        assert_eq!(zone.today(at("2026-12-31T23:30:00Z")), "2027-01-01", "already the new year in Amsterdam");
        assert!(zone.start_of_day("2026-13-01").is_none() && zone.start_of_day("gisteren").is_none());
        let err = LocalZone::named("Europe/Amsterdamm").err().unwrap_or_default();
        assert!(err.contains("Europe/Amsterdamm") && err.contains("IANA"), "{err}");
    }
}
