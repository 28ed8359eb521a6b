//! Fixtures in `testdata/iso/` were made with genisoimage 1.1.11 and xorriso 1.5.4 (see the README
//! there); the crafted images below are built bytewise following ECMA-119 and the signatures of
//! spec §2.9.

use super::*;
use std::io::Read as _;

const README: &[u8] = b"kensa test: invoice text\n";
const RUN_BAT: &[u8] = b"echo kensa fixture\r\n";
const NOTE: &[u8] = b"nested file in docs/deep\n";
const LNK: &[u8] = b"not a real shortcut, kensa fixture\n";
const HIDDEN: &[u8] = b"hidden payload text\n";
const PRIMARY_ONLY: &[u8] = b"only in the primary tree\n";

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/iso")
        .join(name);
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if name.ends_with(".gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        raw
    }
}

fn find<'a>(img: &'a DiskImage, path: &str) -> &'a ImageFile {
    let paths: Vec<&str> = img.files.iter().map(|f| f.path.as_str()).collect();
    img.files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} not in {paths:?}"))
}

fn paths(img: &DiskImage) -> Vec<&str> {
    let mut p: Vec<&str> = img.files.iter().map(|f| f.path.as_str()).collect();
    p.sort_unstable();
    p
}

/// Every file listed is there with its content, and complete.
fn assert_contents(data: &[u8], img: &DiskImage, expected: &[(&str, &[u8])]) {
    for (path, content) in expected {
        let f = find(img, path);
        assert_eq!(f.size, content.len() as u64, "{path}");
        assert!(!f.is_truncated(), "{path}");
        assert_eq!(file_bytes(data, f), *content, "{path}");
    }
}

#[test]
fn genisoimage_joliet_lists_long_unicode_names_and_hidden_flag() {
    let data = fixture("joliet-hidden.iso");
    let img = open(&data, 100).unwrap();
    assert_eq!(
        img.kind,
        ImageKind::Iso9660 {
            joliet: true,
            udf: false
        }
    );
    assert!(img.listed && !img.truncated, "{:?}", img.notes);
    assert_eq!(img.label.as_deref(), Some("KENSA_JOLIET"));
    assert_eq!(
        paths(&img),
        [
            "/PRIMARY_.TXT",
            "/docs/deep/note.txt",
            "/docs/run.bat",
            "/hidden.dll",
            "/readme.txt",
            "/請求書_2023.pdf.lnk",
        ]
    );
    assert_contents(
        &data,
        &img,
        &[
            ("/readme.txt", README),
            ("/docs/run.bat", RUN_BAT),
            ("/docs/deep/note.txt", NOTE),
            ("/請求書_2023.pdf.lnk", LNK),
            ("/hidden.dll", HIDDEN),
            ("/PRIMARY_.TXT", PRIMARY_ONLY),
        ],
    );
    let hidden: Vec<&str> = img
        .files
        .iter()
        .filter(|f| f.hidden)
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(hidden, ["/hidden.dll"]);
    // `-hide-joliet primary-only.txt`: only the primary tree reaches it, and that is said.
    assert_eq!(img.files.last().unwrap().path, "/PRIMARY_.TXT");
    assert!(
        img.notes
            .iter()
            .any(|n| n == "/PRIMARY_.TXT is only in the primary tree"),
        "{:?}",
        img.notes
    );
    assert_eq!(detect(&data), Some(img.kind));
}

#[test]
fn genisoimage_plain_lists_primary_names_without_version() {
    let data = fixture("plain.iso");
    let img = open(&data, 100).unwrap();
    assert_eq!(
        img.kind,
        ImageKind::Iso9660 {
            joliet: false,
            udf: false
        }
    );
    assert!(img.listed && !img.truncated, "{:?}", img.notes);
    assert_eq!(img.label.as_deref(), Some("KENSA_PLAIN"));
    assert_eq!(
        paths(&img),
        [
            "/DOCS/DEEP/NOTE.TXT",
            "/DOCS/RUN.BAT",
            "/HIDDEN.DLL",
            "/PRIMARY_.TXT",
            "/README.TXT",
            "/________.LNK",
        ]
    );
    assert_contents(
        &data,
        &img,
        &[
            ("/README.TXT", README),
            ("/DOCS/RUN.BAT", RUN_BAT),
            ("/DOCS/DEEP/NOTE.TXT", NOTE),
            ("/________.LNK", LNK),
            ("/HIDDEN.DLL", HIDDEN),
        ],
    );
    assert!(img.files.iter().all(|f| !f.hidden));
    assert!(img.notes.is_empty(), "{:?}", img.notes);
}

