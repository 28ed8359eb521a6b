//! Macro sheets in OOXML (.xlsm/.xltm) and XLSB packages, fed one part at a time.
//!
//! Which part is a macro sheet, and what the workbook calls it, is spread over several parts:
//! `[Content_Types].xml` (override type `application/vnd.ms-excel.macrosheet[+xml]`), the
//! workbook's relationships (type `…/xlMacrosheet` or `…/xlIntlMacrosheet`), the workbook
//! (`<sheet name state r:id>` or BrtBundleSh) and the part itself (root `xm:macrosheet`). Parts
//! come in any order, so the facts are kept in [`PackageState`] and joined again after every
//! part; a sheet part whose kind is not yet known keeps its findings aside until it is.

use super::xlsb::{self, BRT_BEGIN_BOOK, BRT_BEGIN_SHEET};
use super::xml::{self, Event, Reader};
use super::{MAX_EXAMINED, MAX_SHEETS, SheetState, XlmReport, scan_formula_text};
use std::collections::{HashMap, HashSet};

/// Relationships kept per package.
const MAX_RELS: usize = 4096;
/// Sheet parts of unknown kind whose findings are kept aside.
const MAX_PENDING: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RelKind {
    Macro,
    Worksheet,
    Other,
}

#[derive(Debug, Clone)]
struct Rel {
    /// The part the relationship belongs to (normalized).
    source: String,
    id: String,
    kind: RelKind,
    /// The target part (normalized).
    target: String,
}

#[derive(Debug, Clone)]
struct BookSheet {
    /// The workbook part that lists it.
    book: String,
    name: String,
    state: SheetState,
    rel_id: String,
}

/// What the parts seen so far say about the package.
#[derive(Debug, Clone, Default)]
pub(super) struct PackageState {
    /// `macro_sheets.len()` and `hidden_worksheets` before the first part: the package's own
    /// entries come after them and are rebuilt on every part.
    base: Option<(usize, usize)>,
    /// Parts known to be macro sheets by their content type, root element or folder.
    macro_parts: Vec<String>,
    rels: Vec<Rel>,
    sheets: Vec<BookSheet>,
    /// Sheet parts not (yet) known to be macro sheets, with what they hold.
    pending: Vec<(String, XlmReport)>,
}

impl PackageState {
    fn add_macro_part(&mut self, path: &str) {
        if self.macro_parts.len() < MAX_SHEETS && !self.macro_parts.iter().any(|p| p == path) {
            self.macro_parts.push(path.to_string());
        }
    }

    /// A relationship names the part as some other kind of sheet, and nothing as a macro sheet:
    /// its formulas are not read (large worksheets cost time, and cannot call XLM).
    fn is_plain_sheet(&self, path: &str) -> bool {
        !self.is_macro_path(path)
            && self
                .rels
                .iter()
                .any(|r| r.kind != RelKind::Macro && r.target == path)
    }

    fn is_macro_path(&self, path: &str) -> bool {
        self.macro_parts.iter().any(|p| p == path)
            || self
                .rels
                .iter()
                .any(|r| r.kind == RelKind::Macro && r.target == path)
    }

    /// Findings of a sheet part: merged when the part is known to be a macro sheet, else kept
    /// aside until a content type or relationship says it is one ([`PackageState::join`]).
    fn found(&mut self, path: &str, findings: XlmReport, report: &mut XlmReport) {
        if self.is_macro_path(path) {
            report.absorb(&findings);
            return;
        }
        let empty = findings.functions.is_empty()
            && findings.strings.is_empty()
            && findings.anomalies.is_empty();
        self.pending.retain(|(p, _)| p != path);
        if !empty && self.pending.len() < MAX_PENDING {
            self.pending.push((path.to_string(), findings));
        }
    }

