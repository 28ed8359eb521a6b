//! Bytes to text, and the "peeled" view the rules read.
//!
//! Text: a UTF-8/UTF-16LE/UTF-16BE byte-order mark wins; without one, UTF-16 is recognised by
//! its zero bytes, then UTF-8 if valid, else Windows-1252 (the ANSI code page scripts are
//! written in). Only the first `cap` bytes are decoded.
//!
//! Peeling undoes the cheap obfuscation droppers use, without running anything: string
//! splitting (`'Ne'+'w-Obj'+'ect'`, `"h" & "ttp"`), PowerShell backticks (`ne`t.`webc`li`ent`),
//! cmd carets (`p^o^w^e^r`), literal `-replace`/`.replace` pairs (`.replace('bvu',[string][char]39)`
//! as in Emotet's 2019 downloaders), and char-code runs (`Chr(104) & Chr(116)`,
//! `String.fromCharCode(104,116)`, `[char]104+[char]116`) and `FromBase64String('…')` literals,
//! whose plain text is appended. Every step is a regex pass (at most [`ROUNDS`] rounds of at
//! most [`MAX_PAIRS`] pairs); the view never grows past [`MAX_VIEW`] times the input.

use std::sync::LazyLock;

use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};
use regex::{Captures, Regex};

use crate::cmdline::{decode_encoded, re};

/// The peeled view is at most this many times the text it came from.
const MAX_VIEW: usize = 2;
/// Literal replace pairs remembered at most.
const MAX_PAIRS: usize = 16;
/// Peeling rounds (each joins strings, then applies the pairs found so far).
const ROUNDS: usize = 3;
/// Longest replace operand taken as a literal.
const MAX_OPERAND: usize = 16;
/// Decoded char-code runs and base64 literals appended at most.
const MAX_LITERALS: usize = 256;

/// Text of a script and whether it was cut.
pub(super) struct Text {
    pub text: String,
    pub truncated: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    Ansi,
}

/// UTF-16 without a BOM: most odd (LE) or even (BE) bytes of the first 512 are zero.
fn sniff(data: &[u8]) -> Encoding {
    let head = data.get(..data.len().min(512)).unwrap_or_default();
    let pairs = head.len() / 2;
    if pairs >= 2 {
        let zeros = |skip: usize| {
            head.iter()
                .skip(skip)
                .step_by(2)
                .filter(|&&b| b == 0)
                .count()
        };
        let (even, odd) = (zeros(0), zeros(1));
        if odd * 10 >= pairs * 6 && even * 10 <= pairs {
            return Encoding::Utf16Le;
        }
        if even * 10 >= pairs * 6 && odd * 10 <= pairs {
            return Encoding::Utf16Be;
        }
    }
    match std::str::from_utf8(data) {
        Ok(_) => Encoding::Utf8,
        // Cut inside a character at the cap: still UTF-8.
        Err(e) if e.error_len().is_none() => Encoding::Utf8,
        Err(_) => Encoding::Ansi,
    }
}

/// Decode the first `cap` bytes of `data` (after a byte-order mark).
pub(super) fn decode(data: &[u8], cap: usize) -> Text {
    let (body, enc) = match data {
        [0xEF, 0xBB, 0xBF, rest @ ..] => (rest, Encoding::Utf8),
        [0xFF, 0xFE, rest @ ..] => (rest, Encoding::Utf16Le),
        [0xFE, 0xFF, rest @ ..] => (rest, Encoding::Utf16Be),
        _ => (data, Encoding::Ansi),
    };
    let truncated = body.len() > cap;
    let body = body.get(..body.len().min(cap)).unwrap_or_default();
    let enc = if enc == Encoding::Ansi {
        sniff(body)
    } else {
        enc
    };
    let text = match enc {
        Encoding::Utf8 => String::from_utf8_lossy(body).into_owned(),
        Encoding::Utf16Le => UTF_16LE.decode_without_bom_handling(body).0.into_owned(),
        Encoding::Utf16Be => UTF_16BE.decode_without_bom_handling(body).0.into_owned(),
        Encoding::Ansi => WINDOWS_1252
            .decode_without_bom_handling(body)
            .0
            .into_owned(),
    };
    Text { text, truncated }
}

