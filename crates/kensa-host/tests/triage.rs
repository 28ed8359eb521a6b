//! `kensa host triage` end to end over real artefacts: the regipy hives and the Windows 10 task
//! folder of the corpus (host spec §7 states what each holds), and positive cases for each method
//! and family built as real artefact files (a regedit-layout `.reg` export, a PowerShell-layout
//! process list, a kensa file listing, `vol` output, a mounted-volume folder).

use std::path::{Path, PathBuf};

use kensa_core::{Finding, Policy, Severity, Verdict};
use kensa_host::checks::{HostReport, check};
use kensa_host::triage::{TriageOptions, collect};

fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus")
        .join(rel)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), t).unwrap();
        }
    }
}

fn triage(dir: &Path) -> HostReport {
    check(&collect(dir, &TriageOptions::default()), &Policy::shipped())
}

fn with(r: &HostReport, symbol: &str) -> Vec<Finding> {
    r.findings
        .iter()
        .filter(|f| f.symbol == symbol)
        .cloned()
        .collect()
}

/// UTF-16LE with a BOM and CRLF, as regedit writes `.reg` files.
fn regedit(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for u in text.replace('\n', "\r\n").encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

#[test]
fn corpus_user_hive_and_windows10_tasks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        corpus("host/regipy/NTUSER.DAT.xz"),
        dir.path().join("NTUSER.DAT.xz"),
    )
    .unwrap();
    std::fs::copy(
        corpus("host/regipy/SYSTEM.xz"),
        dir.path().join("SYSTEM.xz"),
    )
    .unwrap();
    copy_dir(
        &corpus("host/tasks-win10"),
        &dir.path().join("System32/Tasks"),
    );
    let r = triage(dir.path());
    assert_eq!(r.counts.tasks, 202);
    // Only GameOver (mimikatz from C:\TMP every 5 minutes) among 202 tasks; the SYSTEM hive's 467
    // services and the user's Sidebar Run value are clean.
    let flagged: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Medium)
        .collect();
    assert!(!flagged.is_empty());
    for f in &flagged {
        assert_eq!(
            f.location.0[1..],
            ["task".to_string(), "\\GameOver".to_string()],
            "{f:?}"
        );
    }
    let game = with(&r, "HOST_TASK_SUSPICIOUS");
    assert!(
        game.iter()
            .any(|f| f.severity == Severity::Critical && f.evidence.contains("sekurlsa::")),
        "{game:?}"
    );
    assert_eq!(r.verdict, Verdict::Malicious);
    assert!(!r.emotet_detected());
    assert!(
        with(&r, "HOST_INCOMPLETE").is_empty(),
        "{:?}",
        with(&r, "HOST_INCOMPLETE")
    );
    // The host name comes from the SYSTEM hive, not the folder.
    let tmp_name = dir
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_ne!(r.host, tmp_name);
    assert!(!r.host.is_empty());
    assert!(r.notes.contains(&kensa_host::checks::Note::NoProcesses));
}

#[test]
fn run_value_into_temp_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        corpus("host/regipy/NTUSER_modified.DAT.xz"),
        dir.path().join("NTUSER_modified.DAT.xz"),
    )
    .unwrap();
    let r = triage(dir.path());
    let f = with(&r, "HOST_AUTORUN_SUSPICIOUS");
    assert_eq!(f.len(), 1, "{:?}", r.findings);
    assert_eq!(f[0].location.0.last().unwrap(), "not_a_malware");
    assert!(f[0].location.0[1].ends_with(r"Software\Microsoft\Windows\CurrentVersion\Run"));
    assert!(f[0].evidence.contains(r"c:\temp\legitimate_binary.exe"));
    assert_eq!(r.verdict, Verdict::Suspicious);
}

#[test]
fn dirty_hive_without_logs_is_incomplete_and_onedrive_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        corpus("host/regipy/transactions_NTUSER.DAT.xz"),
        dir.path().join("NTUSER.DAT.xz"),
    )
    .unwrap();
    let r = triage(dir.path());
    let inc = with(&r, "HOST_INCOMPLETE");
    assert!(
        inc.iter()
            .any(|f| f.evidence.contains("dirty hive") && f.evidence.contains("567/566")),
        "{inc:?}"
    );
    assert_eq!(r.verdict, Verdict::Incomplete);
    assert_eq!(r.exit_code(), 2);
    assert!(
        r.findings.iter().all(|f| f.severity < Severity::Medium),
        "{:?}",
        r.findings
    );
}

