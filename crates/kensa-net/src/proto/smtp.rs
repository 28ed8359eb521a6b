//! SMTP sessions (RFC 5321) from the clear-text bytes of both directions.
//!
//! The client side is read command by command: `EHLO`/`HELO`/`LHLO`, `AUTH` (mechanism and whether
//! credentials followed — never the credentials themselves), `MAIL FROM`, `RCPT TO`, `DATA` (the
//! message is skipped up to the lone `.`), `BDAT` (RFC 3030 chunks skipped by size), `STARTTLS`
//! (reading stops once TLS bytes follow). The server side is read reply by reply: the greeting,
//! the `250` capabilities answering EHLO, every reply code.
//!
//! The two directions are read independently (no timing is available), so a `DATA` refused by the
//! server is still followed on the client side as a message; `data_accepted` (count of `354`
//! replies) lets the caller compare.

use super::text;

/// Longest line read; a longer one is cut there and counted in [`SmtpSession::long_lines`].
pub const MAX_LINE: usize = 4096;
/// Messages (MAIL FROM transactions) kept.
pub const MAX_MESSAGES: usize = 64;
/// Recipients kept per message (all are counted).
pub const MAX_RCPTS: usize = 100;
/// Reply codes kept.
pub const MAX_REPLIES: usize = 256;
/// EHLO capabilities kept.
pub const MAX_CAPABILITIES: usize = 64;
/// Longest address, name or capability kept (bytes).
pub const MAX_TEXT: usize = 512;

/// One mail transaction (MAIL FROM … DATA/BDAT).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SmtpMessage {
    /// Reverse path without the angle brackets (empty for the null sender `<>`).
    pub mail_from: String,
    /// The first [`MAX_RCPTS`] forward paths.
    pub rcpt_to: Vec<String>,
    pub rcpt_count: usize,
    /// Message content sent (DATA ended by `.`, or a `BDAT … LAST` chunk).
    pub data_sent: bool,
    /// Content bytes sent (dot-stuffed lines as on the wire).
    pub data_bytes: u64,
}

/// An AUTH exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpAuth {
    /// Mechanism, upper case (`PLAIN`, `LOGIN`, `CRAM-MD5`, `XOAUTH2`…).
    pub mechanism: String,
    /// Lines of credentials (initial response and continuations) the client sent.
    pub credential_lines: usize,
    /// Credentials went over the wire unencrypted in a reversible form (PLAIN, LOGIN, XOAUTH2,
    /// OAUTHBEARER before TLS). Their content is not kept.
    pub cleartext_credentials: bool,
}

/// Why the client side stopped being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SmtpEnd {
    /// All bytes read.
    Complete,
    /// STARTTLS was followed by TLS bytes: the rest is encrypted.
    Tls,
    /// The data ends inside a DATA message or BDAT chunk.
    DataCut,
    /// Binary bytes where a command was expected (offset in the client bytes).
    NotSmtp { offset: usize },
}

/// Everything read from one SMTP connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSession {
    /// `EHLO`, `HELO` or `LHLO`, and the name given.
    pub hello_verb: Option<String>,
    pub hello_name: Option<String>,
    pub auth: Option<SmtpAuth>,
    /// The client issued STARTTLS.
    pub starttls: bool,
    /// TLS bytes followed STARTTLS (client or server side).
    pub tls_started: bool,
    /// Mail transactions, at most [`MAX_MESSAGES`].
    pub messages: Vec<SmtpMessage>,
    /// RCPT TO commands (all of them, also those not kept).
    pub recipients: usize,
    /// Messages whose content was sent (all of them, also those beyond [`MAX_MESSAGES`]).
    pub messages_sent: usize,
    /// Some DATA/BDAT content was sent.
    pub data_sent: bool,
    /// Commands read, and how many were not SMTP verbs.
    pub commands: usize,
    pub unknown_commands: usize,
    pub long_lines: usize,
    pub client_end: SmtpEnd,
    /// First line of the server's 220 greeting (code removed).
    pub banner: Option<String>,
    /// Extensions announced in the 250 reply to EHLO (`SIZE 35882577`, `AUTH PLAIN LOGIN`…).
    pub capabilities: Vec<String>,
    /// Reply codes in order (at most [`MAX_REPLIES`]); multi-line replies count once.
    pub reply_codes: Vec<u16>,
    pub reply_count: usize,
    /// `354` replies: DATA accepted.
    pub data_accepted: usize,
    /// AUTH succeeded (`235`) or failed (`535`/`454`…), from the server side.
    pub auth_result: Option<u16>,
    /// Server bytes that were not a reply line (offset), before any TLS.
    pub server_malformed: Option<usize>,
}

