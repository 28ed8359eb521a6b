//! MTA logs for `kensa net maillog`: Postfix (syslog) and Exim (mainlog) records normalised to one
//! [`MailEvent`] per recipient, and the detector of outbound bursts and stolen credentials
//! ([`detect`], [`Detector`]) — Emotet sends spam from infected PCs and through mailboxes whose
//! passwords it stole (spec `network.md` §7).
//!
//! # Input
//! One stream of lines (any mix of the forms below; a `<pri>` prefix is skipped):
//! * **RFC 3164 syslog**, `Nov 22 10:00:01 host postfix/smtpd[123]: …` — what rsyslog's
//!   traditional format, `journalctl -o short` and Postfix's own `maillog_file` (postlogd; checked
//!   on Postfix 3.7.11: `Nov 22 10:27:15 mx postfix/qmgr[14693]: …`, host shortened to its first
//!   label) write. No year: [`YearHint`] supplies it, across a Dec → Jan rollover. A fraction
//!   after the seconds is accepted.
//! * **ISO 8601 syslog**, `2026-11-22T10:00:01.123456+00:00 host postfix/smtp[123]: …`
//!   (rsyslog `RSYSLOG_FileFormat`, `journalctl -o short-iso` / `short-iso-precise`; `Z`, `+0000`,
//!   `+00:00`, or no offset = local time).
//! * **RFC 5424**, `<22>1 2026-11-22T10:00:01Z host postfix/smtpd 123 - - …`.
//! * **Exim mainlog**, `2026-11-22 10:00:01 [pid] 1abcDE-000123-AB <= …` (also 4.97's longer IDs,
//!   `+millisec` and `log_timezone` offsets), or the same message text through syslog (`exim[pid]:`).
//!
//! Stamps without an offset are local time: [`MailLogOptions::utc_offset_secs`] (default 0, i.e.
//! local time is taken as UTC). Lines of other programs are counted, not parsed.
//!
//! # Joining
//! Records are joined by (server, queue ID) — Postfix short hex IDs (`4F3A21C0A2`) and long IDs
//! (`4Xk9bL1Mdpz3rFq`), Exim message IDs. Postfix: `smtpd` `client=name[ip]` (`orig_client=` of a
//! content filter's XFORWARD wins), `sasl_method=`, `sasl_username=`; `pickup` `uid= from=`;
//! `cleanup` `message-id=<…>`; `qmgr` `from=<…>, size=N, nrcpt=K`; any delivery agent `to=<…>,
//! [orig_to=<…>,] relay=…, delay=…, dsn=X.Y.Z, status=sent|deferred|bounced|… (…)`; `bounce`
//! `sender non-delivery notification: QID` (marks the notification as internal); `QID: removed`
//! (or Exim `Completed`) closes the message and emits one event per recipient with its last
//! status. Rejections (`NOQUEUE: reject: RCPT from host[ip]: 554 5.7.1 …; from=<…> to=<…>
//! proto=… helo=<…>`, postscreen's comma form, `QID: reject:`, `milter-reject:`) are events with
//! status [`MailStatus::Rejected`]. Messages still open at the end (deferred, or cut by log
//! rotation) are emitted with `complete = false`.
//!
//! # Hostile input
//! No panic on any bytes. Lines are read up to [`MailLogOptions::max_line_bytes`] (the rest of a
//! longer line is skipped and counted in [`MailLogStats::long_lines`]); invalid UTF-8 is replaced.
//! At most [`MailLogOptions::max_open_messages`] messages are held open (the oldest is emitted
//! early, counted in [`MailLogStats::evicted`]), each with at most
//! [`MailLogOptions::max_recipients_per_message`] recipients ([`MailLogStats::recipients_dropped`]);
//! strings kept from the log are capped at [`MAX_FIELD_BYTES`]. Lines that are neither syslog nor
//! Exim, and MTA records of a known kind that do not parse, are counted in
//! [`MailLogStats::malformed`] with the first few line numbers in [`MailLogStats::issues`].

mod detect;
mod exim;
mod finding;
mod join;
mod postfix;
mod syslog;
mod time;

#[cfg(test)]
mod detect_tests;
#[cfg(test)]
mod tests;

use std::io::{self, BufRead};
use std::net::IpAddr;

