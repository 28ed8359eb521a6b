//! From connections to ranked suspects: connection records (from a capture or a Zeek conn.log) are
//! grouped per internal host → external peer; each pair gets RITA v5's analytics (beacon, long
//! connection, strobe, threat intel; `beacon`), the Emotet C2 and follow-up traits of spec
//! `network.md` §4 from the first bytes of its connections (`proto`), and a score: RITA's final
//! score (the largest impact, plus modifiers) with RITA's severity bands. DNS feeds names to the
//! peers and the C2-over-DNS count per registrable domain.
//!
//! Memory is bounded: pairs past [`AnalyzeConfig::max_pairs`] are counted, not kept; per pair at
//! most RITA's strobe limit of timestamps and a few protocol observations are kept.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use kensa_core::{Finding, Location, Severity};

use crate::beacon::analytics::{self, DnsC2Counter, Modifier, RitaSeverity};
use crate::beacon::{self, BeaconConfig};
use crate::capture::{ConnRecord, ConnState, Proto, is_internal, is_local_scope};
use crate::intel::{IntelIndex, Match};
use crate::proto::{self, AppProto};

/// Limits and switches.
#[derive(Debug, Clone)]
pub struct AnalyzeConfig {
    pub beacon: BeaconConfig,
    /// Internal → external pairs kept; the rest are counted in [`Analysis::dropped_pairs`].
    pub max_pairs: usize,
    /// HTTP requests kept per pair as evidence.
    pub max_http_per_pair: usize,
    /// Refused or unanswered attempts to one peer from which the retries are a finding.
    pub min_refused: usize,
    /// Networks of the organisation (RITA's `internal_subnets`), besides RFC 1918 and fd00::/8.
    pub internal: Vec<Cidr>,
    /// Report every internal → external pair, also those without a finding (their profiles:
    /// HTTP requests, server names, JA3/JA3S, certificates, SMTP sessions).
    pub all_pairs: bool,
}

/// An address block, `10.0.0.0/8` or `2001:db8::/32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub net: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix.min(32)))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix.min(128)))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Cidr, String> {
        let (net, prefix) = s.split_once('/').unwrap_or((s, ""));
        let net: IpAddr = net
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: not an address"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            max
        } else {
            prefix
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: prefix must be 0–{max}"))?
        };
        Ok(Cidr { net, prefix })
    }
}

impl Default for AnalyzeConfig {
    fn default() -> Self {
        AnalyzeConfig {
            beacon: BeaconConfig::default(),
            max_pairs: 200_000,
            max_http_per_pair: 32,
            min_refused: 10,
            internal: Vec::new(),
            all_pairs: false,
        }
    }
}

/// The capture settings the analysis wants: 64 KiB of each direction's first bytes, enough for
/// a C2 connection's pipelined requests and a download's first chunk.
pub fn capture_config() -> crate::capture::CaptureConfig {
    crate::capture::CaptureConfig {
        payload_bytes: 64 << 10,
        ..crate::capture::CaptureConfig::default()
    }
}

/// Ports Emotet (epochs 1–5) and TrickBot used for C2 (spec §4).
const C2_PORTS: &[u16] = &[80, 443, 447, 449, 7080, 8080, 8443];
/// Mail submission and relay: a workstation speaking them to the Internet is a spambot (踏み台).
const SMTP_PORTS: &[u16] = &[25, 465, 587];
/// Timestamps kept per pair: one more than RITA's strobe limit says "strobe" without more memory.
const MAX_TIMESTAMPS: usize = beacon::MAX_SCORED_CONNS + 1;
/// Names (SNI, Host, DNS answers) kept per peer.
const MAX_NAMES: usize = 16;

/// One HTTP request seen on a pair, with what its response said.
#[derive(Debug, Clone)]
struct HttpSeen {
    method: String,
    host: String,
    uri: String,
    user_agent: String,
    traits: proto::http::HttpRequestTraits,
    multipart: bool,
    urlencoded: bool,
    executable_reply: bool,
}

#[derive(Debug, Default)]
struct Pair {
    conns: Vec<beacon::Conn>,
    conn_count: u64,
    ports: BTreeMap<(Proto, u16), u64>,
    refused: BTreeMap<u16, u64>,
    established: u64,
    bytes_out: u64,
    bytes_in: u64,
    first: f64,
    last: f64,
    total_duration: f64,
    http: Vec<HttpSeen>,
    http_count: u64,
    http_on_tls_port: u64,
    missing_host: bool,
    sni: BTreeSet<String>,
    ja3: BTreeSet<String>,
    ja3s: BTreeSet<String>,
    /// Leaf certificates seen: `subject | issuer`, self-signed marked.
    certs: BTreeSet<String>,
    tls_conns: u64,
    tls_no_sni: u64,
    self_signed: Vec<String>,
    cobalt_strike: Option<String>,
    smtp_sessions: u64,
    smtp_messages: u64,
    smtp_recipients: u64,
    smtp_clear_auth: bool,
}