#[test]
fn xorriso_joliet_multi_sector_directory_and_file() {
    let data = fixture("xorriso-joliet.iso");
    let img = open(&data, 1000).unwrap();
    assert_eq!(
        img.kind,
        ImageKind::Iso9660 {
            joliet: true,
            udf: false
        }
    );
    assert!(img.listed && !img.truncated, "{:?}", img.notes);
    assert_eq!(img.label.as_deref(), Some("KENSA_XORRISO"));
    // 6 files + 50 empty ones in /many, whose Joliet directory spans three sectors. The primary
    // tree (with Rock Ridge) has the same files: nothing is added from it.
    assert_eq!(img.files.len(), 56, "{:?}", paths(&img));
    assert!(img.notes.is_empty(), "{:?}", img.notes);
    let many: Vec<&ImageFile> = img
        .files
        .iter()
        .filter(|f| f.path.starts_with("/many/"))
        .collect();
    assert_eq!(many.len(), 50);
    for (i, f) in many.iter().enumerate() {
        let name = format!("/many/empty_entry_number_{:02}_with_a_long_name.txt", i + 1);
        assert_eq!(f.path, name);
        assert_eq!((f.size, file_bytes(&data, f)), (0, &[][..]));
    }
    let big: String = (0..120)
        .map(|i| format!("line {i:04} of a multi-sector kensa fixture\n"))
        .collect();
    assert_contents(
        &data,
        &img,
        &[
            ("/big.txt", big.as_bytes()),
            ("/readme.txt", README),
            ("/docs/run.bat", RUN_BAT),
            ("/docs/deep/note.txt", NOTE),
            ("/請求書_2023.pdf.lnk", LNK),
            ("/hidden.dll", HIDDEN),
        ],
    );
}

#[test]
fn udf_bridge_image_is_listed_through_joliet_and_says_udf() {
    let data = fixture("joliet-udf.iso.gz");
    let kind = ImageKind::Iso9660 {
        joliet: true,
        udf: true,
    };
    assert_eq!(detect(&data), Some(kind));
    let img = open(&data, 100).unwrap();
    assert_eq!(img.kind, kind);
    assert!(img.listed);
    assert!(
        img.notes[0].starts_with("UDF descriptors present"),
        "{:?}",
        img.notes
    );
    assert_eq!(img.files.len(), 6, "{:?}", paths(&img));
    assert!(img.files.iter().all(|f| !f.hidden));
    assert_contents(
        &data,
        &img,
        &[
            ("/readme.txt", README),
            ("/docs/run.bat", RUN_BAT),
            ("/docs/deep/note.txt", NOTE),
            ("/請求書_2023.pdf.lnk", LNK),
            ("/hidden.dll", HIDDEN),
            ("/primary-only.txt", PRIMARY_ONLY),
        ],
    );
}

#[test]
fn without_joliet_escape_the_primary_tree_is_listed() {
    let mut data = fixture("joliet-hidden.iso");
    // The supplementary descriptor is sector 17; its escape `%/E` becomes `%/X`.
    let esc = 17 * SECTOR + 88;
    assert_eq!(&data[esc..esc + 3], b"%/E");
    data[esc + 2] = b'X';
    let img = open(&data, 100).unwrap();
    assert_eq!(
        img.kind,
        ImageKind::Iso9660 {
            joliet: false,
            udf: false
        }
    );
    assert!(paths(&img).contains(&"/________.LNK"));
    assert!(!paths(&img).contains(&"/請求書_2023.pdf.lnk"));
}

#[test]
fn unusable_joliet_root_falls_back_to_primary() {
    let mut data = fixture("joliet-hidden.iso");
    // Joliet root record flags (descriptor 17, root record at 156, flags at +25): not a directory.
    data[17 * SECTOR + 156 + 25] = 0;
    let img = open(&data, 100).unwrap();
    assert!(matches!(img.kind, ImageKind::Iso9660 { joliet: false, .. }));
    assert!(
        img.notes[0].starts_with("Joliet tree unusable"),
        "{:?}",
        img.notes
    );
    assert_eq!(img.files.len(), 6);
}

