//! Excel 4.0 (XLM) macro sheets, found from bytes (spec §2.4).
//!
//! Four carriers hold XLM: the BIFF8/BIFF5 `Workbook`/`Book` stream of an OLE .xls/.xlt
//! ([`scan_biff`]), the parts of an .xlsm/.xltm/.xlsb package ([`scan_ooxml_part`], fed one part
//! at a time), and SYLK text ([`scan_slk`]). Each gives an [`XlmReport`]: the macro sheets (name
//! and visibility), the Auto_Open/Auto_Close names, the macro functions the formulas call and
//! the suspicious strings they carry. Nothing here does I/O or panics; every walk is bounded (at
//! most [`MAX_RECORDS`] records, capped lists and strings) and a malformed length ends the walk
//! with an anomaly.
//!
//! Formulas are read only inside macro sheets: an ordinary worksheet cannot call EXEC or CALL,
//! and hidden ordinary worksheets are only counted ([`XlmReport::hidden_worksheets`]), never
//! taken for XLM.

pub(crate) mod biff;
mod ooxml;
mod ptg;
mod slk;
#[cfg(test)]
mod tests;
pub(crate) mod xlsb;
mod xml;

/// At most this many records are walked in one stream or part.
pub const MAX_RECORDS: usize = 1_000_000;
/// At most this many suspicious strings are kept.
pub const MAX_STRINGS: usize = 50;
/// A kept string is cut to this many characters.
pub const MAX_STRING_CHARS: usize = 200;
/// At most this many anomalies are kept.
pub const MAX_ANOMALIES: usize = 32;
/// At most this many sheets (and Auto_Open names) are kept.
pub const MAX_SHEETS: usize = 4096;
/// A string or formula text longer than this is only examined up to here.
const MAX_EXAMINED: usize = 64 << 10;

/// Visibility of a sheet. BIFF hsState bits 0–1 decide; a value with reserved bits set is
/// masked first, and the raw byte of the invalid state 3 (or an unreadable one) is kept in
/// `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetState {
    Visible,
    Hidden,
    VeryHidden,
    Other(u8),
}

impl SheetState {
    /// From a BIFF/XLSB hsState value: bits 0–1, reserved bits masked off.
    pub fn from_raw(raw: u8) -> SheetState {
        match raw & 0x03 {
            0 => SheetState::Visible,
            1 => SheetState::Hidden,
            2 => SheetState::VeryHidden,
            _ => SheetState::Other(raw),
        }
    }

    /// Hidden or very hidden (an `Other` state is not counted: its meaning is unknown).
    pub fn is_hidden(self) -> bool {
        matches!(self, SheetState::Hidden | SheetState::VeryHidden)
    }
}

/// One macro sheet: its name as the workbook lists it, and its visibility.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroSheet {
    pub name: String,
    pub state: SheetState,
}

/// What the XLM scan found.
#[derive(Clone, Default)]
pub struct XlmReport {
    /// BOUNDSHEET8 dt 1 or a BOF dt 0x0040 substream (BIFF8/BIFF5), xlMacrosheet parts
    /// (OOXML/XLSB), an SLK with XLM.
    pub macro_sheets: Vec<MacroSheet>,
    /// `Auto_Open`/`Auto_Close` for built-in names (BIFF Lbl 1/2, `_xlnm.Auto_Open`); other names
    /// beginning `auto_open`/`auto_close` as written.
    pub auto_open: Vec<String>,
    /// Distinct XLM functions called by macro-sheet formulas, in order of first appearance.
    pub functions: Vec<&'static str>,
    /// Suspicious strings of macro-sheet formulas and cells (≤ [`MAX_STRINGS`], each ≤
    /// [`MAX_STRING_CHARS`] characters, cut around the hit when longer).
    pub strings: Vec<String>,
    /// Hidden or very hidden ordinary worksheets: context only, not XLM.
    pub hidden_worksheets: usize,
    /// A BIFF FILEPASS record was seen: record bodies after it are encrypted, so formulas were
    /// not read and sheet names and states are unknown.
    pub encrypted: bool,
    pub anomalies: Vec<String>,
    /// Join state across the parts of one package (sheet names, relationships, content types).
    ooxml: ooxml::PackageState,
}

