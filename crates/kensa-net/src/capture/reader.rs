//! Streaming container reader: magic sniffing, gzip, and pcap-parser's refilling readers for legacy
//! pcap and pcapng, with bounded buffers and errors that say where.

use std::io::{self, Chain, Cursor, Read};

use flate2::read::MultiGzDecoder;
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{
    Block, InterfaceDescriptionBlock, LegacyPcapReader, OptionCode, PcapBlockOwned, PcapError,
    PcapNGReader,
};

use super::{CaptureConfig, CaptureError, CaptureStats};

/// Container format of a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Legacy libpcap file. `modified` is Kuznetzov's patched format (magic `a1b2cd34`, 24-byte
    /// record headers; little-endian only).
    Pcap {
        big_endian: bool,
        nanosecond: bool,
        modified: bool,
    },
    /// pcapng (sections may switch byte order).
    PcapNg,
}

/// What the first bytes of an input look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniffed {
    Capture(CaptureFormat),
    /// gzip member (`1f 8b`): look inside with [`open`].
    Gzip,
    Unknown,
}

/// Classify an input by its first bytes (4 are needed for pcap/pcapng, 2 for gzip).
pub fn sniff(prefix: &[u8]) -> Sniffed {
    if prefix.starts_with(&[0x1f, 0x8b]) {
        return Sniffed::Gzip;
    }
    let Some(m) = prefix.get(..4) else {
        return Sniffed::Unknown;
    };
    let pcap = |big_endian, nanosecond, modified| {
        Sniffed::Capture(CaptureFormat::Pcap {
            big_endian,
            nanosecond,
            modified,
        })
    };
    match m {
        [0x0a, 0x0d, 0x0d, 0x0a] => Sniffed::Capture(CaptureFormat::PcapNg),
        [0xd4, 0xc3, 0xb2, 0xa1] => pcap(false, false, false),
        [0xa1, 0xb2, 0xc3, 0xd4] => pcap(true, false, false),
        [0x4d, 0x3c, 0xb2, 0xa1] => pcap(false, true, false),
        [0xa1, 0xb2, 0x3c, 0x4d] => pcap(true, true, false),
        [0x34, 0xcd, 0xb2, 0xa1] => pcap(false, false, true),
        _ => Sniffed::Unknown,
    }
}

/// A capture stream whose format is known, gzip already unwrapped. Made by [`open`].
pub struct CaptureInput<R: Read> {
    format: CaptureFormat,
    gzip: bool,
    /// First bytes of the (decompressed) stream, served again before `inner`.
    prefix: Vec<u8>,
    prefix_pos: usize,
    inner: Inner<R>,
}

enum Inner<R: Read> {
    Plain(R),
    Gzip(Box<MultiGzDecoder<Chain<Cursor<Vec<u8>>, R>>>),
}

impl<R: Read> CaptureInput<R> {
    pub fn format(&self) -> CaptureFormat {
        self.format
    }
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }
}

impl<R: Read> Read for CaptureInput<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(rest) = self.prefix.get(self.prefix_pos..)
            && !rest.is_empty()
        {
            let n = rest.len().min(buf.len());
            if let (Some(dst), Some(src)) = (buf.get_mut(..n), rest.get(..n)) {
                dst.copy_from_slice(src);
            }
            self.prefix_pos += n;
            return Ok(n);
        }
        match &mut self.inner {
            Inner::Plain(r) => r.read(buf),
            Inner::Gzip(g) => g.read(buf),
        }
    }
}

/// Bytes peeked at the start: enough for the pcapng section header's length and byte order.
const PREFIX_LEN: usize = 12;

