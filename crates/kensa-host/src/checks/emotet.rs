//! Emotet: every public EmoCheck method (v1 keyword names, v2 registry names, v3 `<dir>\<word>.exe`,
//! v4 rundll32 loaders, v5 seven-day time stamps), the 2022–23 generation (a DLL in a random folder
//! under %LOCALAPPDATA% started by regsvr32/rundll32 from a Run key, often padded past 100 MB), and
//! kensa's additions (host spec §3): a candidate with an autostart entry is reported even when
//! nothing runs ("dormant"), matching is case-insensitive after expansion, and EmoCheck's exact
//! rule is kept as the method named in the evidence.

use std::collections::{HashMap, HashSet};

use kensa_core::Severity;

use crate::emocheck::{
    V1Name, v1_all_names, v1_matches_compat, v1_matches_relaxed, v1_name, v2_decode,
    v2_decode_offline, v2_value_name, v3_candidate, v3_candidate_relaxed, v3_valid,
    v4_command_ok_relaxed, v4_dir_ok, v4_file_ok, v4_process_matches, v5_process_matches,
    v5_window,
};
use crate::model::{FileInfo, Hive};
use crate::paths::{Lolbin, file_name};
use crate::proclist::Process;
use crate::registry::REG_BINARY;

use super::autoruns::{AutorunKind, effective_target};
use super::{Ctx, EmotetProcess, key_display};

/// Files this big in a random %LOCALAPPDATA% folder are padded (Emotet 2023 padded to ~550 MB).
const PADDED: u64 = 100 << 20;

/// Folders under %LOCALAPPDATA% that belong to software, not to a random Emotet install.
const VENDOR_DIRS: &[&str] = &[
    "microsoft",
    "google",
    "mozilla",
    "packages",
    "temp",
    "programs",
    "adobe",
    "apple",
    "slack",
    "discord",
    "zoom",
    "teams",
    "onedrive",
    "dropbox",
    "spotify",
    "comms",
    "connecteddevicesplatform",
    "d3dscache",
    "crashdumps",
    "publishers",
    "virtualstore",
    "microsoftedge",
    "history",
];

