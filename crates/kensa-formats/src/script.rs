//! Standalone script carriers and Internet shortcuts (spec §2.15, LOLBins as in §2.8).
//!
//! Emotet and Qakbot mailed WSF, VBS, JS, HTA, BAT and PS1 files inside archives, OneNote
//! files and ISOs, and `.url` files pointing at `file:`, UNC, WebDAV or `search-ms:` targets.
//! This module says which kind a file is ([`classify`]: by extension first, then by content,
//! conservatively) and what its text does ([`assess`]: downloaders, execution, persistence,
//! obfuscation, URLs), and parses `.url` files ([`parse_url_shortcut`],
//! [`assess_url_shortcut`]). Script Encoder blocks (`.vbe`/`.jse`, `#@~^…^#~@`) are decoded
//! first ([`encoder`]).
//!
//! Reading, never running: the text is decoded (BOM, UTF-16 sniffing, else UTF-8 or
//! Windows-1252) and peeled of cheap obfuscation — split strings joined, PowerShell backticks
//! and cmd carets dropped, literal `-replace`/`.replace` pairs applied, char-code runs and
//! `FromBase64String` literals decoded — then matched with regexes that share the command-line
//! list and patterns of the LNK module (`cmdline`).
//!
//! Limits: the first [`MAX_SCAN`] bytes are assessed (the `truncated` signal says when there
//! was more), the first [`CLASSIFY_BYTES`] classified; every step is a single regex pass or a
//! bounded `str::replace`, so time is linear in the text; evidence is at most
//! [`EVIDENCE_CHARS`] characters of attacker text (the caller escapes it before printing).

use std::sync::LazyLock;

use regex::Regex;

use crate::cmdline::{self, BLOB, DOWNLOAD, LOLBINS, Signals, URL, re};

mod detect;
pub mod encoder;
mod text;
mod url;

#[cfg(test)]
mod tests;

pub use url::{
    MAX_LINES, MAX_VALUE, UrlLevel, UrlRisk, UrlShortcut, assess_url_shortcut, parse_url_shortcut,
};

/// Bytes of a script assessed at most.
pub const MAX_SCAN: usize = 4 << 20;
/// Bytes looked at to classify by content.
pub const CLASSIFY_BYTES: usize = 1 << 20;
/// Longest evidence string.
pub const EVIDENCE_CHARS: usize = 200;
/// Distinct matches shown in one evidence string.
const EVIDENCE_MATCHES: usize = 3;
/// Matches counted per rule at most.
const COUNT_CAP: usize = 100_000;

/// A script kind Windows runs on a double-click (or a shortcut it follows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScriptKind {
    JScript,
    /// JScript in Script Encoder form (`#@~^`, usually `.jse`).
    JScriptEncoded,
    VBScript,
    /// VBScript in Script Encoder form (`#@~^`, usually `.vbe`).
    VBScriptEncoded,
    /// Windows Script File: XML `<job>`/`<package>` with `<script language=…>` blocks.
    Wsf,
    /// HTML Application, run by mshta.exe.
    Hta,
    PowerShell,
    /// `.bat`/`.cmd`.
    Batch,
    /// `.url`.
    InternetShortcut,
    /// `.reg`, merged into the registry by regedit.exe.
    Registry,
}

impl ScriptKind {
    /// A stable lower-case name (`jscript-encoded`, `internet-shortcut`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ScriptKind::JScript => "jscript",
            ScriptKind::JScriptEncoded => "jscript-encoded",
            ScriptKind::VBScript => "vbscript",
            ScriptKind::VBScriptEncoded => "vbscript-encoded",
            ScriptKind::Wsf => "wsf",
            ScriptKind::Hta => "hta",
            ScriptKind::PowerShell => "powershell",
            ScriptKind::Batch => "batch",
            ScriptKind::InternetShortcut => "internet-shortcut",
            ScriptKind::Registry => "registry",
        }
    }

    /// Script Encoder text (`#@~^`).
    pub fn is_encoded(self) -> bool {
        matches!(
            self,
            ScriptKind::JScriptEncoded | ScriptKind::VBScriptEncoded
        )
    }
}

