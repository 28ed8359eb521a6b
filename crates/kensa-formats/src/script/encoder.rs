//! The Microsoft Script Encoder (`screnc.exe`, 1999): `.vbe`/`.jse` files and
//! `language="VBScript.Encode"`/`"JScript.Encode"` blocks in WSF, HTA and HTML.
//!
//! An encoded block is `#@~^` + 6 base64 characters (a u32 LE: the length of the encoded text) +
//! `==`, the encoded text, then 6 base64 characters (a u32 LE: the sum of the decoded bytes) +
//! `==^#~@`. Inside it:
//! - `@&` stands for LF, `@#` for CR, `@*` for `>`, `@!` for `<`, `@$` for `@`;
//! - every other byte 0x09 or 0x20..=0x7F is one of three substitution alphabets; which one is
//!   fixed by a 64-step pattern indexed by how many ASCII characters came before (an escape
//!   counts as one);
//! - bytes from 0x80 pass through and do not advance the pattern (double-byte code pages need
//!   more care, which is not taken here: their text comes out garbled, the ASCII around it not).
//!
//! The alphabets are written here the way Mr. Brownstone's 1999 write-up of the encoder lists
//! them (the three encodings of each plain character); the decoding table is their inverse, built
//! once. Checked against the worked example `#@~^DgAAAA==\ko$K6,JC\x7FV^GJqAQAAA==^#~@` →
//! `MsgBox "Hello"` (length 14, checksum 1192).

use std::sync::LazyLock;

use base64::Engine as _;
use memchr::memmem;

/// Blocks decoded in one text at most.
pub const MAX_BLOCKS: usize = 256;

const START: &[u8] = b"#@~^";
const END: &[u8] = b"^#~@";
/// `XXXXXX==` after the start marker and before the end marker.
const FIELD: usize = 8;

/// Plain characters in this order: tab, then 0x20..=0x7F without `<`, `>` and `@` (escaped).
const PLAIN_COUNT: usize = 94;
/// The three encodings of each plain character, in that order.
const FORMS: &[u8; 3 * PLAIN_COUNT] = b"d7iP~,\"ZeJEra:[^yf]Yu['LBvE`cv#b*eMC_Q3~SBOR R cz&J!TZFq8 +y&f2c*W*Xlv\x7F+G{F%0R,1O)l=iIp'x{g_Qb)zA$~Z/;f9G23AsowM!VCu_q(&9Bx|FnSJdH\\t1Hgr6}nKhp}5I]\"?jUKP:ji`.#j\x7F\x09q(po5eI}t\\$,]-w'TDY7?%{m|=|#lCm48(m^1N[9+n\x7F0W6oLTt44krbL%N3V0Vs^:hsxU\x09WGKw2a;5$D.M/dkYODE;!\\-7hAS6aXXzHy\".\x09`Puk-8N)U=?Qg/";
/// Which encoding (0, 1, 2) the n-th ASCII character uses, n mod 64.
const PICK: &[u8; 64] = b"1201202002021020102011200210200211020201011201021020112001120102";

/// `DECODE[alphabet][encoded byte]` = plain byte (identity where nothing maps).
static DECODE: LazyLock<[[u8; 128]; 3]> = LazyLock::new(|| {
    let mut table = [[0u8; 128]; 3];
    for row in &mut table {
        for (i, b) in row.iter_mut().enumerate() {
            *b = i as u8;
        }
    }
    let plain = std::iter::once(9u8).chain((0x20u8..=0x7F).filter(|b| !b"<>@".contains(b)));
    for (p, forms) in plain.zip(FORMS.chunks_exact(3)) {
        for (alphabet, &enc) in forms.iter().enumerate() {
            if let Some(slot) = table
                .get_mut(alphabet)
                .and_then(|r| r.get_mut(usize::from(enc)))
            {
                *slot = p;
            }
        }
    }
    table
});

/// Why encoded text could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodedError {
    #[error("no #@~^ marker")]
    NoMarker,
    #[error("offset {offset}: #@~^ not followed by a base64 length and ==")]
    BadHeader { offset: usize },
    #[error("offset {offset}: encoded block has no ^#~@ end marker")]
    Unterminated { offset: usize },
}

/// The text with every encoded block replaced by its plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Bytes outside the blocks as they were, decoded text inside them.
    pub text: Vec<u8>,
    /// Blocks decoded.
    pub blocks: usize,
    /// Blocks whose length field or checksum disagrees with the text (damaged or edited).
    pub mismatches: usize,
    /// More than [`MAX_BLOCKS`] blocks: the rest is left encoded.
    pub capped: bool,
}

