//! A mounted Windows volume (or a collection that keeps its layout, like KAPE's `C` folder):
//! hives from `Windows\System32\config` and `Users\*\NTUSER.DAT` (with their logs), task files,
//! and the files the checks look at, listed from the file system with their real size, time and
//! first two bytes.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::model::FileInfo;

use super::Collector;

/// Folder levels searched below DIR for a volume root.
const FIND_DEPTH: usize = 3;
const MAX_TASK_FILES: usize = 20_000;

/// The child of `dir` named `name`, compared case-insensitively (NTFS names keep their case).
fn child(dir: &Path, name: &str) -> Option<PathBuf> {
    let direct = dir.join(name);
    if direct.exists() {
        return Some(direct);
    }
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .find(|e| e.file_name().to_string_lossy().eq_ignore_ascii_case(name))
        .map(|e| e.path())
}

fn path_ci(root: &Path, parts: &[&str]) -> Option<PathBuf> {
    parts
        .iter()
        .try_fold(root.to_path_buf(), |p, n| child(&p, n))
}

/// The folder under `dir` (itself or up to three levels down) that holds `Windows\System32\config`.
pub fn find_root(dir: &Path) -> Option<PathBuf> {
    fn search(d: &Path, depth: usize) -> Option<PathBuf> {
        if path_ci(d, &["Windows", "System32", "config"]).is_some_and(|p| p.is_dir()) {
            return Some(d.to_path_buf());
        }
        if depth == 0 {
            return None;
        }
        let mut subs: Vec<PathBuf> = std::fs::read_dir(d)
            .ok()?
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .collect();
        subs.sort();
        subs.iter().find_map(|s| search(s, depth - 1))
    }
    search(dir, FIND_DEPTH)
}

/// Read the volume into the collector.
pub fn collect(c: &mut Collector<'_>, root: &Path) {
    if let Some(config) = path_ci(root, &["Windows", "System32", "config"]) {
        for name in ["SYSTEM", "SOFTWARE"] {
            if let Some(p) = child(&config, name) {
                hive_with_logs(c, &p);
            }
        }
    }
    let users = child(root, "Users");
    let mut profiles: Vec<(String, PathBuf)> = users
        .as_deref()
        .and_then(|u| std::fs::read_dir(u).ok())
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                .collect()
        })
        .unwrap_or_default();
    profiles.sort();
    for (_, dir) in &profiles {
        if let Some(p) = child(dir, "NTUSER.DAT") {
            hive_with_logs(c, &p);
        }
    }
    if let Some(tasks) = path_ci(root, &["Windows", "System32", "Tasks"]) {
        let mut found = Vec::new();
        list(&tasks, 0, 8, &mut found, MAX_TASK_FILES);
        for p in found.into_iter().filter(|(_, d)| !d).map(|(p, _)| p) {
            let name = p
                .strip_prefix(&tasks)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('/', "\\");
            if let Some(bytes) = c.read_max(&p, super::MAX_TASK_BYTES) {
                c.data.task_files.push((name, bytes));
            }
        }
    }
    files(c, root, &profiles);
}

fn hive_with_logs(c: &mut Collector<'_>, p: &Path) {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
    for ext in ["LOG1", "LOG2"] {
        let log_name = format!(
            "{}.{ext}",
            p.file_name().unwrap_or_default().to_string_lossy()
        );
        if let Some(l) = child(&dir, &log_name) {
            c.hive_logs
                .entry((dir.clone(), name.clone()))
                .or_default()
                .push(l);
        }
    }
    if let Some(bytes) = c.read(p) {
        c.hive(p, &name, bytes);
    }
}

/// Entries under `dir` to `depth` levels: (path, is_dir), no symbolic links or junctions.
fn list(dir: &Path, level: usize, depth: usize, out: &mut Vec<(PathBuf, bool)>, max: usize) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if out.len() >= max {
            return;
        }
        let Ok(t) = e.file_type() else { continue };
        if t.is_symlink() {
            continue;
        }
        out.push((e.path(), t.is_dir()));
        if t.is_dir() && level + 1 < depth {
            list(&e.path(), level + 1, depth, out, max);
        }
    }
}

/// 100-ns intervals between 1601-01-01 and 1970-01-01.
const EPOCH_DIFF: u64 = 116_444_736_000_000_000;

fn info(root: &Path, p: &Path, is_dir: bool) -> FileInfo {
    let rel = p
        .strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('/', "\\");
    let meta = std::fs::metadata(p).ok();
    let mtime = meta
        .as_ref()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| EPOCH_DIFF + d.as_secs() * 10_000_000 + u64::from(d.subsec_nanos()) / 100);
    let (size, mz) = if is_dir {
        (None, None)
    } else {
        let mut head = [0u8; 2];
        let mz = std::fs::File::open(p)
            .and_then(|mut f| f.read_exact(&mut head))
            .map(|_| &head == b"MZ")
            .unwrap_or(false);
        (meta.as_ref().map(|m| m.len()), Some(mz))
    };
    FileInfo {
        path: format!(r"C:\{rel}"),
        is_dir,
        size,
        mtime,
        mz,
    }
}

fn files(c: &mut Collector<'_>, root: &Path, profiles: &[(String, PathBuf)]) {
    let max = c.opts.max_files;
    let mut found: Vec<(PathBuf, bool)> = Vec::new();
    let add = |parts: &[&str], base: &Path, depth: usize, found: &mut Vec<(PathBuf, bool)>| {
        if let Some(d) = path_ci(base, parts) {
            list(&d, 0, depth, found, max);
        }
    };
    for (_, p) in profiles {
        add(&["AppData", "Local"], p, 2, &mut found);
        add(&["AppData", "Roaming"], p, 3, &mut found);
        add(
            &[
                "AppData",
                "Roaming",
                "Microsoft",
                "Windows",
                "Start Menu",
                "Programs",
                "Startup",
            ],
            p,
            1,
            &mut found,
        );
    }
    for parts in [
        &["Windows", "System32"][..],
        &["Windows", "SysWOW64"],
        &["ProgramData"],
        &["Users", "Public"],
    ] {
        add(parts, root, 2, &mut found);
    }
    add(&["Windows", "Temp"], root, 1, &mut found);
    add(
        &[
            "ProgramData",
            "Microsoft",
            "Windows",
            "Start Menu",
            "Programs",
            "StartUp",
        ],
        root,
        1,
        &mut found,
    );
    if found.len() >= max {
        c.problem(
            root,
            format!("more than {max} files listed: the rest were not checked"),
        );
    }
    // System32's own exe/dll names are EmoCheck v3's keyword set.
    let sys32 = path_ci(root, &["Windows", "System32"]);
    for (p, is_dir) in &found {
        let parent = p.parent().map(Path::to_path_buf);
        if !is_dir && parent.is_some() && parent == sys32 {
            let n = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_ascii_lowercase();
            if let Some(stem) = n.strip_suffix(".exe").or_else(|| n.strip_suffix(".dll")) {
                c.data.system32_names.push(stem.to_string());
            }
            continue;
        }
        c.data.files.push(info(root, p, *is_dir));
    }
    c.data.system32_names.sort();
    c.data.system32_names.dedup();
}
