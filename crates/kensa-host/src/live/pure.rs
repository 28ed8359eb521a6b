//! OS-independent helpers of the live source: FILETIME arithmetic, the `UNICODE_STRING` buffer
//! that `NtQueryInformationProcess(ProcessCommandLineInformation)` fills, `HKEY_USERS` SID
//! filtering, Windows path joining, environment expansion and error texts. They take plain data,
//! never call the OS, and are tested on every platform.
//!
//! Format facts used:
//! - FILETIME: two 32-bit halves of a count of 100-ns intervals since 1601-01-01 UTC.
//! - `UNICODE_STRING` (winternl.h): `Length: u16` (bytes, no terminator), `MaximumLength: u16`,
//!   padding to pointer alignment, `Buffer: PWSTR`. Class 60 writes the structure at the start of
//!   the caller's buffer and the UTF-16LE text right after it, with `Buffer` pointing at the text.
//! - SIDs under `HKEY_USERS`: `S-1-5-21-…` (local and domain accounts), `S-1-12-1-…` (Azure AD
//!   accounts), `S-1-5-18/19/20` (SYSTEM, LOCAL SERVICE, NETWORK SERVICE), each also with a
//!   `<SID>_Classes` key (the user's UsrClass.dat), and `.DEFAULT` (the same hive as S-1-5-18).

/// 100-ns intervals in one second.
pub const FILETIME_PER_SECOND: u64 = 10_000_000;

/// The file-system walks of the live source never descend deeper than this.
pub const MAX_WALK_DEPTH: u8 = 32;

/// Joins the two halves of a FILETIME.
pub fn filetime(high: u32, low: u32) -> u64 {
    (u64::from(high) << 32) | u64::from(low)
}

/// UTF-16 up to the first NUL (or the whole slice), unpaired surrogates replaced by U+FFFD.
pub fn wide_to_string(units: &[u16]) -> String {
    let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
    String::from_utf16_lossy(units.get(..end).unwrap_or(units))
}

/// UTF-16 with a terminating NUL, for the `W` APIs.
pub fn to_wide_nul(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// Decodes the buffer filled by `NtQueryInformationProcess(…, ProcessCommandLineInformation = 60,
/// buf, …)`: a `UNICODE_STRING` followed by its text.
///
/// `base_addr` is the address the buffer had when the OS filled it and `pointer_bytes` the pointer
/// width of the process (8 on x64, 4 on x86). The text is taken where `Buffer` points when that lies
/// inside `buf`, else right after the header. `None` when the header is incomplete or the text runs
/// past the end of `buf`; an odd `Length` drops its last byte.
pub fn decode_unicode_string(buf: &[u8], base_addr: u64, pointer_bytes: usize) -> Option<String> {
    if pointer_bytes != 4 && pointer_bytes != 8 {
        return None;
    }
    // Length, MaximumLength, then Buffer aligned to the pointer size.
    let header = pointer_bytes.checked_mul(2)?;
    let len = usize::from(u16::from_le_bytes(buf.get(..2)?.try_into().ok()?));
    let ptr_field = buf.get(pointer_bytes..header)?;
    let ptr = if pointer_bytes == 8 {
        u64::from_le_bytes(ptr_field.try_into().ok()?)
    } else {
        u64::from(u32::from_le_bytes(ptr_field.try_into().ok()?))
    };
    let start = ptr
        .checked_sub(base_addr)
        .and_then(|off| usize::try_from(off).ok())
        .filter(|&off| off >= header && off <= buf.len())
        .unwrap_or(header);
    let text = buf.get(start..start.checked_add(len & !1)?)?;
    let units: Vec<u16> = text
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    Some(String::from_utf16_lossy(&units))
}

/// What a subkey name of `HKEY_USERS` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SidKind {
    /// A person's account: `S-1-5-21-…` or `S-1-12-1-…` (Azure AD).
    User,
    /// SYSTEM, LOCAL SERVICE or NETWORK SERVICE (`S-1-5-18/19/20`): read too, since malware
    /// running as SYSTEM writes its "HKCU" Run value there.
    Service,
    /// `<SID>_Classes`, `.DEFAULT` and anything else: not read.
    Other,
}

/// Classifies one subkey name of `HKEY_USERS` (see [`SidKind`]).
pub fn classify_sid(name: &str) -> SidKind {
    let Some(rest) = name.strip_prefix("S-1-") else {
        return SidKind::Other;
    };
    // Only digits and dashes, no empty component: rules out `_Classes` and odd names.
    if rest
        .split('-')
        .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return SidKind::Other;
    }
    match rest {
        "5-18" | "5-19" | "5-20" => SidKind::Service,
        _ if rest.starts_with("5-21-") || rest.starts_with("12-1-") => SidKind::User,
        _ => SidKind::Other,
    }
}

/// `base\name`, with exactly one backslash between them.
pub fn join(base: &str, name: &str) -> String {
    let base = base.trim_end_matches(['\\', '/']);
    let name = name.trim_start_matches(['\\', '/']);
    if base.is_empty() {
        return name.to_string();
    }
    format!("{base}\\{name}")
}

/// The part of `full` below `root` (case-insensitive, no leading backslash); `None` when `full`
/// is not under `root` or equals it.
pub fn relative_to(root: &str, full: &str) -> Option<String> {
    let root = root.trim_end_matches('\\');
    let head = full.get(..root.len())?;
    if !head.eq_ignore_ascii_case(root) && head.to_lowercase() != root.to_lowercase() {
        return None;
    }
    let rest = full.get(root.len()..)?.strip_prefix('\\')?;
    (!rest.is_empty()).then(|| rest.to_string())
}

