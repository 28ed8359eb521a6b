//! The headers kensa adds to a message it lets through, modelled on rspamd's `X-Spamd-Result`:
//!
//! ```text
//! X-Kensa-Result: suspicious [7.50 / 5.00];
//!         ENCRYPTED_ATTACHMENT_PASSWORD_IN_BODY(4.00); VBA_MACRO(2.00); ZIP_ENCRYPTED(1.50)
//! X-Kensa-Action: tag (verdict suspicious)
//! ```
//!
//! Symbols are sorted by |weight|, then by name; each symbol appears once with its largest weight
//! (the score counts it once). Only kensa's own words go into these headers — symbol names,
//! numbers and the reason — never text from the message, so nothing an attacker wrote can forge a
//! header line. Long values are folded between symbols (`\n\t`, which the MTA writes as CRLF TAB),
//! keeping lines under 78 characters where the symbols allow.

use kensa_core::{Finding, Verdict};

pub const RESULT_HEADER: &str = "X-Kensa-Result";
pub const ACTION_HEADER: &str = "X-Kensa-Action";

/// Headers of these names are removed from incoming mail before kensa adds its own, so a sender
/// cannot pre-set a verdict.
pub fn is_kensa_header(name: &[u8]) -> bool {
    name.len() >= 8 && name[..8].eq_ignore_ascii_case(b"X-Kensa-")
}

/// `verdict [score / required]; SYM(w); …`, folded.
pub fn result_value(verdict: Verdict, score: f64, required: f64, findings: &[Finding]) -> String {
    let mut symbols: Vec<(&str, f64)> = Vec::new();
    for f in findings {
        match symbols.iter_mut().find(|(s, _)| *s == f.symbol) {
            Some((_, w)) => *w = w.max(f.weight),
            None => symbols.push((f.symbol, f.weight)),
        }
    }
    symbols.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(b.0)));
    let head = format!("{} [{score:.2} / {required:.2}]", verdict.as_str());
    let parts: Vec<String> = symbols
        .iter()
        .map(|(s, w)| format!("{s}({w:.2})"))
        .collect();
    fold(&head, &parts, RESULT_HEADER.len() + 2)
}

/// `action (reason)`; the reason is kensa's own text, stripped of anything that could end a line.
pub fn action_value(action: &str, reason: &str) -> String {
    let reason: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if reason.trim().is_empty() {
        action.to_string()
    } else {
        format!("{action} ({})", reason.trim())
    }
}

/// Join `head; p1; p2…`, starting a folded line before a part that would pass column 78.
fn fold(head: &str, parts: &[String], indent: usize) -> String {
    let mut out = head.to_string();
    let mut col = indent + head.len();
    for p in parts {
        out.push(';');
        col += 1;
        if col + 1 + p.len() > 78 {
            out.push_str("\n\t");
            col = 8;
        } else {
            out.push(' ');
            col += 1;
        }
        out.push_str(p);
        col += p.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kensa_core::{Location, Severity};

    fn f(sym: &'static str, w: f64) -> Finding {
        let mut f = Finding::new(sym, Severity::High, Location::root("m"), "evil\r\nX: y");
        f.weight = w;
        f
    }

    #[test]
    fn sorted_by_weight_once_each_and_folded() {
        let fs = [
            f("ZIP_ENCRYPTED", 1.5),
            f("VBA_MACRO", 2.0),
            f("ENCRYPTED_ATTACHMENT_PASSWORD_IN_BODY", 4.0),
            f("VBA_MACRO", 1.0),
        ];
        let v = result_value(Verdict::Suspicious, 7.5, 5.0, &fs);
        assert_eq!(
            v,
            "suspicious [7.50 / 5.00];\n\tENCRYPTED_ATTACHMENT_PASSWORD_IN_BODY(4.00); VBA_MACRO(2.00);\n\t\
             ZIP_ENCRYPTED(1.50)"
        );
        for (i, line) in v.split('\n').enumerate() {
            let width = if i == 0 { RESULT_HEADER.len() + 2 } else { 0 } + line.len();
            assert!(width <= 78, "{line}");
        }
        // Evidence (attacker text) never reaches the header.
        assert!(!v.contains("evil") && !v.contains('\r'));
    }

    #[test]
    fn clean_has_only_the_head() {
        assert_eq!(
            result_value(Verdict::Clean, 0.0, 5.0, &[]),
            "clean [0.00 / 5.00]"
        );
    }

    #[test]
    fn action_reason_has_no_line_breaks() {
        assert_eq!(
            action_value("tag", "verdict\r\nsuspicious"),
            "tag (verdict  suspicious)"
        );
        assert_eq!(action_value("accept", ""), "accept");
        assert!(is_kensa_header(b"x-kensa-result"));
        assert!(!is_kensa_header(b"X-Kensa"));
    }
}