impl Pair {
    fn merge(&mut self, o: Pair, max_http: usize) {
        if self.conn_count == 0 {
            self.first = o.first;
            self.last = o.last;
        } else if o.conn_count > 0 {
            self.first = self.first.min(o.first);
            self.last = self.last.max(o.last);
        }
        let room = MAX_TIMESTAMPS.saturating_sub(self.conns.len());
        self.conns.extend(o.conns.into_iter().take(room));
        self.conn_count += o.conn_count;
        for (k, n) in o.ports {
            *self.ports.entry(k).or_default() += n;
        }
        for (k, n) in o.refused {
            *self.refused.entry(k).or_default() += n;
        }
        self.established += o.established;
        self.bytes_out = self.bytes_out.saturating_add(o.bytes_out);
        self.bytes_in = self.bytes_in.saturating_add(o.bytes_in);
        self.total_duration += o.total_duration;
        let room = max_http.saturating_sub(self.http.len());
        self.http.extend(o.http.into_iter().take(room));
        self.http_count += o.http_count;
        self.http_on_tls_port += o.http_on_tls_port;
        self.missing_host |= o.missing_host;
        for s in o.sni {
            if self.sni.len() < MAX_NAMES {
                self.sni.insert(s);
            }
        }
        for j in o.ja3 {
            if self.ja3.len() < MAX_NAMES {
                self.ja3.insert(j);
            }
        }
        for j in o.ja3s {
            if self.ja3s.len() < MAX_NAMES {
                self.ja3s.insert(j);
            }
        }
        for c in o.certs {
            if self.certs.len() < 4 {
                self.certs.insert(c);
            }
        }
        self.tls_conns += o.tls_conns;
        self.tls_no_sni += o.tls_no_sni;
        for c in o.self_signed {
            if self.self_signed.len() < 4 && !self.self_signed.contains(&c) {
                self.self_signed.push(c);
            }
        }
        self.cobalt_strike = self.cobalt_strike.take().or(o.cobalt_strike);
        self.smtp_sessions += o.smtp_sessions;
        self.smtp_messages += o.smtp_messages;
        self.smtp_recipients += o.smtp_recipients;
        self.smtp_clear_auth |= o.smtp_clear_auth;
    }
}

/// What was seen on a pair, for the report (at most a few of each).
#[derive(Debug, Clone, Default)]
pub struct PeerProfile {
    /// `METHOD host uri` and the user agent, of the first requests.
    pub http: Vec<(String, String)>,
    pub http_requests: u64,
    pub tls_connections: u64,
    pub sni: Vec<String>,
    pub ja3: Vec<String>,
    pub ja3s: Vec<String>,
    /// Leaf certificates: `subject | issuer` (`, self-signed`).
    pub certificates: Vec<String>,
    pub smtp_sessions: u64,
    pub smtp_messages: u64,
    pub smtp_recipients: u64,
    /// Connections per TCP state that did not complete (REJ, S0), by port.
    pub refused: Vec<(u16, u64)>,
}

/// One ranked internal host → peer pair.
#[derive(Debug, Clone)]
pub struct PeerReport {
    pub src: IpAddr,
    /// The peer: an IP address, or a registrable domain for C2 over DNS.
    pub dst: String,
    /// `tcp/80`, `udp/53`…, most used first.
    pub ports: Vec<String>,
    /// Names the peer went by (DNS answers, SNI, HTTP Host).
    pub names: Vec<String>,
    pub conns: u64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub first_seen: f64,
    pub last_seen: f64,
    /// RITA's final score: the largest impact plus modifiers (may exceed 1).
    pub score: f64,
    pub severity: Option<RitaSeverity>,
    pub modifiers: Vec<&'static str>,
    /// Each reason, location `[src, dst]`.
    pub findings: Vec<Finding>,
    pub profile: PeerProfile,
}

/// What an analysis found.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Pairs with at least one finding, highest score first.
    pub peers: Vec<PeerReport>,
    /// Internal hosts seen talking to the Internet.
    pub internal_hosts: usize,
    /// Internal → external pairs seen.
    pub pairs: usize,
    /// Connections and log records not kept because the pair table was full
    /// ([`AnalyzeConfig::max_pairs`]); a pair dropped while merging inputs counts once.
    pub dropped_pairs: u64,
    /// Connections read, and those between two internal or two external hosts (not scored).
    pub conns: u64,
    pub conns_not_scored: u64,
    /// Time span of the data (epoch seconds).
    pub first_ts: f64,
    pub last_ts: f64,
    /// No address of the data was internal (RFC 1918, fd00::/8, `--internal`): the host that opened
    /// the most connections was taken as the internal one.
    pub assumed_internal: Option<IpAddr>,
}

impl Analysis {
    /// The data spans less than RITA's useful beacon window (spec §11: label short captures).
    pub fn short_window(&self) -> bool {
        self.last_ts - self.first_ts < 12.0 * 3600.0
    }
}

