//! Where a path points.
//!
//! [`components`] canonicalises a path: `%VAR%` expanded with [`Env::default_for_user`] for
//! `C:\Users\user` when the caller has not expanded it; prefixes `\\?\`, `\??\`, `\\.\`,
//! `\Device\HarddiskVolumeN\`, `\SystemRoot\` (= `C:\Windows`) removed; drive letter dropped;
//! components split on `\` and `/`, lowercased, trailing dots and spaces trimmed (Win32 does so),
//! `.` dropped and `..` applied (never above the root). A relative name resolves against
//! `Windows\System32`, as the loader does for `rundll32 acproxy.dll,…`, except that one starting
//! with `System32\` or `SysWOW64\` (a service ImagePath) resolves against `Windows`. UNC paths (`\\server\…`,
//! `\\?\UNC\…`) classify as [`Place::Other`].
//!
//! [`classify`] labels, first match wins:
//! 1. `Windows\Temp` → user-writable `"Windows\\Temp"`; anything else under `Windows` (or `WINNT`)
//!    → [`Place::System`].
//! 2. `Program Files`, `Program Files (x86)` (and 8.3 `PROGRA~1`, `PROGRA~2`) → [`Place::ProgramFiles`].
//! 3. Anywhere: `AppData\Roaming`, `AppData\Local\Temp`, `AppData\LocalLow`, `AppData\Local`, other
//!    `AppData`; XP's `Application Data`, `Local Settings\Temp`, `Local Settings\Application Data`.
//! 4. Top level: `ProgramData` (8.3 `PROGRA~3`), `Users\Public`, `Users\All Users` (= ProgramData),
//!    other `Users\…` (`"Users"`), `Documents and Settings`, `Temp`/`TMP`, `$Recycle.Bin`, `PerfLogs`.
//! 5. Otherwise [`Place::Other`].
//!
//! 8.3 names of the Program Files/ProgramData folders depend on creation order; the usual
//! assignment is assumed. World-writable folders inside `Windows` (`Tasks`, `Tracing`, spool) count
//! as system here.

use super::Env;

/// A coarse location class for persistence rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    /// Under `\Windows\` (System32, SysWOW64, the Windows folder itself), except `Windows\Temp`.
    System,
    /// Under `\Program Files\` or `\Program Files (x86)\`.
    ProgramFiles,
    /// A place a normal user can write, labelled: `"AppData\\Roaming"`, `"AppData\\Local\\Temp"`,
    /// `"AppData\\LocalLow"`, `"AppData\\Local"`, `"AppData"`, `"ProgramData"`, `"Users\\Public"`,
    /// `"Users"` (elsewhere in a profile), `"Windows\\Temp"`, `"Temp"` (`X:\Temp`, `X:\TMP`),
    /// `"$Recycle.Bin"`, `"PerfLogs"`.
    UserWritable(&'static str),
    /// Anything else: other folders, other drives' roots, UNC shares.
    Other,
}

