//! The line-based feeds: format detection, header → column mapping, and one row parser per
//! format. Headers are matched by name (data row or `#` comment), so column order changes and
//! older layouts (Feodo's 4-column `Firstseen,DstIP,DstPort,Malware`, URLhaus before
//! `last_online`, ThreatFox before `is_compromised`) are read too; without a header the
//! documented column order is assumed.

use super::text::{self, opt_text, parse_ip_port, split_csv, unix_from_utc};
use super::{
    Builder, FeedKind, Indicator, IntelError, Ioc, MAX_FIELDS, MAX_TAGS, Place, ProblemKind,
    Status, normalise_domain, normalise_hash, normalise_url,
};

/// Lines looked at by [`detect`].
const DETECT_LINES: usize = 400;

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    FirstSeen,
    LastSeen,
    Ip,
    Port,
    Status,
    Malware,
    MalwareId,
    Url,
    Value,
    IocType,
    ThreatType,
    Confidence,
    Tags,
    Reference,
    Country,
    Asn,
}

const N_FIELDS: usize = 16;

/// Column index of each field, when the feed has it.
#[derive(Clone, Copy, Debug, Default)]
struct Columns([Option<usize>; N_FIELDS]);

impl Columns {
    fn of(pairs: &[(Field, usize)]) -> Columns {
        let mut c = Columns::default();
        for &(f, i) in pairs {
            c.set(f, i);
        }
        c
    }

    fn set(&mut self, f: Field, i: usize) {
        if let Some(slot) = self.0.get_mut(f as usize) {
            // The first column with a given meaning wins.
            slot.get_or_insert(i);
        }
    }

    fn get(&self, f: Field) -> Option<usize> {
        self.0.get(f as usize).copied().flatten()
    }
}

/// Header cell → the field it holds in a feed of `kind`.
fn header_field(kind: FeedKind, name: &str) -> Option<Field> {
    use FeedKind as K;
    use Field as F;
    Some(match (kind, name) {
        (K::FeodoCsv, "first_seen_utc" | "firstseen" | "first_seen") => F::FirstSeen,
        (K::FeodoCsv, "dst_ip" | "dstip" | "ip_address") => F::Ip,
        (K::FeodoCsv, "dst_port" | "dstport" | "port") => F::Port,
        (K::FeodoCsv, "c2_status" | "status") => F::Status,
        (K::FeodoCsv, "last_online" | "lastonline") => F::LastSeen,
        (K::FeodoCsv, "malware") => F::Malware,
        (K::UrlhausCsv | K::UrlhausTldCsv, "dateadded") => F::FirstSeen,
        (K::UrlhausCsv | K::UrlhausTldCsv, "url") => F::Url,
        (K::UrlhausCsv | K::UrlhausTldCsv, "url_status") => F::Status,
        (K::UrlhausCsv | K::UrlhausTldCsv, "threat") => F::ThreatType,
        (K::UrlhausCsv, "last_online") => F::LastSeen,
        (K::UrlhausCsv, "tags") => F::Tags,
        (K::UrlhausCsv, "urlhaus_link") => F::Reference,
        (K::UrlhausTldCsv, "asnumber") => F::Asn,
        (K::UrlhausTldCsv, "country") => F::Country,
        (K::ThreatfoxCsv, "first_seen_utc" | "first_seen") => F::FirstSeen,
        (K::ThreatfoxCsv, "ioc_value" | "ioc") => F::Value,
        (K::ThreatfoxCsv, "ioc_type") => F::IocType,
        (K::ThreatfoxCsv, "threat_type") => F::ThreatType,
        (K::ThreatfoxCsv, "fk_malware") => F::MalwareId,
        (K::ThreatfoxCsv, "malware_printable") => F::Malware,
        (K::ThreatfoxCsv, "last_seen_utc" | "last_seen") => F::LastSeen,
        (K::ThreatfoxCsv, "confidence_level") => F::Confidence,
        (K::ThreatfoxCsv, "tags") => F::Tags,
        (K::ThreatfoxCsv, "reference") => F::Reference,
        _ => return None,
    })
}

