//! Zeek logs for `kensa net analyze`: conn.log, dns.log, http.log, ssl.log and smtp.log (and the
//! zeek-open-connections `open_conn` / `open_http` / `open_ssl` that RITA also reads), in Zeek's
//! TSV or JSON form, gzip-compressed or not, streamed line by line.
//!
//! # Formats
//! * **TSV** (Zeek's default ASCII writer). Header lines `#separator \x09` (the value hex-escaped,
//!   separated by a space), then, separated by the separator: `#set_separator ,`,
//!   `#empty_field (empty)`, `#unset_field -`, `#path conn`, `#open …`, `#fields …`,
//!   `#types …`; `#close …` at the end. Columns are mapped by the names in `#fields`, never by
//!   position, so extra columns (RITA's `agent_hostname` / `agent_uuid`, site additions) and other
//!   orders are fine. A new `#separator` line starts a new header block, so concatenated logs
//!   (`cat` or `zcat` of rotated files) read as one. Values: the unset marker means unset, the
//!   empty marker an empty string or set; `\xHH` escapes are decoded (the writer escapes
//!   non-printable bytes, the separator inside values, the set separator inside set elements and
//!   a value that equals a marker); sets and vectors are split at the set separator. The
//!   `LogAscii::tsv = T` variant (one header row of bare column names, no `#` lines) is read with
//!   the default markers when its first line names `ts` and `uid` or `id.orig_h`.
//! * **JSON** (`LogAscii::use_json = T`): one object per line with dotted keys (`"id.orig_h"`);
//!   an `"id": {"orig_h": …}` object (some exporters nest it) works too. `ts` is epoch seconds as
//!   a number or, with `LogAscii::json_timestamps = JSON::TS_ISO8601`, an ISO 8601 string
//!   (`2021-01-06T16:41:15.123456Z`; offsets and epoch strings are accepted too). Unset fields
//!   are omitted (`null` is read as unset).
//! * **gzip**: detected by its magic and read with [`flate2::read::MultiGzDecoder`]
//!   (concatenated members read as one stream, as `cat a.gz b.gz` makes).
//!
//! The format is fixed by the first non-blank line (`#` → TSV, `{` → JSON); [`sniff`] tells the
//! same from a prefix, for routing files between this reader and the capture reader.
//!
//! # Log type
//! TSV: `#path` of each header block (`conn`, `open_conn`, `dns`, `http`, `open_http`, `ssl`,
//! `open_ssl`, `smtp`). JSON: a `_path` key when present (Corelight/Brim-style exports). Else the
//! set of column names (per header block / per JSON line: e.g. `conn_state` or `orig_ip_bytes` →
//! conn, `query` with `qtype` → dns, `cipher`/`server_name`/`ja3` → ssl). Else the file name
//! given as `name_hint` (`conn.log`, `conn.09:00:00-10:00:00.log.gz`, `/var/log/zeek/ssl.log`:
//! the part before the first dot; see [`kind_from_file_name`]). Lines of other logs (`files`,
//! `x509`, `weird`, …) are counted by path in [`ZeekStats::other_paths`], not emitted.
//!
//! # Hostile input
//! Nothing panics on any bytes. Memory is one line (at most [`ZeekLimits::max_line_bytes`]) plus
//! its parsed fields: for JSON, serde_json's tree of that line (a few times the line size;
//! nesting is capped at serde_json's 128 levels). Lists keep at most
//! [`ZeekLimits::max_list_items`] elements; the name tables in [`ZeekStats`] at most
//! [`ZeekLimits::max_names`] names; issue samples at most [`ZeekLimits::max_samples`]. Time is
//! linear in the input, which [`ZeekLimits::max_input_bytes`] can cap (decompressed bytes; a
//! guard against gzip bombs).
//!
//! A line that cannot become a record (too long, wrong column count, broken JSON, a missing or
//! invalid `ts`, address or port) is dropped and counted in [`ZeekStats::bad_lines`]; an
//! optional field that does not parse is left unset and counted in
//! [`ZeekStats::field_errors`]. The first few of both are kept with their line numbers in
//! [`ZeekStats::issues`]. Columns the reader does not know for the log type are counted by name
//! in [`ZeekStats::unknown_fields`]. [`read_log`] returns `Err` only when the input is not a Zeek
//! log at all (or unreadable before its first line); a read error or the input cap later ends
//! the read with everything so far delivered and the error in [`ZeekStats::error`].

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Cursor, Read};

