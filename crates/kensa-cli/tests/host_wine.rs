//! `kensa host check` as a Windows program, run under Wine (tools/wine): the real `kensa.exe`
//! cross-compiled for x86_64-pc-windows-gnu, in a fresh Wine prefix with the bcryptprimitives shim
//! built from the repository's source. A clean prefix gives no detection; then real indicators are
//! planted with Wine's own tools — a Run value, a task file, a file in %LOCALAPPDATA% with an
//! EmoCheck v4 name, a running process named with EmoCheck's v1 keyword name for the volume serial
//! Wine reports (read, not assumed) — and each is found.
//!
//! Needs (installed by .ci/run): wine, wine64, gcc-mingw-w64-x86-64, the rustup target
//! x86_64-pc-windows-gnu.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Build kensa.exe (its own target folder, so the build does not wait on this test's cargo).
fn build_exe() -> PathBuf {
    let target_dir = workspace().join("target/wine-test");
    let st = Command::new(env!("CARGO"))
        .current_dir(workspace())
        .args([
            "build",
            "--target",
            "x86_64-pc-windows-gnu",
            "-p",
            "kensa-cli",
        ])
        .env("CARGO_TARGET_DIR", &target_dir)
        .status()
        .expect("cargo");
    assert!(
        st.success(),
        "cross build failed: install gcc-mingw-w64-x86-64 and `rustup target add x86_64-pc-windows-gnu`"
    );
    target_dir.join("x86_64-pc-windows-gnu/debug/kensa.exe")
}

struct Prefix {
    dir: tempfile::TempDir,
}

impl Prefix {
    fn new() -> Prefix {
        let dir = tempfile::Builder::new()
            .prefix("kensa-wine")
            .tempdir()
            .unwrap();
        let out = Command::new("sh")
            .arg(workspace().join("tools/wine/setup-prefix.sh"))
            .arg(dir.path())
            .output()
            .expect("sh");
        assert!(
            out.status.success(),
            "setup-prefix: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Prefix { dir }
    }

    fn wine(&self) -> Command {
        let mut c = Command::new("wine");
        c.env("WINEPREFIX", self.dir.path())
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut c = self.wine();
        c.args(args).stdin(Stdio::null());
        let child = c
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("wine");
        wait(child, Duration::from_secs(120))
    }

    fn drive_c(&self) -> PathBuf {
        self.dir.path().join("drive_c")
    }

    /// The Windows profile folder of the Unix user Wine runs as.
    fn profile(&self) -> (String, PathBuf) {
        let users = self.drive_c().join("users");
        let name = std::fs::read_dir(&users)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|n| n != "Public")
            .expect("a user profile");
        let path = users.join(&name);
        (name, path)
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let _ = Command::new("wineserver")
            .arg("-k")
            .env("WINEPREFIX", self.dir.path())
            .status();
    }
}

fn wait(mut child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("wine did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The report file in `dir` whose name ends with `suffix`.
fn report_file(dir: &Path, suffix: &str) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(suffix))
        .unwrap_or_else(|| panic!("no *{suffix} report in {}", dir.display()))
}

fn json_report(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(report_file(dir, "_kensa.json")).unwrap()).unwrap()
}

fn findings(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let loc: Vec<&str> = f["location"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|x| x.as_str())
                .collect();
            (
                f["symbol"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                loc.join(" > "),
            )
        })
        .collect()
}

/// UTF-16LE with a BOM, as Task Scheduler writes task files.
fn utf16(s: &str) -> Vec<u8> {
    let mut b = vec![0xFF, 0xFE];
    b.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
    b
}