impl std::fmt::Debug for XlmReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XlmReport")
            .field("macro_sheets", &self.macro_sheets)
            .field("auto_open", &self.auto_open)
            .field("functions", &self.functions)
            .field("strings", &self.strings)
            .field("hidden_worksheets", &self.hidden_worksheets)
            .field("encrypted", &self.encrypted)
            .field("anomalies", &self.anomalies)
            .finish_non_exhaustive()
    }
}

impl XlmReport {
    /// At least one macro sheet.
    pub fn has_macro_sheet(&self) -> bool {
        !self.macro_sheets.is_empty()
    }

    /// A macro sheet that is hidden or very hidden.
    pub fn has_hidden_macro_sheet(&self) -> bool {
        self.macro_sheets.iter().any(|s| s.state.is_hidden())
    }

    fn note(&mut self, msg: impl Into<String>) {
        let msg = msg.into();
        if self.anomalies.len() < MAX_ANOMALIES && !self.anomalies.contains(&msg) {
            self.anomalies.push(msg);
        }
    }

    fn add_function(&mut self, name: &'static str) {
        if !self.functions.contains(&name) {
            self.functions.push(name);
        }
    }

    /// A function id of a ptgFunc/ptgFuncVar token (command bit included).
    fn add_function_id(&mut self, id: u16) {
        if let Some(f) = func_by_id(id) {
            self.add_function(f.name);
        }
    }

    fn add_macro_sheet(&mut self, name: String, state: SheetState) {
        if self.macro_sheets.len() < MAX_SHEETS {
            self.macro_sheets.push(MacroSheet { name, state });
        }
    }

    /// A defined name: kept when it is an auto-run name.
    fn add_name(&mut self, name: &str) {
        if let Some(shown) = auto_name(name)
            && self.auto_open.len() < MAX_SHEETS
            && !self.auto_open.contains(&shown)
        {
            self.auto_open.push(shown);
        }
    }

    /// A built-in BIFF name by its code (1 Auto_Open, 2 Auto_Close).
    fn add_builtin_name(&mut self, code: u32) {
        let shown = match code {
            1 => "Auto_Open",
            2 => "Auto_Close",
            _ => return,
        };
        if !self.auto_open.iter().any(|n| n == shown) {
            self.auto_open.push(shown.to_string());
        }
    }

    /// A string of a macro sheet (formula constant or cell): kept when it holds an indicator.
    fn consider_string(&mut self, s: &str) {
        if self.strings.len() >= MAX_STRINGS {
            return;
        }
        let s = cut_chars(s, MAX_EXAMINED);
        if let Some(hit) = indicator_at(s) {
            let shown = excerpt(s, hit);
            if !self.strings.contains(&shown) {
                self.strings.push(shown);
            }
        }
    }

    /// Functions, strings and anomalies of `other` (a sheet scanned on its own).
    fn absorb(&mut self, other: &XlmReport) {
        for f in &other.functions {
            self.add_function(f);
        }
        for s in &other.strings {
            if self.strings.len() < MAX_STRINGS && !self.strings.contains(s) {
                self.strings.push(s.clone());
            }
        }
        for a in &other.anomalies {
            self.note(a.clone());
        }
    }
}

/// Scans the `Workbook` (BIFF8) or `Book` (BIFF5) stream of an OLE .xls/.xlt.
pub fn scan_biff(workbook_stream: &[u8]) -> XlmReport {
    biff::scan(workbook_stream)
}

/// Feeds one part of an .xlsm/.xltm/.xlsb (or any SpreadsheetML) package; call it for every part,
/// in any order, with the same report. `content_type` is the part's type when the caller knows
/// it (else the `[Content_Types].xml` part, when fed, tells). Understood parts: the workbook
/// (`workbook.xml` sheet names and states, `_xlnm.Auto_Open`; `workbook.bin` BrtBundleSh and
/// BrtName), `[Content_Types].xml` (macro-sheet overrides), `*.rels` (xlMacrosheet and
/// xlIntlMacrosheet relationships), macro-sheet XML (`<f>` formulas, cell values) and binary
/// sheets (BrtFmla* tokens, string cells). The report is consistent after every call: sheet
/// names, relationships and content types are joined again as parts arrive, and a sheet part's
/// findings count once it is known to be a macro sheet. A part that a relationship already names
/// as an ordinary worksheet (and nothing as a macro sheet) is not read. A report may hold one
/// package only; BIFF or SLK results already in it are kept.
pub fn scan_ooxml_part(
    part_name: &str,
    content_type: Option<&str>,
    data: &[u8],
    report: &mut XlmReport,
) {
    ooxml::scan_part(part_name, content_type, data, report);
}

