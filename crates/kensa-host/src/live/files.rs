//! Files: the task folder (bytes), the listings the checks look at (size, FILETIME mtime from
//! the directory listing, MZ flag) and the System32 exe/dll names.
//!
//! Listings, in this order (so that [`LiveOptions::max_files`] drops the least useful last), with
//! depth 1 = the root's direct entries:
//! - each profile's `AppData\Local`: entries at depth 1, files at depth 2 (EmoCheck v3/v4/v5, the
//!   random DLL folders of 2022; `Temp`'s files are among them);
//! - `System32` and `SysWOW64`: subfolders at depth 1 and their files at depth 2 (admin installs;
//!   not System32's own files);
//! - each profile's `AppData\Roaming`: files to depth 3 (QakBot, IcedID `license.dat`),
//!   directories to [`MAX_WALK_DEPTH`] (EmoCheck v4's allowlist of directory names);
//! - `ProgramData` and `Users\Public` to depth 2, `Windows\Temp` depth 1;
//! - `Program Files` and `Program Files (x86)`: directories only, to [`MAX_WALK_DEPTH`] (v4 allowlist).
//!
//! Reparse points (junctions, symbolic links, cloud placeholders) are listed but never descended
//! into or opened; files whose data is offline or in the cloud are not opened (`mz` stays `None`).
//! MZ flags: the first 2 bytes of every listed file, except in System32/SysWOW64 subfolders, where
//! only files passing [`pure::system_subdir_head_wanted`] are opened (the others keep `None`).
//! A folder that cannot be listed is a problem, except below the depth where only directory
//! names are collected (a shorter v4 allowlist can only add candidates, never hide one).
//!
//! Limits: [`MAX_WALK_DEPTH`], [`MAX_DIR_ENTRIES`] per folder, [`LiveOptions`] caps,
//! [`MAX_TASK_BYTES`] per task file, [`MAX_TASK_DEPTH`], [`MAX_TASK_DIRS`],
//! [`MAX_SYSTEM32_FILES`].

use std::collections::{HashSet, VecDeque};
use std::io::Read;

use windows_sys::Win32::Foundation::{
    ERROR_ACCESS_DENIED, ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND,
};

use super::LiveOptions;
use super::fsdir::{self, Entry};
use super::pure::{self, MAX_WALK_DEPTH, Tally};
use super::win;
use crate::model::{FileInfo, HostData, Problem};

/// Largest task file read (bytes); larger ones are reported.
pub const MAX_TASK_BYTES: u64 = 4 * 1024 * 1024;
/// Deepest task subfolder read.
pub const MAX_TASK_DEPTH: u8 = 16;
/// Entries read from one folder; a larger folder is cut and reported.
pub const MAX_DIR_ENTRIES: usize = 200_000;
/// Task folders listed at most.
pub const MAX_TASK_DIRS: usize = 10_000;
/// Entries of System32 considered for the keyword set.
pub const MAX_SYSTEM32_FILES: usize = 100_000;

/// Which entries of a walk are kept: depths (1 = the root's direct entries) for files and for
/// directories, inclusive; `(1, 0)` keeps none.
#[derive(Clone, Copy)]
struct Walk {
    files: (u8, u8),
    dirs: (u8, u8),
    /// System32/SysWOW64 walk: heads only of files worth it.
    system: bool,
}

impl Walk {
    fn deepest(&self) -> u8 {
        self.files.1.max(self.dirs.1).min(MAX_WALK_DEPTH)
    }
}

/// Accumulates the listing.
struct Lister<'a> {
    opts: &'a LiveOptions,
    files: Vec<FileInfo>,
    seen: HashSet<String>,
    roots: HashSet<String>,
    truncated: bool,
    heads_failed: Tally,
    problems: Vec<Problem>,
}