/// What a signal is evidence of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    Download,
    /// Writes a file (ADODB.Stream `SaveToFile`, `Set-Content`, `CopyFile`, …).
    FileWrite,
    Execute,
    Persistence,
    Obfuscation,
    /// Hiding from the user or from defences (hidden window, execution policy, AMSI).
    Evasion,
    /// URLs, IP literals, UNC paths.
    Network,
    /// Where a `.url` file points.
    Target,
    /// A limit was hit.
    Limit,
}

/// One finding in a script: a stable id, its category, and a short excerpt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptSignal {
    /// Stable id (see [`assess`]).
    pub id: &'static str,
    pub category: Category,
    /// At most [`EVIDENCE_CHARS`] characters, attacker text: escape before printing.
    pub evidence: String,
}

impl ScriptSignal {
    pub(crate) fn new(id: &'static str, category: Category, evidence: &str) -> ScriptSignal {
        ScriptSignal {
            id,
            category,
            evidence: evidence.chars().take(EVIDENCE_CHARS).collect(),
        }
    }
}

/// What a script's text amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptRisk {
    pub kind: ScriptKind,
    /// In the order found, once per id.
    pub signals: Vec<ScriptSignal>,
    /// LOLBins the text starts (the shared list of the LNK module), in the list's order.
    pub lolbins: Vec<&'static str>,
    /// Something is fetched from the network.
    pub downloads: bool,
    /// Something is started (shell objects, Start-Process, IEX, `cmd /c`, LOLBins in a batch).
    pub executes: bool,
    /// Download and execute together: the dropper pattern.
    pub critical: bool,
    /// Only the first [`MAX_SCAN`] bytes were read.
    pub truncated: bool,
    /// For an Internet shortcut: its keys and their rating.
    pub shortcut: Option<(UrlShortcut, UrlRisk)>,
}

impl ScriptRisk {
    /// Whether a signal with this id fired.
    pub fn has(&self, id: &str) -> bool {
        self.signals.iter().any(|s| s.id == id)
    }
}

/// Classify a file as a script: by the extension of `name` first, by content when there is no
/// name or its extension is not a script's. Content rules are conservative (prose and mail are
/// never scripts; VBA module text is not VBScript). `.js`/`.vbs` (and `.jse`/`.vbe`) holding a
/// Script Encoder block come out as the encoded kinds.
pub fn classify(name: Option<&str>, data: &[u8]) -> Option<ScriptKind> {
    let head = data.get(..data.len().min(CLASSIFY_BYTES)).unwrap_or(data);
    if let Some(kind) = name.and_then(detect::by_name) {
        let encoded = || {
            encoder::has_marker(head)
                || encoder::has_marker(&text::decode(head, CLASSIFY_BYTES).text.into_bytes())
        };
        return Some(match kind {
            ScriptKind::JScript if encoded() => ScriptKind::JScriptEncoded,
            ScriptKind::VBScript if encoded() => ScriptKind::VBScriptEncoded,
            k => k,
        });
    }
    detect::by_content(&text::decode(head, CLASSIFY_BYTES).text)
}

