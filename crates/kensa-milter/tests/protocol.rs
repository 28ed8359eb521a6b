//! The milter as Postfix sees it, at the protocol level: an MTA-side client (kensa's own codec,
//! the MTA direction) talks to the real server on 127.0.0.1 with a real SQLite store. Covers the
//! negotiation, macros, header and body chunks, every end-of-message outcome (accept with headers,
//! tag, quarantine, hold in the MTA, reject, discard, tempfail, skip) and malformed packets.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use kensa_milter::codec::*;
use kensa_milter::{Config, Milter, serve_tcp};
use kensa_store::{Filter, Store};

fn corpus(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/corpus")
            .join(rel),
    )
    .unwrap()
}

/// Start a milter with this configuration (the store in `dir`); returns its port.
fn start(dir: &Path, extra: &str) -> u16 {
    let store = dir.join("q.db");
    let text = format!(
        "store = \"{}\"\ngateway = \"proto-test\"\n{extra}",
        store.display()
    );
    let cfg = Config::from_toml(&text, dir).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap().port()).unwrap();
            let m = Milter::new(cfg).await.unwrap();
            let _ = serve_tcp(l, m).await;
        });
    });
    rx.recv_timeout(Duration::from_secs(10)).unwrap()
}

struct Mta {
    s: TcpStream,
    buf: Vec<u8>,
    protocol: u32,
}

impl Mta {
    /// Connect and negotiate as Postfix 3.x does: every action, every protocol bit offered.
    fn connect(port: u16) -> (Mta, u32, u32) {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut m = Mta {
            s,
            buf: Vec::new(),
            protocol: 0,
        };
        m.send(&Command::OptNeg {
            version: 6,
            actions: 0x1FF,
            protocol: 0x1F_FFFF,
        });
        let Some(Reply::OptNeg {
            version,
            actions,
            protocol,
        }) = m.next()
        else {
            panic!("no optneg")
        };
        assert_eq!(version, 6);
        m.protocol = protocol;
        (m, actions, protocol)
    }

    fn send(&mut self, c: &Command) {
        let mut out = Vec::new();
        encode_command(c, &mut out);
        self.s.write_all(&out).unwrap();
    }

    /// The next reply; `None` when the milter closed the connection.
    fn next(&mut self) -> Option<Reply> {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some((r, used)) = decode_reply(&self.buf, MAX_PACKET).expect("valid reply") {
                self.buf.drain(..used);
                return Some(r);
            }
            match self.s.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// A step the MTA waits on unless negotiated as "no reply".
    fn step(&mut self, c: Command, no_reply_bit: u32) {
        self.send(&c);
        if self.protocol & no_reply_bit == 0 {
            assert_eq!(self.next(), Some(Reply::Continue));
        }
    }

    /// Send a whole message (headers one by one, body in `chunk`-byte pieces) and return every
    /// end-of-message reply up to and including the final one.
    fn message(&mut self, rcpt: &str, msg: &[u8], chunk: usize) -> Vec<Reply> {
        self.step(
            Command::Mail(vec![b"<sender@partner.example>".to_vec()]),
            SMFIP_NR_MAIL,
        );
        self.send(&Command::Macro {
            stage: b'R',
            pairs: vec![(b"i".to_vec(), b"4QTEST1".to_vec())],
        });
        self.step(
            Command::Rcpt(vec![format!("<{rcpt}>").into_bytes()]),
            SMFIP_NR_RCPT,
        );
        let (headers, body) = split(msg);
        for (n, v) in headers {
            self.step(Command::Header { name: n, value: v }, SMFIP_NR_HDR);
        }
        self.step(Command::EndOfHeaders, SMFIP_NR_EOH);
        for c in body.chunks(chunk.max(1)) {
            self.send(&Command::Body(c.to_vec()));
            match self.next() {
                Some(Reply::Continue) => {}
                Some(Reply::Skip) => break,
                other => panic!("body reply {other:?}"),
            }
        }
        self.send(&Command::EndOfBody(Vec::new()));
        let mut out = Vec::new();
        loop {
            let r = self.next().expect("end-of-message reply");
            let last = matches!(
                r,
                Reply::Accept
                    | Reply::Continue
                    | Reply::Reject
                    | Reply::TempFail
                    | Reply::Discard
                    | Reply::ReplyCode(_)
            );
            if !matches!(r, Reply::Progress) {
                out.push(r);
            }
            if last {
                return out;
            }
        }
    }
}

/// Header fields as (name, value with its leading space, as with HDR_LEADSPC).
type Headers = Vec<(Vec<u8>, Vec<u8>)>;

/// Header fields and CRLF body.
fn split(msg: &[u8]) -> (Headers, Vec<u8>) {
    let text = msg.to_vec();
    let mut headers: Headers = Vec::new();
    let mut lines = text.split_inclusive(|&b| b == b'\n');
    for line in lines.by_ref() {
        let l = line.strip_suffix(b"\n").unwrap_or(line);
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        if l.is_empty() {
            break;
        }
        if matches!(l.first(), Some(b' ' | b'\t')) {
            let (_, v) = headers.last_mut().unwrap();
            v.extend_from_slice(b"\r\n");
            v.extend_from_slice(l);
        } else {
            let c = l.iter().position(|&b| b == b':').unwrap();
            headers.push((l[..c].to_vec(), l[c + 1..].to_vec()));
        }
    }
    let mut body = Vec::new();
    for line in lines {
        let l = line.strip_suffix(b"\n").unwrap_or(line);
        body.extend_from_slice(l.strip_suffix(b"\r").unwrap_or(l));
        body.extend_from_slice(b"\r\n");
    }
    (headers, body)
}

fn header<'a>(replies: &'a [Reply], name: &str) -> Option<&'a [u8]> {
    replies.iter().find_map(|r| match r {
        Reply::AddHeader { name: n, value } if n == name.as_bytes() => Some(value.as_slice()),
        _ => None,
    })
}

