//! Disk images (spec §2.9), built at test time with real tools from Debian around corpus files:
//! `genisoimage` (cdrkit) for an image with a hidden member, `xorriso` (GNU xorriso, `-as mkisofs`)
//! for a Joliet image. Both are installed by `.ci/run` (`apt-get install xorriso genisoimage`).

use std::path::{Path, PathBuf};
use std::process::Command;

use kensa_core::{Severity, Verdict};
use kensa_scan::{ScanOptions, scan_bytes, scan_file};

mod common;
use common::*;

fn lnk_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../kensa-formats/testdata/lnk")
        .join(name)
}

/// Run an image tool; a missing tool fails the test with what to install.
fn run(tool: &str, args: &[&str]) {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e} (apt-get install xorriso genisoimage)"));
    assert!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The 2022 loader layout: a document-looking shortcut and a hidden DLL in an ISO.
#[test]
fn iso_with_hidden_dll_and_lnk_is_malicious() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    std::fs::create_dir(&src).expect("mkdir");
    std::fs::copy(
        lnk_fixture("pylnk3-powershell-enc-docicon.lnk"),
        src.join("請求書.pdf.lnk"),
    )
    .expect("copy");
    // A PE stand-in: a corpus document renamed, as the DLLs were named to look like data.
    std::fs::copy(corpus("office/calamine/date.xls"), src.join("data.dll")).expect("copy");
    let iso = dir.path().join("invoice.iso");
    let iso_s = iso.to_str().expect("utf-8 path");
    run(
        "genisoimage",
        &[
            "-quiet",
            "-J",
            "-V",
            "INVOICE",
            "-hidden",
            "data.dll",
            "-o",
            iso_s,
            src.to_str().expect("utf-8 path"),
        ],
    );
    let r = scan_file(&iso, &ScanOptions::default()).remove(0);
    assert_eq!(r.kind, "iso");
    assert_eq!(r.verdict, Verdict::Malicious, "{:?}", symbols(&r));
    let image = find(&r, "DISK_IMAGE").expect("image");
    assert_eq!(image.severity, Severity::Critical);
    assert!(
        image.evidence.contains("data.dll (hidden)"),
        "{}",
        image.evidence
    );
    assert!(
        image.evidence.contains("請求書.pdf.lnk"),
        "{}",
        image.evidence
    );
    // The shortcut inside is analysed as a shortcut (PowerShell -enc).
    let lnk = find(&r, "LNK_LOLBIN").expect("lnk analysed");
    assert_eq!(lnk.location.display(), "invoice.iso > 請求書.pdf.lnk");
}

/// A Joliet image (xorriso) around the oletools Excel 4 sample: the workbook inside is read and its
/// macro sheet found; in a mail the image itself is high.
#[test]
fn xorriso_iso_members_are_analysed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("書類")).expect("mkdir");
    std::fs::copy(
        corpus("office/oletools/excel4-macros/excel4_sample_macro.xls"),
        src.join("書類").join("見積書_2026年11月.xls"),
    )
    .expect("copy");
    let iso = dir.path().join("docs.iso");
    let iso_s = iso.to_str().expect("utf-8 path");
    run(
        "xorriso",
        &[
            "-as",
            "mkisofs",
            "-quiet",
            "-J",
            "-joliet-long",
            "-V",
            "DOCS",
            "-o",
            iso_s,
            src.to_str().expect("utf-8 path"),
        ],
    );
    let data = std::fs::read(&iso).expect("read");
    let r = scan_bytes("docs.iso", &data, &ScanOptions::default());
    let sheet = find(&r, "XLM_MACRO_SHEET").expect("macro sheet inside");
    assert_eq!(
        sheet.location.0[..2],
        [
            "docs.iso".to_string(),
            "書類/見積書_2026年11月.xls".to_string()
        ]
    );
    let image = find(&r, "DISK_IMAGE").expect("image");
    assert_eq!(
        image.severity,
        Severity::Info,
        "given directly, no runnable member"
    );
    assert_eq!(r.verdict, Verdict::Suspicious, "{:?}", symbols(&r));

    // The same image attached to a message.
    let mail = format!(
        "From: a@example.com\r\nTo: b@example.jp\r\nSubject: docs\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
         see attached\r\n--b\r\nContent-Type: application/octet-stream; name=docs.iso\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        base64_lines(&data)
    );
    let r = scan_bytes("docs.eml", mail.as_bytes(), &ScanOptions::default());
    let image = find(&r, "DISK_IMAGE").expect("image");
    assert_eq!(image.severity, Severity::High);
    assert!(find(&r, "XLM_MACRO_SHEET").is_some(), "{:?}", symbols(&r));
}

fn base64_lines(data: &[u8]) -> String {
    use base64::Engine;
    let b = base64::engine::general_purpose::STANDARD.encode(data);
    b.as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// Images that are recognised but not listed (UDF-only, raw FAT/NTFS, VHD) are never clean.
#[test]
fn unlisted_images_are_incomplete_never_clean() {
    // A FAT16 boot sector, bytewise: jump, OEM name, "FAT16   " at 0x36, 0x55AA at 510.
    let mut fat = vec![0u8; 64 << 10];
    fat[..3].copy_from_slice(&[0xEB, 0x3C, 0x90]);
    fat[3..11].copy_from_slice(b"MSDOS5.0");
    fat[0x36..0x3E].copy_from_slice(b"FAT16   ");
    fat[510..512].copy_from_slice(&[0x55, 0xAA]);
    let r = scan_bytes("disk.img", &fat, &ScanOptions::default());
    assert_eq!(r.kind, "iso");
    assert!(find(&r, "DISK_IMAGE").is_some(), "{:?}", symbols(&r));
    let u = find(&r, "UNSCANNABLE").expect("not listed");
    assert!(u.evidence.contains("FAT"), "{}", u.evidence);
    assert_eq!(r.verdict, Verdict::Incomplete);
}