#[test]
fn corrupted_hive_gives_partial_results_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        corpus("host/regipy/corrupted_system_hive.xz"),
        dir.path().join("SYSTEM.xz"),
    )
    .unwrap();
    let r = triage(dir.path());
    let inc = with(&r, "HOST_INCOMPLETE");
    assert!(!inc.is_empty());
    assert!(inc.iter().any(|f| f.evidence.contains("offset")), "{inc:?}");
    assert_eq!(r.verdict, Verdict::Incomplete);
    // What could be read was read: the computer name of the SYSTEM hive.
    assert_eq!(r.host, "GINEVRA");
}

/// A responder's collection from an infected PC: a `.reg` export of the user's and the machine's
/// autostart keys, a process list, a file listing, the `vol` output.
#[test]
fn positive_collection_every_method_and_family() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let reg = r#"Windows Registry Editor Version 5.00

[HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run]
"Xyzabcd"="C:\\Windows\\system32\\rundll32.exe \"C:\\Users\\alice\\AppData\\Local\\Abcd\\qehxk.xwa\",RunDLL"
"rtmnxkq"="C:\\Windows\\system32\\regsvr32.exe \"%LOCALAPPDATA%\\Qwkfjs\\ktahcnt.dll\""
"updater"="regsvr32.exe -s C:\\ProgramData\\fjdk.tmp"

[HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Explorer]
"12345678"=hex:15,25,40,73,0b,3d

[HKEY_CURRENT_USER\Software\Microsoft\Yerqbqokc]
"a1b2c3d0"=hex:01,02
"a1b2c3d1"=hex:01,02
"a1b2c3d2"=hex:01,02
"a1b2c3d3"=hex:01,02
"a1b2c3d4"=hex:01,02

[HKEY_CURRENT_USER\Software\AppDataLow\Software\Microsoft\{3A861D62-51E0-7C9D-AB0E-15700F2219A4}]
"cfg"=hex:00

[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Run]
"svchost"="c:\\windows\\system32\\dllhost\\svchost.exe"

[HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\31337]
"ImagePath"="C:\\Windows\\SysWOW64\\rundll32.exe C:\\Windows\\SysWOW64\\Fghjkl\\zxcvb.qwe,Control_RunDLL"
"#;
    std::fs::write(d.join("autoruns.reg"), regedit(reg)).unwrap();
    // PowerShell: Get-CimInstance Win32_Process | Select-Object … | Export-Csv -NoTypeInformation
    let procs = "\"Name\",\"ProcessId\",\"ParentProcessId\",\"ExecutablePath\",\"CommandLine\"\r\n\
        \"explorer.exe\",\"1000\",\"900\",\"C:\\Windows\\explorer.exe\",\"C:\\Windows\\Explorer.EXE\"\r\n\
        \"rundll32.exe\",\"4321\",\"1000\",\"C:\\Windows\\system32\\rundll32.exe\",\"C:\\Windows\\system32\\rundll32.exe  \"\"C:\\Users\\alice\\AppData\\Local\\Abcd\\qehxk.xwa\"\",RunDLL\"\r\n\
        \"mstask.exe\",\"4400\",\"1000\",\"C:\\Users\\alice\\AppData\\Local\\mstask.exe\",\"mstask.exe\"\r\n\
        \"ptrthunk.exe\",\"4500\",\"1000\",\"C:\\Users\\alice\\AppData\\Local\\ptrthunk.exe\",\"ptrthunk.exe\"\r\n";
    std::fs::write(d.join("processes.csv"), procs).unwrap();
    // kensa's listing layout (FullName,Length,LastWriteTimeUtc,Attributes,MZ).
    let listing = "FullName,Length,LastWriteTimeUtc,Attributes,MZ\r\n\
        C:\\Users\\alice\\AppData\\Local\\Abcd,,2021-01-20T10:00:00.0000000Z,Directory,\r\n\
        C:\\Users\\alice\\AppData\\Local\\Abcd\\qehxk.xwa,412672,2021-01-20T10:00:00.0000000Z,Archive,true\r\n\
        C:\\Users\\alice\\AppData\\Local\\Qwkfjs,,2022-11-08T09:00:00.0000000Z,Directory,\r\n\
        C:\\Users\\alice\\AppData\\Local\\Qwkfjs\\ktahcnt.dll,587202560,2022-11-08T09:00:00.0000000Z,Archive,true\r\n\
        C:\\Users\\alice\\AppData\\Roaming\\Kxyq\\license.dat,354020,2022-11-08T09:00:00.0000000Z,Archive,false\r\n";
    std::fs::write(d.join("listing.csv"), listing).unwrap();
    std::fs::write(
        d.join("vol.txt"),
        " Volume in drive C has no label.\r\n Volume Serial Number is 1234-5678\r\n",
    )
    .unwrap();

    let data = collect(d, &TriageOptions::default());
    assert_eq!(data.volume_serial, Some(0x1234_5678));
    assert_eq!(data.processes.as_ref().map(Vec::len), Some(4));
    let r = check(&data, &Policy::shipped());
    let syms: Vec<&str> = r.findings.iter().map(|f| f.symbol).collect();
    for want in [
        "HOST_EMOTET_PROCESS", // v4 rundll32 and v1 ptrthunk (serial 0x12345678) and v2 mstask
        "HOST_EMOTET_PERSISTENCE", // the Run values
        "HOST_EMOTET_REGISTRY_NAME",
        "HOST_QAKBOT",
        "HOST_URSNIF",
        "HOST_ICEDID",
        "HOST_AUTORUN_MASQUERADE",
        "HOST_SERVICE_SUSPICIOUS",
    ] {
        assert!(syms.contains(&want), "{want} missing: {syms:?}");
    }
    let pids: Vec<u32> = r.emotet_processes.iter().map(|p| p.pid).collect();
    assert!(
        pids.contains(&4321) && pids.contains(&4400) && pids.contains(&4500),
        "{:?}",
        r.emotet_processes
    );
    let v4 = r.emotet_processes.iter().find(|p| p.pid == 4321).unwrap();
    assert_eq!(
        v4.image_path,
        r"C:\Users\alice\AppData\Local\Abcd\qehxk.xwa"
    );
    let v2 = r.emotet_processes.iter().find(|p| p.pid == 4400).unwrap();
    assert!(v2.registry_key.ends_with(r"Explorer\12345678"));
    let padded = r
        .findings
        .iter()
        .find(|f| {
            f.symbol == "HOST_EMOTET_PERSISTENCE" && f.location.0.last().unwrap() == "rtmnxkq"
        })
        .unwrap();
    // %LOCALAPPDATA% expanded to alice's profile, the one the listing shows: the file is known.
    assert!(padded.evidence.contains("padded"), "{}", padded.evidence);
    assert!(
        padded.location.0[1].starts_with(r"HKCU\Software\"),
        "{:?}",
        padded.location
    );
    assert!(r.emotet_detected());
    assert_eq!(r.verdict, Verdict::Malicious);
    assert_eq!(r.exit_code(), 1);
}

