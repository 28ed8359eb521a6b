//! Capture path of `kensa net analyze`: pcap / pcapng (optionally gzip-compressed) → Zeek-conn-log
//! compatible connection records, with the first payload bytes of each direction kept for the
//! application-layer parsers.
//!
//! # Pipeline
//! 1. [`open`] sniffs the magic (gzip `1f 8b`, legacy pcap in both byte orders with micro- or
//!    nanosecond timestamps, pcapng `0a 0d 0d 0a`) and wraps gzip in
//!    [`flate2::read::MultiGzDecoder`] (concatenated members are read as one stream).
//! 2. [`read_packets`] streams blocks through pcap-parser's refilling readers (`LegacyPcapReader`,
//!    `PcapNGReader`): memory is one read buffer (grown up to [`CaptureConfig::max_block_bytes`] for
//!    big blocks), never the file. pcapng sections and interfaces are tracked: each interface brings
//!    its own link type, `if_tsresol` and `if_tsoffset`.
//! 3. [`FlowTable`] slices each frame with etherparse (L2 → L4) and keeps a bounded table of open
//!    connections keyed by the bidirectional 5-tuple; finished connections are handed to the caller
//!    as [`ConnRecord`]s as soon as they end (close, idle timeout, eviction), the rest at the end.
//!
//! [`read_capture`] runs all three.
//!
//! # Link types
//! Supported (LINKTYPE numbers): 0 `NULL` (BSD loopback, host-order address family), 1 `ETHERNET`
//! (with 802.1Q / 802.1ad VLAN tags, up to three link extensions), 12 and 14 (`DLT_RAW` as written
//! by some BSDs), 101 `RAW`, 108 `LOOP` (network-order address family), 113 `LINUX_SLL`, 228
//! `IPV4`, 229 `IPV6`, 276 `LINUX_SLL2`. Any other link type is counted in
//! [`SkipCounts::unsupported_link_types`] with its number, packets are not decoded.
//!
//! # Connection records
//! * **Direction.** `orig` is the side that sent the first packet of the connection, except when
//!   that packet is a TCP SYN+ACK: then the SYN was missed and the receiver is `orig` (history gets
//!   `^`, as in Zeek).
//! * **TCP bytes** (`orig_bytes`, `resp_bytes`) are counted in sequence space like Zeek: the
//!   highest sequence number reached minus the first (ISN + 1 when the SYN was seen), so
//!   retransmissions count once and a lost segment still counts. **UDP/ICMP bytes** are payload
//!   lengths (after the 8-byte UDP/ICMP header). `*_ip_bytes` are IP total lengths from the IP
//!   headers (also for packets cut by the snap length); `*_pkts` count every packet.
//! * **`conn_state`** (TCP), from the flags seen on each side:
//!   | state | rule |
//!   |---|---|
//!   | `S0` | orig SYN, nothing from the responder |
//!   | `REJ` | orig SYN, responder RST, no SYN+ACK |
//!   | `RSTOS0` | orig SYN then orig RST, no SYN+ACK |
//!   | `SH` | orig SYN then orig FIN, no SYN+ACK |
//!   | `RSTRH` | responder SYN+ACK then responder RST, no SYN from orig |
//!   | `SHR` | responder SYN+ACK then responder FIN, no SYN from orig |
//!   | `S1` | SYN and SYN+ACK seen, no FIN or RST |
//!   | `SF` | SYN and SYN+ACK seen, FIN from both sides, no RST |
//!   | `S2` / `S3` | established, FIN from orig only / from responder only |
//!   | `RSTO` / `RSTR` | established, the first RST came from orig / from the responder |
//!   | `OTH` | no SYN seen (mid-stream), or SYN answered by something other than SYN+ACK or RST |
//!
//!   UDP and ICMP: `SF` when both sides sent, `S0` when only orig did.
//! * **`history`**: Zeek-like letters, each recorded once per direction in order of first
//!   occurrence, upper case from orig, lower case from the responder: `S` SYN, `H` SYN+ACK, `A` pure
//!   ACK, `D` payload, `F` FIN, `R` RST, `^` direction flipped. No repeat counts, no `T`/`W`/`C`.
//! * **TCP connection boundaries.** A connection closes on a RST from either side or when both
//!   sides have sent FIN; it stays in the table until [`CaptureConfig::tcp_close_linger_secs`]
//!   pass without a packet, so late ACKs, retransmitted FINs and the final RST of a half-dead
//!   peer still count in it instead of making stray `OTH` records (Zeek's `tcp_close_delay` is
//!   5 s; the Unit 42 sample has FIN retransmissions up to 10 s apart, which would otherwise add
//!   one-packet records to the C2 pairs and skew connection counts). A SYN (without ACK) on the same 5-tuple after the close, a SYN with a
//!   different ISN from orig, or any SYN on a mid-stream (`OTH`) connection starts a **new**
//!   record; a retransmitted SYN with the same ISN stays in the same record. Open connections end
//!   after [`CaptureConfig::tcp_idle_secs`] without packets (Zeek's 5-minute inactivity timeout).
//! * **UDP / ICMP** flows end after [`CaptureConfig::udp_idle_secs`] without packets (60 s, as
//!   Zeek's `udp_inactivity_timeout`). ICMP is keyed like Zeek: orig port = ICMP type, resp port =
//!   code, and an echo/timestamp/information/address-mask reply joins its request.
//! * **Bounded table.** At most [`CaptureConfig::max_flows`] connections are open; a new one then
//!   evicts the connection closest to its timeout (the least recently active), which is emitted
//!   with [`ConnEnd::Evicted`] (a closed one pushed out early keeps [`ConnEnd::Closed`]). Records
//!   are emitted in order of completion, not of start; those still open at the end come last,
//!   sorted by start time ([`ConnEnd::EndOfCapture`]). Sort by `ts` if order matters.
//! * **Time.** Expiry follows the latest timestamp seen so far, so out-of-order packets are
//!   accounted where they belong (`first`/`last` are minimum/maximum) and counted in
//!   [`CaptureStats::ts_backwards`]. Legacy pcap `thiszone` is ignored (always 0 in practice);
//!   pcapng simple packet blocks carry no time and take the previous packet's.
//!
//! # Payload hook
//! Per TCP direction, the first [`CaptureConfig::payload_bytes`] bytes of **in-order** payload are
//! kept ([`ConnRecord::first_orig_payload`], [`ConnRecord::first_resp_payload`]; limits
//! below). Per UDP flow the first datagrams are kept in
//! [`ConnRecord::datagrams`] (DNS-format ports 53, 5353, 5355 up to
//! [`CaptureConfig::max_dns_msgs_per_flow`], others up to
//! [`CaptureConfig::max_udp_datagrams_per_flow`]); the first datagram of each direction is also
//! copied into `first_*_payload`. All retained payload together is capped by
//! [`CaptureConfig::payload_memory_budget`].
//!
//! TCP reassembly limits: segments are placed by sequence number relative to the ISN + 1 (or the
//! first data segment when the SYN was not seen); retransmissions and overlaps keep the bytes
//! already stored; up to 32 out-of-order segments within 256 KiB ahead of the next expected byte
//! wait for the hole to fill. A hole that never fills, a pending-queue overflow, a segment cut by
//! the snap length, or the memory budget stop the stream there and set `*_payload_gap`. Data before
//! the first segment seen of a mid-stream connection is lost. No urgent data, no SACK, no
//! checksum verification, no handling of overlapping segments with *different* bytes (first
//! copy wins).
//!
//! # Not handled
//! IP fragments (IPv4 MF/offset, IPv6 fragment header) are counted in [`SkipCounts::fragments`]
//! and not reassembled; tunnels (GRE, VXLAN, IP-in-IP), 802.11 and other link types are not
//! decoded; other IP protocols (IGMP, ESP, …) are counted by protocol number.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::IpAddr;

