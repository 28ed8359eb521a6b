//! `kensa host triage DIR`: the same checks as a live check, over artefacts collected from a PC
//! (host spec §6) or over a mounted Windows volume.
//!
//! What is read, recognised by content first and by name second:
//! - registry hives (`regf`): SYSTEM, SOFTWARE and each user's NTUSER.DAT, told apart by their
//!   root keys; `<hive>.LOG1`/`.LOG2` beside a dirty hive are applied; `.xz`-compressed files are
//!   read in memory;
//! - `.reg` exports (`HKEY_CURRENT_USER`, `HKEY_USERS\<SID>`, `HKEY_LOCAL_MACHINE\SOFTWARE|SYSTEM`);
//! - task XML files (under a `Tasks` folder, or any file that is task XML);
//! - a process list (tasklist, PowerShell/WMIC exports, kensa JSON Lines: see `proclist`);
//! - a file listing (see `listing`), and the volume serial (`vol`/`fsutil` output in a text file,
//!   or an NTFS/FAT boot sector);
//! - a mounted volume (a folder holding `Windows\System32\config`, e.g. KAPE's `C` folder): hives,
//!   tasks and the files themselves, with their real sizes, times and first bytes.

pub mod hivefile;
mod volume;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::hive::Hive as HiveFile;
use crate::keys::Root;
use crate::model::{FileInfo, Hive, HostData, KeyData, Problem, UserProfile};
use crate::regexport::{Root as RegRoot, parse_reg, split_root};
use hivefile::{HiveKind, computer_name, extract, kind_of, recover};

/// Limits of one triage run.
#[derive(Debug, Clone)]
pub struct TriageOptions {
    pub volume_serial: Option<u32>,
    pub host_name: Option<String>,
    /// Files looked at in the folder, at most.
    pub max_files: usize,
    /// Bytes read from one artefact (hives are rarely above 200 MB).
    pub max_file_bytes: u64,
}

impl Default for TriageOptions {
    fn default() -> Self {
        TriageOptions {
            volume_serial: None,
            host_name: None,
            max_files: 500_000,
            max_file_bytes: 1 << 30,
        }
    }
}

/// Folder depth walked below DIR.
const MAX_DEPTH: usize = 16;

/// Task files are small XML; the task reader refuses more than this anyway.
const MAX_TASK_BYTES: u64 = 4 << 20;

/// Collect a triage folder.
pub fn collect(dir: &Path, opts: &TriageOptions) -> HostData {
    let mut data = HostData {
        source: format!("triage folder {}", dir.display()),
        windows_dir: r"C:\Windows".to_string(),
        ..HostData::default()
    };
    let vol = volume::find_root(dir);
    let mut files = Vec::new();
    walk(
        dir,
        0,
        vol.as_deref(),
        &mut files,
        opts.max_files,
        &mut data.problems,
    );
    let mut c = Collector {
        data,
        opts,
        hive_logs: BTreeMap::new(),
        host_from_hive: None,
    };
    // Logs are found by their hive's name: index them first.
    for f in &files {
        let name = file_name_lower(f);
        if let Some(base) = name
            .strip_suffix(".log1")
            .or_else(|| name.strip_suffix(".log2"))
        {
            let key = (
                f.parent().map(Path::to_path_buf).unwrap_or_default(),
                base.to_string(),
            );
            c.hive_logs.entry(key).or_default().push(f.clone());
        }
    }
    for f in &files {
        c.file(dir, f);
    }
    if let Some(root) = vol {
        c.data.source = format!("mounted volume {}", root.display());
        volume::collect(&mut c, &root);
    }
    let mut data = c.data;
    infer_profiles(&mut data);
    data.volume_serial = opts.volume_serial.or(data.volume_serial);
    data.host_name = opts
        .host_name
        .clone()
        .or(c.host_from_hive)
        .unwrap_or_else(|| {
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "host".to_string())
        });
    data
}