/// A mounted Windows volume (or a KAPE `C` folder): hives where Windows keeps them, files with
/// real times — the v5 seven-day stamp set with the file system's own clock.
#[test]
fn mounted_volume_with_files_and_times() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("C");
    let config = c.join("Windows/System32/config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::copy(corpus("host/regipy/SYSTEM.xz"), config.join("SYSTEM")).unwrap();
    let user = c.join("Users/bob");
    std::fs::create_dir_all(&user).unwrap();
    std::fs::copy(corpus("host/regipy/NTUSER.DAT.xz"), user.join("NTUSER.DAT")).unwrap();
    let payload_dir = user.join("AppData/Local/Hjkqwe");
    std::fs::create_dir_all(&payload_dir).unwrap();
    let payload = payload_dir.join("hjkqwe.bin");
    let mut bytes = b"MZ".to_vec();
    bytes.resize(50_000, 0);
    std::fs::write(&payload, &bytes).unwrap();
    let t0 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_610_000_000);
    std::fs::File::options()
        .write(true)
        .open(&payload)
        .unwrap()
        .set_modified(t0)
        .unwrap();
    let week = std::time::Duration::from_secs(604_800);
    std::fs::File::open(&payload_dir)
        .unwrap()
        .set_modified(t0 + week)
        .unwrap();
    copy_dir(
        &corpus("host/tasks-win10/Microsoft/Windows/Autochk"),
        &c.join("Windows/System32/Tasks/Microsoft/Windows/Autochk"),
    );

    let data = collect(dir.path(), &TriageOptions::default());
    assert!(data.source.starts_with("mounted volume"), "{}", data.source);
    assert_eq!(data.task_files.len(), 1);
    assert_eq!(data.task_files[0].0, r"Microsoft\Windows\Autochk\Proxy");
    assert!(data.users.iter().any(|u| u.name == "bob"));
    let f = data
        .files
        .iter()
        .find(|f| f.path.ends_with(r"Hjkqwe\hjkqwe.bin"))
        .unwrap();
    assert_eq!((f.mz, f.size), (Some(true), Some(50_000)));
    let r = check(&data, &Policy::shipped());
    let v5 = with(&r, "HOST_EMOTET_FILE");
    assert_eq!(v5.len(), 1, "{:?}", r.findings);
    assert!(v5[0].evidence.contains("v5"), "{}", v5[0].evidence);
    assert_eq!(
        v5[0].location.0[1],
        r"C:\Users\bob\AppData\Local\Hjkqwe\hjkqwe.bin"
    );
    // The Autochk\Proxy task (rundll32 on a System32 DLL) stays clean.
    assert!(
        r.findings
            .iter()
            .all(|f| f.location.0.get(1).is_none_or(|l| l != "task"))
    );
}
