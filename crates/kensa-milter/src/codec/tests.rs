//! Codec tests: byte-exact packets as Postfix writes them, round trips over generated values,
//! error cases, reply-text validation and a mutation robustness run over real mail.

use super::*;

mod generated;

const CJK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/mail/spamassassin-tests/nice/cjk/iso-2022-jp.1"
);
const NICE_004: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/mail/spamassassin-tests/nice/004"
);

fn enc_cmd(cmd: &Command) -> Vec<u8> {
    let mut out = Vec::new();
    encode_command(cmd, &mut out);
    out
}

fn enc_reply(reply: &Reply) -> Vec<u8> {
    let mut out = Vec::new();
    encode_reply(reply, &mut out);
    out
}

fn dec_cmd(bytes: &[u8]) -> Result<Option<(Command, usize)>, CodecError> {
    decode_command(bytes, MAX_PACKET)
}

fn dec_reply(bytes: &[u8]) -> Result<Option<(Reply, usize)>, CodecError> {
    decode_reply(bytes, MAX_PACKET)
}

/// Builds a packet by hand: u32 BE length (command byte included), code, data.
fn pkt(code: u8, data: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(data.len() + 1)
        .unwrap()
        .to_be_bytes()
        .to_vec();
    out.push(code);
    out.extend_from_slice(data);
    out
}

/// Asserts that `bytes` decode to `cmd` taking every byte, and that `cmd` encodes to `bytes`.
fn assert_cmd_exact(bytes: &[u8], cmd: Command) {
    assert_eq!(
        dec_cmd(bytes),
        Ok(Some((cmd.clone(), bytes.len()))),
        "decode {bytes:02x?}"
    );
    assert_eq!(enc_cmd(&cmd), bytes, "encode {cmd:?}");
}

fn assert_reply_exact(bytes: &[u8], reply: Reply) {
    assert_eq!(
        dec_reply(bytes),
        Ok(Some((reply.clone(), bytes.len()))),
        "decode {bytes:02x?}"
    );
    assert_eq!(enc_reply(&reply), bytes, "encode {reply:?}");
}

// ---------------------------------------------------------------------------------------------
// Byte-exact packets in the layout Postfix's milter8.c writes (see the module documentation).
// ---------------------------------------------------------------------------------------------

#[test]
fn postfix_optneg_is_byte_exact() {
    // milter8_connect: OPTNEG = HLONG version, HLONG my_actions, HLONG my_events. For protocol 6
    // my_actions = ADDHDRS|ADDRCPT|DELRCPT|CHGHDRS|CHGBODY|QUARANTINE|CHGFROM|ADDRCPT_PAR|SETSYMLIST
    // = 0x1ff and my_events = MILTER8_V6_PROTO_MASK = 0x1fffff (all of NO*, SKIP, RCPT_REJ, NR_*,
    // HDR_LEADSPC). Length 13 = 1 command byte + 12 data bytes.
    let bytes = [
        0, 0, 0, 13, b'O', 0, 0, 0, 6, 0, 0, 0x01, 0xff, 0, 0x1f, 0xff, 0xff,
    ];
    let actions = SMFIF_ADDHDRS
        | SMFIF_ADDRCPT
        | SMFIF_DELRCPT
        | SMFIF_CHGHDRS
        | SMFIF_CHGBODY
        | SMFIF_QUARANTINE
        | SMFIF_CHGFROM
        | SMFIF_ADDRCPT_PAR
        | SMFIF_SETSYMLIST;
    let no_steps = SMFIP_NOCONNECT
        | SMFIP_NOHELO
        | SMFIP_NOMAIL
        | SMFIP_NORCPT
        | SMFIP_NOBODY
        | SMFIP_NOHDRS
        | SMFIP_NOEOH
        | SMFIP_NOUNKNOWN
        | SMFIP_NODATA;
    let no_replies = SMFIP_NR_HDR
        | SMFIP_NR_CONN
        | SMFIP_NR_HELO
        | SMFIP_NR_MAIL
        | SMFIP_NR_RCPT
        | SMFIP_NR_DATA
        | SMFIP_NR_UNKN
        | SMFIP_NR_EOH
        | SMFIP_NR_BODY;
    let protocol = no_steps | no_replies | SMFIP_SKIP | SMFIP_RCPT_REJ | SMFIP_HDR_LEADSPC;
    assert_eq!(actions, 0x1ff);
    assert_eq!(protocol, 0x1f_ffff);
    assert_cmd_exact(
        &bytes,
        Command::OptNeg {
            version: SMFI_VERSION,
            actions,
            protocol,
        },
    );
}

