//! Tests: every `host.md` §4 vector, the quirks, real boot sectors, robustness.

use super::*;
use std::collections::HashSet;

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/emocheck/");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{TESTDATA}{name}")).expect("fixture present")
}

/// XOR-encodes a name the way Emotet stored it (the inverse of `v2_decode`), plus a trailing NUL.
fn v2_encode(name: &str, serial: u32) -> Vec<u8> {
    let key = serial.to_le_bytes();
    name.bytes()
        .chain([0])
        .enumerate()
        .map(|(k, b)| b ^ key[k % 4])
        .collect()
}

// ---------------------------------------------------------------- v1

#[test]
fn keyword_table_shape() {
    assert_eq!(KEYWORDS.len(), 356);
    assert_eq!(KEYWORDS_LEN, 356);
    assert_eq!(v1_words().count(), 64);
    assert_eq!(KEYWORDS.find(','), Some(4));
    assert!(!KEYWORDS.ends_with(','));
    assert!(v1_words().all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase())));
    assert_eq!(v1_words().next(), Some("duck"));
    assert_eq!(v1_words().last(), Some("thunk"));
}

fn check_v1(serial: u32, indices: Option<(u32, u32, u32)>, compat: &str, whole: &str) {
    if let Some(expected) = indices {
        assert_eq!(v1_indices(serial), expected, "indices of {serial:#x}");
    }
    let name = v1_name(serial);
    assert_eq!(name.compat, compat, "compat name of {serial:#x}");
    assert_eq!(name.whole_word, whole, "whole-word name of {serial:#x}");
}

#[test]
fn vector_01_public_example() {
    check_v1(1_900_000, Some((5337, 28, 314)), "purgeelem", "purgeelem");
    assert_eq!(1_900_000, 0x001C_FDE0);
}

#[test]
fn vector_02_zero() {
    check_v1(0, Some((0, 0, 311)), "duckelem", "duckelem");
}

#[test]
fn vector_03() {
    check_v1(
        0x1234_5678,
        Some((857_921, 20, 350)),
        "ptrthunk",
        "ptrthunk",
    );
}

#[test]
fn vector_04() {
    check_v1(
        0xDEAD_BEEF,
        Some((10_494_181, 123, 298)),
        "etwwce",
        "etwwce",
    );
}

#[test]
fn vector_05_max() {
    check_v1(
        0xFFFF_FFFF,
        Some((12_064_514, 311, 281)),
        "elemvol",
        "elemvol",
    );
}

#[test]
fn vector_06() {
    check_v1(0xA1B2_C3D4, None, "btabasic", "btabasic");
    check_v1(0x5C3E_1F2A, None, "mfidldvb", "mfidldvb");
}

#[test]
fn vector_07_index_on_comma_selects_next_word() {
    assert_eq!(KEYWORDS.as_bytes()[4], b',');
    check_v1(4, Some((0, 4, 311)), "mfidlelem", "mfidlelem");
}

#[test]
fn vector_08_partial_word_quirk() {
    check_v1(1, Some((0, 1, 311)), "uckelem", "duckelem");
    check_v1(2, Some((0, 2, 311)), "ckelem", "duckelem");
    check_v1(3, Some((0, 3, 311)), "kelem", "duckelem");
}

#[test]
fn vector_09_quirk_in_second_word() {
    assert_eq!(109_648, 0x1AC50);
    check_v1(109_648, Some((308, 0, 3)), "duckk", "duckduck");
}

#[test]
fn word_selection_over_the_whole_table() {
    // Every position inside a word yields that word (whole), every comma the next word; the compat
    // reading differs only at positions 1-3.
    let bytes = KEYWORDS.as_bytes();
    let words: Vec<&str> = v1_words().collect();
    let mut word = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b',' {
            word += 1;
            assert_eq!(v1::word_at_for_tests(i, true), words[word], "comma at {i}");
            assert_eq!(v1::word_at_for_tests(i, false), words[word], "comma at {i}");
        } else {
            assert_eq!(v1::word_at_for_tests(i, true), words[word], "position {i}");
            let compat = v1::word_at_for_tests(i, false);
            match i {
                1 => assert_eq!(compat, "uck"),
                2 => assert_eq!(compat, "ck"),
                3 => assert_eq!(compat, "k"),
                _ => assert_eq!(compat, words[word], "position {i}"),
            }
        }
    }
    assert_eq!(word, 63);
}

