//! Hive reader tests: the regipy corpus (values from host.md §7), synthetic hives built cell by
//! cell for the hostile cases, and a mutation run over real hives.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use super::*;
use crate::registry::{REG_BINARY, REG_DWORD, REG_EXPAND_SZ, REG_SZ};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/host/regipy/"
);

/// A corpus hive, xz-decompressed once per test binary.
pub(super) fn corpus(name: &'static str) -> &'static [u8] {
    static CACHE: OnceLock<Mutex<HashMap<&'static str, &'static [u8]>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = cache.lock().expect("cache lock");
    map.entry(name).or_insert_with(|| {
        let path = format!("{CORPUS}{name}.xz");
        let xz = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut out = Vec::new();
        lzma_rs::xz_decompress(&mut &xz[..], &mut out).expect("xz");
        Box::leak(out.into_boxed_slice())
    })
}

fn run_key<'a>(h: &Hive<'a>) -> Key<'a> {
    h.open(r"Software\Microsoft\Windows\CurrentVersion\Run")
        .expect("open Run")
        .expect("Run exists")
}

#[test]
fn ntuser_run_key_and_base_block() {
    let h = Hive::parse(corpus("NTUSER.DAT")).unwrap();
    let b = h.base();
    assert_eq!((b.primary_seq, b.secondary_seq), (749, 749));
    assert!(!h.is_dirty());
    assert!(b.checksum_valid);
    assert_eq!(
        (b.major, b.minor, b.file_type, b.root_cell),
        (1, 3, 0, 0x20)
    );
    assert_eq!(b.bins_size, 733_184);
    assert!(b.file_name.ends_with(r"ntuser.dat"), "{}", b.file_name);
    let run = run_key(&h);
    assert_eq!(run.name(), "Run");
    assert_eq!(run.last_written(), 129_779_615_948_377_168);
    let values = run.values().unwrap();
    assert_eq!(values.len(), 1);
    assert_eq!(values[0].name, "Sidebar");
    assert_eq!(values[0].kind, REG_EXPAND_SZ);
    let want = r"%ProgramFiles%\Windows Sidebar\Sidebar.exe /autoRun";
    assert_eq!(values[0].text().as_deref(), Some(want));
    // Names compare case-insensitively, for keys and values.
    let again = h
        .open(r"SOFTWARE\microsoft\WINDOWS\currentversion\rUN")
        .unwrap()
        .unwrap();
    assert_eq!(again.offset(), run.offset());
    assert_eq!(run.value("SIDEBAR").unwrap(), Some(values[0].clone()));
    assert_eq!(run.value("nope").unwrap(), None);
    assert!(h.open(r"Software\NoSuchKey\Run").unwrap().is_none());
    assert_eq!(h.open("").unwrap().unwrap().offset(), 0x20);
    assert!(run.subkeys().unwrap().is_empty());
}

#[test]
fn ntuser_modified_adds_value_and_key() {
    let h = Hive::parse(corpus("NTUSER_modified.DAT")).unwrap();
    let run = run_key(&h);
    let v = run.value("not_a_malware").unwrap().expect("value");
    assert_eq!(v.kind, REG_SZ);
    assert_eq!(v.text().as_deref(), Some(r"c:\temp\legitimate_binary.exe"));
    // 2019-02-11T19:45:25.516345Z, to the microsecond.
    assert_eq!(run.last_written() / 10, 13_194_387_925_516_345);
    assert!(
        h.open(r"Software\Microsoft\legitimate_subkey")
            .unwrap()
            .is_some()
    );
    assert!(
        Hive::parse(corpus("NTUSER.DAT"))
            .unwrap()
            .open(r"Software\Microsoft\legitimate_subkey")
            .unwrap()
            .is_none()
    );
}

