//! Threat-intelligence feeds for `kensa intel import FEED…` and for matching what a capture shows
//! against them.
//!
//! Parsers (the format is detected from the content, or given explicitly with [`FeedKind`]):
//!
//! | kind | file |
//! |---|---|
//! | [`FeedKind::FeodoTxt`] | Feodo Tracker `ipblocklist.txt` / `_recommended.txt`: one IP per line, `#` banner |
//! | [`FeedKind::FeodoCsv`] | Feodo `ipblocklist.csv` / `_aggressive.csv`: `first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware` (also the old `Firstseen,DstIP,DstPort,Malware`) |
//! | [`FeedKind::FeodoJson`] | Feodo `ipblocklist.json`: an array of objects (`ip_address`, `port`, `status`, `hostname`, `as_number`, `as_name`, `country`, `first_seen`, `last_online`, `malware`) |
//! | [`FeedKind::UrlhausCsv`] | URLhaus `csv_recent` / `csv_online` / full dump: `id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter` |
//! | [`FeedKind::UrlhausTldCsv`] | URLhaus per-TLD feed: `Dateadded,URL,URL_status,Threat,Host,IPaddress,ASnumber,Country` |
//! | [`FeedKind::UrlhausHosts`] | URLhaus hosts file: `0.0.0.0 host` (or `127.0.0.1 host`) |
//! | [`FeedKind::ThreatfoxCsv`] | ThreatFox CSV export: commented header, quoted values separated by comma + space |
//! | [`FeedKind::PlainList`] | a hand-made list: one IP, IP:port, domain, URL or hash per line, `#` comments |
//!
//! Common rules: `#` lines, blank lines and repeated headers are skipped; a header may be a data
//! line or a comment (`# id,dateadded,…`); CRLF and a missing final newline are fine; values may be
//! `ip`, `ip:port`, `[v6]:port`, or defanged (`[.]`, `(.)`, `[dot]`, `[:]`, `hxxp`). Two rows with
//! the same indicator **and** the same malware family are one indicator: the most recent row's
//! attributes are kept, with the earliest `first_seen` and the latest `last_seen` of both (the
//! same IP:port listed for two families stays two indicators, as in the Feodo file). The banner's
//! "Last updated:" / "Generated on" time becomes [`Snapshot::fetched_or_updated`]; without one the
//! caller fills in the file's mtime. Footers such as `# END 472 entries` are checked against the
//! rows found (a cut download shows up as a problem).
//!
//! Bad lines never abort a parse: they are counted in [`Stats`] and the first few are kept as
//! [`Problem`]s with their line number. Only input that cannot be a feed at all (unknown format,
//! broken JSON) is an [`IntelError`]. Work and memory are bounded by [`Limits`].
//!
//! [`IntelIndex`] answers "is this IP / IP:port / host / URL / hash listed?", and each [`Match`]
//! can say how old the listing was at capture time ([`Match::age_at`]).
//!
//! Snapshots serialise to JSON Lines ([`Snapshot::write_jsonl`], [`Snapshot::read_jsonl`]); the
//! format is documented in `intel/store.rs`. ThreatFox exports arrive zipped: [`csv_from_zip`].

mod formats;
mod index;
mod json;
mod store;
#[cfg(test)]
mod tests;
mod text;

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

pub use index::{Age, FeedInfo, IntelIndex, Match, MatchBasis};
pub use store::{MAX_ZIP_MEMBER_BYTES, SNAPSHOT_FORMAT_VERSION, csv_from_zip};
pub use text::{normalise_domain, normalise_hash, normalise_url, parse_ip_port, unix_from_utc};

/// Longest line read from a feed; longer lines are reported and skipped.
pub const MAX_LINE_LEN: usize = 16 * 1024;
/// Most indicators kept from one feed (the URLhaus full dump is the biggest at a few million).
pub const MAX_ENTRIES: usize = 2_000_000;
/// Most problems kept with their line numbers (all are counted in [`Stats`]).
pub const MAX_PROBLEMS: usize = 20;
/// Longest free-text field kept (malware name, tag, reference…); longer ones are cut.
pub const MAX_FIELD_LEN: usize = 256;
/// Longest URL accepted as an indicator.
pub const MAX_URL_LEN: usize = 8 * 1024;
/// Most cells in one CSV line.
pub const MAX_FIELDS: usize = 64;
/// Most tags kept per indicator.
pub const MAX_TAGS: usize = 16;