// Script rules past the shared command-line ones.
const SHELL_EXEC: &str = concat!(
    r"(?i)\b(?:start-process|saps|invoke-item|shellexecute(?:ex)?)\b",
    r"|\[(?:system\.)?diagnostics\.process\]::start\b|\bprocess\.start\s*\(",
    r"|\bwin32_process\b[^\r\n]{0,200}\bcreate\b"
);
/// IEX spelled from other strings: `$VerbosePreference.ToString()[1,3]+'x'-join''`,
/// `(variable '*mdr*').name[3,11,2]-join''`, `[ScriptBlock]::Create`.
const IEX_BUILT: &str = concat!(
    r"(?i)\$(?:verbosepreference|shellid|pshome|env:comspec)\b[^;\r\n|]{0,40}",
    r"\[\s*\d+\s*(?:,\s*\d+\s*){1,2}\]",
    r#"|\(\s*(?:get-)?variable\s+['"][*?a-z]+['"]\s*\)\.name\s*\[\s*\d+\s*(?:,\s*\d+\s*){1,2}\]"#,
    r"|\[scriptblock\]::create\b"
);
const PERSISTENCE: &str = concat!(
    r"(?i)\bschtasks(?:\.exe)?\s+/create\b|\bregister-scheduledtask\b",
    r"|\breg(?:\.exe)?\s+add\s+[^\r\n]{0,200}?\\currentversion\\run",
    r"|\b(?:new|set)-itemproperty\b[^\r\n]{0,200}?\\currentversion\\run",
    r"|\bregwrite\b[^\r\n]{0,200}?\\currentversion\\run",
    r"|\\currentversion\\run(?:once)?\]|\\start menu\\programs\\startup\b|\bshell:startup\b"
);
const FILE_WRITE: &str = concat!(
    r"(?i)\bsavetofile\b|\bcreatetextfile\b|\b(?:set|add)-content\b|\bout-file\b",
    r"|\bcopyfile\b|\bwriteall(?:text|bytes)\b"
);
const SET_POLICY: &str = r"(?i)\bset-executionpolicy\b[^\r\n;]{0,60}\b(?:bypass|unrestricted)\b";
const DEFENCES: &str = concat!(
    r"(?i)\bset-mppreference\b|\badd-mppreference\b[^\r\n]{0,80}-exclusion",
    r"|\bamsiutils\b|\bamsiinitfailed\b"
);
const EVAL: &str = concat!(
    r#"(?im)\beval\s*\(|\bexecute(?:global)?\s*[("]|^\s*execute(?:global)?\s+[a-z_]"#,
    r"|\bexecuteglobal\b|\bexecutestatement\b|\bnew\s+function\s*\("
);
const JOIN: &str = concat!(
    r#"(?i)(?:^|[\s)'"\]])-join\b|\.join\s*\(\s*(?:''|"")\s*\)"#,
    r"|\.reverse\s*\(\s*\)"
);
const IP_URL: &str = r#"(?i)\b(?:https?|ftp)://\d{1,3}(?:\.\d{1,3}){3}\b[^\s'"<>|,;)]*"#;
const SHELL_OBJECT: &str = r"(?i)\b(?:wscript\.shell|shell\.application)\b";
const BATCH_START: &str = r#"(?im)^\s*@?start\s+(?:/[a-z]+\s+)*(?:""\s+)?[^\s/]"#;

/// One script rule: it fires when `pattern` matches at least `min` times, in the peeled view
/// or (`raw`) in the text as written, and only for `only` when that is set.
struct Rule {
    id: &'static str,
    category: Category,
    pattern: &'static str,
    min: usize,
    raw: bool,
    only: Option<ScriptKind>,
}

const fn rule(id: &'static str, category: Category, pattern: &'static str) -> Rule {
    Rule {
        id,
        category,
        pattern,
        min: 1,
        raw: false,
        only: None,
    }
}

impl Rule {
    const fn at_least(self, min: usize) -> Rule {
        Rule { min, ..self }
    }

    /// Obfuscation is measured on the text as written, before peeling removes it.
    const fn unpeeled(self) -> Rule {
        Rule { raw: true, ..self }
    }

    const fn only(self, kind: ScriptKind) -> Rule {
        Rule {
            only: Some(kind),
            ..self
        }
    }
}

