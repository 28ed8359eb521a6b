//! Command-line normalisation of EmoCheck v2.0 (`utils.cpp` `PathUnification`, `ReplaceString`).
//!
//! `PathUnification`: remove every `"`, then `std::unique_copy` with "both are `isspace`" collapses
//! each whitespace run to its **first** character (a tab followed by spaces stays a tab), then
//! `std::tolower` in the C locale lowercases ASCII only. `isspace` in the C locale is space, `\t`,
//! `\n`, `\v`, `\f`, `\r`. `ReplaceString(…, "syswow64", "system32")` with its default count of 1
//! replaces the first occurrence only.

/// EmoCheck's normalisation (compat): drop `"`, collapse each run of C-locale whitespace to its
/// first character, ASCII-lowercase. Vector 17: `"C:\Users\A\…\qehxk.xwa",RunDLL` with doubled
/// spaces → `c:\users\a\…\qehxk.xwa,rundll` with single spaces.
pub fn normalise_cmdline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut previous_space = false;
    for c in s.chars().filter(|&c| c != '"') {
        let space = is_c_space(c);
        if !(space && previous_space) {
            out.push(c.to_ascii_lowercase());
        }
        previous_space = space;
    }
    out
}

/// kensa's normalisation for relaxed matching: drop `"`, turn every run of Unicode whitespace into
/// one space, lowercase with Unicode rules (so non-ASCII user names compare case-insensitively).
pub fn normalise_cmdline_relaxed(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut previous_space = false;
    for c in s.chars().filter(|&c| c != '"') {
        let space = c.is_whitespace();
        if space {
            if !previous_space {
                out.push(' ');
            }
        } else {
            out.extend(c.to_lowercase());
        }
        previous_space = space;
    }
    out
}

/// The SysWOW64 redirection retry: the first `syswow64` (ASCII case-insensitive; EmoCheck applies it
/// to an already lowercased path) replaced by `system32`. `None` when there is none.
pub fn syswow64_to_system32(s: &str) -> Option<String> {
    const FROM: &[u8] = b"syswow64";
    let at = s
        .as_bytes()
        .windows(FROM.len())
        .position(|w| w.eq_ignore_ascii_case(FROM))?;
    // `at` and `at + 8` border ASCII bytes, so both are character boundaries.
    let head = s.get(..at)?;
    let tail = s.get(at + FROM.len()..)?;
    Some([head, "system32", tail].concat())
}

/// `isspace` in the C locale.
fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r')
}
