//! Tests of the application-layer parsers: real corpus captures (JA3 traces, Slips DNS, the Unit 42
//! Emotet capture read from its password ZIP in memory), hand-built streams, and deterministic
//! mutation runs over every parser.
//!
//! The corpus captures are opened with a **test-only** pcap reader below (legacy pcap, Ethernet,
//! IPv4, TCP/UDP by hand): the real capture path belongs to the `capture` module.

mod dns;
mod http;
mod smtp;
mod tls;

use std::collections::HashMap;
use std::io::Read as _;
use std::net::Ipv4Addr;

use super::*;

pub(super) const JA3_CURL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/net/ja3-ssl-curl.pcap"
);
pub(super) const JA3_CHROME: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/net/ja3-ssl-chrome.pcap"
);
pub(super) const SLIPS_1: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/net/slips-test-cc-capture-1.pcap"
);
pub(super) const SLIPS_2: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/net/slips-test-cc-capture-2.pcap"
);
pub(super) const UNIT42_ZIP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/net/unit42-emotet-2021-01-06.pcap.zip"
);
pub(super) const CERT_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/proto/selfsigned-serial-08bb00ee.der"
);

/// TEST-ONLY capture reader: just enough of legacy pcap, Ethernet II, IPv4, TCP and UDP to pull
/// payloads out of the corpus files (all plain Ethernet/IPv4). Not for production use: the
/// `capture` module does this for real.
pub(super) mod pcap {
    use super::*;

    /// One TCP connection: who opened it and each direction's payload, reassembled by sequence
    /// number (retransmissions dropped, stops at the first hole).
    #[derive(Debug)]
    pub struct TcpConn {
        pub client: (Ipv4Addr, u16),
        pub server: (Ipv4Addr, u16),
        pub c2s: Vec<u8>,
        pub s2c: Vec<u8>,
    }

    #[derive(Debug)]
    pub struct Udp {
        pub src: (Ipv4Addr, u16),
        pub dst: (Ipv4Addr, u16),
        pub payload: Vec<u8>,
    }

    #[derive(Default)]
    struct Dir {
        isn: Option<u32>,
        segments: Vec<(u32, Vec<u8>)>,
    }

    impl Dir {
        fn assemble(mut self) -> Vec<u8> {
            let Some(base) = self.isn.or_else(|| self.segments.iter().map(|s| s.0).min()) else {
                return Vec::new();
            };
            self.segments.sort_by_key(|s| s.0.wrapping_sub(base));
            let mut out = Vec::new();
            for (seq, data) in self.segments {
                let off = seq.wrapping_sub(base) as usize;
                if off > out.len() {
                    break; // hole: stop here
                }
                let skip = out.len() - off;
                if skip < data.len() {
                    out.extend_from_slice(&data[skip..]);
                }
            }
            out
        }
    }

    struct Building {
        client: Option<(Ipv4Addr, u16)>,
        a: (Ipv4Addr, u16),
        b: (Ipv4Addr, u16),
        from_a: Dir,
        from_b: Dir,
        fin: bool,
    }

