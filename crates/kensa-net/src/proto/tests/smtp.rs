//! SMTP: transcripts written here in RFC 5321 style (no SMTP capture is in the corpus), the
//! STARTTLS hand-over, AUTH variants, pipelining, BDAT, and mutations.

use super::super::smtp::*;
use super::XorShift;

/// A spambot-like session: AUTH LOGIN in clear, two messages, pipelined recipients.
const CLIENT: &[u8] = b"EHLO DESKTOP-4C3VX2B\r\n\
AUTH LOGIN\r\n\
dXNlckBleGFtcGxlLmNvbQ==\r\n\
cGFzc3dvcmQ=\r\n\
MAIL FROM:<invoice@example.com> SIZE=2048\r\n\
RCPT TO:<a@example.net>\r\n\
RCPT TO:<B@Example.Org> NOTIFY=NEVER\r\n\
DATA\r\n\
From: <invoice@example.com>\r\n\
Subject: Rechnung\r\n\
\r\n\
..a line starting with a dot\r\n\
.\r\n\
MAIL FROM:<>\r\n\
RCPT TO:<c@example.net>\r\n\
DATA\r\n\
second\r\n\
.\r\n\
QUIT\r\n";

const SERVER: &[u8] = b"220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n\
250-mail.example.com\r\n\
250-PIPELINING\r\n\
250-SIZE 10240000\r\n\
250-AUTH PLAIN LOGIN\r\n\
250-8BITMIME\r\n\
250 SMTPUTF8\r\n\
334 VXNlcm5hbWU6\r\n\
334 UGFzc3dvcmQ6\r\n\
235 2.7.0 Authentication successful\r\n\
250 2.1.0 Ok\r\n\
250 2.1.5 Ok\r\n\
250 2.1.5 Ok\r\n\
354 End data with <CR><LF>.<CR><LF>\r\n\
250 2.0.0 Ok: queued as 4F2A1C0B3\r\n\
250 2.1.0 Ok\r\n\
250 2.1.5 Ok\r\n\
354 End data with <CR><LF>.<CR><LF>\r\n\
250 2.0.0 Ok: queued as 4F2A1C0B4\r\n\
221 2.0.0 Bye\r\n";

#[test]
fn cleartext_session_with_login_and_two_messages() {
    let s = smtp_session(CLIENT, SERVER);
    assert_eq!(s.hello_verb.as_deref(), Some("EHLO"));
    assert_eq!(s.hello_name.as_deref(), Some("DESKTOP-4C3VX2B"));
    let auth = s.auth.as_ref().expect("auth");
    assert_eq!(auth.mechanism, "LOGIN");
    assert_eq!(auth.credential_lines, 2);
    assert!(auth.cleartext_credentials);
    assert_eq!(s.auth_result, Some(235));
    assert!(!s.starttls && !s.tls_started);
    assert_eq!(s.messages.len(), 2);
    assert_eq!(s.messages[0].mail_from, "invoice@example.com");
    assert_eq!(s.messages[0].rcpt_to, ["a@example.net", "B@Example.Org"]);
    assert_eq!(s.messages[0].rcpt_count, 2);
    assert!(s.messages[0].data_sent);
    assert_eq!(s.messages[0].data_bytes, 80);
    assert_eq!(s.messages[1].mail_from, "", "null reverse path");
    assert_eq!(s.messages_sent, 2);
    assert_eq!(s.recipients, 3);
    assert!(s.data_sent);
    assert_eq!(
        s.unknown_commands, 0,
        "credentials and message lines are not commands"
    );
    assert_eq!(s.commands, 10);
    assert_eq!(s.client_end, SmtpEnd::Complete);
    assert_eq!(
        s.banner.as_deref(),
        Some("mail.example.com ESMTP Postfix (Debian/GNU)")
    );
    assert_eq!(
        s.capabilities,
        [
            "PIPELINING",
            "SIZE 10240000",
            "AUTH PLAIN LOGIN",
            "8BITMIME",
            "SMTPUTF8"
        ]
    );
    assert_eq!(s.reply_codes[..4], [220, 250, 334, 334]);
    assert_eq!(s.reply_count, 15);
    assert_eq!(s.data_accepted, 2);
    assert_eq!(s.server_malformed, None);
    // Nothing of the credentials is kept anywhere in the result.
    let dump = format!("{s:?}");
    assert!(!dump.contains("dXNlck") && !dump.contains("cGFzc3dvcmQ"));
}

#[test]
fn starttls_hands_over_to_tls() {
    let client =
        b"EHLO pc\r\nSTARTTLS\r\n\x16\x03\x01\x00\xf4\x01\x00\x00\xf0\x03\x03AUTH PLAIN x\r\n";
    let server = b"220 mx ESMTP\r\n250-mx\r\n250 STARTTLS\r\n220 2.0.0 Ready to start TLS\r\n\x16\x03\x03\x00\x5a";
    let s = smtp_session(client, server);
    assert!(s.starttls && s.tls_started);
    assert_eq!(s.client_end, SmtpEnd::Tls);
    assert_eq!(
        s.auth, None,
        "nothing after the TLS bytes is read as commands"
    );
    assert_eq!(s.reply_codes, [220, 250, 220]);
    assert_eq!(s.capabilities, ["STARTTLS"]);
    assert_eq!(s.server_malformed, None);
    // STARTTLS refused: the client goes on in clear.
    let client = b"EHLO pc\r\nSTARTTLS\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nQUIT\r\n";
    let s = smtp_session(
        client,
        b"220 mx\r\n250 mx\r\n454 4.7.0 TLS not available\r\n535 5.7.8 no\r\n",
    );
    assert!(s.starttls && !s.tls_started);
    let auth = s.auth.expect("auth");
    assert_eq!(
        (auth.mechanism.as_str(), auth.credential_lines),
        ("PLAIN", 1)
    );
    assert!(auth.cleartext_credentials);
    assert_eq!(s.auth_result, Some(535));
    assert_eq!(s.commands, 4);
}

