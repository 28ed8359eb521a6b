//! Which script a text is, from its content alone. Conservative on purpose: prose, mail and
//! source code in other languages must not come out as a script, so each language needs an
//! anchor only its Windows host uses plus several independent tokens of its syntax.
//!
//! - Registry: the first line is `Windows Registry Editor Version 5.00` or `REGEDIT4`.
//! - Internet shortcut: INI-shaped from the first line, with an `[InternetShortcut]` section.
//! - Encoded VBScript/JScript: the first line starts with a Script Encoder block (`#@~^…==`);
//!   the language is told from the decoded text.
//! - HTA: an `<hta:application` tag. WSF: markup from the start, a `<job`/`<package` tag and a
//!   `<script language=…>` tag.
//! - Batch: the first command line is `@echo off`, or most lines are batch commands and four
//!   batch-only tokens appear.
//! - PowerShell, VBScript, JScript: scored token sets (below), each with a host anchor.
//!   VBA module text (`Attribute VB_…`, typed `Dim … As String`) is none of them.
//! - Source code of other languages (a `#!` line, or three Rust/C/Python/Java/Go declarations)
//!   is no script, whatever its strings quote.

use std::sync::LazyLock;

use regex::Regex;

use super::{ScriptKind, encoder, text};
use crate::cmdline::re;

/// Lines looked at for the line-shaped rules (batch, INI).
const HEAD_LINES: usize = 200;

/// The kind a file name's extension gives (trailing dots and spaces are dropped, as Windows
/// does). Encoded variants are told by content, not by `.vbe`/`.jse`.
pub(super) fn by_name(name: &str) -> Option<ScriptKind> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let base = base.trim_end_matches(['.', ' ']);
    let (_, ext) = base.rsplit_once('.')?;
    Some(match ext.to_ascii_lowercase().as_str() {
        "js" | "jse" => ScriptKind::JScript,
        "vbs" | "vbe" => ScriptKind::VBScript,
        "wsf" => ScriptKind::Wsf,
        "hta" => ScriptKind::Hta,
        "ps1" | "psm1" => ScriptKind::PowerShell,
        "bat" | "cmd" => ScriptKind::Batch,
        "url" => ScriptKind::InternetShortcut,
        "reg" => ScriptKind::Registry,
        _ => return None,
    })
}

/// Non-blank lines, trimmed, at most [`HEAD_LINES`].
fn head_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(HEAD_LINES)
}

fn first_line(text: &str) -> &str {
    head_lines(text).next().unwrap_or_default()
}

fn is_registry(text: &str) -> bool {
    let first = first_line(text).to_ascii_lowercase();
    first == "regedit4" || first.starts_with("windows registry editor version ")
}

/// Every non-blank line is `[section]`, `key=value` or a `;` comment, the first is a section,
/// and one section is `[InternetShortcut]`.
fn is_internet_shortcut(text: &str) -> bool {
    let mut lines = head_lines(text).peekable();
    if !lines.peek().is_some_and(|l| l.starts_with('[')) {
        return false;
    }
    let mut shortcut = false;
    for line in lines {
        if line.starts_with('[') && line.ends_with(']') {
            shortcut |= line.eq_ignore_ascii_case("[internetshortcut]");
        } else if !(line.starts_with(';') || line.split_once('=').is_some_and(|(k, _)| is_key(k))) {
            return false;
        }
    }
    shortcut
}

fn is_key(k: &str) -> bool {
    let k = k.trim();
    !k.is_empty()
        && k.len() <= 64
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.{}".contains(&b))
}

static WSF_SCRIPT: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)<script\b[^>]{0,200}\blanguage\s*=\s*["']?[a-z]"#));
static WSF_JOB: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)<(?:job|package)\b"));
static HTA_TAG: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)<hta:application\b"));
static HTML_TAG: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)<(?:html|body|head|script|div|table|!doctype)\b"));
/// VBA module text, not VBScript: VBScript has no `Attribute` lines and no typed variables.
static VBA: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?im)^\s*attribute\s+vb_|\bas\s+(?:string|long|longptr|integer|object|variant|boolean|",
        r"byte|double|single|date|currency)\b"
    ))
});

/// Source code of a language Windows does not run on a double-click (Rust, C, Python, Java,
/// Go): it may quote PowerShell or HTA in its strings and still be no script.
static FOREIGN: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?m)^[ \t]*(?:(?:pub(?:\([a-z]+\))?\s+)?(?:fn|impl|mod|struct|enum|trait)\s+[A-Za-z_]",
        r"|use\s+[a-z_]+::|#include\s*[<\x22]|def\s+\w+\s*\([^)\r\n]*\)\s*(?:->[^:\r\n]+)?:[ \t]*$",
        r"|from\s+[\w.]+\s+import\s|package\s+[\w.]+;|import\s+(?:java|javax|org|com)\.",
        r"|func\s+(?:\([^)]*\)\s*)?[A-Za-z_]\w*\s*\()"
    ))
});
static SHEBANG: LazyLock<Regex> = LazyLock::new(|| re(r"^#!\s*/\S*(?:bin|env)"));