/// Every header cell name of the supported feeds (mapped or not).
const HEADER_NAMES: &[&str] = &[
    "first_seen_utc",
    "firstseen",
    "first_seen",
    "dst_ip",
    "dstip",
    "ip_address",
    "dst_port",
    "dstport",
    "port",
    "c2_status",
    "status",
    "last_online",
    "lastonline",
    "malware",
    "id",
    "dateadded",
    "url",
    "url_status",
    "threat",
    "tags",
    "urlhaus_link",
    "reporter",
    "host",
    "ipaddress",
    "asnumber",
    "country",
    "ioc_id",
    "ioc_value",
    "ioc_type",
    "threat_type",
    "fk_malware",
    "malware_alias",
    "malware_printable",
    "last_seen_utc",
    "confidence_level",
    "is_compromised",
    "reference",
    "anonymous",
];

/// `"Dateadded (UTC)"` → `dateadded`.
fn header_name(cell: &str) -> String {
    let mut n = cell.trim().trim_matches('"').trim().to_ascii_lowercase();
    if let Some(s) = n.strip_suffix("(utc)") {
        n = s.trim_end().to_string();
    }
    n.replace(' ', "_")
}

fn header_names(cells: &[String]) -> Vec<String> {
    cells.iter().map(|c| header_name(c)).collect()
}

/// A row of names rather than data: two known names, or the single known name of a one-column
/// list.
fn is_header(names: &[String]) -> bool {
    let known = names
        .iter()
        .filter(|n| HEADER_NAMES.contains(&n.as_str()))
        .count();
    known >= 2 || (names.len() == 1 && known == 1)
}

/// Cheap pre-check before [`is_header`] (which lower-cases every cell): headers of the known
/// feeds have a known name among their first three cells.
fn may_be_header(cells: &[String]) -> bool {
    cells
        .iter()
        .take(3)
        .any(|c| c.len() <= 40 && HEADER_NAMES.contains(&header_name(c).as_str()))
}

/// The feed a header row belongs to.
fn kind_from_header(names: &[String]) -> Option<FeedKind> {
    if !is_header(names) {
        return None;
    }
    let has = |n: &str| names.iter().any(|x| x == n);
    if has("ioc_value") {
        Some(FeedKind::ThreatfoxCsv)
    } else if has("dst_ip") || has("dstip") {
        Some(if names.len() >= 2 {
            FeedKind::FeodoCsv
        } else {
            FeedKind::FeodoTxt
        })
    } else if has("urlhaus_link")
        || (has("url") && has("url_status") && (has("id") || has("last_online")))
    {
        Some(FeedKind::UrlhausCsv)
    } else if has("url") && (has("host") || has("ipaddress")) {
        Some(FeedKind::UrlhausTldCsv)
    } else {
        None
    }
}

fn header_kind_of_line(line: &str) -> Option<FeedKind> {
    let cells = split_csv(line, MAX_FIELDS).ok()?;
    kind_from_header(&header_names(&cells))
}

/// Columns from a header row, checking the indicator column is there.
fn columns_from_header(kind: FeedKind, names: &[String], line: u64) -> Result<Columns, IntelError> {
    let mut c = Columns::default();
    for (i, n) in names.iter().enumerate() {
        if let Some(f) = header_field(kind, n) {
            c.set(f, i);
        }
    }
    let (needed, column) = match kind {
        FeedKind::FeodoCsv => (Field::Ip, "dst_ip"),
        FeedKind::UrlhausCsv | FeedKind::UrlhausTldCsv => (Field::Url, "url"),
        _ => (Field::Value, "ioc_value"),
    };
    if c.get(needed).is_none() {
        return Err(IntelError::MissingColumn { kind, line, column });
    }
    Ok(c)
}

