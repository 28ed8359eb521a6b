//! Calendar arithmetic and the timestamp forms of MTA logs: RFC 3164 (`Nov  2 10:00:01`, no year),
//! ISO 8601 / RFC 3339 (`2026-11-22T10:00:01.123456+00:00`, journald `+0000`, `Z`) and Exim's
//! `2026-11-22 10:00:01[.123][ +0100]`. Everything returns UTC epoch seconds; a stamp without an
//! offset is local time, converted with the caller's offset.

use kensa_core::civil;

/// Days since 1970-01-01 of a date (month and day as log parsers read them).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    civil::days_from_civil(year, i64::from(month), i64::from(day))
}

/// The date of a day count from 1970-01-01: `(year, month, day)`.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let (y, m, d) = civil::civil_from_days(days);
    (y, m as u32, d as u32)
}

pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    civil::days_in_month(year, i64::from(month)) as u32
}

/// Epoch seconds of a civil date and time, or `None` when a field is out of range. `offset_secs`
/// is the stamp's offset east of UTC (subtracted). Years are limited to 1..=9999.
pub(crate) fn epoch(
    year: i64,
    month: u32,
    day: u32,
    hms: (u32, u32, u32),
    offset_secs: i64,
) -> Option<i64> {
    let (h, m, s) = hms;
    // Second 60 is a leap second: accepted and folded onto the next second.
    if !(1..=9999).contains(&year) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s) - offset_secs)
}

/// RFC 3339 `YYYY-MM-DDTHH:MM:SSZ` of epoch seconds (UTC), for evidence strings.
pub fn format_utc(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Hour of the week of epoch seconds, Monday 00:00 = 0 … Sunday 23:00 = 167.
pub(crate) fn hour_of_week(t: i64) -> u32 {
    hour_of_week_of_hour(t.div_euclid(3600))
}

/// Hour of the week of an hour count since the epoch.
pub(crate) fn hour_of_week_of_hour(hour: i64) -> u32 {
    // 1970-01-01 was a Thursday (Monday-based index 3).
    let dow = (hour.div_euclid(24) + 3).rem_euclid(7);
    (dow * 24 + hour.rem_euclid(24)) as u32
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A timestamp without a year (RFC 3164), as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NoYearStamp {
    pub month: u32,
    pub day: u32,
    pub hms: (u32, u32, u32),
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    b.iter().try_fold(0u32, |acc, &c| {
        acc.checked_mul(10)?.checked_add(u32::from(c - b'0'))
    })
}

/// `HH:MM:SS` at the start of `b` (exactly 8 bytes).
fn hms(b: &[u8]) -> Option<(u32, u32, u32)> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    Some((digits(&b[0..2])?, digits(&b[3..5])?, digits(&b[6..8])?))
}

/// Length of an optional `.fraction` (1–9 digits) at the start of `b`.
fn fraction_len(b: &[u8]) -> usize {
    if b.first() != Some(&b'.') {
        return 0;
    }
    let n = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if (1..=9).contains(&n) { n + 1 } else { 0 }
}

/// An RFC 3164 stamp `Mmm dD HH:MM:SS[.frac]` at the start of `s`, and the bytes it used.
pub(crate) fn parse_no_year(s: &str) -> Option<(NoYearStamp, usize)> {
    let b = s.as_bytes();
    if b.len() < 15 || b[3] != b' ' {
        return None;
    }
    let month = MONTHS.iter().position(|m| m.as_bytes() == &b[..3])? as u32 + 1;
    let day = match (b[4], b[5]) {
        (b' ', d) if d.is_ascii_digit() => u32::from(d - b'0'),
        (a, d) if a.is_ascii_digit() && d.is_ascii_digit() => digits(&b[4..6])?,
        _ => return None,
    };
    if b[6] != b' ' {
        return None;
    }
    let t = hms(&b[7..])?;
    let used = 15 + fraction_len(&b[15..]);
    Some((NoYearStamp { month, day, hms: t }, used))
}

/// A date `YYYY-MM-DD` at the start of `b`.
fn ymd(b: &[u8]) -> Option<(i64, u32, u32)> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    Some((
        i64::from(digits(&b[0..4])?),
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    ))
}

/// A numeric offset `Z`, `±HH:MM`, `±HHMM` or `±HH` at the start of `b`: (seconds east, bytes).
fn offset(b: &[u8]) -> Option<(i64, usize)> {
    match b.first()? {
        b'Z' | b'z' => Some((0, 1)),
        c @ (b'+' | b'-') => {
            let sign = if *c == b'-' { -1 } else { 1 };
            let rest = &b[1..];
            let two = |x: &[u8]| digits(x).filter(|_| x.len() == 2);
            let h = two(rest.get(0..2)?)?;
            let (m, used) = if rest.get(2) == Some(&b':') {
                (two(rest.get(3..5)?)?, 6)
            } else if let Some(m) = rest.get(2..4).and_then(two) {
                (m, 5)
            } else {
                (0, 3)
            };
            if h > 23 || m > 59 {
                return None;
            }
            Some((sign * (i64::from(h) * 3600 + i64::from(m) * 60), used))
        }
        _ => None,
    }
}

/// An ISO 8601 / RFC 3339 stamp at the start of `s` (`T` between date and time; fraction and
/// offset optional): (epoch seconds, bytes used). Without an offset the stamp is local time and
/// `local_offset` applies.
pub(crate) fn parse_iso(s: &str, local_offset: i64) -> Option<(i64, usize)> {
    let b = s.as_bytes();
    let (y, mo, d) = ymd(b)?;
    if !matches!(b.get(10), Some(b'T' | b't')) {
        return None;
    }
    let t = hms(b.get(11..)?)?;
    let mut used = 19 + fraction_len(&b[19..]);
    let off = match offset(&b[used..]) {
        Some((o, n)) => {
            used += n;
            o
        }
        None => local_offset,
    };
    Some((epoch(y, mo, d, t, off)?, used))
}

/// Exim's `YYYY-MM-DD HH:MM:SS[.fff][ ±HHMM]` at the start of `s`: (epoch seconds, bytes used).
pub(crate) fn parse_exim(s: &str, local_offset: i64) -> Option<(i64, usize)> {
    let b = s.as_bytes();
    let (y, mo, d) = ymd(b)?;
    if b.get(10) != Some(&b' ') {
        return None;
    }
    let t = hms(b.get(11..)?)?;
    let mut used = 19 + fraction_len(&b[19..]);
    let mut off = local_offset;
    // `log_timezone = true` appends the offset after a space.
    if b.get(used) == Some(&b' ')
        && matches!(b.get(used + 1), Some(b'+' | b'-'))
        && let Some((o, n)) = offset(&b[used + 1..])
        && n == 5
        && matches!(b.get(used + 1 + n), None | Some(b' '))
    {
        off = o;
        used += 1 + n;
    }
    Some((epoch(y, mo, d, t, off)?, used))
}

/// Month of epoch seconds (UTC), 1–12, and the year.
pub(crate) fn year_month(t: i64) -> (i64, u32) {
    let (y, m, _) = civil_from_days(t.div_euclid(86_400));
    (y, m)
}