/// Fills `data.files` (and problems).
pub(super) fn collect_listing(data: &mut HostData, sysdir: &str, opts: &LiveOptions) {
    let mut l = Lister {
        opts,
        files: Vec::new(),
        seen: HashSet::new(),
        roots: HashSet::new(),
        truncated: false,
        heads_failed: Tally::default(),
        problems: Vec::new(),
    };
    let none = (1, 0);
    let sysdrive = pure::volume_root(&data.windows_dir);
    let local = Walk {
        files: (1, 2),
        dirs: (1, 1),
        system: false,
    };
    for u in &data.users {
        l.walk(&pure::join(&u.profile_dir, r"AppData\Local"), local);
    }
    let system = Walk {
        files: (2, 2),
        dirs: (1, 1),
        system: true,
    };
    l.walk(sysdir, system);
    l.walk(&pure::join(&data.windows_dir, "SysWOW64"), system);
    let roaming = Walk {
        files: (1, 3),
        dirs: (1, MAX_WALK_DEPTH),
        system: false,
    };
    for u in &data.users {
        l.walk(&pure::join(&u.profile_dir, r"AppData\Roaming"), roaming);
    }
    let two = Walk {
        files: (1, 2),
        dirs: (1, 2),
        system: false,
    };
    l.walk(
        &win::env("ProgramData").unwrap_or_else(|| pure::join(&sysdrive, "ProgramData")),
        two,
    );
    l.walk(
        &win::env("PUBLIC").unwrap_or_else(|| pure::join(&sysdrive, r"Users\Public")),
        two,
    );
    l.walk(
        &pure::join(&data.windows_dir, "Temp"),
        Walk {
            files: (1, 1),
            dirs: (1, 1),
            system: false,
        },
    );
    let names_only = Walk {
        files: none,
        dirs: (1, MAX_WALK_DEPTH),
        system: false,
    };
    let pf = win::env("ProgramW6432")
        .or_else(|| win::env("ProgramFiles"))
        .unwrap_or_else(|| pure::join(&sysdrive, "Program Files"));
    l.walk(&pf, names_only);
    let pf86 = win::env("ProgramFiles(x86)")
        .unwrap_or_else(|| pure::join(&sysdrive, "Program Files (x86)"));
    l.walk(&pf86, names_only);
    if l.truncated {
        l.problems.push(Problem {
            what: "file listing".into(),
            why: format!(
                "truncated at {} entries (max_files): later folders were not listed",
                opts.max_files
            ),
        });
    }
    if let Some(s) = l
        .heads_failed
        .summary("files could not be opened for their first bytes")
    {
        l.problems.push(Problem {
            what: "file headers (MZ flag)".into(),
            why: s,
        });
    }
    data.files = l.files;
    data.problems.append(&mut l.problems);
}

impl Lister<'_> {
    /// Lists `root` breadth-first as `walk` says.
    fn walk(&mut self, root: &str, walk: Walk) {
        if self.truncated || !self.roots.insert(root.to_lowercase()) {
            return;
        }
        let mut denied = Tally::default();
        let mut oversized = Tally::default();
        // (folder, depth of its entries, the folder's own mtime)
        let mut queue = VecDeque::from([(root.to_string(), 1u8, None::<u64>)]);
        while let Some((dir, depth, dir_mtime)) = queue.pop_front() {
            let entries = match fsdir::read_dir(&dir, MAX_DIR_ENTRIES) {
                Ok((e, more)) => {
                    if more {
                        oversized.add(dir.clone());
                    }
                    e
                }
                Err(code) if code == ERROR_FILE_NOT_FOUND || code == ERROR_PATH_NOT_FOUND => {
                    continue;
                }
                Err(code) if depth == 1 => {
                    self.problems.push(Problem {
                        what: dir,
                        why: pure::describe_win32(code),
                    });
                    continue;
                }
                // Below the file depth only directory names are lost: not a gap in what is checked.
                Err(_) if depth > walk.files.1 => continue,
                Err(code) => {
                    denied.add(format!("{dir}: {}", pure::describe_win32(code)));
                    continue;
                }
            };
            for e in entries {
                let path = pure::join(&dir, &e.name);
                let (lo, hi) = if e.is_dir() { walk.dirs } else { walk.files };
                if (lo..=hi).contains(&depth) {
                    self.add(
                        &path,
                        &e,
                        walk.system.then_some(dir_mtime).flatten(),
                        walk.system,
                    );
                }
                if e.is_dir() && !e.is_reparse() && depth < walk.deepest() {
                    queue.push_back((path, depth + 1, Some(e.mtime)));
                }
            }
            if self.truncated {
                break;
            }
        }
        let cut = format!("folders over {MAX_DIR_ENTRIES} entries were cut");
        if let Some(s) = oversized.summary(&cut) {
            self.problems.push(Problem {
                what: root.to_string(),
                why: s,
            });
        }
        if let Some(s) = denied.summary("folders could not be listed") {
            self.problems.push(Problem {
                what: root.to_string(),
                why: s,
            });
        }
    }

    /// Adds one entry (once), reading its head when wanted.
    fn add(&mut self, path: &str, e: &Entry, dir_mtime: Option<u64>, system: bool) {
        if self.files.len() >= self.opts.max_files {
            self.truncated = true;
            return;
        }
        if !self.seen.insert(path.to_lowercase()) {
            return;
        }
        let is_dir = e.is_dir();
        let mz = if is_dir || !self.opts.read_file_heads || e.is_reparse() || e.is_remote() {
            None
        } else if e.size < 2 {
            Some(false)
        } else if system && !pure::system_subdir_head_wanted(&e.name, dir_mtime, Some(e.mtime)) {
            None
        } else {
            match read_head(path) {
                Ok(h) => Some(pure::head_is_mz(&h)),
                Err(err) => {
                    self.heads_failed.add(format!("{path}: {err}"));
                    None
                }
            }
        };
        self.files.push(FileInfo {
            path: path.to_string(),
            is_dir,
            size: (!is_dir).then_some(e.size),
            mtime: Some(e.mtime),
            mz,
        });
    }
}

