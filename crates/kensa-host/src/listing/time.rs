//! FILETIME conversions and the `LastWriteTimeUtc` text formats of file listings.
//!
//! FILETIME counts 100 ns ticks since 1601-01-01T00:00:00Z; the Unix epoch is 11,644,473,600 s
//! later. Calendar arithmetic is proleptic Gregorian via day counts from 1970-01-01 (the usual
//! "days from civil" method, years shifted to start in March so the leap day comes last).
use kensa_core::civil::{civil_from_days, days_from_civil, days_in_month};

/// Seconds from 1601-01-01 to 1970-01-01.
const EPOCH_DIFF_SECS: i64 = 11_644_473_600;
/// FILETIME ticks per second.
const TICKS_PER_SEC: u64 = 10_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// FILETIME (100 ns ticks since 1601-01-01 UTC) of a Unix time. Times before 1601 give 0, times
/// beyond the FILETIME range give `u64::MAX`; `nanos` above 999,999,999 count as 999,999,999.
pub fn filetime_from_unix(secs: i64, nanos: u32) -> u64 {
    let nanos = u64::from(nanos.min(999_999_999));
    let Some(since_1601) = secs.checked_add(EPOCH_DIFF_SECS) else {
        return u64::MAX;
    };
    let Ok(since_1601) = u64::try_from(since_1601) else {
        return 0;
    };
    since_1601
        .checked_mul(TICKS_PER_SEC)
        .and_then(|t| t.checked_add(nanos / 100))
        .unwrap_or(u64::MAX)
}

/// RFC 3339 / ISO 8601 UTC text of a FILETIME with all 7 fractional digits, e.g.
/// `2026-11-22T03:04:05.1234567Z`. Defined for every `u64` (the largest is in year 60056).
pub fn filetime_to_rfc3339(ft: u64) -> String {
    let ticks = ft % TICKS_PER_SEC;
    // ft / 10^7 < 1.9e12, far inside i64.
    let unix = i64::try_from(ft / TICKS_PER_SEC).unwrap_or(i64::MAX) - EPOCH_DIFF_SECS;
    let days = unix.div_euclid(SECS_PER_DAY);
    let sod = unix.rem_euclid(SECS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ticks:07}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Parses a listing's `LastWriteTimeUtc` (ISO 8601, en-US, ja-JP or day.month.year layouts; see the
/// module doc of `listing`) into a FILETIME. `None` for anything else, for impossible dates and times,
/// for years outside 1601–9999 and for ambiguous day/month order.
pub fn parse_last_write_time(s: &str) -> Option<u64> {
    let s = s.trim();
    let (date, rest) = s.split_once(['T', ' '])?;
    let rest = rest.trim_start();
    let (clock, suffix) = match rest.split_once(' ') {
        Some((c, x)) => (c, x.trim()),
        None => (rest, ""),
    };
    let (order, a, b, c) = split_date(date)?;
    let twelve_hour = if suffix.eq_ignore_ascii_case("AM") {
        Some(false)
    } else if suffix.eq_ignore_ascii_case("PM") {
        Some(true)
    } else if suffix.is_empty() {
        None
    } else {
        return None;
    };
    let (y, mo, d) = match (order, twelve_hour) {
        (Order::YearFirst, None) => (a, b, c),
        (Order::DayDotted, None) => (c, b, a),
        (Order::MonthSlashed, Some(_)) => (c, a, b),
        _ => return None,
    };
    let (clock, offset) = split_zone(clock, order == Order::YearFirst)?;
    let (h, mi, sec, ticks) = parse_clock(clock)?;
    let h = match twelve_hour {
        None => h,
        Some(_) if !(1..=12).contains(&h) => return None,
        Some(false) => h % 12,
        Some(true) => h % 12 + 12,
    };
    if !(1601..=9999).contains(&y) || !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo)
    {
        return None;
    }
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    let unix = days * SECS_PER_DAY + h * 3600 + mi * 60 + sec - offset;
    let since_1601 = u64::try_from(unix.checked_add(EPOCH_DIFF_SECS)?).ok()?;
    since_1601.checked_mul(TICKS_PER_SEC)?.checked_add(ticks)
}