use serde::Serialize;

pub use detect::{
    Baseline, BurstConfig, BurstWindow, Detection, Detector, Identity, IdentityKind, MailFinding,
    StatusMix, detect,
};
pub use time::format_utc;

/// Longest string kept from a log field (addresses, Message-IDs, host names, status texts).
pub const MAX_FIELD_BYTES: usize = 512;

/// Which MTA wrote a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mta {
    Postfix,
    Exim,
}

/// What happened to one recipient (its last status in the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MailStatus {
    Sent,
    Deferred,
    Bounced,
    /// Refused at SMTP time (`reject:`, `milter-reject:`, Exim `rejected RCPT`).
    Rejected,
    /// Given up after the queue lifetime (`status=expired`).
    Expired,
    /// No delivery record in the log (still queued, or the log was cut).
    Unknown,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Sent => "sent",
            MailStatus::Deferred => "deferred",
            MailStatus::Bounced => "bounced",
            MailStatus::Rejected => "rejected",
            MailStatus::Expired => "expired",
            MailStatus::Unknown => "unknown",
        }
    }

    /// Not (yet) delivered: counts towards the bounce/defer/reject ratio.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            MailStatus::Deferred | MailStatus::Bounced | MailStatus::Rejected | MailStatus::Expired
        )
    }
}

/// Where a message entered the MTA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Over SMTP (`client=`, Exim `H=`).
    Smtp,
    /// Local submission (Postfix `pickup`, Exim `U=` without `H=`).
    Local,
    /// Made by the MTA itself (delivery status notifications).
    Internal,
    /// Not told by the lines seen.
    Unknown,
}

/// One recipient of one message (or one rejected recipient), normalised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MailEvent {
    /// When the message arrived (its first record), UTC epoch seconds; for a rejection, when
    /// it was refused.
    pub time: i64,
    /// The last record about this recipient (the delivery or final deferral).
    pub last_time: i64,
    /// The syslog host (or [`MailLogOptions::server`] for lines without one).
    pub server: String,
    pub mta: Mta,
    pub queue_id: Option<String>,
    /// Without the angle brackets.
    pub message_id: Option<String>,
    pub sasl_username: Option<String>,
    pub sasl_method: Option<String>,
    pub client_ip: Option<IpAddr>,
    pub client_name: Option<String>,
    pub helo: Option<String>,
    /// The local submitter: Postfix `pickup` `uid=`, Exim `U=` of a local arrival.
    pub local_user: Option<String>,
    /// The envelope sender; `Some("")` is the null sender `<>`.
    pub from: Option<String>,
    pub recipient: Option<String>,
    /// Lower-cased domain of the recipient.
    pub recipient_domain: Option<String>,
    pub status: MailStatus,
    pub dsn: Option<String>,
    /// `relay=` (Postfix) or `H=` of a delivery (Exim).
    pub relay: Option<String>,
    /// Deferrals logged for this recipient before its last status.
    pub deferrals: u32,
    pub size: Option<u64>,
    pub origin: Origin,
    /// Closed by `removed` / `Completed` (false: still open at the end, or evicted early).
    pub complete: bool,
    /// Status text or rejection reason (capped).
    pub detail: Option<String>,
}

impl MailEvent {
    /// Whom the detector charges with this message: the SASL account, else the client IP, else
    /// the envelope sender.
    pub fn identity(&self) -> Option<Identity> {
        if let Some(u) = self.sasl_username.as_deref().filter(|u| !u.is_empty()) {
            return Some(Identity::new(IdentityKind::Account, u.to_ascii_lowercase()));
        }
        if let Some(ip) = self.client_ip {
            return Some(Identity::new(IdentityKind::ClientIp, ip.to_string()));
        }
        self.from
            .as_deref()
            .filter(|f| !f.is_empty())
            .map(|f| Identity::new(IdentityKind::Sender, f.to_ascii_lowercase()))
    }
}

/// How to date lines that carry no year (RFC 3164).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearHint {
    /// The log starts in this year; each time the month goes back by six or more (Dec → Jan)
    /// the year advances, and a straggler from the month before a rollover keeps the old year.
    StartsIn(i32),
    /// The log ends at or before this month (e.g. the file's modification time): a stamp in a
    /// later month belongs to the year before. Works for logs spanning less than a year.
    EndsBy { year: i32, month: u8 },
}

