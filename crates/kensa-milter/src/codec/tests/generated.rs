//! Round trips over generated values (xorshift) and a mutation robustness run over a milter
//! conversation built from real corpus mail.

use super::*;

// ---------------------------------------------------------------------------------------------
// Round trips over generated values
// ---------------------------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn u32(&mut self) -> u32 {
        self.next() as u32
    }

    /// Raw bytes (NUL included), up to `max` long, with a bias towards short and empty.
    fn bytes(&mut self, max: u64) -> Vec<u8> {
        let len = if self.below(4) == 0 {
            0
        } else {
            self.below(max + 1)
        };
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// A string field: no NUL.
    fn text(&mut self, max: u64) -> Vec<u8> {
        self.bytes(max)
            .into_iter()
            .map(|b| if b == 0 { b'0' } else { b })
            .collect()
    }

    fn argv(&mut self) -> Vec<Vec<u8>> {
        let n = 1 + self.below(4);
        (0..n).map(|_| self.text(40)).collect()
    }
}

const COMMAND_KINDS: u64 = 15;

fn gen_command(rng: &mut Rng, kind: u64) -> Command {
    match kind {
        0 => Command::OptNeg {
            version: rng.u32(),
            actions: rng.u32(),
            protocol: rng.u32(),
        },
        1 => Command::Macro {
            stage: rng.next() as u8,
            pairs: (0..rng.below(5))
                .map(|_| (rng.text(20), rng.text(40)))
                .collect(),
        },
        2 => {
            let family =
                [SMFIA_INET, SMFIA_INET6, SMFIA_UNIX, SMFIA_UNKNOWN][rng.below(4) as usize];
            let (port, address) = if family == SMFIA_UNKNOWN {
                (0, vec![])
            } else {
                (rng.next() as u16, rng.text(40))
            };
            Command::Connect {
                hostname: rng.text(60),
                family,
                port,
                address,
            }
        }
        3 => Command::Helo(rng.text(60)),
        4 => Command::Mail(rng.argv()),
        5 => Command::Rcpt(rng.argv()),
        6 => Command::Data,
        7 => Command::Header {
            name: rng.text(30),
            value: rng.text(200),
        },
        8 => Command::EndOfHeaders,
        9 => Command::Body(rng.bytes(3000)),
        10 => Command::EndOfBody(rng.bytes(100)),
        11 => Command::Abort,
        12 => Command::Quit,
        13 => Command::QuitNewConnection,
        _ => Command::Unknown(rng.text(80)),
    }
}

const REPLY_KINDS: u64 = 18;

fn gen_reply(rng: &mut Rng, kind: u64) -> Reply {
    match kind {
        0 => Reply::OptNeg {
            version: rng.u32(),
            actions: rng.u32(),
            protocol: rng.u32(),
        },
        1 => Reply::Accept,
        2 => Reply::Continue,
        3 => Reply::Reject,
        4 => Reply::TempFail,
        5 => Reply::Discard,
        6 => Reply::ReplyCode(rng.text(120)),
        7 => Reply::Progress,
        8 => Reply::Skip,
        9 => Reply::AddHeader {
            name: rng.text(30),
            value: rng.text(100),
        },
        10 => Reply::InsertHeader {
            index: rng.u32(),
            name: rng.text(30),
            value: rng.text(100),
        },
        11 => Reply::ChangeHeader {
            index: rng.u32(),
            name: rng.text(30),
            value: rng.text(100),
        },
        12 => Reply::ChangeFrom {
            from: rng.text(50),
            args: (rng.below(2) == 0).then(|| rng.text(30)),
        },
        13 => Reply::AddRcpt(rng.text(50)),
        14 => Reply::AddRcptPar {
            rcpt: rng.text(50),
            args: rng.text(30),
        },
        15 => Reply::DelRcpt(rng.text(50)),
        16 => Reply::ReplaceBody(rng.bytes(3000)),
        _ => Reply::Quarantine(rng.text(80)),
    }
}

