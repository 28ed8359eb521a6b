//! Re-injects a released quarantined message *unchanged*, either over SMTP (a blocking `std::net`
//! client: this is a CLI action, not a hot path) or through a local `sendmail` command.
//!
//! # SMTP facts used (RFC 5321, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8)
//! - Replies are one or more lines `ddd-text` … `ddd text` (`-` continues, space or end of line
//!   ends); every line of one reply carries the same code.
//! - Session: greeting `220`; `EHLO` (on a `5xx`, e.g. an old server's `502`, fall back to `HELO`);
//!   `MAIL FROM:<…>` (with ` BODY=8BITMIME` when the server lists `8BITMIME` and the message has
//!   bytes ≥ 0x80, and ` SMTPUTF8` when the server lists `SMTPUTF8` and an address is non-ASCII);
//!   one `RCPT TO:<…>` per recipient (`250`/`251` accept); `DATA` → `354`; the message; `.`;
//!   `QUIT`.
//! - Message transfer: lines end in CRLF, and a line starting with `.` gets one more `.` (dot
//!   stuffing, RFC 5321 §4.5.2); the data ends with `CRLF.CRLF`.
//!
//! # What "unchanged" means here
//! The receiver un-stuffs the dots and stores CRLF lines, so the message it stores equals the input
//! with three normalisations and nothing else: a bare LF becomes CRLF (an existing CRLF is kept);
//! when the input does not end with LF, CRLF is appended before the final `.` (otherwise the last
//! line would merge with the terminator); an empty message stays empty. Every other byte —
//! bare CR, 8-bit bytes, ESC sequences of ISO-2022-JP, over-long lines — goes out as it is.
//! Sendmail mode passes the bytes through untouched (`-i`: a lone `.` line does not end the input).
//!
//! # Limits and safety
//! - Addresses (and the HELO name) containing CR, LF, NUL, other control bytes, `<` or `>` are
//!   refused before anything is sent, so no address can inject SMTP commands or ESMTP parameters.
//!   An empty sender is the null sender `<>`; recipients must not be empty.
//! - Every reply read is bounded: [`MAX_REPLY_LINE`] bytes per line, [`MAX_REPLY_LINES`] lines per
//!   reply; the timeout applies to each read and write (name resolution is the system's).
//! - A 8-bit non-ASCII address needs the server's `SMTPUTF8`; without it the injection is refused
//!   ([`InjectError::Smtputf8Unsupported`]). An 8-bit message to a server without `8BITMIME` is sent
//!   as it is (converting it would change it).
//! - Server text kept in receipts and errors has control and bidi characters escaped (`\u{1b}`).
//! - Sendmail mode: `<path> -i -f <from> -- <rcpts…>`, the message on stdin, the exit status
//!   checked, at most [`MAX_SENDMAIL_STDERR`] bytes of its stderr kept; it has no timeout of its own.

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use thiserror::Error;

#[cfg(test)]
mod tests;

/// Longest SMTP reply line accepted, CRLF included (RFC 5321 allows 512; servers go beyond).
pub const MAX_REPLY_LINE: usize = 2048;

/// Most lines accepted in one SMTP reply (an EHLO reply lists a few dozen at most).
pub const MAX_REPLY_LINES: usize = 128;

/// Most bytes of the sendmail command's stderr kept for the error message.
pub const MAX_SENDMAIL_STDERR: usize = 4096;

/// The envelope the message is re-injected with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The sender; empty for the null sender `<>`.
    pub from: String,
    /// The recipients (at least one).
    pub rcpts: Vec<String>,
}

/// Where the message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An SMTP server (`host:port`), the name to greet it with, and the timeout for each read/write
    /// (and for each connection attempt).
    Smtp {
        addr: String,
        helo: String,
        timeout: Duration,
    },
    /// A sendmail-compatible command (`/usr/sbin/sendmail`).
    Sendmail { path: PathBuf },
}

/// The outcome of a successful injection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The server's final reply to DATA (lines joined with `\n`), or `sendmail exit 0`.
    pub reply: String,
    /// Recipients the server refused while others were accepted (addition to the brief).
    pub rejected: Vec<Rejected>,
}

/// A recipient the server refused, with its reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The recipient address as given.
    pub rcpt: String,
    /// The server's reply to `RCPT TO`.
    pub reply: String,
}