/// Not text: a NUL, or more than 5 % control characters (C0 other than tab/CR/LF/FF/SUB/ESC,
/// or C1) in the first 64 Ki characters.
pub(super) fn looks_binary(text: &str) -> bool {
    let mut total = 0usize;
    let mut bad = 0usize;
    for c in text.chars().take(0x1_0000) {
        total += 1;
        match c {
            '\0' => return true,
            '\t' | '\r' | '\n' | '\x0c' | '\x1a' | '\x1b' => {}
            c if (c as u32) < 0x20 || (0x80..0xA0).contains(&(c as u32)) => bad += 1,
            '\u{FFFD}' => bad += 1,
            _ => {}
        }
    }
    bad * 20 > total
}

static CONCAT: LazyLock<Regex> =
    LazyLock::new(|| re(r#"'\s*\+\s*'|"\s*\+\s*"|"\s*&\s*(?:_[ \t]*\r?\n\s*)?""#));
static TICK: LazyLock<Regex> = LazyLock::new(|| re(r"`([A-Za-z0-9])"));
static CARET: LazyLock<Regex> = LazyLock::new(|| re(r"([A-Za-z0-9])\^([A-Za-z0-9/\\:.-])"));
/// `.replace(FROM, TO)` and `-replace FROM, TO` (also `-creplace`, `-ireplace`) with literal
/// operands: `'x'`, `"x"`, `([char]65+[char]66)`, `[char]36`, `[string][char]39`.
static REPLACE: LazyLock<Regex> = LazyLock::new(|| {
    let from =
        r#"(?:'([^'\r\n]{1,16})'|"([^"\r\n]{1,16})"|\(((?:\s*\[char\]\s*\d{1,5}\s*\+?)+)\))"#;
    let to = r#"(?:'([^'\r\n]{0,16})'|"([^"\r\n]{0,16})"|(?:\[string\]\s*)?\[char\]\s*(\d{1,5})|\$(\w{1,64}))"#;
    re(&format!(
        r"(?i)(?:\.replace\s*\(\s*|-[ci]?replace\s*\(?\s*){from}\s*\)?\s*,\s*{to}"
    ))
});
static CHAR_NUM: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\[char\]\s*(\d{1,5})"));
static DIGITS: LazyLock<Regex> = LazyLock::new(|| re(r"\d{1,7}"));
/// Runs of three or more char codes in VB, JavaScript or PowerShell.
static CHAR_RUN: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?i)(?:chrw?\s*\(\s*\d{1,5}\s*\)\s*[&+]\s*){2,}chrw?\s*\(\s*\d{1,5}\s*\)",
        r"|string\.fromcharcode\s*\(\s*(?:\d{1,5}\s*,\s*){2,}\d{1,5}\s*\)",
        r"|(?:\[char\]\s*\d{1,5}\s*\+\s*){2,}\[char\]\s*\d{1,5}"
    ))
});
static B64_LITERAL: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)frombase64string\s*\(\s*['"]([A-Za-z0-9+/]{16,}={0,2})['"]"#));

/// A char code as a character (VB's `Chr` of 128–255 read as Latin-1).
fn code_char(n: &str) -> Option<char> {
    char::from_u32(n.parse().ok()?).filter(|c| *c != '\0')
}

/// The literal text of a replace operand (groups `lit1`, `lit2`, or char codes in `codes`).
fn operand(c: &Captures, lit1: usize, lit2: usize, codes: usize, sum: bool) -> Option<String> {
    if let Some(m) = c.get(lit1).or_else(|| c.get(lit2)) {
        return Some(m.as_str().to_string());
    }
    let m = c.get(codes)?;
    if sum {
        CHAR_NUM
            .captures_iter(m.as_str())
            .map(|n| n.get(1).and_then(|d| code_char(d.as_str())))
            .collect()
    } else {
        code_char(m.as_str()).map(String::from)
    }
}

/// Add the literal replace pairs `text` declares to `pairs` (at most [`MAX_PAIRS`]). A
/// variable never assigned in the text (`.replace('000', $unset)`) stands for the empty string.
fn collect_pairs(text: &str, pairs: &mut Vec<(String, String)>) {
    let mut lower: Option<String> = None;
    for c in REPLACE.captures_iter(text) {
        if pairs.len() >= MAX_PAIRS {
            break;
        }
        let Some(from) = operand(&c, 1, 2, 3, true) else {
            continue;
        };
        let to = match c.get(7) {
            Some(var) => {
                let lower = lower.get_or_insert_with(|| text.to_ascii_lowercase());
                let name = var.as_str().to_ascii_lowercase();
                let assigned =
                    lower.contains(&format!("${name}=")) || lower.contains(&format!("${name} ="));
                if assigned {
                    continue;
                }
                String::new()
            }
            None => match operand(&c, 4, 5, 6, false) {
                Some(to) => to,
                None => continue,
            },
        };
        let new = from.chars().count() <= MAX_OPERAND && !from.is_empty() && from != to;
        if new && !pairs.iter().any(|(f, _)| *f == from) {
            pairs.push((from, to));
        }
    }
}

/// Apply `pairs` in one pass, ignoring case (droppers mix case; PowerShell's `-replace`
/// ignores it too; the first pair wins where two overlap). Stops replacing once the text
/// would pass `limit` bytes.
fn apply_pairs(text: &str, pairs: &[(String, String)], limit: usize) -> String {
    if pairs.is_empty() {
        return text.to_string();
    }
    let alternation = pairs
        .iter()
        .map(|(from, _)| regex::escape(from))
        .collect::<Vec<_>>()
        .join("|");
    let Ok(find) = Regex::new(&format!("(?i){alternation}")) else {
        return text.to_string();
    };
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for m in find.find_iter(text) {
        let to = pairs
            .iter()
            .find(|(from, _)| from.eq_ignore_ascii_case(m.as_str()) || from == m.as_str())
            .map_or(m.as_str(), |(_, to)| to.as_str());
        let piece = text.get(last..m.start()).unwrap_or_default();
        if out.len() + piece.len() + to.len() + (text.len() - m.end()) > limit {
            break;
        }
        out.push_str(piece);
        out.push_str(to);
        last = m.end();
    }
    out.push_str(text.get(last..).unwrap_or_default());
    out
}

/// Join split strings, drop backticks and carets.
fn unsplit(text: &str) -> String {
    let t = CONCAT.replace_all(text, "");
    let t = TICK.replace_all(&t, "$1");
    CARET.replace_all(&t, "$1$2").into_owned()
}

/// Plain text of char-code runs and base64 literals, one per line, at most `budget` bytes.
pub(super) fn decoded_literals(text: &str, budget: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut used = 0usize;
    let runs = CHAR_RUN.find_iter(text).map(|m| {
        let s = m.as_str();
        let lower = s.to_ascii_lowercase();
        let nums = if lower.contains("[char]") {
            CHAR_NUM
                .captures_iter(s)
                .filter_map(|c| c.get(1).map(|d| d.as_str().to_string()))
                .collect::<Vec<_>>()
        } else {
            let body = s.find('(').map_or(s, |i| s.get(i..).unwrap_or_default());
            let digits = DIGITS.find_iter(body).map(|d| d.as_str().to_string());
            if lower.starts_with("string") {
                digits.collect()
            } else {
                // `Chr(104) & ChrW(116)`: one number per call.
                s.split(['&', '+'])
                    .filter_map(|call| DIGITS.find(call).map(|d| d.as_str().to_string()))
                    .collect()
            }
        };
        nums.iter().filter_map(|n| code_char(n)).collect::<String>()
    });
    let b64 = B64_LITERAL
        .captures_iter(text)
        .filter_map(|c| c.get(1).and_then(|m| decode_b64_text(m.as_str())));
    for s in runs.chain(b64).take(MAX_LITERALS) {
        if s.chars().count() < 3 {
            continue;
        }
        used = used.saturating_add(s.len());
        if used > budget {
            break;
        }
        out.push(s);
    }
    out
}

/// Base64 that decodes to text (UTF-16LE or UTF-8), as `-EncodedCommand` values do.
fn decode_b64_text(b64: &str) -> Option<String> {
    let text = decode_encoded(b64)?;
    let printable = text
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .count();
    (printable * 10 >= text.chars().count() * 9).then_some(text)
}

/// The peeled view of `text`: split strings joined, escapes dropped, replace pairs applied (two
/// rounds), and decoded literals appended on their own lines.
pub(super) fn peel(text: &str) -> String {
    let limit = text.len().saturating_mul(MAX_VIEW).max(1024);
    let mut view = unsplit(text);
    // Pairs are remembered across rounds: applying one rewrites the others' declarations.
    let mut pairs = Vec::new();
    for _ in 0..ROUNDS {
        collect_pairs(&view, &mut pairs);
        let next = unsplit(&apply_pairs(&view, &pairs, limit));
        if next == view {
            break;
        }
        view = next;
    }
    let budget = limit.saturating_sub(view.len());
    for lit in decoded_literals(&view, budget) {
        view.push('\n');
        view.push_str(&lit);
    }
    view
}