use flate2::read::{GzDecoder, MultiGzDecoder};

mod fields;
mod json;
mod records;
mod source;
mod tsv;
mod value;

#[cfg(test)]
mod tests;

pub use records::{
    ZeekConn, ZeekDns, ZeekHttp, ZeekRecord, ZeekSmtp, ZeekSsl, parse_conn_state, uid_hash,
};

/// Zeek's two log encodings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZeekFormat {
    Tsv,
    Json,
}

/// The logs this reader turns into records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ZeekKind {
    Conn,
    Dns,
    Http,
    Ssl,
    Smtp,
}

impl ZeekKind {
    /// The log's `#path` / `_path` name.
    pub fn as_str(self) -> &'static str {
        match self {
            ZeekKind::Conn => "conn",
            ZeekKind::Dns => "dns",
            ZeekKind::Http => "http",
            ZeekKind::Ssl => "ssl",
            ZeekKind::Smtp => "smtp",
        }
    }

    /// `#path` / `_path` → kind, and whether it is the zeek-open-connections `open_*` variant.
    pub fn from_path(path: &str) -> Option<(ZeekKind, bool)> {
        Some(match path.trim() {
            "conn" => (ZeekKind::Conn, false),
            "open_conn" => (ZeekKind::Conn, true),
            "dns" => (ZeekKind::Dns, false),
            "http" => (ZeekKind::Http, false),
            "open_http" => (ZeekKind::Http, true),
            "ssl" => (ZeekKind::Ssl, false),
            "open_ssl" => (ZeekKind::Ssl, true),
            "smtp" => (ZeekKind::Smtp, false),
            _ => return None,
        })
    }
}

/// The log name a file name implies: the base name's part before the first dot, lower-cased
/// (`conn.log`, `conn.09:00:00-10:00:00.log.gz`, `C:\logs\SSL.log` → conn, conn, ssl).
pub fn file_stem(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.split('.').next().unwrap_or(base).to_ascii_lowercase()
}

/// [`ZeekKind::from_path`] of [`file_stem`].
pub fn kind_from_file_name(name: &str) -> Option<(ZeekKind, bool)> {
    ZeekKind::from_path(&file_stem(name))
}

/// Caps of one read; see the module docs.
#[derive(Clone, Debug)]
pub struct ZeekLimits {
    /// Longest line accepted, without its line end (default 1 MiB); a longer one is skipped and
    /// counted as bad.
    pub max_line_bytes: usize,
    /// Most columns in a `#fields` header (default 1,024).
    pub max_columns: usize,
    /// Elements kept per set/vector field (default 256); the rest are dropped and counted in
    /// [`ZeekStats::truncated_lists`].
    pub max_list_items: usize,
    /// Issues kept in [`ZeekStats::issues`] (default 16; all are counted).
    pub max_samples: usize,
    /// Distinct names kept in [`ZeekStats::unknown_fields`] and [`ZeekStats::other_paths`]
    /// (default 64 each; the rest are counted in the `*_overflow` fields).
    pub max_names: usize,
    /// Stop after this many decompressed bytes (default: no limit), reported as
    /// [`ZeekError::LimitReached`] in [`ZeekStats::error`].
    pub max_input_bytes: Option<u64>,
}

impl Default for ZeekLimits {
    fn default() -> Self {
        ZeekLimits {
            max_line_bytes: 1024 * 1024,
            max_columns: 1024,
            max_list_items: 256,
            max_samples: 16,
            max_names: 64,
            max_input_bytes: None,
        }
    }
}

