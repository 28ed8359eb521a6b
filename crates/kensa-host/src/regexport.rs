//! Reader for Windows registry exports (`.reg` files written by regedit's *File ▸ Export*,
//! `regedit /e FILE KEY` or `reg export KEY FILE`).
//!
//! # Format facts used
//! - **Header** (first line): `Windows Registry Editor Version 5.00` (regedit 5; the file is
//!   UTF-16LE with a BOM `FF FE`) or `REGEDIT4` (ANSI code page of the writing machine). Leading
//!   spaces/tabs and trailing whitespace on the header line are tolerated. UTF-8 with or without BOM
//!   is accepted too. Encoding detection is `regexport::text`: BOM, UTF-16 by NUL bytes, UTF-8 if valid, else
//!   **Shift_JIS (cp932) if it decodes cleanly, else windows-1252** — kensa's users are mostly on
//!   Japanese Windows, and a Western file with accented letters rarely forms valid cp932 pairs.
//!   [`RegExport::encoding`] says which was used.
//! - **Keys**: `[PATH]` (the name runs to the *last* `]` of the line, as regedit's importer does;
//!   text after it is ignored), deleted keys `[-PATH]`. Blank lines and `;` comment lines anywhere.
//! - **Values**: a name `"..."` or `@` (the default value, stored with an empty name), `=`, then
//!   - `"text"` → REG_SZ. Escapes `\\` and `\"` (regedit), `\n` and `\r` (Wine's regedit/reg.exe
//!     write these); any other `\c` is kept as the two characters. Value names use the same escapes.
//!   - `dword:XXXXXXXX` → REG_DWORD (1–8 hex digits, stored little-endian);
//!   - `hex:aa,bb,…` → REG_BINARY; `hex(N):aa,…` → type N (N in hex: `hex(2)` REG_EXPAND_SZ,
//!     `hex(7)` REG_MULTI_SZ, `hex(b)` REG_QWORD, `hex(0)` REG_NONE, any other number kept as is);
//!     a line ending in `\` continues on the next line (exporters wrap at about 80 columns and indent
//!     continuation lines with two spaces); blank and `;` lines inside a continuation are skipped;
//!   - `-` → the value is deleted ([`RegKey::deleted_values`]).
//!
//!   A trailing `; comment` after the data is allowed.
//! - **Data representation**: values are stored as the registry stores them, so
//!   [`RegValue::text`]/[`RegValue::dword`] work the same for hive and export values: strings are
//!   UTF-16LE with a terminating NUL. In a `REGEDIT4` file the bytes of `hex(1)`, `hex(2)` and
//!   `hex(7)` are ANSI text (regedit converts them with the ANSI code page), so they are re-encoded to
//!   UTF-16LE here, using the file's ANSI encoding (or the UTF-8 → Shift_JIS → windows-1252 chain
//!   when the file itself was plain ASCII/UTF-8). In a version 5 file they are kept byte for byte.
//!
//! # Errors and limits
//! Only a missing header is fatal ([`RegExportError::NoHeader`]). Every bad line becomes an entry in
//! [`RegExport::problems`] with its line number and parsing goes on with the next line; values before
//! any key or under a deleted key are reported there too, not attached. Limits (constants below, or
//! a [`RegLimits`] passed to [`parse_reg_with_limits`]): physical line length, value data size,
//! number of keys and values (parsing stops with a [`RegExportError::TooMany`] problem), number of
//! problems kept. Type prefixes (`dword:`, `hex:`) are accepted in any letter case; `hex(0x2):` is
//! rejected, as regedit's importer does.

use std::fmt;

use crate::registry::{REG_BINARY, REG_DWORD, REG_EXPAND_SZ, REG_MULTI_SZ, REG_SZ, RegValue};

#[cfg(test)]
mod tests;
pub(crate) mod text;

/// Longest physical line accepted, in bytes of decoded UTF-8 text; longer lines are reported and
/// skipped.
pub const MAX_LINE_BYTES: usize = 16 << 20;
/// Largest value data accepted (after decoding hex or string data), in bytes.
pub const MAX_VALUE_DATA: usize = 16 << 20;
/// Most keys read; parsing stops after this many.
pub const MAX_KEYS: usize = 2_000_000;
/// Most values (including deletions) read over the whole file; parsing stops after this many.
pub const MAX_VALUES: usize = 8_000_000;
/// Most problems kept; one more entry says that others were dropped.
pub const MAX_PROBLEMS: usize = 1_000;

