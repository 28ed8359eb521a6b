//! Autostart entries from every place the checks know (Run keys, Winlogon, services, scheduled
//! tasks, Startup folders), expanded once, and the generic rules over them (host spec §5): a
//! loader (rundll32, regsvr32, msiexec) on a file in a user-writable folder, a script host with a
//! script or download there, a program in such a folder, a Windows program name outside System32,
//! a changed Winlogon shell, and services with all-digit names as older Emotet made.

use kensa_core::{Location, Severity};

use crate::model::Hive;
use crate::paths::{
    Lolbin, Place, classify, file_name, is_all_digits, is_masquerading, loader_target, lolbin,
    split_command,
};
use crate::task::Action;

use super::{Ctx, key_display};

/// Where an autostart entry lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutorunKind {
    Run,
    RunOnce,
    PoliciesRun,
    Winlogon,
    Service,
    Task,
    StartupFolder,
}

/// One autostart entry.
#[derive(Debug, Clone)]
pub struct Autorun {
    pub kind: AutorunKind,
    /// The hive for registry entries (user hives name the user).
    pub hive: Option<Hive>,
    /// Value name, service name or task name.
    pub name: String,
    /// The command as stored.
    pub raw: String,
    /// The command with `%VAR%` expanded.
    pub command: String,
    pub location: Location,
    /// Runs as LocalSystem (services, SYSTEM tasks).
    pub as_system: bool,
    /// REG_SZ / REG_EXPAND_SZ for registry values (EmoCheck v4 reads REG_SZ only).
    pub reg_type: Option<u32>,
}

const RUN_KEYS: [(&str, AutorunKind); 3] = [
    (r"Microsoft\Windows\CurrentVersion\Run", AutorunKind::Run),
    (
        r"Microsoft\Windows\CurrentVersion\RunOnce",
        AutorunKind::RunOnce,
    ),
    (
        r"Microsoft\Windows\CurrentVersion\Policies\Explorer\Run",
        AutorunKind::PoliciesRun,
    ),
];

/// The Winlogon values and their stock data (lowercase, as compared).
const WINLOGON: [(&str, &str); 2] = [
    ("Shell", "explorer.exe"),
    ("Userinit", r"c:\windows\system32\userinit.exe,"),
];

