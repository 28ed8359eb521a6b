//! Injection tests: a scripted SMTP sink on 127.0.0.1 that records the commands and the DATA
//! bytes, real corpus messages (dot lines, mixed line endings, 8-bit GB2312, ISO-2022-JP), failure
//! replies, hostile servers, and a shell script standing in for sendmail.

use super::*;
use std::io::Cursor;
use std::net::TcpListener;
use std::thread;
use std::time::Instant;

const NICE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/mail/spamassassin-tests/nice"
);

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(format!("{NICE}/{name}")).expect("corpus message")
}

// ---------------------------------------------------------------------------------------------
// The SMTP sink
// ---------------------------------------------------------------------------------------------

/// What the sink answers (each reply complete with CRLF).
#[derive(Clone)]
struct Script {
    greeting: String,
    ehlo: String,
    helo: String,
    mail: String,
    rcpt: fn(&str) -> String,
    data: String,
    end: String,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            greeting: "220 sink.test ESMTP\r\n".into(),
            ehlo: "250-sink.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n".into(),
            helo: "250 sink.test\r\n".into(),
            mail: "250 2.1.0 Ok\r\n".into(),
            rcpt: |_| "250 2.1.5 Ok\r\n".into(),
            data: "354 End data with <CR><LF>.<CR><LF>\r\n".into(),
            end: "250 2.0.0 Ok: queued as 4XyZ1\r\n".into(),
        }
    }
}

/// What the sink saw: command lines (without CRLF) and the raw DATA bytes up to and including the
/// terminating `.` line.
#[derive(Debug, Default)]
struct Recorded {
    commands: Vec<String>,
    data: Option<Vec<u8>>,
}

impl Recorded {
    fn saw(&self, prefix: &str) -> bool {
        self.commands.iter().any(|c| c.starts_with(prefix))
    }
}

/// Starts a one-connection sink; returns its address and the thread that yields the recording.
fn sink(script: Script) -> (String, thread::JoinHandle<Recorded>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        serve(stream, &script)
    });
    (addr, handle)
}

fn serve(stream: TcpStream, script: &Script) -> Recorded {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut w = stream;
    let mut rec = Recorded::default();
    let _ = w.write_all(script.greeting.as_bytes());
    loop {
        let mut line = Vec::new();
        if !matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            break;
        }
        let text = String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_string();
        rec.commands.push(text.clone());
        let upper = text.to_ascii_uppercase();
        let reply = if upper.starts_with("EHLO ") {
            script.ehlo.clone()
        } else if upper.starts_with("HELO ") {
            script.helo.clone()
        } else if upper.starts_with("MAIL FROM:") {
            script.mail.clone()
        } else if upper.starts_with("RCPT TO:") {
            (script.rcpt)(&text)
        } else if upper == "DATA" {
            let _ = w.write_all(script.data.as_bytes());
            if !script.data.starts_with("354") {
                continue;
            }
            rec.data = Some(read_data(&mut reader));
            script.end.clone()
        } else if upper == "QUIT" {
            let _ = w.write_all(b"221 2.0.0 Bye\r\n");
            break;
        } else {
            "502 5.5.2 Error: command not recognized\r\n".into()
        };
        let _ = w.write_all(reply.as_bytes());
    }
    rec
}

fn read_data(reader: &mut impl BufRead) -> Vec<u8> {
    let mut data = Vec::new();
    loop {
        let start = data.len();
        match reader.read_until(b'\n', &mut data) {
            Ok(0) | Err(_) => return data,
            Ok(_) if &data[start..] == b".\r\n" => return data,
            Ok(_) => {}
        }
    }
}