/// Scans a SYLK file: `ID;P…`, cells `C;…;E<formula>`, names `NN;N<name>;E<formula>`.
pub fn scan_slk(data: &[u8]) -> XlmReport {
    slk::scan(data)
}

/// The bytes start like a SYLK file (`ID;`, after an optional UTF-8 BOM).
pub fn looks_like_slk(data: &[u8]) -> bool {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    data.starts_with(b"ID;")
}

/// One XLM function of interest: its id (0x8000 = command equivalent) and name, and whether it
/// exists only in macro sheets (CHAR also works in worksheets).
#[derive(Debug, Clone, Copy)]
struct Func {
    id: u16,
    name: &'static str,
    macro_only: bool,
}

const fn f(id: u16, name: &'static str) -> Func {
    Func {
        id,
        name,
        macro_only: true,
    }
}

/// Ftab functions and Cetab commands (0x8000 |) that macro droppers use or that mark a macro.
const FUNCS: &[Func] = &[
    f(0x0035, "GOTO"),
    f(0x0036, "HALT"),
    f(0x0054, "ERROR"),
    f(0x0058, "SET.NAME"),
    f(0x006C, "SET.VALUE"),
    f(0x006E, "EXEC"),
    Func {
        id: 0x006F,
        name: "CHAR",
        macro_only: false,
    },
    f(0x007B, "DIRECTORY"),
    f(0x0084, "FOPEN"),
    f(0x0085, "FCLOSE"),
    f(0x0087, "FREADLN"),
    f(0x0088, "FREAD"),
    f(0x0089, "FWRITELN"),
    f(0x008A, "FWRITE"),
    f(0x0095, "REGISTER"),
    f(0x0096, "CALL"),
    f(0x00A6, "FILES"),
    f(0x00AF, "INITIATE"),
    f(0x00B0, "REQUEST"),
    f(0x00B1, "POKE"),
    f(0x00B2, "EXECUTE"),
    f(0x00B9, "GET.CELL"),
    f(0x00BA, "GET.WORKSPACE"),
    f(0x00BB, "GET.WINDOW"),
    f(0x00BC, "GET.DOCUMENT"),
    f(0x00C9, "UNREGISTER"),
    f(0x0101, "EVALUATE"),
    f(0x010B, "REGISTER.ID"),
    f(0x010C, "GET.WORKBOOK"),
    f(0x8001, "OPEN"),
    f(0x8005, "SAVE.AS"),
    f(0x8006, "FILE.DELETE"),
    f(0x8010, "CLOSE"),
    f(0x8011, "RUN"),
    f(0x805D, "HIDE"),
    f(0x805E, "UNHIDE"),
    f(0x8060, "FORMULA"),
    f(0x8061, "FORMULA.FILL"),
    f(0x8062, "FORMULA.ARRAY"),
    f(0x8076, "ALERT"),
    f(0x8083, "SEND.KEYS"),
    f(0x8090, "FILE.CLOSE"),
    f(0x8094, "ON.TIME"),
    f(0x8095, "WAIT"),
    f(0x80A5, "ERROR"),
    f(0x80A8, "ON.KEY"),
    f(0x80AD, "APP.MAXIMIZE"),
    f(0x817F, "WORKBOOK.HIDE"),
    f(0x81D7, "ON.SHEET"),
];

fn func_by_id(id: u16) -> Option<&'static Func> {
    FUNCS.iter().find(|f| f.id == id)
}

/// By name as written in formula text (`_xlfn.` prefix and a trailing `?` dropped).
fn func_by_name(name: &str) -> Option<&'static Func> {
    let mut name = name.strip_suffix('?').unwrap_or(name);
    for prefix in ["_xlfn.", "_xlws."] {
        if name.len() > prefix.len() && name[..prefix.len()].eq_ignore_ascii_case(prefix) {
            name = &name[prefix.len()..];
        }
    }
    FUNCS.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