/// Canonical components of a path (module notes) and whether it was relative (resolved against
/// System32). `None` for UNC paths and blank input.
pub fn components(path: &str) -> Option<(Vec<String>, bool)> {
    let trimmed = path.trim().trim_matches('"');
    if trimmed.is_empty() {
        return None;
    }
    let expanded;
    let mut p: &str = if trimmed.contains('%') {
        expanded = Env::default_for_user("C:\\Users\\user").expand(trimmed);
        &expanded
    } else {
        trimmed
    };
    for prefix in ["\\\\?\\", "\\??\\", "\\\\.\\"] {
        if let Some(rest) = p.strip_prefix(prefix) {
            p = rest;
            break;
        }
    }
    if starts_with_ignore_case(p, "UNC\\") || p.starts_with("\\\\") || p.starts_with("//") {
        return None;
    }
    let (mut comps, rest, relative): (Vec<String>, &str, bool) = if let Some(after) =
        strip_device_volume(p)
    {
        (Vec::new(), after, false)
    } else if let Some(after) = strip_prefix_ignore_case(p, "\\SystemRoot\\") {
        (vec!["windows".into()], after, false)
    } else if let [d, b':', ..] = p.as_bytes()
        && d.is_ascii_alphabetic()
    {
        (Vec::new(), p.get(2..).unwrap_or(""), false)
    } else if p.starts_with(['\\', '/']) {
        (Vec::new(), p, false)
    } else if starts_with_ignore_case(p, "system32\\") || starts_with_ignore_case(p, "syswow64\\") {
        // Service ImagePaths are relative to the Windows folder: `system32\drivers\x.sys`.
        (vec!["windows".into()], p, true)
    } else {
        (vec!["windows".into(), "system32".into()], p, true)
    };
    for part in rest.split(['\\', '/']) {
        let part = part.trim_end_matches(' ');
        if part == ".." {
            comps.pop();
            continue;
        }
        // Win32 drops trailing dots and spaces; `.` and `...` vanish entirely.
        let part = part.trim_end_matches(['.', ' ']);
        if !part.is_empty() {
            comps.push(part.to_lowercase());
        }
    }
    Some((comps, relative))
}

/// `\Device\HarddiskVolumeN\rest` → `rest` (with its leading separator).
fn strip_device_volume(p: &str) -> Option<&str> {
    let after = strip_prefix_ignore_case(p, "\\Device\\HarddiskVolume")?;
    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0).then(|| &after[digits..])
}

/// Classifies a path (module notes); case-insensitive.
pub fn classify(path: &str) -> Place {
    let Some((comps, _)) = components(path) else {
        return Place::Other;
    };
    let c: Vec<&str> = comps.iter().map(String::as_str).collect();
    match c.first().copied() {
        Some("windows" | "winnt") => {
            return if c.get(1) == Some(&"temp") {
                Place::UserWritable("Windows\\Temp")
            } else {
                Place::System
            };
        }
        Some("program files" | "program files (x86)" | "progra~1" | "progra~2") => {
            return Place::ProgramFiles;
        }
        _ => {}
    }
    if let Some(label) = appdata_label(&c) {
        return Place::UserWritable(label);
    }
    let label = match (c.first().copied(), c.get(1).copied()) {
        (Some("programdata" | "progra~3"), _) => "ProgramData",
        (Some("users"), Some("public")) => "Users\\Public",
        (Some("users" | "documents and settings"), Some("all users")) => "ProgramData",
        (Some("users" | "documents and settings"), Some(_)) => "Users",
        (Some("temp" | "tmp"), _) => "Temp",
        (Some("$recycle.bin"), _) => "$Recycle.Bin",
        (Some("perflogs"), _) => "PerfLogs",
        _ => return Place::Other,
    };
    Place::UserWritable(label)
}

/// The AppData (or XP profile) label of the first AppData-like component, if any.
fn appdata_label(c: &[&str]) -> Option<&'static str> {
    for (i, &part) in c.iter().enumerate() {
        let next = c.get(i + 1).copied();
        let after = c.get(i + 2).copied();
        match (part, next, after) {
            ("appdata", Some("roaming"), _) => return Some("AppData\\Roaming"),
            ("appdata", Some("local"), Some("temp")) => return Some("AppData\\Local\\Temp"),
            ("appdata", Some("local"), _) => return Some("AppData\\Local"),
            ("appdata", Some("locallow"), _) => return Some("AppData\\LocalLow"),
            ("appdata", _, _) if i > 0 => return Some("AppData"),
            ("local settings", Some("temp"), _) => return Some("AppData\\Local\\Temp"),
            ("local settings", Some("application data"), _) => return Some("AppData\\Local"),
            ("application data", _, _) if i > 0 => return Some("AppData\\Roaming"),
            _ => {}
        }
    }
    None
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// `s` without an ASCII case-insensitive `prefix` (ASCII prefix: the cut is a char boundary).
fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if starts_with_ignore_case(s, prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}
