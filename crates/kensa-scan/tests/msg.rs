//! Outlook `.msg` files as input to `kensa scan` (issue 3): the same mail-level signals, password
//! candidates from the body and attachments as for an RFC 5322 message. Fixtures and their origin:
//! `crates/kensa-formats/testdata/msg/README.md` (real files from npm `msgreader` and PyPI
//! `msg-parser`, and files written by PyPI `msgforge`).

use std::path::{Path, PathBuf};

use kensa_core::Verdict;
use kensa_scan::{ItemReport, ScanOptions, scan_file};

mod common;
use common::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../kensa-formats/testdata/msg")
        .join(name)
}

fn scan(name: &str) -> ItemReport {
    scan_file(&fixture(name), &ScanOptions::default()).remove(0)
}

/// A Japanese PPAP mail saved from Outlook: the password on its own line in the body opens the
/// ZipCrypto archive, and the macro workbook inside is found.
#[test]
fn ppap_msg_opens_the_zip_with_the_password_in_the_body() {
    let r = scan("ppap-japanese.msg");
    assert_eq!(r.verdict, Verdict::Suspicious, "{:?}", symbols(&r));
    let pw = find(&r, "ZIP_PASSWORD_RECOVERED").expect("password found");
    assert_eq!(pw.evidence, "password \"sa\" (from body)");
    assert!(find(&r, "ENCRYPTED_ATTACHMENT_PASSWORD_IN_BODY").is_some());
    let vba = find(&r, "VBA_MACRO").expect("macro");
    assert_eq!(
        vba.location.display(),
        "ppap-japanese.msg > 請求書_202610.zip[password from body] > macro.xlsm > xl/vbaProject.bin"
    );
    assert!(find(&r, "UNSCANNABLE").is_none(), "{:?}", symbols(&r));
}

/// An embedded message (a bounce carrying the original, itself carrying a PDF): its transport
/// headers feed the signals at its own place in the tree.
#[test]
fn embedded_message_signals_and_attachments() {
    let r = scan("msg_parser-other.msg");
    let fake = find(&r, "FAKE_REPLY").expect("reply subject without threading headers");
    assert_eq!(fake.location.0.len(), 2, "{}", fake.location.display());
    assert!(fake.evidence.contains("回复"), "{}", fake.evidence);
    assert_eq!(r.verdict, Verdict::Clean, "{:?}", symbols(&r));
}

/// Ordinary messages are clean and fully read.
#[test]
fn ordinary_messages_are_clean() {
    for name in [
        "msgreader-test.msg",
        "msg_parser-outer.msg",
        "msgforge-japanese.msg",
    ] {
        let r = scan(name);
        assert_eq!(r.verdict, Verdict::Clean, "{name}: {:?}", symbols(&r));
        assert_eq!(r.kind, "ole", "{name}");
    }
}