const RULES: [Rule; 20] = {
    use Category::*;
    [
        rule("shell-exec", Execute, SHELL_EXEC),
        rule("invoke-expression", Execute, IEX_BUILT),
        rule("persistence", Persistence, PERSISTENCE),
        rule("file-write", FileWrite, FILE_WRITE),
        rule("execution-policy", Evasion, SET_POLICY),
        rule("defense-evasion", Evasion, DEFENCES),
        rule("dynamic-eval", Obfuscation, EVAL),
        rule("char-codes", Obfuscation, r"(?i)\bchrw?\s*\(\s*\d")
            .at_least(8)
            .unpeeled(),
        rule(
            "char-codes",
            Obfuscation,
            r"(?i)\bstring\.fromcharcode\s*\(",
        )
        .unpeeled(),
        rule("char-codes", Obfuscation, r"(?i)\[char\]\s*\d")
            .at_least(5)
            .unpeeled(),
        rule("string-join", Obfuscation, JOIN).unpeeled(),
        rule(
            "replace-chain",
            Obfuscation,
            r"(?i)-[ci]?replace\b|\.replace\s*\(",
        )
        .at_least(3)
        .unpeeled(),
        rule(
            "string-splitting",
            Obfuscation,
            r#"'\s*\+\s*'|"\s*\+\s*"|"\s*&\s*""#,
        )
        .at_least(20)
        .unpeeled(),
        rule("backtick-escapes", Obfuscation, r"[A-Za-z]`[A-Za-z]")
            .at_least(3)
            .unpeeled(),
        rule("caret-escapes", Obfuscation, r"[A-Za-z]\^[A-Za-z]")
            .at_least(3)
            .unpeeled(),
        rule(
            "env-substring",
            Obfuscation,
            r"(?i)%[a-z0-9_]+:~-?\d+(?:,-?\d+)?%",
        )
        .at_least(3)
        .unpeeled(),
        rule("base64-blob", Obfuscation, r"[A-Za-z0-9+/]{200,}={0,2}").unpeeled(),
        rule("ip-url", Network, IP_URL),
        rule("shell-object", Execute, SHELL_OBJECT),
        rule("shell-exec", Execute, BATCH_START).only(ScriptKind::Batch),
    ]
};

static COMPILED: LazyLock<Vec<Regex>> =
    LazyLock::new(|| RULES.iter().map(|r| re(r.pattern)).collect());