/// Undoes the transfer encoding the way a receiving server does, checking it on the way: every LF
/// is part of CRLF, the data ends with the `.` line, no other line is a lone `.`.
fn undot(raw: &[u8]) -> Vec<u8> {
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' {
            assert!(i > 0 && raw[i - 1] == b'\r', "bare LF on the wire at {i}");
        }
    }
    let body = raw.strip_suffix(b".\r\n").expect("terminating dot line");
    assert!(
        body.is_empty() || body.ends_with(b"\r\n"),
        "last line not CRLF-terminated"
    );
    let mut out = Vec::new();
    for line in body.split_inclusive(|&b| b == b'\n') {
        assert_ne!(line, b".\r\n", "a lone dot inside the data");
        out.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
    }
    out
}

fn smtp(addr: &str) -> Target {
    Target::Smtp {
        addr: addr.to_string(),
        helo: "kensa.test".into(),
        timeout: Duration::from_secs(5),
    }
}

fn env(from: &str, rcpts: &[&str]) -> Envelope {
    Envelope {
        from: from.into(),
        rcpts: rcpts.iter().map(|r| r.to_string()).collect(),
    }
}

/// Injects through a default sink and returns the receipt, the recording and the stored message.
fn deliver(message: &[u8], script: Script) -> (Receipt, Recorded, Vec<u8>) {
    let (addr, server) = sink(script);
    let receipt = inject(
        &smtp(&addr),
        &env("a@example.org", &["b@example.net"]),
        message,
    )
    .expect("inject");
    let rec = server.join().expect("sink");
    let stored = undot(rec.data.as_deref().expect("DATA bytes"));
    (receipt, rec, stored)
}

/// Injects `hi` through a sink that must make it fail: the error and the sink's recording.
fn refused(script: Script) -> (InjectError, Recorded) {
    let (addr, server) = sink(script);
    let err = inject(
        &smtp(&addr),
        &env("a@example.org", &["b@example.net"]),
        b"hi\r\n",
    )
    .unwrap_err();
    (err, server.join().expect("sink"))
}

fn mail_line(rec: &Recorded) -> &str {
    rec.commands
        .iter()
        .find(|c| c.starts_with("MAIL FROM:"))
        .expect("MAIL command")
}

// ---------------------------------------------------------------------------------------------
// The DATA encoding, by hand
// ---------------------------------------------------------------------------------------------

fn encoded(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write_data(&mut out, message).expect("write to Vec");
    out
}

