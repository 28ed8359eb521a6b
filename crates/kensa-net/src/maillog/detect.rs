//! Outbound bursts and stolen credentials from [`MailEvent`]s (spec `network.md` §7 steps 2–4,
//! 6, adapted to what one MTA log gives).
//!
//! * **Identity** ([`MailEvent::identity`]): the SASL account, else the client IP, else the
//!   envelope sender. Notifications made by the MTA itself ([`Origin::Internal`]) are left out.
//!   When the log shows a content filter (deliveries to a loopback relay such as amavis on
//!   `127.0.0.1:10024`), messages whose client is a loopback address are its re-injections and are
//!   left out too (the first copy carries the real client).
//! * **`MAIL_BURST`**: per identity, sliding windows ([`BurstConfig::burst_windows`], default
//!   5 min ≥ 30 recipients and 60 min ≥ 200). A window counts recipient attempts (accepted or
//!   rejected). When the log spans at least [`BurstConfig::baseline_min_days`] (14) days, the
//!   peak window must also reach a robust z = (x − median) / (1.4826·MAD + ε) ≥ 6 (ε = 1
//!   recipient) against the identity's history in the same hour of the week: for each other such
//!   hour of the log (one a week, zeros for idle hours), the largest count of a window of the same
//!   length ending in it. Otherwise the floor alone decides. The finding says which
//!   ([`MailFinding::baseline`], evidence). A weekly newsletter at the same hour is thus its own
//!   baseline; the same volume at a new hour is not.
//! * **`MAIL_REJECT_RATIO`**: per identity, a 60-min window with ≥ 20 recipient attempts of which
//!   ≥ 50 % were rejected, bounced, deferred or expired.
//! * **`MAIL_ACCOUNT_MANY_IPS`** / **`MAIL_IP_MANY_ACCOUNTS`**: one SASL account from ≥ 3 client
//!   IPs, or one client IP authenticating as ≥ 3 accounts, within 24 h (stolen credentials).
//! * **`MAIL_IP_MANY_SENDERS`**: one client IP using ≥ 10 envelope senders within 60 min.
//! * **`MAIL_SENDER_MISMATCH`**: the envelope sender is not the SASL account (`alice` matches
//!   `alice@any`; `alice@corp.test` must match exactly; case-insensitive). Low severity: shared
//!   mailboxes and aliases do this too.
//! * **`MAIL_INPUT_CAPPED`**: events over [`BurstConfig::max_events`] were not analysed.
//!
//! External share: the share of recipients outside the own domains —
//! [`BurstConfig::own_domains`], or when empty, inferred: the envelope-sender domains used by the
//! most distinct identities (every domain with at least a quarter of the top domain's identity
//! count and at least two identities when the top domain has two or more; at most 10). Distinct identities rather than messages, so that one spammer forging a
//! domain thousands of times does not make it "own".
//!
//! Memory: one 40-byte record per event plus interned strings (identities, accounts, addresses,
//! domains, one key and Message-ID per message); at most [`BurstConfig::max_events`] events
//! (default 2,000,000) are kept, the rest counted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use kensa_core::Severity;

pub use super::finding::{
    Baseline, BurstConfig, BurstWindow, Detection, Identity, IdentityKind, MailFinding, StatusMix,
};
use super::join::domain_of;
use super::time::{format_utc, hour_of_week, hour_of_week_of_hour};
use super::{MailEvent, MailStatus, Origin};

const NONE: u32 = u32::MAX;
const F_LOOPBACK_CLIENT: u8 = 1;
const F_LOOPBACK_RELAY: u8 = 2;
const F_INTERNAL: u8 = 4;

/// One event, compact.
#[derive(Debug, Clone, Copy)]
struct Rec {
    t: i64,
    ident: u32,
    acct: u32,
    ip: u32,
    sender: u32,
    sender_dom: u32,
    rcpt_dom: u32,
    msg: u32,
    status: MailStatus,
    flags: u8,
}

