//! Bounded bidirectional connection table and Zeek-conn-log-compatible records.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use super::packet::{self, L4, Skip, Tcp};
use super::tcp::{Budget, Stream};
use super::{CaptureConfig, RawPacket, SkipCounts, is_internal, nanos_to_secs};

const NANOS: i64 = 1_000_000_000;
/// A TCP sequence jump this far past the segment is not counted as lost bytes.
const MAX_SEQ_GAP: u64 = 16 * 1024 * 1024;

/// Transport protocol, as Zeek's `proto` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
    /// ICMP and ICMPv6.
    Icmp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
        }
    }
}

/// Zeek `conn_state` (see the module docs for the rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnState {
    S0,
    S1,
    Sf,
    Rej,
    S2,
    S3,
    Rsto,
    Rstr,
    Rstos0,
    Rstrh,
    Sh,
    Shr,
    Oth,
}

impl ConnState {
    /// Zeek's spelling (`S0`, `SF`, `REJ`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ConnState::S0 => "S0",
            ConnState::S1 => "S1",
            ConnState::Sf => "SF",
            ConnState::Rej => "REJ",
            ConnState::S2 => "S2",
            ConnState::S3 => "S3",
            ConnState::Rsto => "RSTO",
            ConnState::Rstr => "RSTR",
            ConnState::Rstos0 => "RSTOS0",
            ConnState::Rstrh => "RSTRH",
            ConnState::Sh => "SH",
            ConnState::Shr => "SHR",
            ConnState::Oth => "OTH",
        }
    }
}

/// Why a record was emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnEnd {
    /// TCP closed (RST, or FIN both ways) and the linger time passed, or a new SYN reused the
    /// 5-tuple after the close.
    Closed,
    /// No packet for the inactivity timeout.
    Idle,
    /// A new SYN on the 5-tuple of a connection that had not closed (new ISN from orig, or a SYN
    /// after mid-stream traffic).
    Reused,
    /// Pushed out because [`CaptureConfig::max_flows`] connections were open.
    Evicted,
    /// Still open when the capture ended (Zeek's `open_conn`).
    EndOfCapture,
}

/// A UDP datagram kept for the application-layer parsers (DNS: one message each).
#[derive(Clone, Debug, PartialEq)]
pub struct Datagram {
    /// Epoch seconds.
    pub ts: f64,
    pub from_orig: bool,
    /// Payload, at most [`CaptureConfig::payload_bytes`].
    pub payload: Vec<u8>,
    /// The payload is shorter than on the wire (snap length, cap or memory budget).
    pub truncated: bool,
}

/// One connection, with the columns of Zeek's conn.log plus the payload hook.
#[derive(Clone, Debug)]
pub struct ConnRecord {
    /// Sequential id within one [`FlowTable`] (order of first packet).
    pub uid: u64,
    /// First packet, epoch seconds.
    pub ts: f64,
    pub orig_h: IpAddr,
    pub orig_p: u16,
    pub resp_h: IpAddr,
    pub resp_p: u16,
    pub proto: Proto,
    /// Last packet − first packet, seconds.
    pub duration: f64,
    pub orig_bytes: u64,
    pub resp_bytes: u64,
    pub conn_state: ConnState,
    /// [`is_internal`] of each side.
    pub local_orig: bool,
    pub local_resp: bool,
    pub history: String,
    pub orig_pkts: u64,
    pub orig_ip_bytes: u64,
    pub resp_pkts: u64,
    pub resp_ip_bytes: u64,
    pub end: ConnEnd,
    /// TCP: first in-order payload bytes from orig (≤ `payload_bytes`); UDP: first datagram.
    pub first_orig_payload: Vec<u8>,
    pub first_resp_payload: Vec<u8>,
    /// The payload above stops at a hole (lost/unseen segment, snap length, memory budget)
    /// before reaching `payload_bytes`.
    pub orig_payload_gap: bool,
    pub resp_payload_gap: bool,
    /// UDP datagrams in arrival order, capped per flow.
    pub datagrams: Vec<Datagram>,
}