/// The documented column order when a feed comes without a header.
fn default_columns(kind: FeedKind, n: usize) -> Columns {
    use Field as F;
    match kind {
        FeedKind::FeodoCsv if n == 4 => {
            Columns::of(&[(F::FirstSeen, 0), (F::Ip, 1), (F::Port, 2), (F::Malware, 3)])
        }
        FeedKind::FeodoCsv => Columns::of(&[
            (F::FirstSeen, 0),
            (F::Ip, 1),
            (F::Port, 2),
            (F::Status, 3),
            (F::LastSeen, 4),
            (F::Malware, 5),
        ]),
        FeedKind::UrlhausCsv if n == 8 => Columns::of(&[
            (F::FirstSeen, 1),
            (F::Url, 2),
            (F::Status, 3),
            (F::ThreatType, 4),
            (F::Tags, 5),
            (F::Reference, 6),
        ]),
        FeedKind::UrlhausCsv => Columns::of(&[
            (F::FirstSeen, 1),
            (F::Url, 2),
            (F::Status, 3),
            (F::LastSeen, 4),
            (F::ThreatType, 5),
            (F::Tags, 6),
            (F::Reference, 7),
        ]),
        FeedKind::UrlhausTldCsv => Columns::of(&[
            (F::FirstSeen, 0),
            (F::Url, 1),
            (F::Status, 2),
            (F::ThreatType, 3),
            (F::Asn, 6),
            (F::Country, 7),
        ]),
        FeedKind::ThreatfoxCsv => {
            let (reference, tags) = if n >= 15 { (11, 12) } else { (10, 11) };
            Columns::of(&[
                (F::FirstSeen, 0),
                (F::Value, 2),
                (F::IocType, 3),
                (F::ThreatType, 4),
                (F::MalwareId, 5),
                (F::Malware, 7),
                (F::LastSeen, 8),
                (F::Confidence, 9),
                (F::Reference, reference),
                (F::Tags, tags),
            ])
        }
        _ => Columns::of(&[(F::Value, 0)]),
    }
}

/// What the banner says about the feed, for detection when no header or data decides.
#[derive(Default)]
struct Hints {
    feodo: bool,
    urlhaus: bool,
    threatfox: bool,
    csv: bool,
    hosts: bool,
    tld: bool,
}

impl Hints {
    fn read(&mut self, comment: &str) {
        let l = comment.to_ascii_lowercase();
        self.feodo |= l.contains("feodo");
        self.urlhaus |= l.contains("urlhaus");
        self.threatfox |= l.contains("threatfox");
        self.csv |= l.contains("csv");
        self.hosts |= l.contains("host file") || l.contains("hostfile");
        self.tld |= l.contains("tld");
    }

    fn fallback(&self) -> Option<FeedKind> {
        if self.feodo {
            Some(if self.csv {
                FeedKind::FeodoCsv
            } else {
                FeedKind::FeodoTxt
            })
        } else if self.urlhaus {
            Some(if self.hosts {
                FeedKind::UrlhausHosts
            } else if self.tld {
                FeedKind::UrlhausTldCsv
            } else {
                FeedKind::UrlhausCsv
            })
        } else if self.threatfox {
            Some(FeedKind::ThreatfoxCsv)
        } else {
            None
        }
    }
}

/// Guess the format from the banner, a header row, or the first data row.
pub(crate) fn detect(data: &[u8]) -> Option<FeedKind> {
    let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => return Some(FeedKind::FeodoJson),
        Some(b'{') => return None,
        _ => {}
    }
    let mut hints = Hints::default();
    for (_, raw) in text::lines(data).take(DETECT_LINES) {
        let Ok(s) = std::str::from_utf8(raw) else {
            continue;
        };
        let t = s.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(c) = t.strip_prefix('#') {
            hints.read(c);
            if let Some(k) = header_kind_of_line(c) {
                return Some(k);
            }
            continue;
        }
        if let Some(k) = header_kind_of_line(t) {
            return Some(k);
        }
        if let Some(k) = classify_data_line(t, &hints) {
            return Some(k);
        }
    }
    hints.fallback()
}

fn looks_like_url(s: &str) -> bool {
    s.contains("://") || s.get(..4).is_some_and(|h| h.eq_ignore_ascii_case("hxxp"))
}

fn classify_data_line(t: &str, hints: &Hints) -> Option<FeedKind> {
    let tokens: Vec<&str> = t.split_whitespace().take(3).collect();
    if tokens.len() >= 2 && is_sinkhole(tokens.first().copied().unwrap_or("")) {
        return Some(FeedKind::UrlhausHosts);
    }
    if t.starts_with('"') && t.contains("\", \"") {
        return Some(FeedKind::ThreatfoxCsv);
    }
    if t.contains(',') {
        let cells = split_csv(t, MAX_FIELDS).ok()?;
        let at = |i: usize| cells.get(i).map_or("", String::as_str);
        let n = cells.len();
        return if n >= 10 && ioc_type_known(&at(3).to_ascii_lowercase()) {
            Some(FeedKind::ThreatfoxCsv)
        } else if n >= 4 && parse_ip_port(at(1)).is_some() {
            Some(FeedKind::FeodoCsv)
        } else if n >= 8 && looks_like_url(at(2)) {
            Some(FeedKind::UrlhausCsv)
        } else if n >= 8 && looks_like_url(at(1)) {
            Some(FeedKind::UrlhausTldCsv)
        } else {
            None
        };
    }
    let token = list_token(t).ok()?;
    if parse_ip_port(token).is_some() && hints.feodo {
        return Some(FeedKind::FeodoTxt);
    }
    classify_token(token).map(|_| FeedKind::PlainList)
}