mod flow;
mod packet;
mod reader;
mod tcp;
#[cfg(test)]
mod tests;

pub use flow::{ConnEnd, ConnRecord, ConnState, Datagram, FlowStats, FlowTable, Proto};
pub use packet::SUPPORTED_LINK_TYPES;
pub use reader::{CaptureFormat, CaptureInput, RawPacket, Sniffed, open, read_packets, sniff};

/// Limits and timeouts of the capture path. All caps are enforced; see the module docs for what
/// happens when one is reached.
#[derive(Clone, Debug)]
pub struct CaptureConfig {
    /// Connections open at once (default 1,000,000; at least 1). Each costs about 400 bytes plus
    /// its retained payload.
    pub max_flows: usize,
    /// In-order TCP payload kept per direction, and per UDP datagram (default 16 KiB).
    pub payload_bytes: usize,
    /// Total payload bytes retained over all open connections (default 256 MiB); past it, no new
    /// payload is kept until records are emitted.
    pub payload_memory_budget: usize,
    /// UDP and ICMP inactivity timeout in seconds (default 60).
    pub udp_idle_secs: u32,
    /// TCP inactivity timeout in seconds (default 300).
    pub tcp_idle_secs: u32,
    /// How long after its last packet a closed TCP connection (RST, or FIN both ways) still
    /// collects late packets (default 60 s).
    pub tcp_close_linger_secs: u32,
    /// Datagrams kept per DNS-format UDP flow (ports 53, 5353, 5355; default 32).
    pub max_dns_msgs_per_flow: usize,
    /// Datagrams kept per other UDP flow (default 4).
    pub max_udp_datagrams_per_flow: usize,
    /// Initial read buffer of the streaming reader (default 256 KiB).
    pub read_buffer_bytes: usize,
    /// Largest pcap record / pcapng block accepted (default 16 MiB); a bigger one ends the read
    /// with [`CaptureError::BlockTooLarge`].
    pub max_block_bytes: usize,
    /// Stop after this many (decompressed) capture bytes, reported as
    /// [`CaptureError::LimitReached`] (default: no limit). Guards against gzip bombs.
    pub max_input_bytes: Option<u64>,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig {
            max_flows: 1_000_000,
            payload_bytes: 16 * 1024,
            payload_memory_budget: 256 * 1024 * 1024,
            udp_idle_secs: 60,
            tcp_idle_secs: 300,
            tcp_close_linger_secs: 60,
            max_dns_msgs_per_flow: 32,
            max_udp_datagrams_per_flow: 4,
            read_buffer_bytes: 256 * 1024,
            max_block_bytes: 16 * 1024 * 1024,
            max_input_bytes: None,
        }
    }
}