/// Whether the connection looks like SMTP: a `220` greeting line from the server, or an
/// `EHLO`/`HELO`/`LHLO` command opening the client bytes.
pub fn looks_like_smtp(client: &[u8], server: &[u8]) -> bool {
    let greeting = server.len() >= 4
        && server.starts_with(b"220")
        && matches!(server[3], b' ' | b'-' | b'\r' | b'\n');
    let hello = client.len() >= 5
        && [b"EHLO", b"HELO", b"LHLO"]
            .iter()
            .any(|v| client[..4].eq_ignore_ascii_case(*v))
        && matches!(client[4], b' ' | b'\r' | b'\n');
    greeting || hello
}

/// Reads an SMTP session from both directions.
pub fn smtp_session(client: &[u8], server: &[u8]) -> SmtpSession {
    let mut s = SmtpSession {
        hello_verb: None,
        hello_name: None,
        auth: None,
        starttls: false,
        tls_started: false,
        messages: Vec::new(),
        recipients: 0,
        messages_sent: 0,
        data_sent: false,
        commands: 0,
        unknown_commands: 0,
        long_lines: 0,
        client_end: SmtpEnd::Complete,
        banner: None,
        capabilities: Vec::new(),
        reply_codes: Vec::new(),
        reply_count: 0,
        data_accepted: 0,
        auth_result: None,
        server_malformed: None,
    };
    read_client(client, &mut s);
    read_server(server, &mut s);
    s
}

/// The line at `pos`: its content (without CR LF, cut at [`MAX_LINE`]), the offset after it, and
/// whether it was cut. `None` at the end of the data or when the last line has no LF.
fn line_at(data: &[u8], pos: usize) -> Option<(&[u8], usize, bool)> {
    let rest = data.get(pos..)?;
    if rest.is_empty() {
        return None;
    }
    let nl = rest.iter().position(|&b| b == b'\n');
    let (raw, next) = match nl {
        Some(i) => (&rest[..i], pos + i + 1),
        None => (rest, data.len()),
    };
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let long = raw.len() > MAX_LINE;
    Some((&raw[..raw.len().min(MAX_LINE)], next, long))
}

/// Which lines the client owes the server after an AUTH command.
#[derive(Clone, Copy)]
enum Pending {
    None,
    /// This many credential lines are expected.
    Lines(usize),
}