#[test]
fn challenge_response_and_cancelled_auth() {
    let s = smtp_session(b"EHLO a\r\nAUTH CRAM-MD5\r\nZnJlZCA5ZTk1YWVlMDljNDBhZjJiODRhMGMyYjNiYmFlNzg2ZQ==\r\nQUIT\r\n", b"");
    let auth = s.auth.expect("auth");
    assert_eq!(auth.credential_lines, 1);
    assert!(
        !auth.cleartext_credentials,
        "CRAM-MD5 does not reveal the password"
    );
    assert_eq!(s.unknown_commands, 0);
    let s = smtp_session(b"HELO a\r\nAUTH LOGIN\r\n*\r\nMAIL FROM:<x@y>\r\n", b"");
    let auth = s.auth.expect("auth");
    assert_eq!(auth.credential_lines, 0);
    assert!(!auth.cleartext_credentials);
    assert_eq!(s.messages.len(), 1);
    assert_eq!(s.hello_verb.as_deref(), Some("HELO"));
}

#[test]
fn bdat_chunks_and_cut_data() {
    let client =
        b"EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 5\r\nhelloBDAT 3 LAST\r\nabcQUIT\r\n";
    let s = smtp_session(client, b"");
    assert_eq!(s.messages_sent, 1);
    assert_eq!(s.messages[0].data_bytes, 8);
    assert_eq!(s.client_end, SmtpEnd::Complete);
    assert_eq!(s.unknown_commands, 0);
    let s = smtp_session(
        b"EHLO a\r\nMAIL FROM:<a@b>\r\nDATA\r\nSubject: x\r\n\r\nbody",
        b"",
    );
    assert_eq!(s.client_end, SmtpEnd::DataCut);
    assert_eq!(s.messages_sent, 0, "a cut message is not counted as sent");
    assert!(s.data_sent);
    assert_eq!(s.messages[0].data_bytes, 18);
    let s = smtp_session(b"EHLO a\r\nBDAT 100 LAST\r\nshort", b"");
    assert_eq!(s.client_end, SmtpEnd::DataCut);
}

#[test]
fn binary_and_odd_input_is_reported() {
    let s = smtp_session(b"EHLO a\r\n\x00\x01\x02binary\r\n", b"not smtp\r\n");
    assert_eq!(s.client_end, SmtpEnd::NotSmtp { offset: 8 });
    assert_eq!(s.server_malformed, Some(0));
    let s = smtp_session(b"XYZZY\r\nEHLO\r\n", b"220\r\n250-a\r\n");
    assert_eq!(s.unknown_commands, 1);
    assert_eq!(s.hello_name.as_deref(), Some(""));
    assert_eq!(s.banner.as_deref(), Some(""));
    assert_eq!(
        s.reply_codes,
        [220, 250],
        "an unterminated multi-line reply still counts"
    );
    // Recipients beyond the cap are counted, not kept.
    let mut client = b"EHLO a\r\nMAIL FROM:<a@b>\r\n".to_vec();
    for i in 0..MAX_RCPTS + 5 {
        client.extend_from_slice(format!("RCPT TO:<u{i}@example.net>\r\n").as_bytes());
    }
    let s = smtp_session(&client, b"");
    assert_eq!(s.messages[0].rcpt_to.len(), MAX_RCPTS);
    assert_eq!(s.messages[0].rcpt_count, MAX_RCPTS + 5);
    // An overlong line is cut and counted.
    let mut long = b"EHLO ".to_vec();
    long.resize(MAX_LINE + 50, b'a');
    long.extend_from_slice(b"\r\n");
    let s = smtp_session(&long, b"");
    assert_eq!(s.long_lines, 1);
    assert_eq!(s.hello_name.as_ref().map(String::len), Some(MAX_TEXT));
}

#[test]
fn looks_like_smtp_needs_a_greeting_or_hello() {
    assert!(looks_like_smtp(b"", b"220 mx ESMTP\r\n"));
    assert!(looks_like_smtp(b"ehlo x\r\n", b""));
    assert!(!looks_like_smtp(b"", b"2200 x"));
    assert!(!looks_like_smtp(b"EHLOx", b""));
    assert!(!looks_like_smtp(
        b"GET / HTTP/1.1\r\n",
        b"HTTP/1.1 220 x\r\n"
    ));
}

#[test]
fn smtp_parser_survives_mutations() {
    let mut rng = XorShift(0x5417_0005);
    let mut messages = 0usize;
    for _ in 0..5000 {
        let c = rng.mutate(CLIENT);
        let s = rng.mutate(SERVER);
        let session = smtp_session(&c, &s);
        messages += session.messages_sent;
        assert!(session.messages.len() <= MAX_MESSAGES);
        assert!(session.reply_codes.len() <= MAX_REPLIES);
    }
    assert!(messages > 1000, "{messages}");
}