/// Why [`read_log`] could not read the input, or why it stopped early.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZeekError {
    /// Nothing but blank lines (or no bytes at all).
    #[error("empty input: not a Zeek log")]
    Empty,
    /// The first non-blank line is neither a `#` header, a JSON object nor a TSV-mode header.
    #[error("not a Zeek log: line {line} starts with {start:?}")]
    NotZeek { line: u64, start: String },
    /// Reading or inflating failed; `offset` counts decompressed bytes consumed before it.
    #[error("read error at line {line} (byte {offset}): {source}")]
    Io {
        line: u64,
        offset: u64,
        #[source]
        source: io::Error,
    },
    /// [`ZeekLimits::max_input_bytes`] was reached while reading `line`.
    #[error("input limit of {limit} bytes reached at line {line}")]
    LimitReached { line: u64, limit: u64 },
}

/// Why one line was dropped, or one field left unset.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IssueKind {
    #[error("line longer than {limit} bytes")]
    TooLong { limit: usize },
    #[error("data line before any #fields header")]
    NoHeader,
    #[error("{got} columns where #fields names {expected}")]
    ColumnCount { expected: usize, got: usize },
    #[error("header line: {what}")]
    BadHeader { what: &'static str },
    #[error("invalid JSON: {message}")]
    Json { message: String },
    #[error("JSON line is not an object")]
    NotObject,
    #[error("required field {field} missing or unset")]
    Missing { field: &'static str },
    #[error("field {field}: invalid value {value:?}")]
    BadValue { field: &'static str, value: String },
}

/// One problem, with its 1-based line number in the (decompressed) input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineIssue {
    pub line: u64,
    /// The line was dropped (else only the field named in `kind` was left unset, or a header
    /// line was ignored).
    pub dropped: bool,
    pub kind: IssueKind,
}

/// Records emitted, per log type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordCounts {
    pub conn: u64,
    pub dns: u64,
    pub http: u64,
    pub ssl: u64,
    pub smtp: u64,
}

impl RecordCounts {
    pub fn total(&self) -> u64 {
        self.conn + self.dns + self.http + self.ssl + self.smtp
    }

    fn bump(&mut self, kind: ZeekKind) {
        let c = match kind {
            ZeekKind::Conn => &mut self.conn,
            ZeekKind::Dns => &mut self.dns,
            ZeekKind::Http => &mut self.http,
            ZeekKind::Ssl => &mut self.ssl,
            ZeekKind::Smtp => &mut self.smtp,
        };
        *c = c.saturating_add(1);
    }
}

/// What one read saw.
#[derive(Debug, Default)]
pub struct ZeekStats {
    pub format: Option<ZeekFormat>,
    pub gzip: bool,
    /// Decompressed bytes consumed.
    pub bytes: u64,
    /// Lines read (all kinds).
    pub lines: u64,
    pub blank_lines: u64,
    /// TSV `#…` lines (and a TSV-mode header row).
    pub header_lines: u64,
    /// TSV header blocks started (`#separator` lines, or a `#fields` without one before it).
    pub header_blocks: u64,
    /// TSV `#close` lines (a block without one was cut or is still being written).
    pub closed_blocks: u64,
    pub records: RecordCounts,
    /// Data lines of other logs, by path (`files`, `x509`, …; `(unknown)` when no path, hint or
    /// column set told).
    pub other_paths: BTreeMap<String, u64>,
    pub other_paths_overflow: u64,
    /// conn.log lines whose `proto` is not tcp/udp/icmp (`unknown_transport`): not emitted.
    pub unknown_transport: u64,
    /// Lines dropped.
    pub bad_lines: u64,
    /// Optional fields left unset because their value did not parse.
    pub field_errors: u64,
    /// Header lines ignored because they were malformed.
    pub header_errors: u64,
    /// The first [`ZeekLimits::max_samples`] issues of all three kinds above.
    pub issues: Vec<LineIssue>,
    /// Column name → records in which it appeared without being a known field of its log.
    pub unknown_fields: BTreeMap<String, u64>,
    pub unknown_fields_overflow: u64,
    /// Set/vector fields cut at [`ZeekLimits::max_list_items`].
    pub truncated_lists: u64,
    /// Smallest / largest `ts` of the emitted records.
    pub first_ts: Option<f64>,
    pub last_ts: Option<f64>,
    /// The input was read to its end.
    pub complete: bool,
    /// What ended the read early, if anything.
    pub error: Option<ZeekError>,
}

