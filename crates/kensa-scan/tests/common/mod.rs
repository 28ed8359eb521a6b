//! Helpers the scan test files share: corpus paths, finding lookups, and the Emotet sample ZIP read
//! in memory (its members are real malware and are never written to disk).
#![allow(dead_code)]

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use kensa_core::Finding;
use kensa_scan::ItemReport;

pub fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus")
        .join(rel)
}

pub fn find<'a>(r: &'a ItemReport, sym: &str) -> Option<&'a Finding> {
    r.findings.iter().find(|f| f.symbol == sym)
}

pub fn has(r: &ItemReport, sym: &str) -> bool {
    find(r, sym).is_some()
}

pub fn symbols(r: &ItemReport) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.symbol).collect()
}

/// A top-level dropper of the Emotet sample ZIP: its name is 64 hex digits.
pub fn is_dropper(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The members of `office/emotet-droppers-2019-06.zip` (password `infected`) whose name `want`
/// accepts, decrypted in memory, in archive order.
pub fn emotet_members(want: impl Fn(&str) -> bool) -> Vec<(String, Vec<u8>)> {
    let data = std::fs::read(corpus("office/emotet-droppers-2019-06.zip")).expect("zip");
    let mut zip = zip::ZipArchive::new(Cursor::new(data)).expect("opens");
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index_decrypt(i, b"infected").expect("decrypts");
        let name = f.name().expect("name").to_string();
        if f.is_dir() || !want(&name) {
            continue;
        }
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).expect("reads");
        out.push((name, bytes));
    }
    out
}