/// The limits [`parse_reg_with_limits`] applies; [`Default`] is the `MAX_*` constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegLimits {
    /// Longest physical line, in bytes of decoded text ([`MAX_LINE_BYTES`]).
    pub max_line_bytes: usize,
    /// Largest value data, in bytes ([`MAX_VALUE_DATA`]).
    pub max_value_data: usize,
    /// Most keys ([`MAX_KEYS`]).
    pub max_keys: usize,
    /// Most values including deletions ([`MAX_VALUES`]).
    pub max_values: usize,
    /// Most problems ([`MAX_PROBLEMS`]).
    pub max_problems: usize,
}

impl Default for RegLimits {
    fn default() -> Self {
        RegLimits {
            max_line_bytes: MAX_LINE_BYTES,
            max_value_data: MAX_VALUE_DATA,
            max_keys: MAX_KEYS,
            max_values: MAX_VALUES,
            max_problems: MAX_PROBLEMS,
        }
    }
}

/// What is wrong with a `.reg` file or one of its lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegExportError {
    /// The first line is neither `Windows Registry Editor Version 5.00` nor `REGEDIT4`.
    #[error(
        "not a registry export: first line is not `Windows Registry Editor Version 5.00` or `REGEDIT4` (found {found:?})"
    )]
    NoHeader {
        /// The first line (at most 80 characters).
        found: String,
    },
    /// A line that could not be parsed.
    #[error("line {line}: {reason}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A value line before the first key line, or under a deleted key.
    #[error("line {line}: value {name:?} is not under a key that is being set")]
    OrphanValue {
        /// 1-based line number.
        line: usize,
        /// The value name.
        name: String,
    },
    /// A key whose root is not one of the predefined keys (see [`split_root`]); the key is kept.
    #[error("line {line}: unknown root key in {path:?}")]
    UnknownRoot {
        /// 1-based line number.
        line: usize,
        /// The key path as written.
        path: String,
    },
    /// A physical line longer than [`MAX_LINE_BYTES`]; it was skipped.
    #[error("line {line}: longer than {max} bytes, skipped")]
    LineTooLong {
        /// 1-based line number.
        line: usize,
        /// The limit.
        max: usize,
    },
    /// Value data larger than [`MAX_VALUE_DATA`]; the value was dropped.
    #[error("line {line}: value data larger than {max} bytes, value dropped")]
    DataTooLarge {
        /// 1-based line number where the value starts.
        line: usize,
        /// The limit.
        max: usize,
    },
    /// A count limit was reached; the rest of the file was not read.
    #[error("line {line}: more than {max} {what}, rest of the file not read")]
    TooMany {
        /// 1-based line number where reading stopped.
        line: usize,
        /// What was counted (`keys`, `values`, `problems`).
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// The text contained sequences invalid in its encoding; they were replaced with U+FFFD.
    #[error("text is not valid {encoding}; invalid sequences replaced with U+FFFD")]
    Undecodable {
        /// The encoding the file was read as.
        encoding: &'static str,
    },
}

/// Which header the file had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegVersion {
    /// `REGEDIT4`: ANSI text; `hex(1|2|7)` data in the ANSI code page.
    Regedit4,
    /// `Windows Registry Editor Version 5.00`: normally UTF-16LE; `hex(…)` data as stored.
    Version5,
}

/// One `[key]` section of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegKey {
    /// The key path as written, e.g. `HKEY_CURRENT_USER\Software\Microsoft` (without `-` for deletions).
    pub path: String,
    /// `[-PATH]`: the export deletes this key (and its subkeys).
    pub deleted: bool,
    /// Values set in this section, in file order.
    pub values: Vec<RegValue>,
    /// Names of values deleted in this section (`"name"=-`; empty name for `@=-`).
    pub deleted_values: Vec<String>,
    /// 1-based line number of the `[…]` line.
    pub line: usize,
}

impl RegKey {
    /// The value with this name, compared case-insensitively (as the registry does); `""` is the default value.
    pub fn value(&self, name: &str) -> Option<&RegValue> {
        self.values.iter().find(|v| eq_ignore_case(&v.name, name))
    }
}

/// A parsed `.reg` file: its keys in file order and the lines that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegExport {
    /// The header that was found.
    pub version: RegVersion,
    /// The text encoding used to read the file (see the module doc).
    pub encoding: &'static str,
    /// Key sections in file order (a key may appear more than once).
    pub keys: Vec<RegKey>,
    /// Bad lines and other problems, with line numbers; parsing continued past each.
    pub problems: Vec<RegExportError>,
}

