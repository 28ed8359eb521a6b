//! Command lines: program and arguments, proxy-execution binaries and the file they load.
//!
//! - Program: a leading `"…"` is the program; otherwise the text up to the first space or tab.
//!   `CreateProcess` resolves an unquoted `C:\Program Files\x.exe` by trying successive prefixes
//!   against the file system; without one, [`split_command`] extends an unquoted first token that
//!   contains a path separator and has no extension to the shortest prefix ending in
//!   `.exe`/`.com`/`.bat`/`.cmd` before any `/` or `-` switch.
//! - Arguments ([`split_args`]): the `CommandLineToArgvW` rules — whitespace separates outside
//!   quotes, `"` toggles quoting, 2n backslashes + `"` → n backslashes and a toggle, 2n+1
//!   backslashes + `"` → n backslashes and a literal `"`, other backslashes are literal.
//! - Loaded file ([`loader_target`]): rundll32 — first argument that is not a `/` or `-` switch, up
//!   to the first comma outside quotes (`rundll32 "C:\x\a.dll",RunDLL`; `-sta`/`-localserver` load a
//!   COM class, not a file: `None`); regsvr32 — first argument that is not a switch (`/s`, `/u`,
//!   `/n`, `/i:…`, `/c`); msiexec — the argument after `/i`, `/package`, `/a`, `/j`, `/x`,
//!   `/uninstall`, `/y` or `/z` (`/y`/`/z` call `DllRegisterServer`/`DllUnregisterServer` of a DLL).

/// At most this many argument tokens are produced or examined per command line.
pub const MAX_ARGS: usize = 256;

/// A command split into its program and the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    /// The program as written, without surrounding quotes (may hold `%VAR%`).
    pub program: String,
    /// Everything after the program, leading whitespace removed.
    pub args: String,
}

/// Proxy-execution binaries (LOLBAS, <https://lolbas-project.github.io>) the persistence rules name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lolbin {
    /// `rundll32.exe`.
    Rundll32,
    /// `regsvr32.exe`.
    Regsvr32,
    /// `msiexec.exe`.
    Msiexec,
    /// `powershell.exe`, `powershell_ise.exe`, `pwsh.exe`.
    Powershell,
    /// `mshta.exe`.
    Mshta,
    /// `wscript.exe`.
    Wscript,
    /// `cscript.exe`.
    Cscript,
    /// `cmd.exe`.
    Cmd,
    /// Another LOLBAS binary that proxies execution or downloads: certutil, bitsadmin, regasm,
    /// regsvcs, installutil, msbuild, odbcconf, forfiles, wmic, cmstp, hh, pcalua, mavinject,
    /// msxsl, msdt, ieexec, presentationhost, verclsid, control, syncappvpublishingserver.
    Other,
}

/// The last path component: after the last `\` or `/` (the whole string when there is none).
pub fn file_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// Program and arguments of a command line (see the module notes).
pub fn split_command(s: &str) -> CommandLine {
    let t = s.trim_start();
    if let Some(quoted) = t.strip_prefix('"') {
        let (program, rest) = quoted.split_once('"').unwrap_or((quoted, ""));
        return CommandLine {
            program: program.to_string(),
            args: rest.trim_start().to_string(),
        };
    }
    let end = program_end(t);
    CommandLine {
        program: t[..end].to_string(),
        args: t[end..].trim_start().to_string(),
    }
}

/// Byte length of the unquoted program at the start of `t` (which has no leading whitespace).
fn program_end(t: &str) -> usize {
    let first_end = t.find([' ', '\t']).unwrap_or(t.len());
    let first = &t[..first_end];
    let extendable = first.contains(['\\', '/'])
        && !file_name(first).contains('.')
        && !first.starts_with(['/', '-']);
    if !extendable {
        return first_end;
    }
    let mut end = first_end;
    for _ in 0..MAX_ARGS {
        let next_start = match t[end..].find(|c: char| c != ' ' && c != '\t') {
            Some(offset) => end + offset,
            None => break,
        };
        if t[next_start..].starts_with(['/', '-']) {
            break;
        }
        end = t[next_start..]
            .find([' ', '\t'])
            .map_or(t.len(), |offset| next_start + offset);
        if has_program_extension(&t[..end]) {
            return end;
        }
    }
    first_end
}

/// Ends in `.exe`, `.com`, `.bat` or `.cmd` (ASCII case-insensitive).
fn has_program_extension(s: &str) -> bool {
    [".exe", ".com", ".bat", ".cmd"]
        .iter()
        .any(|ext| ends_with_ignore_case(s, ext))
}

/// ASCII case-insensitive `ends_with`, on bytes (no slicing of `s`).
fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    let (s, suffix) = (s.as_bytes(), suffix.as_bytes());
    s.len() >= suffix.len() && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Arguments tokenised by the `CommandLineToArgvW` rules (module notes), at most [`MAX_ARGS`].
