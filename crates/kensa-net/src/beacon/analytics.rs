//! RITA v5's other analytics and its severity bands (spec `network.md` §2, from activecm/rita
//! `analysis/analysis.go`, `default_config.hjson`, `config/config.go`, `viewer/results.sql`):
//! bucketed scores for beacons, long connections and C2 over DNS, the fixed impacts of strobes and
//! threat-intel hits, the additive modifiers, the final score and its severity.
//!
//! RITA stores these scores as `float32`; kensa computes in `f64`, so values agree to single
//! precision. Severity bands are compared after rounding to `f32`, as RITA's viewer does, so that
//! `0.65 + 0.15` lands on 0.8 (high) and not on 0.8000000000000002 (critical).

use std::collections::{HashMap, HashSet};

/// Score at the `base` threshold of a bucketed analytic (RITA "none" category).
pub const NONE_CATEGORY_SCORE: f64 = 0.2;
/// Score at the `low` threshold.
pub const LOW_CATEGORY_SCORE: f64 = 0.4;
/// Score at the `medium` threshold.
pub const MEDIUM_CATEGORY_SCORE: f64 = 0.6;
/// Score at (and above) the `high` threshold; bucketed scores never exceed it.
pub const HIGH_CATEGORY_SCORE: f64 = 0.8;

/// Fixed impact of a strobe (`strobe_impact.category: "high"`).
pub const STROBE_IMPACT: f64 = HIGH_CATEGORY_SCORE;
/// Fixed impact of a threat-intel hit on the destination IP or domain
/// (`threat_intel_impact.category: "high"`).
pub const THREAT_INTEL_IMPACT: f64 = HIGH_CATEGORY_SCORE;

/// A long-connection score is only computed from this summed duration on (seconds,
/// `long_connection_minimum_duration`).
pub const LONG_CONNECTION_MINIMUM_DURATION: f64 = 3600.0;
/// C2 over DNS is only scored from this many unique FQDNs on (`c2_subdomain_threshold`).
pub const C2_SUBDOMAIN_THRESHOLD: u64 = 100;
/// Bytes transferred with a threat-intel peer from which the data-size modifier applies
/// (`threat_intel_datasize_threshold`, 25 MB).
pub const THREAT_INTEL_DATASIZE_THRESHOLD: u64 = 25_000_000;
/// Prevalence (share of internal hosts talking to the peer) at or below which the score rises.
pub const PREVALENCE_INCREASE_THRESHOLD: f64 = 0.02;
/// Prevalence at or above which the score falls.
pub const PREVALENCE_DECREASE_THRESHOLD: f64 = 0.5;
/// First seen at most this many days ago: the score rises.
pub const FIRST_SEEN_INCREASE_DAYS: f64 = 7.0;
/// First seen at least this many days ago: the score falls.
pub const FIRST_SEEN_DECREASE_DAYS: f64 = 30.0;

/// The four thresholds of a bucketed analytic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub base: f64,
    pub low: f64,
    pub medium: f64,
    pub high: f64,
}

/// Beacon: `score × 100` (`scoring.beacon.score_thresholds`).
pub const BEACON_THRESHOLDS: Thresholds = Thresholds {
    base: 50.0,
    low: 70.0,
    medium: 90.0,
    high: 100.0,
};
/// Long connection: summed duration of the pair in seconds, open connections included
/// (`long_connection_score_thresholds`: 1 h, 4 h, 8 h, 12 h).
pub const LONG_CONNECTION_THRESHOLDS: Thresholds = Thresholds {
    base: 3600.0,
    low: 14_400.0,
    medium: 28_800.0,
    high: 43_200.0,
};
/// C2 over DNS: unique FQDNs under one registrable domain (`c2_score_thresholds`).
pub const C2_OVER_DNS_THRESHOLDS: Thresholds = Thresholds {
    base: 100.0,
    low: 500.0,
    medium: 800.0,
    high: 1000.0,
};

impl Thresholds {
    /// [`bucket`] with these thresholds.
    pub fn score(&self, value: f64) -> f64 {
        bucket(value, self.base, self.low, self.medium, self.high)
    }
}

