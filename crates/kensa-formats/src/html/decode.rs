//! Decoding a run, judging what it decodes to, and keeping it within the limits.
//!
//! A run is probed: each way of decoding it (hex, base64, reversed base64, and for char codes,
//! `%xx` and `\xNN` runs the units themselves, then base64 inside them) decodes at most
//! [`PROBE_BYTES`] and the result is sniffed. Only a run worth keeping is decoded in full, into
//! what is left of the caller's byte budget.

use super::runs::{is_b64, is_ws};
use super::{Blob, FileType, HtmlLimits, STRONG_LITERAL_LEN};
use crate::sniff::sniff;

/// Decoded bytes enough to see every magic the sniffer knows (ISO: `CD001` at 0x8001).
const PROBE_BYTES: usize = 0x8006 + 64;

/// What the passes found, before names are attached.
#[derive(Debug, Default)]
pub(super) struct Found {
    pub blobs: Vec<Blob>,
    pub largest_run: usize,
    pub media: usize,
    pub unrecognised: usize,
    pub skipped: usize,
    pub truncated: bool,
    /// A `%xx` run of at least the minimum length (for `unescape_large`).
    pub percent_run: bool,
    /// A run of at least [`STRONG_LITERAL_LEN`] that is not an image or font.
    pub strong_run: bool,
}

// ---------------------------------------------------------------------------------------------
// Decoders

/// Value of a base64 character in either alphabet; 64 for `=`, 255 for anything else.
fn b64_value(c: u8) -> u8 {
    match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        b'=' => 64,
        _ => 255,
    }
}

/// Push to `out` unless it holds `limit` bytes; false when full.
fn push(out: &mut Vec<u8>, limit: usize, bytes: &[u8]) -> bool {
    let room = limit.saturating_sub(out.len());
    out.extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
    bytes.len() <= room
}

/// Lenient base64: both alphabets, other characters skipped, `=` ends a group, so independently
/// padded pieces decode as their concatenation. Returns the bytes and whether `limit` cut them.
fn b64_decode(chars: impl Iterator<Item = u8>, limit: usize) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let (mut acc, mut n) = (0u32, 0u8);
    let flush = |out: &mut Vec<u8>, acc: u32, n: u8| -> bool {
        match n {
            2 => push(out, limit, &[(acc >> 4) as u8]),
            3 => push(out, limit, &[(acc >> 10) as u8, (acc >> 2) as u8]),
            _ => true,
        }
    };
    for c in chars {
        match b64_value(c) {
            v @ 0..=63 => {
                acc = (acc << 6) | u32::from(v);
                n += 1;
                if n == 4 {
                    if !push(
                        &mut out,
                        limit,
                        &[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8],
                    ) {
                        return (out, true);
                    }
                    (acc, n) = (0, 0);
                }
            }
            64 => {
                if !flush(&mut out, acc, n) {
                    return (out, true);
                }
                (acc, n) = (0, 0);
            }
            _ => {}
        }
    }
    let complete = flush(&mut out, acc, n);
    (out, !complete)
}

fn hex_decode(chars: &[u8], limit: usize) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    for pair in chars.chunks_exact(2) {
        let byte = match (hex_nibble(pair[0]), hex_nibble(pair[1])) {
            (Some(h), Some(l)) => (h << 4) | l,
            _ => break,
        };
        if !push(&mut out, limit, &[byte]) {
            return (out, true);
        }
    }
    (out, false)
}