#[test]
fn truncated_image_lists_what_is_there() {
    let data = fixture("joliet-hidden.iso");
    let full = open(&data, 100).unwrap();
    let readme = find(&full, "/readme.txt");
    // Cut 5 bytes into readme.txt: it is listed with those 5 bytes; files after it have none.
    let cut = usize::try_from(readme.offset).unwrap() + 5;
    let short = &data[..cut];
    let img = open(short, 100).unwrap();
    let f = find(&img, "/readme.txt");
    assert_eq!((f.size, f.readable), (25, 5));
    assert!(f.is_truncated());
    assert_eq!(file_bytes(short, f), b"kensa");
    assert!(
        img.notes
            .iter()
            .any(|n| n.contains("/readme.txt runs past"))
    );
    let lnk = find(&img, "/請求書_2023.pdf.lnk");
    assert!(lnk.offset > cut as u64 && lnk.readable == 0);
    assert_eq!(file_bytes(short, lnk), b"");

    // Cut inside the Joliet /docs directory: root files listed, the listing marked truncated.
    let docs_dir = 32 * SECTOR + 100;
    let img = open(&data[..docs_dir], 100).unwrap();
    assert!(img.truncated);
    assert!(paths(&img).contains(&"/hidden.dll"));
    assert!(!paths(&img).contains(&"/docs/deep/note.txt"));

    // Before the root directory: an error naming the root record.
    let err = open(&data[..20 * SECTOR], 100).unwrap_err();
    assert!(matches!(err, IsoError::RootPastEnd { .. }), "{err}");
    // Before the descriptors: not recognised at all.
    assert_eq!(
        open(&data[..FIRST_DESCRIPTOR + 3], 100),
        Err(IsoError::NotDiskImage)
    );
    for len in (0..data.len()).step_by(97) {
        if let Ok(img) = open(&data[..len], 100) {
            assert!(img.files.iter().all(|f| f.readable <= f.size));
        }
    }
}

#[test]
fn file_cap_marks_listing_truncated() {
    let data = fixture("xorriso-joliet.iso");
    let img = open(&data, 10).unwrap();
    assert_eq!(img.files.len(), 10);
    assert!(img.truncated);
    assert_eq!(img.notes, ["more than 10 files"]);
    // Six files (five Joliet + one primary-only): a cap of six is not hit, five is.
    let data = fixture("joliet-hidden.iso");
    let img = open(&data, 6).unwrap();
    assert_eq!((img.files.len(), img.truncated), (6, false));
    let img = open(&data, 5).unwrap();
    assert_eq!((img.files.len(), img.truncated), (5, true));
    // Here the Joliet tree holds five: the primary walk is the one that hits the cap.
    let cap_notes = img
        .notes
        .iter()
        .filter(|n| n.ends_with("more than 5 files"));
    assert_eq!(cap_notes.count(), 1, "{:?}", img.notes);
}

// ---------------------------------------------------------------------------------------------
// Crafted images (ECMA-119, bytewise)

/// A directory record: extent LBA and size both-endian, flags at 25, name at 33, even length.
fn record(lba: u32, size: u32, flags: u8, name: &[u8]) -> Vec<u8> {
    let len = (33 + name.len()).next_multiple_of(2);
    let mut r = vec![0u8; len];
    r[0] = len as u8;
    r[2..6].copy_from_slice(&lba.to_le_bytes());
    r[6..10].copy_from_slice(&lba.to_be_bytes());
    r[10..14].copy_from_slice(&size.to_le_bytes());
    r[14..18].copy_from_slice(&size.to_be_bytes());
    r[25] = flags;
    r[28] = 1; // volume sequence number
    r[32] = name.len() as u8;
    r[33..33 + name.len()].copy_from_slice(name);
    r
}

fn dir(lba: u32, name: &[u8]) -> Vec<u8> {
    record(lba, SECTOR as u32, FLAG_DIRECTORY, name)
}

/// An image of `sectors` sectors: PVD at 16 with the root at LBA 18, terminator at 17, and
/// `dirs` = (LBA, records) each written from the start of its sector.
fn crafted(sectors: usize, dirs: &[(usize, Vec<Vec<u8>>)]) -> Vec<u8> {
    let mut d = vec![0u8; sectors * SECTOR];
    let pvd = 16 * SECTOR;
    d[pvd] = 1;
    d[pvd + 1..pvd + 7].copy_from_slice(b"CD001\x01");
    d[pvd + 40..pvd + 72].fill(b' ');
    d[pvd + 128..pvd + 130].copy_from_slice(&2048u16.to_le_bytes());
    d[pvd + 156..pvd + 190].copy_from_slice(&dir(18, b"\0"));
    d[17 * SECTOR] = 255;
    d[17 * SECTOR + 1..17 * SECTOR + 7].copy_from_slice(b"CD001\x01");
    for (lba, records) in dirs {
        let mut at = lba * SECTOR;
        for r in records {
            d[at..at + r.len()].copy_from_slice(r);
            at += r.len();
        }
    }
    d
}