/// Flow-table counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Packets decoded into a connection.
    pub decoded_packets: u64,
    pub skipped: SkipCounts,
    /// Records emitted, by reason.
    pub conns: u64,
    pub closed: u64,
    pub idle: u64,
    pub reused: u64,
    pub evicted: u64,
    pub end_of_capture: u64,
    /// Most connections open at once.
    pub peak_open: usize,
    /// Payload bytes not kept because the memory budget was spent.
    pub payload_budget_denied: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    a: IpAddr,
    pa: u16,
    b: IpAddr,
    pb: u16,
    proto: u8,
}

fn make_key(src: IpAddr, sp: u16, dst: IpAddr, dp: u16, proto: u8) -> Key {
    if (src, sp) <= (dst, dp) {
        Key {
            a: src,
            pa: sp,
            b: dst,
            pb: dp,
            proto,
        }
    } else {
        Key {
            a: dst,
            pa: dp,
            b: src,
            pb: sp,
            proto,
        }
    }
}

#[derive(Debug, Default)]
struct Side {
    pkts: u64,
    ip_bytes: u64,
    bytes: u64,
    syn: bool,
    synack: bool,
    fin: bool,
    rst: bool,
    isn: Option<u32>,
    /// Sequence number past the highest payload byte seen.
    seq_end: Option<u32>,
    stream: Stream,
}

impl Side {
    fn account(&mut self, start: u32, len: u32) {
        let end = start.wrapping_add(len);
        match self.seq_end {
            None => {
                self.seq_end = Some(end);
                self.bytes = self.bytes.saturating_add(u64::from(len));
            }
            Some(cur) => {
                let delta = end.wrapping_sub(cur) as i32;
                if delta > 0 {
                    let d = u64::from(delta.unsigned_abs());
                    if d <= u64::from(len) + MAX_SEQ_GAP {
                        // Counts a hole before this segment too, as Zeek does.
                        self.bytes = self.bytes.saturating_add(d);
                        self.seq_end = Some(end);
                    } else {
                        self.bytes = self.bytes.saturating_add(u64::from(len));
                    }
                }
            }
        }
    }
}

#[derive(Debug)]
struct Flow {
    uid: u64,
    proto: Proto,
    orig: (IpAddr, u16),
    resp: (IpAddr, u16),
    first_ts: i64,
    last_ts: i64,
    sides: [Side; 2],
    history: String,
    /// (letter, side) pairs already in `history`.
    hist_seen: u16,
    closed_at: Option<i64>,
    first_rst: Option<usize>,
    /// Key in the expiry index.
    slot: i64,
    datagrams: Vec<Datagram>,
    dgram_cap: usize,
}

const HIST_LETTERS: &[u8; 7] = b"SHADFR^";

impl Flow {
    fn new(uid: u64, proto: Proto, orig: (IpAddr, u16), resp: (IpAddr, u16), ts: i64) -> Self {
        Flow {
            uid,
            proto,
            orig,
            resp,
            first_ts: ts,
            last_ts: ts,
            sides: [Side::default(), Side::default()],
            history: String::new(),
            hist_seen: 0,
            closed_at: None,
            first_rst: None,
            slot: 0,
            datagrams: Vec::new(),
            dgram_cap: 0,
        }
    }

    fn side_of(&self, src: IpAddr, sport: u16) -> usize {
        usize::from((src, sport) != self.orig)
    }

    fn hist(&mut self, letter: u8, side: usize) {
        let Some(i) = HIST_LETTERS.iter().position(|&l| l == letter) else {
            return;
        };
        let bit = 1u16 << (i * 2 + side.min(1));
        if self.hist_seen & bit == 0 {
            self.hist_seen |= bit;
            let c = if side == 0 || letter == b'^' {
                letter
            } else {
                letter.to_ascii_lowercase()
            };
            self.history.push(char::from(c));
        }
    }

    fn touch(&mut self, ts: i64, side: usize, ip_bytes: u64) {
        self.first_ts = self.first_ts.min(ts);
        self.last_ts = self.last_ts.max(ts);
        let s = &mut self.sides[side.min(1)];
        s.pkts = s.pkts.saturating_add(1);
        s.ip_bytes = s.ip_bytes.saturating_add(ip_bytes);
    }