#[test]
fn commands_round_trip() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut stream = Vec::new();
    let mut expected = Vec::new();
    for i in 0..3000u64 {
        let cmd = gen_command(&mut rng, i % COMMAND_KINDS);
        let bytes = enc_cmd(&cmd);
        assert_eq!(bytes[4], cmd.code());
        assert_eq!(
            u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize,
            bytes.len() - 4
        );
        assert_eq!(
            dec_cmd(&bytes),
            Ok(Some((cmd.clone(), bytes.len()))),
            "{cmd:?}"
        );
        stream.extend_from_slice(&bytes);
        expected.push(cmd);
    }
    // The same values back to back decode in order.
    let mut offset = 0;
    for want in &expected {
        let (got, used) = dec_cmd(&stream[offset..]).unwrap().unwrap();
        assert_eq!(&got, want);
        offset += used;
    }
    assert_eq!(offset, stream.len());
    assert_eq!(decode_all_commands(&stream), expected.len());
}

#[test]
fn replies_round_trip() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut stream = Vec::new();
    let mut count = 0;
    for i in 0..3600u64 {
        let reply = gen_reply(&mut rng, i % REPLY_KINDS);
        let bytes = enc_reply(&reply);
        assert_eq!(bytes[4], reply.code());
        assert_eq!(
            dec_reply(&bytes),
            Ok(Some((reply.clone(), bytes.len()))),
            "{reply:?}"
        );
        stream.extend_from_slice(&bytes);
        count += 1;
    }
    assert_eq!(decode_all_replies(&stream), count);
    // Replies are not commands: the stream stops at the first reply-only code.
    assert!(decode_all_commands(&stream) < count);
}

// ---------------------------------------------------------------------------------------------
// Mutation robustness over a conversation built from real mail
// ---------------------------------------------------------------------------------------------

/// The packets Postfix would send for `message` (headers then CRLF body chunks), then the replies a
/// filter would send back.
fn conversation(message: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (head, body) = split_message(message);
    let mut cmds = vec![
        Command::OptNeg {
            version: 6,
            actions: 0x1ff,
            protocol: 0x1f_ffff,
        },
        Command::Macro {
            stage: b'C',
            pairs: vec![(b"j".to_vec(), b"mx.kensa.test".to_vec())],
        },
        Command::Connect {
            hostname: b"client.example.org".to_vec(),
            family: SMFIA_INET,
            port: 40000,
            address: b"192.0.2.7".to_vec(),
        },
        Command::Helo(b"client.example.org".to_vec()),
        Command::Mail(vec![b"<a@example.org>".to_vec(), b"BODY=8BITMIME".to_vec()]),
        Command::Rcpt(vec![b"<b@example.net>".to_vec()]),
        Command::Data,
    ];
    for (name, value) in headers(head) {
        cmds.push(Command::Header { name, value });
    }
    cmds.push(Command::EndOfHeaders);
    let crlf = to_crlf(body);
    for chunk in crlf.chunks(4096) {
        cmds.push(Command::Body(chunk.to_vec()));
    }
    cmds.extend([Command::EndOfBody(vec![]), Command::Quit]);
    let mut out = Vec::new();
    for cmd in &cmds {
        encode_command(cmd, &mut out);
    }
    let mut replies = Vec::new();
    for reply in [
        Reply::OptNeg {
            version: 6,
            actions: 0x31,
            protocol: 0x10_0002,
        },
        Reply::Continue,
        Reply::Progress,
        Reply::AddHeader {
            name: b"X-Kensa".to_vec(),
            value: b" suspicious".to_vec(),
        },
        Reply::ChangeHeader {
            index: 1,
            name: b"Subject".to_vec(),
            value: b" [SUSPICIOUS]".to_vec(),
        },
        Reply::Quarantine(b"kensa: macro document".to_vec()),
        Reply::ReplaceBody(
            crlf.get(..crlf.len().min(2000))
                .unwrap_or_default()
                .to_vec(),
        ),
        Reply::ReplyCode(b"550 5.7.1 rejected".to_vec()),
        Reply::Accept,
    ] {
        encode_reply(&reply, &mut replies);
    }
    (out, replies)
}

