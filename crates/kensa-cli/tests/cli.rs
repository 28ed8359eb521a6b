//! `kensa scan` as a user runs it: formats (golden snapshots in both languages), exit codes, flags,
//! policy files, and escaping of attacker-controlled text.

mod common;
use common::*;

fn run(args: &[&str]) -> (String, i32) {
    let out = kensa().args(args).output().expect("runs");
    (
        String::from_utf8(out.stdout).expect("UTF-8 output"),
        out.status.code().unwrap_or(-1),
    )
}

fn with_sample(args: &[&'static str]) -> Vec<&'static str> {
    let mut v = args.to_vec();
    v.extend(SAMPLE);
    v
}

#[test]
fn golden_human_en() {
    let (out, code) = run(&with_sample(&[
        "scan", "-q", "--color", "never", "--lang", "en",
    ]));
    assert_eq!(code, 1);
    insta::assert_snapshot!("human_en", redact(&out));
}

#[test]
fn golden_human_ja() {
    let (out, code) = run(&with_sample(&[
        "scan", "-q", "--color", "never", "--lang", "ja",
    ]));
    assert_eq!(code, 1);
    insta::assert_snapshot!("human_ja", redact(&out));
}

#[test]
fn golden_human_colour_only_when_asked() {
    let (plain, _) = run(&["scan", "-q", "zippwmacro.eml"]);
    assert!(!plain.contains('\x1b'), "piped output has no colour");
    let (coloured, _) = run(&["scan", "-q", "--color", "always", "zippwmacro.eml"]);
    assert!(coloured.contains("\x1b[33m"), "suspicious is yellow");
}

#[test]
fn golden_jsonl() {
    let (out, code) = run(&with_sample(&["scan", "-q", "--format", "jsonl"]));
    assert_eq!(code, 1);
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        assert!(v["type"] == "item" || v["type"] == "summary");
        assert_eq!(v["schema_version"], 1);
    }
    insta::assert_snapshot!("jsonl", redact(&out));
}

#[test]
fn golden_json_same_in_both_languages() {
    let (en, _) = run(&[
        "scan", "-q", "--format", "json", "--lang", "en", SAMPLE[0], SAMPLE[1],
    ]);
    let (ja, _) = run(&[
        "scan", "-q", "--format", "json", "--lang", "ja", SAMPLE[0], SAMPLE[1],
    ]);
    assert_eq!(
        redact(&en),
        redact(&ja),
        "machine formats are not translated"
    );
    let v: serde_json::Value = serde_json::from_str(&en).expect("one JSON document");
    assert_eq!(v["items"].as_array().map(Vec::len), Some(2));
    insta::assert_snapshot!("json", redact(&en));
}

#[test]
fn golden_csv_with_bom() {
    let (out, code) = run(&[
        "scan", "-q", "--format", "csv", "--lang", "ja", SAMPLE[0], SAMPLE[1],
    ]);
    assert_eq!(code, 1);
    assert!(out.starts_with('\u{FEFF}'), "UTF-8 BOM for Excel");
    assert!(out.contains("\r\n"), "CRLF line ends");
    insta::assert_snapshot!("csv", out.replace("\r\n", "⏎\n"));
    let (no_bom, _) = run(&["scan", "-q", "--format", "csv", "--no-bom", SAMPLE[1]]);
    assert!(no_bom.starts_with("path,verdict,"));
}

#[test]
fn exit_codes() {
    let encrypted = corpus().join("office/oletools/basic/encrypted.docx");
    let encrypted = encrypted.to_str().expect("path");
    assert_eq!(run(&["scan", "-q", "nomacro.eml"]).1, 0, "clean");
    assert_eq!(run(&["scan", "-q", "zippwmacro.eml"]).1, 1, "detection");
    assert_eq!(run(&["scan", "-q", encrypted]).1, 2, "incomplete");
    assert_eq!(
        run(&["scan", "-q", "nomacro.eml", "zippwmacro.eml", encrypted]).1,
        1,
        "a detection wins over incomplete"
    );
    assert_eq!(
        run(&["scan", "-q", "no-such-file.eml"]).1,
        2,
        "unreadable input is incomplete"
    );
    assert_eq!(run(&["scan", "--no-such-flag", "x"]).1, 3, "usage error");
    assert_eq!(run(&["scan"]).1, 3, "no path");
    let (help, code) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(help.contains("Exit codes:"), "exit codes printed in --help");
}

#[test]
fn policy_file_changes_the_verdict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("policy.toml");
    let p = policy.to_str().expect("path");
    std::fs::write(&policy, "[symbols.MACRO_INBOUND]\nseverity = \"info\"\n").expect("write");
    assert_eq!(
        run(&["scan", "-q", "macro.eml"]).1,
        1,
        "suspicious by default"
    );
    assert_eq!(
        run(&["scan", "-q", "--config", p, "macro.eml"]).1,
        0,
        "MACRO_INBOUND lowered to info by the site policy"
    );
    // The same through $KENSA_CONFIG.
    let out = kensa()
        .env("KENSA_CONFIG", p)
        .args(["scan", "-q", "macro.eml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));

    std::fs::write(&policy, "[symbols.NOT_A_SYMBOL]\nweight = 1.0\n").expect("write");
    let out = kensa()
        .args(["scan", "-q", "--config", p, "macro.eml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("C002") && err.contains("NOT_A_SYMBOL"),
        "{err}"
    );
}

#[test]
fn output_file_is_not_overwritten_without_clobber() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.jsonl");
    std::fs::write(&out, "keep me").expect("write");
    let o = out.to_str().expect("path");
    assert_eq!(
        run(&["scan", "-q", "--format", "jsonl", "-o", o, "nomacro.eml"]).1,
        3
    );
    assert_eq!(std::fs::read_to_string(&out).expect("read"), "keep me");
    assert_eq!(
        run(&[
            "scan",
            "-q",
            "--format",
            "jsonl",
            "-o",
            o,
            "-C",
            "nomacro.eml"
        ])
        .1,
        0
    );
    assert!(
        std::fs::read_to_string(&out)
            .expect("read")
            .contains("\"type\":\"summary\"")
    );
}

#[test]
fn language_follows_the_locale() {
    let out = kensa()
        .env("LANG", "ja_JP.UTF-8")
        .args(["scan", "-q", "--color", "never", "zippwmacro.eml"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("不審"), "{text}");
    let out = kensa()
        .env("LANG", "C.UTF-8")
        .args(["scan", "-q", "--color", "never", "zippwmacro.eml"])
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("suspicious"));
}

/// Attachment names and evidence are attacker-controlled: no raw ESC or direction override reaches
/// the terminal.
#[test]
fn attacker_text_is_escaped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mail = dir.path().join("trick.eml");
    let name = "invoice\u{202E}fdp.exe";
    let body = format!(
        "From: a@example.org\r\nTo: b@example.jp\r\nSubject: invoice\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nsee \x1b[31mattached\r\n\
--XX\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAA==\r\n--XX--\r\n"
    );
    std::fs::write(&mail, body).expect("write");
    let out = kensa()
        .args([
            "scan",
            "-q",
            "--color",
            "never",
            mail.to_str().expect("path"),
        ])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains('\u{202E}') && !text.contains('\x1b'),
        "{text}"
    );
    assert!(text.contains("invoice\\u{202e}fdp.exe"), "{text}");
    assert!(
        text.contains("EXECUTABLE_ATTACHMENT") && text.contains("NAME_TRICK"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn list_symbols_in_both_languages() {
    let (en, code) = run(&["scan", "--list-symbols", "--lang", "en"]);
    assert_eq!(code, 0);
    assert!(en.contains("VBA_AUTOEXEC_EXEC") && en.contains("Auto-run macro"));
    let (ja, _) = run(&["scan", "--list-symbols", "--lang", "ja"]);
    assert!(ja.contains("VBA_AUTOEXEC_EXEC") && ja.contains("自動実行"));
}

#[test]
fn mbox_file_gives_one_item_per_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mbox = dir.path().join("box.mbox");
    let nomacro = std::fs::read(olevbmacro("nomacro.eml")).expect("read");
    let zippw = std::fs::read(olevbmacro("zippwmacro.eml")).expect("read");
    let mut data = b"From a@example.org Mon Jan  1 00:00:00 2024\n".to_vec();
    data.extend_from_slice(&nomacro);
    data.extend_from_slice(b"\n\nFrom b@example.org Mon Jan  1 00:00:00 2024\n");
    data.extend_from_slice(&zippw);
    std::fs::write(&mbox, data).expect("write");
    let (out, code) = run(&[
        "scan",
        "-q",
        "--format",
        "jsonl",
        mbox.to_str().expect("path"),
    ]);
    assert_eq!(code, 1);
    let items: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .filter(|v| v["type"] == "item")
        .collect();
    assert_eq!(items.len(), 2, "{out}");
    assert!(
        items[0]["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("box.mbox#1"))
    );
    assert_eq!(items[0]["verdict"], "clean");
    assert_eq!(items[1]["verdict"], "suspicious");
}

#[test]
fn maildir_folder_is_scanned_recursively() {
    let dir = tempfile::tempdir().expect("tempdir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.path().join("Maildir").join(sub)).expect("mkdir");
    }
    std::fs::copy(
        olevbmacro("zippwmacro.eml"),
        dir.path().join("Maildir/new/1700000000.M1P1.host"),
    )
    .expect("copy");
    std::fs::copy(
        olevbmacro("nomacro.eml"),
        dir.path().join("Maildir/cur/1700000001.M2P2.host:2,S"),
    )
    .expect("copy");
    let (out, code) = run(&[
        "scan",
        "-q",
        "--format",
        "jsonl",
        dir.path().to_str().expect("path"),
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("\"items\":2"), "{out}");
}
