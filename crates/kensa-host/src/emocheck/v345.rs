//! v3, v4 and v5: the file-system methods of EmoCheck v1.0 and v2.0.
//!
//! - v3 (`scan_v3.cpp`): keyword set = base names (before the last dot) of System32 files whose
//!   extension is `exe` or `dll` (case-insensitive); a candidate is `<root>\<dir>\<file>` with `dir`
//!   in the set and `file` = `<word>.exe`, `exe` compared **case-sensitively**, `word` in the set.
//!   Valid unless smaller than 10,000 bytes or System32 holds a same-named file of the same size.
//! - v4 (`scan_v4.cpp`, case-sensitive ECMAScript regexes): directory `^[A-Za-z]{4,16}$`; file
//!   `^(?!.*\.(exe|dll)$)[A-Za-z]{3,15}\.[A-Za-z]{3}$`; Run value name = file name or
//!   `^[A-Za-z]{7,16}$`; data (Run REG_SZ or service ImagePath) matches one of
//!   `^.*rundll32\.exe.*,.*RunDLL.*$`, `^.*rundll32\.exe.*,.*ShowDialogA.*$`,
//!   `^.*rundll32\.exe.*,.*[A-Za-z]{4,15}.*$` and contains the file name. The third pattern
//!   subsumes the other two, and `.` does not match a line terminator, so data holding CR or LF
//!   never matches. All regexes are hand-written here (no look-ahead in the `regex` crate).
//! - v5 (`scan_v5.cpp`): `diff = LastWriteTime(dir) − LastWriteTime(file)` in 100 ns units,
//!   `diff / 10⁶ ∈ [6,047,997, 6,048,002]`.
//! - Detection against processes (`emocheck.cpp` `ScanEmotetProcess`): v4 only for `rundll32.exe`,
//!   v5 for any process; normalised command line contains the normalised candidate path, with a
//!   `syswow64` → `system32` retry for admin candidates.

use super::cmdline::{normalise_cmdline, syswow64_to_system32};

/// v3: candidates smaller than this many bytes are not valid.
pub const V3_MIN_SIZE: u64 = 10_000;

/// v5: lowest accepted `diff / 10⁶` (604,799.7 s).
pub const V5_MIN: i128 = 6_047_997;

/// v5: highest accepted `diff / 10⁶` (just under 604,800.3 s).
pub const V5_MAX: i128 = 6_048_002;

/// v3 keyword of a System32 file name: the part before the last dot when the extension is `exe` or
/// `dll` in any case (`NOTEPAD.EXE` → `NOTEPAD`); `None` otherwise. The case of the base name is
/// kept: EmoCheck's set is case-sensitive.
pub fn v3_keyword(file_name: &str) -> Option<&str> {
    let (base, ext) = file_name.rsplit_once('.')?;
    (ext.eq_ignore_ascii_case("exe") || ext.eq_ignore_ascii_case("dll")).then_some(base)
}

/// v3 candidate rule (compat): the direct subdirectory `root_dir_name` of a root is a keyword and
/// `file_name` inside it is `<keyword>.exe` with the extension exactly `exe` (a name without a dot
/// is rejected; EmoCheck would throw on it). `keywords` answers set membership, case-sensitively.
pub fn v3_candidate(root_dir_name: &str, file_name: &str, keywords: &dyn Fn(&str) -> bool) -> bool {
    match file_name.rsplit_once('.') {
        Some((base, "exe")) => keywords(root_dir_name) && keywords(base),
        _ => false,
    }
}

/// kensa's v3 rule: as [`v3_candidate`] but the extension is compared case-insensitively and both
/// names are passed to `keywords` **ASCII-lowercased**, so build that set from lowercased keywords
/// (`v3_keyword(name).map(str::to_ascii_lowercase)`).
pub fn v3_candidate_relaxed(
    root_dir_name: &str,
    file_name: &str,
    keywords: &dyn Fn(&str) -> bool,
) -> bool {
    match file_name.rsplit_once('.') {
        Some((base, ext)) if ext.eq_ignore_ascii_case("exe") => {
            keywords(&root_dir_name.to_ascii_lowercase()) && keywords(&base.to_ascii_lowercase())
        }
        _ => false,
    }
}

/// v3 validation: at least [`V3_MIN_SIZE`] bytes, and not the same size as
/// `System32\<word>.exe` when that file exists (`system32_same_name_size`).
pub fn v3_valid(size: u64, system32_same_name_size: Option<u64>) -> bool {
    size >= V3_MIN_SIZE && system32_same_name_size != Some(size)
}

/// The Run value EmoCheck reports for a v3 candidate whose `HKCU\…\Run\<word>` REG_SZ data equals
/// the candidate path.
pub fn v3_run_key(word: &str) -> String {
    format!("HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\{word}")
}

/// v4 directory name: `^[A-Za-z]{4,16}$`.
pub fn v4_dir_ok(name: &str) -> bool {
    letters_between(name, 4, 16)
}