/// The feed formats kensa reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FeedKind {
    FeodoTxt,
    FeodoCsv,
    FeodoJson,
    UrlhausCsv,
    UrlhausTldCsv,
    UrlhausHosts,
    ThreatfoxCsv,
    PlainList,
}

impl FeedKind {
    /// Every kind, for `--kind` help and tests.
    pub const ALL: [FeedKind; 8] = [
        FeedKind::FeodoTxt,
        FeedKind::FeodoCsv,
        FeedKind::FeodoJson,
        FeedKind::UrlhausCsv,
        FeedKind::UrlhausTldCsv,
        FeedKind::UrlhausHosts,
        FeedKind::ThreatfoxCsv,
        FeedKind::PlainList,
    ];

    /// The stable name (also the serialised form): `feodo_txt`, `feodo_csv`, …
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::FeodoTxt => "feodo_txt",
            FeedKind::FeodoCsv => "feodo_csv",
            FeedKind::FeodoJson => "feodo_json",
            FeedKind::UrlhausCsv => "urlhaus_csv",
            FeedKind::UrlhausTldCsv => "urlhaus_tld_csv",
            FeedKind::UrlhausHosts => "urlhaus_hosts",
            FeedKind::ThreatfoxCsv => "threatfox_csv",
            FeedKind::PlainList => "plain_list",
        }
    }

    /// Parse a stable name (`--kind feodo_csv`); `-` is accepted for `_`.
    pub fn from_name(name: &str) -> Option<FeedKind> {
        let n = name.trim().to_ascii_lowercase().replace('-', "_");
        FeedKind::ALL.into_iter().find(|k| k.as_str() == n)
    }

    /// The feed name used when the caller gives none.
    pub fn default_feed_name(self) -> &'static str {
        match self {
            FeedKind::FeodoTxt | FeedKind::FeodoCsv | FeedKind::FeodoJson => "feodo",
            FeedKind::UrlhausCsv | FeedKind::UrlhausTldCsv | FeedKind::UrlhausHosts => "urlhaus",
            FeedKind::ThreatfoxCsv => "threatfox",
            FeedKind::PlainList => "list",
        }
    }
}

impl fmt::Display for FeedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Hash algorithms a hash indicator can carry (told apart by length).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashAlgo {
    Md5,
    Sha1,
    Sha256,
}

/// The indicator itself, normalised: IPs in canonical form (IPv4-mapped IPv6 as IPv4), hosts
/// lower-case without a trailing dot, defanging undone, URLs as `scheme://host[:port]/path?query`
/// (scheme and host lower-case, default port, user info and fragment dropped), hashes lower-case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Ioc {
    Ip { ip: IpAddr },
    IpPort { ip: IpAddr, port: u16 },
    Domain { domain: String },
    Url { url: String, host: String },
    Hash { algo: HashAlgo, hash: String },
}

impl fmt::Display for Ioc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ioc::Ip { ip } => write!(f, "{ip}"),
            Ioc::IpPort {
                ip: IpAddr::V6(v6),
                port,
            } => write!(f, "[{v6}]:{port}"),
            Ioc::IpPort { ip, port } => write!(f, "{ip}:{port}"),
            Ioc::Domain { domain } => f.write_str(domain),
            Ioc::Url { url, .. } => f.write_str(url),
            Ioc::Hash { hash, .. } => f.write_str(hash),
        }
    }
}

/// Whether the feed saw the indicator alive at its last check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Online,
    Offline,
}

