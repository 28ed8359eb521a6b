//! DNS: every port-53 datagram of the Slips and Unit 42 captures, hand-built messages (compression
//! loops, escapes, caps), errors and mutations.

use std::net::Ipv4Addr;

use super::super::dns::*;
use super::{SLIPS_2, XorShift, pcap};

fn dns_datagrams(pcap_bytes: &[u8]) -> Vec<(bool, Vec<u8>)> {
    let (_, udp) = pcap::read(pcap_bytes);
    udp.into_iter()
        .filter(|d| d.src.1 == 53 || d.dst.1 == 53)
        .map(|d| (d.src.1 == 53, d.payload))
        .collect()
}

#[test]
fn slips_capture_dns() {
    let datagrams = dns_datagrams(&std::fs::read(SLIPS_2).expect("corpus slips capture 2"));
    assert_eq!(datagrams.len(), 495);
    let (mut responses, mut nxdomain, mut soa) = (0, 0, 0);
    for (from_server, d) in &datagrams {
        let m = dns_message(d).expect("header");
        assert_eq!(m.error, None, "{m:?}");
        assert_eq!(m.trailing_bytes, 0);
        assert_eq!(m.is_response, *from_server);
        assert_eq!(m.questions.len(), 1);
        let q = &m.questions[0];
        assert_eq!(q.name, q.name.to_ascii_lowercase());
        assert!(!q.name.ends_with('.'));
        if m.is_response {
            responses += 1;
            assert_eq!(m.answers.len(), usize::from(m.ancount));
            if m.is_nxdomain() {
                nxdomain += 1;
                if matches!(
                    m.authorities.first().map(|r| &r.data),
                    Some(RData::Soa { .. })
                ) {
                    soa += 1;
                }
            }
        }
    }
    assert_eq!(nxdomain, 117);
    assert_eq!(soa, 117, "every NXDOMAIN carries the zone's SOA");
    assert!(responses > 200, "{responses}");
    // DNSBL look-ups of a spam sender: reversed IPv4 under zen.spamhaus.org.
    let zen = datagrams
        .iter()
        .filter_map(|(_, d)| dns_message(d).ok())
        .filter(|m| !m.is_response && m.questions[0].name.ends_with(".zen.spamhaus.org"))
        .count();
    assert!(zen > 100, "{zen}");
}

#[test]
fn unit42_capture_dns() {
    let datagrams = dns_datagrams(&pcap::unit42());
    assert_eq!(datagrams.len(), 76);
    let messages: Vec<DnsMessage> = datagrams
        .iter()
        .map(|(_, d)| dns_message(d).expect("header"))
        .collect();
    assert!(messages.iter().all(|m| m.error.is_none()));
    let answer = |name: &str| {
        messages
            .iter()
            .find(|m| m.is_response && m.questions.first().is_some_and(|q| q.name == name))
            .unwrap_or_else(|| panic!("response for {name}"))
    };
    let m = answer("hangarlastik.com");
    assert_eq!(m.txid, 0x3be0);
    assert_eq!(m.rcode, 0);
    assert_eq!(m.answers.len(), 1);
    assert_eq!(m.answers[0].ttl, 4502);
    assert_eq!(m.answers[0].data, RData::A(Ipv4Addr::new(89, 252, 164, 58)));
    let m = answer("seo.udaipurkart.com");
    assert_eq!(m.answers[0].data, RData::A(Ipv4Addr::new(103, 92, 235, 25)));
    // A CNAME chain with compressed targets, then eight A records.
    let m = answer("login.live.com");
    assert_eq!(m.answers.len(), 13);
    assert_eq!(
        m.answers[0].data,
        RData::Name("login.msa.msidentity.com".into())
    );
    assert_eq!(
        m.answers[4].data,
        RData::Name("wst.current.a.prd.aadg.trafficmanager.net".into())
    );
    assert_eq!(
        m.answers[5].name,
        "wst.current.a.prd.aadg.trafficmanager.net"
    );
    assert_eq!(m.answers[5].data, RData::A(Ipv4Addr::new(40, 126, 5, 36)));
    assert_eq!(m.answers[12].ttl, 309);
}

