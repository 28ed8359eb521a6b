//! HTML smuggling (spec §2.11): HTML, HTM, SHTML and SVG attachments that carry a payload.
//!
//! The Qakbot/Emotet-era page holds a large encoded ZIP or ISO in a script literal, rebuilds it
//! with `atob` → `Uint8Array` → `new Blob` → `URL.createObjectURL`, sets `a.download =
//! "invoice.zip"` and calls `a.click()` (or `navigator.msSaveOrOpenBlob` on old Edge/IE), while the
//! visible page shows the ZIP password. This module reports three things:
//!
//! 1. **Patterns** ([`HtmlScan::patterns`]): the API calls and markup of that technique, matched
//!    case-insensitively with free whitespace (`atob (`, `new  Blob`, `["atob"]`). Each pattern is a
//!    small ASCII regex asked only "is there a match", which the `regex` crate answers in one
//!    linear pass with a literal prefilter.
//! 2. **Blobs** ([`HtmlScan::blobs`]): long encoded runs found without parsing JavaScript, by four
//!    linear passes over the bytes (`runs`, then `decode`): base64 (standard or URL-safe, wrapped lines and
//!    `"…" + "…"`, `"…", "…"` and `s += "…"` pieces joined) or hex; comma-separated char-code or
//!    byte arrays (`[80,75,3,4,…]`, `fromCharCode(…)`); `%xx`/`%uXXXX` runs; and `\xNN`/`\uNNNN`
//!    string escapes. Each run of at least [`HtmlLimits::min_blob_len`] bytes is decoded and its
//!    start sniffed with [`crate::sniff`]; base64 is also tried reversed (`.split("").reverse()
//!    .join("")`), and a char-code/escape decode that is itself base64 is decoded once more. Only a
//!    recognised payload (archive, disk image, PE with a `PE\0\0` header, OLE, LNK, OneNote, RTF,
//!    PDF, HTML, script text) or an unrecognised run of at least [`STRONG_LITERAL_LEN`] bytes is
//!    kept; images and fonts are counted in [`HtmlScan::media`], other decodes in
//!    [`HtmlScan::unrecognised`]. A blob gets the nearest download file name on the page and, for
//!    the payload of a `data:` URI, its MIME type. Large benign literals exist (a search index
//!    in a documentation script): a kept `Unknown` blob is a size signal, not a verdict.
//! 3. **Visible text** ([`visible_text`]): what the page shows, for the password search of §2.6.
//!
//! Limits: every pass is linear in the input, run lengths need no lookahead beyond a 64-byte
//! join window, the decoded bytes kept are capped by [`HtmlLimits::max_decoded_bytes`] over all
//! blobs and their number by [`HtmlLimits::max_blobs`] (further runs are counted, not decoded);
//! probing a run for its type decodes at most ~33 KB. Transient memory is a small multiple of
//! the input length (one run's characters or UTF-16 units at a time). A UTF-16 page (by its BOM) is transcoded to UTF-8
//! first and its offsets refer to the transcoded text. Scanning cannot fail: anything that could
//! not be decoded or was cut is reported in the counters and in [`HtmlScan::truncated`].

mod decode;
mod runs;
mod text;

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::bytes::Regex;

pub use crate::sniff::FileType;
pub use text::{charset, visible_text};

/// The length (in encoded bytes) from which a literal is the strong case of §2.11.
pub const STRONG_LITERAL_LEN: usize = 50 * 1024;

/// Caller-given bounds for [`scan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HtmlLimits {
    /// Shortest encoded run considered a blob (raised to 16 if smaller). 1 KiB finds small test
    /// pages; real smuggling literals are over [`STRONG_LITERAL_LEN`].
    pub min_blob_len: usize,
    /// Most blobs kept; later runs are counted in [`HtmlScan::skipped`].
    pub max_blobs: usize,
    /// Most decoded bytes kept, summed over all blobs.
    pub max_decoded_bytes: usize,
}

