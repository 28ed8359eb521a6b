//! Emotet-era carriers beyond VBA (issue 3, first part): Excel 4.0 macro sheets and LNK shortcuts.

use std::io::{Cursor, Write};
use std::path::Path;

use kensa_core::{Severity, Verdict};
use kensa_scan::{ScanOptions, scan_bytes, scan_file};
use zip::write::{SimpleFileOptions, ZipWriter};

mod common;
use common::*;

fn lnk_fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../kensa-formats/testdata/lnk")
            .join(name),
    )
    .expect("fixture")
}

/// oletools' Excel 4 samples in every format: a macro sheet with Auto_Open and ALERT/HALT only →
/// high (suspicious), never critical (spec §5).
#[test]
fn excel4_samples_in_every_format_are_high() {
    let dir = corpus("office/oletools/excel4-macros");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("dir") {
        let path = entry.expect("entry").path();
        let r = scan_file(&path, &ScanOptions::default()).remove(0);
        let sheet =
            find(&r, "XLM_MACRO_SHEET").unwrap_or_else(|| panic!("{}: {:?}", r.path, symbols(&r)));
        assert_eq!(sheet.severity, Severity::High);
        assert!(sheet.evidence.contains("Auto_Open"), "{}", sheet.evidence);
        assert!(
            find(&r, "XLM_AUTO_EXEC_EXEC").is_none(),
            "{}: ALERT/HALT only",
            r.path
        );
        assert_eq!(r.verdict, Verdict::Suspicious, "{}", r.path);
        n += 1;
    }
    assert_eq!(n, 7);
}

/// The same SYLK sample with its ALERT call turned into EXEC: auto-start + execute → critical.
#[test]
fn excel4_exec_with_auto_open_is_malicious() {
    let text = std::fs::read_to_string(corpus(
        "office/oletools/excel4-macros/excel4_sample_macro.slk",
    ))
    .expect("slk");
    assert!(text.contains("EALERT("));
    let armed = text.replace(
        "EALERT(\"This is a sample Excel 4 macro\")",
        "EEXEC(\"cmd /c calc\")",
    );
    let r = scan_bytes("armed.slk", armed.as_bytes(), &ScanOptions::default());
    assert_eq!(r.verdict, Verdict::Malicious, "{:?}", symbols(&r));
    let f = find(&r, "XLM_AUTO_EXEC_EXEC").expect("critical XLM");
    assert!(f.evidence.contains("EXEC"), "{}", f.evidence);
}

/// Hidden worksheets are not macro sheets: no XLM finding anywhere in calamine's spreadsheets.
#[test]
fn no_false_xlm_in_calamine() {
    for entry in std::fs::read_dir(corpus("office/calamine")).expect("dir") {
        let path = entry.expect("entry").path();
        for r in scan_file(&path, &ScanOptions::default()) {
            assert!(
                !r.findings.iter().any(|f| f.symbol.starts_with("XLM_")),
                "{}: {:?}",
                r.path,
                symbols(&r)
            );
        }
    }
}

#[test]
fn shortcuts_made_by_real_tools() {
    let opts = ScanOptions::default();
    let r = scan_bytes(
        "x.lnk",
        &lnk_fixture("pylnk3-powershell-enc-docicon.lnk"),
        &opts,
    );
    assert_eq!(r.verdict, Verdict::Malicious, "{:?}", symbols(&r));
    let f = find(&r, "LNK_LOLBIN").expect("lolbin");
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.evidence.contains("-enc"), "{}", f.evidence);
    assert!(find(&r, "LNK_SIGNAL").is_some_and(|f| f.evidence.contains("document-icon")));

    let r = scan_bytes("x.lnk", &lnk_fixture("pylnk3-notepad.lnk"), &opts);
    assert_eq!(r.verdict, Verdict::Clean, "{:?}", symbols(&r));

    let r = scan_bytes("x.lnk", &lnk_fixture("pylnk3-notepad-appended.lnk"), &opts);
    assert_eq!(r.verdict, Verdict::Malicious);
    assert!(find(&r, "LNK_APPENDED_DATA").is_some());

    // Windows' own PowerShell shortcut: a system tool, no arguments: context only.
    let r = scan_bytes(
        "x.lnk",
        &lnk_fixture("lnk-rs-windows-powershell.lnk"),
        &opts,
    );
    assert_eq!(r.verdict, Verdict::Clean, "{:?}", symbols(&r));
    assert_eq!(
        find(&r, "LNK_LOLBIN").map(|f| f.severity),
        Some(Severity::Low)
    );

    // Zero padding after the terminal block is not a payload.
    let mut padded = lnk_fixture("pylnk3-notepad.lnk");
    padded.extend_from_slice(&[0u8; 64]);
    let r = scan_bytes("x.lnk", &padded, &opts);
    assert!(find(&r, "LNK_APPENDED_DATA").is_none(), "{:?}", symbols(&r));
}