#[test]
fn data_encoding_by_hand() {
    let cases: &[(&[u8], &[u8])] = &[
        (b"a\r\n.b\r\n", b"a\r\n..b\r\n.\r\n"),
        (b".\n", b"..\r\n.\r\n"),
        (b"..\r\n.\r\n", b"...\r\n..\r\n.\r\n"),
        (b"a\nb", b"a\r\nb\r\n.\r\n"),
        (b"", b".\r\n"),
        (b"no newline", b"no newline\r\n.\r\n"),
        (b"x\ry\r\n", b"x\ry\r\n.\r\n"), // a bare CR is left alone
        (b"\n.\n..\n", b"\r\n..\r\n...\r\n.\r\n"),
        (b"a\r\n\r\n.", b"a\r\n\r\n..\r\n.\r\n"),
        (b"end with CR\r", b"end with CR\r\r\n.\r\n"),
        (b"mid.dot\n", b"mid.dot\r\n.\r\n"),
        (
            b"\xe6\x97\xa5\xff\x00\x1b$B\n",
            b"\xe6\x97\xa5\xff\x00\x1b$B\r\n.\r\n",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(
            encoded(input),
            *want,
            "{:?}",
            String::from_utf8_lossy(input)
        );
        // What a server stores is the input, up to the documented normalisations.
        let stored = undot(&encoded(input));
        assert!(stored.len() >= input.len());
    }
}

// ---------------------------------------------------------------------------------------------
// Delivery through the sink
// ---------------------------------------------------------------------------------------------

#[test]
fn dot_lines_and_mixed_line_endings_arrive_intact() {
    // nice/004: CRLF lines with dot-started lines, one bare LF (the mbox "From " line).
    let message = corpus("004");
    let dot_lines = message
        .split(|&b| b == b'\n')
        .filter(|l| l.starts_with(b"."))
        .count();
    assert!(
        dot_lines >= 5,
        "the corpus message has lines starting with '.'"
    );
    let (receipt, rec, stored) = deliver(&message, Script::default());
    let mut want = Vec::new();
    for (i, &b) in message.iter().enumerate() {
        if b == b'\n' && (i == 0 || message[i - 1] != b'\r') {
            want.push(b'\r');
        }
        want.push(b);
    }
    assert_eq!(stored, want);
    assert_eq!(
        stored.len(),
        message.len() + 1,
        "exactly one bare LF became CRLF"
    );
    // The raw data really was stuffed.
    let raw = rec.data.as_deref().unwrap();
    assert_eq!(raw.len(), stored.len() + dot_lines + 3);
    assert_eq!(receipt.reply, "250 2.0.0 Ok: queued as 4XyZ1");
    assert!(receipt.rejected.is_empty());
    // 7-bit message: no BODY parameter even though 8BITMIME is offered.
    assert_eq!(mail_line(&rec), "MAIL FROM:<a@example.org>");
    assert_eq!(rec.commands.last().map(String::as_str), Some("QUIT"));
    assert_eq!(rec.commands[0], "EHLO kensa.test");
    assert!(rec.saw("RCPT TO:<b@example.net>"));
}

#[test]
fn lf_only_japanese_mail_becomes_crlf_only() {
    // nice/cjk/iso-2022-jp.2: LF line endings only, 8-bit bytes in the body.
    let message = corpus("cjk/iso-2022-jp.2");
    assert!(
        !message.contains(&b'\r') && !message.is_ascii(),
        "LF-only 8-bit mail"
    );
    let (_, rec, stored) = deliver(&message, Script::default());
    let want: Vec<u8> = message
        .split(|&b| b == b'\n')
        .collect::<Vec<_>>()
        .join(&b"\r\n"[..]);
    assert_eq!(stored, want);
    assert_eq!(mail_line(&rec), "MAIL FROM:<a@example.org> BODY=8BITMIME");
}

#[test]
fn iso_2022_jp_escape_sequences_are_7bit_and_intact() {
    // "こんにちは" in ISO-2022-JP: ESC $ B … ESC ( B, all bytes < 0x80.
    let message = b"Subject: =?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n\x1b$B$3$s$K$A$O\x1b(B\r\n.\x1b$B$3\x1b(B\r\n";
    let (_, rec, stored) = deliver(message, Script::default());
    assert_eq!(stored, message);
    assert_eq!(mail_line(&rec), "MAIL FROM:<a@example.org>");
}

#[test]
fn crlf_8bit_gb2312_is_byte_identical_with_8bitmime() {
    let message = corpus("cjk/gb2312.1");
    assert!(!message.is_ascii() && message.ends_with(b"\r\n"));
    let (_, rec, stored) = deliver(&message, Script::default());
    assert_eq!(stored, message);
    assert_eq!(mail_line(&rec), "MAIL FROM:<a@example.org> BODY=8BITMIME");
}

#[test]
fn utf8_without_final_newline_gets_crlf_appended() {
    let message = "Subject: テスト\n\n本文。\n.先頭のドット\n最後の行".as_bytes();
    let script = Script {
        ehlo: "250-sink.test\r\n250 PIPELINING\r\n".into(),
        ..Script::default()
    };
    let (_, rec, stored) = deliver(message, script);
    let want = "Subject: テスト\r\n\r\n本文。\r\n.先頭のドット\r\n最後の行\r\n".as_bytes();
    assert_eq!(stored, want);
    // 8-bit content but no 8BITMIME offered: sent as is, without the parameter.
    assert_eq!(mail_line(&rec), "MAIL FROM:<a@example.org>");
}

#[test]
fn smtputf8_only_when_an_address_needs_it() {
    let (addr, server) = sink(Script::default());
    let receipt =
        inject(&smtp(&addr), &env("", &["ユーザー@example.jp"]), b"x\r\n").expect("inject");
    let rec = server.join().unwrap();
    assert_eq!(mail_line(&rec), "MAIL FROM:<> SMTPUTF8");
    assert!(rec.saw("RCPT TO:<ユーザー@example.jp>"));
    assert!(receipt.reply.starts_with("250 "));

    // Not offered: refused after EHLO, before MAIL.
    let script = Script {
        ehlo: "250-sink.test\r\n250 8BITMIME\r\n".into(),
        ..Script::default()
    };
    let (addr, server) = sink(script);
    let err = inject(
        &smtp(&addr),
        &env("送信者@example.jp", &["b@example.net"]),
        b"x\r\n",
    )
    .unwrap_err();
    assert!(
        matches!(&err, InjectError::Smtputf8Unsupported { address } if address == "送信者@example.jp"),
        "{err}"
    );
    let rec = server.join().unwrap();
    assert!(!rec.saw("MAIL"));
    assert!(rec.saw("QUIT"));
}

#[test]
fn partial_recipient_rejection_is_reported_in_the_receipt() {
    let script = Script {
        rcpt: |line| {
            if line.contains("nobody@") {
                "550 5.1.1 <nobody@example.net>: Recipient address rejected\r\n".into()
            } else {
                "250 2.1.5 Ok\r\n".into()
            }
        },
        ..Script::default()
    };
    let (addr, server) = sink(script);
    let receipt = inject(
        &smtp(&addr),
        &env("a@example.org", &["b@example.net", "nobody@example.net"]),
        b"hi\r\n",
    )
    .expect("inject");
    let rec = server.join().unwrap();
    assert_eq!(
        receipt.rejected,
        vec![Rejected {
            rcpt: "nobody@example.net".into(),
            reply: "550 5.1.1 <nobody@example.net>: Recipient address rejected".into()
        }]
    );
    assert_eq!(undot(rec.data.as_deref().unwrap()), b"hi\r\n");
}

#[test]
fn all_recipients_rejected_is_an_error() {
    let script = Script {
        rcpt: |_| "450 4.2.0 greylisted\r\n".into(),
        ..Script::default()
    };
    let (addr, server) = sink(script);
    let err = inject(
        &smtp(&addr),
        &env("a@example.org", &["b@example.net", "c@example.net"]),
        b"hi\r\n",
    )
    .unwrap_err();
    let InjectError::RecipientsRejected { rejected } = &err else {
        panic!("{err}")
    };
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[1].reply, "450 4.2.0 greylisted");
    assert!(
        err.to_string()
            .contains("c@example.net (450 4.2.0 greylisted)")
    );
    let rec = server.join().unwrap();
    assert!(!rec.saw("DATA") && rec.data.is_none());
}