    /// Whether a SYN (without ACK) from `(src, sport)` with sequence number `seq` opens a new
    /// connection on this 5-tuple rather than belonging to this one.
    fn starts_anew(&self, src: IpAddr, sport: u16, seq: u32) -> bool {
        if self.closed_at.is_some() {
            return true;
        }
        let [o, r] = &self.sides;
        if !o.syn && !o.synack && !r.syn && !r.synack {
            // Mid-stream record: this SYN opens something new.
            return true;
        }
        self.side_of(src, sport) == 0 && o.syn && o.isn.is_some_and(|isn| isn != seq)
    }

    fn tcp_packet(&mut self, src: IpAddr, t: &Tcp<'_>, ts: i64, cap: usize, budget: &mut Budget) {
        let s = self.side_of(src, t.sport);
        if t.syn {
            self.hist(if t.ack { b'H' } else { b'S' }, s);
        }
        if t.fin {
            self.hist(b'F', s);
        }
        if t.rst {
            self.hist(b'R', s);
        }
        if t.ack && !t.syn && !t.fin && !t.rst && t.len == 0 {
            self.hist(b'A', s);
        }
        if t.len > 0 && !t.rst {
            self.hist(b'D', s);
        }
        if t.rst && self.first_rst.is_none() {
            self.first_rst = Some(s);
        }
        let side = &mut self.sides[s];
        if t.syn {
            if t.ack {
                side.synack = true;
            } else {
                side.syn = true;
            }
            if side.isn.is_none() {
                side.isn = Some(t.seq);
            }
            side.stream.on_syn(t.seq);
            if side.seq_end.is_none() {
                side.seq_end = Some(t.seq.wrapping_add(1));
            }
        }
        if t.fin {
            side.fin = true;
        }
        if t.rst {
            side.rst = true;
        }
        if t.len > 0 && !t.rst {
            let start = if t.syn { t.seq.wrapping_add(1) } else { t.seq };
            side.account(start, t.len);
            side.stream.on_data(start, t.payload, t.len, cap, budget);
        }
        if self.closed_at.is_none() && (t.rst || (self.sides[0].fin && self.sides[1].fin)) {
            self.closed_at = Some(ts);
        }
    }

    fn state(&self) -> ConnState {
        let [o, r] = &self.sides;
        if self.proto != Proto::Tcp {
            return if r.pkts > 0 {
                ConnState::Sf
            } else {
                ConnState::S0
            };
        }
        match (o.syn, r.synack) {
            (true, true) => match self.first_rst {
                Some(0) => ConnState::Rsto,
                Some(_) => ConnState::Rstr,
                None => match (o.fin, r.fin) {
                    (true, true) => ConnState::Sf,
                    (true, false) => ConnState::S2,
                    (false, true) => ConnState::S3,
                    (false, false) => ConnState::S1,
                },
            },
            (true, false) => {
                if r.rst {
                    ConnState::Rej
                } else if o.rst {
                    ConnState::Rstos0
                } else if o.fin {
                    ConnState::Sh
                } else if r.pkts == 0 {
                    ConnState::S0
                } else {
                    ConnState::Oth
                }
            }
            (false, true) => {
                if r.rst {
                    ConnState::Rstrh
                } else if r.fin {
                    ConnState::Shr
                } else {
                    ConnState::Oth
                }
            }
            (false, false) => ConnState::Oth,
        }
    }

    /// Expiry-index slot: the deadline rounded up to the next whole second, so an active flow
    /// moves in the index at most once a second.
    fn expiry_slot(&self, cfg: &CaptureConfig) -> i64 {
        let secs = |s: u32| i64::from(s).saturating_mul(NANOS);
        let wait = match (self.closed_at, self.proto) {
            (Some(_), _) => cfg.tcp_close_linger_secs,
            (None, Proto::Tcp) => cfg.tcp_idle_secs,
            (None, Proto::Udp | Proto::Icmp) => cfg.udp_idle_secs,
        };
        let deadline = self.last_ts.saturating_add(secs(wait));
        deadline
            .div_euclid(NANOS)
            .saturating_add(1)
            .saturating_mul(NANOS)
    }

    #[cfg(test)]
    fn held(&self) -> usize {
        self.sides[0].stream.held()
            + self.sides[1].stream.held()
            + self
                .datagrams
                .iter()
                .map(|d| d.payload.len())
                .sum::<usize>()
    }