/// Whether `data` holds a block start (`#@~^` + 6 base64 chars + `==`).
pub fn has_marker(data: &[u8]) -> bool {
    memmem::find_iter(data, START).any(|at| header_len(data, at).is_some())
}

/// The u32 in a `XXXXXX==` field at `at`.
fn field(data: &[u8], at: usize) -> Option<u32> {
    let f = data.get(at..at.checked_add(FIELD)?)?;
    if f.get(6..) != Some(b"==") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(f).ok()?;
    Some(u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?))
}

fn header_len(data: &[u8], at: usize) -> Option<u32> {
    field(data, at.checked_add(START.len())?)
}

/// Decode one block body; returns the plain bytes and their sum.
fn decode_body(body: &[u8]) -> (Vec<u8>, u32) {
    let mut out = Vec::with_capacity(body.len());
    let mut n = 0usize;
    let mut i = 0usize;
    while let Some(&b) = body.get(i) {
        i += 1;
        let plain = if b == b'@' {
            let escaped = match body.get(i) {
                Some(b'&') => Some(b'\n'),
                Some(b'#') => Some(b'\r'),
                Some(b'*') => Some(b'>'),
                Some(b'!') => Some(b'<'),
                Some(b'$') => Some(b'@'),
                _ => None,
            };
            i += usize::from(escaped.is_some());
            escaped.unwrap_or(b'@')
        } else if b >= 0x80 {
            out.push(b);
            continue;
        } else if b == 9 || b >= 0x20 {
            let alphabet = usize::from(PICK[n % 64] - b'0');
            DECODE
                .get(alphabet)
                .and_then(|r| r.get(usize::from(b)))
                .copied()
                .unwrap_or(b)
        } else {
            b
        };
        out.push(plain);
        n += 1;
    }
    let sum = out.iter().fold(0u32, |s, &b| s.wrapping_add(u32::from(b)));
    (out, sum)
}

