//! Link-layer dispatch and L3/L4 slicing of one frame with etherparse's lax slicer (lax: a frame
//! cut by the snap length still yields its headers, with the IP header's lengths for accounting).

use std::net::IpAddr;

use etherparse::err::packet::SliceError;
use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};

/// Why a frame gave no connection data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Skip {
    UnsupportedLink(u32),
    NonIp,
    Fragment,
    Truncated,
    Malformed,
    OtherProto(u8),
}

/// The parts of a frame the flow table needs.
#[derive(Debug)]
pub(crate) struct Pkt<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IP-level length (IPv4 total length, IPv6 40 + payload length; the captured length when
    /// the header gives none, e.g. TSO captures with total length 0).
    pub ip_bytes: u64,
    pub l4: L4<'a>,
}

#[derive(Debug)]
pub(crate) enum L4<'a> {
    Tcp(Tcp<'a>),
    Udp {
        sport: u16,
        dport: u16,
        /// Captured payload.
        payload: &'a [u8],
        /// Payload length on the wire.
        len: u64,
    },
    Icmp {
        typ: u8,
        code: u8,
        v6: bool,
        /// Bytes after the ICMP header on the wire.
        len: u64,
    },
}

#[derive(Debug)]
pub(crate) struct Tcp<'a> {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    /// Captured payload.
    pub payload: &'a [u8],
    /// Payload length on the wire (more than `payload.len()` when the frame was snapped).
    pub len: u32,
}

/// Link types decoded (LINKTYPE numbers); see the `capture` module docs.
pub const SUPPORTED_LINK_TYPES: [u32; 10] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];

fn classify(e: &SliceError) -> Skip {
    match e {
        SliceError::Len(_) => Skip::Truncated,
        _ => Skip::Malformed,
    }
}

/// IPv4/IPv6 by the version nibble, for raw-IP link types.
fn ip_by_version(data: &[u8]) -> Result<EtherType, Skip> {
    match data.first().map(|b| b >> 4) {
        None => Err(Skip::Truncated),
        Some(4) => Ok(EtherType::IPV4),
        Some(6) => Ok(EtherType::IPV6),
        Some(_) => Err(Skip::NonIp),
    }
}

/// BSD loopback address family → IP version. AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD,
/// OpenBSD), 28 (FreeBSD, DragonFly), 30 (macOS), 10 (Linux), 23 (Windows).
fn af_to_ether_type(af: u32) -> Result<EtherType, Skip> {
    match af {
        2 => Ok(EtherType::IPV4),
        10 | 23 | 24 | 28 | 30 => Ok(EtherType::IPV6),
        _ => Err(Skip::NonIp),
    }
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

/// Slice one frame of link type `link_type`.
pub(crate) fn decode(link_type: u32, data: &[u8]) -> Result<Pkt<'_>, Skip> {
    let lax = match link_type {
        1 => LaxSlicedPacket::from_ethernet(data).map_err(|_| Skip::Truncated)?,
        0 | 108 => {
            let (hdr, rest) = data.split_first_chunk::<4>().ok_or(Skip::Truncated)?;
            let af = if link_type == 108 {
                u32::from_be_bytes(*hdr)
            } else {
                // Host byte order of the writer: a family number is small, so a value above
                // 0xffff means the other order.
                let le = u32::from_le_bytes(*hdr);
                if le > 0xffff {
                    u32::from_be_bytes(*hdr)
                } else {
                    le
                }
            };
            LaxSlicedPacket::from_ether_type(af_to_ether_type(af)?, rest)
        }
        12 | 14 | 101 => LaxSlicedPacket::from_ether_type(ip_by_version(data)?, data),
        228 => LaxSlicedPacket::from_ether_type(EtherType::IPV4, data),
        229 => LaxSlicedPacket::from_ether_type(EtherType::IPV6, data),
        113 => {
            // Linux cooked v1: packet type, ARPHRD, address length, 8-byte address, protocol.
            let proto = be16(data, 14).ok_or(Skip::Truncated)?;
            let rest = data.get(16..).ok_or(Skip::Truncated)?;
            LaxSlicedPacket::from_ether_type(EtherType(proto), rest)
        }
        276 => {
            // Linux cooked v2: protocol first, then reserved, ifindex, ARPHRD, type, addr.
            let proto = be16(data, 0).ok_or(Skip::Truncated)?;
            let rest = data.get(20..).ok_or(Skip::Truncated)?;
            LaxSlicedPacket::from_ether_type(EtherType(proto), rest)
        }
        other => return Err(Skip::UnsupportedLink(other)),
    };
    from_lax(&lax)
}