/// One listed indicator with what the feed says about it. Times are UTC as the feed wrote them,
/// checked to be `YYYY-MM-DD[ HH:MM[:SS]]` (see [`unix_from_utc`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    #[serde(flatten)]
    pub ioc: Ioc,
    /// Feed name (`feodo`, `urlhaus`, `threatfox`, or the caller's).
    pub feed: String,
    /// Family as people write it (`Emotet`; ThreatFox `malware_printable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malware: Option<String>,
    /// Malpedia-style family id (ThreatFox `fk_malware`, e.g. `win.emotet`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malware_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// Last time seen alive (Feodo `last_online`, ThreatFox `last_seen_utc`, URLhaus `last_online`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// ThreatFox confidence, 0–100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u8>,
    /// `botnet_cc`, `payload_delivery`, `malware_download`, `c2` (Feodo rows)…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threat_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// A link to the feed's page about the indicator (`urlhaus_link`, ThreatFox `reference`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Reverse name of a C2 (Feodo JSON `hostname`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Where the indicator came from: line number, or entry number (1-based) for JSON feeds.
    pub line: u64,
}

impl Indicator {
    pub(crate) fn new(ioc: Ioc, feed: &str, line: u64) -> Indicator {
        Indicator {
            ioc,
            feed: feed.to_string(),
            malware: None,
            malware_id: None,
            first_seen: None,
            last_seen: None,
            status: None,
            confidence: None,
            threat_type: None,
            tags: Vec::new(),
            reference: None,
            hostname: None,
            asn: None,
            as_name: None,
            country: None,
            line,
        }
    }
}

/// Where in a feed a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// 1-based line number.
    Line(u64),
    /// 1-based position in a JSON array.
    Entry(u64),
    /// The feed as a whole (footer checks, caps).
    Feed,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Line(n) => write!(f, "line {n}"),
            Place::Entry(n) => write!(f, "entry {n}"),
            Place::Feed => f.write_str("feed"),
        }
    }
}

/// What was wrong with a line or entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "what", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProblemKind {
    #[error("line of {len} bytes is longer than the limit; skipped")]
    LineTooLong { len: usize },
    #[error("not UTF-8; skipped")]
    NotUtf8,
    #[error("malformed CSV ({reason}); skipped")]
    BadCsv { reason: String },
    #[error("no {field} value; skipped")]
    MissingField { field: String },
    #[error("{field} is not valid ({reason}); skipped")]
    BadValue { field: String, reason: String },
    #[error("unsupported indicator type {ioc_type:?}; skipped")]
    UnsupportedType { ioc_type: String },
    #[error("{field} is not valid; field ignored, row kept")]
    FieldIgnored { field: String },
    #[error("not a JSON object; skipped")]
    NotAnObject,
    #[error("more than {cap} indicators; the rest were not kept")]
    TooManyEntries { cap: usize },
    #[error("the footer declares {declared} entries but {found} data rows were found")]
    DeclaredCountMismatch { declared: u64, found: u64 },
}

/// A line or entry that could not be used, with a short excerpt of it (attacker-controlled:
/// escape before printing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{place}: {kind}")]
pub struct Problem {
    pub place: Place,
    pub kind: ProblemKind,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub excerpt: String,
}

/// Counters over one parse.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Lines read (or JSON entries).
    pub lines: u64,
    /// Data rows that gave an indicator (duplicates included).
    pub rows: u64,
    /// Rows merged into an earlier indicator (same indicator and family).
    pub duplicates: u64,
    /// Data lines or entries skipped as unusable.
    pub bad_lines: u64,
    /// Optional fields ignored in kept rows (a bad date, confidence…).
    pub ignored_fields: u64,
    /// Lines skipped as not data: header rows met again after the first, hosts-file
    /// boilerplate (`127.0.0.1 localhost`).
    pub skipped_lines: u64,
    /// Rows not kept because of [`Limits::max_entries`].
    pub dropped: u64,
    /// Count from a footer (`# END n entries`, `# of entries: n`), if any.
    pub declared_entries: Option<u64>,
    /// True when [`Limits::max_entries`] was reached.
    pub truncated: bool,
}

/// A parsed feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub feed: String,
    pub kind: FeedKind,
    /// Feed time from the banner (`2021-03-19 16:08:14`, UTC), or what the caller sets (file
    /// mtime, download time) when the banner was stripped.
    pub fetched_or_updated: Option<String>,
    pub indicators: Vec<Indicator>,
    /// The first [`Limits::max_problems`] problems; all are counted in `stats`.
    pub problems: Vec<Problem>,
    pub stats: Stats,
}

