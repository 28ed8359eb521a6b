//! Capture records written as Zeek conn.log (TSV and JSON) and read back.

use std::io::Read;

use super::{NET, conns, read};
use crate::capture::{self, ConnRecord};

/// Write capture records as a Zeek conn.log (TSV): the reader must give them back.
fn conn_tsv(recs: &[ConnRecord]) -> String {
    let mut s = String::from(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
         #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t\
         orig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\t\
         orig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n",
    );
    let tf = |b: bool| if b { "T" } else { "F" };
    for r in recs {
        let history = if r.history.is_empty() {
            "(empty)"
        } else {
            r.history.as_str()
        };
        s.push_str(&format!(
            "{:.6}\tC{}\t{}\t{}\t{}\t{}\t{}\t-\t{:.6}\t{}\t{}\t{}\t{}\t{}\t0\t{}\t{}\t{}\t{}\t{}\t(empty)\n",
            r.ts,
            r.uid,
            r.orig_h,
            r.orig_p,
            r.resp_h,
            r.resp_p,
            r.proto.as_str(),
            r.duration,
            r.orig_bytes,
            r.resp_bytes,
            r.conn_state.as_str(),
            tf(r.local_orig),
            tf(r.local_resp),
            history,
            r.orig_pkts,
            r.orig_ip_bytes,
            r.resp_pkts,
            r.resp_ip_bytes,
        ));
    }
    s.push_str("#close\t2021-01-06-18-19-38\n");
    s
}

fn conn_json(recs: &[ConnRecord]) -> String {
    let mut s = String::new();
    for r in recs {
        let v = serde_json::json!({
            "ts": r.ts, "uid": format!("C{}", r.uid),
            "id.orig_h": r.orig_h.to_string(), "id.orig_p": r.orig_p,
            "id.resp_h": r.resp_h.to_string(), "id.resp_p": r.resp_p,
            "proto": r.proto.as_str(), "duration": r.duration,
            "orig_bytes": r.orig_bytes, "resp_bytes": r.resp_bytes,
            "conn_state": r.conn_state.as_str(), "local_orig": r.local_orig,
            "local_resp": r.local_resp, "history": r.history, "orig_pkts": r.orig_pkts,
            "orig_ip_bytes": r.orig_ip_bytes, "resp_pkts": r.resp_pkts,
            "resp_ip_bytes": r.resp_ip_bytes,
        });
        s.push_str(&v.to_string());
        s.push('\n');
    }
    s
}

fn same(a: &ConnRecord, b: &ConnRecord) {
    assert!((a.ts - b.ts).abs() < 2e-6, "{} {}", a.ts, b.ts);
    assert!((a.duration - b.duration).abs() < 2e-6);
    assert_eq!(
        (
            a.orig_h,
            a.orig_p,
            a.resp_h,
            a.resp_p,
            a.proto,
            a.conn_state
        ),
        (
            b.orig_h,
            b.orig_p,
            b.resp_h,
            b.resp_p,
            b.proto,
            b.conn_state
        )
    );
    assert_eq!(
        (
            a.orig_bytes,
            a.resp_bytes,
            a.orig_pkts,
            a.orig_ip_bytes,
            a.resp_pkts,
            a.resp_ip_bytes
        ),
        (
            b.orig_bytes,
            b.resp_bytes,
            b.orig_pkts,
            b.orig_ip_bytes,
            b.resp_pkts,
            b.resp_ip_bytes
        )
    );
    assert_eq!(
        (&a.history, a.local_orig, a.local_resp),
        (&b.history, b.local_orig, b.local_resp)
    );
}

fn round_trip(pcap: &[u8]) -> usize {
    let mut want = Vec::new();
    capture::read_capture(pcap, &capture::CaptureConfig::default(), |c| want.push(c))
        .expect("capture");
    assert!(!want.is_empty());
    for text in [conn_tsv(&want), conn_json(&want)] {
        let (st, got) = read(text.as_bytes(), None);
        assert_eq!(st.bad_lines + st.field_errors, 0, "{:?}", st.issues);
        let got = conns(&got);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            same(&g.conn, w);
            assert_eq!(g.uid, format!("C{}", w.uid));
        }
    }
    want.len()
}

#[test]
fn capture_records_round_trip_slips() {
    let pcap = std::fs::read(format!("{NET}slips-test-cc-capture-2.pcap")).expect("corpus");
    assert!(round_trip(&pcap) > 20);
}

#[test]
fn capture_records_round_trip_unit42() {
    let zip = std::fs::read(format!("{NET}unit42-emotet-2021-01-06.pcap.zip")).expect("corpus");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("zip");
    let mut f = archive.by_index_decrypt(0, b"infected").expect("decrypt");
    let mut pcap = Vec::new();
    f.read_to_end(&mut pcap).expect("read");
    assert!(round_trip(&pcap) > 100);
}
