//! TLS: JA3/JA3S on the salesforce/ja3 traces (spec §10 values), certificates, hand-built
//! records (fragmented hellos, TLS 1.3, a self-signed chain), errors and mutations.

use super::super::tls::*;
use std::collections::HashMap;

use super::{CERT_FIXTURE, JA3_CHROME, JA3_CURL, SLIPS_1, XorShift, pcap};

fn trace(path: &str) -> (Vec<u8>, Vec<u8>) {
    let (tcp, _) = pcap::read(&std::fs::read(path).expect("corpus JA3 trace"));
    assert_eq!(tcp.len(), 1, "one connection in {path}");
    let c = tcp.into_iter().next().expect("connection");
    (c.c2s, c.s2c)
}

#[test]
fn ja3_of_the_curl_trace() {
    let (client, server) = trace(JA3_CURL);
    let hello = tls_client_hello(&client)
        .expect("TLS")
        .expect("ClientHello");
    assert_eq!(
        hello.ja3_md5(),
        "2a26b1a62e40d25d4de3babc9d532f30",
        "{}",
        hello.ja3()
    );
    assert_eq!(hello.sni.as_deref(), Some("google.com"));
    assert_eq!(hello.version, 0x0303);
    assert!(hello.undecoded_extensions.is_empty());
    let side = tls_server(&server).expect("TLS").expect("server side");
    assert_eq!(
        side.hello.ja3s_md5(),
        "554786d4c84f8a7953b7e453c6371067",
        "{}",
        side.hello.ja3s()
    );
    assert!(!side.hello.is_tls13());
    assert_eq!(side.messages.first(), Some(&2), "ServerHello first");
    // TLS 1.2: the chain is in clear; google.com's leaf is issued by a CA, not self-signed.
    let Certificates::Chain { total, certs } = &side.certificates else {
        panic!("expected a chain, got {:?}", side.certificates);
    };
    assert!(*total >= 2, "leaf and intermediate");
    let leaf = side.leaf().expect("leaf decoded");
    assert!(certs.iter().all(Result::is_ok));
    assert!(!leaf.self_signed);
    assert_ne!(leaf.subject, leaf.issuer);
    assert!(leaf.subject.contains("google.com"), "{}", leaf.subject);
    assert!(
        leaf.san
            .iter()
            .any(|n| n == "google.com" || n == "*.google.com"),
        "{:?}",
        leaf.san
    );
    assert!(leaf.not_after > leaf.not_before);
    assert_eq!(leaf.sha1.len(), 40);
    assert_eq!(leaf.md5.len(), 32);
    assert!(!leaf.cobalt_strike_default && !leaf.cobalt_strike_serial);
}

#[test]
fn ja3_of_the_chrome_trace_drops_grease() {
    let (client, server) = trace(JA3_CHROME);
    let hello = tls_client_hello(&client)
        .expect("TLS")
        .expect("ClientHello");
    assert_eq!(
        hello.ja3_md5(),
        "14eff09463c9d6dc6e14e954eba239c2",
        "{}",
        hello.ja3()
    );
    assert_eq!(hello.sni.as_deref(), Some("apis.google.com"));
    // GREASE is in the hello but not in the JA3 string.
    assert!(
        hello.ciphers.iter().any(|&c| is_grease(c)),
        "{:?}",
        hello.ciphers
    );
    assert!(hello.extensions.iter().any(|&e| is_grease(e)));
    let ja3 = hello.ja3();
    for g in (0..16u16).map(|i| (i << 12) | 0x0a00 | (i << 4) | 0x0a) {
        assert!(
            !ja3.split([',', '-']).any(|f| f == g.to_string()),
            "{g:#x} in {ja3}"
        );
    }
    let side = tls_server(&server).expect("TLS").expect("server side");
    assert_eq!(
        side.hello.ja3s_md5(),
        "f09be93fa9d03eabf66fdd359154a3fa",
        "{}",
        side.hello.ja3s()
    );
}

#[test]
fn every_hello_of_the_slips_beacon_parses() {
    let (tcp, _) = pcap::read(&std::fs::read(SLIPS_1).expect("corpus slips capture 1"));
    let mut ja3: HashMap<String, usize> = HashMap::new();
    let mut hellos = 0;
    for c in tcp
        .iter()
        .filter(|c| c.server.1 == 443 && !c.c2s.is_empty())
    {
        let Some(hello) = tls_client_hello(&c.c2s) else {
            continue;
        };
        let hello = hello.expect("ClientHello");
        hellos += 1;
        assert_eq!(hello.sni.as_deref(), Some("testing.com"));
        *ja3.entry(hello.ja3_md5()).or_default() += 1;
        if !c.s2c.is_empty() {
            let side = tls_server(&c.s2c).expect("TLS").expect("server side");
            // A modern server: TLS 1.3, certificate encrypted.
            assert!(side.hello.is_tls13(), "{:?}", side.hello);
            assert_eq!(side.certificates, Certificates::EncryptedTls13);
        }
    }
    // One curl every 2 s: 299 ClientHellos (spec §10), all with the same fingerprint.
    assert_eq!(hellos, 299);
    assert_eq!(ja3.len(), 1, "{ja3:?}");
}