    fn into_record(mut self, end: ConnEnd, budget: &mut Budget) -> ConnRecord {
        let conn_state = self.state();
        let (first_orig_payload, orig_payload_gap) = self.sides[0].stream.take_out(budget);
        let (first_resp_payload, resp_payload_gap) = self.sides[1].stream.take_out(budget);
        for d in &self.datagrams {
            budget.give_back(d.payload.len());
        }
        let [o, r] = &self.sides;
        ConnRecord {
            uid: self.uid,
            ts: nanos_to_secs(self.first_ts),
            orig_h: self.orig.0,
            orig_p: self.orig.1,
            resp_h: self.resp.0,
            resp_p: self.resp.1,
            proto: self.proto,
            duration: nanos_to_secs(self.last_ts.saturating_sub(self.first_ts).max(0)),
            orig_bytes: o.bytes,
            resp_bytes: r.bytes,
            conn_state,
            local_orig: is_internal(self.orig.0),
            local_resp: is_internal(self.resp.0),
            history: self.history,
            orig_pkts: o.pkts,
            orig_ip_bytes: o.ip_bytes,
            resp_pkts: r.pkts,
            resp_ip_bytes: r.ip_bytes,
            end,
            first_orig_payload,
            first_resp_payload,
            orig_payload_gap,
            resp_payload_gap,
            datagrams: self.datagrams,
        }
    }
}

/// DNS-format UDP ports: DNS, mDNS, LLMNR.
fn is_dns_port(p: u16) -> bool {
    matches!(p, 53 | 5353 | 5355)
}

/// ICMP reply type → its request type (v4: echo, timestamp, information, address mask; v6:
/// echo).
fn icmp_request_of(typ: u8, v6: bool) -> Option<u8> {
    match (v6, typ) {
        (false, 0) => Some(8),
        (false, 14) => Some(13),
        (false, 16) => Some(15),
        (false, 18) => Some(17),
        (true, 129) => Some(128),
        _ => None,
    }
}

/// The connection table. Feed it packets with [`FlowTable::push`] (from one or several
/// captures, in time order), then [`FlowTable::finish`].
pub struct FlowTable {
    cfg: CaptureConfig,
    flows: HashMap<Key, Flow>,
    /// (expiry slot, uid) → key, earliest first.
    index: BTreeMap<(i64, u64), Key>,
    next_uid: u64,
    now: Option<i64>,
    budget: Budget,
    stats: FlowStats,
}

impl FlowTable {
    pub fn new(cfg: &CaptureConfig) -> Self {
        FlowTable {
            cfg: cfg.clone(),
            flows: HashMap::new(),
            index: BTreeMap::new(),
            next_uid: 0,
            now: None,
            budget: Budget::new(cfg.payload_memory_budget),
            stats: FlowStats::default(),
        }
    }

    /// Connections open now.
    pub fn open_flows(&self) -> usize {
        self.flows.len()
    }

    pub fn stats(&self) -> &FlowStats {
        &self.stats
    }

    /// Payload bytes currently held against the budget (tests check it matches the flows).
    #[cfg(test)]
    pub(crate) fn budget_used(&self) -> usize {
        let held: usize = self.flows.values().map(Flow::held).sum();
        assert_eq!(held, self.budget.used());
        held
    }

