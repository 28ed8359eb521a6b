//! What the host checks look at, whatever the source (live Windows APIs, a triage folder, `.reg`
//! exports): registry keys of interest, scheduled tasks, processes, files, and what could not be
//! read. Sources fill a [`HostData`]; the checks only read it.

use std::collections::BTreeMap;

use crate::proclist::Process;
use crate::registry::RegValue;

/// Which registry root a key belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Hive {
    /// HKLM\SOFTWARE (the `SOFTWARE` hive).
    Software,
    /// HKLM\SYSTEM (the `SYSTEM` hive); paths use `CurrentControlSet` already resolved.
    System,
    /// One user's HKCU (NTUSER.DAT), named by user name or SID.
    User(String),
}

/// One registry key as read: its values, its subkey names, its last-written time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyData {
    /// The path as read (original case), relative to its hive root.
    pub path: String,
    /// FILETIME, when the source has it (hives and live reads do; `.reg` exports do not).
    pub last_written: Option<u64>,
    pub values: Vec<RegValue>,
    pub subkeys: Vec<String>,
}

/// The registry keys a source read, by hive and case-insensitive path.
#[derive(Debug, Clone, Default)]
pub struct RegTree {
    keys: BTreeMap<(Hive, String), KeyData>,
}

impl RegTree {
    /// Add or replace a key (`path` relative to the hive root, backslash-separated).
    pub fn insert(&mut self, hive: Hive, key: KeyData) {
        let norm = normalise(&key.path);
        self.keys.insert((hive, norm), key);
    }

    pub fn get(&self, hive: &Hive, path: &str) -> Option<&KeyData> {
        self.keys.get(&(hive.clone(), normalise(path)))
    }

    /// Every key whose path starts with `prefix` (itself included), in path order.
    pub fn under<'a>(
        &'a self,
        hive: &'a Hive,
        prefix: &str,
    ) -> impl Iterator<Item = &'a KeyData> + 'a {
        let p = normalise(prefix);
        self.keys
            .iter()
            .filter(move |((h, k), _)| h == hive && (k == &p || k.starts_with(&format!("{p}\\"))))
            .map(|(_, v)| v)
    }

    /// The hives present (each user once).
    pub fn hives(&self) -> Vec<Hive> {
        let mut out: Vec<Hive> = self.keys.keys().map(|(h, _)| h.clone()).collect();
        out.dedup();
        out
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn normalise(path: &str) -> String {
    path.trim_matches('\\').to_lowercase()
}

/// A file the checks may look at.
#[derive(Debug, Clone, PartialEq)]
pub struct FileInfo {
    /// Windows form, e.g. `C:\Users\a\AppData\Local\Abcd\qehxk.xwa`.
    pub path: String,
    pub is_dir: bool,
    pub size: Option<u64>,
    /// FILETIME.
    pub mtime: Option<u64>,
    /// Starts with `MZ`, when known.
    pub mz: Option<bool>,
}

/// One user profile.
#[derive(Debug, Clone, PartialEq)]
pub struct UserProfile {
    /// The name used for the user's hive in [`RegTree`] (user name or SID).
    pub name: String,
    /// `C:\Users\<name>`.
    pub profile_dir: String,
}

/// Everything a source collected about one host.
#[derive(Debug, Clone, Default)]
pub struct HostData {
    pub host_name: String,
    /// Volume serial of the system drive (EmoCheck v1/v2), when known.
    pub volume_serial: Option<u32>,
    /// `C:\Windows`.
    pub windows_dir: String,
    pub users: Vec<UserProfile>,
    pub registry: RegTree,
    /// Task files: the path relative to `System32\Tasks` (= the task's name, `\`-separated) and
    /// the file's bytes (parsed by the checks with [`crate::task::parse_task`]).
    pub task_files: Vec<(String, Vec<u8>)>,
    /// `None`: no process information (offline triage without a process list).
    pub processes: Option<Vec<Process>>,
    /// Files in the places the checks look (see [`crate::sources`]), directories included.
    pub files: Vec<FileInfo>,
    /// Base names (lowercase, no extension) of the exe/dll files in System32 (EmoCheck v3 keyword
    /// set); empty when not known.
    pub system32_names: Vec<String>,
    /// Profiles whose hive is not loaded (user logged off): user name or SID and the path of
    /// their `NTUSER.DAT`, for the caller to read with the hive reader when it is readable.
    pub unloaded_user_hives: Vec<(String, String)>,
    /// What could not be read (access denied, dirty hive without logs, …): each makes the result
    /// incomplete.
    pub problems: Vec<Problem>,
    /// What the source says about itself, e.g. "live", "triage folder /mnt/c".
    pub source: String,
}

/// Something a source could not read.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// What: a hive file, a registry key, "processes", a task file.
    pub what: String,
    pub why: String,
}