pub(crate) fn collect_autoruns(ctx: &Ctx<'_>) -> Vec<Autorun> {
    let mut out = Vec::new();
    let reg = &ctx.data.registry;
    for hive in reg.hives() {
        let env = ctx.env_for(&hive);
        let prefixes: &[&str] = match hive {
            Hive::User(_) => &[r"Software\"],
            Hive::Software => &["", r"WOW6432Node\"],
            Hive::System => &[],
        };
        for prefix in prefixes {
            for (key, kind) in RUN_KEYS {
                if *prefix == r"WOW6432Node\" && kind == AutorunKind::PoliciesRun {
                    continue;
                }
                let path = format!("{prefix}{key}");
                let Some(k) = reg.get(&hive, &path) else {
                    continue;
                };
                for v in &k.values {
                    let Some(raw) = v.text() else { continue };
                    out.push(Autorun {
                        kind,
                        hive: Some(hive.clone()),
                        name: v.name.clone(),
                        command: env.expand(&raw),
                        raw,
                        location: ctx.loc(&[&key_display(&hive, &k.path), &v.name]),
                        as_system: false,
                        reg_type: Some(v.kind),
                    });
                }
            }
            let path = format!(r"{prefix}Microsoft\Windows NT\CurrentVersion\Winlogon");
            if let Some(k) = reg.get(&hive, &path) {
                for (name, stock) in WINLOGON {
                    let Some(raw) = k
                        .values
                        .iter()
                        .find(|v| v.name.eq_ignore_ascii_case(name))
                        .and_then(|v| v.text())
                    else {
                        continue;
                    };
                    let norm = raw.trim().to_ascii_lowercase();
                    if norm.is_empty()
                        || norm == stock
                        || norm.trim_end_matches(',') == stock.trim_end_matches(',')
                    {
                        continue;
                    }
                    out.push(Autorun {
                        kind: AutorunKind::Winlogon,
                        hive: Some(hive.clone()),
                        name: name.to_string(),
                        command: env.expand(&raw),
                        raw,
                        location: ctx.loc(&[&key_display(&hive, &k.path), name]),
                        as_system: true,
                        reg_type: None,
                    });
                }
            }
        }
    }
    // Services (HKLM\SYSTEM\CurrentControlSet\Services\<name>\ImagePath).
    let env = ctx.env_for(&Hive::System);
    for k in reg.under(&Hive::System, r"CurrentControlSet\Services") {
        let depth = k.path.matches('\\').count();
        if depth != 2 {
            continue;
        }
        let Some(raw) = k
            .values
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case("ImagePath"))
            .and_then(|v| v.text())
        else {
            continue;
        };
        let name = file_name(&k.path).to_string();
        out.push(Autorun {
            kind: AutorunKind::Service,
            hive: Some(Hive::System),
            command: expand_service_path(&env.expand(&raw), &ctx.data.windows_dir),
            raw,
            location: ctx.loc(&[&key_display(&Hive::System, &k.path)]),
            name,
            as_system: true,
            reg_type: None,
        });
    }
    // Scheduled tasks.
    for (name, data) in &ctx.data.task_files {
        let Ok(task) = crate::task::parse_task(data) else {
            continue;
        };
        let as_system = task.user_id.as_deref().is_some_and(is_system_account);
        let env = ctx.env_for(&Hive::Software);
        for a in &task.actions {
            if let Action::Exec {
                command, arguments, ..
            } = a
            {
                let raw = match arguments {
                    Some(args) if !args.is_empty() => format!("\"{command}\" {args}"),
                    _ => format!("\"{command}\""),
                };
                out.push(Autorun {
                    kind: AutorunKind::Task,
                    hive: None,
                    name: name.clone(),
                    command: env.expand(&raw),
                    raw,
                    location: ctx.loc(&["task", &task_display(name)]),
                    as_system,
                    reg_type: None,
                });
            }
        }
    }
    // Startup folders.
    for f in &ctx.data.files {
        let lower = f.path.to_ascii_lowercase();
        if !f.is_dir
            && lower.contains(r"\start menu\programs\startup\")
            && !lower.ends_with("desktop.ini")
        {
            out.push(Autorun {
                kind: AutorunKind::StartupFolder,
                hive: None,
                name: file_name(&f.path).to_string(),
                raw: f.path.clone(),
                command: format!("\"{}\"", f.path),
                location: ctx.loc(&[&f.path]),
                as_system: false,
                reg_type: None,
            });
        }
    }
    out
}

/// `\Windows\Tasks\x` style names shown with a leading backslash, as Task Scheduler does.
pub fn task_display(name: &str) -> String {
    let n = name.replace('/', "\\");
    if n.starts_with('\\') {
        n
    } else {
        format!("\\{n}")
    }
}

fn is_system_account(user: &str) -> bool {
    let u = user.trim().to_ascii_lowercase();
    u == "s-1-5-18" || u == "system" || u == "nt authority\\system" || u == "localsystem"
}

/// Service image paths use forms Explorer does not: `\SystemRoot\…`, `system32\…` (relative to
/// the Windows folder), `\??\C:\…`.
fn expand_service_path(p: &str, windows_dir: &str) -> String {
    let windir = if windows_dir.is_empty() {
        r"C:\Windows"
    } else {
        windows_dir
    };
    let t = p.trim();
    let lower = t.to_ascii_lowercase();
    if lower.starts_with(r"\systemroot\") {
        return format!("{windir}{}", &t[r"\SystemRoot".len()..]);
    }
    if lower.starts_with(r"system32\") || lower.starts_with(r"syswow64\") {
        return format!(r"{windir}\{t}");
    }
    t.to_string()
}

/// The file a command runs or loads: the loader's target for rundll32/regsvr32/msiexec, else the
/// program.
pub fn effective_target(command: &str) -> (Option<Lolbin>, String) {
    let cl = split_command(command);
    let bin = lolbin(&cl.program);
    match bin {
        Some(Lolbin::Rundll32 | Lolbin::Regsvr32 | Lolbin::Msiexec) => {
            (bin, loader_target(command).unwrap_or_default())
        }
        _ => (bin, cl.program),
    }
}

/// Windows Defender updates itself under ProgramData: its services are not persistence.
fn vendor_exempt(path: &str) -> bool {
    let l = path.to_ascii_lowercase();
    l.contains(r"\programdata\microsoft\windows defender\")
        || l.contains(r"\programdata\microsoft\windows defender advanced threat protection\")
}

/// Script hosts with something to run from a user-writable place, encoded or downloaded.
fn script_host_risk(args: &str) -> Option<&'static str> {
    let a = args.to_ascii_lowercase();
    if a.contains("http://")
        || a.contains("https://")
        || a.contains("downloadstring")
        || a.contains("downloadfile")
    {
        return Some("downloads from the internet");
    }
    if a.split_whitespace()
        .any(|t| matches!(t, "-e" | "-en" | "-enc" | "-encodedcommand" | "-ec"))
    {
        return Some("runs an encoded command");
    }
    if a.contains("iex") || a.contains("invoke-expression") || a.contains("frombase64string") {
        return Some("evaluates built code");
    }
    for t in crate::paths::split_args(args) {
        if let Place::UserWritable(label) = classify(&t)
            && t.contains('\\')
        {
            {
                return Some(match label {
                    "AppData\\Roaming" => "runs a script from AppData\\Roaming",
                    "AppData\\Local\\Temp" | "Windows\\Temp" | "Temp" => {
                        "runs a script from a temporary folder"
                    }
                    "ProgramData" => "runs a script from ProgramData",
                    "Users\\Public" => "runs a script from Users\\Public",
                    _ => "runs a script from a user-writable folder",
                });
            }
        }
    }
    None
}

fn symbol_for(kind: AutorunKind) -> &'static str {
    match kind {
        AutorunKind::Service => "HOST_SERVICE_SUSPICIOUS",
        AutorunKind::Task => "HOST_TASK_SUSPICIOUS",
        _ => "HOST_AUTORUN_SUSPICIOUS",
    }
}

/// The generic rules.
pub(crate) fn check(ctx: &mut Ctx<'_>) {
    let autoruns = std::mem::take(&mut ctx.autoruns);
    for a in &autoruns {
        let sym = symbol_for(a.kind);
        let (bin, target) = effective_target(&a.command);
        let place = classify(&target);
        let what = format!("{}: {}", kind_name(a.kind), a.raw);
        match (bin, place) {
            (
                Some(Lolbin::Rundll32 | Lolbin::Regsvr32 | Lolbin::Msiexec),
                Place::UserWritable(label),
            ) if !vendor_exempt(&target) => {
                ctx.add(
                    sym,
                    Severity::High,
                    a.location.clone(),
                    format!("{what} (a loader starts {target} from {label})"),
                );
            }
            (Some(Lolbin::Rundll32), _) if a.kind == AutorunKind::Service => {
                ctx.add(
                    sym,
                    Severity::High,
                    a.location.clone(),
                    format!("{what} (a service that runs rundll32)"),
                );
            }
            (
                Some(
                    Lolbin::Powershell
                    | Lolbin::Mshta
                    | Lolbin::Wscript
                    | Lolbin::Cscript
                    | Lolbin::Cmd,
                ),
                _,
            ) => {
                let args = split_command(&a.command).args;
                if let Some(why) = script_host_risk(&args) {
                    ctx.add(
                        sym,
                        Severity::High,
                        a.location.clone(),
                        format!("{what} ({why})"),
                    );
                }
            }
            (_, Place::UserWritable(label)) if !vendor_exempt(&target) => {
                // Vendor updaters (OneDrive, Teams, …) install per user under AppData\Local: a
                // program there is not enough on its own, except for a service or SYSTEM task.
                let allowed =
                    label == "AppData\\Local" && !a.as_system && a.kind != AutorunKind::Service;
                if !allowed {
                    ctx.add(
                        sym,
                        Severity::High,
                        a.location.clone(),
                        format!("{what} (runs a program from {label})"),
                    );
                }
            }
            _ => {}
        }
        if is_masquerading(&target) {
            ctx.add(
                "HOST_AUTORUN_MASQUERADE",
                Severity::High,
                a.location.clone(),
                format!(
                    "{what} ({} is a Windows program name outside System32)",
                    file_name(&target)
                ),
            );
        }
        if a.kind == AutorunKind::Winlogon {
            ctx.add(
                sym,
                Severity::High,
                a.location.clone(),
                format!(
                    "{what} (Winlogon {} changed from the Windows default)",
                    a.name
                ),
            );
        }
        if a.kind == AutorunKind::Service && is_all_digits(&a.name) {
            ctx.add(
                sym,
                Severity::Medium,
                a.location.clone(),
                format!("{what} (all-digit service name, as older Emotet created)"),
            );
        }
    }
    ctx.autoruns = autoruns;
}

pub fn kind_name(k: AutorunKind) -> &'static str {
    match k {
        AutorunKind::Run => "Run",
        AutorunKind::RunOnce => "RunOnce",
        AutorunKind::PoliciesRun => "Policies Run",
        AutorunKind::Winlogon => "Winlogon",
        AutorunKind::Service => "service",
        AutorunKind::Task => "task",
        AutorunKind::StartupFolder => "Startup folder",
    }
}