#[test]
fn crafted_directory_loop_terminates() {
    let root = vec![
        dir(18, b"\0"),
        dir(18, b"\x01"),
        dir(19, b"SUB"),
        record(20, 5, 0, b"A.TXT;1"),
    ];
    let sub = vec![
        dir(19, b"\0"),
        dir(18, b"\x01"),
        dir(18, b"LOOP"), // back to the root
        dir(19, b"SELF"), // itself
        record(20, 5, FLAG_HIDDEN, b"B.TXT;1"),
    ];
    let mut data = crafted(21, &[(18, root), (19, sub)]);
    data[20 * SECTOR..20 * SECTOR + 5].copy_from_slice(b"hello");
    let img = open(&data, 100).unwrap();
    assert_eq!(paths(&img), ["/A.TXT", "/SUB/B.TXT"]);
    assert!(find(&img, "/SUB/B.TXT").hidden);
    assert_eq!(file_bytes(&data, find(&img, "/A.TXT")), b"hello");
    let loops = img.notes.iter().filter(|n| n.contains("(loop)")).count();
    assert_eq!(loops, 2, "{:?}", img.notes);
    assert!(!img.truncated);
}

#[test]
fn crafted_deep_chain_stops_at_depth_cap() {
    // LBA 18 + k holds directory D<k> pointing to LBA 19 + k, 60 levels.
    let dirs: Vec<(usize, Vec<Vec<u8>>)> = (0..60)
        .map(|k| (18 + k, vec![dir(19 + k as u32, format!("D{k}").as_bytes())]))
        .collect();
    let data = crafted(80, &dirs);
    let img = open(&data, 100).unwrap();
    assert!(img.truncated);
    assert!(img.files.is_empty());
    assert!(
        img.notes.iter().any(|n| n.contains("deeper than 32")),
        "{:?}",
        img.notes
    );
}

#[test]
fn crafted_records_skip_sector_padding_and_bad_records() {
    // Root of two sectors. Sector 18: "." and eight 250-byte file records (a long system-use
    // area) fill 2,034 bytes; the next record would cross the sector end, so the rest of the
    // sector is skipped. Sector 19: TWO, then a record whose name is longer than itself.
    let padded = |k: usize| {
        let mut r = record(21, 3, 0, format!("P{k}").as_bytes());
        r.resize(250, 0);
        r[0] = 250;
        r
    };
    let mut first = vec![dir(18, b"\0")];
    first.extend((0..8).map(padded));
    first.push(record(21, 3, 0, b"CROSS.TXT;1"));
    let mut bad = record(21, 3, 0, b"BAD");
    bad[32] = 200;
    let second = vec![record(21, 3, 0, b"TWO.TXT;1"), bad];
    let mut data = crafted(22, &[(18, first), (19, second)]);
    // The CROSS record as written ran into sector 19; put TWO back over it.
    let two = record(21, 3, 0, b"TWO.TXT;1");
    data[19 * SECTOR..19 * SECTOR + two.len()].copy_from_slice(&two);
    assert_eq!(data[18 * SECTOR + 2034], 44);
    let pvd_root = 16 * SECTOR + 156;
    let root = record(18, 2 * SECTOR as u32, FLAG_DIRECTORY, b"\0");
    data[pvd_root..pvd_root + 34].copy_from_slice(&root);
    let img = open(&data, 100).unwrap();
    let mut expected: Vec<String> = (0..8).map(|k| format!("/P{k}")).collect();
    expected.push("/TWO.TXT".into());
    assert_eq!(paths(&img), expected);
    let bad_notes = img
        .notes
        .iter()
        .filter(|n| n.starts_with("bad directory record"));
    assert_eq!(bad_notes.count(), 2, "{:?}", img.notes);
    assert!(!img.truncated);
}