impl ZeekStats {
    fn issue(&mut self, limits: &ZeekLimits, line: u64, dropped: bool, kind: IssueKind) {
        match (&kind, dropped) {
            (IssueKind::BadHeader { .. }, _) => self.header_errors += 1,
            (_, true) => self.bad_lines += 1,
            (_, false) => self.field_errors += 1,
        }
        if self.issues.len() < limits.max_samples {
            self.issues.push(LineIssue {
                line,
                dropped,
                kind,
            });
        }
    }

    fn count_name(map: &mut BTreeMap<String, u64>, overflow: &mut u64, max: usize, name: &str) {
        if let Some(n) = map.get_mut(name) {
            *n = n.saturating_add(1);
        } else if map.len() < max {
            map.insert(name.to_string(), 1);
        } else {
            *overflow = overflow.saturating_add(1);
        }
    }

    fn unknown_field(&mut self, limits: &ZeekLimits, name: &str) {
        Self::count_name(
            &mut self.unknown_fields,
            &mut self.unknown_fields_overflow,
            limits.max_names,
            name,
        );
    }

    fn other_path(&mut self, limits: &ZeekLimits, path: &str) {
        Self::count_name(
            &mut self.other_paths,
            &mut self.other_paths_overflow,
            limits.max_names,
            path,
        );
    }

    /// All data lines of other logs.
    pub fn other_lines(&self) -> u64 {
        self.other_paths.values().sum::<u64>() + self.other_paths_overflow
    }
}

/// Where a block's (TSV) or a line's (JSON) records go.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    Kind(ZeekKind, bool),
    Other(String),
}

const UNKNOWN_PATH: &str = "(unknown)";

/// Per-read context shared by the two format readers.
struct Ctx<'l> {
    limits: &'l ZeekLimits,
    stats: ZeekStats,
    /// From the file name: a kind of ours, or the stem of another log's name.
    hint: Option<Target>,
}

impl Ctx<'_> {
    /// Target when the data itself names no path: the type the columns show, else the file
    /// name's, else "other" under the file name's stem (or `(unknown)`). The file name's
    /// `open_*` flag is kept when it names the same type as the columns.
    fn fallback_target(&self, guess: Option<ZeekKind>) -> Target {
        match (&self.hint, guess) {
            (Some(Target::Kind(h, open)), Some(g)) if *h == g => Target::Kind(g, *open),
            (_, Some(g)) => Target::Kind(g, false),
            (Some(t), None) => t.clone(),
            (None, None) => Target::Other(UNKNOWN_PATH.to_string()),
        }
    }

    /// Build a record from one line's fields and account for it.
    fn build<S: source::Source>(
        &mut self,
        src: &S,
        kind: ZeekKind,
        open: bool,
        line: u64,
    ) -> Option<ZeekRecord> {
        let mut g = source::Get::new(src, self.limits.max_list_items);
        let built = records::build(&mut g, kind, open, line);
        self.stats.truncated_lists += g.truncated_lists;
        let dropped = built.is_err();
        for e in g.errors {
            // A field error on a dropped line is not counted twice.
            if !dropped {
                let kind = IssueKind::BadValue {
                    field: e.field.name(),
                    value: e.value,
                };
                self.stats.issue(self.limits, line, false, kind);
            }
        }
        match built {
            Err(kind) => {
                self.stats.issue(self.limits, line, true, kind);
                None
            }
            Ok(None) => {
                self.stats.unknown_transport += 1;
                None
            }
            Ok(Some(r)) => {
                self.stats.records.bump(kind);
                let ts = r.ts();
                self.stats.first_ts = Some(self.stats.first_ts.map_or(ts, |t| t.min(ts)));
                self.stats.last_ts = Some(self.stats.last_ts.map_or(ts, |t| t.max(ts)));
                Some(r)
            }
        }
    }
}