fn is_sinkhole(addr: &str) -> bool {
    matches!(addr, "0.0.0.0" | "127.0.0.1" | "::" | "::1")
}

fn ioc_type_known(t: &str) -> bool {
    matches!(
        t,
        "ip:port" | "ip" | "domain" | "hostname" | "url" | "md5_hash" | "sha1_hash" | "sha256_hash"
    )
}

/// One value of a hand-made list: IP, IP:port, URL, hash or domain.
pub(crate) fn classify_token(s: &str) -> Option<Ioc> {
    if let Some((ip, port)) = parse_ip_port(s) {
        return Some(match port {
            Some(port) => Ioc::IpPort { ip, port },
            None => Ioc::Ip { ip },
        });
    }
    if let Some((algo, hash)) = normalise_hash(s) {
        return Some(Ioc::Hash { algo, hash });
    }
    let undone = text::undo_defang(s);
    if looks_like_url(&undone) || undone.contains('/') {
        let (url, host) = normalise_url(&undone)?;
        return Some(Ioc::Url { url, host });
    }
    normalise_domain(s).map(|domain| Ioc::Domain { domain })
}

/// The value on a list line: the text before an inline ` #` comment, which must be one token.
fn list_token(t: &str) -> Result<&str, &'static str> {
    let t = t.split_once(" #").map_or(t, |(v, _)| v).trim();
    let t = t.split_once("\t#").map_or(t, |(v, _)| v).trim();
    let mut it = t.split_whitespace();
    let first = it.next().ok_or("empty")?;
    if it.next().is_some() {
        return Err("more than one value on the line");
    }
    Ok(first)
}

/// Parse every line of a text feed of `kind`; returns the banner time, if any.
pub(crate) fn parse_lines(
    data: &[u8],
    kind: FeedKind,
    b: &mut Builder,
) -> Result<Option<String>, IntelError> {
    let mut updated = None;
    let mut header: Option<Columns> = None;
    let max_line = b.limits.max_line_len;
    for (no, raw) in text::lines(data) {
        b.stats.lines = no;
        let place = Place::Line(no);
        if raw.len() > max_line {
            if raw.first() != Some(&b'#') {
                let head = String::from_utf8_lossy(raw.get(..80).unwrap_or(raw)).into_owned();
                b.bad(place, ProblemKind::LineTooLong { len: raw.len() }, &head);
            }
            continue;
        }
        let Ok(s) = std::str::from_utf8(raw) else {
            if raw.first() != Some(&b'#') {
                b.bad(place, ProblemKind::NotUtf8, &String::from_utf8_lossy(raw));
            }
            continue;
        };
        let t = s.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(c) = t.strip_prefix('#') {
            comment(b, c, &mut updated);
            if header.is_none()
                && is_csv_kind(kind)
                && let Ok(cells) = split_csv(c, MAX_FIELDS)
            {
                let names = header_names(&cells);
                if is_header(&names) {
                    header = Some(columns_from_header(kind, &names, no)?);
                }
            }
            continue;
        }
        match kind {
            FeedKind::FeodoTxt | FeedKind::PlainList => list_line(b, kind, place, t),
            FeedKind::UrlhausHosts => hosts_line(b, place, t),
            _ => {
                let cells = match split_csv(t, MAX_FIELDS) {
                    Ok(c) => c,
                    Err(reason) => {
                        let reason = reason.to_string();
                        b.bad(place, ProblemKind::BadCsv { reason }, t);
                        continue;
                    }
                };
                if !may_be_header(&cells) {
                    let cols = header.unwrap_or_else(|| default_columns(kind, cells.len()));
                    csv_row(b, kind, place, &cells, &cols, t);
                    continue;
                }
                let names = header_names(&cells);
                if is_header(&names) {
                    match header {
                        None => header = Some(columns_from_header(kind, &names, no)?),
                        Some(_) => b.stats.skipped_lines = b.stats.skipped_lines.saturating_add(1),
                    }
                    continue;
                }
                let cols = header.unwrap_or_else(|| default_columns(kind, cells.len()));
                csv_row(b, kind, place, &cells, &cols, t);
            }
        }
    }
    Ok(updated)
}