    /// Reads a legacy pcap (either byte order, Ethernet link type) into TCP connections (in order
    /// of their first packet) and UDP datagrams.
    pub fn read(data: &[u8]) -> (Vec<TcpConn>, Vec<Udp>) {
        let le = match data.get(..4) {
            Some([0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1]) => true,
            Some([0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d]) => false,
            _ => panic!("not a legacy pcap"),
        };
        let u32_at = |b: &[u8], i: usize| {
            let v = [b[i], b[i + 1], b[i + 2], b[i + 3]];
            if le {
                u32::from_le_bytes(v)
            } else {
                u32::from_be_bytes(v)
            }
        };
        assert_eq!(
            u32_at(data, 20),
            1,
            "test helper reads Ethernet captures only"
        );
        let mut conns: Vec<Building> = Vec::new();
        type Endpoint = (Ipv4Addr, u16);
        let mut current: HashMap<(Endpoint, Endpoint), usize> = HashMap::new();
        let mut udp = Vec::new();
        let mut off = 24;
        while off + 16 <= data.len() {
            let incl = u32_at(data, off + 8) as usize;
            let frame = &data[off + 16..(off + 16 + incl).min(data.len())];
            off += 16 + incl;
            if frame.len() < 34 || frame[12..14] != [0x08, 0x00] {
                continue;
            }
            let ip = &frame[14..];
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]])).min(ip.len());
            let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
            let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
            let l4 = &ip[ihl..total];
            let sport = u16::from_be_bytes([l4[0], l4[1]]);
            let dport = u16::from_be_bytes([l4[2], l4[3]]);
            match ip[9] {
                17 => udp.push(Udp {
                    src: (src, sport),
                    dst: (dst, dport),
                    payload: l4[8..usize::from(u16::from_be_bytes([l4[4], l4[5]])).min(l4.len())]
                        .to_vec(),
                }),
                6 => {
                    let seq = u32::from_be_bytes([l4[4], l4[5], l4[6], l4[7]]);
                    let doff = usize::from(l4[12] >> 4) * 4;
                    let flags = l4[13];
                    let (syn, ack, fin) = (flags & 0x02 != 0, flags & 0x10 != 0, flags & 0x01 != 0);
                    let (me, peer) = ((src, sport), (dst, dport));
                    let key = if me < peer { (me, peer) } else { (peer, me) };
                    let fresh = syn && !ack;
                    // A new SYN on a pair that already carried data or a FIN starts a new
                    // connection (port reuse).
                    let used = |b: &Building| {
                        b.fin || !b.from_a.segments.is_empty() || !b.from_b.segments.is_empty()
                    };
                    let idx = match current.get(&key) {
                        Some(&i) if !(fresh && used(&conns[i])) => i,
                        _ => {
                            conns.push(Building {
                                client: None,
                                a: key.0,
                                b: key.1,
                                from_a: Dir::default(),
                                from_b: Dir::default(),
                                fin: false,
                            });
                            current.insert(key, conns.len() - 1);
                            conns.len() - 1
                        }
                    };
                    let c = &mut conns[idx];
                    if fresh {
                        c.client = Some(me);
                    }
                    c.fin |= fin;
                    let dir = if me == c.a {
                        &mut c.from_a
                    } else {
                        &mut c.from_b
                    };
                    if syn {
                        dir.isn = Some(seq.wrapping_add(1));
                    }
                    let payload = &l4[doff.min(l4.len())..];
                    if !payload.is_empty() {
                        dir.segments.push((seq, payload.to_vec()));
                    }
                }
                _ => {}
            }
        }
        let tcp = conns
            .into_iter()
            .map(|c| {
                // Without a SYN, the side on the lower port is taken as the server.
                let client = c.client.unwrap_or(if c.a.1 > c.b.1 { c.a } else { c.b });
                let (from_client, from_server, server) = if client == c.a {
                    (c.from_a, c.from_b, c.b)
                } else {
                    (c.from_b, c.from_a, c.a)
                };
                TcpConn {
                    client,
                    server,
                    c2s: from_client.assemble(),
                    s2c: from_server.assemble(),
                }
            })
            .collect();
        (tcp, udp)
    }

    /// The Unit 42 Emotet capture, decrypted from its ZIP in memory (never written to disk).
    pub fn unit42() -> Vec<u8> {
        let data = std::fs::read(UNIT42_ZIP).expect("corpus ../shared/corpus/net/unit42 ZIP");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(data)).expect("zip");
        let mut entry = zip.by_index_decrypt(0, b"infected").expect("decrypt");
        let mut pcap = Vec::new();
        entry.read_to_end(&mut pcap).expect("inflate");
        pcap
    }
}

/// Deterministic xorshift64 generator for the mutation runs.
pub(super) struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// A mutated copy of `seed`: byte flips, overwrites with boundary values, insertions,
    /// deletions, truncation and duplicated slices.
    pub fn mutate(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut v = seed.to_vec();
        let rounds = 1 + self.below(8);
        for _ in 0..rounds {
            let len = v.len();
            match self.below(7) {
                0 if len > 0 => {
                    let i = self.below(len);
                    v[i] ^= 1 << self.below(8);
                }
                1 if len > 0 => {
                    let i = self.below(len);
                    v[i] = [0x00, 0xff, 0x7f, 0x80, b'\n', b'\r', b'0', 0xc0][self.below(8)];
                }
                2 => {
                    let i = self.below(len + 1);
                    v.insert(i, self.next() as u8);
                }
                3 if len > 0 => {
                    let i = self.below(len);
                    let n = self.below(16).min(len - i);
                    v.drain(i..i + n);
                }
                4 => v.truncate(self.below(len + 1)),
                5 if len > 0 => {
                    let i = self.below(len);
                    let n = self.below(64).min(len - i);
                    let copy = v[i..i + n].to_vec();
                    let at = self.below(v.len() + 1);
                    v.splice(at..at, copy);
                }
                _ if len > 0 => {
                    let i = self.below(len);
                    v[i] = self.next() as u8;
                }
                _ => v.push(self.next() as u8),
            }
        }
        v
    }
}

#[test]
fn test_pcap_helper_reads_the_curl_trace() {
    let (tcp, udp) = pcap::read(&std::fs::read(JA3_CURL).expect("corpus ja3-ssl-curl.pcap"));
    assert_eq!(tcp.len(), 1);
    assert!(udp.is_empty());
    assert_eq!(tcp[0].server.1, 443);
    assert_eq!(tcp[0].c2s[0], 0x16, "client opens with a handshake record");
}