/// Read up to `n` bytes (fewer only at end of input).
fn read_prefix(r: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        let Some(space) = buf.get_mut(got..) else {
            break;
        };
        match r.read(space) {
            Ok(0) => break,
            Ok(k) => got += k.min(n - got),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    Ok(buf)
}

fn magic_of(prefix: &[u8]) -> Vec<u8> {
    prefix.iter().take(4).copied().collect()
}

/// Sniff `r` and prepare it for [`read_packets`]: plain pcap/pcapng, or either inside gzip
/// (one or more concatenated members).
pub fn open<R: Read>(mut r: R) -> Result<CaptureInput<R>, CaptureError> {
    let head =
        read_prefix(&mut r, PREFIX_LEN).map_err(|source| CaptureError::Io { offset: 0, source })?;
    if head.is_empty() {
        return Err(CaptureError::Empty);
    }
    match sniff(&head) {
        Sniffed::Capture(format) => Ok(CaptureInput {
            format,
            gzip: false,
            prefix: head,
            prefix_pos: 0,
            inner: Inner::Plain(r),
        }),
        Sniffed::Gzip => {
            let mut gz = Box::new(MultiGzDecoder::new(Cursor::new(head).chain(r)));
            let inner_head = read_prefix(&mut gz, PREFIX_LEN)
                .map_err(|source| CaptureError::Io { offset: 0, source })?;
            if inner_head.is_empty() {
                return Err(CaptureError::Empty);
            }
            match sniff(&inner_head) {
                Sniffed::Capture(format) => Ok(CaptureInput {
                    format,
                    gzip: true,
                    prefix: inner_head,
                    prefix_pos: 0,
                    inner: Inner::Gzip(gz),
                }),
                _ => Err(CaptureError::NotACapture {
                    magic: magic_of(&inner_head),
                    gzip: true,
                }),
            }
        }
        Sniffed::Unknown => Err(CaptureError::NotACapture {
            magic: magic_of(&head),
            gzip: false,
        }),
    }
}

/// One captured frame, borrowed from the reader's buffer for the duration of the callback.
#[derive(Clone, Copy, Debug)]
pub struct RawPacket<'a> {
    /// Epoch nanoseconds (pcapng: after `if_tsresol` and `if_tsoffset`; SPB: the previous
    /// packet's time, as SPBs carry none).
    pub ts_nanos: i64,
    /// LINKTYPE number of the interface.
    pub link_type: u32,
    /// Captured bytes (without pcapng padding).
    pub data: &'a [u8],
    /// Length on the wire.
    pub orig_len: u32,
    /// pcapng interface index (0 for legacy pcap).
    pub interface: u32,
    /// Offset of the record or block in the (decompressed) stream.
    pub offset: u64,
}

/// Counts what passes and remembers the first hard read error (pcap-parser reduces read errors
/// to `ReadError`). Fills the caller's buffer as far as the input allows, so a short read never
/// looks like a truncated header.
struct Source<R> {
    inner: R,
    pos: u64,
    limit: Option<u64>,
    limit_hit: bool,
    failed: Option<io::ErrorKind>,
    last_err: Option<io::Error>,
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(kind) = self.failed {
            return Err(io::Error::from(kind));
        }
        let mut n = 0;
        while n < buf.len() {
            let mut want = buf.len() - n;
            if let Some(limit) = self.limit {
                let left = limit.saturating_sub(self.pos);
                if left == 0 {
                    self.limit_hit = true;
                    break;
                }
                want = want.min(usize::try_from(left).unwrap_or(usize::MAX));
            }
            let Some(space) = buf.get_mut(n..n + want) else {
                break;
            };
            match self.inner.read(space) {
                Ok(0) => break,
                Ok(k) => {
                    let k = k.min(want);
                    n += k;
                    self.pos = self.pos.saturating_add(k as u64);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let kind = e.kind();
                    self.failed = Some(kind);
                    self.last_err = Some(e);
                    if n > 0 {
                        return Ok(n);
                    }
                    return Err(io::Error::from(kind));
                }
            }
        }
        Ok(n)
    }
}

