//! DDE fields and DDE formula injection (spec §2.14).
//!
//! - Word binary (`WordDocument` stream): field begin 0x13, separator 0x14, end 0x15; the instruction
//!   text (between begin and separator/end) may be 8-bit (CP1252) or UTF-16LE.
//! - WordprocessingML (DOCX parts, Word 2003 XML, Flat OPC): `w:instrText` runs between
//!   `w:fldChar` begin and separate/end, and `w:fldSimple/@w:instr`.
//! - SpreadsheetML: XLSX `ddeLink` (ddeService/ddeTopic), Excel 2003 `ss:Formula`, `<f>` cells.
//! - CSV/SYLK: cells starting with `=`, `+`, `-` or `@` holding `app|'args'!ref`.
//!
//! Every function is pure, linear in its input, never panics, and returns at most
//! [`MAX_FIELDS`] fields of at most [`MAX_FIELD_CHARS`] characters each.

use regex::Regex;
use std::sync::LazyLock;

/// Most fields any one call returns.
pub const MAX_FIELDS: usize = 100;
/// Longest instruction kept (msodde ignores text past 1000 characters of a field, too).
pub const MAX_FIELD_CHARS: usize = 1000;
/// Field nesting deeper than this is counted but not collected.
const MAX_DEPTH: usize = 32;
/// Bytes of a CSV cell (or of the rest of its line) that are looked at.
const CSV_WINDOW: usize = 4096;

/// One DDE field or DDE formula.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdeField {
    /// The instruction, whitespace collapsed, at most [`MAX_FIELD_CHARS`] characters:
    /// `DDEAUTO c:\\windows\\system32\\cmd.exe "/k calc.exe"`, `cmd|'/c calc'` (XLSX ddeLink)
    /// or `=cmd|'/c calc'!A0` (a formula).
    pub instruction: String,
    /// The Word field keyword is DDEAUTO (runs on open). Always false for spreadsheet/CSV formulas
    /// and ddeLinks, which carry no keyword.
    pub auto: bool,
}

fn re(pat: &str) -> Regex {
    Regex::new(pat).expect("static pattern compiles")
}

/// `app|'args'!ref`, anywhere in a formula.
static DDE_FORMULA: LazyLock<Regex> = LazyLock::new(|| {
    re(r"([A-Za-z0-9_.\\:$~-]+)\s*\|\s*'(?:[^']|'')*'\s*!(?:'[^']*'|[A-Za-z0-9$:_.]*)")
});

static DANGEROUS: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?i)(?:^|[^a-z0-9_])",
        r"(?:cmd|powershell|pwsh|mshta|regsvr32|rundll32|certutil|wscript|cscript|msiexec)",
        r"(?:$|[^a-z0-9_])"
    ))
});

/// The instruction names a program that makes the DDE field critical (spec §2.14).
pub fn is_dangerous(field: &DdeField) -> bool {
    DANGEROUS.is_match(&field.instruction)
}

/// Collapse whitespace and control characters to single spaces, trim, cap the length.
fn collapse(raw: &str) -> String {
    let mut out = String::new();
    for word in raw.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if out.len() >= 4 * MAX_FIELD_CHARS {
            break; // already more characters than are kept
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    let capped: String = out.chars().take(MAX_FIELD_CHARS).collect();
    capped.trim_end().to_string()
}

/// A Word field instruction that is DDE or DDEAUTO, as a field.
fn word_field(raw: &str) -> Option<DdeField> {
    let instruction = collapse(raw);
    let keyword: String = instruction
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '\\' && *c != '"')
        .take(8)
        .collect();
    let auto = if keyword.eq_ignore_ascii_case("ddeauto") {
        true
    } else if keyword.eq_ignore_ascii_case("dde") {
        false
    } else {
        return None;
    };
    Some(DdeField { instruction, auto })
}

fn push_field(out: &mut Vec<DdeField>, field: Option<DdeField>) {
    if let Some(f) = field
        && out.len() < MAX_FIELDS
    {
        out.push(f);
    }
}

// ---------------------------------------------------------------------------------------------
// Word binary
// ---------------------------------------------------------------------------------------------

/// Open fields, innermost last: the instruction so far and whether it is still before the
/// separator. Nesting past [`MAX_DEPTH`] is counted, not collected.
#[derive(Default)]
struct Nest<T> {
    stack: Vec<(Vec<T>, bool)>,
    overflow: usize,
}

impl<T> Nest<T> {
    fn begin(&mut self) {
        if self.stack.len() < MAX_DEPTH {
            self.stack.push((Vec::new(), true));
        } else {
            self.overflow += 1;
        }
    }

    fn separate(&mut self) {
        if self.overflow == 0
            && let Some(top) = self.stack.last_mut()
        {
            top.1 = false;
        }
    }