fn read_client(c: &[u8], s: &mut SmtpSession) {
    let mut pos = 0usize;
    let mut pending = Pending::None;
    while pos < c.len() {
        if s.starttls && matches!(c.get(pos..pos + 2), Some([0x16, 0x03])) {
            s.tls_started = true;
            s.client_end = SmtpEnd::Tls;
            return;
        }
        let Some((line, next, long)) = line_at(c, pos) else {
            break;
        };
        if line
            .iter()
            .any(|&b| b == 0 || (b < 0x20 && b != b'\t') || b == 0x7f)
        {
            s.client_end = SmtpEnd::NotSmtp { offset: pos };
            return;
        }
        s.long_lines += usize::from(long);
        pos = next;
        if let Pending::Lines(n) = pending {
            // Credential continuation (or "*" to cancel); never kept.
            if line == b"*" {
                pending = Pending::None;
                continue;
            }
            if n > 0 && !starts_with_verb(line) {
                if let Some(auth) = s.auth.as_mut() {
                    auth.credential_lines += 1;
                    auth.cleartext_credentials |= reversible(&auth.mechanism);
                }
                pending = if n > 1 {
                    Pending::Lines(n - 1)
                } else {
                    Pending::None
                };
                continue;
            }
            pending = Pending::None;
        }
        s.commands += 1;
        let (verb, arg) = split_verb(line);
        let verb = verb.to_ascii_uppercase();
        match verb.as_slice() {
            b"EHLO" | b"HELO" | b"LHLO" => {
                s.hello_verb = Some(text(&verb, 8));
                s.hello_name = Some(text(arg, MAX_TEXT));
            }
            b"AUTH" => {
                let (mech, initial) = split_verb(arg);
                let mechanism = text(&mech.to_ascii_uppercase(), 64);
                let has_initial = !initial.is_empty();
                // Continuation lines each mechanism sends after its (optional) initial response.
                let expected = match mechanism.as_str() {
                    "LOGIN" => 2 - usize::from(has_initial),
                    "PLAIN" | "XOAUTH2" | "OAUTHBEARER" => usize::from(!has_initial),
                    _ => 1,
                };
                let cleartext = has_initial && reversible(&mechanism) && initial != b"=";
                s.auth = Some(SmtpAuth {
                    mechanism,
                    credential_lines: usize::from(has_initial),
                    cleartext_credentials: cleartext,
                });
                pending = Pending::Lines(expected);
            }
            b"MAIL" => {
                let messages_total = s.messages.len();
                if messages_total < MAX_MESSAGES {
                    s.messages.push(SmtpMessage {
                        mail_from: path_arg(arg, b"FROM:"),
                        ..SmtpMessage::default()
                    });
                }
            }
            b"RCPT" => {
                s.recipients += 1;
                if let Some(m) = s.messages.last_mut().filter(|m| !m.data_sent) {
                    m.rcpt_count += 1;
                    if m.rcpt_to.len() < MAX_RCPTS {
                        m.rcpt_to.push(path_arg(arg, b"TO:"));
                    }
                }
            }
            b"DATA" => {
                s.data_sent = true;
                let (bytes, end) = skip_data(c, pos);
                match end {
                    Some(after) => {
                        mark_sent(s, bytes);
                        pos = after;
                    }
                    None => {
                        // Content cut by the end of the data: not counted as a sent message.
                        if let Some(m) = s.messages.last_mut().filter(|m| !m.data_sent) {
                            m.data_bytes = m.data_bytes.saturating_add(bytes);
                        }
                        s.client_end = SmtpEnd::DataCut;
                        return;
                    }
                }
            }
            b"BDAT" => {
                let (size, rest) = split_verb(arg);
                let last = rest.eq_ignore_ascii_case(b"LAST");
                let size = std::str::from_utf8(size)
                    .ok()
                    .and_then(|v| v.parse::<u64>().ok());
                let Some(size) = size else {
                    s.unknown_commands += 1;
                    continue;
                };
                s.data_sent = true;
                let available = (c.len() - pos) as u64;
                if size > available {
                    if let Some(m) = s.messages.last_mut() {
                        m.data_bytes = m.data_bytes.saturating_add(available);
                    }
                    s.client_end = SmtpEnd::DataCut;
                    return;
                }
                pos += size as usize;
                if last {
                    mark_sent(s, size);
                } else if let Some(m) = s.messages.last_mut() {
                    m.data_bytes = m.data_bytes.saturating_add(size);
                }
            }
            b"STARTTLS" => s.starttls = true,
            b"RSET" | b"NOOP" | b"QUIT" | b"VRFY" | b"EXPN" | b"HELP" | b"ETRN" | b"TURN"
            | b"ATRN" | b"XCLIENT" | b"XFORWARD" => {}
            _ => s.unknown_commands += 1,
        }
    }
}

/// Mechanisms whose credentials can be read back from the wire (not challenge-response).
fn reversible(mechanism: &str) -> bool {
    matches!(mechanism, "PLAIN" | "LOGIN" | "XOAUTH2" | "OAUTHBEARER")
}

fn starts_with_verb(line: &[u8]) -> bool {
    let (verb, _) = split_verb(line);
    let verb = verb.to_ascii_uppercase();
    matches!(
        verb.as_slice(),
        b"EHLO"
            | b"HELO"
            | b"LHLO"
            | b"AUTH"
            | b"MAIL"
            | b"RCPT"
            | b"DATA"
            | b"BDAT"
            | b"QUIT"
            | b"RSET"
            | b"NOOP"
            | b"STARTTLS"
    )
}

/// Counts a message as sent (DATA completed or BDAT LAST).
fn mark_sent(s: &mut SmtpSession, bytes: u64) {
    s.messages_sent += 1;
    if let Some(m) = s.messages.last_mut().filter(|m| !m.data_sent) {
        m.data_sent = true;
        m.data_bytes = m.data_bytes.saturating_add(bytes);
    } else if s.messages.len() < MAX_MESSAGES {
        // DATA without MAIL FROM: count it as a message anyway.
        s.messages.push(SmtpMessage {
            data_sent: true,
            data_bytes: bytes,
            ..SmtpMessage::default()
        });
    }
}

