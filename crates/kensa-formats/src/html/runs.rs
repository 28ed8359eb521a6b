//! Finding encoded runs in a page (see the module doc of [`super`]).
//!
//! Four passes, each a forward walk that never revisits a byte more than a constant number of
//! times: a run ends at the first byte outside its alphabet, unless a *join* follows within
//! [`JOIN_WINDOW`] bytes (a line break or `"…", "…"` after a ≥ 40-character piece; `"…" + "…"`
//! or `"…"; s += "…"` after a ≥ 16-character piece), and the pass resumes at the end of the run.
//! The characters (or UTF-16 code units) of one run are collected once, joins removed, and
//! handed to [`Keeper`] when the run is long enough.

use super::HtmlLimits;
use super::decode::{Found, Keeper};

/// Most bytes skipped between two pieces of one run.
const JOIN_WINDOW: usize = 64;
/// A line break joins two pieces only after a line at least this long (wrapped base64).
const WRAP_MIN: usize = 40;
/// Shortest piece before a `"…" + "…"` or `s += "…"` join.
const MIN_PIECE: usize = 16;
/// Shortest char-code array taken as a blob.
const MIN_NUMBERS: usize = 16;
/// Lower bound for [`HtmlLimits::min_blob_len`].
const MIN_RUN: usize = 16;

/// Run all passes over `data`.
pub(super) fn find(data: &[u8], limits: &HtmlLimits) -> Found {
    let mut k = Keeper::new(limits.min_blob_len.max(MIN_RUN), limits);
    alphabet_pass(data, &mut k);
    number_pass(data, &mut k);
    escape_pass(data, Escape::Percent, &mut k);
    escape_pass(data, Escape::Js, &mut k);
    k.found.blobs.sort_by_key(|b| b.offset);
    k.found
}

// ---------------------------------------------------------------------------------------------
// Joins

pub(super) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0C)
}

fn is_quote(b: u8) -> bool {
    matches!(b, b'"' | b'\'' | b'`')
}

/// Skip whitespace from `pos`, at most to `limit`.
fn skip_ws(data: &[u8], mut pos: usize, limit: usize) -> usize {
    while pos < limit && data.get(pos).copied().is_some_and(is_ws) {
        pos += 1;
    }
    pos
}

/// If a join starts at `pos` (just after a piece of `piece_len` characters), the position of the
/// next piece. Always > `pos` when `Some`.
fn join(data: &[u8], pos: usize, piece_len: usize) -> Option<usize> {
    let limit = pos.saturating_add(JOIN_WINDOW).min(data.len());
    let first = *data.get(pos)?;
    if is_ws(first) || first == b'\\' {
        if piece_len < WRAP_MIN {
            return None;
        }
        // Real line breaks, or `\n` / `\r\n` escapes inside a string literal.
        let mut p = pos;
        while p < limit {
            match data.get(p..p.saturating_add(2)) {
                Some(b"\\n") | Some(b"\\r") => p += 2,
                _ if data.get(p).copied().is_some_and(is_ws) => p += 1,
                _ => break,
            }
        }
        return (p > pos).then_some(p);
    }
    if !is_quote(first) {
        return None;
    }
    let mut p = skip_ws(data, pos + 1, limit);
    match data.get(p) {
        // A list of short quoted words is not a chunked literal.
        Some(b',') if piece_len >= WRAP_MIN => p = skip_ws(data, p + 1, limit),
        Some(b',') => return None,
        Some(b'+') if piece_len >= MIN_PIECE => p = skip_ws(data, p + 1, limit),
        _ if piece_len < MIN_PIECE => return None,
        _ => {
            // `"; s += "` (or without the semicolon).
            if data.get(p) == Some(&b';') {
                p = skip_ws(data, p + 1, limit);
            }
            let ident_start = p;
            while p < limit
                && data
                    .get(p)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'.'))
            {
                p += 1;
            }
            if p == ident_start {
                return None;
            }
            p = skip_ws(data, p, limit);
            if data.get(p..p.saturating_add(2)) != Some(b"+=") {
                return None;
            }
            p = skip_ws(data, p + 2, limit);
        }
    }
    (p < limit && data.get(p).copied().is_some_and(is_quote)).then_some(p + 1)
}