/// Up to the first 2 bytes of a file.
fn read_head(path: &str) -> std::io::Result<Vec<u8>> {
    let f = std::fs::File::open(pure::long_path(path))?;
    let mut head = Vec::with_capacity(2);
    f.take(2).read_to_end(&mut head)?;
    Ok(head)
}

/// Fills `data.task_files` with every file under `System32\Tasks` (and problems).
pub(super) fn collect_tasks(data: &mut HostData, sysdir: &str, opts: &LiveOptions) {
    let root = pure::join(sysdir, "Tasks");
    let mut failed = Tally::default();
    let mut too_big = Tally::default();
    let mut capped = false;
    let mut stack = vec![(root.clone(), 1u8)];
    let mut dirs = 0usize;
    while let Some((dir, depth)) = stack.pop() {
        dirs += 1;
        if dirs > MAX_TASK_DIRS {
            capped = true;
            break;
        }
        let entries = match fsdir::read_dir(&dir, opts.max_task_files.saturating_add(1)) {
            Ok((e, _)) => e,
            Err(code) if code == ERROR_FILE_NOT_FOUND || code == ERROR_PATH_NOT_FOUND => continue,
            Err(code) => {
                let why = if code == ERROR_ACCESS_DENIED {
                    "access denied: scheduled tasks need administrator rights (run as administrator)".into()
                } else {
                    pure::describe_win32(code)
                };
                if depth == 1 {
                    data.problems.push(Problem {
                        what: format!("scheduled tasks ({dir})"),
                        why,
                    });
                } else {
                    failed.add(format!("{dir}: {why}"));
                }
                continue;
            }
        };
        for e in entries.iter().rev() {
            let path = pure::join(&dir, &e.name);
            if e.is_dir() {
                if !e.is_reparse() && depth < MAX_TASK_DEPTH {
                    stack.push((path, depth + 1));
                }
                continue;
            }
            if data.task_files.len() >= opts.max_task_files {
                capped = true;
                break;
            }
            let Some(name) = pure::relative_to(&root, &path) else {
                continue;
            };
            if e.size > MAX_TASK_BYTES {
                too_big.add(format!("{name} ({} bytes)", e.size));
                continue;
            }
            match read_capped(&path, MAX_TASK_BYTES) {
                Ok(bytes) => data.task_files.push((name, bytes)),
                Err(err) => failed.add(format!("{name}: {err}")),
            }
        }
    }
    let what = format!("scheduled tasks ({root})");
    if capped {
        data.problems.push(Problem {
            what: what.clone(),
            why: format!(
                "more than {} task files or {MAX_TASK_DIRS} folders: the rest was not read",
                opts.max_task_files
            ),
        });
    }
    if let Some(s) = too_big.summary("task files over the 4 MiB cap were not read") {
        data.problems.push(Problem {
            what: what.clone(),
            why: s,
        });
    }
    if let Some(s) = failed.summary("task files or folders could not be read") {
        data.problems.push(Problem {
            what,
            why: format!("{s} (run as administrator)"),
        });
    }
}

/// A whole file, at most `cap` bytes.
fn read_capped(path: &str, cap: u64) -> std::io::Result<Vec<u8>> {
    let f = std::fs::File::open(pure::long_path(path))?;
    let mut out = Vec::new();
    f.take(cap).read_to_end(&mut out)?;
    Ok(out)
}

/// Fills `data.system32_names`: lowercase base names of System32's `.exe` and `.dll` files.
pub(super) fn collect_system32_names(data: &mut HostData, sysdir: &str) {
    match fsdir::read_dir(sysdir, MAX_SYSTEM32_FILES) {
        Ok((entries, more)) => {
            let mut names: Vec<String> = entries
                .iter()
                .filter(|e| !e.is_dir())
                .filter_map(|e| pure::system_base_name(&e.name))
                .collect();
            names.sort();
            names.dedup();
            data.system32_names = names;
            if more {
                data.problems.push(Problem {
                    what: format!("System32 names ({sysdir})"),
                    why: format!("more than {MAX_SYSTEM32_FILES} entries: the rest was not read"),
                });
            }
        }
        Err(code) => data.problems.push(Problem {
            what: format!("System32 names ({sysdir})"),
            why: pure::describe_win32(code),
        }),
    }
}
