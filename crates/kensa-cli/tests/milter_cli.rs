//! `kensa milter --check` and configuration errors, through the binary.

mod common;

#[test]
fn check_reports_the_settings_and_opens_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("kensa.toml");
    std::fs::write(
        &cfg,
        "listen = \"inet:127.0.0.1:0\"\nstore = \"q.db\"\non_error = \"quarantine\"\nscan_timeout = 5\n",
    )
    .unwrap();
    let out = common::kensa()
        .args(["milter", "--check", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("inet:127.0.0.1:0"), "{err}");
    assert!(err.contains("on_error quarantine"), "{err}");
    // The store path is relative to the configuration file, and --check created it.
    assert!(dir.path().join("q.db").exists());
}

#[test]
fn bad_configurations_exit_3_with_their_code() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("kensa.toml");
    for (text, code) in [
        ("on_error = \"reject\"", "C104"),
        ("[policy]\nreject_reply = \"250 fine\"", "C105"),
        ("listen = \"tcp:25\"", "C103"),
        ("nonsense = 1", "C102"),
    ] {
        std::fs::write(&cfg, text).unwrap();
        let out = common::kensa()
            .args(["milter", "--check", "--config"])
            .arg(&cfg)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{text}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(code),
            "{text}: {out:?}"
        );
    }
    let out = common::kensa()
        .args(["milter", "--config", "/nonexistent/kensa.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("C101"));
}
