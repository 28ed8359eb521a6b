//! DDE fields and formula injection (spec §2.14): Word binary and XML fields, Excel external DDE
//! links, spreadsheet XML, and `=cmd|'…'!A0` cells in CSV/text.

use kensa_core::{Finding, Severity};
use kensa_formats::dde::{self, DdeField};

use super::Output;
use crate::walk::Node;

/// One finding per field (at most 10): critical when it names a command interpreter or script host.
pub(crate) fn findings(node: &Node<'_>, part: Option<&str>, fields: &[DdeField], out: &mut Output) {
    let loc = match part {
        Some(p) => node.loc.child(p.to_string()),
        None => node.loc.clone(),
    };
    for f in fields.iter().take(10) {
        let severity = if dde::is_dangerous(f) {
            Severity::Critical
        } else {
            Severity::High
        };
        out.findings.push(Finding::new(
            "DDE_FIELD",
            severity,
            loc.clone(),
            f.instruction.clone(),
        ));
    }
}

/// Text files: Excel 2003 / Word 2003 XML by their namespaces, anything else as CSV-like cells.
pub(crate) fn text(node: &Node<'_>) -> Output {
    let mut out = Output::default();
    let text = String::from_utf8_lossy(node.data);
    let head: String = text.chars().take(4096).collect();
    let fields = if head.contains("urn:schemas-microsoft-com:office:spreadsheet") {
        dde::spreadsheet_xml(&text)
    } else if head.contains("schemas.microsoft.com/office/word/2003/wordml")
        || head.contains("schemas.openxmlformats.org/wordprocessingml")
        || head.contains("<pkg:package")
    {
        dde::wordprocessing_xml(&text)
    } else {
        dde::csv(&text)
    };
    findings(node, None, &fields, &mut out);
    out
}