#[test]
fn windows_hellos_in_the_unit42_capture() {
    let (tcp, _) = pcap::read(&pcap::unit42());
    let (mut hellos, mut with_sni, mut servers) = (0, 0, 0);
    for c in tcp.iter().filter(|c| c.server.1 == 443) {
        if let Some(hello) = tls_client_hello(&c.c2s) {
            let hello = hello.expect("ClientHello");
            hellos += 1;
            with_sni += usize::from(hello.sni.is_some());
        }
        if let Some(side) = tls_server(&c.s2c) {
            let side = side.expect("server side");
            servers += 1;
            if let Some(leaf) = side.leaf() {
                assert!(
                    !leaf.self_signed && !leaf.cobalt_strike_serial,
                    "{}",
                    leaf.subject
                );
            }
        }
    }
    assert!(hellos >= 20, "{hellos}");
    assert_eq!(
        with_sni, hellos,
        "Windows telemetry always names its server"
    );
    assert!(servers >= 20, "{servers}");
}

#[test]
fn grease_values() {
    for v in [0x0a0a, 0x1a1a, 0x2a2a, 0x7a7a, 0xcaca, 0xfafa] {
        assert!(is_grease(v), "{v:#x}");
    }
    for v in [0x0a1a, 0x0b0b, 0x000a, 0xc02b, 0x1301, 0xaaaa - 1] {
        assert!(!is_grease(v), "{v:#x}");
    }
}

/// A handshake message: type, 24-bit length, body.
fn hs(kind: u8, body: &[u8]) -> Vec<u8> {
    let len = body.len();
    let mut v = vec![kind, (len >> 16) as u8, (len >> 8) as u8, len as u8];
    v.extend_from_slice(body);
    v
}