/// Collects connections, then ranks.
pub struct Analyzer {
    cfg: AnalyzeConfig,
    pairs: HashMap<(IpAddr, IpAddr), Pair>,
    dns: HashMap<IpAddr, DnsC2Counter>,
    /// IP → names, from DNS answers.
    names: HashMap<IpAddr, BTreeSet<String>>,
    dropped_pairs: u64,
    /// Connections opened per host (to find the capturing host when no address is internal).
    originated: HashMap<IpAddr, u64>,
    conns: u64,
    not_scored: u64,
    first_ts: f64,
    last_ts: f64,
}

impl Analyzer {
    pub fn new(cfg: AnalyzeConfig) -> Analyzer {
        Analyzer {
            cfg,
            pairs: HashMap::new(),
            dns: HashMap::new(),
            names: HashMap::new(),
            dropped_pairs: 0,
            originated: HashMap::new(),
            conns: 0,
            not_scored: 0,
            first_ts: f64::INFINITY,
            last_ts: f64::NEG_INFINITY,
        }
    }

    /// Fold another analyzer's data into this one (inputs read in parallel, one analyzer each).
    pub fn merge(&mut self, other: Analyzer) {
        self.dropped_pairs += other.dropped_pairs;
        self.conns += other.conns;
        self.not_scored += other.not_scored;
        self.first_ts = self.first_ts.min(other.first_ts);
        self.last_ts = self.last_ts.max(other.last_ts);
        for (ip, n) in other.originated {
            *self.originated.entry(ip).or_default() += n;
        }
        for (ip, names) in other.names {
            let mine = self.names.entry(ip).or_default();
            for n in names {
                if mine.len() < MAX_NAMES {
                    mine.insert(n);
                }
            }
        }
        for (ip, counter) in other.dns {
            match self.dns.get_mut(&ip) {
                Some(mine) => mine.merge(&counter),
                None => {
                    self.dns.insert(ip, counter);
                }
            }
        }
        for (key, pair) in other.pairs {
            if !self.pairs.contains_key(&key) && self.pairs.len() >= self.cfg.max_pairs {
                self.dropped_pairs += 1;
                continue;
            }
            self.pairs
                .entry(key)
                .or_default()
                .merge(pair, self.cfg.max_http_per_pair);
        }
    }

    /// One finished connection.
    pub fn add(&mut self, c: &ConnRecord) {
        self.conns += 1;
        if c.ts.is_finite() {
            self.first_ts = self.first_ts.min(c.ts);
            self.last_ts = self.last_ts.max(c.ts + c.duration.max(0.0));
        }
        for d in &c.datagrams {
            if c.resp_p == 53 || c.orig_p == 53 {
                self.dns_datagram(c.orig_h, &d.payload);
            }
        }
        if is_local_scope(c.resp_h) || is_local_scope(c.orig_h) || c.orig_h == c.resp_h {
            self.not_scored += 1;
            return;
        }
        // Traffic towards an internal host (inbound scans, LAN traffic) is never a pair to rank;
        // keeping it out also keeps spoofed inbound noise from filling the pair table.
        if self.configured_internal(c.resp_h) {
            self.not_scored += 1;
            return;
        }
        *self.originated.entry(c.orig_h).or_default() += 1;
        let full = self.pairs.len() >= self.cfg.max_pairs;
        let key = (c.orig_h, c.resp_h);
        if full && !self.pairs.contains_key(&key) {
            self.dropped_pairs += 1;
            return;
        }
        let max_http = self.cfg.max_http_per_pair;
        let pair = self.pairs.entry(key).or_default();
        if pair.conn_count == 0 {
            pair.first = c.ts;
            pair.last = c.ts;
        }
        pair.conn_count += 1;
        pair.first = pair.first.min(c.ts);
        pair.last = pair.last.max(c.ts + c.duration.max(0.0));
        if pair.conns.len() < MAX_TIMESTAMPS {
            pair.conns.push(beacon::Conn {
                ts: c.ts,
                orig_ip_bytes: c.orig_ip_bytes,
                duration: c.duration,
            });
        }
        *pair.ports.entry((c.proto, c.resp_p)).or_default() += 1;
        if c.proto == Proto::Tcp && matches!(c.conn_state, ConnState::Rej | ConnState::S0) {
            *pair.refused.entry(c.resp_p).or_default() += 1;
        } else if c.proto == Proto::Tcp && c.resp_pkts > 0 {
            pair.established += 1;
        }
        pair.bytes_out = pair.bytes_out.saturating_add(c.orig_bytes);
        pair.bytes_in = pair.bytes_in.saturating_add(c.resp_bytes);
        if c.duration.is_finite() && c.duration > 0.0 {
            pair.total_duration += c.duration;
        }
        if c.proto == Proto::Tcp {
            application(pair, c, max_http);
        }
    }

