//! Deterministic mutation robustness: no panic, invariants hold, on any bytes.

use super::{fixture, gzip};
use crate::zeek::{ZeekLimits, read_log, sniff};

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: &[&[u8]] = &[
    b"\t",
    b"\n",
    b"\r\n",
    b",",
    b"-",
    b"(empty)",
    b"\\x",
    b"\\x09",
    b"#separator \\x09\n",
    b"#fields\t",
    b"#path\tconn\n",
    b"{",
    b"}",
    b"\"",
    b"[",
    b":",
    b"1e308",
    b"-1",
    b"\xff",
    b"null",
    b"\"id\":{",
    b"2021-02-30T25:61:61Z",
    b"18446744073709551616",
    b"::",
    b"\\",
];

fn mutate(rng: &mut XorShift, data: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(8) {
        let len = data.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(len + 1);
                let s = INTERESTING[rng.below(INTERESTING.len())];
                data.splice(i..i, s.iter().copied());
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + rng.below(64)).min(len);
                data.drain(a..b);
            }
            4 if len > 0 => data.truncate(rng.below(len)),
            _ if len > 0 => {
                // Duplicate a chunk (repeated lines / headers).
                let a = rng.below(len);
                let b = (a + rng.below(200)).min(len);
                let chunk = data[a..b].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, chunk);
            }
            _ => data.push(rng.next() as u8),
        }
    }
}

fn check_invariants(data: &[u8], limits: &ZeekLimits) {
    let _ = sniff(data);
    let mut n = 0u64;
    match read_log(data, Some("conn.log"), limits, |r| {
        n += 1;
        assert!(r.ts().is_finite());
    }) {
        Ok(st) => {
            assert_eq!(st.records.total(), n);
            assert!(st.issues.len() <= limits.max_samples);
            assert!(st.unknown_fields.len() <= limits.max_names);
            assert!(st.other_paths.len() <= limits.max_names);
            let data_lines =
                st.records.total() + st.bad_lines + st.other_lines() + st.unknown_transport;
            assert!(data_lines <= st.lines, "{data_lines} > {}", st.lines);
            assert!(st.bytes <= limits.max_input_bytes.unwrap_or(u64::MAX).saturating_add(1));
        }
        Err(_) => assert_eq!(n, 0),
    }
}

#[test]
fn mutation_robustness() {
    let limits = ZeekLimits {
        max_line_bytes: 4096,
        max_list_items: 8,
        max_samples: 4,
        max_names: 8,
        max_input_bytes: Some(1 << 20),
        ..ZeekLimits::default()
    };
    let mut seeds: Vec<Vec<u8>> = [
        "conn-rita-agent.log",
        "dns.log",
        "http.log",
        "ssl.log",
        "smtp.log",
        "conn.json",
        "mixed.json",
    ]
    .iter()
    .map(|n| fixture(n))
    .collect();
    seeds.push(gzip(&[
        &fixture("conn-rita-agent.log"),
        &fixture("dns.log"),
    ]));
    seeds.push(gzip(&[&fixture("mixed.json")]));
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for round in 0..3000 {
        let mut data = seeds[round % seeds.len()].clone();
        mutate(&mut rng, &mut data);
        check_invariants(&data, &limits);
    }
    // Pure noise, and noise behind valid headers.
    for _ in 0..300 {
        let len = rng.below(3000);
        let noise: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        check_invariants(&noise, &limits);
        let mut tsv =
            b"#separator \\x09\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n"
                .to_vec();
        tsv.extend(&noise);
        check_invariants(&tsv, &limits);
        let mut json = b"{".to_vec();
        json.extend(&noise);
        check_invariants(&json, &limits);
    }
}