fn file_name_lower(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Every file under `dir` (sorted, no symbolic links), except under `skip` (a mounted volume,
/// read by [`volume`] instead).
fn walk(
    dir: &Path,
    depth: usize,
    skip: Option<&Path>,
    out: &mut Vec<PathBuf>,
    max: usize,
    problems: &mut Vec<Problem>,
) {
    if depth > MAX_DEPTH || out.len() >= max || skip == Some(dir) {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(Problem {
                what: dir.display().to_string(),
                why: format!("folder not readable: {e}"),
            });
            return;
        }
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let Ok(t) = e.file_type() else { continue };
        if t.is_symlink() {
            continue;
        }
        if t.is_dir() {
            walk(&e.path(), depth + 1, skip, out, max, problems);
        } else if t.is_file() {
            if out.len() >= max {
                problems.push(Problem {
                    what: dir.display().to_string(),
                    why: format!("more than {max} files: the rest were not read"),
                });
                return;
            }
            out.push(e.path());
        }
    }
}

pub(crate) struct Collector<'o> {
    pub(crate) data: HostData,
    pub(crate) opts: &'o TriageOptions,
    pub(crate) hive_logs: BTreeMap<(PathBuf, String), Vec<PathBuf>>,
    host_from_hive: Option<String>,
}

/// xz magic.
const XZ: &[u8] = b"\xfd7zXZ\0";