/// Emotet, April 2022: a password ZIP holding a shortcut, the password in the mail body.
#[test]
fn lnk_in_password_zip_in_mail_is_malicious() {
    let lnk = lnk_fixture("pylnk3-powershell-enc-docicon.lnk");
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().with_aes_encryption(zip::AesMode::Aes256, "Qz7Lm2Pw");
    w.start_file("Invoice 2022-04.pdf.lnk", opts)
        .expect("start");
    w.write_all(&lnk).expect("write");
    let zip = w.finish().expect("finish").into_inner();
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &zip);
    let mail = format!(
        "From: partner@example.org\r\nTo: staff@example.jp\r\nSubject: RE: invoice\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Type: text/plain\r\n\r\nPlease see the attached file.\r\nPassword: Qz7Lm2Pw\r\n\r\n--b\r\n\
Content-Type: application/zip; name=\"invoice.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--b--\r\n"
    );
    let r = scan_bytes("mail.eml", mail.as_bytes(), &ScanOptions::default());
    assert_eq!(r.verdict, Verdict::Malicious, "{:?}", symbols(&r));
    let lolbin = find(&r, "LNK_LOLBIN").expect("lolbin");
    assert_eq!(
        lolbin.location.display(),
        "mail.eml > invoice.zip[password from body] > Invoice 2022-04.pdf.lnk"
    );
    assert!(find(&r, "EXECUTABLE_IN_ARCHIVE").is_some_and(|f| f.severity == Severity::Critical));
    assert!(find(&r, "NAME_TRICK").is_some());
    assert!(
        find(&r, "FAKE_REPLY").is_some(),
        "RE: without threading headers"
    );
}

/// OLE packages (spec §5): calc.exe embedded → critical; embedded calc.lnk and a package linking to
/// calc.exe → high; the simple embedded files of every Office format → clean, with an info finding
/// where the package is an OLE Package object.
#[test]
fn ole_packages_get_the_spec_verdicts() {
    let o = "office/oletools/oleobj/";
    let scan =
        |rel: &str| scan_file(&corpus(&format!("{o}{rel}")), &ScanOptions::default()).remove(0);
    let r = scan("sample_with_calc_embedded.doc");
    assert_eq!(r.verdict, Verdict::Malicious, "{:?}", symbols(&r));
    let exe = find(&r, "OLE_PACKAGE_EXECUTABLE").expect("embedded program");
    assert!(exe.evidence.contains("calc.exe"), "{}", exe.evidence);
    for rel in [
        "sample_with_lnk_file.doc",
        "sample_with_lnk_file.ppt",
        "sample_with_lnk_file.pps",
    ] {
        let r = scan(rel);
        assert_eq!(r.verdict, Verdict::Suspicious, "{rel}: {:?}", symbols(&r));
        assert!(
            r.findings
                .iter()
                .any(|f| f.symbol == "EXECUTABLE_IN_ARCHIVE" && f.severity == Severity::High),
            "{rel}: {:?}",
            symbols(&r)
        );
    }
    let r = scan("sample_with_lnk_to_calc.doc");
    assert_eq!(r.verdict, Verdict::Suspicious, "{:?}", symbols(&r));
    assert!(find(&r, "OLE_PACKAGE_LINK").is_some_and(|f| f.severity == Severity::High));
    let mut simple = 0;
    for entry in std::fs::read_dir(corpus(o)).expect("dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if !name.starts_with("embedded-") {
            continue;
        }
        let r = scan_file(&path, &ScanOptions::default()).remove(0);
        assert_eq!(r.verdict, Verdict::Clean, "{name}: {:?}", symbols(&r));
        simple += 1;
    }
    assert_eq!(
        simple, 31,
        "29 embedded-simple-2007 formats + 2 embedded-unicode"
    );
}