/// Handshake bytes cut into records of at most `chunk` bytes.
fn records(content_type: u8, data: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for part in data.chunks(chunk) {
        out.extend_from_slice(&[content_type, 3, 1]);
        out.extend_from_slice(&(part.len() as u16).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

fn ext(kind: u16, data: &[u8]) -> Vec<u8> {
    let mut v = kind.to_be_bytes().to_vec();
    v.extend_from_slice(&(data.len() as u16).to_be_bytes());
    v.extend_from_slice(data);
    v
}

/// A ClientHello body with the given ciphers and extensions.
fn client_hello_body(ciphers: &[u16], extensions: &[Vec<u8>]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[7; 32]);
    b.push(0); // session id
    b.extend_from_slice(&((ciphers.len() * 2) as u16).to_be_bytes());
    for c in ciphers {
        b.extend_from_slice(&c.to_be_bytes());
    }
    b.extend_from_slice(&[1, 0]); // compression: null
    let ext: Vec<u8> = extensions.concat();
    b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    b.extend_from_slice(&ext);
    b
}

fn sni(name: &str) -> Vec<u8> {
    let n = name.as_bytes();
    let mut d = ((n.len() + 3) as u16).to_be_bytes().to_vec();
    d.push(0);
    d.extend_from_slice(&(n.len() as u16).to_be_bytes());
    d.extend_from_slice(n);
    ext(0, &d)
}

#[test]
fn client_hello_across_many_records() {
    let body = client_hello_body(
        &[0x2a2a, 0x1301, 0xc02b],
        &[
            ext(0x3a3a, &[]),
            sni("Example.ORG"),
            ext(10, &[0, 6, 0x4a, 0x4a, 0, 29, 0, 23]),
            ext(11, &[1, 0]),
            ext(43, &[4, 0x5a, 0x5a, 3, 4]),
            ext(0xff01, &[0]),
        ],
    );
    let handshake = hs(1, &body);
    let hello = tls_client_hello(&records(22, &handshake, 7))
        .expect("TLS")
        .expect("hello");
    assert_eq!(hello.ja3(), "771,4865-49195,0-10-11-43-65281,29-23,0");
    assert_eq!(
        hello.sni.as_deref(),
        Some("Example.ORG"),
        "SNI kept as sent"
    );
    assert_eq!(hello.supported_versions, vec![0x5a5a, 0x0304]);
    assert!(hello.offers_tls13());
    assert_eq!(hello.record_version, 0x0301);
    // Same result in one record.
    let one = tls_client_hello(&records(22, &handshake, 16384))
        .expect("TLS")
        .expect("hello");
    assert_eq!(one, hello);
}

#[test]
fn client_hello_errors_are_reported() {
    let body = client_hello_body(&[0x1301], &[sni("a.example")]);
    let handshake = hs(1, &body);
    let stream = records(22, &handshake, 16384);
    // Cut inside the message.
    let cut = &stream[..stream.len() - 5];
    assert!(matches!(
        tls_client_hello(cut),
        Some(Err(TlsError::Truncated { .. }))
    ));
    // Not a ClientHello first.
    let other = records(22, &hs(2, &body), 16384);
    assert!(matches!(
        tls_client_hello(&other),
        Some(Err(TlsError::UnexpectedMessage { found: 2, .. }))
    ));
    // Extension length running past its block.
    let mut bad = body.clone();
    let n = bad.len();
    bad[n - 11] = 0xff; // SNI host name length, high byte
    let r = tls_client_hello(&records(22, &hs(1, &bad), 16384));
    assert!(
        r.as_ref()
            .is_some_and(|r| r.as_ref().is_ok_and(|h| h.undecoded_extensions == [0])),
        "{r:?}"
    );
    let mut bad = body;
    let n = bad.len();
    bad[n - 20] = 0x40; // extensions block length, high byte
    assert!(matches!(
        tls_client_hello(&records(22, &hs(1, &bad), 16384)),
        Some(Err(_))
    ));
    // SSL 2.0, and not TLS at all.
    assert_eq!(
        tls_client_hello(b"\x80\x2e\x01\x03\x01\x00\x15\x00\x00"),
        Some(Err(TlsError::Sslv2Hello))
    );
    assert_eq!(tls_client_hello(b"GET / HTTP/1.1\r\n"), None);
    assert_eq!(tls_client_hello(b""), None);
    // A record longer than TLS allows.
    assert!(matches!(
        tls_client_hello(b"\x16\x03\x01\xff\xff\x01"),
        Some(Err(TlsError::RecordTooLong {
            offset: 0,
            len: 0xffff
        }))
    ));
}

fn server_hello_body(cipher: u16, extensions: &[Vec<u8>]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[9; 32]);
    b.push(0);
    b.extend_from_slice(&cipher.to_be_bytes());
    b.push(0);
    let ext: Vec<u8> = extensions.concat();
    b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    b.extend_from_slice(&ext);
    b
}

fn certificate_body(certs: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in certs {
        let n = c.len();
        list.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        list.extend_from_slice(c);
    }
    let n = list.len();
    let mut b = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8];
    b.extend_from_slice(&list);
    b
}

#[test]
fn self_signed_certificate_with_the_cobalt_strike_serial() {
    let der = std::fs::read(CERT_FIXTURE).expect("fixture");
    let mut handshake = hs(
        2,
        &server_hello_body(0xc02f, &[ext(0xff01, &[0]), ext(11, &[1, 0])]),
    );
    handshake.extend(hs(11, &certificate_body(&[&der])));
    handshake.extend(hs(14, &[]));
    let mut stream = records(22, &handshake, 100);
    stream.extend_from_slice(b"\x14\x03\x03\x00\x01\x01"); // ChangeCipherSpec stops the walk
    let side = tls_server(&stream).expect("TLS").expect("server side");
    assert_eq!(side.hello.ja3s(), "771,49199,65281-11");
    assert_eq!(side.messages, vec![2, 11, 14]);
    let leaf = side.leaf().expect("leaf");
    assert!(leaf.self_signed);
    assert!(leaf.cobalt_strike_serial);
    assert!(
        !leaf.cobalt_strike_default,
        "fresh key: the hashes differ from the real default cert"
    );
    assert_eq!(leaf.serial, "08bb00ee");
    assert_eq!(leaf.sha1, "17bec12ce106d3b2cfff23e53b7ce54197d4996d");
    assert_eq!(leaf.md5, "3883409840078c11c0074a965ba8df92");
    assert_eq!(leaf.not_before, 1_795_341_139);
    assert_eq!(leaf.not_after, 2_110_701_139);
    assert_eq!(leaf.subject_cn.as_deref(), Some("Major Cobalt Strike"));
    assert_eq!(leaf.subject, leaf.issuer);
    assert!(leaf.subject.contains("O=cobaltstrike"), "{}", leaf.subject);
    assert_eq!(leaf.der_len, der.len());
}

