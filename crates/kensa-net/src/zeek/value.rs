//! Scalar decoding shared by the TSV and JSON readers: Zeek's `\xHH` escapes, byte strings,
//! numbers, booleans and timestamps (epoch seconds or ISO 8601).
use kensa_core::civil::{days_from_civil, days_in_month};

/// Longest excerpt of an offending value kept in a [`super::IssueKind::BadValue`].
pub(super) const MAX_EXCERPT: usize = 64;

/// Undo the ASCII writer's escaping: every `\xHH` (two hex digits, either case) becomes the byte
/// `HH`; anything else, including a lone backslash, stays as it is. This is the inverse of what
/// Zeek writes: non-printable bytes, the column separator inside values, the set separator
/// inside set elements and the first byte of a value equal to the unset/empty marker are written
/// as `\xHH`; a printable backslash is written unescaped (so a literal `\x41` in traffic comes
/// back as `A`, as with Zeek's own reader).
pub(super) fn unescape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        if b == b'\\'
            && raw.get(i + 1) == Some(&b'x')
            && let (Some(h), Some(l)) = (
                raw.get(i + 2).copied().and_then(hex),
                raw.get(i + 3).copied().and_then(hex),
            )
        {
            out.push(h << 4 | l);
            i += 4;
            continue;
        }
        out.push(b);
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Bytes → `String` without losing information: valid UTF-8 is kept, every byte of an invalid
/// sequence is written as `\xHH` (lower-case hex), the way Zeek shows such bytes.
pub(super) fn bytes_to_string(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let bytes = e.into_bytes();
            let mut s = String::with_capacity(bytes.len() + 16);
            for chunk in bytes.utf8_chunks() {
                s.push_str(chunk.valid());
                for b in chunk.invalid() {
                    s.push_str(&format!("\\x{b:02x}"));
                }
            }
            s
        }
    }
}

/// Excerpt of a raw value for an issue report (at most [`MAX_EXCERPT`] bytes, lossy).
pub(super) fn excerpt(raw: &[u8]) -> String {
    let cut = raw.get(..MAX_EXCERPT).unwrap_or(raw);
    let mut s = bytes_to_string(cut.to_vec());
    if raw.len() > MAX_EXCERPT {
        s.push('…');
    }
    s
}