#[test]
fn all_names_cover_every_serial_whole_word() {
    let all = v1_all_names();
    assert_eq!(all.len(), 4096, "64 × 64 combinations, all distinct");
    assert_eq!(all[0], "duckduck");
    assert_eq!(all[4095], "thunkthunk");
    let set: HashSet<&str> = all.iter().map(String::as_str).collect();
    let mut x = 0x9E37_79B9u32;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        assert!(set.contains(v1_name(x).whole_word.as_str()), "{x:#x}");
    }
    assert!(!set.contains("uckelem"));
}

#[test]
fn v1_matching_rules() {
    let name = v1_name(1_900_000);
    assert!(v1_matches_compat("purgeelem.exe", &name));
    assert!(
        !v1_matches_compat("PurgeElem.exe", &name),
        "compat is case-sensitive"
    );
    assert!(!v1_matches_compat("purgeelem.EXE", &name));
    assert!(!v1_matches_compat("purgeelem", &name));
    assert!(!v1_matches_compat("xpurgeelem.exe", &name));
    assert!(v1_matches_relaxed("PurgeElem.EXE", &name));
    assert!(!v1_matches_relaxed("purgeelem.exe.exe", &name));
    assert!(
        v1_matches_v001("mypurgeelemx.exe", &name),
        "v0.0.1 substring match"
    );
    assert!(!v1_matches_v001("purge.exe", &name));

    let quirky = v1_name(1);
    assert!(v1_matches_compat("uckelem.exe", &quirky));
    assert!(!v1_matches_compat("duckelem.exe", &quirky));
    assert!(v1_matches_relaxed("duckelem.exe", &quirky));
    assert!(v1_matches_relaxed("UCKELEM.exe", &quirky));
}

// ---------------------------------------------------------------- v2

#[test]
fn vector_10_value_names() {
    assert_eq!(v2_value_name(0x001C_FDE0), "1cfde0");
    assert_eq!(v2_value_name(0x1234_5678), "12345678");
    assert_eq!(v2_value_name(0xDEAD_BEEF), "deadbeef");
    assert_eq!(v2_value_name(0), "0");
    assert_eq!(v2_value_serial("1cfde0"), Some(0x001C_FDE0));
    assert_eq!(v2_value_serial("1CFDE0"), Some(0x001C_FDE0));
    assert_eq!(v2_value_serial("0"), Some(0));
    assert_eq!(v2_value_serial(""), None);
    assert_eq!(v2_value_serial("123456789"), None);
    assert_eq!(v2_value_serial("+1234"), None);
    assert_eq!(v2_value_serial("12g4"), None);
    assert_eq!(
        v2_value_serial("１２"),
        None,
        "full-width digits are not hex"
    );
}

#[test]
fn vector_11_decode() {
    let data = [0x15, 0x25, 0x40, 0x73, 0x0b, 0x3d];
    assert_eq!(v2_decode(&data, 0x1234_5678), "mstask");
    assert_eq!(
        v2_decode_offline("12345678", &data).as_deref(),
        Some("mstask")
    );
}

#[test]
fn vector_12_decode_drops_trailing_nul() {
    let data = [0x8d, 0x8e, 0x68, 0x61, 0x93, 0x96, 0x1c];
    assert_eq!(v2_decode(&data, 0x001C_FDE0), "mstask");
    assert_eq!(
        v2_decode_offline("1cfde0", &data).as_deref(),
        Some("mstask")
    );
    assert_eq!(
        v2_decode_offline("1CFDE0", &data).as_deref(),
        Some("mstask")
    );
    assert_eq!(v2_encode("mstask", 0x001C_FDE0), data);
}

#[test]
fn v2_decode_keeps_only_0x21_to_0x7d() {
    let serial = 0;
    let data: Vec<u8> = (0u8..=255).collect();
    let decoded = v2_decode(&data, serial);
    assert_eq!(decoded.len(), 0x7D - 0x21 + 1);
    assert!(decoded.starts_with('!'));
    assert!(decoded.ends_with('}'));
    assert!(!decoded.contains(' ') && !decoded.contains('~'));
}