impl YearHint {
    /// [`YearHint::EndsBy`] the current month (UTC, from the system clock).
    pub fn ending_now() -> YearHint {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
            .unwrap_or(0);
        YearHint::ending_at(now)
    }

    /// [`YearHint::EndsBy`] the month of epoch seconds `t` (UTC).
    pub fn ending_at(t: i64) -> YearHint {
        let (y, m) = time::year_month(t);
        YearHint::EndsBy {
            year: i32::try_from(y).unwrap_or(1970),
            month: m as u8,
        }
    }
}

/// Parser settings and limits.
#[derive(Debug, Clone)]
pub struct MailLogOptions {
    pub year: YearHint,
    /// Offset of the logs' local time east of UTC, for stamps without one (default 0: UTC).
    pub utc_offset_secs: i32,
    /// Server name for lines that carry no host (Exim mainlog); default `"-"`.
    pub server: Option<String>,
    pub max_line_bytes: usize,
    pub max_open_messages: usize,
    pub max_recipients_per_message: usize,
    /// Malformed lines kept in [`MailLogStats::issues`].
    pub max_issues: usize,
}

impl Default for MailLogOptions {
    /// Year from the clock ([`YearHint::ending_now`]), UTC, 16 KiB lines, 200,000 open
    /// messages, 1,000 recipients a message, 64 issues.
    fn default() -> Self {
        MailLogOptions::new(YearHint::ending_now())
    }
}

impl MailLogOptions {
    pub fn new(year: YearHint) -> Self {
        MailLogOptions {
            year,
            utc_offset_secs: 0,
            server: None,
            max_line_bytes: 16 * 1024,
            max_open_messages: 200_000,
            max_recipients_per_message: 1_000,
            max_issues: 64,
        }
    }
}

/// One line that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineIssue {
    /// 1-based.
    pub line: u64,
    pub reason: &'static str,
    /// The start of the line (at most 120 bytes, lossily decoded).
    pub excerpt: String,
}

/// What a parse read, used, skipped and could not use.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MailLogStats {
    pub lines: u64,
    pub bytes: u64,
    pub blank_lines: u64,
    pub postfix_lines: u64,
    pub exim_lines: u64,
    /// Syslog lines of other programs.
    pub other_lines: u64,
    /// MTA lines that carry nothing for the detector (connect/disconnect, warnings, statistics…).
    pub ignored: u64,
    /// Neither syslog nor Exim, or an MTA record of a known kind that did not parse.
    pub malformed: u64,
    /// Lines longer than the limit (their start was parsed).
    pub long_lines: u64,
    pub events: u64,
    pub rejects: u64,
    /// Messages closed by `removed` / `Completed`.
    pub messages_closed: u64,
    /// Messages emitted at the end while still open.
    pub open_at_end: u64,
    /// Messages emitted early because the open-message table was full.
    pub evicted: u64,
    pub recipients_dropped: u64,
    /// Dec → Jan steps taken under [`YearHint::StartsIn`].
    pub year_rollovers: u32,
    pub first_time: Option<i64>,
    pub last_time: Option<i64>,
    pub issues: Vec<LineIssue>,
}