#[derive(Debug, Default)]
struct Interner {
    map: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        let Ok(i) = u32::try_from(self.names.len()) else {
            return NONE;
        };
        if i == NONE {
            return NONE;
        }
        self.names.push(s.to_string());
        self.map.insert(s.to_string(), i);
        i
    }

    fn opt(&mut self, s: Option<&str>) -> u32 {
        s.map_or(NONE, |s| self.id(s))
    }

    fn name(&self, i: u32) -> &str {
        self.names.get(i as usize).map_or("", String::as_str)
    }
}

/// Streaming detector: [`Detector::push`] every event, then [`Detector::finish`].
#[derive(Debug)]
pub struct Detector {
    cfg: BurstConfig,
    recs: Vec<Rec>,
    idents: Vec<Identity>,
    ident_ids: HashMap<Identity, u32>,
    strs: Interner,
    msgs: Interner,
    /// Message-ID (string id) of each message key.
    msg_mid: Vec<u32>,
    events: u64,
    dropped: u64,
    unattributed: u64,
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => v.is_loopback(),
        IpAddr::V6(v) => v.is_loopback() || v.to_ipv4_mapped().is_some_and(|m| m.is_loopback()),
    }
}

/// `relay=127.0.0.1[127.0.0.1]:10024` (Postfix) or `H=localhost [127.0.0.1]` (Exim).
fn relay_is_loopback(relay: &str) -> bool {
    super::postfix::name_and_ip(relay)
        .and_then(|(_, ip)| ip)
        .is_some_and(is_loopback)
}

/// Whether the envelope sender is the SASL account's own address.
fn sender_matches(account: &str, sender: &str) -> bool {
    let a = account.to_ascii_lowercase();
    let a = a.rsplit('\\').next().unwrap_or(&a);
    let s = sender.to_ascii_lowercase();
    if a.contains('@') {
        s == a
    } else {
        s.rsplit_once('@').map_or(s.as_str(), |x| x.0) == a
    }
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// (median, MAD) of the values.
fn median_mad(values: &mut [f64]) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    let med = median(values);
    let mut dev: Vec<f64> = values.iter().map(|v| (v - med).abs()).collect();
    dev.sort_by(f64::total_cmp);
    (med, median(&dev))
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

fn window_name(secs: i64) -> String {
    if secs % 3600 == 0 {
        format!("{} h", secs / 3600)
    } else if secs % 60 == 0 {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} s")
    }
}

/// Episodes of consecutive qualifying windows over one time-sorted group.
struct Episode {
    start: usize,
    end: usize,
    peak: u64,
    peak_i: usize,
    peak_j: usize,
}

/// Slides a `secs` window over `g` (indices into `recs`, sorted by time). `qualifies(x, w)`
/// judges a window of `x` records whose weights sum to `w`; overlapping qualifying windows merge
/// into one episode whose peak is the largest `score(x, w)`.
fn episodes(
    recs: &[Rec],
    g: &[u32],
    secs: i64,
    weight: impl Fn(&Rec) -> u64,
    qualifies: impl Fn(u64, u64) -> bool,
    score: impl Fn(u64, u64) -> u64,
) -> Vec<Episode> {
    let t = |k: usize| {
        g.get(k)
            .and_then(|&r| recs.get(r as usize))
            .map_or(0, |r| r.t)
    };
    let w = |k: usize| {
        g.get(k)
            .and_then(|&r| recs.get(r as usize))
            .map_or(0, &weight)
    };
    let mut out: Vec<Episode> = Vec::new();
    let mut cur: Option<Episode> = None;
    let (mut i, mut sum) = (0usize, 0u64);
    for j in 0..g.len() {
        sum += w(j);
        while i < j && t(j).saturating_sub(t(i)) >= secs {
            sum -= w(i);
            i += 1;
        }
        let x = (j - i + 1) as u64;
        if !qualifies(x, sum) {
            continue;
        }
        let s = score(x, sum);
        match cur.as_mut() {
            Some(ep) if t(i) <= t(ep.end) => {
                ep.end = j;
                if s > ep.peak {
                    (ep.peak, ep.peak_i, ep.peak_j) = (s, i, j);
                }
            }
            _ => {
                out.extend(cur.take());
                cur = Some(Episode {
                    start: i,
                    end: j,
                    peak: s,
                    peak_i: i,
                    peak_j: j,
                });
            }
        }
    }
    out.extend(cur);
    out
}