/// Skips DATA content starting at `pos` up to the line holding a lone `.`; returns the content
/// length and the offset after the terminator (`None` when the data ends first).
fn skip_data(c: &[u8], pos: usize) -> (u64, Option<usize>) {
    let mut p = pos;
    loop {
        let Some(rest) = c.get(p..).filter(|r| !r.is_empty()) else {
            return ((p - pos) as u64, None);
        };
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            return (c.len().saturating_sub(pos) as u64, None);
        };
        let line = &rest[..nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line == b"." {
            return ((p - pos) as u64, Some(p + nl + 1));
        }
        p += nl + 1;
    }
}

/// Splits `VERB rest` at the first space (rest trimmed).
fn split_verb(line: &[u8]) -> (&[u8], &[u8]) {
    match line.iter().position(|&b| b == b' ') {
        Some(i) => (&line[..i], trim(&line[i + 1..])),
        None => (trim(line), &[][..]),
    }
}

/// The path of `MAIL FROM:<path> params` / `RCPT TO:<path> params` (angle brackets removed).
fn path_arg(arg: &[u8], keyword: &[u8]) -> String {
    let arg = trim(arg);
    let rest = if arg.len() >= keyword.len() && arg[..keyword.len()].eq_ignore_ascii_case(keyword) {
        trim(&arg[keyword.len()..])
    } else {
        arg
    };
    let path = match rest.first() {
        Some(b'<') => {
            let end = rest.iter().position(|&b| b == b'>').unwrap_or(rest.len());
            &rest[1..end]
        }
        _ => rest.split(|&b| b == b' ').next().unwrap_or_default(),
    };
    text(path, MAX_TEXT)
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &s[start..end]
}

fn read_server(d: &[u8], s: &mut SmtpSession) {
    let mut pos = 0usize;
    // Lines of the reply being read: code and text of each.
    let mut reply: Vec<&[u8]> = Vec::new();
    let mut reply_code = 0u16;
    while pos < d.len() {
        if matches!(d.get(pos..pos + 2), Some([0x16, 0x03])) && s.reply_count > 0 {
            s.tls_started = true;
            return;
        }
        let Some((line, next, _)) = line_at(d, pos) else {
            break;
        };
        let code = match line {
            [a, b, c, rest @ ..] if [a, b, c].iter().all(|x| x.is_ascii_digit()) => {
                let code =
                    u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
                match rest.first() {
                    None | Some(b' ') => Some((code, false, rest.get(1..).unwrap_or_default())),
                    Some(b'-') => Some((code, true, &rest[1..])),
                    _ => None,
                }
            }
            _ => None,
        };
        let Some((code, more, content)) = code else {
            s.server_malformed = Some(pos);
            return;
        };
        pos = next;
        if reply.is_empty() {
            reply_code = code;
        }
        reply.push(content);
        if more {
            if reply.len() > MAX_CAPABILITIES * 4 {
                // Endless continuation: treat what came as one reply.
                finish_reply(s, reply_code, &reply);
                reply.clear();
            }
            continue;
        }
        finish_reply(s, reply_code, &reply);
        reply.clear();
    }
    if !reply.is_empty() {
        finish_reply(s, reply_code, &reply);
    }
}

fn finish_reply(s: &mut SmtpSession, code: u16, lines: &[&[u8]]) {
    let first_reply = s.reply_count == 0;
    s.reply_count += 1;
    if s.reply_codes.len() < MAX_REPLIES {
        s.reply_codes.push(code);
    }
    match code {
        220 if first_reply => s.banner = lines.first().map(|l| text(l, MAX_TEXT)),
        250 if lines.len() > 1 && s.capabilities.is_empty() => {
            s.capabilities = lines[1..]
                .iter()
                .take(MAX_CAPABILITIES)
                .map(|l| text(trim(l), MAX_TEXT))
                .collect();
        }
        354 => s.data_accepted += 1,
        235 => s.auth_result = Some(code),
        // 535 bad credentials, 534 mechanism too weak, 454 temporary failure during AUTH.
        535 | 534 | 538 if s.auth.is_some() => s.auth_result = Some(code),
        _ => {}
    }
}