/// Tell TSV from JSON by the first bytes of a file (gzip-compressed or not; for gzip the prefix
/// should hold at least the compressed first line, a few hundred bytes). `None`: not a Zeek log.
pub fn sniff(prefix: &[u8]) -> Option<ZeekFormat> {
    if prefix.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        // A prefix ends mid-stream: keep whatever inflated before the error.
        let _ = GzDecoder::new(prefix).take(4096).read_to_end(&mut out);
        return sniff_plain(&out);
    }
    sniff_plain(prefix)
}

fn sniff_plain(p: &[u8]) -> Option<ZeekFormat> {
    let p = p.strip_prefix(b"\xef\xbb\xbf").unwrap_or(p);
    let start = p.iter().position(|b| !b.is_ascii_whitespace())?;
    let p = p.get(start..)?;
    let line_end = p.iter().position(|&b| b == b'\n').unwrap_or(p.len());
    let line = p.get(..line_end)?;
    classify_first_line(line)
}

/// The format a log's first non-blank line announces.
fn classify_first_line(line: &[u8]) -> Option<ZeekFormat> {
    let line = line.trim_ascii();
    if line.starts_with(b"#separator")
        || line.starts_with(b"#fields")
        || line.starts_with(b"#set_separator")
        || line.starts_with(b"#path")
    {
        Some(ZeekFormat::Tsv)
    } else if line.starts_with(b"{") {
        Some(ZeekFormat::Json)
    } else if tsv::is_bare_header(line) {
        Some(ZeekFormat::Tsv)
    } else {
        None
    }
}

enum Input<R: Read> {
    Plain(io::Chain<Cursor<Vec<u8>>, R>),
    Gz(Box<MultiGzDecoder<io::Chain<Cursor<Vec<u8>>, R>>>),
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::Plain(r) => r.read(buf),
            Input::Gz(r) => r.read(buf),
        }
    }
}

enum LineRead {
    Eof,
    Line,
    TooLong,
}

/// Next line into `buf` without its `\n` / `\r\n`, at most `max` bytes; a longer line is
/// consumed to its end and reported as [`LineRead::TooLong`] (with `buf` empty).
fn next_line<R: BufRead>(
    r: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
    consumed: &mut u64,
) -> io::Result<LineRead> {
    buf.clear();
    let mut any = false;
    let mut too_long = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            break;
        }
        any = true;
        let (take, done) = match memchr::memchr(b'\n', avail) {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        let part = avail.get(..take).unwrap_or(avail);
        let part = if done {
            part.get(..take - 1).unwrap_or(part)
        } else {
            part
        };
        // One byte of slack for the `\r` of a CRLF line end.
        if !too_long && buf.len().saturating_add(part.len()) <= max.saturating_add(1) {
            buf.extend_from_slice(part);
        } else {
            too_long = true;
            buf.clear();
        }
        r.consume(take);
        *consumed = consumed.saturating_add(take as u64);
        if done {
            break;
        }
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    if !too_long && buf.len() > max {
        too_long = true;
        buf.clear();
    }
    Ok(match (any, too_long) {
        (false, _) => LineRead::Eof,
        (true, true) => LineRead::TooLong,
        (true, false) => LineRead::Line,
    })
}