fn zippwmacro() -> Vec<u8> {
    corpus("mail/spamassassin-tests/spam/olevbmacro/zippwmacro.eml")
}

fn ham() -> Vec<u8> {
    corpus("mail/spamassassin-tests/nice/001")
}

fn stored(dir: &Path) -> Vec<kensa_store::Summary> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = Store::open(dir.join("q.db").to_str().unwrap())
            .await
            .unwrap();
        s.list(&Filter::default()).await.unwrap()
    })
}

#[test]
fn negotiation_asks_only_what_it_uses() {
    let dir = tempfile::tempdir().unwrap();
    let port = start(dir.path(), "");
    let (_, actions, protocol) = Mta::connect(port);
    assert_eq!(actions, SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE);
    for bit in [
        SMFIP_NOHELO,
        SMFIP_NODATA,
        SMFIP_NOUNKNOWN,
        SMFIP_HDR_LEADSPC,
        SMFIP_SKIP,
    ] {
        assert!(protocol & bit != 0, "bit {bit:#x}");
    }
    // No "no reply" bits: kensa answers every step (session.rs).
    for bit in [
        SMFIP_NOBODY,
        SMFIP_NOHDRS,
        SMFIP_NR_BODY,
        SMFIP_NR_HDR,
        SMFIP_NR_MAIL,
        SMFIP_NR_RCPT,
        SMFIP_NR_EOH,
    ] {
        assert!(protocol & bit == 0, "bit {bit:#x}");
    }
}

