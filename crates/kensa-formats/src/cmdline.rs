//! Command lines as attackers write them: the LOLBin list and the signals that a shortcut's
//! arguments (§2.8) and a standalone script (§2.15) share — PowerShell switches (`-enc`, `-w
//! hidden`, `-nop`, `-ep bypass`, abbreviations included), `IEX`, downloaders, URLs, UNC/WebDAV
//! paths, `cmd /c`, `/v:on`, `%COMSPEC%`.
//!
//! One list, one set of patterns: `lnk` and `script` both call in here. Everything is linear in
//! the text: regexes only (Rust's engine has no backtracking blow-up) and single passes; details
//! are cut to [`DETAIL_CHARS`] characters.

use std::sync::LazyLock;

use base64::Engine as _;
use regex::Regex;

/// Program names; those written with `.exe` only count with it (short names clash with words).
pub(crate) const LOLBINS: &str = "cmd powershell pwsh mshta wscript cscript rundll32 regsvr32 \
    certutil bitsadmin msiexec forfiles conhost curl wmic schtasks msbuild installutil regasm \
    regsvcs odbcconf cmstp msdt pcalua scriptrunner syncappvpublishingserver hh.exe ftp.exe wsl.exe";
/// Extensions Windows runs (or hands to a script host) on a double-click.
pub(crate) const EXEC_EXTS: &str =
    "exe com scr pif bat cmd ps1 vbs vbe js jse wsf wsh hta dll cpl msi lnk";
/// Longest detail kept in a signal.
pub(crate) const DETAIL_CHARS: usize = 160;

/// A pattern whose `\b`, `\d`, `\w` and `\s` are ASCII: the fast engines keep working on large
/// non-ASCII texts (a Unicode `\b` makes the lazy DFA give up there), and the patterns compile in
/// a fraction of the time and memory (a Unicode `\w{1,64}` alone is hundreds of kilobytes of
/// automaton). Script syntax is ASCII; names and text inside it are matched by literals.
pub(crate) fn re(pat: &str) -> Regex {
    let mut out = String::with_capacity(pat.len() + 16);
    let mut chars = pat.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {}
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                continue;
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
                continue;
            }
            _ => {
                out.push(c);
                continue;
            }
        }
        let Some(n) = chars.next() else {
            out.push('\\');
            break;
        };
        let ascii = match (n, in_class) {
            ('b', false) => Some("(?-u:\\b)"),
            ('d', false) => Some("(?-u:\\d)"),
            ('w', false) => Some("(?-u:\\w)"),
            ('s', false) => Some("(?-u:\\s)"),
            ('d', true) => Some("0-9"),
            ('w', true) => Some("0-9A-Za-z_"),
            ('s', true) => Some("\\t\\n\\x0B\\x0C\\r "),
            _ => None,
        };
        match ascii {
            Some(a) => out.push_str(a),
            None => {
                out.push('\\');
                out.push(n);
            }
        }
    }
    Regex::new(&out).expect("static pattern compiles")
}

