//! The analysis end to end on the corpus captures (spec `network.md` §10).

use std::collections::BTreeSet;
use std::io::{Cursor, Read};

use super::*;
use crate::capture::read_capture;
use crate::intel::{ParseOptions, parse_feed};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");

/// The Unit 42 capture, decrypted from its ZIP in memory (real malware traffic: never on disk).
fn unit42() -> Vec<u8> {
    let zip =
        std::fs::read(format!("{CORPUS}/net/unit42-emotet-2021-01-06.pcap.zip")).expect("zip");
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).expect("opens");
    let mut f = archive.by_index_decrypt(0, b"infected").expect("decrypts");
    let mut pcap = Vec::new();
    f.read_to_end(&mut pcap).expect("reads");
    pcap
}

fn analyse_with(pcap: &[u8], cfg: AnalyzeConfig, intel: Option<&IntelIndex>) -> Analysis {
    let mut a = Analyzer::new(cfg);
    read_capture(pcap, &capture_config(), |c| a.add(&c)).expect("capture");
    a.finish(intel)
}

fn analyse(pcap: &[u8], intel: Option<&IntelIndex>) -> Analysis {
    analyse_with(pcap, AnalyzeConfig::default(), intel)
}

fn symbols(p: &PeerReport) -> Vec<&'static str> {
    p.findings.iter().map(|f| f.symbol).collect()
}

fn peer<'a>(a: &'a Analysis, dst: &str) -> &'a PeerReport {
    a.peers
        .iter()
        .find(|p| p.dst == dst)
        .unwrap_or_else(|| panic!("{dst} not ranked"))
}

fn feed(path: &str) -> IntelIndex {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    IntelIndex::from_snapshots([parse_feed(&data, &ParseOptions::default()).expect("parses")])
}

fn unit42_intel() -> IntelIndex {
    feed(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/intel/unit42-emotet-2021-01-06-iocs.txt"
    ))
}

const C2: [&str; 3] = ["5.2.136.90", "167.71.4.0", "46.101.230.194"];

/// Spec §10: 10.1.6.206 is the infected host, and the three C2s are the top-ranked peers, each
/// with its reasons; the Windows background traffic is not ranked.
#[test]
fn unit42_c2s_rank_first_with_their_reasons() {
    let a = analyse(&unit42(), Some(&unit42_intel()));
    assert_eq!(a.internal_hosts, 1);
    assert!(a.assumed_internal.is_none());
    let top: BTreeSet<&str> = a.peers.iter().take(3).map(|p| p.dst.as_str()).collect();
    assert_eq!(
        top,
        C2.into_iter().collect(),
        "{:?}",
        a.peers.iter().map(|p| &p.dst).collect::<Vec<_>>()
    );
    for p in &a.peers {
        assert_eq!(p.src.to_string(), "10.1.6.206");
        assert!(
            !p.names
                .iter()
                .any(|n| n.contains("microsoft") || n.contains("windows")),
            "background traffic ranked: {:?} {:?}",
            p.names,
            symbols(p)
        );
    }
    assert!(
        a.peers.len() <= 4,
        "{:?}",
        a.peers.iter().map(|p| &p.dst).collect::<Vec<_>>()
    );

    let p = peer(&a, "5.2.136.90");
    assert_eq!(p.severity, Some(RitaSeverity::Critical));
    assert!(symbols(p).contains(&"NET_HTTP_C2_POST") && symbols(p).contains(&"NET_BEACON"));
    let post = p
        .findings
        .iter()
        .find(|f| f.symbol == "NET_HTTP_C2_POST")
        .expect("post");
    assert!(
        post.evidence.starts_with("15 POST(s) to 5.2.136.90"),
        "{}",
        post.evidence
    );
    assert!(post.evidence.contains("MSIE 7.0/Trident") && post.evidence.contains("Referer"));
    let beacon = p
        .findings
        .iter()
        .find(|f| f.symbol == "NET_BEACON")
        .expect("beacon");
    assert!(
        beacon.evidence.contains("ts 0.859") && beacon.evidence.contains("median interval 949 s"),
        "{}",
        beacon.evidence
    );
    assert!(beacon.evidence.contains("under 12 h"), "short capture said");

    let p = peer(&a, "167.71.4.0");
    let post = p
        .findings
        .iter()
        .find(|f| f.symbol == "NET_HTTP_C2_POST")
        .expect("post");
    assert!(
        post.evidence
            .starts_with("9 POST(s) to 167.71.4.0:8080 (7 multipart, 2 urlencoded)"),
        "{}",
        post.evidence
    );

    let p = peer(&a, "46.101.230.194");
    let refused = p
        .findings
        .iter()
        .find(|f| f.symbol == "NET_REFUSED_REPEATED")
        .expect("refused");
    assert!(
        refused
            .evidence
            .starts_with("40 connection attempts to port 443"),
        "{}",
        refused.evidence
    );
    for dst in C2 {
        let p = peer(&a, dst);
        assert!(
            symbols(p).contains(&"NET_INTEL_HIT"),
            "{dst}: {:?}",
            symbols(p)
        );
        assert!(
            p.severity >= Some(RitaSeverity::High),
            "{dst}: {:?}",
            p.severity
        );
    }
    // The dropper's DLL download (chunked reply starting with MZ) is ranked after them.
    let dl = peer(&a, "103.92.235.25");
    assert_eq!(symbols(dl), ["NET_EXECUTABLE_DOWNLOAD"]);
    assert_eq!(dl.names, ["seo.udaipurkart.com"]);
}