/// Why the message was not injected.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum InjectError {
    /// An address, the HELO name or the timeout is unusable; nothing was sent.
    #[error("refusing {what} \"{value}\": {reason}")]
    BadArgument {
        what: &'static str,
        value: String,
        reason: &'static str,
    },
    /// The envelope has no recipient; nothing was sent.
    #[error("no recipients")]
    NoRecipients,
    /// No connection to the SMTP server.
    #[error("connect to {addr}: {source}")]
    Connect { addr: String, source: io::Error },
    /// Reading or writing failed (a timeout included) at `stage`.
    #[error("{stage}: {source}")]
    Io {
        stage: &'static str,
        source: io::Error,
    },
    /// The server answered `stage` with an unexpected reply.
    #[error("{stage}: server replied {reply:?}")]
    Protocol { stage: &'static str, reply: String },
    /// The server's reply at `stage` broke the SMTP syntax or the limits.
    #[error("{stage}: malformed reply: {what}")]
    MalformedReply { stage: &'static str, what: String },
    /// An address is not ASCII and the server does not offer SMTPUTF8.
    #[error("{address:?} needs SMTPUTF8, which the server does not offer")]
    Smtputf8Unsupported { address: String },
    /// Every recipient was refused.
    #[error("all recipients rejected: {}", summary(.rejected))]
    RecipientsRejected { rejected: Vec<Rejected> },
    /// The sendmail command could not be started.
    #[error("run {}: {source}", .path.display())]
    Spawn { path: PathBuf, source: io::Error },
    /// The sendmail command failed (`code` is `None` when a signal ended it).
    #[error("{} exited with {}: {stderr}", .path.display(), exit_text(*.code))]
    SendmailExit {
        path: PathBuf,
        code: Option<i32>,
        stderr: String,
    },
}

fn summary(rejected: &[Rejected]) -> String {
    let parts: Vec<String> = rejected
        .iter()
        .map(|r| format!("{} ({})", r.rcpt, r.reply))
        .collect();
    parts.join(", ")
}

fn exit_text(code: Option<i32>) -> String {
    code.map_or_else(|| "a signal".to_string(), |c| format!("status {c}"))
}

/// Sends `message` unchanged to `env.rcpts` through `target` (see the module documentation).
pub fn inject(target: &Target, env: &Envelope, message: &[u8]) -> Result<Receipt, InjectError> {
    check_envelope(env)?;
    match target {
        Target::Smtp {
            addr,
            helo,
            timeout,
        } => {
            check_token("HELO name", helo)?;
            if timeout.is_zero() {
                return Err(InjectError::BadArgument {
                    what: "timeout",
                    value: "0s".into(),
                    reason: "must be positive",
                });
            }
            smtp_inject(addr, helo, *timeout, env, message)
        }
        Target::Sendmail { path } => sendmail_inject(path, env, message),
    }
}

// ---------------------------------------------------------------------------------------------
// Argument checks
// ---------------------------------------------------------------------------------------------

fn check_envelope(env: &Envelope) -> Result<(), InjectError> {
    check_address("sender", &env.from)?;
    if env.rcpts.is_empty() {
        return Err(InjectError::NoRecipients);
    }
    for rcpt in &env.rcpts {
        if rcpt.is_empty() {
            return Err(bad("recipient", rcpt, "empty"));
        }
        check_address("recipient", rcpt)?;
    }
    Ok(())
}

fn bad(what: &'static str, value: &str, reason: &'static str) -> InjectError {
    InjectError::BadArgument {
        what,
        value: printable(value.as_bytes()),
        reason,
    }
}

/// Refuses CR, LF, NUL and other control characters, `<` and `>`.
fn check_address(what: &'static str, value: &str) -> Result<(), InjectError> {
    if value.chars().any(|c| c.is_control()) {
        return Err(bad(
            what,
            value,
            "contains a control character (CR, LF, NUL, …)",
        ));
    }
    if value.contains(['<', '>']) {
        return Err(bad(what, value, "contains '<' or '>'"));
    }
    Ok(())
}

/// The HELO name: one non-empty ASCII token.
fn check_token(what: &'static str, value: &str) -> Result<(), InjectError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad(what, value, "must be one printable ASCII word"));
    }
    Ok(())
}

