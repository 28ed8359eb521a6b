//! Synthetic packets (etherparse's builder) through the flow table: states, reuse, reassembly,
//! timeouts, caps, skips.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];
const HOST: [u8; 4] = [192, 168, 1, 10];
const PEER: [u8; 4] = [203, 0, 113, 5];

#[derive(Clone, Copy, Default)]
struct F {
    syn: bool,
    ack: bool,
    fin: bool,
    rst: bool,
}
const SYN: F = F {
    syn: true,
    ack: false,
    fin: false,
    rst: false,
};
const SYNACK: F = F {
    syn: true,
    ack: true,
    fin: false,
    rst: false,
};
const ACK: F = F {
    syn: false,
    ack: true,
    fin: false,
    rst: false,
};
const FINACK: F = F {
    syn: false,
    ack: true,
    fin: true,
    rst: false,
};
const RSTACK: F = F {
    syn: false,
    ack: true,
    fin: false,
    rst: true,
};

/// Ethernet/IPv4/TCP frame; `out` = from HOST to PEER.
fn tcp(out: bool, sport: u16, seq: u32, f: F, payload: &[u8]) -> Vec<u8> {
    let (s, d, sm, dm) = if out {
        (HOST, PEER, MAC_A, MAC_B)
    } else {
        (PEER, HOST, MAC_B, MAC_A)
    };
    let (sp, dp) = if out { (sport, 443) } else { (443, sport) };
    let mut b = etherparse::PacketBuilder::ethernet2(sm, dm)
        .ipv4(s, d, 64)
        .tcp(sp, dp, seq, 64240);
    if f.syn {
        b = b.syn();
    }
    if f.ack {
        b = b.ack(1);
    }
    if f.fin {
        b = b.fin();
    }
    if f.rst {
        b = b.rst();
    }
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    etherparse::PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4(src, dst, 64)
        .udp(sport, dport)
        .write(&mut v, payload)
        .unwrap();
    v
}

/// Frames at whole seconds → legacy pcap.
fn cap(frames: &[(f64, Vec<u8>)]) -> Vec<u8> {
    let recs: Vec<Rec> = frames
        .iter()
        .map(|(t, d)| Rec {
            ts_nanos: (t * 1e9) as i64 + 1_600_000_000_000_000_000,
            orig_len: d.len() as u32,
            data: d.clone(),
        })
        .collect();
    write_pcap(1, &recs, false, false)
}

#[test]
fn tcp_rejected_retries_and_port_reuse() {
    let frames = vec![
        (0.0, tcp(true, 5000, 100, SYN, b"")),
        (0.1, tcp(false, 5000, 0, RSTACK, b"")),
        // Same port, same ISN, after the RST: a new attempt.
        (0.7, tcp(true, 5000, 100, SYN, b"")),
        (0.8, tcp(false, 5000, 0, RSTACK, b"")),
        // Unanswered SYN, retransmitted with the same ISN: one S0 record.
        (1.0, tcp(true, 5001, 7, SYN, b"")),
        (2.0, tcp(true, 5001, 7, SYN, b"")),
        // Then a new ISN on the same port: a new record.
        (4.0, tcp(true, 5001, 9999, SYN, b"")),
    ];
    let (_, conns) = run(&cap(&frames));
    let s: Vec<(u16, &str, u64, ConnEnd)> = conns
        .iter()
        .map(|c| (c.orig_p, c.conn_state.as_str(), c.orig_pkts, c.end))
        .collect();
    assert_eq!(
        s,
        vec![
            (5000, "REJ", 1, ConnEnd::Closed),
            (5001, "S0", 2, ConnEnd::Reused),
            (5000, "REJ", 1, ConnEnd::Closed),
            (5001, "S0", 1, ConnEnd::EndOfCapture),
        ]
    );
}

