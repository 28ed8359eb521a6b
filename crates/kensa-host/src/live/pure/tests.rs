use super::*;

/// A class-60 buffer as Windows x64 lays it out at `base`: header of 16 bytes, text right after.
fn cmdline_buf(text: &str, base: u64) -> Vec<u8> {
    let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let len = u16::try_from(bytes.len()).unwrap();
    let mut buf = Vec::new();
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&[0; 4]);
    buf.extend_from_slice(&base.wrapping_add(16).to_le_bytes());
    buf.extend_from_slice(&bytes);
    buf
}

#[test]
fn filetime_joins_halves() {
    assert_eq!(filetime(0, 0), 0);
    assert_eq!(filetime(1, 0), 1 << 32);
    // 2012-04-03T21:19:54.837716Z (host spec §7, regipy NTUSER.DAT Run key time).
    let ft: u64 = 129_779_615_948_377_168;
    assert_eq!(filetime((ft >> 32) as u32, ft as u32), ft);
}

#[test]
fn wide_strings_round_trip_and_stop_at_nul() {
    let w = to_wide_nul("C:\\Users\\tëst");
    assert_eq!(w.last(), Some(&0));
    assert_eq!(wide_to_string(&w), "C:\\Users\\tëst");
    assert_eq!(wide_to_string(&[0x41, 0x42, 0, 0x43]), "AB");
    assert_eq!(wide_to_string(&[0x41, 0xD800]), "A\u{FFFD}");
    assert_eq!(wide_to_string(&[]), "");
}

#[test]
fn unicode_string_x64_layout() {
    let base = 0x0000_0200_1234_0000;
    let text =
        r#""C:\Windows\system32\rundll32.exe" C:\Users\a\AppData\Local\Abcd\qehxk.xwa,RunDLL"#;
    let buf = cmdline_buf(text, base);
    assert_eq!(decode_unicode_string(&buf, base, 8).as_deref(), Some(text));
}

#[test]
fn unicode_string_pointer_outside_buffer_falls_back_to_header_end() {
    let buf = cmdline_buf("notepad.exe x", 0x1000);
    // Decoded as if the buffer lived elsewhere: the pointer no longer lies inside it.
    assert_eq!(
        decode_unicode_string(&buf, 0x9999_0000, 8).as_deref(),
        Some("notepad.exe x")
    );
}

#[test]
fn unicode_string_x86_layout() {
    let text = "a b";
    let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut buf = vec![6, 0, 6, 0];
    buf.extend_from_slice(&(0x5000u32 + 8).to_le_bytes());
    buf.extend_from_slice(&bytes);
    assert_eq!(
        decode_unicode_string(&buf, 0x5000, 4).as_deref(),
        Some("a b")
    );
}

#[test]
fn unicode_string_rejects_short_or_overlong() {
    assert_eq!(decode_unicode_string(&[], 0, 8), None);
    assert_eq!(decode_unicode_string(&[4, 0, 4, 0, 0, 0, 0], 0, 8), None);
    let mut buf = cmdline_buf("abc", 0);
    buf[0] = 200; // Length beyond the buffer.
    assert_eq!(decode_unicode_string(&buf, 0, 8), None);
    assert_eq!(decode_unicode_string(&cmdline_buf("abc", 0), 0, 3), None);
    // Odd length: the last byte is dropped.
    let mut odd = cmdline_buf("ab", 0);
    odd[0] = 3;
    assert_eq!(decode_unicode_string(&odd, 0, 8).as_deref(), Some("a"));
    // Empty command line.
    assert_eq!(
        decode_unicode_string(&cmdline_buf("", 0), 0, 8).as_deref(),
        Some("")
    );
}

/// xorshift64: deterministic mutations without a dependency.
fn xorshift(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}