#[test]
fn transactions_ntuser_is_dirty_and_has_utf16_key() {
    let h = Hive::parse(corpus("transactions_NTUSER.DAT")).unwrap();
    assert_eq!((h.base().primary_seq, h.base().secondary_seq), (567, 566));
    assert!(h.is_dirty());
    let v = run_key(&h).value("OneDrive").unwrap().expect("OneDrive");
    assert_eq!(v.kind, REG_SZ);
    let want = r#""C:\Users\tony\AppData\Local\Microsoft\OneDrive\OneDrive.exe" /background"#;
    assert_eq!(v.text().as_deref(), Some(want));
    let intl = h.open(r"Control Panel\International").unwrap().unwrap();
    let names: Vec<String> = intl.subkeys().unwrap().iter().map(Key::name).collect();
    assert!(names.iter().any(|n| n == "🌎🌏🌍"), "{names:?}");
    assert!(
        h.open("Control Panel\\International\\🌎🌏🌍")
            .unwrap()
            .is_some()
    );
}

#[test]
fn system_services() {
    let h = Hive::parse(corpus("SYSTEM")).unwrap();
    let current = h.open("Select").unwrap().unwrap().value("Current").unwrap();
    let current = current.expect("Current");
    assert_eq!(current.kind, REG_DWORD);
    assert_eq!(current.dword(), Some(1));
    let s1 = h
        .open(r"ControlSet001\Services")
        .unwrap()
        .unwrap()
        .subkeys();
    let s1 = s1.unwrap();
    let s2 = h
        .open(r"ControlSet002\Services")
        .unwrap()
        .unwrap()
        .subkeys();
    assert_eq!((s1.len(), s2.unwrap().len()), (467, 466));
    let digits: Vec<String> = s1
        .iter()
        .map(Key::name)
        .filter(|n| n.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(digits, ["1394ohci"]);
    let ohci = h.open(r"ControlSet001\Services\1394ohci").unwrap().unwrap();
    let image = ohci.value("ImagePath").unwrap().expect("ImagePath");
    assert!(
        image
            .text()
            .unwrap()
            .to_ascii_lowercase()
            .contains("1394ohci.sys")
    );
}

/// Walk counts (keys with the root, values); regipy 6.5.0's `recurse_subkeys` counts the same.
#[test]
fn corpus_walk_counts() {
    let cases: [(&str, usize, usize); 6] = [
        ("NTUSER.DAT", 1_812, 4_094),
        ("NTUSER_modified.DAT", 1_808, 4_090),
        ("transactions_NTUSER.DAT", 2_590, 4_119),
        ("SYSTEM", 30_756, 73_456),
        ("SAM", 65, 70),
        ("UsrClass.dat", 6_205, 12_369),
    ];
    for (name, keys, values) in cases {
        let h = Hive::parse(corpus(name)).unwrap();
        let s = walk(&h, usize::MAX);
        assert!(s.problems.is_empty(), "{name}: {:?}", s.problems);
        assert!(!s.truncated);
        assert_eq!((s.keys, s.values), (keys, values), "{name}");
    }
}

fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Big data (db) values of SYSTEM (hive 1.5): length and FNV-1a as regipy 6.5.0 reads them.
#[test]
fn system_big_data_values() {
    let h = Hive::parse(corpus("SYSTEM")).unwrap();
    let cases = [
        (
            r"Control\Session Manager\AppCompatCache",
            "AppCompatCache",
            56_256,
            0x579e_553b_51c4_1deb,
        ),
        (
            r"Control\ProductOptions",
            "ProductPolicy",
            21_428,
            0xc614_1faf_a4a8_d5d8,
        ),
        (
            r"services\rdyboost\Parameters",
            "BootPlan",
            187_028,
            0x62a1_b6b6_9d1e_cde9,
        ),
    ];
    for (path, name, len, hash) in cases {
        let key = h.open(&format!(r"ControlSet001\{path}")).unwrap().unwrap();
        let v = key.value(name).unwrap().unwrap();
        assert_eq!(v.kind, REG_BINARY);
        assert_eq!((v.data.len(), fnv1a(&v.data)), (len, hash), "{name}");
    }
}

#[test]
fn walk_budget_truncates() {
    let h = Hive::parse(corpus("NTUSER.DAT")).unwrap();
    let s = walk(&h, 100);
    assert_eq!(s.keys, 100);
    assert!(s.truncated);
}

#[test]
fn corrupted_system_hive_gives_partial_results() {
    let h = Hive::parse(corpus("corrupted_system_hive")).unwrap();
    let s = walk(&h, usize::MAX);
    // regipy stops at the first bad subkey (260 keys); kensa goes on past each damaged cell.
    assert_eq!((s.keys, s.values, s.problems.len()), (1_687, 5_625, 174));
    assert!(!s.truncated);
    for p in &s.problems {
        let text = p.to_string();
        assert!(text.contains("offset 0x"), "{text}");
    }
    // Opening paths works where the cells are intact and says what is wrong where they are not.
    let current = h.open("Select").unwrap().unwrap().value("Current").unwrap();
    assert_eq!(current.and_then(|v| v.dword()), Some(1));
    let cn = h.open(r"ControlSet001\Control\ComputerName\ComputerName");
    let cn = cn.unwrap().unwrap().value("ComputerName").unwrap().unwrap();
    assert_eq!(cn.text().as_deref(), Some("GINEVRA"));
    let services = h.open(r"ControlSet001\Services").unwrap().unwrap();
    assert!(services.subkeys().is_err());
    let (readable, problems) = services.subkeys_partial();
    assert_eq!((readable.len(), problems.len()), (198, 60));
    let tcpip = h
        .open(r"ControlSet001\Services\Tcpip\Parameters")
        .unwrap()
        .unwrap();
    assert_eq!(tcpip.values().unwrap().len(), 15);
    assert!(h.open(r"ControlSet001\Services\NoSuchService").is_err());
    assert!(h.open(r"ControlSet002\Services").unwrap().is_none());
}

// ---------------------------------------------------------------------------------------------
// Synthetic hives, built cell by cell.

/// Builds a one-bin hive: cells are appended and their offsets returned.
struct Builder {
    bins: Vec<u8>,
}

impl Builder {
    fn new() -> Self {
        let mut bins = b"hbin".to_vec();
        bins.resize(32, 0);
        Builder { bins }
    }

    /// Appends an allocated cell holding `data` and returns its offset.
    fn cell(&mut self, data: &[u8]) -> u32 {
        let at = self.bins.len() as u32;
        let size = (4 + data.len()).div_ceil(8) * 8;
        self.bins.extend((-(size as i32)).to_le_bytes());
        self.bins.extend(data);
        self.bins.resize(at as usize + size, 0);
        at
    }

    /// Overwrites bytes at cell offset `at`.
    fn patch(&mut self, at: u32, bytes: &[u8]) {
        self.bins[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
    }

    /// The offset the next cell will get.
    fn next(&self) -> u32 {
        self.bins.len() as u32
    }

    fn finish(mut self, root: u32, minor: u32) -> Vec<u8> {
        let len = self.bins.len().div_ceil(4096) * 4096;
        self.bins.resize(len, 0);
        self.bins[8..12].copy_from_slice(&(len as u32).to_le_bytes());
        let mut file = vec![0u8; BASE_BLOCK_LEN];
        file[..4].copy_from_slice(b"regf");
        for (at, v) in [(4, 1), (8, 1), (20, 1), (24, minor), (32, 1), (36, root)] {
            file[at..at + 4].copy_from_slice(&v.to_le_bytes());
        }
        file[40..44].copy_from_slice(&(len as u32).to_le_bytes());
        let c = checksum(&file).unwrap();
        file[508..512].copy_from_slice(&c.to_le_bytes());
        file.extend(self.bins);
        file
    }
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// An nk record; a name with only Latin-1 characters is stored compressed.
fn nk(name: &str, subkeys: (u32, u32), values: (u32, u32)) -> Vec<u8> {
    let latin1 = name.chars().all(|c| (c as u32) < 256);
    let raw: Vec<u8> = if latin1 {
        name.chars().map(|c| c as u8).collect()
    } else {
        utf16(name)
    };
    let mut r = vec![0u8; 76];
    r[..2].copy_from_slice(b"nk");
    r[2..4].copy_from_slice(&(if latin1 { 0x20u16 } else { 0 }).to_le_bytes());
    r[4..12].copy_from_slice(&0x01d0_0000_0000_0000u64.to_le_bytes());
    r[20..24].copy_from_slice(&subkeys.0.to_le_bytes());
    r[28..32].copy_from_slice(&subkeys.1.to_le_bytes());
    r[36..40].copy_from_slice(&values.0.to_le_bytes());
    r[40..44].copy_from_slice(&values.1.to_le_bytes());
    r[72..74].copy_from_slice(&(raw.len() as u16).to_le_bytes());
    r.extend(raw);
    r
}

fn vk(name: &str, size_raw: u32, data_at: u32, kind: u32) -> Vec<u8> {
    let mut r = vec![0u8; 20];
    r[..2].copy_from_slice(b"vk");
    r[2..4].copy_from_slice(&(name.len() as u16).to_le_bytes());
    r[4..8].copy_from_slice(&size_raw.to_le_bytes());
    r[8..12].copy_from_slice(&data_at.to_le_bytes());
    r[12..16].copy_from_slice(&kind.to_le_bytes());
    r[16..18].copy_from_slice(&1u16.to_le_bytes());
    r.extend(name.as_bytes());
    r
}

/// A subkey list (`li`, `lf`, `lh` or `ri`) of `offsets`.
fn list(sig: &[u8; 2], offsets: &[u32]) -> Vec<u8> {
    let mut r = sig.to_vec();
    r.extend((offsets.len() as u16).to_le_bytes());
    for o in offsets {
        r.extend(o.to_le_bytes());
        if sig == b"lf" || sig == b"lh" {
            r.extend([0u8; 4]);
        }
    }
    r
}

fn offsets(o: &[u32]) -> Vec<u8> {
    o.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn big_data_inline_data_and_utf16_names() {
    let mut b = Builder::new();
    let payload: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
    let segs: Vec<u32> = payload.chunks(16_344).map(|c| b.cell(c)).collect();
    let seg_list = b.cell(&offsets(&segs));
    let mut db = b"db".to_vec();
    db.extend((segs.len() as u16).to_le_bytes());
    db.extend(seg_list.to_le_bytes());
    let db_at = b.cell(&db);
    let big = b.cell(&vk("Big", 40_000, db_at, REG_BINARY));
    let dword = b.cell(&vk("Dw", 0x8000_0004, 0x0102_0304, REG_DWORD));
    let small = b.cell(&utf16("hi\0"));
    let sz = b.cell(&vk("", 6, small, REG_SZ));
    let vlist = b.cell(&offsets(&[big, dword, sz]));
    let child = b.cell(&nk("Ключ🌍", (0, NIL), (0, NIL)));
    let sub = b.cell(&list(b"lh", &[child]));
    let root = b.cell(&nk("ROOT", (1, sub), (3, vlist)));
    let file = b.finish(root, 5);
    let h = Hive::parse(&file).unwrap();
    let r = h.root().unwrap();
    assert_eq!(r.name(), "ROOT");
    let v = r.values().unwrap();
    assert_eq!(v.len(), 3);
    assert_eq!(v[0].data, payload);
    assert_eq!(v[1].dword(), Some(0x0102_0304));
    assert_eq!(r.value("").unwrap().unwrap().text().as_deref(), Some("hi"));
    assert_eq!(r.subkeys().unwrap()[0].name(), "Ключ🌍");
    assert!(h.open("ключ🌍").unwrap().is_some());
    let s = walk(&h, 10);
    assert_eq!((s.keys, s.values, s.problems.len()), (2, 3, 0));
}

const NIL: u32 = u32::MAX;

#[test]
fn cycles_are_reported_not_followed() {
    let mut b = Builder::new();
    // The root's list (an ri containing itself) names the root and a child whose list names the
    // root again.
    let root = b.cell(&nk("ROOT", (2, 0), (0, NIL)));
    let child = b.cell(&nk("Child", (1, 0), (0, NIL)));
    let child_list = b.cell(&list(b"li", &[root]));
    let root_leaf = b.cell(&list(b"lf", &[root, child]));
    let root_list = b.next();
    assert_eq!(b.cell(&list(b"ri", &[root_list, root_leaf])), root_list);
    b.patch(root + 4 + 28, &root_list.to_le_bytes());
    b.patch(child + 4 + 28, &child_list.to_le_bytes());
    let file = b.finish(root, 5);
    let h = Hive::parse(&file).unwrap();
    let s = walk(&h, 1_000);
    assert_eq!((s.keys, s.truncated), (2, false));
    let cycles = s
        .problems
        .iter()
        .filter(|p| matches!(p, HiveError::Cycle { .. }))
        .count();
    assert_eq!(cycles, 3, "{:?}", s.problems);
    assert!(h.root().unwrap().subkeys().is_err());
    assert_eq!(h.root().unwrap().subkeys_partial().0.len(), 2);
}

#[test]
fn deep_nesting_is_capped() {
    let mut b = Builder::new();
    // A chain of 600 keys, built leaf first.
    let mut below = b.cell(&nk("leaf", (0, NIL), (0, NIL)));
    for i in 0..600 {
        let l = b.cell(&list(b"li", &[below]));
        below = b.cell(&nk(&format!("k{i}"), (1, l), (0, NIL)));
    }
    let file = b.finish(below, 5);
    let h = Hive::parse(&file).unwrap();
    let s = walk(&h, usize::MAX);
    assert_eq!(s.keys, MAX_DEPTH);
    assert!(
        matches!(s.problems[..], [HiveError::TooDeep { .. }]),
        "{:?}",
        s.problems
    );
}

#[test]
fn corrupt_sibling_list_does_not_stop_the_walk() {
    let mut b = Builder::new();
    let g1 = b.cell(&nk("G1", (0, NIL), (0, NIL)));
    let g2 = b.cell(&nk("G2", (0, NIL), (0, NIL)));
    let good_list = b.cell(&list(b"lf", &[g1, g2]));
    let bad_list = b.cell(b"zz\x02\x00garbage!");
    let a = b.cell(&nk("A", (2, bad_list), (0, NIL)));
    let bb = b.cell(&nk("B", (2, good_list), (0, NIL)));
    let c = b.cell(&nk("C", (5, 0x7fff_fff0), (0, NIL)));
    let data = b.cell(b"abcd");
    let long = b.cell(&vk("long", 1_000, data, REG_BINARY));
    let dangling = b.cell(&vk("dangling", 8, 0x00ff_ff00, REG_BINARY));
    let vlist = b.cell(&offsets(&[long, dangling]));
    let root_list = b.cell(&list(b"li", &[a, bb, c]));
    let root = b.cell(&nk("R", (3, root_list), (5, vlist)));
    let file = b.finish(root, 5);
    let h = Hive::parse(&file).unwrap();
    let s = walk(&h, 100);
    assert_eq!(s.keys, 6, "{:?}", s.problems);
    assert_eq!(s.values, 2);
    let at = |cell: u32| u64::from(cell) + 4096;
    let p = &s.problems;
    assert!(p.contains(&HiveError::BadSignature {
        expected: "subkey list (li, lf, lh or ri)",
        offset: at(bad_list),
        found: b"zz".to_vec(),
    }));
    assert!(
        p.iter().any(
            |e| matches!(e, HiveError::OutOfBounds { offset, .. } if *offset == at(0x7fff_fff0))
        )
    );
    assert!(p.iter().any(
        |e| matches!(e, HiveError::Truncated { offset, need: 1000, .. } if *offset == at(data))
    ));
    assert!(p.iter().any(|e| matches!(
        e,
        HiveError::Truncated {
            what: "value list",
            ..
        }
    )));
    // The strict accessors say what is wrong; the lenient ones keep what could be read.
    let r = h.root().unwrap();
    assert!(r.values().is_err());
    let (vals, probs) = r.values_partial();
    assert_eq!(vals.len(), 2);
    assert_eq!(
        vals[0].data, b"abcd",
        "what the cell holds of the 1,000 declared bytes"
    );
    assert!(!probs.is_empty());
    assert!(h.open(r"B\G2").unwrap().is_some());
    assert!(
        h.open(r"A\G1").is_err(),
        "a damaged list is not 'no such key'"
    );
}

#[test]
fn not_a_hive() {
    assert!(matches!(
        Hive::parse(b"regf"),
        Err(HiveError::TooShort { len: 4 })
    ));
    let mut z = vec![0u8; 4096];
    assert!(matches!(Hive::parse(&z), Err(HiveError::NotAHive { .. })));
    z[..4].copy_from_slice(b"regf");
    let h = Hive::parse(&z).unwrap();
    assert!(h.root().is_err());
    let s = walk(&h, 10);
    assert_eq!(s.keys, 0);
    assert_eq!(s.problems.len(), 1);
    // A truncated hive reports the truncation and reads what is there.
    let full = corpus("NTUSER.DAT");
    let h = Hive::parse(&full[..300_000]).unwrap();
    let s = walk(&h, usize::MAX);
    assert!(matches!(
        s.problems[0],
        HiveError::TruncatedFile {
            declared: 733_184,
            ..
        }
    ));
    assert!(s.keys > 100 && s.keys < 1_812, "{}", s.keys);
}

// ---------------------------------------------------------------------------------------------
// Mutation robustness.

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutated copy of `src` (whose interesting part is its first `span` bytes).
fn mutate(rng: &mut XorShift, src: &[u8], span: usize) -> Vec<u8> {
    let mut m = src.to_vec();
    match rng.below(4) {
        0 => m.truncate(rng.below(src.len())),
        1 => {
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(span);
                m[at] ^= 1 << rng.below(8);
            }
        }
        _ => {
            let words: [u32; 8] = [
                0,
                u32::MAX,
                0x8000_0000,
                0x8000_0004,
                0x20,
                8,
                0xffff,
                0x7fff_fff8,
            ];
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(span / 4) * 4;
                let w = words[rng.below(words.len())];
                m[at..at + 4].copy_from_slice(&w.to_le_bytes());
            }
        }
    }
    m
}

/// Reads a mutated hive every way; `true` when the walk met a problem.
fn exercise(data: &[u8]) -> bool {
    let Ok(h) = Hive::parse(data) else {
        return false;
    };
    let s = walk(&h, 3_000);
    assert!(s.keys <= 3_000);
    assert!(s.values <= data.len() / 8);
    assert!(s.problems.len() <= MAX_PROBLEMS);
    if let Ok(Some(k)) = h.open(r"Software\Microsoft\Windows\CurrentVersion\Run") {
        for v in k.values_partial().0 {
            assert!(v.data.len() <= data.len());
        }
    }
    let _ = h.open(r"SAM\Domains\Account\Users");
    !s.problems.is_empty()
}

#[test]
fn mutated_hives_never_panic() {
    let started = Instant::now();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let sam = corpus("SAM");
    let ntuser = corpus("NTUSER.DAT");
    let sam = &sam[..4096 + 24_576];
    // NTUSER: the base block and the first 64 KiB of cells (the root and the Software path).
    let cases: [(&[u8], usize, usize); 2] = [(sam, sam.len(), 2_500), (ntuser, 4096 + 65_536, 400)];
    let (mut total, mut damaged) = (0, 0);
    for (src, span, rounds) in cases {
        for _ in 0..rounds {
            damaged += usize::from(exercise(&mutate(&mut rng, src, span)));
            total += 1;
        }
    }
    assert_eq!(total, 2_900);
    // The mutations do hit parsed structures (1,233 of 2,900 variants report a problem).
    assert!(damaged > 800, "{damaged}");
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
}