#[test]
fn tempfail_on_data_and_after_data_is_reported() {
    let script = Script {
        data: "451 4.3.0 Error: queue file write error\r\n".into(),
        ..Script::default()
    };
    let (err, rec) = refused(script);
    assert!(
        matches!(&err, InjectError::Protocol { stage: "DATA", reply } if reply == "451 4.3.0 Error: queue file write error"),
        "{err}"
    );
    assert!(rec.data.is_none());

    let script = Script {
        end: "452-4.3.1 Insufficient\r\n452 4.3.1 system storage\r\n".into(),
        ..Script::default()
    };
    let (err, rec) = refused(script);
    assert!(
        matches!(&err, InjectError::Protocol { stage: "end of data", reply } if reply == "452-4.3.1 Insufficient\n452 4.3.1 system storage"),
        "{err}"
    );
    assert!(rec.data.is_some());
}

#[test]
fn mail_from_rejection_and_bad_greeting_are_errors() {
    let script = Script {
        mail: "553 5.7.1 <a@example.org>: Sender address rejected\r\n".into(),
        ..Script::default()
    };
    let (err, rec) = refused(script);
    assert!(
        matches!(
            &err,
            InjectError::Protocol {
                stage: "MAIL FROM",
                ..
            }
        ),
        "{err}"
    );
    assert!(!rec.saw("RCPT"));

    let script = Script {
        greeting: "554 5.3.2 go away\r\n".into(),
        ..Script::default()
    };
    let (err, rec) = refused(script);
    assert!(
        matches!(&err, InjectError::Protocol { stage: "greeting", reply } if reply == "554 5.3.2 go away"),
        "{err}"
    );
    assert!(!rec.saw("EHLO"));
}