impl Collector<'_> {
    pub(crate) fn problem(&mut self, what: &Path, why: String) {
        self.data.problems.push(Problem {
            what: what.display().to_string(),
            why,
        });
    }

    pub(crate) fn read(&mut self, path: &Path) -> Option<Vec<u8>> {
        self.read_max(path, self.opts.max_file_bytes)
    }

    /// Read a file of at most `max` bytes (xz content unpacked, also to at most `max`).
    pub(crate) fn read_max(&mut self, path: &Path, max: u64) -> Option<Vec<u8>> {
        let mut buf = Vec::new();
        let r = std::fs::File::open(path).and_then(|f| f.take(max + 1).read_to_end(&mut buf));
        if let Err(e) = r {
            self.problem(path, format!("not readable: {e}"));
            return None;
        }
        if buf.len() as u64 > max {
            self.problem(path, format!("larger than {max} bytes: not read"));
            return None;
        }
        if buf.starts_with(XZ) {
            let mut out = Vec::new();
            let mut w = Capped {
                out: &mut out,
                left: max,
            };
            if let Err(e) = lzma_rs::xz_decompress(&mut &buf[..], &mut w) {
                self.problem(path, format!("xz data not readable: {e}"));
                return None;
            }
            return Some(out);
        }
        Some(buf)
    }

    fn file(&mut self, dir: &Path, path: &Path) {
        let name = file_name_lower(path);
        let name = name.strip_suffix(".xz").unwrap_or(&name).to_string();
        if name.ends_with(".log1") || name.ends_with(".log2") || name.ends_with(".log") {
            return;
        }
        let rel = path.strip_prefix(dir).unwrap_or(path);
        let rel_win = rel.to_string_lossy().replace('/', "\\");
        let lower_rel = rel_win.to_ascii_lowercase();
        let Some(data) = self.peek(path) else { return };
        if data.starts_with(b"regf") || data.starts_with(XZ) {
            if let Some(bytes) = self.read(path)
                && bytes.starts_with(b"regf")
            {
                self.hive(path, &name, bytes);
            }
            return;
        }
        if name.ends_with(".reg") || is_reg_text(&data) {
            if let Some(bytes) = self.read(path) {
                self.reg_export(path, &bytes);
            }
            return;
        }
        if let Some(task_name) = task_name(&lower_rel, &rel_win) {
            if let Some(bytes) = self.read_max(path, MAX_TASK_BYTES) {
                self.data.task_files.push((task_name, bytes));
            }
            return;
        }
        if is_task_xml(&data) {
            if let Some(bytes) = self.read_max(path, MAX_TASK_BYTES) {
                self.data.task_files.push((rel_win.clone(), bytes));
            }
            return;
        }
        if name.ends_with(".bootsector") || name == "$boot" {
            if let Some(s) = self
                .read(path)
                .and_then(|b| crate::emocheck::serial_from_boot_sector(&b))
            {
                self.data.volume_serial = Some(s);
            }
            return;
        }
        let is_text = matches!(
            Path::new(&name).extension().and_then(|e| e.to_str()),
            Some("csv" | "json" | "jsonl" | "txt")
        );
        if !is_text {
            return;
        }
        let Some(bytes) = self.read(path) else { return };
        if name.contains("serial") || name.starts_with("vol") || name.contains("fsutil") {
            let text = String::from_utf8_lossy(&bytes);
            if let Some(s) = crate::emocheck::parse_vol_output(&text) {
                self.data.volume_serial = Some(s);
                return;
            }
        }
        if let Ok(list) = crate::listing::parse_listing(&bytes)
            && !list.entries.is_empty()
        {
            self.data
                .files
                .extend(list.entries.into_iter().map(|e| FileInfo {
                    path: e.path,
                    is_dir: e.is_dir,
                    size: e.size,
                    mtime: e.mtime,
                    mz: e.mz,
                }));
            return;
        }
        if let Ok(list) = crate::proclist::parse_process_list(&bytes)
            && !list.processes.is_empty()
        {
            self.data
                .processes
                .get_or_insert_with(Vec::new)
                .extend(list.processes);
        }
    }

    /// The first bytes of a file, for recognising it.
    fn peek(&mut self, path: &Path) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 4096];
        let mut f = std::fs::File::open(path)
            .map_err(|e| self.problem(path, format!("not readable: {e}")))
            .ok()?;
        let n = f.read(&mut buf).ok()?;
        buf.truncate(n);
        Some(buf)
    }

    pub(crate) fn hive(&mut self, path: &Path, name: &str, bytes: Vec<u8>) {
        let what = path.display().to_string();
        let base = name.to_string();
        let key = (
            path.parent().map(Path::to_path_buf).unwrap_or_default(),
            base,
        );
        let logs: Vec<Vec<u8>> = self
            .hive_logs
            .get(&key)
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|p| self.read(p))
            .collect();
        let (bytes, problems) = recover(bytes, &logs, &what);
        self.data.problems.extend(problems);
        let h = match HiveFile::parse(&bytes) {
            Ok(h) => h,
            Err(e) => return self.problem(path, format!("not a readable hive: {e}")),
        };
        if let Some(t) = h.truncation() {
            self.problem(path, format!("hive cut short: {t}"));
        }
        let (root, hive) = match kind_of(&h) {
            HiveKind::System => {
                if let Some(n) = computer_name(&h) {
                    self.host_from_hive.get_or_insert(n);
                }
                (Root::System, Hive::System)
            }
            HiveKind::Software => (Root::Software, Hive::Software),
            HiveKind::User => {
                let user = user_of(path, &h.base().file_name);
                if !self.data.users.iter().any(|u| u.name == user) {
                    self.data.users.push(UserProfile {
                        profile_dir: format!(r"C:\Users\{user}"),
                        name: user.clone(),
                    });
                }
                (Root::User, Hive::User(user))
            }
            HiveKind::Other => return,
        };
        let (keys, problems) = extract(&h, root, &what);
        self.data.problems.extend(problems);
        for k in keys {
            self.data.registry.insert(hive.clone(), k);
        }
    }

    fn reg_export(&mut self, path: &Path, bytes: &[u8]) {
        let export = match parse_reg(bytes) {
            Ok(e) => e,
            Err(e) => return self.problem(path, format!("not a .reg export: {e}")),
        };
        for p in &export.problems {
            self.problem(path, format!("line skipped: {p}"));
        }
        for k in export.keys.iter().filter(|k| !k.deleted) {
            let Some((root, rest)) = split_root(&k.path) else {
                continue;
            };
            let (hive, rel) = match root {
                // Every HKCU export of a collection is the same (exporting) user.
                RegRoot::CurrentUser => (Hive::User(HKCU.to_string()), rest.to_string()),
                RegRoot::Users => match rest.split_once('\\') {
                    Some((sid, r)) if !sid.to_ascii_lowercase().ends_with("_classes") => {
                        (Hive::User(sid.to_string()), r.to_string())
                    }
                    _ => continue,
                },
                RegRoot::LocalMachine => match rest.split_once('\\') {
                    Some((h, r)) if h.eq_ignore_ascii_case("SOFTWARE") => {
                        (Hive::Software, r.to_string())
                    }
                    Some((h, r)) if h.eq_ignore_ascii_case("SYSTEM") => {
                        (Hive::System, normalise_control_set(r))
                    }
                    _ => continue,
                },
                _ => continue,
            };
            if let Hive::User(u) = &hive
                && !self.data.users.iter().any(|p| &p.name == u)
            {
                self.data.users.push(UserProfile {
                    name: u.clone(),
                    profile_dir: format!(r"C:\Users\{u}"),
                });
            }
            let mut kd = self
                .data
                .registry
                .get(&hive, &rel)
                .cloned()
                .unwrap_or_else(|| KeyData {
                    path: rel.clone(),
                    ..KeyData::default()
                });
            for v in &k.values {
                kd.values.retain(|x| !x.name.eq_ignore_ascii_case(&v.name));
                kd.values.push(v.clone());
            }
            self.data.registry.insert(hive.clone(), kd);
            // Make the key visible as a subkey of its parent (exports list parents first).
            if let Some((parent, child)) = rel.rsplit_once('\\') {
                let mut pk = self
                    .data
                    .registry
                    .get(&hive, parent)
                    .cloned()
                    .unwrap_or_else(|| KeyData {
                        path: parent.to_string(),
                        ..KeyData::default()
                    });
                if !pk.subkeys.iter().any(|s| s.eq_ignore_ascii_case(child)) {
                    pk.subkeys.push(child.to_string());
                    self.data.registry.insert(hive, pk);
                }
            }
        }
    }
}