/// RITA's bucketed scoring: 0 below `base`; linear from 0.2 at `base` to 0.4 at `low`, 0.6 at
/// `medium` and 0.8 at `high`; capped at 0.8 above `high`.
///
/// Hostile or degenerate input never panics and stays in [0, 0.8]: NaN gives 0 (as in RITA, where
/// every comparison with NaN is false), +inf gives 0.8, and a zero-width segment (e.g.
/// `medium == high`) yields the segment's upper score instead of a division by zero.
pub fn bucket(value: f64, base: f64, low: f64, medium: f64, high: f64) -> f64 {
    fn lerp(value: f64, from: f64, to: f64, s_from: f64, s_to: f64) -> f64 {
        let width = to - from;
        if width.is_nan() || width <= 0.0 || !width.is_finite() {
            return s_to;
        }
        let t = ((value - from) / width).clamp(0.0, 1.0);
        s_from + t * (s_to - s_from)
    }
    let score = if value.is_nan() || value < base {
        0.0
    } else if value < low {
        lerp(value, base, low, NONE_CATEGORY_SCORE, LOW_CATEGORY_SCORE)
    } else if value < medium {
        lerp(
            value,
            low,
            medium,
            LOW_CATEGORY_SCORE,
            MEDIUM_CATEGORY_SCORE,
        )
    } else {
        lerp(
            value.min(high),
            medium,
            high,
            MEDIUM_CATEGORY_SCORE,
            HIGH_CATEGORY_SCORE,
        )
    };
    if score.is_nan() {
        0.0
    } else {
        score.clamp(0.0, HIGH_CATEGORY_SCORE)
    }
}

/// Bucketed beacon threat score from a beacon score in [0, 1].
pub fn beacon_threat_score(beacon_score: f64) -> f64 {
    BEACON_THRESHOLDS.score(beacon_score * 100.0)
}

/// Long-connection score from the pair's summed duration (seconds); 0 below
/// [`LONG_CONNECTION_MINIMUM_DURATION`].
pub fn long_connection_score(total_duration: f64) -> f64 {
    if total_duration >= LONG_CONNECTION_MINIMUM_DURATION {
        LONG_CONNECTION_THRESHOLDS.score(total_duration)
    } else {
        0.0
    }
}

/// C2-over-DNS score from the number of unique FQDNs under one registrable domain; 0 below
/// [`C2_SUBDOMAIN_THRESHOLD`].
pub fn c2_over_dns_score(unique_fqdns: u64) -> f64 {
    if unique_fqdns >= C2_SUBDOMAIN_THRESHOLD {
        C2_OVER_DNS_THRESHOLDS.score(unique_fqdns as f64)
    } else {
        0.0
    }
}

/// RITA's additive score modifiers (`modifiers` in `default_config.hjson`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Modifier {
    /// Peer reached by ≤ 2 % of internal hosts: +0.15.
    PrevalenceLow,
    /// Peer reached by ≥ 50 % of internal hosts: −0.15.
    PrevalenceHigh,
    /// Peer first seen ≤ 7 days ago: +0.15 (meaningful on rolling datasets).
    FirstSeenRecent,
    /// Peer first seen ≥ 30 days ago: −0.15 (meaningful on rolling datasets).
    FirstSeenOld,
    /// HTTP without a Host header: +0.10.
    MissingHostHeader,
    /// Threat-intel peer with ≥ 25 MB transferred: +0.15.
    ThreatIntelDataSize,
    /// Rare signature (user agent or JA3): +0.15.
    RareSignature,
    /// MIME type not matching the URI: +0.15.
    MimeTypeMismatch,
    /// C2-over-DNS domain queried but never connected to directly: +0.15.
    C2OverDnsDirectConn,
}

impl Modifier {
    pub const ALL: [Modifier; 9] = [
        Modifier::PrevalenceLow,
        Modifier::PrevalenceHigh,
        Modifier::FirstSeenRecent,
        Modifier::FirstSeenOld,
        Modifier::MissingHostHeader,
        Modifier::ThreatIntelDataSize,
        Modifier::RareSignature,
        Modifier::MimeTypeMismatch,
        Modifier::C2OverDnsDirectConn,
    ];

