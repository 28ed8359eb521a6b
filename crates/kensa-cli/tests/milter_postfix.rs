//! `kensa milter` behind a REAL Postfix (started by tests/support/postfix-milter.sh on 127.0.0.1),
//! fed with swaks: clean mail delivered unchanged but for the result headers, suspicious mail
//! tagged, malicious mail quarantined and released byte-exact, reject with the configured reply,
//! and the milter killed: Postfix applies `milter_default_action` and no message is lost.
//!
//! Delivery goes to an SMTP sink in this test (Postfix's relayhost), so the test sees the bytes
//! the next hop would get. The Emotet document is read from the corpus ZIP in memory and handed to
//! swaks on standard input: it never touches the disk.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use common::corpus;

/// One message as the sink received it.
#[derive(Debug, Clone)]
struct Delivered {
    rcpts: Vec<String>,
    data: Vec<u8>,
}

/// A minimal SMTP server: records every message (dot-stuffing undone).
struct Sink {
    port: u16,
    got: Arc<Mutex<Vec<Delivered>>>,
}

impl Sink {
    fn start() -> Sink {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let g = g.clone();
                std::thread::spawn(move || {
                    let _ = sink_session(s, &g);
                });
            }
        });
        Sink { port, got }
    }

    fn messages(&self) -> Vec<Delivered> {
        self.got.lock().unwrap().clone()
    }

    /// Wait until a delivered message contains `marker`.
    fn wait_for(&self, marker: &str) -> Delivered {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(m) = self
                .messages()
                .into_iter()
                .find(|m| contains(&m.data, marker))
            {
                return m;
            }
            assert!(Instant::now() < deadline, "nothing delivered with {marker}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn sink_session(s: TcpStream, got: &Mutex<Vec<Delivered>>) -> std::io::Result<()> {
    let mut w = s.try_clone()?;
    let mut r = BufReader::new(s);
    w.write_all(b"220 sink.test ESMTP\r\n")?;
    let mut rcpts = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            w.write_all(b"250-sink.test\r\n250 8BITMIME\r\n")?;
        } else if upper.starts_with("RCPT") {
            rcpts.push(line[8..].trim().trim_matches(['<', '>']).to_string());
            w.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("DATA") {
            w.write_all(b"354 go\r\n")?;
            let mut data = Vec::new();
            loop {
                let mut l = Vec::new();
                r.read_until(b'\n', &mut l)?;
                if l == b".\r\n" || l.is_empty() {
                    break;
                }
                let l = if l.starts_with(b"..") {
                    &l[1..]
                } else {
                    &l[..]
                };
                data.extend_from_slice(l);
            }
            got.lock().unwrap().push(Delivered {
                rcpts: std::mem::take(&mut rcpts),
                data,
            });
            w.write_all(b"250 queued\r\n")?;
        } else if upper.starts_with("QUIT") {
            w.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            w.write_all(b"250 ok\r\n")?;
        }
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/postfix-milter.sh")
}

/// The Postfix instance; stopped when dropped.
struct Postfix {
    dir: PathBuf,
    smtp: u16,
    reinject: u16,
}

impl Postfix {
    fn start(dir: &Path, milter: u16, sink: u16) -> Postfix {
        let (smtp, reinject) = (free_port(), free_port());
        let out = Command::new("bash")
            .arg(script())
            .args(["start", dir.to_str().unwrap()])
            .args([smtp, reinject, milter, sink].map(|p| p.to_string()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "postfix start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Postfix {
            dir: dir.to_path_buf(),
            smtp,
            reinject,
        }
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("bash")
            .arg(script())
            .arg(args[0])
            .arg(&self.dir)
            .args(&args[1..])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn held(&self) -> usize {
        self.run(&["queue"])
            .lines()
            .filter(|l| {
                l.contains("\"queue_name\": \"hold\"") || l.contains("\"queue_name\":\"hold\"")
            })
            .count()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

/// swaks: send `message` from standard input; returns (exit code, transcript).
fn swaks(port: u16, to: &str, message: &[u8]) -> (i32, String) {
    let mut child = Command::new("swaks")
        .args(["--server", "127.0.0.1", "--port", &port.to_string()])
        .args(["--from", "sender@partner.example", "--to", to])
        .args(["--helo", "client.test", "--data", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("swaks (install the Debian package swaks)");
    child.stdin.take().unwrap().write_all(message).unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// The milter process; killed when dropped (also when an assertion fails).
struct MilterProc(Child);

impl MilterProc {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for MilterProc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn kensa_milter(config: &Path, port: u16) -> MilterProc {
    let child = Command::new(assert_cmd::cargo::cargo_bin("kensa"))
        .args(["milter", "--config"])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let p = MilterProc(child);
    wait_port(port);
    p
}

fn quarantine(store: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(assert_cmd::cargo::cargo_bin("kensa"))
        .arg("quarantine")
        .args(args)
        .args(["--store", store, "--actor", "test-admin"])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// The held messages as JSON values.
fn held(store: &str) -> Vec<serde_json::Value> {
    let (ok, out) = quarantine(store, &["list", "--format", "jsonl"]);
    assert!(ok, "{out}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn wait_held(store: &str, n: usize) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let h = held(store);
        if h.len() >= n {
            return h;
        }
        assert!(Instant::now() < deadline, "{} held, wanted {n}", h.len());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// LF line ends, for comparing what swaks sent (it sends CRLF) with the original file.
fn lf(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    for (i, &c) in b.iter().enumerate() {
        if !(c == b'\r' && b.get(i + 1) == Some(&b'\n')) {
            out.push(c);
        }
    }
    out
}

/// The same message but for line ends (swaks sends CRLF, and puts a line end of its own before
/// the final dot, so trailing empty lines are not compared); on a difference, show where.
fn same_bytes(got: &[u8], want: &[u8], what: &str) {
    let trim = |mut v: Vec<u8>| {
        while v.last() == Some(&b'\n') {
            v.pop();
        }
        v
    };
    let (g, w) = (trim(lf(got)), trim(lf(want)));
    if g != w {
        let at = g
            .iter()
            .zip(&w)
            .position(|(a, b)| a != b)
            .unwrap_or(g.len().min(w.len()));
        let show = |b: &[u8]| {
            String::from_utf8_lossy(&b[at.saturating_sub(80)..(at + 80).min(b.len())]).into_owned()
        };
        panic!(
            "{what} bytes differ at {at} (got {} bytes, sent {}):\n--- got\n{}\n--- sent\n{}",
            g.len(),
            w.len(),
            show(&g),
            show(&w)
        );
    }
}

/// Remove the `Received:` field Postfix puts on top (with its continuation lines).
fn drop_first_received(msg: &[u8]) -> Vec<u8> {
    assert!(
        msg.starts_with(b"Received:"),
        "Postfix's Received: line first"
    );
    let mut lines = msg.split_inclusive(|&b| b == b'\n').peekable();
    lines.next();
    while lines
        .peek()
        .is_some_and(|l| l.starts_with(b" ") || l.starts_with(b"\t"))
    {
        lines.next();
    }
    lines.flatten().copied().collect()
}

/// Remove header fields named `name` (with their continuation lines) from a message.
fn drop_headers(msg: &[u8], name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut skipping = false;
    let mut in_body = false;
    for line in msg.split_inclusive(|&b| b == b'\n') {
        if in_body {
            out.extend_from_slice(line);
            continue;
        }
        if line == b"\n" || line == b"\r\n" {
            in_body = true;
            out.extend_from_slice(line);
            continue;
        }
        let cont = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if !cont {
            skipping = line.len() > name.len()
                && line[..name.len()].eq_ignore_ascii_case(name.as_bytes())
                && line[name.len()] == b':';
        }
        if !skipping {
            out.extend_from_slice(line);
        }
    }
    out
}

fn header(msg: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(msg);
    let mut lines = text.split("\r\n").take_while(|l| !l.is_empty()).peekable();
    while let Some(l) = lines.next() {
        if l.len() > name.len()
            && l[..name.len()].eq_ignore_ascii_case(name)
            && l.as_bytes()[name.len()] == b':'
        {
            let mut v = l[name.len() + 1..].to_string();
            while let Some(c) = lines.peek().filter(|c| c.starts_with([' ', '\t'])) {
                v.push_str(c);
                lines.next();
            }
            return Some(v.trim().to_string());
        }
    }
    None
}

/// A Japanese invoice mail carrying one of the 2019 Emotet documents (from the corpus ZIP, in
/// memory).
fn emotet_mail(marker: &str) -> Vec<u8> {
    let data = std::fs::read(corpus().join("office/emotet-droppers-2019-06.zip")).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(data)).unwrap();
    let mut doc = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index_decrypt(i, b"infected").unwrap();
        // The droppers are named by SHA-256 at the top level (the folders hold text extracts).
        let name = f.name().unwrap().to_string();
        if !name.contains('/') && f.size() > 50_000 {
            f.read_to_end(&mut doc).unwrap();
            if doc.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
                break;
            }
            doc.clear();
        }
    }
    assert!(doc.len() > 10_000, "an Emotet .doc in the corpus ZIP");
    let b64 = base64::engine::general_purpose::STANDARD.encode(&doc);
    let mut body = String::new();
    for chunk in b64.as_bytes().chunks(76) {
        body.push_str(std::str::from_utf8(chunk).unwrap());
        body.push_str("\r\n");
    }
    format!(
        "From: =?UTF-8?B?57WM55CG6YOo?= <keiri@partner.example>\r\n\
         To: user@corp.test\r\n\
         Subject: =?ISO-2022-JP?B?GyRCQEE1YT1xGyhC?= {marker}\r\n\
         Message-ID: <{marker}@partner.example>\r\n\
         Date: Mon, 22 Nov 2026 10:00:00 +0900\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
         \r\n\
         --b1\r\n\
         Content-Type: text/plain; charset=UTF-8\r\n\
         \r\n\
         Please find the invoice attached.\r\n\
         --b1\r\n\
         Content-Type: application/msword; name=\"invoice.doc\"\r\n\
         Content-Disposition: attachment; filename=\"invoice.doc\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n\
         {body}--b1--\r\n"
    )
    .into_bytes()
}

/// The first message of the SpamAssassin easy-ham set, without its mbox `From ` line.
fn ham_message() -> Vec<u8> {
    let dir = corpus().join("mail/spamassassin-public/easy-ham-1");
    let first = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .min()
        .unwrap();
    let raw = std::fs::read(first).unwrap();
    match raw.strip_prefix(b"From ") {
        Some(rest) => rest[rest.iter().position(|&b| b == b'\n').unwrap() + 1..].to_vec(),
        None => raw,
    }
}

/// A message with a marker header in front so the test can find it again.
fn with_marker(message: &[u8], marker: &str) -> Vec<u8> {
    let mut m = format!("X-Test-Marker: {marker}\n").into_bytes();
    m.extend_from_slice(message);
    m
}

fn config(dir: &Path, port: u16, store: &str) -> PathBuf {
    let p = dir.join("kensa.toml");
    std::fs::write(
        &p,
        format!(
            r#"listen = "inet:127.0.0.1:{port}"
store = "{store}"
gateway = "mx-test"
scan_timeout = 20

[[rule]]
recipients = ["@quarantine.test"]
actions = {{ suspicious = "quarantine" }}

[[rule]]
recipients = ["@reject.test"]
actions = {{ suspicious = "reject", malicious = "reject" }}
reject_reply = "550 5.7.1 kensa test: message refused"
"#
        ),
    )
    .unwrap();
    p
}

/// The whole gateway scenario against one store (a SQLite file or a PostgreSQL URL).
fn scenario(dir: &Path, store: &str) {
    let sink = Sink::start();
    let mport = free_port();
    let cfg = config(dir, mport, store);
    let mut milter = kensa_milter(&cfg, mport);
    let pf = Postfix::start(&dir.join("postfix"), mport, sink.port);

    // 1. Clean mail: delivered, unchanged but for Received: and the X-Kensa-* headers.
    let first = ham_message();
    let sent = with_marker(&first, "clean-1");
    let (code, out) = swaks(pf.smtp, "user@corp.test", &sent);
    assert_eq!(code, 0, "{out}");
    let got = sink.wait_for("clean-1");
    let result = header(&got.data, "X-Kensa-Result").unwrap();
    assert!(result.starts_with("clean ["), "{result}");
    assert_eq!(
        header(&got.data, "X-Kensa-Action").as_deref(),
        Some("accept (verdict clean)")
    );
    let stripped = ["X-Kensa-Result", "X-Kensa-Action"]
        .iter()
        .fold(drop_first_received(&got.data), |m, h| drop_headers(&m, h));
    same_bytes(&stripped, &sent, "delivered");
    assert_eq!(got.rcpts, ["user@corp.test"]);

    // 2. A forged verdict header from the sender is removed.
    let forged = [
        b"X-Kensa-Result: clean [0.00 / 5.00]\r\nX-Test-Marker: forged\r\n".as_slice(),
        &first,
    ]
    .concat();
    assert_eq!(swaks(pf.smtp, "user@corp.test", &forged).0, 0);
    let got = sink.wait_for("forged");
    let text = String::from_utf8_lossy(&got.data);
    assert_eq!(text.matches("X-Kensa-Result:").count(), 1, "{text}");

    // 3. The SpamAssassin password-ZIP macro mail: suspicious → tagged by default.
    let zpm = std::fs::read(common::olevbmacro("zippwmacro.eml")).unwrap();
    let sent = with_marker(&zpm, "tagged-1");
    assert_eq!(swaks(pf.smtp, "user@corp.test", &sent).0, 0);
    let got = sink.wait_for("tagged-1");
    let subject = header(&got.data, "Subject").unwrap();
    assert!(subject.starts_with("[SUSPICIOUS] "), "{subject}");
    let result = header(&got.data, "X-Kensa-Result").unwrap();
    assert!(result.starts_with("suspicious ["), "{result}");
    assert!(
        result.contains("ENCRYPTED_ATTACHMENT_PASSWORD_IN_BODY("),
        "{result}"
    );

    // 4. The same mail for a recipient whose rule quarantines: held in the store, not delivered.
    let sent_q = with_marker(&zpm, "quarantined-1");
    assert_eq!(swaks(pf.smtp, "user@quarantine.test", &sent_q).0, 0);
    // 5. An Emotet dropper: malicious → quarantined by the default policy.
    let emotet = emotet_mail("emotet-1");
    let (code, out) = swaks(pf.smtp, "user@corp.test", &emotet);
    assert_eq!(code, 0, "{out}");
    let h = wait_held(store, 2);
    let by_marker = |m: &str| {
        h.iter()
            .find(|v| {
                v["message_id"].as_str().unwrap_or("").contains(m)
                    || v["subject"].as_str().unwrap_or("").contains(m)
            })
            .cloned()
    };
    let dropper = by_marker("emotet-1").expect("the dropper is held");
    assert_eq!(dropper["verdict"], "malicious");
    assert_eq!(dropper["action"], "quarantine");
    assert_eq!(dropper["gateway"], "mx-test");
    assert!(
        dropper["queue_id"].as_str().is_some_and(|q| !q.is_empty()),
        "{dropper}"
    );
    let zip_q = h
        .iter()
        .find(|v| v["to"][0] == "user@quarantine.test")
        .expect("the quarantine-rule mail is held");
    assert_eq!(zip_q["verdict"], "suspicious");
    assert!(
        sink.messages()
            .iter()
            .all(|m| !contains(&m.data, "emotet-1") && !contains(&m.data, "quarantined-1"))
    );

    // `show` lists the findings; attacker text is escaped, never raw control bytes.
    let id = dropper["id"].as_i64().unwrap().to_string();
    let (ok, shown) = quarantine(store, &["show", &id]);
    assert!(ok, "{shown}");
    assert!(shown.contains("attachment invoice.doc"), "{shown}");
    assert!(shown.contains("VBA_AUTOEXEC"), "{shown}");
    assert!(
        shown.contains("audit") && shown.contains("quarantined"),
        "{shown}"
    );

    // 6. Release: the original bytes, through the listener without the milter.
    let zid = zip_q["id"].as_i64().unwrap().to_string();
    let (ok, out) = quarantine(
        store,
        &[
            "release",
            &zid,
            "--smtp",
            &format!("127.0.0.1:{}", pf.reinject),
        ],
    );
    assert!(ok, "{out}");
    let got = sink.wait_for("quarantined-1");
    assert_eq!(got.rcpts, ["user@quarantine.test"]);
    same_bytes(&drop_first_received(&got.data), &sent_q, "released");
    let (ok, shown) = quarantine(store, &["show", &zid]);
    assert!(ok && shown.contains("released by test-admin"), "{shown}");
    // A second release is refused without --force.
    let (ok, _) = quarantine(
        store,
        &[
            "release",
            &zid,
            "--smtp",
            &format!("127.0.0.1:{}", pf.reinject),
        ],
    );
    assert!(!ok);
    // Export writes the stored bytes; delete purges them but keeps the record.
    let (ok, exported) = quarantine(store, &["export", &id]);
    assert!(ok);
    assert!(exported.contains("Message-ID: <emotet-1@partner.example>"));
    let (ok, _) = quarantine(store, &["delete", &id]);
    assert!(ok);
    let (ok, _) = quarantine(store, &["export", &id]);
    assert!(!ok, "deleted bytes cannot be exported");

    // 7. Reject: the sender sees the configured reply; nothing is delivered or stored.
    let before = held(store).len();
    let (code, out) = swaks(
        pf.smtp,
        "user@reject.test",
        &with_marker(&zpm, "rejected-1"),
    );
    assert_ne!(code, 0);
    assert!(
        out.contains("550 5.7.1 kensa test: message refused"),
        "{out}"
    );

    // 8. The milter dies: Postfix applies milter_default_action.
    milter.kill();
    // tempfail (the recommended setting): the sender keeps the message and retries later.
    let (code, out) = swaks(
        pf.smtp,
        "user@corp.test",
        &with_marker(&first, "while-down-1"),
    );
    assert_ne!(code, 0);
    assert!(out.contains("451 4.7.1"), "{out}");
    // quarantine: Postfix accepts it into its hold queue.
    pf.run(&["set", "milter_default_action = quarantine"]);
    let (code, out) = swaks(
        pf.smtp,
        "user@corp.test",
        &with_marker(&first, "while-down-2"),
    );
    assert_eq!(code, 0, "{out}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while pf.held() < 1 {
        assert!(
            Instant::now() < deadline,
            "no message in Postfix's hold queue"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Back up: mail flows again.
    pf.run(&["set", "milter_default_action = tempfail"]);
    let _milter = kensa_milter(&cfg, mport);
    assert_eq!(
        swaks(
            pf.smtp,
            "user@corp.test",
            &with_marker(&first, "after-restart-1")
        )
        .0,
        0
    );
    sink.wait_for("after-restart-1");

    // Every message is accounted for: delivered, held (store or Postfix), refused to the sender.
    let delivered = sink.messages();
    for m in [
        "clean-1",
        "forged",
        "tagged-1",
        "quarantined-1",
        "after-restart-1",
    ] {
        assert_eq!(
            delivered.iter().filter(|d| contains(&d.data, m)).count(),
            1,
            "{m}"
        );
    }
    for m in ["rejected-1", "while-down-1", "while-down-2", "emotet-1"] {
        assert!(
            delivered.iter().all(|d| !contains(&d.data, m)),
            "{m} must not be delivered"
        );
    }
    assert_eq!(held(store).len(), before, "reject stored nothing");
}

#[test]
fn milter_behind_postfix_with_sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("quarantine.db");
    scenario(dir.path(), store.to_str().unwrap());
}

/// A throwaway PostgreSQL (kensa-store's test script), stopped when dropped.
struct Postgres {
    dir: PathBuf,
    url: String,
}

impl Postgres {
    fn script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../kensa-store/tests/support/postgres.sh")
    }

    fn start() -> Postgres {
        let dir = tempfile::Builder::new()
            .prefix("kensa-pg-")
            .tempdir_in("/tmp")
            .unwrap()
            .keep();
        let out = Command::new("bash")
            .arg(Self::script())
            .arg("start")
            .arg(&dir)
            .arg(std::process::id().to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "PostgreSQL did not start (install Debian's postgresql package): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Postgres { dir, url }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(Self::script())
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

#[test]
fn milter_behind_postfix_with_postgresql_store() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    scenario(dir.path(), &pg.url);
}
