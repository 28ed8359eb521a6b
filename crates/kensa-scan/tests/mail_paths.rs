//! End-to-end paths through mail and archives, with fixtures built at test time from corpus files:
//! the Japanese PPAP mail (ISO-2022-JP, RFC 2231 name, WinZip AES), and every budget guard.

use std::io::{Cursor, Write};
use std::time::Duration;

use base64::Engine;
use kensa_core::{Limits, Severity, Verdict};
use kensa_scan::{ScanOptions, scan_bytes};
use zip::write::{SimpleFileOptions, ZipWriter};

mod common;
use common::*;

fn corpus_bytes(rel: &str) -> Vec<u8> {
    std::fs::read(corpus(rel)).expect("corpus file")
}

/// A ZIP made by the `zip` crate (stored, or WinZip AES-256 with `password`).
fn make_zip(entries: &[(&str, &[u8])], password: Option<&str>) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        let mut opts =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        if let Some(pw) = password {
            opts = opts.with_aes_encryption(zip::AesMode::Aes256, pw);
        }
        w.start_file(*name, opts).expect("start");
        w.write_all(data).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

fn iso2022jp(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::ISO_2022_JP.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

/// A Japanese business mail: ISO-2022-JP subject (RFC 2047) and body, the password in 「」 on its
/// own line as PPAP mails write it, and an AES-encrypted ZIP named in Japanese (RFC 2231).
fn ppap_mail(zip: &[u8], password: &str) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let subject = format!(
        "=?ISO-2022-JP?B?{}?=",
        b64.encode(iso2022jp("請求書送付のご案内"))
    );
    let body = iso2022jp(&format!(
        "株式会社サンプル\n経理部 御中\n\nいつもお世話になっております。\n請求書を送付いたします。\n\n解凍パスワードは「{password}」です。\n\nよろしくお願いいたします。\n"
    ));
    let mut m = format!(
        "From: =?ISO-2022-JP?B?{}?= <tanaka@partner.example.co.jp>\r\nTo: keiri@sample.example.jp\r\n\
Subject: {subject}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
--b1\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n",
        b64.encode(iso2022jp("田中"))
    )
    .into_bytes();
    m.extend_from_slice(&body);
    m.extend_from_slice(
        b"\r\n--b1\r\nContent-Type: application/zip\r\n\
Content-Disposition: attachment; filename*=UTF-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.zip\r\n\
Content-Transfer-Encoding: base64\r\n\r\n",
    );
    for chunk in b64.encode(zip).as_bytes().chunks(76) {
        m.extend_from_slice(chunk);
        m.extend_from_slice(b"\r\n");
    }
    m.extend_from_slice(b"--b1--\r\n");
    m
}

#[test]
fn japanese_ppap_mail_is_opened_with_the_password_in_the_body() {
    // A real workbook with a benign VBA project (calamine's vba.xlsm), renamed in Japanese.
    let workbook = corpus_bytes("office/calamine/vba.xlsm");
    let zip = make_zip(&[("請求書.xlsm", &workbook)], Some("Xy12Ab34"));
    let r = scan_bytes(
        "mail.eml",
        &ppap_mail(&zip, "Xy12Ab34"),
        &ScanOptions::default(),
    );

    assert_eq!(r.verdict, Verdict::Suspicious, "{:?}", symbols(&r));
    let pw = find(&r, "ZIP_PASSWORD_RECOVERED").expect("password found");
    assert!(
        pw.evidence.contains("\"Xy12Ab34\"") && pw.evidence.contains("body"),
        "{}",
        pw.evidence
    );
    let enc = find(&r, "ZIP_ENCRYPTED").expect("encrypted");
    assert!(enc.evidence.contains("WinZip AES"), "{}", enc.evidence);
    let vba = find(&r, "VBA_MACRO").expect("macro inside the decrypted archive");
    assert_eq!(
        vba.location.display(),
        "mail.eml > 請求書.zip[password from body] > 請求書.xlsm > xl/vbaProject.bin"
    );
    assert!(find(&r, "ENCRYPTED_ATTACHMENT_PASSWORD_IN_BODY").is_some());
    assert!(find(&r, "UNSCANNABLE").is_none(), "{:?}", symbols(&r));
}

#[test]
fn undecryptable_archive_with_a_risky_member_is_suspicious_and_incomplete() {
    let workbook = corpus_bytes("office/calamine/vba.xlsm");
    let zip = make_zip(&[("請求書.xlsm", &workbook)], Some("Secret-99zz"));
    // The body states another password: nothing decrypts.
    let r = scan_bytes(
        "mail.eml",
        &ppap_mail(&zip, "Wrong1234"),
        &ScanOptions::default(),
    );
    assert_eq!(r.verdict, Verdict::Suspicious, "{:?}", symbols(&r));
    let risky = find(&r, "ZIP_ENCRYPTED_RISKY_MEMBER").expect("risky name");
    assert_eq!(risky.severity, Severity::High);
    assert!(risky.evidence.contains("請求書.xlsm"));
    assert!(find(&r, "UNSCANNABLE").is_some_and(|f| f.evidence.contains("password not found")));
    assert!(find(&r, "VBA_MACRO").is_none());

    // The analyst supplies the password: it opens.
    let opts = ScanOptions {
        passwords: vec!["Secret-99zz".into()],
        ..ScanOptions::default()
    };
    let r = scan_bytes("mail.eml", &ppap_mail(&zip, "Wrong1234"), &opts);
    assert!(find(&r, "ZIP_PASSWORD_RECOVERED").is_some_and(|f| f.evidence.contains("user")));
    assert!(find(&r, "VBA_MACRO").is_some());
}