impl RegExport {
    /// Every key section whose path equals `path`, compared case-insensitively.
    pub fn keys_named<'s>(&'s self, path: &str) -> impl Iterator<Item = &'s RegKey> {
        self.keys
            .iter()
            .filter(move |k| eq_ignore_case(&k.path, path))
    }
}

/// A predefined registry root key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Root {
    /// `HKEY_CLASSES_ROOT` / `HKCR`.
    ClassesRoot,
    /// `HKEY_CURRENT_USER` / `HKCU`.
    CurrentUser,
    /// `HKEY_LOCAL_MACHINE` / `HKLM`.
    LocalMachine,
    /// `HKEY_USERS` / `HKU`.
    Users,
    /// `HKEY_CURRENT_CONFIG` / `HKCC`.
    CurrentConfig,
}

impl Root {
    /// The full name, e.g. `HKEY_CURRENT_USER`.
    pub fn name(self) -> &'static str {
        match self {
            Root::ClassesRoot => "HKEY_CLASSES_ROOT",
            Root::CurrentUser => "HKEY_CURRENT_USER",
            Root::LocalMachine => "HKEY_LOCAL_MACHINE",
            Root::Users => "HKEY_USERS",
            Root::CurrentConfig => "HKEY_CURRENT_CONFIG",
        }
    }

    /// The short name, e.g. `HKCU`.
    pub fn short_name(self) -> &'static str {
        match self {
            Root::ClassesRoot => "HKCR",
            Root::CurrentUser => "HKCU",
            Root::LocalMachine => "HKLM",
            Root::Users => "HKU",
            Root::CurrentConfig => "HKCC",
        }
    }
}