    fn end(&mut self) -> Option<Vec<T>> {
        if self.overflow > 0 {
            self.overflow -= 1;
            return None;
        }
        self.stack.pop().map(|f| f.0)
    }

    /// The instruction buffer that text goes to, if any (below `cap` units).
    fn text(&mut self, cap: usize) -> Option<&mut Vec<T>> {
        let top = self.stack.last_mut().filter(|_| self.overflow == 0)?;
        (top.1 && top.0.len() < cap).then_some(&mut top.0)
    }
}

/// Fields in code units (bytes or UTF-16LE units); fields never closed still count.
fn scan<T: Copy + Default + Into<u32>>(
    units: impl Iterator<Item = T>,
    decode: impl Fn(&[T]) -> String,
    out: &mut Vec<DdeField>,
) {
    let mut nest = Nest::default();
    for u in units {
        match u.into() {
            0x13 => nest.begin(),
            0x14 => nest.separate(),
            0x15 => {
                if let Some(t) = nest.end() {
                    push_field(out, word_field(&decode(&t)));
                }
            }
            _ => {
                if let Some(t) = nest.text(MAX_FIELD_CHARS) {
                    t.push(u);
                }
            }
        }
    }
    for (t, _) in nest.stack {
        push_field(out, word_field(&decode(&t)));
    }
}

/// DDE/DDEAUTO fields in a Word binary `WordDocument` stream. The stream is scanned as 8-bit
/// (CP1252) text and as UTF-16LE at both byte alignments, so no piece table is needed.
pub fn word_binary(word_document: &[u8]) -> Vec<DdeField> {
    let mut out = Vec::new();
    let cp1252 = |b: &[u8]| {
        let text = encoding_rs::WINDOWS_1252.decode_without_bom_handling(b).0;
        text.into_owned()
    };
    scan(word_document.iter().copied(), cp1252, &mut out);
    for align in 0..2 {
        let units = word_document.get(align..).unwrap_or(&[]).chunks_exact(2);
        let utf16 = |u: &[u16]| String::from_utf16_lossy(u);
        scan(
            units.map(|p| u16::from_le_bytes([p[0], p[1]])),
            utf16,
            &mut out,
        );
    }
    out
}

// ---------------------------------------------------------------------------------------------
// A small, lenient XML tokenizer (no DTDs, no validation)
// ---------------------------------------------------------------------------------------------

enum Tok<'a> {
    /// Local name (prefix dropped), raw attribute text, self-closing.
    Start(&'a str, &'a str, bool),
    End(&'a str),
    /// Raw text (entities still encoded) and whether it came from CDATA.
    Text(&'a str, bool),
}

struct Xml<'a> {
    s: &'a str,
    pos: usize,
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn find_from(s: &str, from: usize, pat: &str) -> Option<usize> {
    s.get(from..)?.find(pat).map(|i| i + from)
}

impl<'a> Iterator for Xml<'a> {
    type Item = Tok<'a>;

    fn next(&mut self) -> Option<Tok<'a>> {
        let s = self.s;
        let b = s.as_bytes();
        loop {
            let p = self.pos;
            if p >= b.len() {
                return None;
            }
            if b[p] != b'<' {
                let end = memchr::memchr(b'<', &b[p..]).map_or(b.len(), |i| p + i);
                self.pos = end;
                return Some(Tok::Text(s.get(p..end)?, false));
            }
            let rest = &b[p..];
            if rest.starts_with(b"<!--") {
                self.pos = find_from(s, p + 4, "-->").map_or(b.len(), |i| i + 3);
                continue;
            }
            if rest.starts_with(b"<![CDATA[") {
                let end = find_from(s, p + 9, "]]>").unwrap_or(b.len());
                self.pos = (end + 3).min(b.len());
                return Some(Tok::Text(s.get(p + 9..end)?, true));
            }
            if rest.starts_with(b"<?") {
                self.pos = find_from(s, p + 2, "?>").map_or(b.len(), |i| i + 2);
                continue;
            }
            if rest.starts_with(b"<!") || rest.starts_with(b"</") {
                let end = memchr::memchr(b'>', rest).map_or(b.len(), |i| p + i);
                self.pos = (end + 1).min(b.len());
                if rest.starts_with(b"<!") {
                    continue;
                }
                return Some(Tok::End(local(s.get(p + 2..end)?.trim())));
            }
            // Start tag: the name, then attributes (quote-aware) up to '>'.
            let mut i = p + 1;
            while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>') {
                i += 1;
            }
            let name = s.get(p + 1..i)?;
            let attrs_start = i;
            let mut quote = 0u8;
            while i < b.len() {
                let c = b[i];
                if quote != 0 {
                    if c == quote {
                        quote = 0;
                    }
                } else if c == b'"' || c == b'\'' {
                    quote = c;
                } else if c == b'>' {
                    break;
                }
                i += 1;
            }
            let self_close = i > attrs_start && b.get(i - 1) == Some(&b'/');
            let attrs_end = if self_close { i - 1 } else { i };
            self.pos = (i + 1).min(b.len());
            return Some(Tok::Start(
                local(name),
                s.get(attrs_start..attrs_end.max(attrs_start))?,
                self_close,
            ));
        }
    }
}

