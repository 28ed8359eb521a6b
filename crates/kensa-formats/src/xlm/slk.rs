//! SYLK: text records, one a line, fields separated by `;` (`;;` is a literal `;`).
//!
//! `ID;P<program>` opens the file; `C;…;E<formula>` is a cell formula and `C;…;K<value>` its
//! value; `NN;N<name>;E<formula>` defines a name; an `O` record with a bare `E` field marks a
//! macro sheet (Excel writes `O;L;D;…` for a worksheet, `O;L;E;D;…` for a macro sheet). Excel
//! runs the formulas of an SLK opened as a macro sheet, so the file counts as one macro sheet
//! when that marker, an XLM-only function or an auto-run name is there.

use super::{MAX_RECORDS, SheetState, XlmReport, cut_chars, func_by_name, scan_formula_text};
use encoding_rs::WINDOWS_1252;

/// Longest line read (the rest of a longer line is ignored).
const MAX_LINE: usize = 1 << 20;

/// The fields of a record after its type, `;;` turned into `;`.
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ';' {
            if chars.peek() == Some(&';') {
                chars.next();
                cur.push(';');
            } else {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

pub(super) fn scan(data: &[u8]) -> XlmReport {
    let mut report = XlmReport::default();
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    if !super::looks_like_slk(data) {
        report.note("not a SYLK file (no ID record first)");
        return report;
    }
    let mut marked = false;
    for (lines, raw) in data.split(|&b| b == b'\n').enumerate() {
        if lines >= MAX_RECORDS {
            report.note(format!("SYLK walk stopped after {MAX_RECORDS} records"));
            break;
        }
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let raw = &raw[..raw.len().min(MAX_LINE)];
        let (line, _) = WINDOWS_1252.decode_without_bom_handling(raw);
        let mut parts = fields(&line).into_iter();
        let kind = parts.next().unwrap_or_default();
        match kind.as_str() {
            "C" => {
                for f in parts {
                    if let Some(formula) = f.strip_prefix('E') {
                        scan_formula_text(&mut report, formula);
                    } else if let Some(value) = f.strip_prefix('K')
                        && let Some(text) = value.strip_prefix('"')
                    {
                        report.consider_string(text.strip_suffix('"').unwrap_or(text));
                    }
                }
            }
            "NN" => {
                for f in parts {
                    if let Some(name) = f.strip_prefix('N') {
                        report.add_name(cut_chars(name, 1024));
                    } else if let Some(formula) = f.strip_prefix('E') {
                        scan_formula_text(&mut report, formula);
                    }
                }
            }
            "O" => marked |= parts.any(|f| f == "E"),
            "E" => break,
            _ => {}
        }
    }
    let xlm_only = report
        .functions
        .iter()
        .any(|n| func_by_name(n).is_some_and(|f| f.macro_only));
    if marked || xlm_only || !report.auto_open.is_empty() {
        report.add_macro_sheet("SYLK".to_string(), SheetState::Visible);
    }
    report
}