/// Read one Zeek log (TSV or JSON, gzip or not) and call `on` for every conn, dns, http, ssl and
/// smtp record, in file order. `name_hint` is the file name (used when neither a path nor the
/// columns tell the log type).
///
/// ```no_run
/// # use kensa_net::zeek::*;
/// # fn f(path: &str) -> Result<(), Box<dyn std::error::Error>> {
/// let file = std::fs::File::open(path)?;
/// let stats = read_log(file, Some(path), &ZeekLimits::default(), |r| match r {
///     ZeekRecord::Conn(c) => println!("{} -> {}:{}", c.conn.orig_h, c.conn.resp_h, c.conn.resp_p),
///     ZeekRecord::Ssl(s) => println!("SNI {:?} JA3 {:?}", s.server_name, s.ja3),
///     _ => {}
/// })?;
/// eprintln!("{} records, {} bad lines", stats.records.total(), stats.bad_lines);
/// # Ok(()) }
/// ```
pub fn read_log<R: Read>(
    mut r: R,
    name_hint: Option<&str>,
    limits: &ZeekLimits,
    mut on: impl FnMut(ZeekRecord),
) -> Result<ZeekStats, ZeekError> {
    // Peek two bytes for the gzip magic, then put them back in front of the stream.
    let mut magic = Vec::with_capacity(2);
    while magic.len() < 2 {
        let mut b = [0u8; 1];
        match r.read(&mut b) {
            Ok(0) => break,
            Ok(_) => magic.extend_from_slice(&b),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(ZeekError::Io {
                    line: 1,
                    offset: 0,
                    source,
                });
            }
        }
    }
    let gzip = magic == [0x1f, 0x8b];
    let chained = Cursor::new(magic).chain(r);
    let input = if gzip {
        Input::Gz(Box::new(MultiGzDecoder::new(chained)))
    } else {
        Input::Plain(chained)
    };
    let cap = limits
        .max_input_bytes
        .map_or(u64::MAX, |l| l.saturating_add(1));
    let mut reader = BufReader::with_capacity(64 * 1024, input.take(cap));

    let hint = name_hint.map(|n| {
        let stem = file_stem(n);
        match ZeekKind::from_path(&stem) {
            Some((k, open)) => Target::Kind(k, open),
            None => Target::Other(stem),
        }
    });
    let mut ctx = Ctx {
        limits,
        stats: ZeekStats {
            gzip,
            ..ZeekStats::default()
        },
        hint,
    };
    let mut tsv = tsv::Tsv::new();
    let mut buf = Vec::new();
    loop {
        let line_no = ctx.stats.lines.saturating_add(1);
        let read = next_line(
            &mut reader,
            &mut buf,
            limits.max_line_bytes,
            &mut ctx.stats.bytes,
        );
        let read = match read {
            Ok(r) => r,
            Err(source) => {
                let err = ZeekError::Io {
                    line: line_no,
                    offset: ctx.stats.bytes,
                    source,
                };
                if ctx.stats.format.is_none() {
                    return Err(err);
                }
                ctx.stats.error = Some(err);
                return Ok(ctx.stats);
            }
        };
        if let Some(limit) = limits.max_input_bytes
            && ctx.stats.bytes > limit
        {
            ctx.stats.error = Some(ZeekError::LimitReached {
                line: line_no,
                limit,
            });
            return Ok(ctx.stats);
        }
        match read {
            LineRead::Eof => break,
            LineRead::TooLong => {
                ctx.stats.lines = line_no;
                if ctx.stats.format.is_none() {
                    return Err(ZeekError::NotZeek {
                        line: line_no,
                        start: format!("a line over {} bytes", limits.max_line_bytes),
                    });
                }
                let kind = IssueKind::TooLong {
                    limit: limits.max_line_bytes,
                };
                ctx.stats.issue(limits, line_no, true, kind);
                continue;
            }
            LineRead::Line => ctx.stats.lines = line_no,
        }
        let mut line = buf.as_slice();
        if line_no == 1 {
            line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
        }
        if line.trim_ascii().is_empty() {
            ctx.stats.blank_lines += 1;
            continue;
        }
        let format = match ctx.stats.format {
            Some(f) => f,
            None => match classify_first_line(line).or_else(|| {
                // Any other `#` line still opens a TSV header (a comment before #separator).
                line.starts_with(b"#").then_some(ZeekFormat::Tsv)
            }) {
                Some(f) => {
                    ctx.stats.format = Some(f);
                    f
                }
                None => {
                    return Err(ZeekError::NotZeek {
                        line: line_no,
                        start: value::excerpt(line.get(..16).unwrap_or(line)),
                    });
                }
            },
        };
        let rec = match format {
            ZeekFormat::Tsv => tsv.line(&mut ctx, line_no, line),
            ZeekFormat::Json => json::line(&mut ctx, line_no, line),
        };
        if let Some(rec) = rec {
            on(rec);
        }
    }
    if ctx.stats.format.is_none() {
        return Err(ZeekError::Empty);
    }
    ctx.stats.complete = true;
    Ok(ctx.stats)
}