impl MailLogStats {
    /// Whether any Postfix or Exim line was seen.
    pub fn is_mail_log(&self) -> bool {
        self.postfix_lines + self.exim_lines > 0
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailLogError {
    #[error("read error at line {line} (byte offset {offset})")]
    Read {
        line: u64,
        offset: u64,
        #[source]
        source: io::Error,
    },
}

/// Year state for RFC 3164 stamps.
#[derive(Debug, Clone)]
struct YearState {
    hint: YearHint,
    year: i64,
    last_month: Option<u32>,
}

impl YearState {
    fn new(hint: YearHint) -> Self {
        let year = match hint {
            YearHint::StartsIn(y) => i64::from(y),
            YearHint::EndsBy { year, .. } => i64::from(year),
        };
        YearState {
            hint,
            year,
            last_month: None,
        }
    }

    /// The year of a stamp in `month`; counts rollovers.
    fn year_for(&mut self, month: u32, rollovers: &mut u32) -> i64 {
        match self.hint {
            YearHint::EndsBy { year, month: end } => {
                if month > u32::from(end) {
                    i64::from(year) - 1
                } else {
                    i64::from(year)
                }
            }
            YearHint::StartsIn(_) => match self.last_month {
                Some(last) if last >= month + 6 => {
                    self.year += 1;
                    *rollovers = rollovers.saturating_add(1);
                    self.last_month = Some(month);
                    self.year
                }
                // A late line from before the rollover (Jan → Dec): the previous year.
                Some(last) if month >= last + 6 => self.year - 1,
                _ => {
                    self.last_month = Some(month);
                    self.year
                }
            },
        }
    }
}

/// Line-by-line parser; [`parse_maillog`] drives it over a reader. Feed lines without their
/// line end; call [`MailLogParser::finish`] to emit what is still open.
pub struct MailLogParser {
    opts: MailLogOptions,
    stats: MailLogStats,
    table: join::Table,
    years: YearState,
}

/// Where the per-line handlers report to.
pub(crate) struct Ctx<'a> {
    pub stats: &'a mut MailLogStats,
    pub table: &'a mut join::Table,
    pub on: &'a mut dyn FnMut(MailEvent),
    pub line: u64,
    pub max_issues: usize,
    pub excerpt: &'a str,
}

impl Ctx<'_> {
    pub(crate) fn malformed(&mut self, reason: &'static str) {
        record_issue(self.stats, self.max_issues, self.line, reason, self.excerpt);
    }
}