/// `.Run`/`.Exec`/`.ShellExecute` on a shell object.
static SHELL_CALL: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)\.(?:run|exec|shellexecute)\b\s*[("' ]"#));

/// A LOLBin started from a script: `name.exe`, or `name` followed by a switch, a quote, a URL
/// or a file name (`cmd /c`, `mshta http:`, `wscript x.vbs`) — not `WScript.Shell` or a
/// variable called `cmd`.
static PROGRAM: LazyLock<Regex> = LazyLock::new(|| {
    let (exe, bare): (Vec<&str>, Vec<&str>) = LOLBINS
        .split_whitespace()
        .partition(|n| n.ends_with(".exe"));
    let exe = exe
        .iter()
        .map(|n| regex::escape(n))
        .collect::<Vec<_>>()
        .join("|");
    let bare = bare.join("|");
    re(&format!(
        r#"(?i)(?:^|[^\w.$-])(?:({exe})\b|({bare})(?:\.exe\b|\s+(?:[-/][a-z?/]|["'%]|https?:|[\w%\\:~-]+\.[a-z]{{2,4}}\b)))"#
    ))
});

/// LOLBins started in `text`, in the order of the shared list.
fn programs_in(text: &str) -> Vec<&'static str> {
    let mut seen: Vec<String> = Vec::new();
    for c in PROGRAM.captures_iter(text) {
        if let Some(m) = c.get(1).or_else(|| c.get(2)) {
            let name = m.as_str().to_ascii_lowercase();
            if !seen.contains(&name) {
                seen.push(name);
            }
            if seen.len() >= LOLBINS.len() {
                break;
            }
        }
    }
    LOLBINS
        .split_whitespace()
        .filter(|n| seen.iter().any(|s| s == n))
        .map(|n| n.trim_end_matches(".exe"))
        .collect()
}

/// Up to three distinct matches (case-insensitive), joined.
fn evidence(regex: &Regex, text: &str) -> Option<String> {
    let mut shown: Vec<String> = Vec::new();
    for m in regex.find_iter(text).take(COUNT_CAP) {
        let s = m.as_str().trim().to_string();
        if !shown.iter().any(|x| x.eq_ignore_ascii_case(&s)) {
            shown.push(s);
            if shown.len() == EVIDENCE_MATCHES {
                break;
            }
        }
    }
    (!shown.is_empty()).then(|| shown.join(", "))
}

/// The category of a shared command-line signal id.
fn shared_category(id: &str) -> Category {
    match id {
        "download" => Category::Download,
        "url" | "unc-path" => Category::Network,
        "hidden-window" | "no-profile" | "execution-policy" => Category::Evasion,
        "delayed-expansion" => Category::Obfuscation,
        _ => Category::Execute,
    }
}

/// LOLBins that fetch what they run when given a URL.
const REMOTE_LOADERS: [&str; 7] = [
    "mshta",
    "msiexec",
    "regsvr32",
    "rundll32",
    "certutil",
    "bitsadmin",
    "curl",
];

/// Signals once per id, in the order found.
struct Found(Vec<ScriptSignal>);

impl Found {
    fn add(&mut self, id: &'static str, category: Category, evidence: &str) {
        if !self.has(id) {
            self.0.push(ScriptSignal::new(id, category, evidence));
        }
    }

    fn has(&self, id: &str) -> bool {
        self.0.iter().any(|s| s.id == id)
    }
}

/// Decode Script Encoder blocks in place; say what happened.
fn decode_blocks(body: String, found: &mut Found) -> String {
    if !encoder::has_marker(body.as_bytes()) {
        return body;
    }
    match encoder::decode(body.as_bytes()) {
        Ok(d) => {
            let mut note = format!("{} Script Encoder block(s) decoded", d.blocks);
            if d.mismatches > 0 {
                note.push_str(&format!(
                    ", {} with a wrong length or checksum",
                    d.mismatches
                ));
            }
            if d.capped {
                note.push_str(&format!(", more than {} blocks", encoder::MAX_BLOCKS));
            }
            found.add("encoded-script", Category::Obfuscation, &note);
            String::from_utf8_lossy(&d.text).into_owned()
        }
        Err(e) => {
            found.add(
                "encoded-script",
                Category::Obfuscation,
                &format!("undecodable: {e}"),
            );
            body
        }
    }
}

/// Rate a script's text. Signal ids (stable):
/// - shared with LNK: `encoded-command`, `hidden-window`, `no-profile`, `execution-policy`,
///   `comspec`, `invoke-expression`, `download`, `url`, `unc-path`, `cmd-c`, `delayed-expansion`;
/// - execution: `shell-exec` (shell object + `.Run`/`.Exec`/`ShellExecute`, `Start-Process`,
///   `Invoke-Item`, `[Diagnostics.Process]::Start`, WMI `Win32_Process` Create, `start` in a
///   batch), `shell-object`;
/// - `persistence` (`schtasks /create`, Run keys by `reg add`/`New-ItemProperty`/`RegWrite` or
///   a `.reg` section, the Startup folder), `file-write`, `defense-evasion`;
/// - obfuscation: `encoded-script`, `dynamic-eval`, `char-codes`, `string-join`,
///   `replace-chain`, `string-splitting`, `backtick-escapes`, `caret-escapes`, `env-substring`,
///   `base64-blob`;
/// - `ip-url`; for `.url` files the target ids of [`assess_url_shortcut`] (or
///   `malformed-shortcut`); `binary-content` (the "script" is not text); `truncated`.
///
/// `downloads`: a downloader, or a URL handed to a LOLBin that fetches what it runs (mshta,
/// msiexec, regsvr32, rundll32, certutil, bitsadmin, curl). `executes`: `shell-exec`,
/// `invoke-expression`, `cmd-c`, `encoded-command`, a shell object with `.Run`/`.Exec`, a
/// LOLBin other than cmd in a batch file, or a LOLBin in a `.reg` Run value.
pub fn assess(kind: ScriptKind, data: &[u8]) -> ScriptRisk {
    let t = text::decode(data, MAX_SCAN);
    let mut found = Found(Vec::new());
    if t.truncated {
        let note = format!("only the first {MAX_SCAN} of {} bytes assessed", data.len());
        found.add("truncated", Category::Limit, &note);
    }
    let shortcut = (kind == ScriptKind::InternetShortcut)
        .then(|| shortcut_signals(data, &mut found))
        .flatten();
    if text::looks_binary(&t.text) {
        let note = "not text: NUL or control bytes";
        found.add("binary-content", Category::Limit, note);
    }
    let body = decode_blocks(t.text, &mut found);
    let view = text::peel(&body);

    let mut shared = Signals::default();
    let decoded = cmdline::powershell_switches(&view, &mut shared);
    let mut scan = view;
    if let Some(d) = decoded {
        scan.push('\n');
        scan.push_str(&d);
    }
    // No program names or keywords inside base64 runs.
    let blanked = BLOB.replace_all(&scan, " ");
    let mut lolbins = programs_in(&blanked);
    cmdline::command_line_signals(&blanked, None, &mut lolbins, &mut shared);
    for (id, detail) in &shared.list {
        // Up to three downloaders and URLs rather than the first one.
        let more = match *id {
            "download" => evidence(&DOWNLOAD, &blanked),
            "url" => evidence(&URL, &scan),
            _ => None,
        };
        found.add(id, shared_category(id), more.as_deref().unwrap_or(detail));
    }
    apply_rules(kind, &body, &blanked, &mut found);

    // A shell object whose `.Run`/`.Exec` is called starts something.
    if found.has("shell-object") && !found.has("shell-exec") && SHELL_CALL.is_match(&blanked) {
        let call = evidence(&SHELL_CALL, &blanked).unwrap_or_default();
        let note = format!("shell object {call}");
        found.add("shell-exec", Category::Execute, &note);
    }
    let executes = [
        "shell-exec",
        "invoke-expression",
        "cmd-c",
        "encoded-command",
    ]
    .iter()
    .any(|id| found.has(id))
        || (kind == ScriptKind::Batch && lolbins.iter().any(|l| *l != "cmd"))
        || (kind == ScriptKind::Registry && found.has("persistence") && !lolbins.is_empty());
    let downloads = found.has("download")
        || (found.has("url") && lolbins.iter().any(|l| REMOTE_LOADERS.contains(l)));
    ScriptRisk {
        kind,
        signals: found.0,
        lolbins,
        downloads,
        executes,
        critical: downloads && executes,
        truncated: t.truncated,
        shortcut,
    }
}

/// Parse and rate a `.url` file, adding its target signals (or `malformed-shortcut`).
fn shortcut_signals(data: &[u8], found: &mut Found) -> Option<(UrlShortcut, UrlRisk)> {
    let Some(s) = parse_url_shortcut(data) else {
        let note = "no [InternetShortcut] section";
        found.add("malformed-shortcut", Category::Target, note);
        return None;
    };
    let r = assess_url_shortcut(&s);
    for (sig, _) in &r.signals {
        found.add(sig.id, sig.category, &sig.evidence);
    }
    Some((s, r))
}

/// The script rules of [`RULES`] over the unpeeled `body` or the peeled `view`.
fn apply_rules(kind: ScriptKind, body: &str, view: &str, found: &mut Found) {
    for (r, regex) in RULES.iter().zip(COMPILED.iter()) {
        if r.only.is_some_and(|k| k != kind) || found.has(r.id) {
            continue;
        }
        let hay = if r.raw { body } else { view };
        if r.min <= 1 {
            if let Some(ev) = evidence(regex, hay) {
                found.add(r.id, r.category, &ev);
            }
            continue;
        }
        let count = regex.find_iter(hay).take(COUNT_CAP).count();
        if count >= r.min {
            let first = regex.find(hay).map(|m| m.as_str()).unwrap_or_default();
            let decoded = (r.id == "char-codes")
                .then(|| {
                    text::decoded_literals(hay, EVIDENCE_CHARS * 4)
                        .into_iter()
                        .next()
                })
                .flatten();
            let ev = match decoded {
                Some(lit) => format!("{count} times, decoding to {lit:?}"),
                None => format!("{count} times, e.g. {first}"),
            };
            found.add(r.id, r.category, &ev);
        }
    }
}