impl fmt::Display for Root {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Splits a key path into its root and the rest after the first backslash (empty for the root
/// itself). Full and short root names are recognised case-insensitively; `None` for anything else.
pub fn split_root(path: &str) -> Option<(Root, &str)> {
    let (head, rest) = match path.split_once('\\') {
        Some((h, r)) => (h, r),
        None => (path, ""),
    };
    const ROOTS: [(&str, &str, Root); 5] = [
        ("HKEY_CLASSES_ROOT", "HKCR", Root::ClassesRoot),
        ("HKEY_CURRENT_USER", "HKCU", Root::CurrentUser),
        ("HKEY_LOCAL_MACHINE", "HKLM", Root::LocalMachine),
        ("HKEY_USERS", "HKU", Root::Users),
        ("HKEY_CURRENT_CONFIG", "HKCC", Root::CurrentConfig),
    ];
    ROOTS
        .iter()
        .find(|(long, short, _)| {
            head.eq_ignore_ascii_case(long) || head.eq_ignore_ascii_case(short)
        })
        .map(|&(_, _, root)| (root, rest))
}

/// Parses a `.reg` file with the default limits. `Err` only when the first line is not a registry
/// export header; every other problem is listed in [`RegExport::problems`].
pub fn parse_reg(data: &[u8]) -> Result<RegExport, RegExportError> {
    parse_reg_with_limits(data, RegLimits::default())
}

/// [`parse_reg`] with explicit limits.
pub fn parse_reg_with_limits(data: &[u8], limits: RegLimits) -> Result<RegExport, RegExportError> {
    let decoded = text::decode(data);
    let mut lines = text::lines(&decoded.text);
    let (_, first) = lines.next().unwrap_or((1, ""));
    let version = match first.trim_matches([' ', '\t']) {
        "Windows Registry Editor Version 5.00" => RegVersion::Version5,
        "REGEDIT4" => RegVersion::Regedit4,
        other => {
            return Err(RegExportError::NoHeader {
                found: other.chars().take(80).collect(),
            });
        }
    };
    let mut parser = Parser {
        limits,
        version,
        encoding: decoded.encoding,
        keys: Vec::new(),
        problems: Vec::new(),
        current: None,
        pending: None,
        value_count: 0,
    };
    if decoded.lossy {
        parser.problem(RegExportError::Undecodable {
            encoding: decoded.encoding,
        });
    }
    for (number, line) in lines {
        if parser.line(number, line).is_err() {
            break;
        }
    }
    parser.finish_pending();
    Ok(RegExport {
        version,
        encoding: decoded.encoding,
        keys: parser.keys,
        problems: parser.problems,
    })
}

/// A value whose hex data continues on the next line.
struct Pending {
    name: String,
    kind: u32,
    data: Vec<u8>,
    /// Data written as `hex…:` (raw bytes) rather than a quoted string.
    from_hex: bool,
    line: usize,
}

/// Signals that a count limit was hit and reading must stop.
struct Stop;

struct Parser {
    limits: RegLimits,
    version: RegVersion,
    encoding: &'static str,
    keys: Vec<RegKey>,
    problems: Vec<RegExportError>,
    /// Index into `keys` of the section values go to; `None` before any key or under a deleted key.
    current: Option<usize>,
    pending: Option<Pending>,
    value_count: usize,
}

/// What a value line sets.
enum Data {
    /// A quoted string, already UTF-16LE.
    Text(Vec<u8>),
    /// `dword:` or complete `hex…:` data.
    Value(u32, Vec<u8>),
    /// `hex…:` data continued on the next line.
    Continued(u32, Vec<u8>),
    Delete,
}

impl Parser {
    fn problem(&mut self, p: RegExportError) {
        let max = self.limits.max_problems;
        if self.problems.len() < max {
            self.problems.push(p);
        } else if self.problems.len() == max {
            self.problems.push(RegExportError::TooMany {
                line: problem_line(&p),
                what: "problems",
                max,
            });
        }
    }

    fn bad(&mut self, line: usize, reason: &'static str) {
        self.problem(RegExportError::BadLine { line, reason });
    }

    fn line(&mut self, number: usize, line: &str) -> Result<(), Stop> {
        if line.len() > self.limits.max_line_bytes {
            self.finish_pending();
            self.problem(RegExportError::LineTooLong {
                line: number,
                max: self.limits.max_line_bytes,
            });
            return Ok(());
        }
        let trimmed = line.trim_start_matches([' ', '\t']);
        if self.pending.is_some() && self.continuation(number, trimmed) {
            return Ok(());
        }
        if trimmed.is_empty() || trimmed.starts_with(';') {
            return Ok(());
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            return self.key_line(number, rest);
        }
        if let Some(rest) = trimmed.strip_prefix('@') {
            return self.value_line(number, String::new(), rest);
        }
        if let Some(rest) = trimmed.strip_prefix('"') {
            return match unescape(rest) {
                Some((name, after)) => self.value_line(number, name, after),
                None => {
                    self.bad(number, "value name without closing quote");
                    Ok(())
                }
            };
        }
        self.bad(number, "not a key, value, comment or blank line");
        Ok(())
    }

    /// Feeds a line to a pending hex continuation. Returns `true` if the line was consumed.
    fn continuation(&mut self, number: usize, trimmed: &str) -> bool {
        let Some(mut pending) = self.pending.take() else {
            return false;
        };
        if trimmed.is_empty() || trimmed.starts_with(';') {
            self.pending = Some(pending);
            return true;
        }
        if !trimmed.starts_with(|c: char| c.is_ascii_hexdigit()) {
            self.bad(
                pending.line,
                "hex data ends with `\\` but the next line is not hex data",
            );
            self.store(pending);
            return false;
        }
        match parse_hex_list(trimmed, &mut pending.data, self.limits.max_value_data) {
            Ok(true) => self.pending = Some(pending),
            Ok(false) => self.store(pending),
            Err(HexError::TooLarge) => self.problem(RegExportError::DataTooLarge {
                line: pending.line,
                max: self.limits.max_value_data,
            }),
            Err(HexError::Syntax(_)) => {
                self.bad(number, "bad hex data on a continuation line; value dropped")
            }
        }
        true
    }

    fn finish_pending(&mut self) {
        if let Some(p) = self.pending.take() {
            self.store(p);
        }
    }

    fn key_line(&mut self, number: usize, rest: &str) -> Result<(), Stop> {
        self.current = None;
        let Some(end) = rest.rfind(']') else {
            self.bad(number, "key line without closing `]`");
            return Ok(());
        };
        let inner = rest.get(..end).unwrap_or_default();
        let (deleted, path) = match inner.strip_prefix('-') {
            Some(p) => (true, p),
            None => (false, inner),
        };
        if path.is_empty() || path.starts_with([' ', '\t']) {
            self.bad(number, "empty or indented key path");
            return Ok(());
        }
        if self.keys.len() >= self.limits.max_keys {
            self.problem(RegExportError::TooMany {
                line: number,
                what: "keys",
                max: self.limits.max_keys,
            });
            return Err(Stop);
        }
        if split_root(path).is_none() {
            self.problem(RegExportError::UnknownRoot {
                line: number,
                path: path.to_owned(),
            });
        }
        self.keys.push(RegKey {
            path: path.to_owned(),
            deleted,
            values: Vec::new(),
            deleted_values: Vec::new(),
            line: number,
        });
        if !deleted {
            self.current = Some(self.keys.len() - 1);
        }
        Ok(())
    }

    fn value_line(&mut self, number: usize, name: String, after_name: &str) -> Result<(), Stop> {
        let Some(data) = after_name.trim_start_matches([' ', '\t']).strip_prefix('=') else {
            self.bad(number, "expected `=` after the value name");
            return Ok(());
        };
        let data = data.trim_matches([' ', '\t']);
        let parsed = match self.parse_data(data) {
            Ok(d) => d,
            Err(HexError::TooLarge) => {
                self.problem(RegExportError::DataTooLarge {
                    line: number,
                    max: self.limits.max_value_data,
                });
                return Ok(());
            }
            Err(HexError::Syntax(reason)) => {
                self.bad(number, reason);
                return Ok(());
            }
        };
        if self.current.is_none() {
            self.problem(RegExportError::OrphanValue {
                line: number,
                name: name.clone(),
            });
            if let Data::Continued(kind, data) = parsed {
                // Swallow its continuation lines; `store` drops it as there is no current key.
                self.pending = Some(Pending {
                    name,
                    kind,
                    data,
                    from_hex: true,
                    line: number,
                });
            }
            return Ok(());
        }
        if self.value_count >= self.limits.max_values {
            self.problem(RegExportError::TooMany {
                line: number,
                what: "values",
                max: self.limits.max_values,
            });
            return Err(Stop);
        }
        self.value_count += 1;
        match parsed {
            Data::Delete => {
                if let Some(key) = self.current.and_then(|i| self.keys.get_mut(i)) {
                    key.deleted_values.push(name);
                }
            }
            Data::Text(data) => self.store(Pending {
                name,
                kind: REG_SZ,
                data,
                from_hex: false,
                line: number,
            }),
            Data::Value(kind, data) => self.store(Pending {
                name,
                kind,
                data,
                from_hex: true,
                line: number,
            }),
            Data::Continued(kind, data) => {
                self.pending = Some(Pending {
                    name,
                    kind,
                    data,
                    from_hex: true,
                    line: number,
                })
            }
        }
        Ok(())
    }

    fn parse_data(&self, data: &str) -> Result<Data, HexError> {
        if let Some(rest) = data.strip_prefix('-') {
            return if is_end(rest) {
                Ok(Data::Delete)
            } else {
                Err(HexError::Syntax("text after `-`"))
            };
        }
        if let Some(rest) = data.strip_prefix('"') {
            let (s, after) =
                unescape(rest).ok_or(HexError::Syntax("string data without closing quote"))?;
            if !is_end(after) {
                return Err(HexError::Syntax("text after the closing quote"));
            }
            let mut bytes = text::utf16le(&s);
            bytes.extend([0, 0]);
            if bytes.len() > self.limits.max_value_data {
                return Err(HexError::TooLarge);
            }
            return Ok(Data::Text(bytes));
        }
        if let Some(rest) = strip_prefix_ignore_case(data, "dword:") {
            return parse_dword(rest).map(|v| Data::Value(REG_DWORD, v.to_le_bytes().to_vec()));
        }
        let (kind, list) = if let Some(rest) = strip_prefix_ignore_case(data, "hex:") {
            (REG_BINARY, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(data, "hex(") {
            parse_hex_kind(rest)?
        } else {
            return Err(HexError::Syntax(
                "unknown data type (expected \"…\", dword:, hex: or hex(N):)",
            ));
        };
        let mut bytes = Vec::new();
        if parse_hex_list(list, &mut bytes, self.limits.max_value_data)? {
            Ok(Data::Continued(kind, bytes))
        } else {
            Ok(Data::Value(kind, bytes))
        }
    }

    /// Attaches a finished value to the current key, converting REGEDIT4 ANSI string data.
    fn store(&mut self, p: Pending) {
        let data = if self.version == RegVersion::Regedit4
            && p.from_hex
            && matches!(p.kind, REG_SZ | REG_EXPAND_SZ | REG_MULTI_SZ)
        {
            let s = text::decode_ansi_as(&p.data, self.encoding);
            text::utf16le(&s)
        } else {
            p.data
        };
        if let Some(key) = self.current.and_then(|i| self.keys.get_mut(i)) {
            key.values.push(RegValue {
                name: p.name,
                kind: p.kind,
                data,
            });
        }
    }
}

fn problem_line(p: &RegExportError) -> usize {
    match p {
        RegExportError::BadLine { line, .. }
        | RegExportError::OrphanValue { line, .. }
        | RegExportError::UnknownRoot { line, .. }
        | RegExportError::LineTooLong { line, .. }
        | RegExportError::DataTooLarge { line, .. }
        | RegExportError::TooMany { line, .. } => *line,
        RegExportError::NoHeader { .. } | RegExportError::Undecodable { .. } => 0,
    }
}

/// Why hex or dword data was rejected.
enum HexError {
    Syntax(&'static str),
    TooLarge,
}

/// Whether what follows the data is nothing or a comment.
fn is_end(rest: &str) -> bool {
    let rest = rest.trim_start_matches([' ', '\t']);
    rest.is_empty() || rest.starts_with(';')
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || a.to_lowercase() == b.to_lowercase()
}

/// Reads a quoted string after its opening quote: returns the unescaped text and what follows the
/// closing quote, or `None` if there is no closing quote.
fn unescape(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, s.get(i + 1..).unwrap_or_default())),
            '\\' => match chars.next() {
                Some((_, '\\')) => out.push('\\'),
                Some((_, '"')) => out.push('"'),
                Some((_, 'n')) => out.push('\n'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, other)) => {
                    out.push('\\');
                    out.push(other);
                }
                None => return None,
            },
            _ => out.push(c),
        }
    }
    None
}

