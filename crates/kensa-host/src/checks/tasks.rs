//! Scheduled-task rules beyond the generic autostart ones (host spec §5): attack tools in a
//! task's command, tasks named only by a GUID, short repetition from an unusual folder, and tasks
//! hidden by removing their security descriptor or index from the TaskCache.

use kensa_core::Severity;

use crate::model::Hive;
use crate::paths::{Place, classify, file_name, is_guid_only};
use crate::task::{Action, parse_task};

use super::autoruns::task_display;
use super::{Ctx, key_display};

/// Words of credential-dumping and attack tools (mimikatz modules, procdump on lsass).
const TOOL_WORDS: &[&str] = &[
    "sekurlsa::",
    "lsadump::",
    "privilege::debug",
    "kerberos::",
    "mimikatz",
    "invoke-mimikatz",
    "comsvcs.dll, minidump",
    "comsvcs.dll,minidump",
];

const TREE: &str = r"Microsoft\Windows NT\CurrentVersion\Schedule\TaskCache\Tree";

/// ISO 8601 `PTnM`/`PTnS`/`PTnH` → seconds (tasks' repetition intervals); other forms → `None`.
fn interval_secs(s: &str) -> Option<u64> {
    let t = s.strip_prefix("PT")?;
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = num.parse().ok()?;
    match unit {
        "S" => Some(n),
        "M" => n.checked_mul(60),
        "H" => n.checked_mul(3600),
        _ => None,
    }
}

/// Check every task file; returns how many were read.
pub fn check(ctx: &mut Ctx<'_>) -> usize {
    let files = ctx.data.task_files.clone();
    let mut read = 0;
    for (name, data) in &files {
        let loc = ctx.loc(&["task", &task_display(name)]);
        let task = match parse_task(data) {
            Ok(t) => t,
            Err(e) => {
                ctx.add(
                    "HOST_INCOMPLETE",
                    Severity::Info,
                    loc,
                    format!("task file not readable: {e}"),
                );
                continue;
            }
        };
        read += 1;
        let short_repeat = task
            .triggers
            .iter()
            .filter_map(|t| t.interval.as_deref().and_then(interval_secs))
            .any(|s| s <= 600);
        for a in &task.actions {
            let Action::Exec {
                command, arguments, ..
            } = a
            else {
                continue;
            };
            let line = format!("{command} {}", arguments.as_deref().unwrap_or(""));
            let lower = line.to_ascii_lowercase();
            if let Some(w) = TOOL_WORDS.iter().find(|w| lower.contains(*w)) {
                ctx.add(
                    "HOST_TASK_SUSPICIOUS",
                    Severity::Critical,
                    loc.clone(),
                    format!("task runs {} (attack tool: {w})", line.trim()),
                );
            }
            if short_repeat && classify(command) == Place::Other && !command.contains('%') {
                ctx.add(
                    "HOST_TASK_SUSPICIOUS",
                    Severity::Medium,
                    loc.clone(),
                    format!(
                        "task repeats every 10 minutes or less and runs {} from an unusual folder",
                        line.trim()
                    ),
                );
            }
        }
        if is_guid_only(file_name(name)) {
            ctx.add(
                "HOST_TASK_SUSPICIOUS",
                Severity::Medium,
                loc.clone(),
                "task named only by a GUID, as malware names its tasks".to_string(),
            );
        }
    }
    hidden_tasks(ctx);
    read
}

/// TaskCache\Tree entries (keys with an `Id`) whose `SD` value is gone or whose `Index` is 0.
fn hidden_tasks(ctx: &mut Ctx<'_>) {
    let mut hits = Vec::new();
    for k in ctx.data.registry.under(&Hive::Software, TREE) {
        let has = |n: &str| k.values.iter().find(|v| v.name.eq_ignore_ascii_case(n));
        if has("Id").is_none() {
            continue;
        }
        let why = if has("SD").is_none() {
            "its SD (security descriptor) value was removed"
        } else if has("Index").and_then(|v| v.dword()) == Some(0) {
            "its Index value is 0"
        } else {
            continue;
        };
        let task = k.path.get(TREE.len()..).unwrap_or("").to_string();
        hits.push((
            key_display(&Hive::Software, &k.path),
            format!("task {task} is hidden: {why}"),
        ));
    }
    for (key, ev) in hits {
        let loc = ctx.loc(&[&key]);
        ctx.add("HOST_TASK_HIDDEN", Severity::High, loc, ev);
    }
}

#[cfg(test)]
mod tests {
    use super::interval_secs;

    #[test]
    fn intervals() {
        assert_eq!(interval_secs("PT5M"), Some(300));
        assert_eq!(interval_secs("PT1H"), Some(3600));
        assert_eq!(interval_secs("P1D"), None);
        assert_eq!(interval_secs("PT"), None);
        assert_eq!(interval_secs("PT99999999999999999999M"), None);
    }
}
