//! Checks over hand-built host data, one per method and family (host spec §4/§5 indicators). The
//! triage integration tests (tests/triage.rs) run the same through real artefact files.

use super::*;
use crate::model::{FileInfo, KeyData, UserProfile};
use crate::proclist::Process;
use crate::registry::{REG_BINARY, REG_SZ, RegValue};

fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}

fn sz(name: &str, data: &str) -> RegValue {
    RegValue {
        name: name.into(),
        kind: REG_SZ,
        data: utf16z(data),
    }
}

fn host() -> HostData {
    HostData {
        host_name: "PC01".into(),
        windows_dir: r"C:\Windows".into(),
        users: vec![UserProfile {
            name: "alice".into(),
            profile_dir: r"C:\Users\alice".into(),
        }],
        ..HostData::default()
    }
}

fn user() -> Hive {
    Hive::User("alice".into())
}

fn key(path: &str, values: Vec<RegValue>) -> KeyData {
    KeyData {
        path: path.into(),
        values,
        ..KeyData::default()
    }
}

fn file(path: &str, size: u64, mtime: u64) -> FileInfo {
    FileInfo {
        path: path.into(),
        is_dir: false,
        size: Some(size),
        mtime: Some(mtime),
        mz: Some(true),
    }
}

fn dir(path: &str, mtime: u64) -> FileInfo {
    FileInfo {
        path: path.into(),
        is_dir: true,
        size: None,
        mtime: Some(mtime),
        mz: None,
    }
}

fn proc_(name: &str, pid: u32, image: &str, cmd: &str) -> Process {
    Process {
        name: name.into(),
        pid,
        ppid: None,
        image_path: Some(image.into()),
        command_line: Some(cmd.into()),
    }
}

fn run(d: &HostData) -> HostReport {
    check(d, &Policy::shipped())
}

fn symbols(r: &HostReport) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.symbol).collect()
}

const RUN: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";

#[test]
fn clean_host_is_clean() {
    let mut d = host();
    d.processes = Some(vec![proc_(
        "explorer.exe",
        10,
        r"C:\Windows\explorer.exe",
        "explorer.exe",
    )]);
    d.registry.insert(
        user(),
        key(
            RUN,
            vec![sz(
                "OneDrive",
                r#""C:\Users\alice\AppData\Local\Microsoft\OneDrive\OneDrive.exe" /background"#,
            )],
        ),
    );
    let r = run(&d);
    assert_eq!(r.verdict, Verdict::Clean, "{:?}", r.findings);
    assert_eq!(r.exit_code(), 0);
    assert!(!r.emotet_detected());
}

#[test]
fn v1_keyword_process_from_the_serial() {
    let mut d = host();
    d.volume_serial = Some(1_900_000); // → purgeelem (host spec §4 vector 1)
    d.processes = Some(vec![proc_(
        "purgeelem.exe",
        4242,
        r"C:\Users\alice\AppData\Local\purgeelem.exe",
        "",
    )]);
    let r = run(&d);
    assert_eq!(r.emotet_processes.len(), 1);
    assert_eq!(r.emotet_processes[0].pid, 4242);
    assert!(symbols(&r).contains(&"HOST_EMOTET_PROCESS"));
    assert_eq!(r.verdict, Verdict::Malicious);
    assert_eq!(r.exit_code(), 1);
}

#[test]
fn v2_registry_name_and_its_process() {
    let mut d = host();
    d.volume_serial = Some(0x1234_5678);
    // Vector 11: 15 25 40 73 0b 3d with serial 0x12345678 → mstask.
    d.registry.insert(
        user(),
        key(
            r"Software\Microsoft\Windows\CurrentVersion\Explorer",
            vec![RegValue {
                name: "12345678".into(),
                kind: REG_BINARY,
                data: vec![0x15, 0x25, 0x40, 0x73, 0x0b, 0x3d],
            }],
        ),
    );
    d.processes = Some(vec![proc_(
        "mstask.exe",
        77,
        r"C:\Users\alice\AppData\Local\mstask.exe",
        "",
    )]);
    let r = run(&d);
    assert!(symbols(&r).contains(&"HOST_EMOTET_REGISTRY_NAME"));
    let p = &r.emotet_processes[0];
    assert_eq!((p.process_name.as_str(), p.pid), ("mstask.exe", 77));
    assert!(
        p.registry_key.ends_with(r"Explorer\12345678"),
        "{}",
        p.registry_key
    );
}