pub fn split_args(s: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut in_token = false;
    let mut quoted = false;
    let mut backslashes = 0usize;
    for c in s.chars() {
        if args.len() >= MAX_ARGS {
            return args;
        }
        match c {
            '\\' => {
                backslashes += 1;
                in_token = true;
                continue;
            }
            '"' => {
                current.extend(std::iter::repeat_n('\\', backslashes / 2));
                if backslashes % 2 == 1 {
                    current.push('"');
                } else {
                    quoted = !quoted;
                }
                in_token = true;
            }
            ' ' | '\t' if !quoted => {
                current.extend(std::iter::repeat_n('\\', backslashes));
                if in_token {
                    args.push(std::mem::take(&mut current));
                }
                in_token = false;
            }
            _ => {
                current.extend(std::iter::repeat_n('\\', backslashes));
                current.push(c);
                in_token = true;
            }
        }
        backslashes = 0;
    }
    current.extend(std::iter::repeat_n('\\', backslashes));
    if in_token && args.len() < MAX_ARGS {
        args.push(current);
    }
    args
}

/// Raw argument tokens (quotes kept), split on whitespace outside quotes, at most [`MAX_ARGS`].
fn raw_args(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        if out.len() >= MAX_ARGS {
            return out;
        }
        match c {
            '"' => {
                quoted = !quoted;
                start.get_or_insert(i);
            }
            ' ' | '\t' if !quoted => {
                if let Some(from) = start.take() {
                    out.push(&s[from..i]);
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(from) = start
        && out.len() < MAX_ARGS
    {
        out.push(&s[from..]);
    }
    out
}

/// Which proxy-execution binary `program` is (by file name, case-insensitive, `.exe` optional,
/// surrounding quotes ignored); `None` for anything else.
pub fn lolbin(program: &str) -> Option<Lolbin> {
    let name = file_name(program.trim().trim_matches('"')).to_ascii_lowercase();
    let stem = name.strip_suffix(".exe").unwrap_or(&name);
    Some(match stem {
        "rundll32" => Lolbin::Rundll32,
        "regsvr32" => Lolbin::Regsvr32,
        "msiexec" => Lolbin::Msiexec,
        "powershell" | "powershell_ise" | "pwsh" => Lolbin::Powershell,
        "mshta" => Lolbin::Mshta,
        "wscript" => Lolbin::Wscript,
        "cscript" => Lolbin::Cscript,
        "cmd" => Lolbin::Cmd,
        "certutil"
        | "bitsadmin"
        | "regasm"
        | "regsvcs"
        | "installutil"
        | "msbuild"
        | "odbcconf"
        | "forfiles"
        | "wmic"
        | "cmstp"
        | "hh"
        | "pcalua"
        | "mavinject"
        | "msxsl"
        | "msdt"
        | "ieexec"
        | "presentationhost"
        | "verclsid"
        | "control"
        | "syncappvpublishingserver" => Lolbin::Other,
        _ => return None,
    })
}

/// For a command starting rundll32, regsvr32 or msiexec, the file it loads, unquoted and as written
/// (expand and [`classify`](super::classify) it next). `None` for other programs or no target.
pub fn loader_target(cmd: &str) -> Option<String> {
    let command = split_command(cmd);
    let args = raw_args(&command.args);
    let target = match lolbin(&command.program)? {
        Lolbin::Rundll32 => {
            let first = args.iter().find(|a| !is_switch(a))?;
            if args.iter().take_while(|a| is_switch(a)).any(|a| {
                matches!(
                    unquote(a).to_ascii_lowercase().as_str(),
                    "-sta" | "/sta" | "-localserver" | "/localserver"
                )
            }) {
                return None;
            }
            unquote(before_comma(first))
        }
        Lolbin::Regsvr32 => unquote(args.iter().find(|a| !is_switch(a))?),
        Lolbin::Msiexec => {
            let at = args.iter().position(|a| is_msiexec_package_switch(a))?;
            unquote(args.get(at + 1)?)
        }
        _ => return None,
    };
    (!target.is_empty()).then_some(target)
}

/// A `/x` or `-x` switch (quotes ignored).
fn is_switch(raw: &str) -> bool {
    raw.trim_start_matches('"').starts_with(['/', '-'])
}

/// msiexec switches followed by the package or DLL.
fn is_msiexec_package_switch(raw: &str) -> bool {
    let lower = unquote(raw).to_ascii_lowercase();
    let Some(name) = lower.strip_prefix(['/', '-']) else {
        return false;
    };
    matches!(
        name,
        "i" | "package" | "a" | "j" | "x" | "uninstall" | "y" | "z"
    )
}

/// The part of a raw token before its first comma outside quotes.
fn before_comma(raw: &str) -> &str {
    let mut quoted = false;
    for (i, c) in raw.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => return &raw[..i],
            _ => {}
        }
    }
    raw
}

/// A raw token without its quotes.
fn unquote(raw: &str) -> String {
    raw.chars().filter(|&c| c != '"').collect()
}