#[test]
fn v2_offline_rejects_non_names() {
    let serial = 0x0A0B_0C0D;
    let name = v2_value_name(serial);
    assert_eq!(
        v2_decode_offline(&name, &v2_encode("WinMgmt", serial)).as_deref(),
        Some("WinMgmt")
    );
    assert_eq!(
        v2_decode_offline(&name, &v2_encode("Windows.Storage", serial)).as_deref(),
        Some("Windows.Storage")
    );
    // Too short, a space inside, a non-name byte EmoCheck would silently drop, digits only,
    // NUL in the middle, not a hex value name, too long.
    for bad in ["ab", "ms task", "ms\x01task", "12345", "-abc"] {
        assert_eq!(
            v2_decode_offline(&name, &v2_encode(bad, serial)),
            None,
            "{bad:?}"
        );
    }
    let mid_nul = v2_encode("abc\u{0}def", serial);
    assert_eq!(v2_decode_offline(&name, &mid_nul), None);
    assert_eq!(
        v2_decode(&mid_nul, serial),
        "abcdef",
        "EmoCheck drops the NUL"
    );
    assert_eq!(v2_decode_offline(&name, &[0, 0, 0, 0]), None);
    assert_eq!(
        v2_decode_offline("Shell Folders", &v2_encode("mstask", serial)),
        None
    );
    assert_eq!(
        v2_decode_offline(&name, &v2_encode(&"a".repeat(81), serial)),
        None
    );
    assert!(v2_decode_offline(&name, &v2_encode(&"a".repeat(80), serial)).is_some());
    assert_eq!(v2_decode_offline(&name, &[]), None);
}

#[test]
fn v2_offline_agrees_with_compat_whenever_it_keeps_a_name() {
    let mut x = 0x1234_5678_9ABC_DEF0u64;
    let mut kept = 0;
    // Plus every real name, which must survive.
    for word in v1_words() {
        let serial = xorshift(&mut x) as u32;
        let data = v2_encode(word, serial);
        assert_eq!(
            v2_decode_offline(&v2_value_name(serial), &data).as_deref(),
            Some(word)
        );
    }
    for _ in 0..20_000u32 {
        let serial = xorshift(&mut x) as u32;
        let len = (xorshift(&mut x) % 12) as usize;
        let data: Vec<u8> = (0..len).map(|_| xorshift(&mut x) as u8).collect();
        let value_name = v2_value_name(serial);
        if let Some(name) = v2_decode_offline(&value_name, &data) {
            kept += 1;
            assert_eq!(name, v2_decode(&data, serial));
        }
    }
    // Random data rarely looks like a System32 name.
    assert!(kept < 200, "{kept} random values kept");
}

#[test]
fn v2_keys() {
    assert_eq!(V2_KEYS.len(), 3);
    assert!(V2_KEYS[0].starts_with("HKCU\\"));
    assert!(V2_KEYS[2].contains("\\WOW6432Node\\Microsoft\\"));
    for (key, (_, in_hive)) in V2_KEYS.iter().zip(V2_KEYS_OFFLINE) {
        assert!(
            key.to_ascii_lowercase()
                .ends_with(&in_hive.to_ascii_lowercase())
        );
    }
}

// ---------------------------------------------------------------- v3

#[test]
fn v3_keywords_and_candidates() {
    assert_eq!(v3_keyword("NOTEPAD.EXE"), Some("NOTEPAD"));
    assert_eq!(v3_keyword("mstask.dll"), Some("mstask"));
    assert_eq!(v3_keyword("Windows.Storage.dll"), Some("Windows.Storage"));
    assert_eq!(v3_keyword("notepad.exe.mui"), None);
    assert_eq!(v3_keyword("exe"), None);
    assert_eq!(v3_keyword("kernel32.Dll"), Some("kernel32"));

    let set: HashSet<&str> = ["mstask", "wmiprvse", "NOTEPAD"].into();
    let kw = |s: &str| set.contains(s);
    assert!(v3_candidate("mstask", "mstask.exe", &kw));
    assert!(
        v3_candidate("mstask", "wmiprvse.exe", &kw),
        "file need not equal directory"
    );
    assert!(
        !v3_candidate("mstask", "mstask.EXE", &kw),
        "compat: extension exactly exe"
    );
    assert!(!v3_candidate("mstask", "mstask.dll", &kw));
    assert!(
        !v3_candidate("Mstask", "mstask.exe", &kw),
        "compat: case-sensitive set"
    );
    assert!(!v3_candidate("other", "mstask.exe", &kw));
    assert!(!v3_candidate("mstask", "other.exe", &kw));
    assert!(!v3_candidate("mstask", "exe", &kw));

    let lower: HashSet<String> = set.iter().map(|s| s.to_ascii_lowercase()).collect();
    let kw_lower = |s: &str| lower.contains(s);
    assert!(v3_candidate_relaxed("MsTask", "MSTASK.EXE", &kw_lower));
    assert!(v3_candidate_relaxed("notepad", "Notepad.exe", &kw_lower));
    assert!(!v3_candidate_relaxed("mstask", "mstask.dll", &kw_lower));
}