    /// Joins sheets, relationships and macro parts into the report's macro sheets and hidden
    /// worksheet count, and merges the findings of parts now known to be macro sheets.
    fn join(&mut self, report: &mut XlmReport) {
        let (base_sheets, base_hidden) = self.base.unwrap_or((0, 0));
        let mut macro_paths: Vec<&str> = Vec::new();
        let mut macro_set: HashSet<&str> = HashSet::new();
        let declared = self.rels.iter().filter(|r| r.kind == RelKind::Macro);
        for p in self
            .macro_parts
            .iter()
            .map(String::as_str)
            .chain(declared.map(|r| r.target.as_str()))
        {
            if macro_set.insert(p) {
                macro_paths.push(p);
            }
        }
        for (path, findings) in std::mem::take(&mut self.pending) {
            if macro_set.contains(path.as_str()) {
                report.absorb(&findings);
            } else {
                self.pending.push((path, findings));
            }
        }
        report.macro_sheets.truncate(base_sheets);
        report.hidden_worksheets = base_hidden;
        let by_id: HashMap<(&str, &str), &Rel> = self
            .rels
            .iter()
            .map(|r| ((r.source.as_str(), r.id.as_str()), r))
            .collect();
        let mut named: HashSet<&str> = HashSet::new();
        for s in &self.sheets {
            let rel = by_id.get(&(s.book.as_str(), s.rel_id.as_str()));
            let is_macro =
                rel.is_some_and(|r| r.kind == RelKind::Macro || macro_set.contains(&*r.target));
            if is_macro {
                report.add_macro_sheet(s.name.clone(), s.state);
                if let Some(r) = rel {
                    named.insert(&r.target);
                }
            } else if s.state.is_hidden() && rel.is_none_or(|r| r.kind == RelKind::Worksheet) {
                report.hidden_worksheets += 1;
            }
        }
        for p in macro_paths {
            if !named.contains(p) {
                report.add_macro_sheet(p.to_string(), SheetState::Visible);
            }
        }
    }
}

pub(super) fn scan_part(
    part_name: &str,
    content_type: Option<&str>,
    data: &[u8],
    report: &mut XlmReport,
) {
    let mut st = std::mem::take(&mut report.ooxml);
    st.base
        .get_or_insert((report.macro_sheets.len(), report.hidden_worksheets));
    let path = normalize(part_name);
    if content_type.is_some_and(is_macro_type) {
        st.add_macro_part(&path);
    }
    if path == "[content_types].xml" {
        content_types(&xml::decode(data), &mut st);
    } else if path.ends_with(".rels") {
        relationships(&path, &xml::decode(data), &mut st);
    } else if looks_like_xml(data) {
        let text = xml::decode(data);
        match xml::root(&text) {
            Some("workbook") => workbook_xml(&path, &text, &mut st, report),
            Some("macrosheet" | "intlmacrosheet") => {
                st.add_macro_part(&path);
                let mut findings = XlmReport::default();
                sheet_xml(&text, &mut findings);
                st.found(&path, findings, report);
            }
            Some("worksheet" | "dialogsheet") if !st.is_plain_sheet(&path) => {
                let mut findings = XlmReport::default();
                sheet_xml(&text, &mut findings);
                st.found(&path, findings, report);
            }
            _ => {}
        }
    } else {
        match xlsb::first_record(data) {
            Some(BRT_BEGIN_BOOK) => {
                let sheets = xlsb::scan_workbook(data, report);
                st.sheets.retain(|s| s.book != path);
                for s in sheets {
                    st.sheets.push(BookSheet {
                        book: path.clone(),
                        name: s.name,
                        state: SheetState::from_raw((s.raw_state & 0xFF) as u8),
                        rel_id: s.rel_id,
                    });
                }
            }
            Some(BRT_BEGIN_SHEET) if !st.is_plain_sheet(&path) || path.contains("macrosheets/") => {
                // XLSB names no sheet kind inside the part; Excel keeps macro sheets here.
                if path.contains("macrosheets/") {
                    st.add_macro_part(&path);
                }
                let mut findings = XlmReport::default();
                xlsb::scan_sheet(data, &mut findings);
                st.found(&path, findings, report);
            }
            _ => {}
        }
    }
    st.join(report);
    report.ooxml = st;
}