/// The peak number of distinct `key`s within `secs` over a time-sorted group: (peak, i, j).
fn distinct_peak(
    recs: &[Rec],
    g: &[u32],
    secs: i64,
    key: impl Fn(&Rec) -> u32,
) -> (usize, usize, usize) {
    let rec = |k: usize| g.get(k).and_then(|&r| recs.get(r as usize));
    let mut counts: HashMap<u32, u32> = HashMap::new();
    let (mut best, mut bi, mut bj, mut i) = (0usize, 0usize, 0usize, 0usize);
    for j in 0..g.len() {
        let Some(rj) = rec(j) else { continue };
        let kj = key(rj);
        if kj != NONE {
            *counts.entry(kj).or_default() += 1;
        }
        while i < j {
            let Some(ri) = rec(i) else { break };
            if rj.t.saturating_sub(ri.t) < secs {
                break;
            }
            let ki = key(ri);
            if let Some(c) = counts.get_mut(&ki) {
                *c -= 1;
                if *c == 0 {
                    counts.remove(&ki);
                }
            }
            i += 1;
        }
        if counts.len() > best {
            (best, bi, bj) = (counts.len(), i, j);
        }
    }
    (best, bi, bj)
}

impl Detector {
    pub fn new(cfg: BurstConfig) -> Self {
        Detector {
            cfg,
            recs: Vec::new(),
            idents: Vec::new(),
            ident_ids: HashMap::new(),
            strs: Interner::default(),
            msgs: Interner::default(),
            msg_mid: Vec::new(),
            events: 0,
            dropped: 0,
            unattributed: 0,
        }
    }

    pub fn push(&mut self, ev: &MailEvent) {
        self.events += 1;
        if self.recs.len() >= self.cfg.max_events {
            self.dropped += 1;
            return;
        }
        let Some(identity) = ev.identity() else {
            self.unattributed += 1;
            return;
        };
        let ident = match self.ident_ids.get(&identity) {
            Some(&i) => i,
            None => {
                let i = u32::try_from(self.idents.len()).unwrap_or(NONE);
                if i == NONE {
                    self.dropped += 1;
                    return;
                }
                self.idents.push(identity.clone());
                self.ident_ids.insert(identity, i);
                i
            }
        };
        let acct = ev
            .sasl_username
            .as_deref()
            .filter(|u| !u.is_empty())
            .map(str::to_ascii_lowercase);
        let sender = ev
            .from
            .as_deref()
            .filter(|f| !f.is_empty())
            .map(str::to_ascii_lowercase);
        let sender_dom = sender.as_deref().and_then(domain_of);
        let ip = ev.client_ip.map(|i| i.to_string());
        let msg_key = match (&ev.queue_id, &ev.message_id) {
            (Some(q), _) => Some(format!("{}\0{q}", ev.server)),
            (None, Some(m)) => Some(format!("\0{m}")),
            _ => None,
        };
        let msg = self.msgs.opt(msg_key.as_deref());
        if msg != NONE && msg as usize == self.msg_mid.len() {
            let mid = self.strs.opt(ev.message_id.as_deref());
            self.msg_mid.push(mid);
        }
        let mut flags = 0;
        if ev.client_ip.is_some_and(is_loopback) {
            flags |= F_LOOPBACK_CLIENT;
        }
        if ev.relay.as_deref().is_some_and(relay_is_loopback) {
            flags |= F_LOOPBACK_RELAY;
        }
        if ev.origin == Origin::Internal {
            flags |= F_INTERNAL;
        }
        let rec = Rec {
            t: ev.time,
            ident,
            acct: self.strs.opt(acct.as_deref()),
            ip: self.strs.opt(ip.as_deref()),
            sender: self.strs.opt(sender.as_deref()),
            sender_dom: self.strs.opt(sender_dom.as_deref()),
            rcpt_dom: self.strs.opt(ev.recipient_domain.as_deref()),
            msg,
            status: ev.status,
            flags,
        };
        self.recs.push(rec);
    }

