//! DNS messages (RFC 1035 wire format) from single UDP datagrams.
//!
//! Own parser rather than `hickory-proto`: even with `default-features = false`, hickory-proto 0.26
//! pulls in `idna` with the ICU4X normaliser, `url`, `rand`, `tracing` and `ipnet` (≈45 crates) for
//! a read-only job of a few hundred lines, and it decodes a message as a whole — one bad record and
//! the questions and answers before it are lost. Here every section is read record by record, a
//! failure is reported with its offset next to whatever was read before it, and all counts are
//! capped.
//!
//! Names are lower-cased ASCII without the final dot (the root is `.`); bytes outside printable
//! ASCII, and `.` or `\` inside a label, are written as `\DDD` (decimal, as `dig` does).
//! Compression pointers must point strictly backwards, which rules out loops.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::text;

/// Questions kept per message.
pub const MAX_QUESTIONS: usize = 16;
/// Records kept per section (answer, authority, additional).
pub const MAX_RECORDS: usize = 64;
/// Character-strings kept per TXT record.
pub const MAX_TXT_STRINGS: usize = 16;
/// Longest name in presentation form (RFC 1035: 255 octets on the wire).
const MAX_NAME_WIRE: usize = 255;
/// Compression pointers followed for one name.
const MAX_POINTERS: usize = 64;

pub const TYPE_A: u16 = 1;
pub const TYPE_NS: u16 = 2;
pub const TYPE_CNAME: u16 = 5;
pub const TYPE_SOA: u16 = 6;
pub const TYPE_PTR: u16 = 12;
pub const TYPE_MX: u16 = 15;
pub const TYPE_TXT: u16 = 16;
pub const TYPE_AAAA: u16 = 28;
pub const TYPE_SRV: u16 = 33;
pub const TYPE_OPT: u16 = 41;

/// What could not be read, and where (offset in the datagram).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DnsError {
    #[error("datagram of {len} bytes is shorter than the 12-byte DNS header")]
    ShortHeader { len: usize },
    #[error("DNS name at offset {offset} runs past the end of the datagram")]
    NameCut { offset: usize },
    #[error(
        "DNS name at offset {offset}: compression pointer to {target} does not point backwards"
    )]
    BadPointer { offset: usize, target: usize },
    #[error("DNS name at offset {offset}: more than {MAX_POINTERS} compression pointers")]
    TooManyPointers { offset: usize },
    #[error("DNS name at offset {offset} is longer than 255 bytes")]
    NameTooLong { offset: usize },
    #[error("DNS name at offset {offset}: unsupported label type {label:#04x}")]
    LabelType { offset: usize, label: u8 },
    #[error("DNS {section} entry at offset {offset} runs past the end of the datagram")]
    RecordCut {
        section: &'static str,
        offset: usize,
    },
    #[error("DNS record data at offset {offset} (type {rtype}) is malformed")]
    RData { offset: usize, rtype: u16 },
}

/// The parts of a record's data that are read; the rest keeps only its length.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    /// CNAME, NS and PTR: the target name.
    Name(String),
    Mx {
        preference: u16,
        exchange: String,
    },
    /// Character-strings (at most [`MAX_TXT_STRINGS`]), as text, and the total data length.
    Txt {
        strings: Vec<String>,
        len: usize,
    },
    Soa {
        mname: String,
        rname: String,
        serial: u32,
        minimum: u32,
    },
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    /// EDNS(0) OPT pseudo-record (its TTL field holds the extended RCODE and flags).
    Opt {
        len: usize,
    },
    Other {
        len: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsQuestion {
    pub name: String,
    pub qtype: u16,
    pub qclass: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    pub name: String,
    pub rtype: u16,
    pub class: u16,
    pub ttl: u32,
    pub data: RData,
}

/// A decoded message. Sections hold what was read: when `error` is set, reading stopped there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsMessage {
    pub txid: u16,
    pub is_response: bool,
    pub opcode: u8,
    /// RCODE of the header (4 bits; the EDNS extension is not merged in).
    pub rcode: u8,
    pub authoritative: bool,
    pub truncated: bool,
    pub recursion_desired: bool,
    pub recursion_available: bool,
    /// Counts as the header states them.
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
    pub questions: Vec<DnsQuestion>,
    pub answers: Vec<DnsRecord>,
    pub authorities: Vec<DnsRecord>,
    pub additionals: Vec<DnsRecord>,
    /// Some entries were skipped because of the caps ([`MAX_QUESTIONS`], [`MAX_RECORDS`]).
    pub capped: bool,
    /// Bytes after the last record the header announced.
    pub trailing_bytes: usize,
    /// Why reading stopped before the end of the announced sections.
    pub error: Option<DnsError>,
}

