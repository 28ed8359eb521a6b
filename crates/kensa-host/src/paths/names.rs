//! Name rules: Windows binary names (masquerading), GUID-only task names, all-digit service names.
//!
//! [`WINDOWS_BINARY_NAMES`] is the image list of SigmaHQ/sigma
//! `rules/windows/process_creation/proc_creation_win_susp_system_exe_anomaly.yml` ("System File
//! Execution Location Anomaly", Detection Rule License 1.1; names only, re-expressed) plus
//! `explorer.exe` (which lives in the Windows folder itself), `mshta.exe` and `cmd.exe`. [`is_masquerading`] is stricter than
//! that rule's "anywhere under System32" filter: the binary must sit *directly* in its home folder,
//! so `C:\Windows\System32\dllhost\svchost.exe` (regipy's SOFTWARE hive, `host.md` §7) is flagged.

use super::place::components;

/// Windows binary names that malware reuses (lowercase).
pub const WINDOWS_BINARY_NAMES: [&str; 53] = [
    "atbroker.exe",
    "audiodg.exe",
    "bcdedit.exe",
    "bitsadmin.exe",
    "certreq.exe",
    "certutil.exe",
    "cmstp.exe",
    "conhost.exe",
    "consent.exe",
    "cscript.exe",
    "csrss.exe",
    "dashost.exe",
    "defrag.exe",
    "dfrgui.exe",
    "dism.exe",
    "dllhost.exe",
    "dllhst3g.exe",
    "dwm.exe",
    "eventvwr.exe",
    "explorer.exe",
    "logonui.exe",
    "lsaiso.exe",
    "lsass.exe",
    "lsm.exe",
    "msiexec.exe",
    "ntoskrnl.exe",
    "powershell_ise.exe",
    "powershell.exe",
    "pwsh.exe",
    "regsvr32.exe",
    "rundll32.exe",
    "runonce.exe",
    "runtimebroker.exe",
    "schtasks.exe",
    "services.exe",
    "sihost.exe",
    "smartscreen.exe",
    "smss.exe",
    "spoolsv.exe",
    "svchost.exe",
    "taskhost.exe",
    "taskhostw.exe",
    "taskmgr.exe",
    "userinit.exe",
    "wininit.exe",
    "winlogon.exe",
    "winver.exe",
    "wlanext.exe",
    "wscript.exe",
    "wsl.exe",
    "wsmprovhost.exe",
    "mshta.exe",
    "cmd.exe",
];

/// `name` (a file name, any case) is one of [`WINDOWS_BINARY_NAMES`].
pub fn is_windows_binary_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    WINDOWS_BINARY_NAMES.contains(&lower.as_str())
}

/// A Windows binary name outside its home folder. Home folders: `Windows\System32`,
/// `Windows\SysWOW64` and anything under `Windows\WinSxS`; plus `Windows` for `explorer.exe`;
/// `…\WindowsPowerShell\v1.0` for `powershell.exe`/`powershell_ise.exe`; `Program Files\PowerShell\…`
/// and `…\WindowsApps\…` for `pwsh.exe`; `Program Files\WSL` and `…\WindowsApps\…` for `wsl.exe`.
/// A bare or relative name (resolved through the search path) is never masquerading.
pub fn is_masquerading(path: &str) -> bool {
    let Some((comps, relative)) = components(path) else {
        return false;
    };
    let Some((name, dir)) = comps.split_last() else {
        return false;
    };
    if relative || !is_windows_binary_name(name) {
        return false;
    }
    let dir: Vec<&str> = dir.iter().map(String::as_str).collect();
    !is_home_folder(name, &dir)
}

/// Whether `dir` (canonical, lowercase components) is a legitimate folder for `name`.
fn is_home_folder(name: &str, dir: &[&str]) -> bool {
    let system = matches!(dir, ["windows", "system32" | "syswow64"]);
    let winsxs = matches!(dir, ["windows", "winsxs", ..]);
    let windows_apps = dir.contains(&"windowsapps");
    let program_files = matches!(
        dir.first(),
        Some(&("program files" | "program files (x86)"))
    );
    system
        || winsxs
        || match name {
            "explorer.exe" => dir == ["windows"],
            "powershell.exe" | "powershell_ise.exe" => matches!(
                dir,
                [
                    "windows",
                    "system32" | "syswow64",
                    "windowspowershell",
                    "v1.0"
                ]
            ),
            "pwsh.exe" => (program_files && dir.get(1) == Some(&"powershell")) || windows_apps,
            "wsl.exe" => (program_files && dir.get(1) == Some(&"wsl")) || windows_apps,
            _ => false,
        }
}

/// A name that is only a braced GUID: `{8-4-4-4-12}` hex digits, nothing else.
pub fn is_guid_only(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 38
        && b[0] == b'{'
        && b[37] == b'}'
        && b[1..37].iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A non-empty name of ASCII digits only (Sophos KB 133423's numeric Emotet services; `1394ohci`
/// does not qualify).
pub fn is_all_digits(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())
}
