//! The live source of `kensa host check`: reads the running Windows host into a [`HostData`]
//! with the Win32 and native APIs EmoCheck uses, and more (host spec §1, §3).
//!
//! What [`collect`] reads, in this order:
//! 1. host name (`GetComputerNameW`), Windows directory (`GetWindowsDirectoryW`) and the volume
//!    serial of its drive (first 3 characters, as EmoCheck; `GetVolumeInformationW`);
//! 2. processes from one Toolhelp snapshot; image path and command line through a
//!    `PROCESS_QUERY_LIMITED_INFORMATION` handle (`QueryFullProcessImageNameW`,
//!    `NtQueryInformationProcess` class 60 = ProcessCommandLineInformation, Windows 8.1+). No
//!    other process's memory is read;
//! 3. the registry keys of [`crate::keys::WANTED`]: user keys from every loaded
//!    `HKEY_USERS\<SID>` whose SID is an account (`S-1-5-21-…`, `S-1-12-1-…`) or SYSTEM / LOCAL
//!    SERVICE / NETWORK SERVICE (`S-1-5-18/19/20`), never `<SID>_Classes` or `.DEFAULT`; each hive
//!    is named by its SID. Without any such SID (Wine may have none) `HKEY_CURRENT_USER` is read
//!    under the name in `%USERNAME%`. Profiles come from `ProfileList`; an account profile whose
//!    hive is not loaded goes to `unloaded_user_hives`. HKLM\SOFTWARE is read with
//!    `KEY_WOW64_64KEY`, so `WOW6432Node` paths are explicit;
//! 4. every file under `System32\Tasks` (bytes);
//! 5. file listings (see `files.rs`: AppData\Local and its subfolders, System32/SysWOW64
//!    subfolders, AppData\Roaming, Program Files directory names, ProgramData, Public,
//!    Windows\Temp) with size, FILETIME mtime and MZ flag;
//! 6. the System32 exe/dll base names.
//!
//! Nothing here panics; whatever cannot be read becomes a [`Problem`] (what, why). Limits are the
//! constants of each part plus [`LiveOptions`].

pub mod pure;

#[cfg(windows)]
mod files;
#[cfg(windows)]
mod fsdir;
#[cfg(windows)]
mod procs;
#[cfg(windows)]
mod reg;
#[cfg(windows)]
mod win;

#[cfg(all(windows, test))]
mod tests;

#[cfg(windows)]
use crate::model::{HostData, Problem};

/// Limits and switches of a live collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveOptions {
    /// Cap on `HostData::files` entries; when reached a problem says the listing was truncated.
    pub max_files: usize,
    /// Cap on the number of task files read.
    pub max_task_files: usize,
    /// Read the first 2 bytes of listed files for the MZ flag (off: `mz` stays `None`).
    pub read_file_heads: bool,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            max_files: 200_000,
            max_task_files: 10_000,
            read_file_heads: true,
        }
    }
}

/// Reads the running host. Never panics: what cannot be read is listed in `problems`.
#[cfg(windows)]
pub fn collect(opts: &LiveOptions) -> HostData {
    let mut data = HostData {
        source: "live".to_string(),
        ..HostData::default()
    };
    read_identity(&mut data);
    procs::collect(&mut data);
    reg::collect(&mut data);
    let sysdir = match win::system_directory() {
        Ok(d) => d,
        Err(code) => {
            data.problems.push(Problem {
                what: "System32 directory (GetSystemDirectoryW)".into(),
                why: pure::describe_win32(code),
            });
            pure::join(&data.windows_dir, "System32")
        }
    };
    files::collect_tasks(&mut data, &sysdir, opts);
    files::collect_listing(&mut data, &sysdir, opts);
    files::collect_system32_names(&mut data, &sysdir);
    data
}

/// Host name, Windows directory and the volume serial of its drive.
#[cfg(windows)]
fn read_identity(data: &mut HostData) {
    match win::computer_name() {
        Ok(n) => data.host_name = n,
        Err(code) => data.problems.push(Problem {
            what: "host name (GetComputerNameW)".into(),
            why: pure::describe_win32(code),
        }),
    }
    match win::windows_directory() {
        Ok(d) => data.windows_dir = d,
        Err(code) => {
            data.problems.push(Problem {
                what: "Windows directory (GetWindowsDirectoryW)".into(),
                why: pure::describe_win32(code),
            });
            data.windows_dir = std::env::var("SystemRoot").unwrap_or_else(|_| r"C:\Windows".into());
        }
    }
    let root = pure::volume_root(&data.windows_dir);
    match win::volume_serial(&root) {
        Ok(s) => data.volume_serial = Some(s),
        Err(code) => data.problems.push(Problem {
            what: format!("volume serial of {root} (GetVolumeInformationW)"),
            why: pure::describe_win32(code),
        }),
    }
}