#[test]
fn v3_validation() {
    assert!(!v3_valid(9_999, None));
    assert!(v3_valid(10_000, None));
    assert!(
        !v3_valid(200_000, Some(200_000)),
        "same size as the System32 twin"
    );
    assert!(v3_valid(200_000, Some(199_999)));
    assert!(!v3_valid(0, Some(0)));
    assert_eq!(
        v3_run_key("mstask"),
        "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\mstask"
    );
}

// ---------------------------------------------------------------- v4

#[test]
fn vector_13_v4_directory() {
    assert!(v4_dir_ok("Abcd"));
    assert!(!v4_dir_ok("abc"));
    assert!(!v4_dir_ok("Abc1"));
    assert!(v4_dir_ok("Abcdefghijklmnop"));
    assert!(!v4_dir_ok("Abcdefghijklmnopq"));
    assert!(!v4_dir_ok("Äbcd"));
    assert!(!v4_dir_ok(""));
}

#[test]
fn vector_14_v4_file() {
    assert!(v4_file_ok("qehxk.xwa"));
    assert!(!v4_file_ok("abc.dll"));
    assert!(!v4_file_ok("ab.xyz"));
    assert!(!v4_file_ok("abcdefghijklmnop.xyz"), "16-letter stem");
    assert!(v4_file_ok("abcdefghijklmno.xyz"), "15-letter stem");
    assert!(!v4_file_ok("abc.xy"));
    assert!(!v4_file_ok("abc.exe"));
    assert!(v4_file_ok("abc.EXE"), "the look-ahead is case-sensitive");
    assert!(v4_file_ok("abc.Dll"));
    assert!(!v4_file_ok("abc.d1l"));
    assert!(!v4_file_ok("a.bc.def"));
    assert!(!v4_file_ok("abcxyz"));
}

#[test]
fn vector_15_v4_run_value_name() {
    assert!(v4_run_name_ok("Xyzabcd", "qehxk.xwa"));
    assert!(!v4_run_name_ok("Xyzabc", "qehxk.xwa"));
    assert!(v4_run_name_ok("qehxk.xwa", "qehxk.xwa"));
    assert!(!v4_run_name_ok("Qehxk.xwa", "qehxk.xwa"));
    assert!(v4_run_name_ok("Abcdefghijklmnop", "x.y"));
    assert!(!v4_run_name_ok("Abcdefghijklmnopq", "x.y"));
}

#[test]
fn v4_command_patterns() {
    let file = "qehxk.xwa";
    let run =
        r#"C:\Windows\SysWOW64\rundll32.exe "C:\Users\A\AppData\Local\Abcd\qehxk.xwa",RunDLL"#;
    assert!(v4_command_ok(run, file));
    assert!(v4_command_ok_relaxed(run, file));
    let show =
        r#"C:\Windows\system32\rundll32.exe "C:\Users\A\AppData\Local\Abcd\qehxk.xwa",ShowDialogA"#;
    assert!(v4_command_ok(show, file));
    assert!(v4_command_ok(
        r"C:\Windows\system32\rundll32.exe C:\Windows\SysWOW64\Abcd\qehxk.xwa,Xqzv",
        file
    ));
    // Three letters after the comma, letters broken by a digit, no comma, comma only before.
    assert!(!v4_command_ok(r"rundll32.exe C:\x\qehxk.xwa,abc", file));
    assert!(!v4_command_ok(r"rundll32.exe C:\x\qehxk.xwa,ab1cd", file));
    assert!(!v4_command_ok(r"rundll32.exe C:\x\qehxk.xwa RunDLL", file));
    assert!(!v4_command_ok(r"C:\x\qehxk.xwa,RunDLL rundll32.exe", file));
    assert!(v4_command_ok(
        r"rundll32.exe a,b C:\x\qehxk.xwa RunDLL",
        file
    ));
    // File name missing or in another case.
    assert!(!v4_command_ok(r"rundll32.exe C:\x\other.xwa,RunDLL", file));
    assert!(!v4_command_ok(r"rundll32.exe C:\x\QEHXK.XWA,RunDLL", file));
    assert!(v4_command_ok_relaxed(
        r"rundll32.exe C:\x\QEHXK.XWA,RunDLL",
        file
    ));
    // EmoCheck's gaps that the relaxed rule closes.
    let upper = r"C:\WINDOWS\SYSTEM32\RUNDLL32.EXE C:\x\qehxk.xwa,RunDLL";
    assert!(!v4_command_ok(upper, file));
    assert!(v4_command_ok_relaxed(upper, file));
    let no_ext = r"rundll32 C:\x\qehxk.xwa,RunDLL";
    assert!(!v4_command_ok(no_ext, file));
    assert!(v4_command_ok_relaxed(no_ext, file));
    let newline = "rundll32.exe C:\\x\\qehxk.xwa,RunDLL\n";
    assert!(
        !v4_command_ok(newline, file),
        "`.` does not cross a line terminator"
    );
    assert!(v4_command_ok_relaxed(newline, file));
    assert!(!v4_command_ok_relaxed(
        r"regsvr32.exe C:\x\qehxk.xwa,RunDLL",
        file
    ));
}