    /// Decode one frame and account it; records of connections that end because of it (or
    /// because time moved past their timeout) go to `on_conn`.
    pub fn push(&mut self, pkt: &RawPacket<'_>, on_conn: &mut impl FnMut(ConnRecord)) {
        let p = match packet::decode(pkt.link_type, pkt.data) {
            Ok(p) => p,
            Err(skip) => {
                self.count_skip(skip);
                return;
            }
        };
        self.stats.decoded_packets = self.stats.decoded_packets.saturating_add(1);
        let ts = pkt.ts_nanos;
        let now = self.now.map_or(ts, |n| n.max(ts));
        self.now = Some(now);
        self.expire(now, on_conn);
        match p.l4 {
            L4::Tcp(t) => self.tcp(p.src, p.dst, p.ip_bytes, &t, ts, on_conn),
            L4::Udp {
                sport,
                dport,
                payload,
                len,
            } => self.udp(
                p.src, sport, p.dst, dport, p.ip_bytes, payload, len, ts, on_conn,
            ),
            L4::Icmp { typ, code, v6, len } => {
                let (sp, dp) = match icmp_request_of(typ, v6) {
                    Some(req) => (u16::from(code), u16::from(req)),
                    None => (u16::from(typ), u16::from(code)),
                };
                let key = make_key(p.src, sp, p.dst, dp, if v6 { 58 } else { 1 });
                self.ensure(key, Proto::Icmp, (p.src, sp), (p.dst, dp), ts, on_conn);
                if let Some(flow) = self.flows.get_mut(&key) {
                    let s = flow.side_of(p.src, sp);
                    flow.touch(ts, s, p.ip_bytes);
                    let side = &mut flow.sides[s];
                    side.bytes = side.bytes.saturating_add(len);
                }
                self.reindex(&key);
            }
        }
        self.stats.payload_budget_denied = self.budget.denied;
    }

    /// Emit every open connection (sorted by first packet) and return the counters.
    pub fn finish(mut self, on_conn: &mut impl FnMut(ConnRecord)) -> FlowStats {
        let mut rest: Vec<(i64, u64, Key)> = self
            .flows
            .iter()
            .map(|(k, f)| (f.first_ts, f.uid, *k))
            .collect();
        rest.sort_unstable_by_key(|&(ts, uid, _)| (ts, uid));
        for (_, _, key) in rest {
            let end = match self.flows.get(&key) {
                Some(f) if f.closed_at.is_some() => ConnEnd::Closed,
                _ => ConnEnd::EndOfCapture,
            };
            self.emit(&key, end, on_conn);
        }
        self.stats.payload_budget_denied = self.budget.denied;
        self.stats
    }

    fn count_skip(&mut self, skip: Skip) {
        let s = &mut self.stats.skipped;
        let bump = |n: &mut u64| *n = n.saturating_add(1);
        match skip {
            Skip::UnsupportedLink(l) => bump(s.unsupported_link_types.entry(l).or_insert(0)),
            Skip::NonIp => bump(&mut s.non_ip),
            Skip::Fragment => bump(&mut s.fragments),
            Skip::Truncated => bump(&mut s.truncated),
            Skip::Malformed => bump(&mut s.malformed),
            Skip::OtherProto(p) => bump(s.other_ip_protocols.entry(p).or_insert(0)),
        }
    }

    fn expire(&mut self, now: i64, on_conn: &mut impl FnMut(ConnRecord)) {
        while let Some((&(slot, _), &key)) = self.index.first_key_value() {
            if slot >= now {
                break;
            }
            let end = match self.flows.get(&key) {
                Some(f) if f.closed_at.is_some() => ConnEnd::Closed,
                Some(_) => ConnEnd::Idle,
                None => {
                    // Cannot happen (index and table move together); drop the stray entry.
                    self.index.pop_first();
                    continue;
                }
            };
            self.emit(&key, end, on_conn);
        }
    }

    fn emit(&mut self, key: &Key, end: ConnEnd, on_conn: &mut impl FnMut(ConnRecord)) {
        let Some(flow) = self.flows.remove(key) else {
            return;
        };
        self.index.remove(&(flow.slot, flow.uid));
        let st = &mut self.stats;
        st.conns = st.conns.saturating_add(1);
        let counter = match end {
            ConnEnd::Closed => &mut st.closed,
            ConnEnd::Idle => &mut st.idle,
            ConnEnd::Reused => &mut st.reused,
            ConnEnd::Evicted => &mut st.evicted,
            ConnEnd::EndOfCapture => &mut st.end_of_capture,
        };
        *counter = counter.saturating_add(1);
        on_conn(flow.into_record(end, &mut self.budget));
    }