fn record_issue(stats: &mut MailLogStats, max: usize, line: u64, reason: &'static str, text: &str) {
    stats.malformed += 1;
    if stats.issues.len() < max {
        stats.issues.push(LineIssue {
            line,
            reason,
            excerpt: cap(text, 120).to_string(),
        });
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub(crate) fn cap(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Whether a syslog tag belongs to Postfix (`postfix/smtpd`, `postfix-out/qmgr`,
/// `postfix/submission/smtpd`, the `postfix` command).
fn is_postfix_tag(tag: &str) -> bool {
    tag.starts_with("postfix")
        || tag
            .rsplit('/')
            .next()
            .is_some_and(|d| tag.contains('/') && postfix::is_daemon(d))
}

impl MailLogParser {
    pub fn new(opts: MailLogOptions) -> Self {
        MailLogParser {
            table: join::Table::new(opts.max_open_messages, opts.max_recipients_per_message),
            years: YearState::new(opts.year),
            opts,
            stats: MailLogStats::default(),
        }
    }

    pub fn stats(&self) -> &MailLogStats {
        &self.stats
    }

    /// One line (without `\n`; a trailing `\r` is dropped). Lines longer than the limit are
    /// parsed from their first [`MailLogOptions::max_line_bytes`] bytes and counted.
    pub fn feed_line(&mut self, line: &[u8], on: &mut dyn FnMut(MailEvent)) {
        self.stats.lines += 1;
        self.stats.bytes = self.stats.bytes.saturating_add(line.len() as u64 + 1);
        let mut line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > self.opts.max_line_bytes {
            self.stats.long_lines += 1;
            line = &line[..self.opts.max_line_bytes];
        }
        self.feed_inner(line, on);
    }

    fn feed_inner(&mut self, raw: &[u8], on: &mut dyn FnMut(MailEvent)) {
        let text = String::from_utf8_lossy(raw);
        let text = text.trim_end_matches([' ', '\t', '\r', '\n']);
        let line_no = self.stats.lines;
        if text.trim().is_empty() {
            self.stats.blank_lines += 1;
            return;
        }
        let offset = i64::from(self.opts.utc_offset_secs);
        let default_server = self.opts.server.as_deref().unwrap_or("-");
        let mut ctx = Ctx {
            stats: &mut self.stats,
            table: &mut self.table,
            on,
            line: line_no,
            max_issues: self.opts.max_issues,
            excerpt: text,
        };
        // Exim mainlog: `YYYY-MM-DD HH:MM:SS …`.
        if let Some((t, used)) = time::parse_exim(text, offset) {
            ctx.stats.exim_lines += 1;
            note_time(ctx.stats, t);
            let msg = text[used..].trim_start_matches(' ');
            exim::handle(&mut ctx, default_server, t, msg);
            return;
        }
        let Some(sl) = syslog::parse(text, offset) else {
            ctx.malformed("not a syslog or Exim mainlog line");
            return;
        };
        let postfix = is_postfix_tag(sl.tag);
        let exim = sl.tag == "exim" || sl.tag.starts_with("exim4") || sl.tag.starts_with("exim/");
        if !postfix && !exim {
            ctx.stats.other_lines += 1;
            return;
        }
        let t = match sl.stamp {
            syslog::Stamp::Epoch(t) => t,
            syslog::Stamp::NoYear(s) => {
                let year = self.years.year_for(s.month, &mut ctx.stats.year_rollovers);
                match time::epoch(year, s.month, s.day, s.hms, offset) {
                    Some(t) => t,
                    None => {
                        ctx.malformed("invalid date for the inferred year");
                        return;
                    }
                }
            }
        };
        note_time(ctx.stats, t);
        let server = if sl.host.is_empty() {
            default_server
        } else {
            sl.host
        };
        if postfix {
            ctx.stats.postfix_lines += 1;
            let daemon = sl.tag.rsplit('/').next().unwrap_or(sl.tag);
            postfix::handle(&mut ctx, server, daemon, t, sl.msg);
        } else {
            ctx.stats.exim_lines += 1;
            exim::handle(&mut ctx, server, t, sl.msg);
        }
    }

    /// Emits the messages still open and returns the statistics.
    pub fn finish(mut self, on: &mut dyn FnMut(MailEvent)) -> MailLogStats {
        self.table.flush_all(&mut self.stats, on);
        self.stats
    }
}

fn note_time(stats: &mut MailLogStats, t: i64) {
    stats.first_time = Some(stats.first_time.map_or(t, |f| f.min(t)));
    stats.last_time = Some(stats.last_time.map_or(t, |l| l.max(t)));
}

/// Reads `r` line by line (each at most `max` bytes kept; the rest of a longer line is
/// consumed and dropped) and calls `each` with the kept bytes.
fn for_each_line(
    r: &mut impl BufRead,
    max: usize,
    mut each: impl FnMut(&[u8]),
) -> Result<(), (u64, u64, io::Error)> {
    let mut buf: Vec<u8> = Vec::new();
    let mut lines = 0u64;
    let mut offset = 0u64;
    let mut pending = false;
    loop {
        let chunk = match r.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err((lines + 1, offset, e)),
        };
        if chunk.is_empty() {
            if !buf.is_empty() || pending {
                each(&buf);
            }
            return Ok(());
        }
        let (part, used, end) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (&chunk[..i], i + 1, true),
            None => (chunk, chunk.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        pending = true;
        buf.extend_from_slice(&part[..part.len().min(room)]);
        r.consume(used);
        offset += used as u64;
        if end {
            lines += 1;
            each(&buf);
            buf.clear();
            pending = false;
        }
    }
}

/// Parses a whole Postfix/Exim log, calling `on` for each event (in the order messages close,
/// rejections as they come; messages still open at the end last).
///
/// A read error ends the parse: the events read so far (and the open messages) are delivered,
/// then the error names the line and byte offset.
pub fn parse_maillog<R: BufRead>(
    mut r: R,
    opts: &MailLogOptions,
    mut on: impl FnMut(MailEvent),
) -> Result<MailLogStats, MailLogError> {
    let mut p = MailLogParser::new(opts.clone());
    let max = opts.max_line_bytes;
    // One byte over the limit is kept so that feed_line sees (and counts) a long line.
    let res = for_each_line(&mut r, max.saturating_add(1), |line| {
        p.feed_line(line, &mut on)
    });
    let stats = p.finish(&mut on);
    match res {
        Ok(()) => Ok(stats),
        Err((line, offset, source)) => Err(MailLogError::Read {
            line,
            offset,
            source,
        }),
    }
}

/// [`parse_maillog`] collecting the events into a vector.
pub fn parse_maillog_to_vec<R: BufRead>(
    r: R,
    opts: &MailLogOptions,
) -> Result<(Vec<MailEvent>, MailLogStats), MailLogError> {
    let mut events = Vec::new();
    let stats = parse_maillog(r, opts, |e| events.push(e))?;
    Ok((events, stats))
}