// ---------------------------------------------------------------------------------------------
// Passes

pub(super) fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_')
}

/// Base64 and hex runs.
fn alphabet_pass(data: &[u8], k: &mut Keeper) {
    let mut chars = Vec::new();
    let mut i = 0;
    while i < data.len() {
        match data
            .get(i..)
            .and_then(|rest| rest.iter().position(|&b| is_b64(b)))
        {
            Some(skip) => i += skip,
            None => break,
        }
        // The letter of a `\n` escape (JSON or JS string) is not part of the run.
        if i.checked_sub(1).and_then(|p| data.get(p)) == Some(&b'\\') {
            i += 1;
            continue;
        }
        let start = i;
        chars.clear();
        let mut pos = start;
        let end = loop {
            let piece = pos;
            pos += data
                .get(pos..)
                .and_then(|rest| rest.iter().position(|&b| !is_b64(b)))
                .unwrap_or(data.len().saturating_sub(pos));
            chars.extend_from_slice(data.get(piece..pos).unwrap_or_default());
            match join(data, pos, pos - piece) {
                Some(next) if data.get(next).copied().is_some_and(is_b64) => pos = next,
                _ => break pos,
            }
        };
        let run = end - start;
        if chars.len() >= k.min_len {
            let mime = data_uri_mime(data, start);
            k.alphabet(start, run, &chars, mime);
        }
        i = end.max(start + 1);
    }
}

/// Parse a char code at `pos`: decimal (≤ 5 digits) or `0x` hex (≤ 4 digits), not followed by a
/// word character. Returns (length, value).
fn number(data: &[u8], pos: usize) -> Option<(usize, u32)> {
    let rest = data.get(pos..)?;
    let (skip, radix, max) = match rest {
        [b'0', b'x' | b'X', ..] => (2, 16, 4),
        _ => (0, 10, 5),
    };
    let digits = rest
        .get(skip..)?
        .iter()
        .take(max + 1)
        .take_while(|b| b.is_ascii_digit() || (radix == 16 && b.is_ascii_hexdigit()))
        .count();
    if digits == 0 || digits > max {
        return None;
    }
    let len = skip + digits;
    if rest
        .get(len)
        .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
    {
        return None;
    }
    let text = std::str::from_utf8(rest.get(skip..len)?).ok()?;
    let value = u32::from_str_radix(text, radix).ok()?;
    Some((len, value))
}

/// Comma-separated char-code or byte arrays.
fn number_pass(data: &[u8], k: &mut Keeper) {
    let mut units: Vec<u16> = Vec::new();
    let mut i = 0;
    while i < data.len() {
        match data
            .get(i..)
            .and_then(|rest| rest.iter().position(u8::is_ascii_digit))
        {
            Some(skip) => i += skip,
            None => break,
        }
        let word_before = i
            .checked_sub(1)
            .and_then(|p| data.get(p))
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'$'));
        if word_before {
            i += 1;
            continue;
        }
        let start = i;
        units.clear();
        let mut pos = start;
        let end = loop {
            let Some((len, value)) = number(data, pos).filter(|(_, v)| *v <= 0xFFFF) else {
                break pos;
            };
            units.push(value as u16);
            pos += len;
            let after = pos;
            let limit = pos.saturating_add(JOIN_WINDOW).min(data.len());
            let p = skip_ws(data, pos, limit);
            if data.get(p) != Some(&b',') {
                break after;
            }
            pos = skip_ws(data, p + 1, limit);
            if number(data, pos).is_none() {
                break after;
            }
        };
        if units.len() >= MIN_NUMBERS && end - start >= k.min_len {
            k.units(start, end - start, &units, "char-codes", None);
        }
        i = end.max(start + 1);
    }
}

#[derive(Clone, Copy)]
enum Escape {
    /// `%xx`, `%uXXXX` and the characters `escape()` leaves alone.
    Percent,
    /// `\xNN`, `\uNNNN`, one-letter escapes and printable ASCII inside a JS string.
    Js,
}