/// What went wrong, and where: offsets are byte offsets in the (decompressed) capture stream, at
/// the start of the record or block concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The input is empty.
    #[error("empty input: not a capture")]
    Empty,
    /// The input does not start with a pcap, pcapng or gzip magic.
    #[error("not a pcap/pcapng capture (first bytes {magic:02x?}{})", if *.gzip { ", inside gzip" } else { "" })]
    NotACapture { magic: Vec<u8>, gzip: bool },
    /// Reading the input (or inflating gzip) failed.
    #[error("read error at offset {offset}: {source}")]
    Io {
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    /// The capture ends in the middle of a header, record or block.
    #[error("capture truncated at offset {offset}: {what} incomplete")]
    Truncated { offset: u64, what: &'static str },
    /// A header, record or block is not well formed.
    #[error("malformed {what} at offset {offset}")]
    Malformed { offset: u64, what: &'static str },
    /// A record or block is larger than [`CaptureConfig::max_block_bytes`].
    #[error("{what} at offset {offset} is {size} bytes, over the {limit}-byte limit")]
    BlockTooLarge {
        offset: u64,
        what: &'static str,
        size: u64,
        limit: u64,
    },
    /// [`CaptureConfig::max_input_bytes`] was reached.
    #[error("input limit of {limit} bytes reached at offset {offset}")]
    LimitReached { offset: u64, limit: u64 },
}

impl CaptureError {
    /// Offset in the (decompressed) capture stream, if the error has one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            CaptureError::Empty | CaptureError::NotACapture { .. } => None,
            CaptureError::Io { offset, .. }
            | CaptureError::Truncated { offset, .. }
            | CaptureError::Malformed { offset, .. }
            | CaptureError::BlockTooLarge { offset, .. }
            | CaptureError::LimitReached { offset, .. } => Some(*offset),
        }
    }
}

/// Packets that reached the flow table but were not turned into connection data, by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SkipCounts {
    /// Link type number → packets.
    pub unsupported_link_types: BTreeMap<u32, u64>,
    /// Not IP (ARP, LLDP, STP, IPX, …).
    pub non_ip: u64,
    /// IPv4 or IPv6 fragments (not reassembled).
    pub fragments: u64,
    /// Cut before the end of the link, IP or TCP/UDP/ICMP header.
    pub truncated: u64,
    /// Header contents invalid (bad IHL, IP version, extension header order, …).
    pub malformed: u64,
    /// IP protocol number → packets, for protocols other than TCP, UDP, ICMP and ICMPv6.
    pub other_ip_protocols: BTreeMap<u8, u64>,
}

impl SkipCounts {
    /// All skipped packets.
    pub fn total(&self) -> u64 {
        self.unsupported_link_types.values().sum::<u64>()
            + self.non_ip
            + self.fragments
            + self.truncated
            + self.malformed
            + self.other_ip_protocols.values().sum::<u64>()
    }
}

/// At most this many errors are kept in [`CaptureStats::errors`]; all are counted.
pub const MAX_STORED_ERRORS: usize = 32;