/// Server or program text made safe to show: lossy UTF-8, control and bidi characters escaped.
fn printable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// SMTP replies
// ---------------------------------------------------------------------------------------------

/// One SMTP reply: its code and its lines (printable, without CRLF).
#[derive(Debug, Clone, PartialEq, Eq)]
struct SmtpReply {
    code: u16,
    lines: Vec<String>,
}

impl SmtpReply {
    /// The first digit of the code (2 = success, 3 = continue, 4/5 = failure).
    fn class(&self) -> u16 {
        self.code / 100
    }

    fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// EHLO keywords (upper case), from the lines after the first.
    fn keywords(&self) -> Vec<String> {
        let words = self
            .lines
            .iter()
            .skip(1)
            .filter_map(|line| line.get(4..)?.split_whitespace().next());
        words.map(str::to_ascii_uppercase).collect()
    }
}

/// Reads one (possibly multi-line) reply, bounded by [`MAX_REPLY_LINE`] and [`MAX_REPLY_LINES`].
fn read_reply<R: BufRead>(reader: &mut R, stage: &'static str) -> Result<SmtpReply, InjectError> {
    let malformed = |what: String| InjectError::MalformedReply { stage, what };
    let mut lines = Vec::new();
    let mut code = None;
    while lines.len() < MAX_REPLY_LINES {
        let line = read_line(reader, stage)?;
        let (this_code, last) = parse_reply_line(&line)
            .ok_or_else(|| malformed(format!("not a reply line: {:?}", printable(&line))))?;
        if code.is_some_and(|c| c != this_code) {
            return Err(malformed(format!(
                "code changes within a reply at {:?}",
                printable(&line)
            )));
        }
        code = Some(this_code);
        lines.push(printable(&line));
        if last {
            return Ok(SmtpReply {
                code: this_code,
                lines,
            });
        }
    }
    Err(malformed(format!("more than {MAX_REPLY_LINES} lines")))
}

