//! Small text helpers shared by the feed parsers: line splitting, a one-line CSV splitter,
//! defanging, IP/port, host, URL and hash normalisation, and UTC date parsing.
//!
//! The CSV splitter is our own rather than the `csv` crate: feed lines are single-line records,
//! ThreatFox puts a space after each comma before the opening quote (which RFC 4180 readers treat
//! as part of an unquoted field), and a bad line must be reported with its number, not end the read.

use kensa_core::civil::{days_from_civil, days_in_month};
use std::borrow::Cow;
use std::net::{IpAddr, Ipv6Addr};

use super::{HashAlgo, MAX_FIELD_LEN, MAX_URL_LEN};

/// Longest excerpt kept with a problem.
const EXCERPT_LEN: usize = 80;

/// Lines of `data` with their 1-based numbers; `\r\n` and `\n` both end a line, a UTF-8 BOM at
/// the start is dropped, and a missing final newline is fine.
pub(crate) fn lines(data: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    // A final newline ends the last line rather than starting an empty one.
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    let n = if data.is_empty() { 0 } else { usize::MAX };
    body.split(|&b| b == b'\n')
        .take(n)
        .enumerate()
        .map(|(i, l)| {
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            (u64::try_from(i).unwrap_or(u64::MAX).saturating_add(1), l)
        })
}

/// A short excerpt of a bad line, cut at a character boundary.
pub(crate) fn excerpt(s: &str) -> String {
    cut(s, EXCERPT_LEN).to_string()
}

/// `s` cut to at most `max` bytes at a character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

/// A free-text field: trimmed, cut to [`MAX_FIELD_LEN`]; empty, `None`, `null`, `n/a` and `-`
/// mean absent.
pub(crate) fn opt_text(s: &str) -> Option<String> {
    let t = s.trim().trim_matches('"').trim();
    if t.is_empty()
        || t.eq_ignore_ascii_case("none")
        || t.eq_ignore_ascii_case("null")
        || t.eq_ignore_ascii_case("n/a")
        || t == "-"
    {
        return None;
    }
    Some(cut(t, MAX_FIELD_LEN).to_string())
}

/// Why a CSV line could not be split.
pub(crate) type CsvError = &'static str;

/// Split one CSV line into cells. Quoted cells may contain commas and `""`; blanks around cells
/// (ThreatFox's comma + space) are trimmed. At most `max_fields` cells.
pub(crate) fn split_csv(line: &str, max_fields: usize) -> Result<Vec<String>, CsvError> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0usize;
    loop {
        if out.len() >= max_fields {
            return Err("too many fields");
        }
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if b.get(i) == Some(&b'"') {
            i += 1;
            let mut cell = String::new();
            let mut start = i;
            loop {
                match b.get(i) {
                    None => return Err("unterminated quote"),
                    Some(b'"') if b.get(i + 1) == Some(&b'"') => {
                        cell.push_str(line.get(start..=i).unwrap_or(""));
                        i += 2;
                        start = i;
                    }
                    Some(b'"') => {
                        cell.push_str(line.get(start..i).unwrap_or(""));
                        i += 1;
                        break;
                    }
                    Some(_) => i += 1,
                }
            }
            while matches!(b.get(i), Some(b' ' | b'\t')) {
                i += 1;
            }
            out.push(cell);
            match b.get(i) {
                None => return Ok(out),
                Some(b',') => i += 1,
                Some(_) => return Err("text after a closing quote"),
            }
        } else {
            let start = i;
            while !matches!(b.get(i), None | Some(b',')) {
                i += 1;
            }
            out.push(line.get(start..i).unwrap_or("").trim().to_string());
            match b.get(i) {
                None => return Ok(out),
                _ => i += 1,
            }
        }
    }
}