/// RTF (spec §5): Equation Editor object → critical; auto-updating object → high; the RTF
/// specification itself (2 MB of RTF) → clean.
#[test]
fn rtf_objects_get_the_spec_verdicts() {
    let o = "office/oletools/";
    let r = scan_file(
        &corpus(&format!("{o}rtfobj/issue_251.rtf")),
        &ScanOptions::default(),
    )
    .remove(0);
    assert_eq!(r.verdict, Verdict::Malicious, "{:?}", symbols(&r));
    assert!(find(&r, "RTF_EQUATION_EDITOR").is_some_and(|f| f.evidence.contains("Equation.3")));
    let opts = ScanOptions {
        passwords: vec!["infected-test".into()],
        ..ScanOptions::default()
    };
    let r = scan_file(&corpus(&format!("{o}rtfobj/issue_185.rtf.zip")), &opts).remove(0);
    assert_eq!(r.verdict, Verdict::Suspicious, "{:?}", symbols(&r));
    let f = find(&r, "RTF_OBJECT_AUTOUPDATE").expect("auto-update object");
    assert_eq!(f.severity, Severity::High);
    assert!(f.evidence.contains("objupdate") && f.evidence.contains("objautlink"));
    let r = scan_file(
        &corpus(&format!("{o}msodde/RTF-Spec-1.7.rtf")),
        &ScanOptions::default(),
    )
    .remove(0);
    assert_eq!(r.verdict, Verdict::Clean, "{:?}", symbols(&r));
    assert!(r.findings.is_empty(), "{:?}", symbols(&r));
}

/// DDE (spec §5): every `cmd.exe "/k calc.exe"` sample is critical in Word binary (8-bit and UTF-16LE),
/// DOCX/DOCM, Word 2003/2007 XML, XLSX/XLSM external links, CSV and Excel 2003 XML; the harmless
/// XLSB external links (BrtSupBook), and the same links in VelvetSweatshop-encrypted .xls (SUPBOOK),
/// .xlsx, .xlsm and .xlsb; the harmless documents are clean.
#[test]
fn dde_samples_are_critical_and_harmless_ones_clean() {
    let opts = ScanOptions {
        passwords: vec!["infected-test".into()],
        ..ScanOptions::default()
    };
    let o = "office/oletools/";
    for rel in [
        "msodde/dde-test.docx",
        "msodde/dde-test.docm",
        "msodde/dde-test.xlsx",
        "msodde/dde-test.xlsm",
        "msodde/dde-test.xlsb",
        "encrypted/dde-test-encrypt-standardpassword.xls",
        "encrypted/dde-test-encrypt-standardpassword.xlsx",
        "encrypted/dde-test-encrypt-standardpassword.xlsm",
        "encrypted/dde-test-encrypt-standardpassword.xlsb",
        "msodde/dde-in-csv.csv",
        "msodde/dde-in-excel2003.xml",
        "msodde/dde-test-from-office2003.doc.zip",
        "msodde/dde-test-from-office2013-utf_16le-korean.doc.zip",
        "msodde/dde-test-from-office2016.doc.zip",
        "msodde/dde-in-word2003.xml.zip",
        "msodde/dde-in-word2007.xml.zip",
        "ooxml/dde-in-excel2003.xml",
        "ooxml/dde-in-word2003.xml.zip",
    ] {
        let r = scan_file(&corpus(&format!("{o}{rel}")), &opts).remove(0);
        assert_eq!(r.verdict, Verdict::Malicious, "{rel}: {:?}", symbols(&r));
        let f = find(&r, "DDE_FIELD").expect("DDE");
        assert_eq!(f.severity, Severity::Critical, "{rel}");
        assert!(
            f.evidence.to_ascii_lowercase().contains("cmd"),
            "{rel}: {}",
            f.evidence
        );
    }
    for rel in [
        "msodde/harmless-clean.doc",
        "msodde/harmless-clean.docx",
        "msodde/harmless-clean.docm",
        "msodde/harmless-clean.xml",
        "msodde/harmless-clean-2003.xml",
        "ooxml/harmless-clean.xml",
        "ooxml/harmless-clean-2003.xml",
    ] {
        let r = scan_file(&corpus(&format!("{o}{rel}")), &opts).remove(0);
        assert_eq!(r.verdict, Verdict::Clean, "{rel}: {:?}", symbols(&r));
    }
}