/// Decode every encoded block in `data` (ANSI bytes, or UTF-8 text: bytes from 0x80 pass
/// through). Output is never longer than the input.
pub fn decode(data: &[u8]) -> Result<Decoded, EncodedError> {
    let mut out = Decoded {
        text: Vec::with_capacity(data.len()),
        blocks: 0,
        mismatches: 0,
        capped: false,
    };
    let mut pos = 0usize;
    // `#@~^` without a length field: kept as text (a write-up quoting the marker, say).
    let mut bad_header = None;
    while let Some(rel) = data.get(pos..).and_then(|d| memmem::find(d, START)) {
        let at = pos + rel;
        if out.blocks == MAX_BLOCKS {
            out.capped = true;
            break;
        }
        let Some(len) = header_len(data, at) else {
            bad_header = bad_header.or(Some(at));
            out.text
                .extend_from_slice(data.get(pos..at + START.len()).unwrap_or_default());
            pos = at + START.len();
            continue;
        };
        let body_start = at + START.len() + FIELD;
        // The length field says where the checksum is; if it lies, look for the end marker.
        let by_len = usize::try_from(len)
            .ok()
            .and_then(|l| body_start.checked_add(l));
        let len_ok = by_len.is_some_and(|e| {
            e.checked_add(FIELD)
                .and_then(|x| data.get(x..x.checked_add(END.len())?))
                == Some(END)
        });
        let body_end = match by_len {
            Some(e) if len_ok => e,
            _ => match data.get(body_start..).and_then(|d| memmem::find(d, END)) {
                Some(end) => (body_start + end).saturating_sub(FIELD).max(body_start),
                None if out.blocks == 0 => return Err(EncodedError::Unterminated { offset: at }),
                // After good blocks: the rest stays as it is, counted as damage.
                None => {
                    out.mismatches += 1;
                    break;
                }
            },
        };
        let body = data.get(body_start..body_end).unwrap_or_default();
        let (plain, sum) = decode_body(body);
        let checksum = field(data, body_end);
        if !len_ok || checksum != Some(sum) {
            out.mismatches += 1;
        }
        out.text
            .extend_from_slice(data.get(pos..at).unwrap_or_default());
        out.text.extend_from_slice(&plain);
        out.blocks += 1;
        // Past `XXXXXX==^#~@` when it is there.
        let tail = body_end + FIELD + END.len();
        pos = if data.get(body_end + FIELD..tail) == Some(END) {
            tail
        } else {
            body_end
        };
    }
    if out.blocks == 0 {
        return Err(
            bad_header.map_or(EncodedError::NoMarker, |offset| EncodedError::BadHeader {
                offset,
            }),
        );
    }
    out.text
        .extend_from_slice(data.get(pos..).unwrap_or_default());
    Ok(out)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Encode `plain` (ASCII) the way the encoder does, from the same alphabets: a test-only
    /// inverse that makes round trips possible.
    pub(crate) fn encode(plain: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        for (n, &p) in plain.iter().enumerate() {
            match p {
                b'\n' => body.extend_from_slice(b"@&"),
                b'\r' => body.extend_from_slice(b"@#"),
                b'>' => body.extend_from_slice(b"@*"),
                b'<' => body.extend_from_slice(b"@!"),
                b'@' => body.extend_from_slice(b"@$"),
                _ => {
                    let plain_chars =
                        std::iter::once(9u8).chain((0x20u8..=0x7F).filter(|b| !b"<>@".contains(b)));
                    let i = plain_chars
                        .into_iter()
                        .position(|c| c == p)
                        .expect("encodable");
                    let alphabet = usize::from(PICK[n % 64] - b'0');
                    body.push(FORMS[3 * i + alphabet]);
                }
            }
        }
        let sum = plain.iter().map(|&b| u32::from(b)).sum::<u32>();
        let b64 = |v: u32| base64::engine::general_purpose::STANDARD.encode(v.to_le_bytes());
        [
            b"#@~^".as_slice(),
            b64(body.len() as u32).as_bytes(),
            &body,
            b64(sum).as_bytes(),
            b"^#~@",
        ]
        .concat()
    }

    #[test]
    fn script_encoder_worked_example_and_round_trip() {
        let example = b"#@~^DgAAAA==\\ko$K6,JC\x7FV^GJqAQAAA==^#~@";
        let d = decode(example).unwrap();
        assert_eq!(d.text, b"MsgBox \"Hello\"");
        assert_eq!((d.blocks, d.mismatches, d.capped), (1, 0, false));
        assert_eq!(encode(b"MsgBox \"Hello\""), example);
        assert!(has_marker(example) && !has_marker(b"#@~^nope"));

        // Every plain character, escapes, a long line (the pattern wraps at 64).
        let plain: Vec<u8> = std::iter::once(9u8)
            .chain(0x20..=0x7F)
            .chain(b"\r\n<>@".iter().copied())
            .cycle()
            .take(700)
            .collect();
        let enc = encode(&plain);
        let framed = [b"<script>".as_slice(), &enc, b"</script>", &enc].concat();
        let d = decode(&framed).unwrap();
        assert_eq!(
            d.text,
            [b"<script>".as_slice(), &plain, b"</script>", &plain].concat()
        );
        assert_eq!((d.blocks, d.mismatches), (2, 0));
        // Each alphabet is a permutation: no two encodings decode alike.
        for row in DECODE.iter() {
            let mut seen = [false; 128];
            for &b in row.iter() {
                assert!(!seen[usize::from(b)]);
                seen[usize::from(b)] = true;
            }
        }
    }

    #[test]
    fn script_encoder_damage() {
        assert_eq!(decode(b"plain"), Err(EncodedError::NoMarker));
        assert_eq!(
            decode(b"xx#@~^ZZ"),
            Err(EncodedError::BadHeader { offset: 2 })
        );
        assert_eq!(
            decode(b"#@~^DgAAAA==\\ko$K6"),
            Err(EncodedError::Unterminated { offset: 0 })
        );
        // A quoted marker before a real block is text; a cut block after one is damage.
        let d =
            decode(b"see #@~^ here: #@~^DgAAAA==\\ko$K6,JC\x7FV^GJqAQAAA==^#~@ #@~^DgAAAA==\\k")
                .unwrap();
        assert_eq!(d.text, b"see #@~^ here: MsgBox \"Hello\" #@~^DgAAAA==\\k");
        assert_eq!((d.blocks, d.mismatches), (1, 1));
        // A lying length: the end marker is found; a bad checksum is counted, not fatal.
        let d = decode(b"#@~^/////w==\\ko$K6,JC\x7FV^GJqAQAAA==^#~@!").unwrap();
        assert_eq!(d.text, b"MsgBox \"Hello\"!");
        assert_eq!(d.mismatches, 1);
        let d = decode(b"#@~^DgAAAA==\\ko$K6,JC\x7FV^GJAAAAAA==^#~@").unwrap();
        assert_eq!(d.mismatches, 1);
        // Block cap.
        let many = encode(b"x").repeat(MAX_BLOCKS + 3);
        let d = decode(&many).unwrap();
        assert!(d.capped && d.blocks == MAX_BLOCKS);
        assert!(d.text.len() <= many.len());
    }
}