#[test]
fn accept_tag_quarantine_and_chunking() {
    let dir = tempfile::tempdir().unwrap();
    let port = start(
        dir.path(),
        "[[rule]]\nrecipients = [\"@q.test\"]\nactions = { suspicious = \"quarantine\" }\n",
    );
    let (mut mta, _, _) = Mta::connect(port);
    // Clean: two headers, then accept.
    let r = mta.message("user@corp.test", &ham(), 65_535);
    assert_eq!(r.last(), Some(&Reply::Accept));
    assert!(String::from_utf8_lossy(header(&r, "X-Kensa-Result").unwrap()).starts_with(" clean ["));
    assert_eq!(
        header(&r, "X-Kensa-Action"),
        Some(&b" accept (verdict clean)"[..])
    );
    // Suspicious on the same connection, body in 100-byte chunks: the subject is tagged.
    let r = mta.message("user@corp.test", &zippwmacro(), 100);
    assert_eq!(r.last(), Some(&Reply::Accept));
    let subject = r.iter().find_map(|x| match x {
        Reply::ChangeHeader {
            index: 1,
            name,
            value,
        } if name == b"Subject" => Some(value.clone()),
        _ => None,
    });
    assert!(
        String::from_utf8_lossy(&subject.expect("subject changed")).starts_with(" [SUSPICIOUS] ")
    );
    let result = String::from_utf8_lossy(header(&r, "X-Kensa-Result").unwrap()).into_owned();
    assert!(
        result.contains("ENCRYPTED_ATTACHMENT_PASSWORD_IN_BODY"),
        "{result}"
    );
    // The same message in one chunk gets the same verdict.
    let r1 = mta.message("user@corp.test", &zippwmacro(), 65_535);
    assert_eq!(header(&r1, "X-Kensa-Result"), Some(result.as_bytes()));
    // Quarantine: stored (with the queue ID from the macro), then discard.
    let r = mta.message("user@q.test", &zippwmacro(), 65_535);
    assert_eq!(r, vec![Reply::Discard]);
    let held = stored(dir.path());
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].queue_id.as_deref(), Some("4QTEST1"));
    assert_eq!(held[0].envelope_rcpts, ["user@q.test"]);
    assert_eq!(held[0].gateway, "proto-test");
}

