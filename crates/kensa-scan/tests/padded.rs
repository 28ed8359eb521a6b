//! Inflated files (spec §2.12): Emotet's 2022–2023 documents padded with zeros past 500 MB inside a
//! ZIP of well under a megabyte. The fixtures are built here, at test time, from real corpus
//! documents: the ZIP's Deflate stream is the document compressed once, then one compressed
//! megabyte of zeros repeated (each block ends on a byte boundary after a sync flush, so the copies
//! concatenate into one valid stream), so a 500 MB member costs half a megabyte and no disk.

use std::io::{Cursor, Read};

use flate2::{Compress, Compression, FlushCompress};
use kensa_core::{Severity, Verdict};
use kensa_scan::{ScanOptions, scan_bytes, scan_file};

mod common;
use common::*;

const MIB: usize = 1 << 20;
/// Padding of the fixtures: 520 MiB, as the Emotet samples of 2022–2023.
const PAD_MIB: usize = 520;

/// Raw Deflate of `data`, ended by a sync flush (byte-aligned, not final).
fn deflate_block(data: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(data.len() / 2 + 4096);
    // The flush is complete when a call leaves room in the output (zlib's rule).
    loop {
        let done = usize::try_from(c.total_in()).expect("fits");
        c.compress_vec(&data[done..], &mut out, FlushCompress::Sync)
            .expect("deflate");
        if c.total_in() == data.len() as u64 && out.len() < out.capacity() {
            return out;
        }
        out.reserve(out.capacity().max(4096));
    }
}

/// A ZIP holding `name` = `doc` followed by `pad_mib` MiB of zeros, written by hand (local header,
/// data, central directory, end record; sizes fit 32 bits).
fn padded_zip(name: &str, doc: &[u8], pad_mib: usize) -> Vec<u8> {
    let zeros = vec![0u8; MIB];
    let pad_block = deflate_block(&zeros);
    let mut stream = deflate_block(doc);
    for _ in 0..pad_mib {
        stream.extend_from_slice(&pad_block);
    }
    stream.extend_from_slice(&[0x03, 0x00]); // final fixed-Huffman block, empty
    let mut crc = crc32fast::Hasher::new();
    crc.update(doc);
    let mut mib_crc = crc32fast::Hasher::new();
    mib_crc.update(&zeros);
    for _ in 0..pad_mib {
        crc.combine(&mib_crc);
    }
    let crc = crc.finalize();
    let size = u32::try_from(doc.len() + pad_mib * MIB).expect("under 4 GiB");
    let csize = u32::try_from(stream.len()).expect("small");
    let nlen = u16::try_from(name.len()).expect("short name");

    let mut z = Vec::new();
    let common = |z: &mut Vec<u8>| {
        z.extend_from_slice(&[20, 0, 0, 0, 8, 0, 0, 0, 0x21, 0]); // version, flags, deflate, time, date
        z.extend_from_slice(&crc.to_le_bytes());
        z.extend_from_slice(&csize.to_le_bytes());
        z.extend_from_slice(&size.to_le_bytes());
        z.extend_from_slice(&nlen.to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes()); // extra length
    };
    z.extend_from_slice(b"PK\x03\x04");
    common(&mut z);
    z.extend_from_slice(name.as_bytes());
    z.extend_from_slice(&stream);
    let cd = u32::try_from(z.len()).expect("small");
    z.extend_from_slice(b"PK\x01\x02\x14\x00");
    common(&mut z);
    z.extend_from_slice(&[0; 8]); // comment length, disk, internal and external attributes
    z.extend_from_slice(&[0; 4]);
    z.extend_from_slice(&0u32.to_le_bytes()); // local header offset
    z.extend_from_slice(name.as_bytes());
    let cd_len = u32::try_from(z.len()).expect("small") - cd;
    z.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
    z.extend_from_slice(&cd_len.to_le_bytes());
    z.extend_from_slice(&cd.to_le_bytes());
    z.extend_from_slice(&[0, 0]);
    z
}

/// One Emotet dropper of 2019, read from the corpus ZIP in memory.
fn emotet_dropper() -> Vec<u8> {
    emotet_members(is_dropper)
        .into_iter()
        .map(|(_, bytes)| bytes)
        .find(|b| b.starts_with(b"\xD0\xCF\x11\xE0"))
        .expect("a Word 97-2003 dropper in the corpus ZIP")
}

