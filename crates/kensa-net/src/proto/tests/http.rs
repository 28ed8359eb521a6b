//! HTTP: the Emotet C2 POSTs and dropper GETs of the Unit 42 capture (spec §10), hand-built
//! keep-alive/pipelined/chunked streams, the trait helpers, errors and mutations.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::super::http::*;
use super::{XorShift, pcap};

#[test]
fn emotet_c2_posts_in_the_unit42_capture() {
    let (tcp, _) = pcap::read(&pcap::unit42());
    let c2_a = Ipv4Addr::new(5, 2, 136, 90);
    let c2_b = Ipv4Addr::new(167, 71, 4, 0);
    let mut posts: HashMap<Ipv4Addr, usize> = HashMap::new();
    let (mut multipart, mut urlencoded) = (0, 0);
    for conn in tcp
        .iter()
        .filter(|c| c.server.0 == c2_a || c.server.0 == c2_b)
    {
        assert_eq!(
            conn.client.0,
            Ipv4Addr::new(10, 1, 6, 206),
            "the infected host opens C2 connections"
        );
        let ex = http_exchange(&conn.c2s, &conn.s2c, 64);
        assert!(
            !matches!(ex.requests.end, ScanEnd::Malformed(_)),
            "{:?} in {:?}",
            ex.requests.end,
            conn.server
        );
        for (i, req) in ex.requests.messages.iter().enumerate() {
            assert_eq!(req.method, "POST");
            *posts.entry(conn.server.0).or_default() += 1;
            let t = req.traits();
            assert!(t.host_ip_literal, "{:?}", req.host);
            assert!(t.post_form);
            assert!(t.msie7_trident_ua, "{:?}", req.user_agent);
            assert!(
                t.referer_is_self,
                "{:?} vs {:?}{}",
                req.referer, req.host, req.uri
            );
            assert!(!t.missing_host && !t.cookie_base64 && t.trickbot_path_tail.is_none());
            if conn.server.1 == 8080 {
                assert_eq!(req.host.as_deref(), Some("167.71.4.0:8080"));
            }
            match req.multipart_boundary {
                Some(_) => {
                    multipart += 1;
                    assert!(t.random_lower_alnum_path, "{}", req.uri);
                    assert!(!t.body_random_base64);
                    // 4–32 KB bodies, the whole of each in the capture.
                    let len = req.content_length.expect("length");
                    assert!((4_000..=32_768).contains(&len), "{len}");
                    assert_eq!(req.body.captured, len);
                    let BodyShape::Multipart { parts, file_parts } = req.body.shape else {
                        panic!("{:?}", req.body.shape);
                    };
                    assert!(parts >= 1, "{}", req.uri);
                    assert!(file_parts >= 1);
                }
                None => {
                    urlencoded += 1;
                    assert!(t.body_random_base64, "{:?}", req.body.shape);
                    assert!(!t.random_lower_alnum_path, "mixed-case path {}", req.uri);
                    let BodyShape::FormSingleBase64 {
                        key,
                        key_matches_path,
                        value_len,
                    } = &req.body.shape
                    else {
                        panic!()
                    };
                    assert!(*key_matches_path, "{key} vs {}", req.uri);
                    assert!(*value_len > 100);
                }
            }
            let resp = ex.response_to(i).expect("every POST answered");
            assert_eq!(resp.status, 200);
            assert!(
                resp.server
                    .as_deref()
                    .is_some_and(|s| s.starts_with("nginx")),
                "{:?}",
                resp.server
            );
            assert!(
                resp.content_type
                    .as_deref()
                    .is_some_and(|c| c.starts_with("text/html"))
            );
        }
    }
    assert_eq!(posts.get(&c2_a), Some(&15), "{posts:?}");
    assert_eq!(posts.get(&c2_b), Some(&9), "{posts:?}");
    assert_eq!(urlencoded, 2);
    assert_eq!(multipart, 22);
}

#[test]
fn dropper_gets_are_not_c2_shaped() {
    let (tcp, _) = pcap::read(&pcap::unit42());
    let mut gets = Vec::new();
    for conn in tcp
        .iter()
        .filter(|c| c.server.1 == 80 && c.server.0 != Ipv4Addr::new(5, 2, 136, 90))
    {
        for req in http_requests(&conn.c2s, 64).messages {
            if req.method == "GET" {
                gets.push(req);
            }
        }
    }
    let dll = gets
        .iter()
        .find(|r| r.uri == "/rx-5700-6hnr7/Sgms/")
        .expect("the DLL download from seo.udaipurkart.com");
    assert_eq!(dll.host.as_deref(), Some("seo.udaipurkart.com"));
    let t = dll.traits();
    assert!(!t.host_ip_literal && !t.post_form && !t.random_lower_alnum_path);
    // Several GETs on the dropper's compromised sites (the fallback URL list).
    for host in ["hangarlastik.com", "padreescapes.com", "sarture.com"] {
        assert!(
            gets.iter().any(|r| r.host.as_deref() == Some(host)),
            "{host}"
        );
    }
}