    /// The signed amount added to the final score.
    pub fn value(self) -> f64 {
        match self {
            Modifier::PrevalenceLow => 0.15,
            Modifier::PrevalenceHigh => -0.15,
            Modifier::FirstSeenRecent => 0.15,
            Modifier::FirstSeenOld => -0.15,
            Modifier::MissingHostHeader => 0.10,
            Modifier::ThreatIntelDataSize => 0.15,
            Modifier::RareSignature => 0.15,
            Modifier::MimeTypeMismatch => 0.15,
            Modifier::C2OverDnsDirectConn => 0.15,
        }
    }

    /// Stable snake_case name (JSON key / CSV "Modifiers" column).
    pub fn as_str(self) -> &'static str {
        match self {
            Modifier::PrevalenceLow => "prevalence_low",
            Modifier::PrevalenceHigh => "prevalence_high",
            Modifier::FirstSeenRecent => "first_seen_recent",
            Modifier::FirstSeenOld => "first_seen_old",
            Modifier::MissingHostHeader => "missing_host_header",
            Modifier::ThreatIntelDataSize => "threat_intel_data_size",
            Modifier::RareSignature => "rare_signature",
            Modifier::MimeTypeMismatch => "mime_type_mismatch",
            Modifier::C2OverDnsDirectConn => "c2_over_dns_direct_conn",
        }
    }
}

/// Prevalence modifier from the share (0–1) of internal hosts that reached the peer.
pub fn prevalence_modifier(prevalence: f64) -> Option<Modifier> {
    if prevalence <= PREVALENCE_INCREASE_THRESHOLD {
        Some(Modifier::PrevalenceLow)
    } else if prevalence >= PREVALENCE_DECREASE_THRESHOLD {
        Some(Modifier::PrevalenceHigh)
    } else {
        None
    }
}

/// First-seen modifier from the days since the peer was first seen (NaN: none).
pub fn first_seen_modifier(days_since_first_seen: f64) -> Option<Modifier> {
    if days_since_first_seen <= FIRST_SEEN_INCREASE_DAYS {
        Some(Modifier::FirstSeenRecent)
    } else if days_since_first_seen >= FIRST_SEEN_DECREASE_DAYS {
        Some(Modifier::FirstSeenOld)
    } else {
        None
    }
}

/// Threat-intel data-size modifier: only for threat-intel peers with ≥ 25 MB transferred.
pub fn threat_intel_data_size_modifier(
    on_threat_intel: bool,
    total_bytes: u64,
) -> Option<Modifier> {
    (on_threat_intel && total_bytes >= THREAT_INTEL_DATASIZE_THRESHOLD)
        .then_some(Modifier::ThreatIntelDataSize)
}

/// The threat indicators of one pair, each already scored (0 when absent).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Indicators {
    /// Bucketed beacon score ([`beacon_threat_score`]), not the raw beacon score.
    pub beacon: f64,
    /// [`long_connection_score`].
    pub long_connection: f64,
    /// [`STROBE_IMPACT`] for strobes, else 0.
    pub strobe: f64,
    /// [`c2_over_dns_score`].
    pub c2_over_dns: f64,
    /// [`THREAT_INTEL_IMPACT`] on a hit, else 0.
    pub threat_intel: f64,
}

impl Indicators {
    /// The base score: the largest indicator (NaN counts as 0).
    pub fn base_score(&self) -> f64 {
        [
            self.beacon,
            self.long_connection,
            self.strobe,
            self.c2_over_dns,
            self.threat_intel,
        ]
        .into_iter()
        .filter(|v| !v.is_nan())
        .fold(0.0, f64::max)
    }

    /// Whether any indicator fired; RITA only records (and applies modifiers to) such pairs.
    pub fn any(&self) -> bool {
        self.base_score() > 0.0
    }
}

/// Final score = max(indicators) + Σ modifiers (`viewer/results.sql`). Not clamped: modifiers can
/// push it above 1 or below 0, as in RITA.
pub fn final_score(indicators: &Indicators, modifiers: &[Modifier]) -> f64 {
    indicators.base_score() + modifiers.iter().map(|m| m.value()).sum::<f64>()
}

