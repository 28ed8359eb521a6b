//! OneNote sections (spec §2.10; Emotet March 2023): every embedded file is carved out and analysed;
//! a script, shortcut or program among them, by name or by content, is critical, since the lure
//! page hides it under a "double-click to view" picture.

use kensa_core::{Finding, Severity};
use kensa_formats::onenote::{self, DataKind};
use kensa_formats::sniff::{self, FileType};

use super::Output;
use crate::walk::{Node, unscannable};

pub(crate) fn analyse(node: &Node<'_>) -> Output {
    let mut out = Output::default();
    let total = usize::try_from(node.budget.remaining_bytes()).unwrap_or(usize::MAX);
    let one = onenote::carve(
        node.data,
        node.budget.limits.max_members.saturating_add(1),
        total.min(node.budget.entry_cap().saturating_mul(4)),
    );
    if one.encrypted {
        out.findings.push(unscannable(
            node.loc,
            "password-protected OneNote section: its content is encrypted",
        ));
    }
    if one.truncated {
        out.findings.push(unscannable(
            node.loc,
            "OneNote section over the limits or cut short; not every embedded file was read",
        ));
    }
    let mut ctx = node.ctx.clone();
    ctx.depth += 1;
    ctx.in_archive = true;
    let mut runnable = Vec::new();
    let mut others = 0usize;
    for (i, f) in one.files.iter().enumerate() {
        let bytes = f.bytes(node.data);
        let name = match (&f.name, &f.extension) {
            (Some(n), _) => n.clone(),
            (None, Some(ext)) => format!("embedded-{}{ext}", i + 1),
            (None, None) => format!("embedded-{}", i + 1),
        };
        let by_name = super::exec::is_runnable_name(&name)
            || f.extension
                .as_deref()
                .is_some_and(|e| super::exec::is_runnable_name(&format!("x{e}")));
        let by_content = matches!(sniff::sniff(bytes), FileType::Pe | FileType::Lnk)
            || kensa_formats::script::classify(None, bytes).is_some();
        if by_name || by_content {
            runnable.push(name.clone());
        } else if f.kind != DataKind::Picture {
            others += 1;
        }
        let cap = node.budget.entry_cap();
        let cut = (bytes.len() > cap || f.truncated).then_some(cap);
        let data = bytes[..bytes.len().min(cap)].to_vec();
        out.add_child(node, name, data, cut, &ctx, None);
    }
    // Names the carver saw that no carved file took: a lure may store the file elsewhere.
    let unlinked: Vec<&String> = one
        .names
        .iter()
        .filter(|n| super::exec::is_runnable_name(n) && !runnable.contains(n))
        .collect();
    let pictures = one.files.len() - runnable.len() - others;
    let (severity, what) = if !runnable.is_empty() {
        (
            Severity::Critical,
            format!("embedded runnable file(s): {}", runnable.join(", ")),
        )
    } else if !unlinked.is_empty() {
        let names: Vec<&str> = unlinked.iter().map(|s| s.as_str()).collect();
        (
            Severity::High,
            format!("names runnable file(s): {}", names.join(", ")),
        )
    } else if others > 0 {
        (
            Severity::Low,
            format!("{others} embedded file(s), {pictures} picture(s)"),
        )
    } else {
        (
            Severity::Info,
            format!("{pictures} picture(s), no embedded file"),
        )
    };
    out.findings.push(Finding::new(
        "ONENOTE_EMBEDDED",
        severity,
        node.loc.clone(),
        what,
    ));
    out
}
