//! Load generator for the milter benchmark (bench/milter.sh): N concurrent connections sending
//! real messages, timing each one.
//!
//!   load smtp HOST:PORT CONCURRENCY MESSAGES FILE…     through an MTA (Postfix), per message
//!                                                       MAIL FROM … final reply to the dot
//!   load milter HOST:PORT CONCURRENCY MESSAGES FILE…   straight to the milter as an MTA would
//!                                                       (OPTNEG once, then MAIL … end of body)
//!
//! Prints one JSON line: messages, seconds, messages/s, p50/p99/max latency in ms, errors.
//! Messages are the files given, in turn (an mbox `From ` first line is dropped).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kensa_milter::codec::{
    Command, MAX_PACKET, Reply, SMFIP_HDR_LEADSPC, decode_reply, encode_command,
};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 6 {
        eprintln!("usage: load smtp|milter HOST:PORT CONCURRENCY MESSAGES FILE…");
        std::process::exit(2);
    }
    let mode = args[1].clone();
    let addr = args[2].clone();
    let conc: usize = args[3].parse().expect("concurrency");
    let total: usize = args[4].parse().expect("messages");
    let msgs: Arc<Vec<Vec<u8>>> = Arc::new(
        args[5..]
            .iter()
            .map(|p| {
                let raw = std::fs::read(p).expect("message file");
                match raw.strip_prefix(b"From ") {
                    Some(r) => {
                        r[r.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1)..].to_vec()
                    }
                    None => raw,
                }
            })
            .collect(),
    );
    let started = Instant::now();
    let workers: Vec<_> = (0..conc)
        .map(|w| {
            let (msgs, addr, mode) = (msgs.clone(), addr.clone(), mode.clone());
            let share = total / conc + usize::from(w < total % conc);
            std::thread::spawn(move || {
                let picks = (0..share).map(|i| &msgs[(w + i * conc) % msgs.len()]);
                if mode == "smtp" {
                    smtp_worker(&addr, picks)
                } else {
                    milter_worker(&addr, picks)
                }
            })
        })
        .collect();
    let mut lat = Vec::new();
    let mut errors = 0usize;
    for w in workers {
        let (l, e) = w.join().expect("worker");
        lat.extend(l);
        errors += e;
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    let q = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "{{\"mode\":\"{mode}\",\"concurrency\":{conc},\"messages\":{},\"seconds\":{secs:.3},\"per_second\":{:.1},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"max_ms\":{:.2},\"errors\":{errors}}}",
        lat.len(),
        lat.len() as f64 / secs,
        q(0.5),
        q(0.99),
        lat.last().copied().unwrap_or(0.0)
    );
}

fn reply(r: &mut impl BufRead) -> std::io::Result<String> {
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Err(std::io::Error::other("connection closed"));
        }
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(line);
        }
    }
}

/// CRLF line ends and dot-stuffing for DATA.
fn data(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + 64);
    for line in msg.split_inclusive(|&b| b == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        if body.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

fn smtp_worker<'a>(addr: &str, msgs: impl Iterator<Item = &'a Vec<u8>>) -> (Vec<f64>, usize) {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).ok();
    s.set_read_timeout(Some(Duration::from_secs(120))).ok();
    let mut w = s.try_clone().expect("clone");
    let mut r = BufReader::new(s);
    reply(&mut r).expect("greeting");
    w.write_all(b"EHLO load.test\r\n").unwrap();
    reply(&mut r).expect("ehlo");
    let (mut lat, mut errors) = (Vec::new(), 0);
    for m in msgs {
        let t = Instant::now();
        w.write_all(b"MAIL FROM:<load@sender.test>\r\n").unwrap();
        let ok1 = reply(&mut r).expect("mail").starts_with('2');
        w.write_all(b"RCPT TO:<user@corp.test>\r\n").unwrap();
        let ok2 = reply(&mut r).expect("rcpt").starts_with('2');
        w.write_all(b"DATA\r\n").unwrap();
        let go = reply(&mut r).expect("data").starts_with('3');
        let ok = if ok1 && ok2 && go {
            w.write_all(&data(m)).unwrap();
            reply(&mut r).expect("dot").starts_with('2')
        } else {
            false
        };
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        if !ok {
            errors += 1;
            w.write_all(b"RSET\r\n").unwrap();
            reply(&mut r).expect("rset");
        }
    }
    let _ = w.write_all(b"QUIT\r\n");
    (lat, errors)
}