#[test]
fn postfix_macro_packets_are_byte_exact() {
    // milter8_event: MACRO = OCTET event + ARGV of name, value, name, value …
    let mut data = vec![b'C'];
    data.extend_from_slice(b"j\0mx.kensa.test\0{daemon_name}\0smtpd\0v\0Postfix 3.7.11\0");
    assert_cmd_exact(
        &pkt(b'D', &data),
        Command::Macro {
            stage: b'C',
            pairs: vec![
                (b"j".to_vec(), b"mx.kensa.test".to_vec()),
                (b"{daemon_name}".to_vec(), b"smtpd".to_vec()),
                (b"v".to_vec(), b"Postfix 3.7.11".to_vec()),
            ],
        },
    );
    // An empty macro list (argc 0) is just the stage octet; an empty value is a lone NUL.
    assert_eq!(pkt(b'D', b"T"), [0, 0, 0, 2, b'D', b'T']);
    assert_cmd_exact(
        &pkt(b'D', b"T"),
        Command::Macro {
            stage: b'T',
            pairs: vec![],
        },
    );
    assert_cmd_exact(
        &pkt(b'D', b"M{auth_authen}\0\0"),
        Command::Macro {
            stage: b'M',
            pairs: vec![(b"{auth_authen}".to_vec(), vec![])],
        },
    );
}

#[test]
fn postfix_connect_packets_are_byte_exact() {
    // milter8_conn_event, AF_INET: STRING name, OCTET '4', NSHORT htons(port), STRING address.
    let mut v4 = b"client.example.org\0".to_vec();
    v4.extend_from_slice(&[b'4', 0xc8, 0x22]); // port 51234
    v4.extend_from_slice(b"192.0.2.10\0");
    assert_cmd_exact(
        &pkt(b'C', &v4),
        Command::Connect {
            hostname: b"client.example.org".to_vec(),
            family: SMFIA_INET,
            port: 51234,
            address: b"192.0.2.10".to_vec(),
        },
    );
    // AF_INET6 with an unknown client name: Postfix sends "[address]" as the name.
    let mut v6 = b"[2001:db8::25]\0".to_vec();
    v6.extend_from_slice(&[b'6', 0x00, 0x19]);
    v6.extend_from_slice(b"2001:db8::25\0");
    assert_cmd_exact(
        &pkt(b'C', &v6),
        Command::Connect {
            hostname: b"[2001:db8::25]".to_vec(),
            family: SMFIA_INET6,
            port: 25,
            address: b"2001:db8::25".to_vec(),
        },
    );
    // AF_UNIX: OCTET 'L', NSHORT htons(0), STRING address.
    let mut unix = b"localhost\0L\0\0".to_vec();
    unix.extend_from_slice(b"/var/run/x\0");
    assert_cmd_exact(
        &pkt(b'C', &unix),
        Command::Connect {
            hostname: b"localhost".to_vec(),
            family: SMFIA_UNIX,
            port: 0,
            address: b"/var/run/x".to_vec(),
        },
    );
    // Default (unknown family): STRING name, OCTET 'U', nothing else.
    assert_cmd_exact(
        &pkt(b'C', b"unknown\0U"),
        Command::Connect {
            hostname: b"unknown".to_vec(),
            family: SMFIA_UNKNOWN,
            port: 0,
            address: vec![],
        },
    );
}

#[test]
fn postfix_envelope_packets_are_byte_exact() {
    assert_cmd_exact(
        &pkt(b'H', b"client.example.org\0"),
        Command::Helo(b"client.example.org".to_vec()),
    );
    // MAIL/RCPT: ARGV of the SMTP tokens after "MAIL FROM:" (address with <>, then parameters).
    assert_cmd_exact(
        &pkt(b'M', b"<alice@example.org>\0SIZE=1234\0BODY=8BITMIME\0"),
        Command::Mail(vec![
            b"<alice@example.org>".to_vec(),
            b"SIZE=1234".to_vec(),
            b"BODY=8BITMIME".to_vec(),
        ]),
    );
    assert_cmd_exact(&pkt(b'M', b"<>\0"), Command::Mail(vec![b"<>".to_vec()]));
    assert_cmd_exact(
        &pkt(b'R', b"<bob@example.net>\0"),
        Command::Rcpt(vec![b"<bob@example.net>".to_vec()]),
    );
    assert_cmd_exact(
        &pkt(b'U', b"XFOO bar\0"),
        Command::Unknown(b"XFOO bar".to_vec()),
    );
    // Data-less events: length 1, the command byte only.
    for (code, cmd) in [
        (b'T', Command::Data),
        (b'N', Command::EndOfHeaders),
        (b'A', Command::Abort),
        (b'Q', Command::Quit),
        (b'K', Command::QuitNewConnection),
    ] {
        assert_cmd_exact(&[0, 0, 0, 1, code], cmd);
    }
}