/// Caps on one parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_line_len: usize,
    pub max_entries: usize,
    pub max_problems: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_line_len: MAX_LINE_LEN,
            max_entries: MAX_ENTRIES,
            max_problems: MAX_PROBLEMS,
        }
    }
}

/// How to parse a feed.
#[derive(Clone, Debug, Default)]
pub struct ParseOptions {
    /// Format; `None` detects it from the content ([`detect_kind`]).
    pub kind: Option<FeedKind>,
    /// Feed name stored with each indicator; `None` takes [`FeedKind::default_feed_name`].
    pub feed: Option<String>,
    pub limits: Limits,
}

/// Input that cannot be read as a feed or snapshot at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntelError {
    #[error("feed format not recognised: {0}")]
    UnknownFormat(String),
    #[error("{kind} feed, line {line}: header has no {column} column")]
    MissingColumn {
        kind: FeedKind,
        line: u64,
        column: &'static str,
    },
    #[error("JSON feed, line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("snapshot, line {line}: {message}")]
    Snapshot { line: u64, message: String },
    #[error("zip: {0}")]
    Zip(String),
    #[error("zip: no CSV member among {entries} entries")]
    ZipNoCsv { entries: usize },
    #[error("zip member {name}: more than {cap} bytes")]
    ZipTooLarge { name: String, cap: u64 },
    #[error("writing snapshot: {0}")]
    Io(#[from] std::io::Error),
}

/// Guess the format of `data`; `None` when nothing fits.
pub fn detect_kind(data: &[u8]) -> Option<FeedKind> {
    formats::detect(data)
}

/// Parse one feed.
pub fn parse_feed(data: &[u8], options: &ParseOptions) -> Result<Snapshot, IntelError> {
    let kind = match options.kind {
        Some(k) => k,
        None => detect_kind(data).ok_or_else(|| {
            IntelError::UnknownFormat(
                "no known header, banner or indicator in the first lines".to_string(),
            )
        })?,
    };
    let feed = options
        .feed
        .clone()
        .unwrap_or_else(|| kind.default_feed_name().to_string());
    let mut b = Builder::new(feed, kind, options.limits);
    let updated = match kind {
        FeedKind::FeodoJson => {
            json::parse_feodo_json(data, &mut b)?;
            None
        }
        _ => formats::parse_lines(data, kind, &mut b)?,
    };
    Ok(b.finish(updated))
}

/// Collects indicators with de-duplication, caps and problem bookkeeping.
pub(crate) struct Builder {
    feed: String,
    kind: FeedKind,
    limits: Limits,
    indicators: Vec<Indicator>,
    /// De-duplication without a second copy of every value: hash of (indicator, family) → the
    /// latest kept index with that hash; `chain[i]` is the previous index with the same hash.
    /// Keys are random per process, so a feed cannot be crafted to collide.
    seen: HashMap<u64, usize>,
    chain: Vec<Option<usize>>,
    hasher: RandomState,
    problems: Vec<Problem>,
    stats: Stats,
}

impl Builder {
    fn new(feed: String, kind: FeedKind, limits: Limits) -> Builder {
        Builder {
            feed,
            kind,
            limits,
            indicators: Vec::new(),
            seen: HashMap::new(),
            chain: Vec::new(),
            hasher: RandomState::new(),
            problems: Vec::new(),
            stats: Stats::default(),
        }
    }

    pub(crate) fn feed(&self) -> &str {
        &self.feed
    }

    fn problem(&mut self, place: Place, kind: ProblemKind, excerpt: &str) {
        if self.problems.len() < self.limits.max_problems {
            self.problems.push(Problem {
                place,
                kind,
                excerpt: text::excerpt(excerpt),
            });
        }
    }

    /// A data line or entry that gave nothing.
    pub(crate) fn bad(&mut self, place: Place, kind: ProblemKind, excerpt: &str) {
        self.stats.bad_lines = self.stats.bad_lines.saturating_add(1);
        self.problem(place, kind, excerpt);
    }

