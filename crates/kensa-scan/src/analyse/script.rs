//! Scripts and Internet shortcuts (spec §2.15): JScript/VBScript (plain or Script Encoder), WSF,
//! HTA, PowerShell, batch, `.reg` and `.url`, recognised by name or by content. The rating follows
//! what the text does: download and execute together is the dropper pattern.

use kensa_core::{Finding, Severity};
use kensa_formats::script::{self, Category, ScriptKind, UrlLevel};

use super::Output;
use crate::walk::Node;

/// Signals quoted in a finding's evidence.
const SHOWN: usize = 6;

/// Script findings for a node the classifier recognises; nothing otherwise.
pub(crate) fn findings(node: &Node<'_>, out: &mut Output) {
    let Some(kind) = script::classify(node.name, node.data) else {
        return;
    };
    let risk = script::assess(kind, node.data);
    if let Some((shortcut, rating)) = &risk.shortcut {
        let severity = match rating.level {
            UrlLevel::Low => Severity::Low,
            UrlLevel::Medium => Severity::Medium,
            UrlLevel::High => Severity::High,
        };
        let ids: Vec<&str> = rating.signals.iter().map(|(s, _)| s.id).collect();
        out.findings.push(Finding::new(
            "URL_SHORTCUT",
            severity,
            node.loc.clone(),
            format!(
                "opens {} ({})",
                shortcut.url.as_deref().unwrap_or("nothing"),
                ids.join(", ")
            ),
        ));
        return;
    }
    let has = |c: Category| risk.signals.iter().any(|s| s.category == c);
    let severity = if risk.critical {
        Severity::Critical
    } else if risk.downloads || risk.executes || has(Category::Persistence) {
        Severity::High
    } else if kind == ScriptKind::Registry || has(Category::Evasion) || kind.is_encoded() {
        Severity::Medium
    } else {
        Severity::Low
    };
    let mut what = format!("{} script", kind.as_str());
    if !risk.lolbins.is_empty() {
        what.push_str(&format!("; starts {}", risk.lolbins.join(", ")));
    }
    for s in risk.signals.iter().take(SHOWN) {
        what.push_str(&format!("; {}: {}", s.id, s.evidence));
    }
    if risk.signals.len() > SHOWN {
        what.push_str(&format!("; {} more signal(s)", risk.signals.len() - SHOWN));
    }
    if risk.truncated {
        what.push_str("; only the first part was read");
    }
    out.findings
        .push(Finding::new("SCRIPT", severity, node.loc.clone(), what));
}
