//! The verdicts the specs expect on the shared corpus (`../shared/corpus`, see SOURCES.md).
//! Real malware is read from its password ZIP in memory and never written to disk.

use std::path::PathBuf;

use kensa_core::{Severity, Verdict};
use kensa_scan::{ItemReport, ScanOptions, scan_bytes, scan_file};

mod common;
use common::*;

fn scan(rel: &str) -> ItemReport {
    let mut r = scan_file(&corpus(rel), &ScanOptions::default());
    assert_eq!(r.len(), 1, "{rel}: one item");
    r.remove(0)
}

fn files(rel: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(corpus(rel))
        .expect("corpus folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Every dropper of the 2019 Emotet set is malicious, by the mraptor rule (auto-exec + execute).
#[test]
fn emotet_droppers_are_all_malicious() {
    let droppers = emotet_members(is_dropper);
    assert_eq!(droppers.len(), 50);
    for (name, bytes) in droppers {
        let r = scan_bytes(&name, &bytes, &ScanOptions::default());
        assert_eq!(r.verdict, Verdict::Malicious, "{name}: {:?}", symbols(&r));
        assert!(has(&r, "VBA_AUTOEXEC_EXEC"), "{name}: {:?}", symbols(&r));
    }
}

/// The 18 unique macro texts of the same set, scanned as VBA, all trigger A ∧ X.
#[test]
fn emotet_unique_macros_are_auto_exec() {
    let macros = emotet_members(|n| n.starts_with("unique_macros/"));
    assert_eq!(macros.len(), 18);
    for (name, bytes) in macros {
        let s = kensa_formats::vba_scan::scan(&String::from_utf8_lossy(&bytes));
        let (a, w, x) = s.mraptor_flags();
        assert!(a && (w || x), "{name}");
    }
}

#[test]
fn zippwmacro_is_decrypted_with_the_password_from_the_body() {
    let r = scan("mail/spamassassin-tests/spam/olevbmacro/zippwmacro.eml");
    assert_eq!(r.verdict, Verdict::Suspicious, "{:?}", symbols(&r));
    let pw = r
        .findings
        .iter()
        .find(|f| f.symbol == "ZIP_PASSWORD_RECOVERED")
        .expect("password recovered");
    assert!(
        pw.evidence.contains("\"sa\"") && pw.evidence.contains("body"),
        "{}",
        pw.evidence
    );
    let vba = r
        .findings
        .iter()
        .find(|f| f.symbol == "VBA_MACRO")
        .expect("macro reported");
    assert_eq!(
        vba.location.display(),
        "zippwmacro.eml > macro.zip[password from body] > macro.xlsm > xl/vbaProject.bin"
    );
    assert!(has(&r, "ENCRYPTED_ATTACHMENT_PASSWORD_IN_BODY"));
    assert!(has(&r, "MACRO_INBOUND"));
}

#[test]
fn olevbmacro_messages_get_the_spec_verdicts() {
    let dir = "mail/spamassassin-tests/spam/olevbmacro/";
    for (name, verdict) in [
        ("nomacro.eml", Verdict::Clean),
        ("goodcsv.eml", Verdict::Clean),
        ("target_uri.eml", Verdict::Clean),
        ("macro.eml", Verdict::Suspicious),
        ("malicemacro.eml", Verdict::Suspicious),
        ("renamedmacro.eml", Verdict::Suspicious),
        ("encrypted.eml", Verdict::Suspicious),
    ] {
        let r = scan(&format!("{dir}{name}"));
        assert_eq!(r.verdict, verdict, "{name}: {:?}", symbols(&r));
    }
    let r = scan(&format!("{dir}target_uri.eml"));
    let link = r
        .findings
        .iter()
        .find(|f| f.symbol == "EXTERNAL_HYPERLINK")
        .expect("hyperlink");
    assert!(link.evidence.contains("https://spamassassin.apache.org/"));
    assert_eq!(link.severity, Severity::Info);
    let r = scan(&format!("{dir}malicemacro.eml"));
    assert!(has(&r, "VBA_AUTOEXEC"), "Workbook_Open: {:?}", symbols(&r));
    let r = scan(&format!("{dir}renamedmacro.eml"));
    let mismatch = r
        .findings
        .iter()
        .find(|f| f.symbol == "TYPE_MISMATCH")
        .expect("renamed");
    assert_eq!(
        mismatch.severity,
        Severity::Low,
        "info + 1 step for a macro document"
    );
    let r = scan(&format!("{dir}encrypted.eml"));
    assert!(
        has(&r, "ENCRYPTED_ATTACHMENT_PASSWORD_IN_BODY"),
        "{:?}",
        symbols(&r)
    );
    // "Doc password is password": the Agile .docx opens with the password from the body.
    assert!(!has(&r, "UNSCANNABLE"), "{:?}", symbols(&r));
    let enc = find(&r, "OFFICE_PASSWORD_RECOVERED").expect("decrypted");
    assert_eq!(enc.evidence, "password \"password\" (from body)");
}

#[test]
fn display_name_spoof_is_suspicious() {
    let r = scan("mail/spamassassin-tests/spam/fromnamespoof/spoof1");
    assert_eq!(r.verdict, Verdict::Suspicious, "{:?}", symbols(&r));
    assert!(has(&r, "DISPLAY_NAME_RECIPIENT_DOMAIN"));
}

/// No ham message is malicious; the suspicious rate is measured and kept low.
#[test]
fn easy_ham_has_no_malicious_and_few_suspicious() {
    let opts = ScanOptions::default();
    let mut total = 0;
    let mut suspicious = Vec::new();
    for p in files("mail/spamassassin-public/easy-ham-1") {
        if p.extension().is_some_and(|e| e == "json") {
            continue;
        }
        for r in scan_file(&p, &opts) {
            total += 1;
            assert_ne!(
                r.verdict,
                Verdict::Malicious,
                "{}: {:?}",
                r.path,
                symbols(&r)
            );
            assert!(
                r.findings.iter().all(|f| f.severity < Severity::High),
                "{}: {:?}",
                r.path,
                symbols(&r)
            );
            if r.verdict != Verdict::Clean {
                suspicious.push(r.path.clone());
            }
        }
    }
    assert_eq!(total, 2500);
    eprintln!(
        "easy-ham-1: {} of {total} not clean: {suspicious:?}",
        suspicious.len()
    );
    assert!(
        suspicious.len() <= 25,
        "over 1 % of ham flagged: {suspicious:?}"
    );
}

#[test]
fn spam_1_and_nice_mail() {
    let opts = ScanOptions::default();
    for p in files("mail/spamassassin-public/spam-1") {
        if p.extension().is_some_and(|e| e == "json") {
            continue;
        }
        for r in scan_file(&p, &opts) {
            assert!(
                r.findings.iter().all(|f| f.severity < Severity::Critical),
                "{}",
                r.path
            );
        }
    }
    let mut nice = 0;
    for dir in [
        "mail/spamassassin-tests/nice",
        "mail/spamassassin-tests/nice/cjk",
        "mail/spamassassin-tests/nice/dkim",
        "mail/spamassassin-tests/nice/dmarc",
    ] {
        for p in files(dir) {
            for r in scan_file(&p, &opts) {
                assert_eq!(r.verdict, Verdict::Clean, "{}: {:?}", r.path, symbols(&r));
                nice += 1;
            }
        }
    }
    assert_eq!(nice, 61);
}

/// Every file of the mail-parser corpus and of calamine is handled without a panic.
#[test]
fn malformed_mail_and_spreadsheets_do_not_break_the_scan() {
    let opts = ScanOptions::default();
    let mut n = 0;
    for sub in ["legacy", "malformed", "rfc", "thirdparty"] {
        // `files` fails when a folder is missing: no part of the corpus is skipped silently.
        for p in files(&format!("mail/mail-parser/{sub}")) {
            for r in scan_file(&p, &opts) {
                assert!(
                    !r.findings
                        .iter()
                        .any(|f| f.evidence.contains("internal error")),
                    "{}",
                    r.path
                );
                assert_ne!(r.verdict, Verdict::Malicious, "{}", r.path);
                n += 1;
            }
        }
    }
    assert_eq!(n, 107, "mail-parser files");

    let mut calamine = 0;
    for p in files("office/calamine") {
        let r = scan_file(&p, &opts).remove(0);
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        assert!(
            !r.findings
                .iter()
                .any(|f| f.evidence.contains("internal error")),
            "{name}"
        );
        let expected = match name.as_str() {
            "pass_protected.xlsx" | "pass_protected.ods" => Some(Verdict::Incomplete),
            // Agile with the password "1234": found among the common guesses, opened, clean.
            "pass_protected.xlsb" => {
                let rec = find(&r, "OFFICE_PASSWORD_RECOVERED").expect("opened");
                assert_eq!(rec.evidence, "password \"1234\" (from guess)");
                Some(Verdict::Clean)
            }
            "vba.xlsm" | "issue281.xlsm" | "issue3.xlsm" | "issue221.xlsm" | "hyperlinks.xlsx" => {
                Some(Verdict::Clean)
            }
            n if n.starts_with("any_sheets") => Some(Verdict::Clean),
            _ => None,
        };
        if let Some(v) = expected {
            assert_eq!(r.verdict, v, "{name}: {:?}", symbols(&r));
        }
        // Nothing in calamine's test set is a threat.
        assert!(!r.verdict.is_detection(), "{name}: {:?}", symbols(&r));
        calamine += 1;
    }
    assert_eq!(calamine, 134);
    let r = scan("office/calamine/too_small.xls");
    assert_eq!(r.verdict, Verdict::Clean);
    assert!(has(&r, "TYPE_MISMATCH"), "ASCII text named .xls");
    for name in ["vba.xlsm", "issue281.xlsm"] {
        let r = scan(&format!("office/calamine/{name}"));
        let m = r
            .findings
            .iter()
            .find(|f| f.symbol == "VBA_MACRO")
            .expect("macro");
        assert_eq!(
            m.severity,
            Severity::Low,
            "{name}: benign MsgBox macro is low"
        );
    }
}

/// oletools' VBA samples and neighbours (spec §5): the verdicts this engine covers.
#[test]
fn oletools_vba_samples() {
    let o = "office/oletools/";
    for (rel, verdict) in [
        ("basic/empty", Verdict::Clean),
        ("basic/text", Verdict::Clean),
        ("msodde/harmless-clean.doc", Verdict::Clean),
        ("msodde/harmless-clean.docm", Verdict::Clean),
        ("msodde/harmless-clean.docx", Verdict::Clean),
        ("oleform/oleform-PR314.docm", Verdict::Clean),
        ("olevba/sample_with_vba.ppt", Verdict::Clean),
        ("basic/encrypted.docx", Verdict::Incomplete),
        (
            "encrypted/autostart-encrypt-standardpassword.xls",
            Verdict::Suspicious,
        ),
    ] {
        let r = scan(&format!("{o}{rel}"));
        assert_eq!(r.verdict, verdict, "{rel}: {:?}", symbols(&r));
    }
    // Empty interactive handlers (Frame1_Click) are not auto-exec: low, not suspicious.
    let r = scan(&format!("{o}oleform/oleform-PR314.docm"));
    assert!(has(&r, "VBA_MACRO") && !has(&r, "VBA_AUTOEXEC") && !has(&r, "VBA_AUTOEXEC_EXEC"));
    // PowerPoint 97-2003 keeps the project in a compressed storage of `PowerPoint Document`.
    let r = scan(&format!("{o}olevba/sample_with_vba.ppt"));
    let m = r
        .findings
        .iter()
        .find(|f| f.symbol == "VBA_MACRO")
        .expect("ppt macro");
    assert_eq!(m.severity, Severity::Low, "Action_Click MsgBox");
    assert!(
        m.location
            .display()
            .contains("PowerPoint Document/ExOleObjStg@")
    );
    // Encrypted samples (spec §2.5, §5): the VelvetSweatshop ones are opened and their Auto_Open
    // macro found inside; the others (unknown password) are incomplete, never clean.
    for p in files(&format!("{o}encrypted")) {
        let r = scan_file(&p, &ScanOptions::default()).remove(0);
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let enc = find(&r, "OFFICE_ENCRYPTED").unwrap_or_else(|| panic!("{name}"));
        if name.starts_with("encrypted.") {
            assert_eq!(r.verdict, Verdict::Incomplete, "{name}: {:?}", symbols(&r));
            assert!(enc.evidence.contains("encrypt"), "{name}: {}", enc.evidence);
        } else {
            let rec = find(&r, "OFFICE_PASSWORD_RECOVERED").unwrap_or_else(|| panic!("{name}"));
            assert!(
                rec.evidence
                    .starts_with("password \"VelvetSweatshop\" (built-in default"),
                "{name}: {}",
                rec.evidence
            );
            assert!(!has(&r, "UNSCANNABLE"), "{name}: {:?}", symbols(&r));
        }
        if name.starts_with("autostart") {
            assert_eq!(r.verdict, Verdict::Suspicious, "{name}: {:?}", symbols(&r));
            let auto = find(&r, "VBA_AUTOEXEC").unwrap_or_else(|| panic!("{name}"));
            assert!(
                auto.location
                    .display()
                    .contains("[default password VelvetSweatshop] > decrypted")
            );
        }
    }
    // An external oleObject pointing at a remote document is at least suspicious.
    for p in files(&format!("{o}oleobj/external_link")) {
        let r = scan_file(&p, &ScanOptions::default()).remove(0);
        assert!(r.verdict.is_detection(), "{}: {:?}", r.path, symbols(&r));
    }
}

/// The oletools ZIP samples open with the password given as analysts do (`--password`).
#[test]
fn user_password_opens_sample_zips() {
    let opts = ScanOptions {
        passwords: vec!["infected-test".into()],
        ..ScanOptions::default()
    };
    let r = scan_file(
        &corpus("office/oletools/msodde/dde-test-from-office2016.doc.zip"),
        &opts,
    )
    .remove(0);
    let pw = r
        .findings
        .iter()
        .find(|f| f.symbol == "ZIP_PASSWORD_RECOVERED")
        .expect("opened");
    assert!(pw.evidence.contains("user"), "{}", pw.evidence);
    assert!(!has(&r, "UNSCANNABLE"), "{:?}", symbols(&r));
}