#[test]
fn tcp_states_bytes_and_payload() {
    let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let isn = u32::MAX - 5; // sequence numbers wrap inside the request
    let frames = vec![
        (0.0, tcp(true, 6000, isn, SYN, b"")),
        (0.1, tcp(false, 6000, 1000, SYNACK, b"")),
        (0.2, tcp(true, 6000, isn.wrapping_add(1), ACK, b"")),
        // Request in three segments: 2nd, 1st, 1st again (retransmission), 3rd.
        (
            0.3,
            tcp(true, 6000, isn.wrapping_add(11), ACK, &req[10..20]),
        ),
        (0.4, tcp(true, 6000, isn.wrapping_add(1), ACK, &req[..10])),
        (0.5, tcp(true, 6000, isn.wrapping_add(1), ACK, &req[..12])),
        (0.6, tcp(true, 6000, isn.wrapping_add(21), ACK, &req[20..])),
        (0.7, tcp(false, 6000, 1001, ACK, resp)),
        (
            0.8,
            tcp(
                true,
                6000,
                isn.wrapping_add(1 + req.len() as u32),
                FINACK,
                b"",
            ),
        ),
        (0.9, tcp(false, 6000, 1001 + resp.len() as u32, FINACK, b"")),
        (
            1.0,
            tcp(true, 6000, isn.wrapping_add(2 + req.len() as u32), ACK, b""),
        ),
        // Mid-stream traffic on another port: OTH, orig = first sender.
        (2.0, tcp(false, 6001, 50, ACK, b"data")),
        // A SYN+ACK seen first: direction flipped.
        (3.0, tcp(false, 6002, 70, SYNACK, b"")),
        (3.1, tcp(true, 6002, 5, ACK, b"")),
    ];
    let (stats, conns) = run(&cap(&frames));
    assert_eq!(stats.flows.conns, 3);
    let c = &conns[0];
    assert_eq!(
        (c.orig_h, c.orig_p),
        (IpAddr::V4(Ipv4Addr::from(HOST)), 6000)
    );
    assert_eq!(c.conn_state, ConnState::Sf);
    assert_eq!(c.history, "ShADdFf");
    assert_eq!(c.first_orig_payload, req);
    assert_eq!(c.first_resp_payload, resp);
    assert!(!c.orig_payload_gap && !c.resp_payload_gap);
    assert_eq!(c.orig_bytes, req.len() as u64);
    assert_eq!(c.resp_bytes, resp.len() as u64);
    assert_eq!((c.orig_pkts, c.resp_pkts), (8, 3));
    assert_eq!(c.orig_ip_bytes, 8 * 40 + 12 + req.len() as u64);
    assert!((c.duration - 1.0).abs() < 1e-6);
    assert_eq!(c.end, ConnEnd::Closed);
    let mid = conns.iter().find(|c| c.resp_p == 6001).unwrap();
    assert_eq!(mid.conn_state, ConnState::Oth);
    assert_eq!(mid.orig_p, 443);
    assert_eq!(mid.first_orig_payload, b"data");
    let flipped = conns.iter().find(|c| c.orig_p == 6002).unwrap();
    assert_eq!(flipped.orig_h, IpAddr::V4(Ipv4Addr::from(HOST)));
    assert_eq!(flipped.history, "^hA");
    assert_eq!(flipped.conn_state, ConnState::Oth);
}

#[test]
fn tcp_reassembly_gaps_caps_and_budget() {
    let data: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
    let mut frames = vec![
        (0.0, tcp(true, 7000, 0, SYN, b"")),
        (0.1, tcp(false, 7000, 0, SYNACK, b"")),
    ];
    for (i, chunk) in data.chunks(1000).enumerate() {
        frames.push((0.2, tcp(true, 7000, 1 + 1000 * i as u32, ACK, chunk)));
    }
    // Another connection whose second segment never arrives.
    frames.push((1.0, tcp(true, 7001, 0, SYN, b"")));
    frames.push((1.0, tcp(true, 7001, 1, ACK, b"abc")));
    frames.push((1.0, tcp(true, 7001, 10, ACK, b"xyz")));
    let (_, conns) = run(&cap(&frames));
    let full = &conns[0];
    assert_eq!(full.first_orig_payload, data[..16 * 1024]);
    assert!(!full.orig_payload_gap);
    assert_eq!(full.orig_bytes, 40_000);
    assert_eq!(full.conn_state, ConnState::S1);
    let holed = &conns[1];
    assert_eq!(holed.first_orig_payload, b"abc");
    assert!(holed.orig_payload_gap);
    assert_eq!(holed.orig_bytes, 12, "sequence space, hole included");

    // A budget of 5,000 bytes over all connections.
    let cfg = CaptureConfig {
        payload_memory_budget: 5000,
        ..CaptureConfig::default()
    };
    let (stats, conns) = run_cfg(&cap(&frames), &cfg);
    assert_eq!(conns[0].first_orig_payload, data[..5000]);
    assert!(conns[0].orig_payload_gap);
    assert!(stats.flows.payload_budget_denied > 0);

    // Segment cut by the snap length: payload stops there, flagged.
    let mut frames = vec![(0.0, tcp(true, 7002, 0, SYN, b""))];
    let mut cut = tcp(true, 7002, 1, ACK, &data[..500]);
    cut.truncate(14 + 40 + 100);
    frames.push((0.1, cut));
    frames.push((0.2, tcp(true, 7002, 501, ACK, &data[500..600])));
    let (stats, conns) = run(&cap(&frames));
    assert_eq!(conns[0].first_orig_payload, data[..100]);
    assert!(conns[0].orig_payload_gap);
    assert_eq!(conns[0].orig_bytes, 600);
    assert_eq!(conns[0].orig_ip_bytes, 40 + 540 + 140);
    assert_eq!(stats.flows.skipped.total(), 0);
}