    /// One record of a Zeek log: conn.log records are connections; dns, http and ssl records add
    /// what the capture path reads from payloads (names, requests, server names, certificates).
    pub fn add_zeek(&mut self, r: &crate::zeek::ZeekRecord) {
        use crate::zeek::ZeekRecord;
        match r {
            ZeekRecord::Conn(c) => self.add(&c.conn),
            ZeekRecord::Dns(d) => {
                if let Some(q) = d.query.as_deref() {
                    self.dns
                        .entry(d.orig_h)
                        .or_insert_with(|| DnsC2Counter::new(50_000))
                        .add(q);
                    for a in &d.answers {
                        if let Ok(ip) = a.parse::<IpAddr>() {
                            let names = self.names.entry(ip).or_default();
                            if names.len() < MAX_NAMES {
                                names.insert(q.to_ascii_lowercase());
                            }
                        }
                    }
                }
            }
            ZeekRecord::Http(h) => {
                let max_http = self.cfg.max_http_per_pair;
                let Some(pair) = self.pair_for(h.orig_h, h.resp_h) else {
                    return;
                };
                pair.http_count += 1;
                if matches!(h.resp_p, 443 | 8443) {
                    pair.http_on_tls_port += 1;
                }
                let method = h.method.clone().unwrap_or_default();
                let host = h.host.clone().unwrap_or_default();
                let uri: String = h
                    .uri
                    .clone()
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect();
                let ua = h.user_agent.as_deref().unwrap_or("");
                // Zeek logs no request Content-Type: a POST with a body stands for a form post.
                let traits = proto::http::HttpRequestTraits {
                    missing_host: h.host.is_none(),
                    host_ip_literal: proto::http::host_is_ip_literal(&host),
                    post_form: method.eq_ignore_ascii_case("POST") && h.request_body_len > 0,
                    body_random_base64: false,
                    random_lower_alnum_path: proto::http::random_lower_alnum_path(&uri),
                    msie7_trident_ua: proto::http::msie7_trident(ua),
                    referer_is_self: h
                        .referrer
                        .as_deref()
                        .is_some_and(|r| proto::http::referer_is_self(r, &host, &uri)),
                    cookie_base64: false,
                    trickbot_path_tail: proto::http::trickbot_path_tail(&uri),
                };
                pair.missing_host |= traits.missing_host;
                if pair.http.len() < max_http {
                    let executable = h
                        .resp_mime_types
                        .iter()
                        .any(|m| m.contains("dosexec") || m.contains("msdownload"));
                    pair.http.push(HttpSeen {
                        method,
                        host,
                        uri,
                        user_agent: ua.chars().take(200).collect(),
                        traits,
                        multipart: false,
                        urlencoded: false,
                        executable_reply: executable,
                    });
                }
            }
            ZeekRecord::Ssl(t) => {
                let Some(pair) = self.pair_for(t.orig_h, t.resp_h) else {
                    return;
                };
                pair.tls_conns += 1;
                match t.server_name.as_deref().filter(|s| !s.is_empty()) {
                    Some(sni) if pair.sni.len() < MAX_NAMES => {
                        pair.sni.insert(sni.to_ascii_lowercase());
                    }
                    Some(_) => {}
                    None => pair.tls_no_sni += 1,
                }
                if let Some(ja3) = &t.ja3
                    && pair.ja3.len() < MAX_NAMES
                {
                    pair.ja3.insert(ja3.clone());
                }
                if let Some(j) = &t.ja3s
                    && pair.ja3s.len() < MAX_NAMES
                {
                    pair.ja3s.insert(j.clone());
                }
                if let (Some(subject), Some(issuer)) = (&t.subject, &t.issuer)
                    && pair.certs.len() < 4
                {
                    let selfs = t.self_signed() == Some(true);
                    pair.certs.insert(cert_line(subject, issuer, selfs));
                }
                if t.self_signed() == Some(true) && pair.self_signed.len() < 4 {
                    let s: String = t
                        .subject
                        .as_deref()
                        .unwrap_or("?")
                        .chars()
                        .take(120)
                        .collect();
                    if !pair.self_signed.contains(&s) {
                        pair.self_signed.push(s);
                    }
                }
            }
            _ => {}
        }
    }

    fn configured_internal(&self, ip: IpAddr) -> bool {
        is_internal(ip) || self.cfg.internal.iter().any(|c| c.contains(ip))
    }

    /// The pair of a Zeek http/ssl record, created if there is room (its conn.log record may
    /// come later or be in another file).
    fn pair_for(&mut self, src: IpAddr, dst: IpAddr) -> Option<&mut Pair> {
        if self.pairs.len() >= self.cfg.max_pairs && !self.pairs.contains_key(&(src, dst)) {
            self.dropped_pairs += 1;
            return None;
        }
        Some(self.pairs.entry((src, dst)).or_default())
    }