fn from_lax<'a>(lax: &LaxSlicedPacket<'a>) -> Result<Pkt<'a>, Skip> {
    let stop = lax.stop_err.as_ref().map(|(e, _)| classify(e));
    let (src, dst, hdr_start, declared, payload) = match &lax.net {
        Some(LaxNetSlice::Ipv4(ip)) => {
            let h = ip.header();
            let hdr = h.slice();
            let total = usize::from(h.total_len());
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                hdr.as_ptr() as usize,
                (total >= hdr.len()).then_some(total),
                ip.payload().clone(),
            )
        }
        Some(LaxNetSlice::Ipv6(ip)) => {
            let h = ip.header();
            let pl = usize::from(h.payload_length());
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                h.slice().as_ptr() as usize,
                (pl > 0).then_some(40 + pl),
                ip.payload().clone(),
            )
        }
        Some(_) => return Err(Skip::NonIp),
        None => return Err(stop.unwrap_or(Skip::NonIp)),
    };
    // Offsets from the start of the IP header (all slices point into the same frame).
    let off = |s: &[u8]| (s.as_ptr() as usize).saturating_sub(hdr_start);
    let captured_ip = off(payload.payload).saturating_add(payload.payload.len());
    let ip_bytes = declared.unwrap_or(captured_ip) as u64;
    if payload.fragmented {
        return Err(Skip::Fragment);
    }
    // Length on the wire of what starts at `s`: from the IP lengths when the frame was cut.
    let wire_len = |s: &[u8]| -> u64 {
        let captured = s.len() as u64;
        if payload.incomplete {
            ip_bytes.saturating_sub(off(s) as u64).max(captured)
        } else {
            captured
        }
    };
    let l4 = match &lax.transport {
        Some(TransportSlice::Tcp(t)) => {
            let p = t.payload();
            L4::Tcp(Tcp {
                sport: t.source_port(),
                dport: t.destination_port(),
                seq: t.sequence_number(),
                syn: t.syn(),
                ack: t.ack(),
                fin: t.fin(),
                rst: t.rst(),
                payload: p,
                len: u32::try_from(wire_len(p)).unwrap_or(u32::MAX),
            })
        }
        Some(TransportSlice::Udp(u)) => {
            let p = u.payload();
            L4::Udp {
                sport: u.source_port(),
                dport: u.destination_port(),
                payload: p,
                len: wire_len(p),
            }
        }
        Some(TransportSlice::Icmpv4(i)) => L4::Icmp {
            typ: i.type_u8(),
            code: i.code_u8(),
            v6: false,
            len: wire_len(i.payload()),
        },
        Some(TransportSlice::Icmpv6(i)) => L4::Icmp {
            typ: i.type_u8(),
            code: i.code_u8(),
            v6: true,
            len: wire_len(i.payload()),
        },
        Some(_) => return Err(Skip::OtherProto(payload.ip_number.0)),
        None => {
            if let Some(s) = stop {
                return Err(s);
            }
            return Err(match payload.ip_number.0 {
                // Known transports that did not slice without saying why: too short.
                1 | 6 | 17 | 58 => Skip::Truncated,
                n => Skip::OtherProto(n),
            });
        }
    };
    Ok(Pkt {
        src,
        dst,
        ip_bytes,
        l4,
    })
}