/// A message header with the given counts.
fn header(flags: u16, qd: u16, an: u16, ns: u16, ar: u16) -> Vec<u8> {
    let mut v = vec![0x12, 0x34];
    for x in [flags, qd, an, ns, ar] {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v
}

fn name(labels: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::new();
    for l in labels {
        v.push(l.len() as u8);
        v.extend_from_slice(l);
    }
    v.push(0);
    v
}

fn rr(owner: &[u8], rtype: u16, ttl: u32, rdata: &[u8]) -> Vec<u8> {
    let mut v = owner.to_vec();
    v.extend_from_slice(&rtype.to_be_bytes());
    v.extend_from_slice(&1u16.to_be_bytes());
    v.extend_from_slice(&ttl.to_be_bytes());
    v.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    v.extend_from_slice(rdata);
    v
}

#[test]
fn record_types_and_name_forms() {
    let mut m = header(0x8183, 1, 5, 0, 1);
    m.extend(name(&[b"WWW", b"Ex.ample", b"COM"]));
    m.extend_from_slice(&[0, 16, 0, 1]);
    let ptr = [0xc0, 12]; // the question name
    m.extend(rr(&ptr, TYPE_TXT, 60, b"\x05hello\x03k=v"));
    m.extend(rr(
        &ptr,
        TYPE_MX,
        60,
        &[&[0, 10][..], &name(&[b"mx"])[..]].concat(),
    ));
    m.extend(rr(
        &ptr,
        TYPE_AAAA,
        60,
        &[0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    ));
    m.extend(rr(
        &ptr,
        TYPE_SRV,
        60,
        &[&[0, 1, 0, 2, 0x01, 0xbb][..], &name(&[b"srv"])[..]].concat(),
    ));
    m.extend(rr(&ptr, 99, 60, b"\x01\x02\x03"));
    m.extend(rr(&[0], TYPE_OPT, 0, b""));
    let msg = dns_message(&m).expect("header");
    assert_eq!(msg.error, None);
    assert!(msg.is_response && msg.recursion_desired && msg.recursion_available);
    assert!(msg.is_nxdomain());
    assert_eq!(
        msg.questions[0].name, "www.ex\\046ample.com",
        "a dot inside a label is escaped"
    );
    assert_eq!(msg.questions[0].qtype, TYPE_TXT);
    assert_eq!(
        msg.answers[0].data,
        RData::Txt {
            strings: vec!["hello".into(), "k=v".into()],
            len: 10
        }
    );
    assert_eq!(
        msg.answers[1].data,
        RData::Mx {
            preference: 10,
            exchange: "mx".into()
        }
    );
    assert_eq!(
        msg.answers[2].data,
        RData::Aaaa("2001:db8::1".parse().expect("v6"))
    );
    assert_eq!(
        msg.answers[3].data,
        RData::Srv {
            priority: 1,
            weight: 2,
            port: 443,
            target: "srv".into()
        }
    );
    assert_eq!(msg.answers[4].data, RData::Other { len: 3 });
    assert_eq!(msg.additionals[0].name, ".");
    assert_eq!(msg.additionals[0].data, RData::Opt { len: 0 });
}

#[test]
fn hostile_names_are_refused_with_offsets() {
    // Pointer to itself.
    let mut m = header(0, 1, 0, 0, 0);
    m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
    assert_eq!(
        dns_message(&m).expect("header").error,
        Some(DnsError::BadPointer {
            offset: 12,
            target: 12
        })
    );
    // Forward pointer.
    let mut m = header(0, 1, 0, 0, 0);
    m.extend_from_slice(&[1, b'a', 0xc0, 20, 0, 1, 0, 1]);
    assert!(matches!(
        dns_message(&m).expect("header").error,
        Some(DnsError::BadPointer { .. })
    ));
    // Two names pointing into each other is impossible with backward-only pointers; a long
    // backward chain is fine until the name exceeds 255 bytes.
    let mut m = header(0, 1, 0, 0, 0);
    for _ in 0..5 {
        m.push(63);
        m.extend_from_slice(&[b'x'; 63]);
    }
    m.push(0);
    m.extend_from_slice(&[0, 1, 0, 1]);
    assert_eq!(
        dns_message(&m).expect("header").error,
        Some(DnsError::NameTooLong { offset: 12 })
    );
    // Extended label type.
    let mut m = header(0, 1, 0, 0, 0);
    m.extend_from_slice(&[0x41, 0, 0, 1, 0, 1]);
    assert!(matches!(
        dns_message(&m).expect("header").error,
        Some(DnsError::LabelType { label: 0x41, .. })
    ));
    // Control bytes and upper case.
    let mut m = header(0, 1, 0, 0, 0);
    m.extend(name(&[b"A\x00\xff"]));
    m.extend_from_slice(&[0, 1, 0, 1]);
    assert_eq!(
        dns_message(&m).expect("header").questions[0].name,
        "a\\000\\255"
    );
}

#[test]
fn partial_messages_keep_what_was_read() {
    assert_eq!(
        dns_message(&[0; 11]),
        Err(DnsError::ShortHeader { len: 11 })
    );
    let mut m = header(0x8180, 1, 2, 0, 0);
    m.extend(name(&[b"a", b"example"]));
    m.extend_from_slice(&[0, 1, 0, 1]);
    m.extend(rr(&[0xc0, 12], TYPE_A, 5, &[192, 0, 2, 1]));
    m.extend(rr(&[0xc0, 12], TYPE_A, 5, &[192, 0, 2, 2]));
    let full = dns_message(&m).expect("header");
    assert_eq!(full.answers.len(), 2);
    let cut = dns_message(&m[..m.len() - 2]).expect("header");
    assert_eq!(cut.answers.len(), 1);
    assert_eq!(
        cut.error,
        Some(DnsError::RecordCut {
            section: "answer",
            offset: m.len() - 16
        })
    );
    // A record with a wrong length for its type.
    let mut bad = header(0x8180, 0, 1, 0, 0);
    bad.extend(rr(&[0], TYPE_A, 5, &[1, 2, 3]));
    assert_eq!(
        dns_message(&bad).expect("header").error,
        Some(DnsError::RData {
            offset: 23,
            rtype: 1
        })
    );
    // Counts far above what the datagram holds are capped by the data itself.
    let mut many = header(0, 0xffff, 0, 0, 0);
    for _ in 0..40 {
        many.extend_from_slice(&[0, 0, 1, 0, 1]);
    }
    let msg = dns_message(&many).expect("header");
    assert_eq!(msg.questions.len(), MAX_QUESTIONS);
    assert!(msg.capped);
    assert!(matches!(msg.error, Some(DnsError::NameCut { .. })));
}

#[test]
fn dns_parser_survives_mutations() {
    let seeds: Vec<Vec<u8>> = dns_datagrams(&std::fs::read(SLIPS_2).expect("corpus"))
        .into_iter()
        .map(|(_, d)| d)
        .filter(|d| d.len() > 60)
        .take(8)
        .collect();
    assert!(!seeds.is_empty());
    let mut rng = XorShift(0xd45_0004);
    let mut with_answers = 0usize;
    for i in 0..20_000 {
        let m = rng.mutate(&seeds[i % seeds.len()]);
        if let Ok(msg) = dns_message(&m) {
            with_answers += usize::from(!msg.answers.is_empty());
            assert!(msg.questions.len() <= MAX_QUESTIONS && msg.answers.len() <= MAX_RECORDS);
        }
    }
    assert!(with_answers > 0);
}