/// Unsigned decimal (Zeek `count`), optional surrounding blanks; no sign, no fraction.
pub(super) fn parse_u64(s: &[u8]) -> Option<u64> {
    let s = s.trim_ascii();
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &b in s {
        let d = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// Zeek `port`: the number, optionally followed by `/tcp`, `/udp`, `/icmp` or `/unknown`.
pub(super) fn parse_port(s: &[u8]) -> Option<u16> {
    let num = match s.iter().position(|&b| b == b'/') {
        Some(i) => s.get(..i)?,
        None => s,
    };
    parse_u64(num).and_then(|v| u16::try_from(v).ok())
}

/// Finite decimal floating-point number (Zeek `double`, `interval`, `time`).
pub(super) fn parse_f64(s: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(s.trim_ascii()).ok()?;
    // Rust accepts "inf", "NaN" and "infinity"; Zeek never writes them and they would poison sums.
    if s.is_empty()
        || s.len() > 64
        || s.bytes()
            .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E')
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Zeek `bool`: `T`/`F` (also `1`/`0`, `true`/`false` as other exporters write them).
pub(super) fn parse_bool(s: &[u8]) -> Option<bool> {
    match s.trim_ascii() {
        b"T" | b"1" | b"true" | b"TRUE" | b"True" => Some(true),
        b"F" | b"0" | b"false" | b"FALSE" | b"False" => Some(false),
        _ => None,
    }
}

/// A `time` value as text: epoch seconds (`1609951275.123456`) or ISO 8601 / RFC 3339
/// (`2021-01-06T16:41:15.123456Z`, as written with `LogAscii::json_timestamps =
/// JSON::TS_ISO8601`). Returns epoch seconds.
pub(super) fn parse_time(s: &[u8]) -> Option<f64> {
    let t = s.trim_ascii();
    match t.get(4) {
        Some(b'-') => parse_iso8601(t),
        _ => parse_f64(t),
    }
}

/// `YYYY-MM-DD(T| )HH:MM:SS[.fraction][Z | ±HH[:MM] | ±HHMM]`; no zone means UTC. Up to nine
/// fraction digits are used, more are checked but ignored.
pub(super) fn parse_iso8601(s: &[u8]) -> Option<f64> {
    let num = |a: usize, b: usize| -> Option<i64> {
        let part = s.get(a..b)?;
        if part.iter().all(u8::is_ascii_digit) {
            parse_u64(part).and_then(|v| i64::try_from(v).ok())
        } else {
            None
        }
    };
    let sep = |i: usize, allowed: &[u8]| s.get(i).is_some_and(|c| allowed.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = s.get(19..)?;
    let mut frac = 0.0f64;
    if let Some(after_dot) = rest.strip_prefix(b".") {
        let n = after_dot.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let digits = after_dot.get(..n.min(9))?;
        let scale = 10f64.powi(i32::try_from(digits.len()).ok()?);
        frac = parse_u64(digits)? as f64 / scale;
        rest = after_dot.get(n..)?;
    }
    let offset_secs: i64 = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), tz @ ..] => {
            let (hh, mm) = match tz {
                [h1, h2] => (&[*h1, *h2][..], &b"00"[..]),
                [h1, h2, m1, m2] => (&[*h1, *h2][..], &[*m1, *m2][..]),
                [h1, h2, b':', m1, m2] => (&[*h1, *h2][..], &[*m1, *m2][..]),
                _ => return None,
            };
            let (hh, mm) = (two_digits(hh)?, two_digits(mm)?);
            if hh > 23 || mm > 59 {
                return None;
            }
            let off = hh * 3600 + mm * 60;
            if *sign == b'+' { off } else { -off }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(secs as f64 + frac)
}

fn two_digits(d: &[u8]) -> Option<i64> {
    match d {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Some(i64::from(a - b'0') * 10 + i64::from(b - b'0'))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_hex_and_leftovers() {
        assert_eq!(unescape(br"a\x09b"), b"a\tb");
        assert_eq!(unescape(br"\x2d"), b"-");
        assert_eq!(unescape(br"\x28empty)"), b"(empty)");
        assert_eq!(unescape(br"C:\Windows\x5C"), b"C:\\Windows\\");
        assert_eq!(unescape(br"\x4"), br"\x4");
        assert_eq!(unescape(br"\xzz\"), br"\xzz\");
        assert_eq!(unescape(br"\xFf"), [0xff]);
    }

    #[test]
    fn bytes_to_string_keeps_invalid_bytes_as_escapes() {
        assert_eq!(bytes_to_string(b"ok".to_vec()), "ok");
        assert_eq!(bytes_to_string(vec![b'a', 0xff, 0xfe, b'b']), r"a\xff\xfeb");
        assert_eq!(bytes_to_string("日本".as_bytes().to_vec()), "日本");
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_port(b"443/tcp"), Some(443));
        assert_eq!(parse_port(b"65536"), None);
        assert_eq!(parse_f64(b"0.000123"), Some(0.000123));
        assert_eq!(parse_f64(b"inf"), None);
        assert_eq!(parse_f64(b"NaN"), None);
        assert_eq!(parse_f64(b"1e400"), None);
        assert_eq!(parse_bool(b"T"), Some(true));
        assert_eq!(parse_bool(b"x"), None);
    }

    #[test]
    fn iso8601_against_known_epochs() {
        // 2021-01-06 16:41:15 UTC = 1609951275 (start of the Unit 42 capture, spec §10).
        assert_eq!(parse_time(b"2021-01-06T16:41:15Z"), Some(1_609_951_275.0));
        let t = parse_time(b"2021-01-06T16:41:15.250000Z").unwrap();
        assert!((t - 1_609_951_275.25).abs() < 1e-6);
        assert_eq!(
            parse_time(b"2021-01-06T17:41:15+01:00"),
            Some(1_609_951_275.0)
        );
        assert_eq!(
            parse_time(b"2021-01-06T11:41:15-0500"),
            Some(1_609_951_275.0)
        );
        assert_eq!(parse_time(b"2021-01-06 16:41:15"), Some(1_609_951_275.0));
        assert_eq!(parse_time(b"1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_time(b"2000-02-29T00:00:00Z"), Some(951_782_400.0));
        assert_eq!(parse_time(b"1900-02-29T00:00:00Z"), None);
        assert_eq!(parse_time(b"2021-13-01T00:00:00Z"), None);
        assert_eq!(parse_time(b"2021-01-06T16:41:15.Z"), None);
        assert_eq!(parse_time(b"2021-01-06T16:41:15+1"), None);
        assert_eq!(parse_time(b"1609951275.123456"), Some(1_609_951_275.123456));
    }
}