#[test]
fn v4_process_detection() {
    let user = r"C:\Users\A\AppData\Local\Abcd\qehxk.xwa";
    let cmd =
        r#"C:\Windows\SysWOW64\rundll32.exe  "C:\Users\A\AppData\Local\Abcd\qehxk.xwa",RunDLL"#;
    assert!(v4_process_matches(cmd, user, false));
    assert!(v4_process_matches(&cmd.to_uppercase(), user, false));
    assert!(!v4_process_matches(
        cmd,
        r"C:\Users\A\AppData\Local\Abcd\other.xwa",
        false
    ));
    assert!(!v4_process_matches("", user, false));

    // Admin install in SysWOW64, started through the System32 path (file-system redirection).
    let admin = r"C:\Windows\SysWOW64\Abcd\qehxk.xwa";
    let cmd =
        r#"C:\Windows\system32\rundll32.exe "C:\Windows\System32\Abcd\qehxk.xwa",Control_RunDLL"#;
    assert!(v4_process_matches(cmd, admin, true));
    assert!(!v4_process_matches(cmd, admin, false));
    assert!(
        !v4_process_matches("", admin, true),
        "no command line: auth error, no detection"
    );
}

// ---------------------------------------------------------------- v5

const FILETIME_2021: u64 = 132_540_000_000_000_000;

#[test]
fn vector_16_v5_window() {
    let file = FILETIME_2021;
    assert!(
        v5_window(file + 6_048_000_000_000, file),
        "exactly 604,800 s"
    );
    assert!(!v5_window(file + 6_047_996_000_000, file), "604,799.6 s");
    assert!(!v5_window(file + 6_048_003_000_000, file), "604,800.3 s");
    assert!(v5_window(file + 6_047_997_000_000, file), "604,799.7 s");
    assert!(
        v5_window(file + 6_048_002_999_999, file),
        "just under 604,800.3 s"
    );
    assert!(!v5_window(file + 6_047_996_999_999, file));
    assert!(
        !v5_window(file, file + 6_048_000_000_000),
        "negative diff never hits"
    );
    assert!(!v5_window(file, file));
    assert!(!v5_window(u64::MAX, 0));
    assert!(!v5_window(0, u64::MAX));
}

#[test]
fn v5_process_detection() {
    let path = r"C:\Windows\SysWOW64\Abcd\qehxk.xwa";
    let cmd = r"C:\Windows\system32\rundll32.exe C:\Windows\System32\Abcd\qehxk.xwa,Ab";
    assert!(v5_process_matches("rundll32.exe", cmd, path, true));
    assert!(
        !v5_process_matches("regsvr32.exe", cmd, path, true),
        "retry only for rundll32.exe"
    );
    assert!(!v5_process_matches("rundll32.exe", cmd, path, false));
    assert!(!v5_process_matches("RUNDLL32.EXE", cmd, path, true));
    let direct = r"C:\Windows\SysWOW64\regsvr32.exe /s C:\Windows\SysWOW64\Abcd\qehxk.xwa";
    assert!(v5_process_matches("regsvr32.exe", direct, path, false));
}

// ---------------------------------------------------------------- normalisation

#[test]
fn vector_17_normalisation() {
    let input = r#""C:\Users\A\AppData\Local\Abcd\qehxk.xwa",RunDLL"#;
    assert_eq!(
        normalise_cmdline(input),
        r"c:\users\a\appdata\local\abcd\qehxk.xwa,rundll"
    );
    let doubled =
        r#"C:\Windows\SysWOW64\rundll32.exe  "C:\Users\A\AppData\Local\Abcd\qehxk.xwa",RunDLL"#;
    assert_eq!(
        normalise_cmdline(doubled),
        r"c:\windows\syswow64\rundll32.exe c:\users\a\appdata\local\abcd\qehxk.xwa,rundll"
    );
}