#[test]
fn keep_alive_and_pipelined_requests() {
    let stream = b"POST /a/ HTTP/1.1\r\nHost: 10.0.0.1:8080\r\nContent-Length: 5\r\n\r\nhello\
GET /b?x=1 HTTP/1.1\r\nHost: example.org\r\nCookie: sid=abc; data=bVf1aH0Zq9Kx2mT4Lw8sNc3Yr6Pj7Ug5Qe==\r\n\r\n\
\r\nHEAD /c HTTP/1.0\r\nUser-Agent: x\r\n\r\n";
    let scan = http_requests(stream, 10);
    assert_eq!(scan.end, ScanEnd::Complete);
    let [a, b, c] = scan.messages.as_slice() else {
        panic!("{:?}", scan.messages)
    };
    assert_eq!(
        (a.method.as_str(), a.uri.as_str(), a.content_length),
        ("POST", "/a/", Some(5))
    );
    assert_eq!(a.body.captured, 5);
    assert_eq!(a.body.shape, BodyShape::Opaque);
    assert_eq!(Some(b.offset), stream.windows(4).position(|w| w == b"GET "));
    assert_eq!(b.cookie_count, 2);
    assert_eq!(
        b.cookies[0],
        Cookie {
            name: "sid".into(),
            value_len: 3,
            base64_like: false
        }
    );
    assert!(b.cookies[1].base64_like);
    assert!(b.traits().cookie_base64);
    assert_eq!(c.minor_version, 0);
    assert_eq!(c.body.shape, BodyShape::Empty);
    assert!(c.traits().missing_host);
    // The limit is honoured and says where the rest starts.
    let limited = http_requests(stream, 2);
    assert_eq!(limited.messages.len(), 2);
    assert!(matches!(limited.end, ScanEnd::Limit { offset } if offset == c.offset));
}

#[test]
fn chunked_bodies_and_responses() {
    let server = b"HTTP/1.1 100 Continue\r\n\r\n\
HTTP/1.1 200 OK\r\nServer: nginx\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n\
5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n\
HTTP/1.1 304 Not Modified\r\nContent-Length: 999\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc\
HTTP/1.0 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nrest of the connection";
    let scan = http_responses(server, 10);
    let statuses: Vec<u16> = scan.messages.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [100, 200, 304, 200, 200]);
    let chunked = &scan.messages[1];
    assert!(chunked.chunked);
    assert_eq!(chunked.body.length, Some(11));
    assert_eq!(chunked.server.as_deref(), Some("nginx"));
    assert_eq!(scan.messages[2].body.captured, 0, "304 has no body");
    assert_eq!(scan.messages[4].set_cookie_count, 2);
    assert_eq!(scan.messages[4].body.captured, 22);
    assert!(
        matches!(scan.end, ScanEnd::BodyToClose { offset } if offset == scan.messages[4].offset)
    );
    // Chunked request body: shape read from the de-chunked bytes.
    let client =
        b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n\
Transfer-Encoding: chunked\r\n\r\n8\r\nabc=Qm9v\r\n10\r\nZm9vYmFyYmF6MTIz\r\n0\r\n\r\n";
    let req = &http_requests(client, 4).messages[0];
    assert_eq!(req.body.length, Some(24));
    assert!(matches!(&req.body.shape, BodyShape::FormSingleBase64 { key, .. } if key == "abc"));
}

#[test]
fn head_requests_frame_their_responses() {
    let client = b"HEAD /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    let server = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 404 NF\r\nContent-Length: 2\r\n\r\nno";
    let ex = http_exchange(client, server, 8);
    assert_eq!(ex.responses.messages.len(), 2);
    assert_eq!(ex.response_to(1).map(|r| r.status), Some(404));
    assert_eq!(ex.responses.end, ScanEnd::Complete);
    // Without the requests, the first response swallows the second as body.
    let alone = http_responses(server, 8);
    assert_eq!(alone.messages.len(), 1);
    assert!(matches!(alone.end, ScanEnd::BodyCut { offset: 0 }));
}