/// RITA's severity bands. `None` maps to kensa's `info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RitaSeverity {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl RitaSeverity {
    /// critical > 0.8; high ≥ 0.6; medium ≥ 0.4; low ≥ 0.2; else none (spec §2 and kensa's
    /// conventions; RITA's search filters use these bounds). Compared in single precision, like
    /// RITA's float32 columns. Note: RITA's on-screen label (`GetImpactCategoryFromScore`) puts a
    /// value exactly on a bound (0.6, 0.4, 0.2) one band lower.
    pub fn from_score(score: f64) -> RitaSeverity {
        let s = score as f32;
        if s > HIGH_CATEGORY_SCORE as f32 {
            RitaSeverity::Critical
        } else if s >= MEDIUM_CATEGORY_SCORE as f32 {
            RitaSeverity::High
        } else if s >= LOW_CATEGORY_SCORE as f32 {
            RitaSeverity::Medium
        } else if s >= NONE_CATEGORY_SCORE as f32 {
            RitaSeverity::Low
        } else {
            RitaSeverity::None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RitaSeverity::None => "none",
            RitaSeverity::Low => "low",
            RitaSeverity::Medium => "medium",
            RitaSeverity::High => "high",
            RitaSeverity::Critical => "critical",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// C2 over DNS: unique FQDNs per registrable domain.

/// Longest FQDN accepted (RFC 1035 presentation length without the root dot).
pub const MAX_FQDN_LEN: usize = 253;
/// Default cap on FQDNs [`DnsC2Counter`] stores (≈ 64 MB worst case at 253 bytes each).
pub const DEFAULT_MAX_TRACKED_FQDNS: usize = 250_000;

/// Second-level labels that, under a two-letter country-code TLD, belong to the public suffix
/// (`example.co.jp`, `example.com.au`, `city.lg.jp`).
const CCTLD_SECOND_LEVELS: &[&str] = &[
    "co", "com", "net", "org", "ac", "ne", "or", "go", "ed", "gr", "lg", "gov", "edu",
];

/// Why a name has no registrable domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainSkip {
    /// Under `.arpa` (reverse lookups) or `.local` (mDNS): excluded from C2-over-DNS, as RITA does.
    Excluded,
    /// Empty, a single label, an empty or over-long label, too long overall, a control or space
    /// character, or an all-digit last label (an IP literal).
    Invalid,
}

/// Normalised registrable domain of `fqdn`, or why there is none.
///
/// **Approximation** of ClickHouse `cutToFirstSignificantSubdomain` (which RITA uses): the last two
/// labels, or the last three when the TLD is two ASCII letters (a ccTLD) and the second-level
/// label is one of `co com net org ac ne or go ed gr lg gov edu` (so `x.example.co.jp` →
/// `example.co.jp`). ClickHouse instead goes one level deeper when the second-level label is
/// `com`, `net`, `org` or `co` under any TLD; neither is the Public Suffix List. Names are
/// lower-cased (DNS is case-insensitive) and one trailing dot is removed.
pub fn classify_domain(fqdn: &str) -> Result<String, DomainSkip> {
    let name = fqdn.trim();
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > MAX_FQDN_LEN {
        return Err(DomainSkip::Invalid);
    }
    if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(DomainSkip::Invalid);
    }
    let lower = name.to_ascii_lowercase();
    let labels: Vec<&str> = lower.split('.').collect();
    if labels.iter().any(|l| l.is_empty() || l.len() > 63) {
        return Err(DomainSkip::Invalid);
    }
    let n = labels.len();
    let tld = labels.last().copied().unwrap_or("");
    if tld == "arpa" || tld == "local" {
        return Err(DomainSkip::Excluded);
    }
    if n < 2 || tld.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainSkip::Invalid);
    }
    let sld = labels.get(n - 2).copied().unwrap_or("");
    let cc_tld = tld.len() == 2 && tld.bytes().all(|b| b.is_ascii_alphabetic());
    let keep = if n >= 3 && cc_tld && CCTLD_SECOND_LEVELS.contains(&sld) {
        3
    } else {
        2
    };
    Ok(labels.get(n - keep..).unwrap_or_default().join("."))
}

/// [`classify_domain`] without the reason.
pub fn registrable_domain(fqdn: &str) -> Option<String> {
    classify_domain(fqdn).ok()
}

/// One registrable domain and its number of unique queried FQDNs (the apex itself included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainFqdnCount {
    pub domain: String,
    pub unique_fqdns: u64,
}