fn is_csv_kind(kind: FeedKind) -> bool {
    matches!(
        kind,
        FeedKind::FeodoCsv
            | FeedKind::UrlhausCsv
            | FeedKind::UrlhausTldCsv
            | FeedKind::ThreatfoxCsv
    )
}

/// Banner and footer comments: the feed time and the declared entry count.
fn comment(b: &mut Builder, c: &str, updated: &mut Option<String>) {
    let lower = c.trim().to_ascii_lowercase();
    if updated.is_none()
        && (lower.contains("last updated")
            || lower.contains("generated on")
            || lower.contains("generated:"))
    {
        *updated = find_timestamp(c);
    }
    if b.stats.declared_entries.is_none()
        && lower.contains("entries")
        && (lower.starts_with("end") || lower.contains("of entries") || lower.contains("entries:"))
    {
        b.stats.declared_entries = first_number(c);
    }
}

/// The first `YYYY-MM-DD HH:MM:SS` (or `YYYY-MM-DD`) in a banner line.
fn find_timestamp(s: &str) -> Option<String> {
    for (i, _) in s.char_indices() {
        let rest = s.get(i..).unwrap_or("");
        if let Some(full) = rest.get(..19).filter(|f| unix_from_utc(f).is_some()) {
            return Some(full.to_string());
        }
        if let Some(day) = rest.get(..10).filter(|f| unix_from_utc(f).is_some()) {
            return Some(day.to_string());
        }
    }
    None
}

fn first_number(s: &str) -> Option<u64> {
    let start = s.find(|c: char| c.is_ascii_digit())?;
    let rest = s.get(start..)?;
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest.get(..end)?.parse().ok()
}

/// Feodo `ipblocklist.txt` and hand-made lists.
fn list_line(b: &mut Builder, kind: FeedKind, place: Place, t: &str) {
    let token = match list_token(t) {
        Ok(tok) => tok,
        Err(reason) => {
            let field = "value".to_string();
            let reason = reason.to_string();
            b.bad(place, ProblemKind::BadValue { field, reason }, t);
            return;
        }
    };
    if is_header(&[header_name(token)]) || token.eq_ignore_ascii_case("ip") {
        b.stats.skipped_lines = b.stats.skipped_lines.saturating_add(1);
        return;
    }
    let line = line_of(place);
    let ioc = if kind == FeedKind::FeodoTxt {
        parse_ip_port(token).map(|(ip, port)| match port {
            Some(port) => Ioc::IpPort { ip, port },
            None => Ioc::Ip { ip },
        })
    } else {
        classify_token(token)
    };
    let Some(ioc) = ioc else {
        let (field, reason) = if kind == FeedKind::FeodoTxt {
            ("dst_ip", "not an IP address")
        } else {
            ("value", "not an IP, IP:port, domain, URL or hash")
        };
        let (field, reason) = (field.to_string(), reason.to_string());
        b.bad(place, ProblemKind::BadValue { field, reason }, t);
        return;
    };
    let mut ind = Indicator::new(ioc, b.feed(), line);
    if kind == FeedKind::FeodoTxt {
        ind.threat_type = Some("botnet_cc".to_string());
    }
    b.push(ind);
}

/// URLhaus hosts file: `0.0.0.0 host`.
fn hosts_line(b: &mut Builder, place: Place, t: &str) {
    let t = t.split_once('#').map_or(t, |(v, _)| v).trim();
    let mut it = t.split_whitespace();
    let (Some(addr), Some(host)) = (it.next(), it.next()) else {
        let (field, reason) = ("host".to_string(), "expected `0.0.0.0 host`".to_string());
        b.bad(place, ProblemKind::BadValue { field, reason }, t);
        return;
    };
    if !is_sinkhole(addr) {
        let (field, reason) = (
            "address".to_string(),
            "not 0.0.0.0 or 127.0.0.1".to_string(),
        );
        b.bad(place, ProblemKind::BadValue { field, reason }, t);
        return;
    }
    let lower = host.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "localhost" | "localhost.localdomain" | "local" | "broadcasthost" | "0.0.0.0"
    ) {
        b.stats.skipped_lines = b.stats.skipped_lines.saturating_add(1);
        return;
    }
    let ioc = match parse_ip_port(host) {
        Some((ip, None)) => Some(Ioc::Ip { ip }),
        Some((ip, Some(port))) => Some(Ioc::IpPort { ip, port }),
        None => normalise_domain(host).map(|domain| Ioc::Domain { domain }),
    };
    let Some(ioc) = ioc else {
        let (field, reason) = ("host".to_string(), "not a host name".to_string());
        b.bad(place, ProblemKind::BadValue { field, reason }, t);
        return;
    };
    let mut ind = Indicator::new(ioc, b.feed(), line_of(place));
    ind.threat_type = Some("malware_download".to_string());
    b.push(ind);
}