/// Field order of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// `yyyy-MM-dd`, `yyyy/MM/dd`.
    YearFirst,
    /// `M/d/yyyy` (en-US, only with AM/PM).
    MonthSlashed,
    /// `dd.MM.yyyy`.
    DayDotted,
}

/// Splits a date into its order and three numbers in written order.
fn split_date(date: &str) -> Option<(Order, i64, i64, i64)> {
    let sep = date.chars().find(|c| matches!(c, '-' | '/' | '.'))?;
    let mut parts = date.split(sep);
    let (p0, p1, p2) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let order = match (p0.len(), p2.len(), sep) {
        (4, 1..=2, '-' | '/') => Order::YearFirst,
        (1..=2, 4, '/') => Order::MonthSlashed,
        (1..=2, 4, '.') => Order::DayDotted,
        _ => return None,
    };
    if p1.is_empty() || p1.len() > 2 {
        return None;
    }
    Some((order, number(p0)?, number(p1)?, number(p2)?))
}

/// Removes a `Z` or `±hh:mm`/`±hhmm` zone from an ISO time; returns the offset in seconds.
fn split_zone(clock: &str, iso: bool) -> Option<(&str, i64)> {
    if !iso {
        return Some((clock, 0));
    }
    if let Some(c) = clock.strip_suffix(['Z', 'z']) {
        return Some((c, 0));
    }
    let Some(pos) = clock.rfind(['+', '-']) else {
        return Some((clock, 0));
    };
    let (c, zone) = clock.split_at(pos);
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let digits: String = zone.get(1..)?.chars().filter(|&ch| ch != ':').collect();
    if digits.len() != 4 {
        return None;
    }
    let hh = number(digits.get(..2)?)?;
    let mm = number(digits.get(2..)?)?;
    if hh > 14 || mm > 59 {
        return None;
    }
    Some((c, sign * (hh * 3600 + mm * 60)))
}

/// `H:mm:ss[.fffffff]` → hours, minutes, seconds, 100 ns ticks (digits past the 7th are dropped).
fn parse_clock(clock: &str) -> Option<(i64, i64, i64, u64)> {
    let (hms, frac) = match clock.split_once(['.', ',']) {
        Some((h, f)) => (h, Some(f)),
        None => (clock, None),
    };
    let mut parts = hms.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || h.is_empty() || h.len() > 2 || m.len() != 2 || s.len() != 2 {
        return None;
    }
    let ticks = match frac {
        None => 0,
        Some(f) if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) => {
            return None;
        }
        Some(f) => {
            let seven: String = f.chars().chain(std::iter::repeat('0')).take(7).collect();
            seven.parse().ok()?
        }
    };
    Some((number(h)?, number(m)?, number(s)?, ticks))
}