    fn infer_own_domains(&self, active: &[u32]) -> Vec<String> {
        let mut by_dom: HashMap<u32, HashSet<u32>> = HashMap::new();
        for &k in active {
            let Some(r) = self.recs.get(k as usize) else {
                continue;
            };
            if r.sender_dom != NONE {
                by_dom.entry(r.sender_dom).or_default().insert(r.ident);
            }
        }
        let mut ranked: Vec<(usize, &str)> = by_dom
            .iter()
            .map(|(&d, ids)| (ids.len(), self.strs.name(d)))
            .collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        let top = ranked.first().map_or(0, |r| r.0);
        // A quarter of the top count, and at least two identities when the top has two.
        let need = top.div_ceil(4).max(top.min(2));
        ranked
            .into_iter()
            .filter(|r| r.0 >= need)
            .take(10)
            .map(|r| r.1.to_string())
            .collect()
    }

    pub fn finish(self) -> Detection {
        let mut out = Detection {
            events: self.events,
            dropped: self.dropped,
            unattributed: self.unattributed,
            ..Detection::default()
        };
        let content_filter = self.recs.iter().any(|r| r.flags & F_LOOPBACK_RELAY != 0);
        out.content_filter_seen = content_filter;
        let mut active: Vec<u32> = Vec::with_capacity(self.recs.len());
        for (k, r) in self.recs.iter().enumerate() {
            let skip =
                r.flags & F_INTERNAL != 0 || (content_filter && r.flags & F_LOOPBACK_CLIENT != 0);
            if skip {
                out.skipped += 1;
            } else if let Ok(k) = u32::try_from(k) {
                active.push(k);
            }
        }
        let own: Vec<String> = if self.cfg.own_domains.is_empty() {
            out.own_domains_inferred = true;
            self.infer_own_domains(&active)
        } else {
            self.cfg
                .own_domains
                .iter()
                .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
                .collect()
        };
        let own_ids: HashSet<u32> = own
            .iter()
            .filter_map(|d| self.strs.map.get(d.as_str()).copied())
            .collect();
        out.own_domains = own;
        let (first, last) = active
            .iter()
            .filter_map(|&k| self.recs.get(k as usize))
            .fold((i64::MAX, i64::MIN), |(f, l), r| (f.min(r.t), l.max(r.t)));
        let span = if first <= last {
            last.saturating_sub(first)
        } else {
            0
        };
        out.history_days = span as f64 / 86_400.0;
        let a = Analysis {
            det: &self,
            own_ids: &own_ids,
            own_known: !out.own_domains.is_empty(),
            first,
            last,
            history_days: out.history_days,
        };
        let mut findings = Vec::new();
        // Per identity.
        let mut by_ident = active.clone();
        by_ident.sort_by_key(|&k| self.recs.get(k as usize).map(|r| (r.ident, r.t)));
        for g in by_ident.chunk_by(|&x, &y| self.rec(x).ident == self.rec(y).ident) {
            a.bursts(g, &mut findings);
            a.reject_ratio(g, &mut findings);
        }
        a.credentials(&active, &mut findings);
        a.mismatches(&active, &mut findings);
        if self.dropped > 0 {
            findings.push(MailFinding {
                kind: "MAIL_INPUT_CAPPED",
                severity: Severity::Info,
                identity: Identity::new(IdentityKind::Sender, "-"),
                window_start: if first <= last { first } else { 0 },
                window_end: if first <= last { last } else { 0 },
                window_secs: 0,
                count: self.dropped,
                baseline: None,
                messages: 0,
                recipients: 0,
                distinct_domains: 0,
                external_share: None,
                top_recipient_domains: Vec::new(),
                sample_message_ids: Vec::new(),
                status_mix: StatusMix::default(),
                related: Vec::new(),
                evidence: format!(
                    "{} of {} events not analysed (limit {} events)",
                    self.dropped, self.events, self.cfg.max_events
                ),
            });
        }
        findings.sort_by(|x, y| {
            y.severity
                .cmp(&x.severity)
                .then(x.kind.cmp(y.kind))
                .then(x.window_start.cmp(&y.window_start))
                .then(x.identity.cmp(&y.identity))
        });
        findings.truncate(self.cfg.max_findings);
        out.findings = findings;
        out
    }