/// One line without its line ending; at most [`MAX_REPLY_LINE`] bytes including CRLF.
fn read_line<R: BufRead>(reader: &mut R, stage: &'static str) -> Result<Vec<u8>, InjectError> {
    let mut line = Vec::new();
    let limit = u64::try_from(MAX_REPLY_LINE).unwrap_or(u64::MAX);
    reader
        .by_ref()
        .take(limit)
        .read_until(b'\n', &mut line)
        .map_err(|source| InjectError::Io { stage, source })?;
    if line.last() != Some(&b'\n') {
        let what = if line.len() >= MAX_REPLY_LINE {
            format!("line longer than {MAX_REPLY_LINE} bytes")
        } else {
            "connection closed".to_string()
        };
        return Err(InjectError::MalformedReply { stage, what });
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(line)
}

/// `ddd`, `ddd text` or `ddd-text` with a first digit 2–5: the code and whether the line is last.
fn parse_reply_line(line: &[u8]) -> Option<(u16, bool)> {
    let (digits, rest) = line.split_first_chunk::<3>()?;
    if !matches!(digits[0], b'2'..=b'5')
        || !digits[1].is_ascii_digit()
        || !digits[2].is_ascii_digit()
    {
        return None;
    }
    let code = digits
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    match rest.first() {
        None | Some(b' ') => Some((code, true)),
        Some(b'-') => Some((code, false)),
        Some(_) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// SMTP session
// ---------------------------------------------------------------------------------------------

/// A connected SMTP client: a buffered reader and the stream to write to.
struct Session {
    reader: BufReader<TcpStream>,
    stream: TcpStream,
}

impl Session {
    fn connect(addr: &str, timeout: Duration) -> Result<Session, InjectError> {
        let connect_err = |source| InjectError::Connect {
            addr: addr.to_string(),
            source,
        };
        let addrs: Vec<SocketAddr> = addr.to_socket_addrs().map_err(connect_err)?.collect();
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address to connect to");
        for sa in addrs {
            match TcpStream::connect_timeout(&sa, timeout) {
                Ok(stream) => return Session::over(stream, timeout).map_err(connect_err),
                Err(e) => last = e,
            }
        }
        Err(connect_err(last))
    }

    fn over(stream: TcpStream, timeout: Duration) -> io::Result<Session> {
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        let reader = BufReader::new(stream.try_clone()?);
        Ok(Session { reader, stream })
    }

    fn read(&mut self, stage: &'static str) -> Result<SmtpReply, InjectError> {
        read_reply(&mut self.reader, stage)
    }

    /// Sends one command line (CRLF added) and reads the reply.
    fn command(&mut self, line: &str, stage: &'static str) -> Result<SmtpReply, InjectError> {
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        (&self.stream)
            .write_all(&bytes)
            .map_err(|source| InjectError::Io { stage, source })?;
        self.read(stage)
    }

    /// Sends the message as DATA content (CRLF, dot stuffing, final `.`) and reads the reply.
    fn data(&mut self, message: &[u8]) -> Result<SmtpReply, InjectError> {
        let stage = "message transfer";
        let io_err = |source| InjectError::Io { stage, source };
        let mut writer = BufWriter::with_capacity(64 * 1024, &self.stream);
        write_data(&mut writer, message).map_err(io_err)?;
        writer.flush().map_err(io_err)?;
        drop(writer);
        self.read("end of data")
    }

    /// Says goodbye, ignoring every error (the outcome is already decided).
    fn quit(&mut self) {
        let _ = self.command("QUIT", "QUIT");
    }
}

/// What the server's EHLO reply offers.
#[derive(Debug, Default, Clone, Copy)]
struct Extensions {
    eight_bit_mime: bool,
    smtputf8: bool,
}

fn smtp_inject(
    addr: &str,
    helo: &str,
    timeout: Duration,
    env: &Envelope,
    message: &[u8],
) -> Result<Receipt, InjectError> {
    let mut session = Session::connect(addr, timeout)?;
    let result = transaction(&mut session, helo, env, message);
    session.quit();
    result
}

/// Greeting, EHLO/HELO, MAIL, RCPTs, DATA, message; the caller sends QUIT.
fn transaction(
    s: &mut Session,
    helo: &str,
    env: &Envelope,
    message: &[u8],
) -> Result<Receipt, InjectError> {
    let greeting = s.read("greeting")?;
    expect(&greeting, 220, "greeting")?;
    let ext = greet(s, helo)?;
    let mail = mail_command(env, message, ext)?;
    let reply = s.command(&mail, "MAIL FROM")?;
    expect_class(&reply, 2, "MAIL FROM")?;
    let mut rejected = Vec::new();
    let mut accepted = 0usize;
    for rcpt in &env.rcpts {
        let reply = s.command(&format!("RCPT TO:<{rcpt}>"), "RCPT TO")?;
        if reply.class() == 2 {
            accepted += 1;
        } else {
            rejected.push(Rejected {
                rcpt: rcpt.clone(),
                reply: reply.text(),
            });
        }
    }
    if accepted == 0 {
        return Err(InjectError::RecipientsRejected { rejected });
    }
    let reply = s.command("DATA", "DATA")?;
    expect(&reply, 354, "DATA")?;
    let reply = s.data(message)?;
    expect_class(&reply, 2, "end of data")?;
    Ok(Receipt {
        reply: reply.text(),
        rejected,
    })
}

/// EHLO, or HELO when the server refuses EHLO with a 5xx.
fn greet(s: &mut Session, helo: &str) -> Result<Extensions, InjectError> {
    let reply = s.command(&format!("EHLO {helo}"), "EHLO")?;
    match reply.class() {
        2 => {
            let words = reply.keywords();
            Ok(Extensions {
                eight_bit_mime: words.iter().any(|w| w == "8BITMIME"),
                smtputf8: words.iter().any(|w| w == "SMTPUTF8"),
            })
        }
        5 => {
            let reply = s.command(&format!("HELO {helo}"), "HELO")?;
            expect_class(&reply, 2, "HELO")?;
            Ok(Extensions::default())
        }
        _ => Err(protocol("EHLO", &reply)),
    }
}

/// `MAIL FROM:<from>` with `BODY=8BITMIME` / `SMTPUTF8` when needed and offered.
fn mail_command(env: &Envelope, message: &[u8], ext: Extensions) -> Result<String, InjectError> {
    let non_ascii = std::iter::once(&env.from)
        .chain(&env.rcpts)
        .find(|a| !a.is_ascii());
    if let Some(address) = non_ascii
        && !ext.smtputf8
    {
        return Err(InjectError::Smtputf8Unsupported {
            address: printable(address.as_bytes()),
        });
    }
    let mut line = format!("MAIL FROM:<{}>", env.from);
    if ext.eight_bit_mime && !message.is_ascii() {
        line.push_str(" BODY=8BITMIME");
    }
    if non_ascii.is_some() {
        line.push_str(" SMTPUTF8");
    }
    Ok(line)
}

fn protocol(stage: &'static str, reply: &SmtpReply) -> InjectError {
    InjectError::Protocol {
        stage,
        reply: reply.text(),
    }
}

fn expect(reply: &SmtpReply, code: u16, stage: &'static str) -> Result<(), InjectError> {
    if reply.code == code {
        Ok(())
    } else {
        Err(protocol(stage, reply))
    }
}

fn expect_class(reply: &SmtpReply, class: u16, stage: &'static str) -> Result<(), InjectError> {
    if reply.class() == class {
        Ok(())
    } else {
        Err(protocol(stage, reply))
    }
}

/// Writes `message` as DATA content: bare LF → CRLF, a `.` starting a line doubled, CRLF appended
/// when the message does not end with LF (and is not empty), then the terminating `.` line.
fn write_data<W: Write>(w: &mut W, message: &[u8]) -> io::Result<()> {
    let mut run_start = 0usize;
    let mut line_start = true;
    let mut prev = None;
    for (i, &b) in message.iter().enumerate() {
        if line_start && b == b'.' {
            w.write_all(message.get(run_start..i).unwrap_or_default())?;
            w.write_all(b".")?;
            run_start = i;
        }
        if b == b'\n' && prev != Some(b'\r') {
            w.write_all(message.get(run_start..i).unwrap_or_default())?;
            w.write_all(b"\r")?;
            run_start = i;
        }
        line_start = b == b'\n';
        prev = Some(b);
    }
    w.write_all(message.get(run_start..).unwrap_or_default())?;
    if !message.is_empty() && prev != Some(b'\n') {
        w.write_all(b"\r\n")?;
    }
    w.write_all(b".\r\n")
}

// ---------------------------------------------------------------------------------------------
// Sendmail
// ---------------------------------------------------------------------------------------------

fn sendmail_inject(path: &Path, env: &Envelope, message: &[u8]) -> Result<Receipt, InjectError> {
    let from = if env.from.is_empty() {
        "<>"
    } else {
        env.from.as_str()
    };
    let mut child = Command::new(path)
        .arg("-i")
        .arg("-f")
        .arg(from)
        .arg("--")
        .args(&env.rcpts)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| InjectError::Spawn {
            path: path.to_path_buf(),
            source,
        })?;
    let stdin = child.stdin.take();
    let stderr = child.stderr.take();
    // Write stdin on a second thread while this one drains stderr, so neither pipe can fill up
    // and block the other.
    let (written, stderr_text) = std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> io::Result<()> {
            let mut stdin = stdin.ok_or_else(|| io::Error::other("no stdin pipe"))?;
            stdin.write_all(message)
            // Dropping `stdin` closes the pipe: end of the message.
        });
        let text = stderr.map(read_bounded).unwrap_or_default();
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("stdin writer panicked")));
        (written, text)
    });
    let status = child.wait().map_err(|source| InjectError::Io {
        stage: "wait for sendmail",
        source,
    })?;
    if !status.success() {
        return Err(InjectError::SendmailExit {
            path: path.to_path_buf(),
            code: status.code(),
            stderr: stderr_text,
        });
    }
    written.map_err(|source| InjectError::Io {
        stage: "write message to sendmail",
        source,
    })?;
    Ok(Receipt {
        reply: "sendmail exit 0".to_string(),
        rejected: Vec::new(),
    })
}

/// Keeps the first [`MAX_SENDMAIL_STDERR`] bytes (printable, trimmed) and drains the rest.
fn read_bounded<R: Read>(mut r: R) -> String {
    let mut kept = Vec::new();
    let limit = u64::try_from(MAX_SENDMAIL_STDERR).unwrap_or(u64::MAX);
    let _ = r.by_ref().take(limit).read_to_end(&mut kept);
    let _ = io::copy(&mut r, &mut io::sink());
    printable(kept.trim_ascii())
}
