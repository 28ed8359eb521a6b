//! `kensa net analyze` and `kensa intel` as a user runs them, on the corpus captures: the Unit 42
//! capture is read from its password ZIP in memory (it holds a malware download), feeds are
//! imported into a temporary store, and the outputs are golden snapshots in both languages.

mod common;
use common::*;

use std::path::{Path, PathBuf};

fn unit42_zip() -> PathBuf {
    corpus().join("net/unit42-emotet-2021-01-06.pcap.zip")
}

fn unit42_iocs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../kensa-net/testdata/intel/unit42-emotet-2021-01-06-iocs.txt")
}

/// A store with the Unit 42 IOCs and the corpus Feodo snapshot imported.
fn store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = kensa()
        .args(["intel", "import", "--store"])
        .arg(dir.path())
        .arg(unit42_iocs())
        .arg(corpus().join("intel/feodo-ipblocklist-aggressive-2021-03.csv"))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn analyze(store: &Path, extra: &[&str]) -> (String, i32) {
    let out = kensa()
        .args(["net", "analyze", "--color", "never", "--store"])
        .arg(store)
        .args(extra)
        .arg(unit42_zip())
        .output()
        .expect("runs");
    (
        String::from_utf8(out.stdout).expect("UTF-8"),
        out.status.code().unwrap_or(-1),
    )
}

/// The imported feeds list with their sizes; the file date stands in for a missing banner date.
#[test]
fn intel_import_and_list() {
    let dir = store();
    let out = kensa()
        .args(["intel", "list", "--store"])
        .arg(dir.path())
        .output()
        .expect("runs");
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(
        text.contains("feodo        feodo_csv            472 indicators"),
        "{text}"
    );
    assert!(
        text.contains("list         plain_list             3 indicators"),
        "{text}"
    );
}

/// Ranked peers as JSON Lines: the three C2s first, each with reasons; exit 1 (detection).
#[test]
fn jsonl_ranks_the_unit42_c2s_first() {
    let dir = store();
    let (out, code) = analyze(dir.path(), &["--format", "jsonl"]);
    assert_eq!(code, 1);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let peers: Vec<&serde_json::Value> = lines.iter().filter(|v| v["type"] == "peer").collect();
    let top: std::collections::BTreeSet<&str> = peers
        .iter()
        .take(3)
        .map(|p| p["dst"].as_str().expect("dst"))
        .collect();
    assert_eq!(
        top,
        ["167.71.4.0", "46.101.230.194", "5.2.136.90"]
            .into_iter()
            .collect()
    );
    for p in &peers[..3] {
        assert_eq!(p["src"], "10.1.6.206");
        assert!(
            p["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .any(|f| f["symbol"] == "NET_INTEL_HIT")
        );
        assert!(matches!(p["severity"].as_str(), Some("critical" | "high")));
    }
    let summary = lines.last().expect("summary");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["internal_hosts"], 1);
    assert_eq!(summary["first_ts"], "2021-01-06T16:41:15Z");
    assert_eq!(summary["short_window"], true);
    assert_eq!(summary["exit_code"], 1);
    let input = &summary["inputs"][0];
    assert_eq!(input["records"], 4509, "{input}");
    assert!(
        input["path"]
            .as_str()
            .expect("path")
            .ends_with(".zip > Example-1-2021-01-06-Emotet-infection.pcap")
    );
}

#[test]
fn golden_net_human_en() {
    let dir = store();
    let (out, _) = analyze(dir.path(), &["--lang", "en"]);
    insta::assert_snapshot!("net_human_en", redact(&out));
}

#[test]
fn golden_net_human_ja() {
    let dir = store();
    let (out, _) = analyze(dir.path(), &["--lang", "ja"]);
    insta::assert_snapshot!("net_human_ja", redact(&out));
}

#[test]
fn golden_net_csv() {
    let dir = store();
    let (out, _) = analyze(dir.path(), &["--format", "csv"]);
    insta::assert_snapshot!("net_csv", out.replace("\r\n", "⏎\n"));
}

/// Without the imported IOCs (an empty store), traffic alone still ranks the C2s; a capture with
/// nothing to report exits 0; an unreadable input exits 2.
#[test]
fn exit_codes() {
    let empty = tempfile::tempdir().expect("tempdir");
    let (out, code) = analyze(empty.path(), &["--format", "jsonl"]);
    assert_eq!(code, 1, "{out}");
    let out = kensa()
        .args(["net", "analyze", "--store"])
        .arg(empty.path())
        .arg(corpus().join("net/ja3-ssl-curl.pcap"))
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let broken = empty.path().join("cut.pcap");
    let pcap = std::fs::read(corpus().join("net/ja3-ssl-curl.pcap")).expect("pcap");
    std::fs::write(&broken, &pcap[..pcap.len() - 10]).expect("write");
    let out = kensa()
        .args(["net", "analyze", "--store"])
        .arg(empty.path())
        .arg(&broken)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = kensa()
        .args(["net", "analyze", "--internal", "10.0.0.0/99"])
        .arg(&broken)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
}

/// `kensa net maillog` on the log of a real Postfix 3.7.11 (crates/kensa-net/testdata/maillog, made
/// by tests/support/postfix-burst.sh): alice's burst and her account used from three addresses.
#[test]
fn maillog_finds_the_burst_in_a_real_postfix_log() {
    let log = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../kensa-net/testdata/maillog/postfix-3.7.11-long-queue-ids.log");
    let out = kensa()
        .args(["net", "maillog", "--year", "2026", "--format", "jsonl"])
        .arg(&log)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let kinds: Vec<&str> = lines
        .iter()
        .filter(|v| v["type"] == "finding")
        .map(|v| v["kind"].as_str().expect("kind"))
        .collect();
    assert!(
        kinds.contains(&"MAIL_BURST") && kinds.contains(&"MAIL_ACCOUNT_MANY_IPS"),
        "{kinds:?}"
    );
    let burst = lines
        .iter()
        .find(|v| v["kind"] == "MAIL_BURST")
        .expect("burst");
    assert!(
        burst["identity"].to_string().contains("alice"),
        "{}",
        burst["identity"]
    );
    assert_eq!(lines.last().expect("summary")["type"], "summary");
}

/// A damaged snapshot in the store is skipped with a warning; the others still match.
#[test]
fn damaged_store_file_is_skipped() {
    let dir = store();
    std::fs::write(dir.path().join("broken.jsonl"), b"{not json").expect("write");
    let out = kensa()
        .args(["net", "analyze", "--format", "jsonl", "--store"])
        .arg(dir.path())
        .arg(unit42_zip())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.jsonl"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("NET_INTEL_HIT"));
}

/// `--format json`: one document with the same peers and summary as the JSON Lines.
#[test]
fn json_document_holds_peers_and_summary() {
    let dir = store();
    let (out, code) = analyze(dir.path(), &["--format", "json"]);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["peers"].as_array().expect("peers").len(), 4);
    assert_eq!(doc["peers"][0]["type"], "peer");
    assert_eq!(doc["summary"]["ranked"], 4);
}