#[test]
fn cobalt_strike_hash_constants_are_lower_case_hex() {
    // The certificate check compares against these; the hex written by kensa is lower case.
    assert_eq!(
        COBALT_STRIKE_SHA1,
        "6ECE5ECE4192683D2D84E25B0BA7E04F9CB7EB7C".to_ascii_lowercase()
    );
    assert_eq!(
        COBALT_STRIKE_MD5,
        "950098276A495286EB2A2556FBAB6D83".to_ascii_lowercase()
    );
    assert_eq!(u32::from_be_bytes(COBALT_STRIKE_SERIAL), 0x08BB_00EE);
}

#[test]
fn tls13_server_says_certificates_are_encrypted() {
    let handshake = hs(
        2,
        &server_hello_body(0x1301, &[ext(43, &[3, 4]), ext(51, &[0, 29, 0, 1, 5])]),
    );
    let mut stream = records(22, &handshake, 16384);
    stream.extend_from_slice(b"\x14\x03\x03\x00\x01\x01\x17\x03\x03\x00\x04abcd");
    let side = tls_server(&stream).expect("TLS").expect("server side");
    assert!(side.hello.is_tls13());
    assert_eq!(side.hello.selected_version, Some(0x0304));
    assert_eq!(side.certificates, Certificates::EncryptedTls13);
    assert_eq!(side.hello.ja3s(), "771,4865,43-51");
    assert!(!side.hello.hello_retry_request);
}

#[test]
fn server_side_errors_are_reported() {
    let der = std::fs::read(CERT_FIXTURE).expect("fixture");
    let mut handshake = hs(2, &server_hello_body(0xc02f, &[]));
    handshake.extend(hs(11, &certificate_body(&[&der])));
    let stream = records(22, &handshake, 16384);
    // Capture ends inside the Certificate message.
    let side = tls_server(&stream[..stream.len() - 100])
        .expect("TLS")
        .expect("hello read");
    assert!(
        matches!(
            side.certificates,
            Certificates::Unreadable(TlsError::Truncated { .. })
        ),
        "{:?}",
        side.certificates
    );
    // A certificate that is not DER.
    let mut handshake = hs(2, &server_hello_body(0xc02f, &[]));
    handshake.extend(hs(11, &certificate_body(&[b"not a certificate"])));
    let side = tls_server(&records(22, &handshake, 16384))
        .expect("TLS")
        .expect("hello read");
    let Certificates::Chain { total: 1, certs } = &side.certificates else {
        panic!("{:?}", side.certificates);
    };
    assert!(matches!(
        certs[0],
        Err(TlsError::Certificate { index: 0, .. })
    ));
    // No Certificate message at all (resumption).
    let stream = records(22, &hs(2, &server_hello_body(0xc02f, &[])), 16384);
    let side = tls_server(&stream).expect("TLS").expect("hello read");
    assert_eq!(side.certificates, Certificates::NotSeen);
    // An alert first.
    assert!(matches!(
        tls_server(b"\x15\x03\x03\x00\x02\x02\x28"),
        None | Some(Err(TlsError::NoHandshake { content_type: 21 }))
    ));
    assert!(matches!(
        tls_server(&records(22, &hs(11, &[0, 0, 0]), 100)),
        Some(Err(TlsError::UnexpectedMessage { found: 11, .. }))
    ));
}

#[test]
fn tls_parsers_survive_mutations() {
    let (curl_c, curl_s) = trace(JA3_CURL);
    let (chrome_c, chrome_s) = trace(JA3_CHROME);
    let der = std::fs::read(CERT_FIXTURE).expect("fixture");
    let mut handshake = hs(2, &server_hello_body(0xc02f, &[ext(43, &[3, 3])]));
    handshake.extend(hs(11, &certificate_body(&[&der, &der])));
    handshake.extend(hs(14, &[]));
    let built = records(22, &handshake, 64);
    let clients = [
        &curl_c[..curl_c.len().min(2048)],
        &chrome_c[..chrome_c.len().min(2048)],
    ];
    let servers = [
        &curl_s[..curl_s.len().min(6000)],
        &chrome_s[..chrome_s.len().min(6000)],
        &built[..],
    ];
    let mut rng = XorShift(0x7153_0002);
    let mut decoded = 0usize;
    for i in 0..3000 {
        let c = rng.mutate(clients[i % 2]);
        if let Some(Ok(h)) = tls_client_hello(&c) {
            decoded += 1;
            let _ = (h.ja3(), h.ja3_md5());
        }
        let s = rng.mutate(servers[i % 3]);
        if let Some(Ok(side)) = tls_server(&s) {
            let _ = side.hello.ja3s_md5();
        }
        let d = rng.mutate(&der);
        let _ = cert_info(&d, 0);
    }
    assert!(
        decoded > 100,
        "mutations should not all break the hello: {decoded}"
    );
}