/// A short decimal number (ASCII digits only, no sign).
fn number(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetime_epochs_and_limits() {
        assert_eq!(filetime_from_unix(0, 0), 116_444_736_000_000_000);
        assert_eq!(filetime_from_unix(0, 999), 116_444_736_000_000_009);
        assert_eq!(filetime_from_unix(-EPOCH_DIFF_SECS, 0), 0);
        assert_eq!(filetime_from_unix(-EPOCH_DIFF_SECS - 1, 0), 0);
        assert_eq!(filetime_from_unix(i64::MIN, 0), 0);
        assert_eq!(filetime_from_unix(i64::MAX, 0), u64::MAX);
        assert_eq!(
            filetime_from_unix(0, u32::MAX),
            116_444_736_000_000_000 + 9_999_999
        );
        assert_eq!(filetime_to_rfc3339(0), "1601-01-01T00:00:00.0000000Z");
        assert_eq!(
            filetime_to_rfc3339(116_444_736_000_000_000),
            "1970-01-01T00:00:00.0000000Z"
        );
        // regipy NTUSER.DAT Run key time (host.md §7).
        assert_eq!(
            filetime_to_rfc3339(129_779_615_948_377_168),
            "2012-04-03T21:19:54.8377168Z"
        );
        assert_eq!(
            filetime_to_rfc3339(u64::MAX),
            "60056-05-28T05:36:10.9551615Z"
        );
    }

    #[test]
    fn calendar_round_trip() {
        for days in (-200_000..200_000).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(
            days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28),
            2
        );
        assert_eq!(
            days_from_civil(2100, 3, 1) - days_from_civil(2100, 2, 28),
            1
        );
    }

    #[test]
    fn culture_formats() {
        let iso = parse_last_write_time("2026-11-22T03:04:05Z").unwrap();
        assert_eq!(filetime_to_rfc3339(iso), "2026-11-22T03:04:05.0000000Z");
        for s in [
            "11/22/2026 3:04:05 AM",
            "11/22/2026 3:04:05 am",
            "2026/11/22 3:04:05",
            "2026/11/22 03:04:05",
            "2026-11-22 03:04:05",
            "22.11.2026 03:04:05",
            " 2026-11-22T03:04:05 ",
            "2026-11-22T12:04:05+09:00",
            "2026-11-21T22:04:05-0500",
        ] {
            assert_eq!(parse_last_write_time(s), Some(iso), "{s}");
        }
        let ft = parse_last_write_time("2026-11-22T03:04:05.1234567Z").unwrap();
        assert_eq!(filetime_to_rfc3339(ft), "2026-11-22T03:04:05.1234567Z");
        let ft = parse_last_write_time("2026-11-22T03:04:05.123456789Z").unwrap();
        assert_eq!(filetime_to_rfc3339(ft), "2026-11-22T03:04:05.1234567Z");
        let ft = parse_last_write_time("2026-11-22T03:04:05.5Z").unwrap();
        assert_eq!(filetime_to_rfc3339(ft), "2026-11-22T03:04:05.5000000Z");
        let pm = parse_last_write_time("11/22/2026 3:04:05 PM").unwrap();
        assert_eq!(filetime_to_rfc3339(pm), "2026-11-22T15:04:05.0000000Z");
        let midnight = parse_last_write_time("1/2/2026 12:00:00 AM").unwrap();
        assert_eq!(
            filetime_to_rfc3339(midnight),
            "2026-01-02T00:00:00.0000000Z"
        );
        let noon = parse_last_write_time("1/2/2026 12:30:00 PM").unwrap();
        assert_eq!(filetime_to_rfc3339(noon), "2026-01-02T12:30:00.0000000Z");
        assert!(parse_last_write_time("2024-02-29T00:00:00Z").is_some());
        assert!(parse_last_write_time("2000-02-29T00:00:00Z").is_some());
        for bad in [
            "",
            "2026",
            "22/11/2026 03:04:05",   // day-first slash: ambiguous
            "11/22/2026 03:04:05",   // en-US without AM/PM
            "2026/11/22 3:04:05 PM", // year-first with AM/PM
            "11/22/2026 13:04:05 PM",
            "11/22/2026 0:04:05 AM",
            "2100-02-29T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T23:60:00Z",
            "1600-12-31T23:59:59Z",
            "10000-01-01T00:00:00Z",
            "2026-11-22T03:04Z",
            "2026-11-22T03:04:05.Z",
            "2026-11-22T03:04:05+15:00",
            "2026-11-22T03:04:05 XM",
            "２０２６/11/22 3:04:05",
            "2026-11-22-01T00:00:00Z",
            "+2026-11-22T03:04:05Z",
        ] {
            assert_eq!(parse_last_write_time(bad), None, "{bad:?}");
        }
    }
}