#[test]
fn live_check_under_wine_clean_then_planted() {
    let exe = build_exe();
    let wp = Prefix::new();
    let exe_s = exe.to_str().unwrap();

    // 1. A clean prefix: nothing detected. Wine cannot give command lines (class 60), which the
    //    report states as incomplete, never as clean.
    let out_dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let o = wp.run(&[
        exe_s,
        "host",
        "check",
        "--json",
        "--quiet",
        "--output",
        out_dir.path().to_str().unwrap(),
    ]);
    let clean_secs = started.elapsed().as_secs_f64();
    let report = json_report(out_dir.path());
    let fs = findings(&report);
    let detections: Vec<_> = fs
        .iter()
        .filter(|(s, sev, _)| s != "HOST_INCOMPLETE" && sev != "info")
        .collect();
    assert!(detections.is_empty(), "clean prefix: {detections:?}");
    assert_eq!(report["is_infected"], "no");
    assert!(matches!(o.status.code(), Some(0 | 2)), "{o:?}");
    assert!(report["counts"]["processes"].as_u64().unwrap() > 0);
    eprintln!(
        "clean live check under Wine: {clean_secs:.2} s (exit {:?})",
        o.status.code()
    );

    // 2. Plant real indicators.
    let vol = wp.run(&["cmd", "/c", "vol", "c:"]);
    let serial = kensa_host::emocheck::parse_vol_output(&String::from_utf8_lossy(&vol.stdout))
        .expect("Wine reports a volume serial");
    let v1 = kensa_host::emocheck::v1_name(serial).compat;
    let (user, profile) = wp.profile();
    let local = profile.join("AppData/Local");
    let abcd = local.join("Abcd");
    std::fs::create_dir_all(&abcd).unwrap();
    let mut payload = b"MZ".to_vec();
    payload.resize(40_000, 0x90);
    std::fs::write(abcd.join("qehxk.xwa"), &payload).unwrap();
    let add = wp.run(&[
        "reg",
        "add",
        r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run",
        "/v",
        "Xyzabcd",
        "/t",
        "REG_SZ",
        "/d",
        &format!(
            r"C:\windows\system32\rundll32.exe C:\users\{user}\AppData\Local\Abcd\qehxk.xwa,RunDLL"
        ),
        "/f",
    ]);
    assert!(add.status.success(), "{add:?}");
    let tasks = wp.drive_c().join("windows/system32/Tasks");
    std::fs::create_dir_all(&tasks).unwrap();
    let task = format!(
        r#"<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo><Author>{user}</Author><URI>\Updater</URI></RegistrationInfo>
  <Triggers><LogonTrigger><Enabled>true</Enabled></LogonTrigger></Triggers>
  <Actions Context="Author"><Exec><Command>C:\Users\{user}\AppData\Roaming\Mozilla\updater.exe</Command></Exec></Actions>
</Task>
"#
    );
    std::fs::write(tasks.join("Updater"), utf16(&task)).unwrap();
    // A running process with the v1 keyword name (a copy of Wine's ping, which stays alive).
    let runner = local.join(format!("{v1}.exe"));
    std::fs::copy(wp.drive_c().join("windows/system32/ping.exe"), &runner).unwrap();
    let mut bot = wp
        .wine()
        .arg(format!(r"C:\users\{user}\AppData\Local\{v1}.exe"))
        .args(["-n", "120", "127.0.0.1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));

    // 3. The check finds each, with EmoCheck's switches.
    let out_dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let o = wp.run(&[
        exe_s,
        "host",
        "check",
        "/quiet",
        "/json",
        "/output",
        out_dir.path().to_str().unwrap(),
        "--emocheck-json",
    ]);
    let planted_secs = started.elapsed().as_secs_f64();
    let _ = bot.kill();
    let _ = bot.wait();
    assert_eq!(o.status.code(), Some(1), "detection exit code: {o:?}");
    let report = json_report(out_dir.path());
    let fs = findings(&report);
    let has =
        |sym: &str, loc_part: &str| fs.iter().any(|(s, _, l)| s == sym && l.contains(loc_part));
    assert!(
        has("HOST_EMOTET_PERSISTENCE", r"CurrentVersion\Run > Xyzabcd"),
        "{fs:?}"
    );
    assert!(
        has("HOST_TASK_SUSPICIOUS", r"task > \Updater") || has("HOST_TRICKBOT", r"\Updater"),
        "{fs:?}"
    );
    assert!(has("HOST_EMOTET_PROCESS", &format!("{v1}.exe")), "{fs:?}");
    assert_eq!(report["is_infected"], "yes");
    let procs = report["emotet_processes"].as_array().unwrap();
    assert!(
        procs
            .iter()
            .any(|p| p["process_name"] == format!("{v1}.exe") && p["process_id"].is_string()),
        "{procs:?}"
    );
    // EmoCheck's own JSON beside it, in EmoCheck's key order.
    let emo_text = std::fs::read_to_string(report_file(out_dir.path(), "_emocheck.json")).unwrap();
    assert!(emo_text.starts_with("{\n  \"scan_time\":\""), "{emo_text}");
    assert!(emo_text.contains("\"is_infected\":\"yes\""), "{emo_text}");
    eprintln!("planted live check under Wine: {planted_secs:.2} s; serial {serial:08X} → {v1}.exe");
}
