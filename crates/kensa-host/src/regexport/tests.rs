use super::text::mutate::for_each_variant;
use super::*;
use crate::registry::{REG_DWORD_BIG_ENDIAN, REG_NONE, REG_QWORD};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/testdata/regexport/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn key<'a>(export: &'a RegExport, path: &str) -> &'a RegKey {
    export
        .keys_named(path)
        .next()
        .unwrap_or_else(|| panic!("no key {path}"))
}

fn text_of(key: &RegKey, name: &str) -> String {
    key.value(name)
        .and_then(RegValue::text)
        .unwrap_or_else(|| panic!("no string value {name:?} in {}", key.path))
}

#[test]
fn wine_reg_export_utf16() {
    let data = fixture("wine-reg-export.reg");
    assert_eq!(&data[..2], &[0xFF, 0xFE], "fixture is UTF-16LE with BOM");
    let export = parse_reg(&data).unwrap();
    assert_eq!(export.version, RegVersion::Version5);
    assert_eq!(export.encoding, "UTF-16LE");
    assert_eq!(export.problems, vec![]);
    let paths: Vec<&str> = export.keys.iter().map(|k| k.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            r"HKEY_CURRENT_USER\Software\KensaTest",
            r"HKEY_CURRENT_USER\Software\KensaTest\Explorer",
            r"HKEY_CURRENT_USER\Software\KensaTest\Run",
            r"HKEY_CURRENT_USER\Software\KensaTest\Types",
        ]
    );
    assert_eq!(export.keys[0].line, 3);

    let top = key(&export, r"hkey_current_user\software\kensatest");
    assert_eq!(text_of(top, ""), "default value");
    assert_eq!(top.value("Empty").map(|v| v.data.clone()), Some(vec![0, 0]));
    assert_eq!(text_of(top, "plain"), r#"C:\Users\Public\a "q".exe"#);
    let jp = top.value("日本語の値").unwrap();
    assert_eq!(jp.kind, REG_SZ);
    assert_eq!(
        jp.text().unwrap(),
        r"C:\Users\田中\AppData\Roaming\更新.exe"
    );
    assert_eq!(jp.data.len() % 2, 0);
    assert_eq!(
        &jp.data[jp.data.len() - 2..],
        &[0, 0],
        "NUL-terminated like the registry"
    );

    let explorer = key(&export, r"HKEY_CURRENT_USER\Software\KensaTest\Explorer");
    let v2 = explorer.value("12345678").unwrap();
    assert_eq!(
        (v2.kind, v2.data.as_slice()),
        (REG_BINARY, &[0x15, 0x25, 0x40, 0x73, 0x0b, 0x3d][..])
    );
    let long = explorer.value("LongBinary").unwrap();
    assert_eq!(
        long.data,
        (0u8..100).collect::<Vec<u8>>(),
        "5 continuation lines joined"
    );

    let run = key(&export, r"HKEY_CURRENT_USER\Software\KensaTest\Run");
    assert_eq!(
        text_of(run, "Xyzabcd"),
        r#"C:\Windows\SysWOW64\rundll32.exe "C:\Users\A\AppData\Local\Abcd\qehxk.xwa",RunDLL"#
    );
    let upd = run.value("更新プログラム").unwrap();
    assert_eq!(upd.kind, REG_EXPAND_SZ);
    assert_eq!(upd.text().unwrap(), r"%LOCALAPPDATA%\テスト\更新.exe /起動");

    let types = key(&export, r"HKEY_CURRENT_USER\Software\KensaTest\Types");
    assert_eq!(types.value("Dword").and_then(RegValue::dword), Some(31));
    // `reg add /t REG_DWORD_BIG_ENDIAN /d 0x01020304` stored the number in host (little-endian)
    // order; the export shows those bytes and they are kept as they are.
    let be = types.value("BigEndian").unwrap();
    assert_eq!(
        (be.kind, be.data.as_slice()),
        (REG_DWORD_BIG_ENDIAN, &[4u8, 3, 2, 1][..])
    );
    assert_eq!(be.dword(), Some(0x0403_0201));
    let q = types.value("Qword").unwrap();
    assert_eq!(q.kind, REG_QWORD);
    assert_eq!(q.data, 0x1122_3344_5566_7788u64.to_le_bytes());
    let multi = types.value("Multi").unwrap();
    assert_eq!(
        (multi.kind, multi.text().unwrap().as_str()),
        (REG_MULTI_SZ, "first\nsecond\n日本語")
    );
    let none = types.value("None").unwrap();
    assert_eq!((none.kind, none.data.as_slice()), (REG_NONE, &[0u8, 0][..]));
    assert_eq!(text_of(types, r#"Quote"Back\slash"#), r#"a\b"c"#);
}

#[test]
fn regedit4_cp932_matches_wine_reimport() {
    let ansi = parse_reg(&fixture("regedit4-cp932.reg")).unwrap();
    assert_eq!(ansi.version, RegVersion::Regedit4);
    assert_eq!(ansi.encoding, "Shift_JIS");
    assert_eq!(ansi.problems, vec![]);
    let unicode = parse_reg(&fixture("regedit4-cp932-reimported.reg")).unwrap();
    assert_eq!(unicode.problems, vec![]);

    let a = key(&ansi, r"HKEY_CURRENT_USER\Software\KensaAnsi");
    let u = key(&unicode, r"HKEY_CURRENT_USER\Software\KensaAnsi");
    let sorted = |k: &RegKey| {
        let mut v = k.values.clone();
        v.sort_by(|x, y| x.name.cmp(&y.name));
        v
    };
    assert_eq!(
        sorted(a),
        sorted(u),
        "ANSI file read as Wine (ACP 932) imports it"
    );
    assert_eq!(text_of(a, ""), "既定値");
    assert_eq!(
        text_of(a, "名前"),
        r"C:\Users\田中\AppData\Roaming\Microsoft\更新.exe"
    );
    assert_eq!(text_of(a, "Expand"), r"%APPDATA%\テスト.dll");
    assert_eq!(text_of(a, "Multi"), "a\n日本");
    assert_eq!(a.value("Bin").unwrap().data, [0xde, 0xad, 0xbe, 0xef]);

    let sub = key(&ansi, r"HKEY_CURRENT_USER\Software\KensaAnsi\Sub");
    assert_eq!(sub.deleted_values, ["Gone"]);
    assert!(sub.values.is_empty());
    let old = ansi.keys.last().unwrap();
    assert_eq!(
        (old.path.as_str(), old.deleted, old.line),
        (r"HKEY_CURRENT_USER\Software\KensaAnsi\Old", true, 16)
    );
}

/// Writes a version 5 export the way regedit does: UTF-16LE with BOM, CRLF, a blank line before
/// each key, hex wrapped near 80 columns with `\` and two-space indentation.
fn regedit_v5(lines: &[&str]) -> Vec<u8> {
    let mut s = String::from("Windows Registry Editor Version 5.00\r\n");
    for l in lines {
        s.push_str(l);
        s.push_str("\r\n");
    }
    let mut out = vec![0xFF, 0xFE];
    out.extend(text::utf16le(&s));
    out
}

#[test]
fn problems_are_reported_with_line_numbers_and_parsing_continues() {
    let data = regedit_v5(&[
        "",                                  // 2
        "\"Early\"=\"x\"",                   // 3 orphan
        "[HKEY_CURRENT_USER\\Software\\A]",  // 4
        "\"ok\"=dword:1",                    // 5
        "\"nine\"=dword:123456789",          // 6 bad
        "\"sp\" = \"x\"",                    // 7 spaces around `=`
        "\"str\"=\"no end",                  // 8 bad
        "\"kind\"=hex(0x2):00",              // 9 bad
        "\"bytes\"=hex:0,1f,ABC",            // 10 bad (3 digits)
        "garbage",                           // 11 bad
        "\"comment\"=hex:01,02 ; trailing",  // 12 ok
        "@=-",                               // 13 delete default
        "\"cont\"=hex:01,\\",                // 14 continues…
        "",                                  // 15 skipped inside continuation
        "; comment inside continuation",     // 16
        "[HKEY_CURRENT_USER\\Software\\B]",  // 17 …but a key follows: value kept, reported
        "[NOTAROOT\\x]",                     // 18 unknown root, kept
        "[HKEY_CURRENT_USER\\no end",        // 19 bad
        "[-HKEY_CURRENT_USER\\Software\\C]", // 20 deleted
        "\"underdeleted\"=\"v\"",            // 21 orphan
        "[HKCU\\Software\\D]",               // 22
        "\"esc\"=\"a\\\\b\\\"c\\nd\\qe\"",   // 23 escapes
        "\"x\"=\"v\" junk",                  // 24 bad
        "\"e\"=hex:",                        // 25 empty binary
        "\"t\"=hex(7e):01",                  // 26 unknown type kept
        "\"m\"=hex(7):61,00,00,00,\\",       // 27 continued
        "  62,00,00,00,00,00",               // 28
    ]);
    let e = parse_reg(&data).unwrap();
    let lines: Vec<usize> = e.problems.iter().map(problem_line).collect();
    assert_eq!(
        lines,
        [3, 6, 8, 9, 10, 11, 14, 18, 19, 21, 24],
        "{:#?}",
        e.problems
    );
    assert!(matches!(&e.problems[0], RegExportError::OrphanValue { name, .. } if name == "Early"));
    assert!(
        matches!(&e.problems[7], RegExportError::UnknownRoot { path, .. } if path == "NOTAROOT\\x")
    );

    let a = key(&e, r"HKEY_CURRENT_USER\Software\A");
    let names: Vec<&str> = a.values.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["ok", "sp", "comment", "cont"]);
    assert_eq!(a.value("ok").and_then(RegValue::dword), Some(1));
    assert_eq!(text_of(a, "sp"), "x");
    assert_eq!(a.value("comment").unwrap().data, [1, 2]);
    assert_eq!(a.value("cont").unwrap().data, [1]);
    assert_eq!(a.deleted_values, [""]);

    assert_eq!(e.keys.iter().filter(|k| k.path == "NOTAROOT\\x").count(), 1);
    let c = key(&e, r"HKEY_CURRENT_USER\Software\C");
    assert!(c.deleted && c.values.is_empty());
    let d = key(&e, r"HKCU\Software\D");
    assert_eq!(text_of(d, "esc"), "a\\b\"c\nd\\qe");
    assert_eq!(d.value("x"), None);
    assert_eq!(d.value("e").unwrap().data, Vec::<u8>::new());
    assert_eq!(d.value("t").unwrap().kind, 0x7e);
    assert_eq!(text_of(d, "m"), "a\nb");
}

#[test]
fn headers_and_encodings() {
    assert!(matches!(
        parse_reg(b""),
        Err(RegExportError::NoHeader { .. })
    ));
    assert!(matches!(
        parse_reg(b"REGEDIT\r\n"),
        Err(RegExportError::NoHeader { .. })
    ));
    assert!(matches!(
        parse_reg(b"\r\nREGEDIT4\r\n"),
        Err(RegExportError::NoHeader { .. })
    ));
    let e = parse_reg(
        b"\xEF\xBB\xBFWindows Registry Editor Version 5.00\n\n[HKLM\\S]\n\"k\"=\"\xE5\x80\xA4\"\n",
    )
    .unwrap();
    assert_eq!((e.encoding, e.version), ("UTF-8", RegVersion::Version5));
    assert_eq!(text_of(&e.keys[0], "k"), "値");
    // ASCII REGEDIT4 with cp932 bytes only inside hex(2): decoded with the fallback chain.
    let e = parse_reg(b"REGEDIT4\n[HKCU\\S]\n\"p\"=hex(2):83,65,83,58,83,67,00\n").unwrap();
    assert_eq!(e.encoding, "UTF-8");
    assert_eq!(text_of(&e.keys[0], "p"), "テスト");
    // Western ANSI: not valid cp932 → windows-1252.
    let e = parse_reg(b"REGEDIT4\n[HKCU\\S]\n\"caf\xE9\"=\"\xE9t\xE9\"\n").unwrap();
    assert_eq!(e.encoding, "windows-1252");
    assert_eq!(text_of(&e.keys[0], "café"), "été");
    // An odd number of UTF-16 bytes is reported, not fatal.
    let mut odd = regedit_v5(&["[HKCU\\S]"]);
    odd.push(b'x');
    let e = parse_reg(&odd).unwrap();
    assert!(e.problems.contains(&RegExportError::Undecodable {
        encoding: "UTF-16LE"
    }));
}

#[test]
fn roots() {
    assert_eq!(
        split_root(r"HKEY_CURRENT_USER\Software\X"),
        Some((Root::CurrentUser, r"Software\X"))
    );
    assert_eq!(
        split_root(r"hkcu\Software"),
        Some((Root::CurrentUser, "Software"))
    );
    assert_eq!(split_root("HKLM"), Some((Root::LocalMachine, "")));
    assert_eq!(
        split_root(r"HKU\S-1-5-21\Software"),
        Some((Root::Users, r"S-1-5-21\Software"))
    );
    assert_eq!(
        split_root(r"HKEY_USERS\.DEFAULT"),
        Some((Root::Users, ".DEFAULT"))
    );
    assert_eq!(
        split_root(r"HKEY_CLASSES_ROOT\CLSID"),
        Some((Root::ClassesRoot, "CLSID"))
    );
    assert_eq!(split_root(r"HKCR\.exe"), Some((Root::ClassesRoot, ".exe")));
    assert_eq!(
        split_root(r"HKEY_CURRENT_CONFIG\System"),
        Some((Root::CurrentConfig, "System"))
    );
    assert_eq!(split_root(r"HKEY_CURRENT_USERS\x"), None);
    assert_eq!(split_root(r"HKCUX\x"), None);
    assert_eq!(split_root(""), None);
    assert_eq!(Root::LocalMachine.to_string(), "HKEY_LOCAL_MACHINE");
    assert_eq!(Root::Users.short_name(), "HKU");
}

#[test]
fn limits_drop_and_report() {
    let limits = RegLimits {
        max_line_bytes: 40,
        max_value_data: 8,
        max_keys: 3,
        max_values: 4,
        max_problems: 100,
    };
    let data = concat!(
        "REGEDIT4\n",
        "[HKCU\\A]\n",                                       // 2
        "\"big\"=hex:00,01,02,03,\\\n",                      // 3: 9 bytes over two lines
        "  04,05,06,07,08\n",                                // 4
        "\"after\"=dword:2\n",                               // 5
        "\"long\"=\"0123456789012345678901234567890123\"\n", // 6: line over 40 bytes
        "\"s\"=\"abcd\"\n",                                  // 7: 10 bytes of UTF-16 > 8
        "[HKCU\\B]\n",                                       // 8
        "\"v1\"=dword:1\n",                                  // 9
        "\"v2\"=dword:2\n",                                  // 10
        "\"v3\"=dword:3\n",                                  // 11: 5th value line read (big counts)
        "\"v4\"=dword:4\n",                                  // 12
        "[HKCU\\C]\n",                                       // 13
    );
    let e = parse_reg_with_limits(data.as_bytes(), limits).unwrap();
    assert_eq!(
        e.problems,
        [
            RegExportError::DataTooLarge { line: 3, max: 8 },
            RegExportError::LineTooLong { line: 6, max: 40 },
            RegExportError::DataTooLarge { line: 7, max: 8 },
            RegExportError::TooMany {
                line: 11,
                what: "values",
                max: 4
            },
        ]
    );
    let a = key(&e, r"HKCU\A");
    assert_eq!(a.value("big"), None);
    assert_eq!(a.value("after").and_then(RegValue::dword), Some(2));
    let b = key(&e, r"HKCU\B");
    let names: Vec<&str> = b.values.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["v1", "v2"]);
    assert_eq!(e.keys.len(), 2, "reading stopped at the values limit");

    let many_keys = "REGEDIT4\n[HKCU\\1]\n[HKCU\\2]\n[HKCU\\3]\n[HKCU\\4]\n[HKCU\\5]\n";
    let e = parse_reg_with_limits(many_keys.as_bytes(), limits).unwrap();
    assert_eq!(e.keys.len(), 3);
    assert_eq!(
        e.problems,
        [RegExportError::TooMany {
            line: 5,
            what: "keys",
            max: 3
        }]
    );
    assert_eq!(RegLimits::default().max_value_data, MAX_VALUE_DATA);
}