fn is_macro_type(ct: &str) -> bool {
    let ct = ct.trim().to_ascii_lowercase();
    ct.starts_with("application/vnd.ms-excel.macrosheet")
        || ct.starts_with("application/vnd.ms-excel.intlmacrosheet")
}

/// First meaningful byte is `<`, or a UTF-16 BOM.
fn looks_like_xml(data: &[u8]) -> bool {
    if data.starts_with(&[0xFF, 0xFE]) || data.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

/// A part name as a comparable key: `/` separators, no leading `/`, `.` and `..` resolved,
/// ASCII lowercase (part names compare case-insensitively).
fn normalize(name: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let name = name.replace('\\', "/");
    for seg in name.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/").to_ascii_lowercase()
}

/// `xl/_rels/workbook.xml.rels` → `xl/workbook.xml` (`_rels/.rels` → the package, "").
fn rels_source(path: &str) -> String {
    let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
    let file = file.strip_suffix(".rels").unwrap_or(file);
    let dir = match dir.strip_suffix("_rels") {
        Some(d) => d.trim_end_matches('/'),
        None => dir,
    };
    if dir.is_empty() {
        file.to_string()
    } else {
        format!("{dir}/{file}")
    }
}

fn content_types(text: &str, st: &mut PackageState) {
    for ev in Reader::new(text) {
        if let Event::Start {
            name: "Override",
            attrs,
            ..
        } = ev
            && let (Some(part), Some(ct)) = (
                xml::attr(attrs, "PartName", false),
                xml::attr(attrs, "ContentType", false),
            )
            && is_macro_type(&ct)
        {
            st.add_macro_part(&normalize(&part));
        }
    }
}

fn relationships(path: &str, text: &str, st: &mut PackageState) {
    let source = rels_source(path);
    let base = source.rsplit_once('/').map_or("", |(d, _)| d).to_string();
    st.rels.retain(|r| r.source != source);
    for ev in Reader::new(text) {
        let Event::Start {
            name: "Relationship",
            attrs,
            ..
        } = ev
        else {
            continue;
        };
        let external = xml::attr(attrs, "TargetMode", false)
            .is_some_and(|m| m.eq_ignore_ascii_case("external"));
        let (Some(id), Some(ty), Some(target)) = (
            xml::attr(attrs, "Id", false),
            xml::attr(attrs, "Type", false),
            xml::attr(attrs, "Target", false),
        ) else {
            continue;
        };
        if external || st.rels.len() >= MAX_RELS {
            continue;
        }
        let last = ty.rsplit('/').next().unwrap_or("").to_ascii_lowercase();
        let kind = match last.as_str() {
            "xlmacrosheet" | "xlintlmacrosheet" => RelKind::Macro,
            "worksheet" => RelKind::Worksheet,
            _ => RelKind::Other,
        };
        let target = if target.starts_with('/') || base.is_empty() {
            normalize(&target)
        } else {
            normalize(&format!("{base}/{target}"))
        };
        st.rels.push(Rel {
            source: source.clone(),
            id,
            kind,
            target,
        });
    }
}

fn workbook_xml(path: &str, text: &str, st: &mut PackageState, report: &mut XlmReport) {
    st.sheets.retain(|s| s.book != path);
    for ev in Reader::new(text) {
        let Event::Start { name, attrs, .. } = ev else {
            continue;
        };
        match name {
            "sheet" if st.sheets.len() < MAX_SHEETS => {
                let state = match xml::attr(attrs, "state", false).as_deref() {
                    None | Some("visible") => SheetState::Visible,
                    Some("hidden") => SheetState::Hidden,
                    Some("veryHidden") => SheetState::VeryHidden,
                    Some(_) => SheetState::Other(0xFF),
                };
                st.sheets.push(BookSheet {
                    book: path.to_string(),
                    name: xml::attr(attrs, "name", false).unwrap_or_default(),
                    state,
                    rel_id: xml::attr(attrs, "id", true).unwrap_or_default(),
                });
            }
            "definedName" => {
                if let Some(n) = xml::attr(attrs, "name", false) {
                    report.add_name(&n);
                }
            }
            _ => {}
        }
    }
}

/// What the text being collected belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Collect {
    Formula,
    Value,
}