/// v4 file name: `^(?!.*\.(exe|dll)$)[A-Za-z]{3,15}\.[A-Za-z]{3}$` — 3–15 ASCII letters, one dot,
/// 3 ASCII letters, and the extension is not `exe` or `dll` in lower case (`abc.EXE` passes, as in
/// EmoCheck).
pub fn v4_file_ok(name: &str) -> bool {
    match name.split_once('.') {
        Some((stem, ext)) => {
            letters_between(stem, 3, 15)
                && letters_between(ext, 3, 3)
                && ext != "exe"
                && ext != "dll"
        }
        None => false,
    }
}

/// v4 Run value name: equal to the file name (with extension) or `^[A-Za-z]{7,16}$`.
pub fn v4_run_name_ok(value_name: &str, file_name: &str) -> bool {
    value_name == file_name || letters_between(value_name, 7, 16)
}

/// v4 command (compat): Run REG_SZ data or service ImagePath matches one of EmoCheck's three
/// rundll32 patterns (case-sensitive `rundll32.exe`, then a comma, then 4 consecutive ASCII letters;
/// no CR or LF anywhere) and contains `file_name` case-sensitively.
pub fn v4_command_ok(data: &str, file_name: &str) -> bool {
    !data.contains(['\n', '\r'])
        && rundll32_pattern(data, "rundll32.exe")
        && data.contains(file_name)
}

/// kensa's v4 command rule: ASCII case-insensitive, `rundll32` with or without `.exe`, line
/// terminators allowed, file name contained case-insensitively. Expand REG_EXPAND_SZ data first
/// (`paths::Env::expand`); EmoCheck skips such values entirely.
pub fn v4_command_ok_relaxed(data: &str, file_name: &str) -> bool {
    let lower = data.to_ascii_lowercase();
    rundll32_pattern(&lower, "rundll32") && lower.contains(&file_name.to_ascii_lowercase())
}

/// v4 detection for one `rundll32.exe` process (the caller checks the process name): the
/// normalised command line contains the normalised candidate path; for an admin candidate with a
/// non-empty command line, retry with the first `syswow64` replaced by `system32`. An empty command
/// line (OpenProcess failed) never matches — report it as incomplete.
pub fn v4_process_matches(cmd_line: &str, candidate_path: &str, is_admin: bool) -> bool {
    cmdline_contains(cmd_line, candidate_path, is_admin)
}

/// v5 time window (compat): `diff = dir_mtime − file_mtime` (FILETIME, 100 ns units), hit when
/// `diff / 10⁶ ∈ [V5_MIN, V5_MAX]`, i.e. the directory was written 604,799.7 s to < 604,800.3 s
/// after the file. Computed in `i128` so no value overflows; a negative diff never hits (EmoCheck's
/// truncating division and a floor division agree on every hit).
pub fn v5_window(dir_mtime: u64, file_mtime: u64) -> bool {
    let diff = i128::from(dir_mtime) - i128::from(file_mtime);
    diff >= 0 && (V5_MIN..=V5_MAX).contains(&diff.div_euclid(1_000_000))
}

/// v5 detection for one process: its normalised command line contains the normalised candidate
/// path; the `syswow64` → `system32` retry only for admin candidates and a process named exactly
/// `rundll32.exe` with a non-empty command line.
pub fn v5_process_matches(
    process_name: &str,
    cmd_line: &str,
    candidate_path: &str,
    is_admin: bool,
) -> bool {
    cmdline_contains(
        cmd_line,
        candidate_path,
        is_admin && process_name == "rundll32.exe",
    )
}

/// Shared v4/v5 matching with the optional SysWOW64 retry.
fn cmdline_contains(cmd_line: &str, candidate_path: &str, retry: bool) -> bool {
    let cmd = normalise_cmdline(cmd_line);
    let path = normalise_cmdline(candidate_path);
    if cmd.contains(&path) {
        return true;
    }
    retry
        && !cmd_line.is_empty()
        && syswow64_to_system32(&path).is_some_and(|redirected| cmd.contains(&redirected))
}

/// `.*<program>.*,.*[A-Za-z]{4}` as a search: the earliest `program`, then the first comma after it,
/// then four consecutive ASCII letters somewhere after that comma.
fn rundll32_pattern(data: &str, program: &str) -> bool {
    let Some(at) = data.find(program) else {
        return false;
    };
    let after_program = data.as_bytes().get(at + program.len()..).unwrap_or(&[]);
    let Some(comma) = after_program.iter().position(|&b| b == b',') else {
        return false;
    };
    let mut run = 0usize;
    for &b in after_program.get(comma + 1..).unwrap_or(&[]) {
        run = if b.is_ascii_alphabetic() { run + 1 } else { 0 };
        if run >= 4 {
            return true;
        }
    }
    false
}

/// `^[A-Za-z]{min,max}$`.
fn letters_between(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphabetic())
}