impl Default for HtmlLimits {
    fn default() -> Self {
        HtmlLimits {
            min_blob_len: 1024,
            max_blobs: 16,
            max_decoded_bytes: 64 << 20,
        }
    }
}

/// One decoded run worth keeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// Offset of the first encoded byte.
    pub offset: usize,
    /// Length of the encoded run in the input, joins (`"+"`, line breaks) included.
    pub encoded_len: usize,
    /// How it was decoded: `base64`, `base64-reversed`, `hex`, `char-codes`, `percent`,
    /// `js-escape`, or one of the last three followed by `+base64`, `+base64-reversed` or `+hex`
    /// (char codes or escapes spelling an encoded string).
    pub encoding: &'static str,
    /// Sniffed type of `data`: `Unknown` for a large run that is no known type, `Text` for script.
    pub kind: FileType,
    /// Decoded bytes, at most what was left of [`HtmlLimits::max_decoded_bytes`].
    pub data: Vec<u8>,
    /// `data` was cut by the decoded-bytes budget.
    pub truncated: bool,
    /// The nearest download file name on the page (`download="x.zip"`, `a.download = 'x.zip'`,
    /// `msSaveOrOpenBlob(b, "x.zip")`, `setAttribute("download", "x.zip")`).
    pub name: Option<String>,
    /// MIME type of a `data:` URI the run is the payload of.
    pub mime: Option<String>,
}

/// Everything [`scan`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HtmlScan {
    /// Names of the smuggling patterns present, in the order of [`PATTERN_NAMES`].
    pub patterns: Vec<&'static str>,
    /// Kept blobs, by offset.
    pub blobs: Vec<Blob>,
    /// Download file names found on the page (at most 64, each at most 260 bytes).
    pub download_names: Vec<String>,
    /// Longest encoded run seen, in input bytes.
    pub largest_run: usize,
    /// Runs decoded to images or fonts (inline `data:image/png;base64,…` is ordinary HTML).
    pub media: usize,
    /// Runs whose decodes were no known type and shorter than [`STRONG_LITERAL_LEN`].
    pub unrecognised: usize,
    /// Runs worth keeping that were not decoded: [`HtmlLimits::max_blobs`] was reached or
    /// [`HtmlLimits::max_decoded_bytes`] was used up.
    pub skipped: usize,
    /// Some blob was cut or skipped by a limit.
    pub truncated: bool,
    /// The page was UTF-16 (by BOM) and was transcoded to UTF-8 before scanning.
    pub transcoded_from: Option<&'static str>,
}

/// Every pattern name [`scan`] can report, in report order.
pub const PATTERN_NAMES: &[&str] = &[
    "atob",
    "uint8array",
    "new_blob",
    "create_object_url",
    "webkit_url",
    "download_attribute",
    "download_property",
    "click",
    "ms_save_blob",
    "data_uri_archive",
    "reversed_string",
    "from_char_code",
    "unescape_large",
    "eval",
    "function_constructor",
    "svg_script",
    "large_encoded_blob",
];

