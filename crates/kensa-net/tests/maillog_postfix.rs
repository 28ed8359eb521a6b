//! A real Postfix, started by `tests/support/postfix-burst.sh` in a throwaway instance on
//! 127.0.0.1, logs an outbound burst (60 messages from one account on an infected PC) next to
//! normal mail; the log is parsed and the burst must be found for the bursting account and not
//! for the normal one.
//!
//! Needs root and the Debian packages `postfix` and `swaks` (with the debconf answer
//! `postfix postfix/main_mailer_type select No configuration`). Without them the test FAILS
//! (it never skips), naming what to install.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use kensa_net::maillog::{
    BurstConfig, Detector, IdentityKind, MailLogOptions, MailStatus, YearHint, parse_maillog_to_vec,
};

const INSTALL: &str = "install the Debian packages postfix and swaks: \
    echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postfix swaks \
    (and run the tests as root)";

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn real_postfix_burst_is_found_for_the_bursting_account_only() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/postfix-burst.sh"
    );
    let dir =
        TempDir(std::env::temp_dir().join(format!("kensa-maillog-test-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).expect("temp dir");
    let log = dir.0.join("maillog");

    let started = Instant::now();
    let out = Command::new("bash")
        .arg(script)
        .arg(&log)
        .output()
        .unwrap_or_else(|e| panic!("cannot run bash {script}: {e}; {INSTALL}"));
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "postfix-burst.sh failed ({}):\n{}\n{}\n{INSTALL}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("real Postfix run took {:.1} s", took.as_secs_f64());

    let bytes = std::fs::read(&log).expect("the script wrote the log");
    let opts = MailLogOptions::new(YearHint::ending_now());
    let (events, stats) = parse_maillog_to_vec(&bytes[..], &opts).expect("in-memory read");
    assert!(stats.is_mail_log());
    assert_eq!(stats.malformed, 0, "{:#?}", stats.issues);
    assert_eq!(
        stats.postfix_lines, stats.lines,
        "postlogd writes only Postfix lines"
    );
    let alice = events
        .iter()
        .filter(|e| e.sasl_username.as_deref() == Some("alice"))
        .count();
    assert_eq!(
        alice, 63,
        "60 burst messages, 1 refused recipient, 2 from other PCs"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.sasl_username.as_deref() == Some("carol"))
            .count(),
        6
    );

    let mut det = Detector::new(BurstConfig::default());
    for e in &events {
        det.push(e);
    }
    let d = det.finish();
    assert_eq!(d.own_domains, ["corp.test"], "inferred from the senders");
    let bursts: Vec<_> = d
        .findings
        .iter()
        .filter(|f| f.kind == "MAIL_BURST")
        .collect();
    assert_eq!(bursts.len(), 1, "{:#?}", d.findings);
    let b = bursts[0];
    assert_eq!(b.identity.kind, IdentityKind::Account);
    assert_eq!(b.identity.value, "alice");
    assert_eq!(b.window_secs, 300);
    assert!(b.count >= 60, "{b:#?}");
    assert_eq!(b.baseline, None, "minutes of history: fixed floor");
    assert!(b.evidence.contains("fixed floor only"), "{}", b.evidence);
    assert_eq!(b.external_share, Some(1.0));
    assert!(
        b.distinct_domains >= 14,
        "victim1..12, bounce, defer, reject: {b:#?}"
    );
    assert_eq!(b.status_mix.bounced, 2);
    assert_eq!(b.status_mix.rejected, 1);
    assert_eq!(b.status_mix.deferred, 1);
    assert!(
        b.window_end - b.window_start < 120,
        "sent within a minute or two"
    );
    assert_eq!(b.sample_message_ids.len(), 5);
    for id in &b.sample_message_ids {
        assert!(
            events
                .iter()
                .any(|e| e.message_id.as_deref() == Some(id.as_str())
                    && e.sasl_username.as_deref() == Some("alice")),
            "sample {id} is one of alice's messages"
        );
    }
    assert!(
        d.findings.iter().all(|f| f.identity.value != "carol"),
        "nothing for the normal sender: {:#?}",
        d.findings
    );

    // Alice's account from three PCs, and two messages with a foreign envelope sender.
    let ips = d
        .findings
        .iter()
        .find(|f| f.kind == "MAIL_ACCOUNT_MANY_IPS")
        .expect("account from many IPs");
    assert_eq!(ips.identity.value, "alice");
    let mut rel = ips.related.clone();
    rel.sort();
    assert_eq!(rel, ["10.1.6.206", "10.1.6.207", "10.1.6.208"]);
    let mm = d
        .findings
        .iter()
        .find(|f| f.kind == "MAIL_SENDER_MISMATCH")
        .expect("sender mismatch");
    assert_eq!(mm.identity.value, "alice");
    assert_eq!(mm.count, 2);
    assert_eq!(mm.related, ["invoice@billing-othercorp.example"]);
    assert!(
        events
            .iter()
            .any(|e| e.status == MailStatus::Deferred && !e.complete),
        "the deferred message, deleted by postsuper, stays open"
    );
}