/// pcapng interfaces per section kept (more are counted as unknown-interface packets).
const MAX_INTERFACES: usize = 65_536;
/// Malformed pcapng blocks skipped in a row before the stream is given up.
const MAX_BAD_BLOCKS_IN_A_ROW: u32 = 16;
/// Refills without progress before the reader is declared stuck.
const MAX_STALLS: u32 = 8;

#[derive(Clone, Copy)]
enum Kind {
    Legacy { big_endian: bool, modified: bool },
    Ng,
}

struct Iface {
    link_type: u32,
    /// Timestamp units per second.
    units: u64,
    offset_secs: i64,
}

enum End {
    Clean,
    Truncated(u64),
    ReadError,
    Error(CaptureError),
}

enum Peek {
    NeedMore,
    Len(usize),
    Bad,
}

fn u32_at(data: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let b: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

/// Length of the record or block at the start of `data`, from its header alone.
fn peek_len(data: &[u8], kind: Kind, ng_big_endian: bool) -> Peek {
    match kind {
        Kind::Legacy {
            big_endian,
            modified,
        } => {
            let hdr = if modified { 24 } else { 16 };
            match u32_at(data, 8, big_endian) {
                Some(caplen) => Peek::Len(
                    usize::try_from(caplen)
                        .unwrap_or(usize::MAX)
                        .saturating_add(hdr),
                ),
                None => Peek::NeedMore,
            }
        }
        Kind::Ng => {
            let Some(t) = data.get(..4) else {
                return Peek::NeedMore;
            };
            let big_endian = if t == [0x0a, 0x0d, 0x0d, 0x0a] {
                match data.get(8..12) {
                    None => return Peek::NeedMore,
                    Some([0x1a, 0x2b, 0x3c, 0x4d]) => true,
                    Some([0x4d, 0x3c, 0x2b, 0x1a]) => false,
                    Some(_) => return Peek::Bad,
                }
            } else {
                ng_big_endian
            };
            match u32_at(data, 4, big_endian) {
                None => Peek::NeedMore,
                Some(len) if len < 12 || len % 4 != 0 => Peek::Bad,
                Some(len) => Peek::Len(usize::try_from(len).unwrap_or(usize::MAX)),
            }
        }
    }
}

/// `if_tsoffset` of an IDB in the section's byte order (pcap-parser 0.17 reads it as
/// little-endian in every section).
fn ts_offset(idb: &InterfaceDescriptionBlock<'_>, big_endian: bool) -> i64 {
    idb.options
        .iter()
        .find(|o| o.code == OptionCode::IfTsoffset)
        .and_then(|o| o.value().get(..8))
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, |b| {
            if big_endian {
                i64::from_be_bytes(b)
            } else {
                i64::from_le_bytes(b)
            }
        })
}

/// Decode a pcapng timestamp: `ticks` units of 1/`units` s since the epoch, plus `offset_secs`.
fn ng_ts(ticks: u64, units: u64, offset_secs: i64) -> i64 {
    let units = units.max(1);
    let secs = i128::from(ticks / units) + i128::from(offset_secs);
    let frac = u128::from(ticks % units) * 1_000_000_000 / u128::from(units);
    let nanos = secs
        .saturating_mul(1_000_000_000)
        .saturating_add(i128::try_from(frac).unwrap_or(0));
    i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}

struct Driver<'s, F> {
    kind: Kind,
    max_block: usize,
    stats: &'s mut CaptureStats,
    on_packet: F,
    legacy_link: u32,
    legacy_nanos: bool,
    ng_big_endian: bool,
    ifaces: Vec<Iface>,
    last_ts: Option<i64>,
}