/// Undo the usual defanging: `[.]`, `(.)`, `{.}`, `[dot]`, `(dot)` → `.`, `[:]` → `:`,
/// `[://]` → `://`, `[/]` → `/`, and a leading `hxxp`/`hxxps`/`fxp` scheme. Nested forms
/// (`[[.].]`) are undone too, so the result never contains a token (the function is idempotent).
pub(crate) fn undo_defang(s: &str) -> Cow<'_, str> {
    const TOKENS: [(&str, &str); 10] = [
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("[DOT]", "."),
        ("(dot)", "."),
        ("(DOT)", "."),
        ("[://]", "://"),
        ("[:]", ":"),
        ("[/]", "/"),
    ];
    if !s.contains(['[', '(', '{']) && !has_bad_scheme(s) {
        return Cow::Borrowed(s);
    }
    let mut t = String::with_capacity(s.len());
    for c in s.chars() {
        t.push(c);
        // Every token ends with a closing bracket and has none inside, and replacements end
        // without one: checking the end of the output at each closing bracket undoes all.
        if matches!(c, ']' | ')' | '}')
            && let Some((tok, rep)) = TOKENS.iter().find(|(tok, _)| t.ends_with(tok))
        {
            t.truncate(t.len().saturating_sub(tok.len()));
            t.push_str(rep);
        }
    }
    if has_bad_scheme(&t) {
        let lower = t.get(..4).unwrap_or("").to_ascii_lowercase();
        t = if lower == "hxxp" {
            format!("http{}", t.get(4..).unwrap_or(""))
        } else {
            format!("ftp{}", t.get(3..).unwrap_or(""))
        };
    }
    Cow::Owned(t)
}

fn has_bad_scheme(s: &str) -> bool {
    let head = s.get(..4).unwrap_or("");
    head.eq_ignore_ascii_case("hxxp")
        || s.get(..6).is_some_and(|h| h.eq_ignore_ascii_case("fxp://"))
}

/// An IP with an optional port: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]`,
/// `[2001:db8::1]:443`, defanged forms too. IPv4-mapped IPv6 comes back as IPv4.
pub fn parse_ip_port(s: &str) -> Option<(IpAddr, Option<u16>)> {
    let s = undo_defang(s.trim());
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        let ip: IpAddr = inner.parse().ok()?;
        let port = match after {
            "" => None,
            p => Some(parse_port(p.strip_prefix(':')?)?),
        };
        return Some((ip.to_canonical(), port));
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some((ip.to_canonical(), None));
    }
    let (host, port) = s.rsplit_once(':')?;
    if host.contains(':') {
        return None;
    }
    let ip: std::net::Ipv4Addr = host.parse().ok()?;
    Some((IpAddr::V4(ip), Some(parse_port(port)?)))
}

/// A decimal port 0–65535, digits only.
pub(crate) fn parse_port(s: &str) -> Option<u16> {
    let s = s.trim();
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A host name as listed or observed: defanging undone, trimmed, lower-case, no trailing dot.
/// `None` when it cannot be a DNS name (empty or over-long labels, blanks, URL punctuation) or is
/// an IP literal.
pub fn normalise_domain(s: &str) -> Option<String> {
    let s = undo_defang(s.trim());
    let s = s.trim();
    let s = s.strip_suffix('.').unwrap_or(s).to_lowercase();
    if s.is_empty() || s.len() > 253 {
        return None;
    }
    if s.parse::<IpAddr>().is_ok() || s.starts_with('[') {
        return None;
    }
    let bad = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || matches!(
                c,
                '/' | '\\'
                    | ':'
                    | '@'
                    | '?'
                    | '#'
                    | '['
                    | ']'
                    | '('
                    | ')'
                    | '<'
                    | '>'
                    | '"'
                    | '\''
                    | ','
                    | ';'
                    | '%'
                    | '|'
                    | '{'
                    | '}'
                    | '^'
                    | '`'
            )
    };
    if s.chars().any(bad) {
        return None;
    }
    if s.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return None;
    }
    // No top-level domain is all digits: `203.0.113.300` is a broken IP, not a name.
    if s.rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    Some(s)
}