impl DnsMessage {
    /// `NOERROR` (0), `NXDOMAIN` (3) …
    pub fn is_nxdomain(&self) -> bool {
        self.rcode == 3
    }
}

/// Decodes one DNS message (a UDP payload). Fails only when the 12-byte header is missing;
/// later problems leave the sections read so far and set [`DnsMessage::error`].
pub fn dns_message(datagram: &[u8]) -> Result<DnsMessage, DnsError> {
    let Some(h) = datagram.get(..12) else {
        return Err(DnsError::ShortHeader {
            len: datagram.len(),
        });
    };
    let u16_at = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
    let flags = u16_at(2);
    let mut msg = DnsMessage {
        txid: u16_at(0),
        is_response: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0x0f) as u8,
        rcode: (flags & 0x0f) as u8,
        authoritative: flags & 0x0400 != 0,
        truncated: flags & 0x0200 != 0,
        recursion_desired: flags & 0x0100 != 0,
        recursion_available: flags & 0x0080 != 0,
        qdcount: u16_at(4),
        ancount: u16_at(6),
        nscount: u16_at(8),
        arcount: u16_at(10),
        questions: Vec::new(),
        answers: Vec::new(),
        authorities: Vec::new(),
        additionals: Vec::new(),
        capped: false,
        trailing_bytes: 0,
        error: None,
    };
    let mut pos = 12usize;
    if let Err(e) = read_sections(datagram, &mut pos, &mut msg) {
        msg.error = Some(e);
    } else {
        msg.trailing_bytes = datagram.len().saturating_sub(pos);
    }
    Ok(msg)
}

fn read_sections(d: &[u8], pos: &mut usize, msg: &mut DnsMessage) -> Result<(), DnsError> {
    for _ in 0..msg.qdcount {
        let offset = *pos;
        let name = read_name(d, pos)?;
        let Some(f) = d.get(*pos..*pos + 4) else {
            return Err(DnsError::RecordCut {
                section: "question",
                offset,
            });
        };
        *pos += 4;
        if msg.questions.len() < MAX_QUESTIONS {
            msg.questions.push(DnsQuestion {
                name,
                qtype: u16::from_be_bytes([f[0], f[1]]),
                qclass: u16::from_be_bytes([f[2], f[3]]),
            });
        } else {
            msg.capped = true;
        }
    }
    let sections = [
        ("answer", msg.ancount),
        ("authority", msg.nscount),
        ("additional", msg.arcount),
    ];
    for (index, (section, count)) in sections.into_iter().enumerate() {
        for _ in 0..count {
            let record = read_record(d, pos, section)?;
            let list = match index {
                0 => &mut msg.answers,
                1 => &mut msg.authorities,
                _ => &mut msg.additionals,
            };
            if list.len() < MAX_RECORDS {
                list.push(record);
            } else {
                msg.capped = true;
            }
        }
    }
    Ok(())
}