/// The fixture builder makes a ZIP the `zip` crate reads back, CRC and all.
#[test]
fn the_fixture_is_a_valid_zip() {
    let doc = b"a small document".repeat(100);
    let z = padded_zip("doc.bin", &doc, 3);
    let mut zip = zip::ZipArchive::new(Cursor::new(z)).expect("opens");
    let mut f = zip.by_index(0).expect("member");
    let mut out = Vec::new();
    f.read_to_end(&mut out).expect("inflates with a good CRC");
    assert_eq!(out.len(), doc.len() + 3 * MIB);
    assert!(out.starts_with(&doc) && out[doc.len()..].iter().all(|&b| b == 0));
}

/// A dropper padded to 520 MiB in a ZIP: the padding is skipped, the macro found, and the
/// inflated member with macros is critical. ClamAV and size-limited scanners pass such files.
#[test]
fn padded_dropper_in_a_zip_is_critical() {
    let doc = emotet_dropper();
    let z = padded_zip("Invoice_2022.doc", &doc, PAD_MIB);
    assert!(z.len() < 2 * MIB, "the ZIP itself is small: {}", z.len());
    let r = scan_bytes("invoice.zip", &z, &ScanOptions::default());
    assert_eq!(r.verdict, Verdict::Malicious, "{:?}", symbols(&r));
    let inflated = find(&r, "INFLATED_FILE").expect("inflated");
    assert_eq!(
        inflated.severity,
        Severity::Critical,
        "{}",
        inflated.evidence
    );
    let total = doc.len() + PAD_MIB * MIB;
    assert!(
        inflated.evidence.starts_with(&format!("{total} bytes")),
        "{}",
        inflated.evidence
    );
    assert!(find(&r, "VBA_AUTOEXEC_EXEC").is_some(), "{:?}", symbols(&r));
    assert!(find(&r, "UNSCANNABLE").is_none(), "{:?}", symbols(&r));
}

/// A harmless workbook padded the same way is reported (high), not condemned, and not "incomplete":
/// everything in it was read.
#[test]
fn padded_clean_workbook_is_high_only() {
    let doc = std::fs::read(corpus("office/calamine/date.xls")).expect("corpus");
    let z = padded_zip("report.xls", &doc, PAD_MIB);
    let r = scan_bytes("report.zip", &z, &ScanOptions::default());
    let inflated = find(&r, "INFLATED_FILE").expect("inflated");
    assert_eq!(inflated.severity, Severity::High);
    assert_eq!(r.verdict, Verdict::Suspicious, "{:?}", symbols(&r));
    assert!(find(&r, "UNSCANNABLE").is_none(), "{:?}", symbols(&r));
}

/// Past the inflate limit the rest is not read, and the item says so.
#[test]
fn over_the_inflate_limit_is_incomplete_not_clean() {
    let doc = std::fs::read(corpus("office/calamine/date.xls")).expect("corpus");
    let z = padded_zip("report.xls", &doc, 40);
    let mut opts = ScanOptions::default();
    opts.limits.max_inflate_bytes = 16 << 20;
    let r = scan_bytes("report.zip", &z, &opts);
    let cut = find(&r, "UNSCANNABLE").expect("cut");
    assert!(cut.evidence.contains("limit"), "{}", cut.evidence);
    assert_ne!(r.verdict, Verdict::Clean);
}

/// A padded file given directly (a sparse file: 520 MiB of zeros that take no disk) is streamed
/// with its padding dropped: oletools' Excel 4 sample with Auto_Open becomes critical.
#[test]
fn padded_file_on_disk_is_streamed() {
    let doc = std::fs::read(corpus(
        "office/oletools/excel4-macros/excel4_sample_macro.xls",
    ))
    .expect("corpus");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("padded.xls");
    std::fs::write(&path, &doc).expect("write");
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    f.set_len((doc.len() + PAD_MIB * MIB) as u64)
        .expect("sparse");
    drop(f);
    let r = scan_file(&path, &ScanOptions::default()).remove(0);
    // The report names the file as it is on disk, padding included.
    assert_eq!(r.size, (doc.len() + PAD_MIB * MIB) as u64);
    let mut sha = <sha2::Sha256 as sha2::Digest>::new();
    sha2::Digest::update(&mut sha, &doc);
    let zeros = vec![0u8; MIB];
    for _ in 0..PAD_MIB {
        sha2::Digest::update(&mut sha, &zeros);
    }
    let want: String = sha2::Digest::finalize(sha)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(r.sha256, want);
    let inflated = find(&r, "INFLATED_FILE").expect("inflated");
    assert_eq!(
        inflated.severity,
        Severity::Critical,
        "{}",
        inflated.evidence
    );
    assert!(find(&r, "XLM_MACRO_SHEET").is_some(), "{:?}", symbols(&r));
    assert_eq!(r.verdict, Verdict::Malicious, "{:?}", symbols(&r));
}