/// Each attribute of a raw attribute string as (local name, raw value).
fn attributes(raw: &str) -> impl Iterator<Item = (&str, &str)> {
    let b = raw.as_bytes();
    let mut i = 0usize;
    std::iter::from_fn(move || {
        loop {
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
                i += 1;
            }
            if i >= b.len() {
                return None;
            }
            let name_start = i;
            while i < b.len() && !matches!(b[i], b'=' | b' ' | b'\t' | b'\r' | b'\n') {
                i += 1;
            }
            let name = raw.get(name_start..i)?;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if b.get(i) != Some(&b'=') {
                continue; // attribute without a value
            }
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let q = *b.get(i)?;
            if q != b'"' && q != b'\'' {
                continue;
            }
            let vstart = i + 1;
            let vend = memchr::memchr(q, b.get(vstart..)?).map_or(b.len(), |k| vstart + k);
            i = (vend + 1).min(b.len());
            return Some((local(name), raw.get(vstart..vend)?));
        }
    })
}

fn attr<'r>(raw: &'r str, name: &str) -> Option<&'r str> {
    attributes(raw)
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Decode the XML predefined entities and character references; unknown ones stay as written.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let semi = tail.as_bytes().iter().take(12).position(|&c| c == b';');
        let decoded = semi.and_then(|k| {
            let ent = &tail[1..k];
            let c = match ent {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let num = ent.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse::<u32>().ok()?,
                    };
                    char::from_u32(code)
                }
            }?;
            Some((c, k + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &tail[len..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------------------------------------
// WordprocessingML
// ---------------------------------------------------------------------------------------------

/// DDE/DDEAUTO fields in WordprocessingML: DOCX `word/document.xml` (headers, footers, …),
/// Word 2003 XML and Flat OPC. Complex fields (`w:fldChar` + `w:instrText`) and `w:fldSimple`.
pub fn wordprocessing_xml(xml: &str) -> Vec<DdeField> {
    let mut out = Vec::new();
    let mut nest: Nest<u8> = Nest::default();
    let mut in_instr = false;
    let emit = |out: &mut Vec<DdeField>, t: &[u8]| {
        push_field(out, word_field(&String::from_utf8_lossy(t)))
    };
    for tok in (Xml { s: xml, pos: 0 }) {
        match tok {
            Tok::Start("fldChar", attrs, _) => match attr(attrs, "fldCharType").unwrap_or("") {
                "begin" => nest.begin(),
                "separate" => nest.separate(),
                "end" => {
                    if let Some(t) = nest.end() {
                        emit(&mut out, &t);
                    }
                }
                _ => {}
            },
            Tok::Start("instrText", _, self_close) => in_instr = !self_close,
            Tok::End("instrText") => in_instr = false,
            Tok::Start("fldSimple", attrs, _) => {
                if let Some(instr) = attr(attrs, "instr") {
                    push_field(&mut out, word_field(&unescape(instr)));
                }
            }
            Tok::Text(text, cdata) if in_instr => {
                if let Some(t) = nest.text(4 * MAX_FIELD_CHARS) {
                    let text = if cdata {
                        text.to_string()
                    } else {
                        unescape(text)
                    };
                    t.extend_from_slice(text.as_bytes());
                }
            }
            _ => {}
        }
    }
    for (t, _) in nest.stack {
        emit(&mut out, &t);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Spreadsheets and CSV
// ---------------------------------------------------------------------------------------------

/// A formula holding `app|'args'!ref`, kept whole.
fn formula_field(formula: &str) -> Option<DdeField> {
    if formula.contains('|') && DDE_FORMULA.is_match(formula) {
        Some(DdeField {
            instruction: collapse(formula),
            auto: false,
        })
    } else {
        None
    }
}

/// SUPBOOK (BIFF8 0x01AE) and BrtSupBook (BIFF12 0x0168) records of an external DDE link.
const SUPBOOK: u16 = 0x01AE;
const BRT_SUP_BOOK: u16 = 0x0168;
/// Records looked at in one workbook stream before giving up on finding more links.
const MAX_LINK_RECORDS: usize = 1 << 20;

/// DDE links in a BIFF8 `Workbook` stream: a SUPBOOK whose virtual path is `service 0x03 topic`
/// (MS-XLS 2.5.277 VirtualPath) → `service|'topic'`, as Excel shows it.
pub fn biff_supbooks(workbook: &[u8]) -> Vec<DdeField> {
    let mut out = Vec::new();
    let mut pos = 0;
    for _ in 0..MAX_LINK_RECORDS {
        let Ok(Some(rec)) = crate::xlm::biff::record_at(workbook, pos) else {
            break;
        };
        pos += 4 + rec.body.len();
        if out.len() >= MAX_FIELDS {
            break;
        }
        if rec.ty != SUPBOOK {
            continue;
        }
        // ctab u16, then an XLUnicodeString: cch u16, flags u8 (bit 0: UTF-16LE), characters.
        // A DDE (or OLE) source has no sheets (ctab 0); an external workbook has, and its path
        // uses 0x03 as the directory separator (`\x01\x02TCM\x03Reports\x03…`).
        let body = rec.body;
        let (Some(cch), Some(&flags)) = (body.get(2..4), body.get(4)) else {
            continue;
        };
        if body[..2] != [0, 0] {
            continue;
        }
        let cch = usize::from(u16::from_le_bytes([cch[0], cch[1]]));
        let chars = &body[5.min(body.len())..];
        let path: String = if flags & 1 == 1 {
            let units = chars
                .chunks_exact(2)
                .take(cch)
                .map(|c| u16::from_le_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .map(|c| c.unwrap_or('\u{FFFD}'))
                .collect()
        } else {
            chars.iter().take(cch).map(|&b| char::from(b)).collect()
        };
        push_link(&mut out, &path, '\u{3}');
    }
    out
}

/// DDE links in an XLSB part (`xl/externalLinks/externalLinkN.bin`): a BrtSupBook with sbt 1
/// (DDE), followed by the service and topic as XLWideStrings.
pub fn xlsb_supbooks(part: &[u8]) -> Vec<DdeField> {
    let mut out = Vec::new();
    for (ty, body) in crate::xlm::xlsb::Records::new(part) {
        if ty != BRT_SUP_BOOK || body.get(..2) != Some(&[1, 0]) {
            continue;
        }
        let Some((service, next)) = wide_string(body, 2) else {
            continue;
        };
        let topic = wide_string(body, next).map(|(t, _)| t).unwrap_or_default();
        push_link(&mut out, &format!("{service}\u{3}{topic}"), '\u{3}');
        if out.len() >= MAX_FIELDS {
            break;
        }
    }
    out
}

/// An XLWideString (u32 character count, UTF-16LE) at `at`, and the offset after it.
fn wide_string(b: &[u8], at: usize) -> Option<(String, usize)> {
    let cch = usize::try_from(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?)).ok()?;
    let end = at.checked_add(4)?.checked_add(cch.checked_mul(2)?)?;
    let units = b
        .get(at + 4..end)?
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    let text = char::decode_utf16(units)
        .map(|c| c.unwrap_or('\u{FFFD}'))
        .collect();
    Some((text, end))
}

/// `service<sep>topic` → `service|'topic'`; paths without the separator are file links, not DDE.
fn push_link(out: &mut Vec<DdeField>, path: &str, sep: char) {
    if let Some((service, topic)) = path.split_once(sep)
        && !service.trim().is_empty()
    {
        push_field(
            out,
            Some(DdeField {
                instruction: collapse(&format!("{service}|'{topic}'")),
                auto: false,
            }),
        );
    }
}

/// DDE in SpreadsheetML: XLSX `ddeLink` (`xl/externalLinks/externalLinkN.xml`) → `service|'topic'`,
/// and any `Formula` attribute (Excel 2003 XML) or `<f>`/`<Formula>` element holding
/// `app|'args'!ref`.
pub fn spreadsheet_xml(xml: &str) -> Vec<DdeField> {
    let mut out = Vec::new();
    let mut formula: Option<String> = None;
    for tok in (Xml { s: xml, pos: 0 }) {
        if out.len() >= MAX_FIELDS {
            break;
        }
        match tok {
            Tok::Start(name, attrs, self_close) => {
                if name == "ddeLink" {
                    let service = unescape(attr(attrs, "ddeService").unwrap_or(""));
                    let topic = unescape(attr(attrs, "ddeTopic").unwrap_or(""));
                    if !service.trim().is_empty() || !topic.trim().is_empty() {
                        push_field(
                            &mut out,
                            Some(DdeField {
                                instruction: collapse(&format!("{service}|'{topic}'")),
                                auto: false,
                            }),
                        );
                    }
                }
                for (n, v) in attributes(attrs) {
                    if n.eq_ignore_ascii_case("formula") {
                        push_field(&mut out, formula_field(&unescape(v)));
                    }
                }
                if (name == "f" || name.eq_ignore_ascii_case("formula")) && !self_close {
                    formula = Some(String::new());
                }
            }
            Tok::End(name) => {
                if (name == "f" || name.eq_ignore_ascii_case("formula"))
                    && let Some(f) = formula.take()
                {
                    push_field(&mut out, formula_field(&f));
                }
            }
            Tok::Text(text, cdata) => {
                if let Some(f) = formula.as_mut()
                    && f.len() < CSV_WINDOW
                {
                    f.push_str(&if cdata {
                        text.to_string()
                    } else {
                        unescape(text)
                    });
                }
            }
        }
    }
    out
}

/// A CSV cell starting with a formula trigger that holds `app|'args'!ref`.
fn csv_cell(cell: &str) -> Option<DdeField> {
    let t = cell.trim_start();
    if !t.starts_with(['=', '+', '-', '@']) {
        return None;
    }
    formula_field(t)
}

/// An unquoted formula cell whose `'args'` holds a separator (`=cmd|'/c a, b'!A0`) runs on into
/// the next cells: the end of the formula within its line, if it closes there. Each search ends
/// at the first quote after the cell's own opening quote, so searches never overlap.
fn spill(text: &str, start: usize, cell_end: usize) -> Option<usize> {
    let b = text.as_bytes();
    let cell = text.get(start..cell_end)?;
    if !cell.trim_start().starts_with(['=', '+', '-', '@']) {
        return None;
    }
    let mut p = start + cell.find('|')? + 1;
    while matches!(b.get(p), Some(b' ' | b'\t')) {
        p += 1;
    }
    if b.get(p) != Some(&b'\'') {
        return None;
    }
    p += 1;
    loop {
        let k = p + memchr::memchr3(b'\'', b'\n', b'\r', b.get(p..)?)?;
        if b[k] != b'\'' {
            return None;
        }
        if b.get(k + 1) == Some(&b'\'') {
            p = k + 2;
            continue;
        }
        if k < cell_end {
            return None; // closed inside the cell: nothing spills
        }
        p = k + 1;
        break;
    }
    while matches!(b.get(p), Some(b' ' | b'\t')) {
        p += 1;
    }
    if b.get(p) != Some(&b'!') {
        return None;
    }
    p += 1;
    if b.get(p) == Some(&b'\'') {
        p += 1;
        p += memchr::memchr2(b'\'', b'\n', b.get(p..)?).unwrap_or(b.len() - p);
        if b.get(p) == Some(&b'\'') {
            p += 1;
        }
    } else {
        while b
            .get(p)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'$' | b':' | b'_' | b'.'))
        {
            p += 1;
        }
    }
    Some(p.min(b.len()))
}

/// DDE formula injection in CSV (comma, semicolon or tab separated, `"` quoting) and SYLK
/// (`C;…;E<formula>` records).
pub fn csv(text: &str) -> Vec<DdeField> {
    let mut out = Vec::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.starts_with("ID;") {
        for line in text.lines() {
            for part in line.split(';').skip(1) {
                if let Some(f) = part.strip_prefix('E') {
                    push_field(&mut out, formula_field(f));
                }
            }
        }
    }
    let b = text.as_bytes();
    let is_sep = |c: u8| matches!(c, b',' | b';' | b'\t' | b'\n' | b'\r');
    let mut i = 0usize;
    while i < b.len() && out.len() < MAX_FIELDS {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if b.get(i) == Some(&b'"') {
            // Quoted cell, `""` is a literal quote.
            let mut cell = String::new();
            i += 1;
            loop {
                let Some(k) = memchr::memchr(b'"', &b[i..]) else {
                    if cell.len() < CSV_WINDOW {
                        cell.push_str(text.get(i..).unwrap_or(""));
                    }
                    i = b.len();
                    break;
                };
                if cell.len() < CSV_WINDOW {
                    cell.push_str(text.get(i..i + k).unwrap_or(""));
                }
                i += k + 1;
                if b.get(i) == Some(&b'"') {
                    cell.push('"');
                    i += 1;
                } else {
                    break;
                }
            }
            while i < b.len() && !is_sep(b[i]) {
                i += 1;
            }
            push_field(&mut out, csv_cell(&cell));
        } else {
            let start = i;
            while i < b.len() && !is_sep(b[i]) {
                i += 1;
            }
            let cell = text.get(start..i).unwrap_or("");
            if let Some(f) = csv_cell(cell) {
                push_field(&mut out, Some(f));
            } else if let Some(end) = spill(text, start, i) {
                let formula = text.get(start..end).unwrap_or("").trim_start();
                push_field(&mut out, formula_field(formula));
                i = end;
                while i < b.len() && !is_sep(b[i]) {
                    i += 1;
                }
            }
        }
        i += 1; // the separator
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ole::OleFile;
    use crate::zip::Zip;

    const MSODDE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/office/oletools/msodde/"
    );
    const OOXML: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/office/oletools/ooxml/"
    );
    const AUTO: &str = r#"DDEAUTO c:\\windows\\system32\\cmd.exe "/k calc.exe""#;

    /// A corpus file; a missing one fails the test (the corpus is part of every checkout's setup).
    fn load(dir: &str, name: &str) -> Option<Vec<u8>> {
        let data = std::fs::read(format!("{dir}{name}"))
            .unwrap_or_else(|e| panic!("corpus file {dir}{name}: {e}"));
        Some(data)
    }

    /// Entries of a ZIP whose name satisfies `want`, decrypted with the corpus password.
    fn unzip(data: &[u8], want: impl Fn(&str) -> bool) -> Vec<String> {
        let zip = Zip::open(data, 1024).expect("zip opens");
        let picked: Vec<usize> = zip
            .entries
            .iter()
            .filter(|e| want(&e.name))
            .map(|e| e.index)
            .collect();
        let pw = Some(&b"infected-test"[..]);
        let read = |i| {
            String::from_utf8_lossy(&zip.clone().read(i, pw, 16 << 20).expect("reads").0)
                .into_owned()
        };
        picked.into_iter().map(read).collect()
    }

    fn word_stream(doc: &[u8]) -> Vec<u8> {
        let mut ole = OleFile::parse(doc).expect("ole parses");
        let path = ole
            .find_streams("WordDocument")
            .pop()
            .expect("WordDocument");
        ole.read_stream_prefix(&path, 64 << 20).expect("stream").0
    }

    fn critical_cmd(fields: &[DdeField], what: &str) {
        let ok = |f: &DdeField| {
            is_dangerous(f) && f.instruction.contains("cmd") && f.instruction.contains("calc")
        };
        assert!(fields.iter().any(ok), "{what}: {fields:?}");
    }

    #[test]
    fn dde_corpus_word() {
        for name in ["dde-test.docx", "dde-test.docm"] {
            let Some(data) = load(MSODDE, name) else {
                continue;
            };
            let xml = unzip(&data, |n| n == "word/document.xml");
            let fields = wordprocessing_xml(&xml[0]);
            // DDEAUTO + fldSimple DDE (both cmd) + `ddeauto ünicöde-test`; MACROBUTTON is no DDE.
            assert_eq!(fields.len(), 3, "{name}: {fields:?}");
            assert!(fields[0].auto && fields[0].instruction == AUTO);
            assert!(!fields[1].auto && fields[1].instruction == AUTO.replace("DDEAUTO", "DDE"));
            assert_eq!(fields.iter().filter(|f| is_dangerous(f)).count(), 2);
        }
        for name in [
            "dde-test-from-office2003.doc.zip",
            "dde-test-from-office2013-utf_16le-korean.doc.zip",
            "dde-test-from-office2016.doc.zip",
        ] {
            let Some(data) = load(MSODDE, name) else {
                continue;
            };
            let mut zip = Zip::open(&data, 1024).expect("zip opens");
            let (doc, _) = zip
                .read(0, Some(b"infected-test"), 16 << 20)
                .expect("reads");
            let fields = word_binary(&word_stream(&doc));
            critical_cmd(&fields, name);
            assert!(
                fields.iter().any(|f| f.auto && f.instruction == AUTO),
                "{name}"
            );
        }
        for (dir, name) in [
            (MSODDE, "dde-in-word2003.xml.zip"),
            (MSODDE, "dde-in-word2007.xml.zip"),
            (OOXML, "dde-in-word2003.xml.zip"),
        ] {
            let Some(data) = load(dir, name) else {
                continue;
            };
            let fields = wordprocessing_xml(&unzip(&data, |n| n.ends_with(".xml"))[0]);
            critical_cmd(&fields, name);
            assert!(fields[0].auto && fields[0].instruction == AUTO);
        }
    }

    #[test]
    fn dde_corpus_spreadsheets() {
        for name in ["dde-test.xlsx", "dde-test.xlsm"] {
            let Some(data) = load(MSODDE, name) else {
                continue;
            };
            let parts = unzip(&data, |n| {
                n.starts_with("xl/externalLinks/") && n.ends_with(".xml")
            });
            let fields: Vec<_> = parts.iter().flat_map(|x| spreadsheet_xml(x)).collect();
            assert_eq!(fields[0].instruction, "cmd|'/c calc.exe'", "{name}");
            assert!(is_dangerous(&fields[0]));
        }
        if let Some(data) = load(MSODDE, "dde-in-csv.csv") {
            let fields = csv(&String::from_utf8_lossy(&data));
            assert_eq!(
                fields[0].instruction,
                r"=cmd|'/k \..\..\..\Windows\System32\calc.exe'!A0"
            );
            assert!(is_dangerous(&fields[0]));
        }
        for dir in [MSODDE, OOXML] {
            if let Some(data) = load(dir, "dde-in-excel2003.xml") {
                let fields = spreadsheet_xml(&String::from_utf8_lossy(&data));
                assert_eq!(fields[0].instruction, "=cmd|'/c calc.exe'!A1");
                critical_cmd(&fields, "dde-in-excel2003.xml");
            }
        }
    }

    #[test]
    fn dde_corpus_harmless() {
        let mut xmls = Vec::new();
        for (dir, name) in [
            (MSODDE, "harmless-clean-2003.xml"),
            (MSODDE, "harmless-clean.xml"),
            (OOXML, "harmless-clean-2003.xml"),
            (OOXML, "harmless-clean.xml"),
        ] {
            xmls.extend(load(dir, name).map(|d| String::from_utf8_lossy(&d).into_owned()));
        }
        for name in ["harmless-clean.docx", "harmless-clean.docm"] {
            xmls.extend(
                load(MSODDE, name)
                    .map(|d| unzip(&d, |n| n.ends_with(".xml")))
                    .unwrap_or_default(),
            );
        }
        assert!(xmls.len() > 4);
        for xml in &xmls {
            assert!(wordprocessing_xml(xml).is_empty() && spreadsheet_xml(xml).is_empty());
        }
        if let Some(data) = load(MSODDE, "harmless-clean.doc") {
            assert!(word_binary(&word_stream(&data)).is_empty());
        }
    }

    #[test]
    fn dde_synthetic() {
        let xml = r#"<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:instrText> dde</w:instrText><w:instrText>AUTO  powershell &quot;-c x&quot; </w:instrText><w:fldChar w:fldCharType="end"/>"#;
        let f = wordprocessing_xml(xml);
        assert!(f.len() == 1 && f[0].auto && is_dangerous(&f[0]));
        assert_eq!(f[0].instruction, r#"ddeAUTO powershell "-c x""#);
        assert!(wordprocessing_xml(r#"<w:fldSimple w:instr=" PAGE "/>"#).is_empty());
        let wide: Vec<u8> = "\u{13} DDE mshta x\u{14}r\u{15}"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        for data in [wide.clone(), [&[0u8][..], &wide].concat()] {
            assert_eq!(word_binary(&data)[0].instruction, "DDE mshta x");
        }
        // The nested field does not leak into the outer instruction; long fields are capped.
        let f = word_binary(b"\x13DDEAUTO \x13 PAGE \x14 1\x15 cmd /c x\x14\x15");
        assert_eq!(
            f,
            [DdeField {
                instruction: "DDEAUTO cmd /c x".into(),
                auto: true
            }]
        );
        let long = [&b"\x13DDE "[..], &[b'a'; 5000]].concat();
        assert_eq!(
            word_binary(&long)[0].instruction.chars().count(),
            MAX_FIELD_CHARS
        );
        let c = csv("a,b\n1,\"=cmd|' /C calc'!A0\"\n2,@SUM(1)*cmd|'/c a, b'!'A1',x\n");
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].instruction, "=cmd|' /C calc'!A0");
        assert_eq!(c[1].instruction, "@SUM(1)*cmd|'/c a, b'!'A1'");
        assert!(csv("=1+2,-5,@name,+x|y").is_empty());
        assert!(is_dangerous(
            &csv("ID;P\nC;Y1;X1;K0;ECMD|' /C calc'!A0\nE\n")[0]
        ));
        let s = spreadsheet_xml(r"<c><f>MSEXCEL|'\..\Windows\System32\regsvr32 /s'!''</f></c>");
        assert!(s.len() == 1 && is_dangerous(&s[0]));
        assert!(!is_dangerous(&DdeField {
            instruction: "DDE command.com".into(),
            auto: false
        }));
    }

    const PIECES: &str = "<§>§/>§</§<w:instrText>§</w:instrText>§<w:fldChar w:fldCharType=\"begin\"/>§<w:fldChar w:fldCharType=\"separate\"/>§<w:fldChar w:fldCharType=\"end\"/>§<w:fldSimple w:instr=\"§\"§'§&§&#x§&#§;§&quot;§DDEAUTO §dde §cmd|'§'!A0§=§@§,§\n§|§!§ §<![CDATA[§]]>§<!--§-->§<?§?>§<f>§</f>§ss:Formula=\"§<ddeLink ddeService=\"§ ddeTopic='§ID;§;E§ü§한§\u{1F600}§\u{13}§\u{14}§\u{15}§\\";

    #[test]
    fn dde_robust_random() {
        let pieces: Vec<&str> = PIECES.split('§').collect();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        for _ in 0..3000 {
            let bytes: Vec<u8> = (0..next(400))
                .map(|_| match next(8) {
                    0..=2 => 0x13 + next(3) as u8,
                    3 => 0,
                    4 => b"DdEeAUTO c"[next(10)],
                    _ => next(256) as u8,
                })
                .collect();
            assert!(word_binary(&bytes).len() <= MAX_FIELDS);
            let mut text: String = (0..next(120)).map(|_| pieces[next(pieces.len())]).collect();
            text.push_str(&String::from_utf8_lossy(&bytes[..bytes.len().min(20)]));
            let all = [
                wordprocessing_xml(&text),
                spreadsheet_xml(&text),
                csv(&text),
            ]
            .concat();
            assert!(
                all.iter()
                    .all(|f| f.instruction.chars().count() <= MAX_FIELD_CHARS)
            );
            all.iter().for_each(|f| _ = is_dangerous(f));
        }
    }

    #[test]
    fn dde_caps_and_linear() {
        let t = std::time::Instant::now();
        assert_eq!(
            word_binary("\u{13}DDE cmd\u{15}".repeat(10_000).as_bytes()).len(),
            MAX_FIELDS
        );
        assert!(word_binary("\u{13}".repeat(200_000).as_bytes()).is_empty());
        assert!(csv(&"=a,".repeat(200_000)).is_empty() && csv(&"=a|',".repeat(200_000)).is_empty());
        assert!(csv(&"=a|'x,'!".repeat(100_000)).len() <= MAX_FIELDS);
        assert!(spreadsheet_xml(&"<f>a|'".repeat(100_000)).is_empty());
        assert!(spreadsheet_xml(&"<x a='".repeat(100_000)).is_empty());
        let xml = r#"<w:fldChar w:fldCharType="begin"/><w:instrText>DDE x</w:instrText>"#;
        assert!(wordprocessing_xml(&xml.repeat(50_000)).len() <= MAX_FIELDS);
        assert!(t.elapsed().as_secs() < 20);
    }

    /// XLSB external link (BrtSupBook sbt=1): `dde-test.xlsb` from msodde's samples.
    #[test]
    fn xlsb_supbook_dde_link() {
        let data = load(MSODDE, "dde-test.xlsb").expect("corpus");
        let mut zip = Zip::open(&data, 1024).expect("zip opens");
        let index = zip
            .entries
            .iter()
            .find(|e| e.name == "xl/externalLinks/externalLink1.bin")
            .expect("external link part")
            .index;
        let (part, _) = zip.read(index, None, 1 << 20).expect("part reads");
        let links = xlsb_supbooks(&part);
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].instruction, "cmd|'/c calc.exe'");
        assert!(is_dangerous(&links[0]));
        // A file link (sbt 0) is not DDE; cut records end the walk without a panic.
        let mut file_link = part.clone();
        file_link[3] = 0;
        assert!(xlsb_supbooks(&file_link).is_empty());
        for n in 0..part.len() {
            let _ = xlsb_supbooks(&part[..n]);
        }
    }

    /// BIFF8 SUPBOOK, built bytewise as Excel writes it (the VelvetSweatshop sample holds the same
    /// record once decrypted): ctab 0, cch 15, 8-bit `cmd\x03/c calc.exe`; then a UTF-16 one.
    #[test]
    fn biff_supbook_dde_link() {
        let mut stream = vec![0x09, 0x08, 0x00, 0x00]; // BOF, empty body
        let body = b"\x00\x00\x0f\x00\x00cmd\x03/c calc.exe";
        stream.extend_from_slice(&[0xAE, 0x01, body.len() as u8, 0]);
        stream.extend_from_slice(body);
        let wide: Vec<u8> = "mshta\u{3}http://x"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let mut body = vec![0, 0, 14, 0, 1];
        body.extend_from_slice(&wide);
        stream.extend_from_slice(&[0xAE, 0x01, body.len() as u8, 0]);
        stream.extend_from_slice(&body);
        // A self-reference SUPBOOK (cch 0x0401) is not a link, nor is an external workbook
        // (ctab 3) whose VirtualPath separates directories with 0x03 (calamine OOM_alloc.xls).
        stream.extend_from_slice(&[0xAE, 0x01, 4, 0, 1, 0, 1, 4]);
        let path = b"\x03\x00\x0b\x00\x00\x01\x02TCM\x03a.xls";
        stream.extend_from_slice(&[0xAE, 0x01, path.len() as u8, 0]);
        stream.extend_from_slice(path);
        let links = biff_supbooks(&stream);
        let got: Vec<&str> = links.iter().map(|l| l.instruction.as_str()).collect();
        assert_eq!(got, ["cmd|'/c calc.exe'", "mshta|'http://x'"]);
        for n in 0..stream.len() {
            let _ = biff_supbooks(&stream[..n]);
        }
    }
}
