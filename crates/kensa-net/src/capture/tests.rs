use std::io::{Read, Write};
use std::net::IpAddr;

use super::*;

mod flows;

const NET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/net/");

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(format!("{NET}{name}")).expect("corpus file")
}

/// The Unit 42 Emotet capture, decrypted from its ZIP in memory.
fn unit42() -> Vec<u8> {
    let zip = corpus("unit42-emotet-2021-01-06.pcap.zip");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("zip");
    let mut f = archive.by_index_decrypt(0, b"infected").expect("decrypt");
    let mut out = Vec::new();
    f.read_to_end(&mut out).expect("read");
    out
}

fn run_cfg(bytes: &[u8], cfg: &CaptureConfig) -> (CaptureStats, Vec<ConnRecord>) {
    let mut conns = Vec::new();
    let stats = read_capture(bytes, cfg, |c| conns.push(c)).expect("capture");
    (stats, conns)
}

fn run(bytes: &[u8]) -> (CaptureStats, Vec<ConnRecord>) {
    run_cfg(bytes, &CaptureConfig::default())
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

fn to(conns: &[ConnRecord], resp: &str, port: u16) -> Vec<ConnRecord> {
    let resp = ip(resp);
    let mut v: Vec<ConnRecord> = conns
        .iter()
        .filter(|c| c.resp_h == resp && c.resp_p == port)
        .cloned()
        .collect();
    v.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    v
}

/// Comparable summary of a record set (order-independent).
fn summary(conns: &[ConnRecord]) -> Vec<String> {
    let mut v: Vec<String> = conns
        .iter()
        .map(|c| {
            format!(
                "{:.6} {}:{} {}:{} {} {} {} {} {} {} {} {} {} {:?} {} {}",
                c.ts,
                c.orig_h,
                c.orig_p,
                c.resp_h,
                c.resp_p,
                c.proto.as_str(),
                c.conn_state.as_str(),
                c.history,
                c.orig_bytes,
                c.resp_bytes,
                c.orig_pkts,
                c.resp_pkts,
                c.orig_ip_bytes,
                c.resp_ip_bytes,
                c.end,
                c.first_orig_payload.len(),
                c.first_resp_payload.len()
            )
        })
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------- capture writers for tests

struct Rec {
    ts_nanos: i64,
    orig_len: u32,
    data: Vec<u8>,
}

/// Records of a little-endian microsecond legacy pcap (the corpus files).
fn legacy_records(bytes: &[u8]) -> (u32, Vec<Rec>) {
    let le32 = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
    assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
    let link = le32(20);
    let mut out = Vec::new();
    let mut o = 24;
    while o + 16 <= bytes.len() {
        let caplen = le32(o + 8) as usize;
        out.push(Rec {
            ts_nanos: i64::from(le32(o)) * 1_000_000_000 + i64::from(le32(o + 4)) * 1000,
            orig_len: le32(o + 12),
            data: bytes[o + 16..o + 16 + caplen].to_vec(),
        });
        o += 16 + caplen;
    }
    (link, out)
}

fn put32(out: &mut Vec<u8>, v: u32, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}
fn put16(out: &mut Vec<u8>, v: u16, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

/// Legacy pcap in either byte order, micro- or nanosecond timestamps.
fn write_pcap(link: u32, recs: &[Rec], be: bool, nanos: bool) -> Vec<u8> {
    let mut out = Vec::new();
    put32(&mut out, if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }, be);
    put16(&mut out, 2, be);
    put16(&mut out, 4, be);
    put32(&mut out, 0, be);
    put32(&mut out, 0, be);
    put32(&mut out, 262_144, be);
    put32(&mut out, link, be);
    for r in recs {
        let secs = r.ts_nanos.div_euclid(1_000_000_000) as u32;
        let frac = r.ts_nanos.rem_euclid(1_000_000_000) as u32;
        put32(&mut out, secs, be);
        put32(&mut out, if nanos { frac } else { frac / 1000 }, be);
        put32(&mut out, r.data.len() as u32, be);
        put32(&mut out, r.orig_len.max(r.data.len() as u32), be);
        out.extend_from_slice(&r.data);
    }
    out
}

/// pcapng writer (blocks per the pcapng specification, draft-ietf-opsawg-pcapng).
struct Ng {
    out: Vec<u8>,
    be: bool,
}

impl Ng {
    fn block(&mut self, typ: u32, body: &[u8]) {
        let len = 12 + body.len() as u32;
        assert_eq!(len % 4, 0);
        put32(&mut self.out, typ, self.be);
        put32(&mut self.out, len, self.be);
        self.out.extend_from_slice(body);
        put32(&mut self.out, len, self.be);
    }
    fn shb(&mut self) {
        let mut b = Vec::new();
        put32(&mut b, 0x1a2b_3c4d, self.be);
        put16(&mut b, 1, self.be);
        put16(&mut b, 0, self.be);
        b.extend_from_slice(&[0xff; 8]); // section length unknown
        self.block(0x0a0d_0d0a, &b);
    }
    fn idb(&mut self, link: u16, tsresol: Option<u8>, tsoffset: Option<i64>) {
        let mut b = Vec::new();
        put16(&mut b, link, self.be);
        put16(&mut b, 0, self.be);
        put32(&mut b, 262_144, self.be);
        if let Some(r) = tsresol {
            put16(&mut b, 9, self.be);
            put16(&mut b, 1, self.be);
            b.extend_from_slice(&[r, 0, 0, 0]);
        }
        if let Some(off) = tsoffset {
            put16(&mut b, 14, self.be);
            put16(&mut b, 8, self.be);
            b.extend_from_slice(&if self.be {
                off.to_be_bytes()
            } else {
                off.to_le_bytes()
            });
        }
        if tsresol.is_some() || tsoffset.is_some() {
            put32(&mut b, 0, self.be); // opt_endofopt
        }
        self.block(1, &b);
    }
    fn epb(&mut self, if_id: u32, ticks: u64, data: &[u8], orig_len: u32) {
        let mut b = Vec::new();
        put32(&mut b, if_id, self.be);
        put32(&mut b, (ticks >> 32) as u32, self.be);
        put32(&mut b, ticks as u32, self.be);
        put32(&mut b, data.len() as u32, self.be);
        put32(&mut b, orig_len, self.be);
        b.extend_from_slice(data);
        while b.len() % 4 != 0 {
            b.push(0);
        }
        self.block(6, &b);
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

// ---------------------------------------------------------------- corpus facts (spec §10)

#[test]
fn unit42_capture_facts() {
    let (stats, conns) = run(&unit42());
    assert!(stats.complete, "{:?}", stats.errors);
    assert_eq!(stats.error_count, 0);
    assert_eq!(stats.packets, 4509);
    assert_eq!(stats.flows.decoded_packets, 4509);
    assert_eq!(stats.flows.skipped.total(), 0);
    assert_eq!(stats.link_types.get(&1), Some(&4509));
    assert_eq!(stats.stream_bytes, 3_805_423);
    // 2021-01-06 16:41:15 – 18:19:38 UTC, 5,903.38 s.
    assert_eq!(stats.first_ts().unwrap().floor() as i64, 1_609_951_275);
    assert_eq!(stats.last_ts().unwrap().floor() as i64, 1_609_957_178);
    assert!(
        (stats.duration() - 5903.38).abs() < 0.01,
        "{}",
        stats.duration()
    );
    assert_eq!(stats.flows.conns as usize, conns.len());
    assert_eq!(stats.flows.evicted, 0);

    let host = ip("10.1.6.206");
    let t0 = stats.first_ts().unwrap();

    // Dead C2: 40 SYNs, each answered by RST → 40 REJ records (ports repeat after the RST).
    let dead = to(&conns, "46.101.230.194", 443);
    assert_eq!(dead.len(), 40);
    for c in &dead {
        assert_eq!(c.orig_h, host);
        assert_eq!(c.conn_state, ConnState::Rej, "{c:?}");
        assert_eq!(c.history, "Sr");
        assert_eq!((c.orig_pkts, c.resp_pkts), (1, 1));
        assert_eq!((c.orig_bytes, c.resp_bytes), (0, 0));
        assert!(c.local_orig && !c.local_resp);
    }
    let distinct_ports: std::collections::BTreeSet<u16> = dead.iter().map(|c| c.orig_p).collect();
    assert!(distinct_ports.len() < 40, "ports repeat after RST");

    // C2 on 5.2.136.90:80: one connection per burst, each starting with a POST.
    let c2 = to(&conns, "5.2.136.90", 80);
    let bursts = [79.0, 1039.0, 1969.0, 2951.0, 3867.0, 4820.0, 5765.0];
    assert_eq!(c2.len(), bursts.len());
    for (c, b) in c2.iter().zip(bursts) {
        assert_eq!(c.orig_h, host);
        assert!((c.ts - t0 - b).abs() < 1.5, "burst at {} vs {b}", c.ts - t0);
        assert!(c.first_orig_payload.starts_with(b"POST /"), "{c:?}");
        assert!(c.first_resp_payload.starts_with(b"HTTP/1.1 200"));
        assert!(!c.orig_payload_gap);
        assert_eq!(
            c.first_orig_payload.len(),
            (16 * 1024).min(c.orig_bytes as usize)
        );
        assert!(c.orig_ip_bytes > c.orig_bytes);
        assert!(c.history.starts_with("ShA"), "{}", c.history);
    }
    let c2b = to(&conns, "167.71.4.0", 8080);
    assert_eq!(c2b.len(), 8);
    assert!(
        c2b.iter()
            .all(|c| c.first_orig_payload.starts_with(b"POST /"))
    );

    // DNS to the local resolver: one datagram each way per flow, as messages.
    let dns = to(&conns, "10.1.6.1", 53);
    assert_eq!(dns.len(), 36);
    for c in &dns {
        assert_eq!(c.proto, Proto::Udp);
        assert_eq!(c.conn_state, ConnState::Sf);
        assert_eq!(c.datagrams.len() as u64, c.orig_pkts + c.resp_pkts);
        assert!(c.datagrams[0].from_orig);
        assert_eq!(c.datagrams[0].payload, c.first_orig_payload);
        let answer = c.datagrams.iter().find(|d| !d.from_orig).expect("answer");
        assert_eq!(answer.payload, c.first_resp_payload);
        assert_eq!(c.datagrams[0].payload[..2], answer.payload[..2], "DNS id");
    }
    // SSDP noise is there, to a multicast group.
    let ssdp = to(&conns, "239.255.255.250", 1900);
    assert!(!ssdp.is_empty());
    assert!(
        ssdp.iter()
            .all(|c| is_local_scope(c.resp_h) && !is_internal(c.resp_h))
    );
    assert!(ssdp[0].first_orig_payload.starts_with(b"M-SEARCH"));
}

/// With a big enough payload window, the reassembled request streams hold all of the C2 POSTs
/// the spec lists (15 to 5.2.136.90:80, 9 to 167.71.4.0:8080, Host a bare IP).
#[test]
fn unit42_reassembly_finds_every_post() {
    let cfg = CaptureConfig {
        payload_bytes: 4 << 20,
        ..CaptureConfig::default()
    };
    let (_, conns) = run_cfg(&unit42(), &cfg);
    let count = |resp: &str, port: u16, host: &str| -> (usize, usize) {
        let mut posts = 0;
        let mut hosts = 0;
        for c in to(&conns, resp, port) {
            assert!(!c.orig_payload_gap, "{c:?}");
            assert_eq!(c.first_orig_payload.len() as u64, c.orig_bytes);
            let p = &c.first_orig_payload;
            posts += p.windows(6).filter(|w| w == b"POST /").count();
            let needle = format!("Host: {host}\r\n");
            hosts += p
                .windows(needle.len())
                .filter(|w| *w == needle.as_bytes())
                .count();
        }
        (posts, hosts)
    };
    assert_eq!(count("5.2.136.90", 80, "5.2.136.90"), (15, 15));
    assert_eq!(count("167.71.4.0", 8080, "167.71.4.0:8080"), (9, 9));
}

#[test]
fn slips_beacon_capture_facts() {
    let (stats, conns) = run(&corpus("slips-test-cc-capture-1.pcap"));
    assert!(stats.complete);
    assert_eq!(stats.packets, 7931);
    assert!(
        (stats.duration() - 665.08).abs() < 0.01,
        "{}",
        stats.duration()
    );
    let a = to(&conns, "141.193.213.21", 443);
    let b = to(&conns, "141.193.213.20", 443);
    assert_eq!(a.len(), 297);
    assert_eq!(b.len(), 2);
    for c in a.iter().chain(&b) {
        assert_eq!(c.proto, Proto::Tcp);
        assert_eq!(
            &c.first_orig_payload[..3],
            &[0x16, 0x03, 0x01],
            "TLS handshake record"
        );
        assert_eq!(c.first_orig_payload[5], 1, "ClientHello");
        assert_eq!(&c.first_resp_payload[..2], &[0x16, 0x03]);
    }
    // Curl every 2 s: start times strictly increasing, about 2 s apart.
    let gaps: Vec<f64> = a.windows(2).map(|w| w[1].ts - w[0].ts).collect();
    let median = {
        let mut g = gaps.clone();
        g.sort_by(f64::total_cmp);
        g[g.len() / 2]
    };
    assert!((median - 2.0).abs() < 0.5, "{median}");
}

#[test]
fn ja3_captures_carry_tls_handshakes() {
    for name in ["ja3-ssl-curl.pcap", "ja3-ssl-chrome.pcap"] {
        let (stats, conns) = run(&corpus(name));
        assert!(stats.complete, "{name}");
        let tls: Vec<&ConnRecord> = conns
            .iter()
            .filter(|c| c.proto == Proto::Tcp && c.resp_p == 443)
            .collect();
        assert!(!tls.is_empty(), "{name}");
        for c in tls {
            assert_eq!(&c.first_orig_payload[..2], &[0x16, 0x03], "{name}");
            assert_eq!(c.first_orig_payload[5], 1, "ClientHello in {name}");
            assert_eq!(&c.first_resp_payload[..2], &[0x16, 0x03], "{name}");
            assert_eq!(c.first_resp_payload[5], 2, "ServerHello in {name}");
        }
    }
    assert_eq!(run(&corpus("ja3-ssl-curl.pcap")).0.packets, 34);
    assert_eq!(run(&corpus("ja3-ssl-chrome.pcap")).0.packets, 15);
}

// ---------------------------------------------------------------- container variants

#[test]
fn legacy_variants_and_gzip_give_the_same_records() {
    let orig = corpus("slips-test-cc-capture-2.pcap");
    let (stats, want) = run(&orig);
    assert_eq!(stats.packets, 1084);
    assert!((stats.duration() - 67.50).abs() < 0.01);
    let want = summary(&want);
    let (link, recs) = legacy_records(&orig);
    for (be, nanos) in [(true, false), (false, true), (true, true)] {
        let bytes = write_pcap(link, &recs, be, nanos);
        let (s, got) = run(&bytes);
        assert!(s.complete);
        assert_eq!(
            s.format,
            Some(CaptureFormat::Pcap {
                big_endian: be,
                nanosecond: nanos,
                modified: false
            })
        );
        assert_eq!(summary(&got), want, "be {be} nanos {nanos}");
    }
    // One gzip member, and three concatenated members split mid-record.
    let (s, got) = run(&gzip(&orig));
    assert!(s.gzip && s.complete);
    assert_eq!(summary(&got), want);
    let mut multi = gzip(&orig[..1000]);
    multi.extend(gzip(&orig[1000..100_001]));
    multi.extend(gzip(&orig[100_001..]));
    let (s, got) = run(&multi);
    assert!(s.gzip && s.complete);
    assert_eq!(s.stream_bytes, orig.len() as u64);
    assert_eq!(summary(&got), want);
}

/// pcapng with two sections (little- then big-endian), two interfaces per section with
/// different link types and timestamp resolutions, built around the corpus packets.
#[test]
fn pcapng_sections_and_interfaces() {
    let orig = corpus("slips-test-cc-capture-2.pcap");
    let (_, want) = run(&orig);
    let want = summary(&want);
    let (_, recs) = legacy_records(&orig);
    let half = recs.len() / 2;
    let mut ng = Ng {
        out: Vec::new(),
        be: false,
    };
    for (n, chunk) in [&recs[..half], &recs[half..]].into_iter().enumerate() {
        ng.be = n == 1;
        ng.shb();
        // Interface 0: Ethernet, microseconds (default resolution).
        ng.idb(1, None, None);
        // Interface 1: raw IPv4 (link type 228), nanoseconds, with a 1000 s offset.
        ng.idb(228, Some(9), Some(1000));
        for (i, r) in chunk.iter().enumerate() {
            if i % 2 == 0 {
                ng.epb(0, (r.ts_nanos / 1000) as u64, &r.data, r.orig_len);
            } else {
                let ticks = (r.ts_nanos - 1000 * 1_000_000_000) as u64;
                ng.epb(1, ticks, &r.data[14..], r.orig_len - 14);
            }
        }
    }
    let bytes = ng.out;
    let (s, got) = run(&bytes);
    assert!(s.complete, "{:?}", s.errors);
    assert_eq!(s.format, Some(CaptureFormat::PcapNg));
    assert_eq!((s.sections, s.interfaces), (2, 4));
    assert_eq!(s.packets, recs.len() as u64);
    assert_eq!(s.link_types.len(), 2);
    assert_eq!(summary(&got), want);
    // And compressed.
    let (s, got) = run(&gzip(&bytes));
    assert!(s.gzip && s.complete);
    assert_eq!(summary(&got), want);

    // A packet on an undeclared interface is counted, not decoded.
    let mut ng = Ng {
        out: Vec::new(),
        be: false,
    };
    ng.shb();
    ng.idb(1, None, None);
    ng.epb(3, 0, &recs[0].data, recs[0].orig_len);
    ng.epb(0, 0, &recs[0].data, recs[0].orig_len);
    let (s, _) = run(&ng.out);
    assert_eq!((s.packets, s.unknown_interface_packets), (1, 1));
}

#[test]
fn pcapng_bad_block_is_skipped_and_reported() {
    let (_, recs) = legacy_records(&corpus("ja3-ssl-curl.pcap"));
    let mut ng = Ng {
        out: Vec::new(),
        be: false,
    };
    ng.shb();
    ng.idb(1, None, None);
    ng.epb(0, 1_000_000, &recs[0].data, recs[0].orig_len);
    let bad_at = ng.out.len();
    ng.epb(0, 2_000_000, &recs[1].data, recs[1].orig_len);
    // Claim more captured bytes than the block holds.
    ng.out[bad_at + 20..bad_at + 24].copy_from_slice(&4000u32.to_le_bytes());
    for r in &recs[2..] {
        ng.epb(0, 3_000_000, &r.data, r.orig_len);
    }
    let (s, _) = run(&ng.out);
    assert_eq!(s.packets, recs.len() as u64 - 1);
    assert_eq!(s.error_count, 1);
    assert!(
        matches!(s.errors[0], CaptureError::Malformed { offset, .. } if offset == bad_at as u64),
        "{:?}",
        s.errors
    );
}

// ---------------------------------------------------------------- link types

/// (Ethernet header, IP packet) → frame under another link type.
type Reframe<'a> = dyn Fn(&[u8], &[u8]) -> Vec<u8> + 'a;

/// Re-frame the Ethernet packets of a corpus capture under other link types.
#[test]
fn link_types_decode_alike() {
    let orig = corpus("ja3-ssl-curl.pcap");
    let (_, want) = run(&orig);
    let want = summary(&want);
    let (link, recs) = legacy_records(&orig);
    assert_eq!(link, 1);
    let reframe = |f: &Reframe<'_>| -> Vec<Rec> {
        recs.iter()
            .map(|r| {
                let data = f(&r.data[..14], &r.data[14..]);
                Rec {
                    ts_nanos: r.ts_nanos,
                    orig_len: data.len() as u32,
                    data,
                }
            })
            .collect()
    };
    let with = |hdr: Vec<u8>, rest: &[u8]| [hdr, rest.to_vec()].concat();
    let cases: Vec<(u32, Vec<Rec>)> = vec![
        (0, reframe(&|_, ip| with(2u32.to_le_bytes().to_vec(), ip))),
        (0, reframe(&|_, ip| with(2u32.to_be_bytes().to_vec(), ip))),
        (108, reframe(&|_, ip| with(2u32.to_be_bytes().to_vec(), ip))),
        (101, reframe(&|_, ip| ip.to_vec())),
        (12, reframe(&|_, ip| ip.to_vec())),
        (228, reframe(&|_, ip| ip.to_vec())),
        (
            113,
            reframe(&|eth, ip| {
                let mut h = vec![0, 0, 0, 1, 0, 6];
                h.extend_from_slice(&eth[6..12]);
                h.extend_from_slice(&[0, 0, 0x08, 0x00]);
                with(h, ip)
            }),
        ),
        (
            276,
            reframe(&|eth, ip| {
                let mut h = vec![0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6];
                h.extend_from_slice(&eth[6..12]);
                h.extend_from_slice(&[0, 0]);
                with(h, ip)
            }),
        ),
        (
            1,
            reframe(&|eth, ip| {
                // 802.1Q tag, VLAN 42.
                let mut h = eth[..12].to_vec();
                h.extend_from_slice(&[0x81, 0x00, 0x00, 0x2a]);
                h.extend_from_slice(&eth[12..14]);
                with(h, ip)
            }),
        ),
    ];
    for (link, recs) in cases {
        let (s, got) = run(&write_pcap(link, &recs, false, false));
        assert_eq!(s.flows.skipped.total(), 0, "link {link}");
        assert_eq!(summary(&got), want, "link {link}");
    }
    // IEEE 802.11 radiotap (127) is not decoded: counted with its number.
    let (s, got) = run(&write_pcap(127, &recs, false, false));
    assert!(got.is_empty());
    assert_eq!(
        s.flows.skipped.unsupported_link_types.get(&127),
        Some(&(recs.len() as u64))
    );
    assert_eq!(SUPPORTED_LINK_TYPES.len(), 10);
}

// ---------------------------------------------------------------- broken inputs

#[test]
fn truncated_and_garbage_inputs_report_where() {
    let orig = corpus("ja3-ssl-curl.pcap");
    let (_, recs) = legacy_records(&orig);
    // Offsets of each record.
    let mut offs = vec![24usize];
    for r in &recs {
        offs.push(offs.last().unwrap() + 16 + r.data.len());
    }
    assert_eq!(*offs.last().unwrap(), orig.len());
    for (k, cut_in) in [(5usize, 7usize), (10, 20), (20, 1)] {
        let cut = offs[k] + cut_in;
        let (s, conns) = run(&orig[..cut]);
        assert!(!s.complete);
        assert_eq!(s.packets, k as u64);
        assert!(
            matches!(s.errors[..], [CaptureError::Truncated { offset, .. }] if offset == offs[k] as u64),
            "{:?}",
            s.errors
        );
        assert!(!conns.is_empty() || k == 0);
    }
    // Cut exactly at a record boundary: complete.
    let (s, _) = run(&orig[..offs[7]]);
    assert!(s.complete && s.packets == 7);
    // Header only: complete and empty.
    let (s, conns) = run(&orig[..24]);
    assert!(s.complete && s.packets == 0 && conns.is_empty());
    // Header cut short.
    assert!(matches!(
        read_capture(&orig[..10], &CaptureConfig::default(), |_| {}),
        Err(CaptureError::Truncated { offset: 0, .. })
    ));
    assert!(matches!(
        read_capture(&b""[..], &CaptureConfig::default(), |_| {}),
        Err(CaptureError::Empty)
    ));
    let err = read_capture(
        &b"#separator \\x09\n"[..],
        &CaptureConfig::default(),
        |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, CaptureError::NotACapture { gzip: false, .. }));
    assert!(
        err.to_string().contains("23 73 65 70") || err.to_string().contains("[23, 73, 65, 70]")
    );
    assert!(matches!(
        read_capture(&gzip(b"hello world")[..], &CaptureConfig::default(), |_| {}),
        Err(CaptureError::NotACapture { gzip: true, .. })
    ));
    // A record claiming 100 MB.
    let mut big = orig.clone();
    big[offs[3] + 8..offs[3] + 12].copy_from_slice(&100_000_000u32.to_le_bytes());
    let (s, _) = run(&big);
    assert_eq!(s.packets, 3);
    assert!(matches!(
        s.errors[..],
        [CaptureError::BlockTooLarge { offset, size: 100_000_016, .. }] if offset == offs[3] as u64
    ));
    // Corrupt deflate data.
    let mut gz = gzip(&unit42()[..400_000]);
    let mid = gz.len() / 2;
    for b in &mut gz[mid..mid + 100] {
        *b ^= 0x5a;
    }
    let (s, _) = run(&gz);
    assert!(!s.complete);
    assert!(s.errors.iter().any(|e| e.offset().is_some()));
    // Input limit (gzip bomb guard).
    let cfg = CaptureConfig {
        max_input_bytes: Some(2000),
        ..CaptureConfig::default()
    };
    let (s, _) = run_cfg(&orig, &cfg);
    assert!(matches!(
        s.errors[..],
        [CaptureError::LimitReached { limit: 2000, .. }]
    ));
}

// ---------------------------------------------------------------- robustness

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut XorShift, base: &[u8]) -> Vec<u8> {
    let mut m = base.to_vec();
    for _ in 0..1 + rng.below(8) {
        if m.is_empty() {
            break;
        }
        let at = rng.below(m.len());
        match rng.below(6) {
            0 => m[at] = rng.next() as u8,
            1 => m[at] ^= 1 << rng.below(8),
            2 => m.truncate(at),
            3 => {
                // A length-like field set to an extreme.
                let end = (at + 4).min(m.len());
                for b in &mut m[at..end] {
                    *b = 0xff;
                }
            }
            4 => {
                let n = rng.below(64);
                let fill = rng.next() as u8;
                m.splice(at..at, std::iter::repeat_n(fill, n));
            }
            _ => {
                let end = (at + rng.below(32)).min(m.len());
                m.drain(at..end);
            }
        }
    }
    m
}

#[test]
fn mutation_robustness() {
    let curl = corpus("ja3-ssl-curl.pcap");
    let (_, recs) = legacy_records(&curl);
    let mut ng = Ng {
        out: Vec::new(),
        be: true,
    };
    ng.shb();
    ng.idb(1, Some(9), Some(-5));
    ng.idb(113, Some(0x86), None);
    for (i, r) in recs.iter().enumerate() {
        ng.epb((i % 2) as u32, r.ts_nanos as u64, &r.data, r.orig_len);
    }
    let bases = [
        curl.clone(),
        ng.out.clone(),
        gzip(&corpus("ja3-ssl-chrome.pcap")),
    ];
    let cfg = CaptureConfig {
        max_block_bytes: 1 << 20,
        read_buffer_bytes: 4096,
        max_input_bytes: Some(8 << 20),
        max_flows: 8,
        payload_bytes: 256,
        ..CaptureConfig::default()
    };
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut outcomes = [0usize; 3];
    for base in &bases {
        for _ in 0..1500 {
            let m = mutate(&mut rng, base);
            let mut n = 0usize;
            match read_capture(&m[..], &cfg, |c| {
                assert!(c.first_orig_payload.len() <= 256 && c.datagrams.len() <= 32);
                n += 1;
            }) {
                Ok(s) if s.complete => outcomes[0] += 1,
                Ok(s) => {
                    assert!(!s.errors.is_empty());
                    outcomes[1] += 1;
                }
                Err(e) => {
                    let _ = e.to_string();
                    outcomes[2] += 1;
                }
            }
        }
    }
    // Every kind of outcome happened, and nothing panicked.
    assert!(outcomes.iter().all(|&n| n > 0), "{outcomes:?}");

    // The frame decoder alone, on random bytes under every link type.
    for _ in 0..20_000 {
        let len = rng.below(120);
        let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let link = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 127][rng.below(11)];
        let _ = packet::decode(link, &data);
    }
}
