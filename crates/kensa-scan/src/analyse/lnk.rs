//! Windows shortcuts (spec §2.8; Emotet April 2022: password ZIP → LNK → PowerShell).

use kensa_core::{Finding, Severity};
use kensa_formats::lnk;

use super::Output;
use crate::walk::{Node, unscannable};

pub(crate) fn analyse(node: &Node<'_>) -> Output {
    let mut out = super::exec::by_content(node);
    let parsed = match lnk::parse(node.data) {
        Ok(l) => l,
        Err(e) => {
            out.findings
                .push(unscannable(node.loc, &format!("LNK: {e}")));
            return out;
        }
    };
    let risk = lnk::assess(&parsed);
    let target = parsed
        .target
        .as_deref()
        .or(parsed.env_target.as_deref())
        .unwrap_or("?");
    let args: String = parsed
        .arguments
        .as_deref()
        .unwrap_or("")
        .chars()
        .take(300)
        .collect();
    if !risk.lolbins.is_empty() {
        // Critical with download/execute arguments (spec §2.8); a system tool as a plain target
        // (a Start-menu shortcut to PowerShell) is only context.
        let severity = if risk.critical && parsed.appended == 0 {
            Severity::Critical
        } else {
            Severity::Low
        };
        out.findings.push(Finding::new(
            "LNK_LOLBIN",
            severity,
            node.loc.clone(),
            format!("{} runs {target} {args}", risk.lolbins.join(", ")),
        ));
    }
    // Zero padding after the terminal block is harmless; a carved payload is not zeros.
    let tail = &node.data[node.data.len().saturating_sub(parsed.appended)..];
    if parsed.appended > 0 && tail.iter().any(|&b| b != 0) {
        out.findings.push(Finding::new(
            "LNK_APPENDED_DATA",
            Severity::Critical,
            node.loc.clone(),
            format!("{} bytes after the terminal block", parsed.appended),
        ));
    }
    if !risk.signals.is_empty() {
        out.findings.push(Finding::new(
            "LNK_SIGNAL",
            Severity::Info,
            node.loc.clone(),
            format!("target {target}; {}", risk.signals.join("; ")),
        ));
    }
    out
}