fn read_record(d: &[u8], pos: &mut usize, section: &'static str) -> Result<DnsRecord, DnsError> {
    let offset = *pos;
    let name = read_name(d, pos)?;
    let Some(f) = d.get(*pos..*pos + 10) else {
        return Err(DnsError::RecordCut { section, offset });
    };
    let rtype = u16::from_be_bytes([f[0], f[1]]);
    let class = u16::from_be_bytes([f[2], f[3]]);
    let ttl = u32::from_be_bytes([f[4], f[5], f[6], f[7]]);
    let rdlen = usize::from(u16::from_be_bytes([f[8], f[9]]));
    let start = *pos + 10;
    let end = start + rdlen;
    let Some(rdata) = d.get(start..end) else {
        return Err(DnsError::RecordCut { section, offset });
    };
    *pos = end;
    let bad = || DnsError::RData {
        offset: start,
        rtype,
    };
    // Names inside the data are read from the whole datagram (they may be compressed) and must
    // end inside the data.
    let name_in = |at: usize| -> Result<(String, usize), DnsError> {
        let mut p = at;
        let name = read_name(d, &mut p)?;
        if p > end { Err(bad()) } else { Ok((name, p)) }
    };
    let u16_in = |at: usize| {
        d.get(at..at + 2)
            .filter(|_| at + 2 <= end)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let u32_in = |at: usize| {
        d.get(at..at + 4)
            .filter(|_| at + 4 <= end)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let data = match rtype {
        TYPE_A => match rdata {
            &[a, b, c, dd] => RData::A(Ipv4Addr::new(a, b, c, dd)),
            _ => return Err(bad()),
        },
        TYPE_AAAA => {
            let octets: [u8; 16] = rdata.try_into().map_err(|_| bad())?;
            RData::Aaaa(Ipv6Addr::from(octets))
        }
        TYPE_CNAME | TYPE_NS | TYPE_PTR => RData::Name(name_in(start)?.0),
        TYPE_MX => {
            let preference = u16_in(start).ok_or_else(bad)?;
            RData::Mx {
                preference,
                exchange: name_in(start + 2)?.0,
            }
        }
        TYPE_SRV => {
            let priority = u16_in(start).ok_or_else(bad)?;
            let weight = u16_in(start + 2).ok_or_else(bad)?;
            let port = u16_in(start + 4).ok_or_else(bad)?;
            RData::Srv {
                priority,
                weight,
                port,
                target: name_in(start + 6)?.0,
            }
        }
        TYPE_SOA => {
            let (mname, p) = name_in(start)?;
            let (rname, p) = name_in(p)?;
            let serial = u32_in(p).ok_or_else(bad)?;
            let minimum = u32_in(p + 16).ok_or_else(bad)?;
            RData::Soa {
                mname,
                rname,
                serial,
                minimum,
            }
        }
        TYPE_TXT => {
            let mut strings = Vec::new();
            let mut p = 0usize;
            while p < rdata.len() {
                let n = usize::from(rdata[p]);
                let s = rdata.get(p + 1..p + 1 + n).ok_or_else(bad)?;
                if strings.len() < MAX_TXT_STRINGS {
                    strings.push(text(s, 255));
                }
                p += 1 + n;
            }
            RData::Txt {
                strings,
                len: rdata.len(),
            }
        }
        TYPE_OPT => RData::Opt { len: rdata.len() },
        _ => RData::Other { len: rdata.len() },
    };
    Ok(DnsRecord {
        name,
        rtype,
        class,
        ttl,
        data,
    })
}

/// Reads a possibly compressed name at `*pos`, leaving `*pos` after its in-place encoding.
fn read_name(d: &[u8], pos: &mut usize) -> Result<String, DnsError> {
    let start = *pos;
    let mut out = String::new();
    let mut wire_len = 0usize;
    let mut p = start;
    // Lowest offset reached so far: pointers must go below it.
    let mut floor = start;
    let mut pointers = 0usize;
    let mut end_in_place: Option<usize> = None;
    loop {
        let Some(&len) = d.get(p) else {
            return Err(DnsError::NameCut { offset: start });
        };
        match len & 0xc0 {
            0xc0 => {
                let Some(&low) = d.get(p + 1) else {
                    return Err(DnsError::NameCut { offset: start });
                };
                let target = usize::from(len & 0x3f) << 8 | usize::from(low);
                if target >= floor {
                    return Err(DnsError::BadPointer { offset: p, target });
                }
                pointers += 1;
                if pointers > MAX_POINTERS {
                    return Err(DnsError::TooManyPointers { offset: start });
                }
                end_in_place.get_or_insert(p + 2);
                floor = target;
                p = target;
            }
            0x00 => {
                let n = usize::from(len);
                wire_len += n + 1;
                if wire_len > MAX_NAME_WIRE {
                    return Err(DnsError::NameTooLong { offset: start });
                }
                if n == 0 {
                    *pos = end_in_place.unwrap_or(p + 1);
                    if out.is_empty() {
                        out.push('.');
                    }
                    return Ok(out);
                }
                let Some(label) = d.get(p + 1..p + 1 + n) else {
                    return Err(DnsError::NameCut { offset: start });
                };
                if !out.is_empty() {
                    out.push('.');
                }
                for &b in label {
                    match b.to_ascii_lowercase() {
                        b @ (b'.' | b'\\') => {
                            out.push('\\');
                            out.push_str(&format!("{b:03}"));
                        }
                        b @ 0x21..=0x7e => out.push(char::from(b)),
                        b => out.push_str(&format!("\\{b:03}")),
                    }
                }
                p += 1 + n;
            }
            _ => {
                return Err(DnsError::LabelType {
                    offset: p,
                    label: len,
                });
            }
        }
    }
}