fn send(w: &mut TcpStream, c: &Command) {
    let mut out = Vec::new();
    encode_command(c, &mut out);
    w.write_all(&out).unwrap();
}

/// Read replies until one that ends the step (skipping progress and header edits).
fn final_reply(r: &mut TcpStream, buf: &mut Vec<u8>) -> Reply {
    let mut chunk = [0u8; 8192];
    loop {
        while let Some((rep, used)) = decode_reply(buf, MAX_PACKET).expect("reply") {
            buf.drain(..used);
            match rep {
                Reply::Progress
                | Reply::AddHeader { .. }
                | Reply::InsertHeader { .. }
                | Reply::ChangeHeader { .. }
                | Reply::Quarantine(_) => continue,
                other => return other,
            }
        }
        let n = r.read(&mut chunk).expect("read");
        assert!(n > 0, "milter closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Header fields as (name, value with its leading space).
type Headers = Vec<(Vec<u8>, Vec<u8>)>;

/// Headers and body of a message.
fn split(msg: &[u8]) -> (Headers, Vec<u8>) {
    let mut headers: Headers = Vec::new();
    let mut rest = msg;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let line = &rest[..end];
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        rest = &rest[end..];
        if text.is_empty() {
            break;
        }
        if matches!(text.first(), Some(b' ' | b'\t')) {
            if let Some((_, v)) = headers.last_mut() {
                v.extend_from_slice(b"\r\n");
                v.extend_from_slice(text);
            }
        } else if let Some(c) = text.iter().position(|&b| b == b':') {
            headers.push((text[..c].to_vec(), text[c + 1..].to_vec()));
        }
    }
    let mut body = Vec::new();
    for line in rest.split_inclusive(|&b| b == b'\n') {
        let t = line.strip_suffix(b"\n").unwrap_or(line);
        body.extend_from_slice(t.strip_suffix(b"\r").unwrap_or(t));
        body.extend_from_slice(b"\r\n");
    }
    (headers, body)
}

fn milter_worker<'a>(addr: &str, msgs: impl Iterator<Item = &'a Vec<u8>>) -> (Vec<f64>, usize) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).ok();
    let mut buf = Vec::new();
    send(
        &mut s,
        &Command::OptNeg {
            version: 6,
            actions: 0x1FF,
            protocol: 0x1F_FFFF,
        },
    );
    let Reply::OptNeg { protocol, .. } = final_reply(&mut s, &mut buf) else {
        panic!("optneg")
    };
    let quiet = |bit: u32| protocol & bit != 0;
    let leadspc = quiet(SMFIP_HDR_LEADSPC);
    let (mut lat, mut errors) = (Vec::new(), 0);
    for m in msgs {
        let (headers, body) = split(m);
        let t = Instant::now();
        send(&mut s, &Command::Mail(vec![b"<load@sender.test>".to_vec()]));
        if !quiet(kensa_milter::codec::SMFIP_NR_MAIL) {
            final_reply(&mut s, &mut buf);
        }
        send(
            &mut s,
            &Command::Macro {
                stage: b'R',
                pairs: vec![(b"i".to_vec(), b"LOAD1".to_vec())],
            },
        );
        send(&mut s, &Command::Rcpt(vec![b"<user@corp.test>".to_vec()]));
        if !quiet(kensa_milter::codec::SMFIP_NR_RCPT) {
            final_reply(&mut s, &mut buf);
        }
        for (n, v) in headers {
            let v = if leadspc {
                v
            } else {
                v.strip_prefix(b" ").map(<[u8]>::to_vec).unwrap_or(v)
            };
            send(&mut s, &Command::Header { name: n, value: v });
            if !quiet(kensa_milter::codec::SMFIP_NR_HDR) {
                final_reply(&mut s, &mut buf);
            }
        }
        send(&mut s, &Command::EndOfHeaders);
        if !quiet(kensa_milter::codec::SMFIP_NR_EOH) {
            final_reply(&mut s, &mut buf);
        }
        for chunk in body.chunks(65_535) {
            send(&mut s, &Command::Body(chunk.to_vec()));
            if matches!(final_reply(&mut s, &mut buf), Reply::Skip) {
                break;
            }
        }
        send(&mut s, &Command::EndOfBody(Vec::new()));
        let end = final_reply(&mut s, &mut buf);
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        if matches!(end, Reply::TempFail) {
            errors += 1;
        }
    }
    send(&mut s, &Command::Quit);
    (lat, errors)
}
