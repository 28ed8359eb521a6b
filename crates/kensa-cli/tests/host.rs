//! `kensa host triage` through the binary: golden reports (English, Japanese, JSONL, CSV), report
//! files named as EmoCheck names them, EmoCheck's JSON, EmoCheck's switches, exit codes.

mod common;

use std::path::Path;

use common::corpus;

/// A collection: the corpus' modified NTUSER.DAT (a Run value into C:\temp) and SYSTEM hive, and
/// the Windows 10 task folder (GameOver runs mimikatz).
fn collection(dir: &Path) {
    std::fs::copy(
        corpus().join("host/regipy/NTUSER_modified.DAT.xz"),
        dir.join("NTUSER.DAT.xz"),
    )
    .unwrap();
    std::fs::copy(
        corpus().join("host/regipy/SYSTEM.xz"),
        dir.join("SYSTEM.xz"),
    )
    .unwrap();
    let tasks = dir.join("System32/Tasks");
    for sub in ["", "Microsoft/Windows/Autochk"] {
        std::fs::create_dir_all(tasks.join(sub)).unwrap();
    }
    std::fs::copy(
        corpus().join("host/tasks-win10/GameOver"),
        tasks.join("GameOver"),
    )
    .unwrap();
    std::fs::copy(
        corpus().join("host/tasks-win10/Microsoft/Windows/Autochk/Proxy"),
        tasks.join("Microsoft/Windows/Autochk/Proxy"),
    )
    .unwrap();
}

fn kensa() -> assert_cmd::Command {
    common::kensa()
}

/// Times and folders change from run to run.
fn redact(s: &str, dir: &Path) -> String {
    s.replace(&dir.display().to_string(), "[DIR]")
        .lines()
        .map(|l| {
            if l.starts_with("Scan time: ") || l.starts_with("プログラム実行時刻: ") {
                format!("{} [time]", l.split(": ").next().unwrap())
            } else if let Some(i) = l.find("\"elapsed_ms\":") {
                let j = l[i..].find([',', '}']).map_or(l.len(), |j| i + j);
                format!("{}\"elapsed_ms\":0{}", &l[..i], &l[j..])
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn triage_reports_en_ja_jsonl_csv() {
    let dir = tempfile::tempdir().unwrap();
    collection(dir.path());
    let run = |args: &[&str]| {
        let out = kensa()
            .args(["host", "triage"])
            .arg(dir.path())
            .args(["--no-report", "--host", "PC-01"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "a detection: {out:?}");
        redact(&String::from_utf8(out.stdout).unwrap(), dir.path())
    };
    insta::assert_snapshot!("host_human_en", run(&["--lang", "en"]));
    insta::assert_snapshot!("host_human_ja", run(&["--lang", "ja"]));
    insta::assert_snapshot!("host_jsonl", run(&["--format", "jsonl"]));
    insta::assert_snapshot!("host_csv", run(&["--format", "csv"]).replace("\r\n", "⏎\n"));
}

#[test]
fn report_files_emocheck_json_and_switches() {
    let dir = tempfile::tempdir().unwrap();
    collection(dir.path());
    let out_dir = tempfile::tempdir().unwrap();
    // EmoCheck's switches, as a collector script would pass them.
    let out = kensa()
        .args(["host", "triage"])
        .arg(dir.path())
        .args(["--host", "PC-01", "/quiet", "/json", "/output"])
        .arg(out_dir.path())
        .arg("--emocheck-json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "quiet prints nothing");
    let mut names: Vec<String> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    for (name, suffix) in names.iter().zip(["_emocheck.json", "_kensa.json"]) {
        // PC-01_yyyymmddhhmmss_…
        let stamp = name
            .strip_prefix("PC-01_")
            .and_then(|r| r.strip_suffix(suffix))
            .unwrap();
        assert!(
            stamp.len() == 14 && stamp.bytes().all(|b| b.is_ascii_digit()),
            "{name}"
        );
    }
    let kensa_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.path().join(&names[1])).unwrap()).unwrap();
    let keys: Vec<&str> = kensa_json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        &keys[..4],
        ["scan_time", "hostname", "is_infected", "kensa_version"]
    );
    assert_eq!(kensa_json["is_infected"], "no");
    assert_eq!(kensa_json["verdict"], "malicious");
    // EmoCheck's own JSON: 2-space indent, no space after colons, exactly its four keys when clean.
    let emo = std::fs::read_to_string(out_dir.path().join(&names[0])).unwrap();
    assert!(emo.starts_with("{\n  \"scan_time\":\""), "{emo}");
    assert!(emo.contains("\n  \"hostname\":\"PC-01\",\n  \"emocheck_version\":\"2.0\",\n  \"is_infected\":\"no\"\n}"), "{emo}");
}

#[test]
fn exit_codes_clean_incomplete_usage() {
    // Triage of a folder holding one corpus hive, as NTUSER.DAT: its exit code.
    let code_for = |hive: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            corpus().join("host/regipy").join(hive),
            dir.path().join("NTUSER.DAT.xz"),
        )
        .unwrap();
        kensa()
            .args(["host", "triage"])
            .arg(dir.path())
            .arg("--no-report")
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(code_for("NTUSER.DAT.xz"), Some(0), "clean");
    assert_eq!(
        code_for("transactions_NTUSER.DAT.xz"),
        Some(2),
        "dirty hive without its logs"
    );
    // Usage: a missing folder, a bad serial, a report folder that does not exist.
    kensa()
        .args(["host", "triage", "/nonexistent/kensa"])
        .assert()
        .code(3);
    kensa()
        .args(["host", "triage", ".", "--volume-serial", "xyz"])
        .assert()
        .code(3);
    kensa()
        .args(["host", "triage", ".", "--output", "/nonexistent/kensa"])
        .assert()
        .code(3);
    // A live check needs Windows.
    let out = kensa().args(["host", "check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kensa host triage"));
}