#[test]
fn normalisation_details() {
    assert_eq!(
        normalise_cmdline("a\t  b"),
        "a\tb",
        "the first character of a run is kept"
    );
    assert_eq!(
        normalise_cmdline("a \" b"),
        "a b",
        "quotes go first, then the run collapses"
    );
    assert_eq!(normalise_cmdline("A\r\n\u{0B}\u{0C}B"), "a\rb");
    assert_eq!(
        normalise_cmdline("ÄÖ  X"),
        "ÄÖ x",
        "C-locale tolower is ASCII only"
    );
    assert_eq!(
        normalise_cmdline("a\u{3000}\u{3000}b"),
        "a\u{3000}\u{3000}b"
    );
    assert_eq!(normalise_cmdline(""), "");
    assert_eq!(normalise_cmdline_relaxed("ÄÖ \t X"), "äö x");
    assert_eq!(normalise_cmdline_relaxed("a\u{3000}\u{3000}\"b"), "a b");
}

#[test]
fn syswow64_retry() {
    assert_eq!(
        syswow64_to_system32(r"c:\windows\syswow64\abcd\syswow64.xwa").as_deref(),
        Some(r"c:\windows\system32\abcd\syswow64.xwa"),
        "first occurrence only"
    );
    assert_eq!(
        syswow64_to_system32(r"C:\Windows\SysWOW64\x").as_deref(),
        Some(r"C:\Windows\system32\x")
    );
    assert_eq!(syswow64_to_system32(r"c:\windows\system32\x"), None);
    assert_eq!(syswow64_to_system32("syswow6"), None);
    assert_eq!(
        syswow64_to_system32("ボsyswow64ボ").as_deref(),
        Some("ボsystem32ボ")
    );
}

// ---------------------------------------------------------------- serial

#[test]
fn real_boot_sectors() {
    let ntfs = fixture("ntfs.bootsector");
    assert_eq!(serial_from_ntfs_boot_sector(&ntfs), Some(0x1234_ABCD));
    assert_eq!(serial_from_boot_sector(&ntfs), Some(0x1234_ABCD));
    let fat32 = fixture("fat32.bootsector");
    assert_eq!(serial_from_ntfs_boot_sector(&fat32), None);
    assert_eq!(serial_from_boot_sector(&fat32), Some(0x1234_ABCD));
    assert_eq!(
        serial_from_boot_sector(&fixture("fat16.bootsector")),
        Some(0xDEAD_BEEF)
    );
    assert_eq!(
        serial_from_boot_sector(&fixture("exfat.bootsector")),
        Some(0xA1B2_C3D4)
    );
    assert_eq!(
        v1_name(0x1234_ABCD),
        v1_name(parse_vol_output("1234-ABCD").unwrap())
    );
}

#[test]
fn boot_sector_edges() {
    let ntfs = fixture("ntfs.bootsector");
    assert_eq!(
        serial_from_ntfs_boot_sector(&ntfs[..0x50]),
        Some(0x1234_ABCD)
    );
    assert_eq!(serial_from_ntfs_boot_sector(&ntfs[..0x4F]), None);
    assert_eq!(serial_from_ntfs_boot_sector(&[]), None);
    let mut wrong = ntfs.clone();
    wrong[3] = b'X';
    assert_eq!(serial_from_ntfs_boot_sector(&wrong), None);
    assert_eq!(serial_from_boot_sector(&wrong), None);
    assert_eq!(serial_from_boot_sector(&[0u8; 512]), None);
}

#[test]
fn vol_and_fsutil_output() {
    let english = " Volume in drive C has no label.\r\n Volume Serial Number is 1234-ABCD\r\n";
    assert_eq!(parse_vol_output(english), Some(0x1234_ABCD));
    let labelled = " Volume in drive C is DEAD-BEEF\n Volume Serial Number is 6A1C-2B3D\n";
    assert_eq!(
        parse_vol_output(labelled),
        Some(0x6A1C_2B3D),
        "the label is not the serial"
    );
    let japanese = " ドライブ C のボリューム ラベルがありません。\r\n ボリューム シリアル番号は 1234-ABCD です\r\n";
    assert_eq!(parse_vol_output(japanese), Some(0x1234_ABCD));
    let french = " Le volume dans le lecteur C n’a pas de nom.\n Le numéro de série du volume est 0A1B-2C3D\n";
    assert_eq!(parse_vol_output(french), Some(0x0A1B_2C3D));
    let german = " Volume in Laufwerk C: hat keine Bezeichnung.\n Volumeseriennummer: 1234-ABCD\n";
    assert_eq!(parse_vol_output(german), Some(0x1234_ABCD));
    let fsutil = "Volume Name : \r\nVolume Serial Number : 0x1234abcd\r\nMax Component Length : 255\r\nFile System Name : NTFS\r\n";
    assert_eq!(parse_vol_output(fsutil), Some(0x1234_ABCD));
    let ntfsinfo = "NTFS Volume Serial Number :        0x6a1c2b3d1234abcd\nNTFS Version      :                3.1\n";
    assert_eq!(parse_vol_output(ntfsinfo), Some(0x1234_ABCD));
    let unlabelled_line = "C:\\> vol\n 1234-ABCD\n";
    assert_eq!(parse_vol_output(unlabelled_line), Some(0x1234_ABCD));
}