#[test]
fn reject_discard_tempfail_and_forged_headers() {
    let dir = tempfile::tempdir().unwrap();
    let port = start(
        dir.path(),
        r#"
[[rule]]
recipients = ["@reject.test"]
actions = { suspicious = "reject" }
reject_reply = "550 5.7.1 No macros here"

[[rule]]
recipients = ["@discard.test"]
actions = { suspicious = "discard" }

[[rule]]
recipients = ["@later.test"]
actions = { suspicious = "tempfail" }
"#,
    );
    let (mut mta, _, _) = Mta::connect(port);
    assert_eq!(
        mta.message("a@reject.test", &zippwmacro(), 65_535),
        vec![Reply::ReplyCode(b"550 5.7.1 No macros here".to_vec())]
    );
    assert_eq!(
        mta.message("a@discard.test", &zippwmacro(), 65_535),
        vec![Reply::Discard]
    );
    assert_eq!(
        mta.message("a@later.test", &zippwmacro(), 65_535),
        vec![Reply::TempFail]
    );
    // Two forged X-Kensa headers are deleted, last first, before kensa's own are added.
    let mut forged =
        b"X-Kensa-Result: clean\r\nX-Kensa-Action: accept\r\nx-kensa-result: clean\r\n".to_vec();
    forged.extend_from_slice(&ham());
    let r = mta.message("a@corp.test", &forged, 65_535);
    let deletes: Vec<(u32, Vec<u8>)> = r
        .iter()
        .filter_map(|x| match x {
            Reply::ChangeHeader { index, name, value } if value.is_empty() => {
                Some((*index, name.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        deletes,
        vec![
            (2, b"x-kensa-result".to_vec()),
            (1, b"X-Kensa-Action".to_vec()),
            (1, b"X-Kensa-Result".to_vec())
        ]
    );
}

#[test]
fn oversize_is_skipped_incomplete_and_held_in_the_mta() {
    let dir = tempfile::tempdir().unwrap();
    let port = start(
        dir.path(),
        "max_message_size = 2000\n[policy]\nactions = { incomplete = \"quarantine\" }\n",
    );
    let (mut mta, _, _) = Mta::connect(port);
    let r = mta.message("a@corp.test", &zippwmacro(), 1000);
    // Not all bytes are here: no store write; the MTA's hold queue keeps the message.
    assert!(matches!(r.first(), Some(Reply::Quarantine(_))), "{r:?}");
    assert_eq!(r.last(), Some(&Reply::Accept));
    assert!(
        String::from_utf8_lossy(header(&r, "X-Kensa-Result").unwrap()).starts_with(" incomplete")
    );
    assert!(stored(dir.path()).is_empty());
}

#[test]
fn malformed_packets_close_the_connection_and_the_next_one_works() {
    let dir = tempfile::tempdir().unwrap();
    let port = start(dir.path(), "");
    let bad: [&[u8]; 5] = [
        &[0, 0, 0, 0],                   // zero length
        &[0x7F, 0xFF, 0xFF, 0xFF, b'B'], // larger than any packet kensa accepts
        &[0, 0, 0, 2, b'Z', 0],          // unknown command
        &[0, 0, 0, 3, b'M', b'a', b'b'], // MAIL without its NUL
        &[0, 0, 0, 5, b'O', 0, 0, 0],    // OPTNEG too short
    ];
    for pkt in bad {
        let (mut mta, _, _) = Mta::connect(port);
        mta.s.write_all(pkt).unwrap();
        // Complete the truncated ones so the server sees the whole packet.
        let _ = mta.s.write_all(&[0u8; 8]);
        assert_eq!(mta.next(), None, "{pkt:?}: connection closed");
    }
    let (mut mta, _, _) = Mta::connect(port);
    let r = mta.message("a@corp.test", &ham(), 65_535);
    assert_eq!(r.last(), Some(&Reply::Accept));
}

#[test]
fn a_blocked_attachment_hash_is_rejected() {
    use sha2::{Digest, Sha256};
    let mail = kensa_mail::message::Mail::parse(&zippwmacro()).unwrap();
    let zip = &mail.attachments[0].data;
    let sha: String = Sha256::digest(zip)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let port = start(
        dir.path(),
        &format!("[lists]\nblock_hashes = [\"{}\"]\n", sha.to_uppercase()),
    );
    let (mut mta, _, _) = Mta::connect(port);
    let r = mta.message("a@corp.test", &zippwmacro(), 65_535);
    assert_eq!(
        r,
        vec![Reply::ReplyCode(
            kensa_milter::policy::DEFAULT_REJECT_REPLY
                .as_bytes()
                .to_vec()
        )]
    );
    // Other mail still passes.
    assert_eq!(
        mta.message("a@corp.test", &ham(), 65_535).last(),
        Some(&Reply::Accept)
    );
}

#[cfg(unix)]
#[test]
fn unix_socket_listener_and_a_file_in_the_way() {
    use std::os::unix::net::UnixStream;
    let dir = tempfile::tempdir().unwrap();
    // A regular file where the socket should go is left alone: the milter refuses to start.
    let taken = dir.path().join("taken.sock");
    std::fs::write(&taken, b"not a socket").unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let cfg = |sock: &Path| {
        let text = format!(
            "listen = \"unix:{}\"\nstore = \"{}\"\n",
            sock.display(),
            dir.path().join("q.db").display()
        );
        Config::from_toml(&text, dir.path()).unwrap()
    };
    let err = rt.block_on(async {
        let m = Milter::new(cfg(&taken)).await.unwrap();
        kensa_milter::serve(m).await
    });
    assert!(err.is_err());
    assert_eq!(std::fs::read(&taken).unwrap(), b"not a socket");
    // A socket path: the milter answers there.
    let sock = dir.path().join("milter.sock");
    let c = cfg(&sock);
    rt.spawn(async move {
        let m = Milter::new(c).await.unwrap();
        let _ = kensa_milter::serve(m).await;
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut s = loop {
        match UnixStream::connect(&sock) {
            Ok(s) => break s,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(e) => panic!("{e}"),
        }
    };
    let mut out = Vec::new();
    encode_command(
        &Command::OptNeg {
            version: 6,
            actions: 0x1FF,
            protocol: 0x1F_FFFF,
        },
        &mut out,
    );
    s.write_all(&out).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 256];
    let reply = loop {
        if let Some((r, _)) = decode_reply(&buf, MAX_PACKET).unwrap() {
            break r;
        }
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&chunk[..n]);
    };
    assert!(
        matches!(reply, Reply::OptNeg { version: 6, .. }),
        "{reply:?}"
    );
}
