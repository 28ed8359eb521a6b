//! Internet shortcuts (`.url`): an INI file whose `[InternetShortcut]` section holds `URL=`,
//! and optionally `IconFile=`, `IconIndex=`, `WorkingDirectory=` (Windows also writes
//! `[DEFAULT] BASEURL=` and `Modified=`). Explorer opens the URL with its protocol handler on a
//! double-click, and fetches `IconFile` just to draw the icon.
//!
//! Spec §2.15: an http(s) target is low; `file:`, a UNC path, WebDAV (`\\host@SSL\…`,
//! `DavWWWRoot`, `\\host@port\…`), `search-ms:`/`search:`, an executable target or a remote
//! IconFile is high. Other protocol handlers abused by droppers (`ms-msdt:`, `ms-officecmd:`,
//! `ms-word:`, `mhtml:`, `javascript:`, `shell:` …) are high too; a scheme nobody expects is
//! medium.
//!
//! Text: UTF-8, UTF-16LE/BE (with or without BOM) or ANSI (Windows-1252). At most
//! [`MAX_LINES`] lines are read and values are cut at [`MAX_VALUE`] characters (an anomaly
//! says so); the first occurrence of a key wins, as `GetPrivateProfileString` does.

use super::{Category, ScriptSignal, text};
use crate::cmdline::EXEC_EXTS;

/// Lines read at most.
pub const MAX_LINES: usize = 4096;
/// Longest value kept.
pub const MAX_VALUE: usize = 4096;
/// Bytes of a `.url` file decoded at most.
const MAX_BYTES: usize = 1 << 20;

/// The keys of a parsed `.url` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlShortcut {
    /// `URL=` of `[InternetShortcut]`: what a double-click opens.
    pub url: Option<String>,
    pub icon_file: Option<String>,
    pub icon_index: Option<i32>,
    pub working_directory: Option<String>,
    /// `BASEURL=` of `[DEFAULT]`.
    pub base_url: Option<String>,
    /// Damage or oddities: duplicate keys, cut values, a bad IconIndex, too many lines.
    pub anomalies: Vec<String>,
}

/// How bad a shortcut's targets are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum UrlLevel {
    Low,
    Medium,
    High,
}

/// The rating of a `.url` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlRisk {
    /// The worst of the signals (low when there are none).
    pub level: UrlLevel,
    /// Stable ids: `web-target`, `no-target`, `file-target`, `unc-target`, `webdav-target`,
    /// `search-ms-target`, `protocol-handler`, `unusual-scheme`, `executable-target`,
    /// `ip-host`, `remote-icon`, `remote-working-directory`.
    pub signals: Vec<(ScriptSignal, UrlLevel)>,
}

/// Parse an Internet shortcut; `None` when there is no `[InternetShortcut]` section.
pub fn parse_url_shortcut(data: &[u8]) -> Option<UrlShortcut> {
    let t = text::decode(data, MAX_BYTES);
    let mut s = UrlShortcut::default();
    if t.truncated {
        s.anomalies
            .push(format!("only the first {MAX_BYTES} bytes read"));
    }
    let mut section = String::new();
    let mut found = false;
    let mut lines = 0usize;
    for raw in t.text.lines() {
        lines += 1;
        if lines > MAX_LINES {
            s.anomalies.push(format!("more than {MAX_LINES} lines"));
            break;
        }
        let line = raw.trim_matches(|c: char| c.is_whitespace() || c == '\0');
        if line.is_empty() || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_ascii_lowercase();
            found |= section == "internetshortcut";
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        set_key(&mut s, &section, key.trim(), value.trim());
    }
    found.then_some(s)
}

fn set_key(s: &mut UrlShortcut, section: &str, key: &str, value: &str) {
    let key = key.to_ascii_lowercase();
    let slot = match (section, key.as_str()) {
        ("internetshortcut", "url") => &mut s.url,
        ("internetshortcut", "iconfile") => &mut s.icon_file,
        ("internetshortcut", "workingdirectory") => &mut s.working_directory,
        ("default", "baseurl") => &mut s.base_url,
        ("internetshortcut", "iconindex") => {
            match (s.icon_index, value.parse::<i32>()) {
                (None, Ok(n)) => s.icon_index = Some(n),
                (None, Err(_)) => s
                    .anomalies
                    .push(format!("IconIndex {:?} is no number", cut(value, 40))),
                (Some(_), _) => s.anomalies.push("duplicate IconIndex".into()),
            }
            return;
        }
        _ => return,
    };
    if slot.is_some() {
        s.anomalies
            .push(format!("duplicate {key} (the first one counts)"));
        return;
    }
    if value.chars().count() > MAX_VALUE {
        s.anomalies
            .push(format!("{key} cut at {MAX_VALUE} characters"));
    }
    *slot = Some(cut(value, MAX_VALUE));
}

