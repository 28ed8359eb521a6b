//! In-memory matching over imported snapshots.
//!
//! Lookups are hash-map hits: by IP (IP and IP:port indicators, and URL indicators whose host
//! is an IP literal), by host name (domain indicators and URL hosts), by normalised URL, and by
//! hash. A host also matches domain indicators for each parent domain (`a.evil.com` →
//! `evil.com`). Each [`Match`] names its [`MatchBasis`], so a report can weigh an exact IP:port
//! listing above a listing of the same IP on another port or of a URL hosted there.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::text::{self, day_number, normalise_url, parse_ip_port, unix_from_utc};
use super::{FeedKind, Indicator, Ioc, Snapshot};

/// Why an indicator matched, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchBasis {
    /// An IP:port indicator with the observed IP and port.
    IpPort,
    /// An URL indicator equal to the observed URL.
    Url,
    /// A hash indicator equal to the observed hash.
    Hash,
    /// An IP indicator (no port listed).
    Ip,
    /// A domain indicator equal to the observed host.
    Domain,
    /// An IP:port indicator for the observed IP, no port given with the query.
    IpAnyPort,
    /// A domain indicator for a parent of the observed host.
    ParentDomain,
    /// An IP:port indicator for the observed IP on another port.
    IpOtherPort,
    /// A URL indicator hosted on the observed IP or host (the host served something listed).
    UrlHost,
}

/// One listing that matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    pub basis: MatchBasis,
    pub indicator: Indicator,
}

/// How old a listing was at an observation time. Positive values: the feed saw the indicator
/// before the observation; negative: only after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Age {
    /// Calendar days (UTC) from `first_seen` to the observation: "listed 2021-01-21, 3 days
    /// before this capture".
    pub first_seen_days_before: Option<i64>,
    pub last_seen_days_before: Option<i64>,
    pub first_seen_secs_before: Option<i64>,
    pub last_seen_secs_before: Option<i64>,
}

impl Match {
    /// The feed the listing comes from.
    pub fn feed(&self) -> &str {
        &self.indicator.feed
    }

    /// The listing's age at `observed` (Unix seconds, UTC), e.g. a capture's first packet.
    pub fn age_at(&self, observed: i64) -> Age {
        let first = self.indicator.first_seen.as_deref().and_then(unix_from_utc);
        let last = self.indicator.last_seen.as_deref().and_then(unix_from_utc);
        let days = |t: i64| day_number(observed).saturating_sub(day_number(t));
        Age {
            first_seen_days_before: first.map(days),
            last_seen_days_before: last.map(days),
            first_seen_secs_before: first.map(|t| observed.saturating_sub(t)),
            last_seen_secs_before: last.map(|t| observed.saturating_sub(t)),
        }
    }
}

/// A feed loaded into an index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedInfo {
    pub feed: String,
    pub kind: FeedKind,
    pub fetched_or_updated: Option<String>,
    pub indicators: usize,
}

/// Indicators of any number of snapshots, ready for lookups. Memory is the snapshots' own
/// indicators plus one map entry per indicator (each snapshot is capped at parse time).
#[derive(Clone, Debug, Default)]
pub struct IntelIndex {
    items: Vec<Indicator>,
    by_ip: HashMap<IpAddr, Vec<usize>>,
    by_host: HashMap<String, Vec<usize>>,
    by_url: HashMap<String, Vec<usize>>,
    by_hash: HashMap<String, Vec<usize>>,
    feeds: Vec<FeedInfo>,
}

impl IntelIndex {
    pub fn new() -> IntelIndex {
        IntelIndex::default()
    }

    /// An index over `snapshots` (taken by value: indicators move in without copies).
    pub fn from_snapshots(snapshots: impl IntoIterator<Item = Snapshot>) -> IntelIndex {
        let mut index = IntelIndex::new();
        for s in snapshots {
            index.add(s);
        }
        index
    }

    /// Add one snapshot. Importing the same feed twice lists its indicators twice.
    pub fn add(&mut self, snapshot: Snapshot) {
        self.feeds.push(FeedInfo {
            feed: snapshot.feed,
            kind: snapshot.kind,
            fetched_or_updated: snapshot.fetched_or_updated,
            indicators: snapshot.indicators.len(),
        });
        for ind in snapshot.indicators {
            let i = self.items.len();
            match &ind.ioc {
                Ioc::Ip { ip } | Ioc::IpPort { ip, .. } => {
                    self.by_ip.entry(ip.to_canonical()).or_default().push(i);
                }
                Ioc::Domain { domain } => self.by_host.entry(domain.clone()).or_default().push(i),
                Ioc::Url { url, host } => {
                    self.by_url.entry(url.clone()).or_default().push(i);
                    match host.parse::<IpAddr>() {
                        Ok(ip) => self.by_ip.entry(ip.to_canonical()).or_default().push(i),
                        Err(_) => self.by_host.entry(host.clone()).or_default().push(i),
                    }
                }
                Ioc::Hash { hash, .. } => self.by_hash.entry(hash.clone()).or_default().push(i),
            }
            self.items.push(ind);
        }
    }