    fn dns_datagram(&mut self, client: IpAddr, payload: &[u8]) {
        let Ok(m) = proto::dns_message(payload) else {
            return;
        };
        if !m.is_response {
            {
                let counter = self
                    .dns
                    .entry(client)
                    .or_insert_with(|| DnsC2Counter::new(50_000));
                for q in &m.questions {
                    counter.add(&q.name);
                }
            }
            return;
        }
        for a in &m.answers {
            let ip = match &a.data {
                proto::dns::RData::A(v4) => IpAddr::V4(*v4),
                proto::dns::RData::Aaaa(v6) => IpAddr::V6(*v6),
                _ => continue,
            };
            let names = self.names.entry(ip).or_default();
            let query = m
                .questions
                .first()
                .map_or(a.name.as_str(), |q| q.name.as_str());
            if names.len() < MAX_NAMES {
                names.insert(query.to_string());
            }
        }
    }

    /// Rank the pairs. `intel` matches peers and names against imported feeds.
    pub fn finish(self, intel: Option<&IntelIndex>) -> Analysis {
        let first_ts = if self.first_ts.is_finite() {
            self.first_ts
        } else {
            0.0
        };
        let last_ts = if self.last_ts.is_finite() {
            self.last_ts
        } else {
            first_ts
        };
        let configured =
            |ip: IpAddr| is_internal(ip) || self.cfg.internal.iter().any(|c| c.contains(ip));
        let any_internal = self.originated.keys().any(|ip| configured(*ip));
        let assumed_internal = if any_internal {
            None
        } else {
            self.originated
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(ip, _)| *ip)
        };
        let internal_ip = |ip: IpAddr| configured(ip) || Some(ip) == assumed_internal;
        let internal: BTreeSet<IpAddr> = self
            .pairs
            .keys()
            .map(|(s, _)| *s)
            .filter(|s| internal_ip(*s))
            .collect();
        let mut peers = Vec::new();
        let mut not_scored = self.not_scored;
        let mut outbound = 0;
        for ((src, dst), pair) in &self.pairs {
            if !internal_ip(*src) || internal_ip(*dst) {
                not_scored += pair.conn_count;
                continue;
            }
            outbound += 1;
            let names = self.names.get(dst);
            if let Some(p) = rank_pair(
                *src,
                *dst,
                pair,
                names,
                intel,
                (first_ts, last_ts),
                &self.cfg,
            ) {
                peers.push(p);
            }
        }
        for (src, counter) in self.dns.iter().filter(|(ip, _)| internal_ip(**ip)) {
            for c in counter.suspects() {
                peers.push(dns_c2(*src, &c.domain, c.unique_fqdns));
            }
        }
        peers.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(b.conns.cmp(&a.conns))
                .then_with(|| a.src.cmp(&b.src))
                .then_with(|| a.dst.cmp(&b.dst))
        });
        Analysis {
            peers,
            internal_hosts: internal.len(),
            pairs: outbound,
            dropped_pairs: self.dropped_pairs,
            conns: self.conns,
            conns_not_scored: not_scored,
            first_ts,
            last_ts,
            assumed_internal,
        }
    }
}

/// HTTP, TLS and SMTP facts from the first bytes of one TCP connection.
fn application(pair: &mut Pair, c: &ConnRecord, max_http: usize) {
    let (client, server) = (&c.first_orig_payload[..], &c.first_resp_payload[..]);
    match proto::sniff(client, server) {
        AppProto::Http => {
            let ex = proto::http_exchange(client, server, 16);
            for (i, r) in ex.requests.messages.iter().enumerate() {
                pair.http_count += 1;
                if matches!(c.resp_p, 443 | 8443) {
                    pair.http_on_tls_port += 1;
                }
                let traits = r.traits();
                pair.missing_host |= traits.missing_host;
                if pair.http.len() >= max_http {
                    continue;
                }
                let response = ex.response_to(i);
                let ct = r.content_type.as_deref().unwrap_or("").to_ascii_lowercase();
                pair.http.push(HttpSeen {
                    method: r.method.clone(),
                    host: r.host.clone().unwrap_or_default(),
                    uri: r.uri.chars().take(200).collect(),
                    user_agent: r
                        .user_agent
                        .as_deref()
                        .unwrap_or("")
                        .chars()
                        .take(200)
                        .collect(),
                    multipart: ct.starts_with("multipart/form-data"),
                    urlencoded: ct.starts_with("application/x-www-form-urlencoded"),
                    traits,
                    executable_reply: response.is_some_and(|r| starts_with_mz(server, r)),
                });
            }
        }
        AppProto::Tls => {
            pair.tls_conns += 1;
            if let Some(Ok(hello)) = proto::tls_client_hello(client) {
                match &hello.sni {
                    Some(sni) if pair.sni.len() < MAX_NAMES => {
                        pair.sni.insert(sni.to_ascii_lowercase());
                    }
                    Some(_) => {}
                    None => pair.tls_no_sni += 1,
                }
                if pair.ja3.len() < MAX_NAMES {
                    pair.ja3.insert(hello.ja3_md5());
                }
            }
            let side = match proto::tls_server(server) {
                Some(Ok(side)) => side,
                _ => return,
            };
            if pair.ja3s.len() < MAX_NAMES {
                pair.ja3s.insert(side.hello.ja3s_md5());
            }
            if let Some(leaf) = side.leaf() {
                if pair.certs.len() < 4 {
                    pair.certs
                        .insert(cert_line(&leaf.subject, &leaf.issuer, leaf.self_signed));
                }
                if leaf.cobalt_strike_default {
                    pair.cobalt_strike = Some(format!("SHA-1 {}", leaf.sha1));
                }
                if leaf.self_signed && pair.self_signed.len() < 4 {
                    let s: String = leaf.subject.chars().take(120).collect();
                    if !pair.self_signed.contains(&s) {
                        pair.self_signed.push(s);
                    }
                }
            }
        }
        AppProto::Smtp => {
            let s = proto::smtp_session(client, server);
            pair.smtp_sessions += 1;
            pair.smtp_messages += s.messages_sent as u64;
            pair.smtp_recipients += s.recipients as u64;
            pair.smtp_clear_auth |= s.auth.as_ref().is_some_and(|a| a.cleartext_credentials);
        }
        _ => {}
    }
}