/// Without intel, traffic alone still puts the three C2s first.
#[test]
fn unit42_c2s_rank_first_without_intel() {
    let a = analyse(&unit42(), None);
    let top: BTreeSet<&str> = a.peers.iter().take(3).map(|p| p.dst.as_str()).collect();
    assert_eq!(top, C2.into_iter().collect());
    assert!(
        a.peers
            .iter()
            .all(|p| !symbols(p).contains(&"NET_INTEL_HIT"))
    );
    // The 2021-03 Feodo snapshot does not list them (they were gone by then).
    let feodo = feed(&format!(
        "{CORPUS}/intel/feodo-ipblocklist-aggressive-2021-03.csv"
    ));
    let a = analyse(&unit42(), Some(&feodo));
    assert!(
        a.peers
            .iter()
            .all(|p| !symbols(p).contains(&"NET_INTEL_HIT"))
    );
}

/// Spec §10: curl to testing.com every 2 s is a strong beacon (0.989); the capturing host has a
/// public address, so it is taken as the internal one (or named with `internal`).
#[test]
fn slips_capture_is_a_strong_beacon() {
    let pcap = std::fs::read(format!("{CORPUS}/net/slips-test-cc-capture-1.pcap")).expect("pcap");
    let a = analyse(&pcap, None);
    assert_eq!(
        a.assumed_internal.map(|ip| ip.to_string()).as_deref(),
        Some("147.32.80.37")
    );
    let p = peer(&a, "141.193.213.21");
    let b = p
        .findings
        .iter()
        .find(|f| f.symbol == "NET_BEACON")
        .expect("beacon");
    assert!(
        b.evidence.starts_with(
            "beacon score 0.989 (ts 1.000, ds 1.000, dur 1.000, hist 0.957) over 297 connections"
        ),
        "{}",
        b.evidence
    );
    assert_eq!(p.severity, Some(RitaSeverity::High));
    let cfg = AnalyzeConfig {
        internal: vec!["147.32.0.0/16".parse().expect("cidr")],
        ..AnalyzeConfig::default()
    };
    let a = analyse_with(&pcap, cfg, None);
    assert!(a.assumed_internal.is_none());
    assert!(a.peers.iter().any(|p| p.dst == "141.193.213.21"));
}

#[test]
fn cidr_parsing_and_matching() {
    let c: Cidr = "10.0.0.0/8".parse().expect("v4");
    assert!(c.contains("10.200.1.1".parse().expect("ip")));
    assert!(!c.contains("11.0.0.1".parse().expect("ip")));
    assert!(c.contains("::ffff:10.1.2.3".parse().expect("mapped")));
    let c: Cidr = "2001:db8::/32".parse().expect("v6");
    assert!(c.contains("2001:db8:1::5".parse().expect("ip")));
    assert!(!c.contains("2001:db9::5".parse().expect("ip")));
    let host: Cidr = "192.0.2.7".parse().expect("host");
    assert_eq!(host.prefix, 32);
    let all: Cidr = "0.0.0.0/0".parse().expect("all");
    assert!(all.contains("203.0.113.1".parse().expect("ip")));
    for bad in ["10.0.0.0/33", "nonsense/8", "::/129", "1.2.3.4/x"] {
        assert!(bad.parse::<Cidr>().is_err(), "{bad}");
    }
}