impl<F: FnMut(&RawPacket<'_>)> Driver<'_, F> {
    fn emit(&mut self, pkt: RawPacket<'_>, snapped: bool) {
        let s = &mut *self.stats;
        s.packets = s.packets.saturating_add(1);
        s.bytes = s.bytes.saturating_add(pkt.data.len() as u64);
        if snapped {
            s.snapped_packets = s.snapped_packets.saturating_add(1);
        }
        let ts = pkt.ts_nanos;
        if let Some(prev) = self.last_ts
            && ts < prev
        {
            s.ts_backwards = s.ts_backwards.saturating_add(1);
        }
        self.last_ts = Some(ts);
        s.first_ts_nanos = Some(s.first_ts_nanos.map_or(ts, |f| f.min(ts)));
        s.last_ts_nanos = Some(s.last_ts_nanos.map_or(ts, |l| l.max(ts)));
        *s.link_types.entry(pkt.link_type).or_insert(0) += 1;
        (self.on_packet)(&pkt);
    }

    fn block(&mut self, block: PcapBlockOwned<'_>, offset: u64) {
        match block {
            PcapBlockOwned::LegacyHeader(h) => {
                self.legacy_link = h.network.0 as u32;
                self.legacy_nanos = h.is_nanosecond_precision();
            }
            PcapBlockOwned::Legacy(b) => {
                let frac = if self.legacy_nanos {
                    i64::from(b.ts_usec)
                } else {
                    i64::from(b.ts_usec) * 1000
                };
                let pkt = RawPacket {
                    ts_nanos: i64::from(b.ts_sec) * 1_000_000_000 + frac,
                    link_type: self.legacy_link,
                    data: b.data,
                    orig_len: b.origlen,
                    interface: 0,
                    offset,
                };
                self.emit(pkt, b.caplen < b.origlen);
            }
            PcapBlockOwned::NG(Block::SectionHeader(shb)) => {
                self.ng_big_endian = shb.big_endian();
                self.ifaces.clear();
                self.stats.sections = self.stats.sections.saturating_add(1);
            }
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                self.stats.interfaces = self.stats.interfaces.saturating_add(1);
                let units = match pcap_parser::build_ts_resolution(idb.if_tsresol) {
                    Some(u) if u > 0 => u,
                    _ => {
                        self.stats.push_error(CaptureError::Malformed {
                            offset,
                            what: "interface timestamp resolution (microseconds assumed)",
                        });
                        1_000_000
                    }
                };
                if self.ifaces.len() < MAX_INTERFACES {
                    self.ifaces.push(Iface {
                        link_type: u32::from(idb.linktype.0 as u16),
                        units,
                        offset_secs: ts_offset(&idb, self.ng_big_endian),
                    });
                }
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                let Some(iface) = usize::try_from(epb.if_id)
                    .ok()
                    .and_then(|i| self.ifaces.get(i))
                else {
                    self.stats.unknown_interface_packets =
                        self.stats.unknown_interface_packets.saturating_add(1);
                    return;
                };
                let ticks = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let data = epb.packet_data();
                let pkt = RawPacket {
                    ts_nanos: ng_ts(ticks, iface.units, iface.offset_secs),
                    link_type: iface.link_type,
                    data,
                    orig_len: epb.origlen,
                    interface: epb.if_id,
                    offset,
                };
                self.emit(pkt, (data.len() as u64) < u64::from(epb.origlen));
            }
            PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                let Some(iface) = self.ifaces.first() else {
                    self.stats.unknown_interface_packets =
                        self.stats.unknown_interface_packets.saturating_add(1);
                    return;
                };
                let data = spb.packet_data();
                let pkt = RawPacket {
                    ts_nanos: self.last_ts.unwrap_or(0),
                    link_type: iface.link_type,
                    data,
                    orig_len: spb.origlen,
                    interface: 0,
                    offset,
                };
                self.emit(pkt, (data.len() as u64) < u64::from(spb.origlen));
            }
            PcapBlockOwned::NG(_) => {
                self.stats.other_blocks = self.stats.other_blocks.saturating_add(1);
            }
        }
    }

    fn too_large(&self, offset: u64, size: usize) -> End {
        End::Error(CaptureError::BlockTooLarge {
            offset,
            what: self.what(),
            size: size as u64,
            limit: self.max_block as u64,
        })
    }

    fn what(&self) -> &'static str {
        match self.kind {
            Kind::Legacy { .. } => "packet record",
            Kind::Ng => "pcapng block",
        }
    }

    /// Pull blocks until the end of the stream or a fatal problem. Returns how it ended and the
    /// bytes consumed.
    fn run<P: PcapReaderIterator + ?Sized>(&mut self, rdr: &mut P) -> (End, u64) {
        let mut bad_run = 0u32;
        let mut stalls = 0u32;
        loop {
            let offset = rdr.consumed() as u64;
            match rdr.next() {
                Ok((len, block)) => {
                    self.block(block, offset);
                    rdr.consume(len);
                    bad_run = 0;
                    stalls = 0;
                    continue;
                }
                Err(PcapError::Eof) => return (End::Clean, offset),
                Err(PcapError::UnexpectedEof) => {
                    let end = if rdr.data().is_empty() {
                        End::Clean
                    } else {
                        End::Truncated(offset)
                    };
                    return (end, offset);
                }
                Err(PcapError::ReadError) => return (End::ReadError, offset),
                Err(PcapError::Incomplete(_)) | Err(PcapError::BufferTooSmall) => {}
                Err(_) => {
                    // A parse error. pcapng blocks carry their length: skip a bad one whole.
                    if matches!(self.kind, Kind::Legacy { .. }) {
                        return (
                            End::Error(CaptureError::Malformed {
                                offset,
                                what: "packet record",
                            }),
                            offset,
                        );
                    }
                }
            }
            // The parser needs more data, or failed on a pcapng block: size the block at hand.
            match peek_len(rdr.data(), self.kind, self.ng_big_endian) {
                Peek::Bad => {
                    return (
                        End::Error(CaptureError::Malformed {
                            offset,
                            what: "pcapng block length",
                        }),
                        offset,
                    );
                }
                Peek::Len(total) if total > self.max_block => {
                    return (self.too_large(offset, total), offset);
                }
                Peek::Len(total) if rdr.data().len() >= total => {
                    // The whole block is buffered, yet the parser wants more or fails: its inner
                    // lengths disagree with its total length.
                    if matches!(self.kind, Kind::Legacy { .. }) {
                        return (
                            End::Error(CaptureError::Malformed {
                                offset,
                                what: "packet record",
                            }),
                            offset,
                        );
                    }
                    self.stats.push_error(CaptureError::Malformed {
                        offset,
                        what: "pcapng block (skipped)",
                    });
                    bad_run += 1;
                    if bad_run > MAX_BAD_BLOCKS_IN_A_ROW {
                        return (
                            End::Error(CaptureError::Malformed {
                                offset,
                                what: "pcapng stream (too many bad blocks in a row)",
                            }),
                            offset,
                        );
                    }
                    rdr.consume(total);
                    continue;
                }
                Peek::Len(total) => {
                    // Room for the whole block (no-op when the buffer is already big enough).
                    rdr.grow(total.saturating_add(64));
                }
                Peek::NeedMore => {}
            }
            if rdr.reader_exhausted() {
                return (End::Truncated(offset), offset);
            }
            let before = rdr.data().len();
            if rdr.refill().is_err() {
                return (End::ReadError, offset);
            }
            if rdr.data().len() <= before && !rdr.reader_exhausted() {
                stalls += 1;
                if stalls > MAX_STALLS {
                    return (
                        End::Error(CaptureError::Malformed {
                            offset,
                            what: "record (reader made no progress)",
                        }),
                        offset,
                    );
                }
            } else {
                stalls = 0;
            }
        }
    }
}