/// The response body (after its head, and after the first chunk-size line when chunked) starts
/// with `MZ`: a program downloaded over plain HTTP.
fn starts_with_mz(server: &[u8], r: &proto::http::HttpResponse) -> bool {
    let mut body = r.offset.saturating_add(r.head_len);
    if r.chunked {
        let line = server.get(body..server.len().min(body + 32)).unwrap_or(&[]);
        match memchr::memmem::find(line, b"\r\n") {
            Some(end) => body += end + 2,
            None => return false,
        }
    }
    server.get(body..body.saturating_add(2)) == Some(b"MZ")
}

fn cert_line(subject: &str, issuer: &str, self_signed: bool) -> String {
    let s: String = subject.chars().take(120).collect();
    let i: String = issuer.chars().take(120).collect();
    if self_signed {
        format!("{s} | {i} (self-signed)")
    } else {
        format!("{s} | {i}")
    }
}

fn sev(impact: f64) -> Severity {
    match RitaSeverity::from_score(impact) {
        RitaSeverity::Critical => Severity::Critical,
        RitaSeverity::High => Severity::High,
        RitaSeverity::Medium => Severity::Medium,
        RitaSeverity::Low => Severity::Low,
        _ => Severity::Info,
    }
}

/// Findings and score of one pair; `None` when nothing stands out.
fn rank_pair(
    src: IpAddr,
    dst: IpAddr,
    pair: &Pair,
    dns_names: Option<&BTreeSet<String>>,
    intel: Option<&IntelIndex>,
    (first_ts, last_ts): (f64, f64),
    cfg: &AnalyzeConfig,
) -> Option<PeerReport> {
    let loc = Location(vec![src.to_string(), dst.to_string()]);
    let mut found: Vec<(f64, Finding)> = Vec::new();
    let mut add = |impact: f64, symbol: &'static str, evidence: String| {
        found.push((
            impact,
            Finding::new(symbol, sev(impact), loc.clone(), evidence),
        ));
    };
    let mut modifiers: Vec<Modifier> = Vec::new();

    // RITA analytics.
    let result = beacon::score_pair(&pair.conns, first_ts, last_ts, &cfg.beacon);
    if result.strobe {
        add(
            analytics::STROBE_IMPACT,
            "NET_STROBE",
            format!(
                "{} connections: too many to be a beacon (strobe)",
                pair.conn_count
            ),
        );
    } else if result.eligible {
        let impact = result.threat_score();
        if impact > 0.0 {
            let median = result
                .median_interval()
                .map_or(String::new(), |m| format!(", median interval {m:.0} s"));
            let window = if result.short_window {
                "; under 12 h of data: the histogram and duration terms are indicative only"
            } else {
                ""
            };
            add(
                impact,
                "NET_BEACON",
                format!(
                    "beacon score {:.3} (ts {:.3}, ds {:.3}, dur {:.3}, hist {:.3}) over {} connections{median}{window}",
                    result.score, result.ts, result.ds, result.dur, result.hist, pair.conn_count
                ),
            );
        }
    }
    let long = analytics::long_connection_score(pair.total_duration);
    if long > 0.0 {
        add(
            long,
            "NET_LONG_CONNECTION",
            format!("{:.0} s of connections in all", pair.total_duration),
        );
    }

    // Names the peer went by.
    let mut names: BTreeSet<String> = dns_names.cloned().unwrap_or_default();
    names.extend(pair.sni.iter().cloned());
    for h in &pair.http {
        if !h.host.is_empty() && !proto::http::host_is_ip_literal(&h.host) {
            names.insert(
                h.host
                    .split(':')
                    .next()
                    .unwrap_or(&h.host)
                    .to_ascii_lowercase(),
            );
        }
    }

    // Threat intelligence.
    if let Some(intel) = intel {
        let mut matches: Vec<Match> = Vec::new();
        for (_, port) in pair.ports.keys() {
            matches.extend(intel.match_ip(dst, Some(*port)));
        }
        for n in names.iter().take(MAX_NAMES) {
            matches.extend(intel.match_domain(n));
        }
        let mut seen = BTreeSet::new();
        let listed: Vec<String> = matches
            .iter()
            .filter(|m| seen.insert(m.indicator.ioc.to_string()))
            .take(4)
            .map(|m| {
                let age = m
                    .age_at(first_ts as i64)
                    .first_seen_days_before
                    .map_or(String::new(), |d| {
                        format!(", first seen {d} days before the data")
                    });
                format!(
                    "{} in {} ({}{age})",
                    m.indicator.ioc,
                    m.feed(),
                    m.indicator.malware.as_deref().unwrap_or("unknown family")
                )
            })
            .collect();
        if !listed.is_empty() {
            add(
                analytics::THREAT_INTEL_IMPACT,
                "NET_INTEL_HIT",
                listed.join("; "),
            );
            if let Some(m) = analytics::threat_intel_data_size_modifier(
                true,
                pair.bytes_out.saturating_add(pair.bytes_in),
            ) {
                modifiers.push(m);
            }
        }
    }

    // Emotet's HTTP C2 (2019–2021): POSTs of form bodies to a bare IP:port.
    let c2_posts: Vec<&HttpSeen> = pair
        .http
        .iter()
        .filter(|h| h.traits.host_ip_literal && h.traits.post_form)
        .collect();
    if !c2_posts.is_empty() {
        let multipart = c2_posts.iter().filter(|h| h.multipart).count();
        let urlencoded = c2_posts.iter().filter(|h| h.urlencoded).count();
        let mut traits = Vec::new();
        if c2_posts.iter().any(|h| h.traits.msie7_trident_ua) {
            traits.push("MSIE 7.0/Trident user agent");
        }
        if c2_posts.iter().any(|h| h.traits.referer_is_self) {
            traits.push("Referer is the request's own URL");
        }
        if c2_posts.iter().any(|h| h.traits.random_lower_alnum_path) {
            traits.push("random lower-case path");
        }
        if c2_posts.iter().any(|h| h.traits.body_random_base64) {
            traits.push("random=base64 body");
        }
        let impact = if traits.is_empty() { 0.6 } else { 0.85 };
        let h = c2_posts[0];
        add(
            impact,
            "NET_HTTP_C2_POST",
            format!(
                "{} POST(s) to {} ({multipart} multipart, {urlencoded} urlencoded){}{}; e.g. {} {}",
                c2_posts.len(),
                h.host,
                if traits.is_empty() { "" } else { ": " },
                traits.join(", "),
                h.method,
                h.uri
            ),
        );
    } else if let Some(h) = pair.http.iter().find(|h| h.traits.host_ip_literal) {
        add(
            0.3,
            "NET_HTTP_IP_HOST",
            format!(
                "HTTP to a bare IP address: {} {} (Host {})",
                h.method, h.uri, h.host
            ),
        );
    }
    if pair.missing_host {
        modifiers.push(Modifier::MissingHostHeader);
    }
    if let Some(h) = pair.http.iter().find(|h| h.executable_reply) {
        add(
            0.6,
            "NET_EXECUTABLE_DOWNLOAD",
            format!(
                "a program (MZ) came back for {} {} (Host {})",
                h.method, h.uri, h.host
            ),
        );
    }
    if pair.http_on_tls_port > 0 {
        add(
            0.5,
            "NET_PORT_PROTOCOL_MISMATCH",
            format!(
                "{} clear-text HTTP request(s) on a TLS port",
                pair.http_on_tls_port
            ),
        );
    }
    if let Some(h) = pair
        .http
        .iter()
        .find(|h| h.traits.trickbot_path_tail.is_some())
    {
        add(
            0.6,
            "NET_TRICKBOT_TRAIT",
            format!(
                "path ending {} (TrickBot command): {} {}",
                h.traits.trickbot_path_tail.unwrap_or(""),
                h.method,
                h.uri
            ),
        );
    }

    // TLS to a bare IP without a name, with a self-signed certificate (Emotet epochs 4–5).
    let ip_only = pair.sni.is_empty() && pair.tls_no_sni > 0;
    if ip_only && !pair.self_signed.is_empty() {
        let c2_port = pair.ports.keys().any(|(_, p)| C2_PORTS.contains(p));
        add(
            if c2_port { 0.7 } else { 0.5 },
            "NET_TLS_SELF_SIGNED_NO_SNI",
            format!(
                "{} TLS connection(s) without a server name, self-signed certificate {}",
                pair.tls_no_sni,
                pair.self_signed.join("; ")
            ),
        );
    }
    if let Some(cs) = &pair.cobalt_strike {
        add(
            0.9,
            "NET_COBALT_STRIKE_CERT",
            format!("Cobalt Strike's default team-server certificate ({cs})"),
        );
    }
    if pair
        .ports
        .keys()
        .any(|(p, port)| *p == Proto::Tcp && matches!(port, 447 | 449))
        && ip_only
    {
        add(
            0.6,
            "NET_TRICKBOT_TRAIT",
            "TLS without a server name on TCP 447/449 (TrickBot)".into(),
        );
    }
    if pair.ports.contains_key(&(Proto::Tcp, 65400)) {
        add(0.5, "NET_QAKBOT_TRAIT", "TCP 65400 (Qakbot)".into());
    }

    // A bot retrying a dead C2.
    if let Some((port, n)) = pair.refused.iter().max_by_key(|(_, n)| **n)
        && *n as usize >= cfg.min_refused
        && pair.established == 0
    {
        let impact = if C2_PORTS.contains(port) { 0.6 } else { 0.4 };
        add(
            impact,
            "NET_REFUSED_REPEATED",
            format!(
                "{n} connection attempts to port {port} refused or unanswered, none established"
            ),
        );
    }

    // Spambot (踏み台): a workstation speaking SMTP to the Internet.
    let smtp: u64 = pair
        .ports
        .iter()
        .filter(|((p, port), _)| *p == Proto::Tcp && SMTP_PORTS.contains(port))
        .map(|(_, n)| n)
        .sum();
    if smtp > 0 {
        let impact = if pair.smtp_messages > 0 || smtp >= 10 {
            0.85
        } else {
            0.6
        };
        let mut what = format!("{smtp} connection(s) to mail ports");
        if pair.smtp_sessions > 0 {
            what.push_str(&format!(
                "; {} clear-text session(s), {} message(s), {} recipient(s)",
                pair.smtp_sessions, pair.smtp_messages, pair.smtp_recipients
            ));
        }
        if pair.smtp_clear_auth {
            what.push_str("; credentials sent in clear");
        }
        add(impact, "NET_SMTP_OUTBOUND", what);
    }

    if found.is_empty() && !cfg.all_pairs {
        return None;
    }
    let base = found.iter().map(|(i, _)| *i).fold(0.0, f64::max);
    let score = base + modifiers.iter().map(|m| m.value()).sum::<f64>();
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut ports: Vec<(&(Proto, u16), &u64)> = pair.ports.iter().collect();
    ports.sort_by(|a, b| b.1.cmp(a.1));
    Some(PeerReport {
        src,
        dst: dst.to_string(),
        ports: ports
            .iter()
            .take(8)
            .map(|((p, port), _)| format!("{}/{port}", p.as_str()))
            .collect(),
        names: names.into_iter().take(MAX_NAMES).collect(),
        conns: pair.conn_count,
        bytes_out: pair.bytes_out,
        bytes_in: pair.bytes_in,
        first_seen: pair.first,
        last_seen: pair.last,
        score,
        severity: severity_of(score),
        modifiers: modifiers.iter().map(|m| m.as_str()).collect(),
        findings: found.into_iter().map(|(_, f)| f).collect(),
        profile: PeerProfile {
            http: pair
                .http
                .iter()
                .take(5)
                .map(|h| {
                    (
                        format!("{} {} {}", h.method, h.host, h.uri),
                        h.user_agent.clone(),
                    )
                })
                .collect(),
            http_requests: pair.http_count,
            tls_connections: pair.tls_conns,
            sni: pair.sni.iter().cloned().collect(),
            ja3: pair.ja3.iter().cloned().collect(),
            ja3s: pair.ja3s.iter().cloned().collect(),
            certificates: pair.certs.iter().cloned().collect(),
            smtp_sessions: pair.smtp_sessions,
            smtp_messages: pair.smtp_messages,
            smtp_recipients: pair.smtp_recipients,
            refused: pair.refused.iter().map(|(p, n)| (*p, *n)).collect(),
        },
    })
}

fn severity_of(score: f64) -> Option<RitaSeverity> {
    match RitaSeverity::from_score(score) {
        RitaSeverity::None => None,
        s => Some(s),
    }
}

fn dns_c2(src: IpAddr, domain: &str, unique: u64) -> PeerReport {
    let impact = analytics::c2_over_dns_score(unique);
    PeerReport {
        src,
        dst: domain.to_string(),
        ports: vec!["udp/53".into()],
        names: Vec::new(),
        conns: 0,
        bytes_out: 0,
        bytes_in: 0,
        first_seen: 0.0,
        last_seen: 0.0,
        score: impact,
        severity: severity_of(impact),
        modifiers: Vec::new(),
        profile: PeerProfile::default(),
        findings: vec![Finding::new(
            "NET_DNS_C2",
            sev(impact),
            Location(vec![src.to_string(), domain.to_string()]),
            format!("{unique} unique names queried under {domain} (C2 over DNS)"),
        )],
    }
}

#[cfg(test)]
mod tests;