/// Patterns that are one regex each (the rest are decided from the blob passes).
const REGEX_PATTERNS: &[(&str, &str)] = &[
    ("atob", r#"(?i-u)\batob\s*\(|["'`]atob["'`]"#),
    ("uint8array", r"(?i-u)\buint8array\b"),
    (
        "new_blob",
        r"(?i-u)\bnew\s+(?:(?:window|self|globalthis)\s*\.\s*)?blob\s*\(",
    ),
    ("create_object_url", r"(?i-u)\bcreateobjecturl\b"),
    ("webkit_url", r"(?i-u)\bwebkiturl\b"),
    (
        "download_attribute",
        r"(?i-u)<a\s(?:[^>]*\s)?download(?:\s*=|\s|/?>)",
    ),
    (
        "download_property",
        r#"(?i-u)\.\s*download\s*=[^=]|setattribute\s*\(\s*["'`]download["'`]"#,
    ),
    (
        "click",
        r#"(?i-u)\.\s*click\s*\(\s*\)|dispatchevent\s*\(\s*new\s+mouseevent\s*\(\s*["'`]click"#,
    ),
    ("ms_save_blob", r"(?i-u)\bmssave(?:oropen)?blob\b"),
    (
        "data_uri_archive",
        r"(?i-u)data:\s*application/(?:octet-stream|zip|x-zip-compressed|x-iso9660-image|x-msdownload|x-rar-compressed|x-7z-compressed|vnd\.ms-cab-compressed)\s*;\s*base64",
    ),
    (
        "reversed_string",
        r"(?i-u)\.\s*reverse\s*\(\s*\)\s*\.\s*join\s*\(",
    ),
    ("from_char_code", r"(?i-u)\bfromcharcode\b"),
    ("eval", r"(?i-u)\beval\s*\("),
    // Case matters here: `Function(` is the constructor, `function(` a declaration.
    ("function_constructor", r"(?-u)\bFunction\s*\("),
];

fn re(pat: &str) -> Regex {
    Regex::new(pat).expect("static pattern compiles")
}

static REGEXES: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    REGEX_PATTERNS
        .iter()
        .map(|(name, pat)| (*name, re(pat)))
        .collect()
});
static UNESCAPE_CALL: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i-u)\b(?:unescape|decodeuricomponent)\s*\("));
static EVENT_ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| re(r"(?i-u)\son[a-z]+\s*="));
static SCRIPT_TAG: LazyLock<Regex> = LazyLock::new(|| re(r"(?i-u)<script\b"));
/// `download="x"`, `.download = 'x'`, `download=x` (unquoted attribute).
static DOWNLOAD_NAME: LazyLock<Regex> = LazyLock::new(|| {
    re(r#"(?i-u)\bdownload\s*=\s*(?:["'`]([^"'`<>\r\n]{1,260})["'`]|([^\s"'`<>=]{1,260}))"#)
});
/// `msSaveOrOpenBlob(b, "x")`, `setAttribute("download", "x")`, `new File([…], "x"`.
static CALL_NAME: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i-u)(?:mssave(?:oropen)?blob\s*\([^,()]{1,200},|setattribute\s*\(\s*["'`]download["'`]\s*,|new\s+file\s*\(\s*\[[^\]]{0,200}\]\s*,)\s*["'`]([^"'`<>\r\n]{1,260})["'`]"#,
    )
});

const MAX_NAMES: usize = 64;
/// Most `download=` matches looked at (the same name repeated a million times costs no more).
const MAX_NAME_MATCHES: usize = 4096;

/// Scan an HTML or SVG document for smuggling patterns and encoded payloads.
pub fn scan(data: &[u8], limits: HtmlLimits) -> HtmlScan {
    let (text, transcoded_from) = utf16_to_utf8(data);
    let text: &[u8] = &text;
    let mut report = HtmlScan {
        transcoded_from,
        ..HtmlScan::default()
    };
    let names = download_names(text);
    let found = runs::find(text, &limits);
    let mut hits: Vec<&'static str> = REGEXES
        .iter()
        .filter(|(_, re)| re.is_match(text))
        .map(|(name, _)| *name)
        .collect();
    if found.percent_run && is_match(&UNESCAPE_CALL, text) {
        hits.push("unescape_large");
    }
    if let Some(root) = svg_root(text)
        && (SCRIPT_TAG.is_match(text) || EVENT_ATTRIBUTE.is_match(root))
    {
        hits.push("svg_script");
    }
    if found.strong_run {
        hits.push("large_encoded_blob");
    }
    report.patterns = PATTERN_NAMES
        .iter()
        .copied()
        .filter(|p| hits.contains(p))
        .collect();
    report.blobs = found.blobs;
    for blob in &mut report.blobs {
        blob.name = nearest_name(
            &names,
            blob.offset,
            blob.offset.saturating_add(blob.encoded_len),
        );
    }
    report.download_names = names.into_iter().map(|(_, n)| n).collect();
    report.largest_run = found.largest_run;
    report.media = found.media;
    report.unrecognised = found.unrecognised;
    report.skipped = found.skipped;
    report.truncated = found.truncated;
    report
}