fn hex_nibble(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// UTF-16 code units as a JS program sees them: bytes when every unit is ≤ 0xFF (a "binary
/// string"), else UTF-8 text.
fn units_to_bytes(units: &[u16], limit: usize) -> (Vec<u8>, bool) {
    if units.iter().all(|u| *u <= 0xFF) {
        let take = units.len().min(limit);
        let out = units.iter().take(take).map(|u| *u as u8).collect();
        return (out, take < units.len());
    }
    let mut out = Vec::new();
    for c in char::decode_utf16(units.iter().copied()) {
        let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
        let mut buf = [0u8; 4];
        if !push(&mut out, limit, c.encode_utf8(&mut buf).as_bytes()) {
            return (out, true);
        }
    }
    (out, false)
}

// ---------------------------------------------------------------------------------------------
// Classification and keeping

enum Class {
    Payload(FileType),
    Media,
    Other,
}

/// What decoded bytes are worth, from their first [`PROBE_BYTES`].
fn classify(d: &[u8]) -> Class {
    let d = d.get(..d.len().min(PROBE_BYTES)).unwrap_or_default();
    let media = d.starts_with(b"wOFF")
        || d.starts_with(b"wOF2")
        || d.starts_with(b"OTTO")
        || d.starts_with(b"\x00\x01\x00\x00\x00")
        || (d.starts_with(b"RIFF") && d.get(8..12) == Some(b"WEBP"))
        || d.starts_with(b"\x00\x00\x01\x00");
    if media {
        return Class::Media;
    }
    match sniff(d) {
        FileType::Image => Class::Media,
        FileType::Pe if has_pe_header(d) => Class::Payload(FileType::Pe),
        FileType::Gzip if d.get(2) == Some(&8) => Class::Payload(FileType::Gzip),
        t @ (FileType::Ole
        | FileType::Zip
        | FileType::SevenZip
        | FileType::Rar
        | FileType::Lnk
        | FileType::OneNote
        | FileType::Iso
        | FileType::Vhd
        | FileType::Vhdx
        | FileType::Rtf
        | FileType::Pdf
        | FileType::ActiveMime
        | FileType::Html) => Class::Payload(t),
        FileType::Text if is_script_text(d) => Class::Payload(FileType::Text),
        _ => Class::Other,
    }
}

/// `MZ` whose `e_lfanew` (offset 0x3C) points at `PE\0\0`.
fn has_pe_header(d: &[u8]) -> bool {
    let Some(&[a, b, c, e]) = d.get(0x3C..0x40) else {
        return false;
    };
    let at = u32::from_le_bytes([a, b, c, e]) as usize;
    d.get(at..at.saturating_add(4)) == Some(b"PE\0\0")
}

/// Printable text holding script or command words.
fn is_script_text(d: &[u8]) -> bool {
    const MARKERS: &[&[u8]] = &[
        b"<script",
        b"eval(",
        b"function(",
        b"function ",
        b"activexobject",
        b"wscript",
        b"powershell",
        b"document.write",
        b"createobjecturl",
        b"atob(",
        b"fromcharcode",
        b"cmd.exe",
    ];
    let lower = d.to_ascii_lowercase();
    MARKERS
        .iter()
        .any(|m| memchr::memmem::find(&lower, m).is_some())
}

/// One way to decode a run.
#[derive(Clone, Copy)]
enum Attempt {
    Hex,
    Base64,
    Base64Reversed,
}

fn decode(attempt: Attempt, chars: &[u8], limit: usize) -> (Vec<u8>, bool) {
    match attempt {
        Attempt::Hex => hex_decode(chars, limit),
        Attempt::Base64 => b64_decode(chars.iter().copied(), limit),
        Attempt::Base64Reversed => b64_decode(chars.iter().rev().copied(), limit),
    }
}

/// The name of `attempt`, after an outer decoding `outer` if any.
fn encoding_name(outer: Option<&'static str>, attempt: Attempt) -> &'static str {
    match (outer, attempt) {
        (None, Attempt::Hex) => "hex",
        (None, Attempt::Base64) => "base64",
        (None, Attempt::Base64Reversed) => "base64-reversed",
        (Some("char-codes"), Attempt::Hex) => "char-codes+hex",
        (Some("char-codes"), Attempt::Base64) => "char-codes+base64",
        (Some("char-codes"), Attempt::Base64Reversed) => "char-codes+base64-reversed",
        (Some("percent"), Attempt::Hex) => "percent+hex",
        (Some("percent"), Attempt::Base64) => "percent+base64",
        (Some("percent"), Attempt::Base64Reversed) => "percent+base64-reversed",
        (Some(_), Attempt::Hex) => "js-escape+hex",
        (Some(_), Attempt::Base64) => "js-escape+base64",
        (Some(_), Attempt::Base64Reversed) => "js-escape+base64-reversed",
    }
}

/// `name=` at the start of an unquoted attribute value that joined the run (`value=UEsDB…`).
fn assignment_prefix(chars: &[u8]) -> Option<&[u8]> {
    let eq = chars.iter().take(33).position(|&c| c == b'=')?;
    let name_ok = eq > 0
        && chars.first().is_some_and(u8::is_ascii_alphabetic)
        && chars
            .get(..eq)?
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-'));
    let rest = chars.get(eq + 1..)?;
    (name_ok && rest.first().is_some_and(|&c| c != b'=')).then_some(rest)
}

/// Where runs go: counts them, keeps the worthwhile ones within the limits.
pub(super) struct Keeper {
    pub min_len: usize,
    max_blobs: usize,
    budget: usize,
    pub found: Found,
}

impl Keeper {
    pub fn new(min_len: usize, limits: &HtmlLimits) -> Self {
        Keeper {
            min_len,
            max_blobs: limits.max_blobs,
            budget: limits.max_decoded_bytes,
            found: Found::default(),
        }
    }

    /// A base64/hex run (`chars` are its alphabet characters, joins removed).
    pub fn alphabet(&mut self, offset: usize, run: usize, chars: &[u8], mime: Option<String>) {
        self.found.largest_run = self.found.largest_run.max(run);
        match self.probe_alphabet(chars, None) {
            Probe::Kept {
                attempt,
                stripped,
                kind,
                encoding,
            } => {
                let body = if stripped {
                    assignment_prefix(chars).unwrap_or(chars)
                } else {
                    chars
                };
                self.keep(offset, run, encoding, kind, mime, |limit| {
                    decode(attempt, body, limit)
                });
            }
            Probe::Media => self.found.media += 1,
            Probe::Other => {
                let attempt = if is_hex(chars) {
                    Attempt::Hex
                } else {
                    Attempt::Base64
                };
                let encoding = encoding_name(None, attempt);
                self.other(
                    offset,
                    run,
                    mime,
                    |limit| decode(attempt, chars, limit),
                    encoding,
                );
            }
        }
    }

    /// Try the decodings of an alphabet run, the first that yields a payload wins.
    fn probe_alphabet(&self, chars: &[u8], outer: Option<&'static str>) -> Probe {
        let mut attempts = Vec::with_capacity(4);
        if is_hex(chars) {
            attempts.push((Attempt::Hex, false));
        }
        attempts.push((Attempt::Base64, false));
        attempts.push((Attempt::Base64Reversed, false));
        let stripped = assignment_prefix(chars);
        if stripped.is_some() {
            attempts.push((Attempt::Base64, true));
        }
        let mut media = false;
        for (attempt, strip) in attempts {
            let body = if strip {
                stripped.unwrap_or(chars)
            } else {
                chars
            };
            let (probe, _) = decode(attempt, body, PROBE_BYTES);
            match classify(&probe) {
                Class::Payload(kind) => {
                    return Probe::Kept {
                        attempt,
                        stripped: strip,
                        kind,
                        encoding: encoding_name(outer, attempt),
                    };
                }
                Class::Media => media = true,
                Class::Other => {}
            }
        }
        if media { Probe::Media } else { Probe::Other }
    }

    /// A char-code, `%xx` or `\xNN` run decoded to UTF-16 code units.
    pub fn units(
        &mut self,
        offset: usize,
        run: usize,
        units: &[u16],
        name: &'static str,
        mime: Option<String>,
    ) {
        self.found.largest_run = self.found.largest_run.max(run);
        // Bounded by the run length: one byte (or ≤ 3 UTF-8 bytes) per code unit.
        let (bytes, _) = units_to_bytes(units, usize::MAX);
        match classify(&bytes) {
            Class::Payload(kind) => {
                return self.keep(offset, run, name, kind, mime, |limit| {
                    units_to_bytes(units, limit)
                });
            }
            Class::Media => {
                self.found.media += 1;
                return;
            }
            Class::Other => {}
        }
        // The units may spell base64 or hex that `atob` turns into the payload.
        if bytes.len() >= self.min_len && bytes.iter().all(|&b| is_b64(b) || is_ws(b)) {
            match self.probe_alphabet(&bytes, Some(name)) {
                Probe::Kept {
                    attempt,
                    stripped,
                    kind,
                    encoding,
                } => {
                    let body = if stripped {
                        assignment_prefix(&bytes).unwrap_or(&bytes)
                    } else {
                        &bytes
                    };
                    return self.keep(offset, run, encoding, kind, mime, |limit| {
                        decode(attempt, body, limit)
                    });
                }
                Probe::Media => {
                    self.found.media += 1;
                    return;
                }
                Probe::Other => {}
            }
        }
        self.other(
            offset,
            run,
            mime,
            |limit| units_to_bytes(units, limit),
            name,
        );
    }

    /// A run that decoded to nothing known: kept as `Unknown` when it is large.
    fn other(
        &mut self,
        offset: usize,
        run: usize,
        mime: Option<String>,
        decode: impl FnOnce(usize) -> (Vec<u8>, bool),
        encoding: &'static str,
    ) {
        if run >= STRONG_LITERAL_LEN {
            self.found.strong_run = true;
            self.keep(offset, run, encoding, FileType::Unknown, mime, decode);
        } else {
            self.found.unrecognised += 1;
        }
    }

    fn keep(
        &mut self,
        offset: usize,
        encoded_len: usize,
        encoding: &'static str,
        kind: FileType,
        mime: Option<String>,
        decode: impl FnOnce(usize) -> (Vec<u8>, bool),
    ) {
        if encoded_len >= STRONG_LITERAL_LEN {
            self.found.strong_run = true;
        }
        if self.found.blobs.len() >= self.max_blobs || self.budget == 0 {
            self.found.skipped += 1;
            self.found.truncated = true;
            return;
        }
        let (data, truncated) = decode(self.budget);
        self.budget = self.budget.saturating_sub(data.len());
        self.found.truncated |= truncated;
        self.found.blobs.push(Blob {
            offset,
            encoded_len,
            encoding,
            kind,
            data,
            truncated,
            name: None,
            mime,
        });
    }
}

/// What probing an alphabet run found.
enum Probe {
    /// A payload, by this attempt, on the run with its `name=` prefix stripped or not.
    Kept {
        attempt: Attempt,
        stripped: bool,
        kind: FileType,
        encoding: &'static str,
    },
    Media,
    Other,
}

fn is_hex(chars: &[u8]) -> bool {
    chars.len().is_multiple_of(2) && chars.iter().all(u8::is_ascii_hexdigit)
}