#[test]
fn flow_table_memory_budget_is_released() {
    let mut table = FlowTable::new(&CaptureConfig::default());
    let frames = [
        tcp(true, 8000, 0, SYN, b""),
        tcp(true, 8000, 1, ACK, b"hello"),
        tcp(true, 8000, 20, ACK, b"later"),
        udp(HOST, 5353, [224, 0, 0, 251], 5353, b"mdns"),
    ];
    let mut out = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let p = RawPacket {
            ts_nanos: i as i64,
            link_type: 1,
            data: f,
            orig_len: f.len() as u32,
            interface: 0,
            offset: 0,
        };
        table.push(&p, &mut |c| out.push(c));
    }
    assert_eq!(table.open_flows(), 2);
    assert_eq!(table.budget_used(), 5 + 5 + 4 + 4);
    let stats = table.finish(&mut |c| out.push(c));
    assert_eq!(stats.end_of_capture, 2);
    assert_eq!(out.len(), 2);
}

#[test]
fn udp_idle_timeout_dns_cap_and_eviction() {
    let dns_server = [192, 168, 1, 1];
    let mut frames = Vec::new();
    for i in 0..40u16 {
        frames.push((
            f64::from(i) * 0.5,
            udp(HOST, 50000, dns_server, 53, &i.to_be_bytes()),
        ));
    }
    // Same 5-tuple after 59 s of silence: same flow; after 61 s: a new one.
    frames.push((19.5 + 59.0, udp(HOST, 50000, dns_server, 53, b"q")));
    frames.push((19.5 + 59.0 + 61.0, udp(HOST, 50000, dns_server, 53, b"r")));
    let (stats, conns) = run(&cap(&frames));
    assert_eq!(conns.len(), 2);
    assert_eq!(conns[0].end, ConnEnd::Idle);
    assert_eq!(conns[0].orig_pkts, 41);
    assert_eq!(conns[0].orig_bytes, 81);
    assert_eq!(conns[0].datagrams.len(), 32);
    assert_eq!(conns[0].datagrams[31].payload, 31u16.to_be_bytes());
    assert_eq!(conns[0].conn_state, ConnState::S0);
    assert_eq!(conns[1].datagrams.len(), 1);
    assert_eq!(stats.flows.idle, 1);

    // Other UDP: 4 datagrams kept.
    let frames: Vec<(f64, Vec<u8>)> = (0..10)
        .map(|i| (f64::from(i), udp(HOST, 4000, PEER, 4001, b"x")))
        .collect();
    let (_, conns) = run(&cap(&frames));
    assert_eq!(conns[0].datagrams.len(), 4);

    // Table of two: the third flow evicts the one closest to its timeout.
    let cfg = CaptureConfig {
        max_flows: 2,
        ..CaptureConfig::default()
    };
    let frames = vec![
        (0.0, udp(HOST, 1, PEER, 9, b"a")),
        (1.0, udp(HOST, 2, PEER, 9, b"b")),
        (2.0, udp(HOST, 1, PEER, 9, b"a")),
        (3.0, udp(HOST, 3, PEER, 9, b"c")),
    ];
    let (stats, conns) = run_cfg(&cap(&frames), &cfg);
    assert_eq!(stats.flows.evicted, 1);
    assert_eq!(stats.flows.peak_open, 2);
    assert_eq!((conns[0].orig_p, conns[0].end), (2, ConnEnd::Evicted));
    assert_eq!(conns.len(), 3);
}