fn cut(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Schemes that hand the click to something that runs code or reaches a share.
const HANDLERS: &str = "ms-msdt ms-officecmd ms-word ms-excel ms-powerpoint ms-visio ms-access \
    ms-project ms-publisher ms-spd ms-infopath ms-its its mk mhtml javascript vbscript shell \
    ms-appinstaller ms-settings ms-cxh ms-cxh-full ms-search";
/// Schemes that are plain browsing or mail.
const WEB: &str = "http https ftp mailto news nntp";

/// `scheme` of `target` if it has one (a drive letter `C:` is no scheme).
fn scheme(target: &str) -> Option<String> {
    let (s, _) = target.split_once(':')?;
    let ok = s.len() > 1
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c));
    ok.then(|| s.to_ascii_lowercase())
}

/// UNC or a remote `file:` URL: `\\host\…`, `//host/…`, `file://host/…`, `file:\\host\…`.
fn remote_path(target: &str) -> bool {
    let lower = target.to_ascii_lowercase();
    let rest = lower.strip_prefix("file:").unwrap_or(&lower);
    let rest = rest.replace('\\', "/");
    let host = rest
        .strip_prefix("////")
        .or_else(|| rest.strip_prefix("//"))
        .map(|r| r.split('/').next().unwrap_or_default());
    host.is_some_and(|h| !h.is_empty() && h != "localhost" && !(h.len() == 2 && h.ends_with(':')))
}

/// WebDAV: `DavWWWRoot`, `@SSL`, or a host with `@port` (`\\host@8080\…`).
fn webdav(target: &str) -> bool {
    let lower = target.to_ascii_lowercase();
    if lower.contains("davwwwroot") || lower.contains("@ssl") {
        return true;
    }
    let rest = lower.strip_prefix("file:").unwrap_or(&lower);
    let host = rest
        .trim_start_matches(['/', '\\'])
        .split(['/', '\\'])
        .next()
        .unwrap_or_default();
    host.rsplit_once('@').is_some_and(|(h, port)| {
        !h.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
    })
}

/// The extension of the last path segment (query and fragment dropped; a URL's host is no
/// segment: `https://example.com` has no extension).
fn extension(target: &str) -> Option<String> {
    let path = target.split(['?', '#']).next().unwrap_or(target);
    let path = match path.split_once("://") {
        Some((_, rest)) => rest.split_once(['/', '\\']).map_or("", |(_, p)| p),
        None => path,
    };
    let last = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let (_, ext) = last.trim_end_matches(['.', ' ']).rsplit_once('.')?;
    Some(ext.to_ascii_lowercase())
}

fn ip_host(target: &str) -> Option<&str> {
    let rest = target.split_once("://")?.1;
    let host = rest.split(['/', '?', '#', ':']).next()?;
    let host = host.rsplit('@').next()?;
    let parts: Vec<&str> = host.split('.').collect();
    (parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit())))
    .then_some(host)
}

/// Rate a parsed shortcut (spec §2.15).
pub fn assess_url_shortcut(s: &UrlShortcut) -> UrlRisk {
    let mut signals: Vec<(ScriptSignal, UrlLevel)> = Vec::new();
    let mut add = |id: &'static str, evidence: &str, level: UrlLevel| {
        if !signals.iter().any(|(s, _)| s.id == id) {
            signals.push((ScriptSignal::new(id, Category::Target, evidence), level));
        }
    };
    let target = s.url.as_deref().map(str::trim).unwrap_or_default();
    let target_scheme = scheme(target);
    if target.is_empty() {
        add("no-target", "no URL= in [InternetShortcut]", UrlLevel::Low);
    } else if remote_path(target) {
        let id = if webdav(target) {
            "webdav-target"
        } else {
            "unc-target"
        };
        add(id, target, UrlLevel::High);
    } else {
        match target_scheme.as_deref() {
            Some("file") | None => add("file-target", target, UrlLevel::High),
            Some("search-ms" | "search") => add("search-ms-target", target, UrlLevel::High),
            Some(sc) if HANDLERS.split_whitespace().any(|h| h == sc) => {
                add("protocol-handler", target, UrlLevel::High);
            }
            Some(sc) if WEB.split_whitespace().any(|h| h == sc) => {
                add("web-target", target, UrlLevel::Low);
            }
            Some(_) => add("unusual-scheme", target, UrlLevel::Medium),
        }
    }
    if let Some(ext) = extension(target)
        && EXEC_EXTS.split_whitespace().any(|e| e == ext)
    {
        add("executable-target", target, UrlLevel::High);
    }
    if let Some(ip) = ip_host(target) {
        add("ip-host", ip, UrlLevel::Low);
    }
    if let Some(icon) = s.icon_file.as_deref().map(str::trim)
        && (remote_path(icon) || matches!(scheme(icon).as_deref(), Some("http" | "https" | "ftp")))
    {
        add("remote-icon", icon, UrlLevel::High);
    }
    if let Some(dir) = s.working_directory.as_deref().map(str::trim)
        && remote_path(dir)
    {
        add("remote-working-directory", dir, UrlLevel::High);
    }
    let level = signals
        .iter()
        .map(|(_, l)| *l)
        .max()
        .unwrap_or(UrlLevel::Low);
    UrlRisk { level, signals }
}