#[test]
fn postfix_content_packets_are_byte_exact() {
    // milter8_header: STRING name, STRING value; with SMFIP_HDR_LEADSPC the space after ':' stays.
    assert_cmd_exact(
        &pkt(b'L', b"Subject\0 hello\0"),
        Command::Header {
            name: b"Subject".to_vec(),
            value: b" hello".to_vec(),
        },
    );
    // Multi-line headers: lines separated by newline inside the value.
    assert_cmd_exact(
        &pkt(b'L', b"Received\0from a\n\tby b\0"),
        Command::Header {
            name: b"Received".to_vec(),
            value: b"from a\n\tby b".to_vec(),
        },
    );
    // milter8_body: BUFFER of CRLF lines, no terminator; milter8_eob: no data.
    assert_cmd_exact(
        &pkt(b'B', b"Hello\r\n.dot\r\n"),
        Command::Body(b"Hello\r\n.dot\r\n".to_vec()),
    );
    assert_cmd_exact(&[0, 0, 0, 1, b'B'], Command::Body(vec![]));
    assert_cmd_exact(&[0, 0, 0, 1, b'E'], Command::EndOfBody(vec![]));
    // libmilter accepts a last chunk with end of body.
    assert_cmd_exact(
        &pkt(b'E', b"tail\0x"),
        Command::EndOfBody(b"tail\0x".to_vec()),
    );
    // A full Postfix-sized chunk (65,535 bytes) decodes under the default cap.
    let chunk = vec![b'x'; MILTER_CHUNK_SIZE];
    assert_cmd_exact(&pkt(b'B', &chunk), Command::Body(chunk.clone()));
}

