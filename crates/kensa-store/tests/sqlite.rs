//! The shared cases (`support/cases.rs`) against SQLite files in a tempdir, one test each,
//! plus what only SQLite has (several handles on one file, file permissions, the file's bytes).

mod support;

use kensa_store::{Filter, Store, StoreError};
use support::{Ctx, sample};

macro_rules! sqlite_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                support::cases::$name(&Ctx::sqlite()).await;
            }
        )*
    };
}
support::cases::for_each_case! {sqlite_tests}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_shows_the_absolute_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quarantine.db");
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    assert_eq!(store.describe(), format!("sqlite:{}", path.display()));
    assert!(!store.is_postgres());
    store.close().await;
    let url = format!("sqlite://{}", path.display());
    let again = Store::open(&url).await.unwrap();
    assert_eq!(again.describe(), format!("sqlite:{}", path.display()));
}

/// Two gateways on one host open the same file and write at the same time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_on_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db").display().to_string();
    let (a, b) = tokio::join!(Store::open(&path), Store::open(&path));
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut tasks = Vec::new();
    for (t, s) in [
        (0u32, a.clone()),
        (1, b.clone()),
        (2, a.clone()),
        (3, b.clone()),
    ] {
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..20u32 {
                ids.push(s.put(&sample(t * 100 + i)).await.expect("put"));
            }
            ids
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.extend(t.await.unwrap());
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 80);
    let all = Filter {
        limit: Some(1000),
        ..Filter::default()
    };
    assert_eq!(a.list(&all).await.unwrap().len(), 80);
    assert_eq!(b.list(&all).await.unwrap().len(), 80);
    a.set_status(ids[0], kensa_store::Status::Released, "a", "")
        .await
        .unwrap();
    let r = b
        .set_status(ids[0], kensa_store::Status::Released, "b", "")
        .await;
    assert!(matches!(r, Err(StoreError::Transition { .. })), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purged_bytes_leave_the_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    let marker = b"KENSA-PURGE-MARKER-6b656e7361";
    let mut m = sample(1);
    m.raw = marker.repeat(2_000);
    let id = store.put(&m).await.unwrap();
    let keep = store.put(&sample(2)).await.unwrap();
    store.delete_raw(id, "admin").await.unwrap();
    store.close().await;
    let file = std::fs::read(&path).unwrap();
    assert!(
        !file.windows(marker.len()).any(|w| w == marker),
        "purged message bytes must not remain in the database file"
    );
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    assert_eq!(store.raw(keep).await.unwrap().unwrap(), sample(2).raw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_memory_and_reports_missing_directories() {
    for bad in [":memory:", "sqlite::memory:", "", "mysql://root:pw@h/db"] {
        let r = Store::open(bad).await;
        assert!(
            matches!(r, Err(StoreError::BadAddress { .. })),
            "{bad}: {r:?}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/q.db");
    let err = Store::open(path.to_str().unwrap()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(
        matches!(err, StoreError::Database { what: "open", .. }),
        "{err:?}"
    );
}

/// The file is made read-only (a full or read-only filesystem, a wrong owner): opening
/// for review still works, every put fails with an error naming the store (the milter then
/// answers tempfail). Root ignores file modes, so as root the check runs in a child process as
/// `nobody` (via `runuser`, as CI runs as root).
#[test]
fn put_fails_after_the_database_is_made_read_only() {
    const CHILD: &str = "KENSA_STORE_READONLY_DIR";
    if let Some(dir) = std::env::var_os(CHILD) {
        return read_only_check(std::path::Path::new(&dir));
    }
    if !is_root() {
        let dir = tempfile::tempdir().unwrap();
        return read_only_check(dir.path());
    }
    let dir = tempfile::tempdir().unwrap();
    let (uid, gid) = (id_of("-u"), id_of("-g"));
    std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
    let out = std::process::Command::new("runuser")
        .args(["-u", "nobody", "--"])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", "put_fails_after_the_database_is_made_read_only"])
        .args(["--nocapture", "--test-threads=1"])
        .env(CHILD, dir.path())
        .output()
        .expect("runuser (util-linux)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child as nobody failed:\n{text}");
    assert!(
        text.contains("1 passed"),
        "the check must have run in the child:\n{text}"
    );
}

fn read_only_check(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let path = dir.join("q.db");
        let p = path.to_str().unwrap();
        let store = Store::open(p).await.unwrap();
        let id = store.put(&sample(1)).await.unwrap();
        store.close().await;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();

        let store = Store::open(p)
            .await
            .expect("a read-only store still opens for review");
        assert_eq!(store.raw(id).await.unwrap().unwrap(), sample(1).raw);
        assert_eq!(store.list(&Filter::default()).await.unwrap().len(), 1);
        let err = store
            .put(&sample(2))
            .await
            .expect_err("put into a read-only file");
        let text = err.to_string();
        eprintln!("read-only store: {text}");
        assert!(
            text.contains(&store.describe()) && text.contains("put"),
            "{text}"
        );
        assert!(
            text.to_lowercase().contains("readonly") || text.to_lowercase().contains("read-only"),
            "{text}"
        );
        let err = store
            .set_status(id, kensa_store::Status::Released, "a", "")
            .await;
        assert!(matches!(err, Err(StoreError::Database { .. })), "{err:?}");
        assert_eq!(
            store.list(&Filter::default()).await.unwrap().len(),
            1,
            "nothing half-written"
        );
        store.close().await;
    });
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

fn id_of(flag: &str) -> u32 {
    let out = std::process::Command::new("id")
        .args([flag, "nobody"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("id of nobody")
}
