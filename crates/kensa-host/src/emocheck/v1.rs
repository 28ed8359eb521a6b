//! v1: the process name Emotet (before 2020-02-05) derived from the system volume serial.
//!
//! `scan_v1.cpp`: with L = 356 (the table's length in characters, not its word count),
//! q = serial / L, i1 = serial mod L, i2 = (0xFFFFFFFF − q) mod L; name = word(i1) + word(i2).
//! word(i) scans left from i down to position **1** for a comma (position 0 is never looked at),
//! steps right if it stands on a comma, then copies up to the next comma. Positions 1–3 therefore
//! yield `uck`, `ck`, `k` instead of `duck`: [`V1Name::compat`] keeps that quirk,
//! [`V1Name::whole_word`] is the intended word (as the epuzanov PowerShell port computes it).

use std::collections::HashSet;

/// EmoCheck's keyword table: 64 words, 356 characters, no trailing comma.
pub const KEYWORDS: &str = concat!(
    "duck,mfidl,targets,ptr,khmer,purge,metrics,acc,inet,msra,symbol,driver,",
    "sidebar,restore,msg,volume,cards,shext,query,roam,etw,mexico,basic,url,",
    "createa,blb,pal,cors,send,devices,radio,bid,format,thrd,taskmgr,timeout,",
    "vmd,ctl,bta,shlp,avi,exce,dbt,pfx,rtp,edge,mult,clr,wmistr,ellipse,vol,",
    "cyan,ses,guid,wce,wmp,dvb,elem,channel,space,digital,pdeft,violet,thunk"
);

/// The divisor of the v1 algorithm: the length of [`KEYWORDS`] in characters (356).
pub const KEYWORDS_LEN: u32 = KEYWORDS.len() as u32;

/// A v1 process name (without `.exe`) in both interpretations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Name {
    /// Exactly what EmoCheck computes, including the partial-word quirk at positions 1–3.
    pub compat: String,
    /// The whole words at both positions (differs from `compat` only when an index is 1, 2 or 3).
    pub whole_word: String,
}

/// The three numbers of the algorithm: `(q, i1, i2)`.
pub fn v1_indices(serial: u32) -> (u32, u32, u32) {
    let q = serial / KEYWORDS_LEN;
    let i1 = serial % KEYWORDS_LEN;
    // q ≤ 12,064,514, so the subtraction never wraps.
    let i2 = (u32::MAX - q) % KEYWORDS_LEN;
    (q, i1, i2)
}

/// The v1 name for a volume serial (compat and whole-word).
pub fn v1_name(serial: u32) -> V1Name {
    let (_, i1, i2) = v1_indices(serial);
    let (i1, i2) = (i1 as usize, i2 as usize);
    V1Name {
        compat: [word_at(i1, false), word_at(i2, false)].concat(),
        whole_word: [word_at(i1, true), word_at(i2, true)].concat(),
    }
}

/// The 64 words of [`KEYWORDS`] in table order.
pub fn v1_words() -> impl Iterator<Item = &'static str> {
    KEYWORDS.split(',')
}

/// Every whole-word combination `a + b` of the 64 words (the offline fallback when the serial is
/// unknown, as ZiMADE/EmoKill does), deduplicated, in table order. The partial-word names
/// (`uck…`, `ck…`, `k…`, `…uck`, `…ck`, `…k`) are not included.
pub fn v1_all_names() -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for a in v1_words() {
        for b in v1_words() {
            let name = [a, b].concat();
            if seen.insert(name.clone()) {
                out.push(name);
            }
        }
    }
    out
}

/// EmoCheck v0.0.2+ matching: the process executable name equals `compat + ".exe"`, exactly and
/// case-sensitively.
pub fn v1_matches_compat(process_exe: &str, name: &V1Name) -> bool {
    process_exe.strip_suffix(".exe") == Some(name.compat.as_str())
}

/// EmoCheck v0.0.1 matching: the process executable name *contains* the compat name (known to give
/// false positives, e.g. any name containing `k`… when the name is short).
pub fn v1_matches_v001(process_exe: &str, name: &V1Name) -> bool {
    process_exe.contains(name.compat.as_str())
}

/// kensa's matching: the process name equals `compat.exe` or `whole_word.exe`, ASCII
/// case-insensitively.
pub fn v1_matches_relaxed(process_exe: &str, name: &V1Name) -> bool {
    [&name.compat, &name.whole_word]
        .iter()
        .any(|n| eq_name_exe(process_exe, n))
}

/// `process == name + ".exe"`, ASCII case-insensitive, without allocating.
fn eq_name_exe(process: &str, name: &str) -> bool {
    let p = process.as_bytes();
    let n = name.as_bytes();
    p.len() == n.len() + 4
        && p.get(..n.len()).is_some_and(|h| h.eq_ignore_ascii_case(n))
        && p.get(n.len()..)
            .is_some_and(|t| t.eq_ignore_ascii_case(b".exe"))
}

/// The word selected at table position `i`. `whole` = false reproduces EmoCheck (the leftward scan
/// stops before position 0); `whole` = true scans to the start of the table.
fn word_at(i: usize, whole: bool) -> &'static str {
    let bytes = KEYWORDS.as_bytes();
    let lowest = if whole { 0 } else { 1 };
    let mut start = i.min(bytes.len());
    let mut j = start;
    let mut found = false;
    while j >= lowest && j < bytes.len() {
        if bytes[j] == b',' {
            start = j;
            found = true;
            break;
        }
        if j == 0 {
            break;
        }
        j -= 1;
    }
    if whole && !found {
        start = 0;
    }
    if bytes.get(start) == Some(&b',') {
        start += 1;
    }
    let rest = KEYWORDS.get(start..).unwrap_or("");
    rest.split(',').next().unwrap_or("")
}

#[cfg(test)]
pub(super) fn word_at_for_tests(i: usize, whole: bool) -> &'static str {
    word_at(i, whole)
}