/// A URL in the form kensa indexes: `scheme://host[:port]/path?query`, with defanging undone,
/// scheme and host lower-case, user info, fragment and the scheme's default port dropped, an
/// empty path as `/`. A value without `://` is read as `http://…`. Returns the URL and its host
/// (an IP literal without brackets, or a normalised name).
pub fn normalise_url(s: &str) -> Option<(String, String)> {
    let s = undo_defang(s.trim());
    let s = s.trim();
    if s.is_empty() || s.len() > MAX_URL_LEN {
        return None;
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (scheme, rest) = match s.split_once("://") {
        Some((sc, rest)) => {
            let ok = !sc.is_empty()
                && sc.len() <= 16
                && sc.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                && sc
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
            if !ok {
                return None;
            }
            (sc.to_ascii_lowercase(), rest)
        }
        None => ("http".to_string(), s),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = split_host_port(hostport)?;
    let default_port = match scheme.as_str() {
        "http" => Some(80),
        "https" => Some(443),
        "ftp" => Some(21),
        _ => None,
    };
    let port = port.filter(|p| Some(*p) != default_port);
    let tail = tail.split_once('#').map_or(tail, |(t, _)| t);
    let path = if tail.is_empty() {
        "/".to_string()
    } else if tail.starts_with('?') {
        format!("/{tail}")
    } else {
        tail.to_string()
    };
    let host_in_url = match host.parse::<Ipv6Addr>() {
        Ok(_) => format!("[{host}]"),
        Err(_) => host.clone(),
    };
    let url = match port {
        Some(p) => format!("{scheme}://{host_in_url}:{p}{path}"),
        None => format!("{scheme}://{host_in_url}{path}"),
    };
    Some((url, host))
}

/// Split `host[:port]` / `[v6][:port]`; the host comes back normalised (IP canonical form or
/// lower-case name).
fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    if s.starts_with('[') {
        let (ip, port) = parse_ip_port(s)?;
        return Some((ip.to_string(), port));
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(parse_port(p)?)),
        None => (s, None),
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some((ip.to_canonical().to_string(), port));
    }
    Some((normalise_domain(host)?, port))
}

/// A hex hash: MD5 (32), SHA-1 (40) or SHA-256 (64 digits), lower-cased.
pub fn normalise_hash(s: &str) -> Option<(HashAlgo, String)> {
    let s = s.trim();
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let algo = match s.len() {
        32 => HashAlgo::Md5,
        40 => HashAlgo::Sha1,
        64 => HashAlgo::Sha256,
        _ => return None,
    };
    Some((algo, s.to_ascii_lowercase()))
}

/// Seconds since 1970-01-01 UTC for `YYYY-MM-DD`, `YYYY-MM-DD HH:MM`, `YYYY-MM-DD HH:MM:SS`
/// (or with `T`), optionally followed by `Z`, ` UTC` or `+00:00`. `None` for anything else,
/// including impossible dates.
pub fn unix_from_utc(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s
        .strip_suffix(" UTC")
        .or_else(|| s.strip_suffix("+00:00"))
        .or_else(|| s.strip_suffix('Z'))
        .unwrap_or(s)
        .trim_end();
    let b = s.as_bytes();
    if b.len() < 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut secs = 0;
    if b.len() > 10 {
        if !matches!(b.get(10), Some(b' ' | b'T')) {
            return None;
        }
        let hour = digits(b, 11, 2)?;
        if b.get(13) != Some(&b':') {
            return None;
        }
        let minute = digits(b, 14, 2)?;
        let second = match b.len() {
            16 => 0,
            19 if b.get(16) == Some(&b':') => digits(b, 17, 2)?,
            _ => return None,
        };
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        secs = hour * 3600 + minute * 60 + second;
    }
    Some(days_from_civil(year, month, day) * 86_400 + secs)
}

/// The UTC calendar day number (days since 1970-01-01) of a Unix time.
pub(crate) fn day_number(unix: i64) -> i64 {
    unix.div_euclid(86_400)
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let part = b.get(at..at.checked_add(n)?)?;
    let mut v = 0i64;
    for &c in part {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}