#[test]
fn problem_list_is_capped() {
    let mut s = String::from("REGEDIT4\n");
    for _ in 0..(MAX_PROBLEMS + 50) {
        s.push_str("junk\n");
    }
    let e = parse_reg(s.as_bytes()).unwrap();
    assert_eq!(e.problems.len(), MAX_PROBLEMS + 1);
    assert!(matches!(
        e.problems.last(),
        Some(RegExportError::TooMany {
            what: "problems",
            ..
        })
    ));
}

#[test]
fn mutated_exports_never_panic_and_stay_bounded() {
    let seeds = vec![
        fixture("wine-reg-export.reg"),
        fixture("regedit4-cp932.reg"),
        fixture("regedit4-cp932-reimported.reg"),
        b"REGEDIT4\n[HKCU\\A]\n\"a\"=hex(7):61,00,\\\n  00\n@=\"x\\\\\"\n\"d\"=dword:ffffffff\n[-HKCU\\B]\n".to_vec(),
    ];
    let mut parsed = 0;
    for_each_variant(&seeds, 4000, |data| {
        let Ok(e) = parse_reg(data) else { return };
        parsed += 1;
        let lines = data.iter().filter(|&&b| b == b'\n' || b == b'\r').count() + 1;
        assert!(e.keys.len() <= lines);
        let values: usize = e
            .keys
            .iter()
            .map(|k| k.values.len() + k.deleted_values.len())
            .sum();
        assert!(values <= lines);
        assert!(e.problems.len() <= MAX_PROBLEMS + 1);
        for k in &e.keys {
            for v in &k.values {
                assert!(v.data.len() <= data.len() * 2 + 2);
                let _ = (v.text(), v.dword(), v.kind_name());
            }
            let _ = split_root(&k.path);
        }
    });
    assert!(parsed > 1000, "most variants keep their header ({parsed})");
}