#[test]
fn sniff_tells_protocols_apart() {
    assert_eq!(sniff(b"", b""), AppProto::Empty);
    assert_eq!(
        sniff(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", b""),
        AppProto::Http
    );
    assert_eq!(
        sniff(b"POST /a/b/ HTTP/1.1\r\n", b"HTTP/1.1 200 OK\r\n"),
        AppProto::Http
    );
    // A request line cut by the end of the captured bytes.
    assert_eq!(sniff(b"GET /index.htm", b""), AppProto::Http);
    assert_eq!(sniff(b"", b"HTTP/1.0 404 Not Found\r\n"), AppProto::Http);
    assert_eq!(sniff(b"\x16\x03\x01\x02\x00\x01", b""), AppProto::Tls);
    assert_eq!(sniff(b"", b"\x16\x03\x03\x00\x5a\x02"), AppProto::Tls);
    // SSL 2.0 ClientHello header.
    assert_eq!(sniff(b"\x80\x2e\x01\x03\x01\x00\x15", b""), AppProto::Tls);
    assert_eq!(sniff(b"EHLO pc\r\n", b""), AppProto::Smtp);
    assert_eq!(sniff(b"", b"220 mx.example.net ESMTP\r\n"), AppProto::Smtp);
    assert_eq!(
        sniff(b"SSH-2.0-OpenSSH_9.6\r\n", b"SSH-2.0-x\r\n"),
        AppProto::Other
    );
    assert_eq!(sniff(b"GETX / HTTP/1.1\r\n", b""), AppProto::Other);
    assert_eq!(sniff(b"GET\x00/ HTTP/1.1", b""), AppProto::Other);
    // Connections already open when the capture started: application data records.
    assert_eq!(
        sniff(b"\x17\x03\x03\x00\x5e\x00", b"\x17\x03\x03\x00\xa4"),
        AppProto::Tls
    );
    assert_eq!(
        sniff(b"\x17\x03\x09\x00\x10", b""),
        AppProto::Other,
        "no such version"
    );
    assert_eq!(
        sniff(b"\x17\x03\x03\xff\xff", b""),
        AppProto::Other,
        "record too long"
    );
}

#[test]
fn sniff_on_real_connections() {
    let (tcp, _) = pcap::read(&pcap::unit42());
    let mut by_port: HashMap<(u16, AppProto), usize> = HashMap::new();
    for c in &tcp {
        if c.c2s.is_empty() && c.s2c.is_empty() {
            continue;
        }

        *by_port
            .entry((c.server.1, sniff(&c.c2s, &c.s2c)))
            .or_default() += 1;
    }
    // Every connection with payload to 80/8080 is HTTP, every one to 443 TLS.
    assert!(
        by_port.get(&(80, AppProto::Http)).copied().unwrap_or(0) >= 10,
        "{by_port:?}"
    );
    assert!(
        by_port.get(&(8080, AppProto::Http)).copied().unwrap_or(0) >= 5,
        "{by_port:?}"
    );
    assert!(
        by_port.get(&(443, AppProto::Tls)).copied().unwrap_or(0) >= 10,
        "{by_port:?}"
    );
    for ((port, proto), n) in &by_port {
        match port {
            80 | 8080 => assert_eq!(*proto, AppProto::Http, "{n} connections to {port}"),
            443 => assert_eq!(*proto, AppProto::Tls, "{n} connections to {port}"),

            _ => {}
        }
    }
}

#[test]
fn base64_like_needs_length_and_mixed_classes() {
    assert!(base64_like(b"bVf1aH0Zq9Kx2mT4Lw8sNc3Yr6Pj7Ug5", 32));
    assert!(base64_like(
        b"AW7yce4Jdh7V15Df3n5b83x%2BMqFtzwEFVrIXbXbkXx6dJZqk%3D%3D",
        16
    ));
    assert!(
        !base64_like(b"0123456789abcdef0123456789abcdef", 16),
        "hex session id"
    );
    assert!(!base64_like(b"averyveryverylongwordwithoutdigits", 16));
    assert!(!base64_like(b"Ab1", 16), "too short");
    assert!(
        !base64_like(b"Ab1Ab1Ab1Ab1Ab1Ab1Ab1=Ab1", 16),
        "data after padding"
    );
    assert!(
        !base64_like(b"Ab1Ab1Ab1Ab1Ab1Ab1%41b1", 16),
        "other percent escape"
    );
    assert!(!base64_like(b"Ab1 Ab1Ab1Ab1Ab1Ab1Ab1Ab1", 16), "space");
}

#[test]
fn sniff_survives_mutations() {
    let seeds: [&[u8]; 4] = [
        b"GET / HTTP/1.1\r\n\r\n",
        b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00",
        b"220 mx ESMTP\r\n",
        b"\x80\x2e\x01\x03\x01",
    ];
    let mut rng = XorShift(0x5eed_0001);
    for i in 0..4000 {
        let a = rng.mutate(seeds[i % 4]);
        let b = rng.mutate(seeds[(i + 1) % 4]);
        let _ = sniff(&a, &b);
        let _ = looks_like_http_request(&a);
        let _ = base64_like(&a, 4);
    }
}