/// A sheet part's formulas (`<f>`) and cell values (`<v>`, inline `<t>`).
fn sheet_xml(text: &str, report: &mut XlmReport) {
    let mut collecting: Option<Collect> = None;
    let mut buf = String::new();
    for ev in Reader::new(text) {
        match ev {
            Event::Start {
                name, empty: false, ..
            } => {
                collecting = match name {
                    "f" => Some(Collect::Formula),
                    "v" | "t" => Some(Collect::Value),
                    _ => None,
                };
                buf.clear();
            }
            Event::Text { raw, cdata } if collecting.is_some() && buf.len() < MAX_EXAMINED => {
                if cdata {
                    buf.push_str(raw);
                } else {
                    buf.push_str(&xml::unescape(raw));
                }
            }
            Event::End { name } => {
                match (collecting, name) {
                    (Some(Collect::Formula), "f") => scan_formula_text(report, &buf),
                    (Some(Collect::Value), "v" | "t") => report.consider_string(&buf),
                    _ => {}
                }
                collecting = None;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xlm_ooxml_paths() {
        assert_eq!(
            normalize("/xl/./MacroSheets/../macrosheets/Sheet1.xml"),
            "xl/macrosheets/sheet1.xml"
        );
        assert_eq!(normalize("[Content_Types].xml"), "[content_types].xml");
        assert_eq!(rels_source("xl/_rels/workbook.bin.rels"), "xl/workbook.bin");
        assert_eq!(rels_source("_rels/.rels"), "");
        assert_eq!(rels_source("a.rels"), "a");
        assert!(is_macro_type("application/vnd.ms-excel.macrosheet+xml"));
        assert!(is_macro_type("application/vnd.ms-excel.intlmacrosheet"));
        assert!(!is_macro_type("application/vnd.ms-excel.worksheet"));
    }

    /// Parts in the worst order: the sheet first, then the relationships, then the workbook.
    #[test]
    fn xlm_ooxml_any_order() {
        let mut r = XlmReport::default();
        let sheet = br#"<worksheet><sheetData><row><c><f>EXEC("rundll32.exe x.dll,Go")</f></c></row></sheetData></worksheet>"#;
        scan_ooxml_part_for_test("xl/worksheets/sheet9.xml", sheet, &mut r);
        assert!(r.macro_sheets.is_empty() && r.functions.is_empty());
        let rels = br#"<Relationships><Relationship Id="rId9" Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet" Target="worksheets/sheet9.xml"/><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet1.xml"/></Relationships>"#;
        scan_ooxml_part_for_test("xl/_rels/workbook.xml.rels", rels, &mut r);
        assert_eq!(r.macro_sheets.len(), 1);
        assert_eq!(r.macro_sheets[0].name, "xl/worksheets/sheet9.xml");
        assert_eq!(r.functions, ["EXEC"]);
        assert_eq!(r.strings, ["rundll32.exe x.dll,Go"]);
        let book = br#"<workbook><sheets><sheet name="S" r:id="rId1" state="hidden"/><sheet name="M" state="veryHidden" r:id="rId9"/></sheets><definedNames><definedName name="_xlnm.Auto_Open">M!$A$1</definedName></definedNames></workbook>"#;
        scan_ooxml_part_for_test("xl/workbook.xml", book, &mut r);
        assert_eq!(r.macro_sheets.len(), 1);
        assert_eq!(r.macro_sheets[0].name, "M");
        assert_eq!(r.macro_sheets[0].state, SheetState::VeryHidden);
        assert_eq!(r.hidden_worksheets, 1);
        assert_eq!(r.auto_open, ["Auto_Open"]);
        // Feeding a part again changes nothing.
        scan_ooxml_part_for_test("xl/workbook.xml", book, &mut r);
        assert_eq!((r.macro_sheets.len(), r.hidden_worksheets), (1, 1));
    }

    fn scan_ooxml_part_for_test(name: &str, data: &[u8], r: &mut XlmReport) {
        scan_part(name, None, data, r);
    }
}