/// The name under which `HKEY_CURRENT_USER` exports are kept (shown as `HKCU\…`).
pub const HKCU: &str = "HKCU";

/// A user hive whose profile folder was only guessed from its name (a loose `NTUSER.DAT`, an
/// HKCU export) gets the profile the collection's files and processes show, when they show
/// exactly one: `%LOCALAPPDATA%` in its Run values must expand to the folder the files are in.
fn infer_profiles(data: &mut HostData) {
    let mut seen: Vec<String> = Vec::new();
    let paths = data.files.iter().map(|f| f.path.as_str()).chain(
        data.processes
            .iter()
            .flatten()
            .filter_map(|p| p.image_path.as_deref()),
    );
    for p in paths {
        let parts: Vec<&str> = p.split('\\').collect();
        if let [_, users, name, _, ..] = parts[..]
            && users.eq_ignore_ascii_case("Users")
            && !["public", "default", "default user", "all users"]
                .contains(&name.to_ascii_lowercase().as_str())
            && !seen.iter().any(|s| s.eq_ignore_ascii_case(name))
        {
            seen.push(name.to_string());
        }
    }
    let [only] = &seen[..] else { return };
    for u in &mut data.users {
        let known = seen.iter().any(|s| s.eq_ignore_ascii_case(&u.name));
        if !known {
            u.profile_dir = format!(r"C:\Users\{only}");
        }
    }
}

/// `ControlSet001\Services` → `CurrentControlSet\Services`.
fn normalise_control_set(r: &str) -> String {
    match r.split_once('\\') {
        Some((cs, rest)) if cs.to_ascii_lowercase().starts_with("controlset") => {
            format!(r"CurrentControlSet\{rest}")
        }
        _ => r.to_string(),
    }
}

/// The user a NTUSER.DAT belongs to: the `Users\<name>` folder it sits in, else the path stored
/// in its base block (`\??\C:\Users\<name>\ntuser.dat`), else the file name.
fn user_of(path: &Path, stored: &str) -> String {
    let comps: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(i) = comps.iter().position(|c| c.eq_ignore_ascii_case("users"))
        && let Some(u) = comps.get(i + 1)
        && i + 2 < comps.len()
    {
        return u.clone();
    }
    let s = stored.replace('/', "\\");
    let parts: Vec<&str> = s.split('\\').collect();
    if let Some(i) = parts.iter().position(|c| c.eq_ignore_ascii_case("users"))
        && let Some(u) = parts.get(i + 1)
        && !u.is_empty()
        && i + 2 < parts.len()
    {
        return (*u).to_string();
    }
    path.file_stem()
        .map(|s| s.to_string_lossy().trim_end_matches(".DAT").to_string())
        .unwrap_or_else(|| "user".to_string())
}

/// `…\System32\Tasks\A\B` → `A\B` (the task's name).
fn task_name(lower: &str, orig: &str) -> Option<String> {
    let i = lower.find(r"system32\tasks\")?;
    let rest = &orig[i + r"system32\tasks\".len()..];
    (!rest.is_empty()).then(|| rest.to_string())
}

fn is_reg_text(head: &[u8]) -> bool {
    let text = decode_head(head);
    let t = text.trim_start_matches('\u{feff}');
    t.starts_with("Windows Registry Editor") || t.starts_with("REGEDIT4")
}

fn is_task_xml(head: &[u8]) -> bool {
    let text = decode_head(head);
    text.contains("<Task") && text.contains("mit/task")
}

/// The start of a file as text (UTF-16LE with a BOM, else UTF-8 lossy).
fn decode_head(head: &[u8]) -> String {
    if let Some(rest) = head.strip_prefix(&[0xFF, 0xFE]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        String::from_utf8_lossy(head).into_owned()
    }
}

/// A writer that refuses to grow past a limit (xz bombs).
struct Capped<'a> {
    out: &'a mut Vec<u8>,
    left: u64,
}

impl std::io::Write for Capped<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() as u64 > self.left {
            return Err(std::io::Error::other(
                "decompressed data larger than the limit",
            ));
        }
        self.left -= buf.len() as u64;
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
