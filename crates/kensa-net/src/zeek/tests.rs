use std::io::Write;
use std::net::IpAddr;

use flate2::Compression;
use flate2::write::GzEncoder;

use super::*;

mod mutation;
mod round_trip;
use crate::capture::{ConnEnd, ConnState, Proto};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/zeek/");
const NET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/net/");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{TESTDATA}{name}")).expect("fixture")
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

fn read_with(
    bytes: &[u8],
    hint: Option<&str>,
    limits: &ZeekLimits,
) -> (ZeekStats, Vec<ZeekRecord>) {
    let mut out = Vec::new();
    let stats = read_log(bytes, hint, limits, |r| out.push(r)).expect("zeek log");
    (stats, out)
}

fn read(bytes: &[u8], hint: Option<&str>) -> (ZeekStats, Vec<ZeekRecord>) {
    read_with(bytes, hint, &ZeekLimits::default())
}

fn conns(recs: &[ZeekRecord]) -> Vec<&ZeekConn> {
    recs.iter()
        .filter_map(|r| match r {
            ZeekRecord::Conn(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn dnss(recs: &[ZeekRecord]) -> Vec<&ZeekDns> {
    recs.iter()
        .filter_map(|r| match r {
            ZeekRecord::Dns(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn https(recs: &[ZeekRecord]) -> Vec<&ZeekHttp> {
    recs.iter()
        .filter_map(|r| match r {
            ZeekRecord::Http(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn ssls(recs: &[ZeekRecord]) -> Vec<&ZeekSsl> {
    recs.iter()
        .filter_map(|r| match r {
            ZeekRecord::Ssl(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn gzip(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(p).expect("gz");
        out.extend(enc.finish().expect("gz"));
    }
    out
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

// ------------------------------------------------------------------ TSV

#[test]
fn conn_tsv_two_blocks_agent_columns() {
    let (st, recs) = read(&fixture("conn-rita-agent.log"), None);
    assert_eq!(st.format, Some(ZeekFormat::Tsv));
    assert!(!st.gzip);
    assert!(st.complete && st.error.is_none());
    assert_eq!(st.lines, 26);
    assert_eq!(st.header_lines, 18);
    assert_eq!(st.header_blocks, 2);
    assert_eq!(st.closed_blocks, 2);
    assert_eq!(st.records.conn, 7);
    assert_eq!(st.records.total(), 7);
    assert_eq!(st.unknown_transport, 1);
    assert_eq!((st.bad_lines, st.field_errors, st.header_errors), (0, 0, 0));
    assert!(st.issues.is_empty());
    // agent_hostname / agent_uuid / ip_proto are known columns, not "unknown".
    assert!(st.unknown_fields.is_empty(), "{:?}", st.unknown_fields);
    assert_eq!(st.first_ts, Some(1_609_951_275.010203));
    assert_eq!(st.last_ts, Some(1_609_952_320.0));

    let c = conns(&recs);
    let first = &c[0];
    assert_eq!(first.uid, "CzRk3b1xGq8Tn2YpLd");
    assert_eq!(first.conn.uid, uid_hash("CzRk3b1xGq8Tn2YpLd"));
    assert_eq!(first.service.as_deref(), Some("http"));
    assert!(!first.open);
    let r = &first.conn;
    assert!(close(r.ts, 1_609_951_354.123456));
    assert_eq!((r.orig_h, r.orig_p), (ip("10.1.6.206"), 49738));
    assert_eq!((r.resp_h, r.resp_p), (ip("5.2.136.90"), 80));
    assert_eq!(r.proto, Proto::Tcp);
    assert!(close(r.duration, 1.523011));
    assert_eq!((r.orig_bytes, r.resp_bytes), (4321, 412));
    assert_eq!(r.conn_state, ConnState::Sf);
    assert!(r.local_orig && !r.local_resp);
    assert_eq!(r.history, "ShADadFf");
    assert_eq!(
        (r.orig_pkts, r.orig_ip_bytes, r.resp_pkts, r.resp_ip_bytes),
        (9, 4693, 6, 736)
    );
    assert_eq!(r.end, ConnEnd::Closed);
    assert!(r.first_orig_payload.is_empty() && r.datagrams.is_empty());
    assert!(first.tunnel_parents.is_empty());

    // REJ to the dead C2: unset duration/bytes/service.
    let rej = &c[2];
    assert_eq!(rej.conn.conn_state, ConnState::Rej);
    assert_eq!(rej.conn.resp_h, ip("46.101.230.194"));
    assert_eq!((rej.conn.duration, rej.conn.orig_bytes), (0.0, 0));
    assert_eq!(rej.service, None);

    // DNS over UDP, then the unknown_transport line is skipped: IPv6 comes next.
    assert_eq!(c[3].conn.proto, Proto::Udp);
    let v6 = &c[4];
    assert_eq!(v6.conn.orig_h, ip("fd00::5"));
    assert_eq!(v6.conn.resp_h, ip("2001:db8::1"));
    // local_orig / local_resp unset: falls back to RITA's internal ranges (fd00::/8).
    assert!(v6.conn.local_orig && !v6.conn.local_resp);
    assert_eq!(
        v6.tunnel_parents,
        vec!["CtunA1b2c3d4e5f6g7", "CtunH8i9j0k1l2m3n4"]
    );

    // Second block: shuffled columns, no local_resp.
    let b2 = &c[5];
    assert_eq!(b2.uid, "CzRk3b1xGq8Tn2YpLe");
    assert!(close(b2.conn.ts, 1_609_952_314.654321));
    assert_eq!((b2.conn.orig_p, b2.conn.resp_p), (49800, 80));
    assert_eq!(b2.conn.history, "ShADadFf");
    assert_eq!((b2.conn.orig_bytes, b2.conn.resp_ip_bytes), (4400, 724));
    assert!(b2.conn.local_orig && !b2.conn.local_resp);
    let icmp = &c[6];
    assert_eq!(icmp.conn.proto, Proto::Icmp);
    assert_eq!((icmp.conn.orig_p, icmp.conn.resp_p), (8, 0));
    assert_eq!(icmp.conn.conn_state, ConnState::Oth);
    assert_eq!(icmp.conn.history, "");
}

#[test]
fn dns_tsv_sets_escapes_and_markers() {
    let (st, recs) = read(&fixture("dns.log"), None);
    assert_eq!(st.records.dns, 6);
    assert_eq!(st.bad_lines, 0);
    let d = dnss(&recs);
    assert_eq!(d[0].query.as_deref(), Some("seo.udaipurkart.com"));
    assert_eq!(d[0].answers, vec!["192.0.2.10", "192.0.2.11"]);
    assert_eq!(d[0].ttls, vec![300.0, 300.0]);
    assert_eq!(d[0].proto, Some(Proto::Udp));
    assert_eq!(
        (d[0].trans_id, d[0].qtype, d[0].rcode),
        (Some(4242), Some(1), Some(0))
    );
    assert!(d[0].rd && d[0].ra && !d[0].aa && !d[0].tc && !d[0].rejected);
    assert_eq!(d[0].qtype_name.as_deref(), Some("A"));
    assert_eq!(d[0].rcode_name.as_deref(), Some("NOERROR"));
    // A comma and a tab inside one set element come back; the element is not split.
    assert_eq!(
        d[1].answers,
        vec!["TXT 26 v=spf1 a,mx\t-all", "TXT 5 hello"]
    );
    // NXDOMAIN: unset vectors are empty.
    assert_eq!(d[2].rcode_name.as_deref(), Some("NXDOMAIN"));
    assert!(d[2].answers.is_empty() && d[2].ttls.is_empty());
    // `\x2d` is the string "-", not unset; `(empty)` is the empty string.
    assert_eq!(d[3].query.as_deref(), Some("-"));
    assert_eq!(d[3].rcode, None);
    assert_eq!(d[3].rtt, None);
    assert_eq!(d[4].query.as_deref(), Some(""));
    assert_eq!(d[4].proto, Some(Proto::Tcp));
    assert!(d[4].rejected);
    // A non-UTF-8 byte stays visible as an escape.
    assert_eq!(d[5].query.as_deref(), Some(r"x\xffy.example"));
    // trans_id 70000 and TTL "bogus": field errors, record kept.
    assert_eq!(d[5].trans_id, None);
    assert!(d[5].ttls.is_empty());
    assert_eq!(d[5].answers, vec!["192.0.2.12"]);
    assert_eq!(st.field_errors, 2);
    assert_eq!(
        st.issues,
        vec![
            LineIssue {
                line: 14,
                dropped: false,
                kind: IssueKind::BadValue {
                    field: "trans_id",
                    value: "70000".into()
                }
            },
            LineIssue {
                line: 14,
                dropped: false,
                kind: IssueKind::BadValue {
                    field: "TTLs",
                    value: "bogus".into()
                }
            },
        ]
    );
}

#[test]
fn http_tsv_escapes_short_line_and_bad_status() {
    let (st, recs) = read(&fixture("http.log"), None);
    assert_eq!(st.records.http, 4);
    assert_eq!(st.closed_blocks, 0, "http.log has no #close");
    assert_eq!(st.bad_lines, 1);
    assert_eq!(st.field_errors, 1);
    assert_eq!(
        st.issues[0],
        LineIssue {
            line: 12,
            dropped: true,
            kind: IssueKind::ColumnCount {
                expected: 30,
                got: 10
            }
        }
    );
    assert_eq!(st.issues[1].line, 13);
    assert!(
        matches!(&st.issues[1].kind, IssueKind::BadValue { field: "status_code", value } if value == "abc")
    );
    let h = https(&recs);
    assert_eq!(h[0].method.as_deref(), Some("GET"));
    assert_eq!(h[0].host.as_deref(), Some("seo.udaipurkart.com"));
    assert_eq!(h[0].uri.as_deref(), Some("/rx-5700-6hnr7/Sgms/"));
    assert_eq!(h[0].resp_mime_types, vec!["application/x-dosexec"]);
    assert_eq!(h[0].response_body_len, 417_792);
    assert_eq!(h[0].status_code, Some(200));
    assert_eq!(h[0].trans_depth, Some(1));
    assert!(h[0].tags.is_empty());
    assert!(
        h[0].user_agent
            .as_deref()
            .is_some_and(|u| u.contains("Chrome/87"))
    );
    let post = &h[1];
    assert_eq!(post.method.as_deref(), Some("POST"));
    assert_eq!(post.host.as_deref(), Some("5.2.136.90"));
    assert_eq!(post.request_body_len, 4164);
    assert_eq!(post.orig_mime_types, vec!["text/plain"]);
    assert_eq!(
        post.referrer.as_deref(),
        Some("http://5.2.136.90/nrvk1dg8hg5y1ck5/ghg6/")
    );
    assert_eq!(h[2].host.as_deref(), Some("167.71.4.0:8080"));
    assert_eq!(h[2].uri.as_deref(), Some("/a\tb/?q=1,2"));
    assert_eq!(h[3].status_code, None);
    assert_eq!(h[3].user_agent, None);
}

#[test]
fn ssl_tsv_ja3_and_self_signed() {
    let (st, recs) = read(&fixture("ssl.log"), None);
    assert_eq!(st.records.ssl, 3);
    assert_eq!(st.bad_lines + st.field_errors, 0);
    let s = ssls(&recs);
    assert_eq!(s[0].server_name.as_deref(), Some("google.com"));
    assert_eq!(
        s[0].ja3.as_deref(),
        Some("2a26b1a62e40d25d4de3babc9d532f30")
    );
    assert_eq!(
        s[0].ja3s.as_deref(),
        Some("554786d4c84f8a7953b7e453c6371067")
    );
    assert_eq!(s[0].cert_chain_fps.len(), 2);
    assert_eq!(
        s[0].subject.as_deref(),
        Some("CN=*.google.com,O=Google LLC,L=Mountain View,ST=California,C=US")
    );
    assert_eq!(s[0].validation_status.as_deref(), Some("ok"));
    assert_eq!(s[0].sni_matches_cert, Some(true));
    assert_eq!(s[0].next_protocol.as_deref(), Some("h2"));
    assert_eq!(s[0].self_signed(), Some(false));
    assert!(s[0].established && !s[0].resumed);
    // Emotet-style: no SNI, self-signed.
    assert_eq!(s[1].server_name, None);
    assert_eq!(s[1].self_signed(), Some(true));
    assert_eq!(s[1].curve, None);
    // TLS 1.3, no certificate visible.
    assert_eq!(s[2].version.as_deref(), Some("TLSv13"));
    assert_eq!(s[2].self_signed(), None);
    assert!(!s[2].established && s[2].resumed);
    assert_eq!(s[2].sni_matches_cert, None);
}

#[test]
fn smtp_tsv() {
    let (st, recs) = read(&fixture("smtp.log"), None);
    assert_eq!(st.records.smtp, 1);
    let ZeekRecord::Smtp(m) = &recs[0] else {
        panic!("not smtp: {recs:?}");
    };
    assert_eq!(m.helo.as_deref(), Some("[10.1.6.206]"));
    assert_eq!(m.mailfrom.as_deref(), Some("<billing@example.net>"));
    assert_eq!(m.rcptto, vec!["<a@example.com>", "<b@example.com>"]);
    assert_eq!(m.subject.as_deref(), Some("Invoice 2021-01, overdue"));
    assert_eq!(m.path, vec!["198.51.100.25", "10.1.6.206"]);
    assert!(m.cc.is_empty());
    assert_eq!(m.x_originating_ip, None);
    assert_eq!(
        m.last_reply.as_deref(),
        Some("250 2.0.0 Ok: queued as 4D5F6")
    );
    assert!(!m.tls && !m.is_webmail);
    assert_eq!(m.resp_p, 25);
}

#[test]
fn concatenated_logs_of_different_types() {
    let mut all = fixture("conn-rita-agent.log");
    all.extend(fixture("dns.log"));
    all.extend(fixture("ssl.log"));
    let (st, recs) = read(&all, Some("conn.log"));
    assert_eq!(st.header_blocks, 4);
    assert_eq!((st.records.conn, st.records.dns, st.records.ssl), (7, 6, 3));
    // #path wins over the file name.
    assert_eq!(dnss(&recs).len(), 6);
}

#[test]
fn tsv_without_path_uses_hint_then_columns() {
    let text = String::from_utf8(fixture("ssl.log")).unwrap();
    let no_path: String = text
        .lines()
        .filter(|l| !l.starts_with("#path"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (st, _) = read(
        no_path.as_bytes(),
        Some("/var/log/zeek/ssl.20:00:00-21:00:00.log"),
    );
    assert_eq!(st.records.ssl, 3);
    let (st, _) = read(no_path.as_bytes(), None);
    assert_eq!(st.records.ssl, 3, "guessed from cipher/server_name");
    // #path, then the columns, win over the file name.
    let (st, _) = read(text.as_bytes(), Some("dns.log"));
    assert_eq!(st.records.ssl, 3);
    let (st, _) = read(no_path.as_bytes(), Some("http.log"));
    assert_eq!(st.records.ssl, 3);
    // Columns that tell nothing: the file name decides (open_* flag included).
    let bare = "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n\
                1.0\tC1\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\n";
    let (st, recs) = read(bare.as_bytes(), Some("open_conn.log"));
    assert_eq!(st.records.conn, 1);
    assert!(conns(&recs)[0].open);
    let (st, _) = read(bare.as_bytes(), None);
    assert_eq!(st.other_paths.get("(unknown)"), Some(&1));
}

#[test]
fn bare_tsv_header_mode() {
    // LogAscii::tsv = T: one header row of names, no # lines.
    let text = "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\n\
                1609951354.5\tCa\t10.1.6.206\t1\t5.2.136.90\t80\ttcp\tS0\n";
    assert_eq!(sniff(text.as_bytes()), Some(ZeekFormat::Tsv));
    let (st, recs) = read(text.as_bytes(), None);
    assert_eq!(st.records.conn, 1);
    assert_eq!(st.header_lines, 1);
    assert_eq!(conns(&recs)[0].conn.conn_state, ConnState::S0);
}

#[test]
fn custom_separators_and_markers() {
    let text = "#separator \\x7c\n#set_separator|;\n#empty_field|EMPTY\n#unset_field|NULL\n\
                #path|dns\n#fields|ts|uid|id.orig_h|id.orig_p|id.resp_h|id.resp_p|query|answers|TTLs\n\
                1.5|Cx|10.0.0.1|5|10.0.0.2|53|a\\x7cb|x;y,z|1.0;2.0\n\
                2.5|Cy|10.0.0.1|6|10.0.0.2|53|NULL|EMPTY|NULL\n";
    let (st, recs) = read(text.as_bytes(), None);
    assert_eq!(st.records.dns, 2, "{:?}", st.issues);
    let d = dnss(&recs);
    assert_eq!(d[0].query.as_deref(), Some("a|b"));
    assert_eq!(d[0].answers, vec!["x", "y,z"]);
    assert_eq!(d[0].ttls, vec![1.0, 2.0]);
    assert_eq!(d[1].query, None);
    assert!(d[1].answers.is_empty());
}

#[test]
fn crlf_bom_and_no_final_newline() {
    let text = String::from_utf8(fixture("ssl.log")).unwrap();
    let mut crlf = b"\xef\xbb\xbf".to_vec();
    crlf.extend(text.trim_end().replace('\n', "\r\n").as_bytes());
    let (st, recs) = read(&crlf, None);
    assert_eq!(st.records.ssl, 3);
    assert_eq!(st.bad_lines, 0);
    assert_eq!(
        ssls(&recs)[2].ja3s.as_deref(),
        Some("f09be93fa9d03eabf66fdd359154a3fa")
    );
}

#[test]
fn data_before_fields_is_reported() {
    let text = "#separator \\x09\n#path\tconn\n1.0\tC\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\n";
    let (st, recs) = read(text.as_bytes(), None);
    assert!(recs.is_empty());
    assert_eq!(st.bad_lines, 1);
    assert_eq!(st.issues[0].kind, IssueKind::NoHeader);
    assert_eq!(st.issues[0].line, 3);
}

#[test]
fn bad_header_values_are_reported() {
    let text = "#separator \\x09\\x09\n#set_separator\t;;\n#path\tconn\n\
                #fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n\
                #types\ttime\taddr\n\
                1.0\t10.0.0.1\t1\t10.0.0.2\t2\tudp\n";
    let (st, recs) = read(text.as_bytes(), None);
    assert_eq!(recs.len(), 1);
    assert_eq!(st.header_errors, 3);
    assert_eq!(st.bad_lines, 0);
    // No uid: a line-number id with the top bit set.
    assert_eq!(conns(&recs)[0].conn.uid, 1 << 63 | 6);
}

// ------------------------------------------------------------------ JSON

#[test]
fn conn_json_iso_timestamps() {
    let (st, recs) = read(&fixture("conn.json"), None);
    assert_eq!(st.format, Some(ZeekFormat::Json));
    assert_eq!(
        st.records.conn, 3,
        "guessed from conn_state: {:?}",
        st.issues
    );
    assert!(st.unknown_fields.is_empty(), "{:?}", st.unknown_fields);
    let c = conns(&recs);
    assert!(close(c[0].conn.ts, 1_609_951_354.123456));
    assert!(close(c[1].conn.ts, 1_609_951_410.5));
    assert!(close(c[2].conn.ts, 1_609_951_410.5), "+01:00 offset");
    // Omitted local_orig/local_resp: internal ranges.
    assert!(c[1].conn.local_orig && !c[1].conn.local_resp);
    assert_eq!(c[1].conn.conn_state, ConnState::Rej);
    assert_eq!(c[1].service, None);
    assert_eq!(c[2].tunnel_parents, vec!["CtunA1b2c3d4e5f6g7"]);

    // The same connection from TSV and JSON gives the same record.
    let (_, tsv) = read(&fixture("conn-rita-agent.log"), None);
    let t = &conns(&tsv)[0].conn;
    let j = &c[0].conn;
    assert!(close(t.ts, j.ts));
    assert_eq!(
        (
            t.uid,
            t.orig_h,
            t.orig_p,
            t.resp_h,
            t.resp_p,
            t.proto,
            t.conn_state
        ),
        (
            j.uid,
            j.orig_h,
            j.orig_p,
            j.resp_h,
            j.resp_p,
            j.proto,
            j.conn_state
        )
    );
    assert_eq!(
        (
            t.orig_bytes,
            t.resp_bytes,
            t.orig_ip_bytes,
            t.resp_ip_bytes,
            &t.history
        ),
        (
            j.orig_bytes,
            j.resp_bytes,
            j.orig_ip_bytes,
            j.resp_ip_bytes,
            &j.history
        )
    );
    assert_eq!((t.local_orig, t.local_resp), (j.local_orig, j.local_resp));
}

#[test]
fn mixed_json_paths_nested_id_and_bad_lines() {
    let (st, recs) = read(&fixture("mixed.json"), Some("zeek-export.json"));
    assert_eq!(st.lines, 10);
    assert_eq!(st.blank_lines, 1);
    assert_eq!(
        (
            st.records.dns,
            st.records.http,
            st.records.ssl,
            st.records.conn
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(st.other_paths.get("files"), Some(&1));
    assert_eq!(st.other_lines(), 1);
    assert_eq!(st.unknown_fields.get("x_custom"), Some(&1));
    assert_eq!(st.unknown_fields.len(), 1, "{:?}", st.unknown_fields);
    assert_eq!(st.bad_lines, 4);
    let kinds: Vec<(u64, &IssueKind)> = st.issues.iter().map(|i| (i.line, &i.kind)).collect();
    assert_eq!(kinds[0], (6, &IssueKind::Missing { field: "id.orig_h" }));
    assert!(matches!(kinds[1], (7, IssueKind::Json { .. })));
    assert_eq!(kinds[2], (8, &IssueKind::NotObject));
    assert!(matches!(
        kinds[3],
        (10, IssueKind::BadValue { field: "ts", .. })
    ));

    let d = dnss(&recs);
    assert_eq!(d[0].answers, vec!["192.0.2.10", "192.0.2.11"]);
    assert_eq!(d[0].ttls, vec![300.0, 300.0]);
    assert!(close(d[0].ts, 1_609_951_276.1));
    let h = https(&recs);
    assert_eq!(h[0].orig_h, ip("10.1.6.206"));
    assert_eq!(h[0].resp_p, 80);
    assert_eq!(h[0].method.as_deref(), Some("POST"));
    assert_eq!(h[0].status_code, Some(200));
    let s = ssls(&recs);
    assert_eq!(s[0].self_signed(), Some(true), "subject == issuer");
    let c = conns(&recs);
    assert!(c[0].open);
    assert_eq!(c[0].conn.end, ConnEnd::EndOfCapture);
    assert_eq!(c[0].conn.conn_state, ConnState::S1);
}

#[test]
fn json_kind_from_hint_or_keys() {
    let line = br#"{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":53,"query":"a.example"}"#;
    // Only `query`: not enough to guess; the file name decides.
    let (st, _) = read(line, None);
    assert_eq!(st.records.total(), 0);
    assert_eq!(st.other_paths.get("(unknown)"), Some(&1));
    let (st, recs) = read(line, Some("dns.09:00:00-10:00:00.log.gz"));
    assert_eq!(st.records.dns, 1);
    assert_eq!(dnss(&recs)[0].query.as_deref(), Some("a.example"));
    // A hint naming another log labels lines it cannot place.
    let (st, _) = read(line, Some("weird.log"));
    assert_eq!(st.other_paths.get("weird"), Some(&1));
    // Quoted numbers and "T"/"F" strings are accepted; a wrong type is a field error.
    let quoted = br#"{"ts":"1.5","id.orig_h":"10.0.0.1","id.orig_p":"1","id.resp_h":"10.0.0.2","id.resp_p":"80","proto":"tcp","conn_state":"SF","orig_bytes":"12","local_orig":"T","resp_bytes":[1]}"#;
    let (st, recs) = read(quoted, None);
    let c = conns(&recs);
    assert_eq!(c[0].conn.orig_bytes, 12);
    assert_eq!(c[0].conn.resp_bytes, 0);
    assert!(c[0].conn.local_orig);
    assert_eq!(st.field_errors, 1);
}

// ------------------------------------------------------------------ gzip

#[test]
fn gzip_single_and_multi_member() {
    let plain = fixture("conn-rita-agent.log");
    let (_, want) = read(&plain, None);
    let gz = gzip(&[&plain]);
    assert_eq!(sniff(&gz), Some(ZeekFormat::Tsv));
    let (st, got) = read(&gz, Some("conn.09:00:00-10:00:00.log.gz"));
    assert!(st.gzip);
    assert_eq!(st.bytes, plain.len() as u64);
    assert_eq!(got.len(), want.len());
    for (a, b) in conns(&got).iter().zip(conns(&want)) {
        assert_eq!(a.uid, b.uid);
        assert_eq!(a.conn.orig_bytes, b.conn.orig_bytes);
    }
    // Two members (cat a.gz b.gz) of different logs.
    let dns = fixture("dns.log");
    let two = gzip(&[&plain, &dns]);
    let (st, _) = read(&two, None);
    assert_eq!((st.records.conn, st.records.dns), (7, 6));
    // JSON in gzip.
    let j = gzip(&[&fixture("conn.json")]);
    assert_eq!(sniff(&j), Some(ZeekFormat::Json));
    let (st, _) = read(&j, None);
    assert_eq!(st.records.conn, 3);
}

#[test]
fn gzip_cut_short_keeps_records_and_reports() {
    let gz = gzip(&[&fixture("conn-rita-agent.log")]);
    let cut = &gz[..gz.len() - 12];
    let (st, recs) = read(cut, None);
    assert!(!st.complete);
    assert!(
        matches!(st.error, Some(ZeekError::Io { .. })),
        "{:?}",
        st.error
    );
    assert!(!recs.is_empty());
    // Broken from the first byte on: an error, not an empty result.
    let mut bad = gz.clone();
    bad[3] = 0xff; // reserved FLG bits
    assert!(read_log(&bad[..], None, &ZeekLimits::default(), |_| {}).is_err());
}

// ------------------------------------------------------------------ limits, errors, sniff

#[test]
fn not_zeek_and_empty() {
    let pcap = std::fs::read(format!("{NET}ja3-ssl-curl.pcap")).expect("corpus");
    assert_eq!(sniff(&pcap), None);
    let e = read_log(&pcap[..], None, &ZeekLimits::default(), |_| {}).unwrap_err();
    assert!(matches!(e, ZeekError::NotZeek { line: 1, .. }), "{e}");
    let e = read_log(&b"hello world\n"[..], None, &ZeekLimits::default(), |_| {}).unwrap_err();
    assert!(matches!(e, ZeekError::NotZeek { .. }));
    for empty in [&b""[..], b"\n\r\n  \n"] {
        let e = read_log(empty, None, &ZeekLimits::default(), |_| {}).unwrap_err();
        assert!(matches!(e, ZeekError::Empty), "{e}");
    }
    assert_eq!(sniff(b""), None);
    assert_eq!(sniff(b"\n\n#separator \\x09\n"), Some(ZeekFormat::Tsv));
    assert_eq!(sniff(b"{\"ts\":1}"), Some(ZeekFormat::Json));
    assert_eq!(sniff(&[0x1f, 0x8b]), None);
}

#[test]
fn line_length_list_and_name_caps() {
    let mut text = fixture("dns.log");
    // One very long line in the middle of the data.
    let long = format!("{}\n", "x".repeat(5000));
    let pos = text.len() - "#close\t2021-01-06-17-00-00\n".len();
    text.splice(pos..pos, long.bytes());
    let limits = ZeekLimits {
        max_line_bytes: 1000,
        max_list_items: 1,
        ..ZeekLimits::default()
    };
    let (st, recs) = read_with(&text, None, &limits);
    assert_eq!(st.records.dns, 6);
    assert_eq!(st.bad_lines, 1);
    assert!(
        st.issues
            .iter()
            .any(|i| i.kind == IssueKind::TooLong { limit: 1000 })
    );
    assert_eq!(dnss(&recs)[0].answers, vec!["192.0.2.10"]);
    assert!(st.truncated_lists >= 3);

    // Unknown field names: capped table, the rest counted.
    let mut json = Vec::new();
    for i in 0..10 {
        json.extend(
            format!(
                "{{\"_path\":\"conn\",\"ts\":1,\"id.orig_h\":\"10.0.0.1\",\"id.orig_p\":1,\"id.resp_h\":\"10.0.0.2\",\"id.resp_p\":2,\"proto\":\"tcp\",\"extra{i}\":1}}\n"
            )
            .bytes(),
        );
    }
    let limits = ZeekLimits {
        max_names: 4,
        max_samples: 2,
        ..ZeekLimits::default()
    };
    let (st, _) = read_with(&json, None, &limits);
    assert_eq!(st.unknown_fields.len(), 4);
    assert_eq!(st.unknown_fields_overflow, 6);
    assert_eq!(st.records.conn, 10);
}

#[test]
fn line_exactly_at_limit() {
    let head = "#separator \\x09\n#path\tdns\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\n";
    let base = "1.0\t10.0.0.1\t1\t10.0.0.2\t53\t";
    let limit = 100;
    let q = "q".repeat(limit - base.len());
    let at = format!("{head}{base}{q}\r\n{base}{q}q\n");
    let limits = ZeekLimits {
        max_line_bytes: limit.max(head.lines().map(str::len).max().unwrap()),
        ..ZeekLimits::default()
    };
    assert_eq!(limits.max_line_bytes, limit);
    let (st, recs) = read_with(at.as_bytes(), None, &limits);
    assert_eq!(st.records.dns, 1, "{:?}", st.issues);
    assert_eq!(st.bad_lines, 1);
    assert_eq!(dnss(&recs)[0].query.as_deref().map(str::len), Some(q.len()));
}

#[test]
fn input_byte_cap() {
    let text = fixture("conn-rita-agent.log");
    let limits = ZeekLimits {
        max_input_bytes: Some(1500),
        ..ZeekLimits::default()
    };
    let (st, recs) = read_with(&text, None, &limits);
    assert!(!st.complete);
    assert!(matches!(
        st.error,
        Some(ZeekError::LimitReached { limit: 1500, .. })
    ));
    assert!(!recs.is_empty() && recs.len() < 7);
    // Exactly the file size: complete.
    let limits = ZeekLimits {
        max_input_bytes: Some(text.len() as u64),
        ..ZeekLimits::default()
    };
    let (st, _) = read_with(&text, None, &limits);
    assert!(st.complete && st.error.is_none());
    // A gzip bomb stops at the cap.
    let limits = ZeekLimits {
        max_input_bytes: Some(1 << 20),
        ..ZeekLimits::default()
    };
    let bomb = gzip(&[b"#separator \\x09\n", &vec![b'\n'; 8 << 20]]);
    let (st, _) = read_with(&bomb, None, &limits);
    assert!(matches!(st.error, Some(ZeekError::LimitReached { .. })));
    assert!(st.bytes <= (1 << 20) + 1);
}

#[test]
fn helpers() {
    assert_eq!(
        file_stem("/var/log/zeek/conn.09:00:00-10:00:00.log.gz"),
        "conn"
    );
    assert_eq!(file_stem(r"C:\logs\SSL.log"), "ssl");
    assert_eq!(
        kind_from_file_name("open_conn.log"),
        Some((ZeekKind::Conn, true))
    );
    assert_eq!(kind_from_file_name("files.log"), None);
    for s in [
        "S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH",
    ] {
        assert_eq!(parse_conn_state(s).map(ConnState::as_str), Some(s));
    }
    assert_eq!(parse_conn_state("XX"), None);
    assert_ne!(
        uid_hash("CzRk3b1xGq8Tn2YpLd"),
        uid_hash("CzRk3b1xGq8Tn2YpLe")
    );
    assert_eq!(uid_hash("a") >> 63, 0);
    // Every field name maps back to its variant.
    let names = [
        "ts",
        "id.orig_h",
        "conn_state",
        "TTLs",
        "AA",
        "ja3s",
        "path",
        "_path",
        "agent_uuid",
    ];
    for n in names {
        assert_eq!(fields::F::from_name(n).map(fields::F::name), Some(n));
    }
}
