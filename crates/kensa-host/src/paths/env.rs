//! `%VAR%` expansion.
//!
//! Follows `ExpandEnvironmentStrings` (as Wine documents it in `ntdll` `RtlExpandEnvironmentStrings`):
//! text between two `%` is a variable name, looked up case-insensitively; an unknown name (or an
//! empty `%%`) is copied with both `%` and scanning continues after the closing one; a lone `%` is
//! copied as is. Single pass: a value containing `%…%` is not expanded again.

use std::collections::BTreeMap;

/// Expansion stops substituting once the output would exceed this many bytes (the rest is copied
/// literally), bounding the output at `input + MAX_EXPANDED_LEN`.
pub const MAX_EXPANDED_LEN: usize = 64 * 1024;

/// Environment variables for expansion; names are case-insensitive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// An empty environment (every `%VAR%` stays as written).
    pub fn new() -> Env {
        Env::default()
    }

    /// The variables of a standard installation on `C:` for the profile `user_profile`
    /// (e.g. `C:\Users\tony`): `windir`/`SystemRoot` `C:\Windows`, `SystemDrive`/`HOMEDRIVE` `C:`,
    /// `ProgramFiles`/`ProgramW6432` `C:\Program Files`, `ProgramFiles(x86)`,
    /// `CommonProgramFiles(x86)`, `CommonProgramW6432`, `ProgramData`/`ALLUSERSPROFILE`, `PUBLIC`,
    /// `USERPROFILE`, `HOMEPATH`, `USERNAME`, `APPDATA`, `LOCALAPPDATA`, `TEMP`/`TMP`, `ComSpec`.
    pub fn default_for_user(user_profile: &str) -> Env {
        let profile = user_profile.trim_end_matches(['\\', '/']);
        let home_path = match profile.as_bytes() {
            [d, b':', ..] if d.is_ascii_alphabetic() => profile.get(2..).unwrap_or(""),
            _ => profile,
        };
        let mut env = Env::new();
        for (name, value) in [
            ("windir", "C:\\Windows"),
            ("SystemRoot", "C:\\Windows"),
            ("SystemDrive", "C:"),
            ("HOMEDRIVE", "C:"),
            ("ProgramFiles", "C:\\Program Files"),
            ("ProgramW6432", "C:\\Program Files"),
            ("ProgramFiles(x86)", "C:\\Program Files (x86)"),
            ("CommonProgramFiles", "C:\\Program Files\\Common Files"),
            ("CommonProgramW6432", "C:\\Program Files\\Common Files"),
            (
                "CommonProgramFiles(x86)",
                "C:\\Program Files (x86)\\Common Files",
            ),
            ("ProgramData", "C:\\ProgramData"),
            ("ALLUSERSPROFILE", "C:\\ProgramData"),
            ("PUBLIC", "C:\\Users\\Public"),
            ("ComSpec", "C:\\Windows\\system32\\cmd.exe"),
        ] {
            env.set(name, value);
        }
        env.set("USERPROFILE", profile);
        env.set("HOMEPATH", home_path);
        env.set("USERNAME", super::file_name(profile));
        env.set("APPDATA", &format!("{profile}\\AppData\\Roaming"));
        env.set("LOCALAPPDATA", &format!("{profile}\\AppData\\Local"));
        env.set("TEMP", &format!("{profile}\\AppData\\Local\\Temp"));
        env.set("TMP", &format!("{profile}\\AppData\\Local\\Temp"));
        env
    }

    /// Sets (or replaces) a variable; `name` is matched case-insensitively.
    pub fn set(&mut self, name: &str, value: &str) {
        self.vars.insert(name.to_lowercase(), value.to_string());
    }

    /// The value of a variable, case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(&name.to_lowercase()).map(String::as_str)
    }

    /// `s` with every known `%VAR%` replaced (see the module notes); `$(Arg0)` and unknown
    /// variables are left alone.
    pub fn expand(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(open) = rest.find('%') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('%') else {
                out.push_str(&rest[open..]);
                return out;
            };
            let name = &after[..close];
            let whole = &rest[open..open + close + 2];
            match self.get(name).filter(|_| !name.is_empty()) {
                Some(value) if out.len() + value.len() <= MAX_EXPANDED_LEN => out.push_str(value),
                _ => out.push_str(whole),
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        out
    }
}