#[test]
fn icmp_ipv6_and_skips() {
    let mut echo = Vec::new();
    etherparse::PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4(HOST, PEER, 64)
        .icmpv4_echo_request(1, 1)
        .write(&mut echo, b"ping")
        .unwrap();
    let mut reply = Vec::new();
    etherparse::PacketBuilder::ethernet2(MAC_B, MAC_A)
        .ipv4(PEER, HOST, 64)
        .icmpv4_echo_reply(1, 1)
        .write(&mut reply, b"ping")
        .unwrap();
    let v6a: [u8; 16] = "fd00::1".parse::<Ipv6Addr>().unwrap().octets();
    let v6b: [u8; 16] = "2001:db8::2".parse::<Ipv6Addr>().unwrap().octets();
    let mut six = Vec::new();
    etherparse::PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv6(v6a, v6b, 64)
        .tcp(1234, 80, 10, 1000)
        .syn()
        .write(&mut six, b"")
        .unwrap();
    let mut frag = udp(HOST, 1, PEER, 2, b"fragment");
    frag[14 + 6] |= 0x20; // more fragments
    let mut short_ip = udp(HOST, 1, PEER, 2, b"x");
    short_ip.truncate(14 + 12);
    let mut arp = vec![0u8; 42];
    arp[12..14].copy_from_slice(&[0x08, 0x06]);
    arp[14..22].copy_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    let mut gre = udp(HOST, 1, PEER, 2, b"gre");
    gre[14 + 9] = 47;
    let mut bad_ihl = udp(HOST, 1, PEER, 2, b"x");
    bad_ihl[14] = 0x43;
    let frames = vec![
        (0.0, echo),
        (0.1, reply),
        (0.2, six),
        (0.3, frag),
        (0.4, short_ip),
        (0.5, arp),
        (0.6, gre),
        (0.7, bad_ihl),
    ];
    let (stats, conns) = run(&cap(&frames));
    assert_eq!(conns.len(), 2);
    let icmp = &conns[0];
    assert_eq!(icmp.proto, Proto::Icmp);
    assert_eq!((icmp.orig_p, icmp.resp_p), (8, 0));
    assert_eq!(icmp.conn_state, ConnState::Sf);
    assert_eq!((icmp.orig_bytes, icmp.resp_bytes), (4, 4));
    let v6 = &conns[1];
    assert_eq!(v6.orig_h, IpAddr::V6(Ipv6Addr::from(v6a)));
    assert_eq!(v6.conn_state, ConnState::S0);
    assert!(v6.local_orig && !v6.local_resp);
    assert_eq!(v6.orig_ip_bytes, 60);
    let sk = &stats.flows.skipped;
    assert_eq!(sk.fragments, 1);
    assert_eq!(sk.truncated, 1);
    assert_eq!(sk.non_ip, 1);
    assert_eq!(sk.other_ip_protocols.get(&47), Some(&1));
    assert_eq!(sk.malformed, 1);
    assert_eq!(sk.total(), 5);
    assert_eq!(stats.flows.decoded_packets, 3);
}

#[test]
fn internal_addresses() {
    for a in [
        "10.1.6.206",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.0.1",
        "fd12::1",
        "::ffff:10.0.0.1",
    ] {
        assert!(is_internal(ip(a)), "{a}");
    }
    for a in [
        "172.32.0.1",
        "8.8.8.8",
        "127.0.0.1",
        "169.254.1.1",
        "fe80::1",
        "fc00::1",
        "::1",
        "239.255.255.250",
    ] {
        assert!(!is_internal(ip(a)), "{a}");
    }
    for a in [
        "127.0.0.1",
        "169.254.1.1",
        "fe80::1",
        "::1",
        "239.255.255.250",
        "255.255.255.255",
        "ff02::fb",
        "0.0.0.0",
    ] {
        assert!(is_local_scope(ip(a)), "{a}");
    }
    assert!(!is_local_scope(ip("10.0.0.1")) && !is_local_scope(ip("5.2.136.90")));
}

#[test]
fn sniffing() {
    assert_eq!(sniff(&[0x1f, 0x8b, 8]), Sniffed::Gzip);
    assert_eq!(
        sniff(&[0x0a, 0x0d, 0x0d, 0x0a]),
        Sniffed::Capture(CaptureFormat::PcapNg)
    );
    assert_eq!(
        sniff(&[0xa1, 0xb2, 0x3c, 0x4d]),
        Sniffed::Capture(CaptureFormat::Pcap {
            big_endian: true,
            nanosecond: true,
            modified: false
        })
    );
    assert_eq!(sniff(b"#sep"), Sniffed::Unknown);
    assert_eq!(sniff(&[0xd4]), Sniffed::Unknown);
    let chrome = corpus("ja3-ssl-chrome.pcap");
    let input = open(&chrome[..]).unwrap();
    assert!(!input.is_gzip());
    let gz = gzip(&chrome);
    let input = open(&gz[..]).unwrap();
    assert!(input.is_gzip());
    assert_eq!(
        input.format(),
        CaptureFormat::Pcap {
            big_endian: false,
            nanosecond: false,
            modified: false
        }
    );
}