#[test]
fn cut_and_malformed_streams_are_reported() {
    assert_eq!(http_requests(b"", 4).end, ScanEnd::Complete);
    let cut_head = http_requests(b"GET / HTTP/1.1\r\nHost: a\r\n", 4);
    assert!(cut_head.messages.is_empty());
    assert_eq!(cut_head.end, ScanEnd::HeadCut { offset: 0 });
    let cut_body = http_requests(b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc", 4);
    assert_eq!(cut_body.messages[0].body.captured, 3);
    assert_eq!(cut_body.end, ScanEnd::BodyCut { offset: 0 });
    let garbage = http_requests(b"GET / HTTP/1.1\r\n\r\n\x16\x03\x01\x00\x05", 4);
    assert_eq!(garbage.messages.len(), 1);
    assert!(matches!(
        garbage.end,
        ScanEnd::Malformed(HttpError::Head { offset: 18, .. })
    ));
    let bad_len = http_requests(
        b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        4,
    );
    assert_eq!(bad_len.messages.len(), 1, "the head is still reported");
    assert_eq!(
        bad_len.end,
        ScanEnd::Malformed(HttpError::ContentLength { offset: 0 })
    );
    let bad_chunk = http_requests(
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        4,
    );
    assert!(matches!(
        bad_chunk.end,
        ScanEnd::Malformed(HttpError::ChunkSize { .. })
    ));
    let connect = http_requests(b"CONNECT a:443 HTTP/1.1\r\n\r\n\x16\x03\x01", 4);
    assert_eq!(connect.end, ScanEnd::Tunnel { offset: 0 });
    // A head without end longer than MAX_HEAD.
    let mut long = b"GET / HTTP/1.1\r\nX: ".to_vec();
    long.resize(MAX_HEAD + 100, b'a');
    assert_eq!(
        http_requests(&long, 4).end,
        ScanEnd::Malformed(HttpError::HeadTooLong { offset: 0 })
    );
    // Too many headers.
    let mut many = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..MAX_HEADERS + 1 {
        many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    assert!(matches!(
        http_requests(&many, 4).end,
        ScanEnd::Malformed(HttpError::Head {
            source: httparse::Error::TooManyHeaders,
            ..
        })
    ));
}

#[test]
fn trait_helpers() {
    for host in [
        "5.2.136.90",
        "167.71.4.0:8080",
        "[2001:db8::1]",
        "[2001:db8::1]:443",
        "::1",
        " 10.0.0.1 ",
    ] {
        assert!(host_is_ip_literal(host), "{host}");
    }
    for host in [
        "example.com",
        "example.com:80",
        "1.2.3",
        "1.2.3.4:",
        "1.2.3.4:123456",
        "[zz]",
        "1.2.3.4.5",
    ] {
        assert!(!host_is_ip_literal(host), "{host}");
    }
    for path in [
        "/7u0e9j2avwlvnuynyo/szcm27k/fzb067wy/",
        "/mro86v6nvs42/",
        "/raet/u6tpsbdmo5g7crj4f/?q",
    ] {
        assert!(random_lower_alnum_path(path), "{path}");
    }
    for path in [
        "/",
        "/blog/",
        "/images/2020/",
        "/wp-admin/",
        "/titI9YcL5H",
        "/Abc123def/",
        "/abc12/x/",
        "/abc123",
    ] {
        assert!(!random_lower_alnum_path(path), "{path}");
    }
    assert!(msie7_trident(
        "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/7.0)"
    ));
    assert!(!msie7_trident(
        "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)"
    ));
    assert!(referer_is_self(
        "http://167.71.4.0/titI9YcL5H",
        "167.71.4.0:8080",
        "/titI9YcL5H"
    ));
    assert!(referer_is_self("5.2.136.90/a/b/", "5.2.136.90", "/a/b/"));
    assert!(!referer_is_self(
        "http://other.example/a/",
        "5.2.136.90",
        "/a/"
    ));
    assert!(!referer_is_self(
        "http://5.2.136.90/a/",
        "5.2.136.90",
        "/b/"
    ));
    assert_eq!(trickbot_path_tail("/mor123/HOST_W10.ABC/81/"), Some("/81/"));
    assert_eq!(trickbot_path_tail("/mor123/HOST/83/?x"), Some("/83/"));
    assert_eq!(trickbot_path_tail("/mor123/HOST/90"), Some("/90"));
    assert_eq!(trickbot_path_tail("/mor123/HOST/5/"), None);
    assert_eq!(trickbot_path_tail("/a/181"), None);
    assert_eq!(
        multipart_boundary("multipart/form-data; boundary=\"--x y\""),
        Some("--x y".to_string())
    );
    assert_eq!(multipart_boundary("text/plain; boundary=x"), None);
}

#[test]
fn http_parsers_survive_mutations() {
    let seeds: [&[u8]; 3] = [
        b"POST /a/b1c2d/ HTTP/1.1\r\nHost: 1.2.3.4:8080\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n\
Content-Length: 60\r\nCookie: a=b; c=Zm9vYmFy\r\n\r\n--XyZ\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nxx\r\n--XyZ--\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 204 N\r\n\r\n",
        b"POST /k HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 30\r\n\r\nk=AbCdEfGh12345678%2B%2F%3D%3D",
    ];
    let mut rng = XorShift(0x4779_0003);
    let mut parsed = 0usize;
    for i in 0..6000 {
        let m = rng.mutate(seeds[i % 3]);
        let ex = http_exchange(&m, &m, 8);
        parsed += ex.requests.messages.len() + ex.responses.messages.len();
        for r in &ex.requests.messages {
            let _ = r.traits();
        }
    }
    assert!(parsed > 1000, "{parsed}");
}
