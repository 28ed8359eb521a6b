//! A PostgreSQL server for one test binary, started with `postgres.sh` and stopped when the
//! guard drops. `postgres.sh` also leaves a detached watchdog that stops the server once this
//! process has exited, so a test binary that is killed or aborts leaks no server either.

use std::path::PathBuf;
use std::process::Command;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/postgres.sh");
const INSTALL: &str =
    "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql";

/// A running throwaway server; dropping it stops the server and removes its directory.
pub struct PgServer {
    dir: PathBuf,
    /// URL of database `kensa_test` (user `postgres`, trust authentication, 127.0.0.1).
    pub url: String,
}

impl PgServer {
    /// Starts a server, or panics saying why (and which package to install). Never skips.
    pub fn start() -> PgServer {
        let dir = tempfile::Builder::new()
            .prefix("kensa-pg-")
            .tempdir_in("/tmp")
            .expect("temporary directory under /tmp")
            .keep();
        let out = Command::new("bash")
            .arg(SCRIPT)
            .arg("start")
            .arg(&dir)
            .arg(std::process::id().to_string())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {SCRIPT}: {e}"));
        if !out.status.success() {
            let _ = Command::new("bash")
                .arg(SCRIPT)
                .arg("stop")
                .arg(&dir)
                .status();
            panic!(
                "could not start PostgreSQL for the kensa-store tests ({}):\n{}\n\
                 PostgreSQL is required (these tests never skip). On Debian install it with:\n  {INSTALL}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            url.starts_with("postgres://"),
            "unexpected output from {SCRIPT}: {url:?}"
        );
        PgServer { dir, url }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(SCRIPT)
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}