/// `(parent folder, name)` of a Windows path.
fn split(path: &str) -> (&str, &str) {
    match path.rfind(['\\', '/']) {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

fn is_local_appdata(dir: &str) -> bool {
    dir.to_ascii_lowercase().ends_with(r"\appdata\local")
}

fn is_system_dir(dir: &str) -> bool {
    let d = dir.to_ascii_lowercase();
    d.ends_with(r"\windows\system32") || d.ends_with(r"\windows\syswow64")
}

/// A file `<root>\<dir>\<file>` with root %LOCALAPPDATA% or System32/SysWOW64: `(dir, is_admin)`.
fn install_slot(path: &str) -> Option<(&str, bool)> {
    let (parent, _) = split(path);
    let (root, dir) = split(parent);
    if is_local_appdata(root) {
        Some((dir, false))
    } else if is_system_dir(root) {
        Some((dir, true))
    } else {
        None
    }
}

fn is_random_name(s: &str) -> bool {
    (3..=24).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Run every Emotet method.
pub fn check(ctx: &mut Ctx<'_>) {
    let procs: Vec<Process> = ctx.data.processes.clone().unwrap_or_default();
    v1(ctx, &procs);
    v2(ctx, &procs);
    let files: Vec<FileInfo> = ctx.data.files.clone();
    let names = ctx.data.system32_names.clone();
    let kw: HashSet<&str> = names.iter().map(String::as_str).collect();
    for f in files.iter().filter(|f| !f.is_dir) {
        v3(ctx, &procs, f, &kw);
        v4(ctx, &procs, f);
    }
    v5(ctx, &procs, &files);
    generation_2022(ctx, &files);
}

fn report_process(ctx: &mut Ctx<'_>, p: &Process, image: &str, key: &str, method: &str) {
    if ctx.emotet_processes.iter().any(|e| e.pid == p.pid) {
        return;
    }
    ctx.emotet_processes.push(EmotetProcess {
        process_name: p.name.clone(),
        pid: p.pid,
        image_path: image.to_string(),
        registry_key: key.to_string(),
        method: method.to_string(),
    });
    let loc = ctx.loc(&[&format!("process {} {}", p.pid, p.name)]);
    let mut ev = format!("EmoCheck {method}: {} (pid {})", p.name, p.pid);
    if !image.is_empty() {
        ev.push_str(&format!(", image {image}"));
    }
    if let Some(cl) = &p.command_line {
        ev.push_str(&format!(", command line {cl}"));
    }
    if !key.is_empty() {
        ev.push_str(&format!(", registry {key}"));
    }
    ctx.add("HOST_EMOTET_PROCESS", Severity::Critical, loc, ev);
}

/// v1: the keyword name from the volume serial (or every name when the serial is unknown).
fn v1(ctx: &mut Ctx<'_>, procs: &[Process]) {
    match ctx.data.volume_serial {
        Some(serial) => {
            let name: V1Name = v1_name(serial);
            for p in procs {
                let image = p.image_path.clone().unwrap_or_default();
                if v1_matches_compat(&p.name, &name) {
                    report_process(
                        ctx,
                        p,
                        &image,
                        "",
                        "v1 (keyword name from the volume serial)",
                    );
                } else if v1_matches_relaxed(&p.name, &name) {
                    report_process(
                        ctx,
                        p,
                        &image,
                        "",
                        "v1 (keyword name, whole words, any case)",
                    );
                }
            }
            let want = format!("{}.exe", name.whole_word);
            let hits: Vec<String> = ctx
                .data
                .files
                .iter()
                .filter(|f| !f.is_dir && file_name(&f.path).eq_ignore_ascii_case(&want))
                .map(|f| f.path.clone())
                .collect();
            for path in hits {
                let loc = ctx.loc(&[&path]);
                ctx.add(
                    "HOST_EMOTET_FILE",
                    Severity::High,
                    loc,
                    format!("file named after the v1 keyword name {want} for serial {serial:08X}"),
                );
            }
        }
        None => {
            let names: HashSet<String> = v1_all_names().into_iter().collect();
            for p in procs {
                let lower = p.name.to_ascii_lowercase();
                if let Some(stem) = lower.strip_suffix(".exe")
                    && names.contains(stem)
                {
                    let image = p.image_path.clone().unwrap_or_default();
                    report_process(
                        ctx,
                        p,
                        &image,
                        "",
                        "v1 (one of the 4,096 keyword names; serial unknown)",
                    );
                }
            }
        }
    }
}

/// v2: the XOR-encoded name under a value named after the serial.
fn v2(ctx: &mut Ctx<'_>, procs: &[Process]) {
    let mut found: Vec<(String, String, String, Severity)> = Vec::new();
    for hive in ctx.data.registry.hives() {
        let keys: &[&str] = match hive {
            Hive::User(_) => &[r"Software\Microsoft\Windows\CurrentVersion\Explorer"],
            Hive::Software => &[
                r"Microsoft\Windows\CurrentVersion\Explorer",
                r"WOW6432Node\Microsoft\Windows\CurrentVersion\Explorer",
            ],
            Hive::System => &[],
        };
        for path in keys {
            let Some(k) = ctx.data.registry.get(&hive, path) else {
                continue;
            };
            for v in k.values.iter().filter(|v| v.kind == REG_BINARY) {
                let decoded = match ctx.data.volume_serial {
                    Some(serial) if v.name == v2_value_name(serial) => {
                        Some((v2_decode(&v.data, serial), Severity::High))
                    }
                    Some(_) => None,
                    None => v2_decode_offline(&v.name, &v.data).map(|n| (n, Severity::Medium)),
                };
                if let Some((name, sev)) = decoded.filter(|(n, _)| !n.is_empty()) {
                    found.push((key_display(&hive, &k.path), v.name.clone(), name, sev));
                }
            }
        }
    }
    for (key, value, name, sev) in found {
        let exe = format!("{name}.exe");
        let full_key = format!(r"{key}\{value}");
        let running: Vec<Process> = procs
            .iter()
            .filter(|p| p.name == exe || p.name.eq_ignore_ascii_case(&exe))
            .cloned()
            .collect();
        for p in &running {
            let image = p.image_path.clone().unwrap_or_default();
            report_process(
                ctx,
                p,
                &image,
                &full_key,
                "v2 (process name stored in the registry)",
            );
        }
        let loc = ctx.loc(&[&key, &value]);
        let sev = if running.is_empty() {
            sev
        } else {
            Severity::High
        };
        ctx.add(
            "HOST_EMOTET_REGISTRY_NAME",
            sev,
            loc,
            format!("value {value} decodes to {exe}"),
        );
    }
}

/// Autostart entries whose command names `path` (case-insensitive).
fn persistence_for(ctx: &Ctx<'_>, path: &str) -> Vec<(kensa_core::Location, String)> {
    let p = path.to_ascii_lowercase();
    ctx.autoruns
        .iter()
        .filter(|a| a.command.to_ascii_lowercase().contains(&p))
        .map(|a| (a.location.clone(), a.raw.clone()))
        .collect()
}

/// A candidate file: a running process → process finding; an autostart entry → dormant
/// persistence; else the file alone (when `file_alone` says it is worth reporting).
fn settle(
    ctx: &mut Ctx<'_>,
    path: &str,
    method: &str,
    running: Vec<Process>,
    file_alone: Option<Severity>,
    extra: &str,
) {
    for p in &running {
        report_process(ctx, p, path, "", method);
    }
    let persist = persistence_for(ctx, path);
    for (loc, raw) in &persist {
        let state = if running.is_empty() {
            "dormant: not running now"
        } else {
            "running"
        };
        ctx.add(
            "HOST_EMOTET_PERSISTENCE",
            Severity::Critical,
            loc.clone(),
            format!("{raw} starts {path} (EmoCheck {method}; {state}){extra}"),
        );
    }
    if running.is_empty()
        && persist.is_empty()
        && let Some(sev) = file_alone
    {
        let loc = ctx.loc(&[path]);
        ctx.add(
            "HOST_EMOTET_FILE",
            sev,
            loc,
            format!("EmoCheck {method}{extra}"),
        );
    }
}

/// `kw`: the System32 exe/dll base names, lowercase (EmoCheck v3's keyword set).
fn v3(ctx: &mut Ctx<'_>, procs: &[Process], f: &FileInfo, kw: &HashSet<&str>) {
    let Some((dir, admin)) = install_slot(&f.path) else {
        return;
    };
    let file = file_name(&f.path);
    let known = |w: &str| kw.contains(w.to_ascii_lowercase().as_str());
    let (hit, method) = if !kw.is_empty() {
        if v3_candidate(dir, file, &known) {
            (true, "v3 (<dir>\\<word>.exe named after System32 files)")
        } else if v3_candidate_relaxed(dir, file, &known) {
            (true, "v3 (any case)")
        } else {
            (false, "")
        }
    } else {
        // Without the System32 list (offline, no listing of it): the folder and the file carry
        // the same word, the layout v1.0-era Emotet used.
        let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
        let same = |w: &str| w.eq_ignore_ascii_case(stem) && w.eq_ignore_ascii_case(dir);
        (
            v3_candidate_relaxed(dir, file, &same),
            "v3 (<dir>\\<dir>.exe; System32 list unknown)",
        )
    };
    if !hit || !f.size.is_none_or(|s| v3_valid(s, None)) {
        return;
    }
    let running: Vec<Process> = procs
        .iter()
        .filter(|p| {
            p.image_path
                .as_deref()
                .is_some_and(|i| i.eq_ignore_ascii_case(&f.path))
        })
        .cloned()
        .collect();
    let method = if admin {
        format!("{method}, system folder")
    } else {
        method.to_string()
    };
    settle(ctx, &f.path, &method, running, Some(Severity::High), "");
}

fn v4(ctx: &mut Ctx<'_>, procs: &[Process], f: &FileInfo) {
    let Some((dir, admin)) = install_slot(&f.path) else {
        return;
    };
    let file = file_name(&f.path);
    if !v4_dir_ok(dir)
        || !v4_file_ok(file)
        || f.mz == Some(false)
        || dir.eq_ignore_ascii_case("temp")
    {
        return;
    }
    let running: Vec<Process> = procs
        .iter()
        .filter(|p| p.name.eq_ignore_ascii_case("rundll32.exe"))
        .filter(|p| {
            p.command_line
                .as_deref()
                .is_some_and(|c| v4_process_matches(c, &f.path, admin))
        })
        .cloned()
        .collect();
    // Only entries in EmoCheck's shape count as its persistence; the file alone is too common a
    // shape (installers' temporary files) to report.
    let shaped = ctx.autoruns.iter().any(|a| {
        matches!(
            a.kind,
            AutorunKind::Run | AutorunKind::RunOnce | AutorunKind::Service
        ) && v4_command_ok_relaxed(&a.command, file)
    });
    if running.is_empty() && !shaped {
        return;
    }
    let method = if admin {
        "v4 (rundll32 DLL loader, service install)"
    } else {
        "v4 (rundll32 DLL loader)"
    };
    settle(ctx, &f.path, method, running, None, "");
}

fn v5(ctx: &mut Ctx<'_>, procs: &[Process], files: &[FileInfo]) {
    // Programs by their folder (lowercase), so each folder looks only at its own files: a live
    // listing can hold 200,000 entries.
    let mut by_dir: HashMap<String, Vec<&FileInfo>> = HashMap::new();
    for f in files.iter().filter(|f| !f.is_dir && f.mz == Some(true)) {
        let (parent, _) = split(&f.path);
        by_dir
            .entry(parent.to_ascii_lowercase())
            .or_default()
            .push(f);
    }
    for d in files.iter().filter(|d| d.is_dir) {
        let (root, _) = split(&d.path);
        let admin = is_system_dir(root);
        if !(is_local_appdata(root) || admin) {
            continue;
        }
        let Some(dir_time) = d.mtime else { continue };
        let inside = by_dir
            .get(&d.path.to_ascii_lowercase())
            .map_or(&[][..], Vec::as_slice);
        for f in inside {
            let Some(ft) = f.mtime else { continue };
            if !v5_window(dir_time, ft) {
                continue;
            }
            let running: Vec<Process> = procs
                .iter()
                .filter(|p| {
                    p.command_line
                        .as_deref()
                        .is_some_and(|c| v5_process_matches(&p.name, c, &f.path, admin))
                })
                .cloned()
                .collect();
            settle(
                ctx,
                &f.path,
                "v5 (folder written exactly 7 days after the file)",
                running,
                Some(Severity::High),
                "",
            );
        }
    }
}

/// 2022–23: `regsvr32.exe "C:\Users\u\AppData\Local\Rnd\xyz.dll"` (or rundll32) from a Run key.
fn generation_2022(ctx: &mut Ctx<'_>, files: &[FileInfo]) {
    let mut hits = Vec::new();
    for a in &ctx.autoruns {
        if !matches!(
            a.kind,
            AutorunKind::Run | AutorunKind::RunOnce | AutorunKind::PoliciesRun
        ) {
            continue;
        }
        let (bin, target) = effective_target(&a.command);
        if !matches!(bin, Some(Lolbin::Regsvr32 | Lolbin::Rundll32)) {
            continue;
        }
        let (parent, file) = split(&target);
        let (root, dir) = split(parent);
        let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
        if !is_local_appdata(root)
            || !is_random_name(dir)
            || !is_random_name(stem)
            || VENDOR_DIRS.contains(&dir.to_ascii_lowercase().as_str())
        {
            continue;
        }
        let known = files.iter().find(|f| f.path.eq_ignore_ascii_case(&target));
        let mut extra = String::new();
        if let Some(f) = known {
            if let Some(s) = f.size {
                extra.push_str(&format!("; file {s} bytes"));
                if s >= PADDED {
                    extra.push_str(" (padded)");
                }
            }
            if f.mz == Some(true) {
                extra.push_str(", a Windows program (MZ)");
            }
        }
        hits.push((a.location.clone(), format!("{}: {} loads {target} from a random folder in %LOCALAPPDATA% (Emotet 2022–23){extra}", a.name, a.raw)));
    }
    for (loc, ev) in hits {
        ctx.add("HOST_EMOTET_PERSISTENCE", Severity::Critical, loc, ev);
    }
    // Padded programs in random %LOCALAPPDATA% folders, with or without a Run entry.
    for f in files
        .iter()
        .filter(|f| !f.is_dir && f.mz == Some(true) && f.size.is_some_and(|s| s >= PADDED))
    {
        let Some((dir, false)) = install_slot(&f.path) else {
            continue;
        };
        if VENDOR_DIRS.contains(&dir.to_ascii_lowercase().as_str()) || !is_random_name(dir) {
            continue;
        }
        let loc = ctx.loc(&[&f.path]);
        ctx.add(
            "HOST_EMOTET_FILE",
            Severity::High,
            loc,
            format!(
                "a {} MB program in a random %LOCALAPPDATA% folder (Emotet 2023 padded its DLLs)",
                f.size.unwrap_or(0) >> 20
            ),
        );
    }
}