    /// Make sure a connection exists for `key`, creating it with `orig`/`resp`.
    fn ensure(
        &mut self,
        key: Key,
        proto: Proto,
        orig: (IpAddr, u16),
        resp: (IpAddr, u16),
        ts: i64,
        on_conn: &mut impl FnMut(ConnRecord),
    ) {
        if self.flows.contains_key(&key) {
            return;
        }
        while self.flows.len() >= self.cfg.max_flows.max(1) {
            let Some((_, &victim)) = self.index.first_key_value() else {
                break;
            };
            // A closed connection pushed out early is complete all the same.
            let end = match self.flows.get(&victim) {
                Some(f) if f.closed_at.is_some() => ConnEnd::Closed,
                _ => ConnEnd::Evicted,
            };
            self.emit(&victim, end, on_conn);
        }
        let uid = self.next_uid;
        self.next_uid = self.next_uid.saturating_add(1);
        let mut flow = Flow::new(uid, proto, orig, resp, ts);
        flow.slot = flow.expiry_slot(&self.cfg);
        self.index.insert((flow.slot, uid), key);
        self.flows.insert(key, flow);
        self.stats.peak_open = self.stats.peak_open.max(self.flows.len());
    }

    fn reindex(&mut self, key: &Key) {
        let Some(flow) = self.flows.get_mut(key) else {
            return;
        };
        let slot = flow.expiry_slot(&self.cfg);
        if slot != flow.slot {
            self.index.remove(&(flow.slot, flow.uid));
            self.index.insert((slot, flow.uid), *key);
            flow.slot = slot;
        }
    }

    fn tcp(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        ip_bytes: u64,
        t: &Tcp<'_>,
        ts: i64,
        on_conn: &mut impl FnMut(ConnRecord),
    ) {
        let key = make_key(src, t.sport, dst, t.dport, 6);
        if t.syn && !t.ack {
            let anew = match self.flows.get(&key) {
                Some(f) if f.starts_anew(src, t.sport, t.seq) => Some(if f.closed_at.is_some() {
                    ConnEnd::Closed
                } else {
                    ConnEnd::Reused
                }),
                _ => None,
            };
            if let Some(end) = anew {
                self.emit(&key, end, on_conn);
            }
        }
        let flip = t.syn && t.ack && !self.flows.contains_key(&key);
        let (orig, resp) = if flip {
            ((dst, t.dport), (src, t.sport))
        } else {
            ((src, t.sport), (dst, t.dport))
        };
        self.ensure(key, Proto::Tcp, orig, resp, ts, on_conn);
        let cap = self.cfg.payload_bytes;
        if let Some(flow) = self.flows.get_mut(&key) {
            if flip {
                flow.hist(b'^', 0);
            }
            let s = flow.side_of(src, t.sport);
            flow.touch(ts, s, ip_bytes);
            flow.tcp_packet(src, t, ts, cap, &mut self.budget);
        }
        self.reindex(&key);
    }

    #[allow(clippy::too_many_arguments)]
    fn udp(
        &mut self,
        src: IpAddr,
        sport: u16,
        dst: IpAddr,
        dport: u16,
        ip_bytes: u64,
        payload: &[u8],
        len: u64,
        ts: i64,
        on_conn: &mut impl FnMut(ConnRecord),
    ) {
        let key = make_key(src, sport, dst, dport, 17);
        self.ensure(key, Proto::Udp, (src, sport), (dst, dport), ts, on_conn);
        let cap = self.cfg.payload_bytes;
        let dgram_cap = if is_dns_port(sport) || is_dns_port(dport) {
            self.cfg.max_dns_msgs_per_flow
        } else {
            self.cfg.max_udp_datagrams_per_flow
        };
        if let Some(flow) = self.flows.get_mut(&key) {
            let s = flow.side_of(src, sport);
            flow.touch(ts, s, ip_bytes);
            if len > 0 {
                flow.hist(b'D', s);
            }
            let complete = payload.len() as u64 >= len;
            let side = &mut flow.sides[s];
            side.bytes = side.bytes.saturating_add(len);
            side.stream
                .set_datagram(payload, complete, cap, &mut self.budget);
            flow.dgram_cap = dgram_cap;
            if flow.datagrams.len() < flow.dgram_cap {
                let want = payload.len().min(cap);
                let granted = self.budget.take(want);
                let kept = payload.get(..granted).unwrap_or(&[]).to_vec();
                flow.datagrams.push(Datagram {
                    ts: nanos_to_secs(ts),
                    from_orig: s == 0,
                    truncated: !complete || kept.len() < payload.len(),
                    payload: kept,
                });
            }
        }
        self.reindex(&key);
    }
}