#[test]
fn bare_serials() {
    for (text, serial) in [
        ("1234ABCD", 0x1234_ABCD),
        ("0x1234abcd", 0x1234_ABCD),
        ("0X1234ABCD", 0x1234_ABCD),
        ("1234-abcd", 0x1234_ABCD),
        ("  1cfde0\n", 0x001C_FDE0),
        ("6a1c2b3d1234abcd", 0x1234_ABCD),
    ] {
        assert_eq!(parse_vol_output(text), Some(serial), "{text:?}");
    }
    for text in [
        "",
        "hello",
        "123456789abcdef01",
        "Volume Serial Number is 12345-ABCD",
        "0x",
        "1234-ABC",
        "-1",
    ] {
        assert_eq!(parse_vol_output(text), None, "{text:?}");
    }
    assert_eq!(format_serial(0x1234_ABCD), "1234-ABCD");
    assert_eq!(format_serial(0x001C_FDE0), "001C-FDE0");
    let mut x = 0x00C0_FFEEu32;
    for _ in 0..2_000 {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        assert_eq!(parse_vol_output(&format_serial(x)), Some(x));
        assert_eq!(parse_vol_output(&v2_value_name(x)), Some(x));
    }
}

// ---------------------------------------------------------------- report (vector 18)

#[test]
fn vector_18_report_output() {
    use EmoCheckVersion::*;
    assert_eq!(
        report_file_name(V0_0_2, "HOST", "20200210130620", false),
        "HOST_20200210130620_emocheck.txt"
    );
    assert_eq!(
        report_file_name(V2_0, "HOST", "20200210130620", true),
        "HOST_20200210130620_emocheck.json"
    );
    assert_eq!(
        report_file_name(V0_0_1, "HOST", "20200210130620", false),
        "20200210130620_emocheck.txt"
    );

    let clean = report_json(V0_0_2, "2020-02-10 13:06:20", "HOST", &[]);
    assert_eq!(
        clean,
        "{\n  \"scan_time\":\"2020-02-10 13:06:20\",\n  \"hostname\":\"HOST\",\n  \"emocheck_version\":\"0.0.2\",\n  \"is_infected\":\"no\"\n}\n"
    );
    let parsed: serde_json::Value = serde_json::from_str(&clean).unwrap();
    let object = parsed.as_object().unwrap();
    assert_eq!(object.len(), 4);
    assert_eq!(object["is_infected"], "no");

    let processes = [ReportProcess {
        process_name: "rundll32.exe".into(),
        process_id: 4242,
        image_path: r"C:\Users\A\AppData\Local\Abcd\qehxk.xwa".into(),
        registry_key: String::new(),
    }];
    let hit = report_json(V2_0, "2021-01-27 10:00:00", "HOST", &processes);
    let parsed: serde_json::Value = serde_json::from_str(&hit).unwrap();
    assert_eq!(parsed["is_infected"], "yes");
    assert_eq!(parsed["emotet_processes"][0]["process_id"], "4242");
    assert_eq!(
        parsed["emotet_processes"][0]["image_path"],
        r"C:\Users\A\AppData\Local\Abcd\qehxk.xwa"
    );
    assert_eq!(parsed["emotet_processes"][0]["registry_key"], "");
    let keys: Vec<&String> = parsed.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "scan_time",
            "hostname",
            "emocheck_version",
            "is_infected",
            "emotet_processes"
        ]
    );
    let old = report_json(V0_0_2, "t", "HOST", &processes);
    assert!(!old.contains("registry_key"));

    assert_eq!(exit_code(V1_0, false), 0);
    assert_eq!(exit_code(V1_0, true), 1);
    assert_eq!(exit_code(V2_0, true), 1);
    assert_eq!(exit_code(V2_0, false), 0);
    assert_eq!(exit_code(V0_0_2, true), 0);
    assert_eq!(exit_code(V0_0_1, true), 0);
    assert_eq!(USAGE_EXIT_CODE, 0);
}