#[test]
fn unicode_string_mutations_never_panic_and_stay_bounded() {
    let seeds = [
        cmdline_buf(
            r"C:\Windows\system32\rundll32.exe C:\x\qehxk.xwa,RunDLL",
            0x7000,
        ),
        cmdline_buf("", 0),
        cmdline_buf(&"x".repeat(2000), 0xFFFF_FFFF_FFFF_FFF0),
    ];
    let mut st = 0x9E37_79B9_7F4A_7C15u64;
    let mut decoded = 0usize;
    for i in 0..6000 {
        let seed = &seeds[i % seeds.len()];
        let mut b = seed.clone();
        match xorshift(&mut st) % 3 {
            0 => b.truncate((xorshift(&mut st) as usize) % (seed.len() + 1)),
            1 => {
                for _ in 0..1 + xorshift(&mut st) % 4 {
                    let at = (xorshift(&mut st) as usize) % b.len();
                    b[at] ^= 1 << (xorshift(&mut st) % 8);
                }
            }
            _ => {
                let at = (xorshift(&mut st) as usize) % b.len().min(16);
                b[at] = xorshift(&mut st) as u8;
            }
        }
        let base = if i % 2 == 0 {
            0x7000
        } else {
            xorshift(&mut st)
        };
        for width in [4, 8] {
            if let Some(s) = decode_unicode_string(&b, base, width) {
                // Never more characters than bytes in the buffer.
                assert!(s.chars().count() <= b.len() / 2);
                decoded += 1;
            }
        }
    }
    assert!(decoded > 1000, "mutations decoded: {decoded}");
}

#[test]
fn sid_filter() {
    use SidKind::*;
    assert_eq!(
        classify_sid("S-1-5-21-3623811015-3361044348-30300820-1013"),
        User
    );
    assert_eq!(classify_sid("S-1-5-21-0-0-0-1000"), User);
    assert_eq!(classify_sid("S-1-12-1-1234567-89-10-11"), User);
    assert_eq!(classify_sid("S-1-5-18"), Service);
    assert_eq!(classify_sid("S-1-5-19"), Service);
    assert_eq!(classify_sid("S-1-5-20"), Service);
    assert_eq!(
        classify_sid("S-1-5-21-3623811015-3361044348-30300820-1013_Classes"),
        Other
    );
    assert_eq!(classify_sid("S-1-5-18_Classes"), Other);
    assert_eq!(classify_sid(".DEFAULT"), Other);
    assert_eq!(classify_sid("S-1-5-21"), Other);
    assert_eq!(classify_sid("S-1-5-21-"), Other);
    assert_eq!(classify_sid("S-1-5-32-544"), Other);
    assert_eq!(classify_sid("s-1-5-21-1-2-3-4"), Other);
    assert_eq!(classify_sid(""), Other);
}