#[test]
fn v4_loader_dormant_in_a_run_key() {
    let mut d = host();
    let path = r"C:\Users\alice\AppData\Local\Abcd\qehxk.xwa";
    d.files = vec![
        dir(r"C:\Users\alice\AppData\Local\Abcd", 1),
        file(path, 300_000, 1),
    ];
    d.registry.insert(
        user(),
        key(
            RUN,
            vec![sz(
                "Xyzabcd",
                &format!(r#"C:\Windows\system32\rundll32.exe "{path}",RunDLL"#),
            )],
        ),
    );
    d.processes = Some(Vec::new());
    let r = run(&d);
    let f = r
        .findings
        .iter()
        .find(|f| f.symbol == "HOST_EMOTET_PERSISTENCE")
        .expect("dormant persistence");
    assert!(f.evidence.contains("dormant"), "{}", f.evidence);
    assert_eq!(f.location.0[2], "Xyzabcd");
    assert!(r.emotet_detected());
    // Running: the same entry plus the process.
    d.processes = Some(vec![proc_(
        "rundll32.exe",
        900,
        r"C:\Windows\System32\rundll32.exe",
        &format!(r#"rundll32.exe  "{path}",RunDLL"#),
    )]);
    let r = run(&d);
    assert_eq!(r.emotet_processes.len(), 1);
    assert_eq!(r.emotet_processes[0].image_path, path);
}

#[test]
fn v5_seven_days_between_folder_and_file() {
    let mut d = host();
    let t = 132_000_000_000_000_000u64;
    let week = 604_800 * 10_000_000u64;
    d.files = vec![
        dir(r"C:\Users\alice\AppData\Local\Zxcvb", t + week),
        file(r"C:\Users\alice\AppData\Local\Zxcvb\random.bin", 400_000, t),
        dir(r"C:\Users\alice\AppData\Local\Fine", t + week + 10_000_000),
        file(r"C:\Users\alice\AppData\Local\Fine\x.bin", 400_000, t),
    ];
    let r = run(&d);
    let hits: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.symbol == "HOST_EMOTET_FILE")
        .collect();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(hits[0].location.0[1].ends_with(r"Zxcvb\random.bin"));
}

#[test]
fn generation_2022_regsvr32_from_a_random_folder() {
    let mut d = host();
    let path = r"C:\Users\alice\AppData\Local\Qwkfjs\ktahcnt.dll";
    d.files = vec![file(path, 560 << 20, 1)];
    d.registry.insert(
        user(),
        key(
            RUN,
            vec![sz(
                "rtmnxkq",
                &format!(r#"C:\Windows\system32\regsvr32.exe "{path}""#),
            )],
        ),
    );
    let r = run(&d);
    let f = r
        .findings
        .iter()
        .find(|f| f.symbol == "HOST_EMOTET_PERSISTENCE")
        .unwrap();
    assert!(f.evidence.contains("padded"), "{}", f.evidence);
    assert_eq!(f.severity, Severity::Critical);
}

#[test]
fn follow_up_families() {
    let mut d = host();
    d.registry.insert(
        user(),
        key(
            RUN,
            vec![sz(
                "qbot",
                r"regsvr32.exe -s C:\Users\alice\AppData\Roaming\Microsoft\Eqyiwe\abc.dll",
            )],
        ),
    );
    let hex: Vec<RegValue> = (0..6)
        .map(|i| RegValue {
            name: format!("{:08x}", 0xa1b2c3d0u32 + i),
            kind: REG_BINARY,
            data: vec![1, 2, 3],
        })
        .collect();
    d.registry
        .insert(user(), key(r"Software\Microsoft\Yerqbqokc", hex));
    d.registry.insert(
        user(),
        KeyData {
            path: r"Software\AppDataLow\Software\Microsoft".into(),
            subkeys: vec!["{3A861D62-51E0-7C9D-AB0E-15700F2219A4}".into()],
            ..KeyData::default()
        },
    );
    d.files = vec![file(
        r"C:\Users\alice\AppData\Roaming\Xyz\license.dat",
        300_000,
        1,
    )];
    let r = run(&d);
    let s = symbols(&r);
    for want in [
        "HOST_QAKBOT",
        "HOST_URSNIF",
        "HOST_ICEDID",
        "HOST_AUTORUN_SUSPICIOUS",
    ] {
        assert!(s.contains(&want), "{want} missing from {s:?}");
    }
    assert_eq!(r.verdict, Verdict::Malicious);
}

#[test]
fn masquerade_and_office_policy() {
    let mut d = host();
    d.registry.insert(
        Hive::Software,
        key(
            r"Microsoft\Windows\CurrentVersion\Run",
            vec![sz("svchost", r"c:\windows\system32\dllhost\svchost.exe")],
        ),
    );
    d.registry.insert(
        user(),
        key(
            r"Software\Microsoft\Office\16.0\Word\Security",
            vec![RegValue {
                name: "VBAWarnings".into(),
                kind: crate::registry::REG_DWORD,
                data: 1u32.to_le_bytes().to_vec(),
            }],
        ),
    );
    let r = run(&d);
    let s = symbols(&r);
    assert!(s.contains(&"HOST_AUTORUN_MASQUERADE"), "{s:?}");
    assert!(s.contains(&"HOST_OFFICE_MACROS_ENABLED"), "{s:?}");
    assert!(s.contains(&"HOST_OFFICE_POLICY"), "{s:?}");
}

#[test]
fn problems_make_the_result_incomplete_never_clean() {
    let mut d = host();
    d.problems.push(crate::model::Problem {
        what: "processes".into(),
        why: "access denied".into(),
    });
    let r = run(&d);
    assert_eq!(r.verdict, Verdict::Incomplete);
    assert_eq!(r.exit_code(), 2);
}