#[test]
fn inflated_member_is_flagged_and_cut_at_the_entry_cap() {
    // A repeating 251-byte cycle: compresses like padding, but is no single-byte run, so it is kept
    // (tests/padded.rs covers runs, which are dropped).
    let cycle: Vec<u8> = (0..4u32 << 20).map(|i| (i % 251) as u8).collect();
    let zip = make_zip(&[("padded.doc", &cycle)], None);
    assert!(zip.len() < 64 << 10, "deflated zeros are small");
    let opts = ScanOptions {
        limits: Limits {
            ratio_min_size: 1 << 20,
            max_entry_bytes: 1 << 20,
            ..Limits::default()
        },
        ..ScanOptions::default()
    };
    let r = scan_bytes("padded.zip", &zip, &opts);
    let inflated = find(&r, "INFLATED_FILE").expect("inflated");
    assert_eq!(inflated.severity, Severity::High);
    assert!(
        find(&r, "UNSCANNABLE").is_some_and(|f| f.evidence.contains("entry cap")),
        "{:?}",
        r.findings
    );
    assert_eq!(r.verdict, Verdict::Suspicious);
}

#[test]
fn nesting_past_the_depth_limit_is_incomplete() {
    let mut data = b"innermost".to_vec();
    for i in 0..8 {
        data = make_zip(&[(&format!("level{i}.zip"), &data)], None);
    }
    let r = scan_bytes("deep.zip", &data, &ScanOptions::default());
    assert_eq!(r.verdict, Verdict::Incomplete, "{:?}", symbols(&r));
    assert!(find(&r, "UNSCANNABLE").is_some_and(|f| f.evidence.contains("nesting deeper than 5")));
}

#[test]
fn too_many_members_is_incomplete() {
    let names: Vec<String> = (0..300).map(|i| format!("f{i}.txt")).collect();
    let entries: Vec<(&str, &[u8])> = names
        .iter()
        .map(|n| (n.as_str(), b"x".as_slice()))
        .collect();
    let r = scan_bytes(
        "many.zip",
        &make_zip(&entries, None),
        &ScanOptions::default(),
    );
    assert_eq!(r.verdict, Verdict::Incomplete, "{:?}", symbols(&r));
    assert!(find(&r, "UNSCANNABLE").is_some_and(|f| f.evidence.contains("more than 256 members")));
}

#[test]
fn too_many_attachments_is_incomplete() {
    let mut m = String::from(
        "From: a@example.org\r\nTo: b@example.jp\r\nSubject: many\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n",
    );
    for i in 0..300 {
        m.push_str(&format!(
            "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"f{i}.txt\"\r\n\r\nx\r\n"
        ));
    }
    m.push_str("--b--\r\n");
    let r = scan_bytes("many.eml", m.as_bytes(), &ScanOptions::default());
    assert_eq!(r.verdict, Verdict::Incomplete, "{:?}", symbols(&r));
    assert!(find(&r, "UNSCANNABLE").is_some_and(|f| f.evidence.contains("more than 256 members")));
}

#[test]
fn byte_budget_is_enforced_per_item() {
    let blob: Vec<u8> = (0..3u32 << 20).map(|i| (i % 251) as u8).collect();
    let entries: Vec<(String, Vec<u8>)> = (0..4)
        .map(|i| (format!("b{i}.bin"), blob.clone()))
        .collect();
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let opts = ScanOptions {
        limits: Limits {
            max_total_bytes: 8 << 20,
            ..Limits::default()
        },
        ..ScanOptions::default()
    };
    let r = scan_bytes("big.zip", &make_zip(&refs, None), &opts);
    assert_eq!(r.verdict, Verdict::Incomplete, "{:?}", symbols(&r));
    assert!(find(&r, "UNSCANNABLE").is_some_and(|f| f.evidence.contains("byte budget")));
}

#[test]
fn time_budget_is_enforced_per_item() {
    let opts = ScanOptions {
        limits: Limits {
            max_time: Duration::ZERO,
            ..Limits::default()
        },
        ..ScanOptions::default()
    };
    let r = scan_bytes(
        "x.eml",
        &corpus_bytes("mail/spamassassin-tests/spam/olevbmacro/nomacro.eml"),
        &opts,
    );
    assert_eq!(r.verdict, Verdict::Incomplete);
    assert!(find(&r, "UNSCANNABLE").is_some_and(|f| f.evidence.contains("time budget")));
}

#[test]
fn executable_in_archive_in_mail_is_malicious() {
    // A minimal PE header is enough for the type; its name claims a PDF.
    let pe =
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00 not a real program".to_vec();
    let zip = make_zip(&[("invoice.pdf.exe", &pe)], Some("Xy12Ab34"));
    let r = scan_bytes(
        "mail.eml",
        &ppap_mail(&zip, "Xy12Ab34"),
        &ScanOptions::default(),
    );
    assert_eq!(r.verdict, Verdict::Malicious, "{:?}", symbols(&r));
    let exe = find(&r, "EXECUTABLE_IN_ARCHIVE").expect("exe");
    assert_eq!(exe.severity, Severity::Critical);
    assert!(find(&r, "NAME_TRICK").is_some_and(|f| f.evidence.contains("invoice.pdf.exe")));
}
