//! VBA source: mraptor's A ∧ (W ∨ X) rule as the baseline verdict, olevba-style context keywords,
//! IOCs and decoded strings as evidence (spec §2.2).

use kensa_core::{Finding, Severity};
use kensa_formats::vba_scan::{self, Hit, IocKind, VbaScan};

use crate::walk::Node;

/// A module as the analyser needs it.
pub(crate) struct Module {
    pub name: String,
    pub stream: String,
    pub source: String,
}

fn names(hits: &[Hit]) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = hits.iter().map(|h| h.keyword).collect();
    v.sort_unstable();
    v.dedup();
    v.truncate(12);
    v
}

pub(crate) fn findings(
    node: &Node<'_>,
    modules: &[Module],
    hidden: &[String],
    form_strings: &[String],
) -> Vec<Finding> {
    let mut out = Vec::new();
    if modules.is_empty() && hidden.is_empty() {
        return out;
    }
    let scans: Vec<(&Module, VbaScan)> = modules
        .iter()
        .map(|m| (m, vba_scan::scan(&m.source)))
        .collect();
    let has_code = scans.iter().any(|(_, s)| s.has_code);
    let listed: Vec<&str> = modules.iter().map(|m| m.name.as_str()).take(20).collect();
    out.push(Finding::new(
        "VBA_MACRO",
        if has_code {
            Severity::Low
        } else {
            Severity::Info
        },
        node.loc.clone(),
        format!("{} module(s): {}", modules.len(), listed.join(", ")),
    ));

    let auto = scans.iter().find(|(_, s)| !s.autoexec.is_empty());
    let auto_any = auto.or_else(|| {
        scans
            .iter()
            .find(|(_, s)| !s.autoexec_interactive.is_empty())
    });
    let write: Vec<&'static str> = scans.iter().flat_map(|(_, s)| names(&s.write)).collect();
    let exec: Vec<&'static str> = scans.iter().flat_map(|(_, s)| names(&s.exec)).collect();
    let dedup = |mut v: Vec<&'static str>| {
        v.sort_unstable();
        v.dedup();
        v.truncate(12);
        v.join(", ")
    };
    let (write, exec) = (dedup(write), dedup(exec));
    let we = !write.is_empty() || !exec.is_empty();
    let describe = |a: &VbaScan| {
        let mut auto = names(&a.autoexec);
        auto.extend(names(&a.autoexec_interactive));
        let mut parts = vec![format!("auto-exec: {}", auto.join(", "))];
        if !write.is_empty() {
            parts.push(format!("write: {write}"));
        }
        if !exec.is_empty() {
            parts.push(format!("execute: {exec}"));
        }
        parts.join("; ")
    };
    match (auto, auto_any) {
        (_, Some((m, s))) if we => out.push(Finding::new(
            "VBA_AUTOEXEC_EXEC",
            Severity::Critical,
            node.loc.child(m.stream.clone()),
            describe(s),
        )),
        (Some((m, s)), _) => out.push(Finding::new(
            "VBA_AUTOEXEC",
            Severity::Medium,
            node.loc.child(m.stream.clone()),
            describe(s),
        )),
        _ if we => {
            let mut parts = Vec::new();
            if !write.is_empty() {
                parts.push(format!("write: {write}"));
            }
            if !exec.is_empty() {
                parts.push(format!("execute: {exec}"));
            }
            out.push(Finding::new(
                "VBA_WRITE_EXEC",
                Severity::Low,
                node.loc.clone(),
                parts.join("; "),
            ));
        }
        _ => {}
    }
    if !hidden.is_empty() {
        let sev = if auto.is_some() {
            Severity::Critical
        } else {
            Severity::High
        };
        out.push(Finding::new(
            "VBA_HIDDEN_MODULE",
            sev,
            node.loc.clone(),
            hidden
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }

    let forms = (!form_strings.is_empty()).then(|| vba_scan::scan(&form_strings.join("\n")));
    let evidence_sources = scans
        .iter()
        .map(|(m, s)| (node.loc.child(m.stream.clone()), s))
        .chain(
            forms
                .iter()
                .map(|s| (node.loc.child("UserForm strings"), s)),
        );
    for (loc, s) in evidence_sources {
        let kw = names(&s.suspicious);
        if !kw.is_empty() {
            out.push(Finding::new(
                "VBA_SUSPICIOUS_KEYWORD",
                Severity::Info,
                loc.clone(),
                kw.join(", "),
            ));
        }
        if !s.iocs.is_empty() {
            let iocs: Vec<String> = s
                .iocs
                .iter()
                .take(10)
                .map(|i| {
                    let kind = match i.kind {
                        IocKind::Url => "url",
                        IocKind::Ipv4 => "ip",
                        IocKind::ExecutableName => "file",
                    };
                    format!("{kind} {}", i.value)
                })
                .collect();
            out.push(Finding::new(
                "VBA_IOC",
                Severity::Info,
                loc.clone(),
                iocs.join(", "),
            ));
        }
        for d in s.decoded.iter().take(5) {
            out.push(Finding::new(
                "VBA_DECODED_STRING",
                Severity::Info,
                loc.clone(),
                format!(
                    "{}: {}",
                    d.encoding,
                    d.decoded.chars().take(200).collect::<String>()
                ),
            ));
        }
    }

    if node.ctx.in_mail {
        out.push(Finding::new(
            "MACRO_INBOUND",
            Severity::Medium,
            node.loc.clone(),
            "macro document attached to a message",
        ));
    }
    out
}