/// What the reader and the flow table saw.
#[derive(Debug, Default)]
pub struct CaptureStats {
    /// Container format, once known.
    pub format: Option<CaptureFormat>,
    /// The input was gzip-compressed.
    pub gzip: bool,
    /// Packet records read (legacy records, pcapng EPB and SPB).
    pub packets: u64,
    /// Captured bytes of those packets.
    pub bytes: u64,
    /// Bytes of the capture stream consumed (decompressed).
    pub stream_bytes: u64,
    /// Earliest / latest packet timestamp, epoch nanoseconds.
    pub first_ts_nanos: Option<i64>,
    pub last_ts_nanos: Option<i64>,
    /// Packets whose timestamp is earlier than the packet before.
    pub ts_backwards: u64,
    /// Link type number → packets.
    pub link_types: BTreeMap<u32, u64>,
    /// pcapng sections and interfaces seen.
    pub sections: u64,
    pub interfaces: u64,
    /// pcapng blocks other than SHB/IDB/EPB/SPB (name resolution, statistics, custom, …).
    pub other_blocks: u64,
    /// pcapng packets naming an interface that no IDB of their section described (not decoded).
    pub unknown_interface_packets: u64,
    /// Packets whose captured length is shorter than the original length (snap length).
    pub snapped_packets: u64,
    /// Packet-level skips and connection counts from the flow table.
    pub flows: FlowStats,
    /// `true` when the whole input was read to a clean end of file.
    pub complete: bool,
    /// Problems met, in order (at most [`MAX_STORED_ERRORS`]); a fatal one ends the list.
    pub errors: Vec<CaptureError>,
    /// All problems met, stored or not.
    pub error_count: u64,
}

impl CaptureStats {
    /// First packet timestamp, epoch seconds.
    pub fn first_ts(&self) -> Option<f64> {
        self.first_ts_nanos.map(nanos_to_secs)
    }
    /// Last packet timestamp, epoch seconds.
    pub fn last_ts(&self) -> Option<f64> {
        self.last_ts_nanos.map(nanos_to_secs)
    }
    /// Capture span (last − first), seconds.
    pub fn duration(&self) -> f64 {
        match (self.first_ts_nanos, self.last_ts_nanos) {
            (Some(a), Some(b)) => nanos_to_secs(b.saturating_sub(a).max(0)),
            _ => 0.0,
        }
    }

    pub(crate) fn push_error(&mut self, e: CaptureError) {
        self.error_count = self.error_count.saturating_add(1);
        if self.errors.len() < MAX_STORED_ERRORS {
            self.errors.push(e);
        }
    }
}

/// Epoch nanoseconds → epoch seconds.
pub(crate) fn nanos_to_secs(n: i64) -> f64 {
    let secs = n.div_euclid(1_000_000_000);
    let frac = n.rem_euclid(1_000_000_000);
    secs as f64 + frac as f64 / 1e9
}

/// Read a whole capture (pcap, pcapng, either gzip-compressed) and call `on_conn` for every
/// connection, as each one finishes and for the rest at the end.
///
/// Returns `Err` only when the input is not a readable capture at all (empty, unknown magic, bad
/// file header). A problem later in the stream (truncation, a malformed record, a read error)
/// ends the read there: every connection seen so far is still emitted, and the problem is in
/// [`CaptureStats::errors`] with `complete == false`.
///
/// Several captures of one incident (rotated files) go into one table with the parts:
/// ```no_run
/// # use kensa_net::capture::*;
/// # fn f(files: Vec<std::fs::File>) -> Result<(), CaptureError> {
/// let cfg = CaptureConfig::default();
/// let mut table = FlowTable::new(&cfg);
/// let mut on_conn = |c: ConnRecord| println!("{} {}", c.resp_h, c.conn_state.as_str());
/// for f in files {
///     let mut stats = CaptureStats::default();
///     read_packets(open(f)?, &cfg, &mut stats, |p| table.push(p, &mut on_conn))?;
/// }
/// let flow_stats = table.finish(&mut on_conn);
/// # Ok(()) }
/// ```
pub fn read_capture<R: Read>(
    r: R,
    cfg: &CaptureConfig,
    mut on_conn: impl FnMut(ConnRecord),
) -> Result<CaptureStats, CaptureError> {
    let input = open(r)?;
    let mut stats = CaptureStats::default();
    let mut table = FlowTable::new(cfg);
    read_packets(input, cfg, &mut stats, |p| table.push(p, &mut on_conn))?;
    stats.flows = table.finish(&mut on_conn);
    Ok(stats)
}

/// Internal address per RITA's default `internal_subnets` (spec §1.1): RFC 1918 (10/8,
/// 172.16/12, 192.168/16) and fd00::/8 (IPv4-mapped IPv6 addresses are judged as IPv4).
///
/// Loopback (127/8, ::1), link-local (169.254/16, fe80::/10), multicast, broadcast and
/// unspecified addresses are **not** internal here; use [`is_local_scope`] to set them aside
/// (e.g. SSDP to 239.255.255.250) rather than treat them as Internet peers.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.is_private(),
            None => v6.octets()[0] == 0xfd,
        },
    }
}

/// Addresses that never leave the local network segment or host: loopback, link-local,
/// multicast, broadcast, unspecified.
pub fn is_local_scope(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified()
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_local_scope(IpAddr::V4(v4)),
            None => {
                v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || v6.is_unicast_link_local()
            }
        },
    }
}
