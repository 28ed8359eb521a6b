//! RTF documents: embedded objects, Equation Editor exploits (CVE-2017-11882), auto-updating
//! objects and remote templates (spec §2.15, §2.13).

use kensa_core::{Finding, Severity};
use kensa_formats::rtf;

use super::Output;
use crate::walk::Node;

pub(crate) fn analyse(node: &Node<'_>) -> Output {
    let mut out = Output::default();
    let cap = node.budget.entry_cap();
    let report = rtf::scan(node.data, cap, node.budget.limits.max_members);
    let mut ctx = node.ctx.clone();
    ctx.depth += 1;
    for (i, o) in report.objects.into_iter().enumerate() {
        let loc = node.loc.child(format!("object{}@{}", i + 1, o.offset));
        let class = o
            .class
            .as_deref()
            .or(o.ole1_class.as_deref())
            .unwrap_or("?")
            .to_string();
        let equation = [o.class.as_deref(), o.ole1_class.as_deref()]
            .iter()
            .flatten()
            .any(|c| c.to_ascii_lowercase().starts_with("equation"));
        if equation {
            out.findings.push(Finding::new(
                "RTF_EQUATION_EDITOR",
                Severity::Critical,
                loc.clone(),
                format!("object class {class} (Equation Editor, removed from Office in 2018)"),
            ));
        } else if o.update || o.autolink {
            let what = match (o.update, o.autolink) {
                (true, true) => "\\objupdate \\objautlink",
                (true, false) => "\\objupdate",
                _ => "\\objautlink",
            };
            out.findings.push(Finding::new(
                "RTF_OBJECT_AUTOUPDATE",
                Severity::High,
                loc.clone(),
                format!("object class {class} with {what}"),
            ));
        } else {
            out.findings.push(Finding::new(
                "RTF_OBJECT",
                Severity::Info,
                loc.clone(),
                format!("object class {class}"),
            ));
        }
        let data = o.embedded.unwrap_or(o.data);
        if !data.is_empty() || o.truncated {
            let name = format!("object{}@{}", i + 1, o.offset);
            out.add_child(node, name, data, o.truncated.then_some(cap), &ctx, None);
        }
    }
    if let Some(t) = report.template {
        let remote = t.to_ascii_lowercase().starts_with("http") || t.starts_with("\\\\");
        out.findings.push(Finding::new(
            "EXTERNAL_RELATIONSHIP",
            if remote {
                Severity::High
            } else {
                Severity::Info
            },
            node.loc.clone(),
            format!("template -> {}", t.chars().take(300).collect::<String>()),
        ));
    }
    out
}