fn split_message(message: &[u8]) -> (&[u8], &[u8]) {
    for sep in [&b"\r\n\r\n"[..], b"\n\n"] {
        if let Some(at) = message.windows(sep.len()).position(|w| w == sep) {
            return (&message[..at], &message[at + sep.len()..]);
        }
    }
    (message, &[])
}

/// Header fields as (name, value) with continuation lines joined by `\n`.
fn headers(head: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if matches!(line.first(), Some(b' ' | b'\t')) {
            if let Some((_, value)) = out.last_mut() {
                value.push(b'\n');
                value.extend_from_slice(line);
            }
        } else if let Some(colon) = line.iter().position(|&b| b == b':') {
            out.push((line[..colon].to_vec(), line[colon + 1..].to_vec()));
        }
    }
    out
}

fn to_crlf(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 20);
    let mut prev = 0u8;
    for &b in body {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

#[test]
fn conversation_from_real_mail_decodes_fully() {
    let message = std::fs::read(CJK).expect("corpus message");
    let (cmds, replies) = conversation(&message);
    let n = decode_all_commands(&cmds);
    let headers = headers(split_message(&message).0).len();
    assert!(headers > 10, "the corpus message has many headers");
    // 7 envelope packets + headers + EOH + body chunks + EOB + QUIT.
    assert!(n > 7 + headers + 3, "decoded {n}");
    let mut offset = 0;
    let mut header_count = 0;
    while let Ok(Some((cmd, used))) = dec_cmd(&cmds[offset..]) {
        if let Command::Header { name, .. } = &cmd {
            header_count += 1;
            assert!(!name.is_empty());
        }
        offset += used;
    }
    assert_eq!(offset, cmds.len());
    assert_eq!(header_count, headers);
    assert_eq!(decode_all_replies(&replies), 9);
}

#[test]
fn mutated_streams_never_panic() {
    let mut seeds = Vec::new();
    for path in [CJK, NICE_004] {
        let (cmds, replies) = conversation(&std::fs::read(path).expect("corpus message"));
        seeds.push(cmds);
        seeds.push(replies);
    }
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for round in 0..4000u64 {
        let mut data = seeds[(round % seeds.len() as u64) as usize].clone();
        let edits = 1 + rng.below(12);
        for _ in 0..edits {
            if data.is_empty() {
                break;
            }
            let at = rng.below(data.len() as u64) as usize;
            match rng.below(6) {
                0 => data[at] ^= 1 << rng.below(8),
                1 => data[at] = rng.next() as u8,
                2 => data.truncate(at),
                3 => {
                    // Overwrite a would-be length prefix with an extreme value.
                    let end = (at + 4).min(data.len());
                    let value =
                        [0u32, 1, 4, 0x7fff_ffff, u32::MAX][rng.below(5) as usize].to_be_bytes();
                    data[at..end].copy_from_slice(&value[..end - at]);
                }
                4 => {
                    let end = (at + 1 + rng.below(64) as usize).min(data.len());
                    data.drain(at..end);
                }
                _ => {
                    let insert: Vec<u8> = (0..rng.below(16)).map(|_| rng.next() as u8).collect();
                    data.splice(at..at, insert);
                }
            }
        }
        // Every packet takes at least 5 bytes, so the counts are bounded by the input.
        let n = decode_all_commands(&data);
        assert!(
            n <= data.len() / 5,
            "round {round}: {n} packets from {} bytes",
            data.len()
        );
        let n = decode_all_replies(&data);
        assert!(n <= data.len() / 5);
        // Small caps and every starting offset near the front behave the same way.
        for start in 0..data.len().min(8) {
            if let Ok(Some((_, used))) = decode_command(&data[start..], 64) {
                assert!((5..=68).contains(&used));
            }
            if let Ok(Some((_, used))) = decode_reply(&data[start..], 64) {
                assert!((5..=68).contains(&used));
            }
        }
        let _ = validate_replycode(&data[..data.len().min(200)]);
    }
}