fn line_of(place: Place) -> u64 {
    match place {
        Place::Line(n) | Place::Entry(n) => n,
        Place::Feed => 0,
    }
}

fn cell<'a>(cells: &'a [String], cols: &Columns, f: Field) -> Option<&'a str> {
    cells
        .get(cols.get(f)?)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

/// One data row of the CSV feeds.
fn csv_row(
    b: &mut Builder,
    kind: FeedKind,
    place: Place,
    cells: &[String],
    cols: &Columns,
    t: &str,
) {
    let ioc = match kind {
        FeedKind::FeodoCsv => feodo_ioc(cells, cols),
        FeedKind::UrlhausCsv | FeedKind::UrlhausTldCsv => match cell(cells, cols, Field::Url) {
            None => Err(missing("url")),
            Some(u) => normalise_url(u)
                .map(|(url, host)| Ioc::Url { url, host })
                .ok_or_else(|| bad_value("url", "not a URL")),
        },
        _ => threatfox_ioc(cells, cols),
    };
    let ioc = match ioc {
        Ok(i) => i,
        Err(kind) => {
            b.bad(place, kind, t);
            return;
        }
    };
    let mut ind = Indicator::new(ioc, b.feed(), line_of(place));
    attributes(b, place, cells, cols, &mut ind, t);
    match kind {
        FeedKind::FeodoCsv => ind.threat_type = Some("botnet_cc".to_string()),
        FeedKind::UrlhausCsv | FeedKind::UrlhausTldCsv if ind.malware.is_none() => {
            ind.malware = family_from_tags(&ind.tags).map(str::to_string);
        }
        _ => {}
    }
    b.push(ind);
}

fn missing(field: &str) -> ProblemKind {
    ProblemKind::MissingField {
        field: field.to_string(),
    }
}

fn bad_value(field: &str, reason: &str) -> ProblemKind {
    ProblemKind::BadValue {
        field: field.to_string(),
        reason: reason.to_string(),
    }
}

fn feodo_ioc(cells: &[String], cols: &Columns) -> Result<Ioc, ProblemKind> {
    let ip_text = cell(cells, cols, Field::Ip).ok_or_else(|| missing("dst_ip"))?;
    let (ip, inline_port) =
        parse_ip_port(ip_text).ok_or_else(|| bad_value("dst_ip", "not an IP address"))?;
    let port = match cell(cells, cols, Field::Port) {
        Some(p) => Some(text::parse_port(p).ok_or_else(|| bad_value("dst_port", "not a port"))?),
        None => inline_port,
    };
    Ok(match port {
        Some(port) => Ioc::IpPort { ip, port },
        None => Ioc::Ip { ip },
    })
}

fn threatfox_ioc(cells: &[String], cols: &Columns) -> Result<Ioc, ProblemKind> {
    let value = cell(cells, cols, Field::Value).ok_or_else(|| missing("ioc_value"))?;
    let ioc_type = cell(cells, cols, Field::IocType)
        .unwrap_or("")
        .to_ascii_lowercase();
    let ip = |v: &str| {
        parse_ip_port(v).map(|(ip, port)| match port {
            Some(port) => Ioc::IpPort { ip, port },
            None => Ioc::Ip { ip },
        })
    };
    let hash = |v: &str, want| match normalise_hash(v) {
        Some((algo, hash)) if algo == want => Ok(Ioc::Hash { algo, hash }),
        _ => Err(bad_value("ioc_value", "not a hash of the stated type")),
    };
    match ioc_type.as_str() {
        "ip:port" | "ip" => ip(value).ok_or_else(|| bad_value("ioc_value", "not an IP[:port]")),
        "domain" | "hostname" => {
            let host = match value.rsplit_once(':') {
                Some((h, p)) if text::parse_port(p).is_some() => h,
                _ => value,
            };
            if let Some(i) = ip(host) {
                return Ok(i);
            }
            normalise_domain(host)
                .map(|domain| Ioc::Domain { domain })
                .ok_or_else(|| bad_value("ioc_value", "not a domain"))
        }
        "url" => normalise_url(value)
            .map(|(url, host)| Ioc::Url { url, host })
            .ok_or_else(|| bad_value("ioc_value", "not a URL")),
        "md5_hash" => hash(value, super::HashAlgo::Md5),
        "sha1_hash" => hash(value, super::HashAlgo::Sha1),
        "sha256_hash" => hash(value, super::HashAlgo::Sha256),
        "" => classify_token(value)
            .ok_or_else(|| bad_value("ioc_value", "not an IP, domain, URL or hash")),
        other => Err(ProblemKind::UnsupportedType {
            ioc_type: text::cut(other, 40).to_string(),
        }),
    }
}