/// Reading inputs in parallel folds analyzers together: two halves of a capture's connections,
/// merged, rank the same peers with the same scores as one analyzer over all of them.
#[test]
fn merged_halves_rank_like_one() {
    let pcap = unit42();
    let mut records = Vec::new();
    read_capture(&pcap[..], &capture_config(), |c| records.push(c)).expect("capture");
    let mut whole = Analyzer::new(AnalyzeConfig::default());
    let (mut a, mut b) = (
        Analyzer::new(AnalyzeConfig::default()),
        Analyzer::new(AnalyzeConfig::default()),
    );
    for (i, r) in records.iter().enumerate() {
        whole.add(r);
        if i % 2 == 0 { a.add(r) } else { b.add(r) }
    }
    a.merge(b);
    let (one, two) = (whole.finish(None), a.finish(None));
    let view = |x: &Analysis| {
        x.peers
            .iter()
            .map(|p| {
                (
                    p.dst.clone(),
                    (p.score * 1000.0).round() as i64,
                    p.conns,
                    symbols(p),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(view(&one), view(&two));
    assert_eq!((one.conns, one.pairs), (two.conns, two.pairs));
}

/// With every pair reported, a pair's profile carries what its handshakes said: spec §10's JA3 and
/// JA3S of the curl capture and its server name.
#[test]
fn all_pairs_carry_their_tls_profile() {
    let pcap = std::fs::read(format!("{CORPUS}/net/ja3-ssl-curl.pcap")).expect("pcap");
    let cfg = AnalyzeConfig {
        all_pairs: true,
        ..AnalyzeConfig::default()
    };
    let a = analyse_with(&pcap, cfg, None);
    let p = a
        .peers
        .iter()
        .find(|p| !p.profile.ja3.is_empty())
        .expect("a TLS pair");
    assert!(p.findings.is_empty(), "{:?}", symbols(p));
    assert_eq!(p.severity, None);
    assert_eq!(p.profile.ja3, ["2a26b1a62e40d25d4de3babc9d532f30"]);
    assert_eq!(p.profile.ja3s, ["554786d4c84f8a7953b7e453c6371067"]);
    assert_eq!(p.profile.sni, ["google.com"]);
    assert_eq!(p.profile.tls_connections, 1);
    assert!(!p.profile.certificates.is_empty());
    assert!(
        analyse(&pcap, None).peers.is_empty(),
        "nothing ranked by default"
    );
}

/// A connection record as the capture path emits it, with the given first bytes.
fn conn(orig: &str, resp: &str, port: u16, ts: f64, client: &[u8], server: &[u8]) -> ConnRecord {
    ConnRecord {
        uid: 0,
        ts,
        orig_h: orig.parse().expect("ip"),
        orig_p: 50_000,
        resp_h: resp.parse().expect("ip"),
        resp_p: port,
        proto: Proto::Tcp,
        duration: 2.0,
        orig_bytes: client.len() as u64,
        resp_bytes: server.len() as u64,
        conn_state: ConnState::Sf,
        local_orig: true,
        local_resp: false,
        history: "ShADadFf".into(),
        orig_pkts: 10,
        orig_ip_bytes: 600,
        resp_pkts: 10,
        resp_ip_bytes: 600,
        end: crate::capture::ConnEnd::Closed,
        first_orig_payload: client.to_vec(),
        first_resp_payload: server.to_vec(),
        orig_payload_gap: false,
        resp_payload_gap: false,
        datagrams: Vec::new(),
    }
}

/// Spec §4: a workstation speaking SMTP to the Internet (Emotet's spambot, 踏み台) is ranked, with
/// the session's messages and recipients; a transcript written per RFC 5321.
#[test]
fn workstation_sending_mail_is_a_spambot() {
    let client =
        b"EHLO desktop-7\r\nMAIL FROM:<keiri@example.co.jp>\r\nRCPT TO:<a@example.net>\r\n\
RCPT TO:<b@example.org>\r\nDATA\r\nSubject: invoice\r\n\r\nhello\r\n.\r\nQUIT\r\n";
    let server = b"220 mx.example.net ESMTP\r\n250-mx.example.net\r\n250 SIZE 10240000\r\n250 2.1.0 Ok\r\n\
250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued\r\n221 2.0.0 Bye\r\n";
    let mut a = Analyzer::new(AnalyzeConfig::default());
    for i in 0..3 {
        a.add(&conn(
            "192.168.10.23",
            "198.51.100.25",
            25,
            1_700_000_000.0 + f64::from(i) * 30.0,
            client,
            server,
        ));
    }
    let out = a.finish(None);
    let p = peer(&out, "198.51.100.25");
    let f = p
        .findings
        .iter()
        .find(|f| f.symbol == "NET_SMTP_OUTBOUND")
        .expect("spambot");
    assert!(
        f.evidence
            .contains("3 clear-text session(s), 3 message(s), 6 recipient(s)"),
        "{}",
        f.evidence
    );
    assert_eq!(p.severity, Some(RitaSeverity::Critical));
    assert_eq!(p.profile.smtp_messages, 3);
}

/// C2 over DNS (RITA's analytic): one host querying hundreds of unique names under one domain, from
/// Zeek dns.log records; ordinary lookups are not ranked.
#[test]
fn many_unique_subdomains_are_c2_over_dns() {
    let mut a = Analyzer::new(AnalyzeConfig::default());
    let record = |q: String| {
        crate::zeek::ZeekRecord::Dns(crate::zeek::ZeekDns {
            ts: 1_700_000_000.0,
            uid: String::new(),
            orig_h: "10.0.0.5".parse().expect("ip"),
            orig_p: 53_000,
            resp_h: "10.0.0.1".parse().expect("ip"),
            resp_p: 53,
            proto: Some(Proto::Udp),
            trans_id: None,
            rtt: None,
            query: Some(q),
            qclass: None,
            qclass_name: None,
            qtype: None,
            qtype_name: Some("TXT".into()),
            rcode: None,
            rcode_name: None,
            aa: false,
            tc: false,
            rd: true,
            ra: true,
            answers: Vec::new(),
            ttls: Vec::new(),
            rejected: false,
        })
    };
    for i in 0..600 {
        a.add_zeek(&record(format!("{i:x}a9f3.tunnel.example.com")));
    }
    for name in ["www.example.org", "mail.example.org", "example.net"] {
        a.add_zeek(&record(name.to_string()));
    }
    let out = a.finish(None);
    assert_eq!(
        out.peers.len(),
        1,
        "{:?}",
        out.peers.iter().map(|p| &p.dst).collect::<Vec<_>>()
    );
    let p = &out.peers[0];
    assert_eq!(p.dst, "example.com");
    assert_eq!(symbols(p), ["NET_DNS_C2"]);
    assert!(
        p.findings[0].evidence.starts_with("600 unique names"),
        "{}",
        p.findings[0].evidence
    );
    assert_eq!(p.severity, Some(RitaSeverity::Medium));
}

/// Inbound noise (spoofed sources scanning the network) never takes the room of outbound pairs.
#[test]
fn inbound_noise_does_not_crowd_out_outbound_pairs() {
    let cfg = AnalyzeConfig {
        max_pairs: 10,
        ..AnalyzeConfig::default()
    };
    let mut a = Analyzer::new(cfg);
    for i in 0..500u32 {
        let src = format!("203.0.{}.{}", i / 250, i % 250 + 1);
        let mut c = conn(
            &src,
            "192.168.1.10",
            445,
            1_700_000_000.0 + f64::from(i),
            b"",
            b"",
        );
        c.conn_state = ConnState::S0;
        a.add(&c);
    }
    for i in 0..12 {
        let mut c = conn(
            "192.168.1.10",
            "198.51.100.7",
            443,
            1_700_000_100.0 + f64::from(i),
            b"",
            b"",
        );
        c.conn_state = ConnState::Rej;
        a.add(&c);
    }
    let out = a.finish(None);
    assert_eq!(out.dropped_pairs, 0);
    let p = peer(&out, "198.51.100.7");
    assert!(
        symbols(p).contains(&"NET_REFUSED_REPEATED"),
        "{:?}",
        symbols(p)
    );
}