#[test]
fn joining_and_relative_names() {
    assert_eq!(join(r"C:\Windows\", "Temp"), r"C:\Windows\Temp");
    assert_eq!(join(r"C:\", r"\Users"), r"C:\Users");
    assert_eq!(join("C:", "x"), r"C:\x");
    assert_eq!(join("", "x"), "x");
    let root = r"C:\Windows\System32\Tasks";
    assert_eq!(
        relative_to(
            root,
            r"C:\windows\system32\tasks\Microsoft\Windows\Defrag\ScheduledDefrag"
        )
        .as_deref(),
        Some(r"Microsoft\Windows\Defrag\ScheduledDefrag")
    );
    assert_eq!(
        relative_to(&format!("{root}\\"), &format!("{root}\\GameOver")).as_deref(),
        Some("GameOver")
    );
    assert_eq!(relative_to(root, root), None);
    assert_eq!(relative_to(root, r"C:\Windows\System32\TasksX\a"), None);
    assert_eq!(relative_to(root, r"C:\"), None);
    assert_eq!(relative_to(r"C:\Ü", r"C:\ü\a").as_deref(), Some("a"));
}

#[test]
fn system_names() {
    assert_eq!(system_base_name("svchost.exe").as_deref(), Some("svchost"));
    assert_eq!(
        system_base_name("KERNEL32.DLL").as_deref(),
        Some("kernel32")
    );
    assert_eq!(
        system_base_name("api-ms-win-core-file-l1-1-0.dll").as_deref(),
        Some("api-ms-win-core-file-l1-1-0")
    );
    assert_eq!(system_base_name("notes.txt"), None);
    assert_eq!(system_base_name("exe"), None);
    assert_eq!(system_base_name(".dll"), None);
    assert_eq!(system_base_name("a.exe.mui"), None);
}

#[test]
fn volume_roots() {
    assert_eq!(volume_root(r"C:\Windows"), r"C:\");
    assert_eq!(volume_root(r"D:\WINNT"), r"D:\");
    assert_eq!(volume_root(""), r"C:\");
    assert_eq!(volume_root(r"\\?\C:\Windows"), r"C:\");
    assert_eq!(volume_root("é:\\x"), r"C:\");
}

#[test]
fn environment_expansion() {
    let env = |n: &str| match n.to_ascii_uppercase().as_str() {
        "SYSTEMDRIVE" => Some("C:".to_string()),
        "USERPROFILE" => Some(r"C:\Users\a".to_string()),
        _ => None,
    };
    assert_eq!(expand_env(r"%SystemDrive%\Users\bob", env), r"C:\Users\bob");
    assert_eq!(
        expand_env(r"%USERPROFILE%\AppData", env),
        r"C:\Users\a\AppData"
    );
    assert_eq!(expand_env("%NOPE%", env), "%NOPE%");
    assert_eq!(expand_env("100% sure", env), "100% sure");
    assert_eq!(expand_env("%%", env), "%%");
    assert_eq!(expand_env("%NOPE%SystemDrive%", env), "%NOPEC:");
    assert_eq!(expand_env("a%", env), "a%");
    assert_eq!(expand_env("", env), "");
    let big = |_: &str| Some("é".repeat(20_000));
    let out = expand_env("%A%%A%", big);
    assert!(out.len() <= 32_767 && !out.is_empty());
}

#[test]
fn long_paths_get_the_prefix() {
    assert_eq!(long_path(r"C:\Windows"), r"C:\Windows");
    let long = format!(r"C:\{}", "a".repeat(250));
    assert_eq!(long_path(&long), format!(r"\\?\{long}"));
    let unc = format!(r"\\server\{}", "a".repeat(250));
    assert_eq!(long_path(&unc), unc);
}

#[test]
fn error_texts() {
    assert!(describe_win32(5).contains("access denied"));
    assert!(describe_win32(5).contains("administrator"));
    assert_eq!(describe_win32(1234), "Windows error 1234");
    assert!(describe_ntstatus(0xC000_0003u32 as i32).contains("8.1"));
    assert_eq!(
        describe_ntstatus(0xC000_0005u32 as i32),
        "NTSTATUS 0xC0000005"
    );
}

#[test]
fn mz_and_head_policy() {
    assert!(head_is_mz(b"MZ\x90\x00"));
    assert!(head_is_mz(b"MZ"));
    assert!(!head_is_mz(b"M"));
    assert!(!head_is_mz(b"ZM"));
    assert!(system_subdir_head_wanted("qehxk.xwa", None, None));
    assert!(system_subdir_head_wanted("ABCD.DLL", None, None));
    assert!(!system_subdir_head_wanted("ab.xwa", None, None));
    assert!(!system_subdir_head_wanted("kernel32.dll.mui", None, None));
    assert!(!system_subdir_head_wanted("a1bc.dll", None, None));
    let week = 604_800 * FILETIME_PER_SECOND;
    let f = 132_000_000_000_000_000u64;
    assert!(system_subdir_head_wanted(
        "x_1.bin",
        Some(f + week),
        Some(f)
    ));
    assert!(!system_subdir_head_wanted(
        "x_1.bin",
        Some(f + week / 7),
        Some(f)
    ));
    assert!(!system_subdir_head_wanted(
        "x_1.bin",
        Some(f),
        Some(f + week)
    ));
    assert!(!system_subdir_head_wanted("x_1.bin", None, Some(f)));
}

#[test]
fn tally_summarises() {
    let mut t = Tally::default();
    assert_eq!(t.summary("files"), None);
    for i in 0..5 {
        t.add(format!("f{i}"));
    }
    assert_eq!(
        t.summary("files").as_deref(),
        Some("5 files (e.g. f0; f1; f2)")
    );
}