/// The optional columns of a row; a bad value is ignored and reported, the row kept.
fn attributes(
    b: &mut Builder,
    place: Place,
    cells: &[String],
    cols: &Columns,
    ind: &mut Indicator,
    t: &str,
) {
    let get = |f| cell(cells, cols, f).and_then(opt_text);
    ind.first_seen = date(b, place, get(Field::FirstSeen), "first_seen", t);
    ind.last_seen = date(b, place, get(Field::LastSeen), "last_seen", t);
    if let Some(s) = get(Field::Status) {
        ind.status = status(&s);
        if ind.status.is_none() && !s.eq_ignore_ascii_case("unknown") {
            b.ignored(place, "status", t);
        }
    }
    ind.malware = get(Field::Malware).filter(|m| !m.eq_ignore_ascii_case("unknown malware"));
    ind.malware_id = get(Field::MalwareId);
    ind.threat_type = get(Field::ThreatType);
    if let Some(c) = get(Field::Confidence) {
        ind.confidence = c.parse::<u8>().ok().filter(|v| *v <= 100);
        if ind.confidence.is_none() {
            b.ignored(place, "confidence_level", t);
        }
    }
    if let Some(tags) = get(Field::Tags) {
        ind.tags = split_tags(&tags);
    }
    ind.reference = get(Field::Reference);
    ind.country = get(Field::Country).map(|c| text::cut(&c, 8).to_ascii_uppercase());
    if let Some(a) = get(Field::Asn) {
        ind.asn = parse_asn(&a);
        if ind.asn.is_none() {
            b.ignored(place, "asn", t);
        }
    }
}

/// A date column: kept when it is a date, else ignored and reported.
pub(crate) fn date(
    b: &mut Builder,
    place: Place,
    value: Option<String>,
    field: &str,
    t: &str,
) -> Option<String> {
    let v = value?;
    if unix_from_utc(&v).is_some() {
        Some(v)
    } else {
        b.ignored(place, field, t);
        None
    }
}

pub(crate) fn status(s: &str) -> Option<Status> {
    match s.trim().to_ascii_lowercase().as_str() {
        "online" => Some(Status::Online),
        "offline" => Some(Status::Offline),
        _ => None,
    }
}

pub(crate) fn parse_asn(s: &str) -> Option<u32> {
    let s = s.trim();
    let s = s
        .strip_prefix("AS")
        .or_else(|| s.strip_prefix("as"))
        .unwrap_or(s);
    s.parse().ok()
}

fn split_tags(s: &str) -> Vec<String> {
    s.split(',').filter_map(opt_text).take(MAX_TAGS).collect()
}

/// The family behind common URLhaus tags, so a URL match can name it.
fn family_from_tags(tags: &[String]) -> Option<&'static str> {
    const FAMILIES: &[(&str, &str)] = &[
        ("emotet", "Emotet"),
        ("heodo", "Emotet"),
        ("trickbot", "TrickBot"),
        ("qakbot", "QakBot"),
        ("qbot", "QakBot"),
        ("dridex", "Dridex"),
        ("icedid", "IcedID"),
        ("bazarloader", "BazarLoader"),
        ("cobaltstrike", "Cobalt Strike"),
    ];
    tags.iter().find_map(|t| {
        let t = t.to_ascii_lowercase();
        FAMILIES.iter().find(|(tag, _)| *tag == t).map(|(_, f)| *f)
    })
}