/// `dword:` data: 1–8 hex digits, then nothing or a comment.
fn parse_dword(s: &str) -> Result<u32, HexError> {
    let s = s.trim_start_matches([' ', '\t']);
    let n = s.bytes().take_while(u8::is_ascii_hexdigit).count();
    if n == 0 || n > 8 {
        return Err(HexError::Syntax("dword: needs 1 to 8 hex digits"));
    }
    let digits = s.get(..n).unwrap_or_default();
    if !is_end(s.get(n..).unwrap_or_default()) {
        return Err(HexError::Syntax("text after dword data"));
    }
    u32::from_str_radix(digits, 16).map_err(|_| HexError::Syntax("dword: needs 1 to 8 hex digits"))
}

/// The `N):` of `hex(N):`; returns the type and the byte list after the colon.
fn parse_hex_kind(s: &str) -> Result<(u32, &str), HexError> {
    let n = s.bytes().take_while(u8::is_ascii_hexdigit).count();
    if n == 0 || n > 8 {
        return Err(HexError::Syntax(
            "hex(N): needs a hex type number of 1 to 8 digits",
        ));
    }
    let kind = u32::from_str_radix(s.get(..n).unwrap_or_default(), 16)
        .map_err(|_| HexError::Syntax("hex(N): bad type number"))?;
    let rest = s
        .get(n..)
        .and_then(|r| r.strip_prefix("):"))
        .ok_or(HexError::Syntax("hex(N) must be followed by `):`"))?;
    Ok((kind, rest))
}

/// Parses a comma-separated list of hex bytes into `out`. Returns whether the list continues on the
/// next line (ends with `\`).
fn parse_hex_list(s: &str, out: &mut Vec<u8>, max: usize) -> Result<bool, HexError> {
    let mut rest = s;
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() || rest.starts_with(';') {
            return Ok(false);
        }
        if let Some(after) = rest.strip_prefix('\\') {
            return if is_end(after) {
                Ok(true)
            } else {
                Err(HexError::Syntax("text after the continuation `\\`"))
            };
        }
        let n = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        if n == 0 || n > 2 {
            return Err(HexError::Syntax(
                "hex data must be bytes of 1 or 2 hex digits separated by commas",
            ));
        }
        let byte = u8::from_str_radix(rest.get(..n).unwrap_or_default(), 16)
            .map_err(|_| HexError::Syntax("bad hex byte"))?;
        if out.len() >= max {
            return Err(HexError::TooLarge);
        }
        out.push(byte);
        rest = rest
            .get(n..)
            .unwrap_or_default()
            .trim_start_matches([' ', '\t']);
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !(rest.is_empty() || rest.starts_with(';') || rest.starts_with('\\')) {
            return Err(HexError::Syntax("expected `,` between hex bytes"));
        }
    }
}