fn hex_value(bytes: &[u8]) -> Option<u16> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u16::from_str_radix(std::str::from_utf8(bytes).ok()?, 16).ok()
}

/// One unit at the start of `s`: (length, code unit, is an escape).
fn escape_unit(kind: Escape, s: &[u8]) -> Option<(usize, u16, bool)> {
    let first = *s.first()?;
    match kind {
        Escape::Percent => match s {
            [b'%', b'u' | b'U', ..] => Some((6, hex_value(s.get(2..6)?)?, true)),
            [b'%', ..] => Some((3, hex_value(s.get(1..3)?)?, true)),
            _ if first.is_ascii_alphanumeric() || b"@*_+-./".contains(&first) => {
                Some((1, u16::from(first), false))
            }
            _ => None,
        },
        Escape::Js => match s {
            [b'\\', b'x', ..] => Some((4, hex_value(s.get(2..4)?)?, true)),
            [b'\\', b'u', ..] => Some((6, hex_value(s.get(2..6)?)?, true)),
            [b'\\', c, ..] => {
                let v = match c {
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'b' => 8,
                    b'f' => 0x0C,
                    b'v' => 0x0B,
                    b'0' => 0,
                    b'\\' | b'\'' | b'"' | b'/' | b'`' => *c,
                    _ => return None,
                };
                Some((2, u16::from(v), true))
            }
            _ if (0x20..0x7F).contains(&first) && !is_quote(first) => {
                Some((1, u16::from(first), false))
            }
            _ => None,
        },
    }
}

/// `%xx` runs and `\xNN` runs: at least half of a run's bytes must be escapes.
fn escape_pass(data: &[u8], kind: Escape, k: &mut Keeper) {
    let (lead, name) = match kind {
        Escape::Percent => (b'%', "percent"),
        Escape::Js => (b'\\', "js-escape"),
    };
    let mut units: Vec<u16> = Vec::new();
    let mut i = 0;
    while let Some(skip) = data.get(i..).and_then(|rest| memchr::memchr(lead, rest)) {
        i += skip;
        let opens = escape_unit(kind, data.get(i..).unwrap_or_default()).is_some_and(|u| {
            u.2 && (matches!(kind, Escape::Percent) || matches!(data.get(i + 1), Some(b'x' | b'u')))
        });
        if !opens {
            i += 1;
            continue;
        }
        let start = i;
        units.clear();
        let mut escaped = 0usize;
        let mut pos = start;
        let end = loop {
            let piece = pos;
            while let Some((len, unit, esc)) =
                escape_unit(kind, data.get(pos..).unwrap_or_default())
            {
                units.push(unit);
                pos += len;
                if esc {
                    escaped += len;
                }
            }
            match join(data, pos, pos - piece) {
                Some(next) if escape_unit(kind, data.get(next..).unwrap_or_default()).is_some() => {
                    pos = next
                }
                _ => break pos,
            }
        };
        let run = end - start;
        if run >= k.min_len && escaped.saturating_mul(2) >= run {
            if matches!(kind, Escape::Percent) {
                k.found.percent_run = true;
            }
            let mime = data_uri_mime(data, start);
            k.units(start, run, &units, name, mime);
        }
        i = end.max(start + 1);
    }
}

/// The MIME type when the run at `start` is the payload of `data:<mime>[;…],`.
fn data_uri_mime(data: &[u8], start: usize) -> Option<String> {
    let comma = start.checked_sub(1)?;
    if data.get(comma) != Some(&b',') {
        return None;
    }
    let window = data.get(comma.saturating_sub(256)..comma)?;
    let lower = window.to_ascii_lowercase();
    let at = memchr::memmem::rfind(&lower, b"data:")?;
    let rest = window.get(at + 5..)?;
    let mime_len = rest
        .iter()
        .position(|b| matches!(b, b';' | b','))
        .unwrap_or(rest.len());
    let mime = rest.get(..mime_len)?;
    let ok = mime
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || b"/+-._ ".contains(b));
    (ok && !mime.is_empty()).then(|| String::from_utf8_lossy(mime).trim().to_ascii_lowercase())
}
