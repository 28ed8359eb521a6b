//! Windows-only: a real collection of the machine (or Wine prefix) running the tests.

use super::*;
use crate::model::Hive;

#[test]
fn collects_this_host() {
    let data = collect(&LiveOptions::default());
    assert_eq!(data.source, "live");
    assert!(!data.host_name.is_empty());
    assert!(data.windows_dir.len() >= 3, "{:?}", data.windows_dir);
    assert!(data.volume_serial.is_some(), "{:?}", data.problems);

    // This test process is in the snapshot, with its own image path.
    let me = std::process::id();
    let procs = data.processes.as_ref().expect("a process list");
    let own = procs
        .iter()
        .find(|p| p.pid == me)
        .expect("own process listed");
    let exe = std::env::current_exe().unwrap();
    let exe_name = exe.file_name().unwrap().to_string_lossy().to_lowercase();
    assert_eq!(own.name.to_lowercase(), exe_name);
    let image = own.image_path.as_deref().expect("own image path");
    assert!(image.to_lowercase().ends_with(&exe_name), "{image}");
    // Own command line: read when class 60 is supported, else one problem says it is not.
    match &own.command_line {
        Some(cl) => assert!(
            cl.to_lowercase().contains(&exe_name.replace(".exe", "")),
            "{cl}"
        ),
        None => assert!(
            data.problems
                .iter()
                .any(|p| p.what == "process command lines")
        ),
    }

    // The System32 keyword set always has the core DLLs.
    assert!(data.system32_names.iter().any(|n| n == "kernel32"));
    assert!(data.system32_names.iter().all(|n| *n == n.to_lowercase()));
    // At least one user hive was read, and the SOFTWARE Run key exists everywhere.
    assert!(
        data.registry
            .hives()
            .iter()
            .any(|h| matches!(h, Hive::User(_)))
    );
    let run = data
        .registry
        .get(&Hive::Software, r"Microsoft\Windows\CurrentVersion\Run")
        .expect("HKLM Run");
    assert!(run.last_written.is_some_and(|t| t > 0));
    // The listing holds System32 subfolders but not System32's own files.
    let sys = format!(r"{}\system32\", data.windows_dir.to_lowercase());
    let sys_entries: Vec<_> = data
        .files
        .iter()
        .filter(|f| f.path.to_lowercase().starts_with(&sys))
        .collect();
    assert!(sys_entries.iter().any(|f| f.is_dir));
    assert!(
        sys_entries
            .iter()
            .all(|f| f.is_dir || f.path.get(sys.len()..).is_some_and(|r| r.contains('\\')))
    );
    assert!(data.files.iter().all(|f| f.mtime.is_some()));
}

#[test]
fn caps_are_respected() {
    let opts = LiveOptions {
        max_files: 5,
        max_task_files: 0,
        read_file_heads: false,
    };
    let data = collect(&opts);
    assert!(data.files.len() <= 5);
    assert!(data.files.iter().all(|f| f.mz.is_none()));
    assert!(data.task_files.is_empty());
    assert!(data.problems.iter().any(|p| p.what == "file listing"));
}
