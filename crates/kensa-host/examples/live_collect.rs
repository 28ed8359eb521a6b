//! Runs the live collection of `kensa host check` and prints a JSON summary: identity, counts,
//! problems, every user hive's HKCU Run values, the task file names, the `AppData\Local` files
//! starting with `MZ`, and the full record of every process whose name is given as an argument.
//!
//! `live_collect [PROCESS_NAME…]` (Windows only; under Wine see tools/wine/README.md).

#[cfg(windows)]
fn main() {
    use kensa_host::live::{LiveOptions, collect};
    use kensa_host::model::Hive;
    use serde_json::{Value, json};

    let wanted: Vec<String> = std::env::args().skip(1).map(|a| a.to_lowercase()).collect();
    let start = std::time::Instant::now();
    let data = collect(&LiveOptions::default());
    let elapsed_ms = start.elapsed().as_millis();

    let run = r"Software\Microsoft\Windows\CurrentVersion\Run";
    let mut run_values = Vec::new();
    for hive in data.registry.hives() {
        let Hive::User(user) = &hive else { continue };
        let Some(key) = data.registry.get(&hive, run) else {
            continue;
        };
        for v in &key.values {
            run_values.push(json!({
                "hive": user,
                "name": v.name,
                "type": v.kind_name(),
                "data": v.text().map_or_else(|| Value::from(format!("{:02x?}", v.data)), Value::from),
            }));
        }
    }
    let procs = data.processes.as_deref().unwrap_or_default();
    let selected: Vec<Value> = procs
        .iter()
        .filter(|p| wanted.contains(&p.name.to_lowercase()))
        .map(|p| {
            json!({
                "name": p.name, "pid": p.pid, "ppid": p.ppid,
                "image_path": p.image_path, "command_line": p.command_line,
            })
        })
        .collect();
    let with_cmdline = procs.iter().filter(|p| p.command_line.is_some()).count();
    let with_image = procs.iter().filter(|p| p.image_path.is_some()).count();
    let local_mz: Vec<&str> = data
        .files
        .iter()
        .filter(|f| f.mz == Some(true) && f.path.to_lowercase().contains(r"\appdata\local\"))
        .map(|f| f.path.as_str())
        .collect();
    let summary = json!({
        "host_name": data.host_name,
        "windows_dir": data.windows_dir,
        "volume_serial": data.volume_serial.map(|s| format!("0x{s:08X}")),
        "source": data.source,
        "elapsed_ms": elapsed_ms,
        "counts": {
            "processes": procs.len(),
            "processes_with_image_path": with_image,
            "processes_with_command_line": with_cmdline,
            "registry_keys": data.registry.len(),
            "task_files": data.task_files.len(),
            "files": data.files.len(),
            "files_with_mz_flag": data.files.iter().filter(|f| f.mz.is_some()).count(),
            "system32_names": data.system32_names.len(),
            "users": data.users.len(),
            "problems": data.problems.len(),
        },
        "users": data.users.iter().map(|u| json!({"name": u.name, "profile_dir": u.profile_dir})).collect::<Vec<_>>(),
        "unloaded_user_hives": data.unloaded_user_hives,
        "hives": data.registry.hives().iter().map(|h| format!("{h:?}")).collect::<Vec<_>>(),
        "problems": data.problems.iter().map(|p| json!({"what": p.what, "why": p.why})).collect::<Vec<_>>(),
        "hkcu_run_values": run_values,
        "task_files": data.task_files.iter().map(|(n, b)| json!({"name": n, "bytes": b.len()})).collect::<Vec<_>>(),
        "appdata_local_mz_files": local_mz,
        "processes": selected,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&summary).unwrap_or_default()
    );
}

#[cfg(not(windows))]
fn main() {
    println!("Windows only");
}