/// The lowercase base name (before the last dot) of an `.exe` or `.dll` file name
/// (extension case-insensitive), as EmoCheck v3 builds its keyword set; `None` otherwise.
pub fn system_base_name(file: &str) -> Option<String> {
    let (stem, ext) = file.rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    (matches!(ext.as_str(), "exe" | "dll") && !stem.is_empty()).then(|| stem.to_lowercase())
}

/// The root of the Windows directory's volume as EmoCheck builds it: the first 3 characters of
/// `GetWindowsDirectory` (`C:\`), else `C:\`.
pub fn volume_root(windows_dir: &str) -> String {
    let head: String = windows_dir.chars().take(3).collect();
    let b = head.as_bytes();
    if b.len() == 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\' {
        head
    } else {
        r"C:\".to_string()
    }
}

/// Expands `%NAME%` references with `lookup`, as `ExpandEnvironmentStrings` does: unknown names
/// and a lone `%` stay as written. Output is capped at 32,767 characters (the API's limit).
pub fn expand_env(s: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    const MAX: usize = 32_767;
    let mut out = String::new();
    let mut rest = s;
    while let Some(open) = rest.find('%') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('%') {
            Some(close) => {
                let name = &after[..close];
                match (!name.is_empty()).then(|| lookup(name)).flatten() {
                    Some(v) => {
                        out.push_str(&v);
                        rest = &after[close + 1..];
                    }
                    None => {
                        // Keep the first `%` and look for a reference from the second one on.
                        out.push('%');
                        out.push_str(name);
                        rest = &after[close..];
                    }
                }
            }
            None => {
                out.push('%');
                rest = after;
                break;
            }
        }
        if out.len() > MAX {
            break;
        }
    }
    out.push_str(rest);
    if out.len() > MAX {
        let mut cut = MAX;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

/// The form to hand to the file APIs: `\\?\` + path for drive paths of 240 characters or more
/// (beyond `MAX_PATH` without a long-path manifest), else the path as is.
pub fn long_path(path: &str) -> String {
    let b = path.as_bytes();
    let is_drive = b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\';
    if is_drive && path.encode_utf16().count() >= 240 {
        format!(r"\\?\{path}")
    } else {
        path.to_string()
    }
}

/// A short text for a Win32 error code, with what would help.
pub fn describe_win32(code: u32) -> String {
    match code {
        2 => "not found".into(),
        3 => "path not found".into(),
        5 => "access denied (run as administrator to read it)".into(),
        32 => "in use by another process (sharing violation)".into(),
        87 => "invalid parameter".into(),
        1314 => "a required privilege is not held (run as administrator)".into(),
        _ => format!("Windows error {code}"),
    }
}

/// A short text for an NTSTATUS (as returned by `NtQueryInformationProcess`).
pub fn describe_ntstatus(status: i32) -> String {
    // NTSTATUS values are conventionally written as unsigned hex.
    let code = status as u32;
    match code {
        0xC000_0003 => "information class not supported (needs Windows 8.1 or later)".into(),
        0xC000_0022 => "access denied".into(),
        0xC000_0002 => "not implemented".into(),
        _ => format!("NTSTATUS 0x{code:08X}"),
    }
}

/// True when `head` starts with the DOS header magic `MZ`.
pub fn head_is_mz(head: &[u8]) -> bool {
    head.starts_with(b"MZ")
}

/// The 100-ns window around EmoCheck v5's 7-day gap within which a System32/SysWOW64 subfolder
/// file's head is worth reading: 6 to 8 days (v5 itself needs 604,799.7 s to 604,800.3 s).
const V5_WINDOW: (u64, u64) = (
    6 * 86_400 * FILETIME_PER_SECOND,
    8 * 86_400 * FILETIME_PER_SECOND,
);

/// Whether to read the first bytes of a file in a *direct subfolder of System32/SysWOW64*, which
/// hold tens of thousands of ordinary files (opening each would make the live check slow and
/// wake antivirus scanners): only files shaped like EmoCheck v4's payload (3–15 letters, a dot,
/// 3 letters, any case) or within [`V5_WINDOW`] of EmoCheck v5's gap to their folder's mtime.
/// Files elsewhere are always read (when heads are read at all).
pub fn system_subdir_head_wanted(
    name: &str,
    dir_mtime: Option<u64>,
    file_mtime: Option<u64>,
) -> bool {
    let shaped = name.split_once('.').is_some_and(|(stem, ext)| {
        (3..=15).contains(&stem.len())
            && ext.len() == 3
            && stem.bytes().all(|b| b.is_ascii_alphabetic())
            && ext.bytes().all(|b| b.is_ascii_alphabetic())
    });
    let gap = match (dir_mtime, file_mtime) {
        (Some(d), Some(f)) => d
            .checked_sub(f)
            .is_some_and(|g| (V5_WINDOW.0..=V5_WINDOW.1).contains(&g)),
        _ => false,
    };
    shaped || gap
}

/// Collects a count of failures of one kind and the first few examples, for one aggregated
/// problem instead of thousands.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub count: usize,
    pub examples: Vec<String>,
}

impl Tally {
    /// How many examples are kept.
    pub const EXAMPLES: usize = 3;

    pub fn add(&mut self, example: impl Into<String>) {
        self.count = self.count.saturating_add(1);
        if self.examples.len() < Self::EXAMPLES {
            self.examples.push(example.into());
        }
    }

    /// `"N <noun> (e.g. a; b; c)"`, or `None` when nothing was added.
    pub fn summary(&self, noun: &str) -> Option<String> {
        (self.count > 0)
            .then(|| format!("{} {noun} (e.g. {})", self.count, self.examples.join("; ")))
    }
}

#[cfg(test)]
mod tests;