#[test]
fn crafted_multi_extent_files() {
    // BIG: two contiguous extents (LBA 20, 2048 bytes; LBA 21, 100 bytes) → one file.
    // SPLIT: extents at LBA 23 and LBA 20 → listed with the first run only.
    let root = vec![
        dir(18, b"\0"),
        record(20, 2048, FLAG_MULTI_EXTENT, b"BIG;1"),
        record(21, 100, 0, b"BIG;1"),
        record(23, 2048, FLAG_MULTI_EXTENT, b"SPLIT;1"),
        record(20, 10, 0, b"SPLIT;1"),
        record(22, 4, 0, b"NOEXT.;1"),
    ];
    let mut data = crafted(24, &[(18, root)]);
    data[20 * SECTOR..22 * SECTOR].fill(b'b');
    data[23 * SECTOR..24 * SECTOR].fill(b's');
    let img = open(&data, 100).unwrap();
    assert_eq!(paths(&img), ["/BIG", "/NOEXT", "/SPLIT"]);
    let big = find(&img, "/BIG");
    assert_eq!((big.size, big.readable), (2148, 2148));
    assert_eq!(
        file_bytes(&data, big),
        &data[20 * SECTOR..20 * SECTOR + 2148]
    );
    let split = find(&img, "/SPLIT");
    assert_eq!((split.size, split.readable), (2058, 2048));
    assert!(split.is_truncated());
    assert!(
        img.notes
            .iter()
            .any(|n| n.starts_with("/SPLIT: extents are not contiguous"))
    );
}