/// The pattern names alone: [`scan`] with default limits that keeps no blob (runs are still
/// probed, for `unescape_large` and `large_encoded_blob`).
pub fn patterns(data: &[u8]) -> Vec<&'static str> {
    let limits = HtmlLimits {
        max_blobs: 0,
        ..HtmlLimits::default()
    };
    scan(data, limits).patterns
}

fn is_match(re: &LazyLock<Regex>, text: &[u8]) -> bool {
    re.is_match(text)
}

/// The root start tag when the document is an SVG image: the first element within the first
/// 4 KiB (after the XML declaration, doctype and comments) is `<svg` or `<svg:svg`.
fn svg_root(text: &[u8]) -> Option<&[u8]> {
    let head = text.get(..text.len().min(4096))?;
    let mut pos = 0;
    loop {
        let lt = pos + memchr::memchr(b'<', head.get(pos..)?)?;
        let rest = head.get(lt..)?;
        let skip_to =
            |needle: &[u8]| memchr::memmem::find(rest, needle).map(|i| lt + i + needle.len());
        pos = if rest.starts_with(b"<!--") {
            skip_to(b"-->")?
        } else if rest.starts_with(b"<?") || rest.starts_with(b"<!") {
            skip_to(b">")?
        } else {
            let name_len = rest
                .iter()
                .skip(1)
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b':')
                .count();
            let name = rest.get(1..1 + name_len)?;
            let is_svg = name.eq_ignore_ascii_case(b"svg") || name.eq_ignore_ascii_case(b"svg:svg");
            let end = memchr::memchr(b'>', rest).unwrap_or(rest.len());
            return is_svg.then(|| rest.get(..end)).flatten();
        };
    }
}

/// A page that starts with a UTF-16 BOM, as UTF-8 (the patterns are ASCII and would not match
/// between the NUL bytes otherwise).
fn utf16_to_utf8(data: &[u8]) -> (Cow<'_, [u8]>, Option<&'static str>) {
    match encoding_rs::Encoding::for_bom(data) {
        Some((enc, bom)) if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE => {
            let body = data.get(bom..).unwrap_or_default();
            let (s, _) = enc.decode_without_bom_handling(body);
            (Cow::Owned(s.into_owned().into_bytes()), Some(enc.name()))
        }
        _ => (Cow::Borrowed(data), None),
    }
}

/// Download file names with their offsets, in page order, at most [`MAX_NAMES`].
fn download_names(text: &[u8]) -> Vec<(usize, String)> {
    let mut names = Vec::new();
    for re in [&*DOWNLOAD_NAME, &*CALL_NAME] {
        for caps in re.captures_iter(text).take(MAX_NAME_MATCHES) {
            if names.len() >= MAX_NAMES {
                break;
            }
            if let Some(m) = caps.get(1).or_else(|| caps.get(2)) {
                let name = String::from_utf8_lossy(m.as_bytes()).trim().to_string();
                if !name.is_empty() && !names.iter().any(|(_, n)| *n == name) {
                    names.push((m.start(), name));
                }
            }
        }
    }
    names.sort_by_key(|(at, _)| *at);
    names
}

/// The name closest to the run `[start, end)` (0 distance inside it).
fn nearest_name(names: &[(usize, String)], start: usize, end: usize) -> Option<String> {
    names
        .iter()
        .min_by_key(|(at, _)| {
            if *at < start {
                start - at
            } else {
                at.saturating_sub(end)
            }
        })
        .map(|(_, n)| n.clone())
}

#[cfg(test)]
mod tests;