    /// Indicators held.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The snapshots added, in order.
    pub fn feeds(&self) -> &[FeedInfo] {
        &self.feeds
    }

    /// Listings for an IP, with the port when the flow has one. Sorted strongest first.
    pub fn match_ip(&self, ip: IpAddr, port: Option<u16>) -> Vec<Match> {
        let ip = ip.to_canonical();
        let mut out = Vec::new();
        for &i in self.by_ip.get(&ip).map_or(&[][..], Vec::as_slice) {
            let Some(ind) = self.items.get(i) else {
                continue;
            };
            let basis = match (&ind.ioc, port) {
                (Ioc::Ip { .. }, _) => MatchBasis::Ip,
                (Ioc::IpPort { port: p, .. }, Some(q)) if *p == q => MatchBasis::IpPort,
                (Ioc::IpPort { .. }, Some(_)) => MatchBasis::IpOtherPort,
                (Ioc::IpPort { .. }, None) => MatchBasis::IpAnyPort,
                (Ioc::Url { .. }, _) => MatchBasis::UrlHost,
                _ => continue,
            };
            out.push(Match {
                basis,
                indicator: ind.clone(),
            });
        }
        sort(&mut out);
        out
    }

    /// Listings for a host name (SNI, HTTP Host, DNS query): domain indicators for the host and
    /// each parent domain, and URLs hosted on it. An IP literal (also `[v6]` or with `:port`)
    /// is looked up as an IP.
    pub fn match_domain(&self, host: &str) -> Vec<Match> {
        if let Some((ip, port)) = parse_ip_port(host) {
            return self.match_ip(ip, port);
        }
        let h = host.trim();
        let h = h.strip_suffix('.').unwrap_or(h).to_lowercase();
        if h.is_empty() || h.len() > 253 {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut suffix = h.as_str();
        let mut exact = true;
        loop {
            for &i in self.by_host.get(suffix).map_or(&[][..], Vec::as_slice) {
                let Some(ind) = self.items.get(i) else {
                    continue;
                };
                let basis = match (&ind.ioc, exact) {
                    (Ioc::Domain { .. }, true) => MatchBasis::Domain,
                    (Ioc::Domain { .. }, false) => MatchBasis::ParentDomain,
                    (Ioc::Url { .. }, true) => MatchBasis::UrlHost,
                    _ => continue,
                };
                out.push(Match {
                    basis,
                    indicator: ind.clone(),
                });
            }
            match suffix.split_once('.') {
                Some((_, rest)) if !rest.is_empty() => {
                    suffix = rest;
                    exact = false;
                }
                _ => break,
            }
        }
        sort(&mut out);
        out
    }

    /// Listings for a URL (normalised like the indicators: see [`super::normalise_url`]).
    /// Only whole-URL listings; ask [`IntelIndex::match_domain`] for its host.
    pub fn match_url(&self, url: &str) -> Vec<Match> {
        let Some((url, _)) = normalise_url(url) else {
            return Vec::new();
        };
        self.simple(self.by_url.get(&url), MatchBasis::Url)
    }

    /// Listings for a file hash (MD5, SHA-1 or SHA-256, any case).
    pub fn match_hash(&self, hash: &str) -> Vec<Match> {
        let key = text::cut(hash.trim(), 64).to_ascii_lowercase();
        self.simple(self.by_hash.get(&key), MatchBasis::Hash)
    }

    fn simple(&self, hits: Option<&Vec<usize>>, basis: MatchBasis) -> Vec<Match> {
        let mut out: Vec<Match> = hits
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(|&i| self.items.get(i))
            .map(|ind| Match {
                basis,
                indicator: ind.clone(),
            })
            .collect();
        sort(&mut out);
        out
    }
}

/// Strongest basis first, then by feed, family and value for a stable report.
fn sort(m: &mut [Match]) {
    m.sort_by(|a, b| {
        (
            a.basis,
            &a.indicator.feed,
            &a.indicator.malware,
            a.indicator.line,
        )
            .cmp(&(
                b.basis,
                &b.indicator.feed,
                &b.indicator.malware,
                b.indicator.line,
            ))
    });
}