fn is_foreign_source(text: &str) -> bool {
    SHEBANG.is_match(text.trim_start_matches('\u{feff}'))
        || FOREIGN.find_iter(text).take(3).count() == 3
}

/// Markup from the first character (after an XML declaration or comments is still markup).
fn starts_as_markup(text: &str) -> bool {
    text.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('<')
}

fn is_wsf(text: &str) -> bool {
    starts_as_markup(text) && WSF_JOB.is_match(text) && WSF_SCRIPT.is_match(text)
}

static BATCH_HEAD: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^@?\s*echo\s+off\b"));
/// Lines a batch file is made of.
static BATCH_LINE: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?i)^(?:@|::|:[a-z_]|rem\b|%|(?:set|setlocal|endlocal|if|for|goto|call|start|echo|cd|",
        r"chdir|del|erase|copy|xcopy|move|ren|mkdir|md|rmdir|rd|exit|pause|title|cls|timeout|",
        r"ping|reg|schtasks|bitsadmin|certutil|curl|powershell|cmd|rundll32|regsvr32|mshta|",
        r"wscript|cscript|attrib|taskkill|shift|pushd|popd)\b)"
    ))
});
static BATCH_TOKENS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"(?i)%~[a-z]*[0-9]",
        r"(?i)%comspec%",
        r"(?i)\bsetlocal\s+enabledelayedexpansion\b",
        r"(?i)\bgoto\s+:?eof\b",
        r"(?i)%errorlevel%|\berrorlevel\b",
        r"(?i)>\s*nul\b",
        r"(?i)%(?:temp|tmp|appdata|localappdata|userprofile|public|programdata)%",
        r"(?i)\bif\s+(?:not\s+)?(?:exist|defined)\b",
        r"(?i)![a-z_][a-z0-9_]*!",
        r"(?i)%[a-z_][a-z0-9_]*:~-?\d+",
    ]
    .iter()
    .map(|p| re(p))
    .collect()
});

fn is_batch(text: &str) -> bool {
    let mut commands = head_lines(text).filter(|l| !l.starts_with("::") && !is_rem(l));
    if commands.next().is_some_and(|l| BATCH_HEAD.is_match(l)) {
        return true;
    }
    let (mut total, mut batch) = (0usize, 0usize);
    for l in head_lines(text) {
        total += 1;
        batch += usize::from(BATCH_LINE.is_match(l));
    }
    total >= 3
        && batch * 10 >= total * 6
        && BATCH_TOKENS.iter().filter(|r| r.is_match(text)).count() >= 4
}

fn is_rem(line: &str) -> bool {
    line.get(..4)
        .is_some_and(|h| h.eq_ignore_ascii_case("rem ") || h.eq_ignore_ascii_case("rem\t"))
        || line.eq_ignore_ascii_case("rem")
}

/// A scored token set: the anchors a host needs, then syntax tokens.
struct Scorer {
    /// Any anchor (one pass to rule the language out).
    any: Regex,
    anchors: Vec<Regex>,
    tokens: Vec<Regex>,
    min: usize,
}

impl Scorer {
    fn new(anchors: &[&str], tokens: &[&str], min: usize) -> Scorer {
        let any = anchors
            .iter()
            .map(|p| format!("(?:{})", p.trim_start_matches("(?i)")))
            .collect::<Vec<_>>()
            .join("|");
        Scorer {
            any: re(&format!("(?i){any}")),
            anchors: anchors.iter().map(|p| re(p)).collect(),
            tokens: tokens.iter().map(|p| re(p)).collect(),
            min,
        }
    }

    /// Distinct patterns matched, or 0 without an anchor or below the minimum.
    fn score(&self, text: &str) -> usize {
        if !self.any.is_match(text) {
            return 0;
        }
        let anchors = self.anchors.iter().filter(|r| r.is_match(text)).count();
        if anchors == 0 {
            return 0;
        }
        let total = anchors + self.tokens.iter().filter(|r| r.is_match(text)).count();
        if total >= self.min { total } else { 0 }
    }
}