fn open_error(e: PcapError<&[u8]>, what: &'static str) -> CaptureError {
    match e {
        PcapError::Incomplete(_) | PcapError::UnexpectedEof | PcapError::Eof => {
            CaptureError::Truncated { offset: 0, what }
        }
        _ => CaptureError::Malformed { offset: 0, what },
    }
}

/// Stream the packets of `input` to `on_packet`, updating `stats` (packets, bytes, timestamps,
/// link types, sections, errors).
///
/// Returns `Err` when the file header (or first pcapng section header) cannot be read; nothing
/// was delivered then. Any later problem ends the stream and is recorded in `stats.errors` with
/// `stats.complete == false`; the packets before it have been delivered.
pub fn read_packets<R: Read>(
    input: CaptureInput<R>,
    cfg: &CaptureConfig,
    stats: &mut CaptureStats,
    on_packet: impl FnMut(&RawPacket<'_>),
) -> Result<(), CaptureError> {
    let format = input.format;
    stats.format = Some(format);
    stats.gzip = input.gzip;
    let max_block = cfg.max_block_bytes.max(64);
    let mut capacity = cfg
        .read_buffer_bytes
        .clamp(4096, max_block.saturating_add(64));
    let kind = match format {
        CaptureFormat::Pcap {
            big_endian,
            modified,
            ..
        } => Kind::Legacy {
            big_endian,
            modified,
        },
        CaptureFormat::PcapNg => {
            // The first section header must fit the first buffer.
            if let Peek::Len(shb) = peek_len(&input.prefix, Kind::Ng, false) {
                if shb > max_block {
                    return Err(CaptureError::BlockTooLarge {
                        offset: 0,
                        what: "pcapng section header block",
                        size: shb as u64,
                        limit: max_block as u64,
                    });
                }
                capacity = capacity.max(shb.saturating_add(64));
            }
            Kind::Ng
        }
    };
    let mut src = Source {
        inner: input,
        pos: 0,
        limit: cfg.max_input_bytes,
        limit_hit: false,
        failed: None,
        last_err: None,
    };
    let mut driver = Driver {
        kind,
        max_block,
        stats,
        on_packet,
        legacy_link: 0,
        legacy_nanos: false,
        ng_big_endian: false,
        ifaces: Vec::new(),
        last_ts: None,
    };
    let opened = match kind {
        Kind::Legacy { .. } => match LegacyPcapReader::new(capacity, &mut src) {
            Ok(mut rdr) => Ok(driver.run(&mut rdr)),
            Err(e) => Err(open_error(e, "pcap file header")),
        },
        Kind::Ng => match PcapNGReader::new(capacity, &mut src) {
            Ok(mut rdr) => Ok(driver.run(&mut rdr)),
            Err(e) => Err(open_error(e, "pcapng section header block")),
        },
    };
    let stats = driver.stats;
    let (end, consumed) = match opened {
        Ok(r) => r,
        Err(e) => {
            if let Some(source) = src.last_err.take() {
                return Err(CaptureError::Io { offset: 0, source });
            }
            return Err(e);
        }
    };
    stats.stream_bytes = consumed;
    let limit_error = |offset| CaptureError::LimitReached {
        offset,
        limit: cfg.max_input_bytes.unwrap_or(u64::MAX),
    };
    match end {
        End::Clean if src.limit_hit => stats.push_error(limit_error(consumed)),
        End::Clean => stats.complete = true,
        End::Truncated(offset) if src.limit_hit => stats.push_error(limit_error(offset)),
        End::Truncated(offset) => stats.push_error(CaptureError::Truncated {
            offset,
            what: match kind {
                Kind::Legacy { .. } => "packet record",
                Kind::Ng => "pcapng block",
            },
        }),
        End::ReadError => stats.push_error(CaptureError::Io {
            offset: src.pos,
            source: src
                .last_err
                .take()
                .unwrap_or_else(|| io::Error::other("read failed")),
        }),
        End::Error(e) => stats.push_error(e),
    }
    Ok(())
}