    /// An optional field that was ignored in a kept row.
    pub(crate) fn ignored(&mut self, place: Place, field: &str, excerpt: &str) {
        self.stats.ignored_fields = self.stats.ignored_fields.saturating_add(1);
        self.problem(
            place,
            ProblemKind::FieldIgnored {
                field: field.to_string(),
            },
            excerpt,
        );
    }

    /// Add one row's indicator, merging it into an earlier one with the same value and family.
    pub(crate) fn push(&mut self, ind: Indicator) {
        self.stats.rows = self.stats.rows.saturating_add(1);
        let family = family_key(&ind);
        let mut h = self.hasher.build_hasher();
        ind.ioc.hash(&mut h);
        family.hash(&mut h);
        let h = h.finish();
        let mut at = self.seen.get(&h).copied();
        while let Some(i) = at {
            if let Some(old) = self.indicators.get_mut(i)
                && old.ioc == ind.ioc
                && family_key(old) == family
            {
                self.stats.duplicates = self.stats.duplicates.saturating_add(1);
                merge(old, ind);
                return;
            }
            at = self.chain.get(i).copied().flatten();
        }
        if self.indicators.len() >= self.limits.max_entries {
            self.stats.dropped = self.stats.dropped.saturating_add(1);
            if !self.stats.truncated {
                self.stats.truncated = true;
                let place = if self.kind == FeedKind::FeodoJson {
                    Place::Entry(ind.line)
                } else {
                    Place::Line(ind.line)
                };
                self.problem(
                    place,
                    ProblemKind::TooManyEntries {
                        cap: self.limits.max_entries,
                    },
                    "",
                );
            }
            return;
        }
        let previous = self.seen.insert(h, self.indicators.len());
        self.chain.push(previous);
        self.indicators.push(ind);
    }

    fn finish(mut self, updated: Option<String>) -> Snapshot {
        if let Some(declared) = self.stats.declared_entries {
            let found = self.stats.rows.saturating_add(self.stats.bad_lines);
            if declared != found {
                self.problem(
                    Place::Feed,
                    ProblemKind::DeclaredCountMismatch { declared, found },
                    "",
                );
            }
        }
        Snapshot {
            feed: self.feed,
            kind: self.kind,
            fetched_or_updated: updated,
            indicators: self.indicators,
            problems: self.problems,
            stats: self.stats,
        }
    }
}

/// The family part of the de-duplication key.
fn family_key(ind: &Indicator) -> String {
    ind.malware
        .as_deref()
        .or(ind.malware_id.as_deref())
        .unwrap_or("")
        .to_lowercase()
}

/// Merge a later duplicate row into the kept one: the more recent row's attributes win, and the
/// listing keeps the earliest first sighting and the latest last sighting of the two.
fn merge(old: &mut Indicator, new: Indicator) {
    let recency = |i: &Indicator| {
        (
            i.last_seen.as_deref().and_then(unix_from_utc),
            i.first_seen.as_deref().and_then(unix_from_utc),
        )
    };
    // A later row in the file wins ties: feeds append.
    let newer = recency(&new) >= recency(old);
    let first = earliest(old.first_seen.take(), new.first_seen.clone());
    let last = latest(old.last_seen.take(), new.last_seen.clone());
    if newer {
        *old = new;
    }
    old.first_seen = first;
    old.last_seen = last;
}

fn earliest(a: Option<String>, b: Option<String>) -> Option<String> {
    pick(a, b, |x, y| x <= y)
}

fn latest(a: Option<String>, b: Option<String>) -> Option<String> {
    pick(a, b, |x, y| x >= y)
}

fn pick(a: Option<String>, b: Option<String>, keep_a: fn(i64, i64) -> bool) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => match (unix_from_utc(&a), unix_from_utc(&b)) {
            (Some(x), Some(y)) if !keep_a(x, y) => Some(b),
            (None, Some(_)) => Some(b),
            _ => Some(a),
        },
        (a, b) => a.or(b),
    }
}