static POWERSHELL: LazyLock<Scorer> = LazyLock::new(|| {
    Scorer::new(
        &[
            r"(?i)\bnew-object\s+(?:-com(?:object)?\s+)?['(]?[a-z][\w.]*",
            r"(?i)\$env:[a-z_]",
            r"(?i)\[(?:system\.)?(?:net\.webclient|convert|text\.encoding|io\.[a-z]+|runtime\.[a-z.]+|diagnostics\.process|reflection\.assembly|scriptblock|char\]\s*\d)",
            r"(?i)\b(?:invoke-(?:expression|item|webrequest|restmethod|command)|start-(?:process|bitstransfer|sleep)|set-(?:executionpolicy|content|itemproperty|mppreference)|get-(?:item|content|childitem|wmiobject|ciminstance)|add-(?:type|mppreference)|remove-item|out-file|convert(?:to|from)-securestring|write-(?:host|output)|test-path|foreach-object|where-object|expand-archive)\b",
            r"(?i)\bforeach\s*\(\s*\$\w+\s+in\s+\$\w+",
            r"(?i)\$(?:verbosepreference|shellid|pshome|psversiontable)\b",
            r"(?i)\]::(?:frombase64string|start|getstring|invoke|createinstance)\s*\(",
            r"(?i)\.(?:downloadfile|downloadstring|downloaddata)\s*\(",
        ],
        &[
            r#"(?i)\b(?:iex|invoke-expression)\s*[($'"]"#,
            r#"(?i)(?:^|[\s)'"\]])-c?(?:join|replace|split|bxor)\b"#,
            r"(?i)\btry\s*\{[^}]{0,400}\}\s*catch\s*\{",
            r"(?i)-(?:executionpolicy|ep)\s+bypass\b|-nop(?:rofile)?\b|-w(?:indowstyle)?\s+hidden\b",
            r"(?i)(?:^|[;{(\s])\$[a-z_]\w*\s*=[^=]",
            r"(?im)^\s*param\s*\(|\[cmdletbinding\(",
            r"(?i)\bnew-object\b[^;\r\n]{0,80}\b(?:net\.webclient|random|-com)",
        ],
        4,
    )
});

static VBSCRIPT: LazyLock<Scorer> = LazyLock::new(|| {
    Scorer::new(
        &[
            r#"(?i)\bcreateobject\s*\(\s*""#,
            r"(?i)\bwscript\.(?:createobject|shell|sleep|echo|quit|scriptfullname|scriptname|arguments)\b",
            r#"(?i)\bgetobject\s*\(\s*""#,
            r"(?i)\bexecute(?:global)?\s*[(\x22]",
        ],
        &[
            r"(?im)^\s*dim\s+\w",
            r"(?im)^\s*set\s+\w+\s*=",
            r"(?i)\bend\s+(?:sub|function|if|with|select)\b",
            r"(?i)\bon\s+error\s+resume\s+next\b",
            r"(?i)\bchrw?\s*\(\s*\d+\s*\)",
            r"(?im)^\s*(?:private\s+|public\s+)?(?:sub|function)\s+\w+",
            r"(?im)\bthen\s*$",
            r#"(?i)"\s*&\s*\w"#,
        ],
        4,
    )
});

static JSCRIPT: LazyLock<Scorer> = LazyLock::new(|| {
    Scorer::new(
        &[
            r"(?i)\bnew\s+activexobject\s*\(",
            r"(?i)\bwscript\.(?:createobject|shell|sleep|echo|quit|scriptfullname|scriptname|arguments)\b",
        ],
        &[
            r"(?i)\b(?:var|let|const)\s+\w+\s*=",
            r"(?i)\bfunction\s*\w*\s*\([^)]{0,200}\)\s*\{",
            r"(?i)string\.fromcharcode\s*\(",
            r"(?i)\beval\s*\(",
            r"(?m);\s*$",
            r"(?i)\bcatch\s*\(\s*\w+\s*\)",
            r"(?i)\.run\s*\(",
        ],
        4,
    )
});

/// The language of script text with no host markup: JScript if its tokens outscore VBScript's.
fn language(text: &str) -> Option<ScriptKind> {
    let (vb, js) = (VBSCRIPT.score(text), JSCRIPT.score(text));
    match (vb, js) {
        (0, 0) => None,
        (vb, js) if js > vb => Some(ScriptKind::JScript),
        _ => Some(ScriptKind::VBScript),
    }
}

/// Classify text by content (see the module doc); `None` when nothing is sure.
pub(super) fn by_content(text: &str) -> Option<ScriptKind> {
    if text::looks_binary(text) {
        return None;
    }
    if is_registry(text) {
        return Some(ScriptKind::Registry);
    }
    if is_internet_shortcut(text) {
        return Some(ScriptKind::InternetShortcut);
    }
    if first_line(text).starts_with("#@~^") && encoder::has_marker(text.as_bytes()) {
        let decoded = encoder::decode(text.as_bytes()).ok()?;
        let plain = String::from_utf8_lossy(&decoded.text);
        let js = JSCRIPT.score(&plain) > VBSCRIPT.score(&plain) || plain.trim_end().ends_with(';');
        return Some(if js {
            ScriptKind::JScriptEncoded
        } else {
            ScriptKind::VBScriptEncoded
        });
    }
    if is_foreign_source(text) {
        return None;
    }
    if HTA_TAG.is_match(text) {
        return Some(ScriptKind::Hta);
    }
    if is_wsf(text) {
        return Some(ScriptKind::Wsf);
    }
    if VBA.is_match(text) {
        return None;
    }
    if is_batch(text) {
        return Some(ScriptKind::Batch);
    }
    let peeled = text::peel(text);
    let ps = POWERSHELL.score(&peeled);
    let other = if HTML_TAG.is_match(text) {
        None
    } else {
        language(&peeled)
    };
    let other_score = match other {
        Some(ScriptKind::JScript) => JSCRIPT.score(&peeled),
        Some(_) => VBSCRIPT.score(&peeled),
        None => 0,
    };
    if ps > 0 && ps >= other_score {
        return Some(ScriptKind::PowerShell);
    }
    other
}
