//! Fuzz regressions: every file under `fuzz/regressions/<target>/` is fed to the same calls as the
//! cargo-fuzz target of that name (`fuzz/fuzz_targets/<target>.rs`), and must return within a
//! minute without panicking. A panic that the code under test catches itself (the walker's and the
//! OLE wrapper's `catch_unwind`) fails too: libFuzzer aborts on those, and so does this test.
//!
//! The files are small hand-made or fuzzer-found inputs (no malware). To add one, minimise it with
//! `cargo fuzz tmin` and copy it into the target's folder under a descriptive name (see
//! `fuzz/README.md`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once, PoisonError, mpsc};
use std::time::Duration;

#[path = "../../../fuzz/targets.rs"]
mod targets;

/// The fuzz targets, each with a folder of regression inputs.
const TARGETS: &[&str] = targets::NAMES;

/// Bugs found by fuzzing and not fixed yet in `crates/`: `(target/file, debug builds only)`. Such
/// an input must still fail (so that the entry is removed once the bug is fixed); with `true`,
/// only in builds with debug assertions (a `debug_assert!` in a dependency). Empty: every input
/// found so far returns.
const OPEN: &[(&str, bool)] = &[];

/// Most time one input may take.
const DEADLINE: Duration = Duration::from_secs(60);

fn run_target(target: &str, data: &[u8]) {
    match target {
        // For `the_harness_sees_caught_panics`: a panic caught inside the code under test.
        "selftest-caught-panic" => {
            let _ = std::panic::catch_unwind(|| panic!("caught inside"));
        }
        name => targets::run(name, data),
    }
}

/// Panics on any thread since the hook was installed, caught or not (the walker reads members on
/// worker threads, so a per-thread count would miss panics caught there).
static PANICS: AtomicUsize = AtomicUsize::new(0);

/// One input at a time, so that the panic count of a run is that input's.
static SERIAL: Mutex<()> = Mutex::new(());

/// Counts every panic (then prints it as usual).
fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            default(info);
        }));
    });
}

/// How one input went.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Returned,
    /// Panicked (the count includes panics caught inside the code under test).
    Panicked(usize),
    TimedOut,
}

fn run_one(target: &'static str, data: Vec<u8>) -> Outcome {
    count_panics();
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let before = PANICS.load(Ordering::SeqCst);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(|| run_target(target, &data));
        let _ = tx.send(result.is_ok());
    });
    let Ok(returned) = rx.recv_timeout(DEADLINE) else {
        return Outcome::TimedOut;
    };
    match PANICS.load(Ordering::SeqCst) - before {
        0 if returned => Outcome::Returned,
        n => Outcome::Panicked(n.max(1)),
    }
}

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions")
}

/// The regression inputs of one target, sorted by name.
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = regressions_dir().join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .map_or_else(String::new, |n| format!("{target}/{}", n.to_string_lossy()));
            let data = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (name, data)
        })
        .collect()
}

/// Runs every input of `target`; fails listing each one that panicked or hung.
fn check(target: &'static str) {
    let files = inputs(target);
    assert!(
        !files.is_empty(),
        "no regression input in {}",
        regressions_dir().join(target).display()
    );
    let mut failures = Vec::new();
    for (name, data) in files {
        let outcome = run_one(target, data);
        let open = OPEN.iter().find(|(n, _)| *n == name);
        match (open, outcome) {
            (None, Outcome::Returned) => {}
            (None, bad) => failures.push(format!("{name}: {bad:?}")),
            (Some(_), Outcome::Panicked(_)) => {
                eprintln!("{name}: still panics (known, listed in OPEN)");
            }
            (Some((_, true)), Outcome::Returned) if !cfg!(debug_assertions) => {}
            (Some(_), Outcome::Returned) => failures.push(format!(
                "{name}: listed in OPEN but no longer panics: remove it from OPEN"
            )),
            (Some(_), bad) => failures.push(format!("{name}: {bad:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn regressions_exist_for_every_target_and_only_for_targets() {
    let dir = regressions_dir();
    let mut total = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        assert!(
            path.is_dir() && name.as_deref().is_some_and(|n| TARGETS.contains(&n)),
            "{}: not the folder of a fuzz target",
            path.display()
        );
    }
    for target in TARGETS {
        let n = inputs(target).len();
        assert!(n > 0, "no regression input for fuzz target {target}");
        total += n;
    }
    assert!(total >= TARGETS.len());
    for (name, _) in OPEN {
        let path = dir.join(name);
        assert!(
            path.is_file(),
            "OPEN lists a missing file {}",
            path.display()
        );
    }
}

#[test]
fn the_harness_sees_caught_panics() {
    assert_eq!(run_one("no-such-target", Vec::new()), Outcome::Panicked(1));
    assert_eq!(
        run_one("selftest-caught-panic", Vec::new()),
        Outcome::Panicked(1)
    );
    assert_eq!(run_one("ovba", vec![0x01]), Outcome::Returned);
}

#[test]
fn mime_walk() {
    check("mime_walk");
}

#[test]
fn mime_rfc822_alphabet() {
    check("mime_rfc822_alphabet");
}

#[test]
fn zip_entries() {
    check("zip");
}

#[test]
fn cfb_streams_and_vba() {
    check("cfb");
}

#[test]
fn ovba_decompression() {
    check("ovba");
}

#[test]
fn ppt_embedded_storages() {
    check("ppt");
}

#[test]
fn vba_keyword_scan() {
    check("vba_scan");
}

#[test]
fn xlm_macro_sheets() {
    check("xlm");
}

#[test]
fn dde_fields() {
    check("dde");
}

#[test]
fn rtf_objects() {
    check("rtf");
}

#[test]
fn lnk_shortcuts() {
    check("lnk");
}

#[test]
fn password_candidates() {
    check("password");
}

#[test]
fn registry_hives() {
    check("hive");
}

#[test]
fn reg_exports() {
    check("regexport");
}

#[test]
fn task_xml() {
    check("task");
}

#[test]
fn process_lists_and_listings() {
    check("proclist");
}

#[test]
fn emocheck_and_paths() {
    check("emocheck");
}

#[test]
fn milter_codec() {
    check("milter");
}