#[test]
fn ehlo_refused_falls_back_to_helo() {
    let script = Script {
        ehlo: "502 5.5.1 EHLO not implemented\r\n".into(),
        ..Script::default()
    };
    let (_, rec, stored) = deliver("8-bit: é\r\n".as_bytes(), script);
    assert_eq!(rec.commands[0], "EHLO kensa.test");
    assert_eq!(rec.commands[1], "HELO kensa.test");
    // No extensions after HELO: no BODY parameter.
    assert_eq!(mail_line(&rec), "MAIL FROM:<a@example.org>");
    assert_eq!(stored, "8-bit: é\r\n".as_bytes());
}

#[test]
fn server_text_is_escaped_in_receipts() {
    let script = Script {
        end: "250 2.0.0 Ok \x1b[31mred\u{202e}\r\n".into(),
        ..Script::default()
    };
    let (receipt, _, _) = deliver(b"x\r\n", script);
    assert_eq!(receipt.reply, "250 2.0.0 Ok \\u{1b}[31mred\\u{202e}");
}

// ---------------------------------------------------------------------------------------------
// Hostile or broken servers
// ---------------------------------------------------------------------------------------------

#[test]
fn overlong_reply_lines_are_refused() {
    let script = Script {
        greeting: format!("220 {}\r\n", "x".repeat(10_000)),
        ..Script::default()
    };
    let (err, rec) = refused(script);
    assert!(
        matches!(&err, InjectError::MalformedReply { stage: "greeting", what } if what.contains("longer than 2048")),
        "{err}"
    );
    assert!(!rec.saw("EHLO"));
}

#[test]
fn endless_multiline_replies_are_refused() {
    let script = Script {
        ehlo: "250-sink.test\r\n".repeat(1000) + "250 END\r\n",
        ..Script::default()
    };
    let (err, rec) = refused(script);
    assert!(
        matches!(&err, InjectError::MalformedReply { stage: "EHLO", what } if what.contains("more than 128")),
        "{err}"
    );
    assert!(!rec.saw("MAIL"));
}