impl DomainFqdnCount {
    /// [`c2_over_dns_score`] of this domain.
    pub fn score(&self) -> f64 {
        c2_over_dns_score(self.unique_fqdns)
    }
}

/// Counts unique queried FQDNs per registrable domain with bounded memory: at most `max_fqdns`
/// names are stored; further new names are counted in `dropped` (so counts are then lower
/// bounds and the caller must report the overflow).
#[derive(Debug, Clone)]
pub struct DnsC2Counter {
    per_domain: HashMap<String, HashSet<String>>,
    stored: usize,
    max_fqdns: usize,
    /// Names under `.arpa` / `.local`.
    pub excluded: u64,
    /// Names without a registrable domain (see [`DomainSkip::Invalid`]).
    pub invalid: u64,
    /// Occurrences of names not stored because the cap was reached (a name that was never stored
    /// counts each time it is seen).
    pub dropped: u64,
}

impl Default for DnsC2Counter {
    fn default() -> Self {
        DnsC2Counter::new(DEFAULT_MAX_TRACKED_FQDNS)
    }
}

impl DnsC2Counter {
    /// Add the names another counter stored (within this counter's cap).
    pub fn merge(&mut self, other: &DnsC2Counter) {
        for names in other.per_domain.values() {
            for n in names {
                self.add(n);
            }
        }
        self.excluded += other.excluded;
        self.invalid += other.invalid;
        self.dropped += other.dropped;
    }

    pub fn new(max_fqdns: usize) -> Self {
        DnsC2Counter {
            per_domain: HashMap::new(),
            stored: 0,
            max_fqdns,
            excluded: 0,
            invalid: 0,
            dropped: 0,
        }
    }

    /// Record one queried name.
    pub fn add(&mut self, fqdn: &str) {
        let domain = match classify_domain(fqdn) {
            Ok(d) => d,
            Err(DomainSkip::Excluded) => {
                self.excluded = self.excluded.saturating_add(1);
                return;
            }
            Err(DomainSkip::Invalid) => {
                self.invalid = self.invalid.saturating_add(1);
                return;
            }
        };
        let trimmed = fqdn.trim();
        let full = trimmed
            .strip_suffix('.')
            .unwrap_or(trimmed)
            .to_ascii_lowercase();
        if let Some(set) = self.per_domain.get(&domain)
            && set.contains(&full)
        {
            return;
        }
        if self.stored >= self.max_fqdns {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        self.per_domain.entry(domain).or_default().insert(full);
        self.stored += 1;
    }

    /// Whether some names were not stored (counts are lower bounds).
    pub fn overflowed(&self) -> bool {
        self.dropped > 0
    }

    /// Unique FQDNs of one registrable domain (0 when never seen).
    pub fn unique_fqdns(&self, domain: &str) -> u64 {
        self.per_domain.get(domain).map_or(0, |s| s.len() as u64)
    }

    /// All domains, most unique FQDNs first, then by name.
    pub fn counts(&self) -> Vec<DomainFqdnCount> {
        let mut out: Vec<DomainFqdnCount> = self
            .per_domain
            .iter()
            .map(|(d, s)| DomainFqdnCount {
                domain: d.clone(),
                unique_fqdns: s.len() as u64,
            })
            .collect();
        out.sort_by(|a, b| {
            b.unique_fqdns
                .cmp(&a.unique_fqdns)
                .then_with(|| a.domain.cmp(&b.domain))
        });
        out
    }

    /// Domains at or above [`C2_SUBDOMAIN_THRESHOLD`], i.e. those with a C2-over-DNS score.
    pub fn suspects(&self) -> Vec<DomainFqdnCount> {
        let mut v = self.counts();
        v.retain(|c| c.unique_fqdns >= C2_SUBDOMAIN_THRESHOLD);
        v
    }
}

/// Convenience: count a list of queried FQDNs with the default cap.
pub fn unique_fqdns_per_domain<'a, I>(fqdns: I) -> DnsC2Counter
where
    I: IntoIterator<Item = &'a str>,
{
    let mut c = DnsC2Counter::default();
    for f in fqdns {
        c.add(f);
    }
    c
}