/// A ribbon `onLoad` callback (spec §2.13) added to calamine's real `vba.xlsm` with the `zip`
/// crate: the callback runs the project's macro on open, without Auto_Open → high.
#[test]
fn custom_ui_onload_with_vba_is_high() {
    let data = std::fs::read(corpus("office/calamine/vba.xlsm")).expect("corpus");
    let mut src = zip::ZipArchive::new(Cursor::new(data)).expect("zip");
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..src.len() {
        w.raw_copy_file(src.by_index_raw(i).expect("entry"))
            .expect("copy");
    }
    w.start_file("customUI/customUI14.xml", SimpleFileOptions::default())
        .expect("start");
    w.write_all(
        br#"<customUI xmlns="http://schemas.microsoft.com/office/2009/07/customui" onLoad="Ribbon_Load"><ribbon/></customUI>"#,
    )
    .expect("write");
    let doc = w.finish().expect("finish").into_inner();
    let r = scan_bytes("vba-ribbon.xlsm", &doc, &ScanOptions::default());
    let f = find(&r, "EXTERNAL_RELATIONSHIP").expect("callback");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.evidence, "customUI onLoad -> Ribbon_Load");
    assert_eq!(r.verdict, Verdict::Suspicious, "{:?}", symbols(&r));
}

/// A document inside a document (oletools#778: olevba skips them). Built here with the `cfb`
/// crate from two corpus files: oletools' Excel 4 sample copied, stream by stream, into
/// `ObjectPool/_1234567890` of msodde's harmless Word document, as Word stores an embedded
/// workbook. The macro sheet is reported once, inside the embedded workbook.
#[test]
fn workbook_embedded_in_a_word_document_is_analysed() {
    use std::io::Read as _;
    let xls = std::fs::read(corpus(
        "office/oletools/excel4-macros/excel4_sample_macro.xls",
    ))
    .expect("corpus");
    let doc = std::fs::read(corpus("office/oletools/msodde/harmless-clean.doc")).expect("corpus");
    let mut src = cfb::CompoundFile::open(Cursor::new(xls)).expect("xls");
    let mut dst = cfb::CompoundFile::open(Cursor::new(doc)).expect("doc");
    let base = "/ObjectPool/_1234567890";
    if !dst.exists("/ObjectPool") {
        dst.create_storage("/ObjectPool").expect("storage");
    }
    dst.create_storage(base).expect("storage");
    let entries: Vec<(String, bool)> = src
        .walk()
        .filter(|e| !e.is_root())
        .map(|e| (e.path().to_string_lossy().into_owned(), e.is_stream()))
        .collect();
    for (path, is_stream) in entries {
        let target = format!("{base}{path}");
        if is_stream {
            let mut data = Vec::new();
            src.open_stream(&path)
                .expect("stream")
                .read_to_end(&mut data)
                .expect("read");
            dst.create_new_stream(&target)
                .expect("new")
                .write_all(&data)
                .expect("write");
        } else {
            dst.create_storage(&target).expect("storage");
        }
    }
    dst.flush().expect("flush");
    let bytes = dst.into_inner().into_inner();
    let r = scan_bytes("report.doc", &bytes, &ScanOptions::default());
    let sheets: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.symbol == "XLM_MACRO_SHEET")
        .collect();
    assert_eq!(sheets.len(), 1, "{:?}", symbols(&r));
    assert_eq!(
        sheets[0].location.0[..2],
        [
            "report.doc".to_string(),
            "ObjectPool/_1234567890".to_string()
        ]
    );
    assert_eq!(r.verdict, Verdict::Suspicious, "{:?}", symbols(&r));
}