#[test]
fn libmilter_reply_packets_are_byte_exact() {
    // smfi_setreply / smfi_quarantine send strlen + 1 bytes (NUL included).
    assert_reply_exact(
        &pkt(b'y', b"550 5.7.1 Rejected by kensa\0"),
        Reply::ReplyCode(b"550 5.7.1 Rejected by kensa".to_vec()),
    );
    assert_reply_exact(
        &pkt(b'q', b"emotet dropper\0"),
        Reply::Quarantine(b"emotet dropper".to_vec()),
    );
    assert_reply_exact(
        &pkt(b'h', b"X-Kensa-Verdict\0 malicious\0"),
        Reply::AddHeader {
            name: b"X-Kensa-Verdict".to_vec(),
            value: b" malicious".to_vec(),
        },
    );
    let mut ins = vec![0, 0, 0, 0];
    ins.extend_from_slice(b"X-Kensa\0v\0");
    assert_reply_exact(
        &pkt(b'i', &ins),
        Reply::InsertHeader {
            index: 0,
            name: b"X-Kensa".to_vec(),
            value: b"v".to_vec(),
        },
    );
    // CHGHEADER with an empty value deletes the header.
    let mut chg = vec![0, 0, 0, 2];
    chg.extend_from_slice(b"Subject\0\0");
    assert_reply_exact(
        &pkt(b'm', &chg),
        Reply::ChangeHeader {
            index: 2,
            name: b"Subject".to_vec(),
            value: vec![],
        },
    );
    assert_reply_exact(
        &pkt(b'e', b"<new@example.org>\0"),
        Reply::ChangeFrom {
            from: b"<new@example.org>".to_vec(),
            args: None,
        },
    );
    assert_reply_exact(
        &pkt(b'e', b"<new@example.org>\0SIZE=10\0"),
        Reply::ChangeFrom {
            from: b"<new@example.org>".to_vec(),
            args: Some(b"SIZE=10".to_vec()),
        },
    );
    assert_reply_exact(
        &pkt(b'+', b"<c@example.org>\0"),
        Reply::AddRcpt(b"<c@example.org>".to_vec()),
    );
    assert_reply_exact(
        &pkt(b'2', b"<c@example.org>\0NOTIFY=NEVER\0"),
        Reply::AddRcptPar {
            rcpt: b"<c@example.org>".to_vec(),
            args: b"NOTIFY=NEVER".to_vec(),
        },
    );
    // ADDRCPT_PAR without the optional argument string decodes with empty arguments.
    assert_eq!(
        dec_reply(&pkt(b'2', b"<c@example.org>\0")),
        Ok(Some((
            Reply::AddRcptPar {
                rcpt: b"<c@example.org>".to_vec(),
                args: vec![]
            },
            21
        )))
    );
    assert_reply_exact(
        &pkt(b'-', b"<b@example.net>\0"),
        Reply::DelRcpt(b"<b@example.net>".to_vec()),
    );
    assert_reply_exact(
        &pkt(b'b', b"new body\r\n"),
        Reply::ReplaceBody(b"new body\r\n".to_vec()),
    );
    for (code, reply) in [
        (b'a', Reply::Accept),
        (b'c', Reply::Continue),
        (b'r', Reply::Reject),
        (b't', Reply::TempFail),
        (b'd', Reply::Discard),
        (b'p', Reply::Progress),
        (b's', Reply::Skip),
    ] {
        assert_reply_exact(&[0, 0, 0, 1, code], reply);
    }
    // The filter's OPTNEG: kensa asks for ADDHDRS|CHGHDRS|QUARANTINE and keeps HDR_LEADSPC.
    assert_reply_exact(
        &[
            0, 0, 0, 13, b'O', 0, 0, 0, 6, 0, 0, 0, 0x31, 0, 0x10, 0, 0x02,
        ],
        Reply::OptNeg {
            version: 6,
            actions: SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
            protocol: SMFIP_HDR_LEADSPC | SMFIP_NOHELO,
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Framing and errors
// ---------------------------------------------------------------------------------------------

#[test]
fn every_strict_prefix_needs_more_bytes() {
    let mut stream = Vec::new();
    for cmd in [
        Command::Helo(b"x".to_vec()),
        Command::Data,
        Command::Body(b"abc".to_vec()),
        Command::Connect {
            hostname: b"h".to_vec(),
            family: SMFIA_INET,
            port: 25,
            address: b"192.0.2.1".to_vec(),
        },
    ] {
        let bytes = enc_cmd(&cmd);
        for cut in 0..bytes.len() {
            assert_eq!(dec_cmd(&bytes[..cut]), Ok(None), "{cmd:?} cut at {cut}");
        }
        stream.extend_from_slice(&bytes);
    }
    // Decoding a stream packet after packet consumes it exactly.
    assert_eq!(decode_all_commands(&stream), 4);
    let reply = enc_reply(&Reply::Quarantine(b"r".to_vec()));
    for cut in 0..reply.len() {
        assert_eq!(dec_reply(&reply[..cut]), Ok(None));
    }
}

#[test]
fn lengths_are_checked_before_buffering() {
    assert_eq!(dec_cmd(&[0, 0, 0, 0, b'T']), Err(CodecError::Empty));
    assert_eq!(dec_reply(&[0, 0, 0, 0]), Err(CodecError::Empty));
    // Only the prefix is there: a huge length is refused at once, not waited for.
    assert_eq!(
        dec_cmd(&[0xff, 0xff, 0xff, 0xff]),
        Err(CodecError::TooLarge {
            len: u32::MAX,
            max: MAX_PACKET
        })
    );
    assert_eq!(
        dec_reply(&[0x00, 0x10, 0x00, 0x01]),
        Err(CodecError::TooLarge {
            len: 0x10_0001,
            max: MAX_PACKET
        })
    );
    // The cap is the caller's: exactly `max` passes, one more fails.
    let body = pkt(b'B', &[b'a'; 9]);
    assert!(matches!(
        decode_command(&body, 10),
        Ok(Some((Command::Body(_), 14)))
    ));
    assert_eq!(
        decode_command(&body, 9),
        Err(CodecError::TooLarge { len: 10, max: 9 })
    );
}

#[test]
fn malformed_commands_are_errors() {
    let cases: Vec<(Vec<u8>, CodecError)> = vec![
        (
            pkt(b'H', b"no-nul"),
            CodecError::Unterminated {
                command: b'H',
                what: "helo name",
            },
        ),
        (
            pkt(b'H', b""),
            CodecError::Truncated {
                command: b'H',
                what: "helo name",
            },
        ),
        (
            pkt(b'H', b"a\0b\0"),
            CodecError::TrailingData {
                command: b'H',
                len: 2,
            },
        ),
        (
            pkt(b'O', &[0, 0, 0, 6, 0, 0]),
            CodecError::Truncated {
                command: b'O',
                what: "actions",
            },
        ),
        (
            pkt(b'O', &[0; 13]),
            CodecError::TrailingData {
                command: b'O',
                len: 1,
            },
        ),
        (
            pkt(b'D', b""),
            CodecError::Truncated {
                command: b'D',
                what: "macro stage",
            },
        ),
        (
            pkt(b'D', b"Cj\0"),
            CodecError::BadField {
                command: b'D',
                what: "macro name without a value",
            },
        ),
        (
            pkt(b'D', b"Cj\0x"),
            CodecError::Unterminated {
                command: b'D',
                what: "macro value",
            },
        ),
        (
            pkt(b'C', b"host\0"),
            CodecError::Truncated {
                command: b'C',
                what: "address family",
            },
        ),
        (
            pkt(b'C', b"host\0U\0"),
            CodecError::TrailingData {
                command: b'C',
                len: 1,
            },
        ),
        (
            pkt(b'C', b"host\0X\0\0a\0"),
            CodecError::BadField {
                command: b'C',
                what: "address family",
            },
        ),
        (
            pkt(b'C', b"host\x004\x00"),
            CodecError::Truncated {
                command: b'C',
                what: "port",
            },
        ),
        (
            pkt(b'C', b"host\x004\x00\x19"),
            CodecError::Truncated {
                command: b'C',
                what: "address",
            },
        ),
        (
            pkt(b'C', b"host\x004\x00\x19abc"),
            CodecError::Unterminated {
                command: b'C',
                what: "address",
            },
        ),
        (
            pkt(b'M', b""),
            CodecError::Truncated {
                command: b'M',
                what: "sender",
            },
        ),
        (
            pkt(b'R', b"<a@b>\0SIZE"),
            CodecError::Unterminated {
                command: b'R',
                what: "ESMTP argument",
            },
        ),
        (
            pkt(b'L', b"Subject\0"),
            CodecError::Truncated {
                command: b'L',
                what: "header value",
            },
        ),
        (
            pkt(b'T', b"x"),
            CodecError::TrailingData {
                command: b'T',
                len: 1,
            },
        ),
        (
            pkt(b'Q', b"\0"),
            CodecError::TrailingData {
                command: b'Q',
                len: 1,
            },
        ),
        (pkt(b'Z', b""), CodecError::UnknownCommand(b'Z')),
        (pkt(b'c', b""), CodecError::UnknownCommand(b'c')),
    ];
    for (bytes, want) in cases {
        assert_eq!(dec_cmd(&bytes), Err(want.clone()), "{bytes:02x?}");
        // Errors render with the command byte and the field.
        assert!(!want.to_string().is_empty());
    }
    assert_eq!(
        CodecError::Unterminated {
            command: b'H',
            what: "helo name"
        }
        .to_string(),
        "packet 'H': the helo name string has no NUL terminator"
    );
    assert_eq!(
        CodecError::UnknownCommand(0x01).to_string(),
        "unknown command byte 0x01"
    );
}

#[test]
fn malformed_replies_are_errors() {
    let cases: Vec<(Vec<u8>, CodecError)> = vec![
        (
            pkt(b'c', b"x"),
            CodecError::TrailingData {
                command: b'c',
                len: 1,
            },
        ),
        (
            pkt(b'p', b"\0"),
            CodecError::TrailingData {
                command: b'p',
                len: 1,
            },
        ),
        (
            pkt(b'y', b"550 no nul"),
            CodecError::Unterminated {
                command: b'y',
                what: "reply text",
            },
        ),
        (
            pkt(b'y', b"550 a\0b"),
            CodecError::TrailingData {
                command: b'y',
                len: 1,
            },
        ),
        (
            pkt(b'q', b""),
            CodecError::Truncated {
                command: b'q',
                what: "quarantine reason",
            },
        ),
        (
            pkt(b'i', &[0, 0, 1]),
            CodecError::Truncated {
                command: b'i',
                what: "header index",
            },
        ),
        (
            pkt(b'm', &[0, 0, 0, 1, b'X', 0]),
            CodecError::Truncated {
                command: b'm',
                what: "header value",
            },
        ),
        (
            pkt(b'e', b"<a>\0args"),
            CodecError::Unterminated {
                command: b'e',
                what: "ESMTP arguments",
            },
        ),
        (
            pkt(b'2', b"<a>\0x\0y\0"),
            CodecError::TrailingData {
                command: b'2',
                len: 2,
            },
        ),
        // Macro lists after the filter's OPTNEG (SMFIF_SETSYMLIST) are not supported.
        (
            pkt(
                b'O',
                &[0, 0, 0, 6, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, b'i', 0],
            ),
            CodecError::TrailingData {
                command: b'O',
                len: 6,
            },
        ),
        // MTA-internal replies and commands are not replies.
        (pkt(b'4', b""), CodecError::UnknownCommand(b'4')),
        (pkt(b'f', b""), CodecError::UnknownCommand(b'f')),
        (pkt(b'H', b"x\0"), CodecError::UnknownCommand(b'H')),
    ];
    for (bytes, want) in cases {
        assert_eq!(dec_reply(&bytes), Err(want), "{bytes:02x?}");
    }
}

#[test]
fn encoders_cut_strings_at_nul() {
    // An embedded NUL cannot forge a second field: the string ends there.
    let bytes = enc_cmd(&Command::Header {
        name: b"X\0evil".to_vec(),
        value: b"v\0w".to_vec(),
    });
    assert_eq!(bytes, pkt(b'L', b"X\0v\0"));
    let bytes = enc_reply(&Reply::ReplyCode(b"550 5.7.1 a\0\x00250 ok".to_vec()));
    assert_eq!(bytes, pkt(b'y', b"550 5.7.1 a\0"));
    // An empty argv is written as one empty string.
    assert_eq!(enc_cmd(&Command::Mail(vec![])), pkt(b'M', b"\0"));
    // A CONNECT with the unknown family drops port and address.
    let unknown = Command::Connect {
        hostname: b"h".to_vec(),
        family: SMFIA_UNKNOWN,
        port: 25,
        address: b"a".to_vec(),
    };
    assert_eq!(enc_cmd(&unknown), pkt(b'C', b"h\0U"));
    // Encoding appends to what is already in the buffer.
    let mut out = vec![0xaa];
    encode_reply(&Reply::Continue, &mut out);
    assert_eq!(out, [0xaa, 0, 0, 0, 1, b'c']);
    assert_eq!(try_encode_reply(&Reply::Accept, &mut out), Ok(()));
    assert_eq!(out.len(), 11);
}

// ---------------------------------------------------------------------------------------------
// Reply text validation
// ---------------------------------------------------------------------------------------------

#[test]
fn replycode_validation_follows_libmilter_and_postfix() {
    let good: &[&[u8]] = &[
        b"550",
        b"550 ",
        b"550 5.7.1",
        b"550 5.7.1 Message rejected: malware found",
        b"451 4.7.1 Try again later",
        b"554 5.7.0 100%% sure",
        b"550 Rejected without an enhanced code",
        b"421 4.3.2 Service shutting down",
        b"550 5.123.456 x",
    ];
    for text in good {
        assert!(
            validate_replycode(text),
            "{}",
            String::from_utf8_lossy(text)
        );
    }
    let long_ok = [b"550 ".as_slice(), &[b'a'; MAX_REPLY_TEXT]].concat();
    assert!(validate_replycode(&long_ok));
    let bad: &[&[u8]] = &[
        b"",
        b"55",
        b"250 2.0.0 ok",            // not 4xx/5xx
        b"350 go ahead",            // not 4xx/5xx
        b"5a0 5.7.1 x",             // not digits
        b"550-5.7.1 multi",         // multi-line form refused
        b"5505.7.1",                // no space after the code
        b"550 4.7.1 class differs", // class must match the code
        b"450 5.7.1 class differs",
        b"550 5.7 short",
        b"550 5..1 empty part",
        b"550 5.7.1234 too long",
        b"550 5.7.1x junk after the code",
        b"550 500 three digits",
        b"550 5.7.1 a\r\n250 ok", // CR/LF injection
        b"550 5.7.1 a\nb",
        b"550 5.7.1 a\0b",
        b"550 5.7.1 tab\there",
        b"550 5.7.1 esc\x1b[31m",
        b"550 5.7.1 100% sure", // lone %
        b"550 5.7.1 ends with %",
        "550 5.7.1 日本語".as_bytes(), // not ASCII
    ];
    for text in bad {
        assert!(
            !validate_replycode(text),
            "{}",
            String::from_utf8_lossy(text)
        );
    }
    let too_long = [b"550 ".as_slice(), &[b'a'; MAX_REPLY_TEXT + 1]].concat();
    assert!(!validate_replycode(&too_long));
}
