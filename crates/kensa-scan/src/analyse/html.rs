//! HTML smuggling (spec §2.11): an HTML or SVG file that rebuilds a payload in the browser. The
//! encoded payloads are decoded and walked like attachments, with the passwords the page shows
//! (the ZIP password is usually printed on it) tried on what they contain.

use std::sync::Arc;

use kensa_core::{Finding, Severity};
use kensa_formats::html::{self, FileType, HtmlLimits};
use kensa_mail::password::{self, CandidateSource};

use super::Output;
use crate::walk::{Node, PasswordSource};

/// Patterns of the technique itself (decode, assemble, hand to the user), as opposed to generic
/// script calls (`eval`, `Uint8Array`) that ordinary pages make.
const ASSEMBLE: &[&str] = &[
    "atob",
    "new_blob",
    "create_object_url",
    "webkit_url",
    "ms_save_blob",
    "data_uri_archive",
];
const DELIVER: &[&str] = &[
    "download_attribute",
    "download_property",
    "click",
    "ms_save_blob",
    "data_uri_archive",
];

/// Visible text read for passwords.
const TEXT_CAP: usize = 256 << 10;

pub(crate) fn analyse(node: &Node<'_>) -> Output {
    let mut out = Output::default();
    // Real smuggling literals are tens of KB; a small archive fits in a few hundred bytes of base64.
    let limits = HtmlLimits {
        max_decoded_bytes: node.budget.entry_cap(),
        min_blob_len: 256,
        ..HtmlLimits::default()
    };
    let scan = html::scan(node.data, limits);
    let payloads: Vec<&html::Blob> = scan.blobs.iter().filter(|b| is_payload(b.kind)).collect();
    let has = |list: &[&str]| scan.patterns.iter().any(|p| list.contains(p));
    let smuggling = has(ASSEMBLE) && has(DELIVER);
    let large = scan.patterns.contains(&"large_encoded_blob");
    let severity = if !payloads.is_empty() && (smuggling || large) {
        Some(Severity::Critical)
    } else if !payloads.is_empty() || (smuggling && large) {
        Some(Severity::High)
    } else if smuggling {
        Some(Severity::Low)
    } else {
        None
    };
    if let Some(severity) = severity {
        let kinds: Vec<String> = payloads
            .iter()
            .map(|b| {
                let name = b.name.as_deref().unwrap_or("unnamed");
                format!("{name} ({}, {})", b.kind.name(), b.encoding)
            })
            .collect();
        let mut what = format!("patterns: {}", scan.patterns.join(", "));
        if !kinds.is_empty() {
            what.push_str(&format!("; decoded: {}", kinds.join(", ")));
        }
        out.findings.push(Finding::new(
            "HTML_SMUGGLING",
            severity,
            node.loc.clone(),
            what,
        ));
    }
    if scan.truncated {
        out.findings.push(crate::walk::unscannable(
            node.loc,
            "encoded content over the limits; not every blob was decoded",
        ));
    }
    if scan.blobs.is_empty() {
        return out;
    }
    // The page's text may state the password of what it delivers.
    let text = html::visible_text(node.data, TEXT_CAP);
    let found = password::candidates("", &[&text], &[], &[], 20);
    let mut ctx = node.ctx.clone();
    ctx.depth += 1;
    ctx.in_archive = true;
    if found
        .iter()
        .any(|c| !matches!(c.source, CandidateSource::Fallback))
    {
        let mut passwords = node.ctx.passwords.as_ref().clone();
        for c in found {
            if !matches!(c.source, CandidateSource::Fallback)
                && !passwords.iter().any(|(p, _)| *p == c.password)
            {
                passwords.insert(0, (c.password, PasswordSource::Body));
            }
        }
        ctx.passwords = Arc::new(passwords);
        ctx.password_in_body = true;
    }
    for (i, b) in scan.blobs.into_iter().enumerate() {
        let name = b.name.unwrap_or_else(|| format!("blob-{}", i + 1));
        let cut = b.truncated.then_some(limits.max_decoded_bytes);
        out.add_child(node, name, b.data, cut, &ctx, None);
    }
    out
}

/// What a smuggling page delivers: archives, images, programs, documents, shortcuts, scripts.
fn is_payload(kind: FileType) -> bool {
    !matches!(
        kind,
        FileType::Unknown | FileType::Image | FileType::Empty | FileType::Pdf
    )
}