/// Base64-looking runs: blanked before program names are looked for.
pub(crate) static BLOB: LazyLock<Regex> = LazyLock::new(|| re(r"[A-Za-z0-9+/=]{40,}"));
pub(crate) static IEX: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(?:iex|invoke-expression)\b"));
/// Downloaders: .NET/PowerShell, the WSH HTTP objects, and command-line tools.
pub(crate) static DOWNLOAD: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?i)\b(?:download(?:string|file|data)|invoke-(?:webrequest|restmethod)|iwr|irm|",
        r"start-bitstransfer|net\.webclient|wget|curl|(?:msxml2|microsoft)\.(?:server)?xmlhttp|",
        r"winhttp\.winhttprequest)\b|[-/](?:urlcache|transfer)\b"
    ))
});
pub(crate) static URL: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)\b(?:https?|ftp)://[^\s"'<>|]+"#));
/// `\\host\share`, `\\host@SSL\…`, `\\host@8080\…` (WebDAV).
pub(crate) static UNC: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)(?:^|[\s"'=(])(\\\\[a-z0-9._-]+(?:@ssl)?(?:@\d+)?\\[^\s"']*)"#));
static CMD_C: LazyLock<Regex> = LazyLock::new(|| {
    re(r#"(?i)(?:\bcmd(?:\.exe)?["']?|%comspec%)\s+(?:/[a-z](?::[a-z]+)?\s+)*/[ck]\b"#)
});
static ARGS_C: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^\s*(?:/[a-z](?::[a-z]+)?\s+)*/[ck]\b"));
static V_ON: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)/v:on\b"));

/// Signals in the order found, once per id; `exec` marks download/exec evidence.
#[derive(Default)]
pub(crate) struct Signals {
    pub(crate) list: Vec<(&'static str, String)>,
    pub(crate) exec: bool,
}

impl Signals {
    /// Once per id; the detail is cut to [`DETAIL_CHARS`] characters.
    pub(crate) fn add(&mut self, id: &'static str, detail: &str, exec: bool) {
        if !self.has(id) {
            let detail: String = detail.chars().take(DETAIL_CHARS).collect();
            self.list.push((id, detail));
            self.exec |= exec;
        }
    }

    pub(crate) fn has(&self, id: &str) -> bool {
        self.list.iter().any(|(i, _)| *i == id)
    }
}

/// `name` as a program in lower-cased `hay`: not in a word, an extension (`x.cmd`) or a folder
/// (`\PowerShell\7`).
pub(crate) fn names_program(hay: &str, name: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-');
    let mut from = 0;
    while let Some(i) = hay.get(from..).and_then(|h| h.find(name)) {
        let (start, end) = (from + i, from + i + name.len());
        let before = hay.get(..start).and_then(|h| h.chars().next_back());
        let after = hay.get(end..).and_then(|h| h.chars().next());
        if !before.is_some_and(|c| c == '.' || is_word(c))
            && !after.is_some_and(|c| c == '\\' || is_word(c))
        {
            return true;
        }
        from = end;
    }
    false
}

/// The last path component, lower-cased, quotes trimmed.
pub(crate) fn basename(path: &str) -> String {
    let p = path.trim().trim_matches('"');
    p.rsplit(['\\', '/']).next().unwrap_or(p).to_lowercase()
}

/// Bytes as UTF-16LE (an odd last byte is dropped).
pub(crate) fn utf16le(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// An `-EncodedCommand` value: base64 of UTF-16LE (UTF-8 accepted too).
pub(crate) fn decode_encoded(value: &str) -> Option<String> {
    let body = value.trim_end_matches('=');
    let body = body.get(..body.len() - usize::from(body.len() % 4 == 1))?;
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(body)
        .ok()?;
    let zeros = bytes.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    let wide = bytes.len() >= 2 && zeros * 2 >= bytes.len() / 2;
    let t = if wide {
        utf16le(&bytes)
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let t = t.trim_end_matches('\0');
    (!t.is_empty()).then(|| t.to_string())
}

/// PowerShell switches (`-w hidden`, `-nop`, `-ep bypass`, `-enc …`), abbreviations included.
/// Returns the decoded command, if any.
pub(crate) fn powershell_switches(args: &str, sig: &mut Signals) -> Option<String> {
    let tokens: Vec<&str> = args.split_whitespace().collect();
    let mut decoded = None;
    for (i, tok) in tokens.iter().enumerate() {
        let dashes = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
        let Some(rest) = tok.trim_start_matches(['"', '\'']).strip_prefix(dashes) else {
            continue;
        };
        let (name, inline) = rest
            .split_once(':')
            .map_or((rest, None), |(n, v)| (n, Some(v)));
        let name = name.to_lowercase();
        let value = inline
            .or_else(|| tokens.get(i + 1).copied())
            .unwrap_or_default();
        // A script's `"powershell -enc …", 0` ends the value with punctuation.
        let value = value
            .trim_end_matches([',', ';', ')'])
            .trim_matches(['"', '\'']);
        let abbrev = |full: &str, min: usize| name.len() >= min && full.starts_with(&name);
        let b64 = value.len() >= 8
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
        let lower = value.to_lowercase();
        if (name == "e" || name == "ec" || abbrev("encodedcommand", 2)) && b64 {
            if sig.has("encoded-command") {
                continue; // the first one is reported and decoded
            }
            let text = decode_encoded(value);
            let detail = match &text {
                Some(t) => format!("-{name} decodes to {t:?}"),
                None => format!("-{name} with an undecodable value"),
            };
            sig.add("encoded-command", &detail, true);
            decoded = decoded.or(text);
        } else if abbrev("windowstyle", 1) && matches!(lower.as_str(), "hidden" | "1") {
            sig.add("hidden-window", &format!("-{name} {value}"), false);
        } else if abbrev("noprofile", 3) {
            sig.add("no-profile", &format!("-{name}"), false);
        } else if (name == "ep" || abbrev("executionpolicy", 2))
            && matches!(lower.as_str(), "bypass" | "unrestricted")
        {
            sig.add("execution-policy", &format!("-{name} {value}"), false);
        }
    }
    decoded
}

/// LOLBins in lower-cased `lower`, in the order of [`LOLBINS`], `.exe` trimmed.
pub(crate) fn lolbins_in(lower: &str) -> Vec<&'static str> {
    LOLBINS
        .split_whitespace()
        .filter(|n| names_program(lower, n))
        .map(|n| n.trim_end_matches(".exe"))
        .collect()
}

/// The signals a command line shares with a script: `%COMSPEC%`, IEX, downloaders, URLs, UNC
/// paths, `cmd /c` and `/v:on`, added to `sig` in that order. `text` should have its base64 runs
/// blanked ([`BLOB`]). `cmd_args`: arguments of a program known to be cmd.exe (a shortcut's
/// target), where a bare `/c` counts. `lolbins` gains `cmd` for `%COMSPEC%`.
pub(crate) fn command_line_signals(
    text: &str,
    cmd_args: Option<&str>,
    lolbins: &mut Vec<&'static str>,
    sig: &mut Signals,
) {
    if text.to_lowercase().contains("%comspec%") {
        sig.add("comspec", "%COMSPEC% (cmd.exe)", false);
        if !lolbins.contains(&"cmd") {
            lolbins.insert(0, "cmd");
        }
    }
    let found = |r: &Regex, s: &str| r.find(s).map(|m| m.as_str().trim().to_string());
    if let Some(m) = found(&IEX, text) {
        sig.add("invoke-expression", &m, true);
    }
    if let Some(m) = found(&DOWNLOAD, text) {
        sig.add("download", &m, true);
    }
    if let Some(m) = found(&URL, text) {
        sig.add("url", &m, true);
    }
    if let Some(c) = UNC.captures(text).and_then(|c| c.get(1)) {
        sig.add("unc-path", c.as_str(), true);
    }
    if let Some(m) = found(&CMD_C, text) {
        sig.add("cmd-c", &m, true);
    } else if let Some(m) = cmd_args.and_then(|a| found(&ARGS_C, a)) {
        sig.add("cmd-c", &format!("cmd.exe {m}"), true);
    }
    if let Some(m) = found(&V_ON, text) {
        sig.add("delayed-expansion", &m, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdline_ascii_word_boundaries_and_lists() {
        let r = re(r"(?i)\bcmd\b|\\bin");
        assert!(r.is_match("run CMD now") && r.is_match(r"c:\bin"));
        assert!(!r.is_match("cmdlet") && !r.is_match("écmdx"));
        assert!(lolbins_in("c:\\windows\\system32\\cmd.exe /c x").contains(&"cmd"));
        assert!(lolbins_in("hh x").is_empty() && lolbins_in("hh.exe x") == ["hh"]);
        assert!(EXEC_EXTS.split_whitespace().any(|e| e == "hta"));
        let mut sig = Signals::default();
        sig.add("a", &"x".repeat(500), false);
        sig.add("a", "again", true);
        assert_eq!(sig.list.len(), 1);
        assert_eq!(sig.list[0].1.len(), DETAIL_CHARS);
        assert!(!sig.exec);
    }
}