// ---------------------------------------------------------------- robustness

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// A random string drawn from characters that matter here plus arbitrary code points.
fn random_string(x: &mut u64, max_chars: usize) -> String {
    const POOL: &[char] = &[
        'a', 'Z', 'k', '0', '9', ' ', '\t', '\n', '\r', '"', ',', '.', '%', '\\', '/', ':', '-',
        '{', '}', '$', '(', ')', 'İ', 'ß', 'ﬃ', 'Σ', '🌎', 'ボ', '\u{202E}', '\u{0}', '\u{3000}',
        '\u{0B}',
    ];
    let len = (xorshift(x) % (max_chars as u64 + 1)) as usize;
    (0..len)
        .map(|_| {
            let r = xorshift(x);
            if r.is_multiple_of(3) {
                char::from_u32((r >> 8) as u32 % 0x11_0000).unwrap_or('\u{FFFD}')
            } else {
                POOL[(r >> 8) as usize % POOL.len()]
            }
        })
        .collect()
}

#[test]
fn random_strings_never_panic() {
    let mut x = 0xDEAD_BEEF_CAFE_F00Du64;
    let keywords = |s: &str| s.len().is_multiple_of(2);
    for _ in 0..5_000 {
        let a = random_string(&mut x, 40);
        let b = random_string(&mut x, 12);
        let n = normalise_cmdline(&a);
        assert!(n.len() <= a.len());
        assert!(normalise_cmdline_relaxed(&a).len() <= 3 * a.len());
        if let Some(r) = syswow64_to_system32(&a) {
            assert_eq!(r.len(), a.len());
        }
        let name = v1_name(xorshift(&mut x) as u32);
        let _ = v1_matches_compat(&a, &name)
            | v1_matches_relaxed(&a, &name)
            | v1_matches_v001(&a, &name);
        let _ = v2_value_serial(&b);
        assert!(v2_decode_offline(&b, a.as_bytes()).is_none_or(|s| s.len() <= a.len()));
        let _ = v3_keyword(&a);
        let _ = v3_candidate(&b, &a, &keywords) | v3_candidate_relaxed(&b, &a, &keywords);
        let _ = v4_dir_ok(&a) | v4_file_ok(&a) | v4_run_name_ok(&a, &b);
        let _ = v4_command_ok(&a, &b) | v4_command_ok_relaxed(&a, &b);
        let _ = v4_process_matches(&a, &b, true) | v5_process_matches(&b, &a, &b, true);
        let _ = parse_vol_output(&a);
    }
}

#[test]
fn mutated_inputs_never_panic() {
    let sectors = [
        fixture("ntfs.bootsector"),
        fixture("fat32.bootsector"),
        fixture("fat16.bootsector"),
        fixture("exfat.bootsector"),
    ];
    let texts = [
        " ドライブ C のボリューム ラベルがありません。\r\n ボリューム シリアル番号は 1234-ABCD です\r\n",
        "Volume Serial Number : 0x1234abcd\r\nMax Component Length : 255\r\n",
        "0x6a1c2b3d1234abcd",
    ];
    let mut x = 0x0123_4567_89AB_CDEFu64;
    for round in 0..4_000 {
        let mut d = if round % 2 == 0 {
            sectors[round % sectors.len()].clone()
        } else {
            texts[round % texts.len()].as_bytes().to_vec()
        };
        let edits = 1 + xorshift(&mut x) % 8;
        for _ in 0..edits {
            let at = (xorshift(&mut x) as usize) % d.len().max(1);
            match xorshift(&mut x) % 4 {
                0 => d.truncate(at),
                1 => {
                    if let Some(b) = d.get_mut(at) {
                        *b ^= 1 << (xorshift(&mut x) % 8);
                    }
                }
                2 => {
                    if let Some(b) = d.get_mut(at) {
                        *b = xorshift(&mut x) as u8;
                    }
                }
                _ => d.insert(at.min(d.len()), xorshift(&mut x) as u8),
            }
        }
        let _ = serial_from_ntfs_boot_sector(&d);
        let _ = serial_from_boot_sector(&d);
        let _ = parse_vol_output(&String::from_utf8_lossy(&d));
        assert!(v2_decode(&d, round as u32).len() <= d.len());
    }
    // Bounded: a huge text is read only up to MAX_VOL_TEXT.
    let mut huge = "x".repeat(MAX_VOL_TEXT - 1);
    huge.push_str("ボ 1234-ABCD");
    assert_eq!(
        parse_vol_output(&huge),
        None,
        "cut before the serial, at a char boundary"
    );
}
