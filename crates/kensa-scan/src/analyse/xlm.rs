//! Excel 4.0 (XLM) macros: macro sheets in BIFF, OOXML/XLSB packages and SYLK (spec §2.4).

use kensa_core::{Finding, Severity};
use kensa_formats::xlm::{SheetState, XlmReport};

use super::Output;
use crate::walk::Node;

/// Functions that run, load, write or download: with an automatic start, the sheet is critical.
const DANGEROUS: &[&str] = &[
    "EXEC",
    "CALL",
    "REGISTER",
    "REGISTER.ID",
    "RUN",
    "FORMULA",
    "FORMULA.FILL",
    "FOPEN",
    "FWRITE",
];
const DANGEROUS_STRINGS: &[&str] = &["urldownloadtofile", "regsvr32", "rundll32"];

fn state(s: &SheetState) -> String {
    match s {
        SheetState::Visible => "visible".into(),
        SheetState::Hidden => "hidden".into(),
        SheetState::VeryHidden => "very hidden".into(),
        SheetState::Other(v) => format!("state {v}"),
    }
}

/// Findings from what the XLM scan saw on this node.
pub(crate) fn findings(node: &Node<'_>, report: &XlmReport, out: &mut Output) {
    if report.macro_sheets.is_empty() {
        return;
    }
    let sheets: Vec<String> = report
        .macro_sheets
        .iter()
        .take(10)
        .map(|s| format!("{} ({})", s.name, state(&s.state)))
        .collect();
    let mut evidence = format!("macro sheet(s): {}", sheets.join(", "));
    if !report.auto_open.is_empty() {
        evidence.push_str(&format!("; auto-start: {}", report.auto_open.join(", ")));
    }
    if !report.functions.is_empty() {
        evidence.push_str(&format!("; functions: {}", report.functions.join(", ")));
    }
    out.findings.push(Finding::new(
        "XLM_MACRO_SHEET",
        Severity::High,
        node.loc.clone(),
        evidence,
    ));

    let hidden = report
        .macro_sheets
        .iter()
        .any(|s| matches!(s.state, SheetState::Hidden | SheetState::VeryHidden));
    let starts = !report.auto_open.is_empty() || hidden;
    let dangerous: Vec<&str> = report
        .functions
        .iter()
        .copied()
        .filter(|f| DANGEROUS.contains(f))
        .collect();
    let strings: Vec<&str> = report
        .strings
        .iter()
        .map(String::as_str)
        .filter(|s| {
            let l = s.to_ascii_lowercase();
            DANGEROUS_STRINGS.iter().any(|d| l.contains(d))
        })
        .take(5)
        .collect();
    if starts && (!dangerous.is_empty() || !strings.is_empty()) {
        let mut what = Vec::new();
        if !dangerous.is_empty() {
            what.push(dangerous.join(", "));
        }
        what.extend(strings.iter().map(|s| s.to_string()));
        out.findings.push(Finding::new(
            "XLM_AUTO_EXEC_EXEC",
            Severity::Critical,
            node.loc.clone(),
            format!(
                "{} starts the sheet; it uses {}",
                if report.auto_open.is_empty() {
                    "a hidden macro sheet"
                } else {
                    "Auto_Open"
                },
                what.join(", ")
            ),
        ));
    }
    if node.ctx.in_mail {
        out.findings.push(Finding::new(
            "MACRO_INBOUND",
            Severity::Medium,
            node.loc.clone(),
            "Excel 4.0 macro document attached to a message",
        ));
    }
}