#[test]
fn silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        // Never greet; wait until the client gives up and closes.
        let _ = BufReader::new(stream).read_to_end(&mut Vec::new());
    });
    let target = Target::Smtp {
        addr,
        helo: "kensa.test".into(),
        timeout: Duration::from_millis(200),
    };
    let started = Instant::now();
    let err = inject(
        &target,
        &env("a@example.org", &["b@example.net"]),
        b"hi\r\n",
    )
    .unwrap_err();
    assert!(
        matches!(&err, InjectError::Io { stage: "greeting", source }
            if matches!(source.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    server.join().unwrap();
}

#[test]
fn refused_connection_is_a_connect_error() {
    let addr = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let err = inject(
        &smtp(&addr),
        &env("a@example.org", &["b@example.net"]),
        b"hi\r\n",
    )
    .unwrap_err();
    assert!(
        matches!(&err, InjectError::Connect { addr: a, .. } if *a == addr),
        "{err}"
    );
}

#[test]
fn bad_arguments_are_refused_before_connecting() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let target = smtp(&listener.local_addr().unwrap().to_string());
    let cases = [
        env(
            "a@example.org\r\nRCPT TO:<evil@example.org>",
            &["b@example.net"],
        ),
        env("a@example.org> SIZE=1", &["b@example.net"]),
        env("a@example.org", &["<b@example.net>"]),
        env("a@example.org", &["b@example.net\n"]),
        env("a@example.org", &["b\0@example.net"]),
        env("a@example.org", &["b@example.net", "\u{1b}[2J@example.net"]),
        env("a@example.org", &[""]),
    ];
    for case in &cases {
        let err = inject(&target, case, b"hi\r\n").unwrap_err();
        assert!(
            matches!(err, InjectError::BadArgument { .. }),
            "{case:?}: {err}"
        );
    }
    assert!(matches!(
        inject(&target, &env("a@example.org", &[]), b"hi"),
        Err(InjectError::NoRecipients)
    ));
    let bad_helo = Target::Smtp {
        addr: "127.0.0.1:1".into(),
        helo: "a b\r\nQUIT".into(),
        timeout: Duration::from_secs(1),
    };
    assert!(matches!(
        inject(&bad_helo, &env("a@x", &["b@y"]), b""),
        Err(InjectError::BadArgument {
            what: "HELO name",
            ..
        })
    ));
    let zero = Target::Smtp {
        addr: "127.0.0.1:1".into(),
        helo: "h".into(),
        timeout: Duration::ZERO,
    };
    assert!(matches!(
        inject(&zero, &env("a@x", &["b@y"]), b""),
        Err(InjectError::BadArgument {
            what: "timeout",
            ..
        })
    ));
    // Nobody connected.
    assert_eq!(
        listener.accept().unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    // The refused value is shown escaped.
    let err = inject(&target, &cases[0], b"").unwrap_err();
    assert!(err.to_string().contains("\\u{d}\\u{a}RCPT"), "{err}");
}

#[test]
fn reply_parser_reads_multiline_and_rejects_garbage() {
    let mut r = Cursor::new(&b"250-first\r\n250-8bitmime\r\n250 SMTPUTF8 extra\r\n220 next\n"[..]);
    let reply = read_reply(&mut r, "t").unwrap();
    assert_eq!(reply.code, 250);
    assert_eq!(reply.keywords(), ["8BITMIME", "SMTPUTF8"]);
    // The next reply starts where the first ended; a bare LF ending is accepted.
    assert_eq!(read_reply(&mut r, "t").unwrap().lines, ["220 next"]);
    for bad in [
        &b"250-a\r\n251 b\r\n"[..],
        b"2x0 a\r\n",
        b"250xa\r\n",
        b"150 a\r\n",
        b"25\r\n",
        b"250-a\r\n",
        b"",
    ] {
        let err = read_reply(&mut Cursor::new(bad), "t").unwrap_err();
        assert!(
            matches!(err, InjectError::MalformedReply { .. }),
            "{bad:?}: {err}"
        );
    }
    assert_eq!(
        read_reply(&mut Cursor::new(&b"354\r\n"[..]), "t")
            .unwrap()
            .code,
        354
    );
}

#[test]
fn mutated_reply_streams_never_panic() {
    let seeds: [&[u8]; 3] = [
        b"220 sink.test ESMTP\r\n250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n250 2.1.0 Ok\r\n354 go\r\n",
        b"250-a\r\n250-b\r\n250 c\r\n550 5.1.1 no\r\n",
        b"452-4.3.1 Insufficient\n452 4.3.1 storage\n221 bye\r\n",
    ];
    let mut x = 0x0123_4567_89ab_cdefu64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..3000 {
        let mut data = seeds[round % seeds.len()].to_vec();
        for _ in 0..1 + next() % 8 {
            if data.is_empty() {
                break;
            }
            let at = (next() as usize) % data.len();
            match next() % 5 {
                0 => data[at] ^= 1 << (next() % 8),
                1 => data[at] = next() as u8,
                2 => data.truncate(at),
                3 => data
                    .splice(at..at, std::iter::repeat_n(b'-', (next() % 3000) as usize))
                    .for_each(drop),
                _ => data
                    .splice(at..at, (0..next() % 8).map(|_| next() as u8))
                    .for_each(drop),
            }
        }
        let mut r = Cursor::new(&data);
        let mut replies = 0;
        while let Ok(reply) = read_reply(&mut r, "fuzz") {
            assert!((200..600).contains(&reply.code));
            assert!(!reply.lines.is_empty() && reply.lines.len() <= MAX_REPLY_LINES);
            replies += 1;
            assert!(replies <= data.len());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sendmail mode (one test: spawning from several test threads while another writes a script can
// fail with "text file busy")
// ---------------------------------------------------------------------------------------------

#[cfg(unix)]
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[cfg(unix)]
#[test]
fn sendmail_mode_passes_bytes_and_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = script(
        dir.path(),
        "sendmail",
        "#!/bin/sh\ndir=$(dirname \"$0\")\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$dir/args\"\ncat > \"$dir/stdin\"\nexit 0\n",
    );
    let target = Target::Sendmail { path: recorder };
    // A real message with lone-dot-starting lines, and 8-bit bytes without a final newline.
    let mut message = corpus("004");
    message.extend_from_slice(b".\n\xff\xfe end");
    let receipt = inject(
        &target,
        &env("a@example.org", &["b@example.net", "-oi@example.net"]),
        &message,
    )
    .expect("inject");
    assert_eq!(
        receipt,
        Receipt {
            reply: "sendmail exit 0".into(),
            rejected: vec![]
        }
    );
    assert_eq!(
        std::fs::read(dir.path().join("stdin")).unwrap(),
        message,
        "stdin unchanged"
    );
    let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
    assert_eq!(
        args,
        "-i\n-f\na@example.org\n--\nb@example.net\n-oi@example.net\n"
    );

    // The null sender.
    inject(&target, &env("", &["b@example.net"]), b"x\n").expect("inject");
    let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
    assert_eq!(args, "-i\n-f\n<>\n--\nb@example.net\n");

    // A failing sendmail: exit status and (escaped, trimmed) stderr reported.
    let failing = script(
        dir.path(),
        "failing",
        "#!/bin/sh\ncat > /dev/null\nprintf 'sendmail: fatal: \\033[1mqueue\\033[0m full\\n' >&2\nexit 75\n",
    );
    let err = inject(
        &Target::Sendmail {
            path: failing.clone(),
        },
        &env("a@x", &["b@y"]),
        b"x\n",
    )
    .unwrap_err();
    let InjectError::SendmailExit { path, code, stderr } = &err else {
        panic!("{err}")
    };
    assert_eq!((path, *code), (&failing, Some(75)));
    assert_eq!(stderr, "sendmail: fatal: \\u{1b}[1mqueue\\u{1b}[0m full");
    assert!(err.to_string().contains("exited with status 75"));

    // A sendmail that never reads stdin and floods stderr: no deadlock, stderr capped.
    let flood = script(
        dir.path(),
        "flood",
        "#!/bin/sh\nyes error | head -c 200000 >&2\nexit 1\n",
    );
    let big = vec![b'x'; 1 << 20];
    let err = inject(
        &Target::Sendmail { path: flood },
        &env("a@x", &["b@y"]),
        &big,
    )
    .unwrap_err();
    let InjectError::SendmailExit { stderr, .. } = &err else {
        panic!("{err}")
    };
    // 4,096 bytes kept; each escaped newline takes 6 characters.
    assert!(
        stderr.starts_with("error") && stderr.len() < 6 * MAX_SENDMAIL_STDERR,
        "{}",
        stderr.len()
    );
    assert!(stderr.matches("error").count() <= MAX_SENDMAIL_STDERR / 6 + 1);

    // Arguments are still checked; a missing program is a spawn error.
    let err = inject(&target, &env("a@x", &["b@y\n-X/tmp/log"]), b"x").unwrap_err();
    assert!(matches!(err, InjectError::BadArgument { .. }));
    let missing = Target::Sendmail {
        path: dir.path().join("missing"),
    };
    assert!(matches!(
        inject(&missing, &env("a@x", &["b@y"]), b"x"),
        Err(InjectError::Spawn { .. })
    ));
}