    fn rec(&self, k: u32) -> Rec {
        self.recs.get(k as usize).copied().unwrap_or(Rec {
            t: 0,
            ident: NONE,
            acct: NONE,
            ip: NONE,
            sender: NONE,
            sender_dom: NONE,
            rcpt_dom: NONE,
            msg: NONE,
            status: MailStatus::Unknown,
            flags: 0,
        })
    }
}

/// Summary of a slice of records.
struct Summary {
    messages: u64,
    recipients: u64,
    domains: Vec<(String, u64)>,
    distinct_domains: u64,
    external_share: Option<f64>,
    mix: StatusMix,
    samples: Vec<String>,
}

struct Analysis<'a> {
    det: &'a Detector,
    own_ids: &'a HashSet<u32>,
    own_known: bool,
    first: i64,
    last: i64,
    history_days: f64,
}

impl Analysis<'_> {
    fn rec(&self, k: u32) -> Rec {
        self.det.rec(k)
    }

    fn ident(&self, r: &Rec) -> Identity {
        self.det
            .idents
            .get(r.ident as usize)
            .cloned()
            .unwrap_or_else(|| Identity::new(IdentityKind::Sender, "-"))
    }

    fn summary(&self, g: &[u32]) -> Summary {
        let n = self.det.cfg.samples;
        let mut msgs = HashSet::new();
        let mut doms: HashMap<u32, u64> = HashMap::new();
        let (mut with_dom, mut external) = (0u64, 0u64);
        let mut mix = StatusMix::default();
        let mut samples = Vec::new();
        for &k in g {
            let r = self.rec(k);
            mix.add(r.status);
            if r.msg != NONE && msgs.insert(r.msg) && samples.len() < n {
                let mid = self
                    .det
                    .msg_mid
                    .get(r.msg as usize)
                    .copied()
                    .unwrap_or(NONE);
                if mid != NONE {
                    samples.push(self.det.strs.name(mid).to_string());
                }
            }
            if r.rcpt_dom != NONE {
                *doms.entry(r.rcpt_dom).or_default() += 1;
                with_dom += 1;
                if !self.own_ids.contains(&r.rcpt_dom) {
                    external += 1;
                }
            }
        }
        let mut domains: Vec<(String, u64)> = doms
            .iter()
            .map(|(&d, &c)| (self.det.strs.name(d).to_string(), c))
            .collect();
        domains.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let distinct_domains = domains.len() as u64;
        domains.truncate(n);
        Summary {
            messages: msgs.len() as u64,
            recipients: g.len() as u64,
            domains,
            distinct_domains,
            external_share: (self.own_known && with_dom > 0)
                .then(|| external as f64 / with_dom as f64),
            mix,
            samples,
        }
    }

    /// For each hour, the largest count of a `secs` window over `g` ending in it.
    fn peaks_by_hour(&self, g: &[u32], secs: i64) -> HashMap<i64, u64> {
        let mut peak_by_hour: HashMap<i64, u64> = HashMap::new();
        let t = |k: usize| self.rec(g.get(k).copied().unwrap_or(NONE)).t;
        let mut i = 0;
        for j in 0..g.len() {
            while i < j && t(j).saturating_sub(t(i)) >= secs {
                i += 1;
            }
            let e = peak_by_hour.entry(t(j).div_euclid(3600)).or_default();
            *e = (*e).max((j - i + 1) as u64);
        }
        peak_by_hour
    }

    /// Robust z of `x` against the identity's history: for every other hour of the log that has
    /// the same hour of the week as `t_end`, the largest count of a window of the same length
    /// ending in that hour (`peak_by_hour`, 0 when idle).
    fn baseline(&self, peak_by_hour: &HashMap<i64, u64>, x: u64, t_end: i64) -> Baseline {
        let h = hour_of_week(t_end);
        let (h0, h1) = (self.first.div_euclid(3600), self.last.div_euclid(3600));
        // The first hour of the log with the same hour of the week, then one a week.
        let mut hour = h0 + (i64::from(h) - i64::from(hour_of_week_of_hour(h0))).rem_euclid(168);
        let own_hour = t_end.div_euclid(3600);
        let mut values = Vec::new();
        while hour <= h1 && values.len() < 10_000 {
            // The hour under test is not its own baseline.
            if hour != own_hour {
                values.push(peak_by_hour.get(&hour).copied().unwrap_or(0) as f64);
            }
            hour += 168;
        }
        let samples = values.len();
        let (med, mad) = median_mad(&mut values);
        let z = (x as f64 - med) / (1.4826 * mad + self.det.cfg.mad_epsilon.max(1e-9));
        Baseline {
            median: med,
            mad,
            z,
            samples,
            hour_of_week: h,
            history_days: self.history_days,
        }
    }

    fn finding(
        &self,
        kind: &'static str,
        severity: Severity,
        identity: Identity,
        g: &[u32],
        window_secs: i64,
        count: u64,
    ) -> (MailFinding, Summary) {
        let s = self.summary(g);
        let (ws, we) = match (g.first(), g.last()) {
            (Some(&a), Some(&b)) => (self.rec(a).t, self.rec(b).t),
            _ => (0, 0),
        };
        let f = MailFinding {
            kind,
            severity,
            identity,
            window_start: ws,
            window_end: we,
            window_secs,
            count,
            baseline: None,
            messages: s.messages,
            recipients: s.recipients,
            distinct_domains: s.distinct_domains,
            external_share: s.external_share,
            top_recipient_domains: s.domains.clone(),
            sample_message_ids: s.samples.clone(),
            status_mix: s.mix,
            related: Vec::new(),
            evidence: String::new(),
        };
        (f, s)
    }

    fn bursts(&self, g: &[u32], out: &mut Vec<MailFinding>) {
        let cfg = &self.det.cfg;
        let with_history = self.history_days >= cfg.baseline_min_days;
        for w in &cfg.burst_windows {
            let eps = episodes(
                &self.det.recs,
                g,
                w.secs,
                |_| 0,
                |x, _| x >= w.floor.max(1),
                |x, _| x,
            );
            // Computed once per identity and window, when the first episode needs it.
            let mut peaks: Option<HashMap<i64, u64>> = None;
            for ep in eps {
                let peak_t = self.rec(g.get(ep.peak_j).copied().unwrap_or(NONE)).t;
                let baseline = with_history.then(|| {
                    let p = peaks.get_or_insert_with(|| self.peaks_by_hour(g, w.secs));
                    self.baseline(p, ep.peak, peak_t)
                });
                if baseline.as_ref().is_some_and(|b| b.z < cfg.z_threshold) {
                    continue;
                }
                let Some(range) = g.get(ep.start..=ep.end) else {
                    continue;
                };
                let ident = self.ident(&self.rec(range[0]));
                let (mut f, s) =
                    self.finding("MAIL_BURST", Severity::High, ident, range, w.secs, ep.peak);
                if s.external_share.unwrap_or(1.0) < cfg.min_external_share {
                    continue;
                }
                let basis = match &baseline {
                    Some(b) => format!(
                        "z = {:.1} against median {:.1} / MAD {:.1} of {} windows at this hour of the week over {:.1} days",
                        b.z, b.median, b.mad, b.samples, b.history_days
                    ),
                    None => format!(
                        "fixed floor only: {:.1} days of history < {}",
                        self.history_days, cfg.baseline_min_days
                    ),
                };
                let ext = s.external_share.map_or_else(
                    || "external share unknown".to_string(),
                    |e| format!("{} external", pct(e)),
                );
                f.evidence = format!(
                    "{}: {} recipients in {} (floor {}; {basis}); episode {} – {}: {} messages, {} recipients, {} domains, {ext}; status {}",
                    f.identity,
                    ep.peak,
                    window_name(w.secs),
                    w.floor,
                    format_utc(f.window_start),
                    format_utc(f.window_end),
                    s.messages,
                    s.recipients,
                    s.distinct_domains,
                    s.mix
                );
                f.baseline = baseline;
                out.push(f);
            }
        }
    }

    fn reject_ratio(&self, g: &[u32], out: &mut Vec<MailFinding>) {
        let cfg = &self.det.cfg;
        let ratio = cfg.reject_ratio.clamp(0.0, 1.0);
        let min = cfg.reject_min_recipients.max(1);
        let eps = episodes(
            &self.det.recs,
            g,
            cfg.reject_window_secs,
            |r| u64::from(r.status.is_failure()),
            |x, f| x >= min && f as f64 >= ratio * x as f64,
            |_, f| f,
        );
        for ep in eps {
            let Some(range) = g.get(ep.start..=ep.end) else {
                continue;
            };
            let peak_x = (ep.peak_j.saturating_sub(ep.peak_i) + 1) as u64;
            let ident = self.ident(&self.rec(range[0]));
            let (mut f, s) = self.finding(
                "MAIL_REJECT_RATIO",
                Severity::Medium,
                ident,
                range,
                cfg.reject_window_secs,
                ep.peak,
            );
            f.evidence = format!(
                "{}: {} of {} recipient attempts in {} not delivered (threshold {}); episode {} – {}: status {}",
                f.identity,
                ep.peak,
                peak_x,
                window_name(cfg.reject_window_secs),
                pct(ratio),
                format_utc(f.window_start),
                format_utc(f.window_end),
                s.mix
            );
            out.push(f);
        }
    }

    /// Account ↔ IP and IP ↔ sender fan-outs.
    fn credentials(&self, active: &[u32], out: &mut Vec<MailFinding>) {
        let cfg = &self.det.cfg;
        let recs = &self.det.recs;
        let strs = &self.det.strs;
        struct Fan {
            kind: &'static str,
            severity: Severity,
            group_kind: IdentityKind,
            what: &'static str,
            threshold: usize,
            secs: i64,
        }
        let fans = [
            (
                Fan {
                    kind: "MAIL_ACCOUNT_MANY_IPS",
                    severity: Severity::High,
                    group_kind: IdentityKind::Account,
                    what: "client IPs",
                    threshold: cfg.ips_per_account,
                    secs: cfg.credential_window_secs,
                },
                (|r: &Rec| r.acct) as fn(&Rec) -> u32,
                (|r: &Rec| r.ip) as fn(&Rec) -> u32,
            ),
            (
                Fan {
                    kind: "MAIL_IP_MANY_ACCOUNTS",
                    severity: Severity::High,
                    group_kind: IdentityKind::ClientIp,
                    what: "SASL accounts",
                    threshold: cfg.accounts_per_ip,
                    secs: cfg.credential_window_secs,
                },
                |r: &Rec| if r.acct == NONE { NONE } else { r.ip },
                |r: &Rec| r.acct,
            ),
            (
                Fan {
                    kind: "MAIL_IP_MANY_SENDERS",
                    severity: Severity::Medium,
                    group_kind: IdentityKind::ClientIp,
                    what: "envelope senders",
                    threshold: cfg.senders_per_ip,
                    secs: cfg.senders_window_secs,
                },
                |r: &Rec| r.ip,
                |r: &Rec| r.sender,
            ),
        ];
        for (fan, group_of, key_of) in fans {
            let mut sel: Vec<u32> = active
                .iter()
                .copied()
                .filter(|&k| {
                    let r = self.rec(k);
                    group_of(&r) != NONE && key_of(&r) != NONE
                })
                .collect();
            sel.sort_by_key(|&k| {
                let r = self.rec(k);
                (group_of(&r), r.t)
            });
            for g in sel.chunk_by(|&x, &y| group_of(&self.rec(x)) == group_of(&self.rec(y))) {
                let (peak, i, j) = distinct_peak(recs, g, fan.secs, key_of);
                if peak < fan.threshold.max(2) {
                    continue;
                }
                let Some(range) = g.get(i..=j) else { continue };
                let group_name = strs.name(group_of(&self.rec(range[0]))).to_string();
                let mut related: BTreeMap<&str, u64> = BTreeMap::new();
                for &k in range {
                    *related.entry(strs.name(key_of(&self.rec(k)))).or_default() += 1;
                }
                let identity = Identity::new(fan.group_kind, group_name);
                let (mut f, s) = self.finding(
                    fan.kind,
                    fan.severity,
                    identity,
                    range,
                    fan.secs,
                    peak as u64,
                );
                let mut rel: Vec<(&str, u64)> = related.into_iter().collect();
                rel.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                let shown = rel.len().min(cfg.samples.max(1) * 4);
                f.related = rel.iter().take(shown).map(|r| r.0.to_string()).collect();
                f.evidence = format!(
                    "{}: {} {} within {} ({} – {}): {}{}; {} messages, {} recipients",
                    f.identity,
                    peak,
                    fan.what,
                    window_name(fan.secs),
                    format_utc(f.window_start),
                    format_utc(f.window_end),
                    f.related.join(", "),
                    if rel.len() > shown { ", …" } else { "" },
                    s.messages,
                    s.recipients
                );
                out.push(f);
            }
        }
    }

    fn mismatches(&self, active: &[u32], out: &mut Vec<MailFinding>) {
        let strs = &self.det.strs;
        // account → (messages, senders → messages, records)
        type Acc = (HashSet<u32>, BTreeMap<u32, HashSet<u32>>, Vec<u32>);
        let mut by_acct: BTreeMap<u32, Acc> = BTreeMap::new();
        let mut checked: HashMap<(u32, u32), bool> = HashMap::new();
        for &k in active {
            let r = self.rec(k);
            if r.acct == NONE || r.sender == NONE {
                continue;
            }
            let bad = *checked
                .entry((r.acct, r.sender))
                .or_insert_with(|| !sender_matches(strs.name(r.acct), strs.name(r.sender)));
            if !bad {
                continue;
            }
            let e = by_acct.entry(r.acct).or_default();
            e.0.insert(r.msg);
            e.1.entry(r.sender).or_default().insert(r.msg);
            e.2.push(k);
        }
        for (acct, (msgs, senders, mut ks)) in by_acct {
            ks.sort_by_key(|&k| self.rec(k).t);
            let identity = Identity::new(IdentityKind::Account, strs.name(acct));
            let severity = if senders.len() >= 3 {
                Severity::Medium
            } else {
                Severity::Low
            };
            let (mut f, _) = self.finding(
                "MAIL_SENDER_MISMATCH",
                severity,
                identity,
                &ks,
                0,
                msgs.len() as u64,
            );
            let mut rel: Vec<(&str, usize)> = senders
                .iter()
                .map(|(&s, m)| (strs.name(s), m.len()))
                .collect();
            rel.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let shown = rel.len().min(self.det.cfg.samples.max(1) * 4);
            f.related = rel.iter().take(shown).map(|r| r.0.to_string()).collect();
            f.evidence = format!(
                "{}: {} messages with another envelope sender ({}{}), {} – {}",
                f.identity,
                msgs.len(),
                rel.iter()
                    .take(shown)
                    .map(|(s, n)| format!("{s} ×{n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if rel.len() > shown { ", …" } else { "" },
                format_utc(f.window_start),
                format_utc(f.window_end)
            );
            out.push(f);
        }
    }
}

/// Runs the [`Detector`] over `events` and returns its findings.
pub fn detect(events: &[MailEvent], cfg: &BurstConfig) -> Vec<MailFinding> {
    let mut d = Detector::new(cfg.clone());
    for e in events {
        d.push(e);
    }
    d.finish().findings
}