/// The auto-run name to report for a defined name, if it is one: `Auto_Open`/`Auto_Close` for
/// the built-in `_xlnm.` forms, else the name as written when, letters and `_` only, it begins
/// `auto_open`/`auto_close` (junk characters between the letters do not hide it).
fn auto_name(name: &str) -> Option<String> {
    let name = cut_chars(name, 1024);
    let folded: String = name
        .chars()
        .filter(|c| c.is_ascii_alphabetic() || *c == '_' || *c == '.')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    for (key, shown) in [("auto_open", "Auto_Open"), ("auto_close", "Auto_Close")] {
        if folded == format!("_xlnm.{key}") {
            return Some(shown.to_string());
        }
        let bare = folded.strip_prefix("_xlnm.").unwrap_or(&folded);
        if bare.starts_with(key) {
            return Some(clean(name));
        }
    }
    None
}

/// Substrings that make a macro-sheet string worth reporting (ASCII, lowercase).
const INDICATORS: &[&str] = &[
    "urldownloadtofile",
    "regsvr32",
    "rundll32",
    "powershell",
    "pwsh",
    "mshta",
    "cmd.exe",
    "cmd /c",
    "wscript",
    "cscript",
    "certutil",
    "bitsadmin",
    "shellexecute",
    "winexec",
    "createprocess",
    "virtualalloc",
    "createthread",
    "writeprocessmemory",
    "rtlmovememory",
    "rtlcopymemory",
    "dllregisterserver",
    "urlmon",
    "kernel32",
    "shell32",
    "http://",
    "https://",
    "ftp://",
];

/// File extensions that name something runnable.
const EXTENSIONS: &[&str] = &[
    ".dll", ".exe", ".ocx", ".scr", ".hta", ".vbs", ".bat", ".ps1", ".cpl", ".jse",
];

/// Byte offset of the first indicator in `s`, if any.
fn indicator_at(s: &str) -> Option<usize> {
    let lower = s.to_ascii_lowercase();
    let mut best: Option<usize> = None;
    for needle in INDICATORS {
        if let Some(i) = lower.find(needle) {
            best = Some(best.map_or(i, |b| b.min(i)));
        }
    }
    let bytes = lower.as_bytes();
    let name_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    for ext in EXTENSIONS {
        let mut from = 0;
        while let Some(i) = lower.get(from..).and_then(|t| t.find(ext)) {
            let at = from + i;
            let end = at + ext.len();
            let before = at > 0 && name_char(bytes[at - 1]);
            let after = bytes.get(end).is_none_or(|b| !b.is_ascii_alphanumeric());
            if before && after {
                let start = lower[..at]
                    .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                    .map_or(0, |p| p + 1);
                best = Some(best.map_or(start, |b| b.min(start)));
                break;
            }
            from = end;
        }
    }
    best
}

/// At most [`MAX_STRING_CHARS`] characters of `s`, starting a little before byte `hit` when `s`
/// is longer; control characters shown as `.`.
fn excerpt(s: &str, hit: usize) -> String {
    if s.chars().count() <= MAX_STRING_CHARS {
        return clean(s);
    }
    let mut start = hit.saturating_sub(40).min(s.len());
    while !s.is_char_boundary(start) {
        start -= 1;
    }
    clean(cut_chars(&s[start..], MAX_STRING_CHARS))
}

fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '.' } else { c })
        .collect()
}

/// The first `n` characters of `s`.
fn cut_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Formula text (OOXML `<f>`, SYLK `E`): the functions it calls and its string constants.
/// `"` strings (`""` inside) and `'` quoted sheet names are read as such; a name counts as a
/// call when `(` (after an optional `?`) follows it.
fn scan_formula_text(report: &mut XlmReport, text: &str) {
    let text = cut_chars(text, MAX_EXAMINED);
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'"' || c == b'\'' {
            let mut lit = Vec::new();
            i += 1;
            while i < b.len() {
                if b[i] == c {
                    if b.get(i + 1) == Some(&c) {
                        lit.push(c);
                        i += 2;
                        continue;
                    }
                    break;
                }
                lit.push(b[i]);
                i += 1;
            }
            i += 1;
            if c == b'"' {
                report.consider_string(&String::from_utf8_lossy(&lit));
            }
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                i += 1;
            }
            let mut end = i;
            if b.get(i) == Some(&b'?') {
                end = i + 1;
            }
            if b.get(end) == Some(&b'(')
                && let Some(f) = func_by_name(&text[start..end])
            {
                report.add_function(f.name);
            }
        } else {
            i += 1;
        }
    }
}
