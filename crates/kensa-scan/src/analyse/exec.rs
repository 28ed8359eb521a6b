//! Executables, scripts and shortcuts, by name and by content.

use kensa_core::{Finding, Location, Severity};
use kensa_formats::sniff::FileType;

use super::Output;
use crate::walk::{Context, Node};

/// Extensions Windows runs (or hands to a script host) on a double-click.
const RUNNABLE: &[&str] = &[
    "exe", "dll", "scr", "com", "pif", "cpl", "lnk", "js", "jse", "vbs", "vbe", "wsf", "wsh",
    "hta", "bat", "cmd", "ps1", "msi", "jar", "chm", "reg", "url",
];
const DOCUMENT: &[&str] = &[
    "pdf", "doc", "docx", "docm", "xls", "xlsx", "xlsm", "ppt", "pptx", "txt", "jpg", "png", "zip",
    "rtf",
];

/// Does a file name (or path) end in an extension Windows runs on a double-click?
pub(crate) fn is_runnable_name(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| RUNNABLE.contains(&ext.trim().to_ascii_lowercase().as_str()))
}

fn severity(ctx: &Context) -> (&'static str, Severity) {
    if ctx.depth == 0 {
        // A program the user points kensa at directly is reported, not condemned.
        ("EXECUTABLE_ATTACHMENT", Severity::Info)
    } else if ctx.in_archive && ctx.in_mail {
        ("EXECUTABLE_IN_ARCHIVE", Severity::Critical)
    } else if ctx.in_archive {
        ("EXECUTABLE_IN_ARCHIVE", Severity::High)
    } else {
        ("EXECUTABLE_ATTACHMENT", Severity::High)
    }
}

/// Findings from a file's name: runnable extensions and deceptive names.
pub(crate) fn by_name(
    name: &str,
    kind: FileType,
    loc: &Location,
    ctx: &Context,
    out: &mut Vec<Finding>,
) {
    if ctx.depth == 0 {
        // A file the user points kensa at is judged by content; its name is the user's, not a lure's.
        return;
    }
    let lower = name.to_lowercase();
    let mut parts = lower.rsplit('.');
    let ext = parts.next().unwrap_or("").trim();
    let prev = parts.next().map(str::trim);
    let runnable = lower.contains('.') && RUNNABLE.contains(&ext);
    // PE and LNK content is reported by content, and so are `.url` files (URL_SHORTCUT: low for
    // http, high for file:/UNC/WebDAV targets, spec §2.15).
    if runnable && ext != "url" && !matches!(kind, FileType::Pe | FileType::Lnk) {
        let (sym, sev) = severity(ctx);
        out.push(Finding::new(
            sym,
            sev,
            loc.clone(),
            format!("{ext} file {name}"),
        ));
    }
    let rtlo = name
        .chars()
        .any(|c| matches!(c, '\u{202E}' | '\u{202D}' | '\u{200F}'));
    let padded = name.contains("     ");
    let double = runnable && prev.is_some_and(|p| DOCUMENT.contains(&p));
    if rtlo || padded || double {
        let what = if rtlo {
            "right-to-left override in the name"
        } else if padded {
            "run of spaces before the extension"
        } else {
            "document extension before a runnable one"
        };
        out.push(Finding::new(
            "NAME_TRICK",
            Severity::Medium,
            loc.clone(),
            format!("{what}: {name}"),
        ));
    }
}

/// PE and LNK content, whatever the name.
pub(crate) fn by_content(node: &Node<'_>) -> Output {
    let (sym, sev) = severity(node.ctx);
    let what = match node.kind {
        FileType::Pe => "Windows executable (MZ header)",
        _ => "Windows shortcut (LNK)",
    };
    Output {
        findings: vec![Finding::new(sym, sev, node.loc.clone(), what)],
        children: Vec::new(),
    }
}