#[test]
fn crafted_bad_descriptors_are_errors() {
    let mut data = crafted(19, &[(18, vec![dir(18, b"\0")])]);
    data[16 * SECTOR + 128..16 * SECTOR + 130].copy_from_slice(&4096u16.to_le_bytes());
    assert_eq!(
        open(&data, 10),
        Err(IsoError::BlockSize {
            offset: 16 * SECTOR + 128,
            value: 4096
        })
    );
    // Only a terminator: CD001 but no volume.
    let mut data = crafted(19, &[]);
    data[16 * SECTOR] = 3;
    assert_eq!(
        open(&data, 10),
        Err(IsoError::NoVolume {
            offset: FIRST_DESCRIPTOR
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Detection only (signatures of spec §2.9, bytewise)

fn vrs(ids: &[&[u8; 5]], stride: usize) -> Vec<u8> {
    let mut d = vec![0u8; FIRST_DESCRIPTOR + (ids.len() + 1) * stride];
    for (i, id) in ids.iter().enumerate() {
        let at = FIRST_DESCRIPTOR + i * stride;
        d[at + 1..at + 6].copy_from_slice(*id);
        d[at + 6] = 1;
    }
    d
}

fn assert_unlisted(data: &[u8], kind: ImageKind) {
    assert_eq!(detect(data), Some(kind));
    let img = open(data, 10).unwrap();
    assert_eq!(img.kind, kind);
    assert!(!img.listed && img.files.is_empty());
    assert!(img.notes[0].contains("files not listed"), "{:?}", img.notes);
}

#[test]
fn udf_only_images_are_recognised_not_listed() {
    assert_unlisted(
        &vrs(&[b"BEA01", b"NSR02", b"TEA01"], SECTOR),
        ImageKind::Udf,
    );
    assert_unlisted(
        &vrs(&[b"BEA01", b"NSR03", b"TEA01"], SECTOR),
        ImageKind::Udf,
    );
    assert_unlisted(&vrs(&[b"BEA01", b"NSR03", b"TEA01"], 4096), ImageKind::Udf);
    assert_eq!(detect(&vrs(&[b"XYZ01"], SECTOR)), None);
}

fn boot_sector(at: usize, label: &[u8]) -> Vec<u8> {
    let mut d = vec![0u8; 1024];
    d[0..3].copy_from_slice(&[0xEB, 0x3C, 0x90]);
    d[at..at + label.len()].copy_from_slice(label);
    d[510] = 0x55;
    d[511] = 0xAA;
    d
}

#[test]
fn fat_and_ntfs_boot_sectors_are_recognised() {
    assert_unlisted(&boot_sector(0x36, b"FAT12   "), ImageKind::Fat);
    assert_unlisted(&boot_sector(0x36, b"FAT16   "), ImageKind::Fat);
    assert_unlisted(&boot_sector(0x52, b"FAT32   "), ImageKind::Fat);
    assert_unlisted(&boot_sector(3, b"NTFS    "), ImageKind::Ntfs);
    // The label without the 0x55AA signature, or the signature alone, is not an image.
    let mut no_sig = boot_sector(0x36, b"FAT12   ");
    no_sig[510] = 0;
    assert_eq!(detect(&no_sig), None);
    assert_eq!(detect(&boot_sector(0x100, b"FAT12")), None);
}

#[test]
fn vhd_and_vhdx_are_recognised() {
    // Fixed VHD: raw disk then a 512-byte footer, disk type 2 (big-endian) at footer+60.
    let mut fixed = vec![0u8; 4096 + 512];
    fixed[4096..4104].copy_from_slice(b"conectix");
    fixed[4096 + 60..4096 + 64].copy_from_slice(&2u32.to_be_bytes());
    assert_unlisted(&fixed, ImageKind::Vhd);
    assert_eq!(open(&fixed, 1).unwrap().notes[1], "VHD disk type: fixed");
    // Dynamic VHD: a copy of the footer at 0.
    let mut dynamic = vec![0u8; 2048];
    dynamic[..8].copy_from_slice(b"conectix");
    dynamic[60..64].copy_from_slice(&3u32.to_be_bytes());
    assert_unlisted(&dynamic, ImageKind::Vhd);
    let mut vhdx = b"vhdxfile".to_vec();
    vhdx.resize(4096, 0);
    assert_unlisted(&vhdx, ImageKind::Vhdx);
    assert_eq!(detect(b"conectix"), Some(ImageKind::Vhd));
    assert_eq!(detect(b"conecti"), None);
}

#[test]
fn other_bytes_are_not_disk_images() {
    assert_eq!(detect(b""), None);
    assert_eq!(open(b"", 10), Err(IsoError::NotDiskImage));
    assert_eq!(open(&vec![0u8; 40_000], 10), Err(IsoError::NotDiskImage));
    assert_eq!(detect(b"PK\x03\x04 not an image"), None);
}

// ---------------------------------------------------------------------------------------------
// Robustness

/// 3,000 deterministic mutations of the four fixtures (KENSA_FUZZ_ROUNDS for more).
#[test]
fn mutated_images_never_panic_and_stay_bounded() {
    let bases = [
        fixture("joliet-hidden.iso"),
        fixture("plain.iso"),
        fixture("xorriso-joliet.iso"),
        fixture("joliet-udf.iso.gz"),
    ];
    let mut state = 0x4B45_4E53_4149_534Fu64;
    let mut rng = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    let max_files = 40;
    let mut listed = 0;
    let rounds: usize = std::env::var("KENSA_FUZZ_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3000);
    for round in 0..rounds {
        let mut d = bases[round % bases.len()].clone();
        for _ in 0..=rng(4) {
            let len = d.len();
            // Descriptor fields, a root record, a directory sector, or anywhere.
            let desc = FIRST_DESCRIPTOR + SECTOR * rng(3);
            let at = [
                desc + 128,
                desc + 156 + 2,
                desc + 156 + 10,
                desc + 156 + 25,
                (18 + rng(30)) * SECTOR + rng(SECTOR),
                rng(len),
            ][rng(6)];
            let huge = [u32::MAX, 0x7FFF_FFFF, 0x8000, 18, 19, 31, 0][rng(7)];
            match rng(5) {
                0 => d.truncate(rng(len + 1)),
                1 => (0..=rng(16)).for_each(|_| {
                    let i = rng(len);
                    if let Some(b) = d.get_mut(i) {
                        *b ^= 1 << (i % 8);
                    }
                }),
                2 | 3 => {
                    for (k, b) in huge.to_le_bytes().into_iter().enumerate() {
                        if let Some(x) = d.get_mut(at + k) {
                            *x = b;
                        }
                    }
                }
                _ => {
                    if let Some(x) = d.get_mut(at) {
                        *x = rng(256) as u8;
                    }
                }
            }
        }
        let _ = detect(&d);
        if let Ok(img) = open(&d, max_files) {
            listed += usize::from(!img.files.is_empty());
            assert!(img.files.len() <= max_files);
            assert!(img.notes.len() <= MAX_NOTES + 3);
            for f in &img.files {
                assert!(f.readable <= f.size);
                assert_eq!(file_bytes(&d, f).len() as u64, f.readable);
                assert!(f.path.len() <= MAX_PATH_BYTES + 1024);
            }
        }
    }
    // Most mutations leave a listable image: the walk itself was exercised.
    assert!(listed * 2 > rounds, "{listed} of {rounds}");
}
