//! What each fuzz target does, in one place: the cargo-fuzz binaries (`fuzz_targets/<name>.rs`) and
//! the regression test that replays `fuzz/regressions/<name>/` under `cargo test`
//! (`crates/kensa-scan/tests/fuzz_regressions.rs`) both include this file, so a regression input is
//! always fed to exactly the calls the fuzzer made. Every call must return on any bytes.

use kensa_formats::ole::OleFile;
use kensa_formats::vba::{self, VbaLimits};
use kensa_formats::zip::Zip;
use kensa_formats::{
    dde, decrypt, html, iso, lnk, msg, ole10native, onenote, ovba, pad, ppt, rtf, script, vba_scan,
    xlm,
};
use kensa_host::{emocheck, hive, listing, paths, proclist, regexport, task};
use kensa_mail::{message::Mail, password};
use kensa_milter::{codec, subject};
use kensa_net::{beacon, capture, intel as feeds, maillog, proto, zeek};
use kensa_scan::{ScanOptions, scan_bytes};

/// The targets, each with a binary and a folder of regression inputs (read by the regression test;
/// each fuzz binary runs one of them).
#[allow(dead_code)]
pub const NAMES: &[&str] = &[
    "mime_walk",
    "mime_rfc822_alphabet",
    "zip",
    "cfb",
    "ovba",
    "ppt",
    "vba_scan",
    "password",
    "xlm",
    "lnk",
    "rtf",
    "dde",
    "iso",
    "onenote",
    "html",
    "msg",
    "script",
    "pad",
    "decrypt",
    "capture",
    "zeek",
    "netproto",
    "intel",
    "beacon",
    "maillog",
    "hive",
    "regexport",
    "task",
    "proclist",
    "emocheck",
    "milter",
];

/// Cap on each ZIP entry, OLE stream or decoded object.
const CAP: usize = 1 << 20;

/// Bytes outside it are mapped into it, to reach deeper MIME states.
const ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789: \r\n=?-;\"<>@/.+";

/// Run target `name` on `data`; panics on an unknown name.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "mime_walk" => mime(data),
        "mime_rfc822_alphabet" => mime(&to_alphabet(data)),
        "zip" => zip(data),
        "cfb" => cfb(data),
        "ovba" => {
            let _ = ovba::decompress(data, CAP);
            let _ = ovba::find_compressed_source(data, CAP);
            let _ = ole10native::parse(data, CAP);
        }
        "ppt" => ppt(data),
        "vba_scan" => {
            let _ = vba_scan::scan(&String::from_utf8_lossy(data));
        }
        "password" => {
            let text = String::from_utf8_lossy(data);
            let _ = password::candidates(&text, &[&text], &[&text], &[], 40);
            let _ = password::password_in_text(&text, &[&text], &[&text]);
            let _ = password::html_to_text(&text);
        }
        "xlm" => excel4(data),
        "lnk" => {
            if let Ok(l) = lnk::parse(data) {
                let _ = lnk::assess(&l);
            }
        }
        "rtf" => {
            let _ = rtf::is_rtf(data);
            let _ = rtf::scan(data, CAP, 64);
        }
        "dde" => {
            for f in dde::word_binary(data) {
                let _ = dde::is_dangerous(&f);
            }
            let text = String::from_utf8_lossy(data);
            let _ = dde::wordprocessing_xml(&text);
            let _ = dde::spreadsheet_xml(&text);
            let _ = dde::csv(&text);
            let _ = dde::biff_supbooks(data);
            let _ = dde::xlsb_supbooks(data);
        }
        "iso" => {
            let _ = iso::detect(data);
            if let Ok(img) = iso::open(data, 256) {
                for f in &img.files {
                    let _ = iso::file_bytes(data, f);
                }
            }
        }
        "onenote" => {
            let one = onenote::carve(data, 64, CAP);
            for f in &one.files {
                let _ = f.bytes(data);
            }
        }
        "html" => {
            let limits = html::HtmlLimits {
                min_blob_len: 64,
                max_blobs: 4,
                max_decoded_bytes: CAP,
            };
            let _ = html::scan(data, limits);
            let _ = html::visible_text(data, 1 << 16);
        }
        "msg" => {
            let limits = msg::MsgLimits {
                max_attachments: 16,
                max_attachment_bytes: CAP,
                max_total_bytes: 4 * CAP,
                max_depth: 4,
                max_text_bytes: CAP,
            };
            let _ = msg::parse(data, limits);
        }
        "script" => {
            let kind = script::classify(None, data);
            let _ = script::assess(kind.unwrap_or(script::ScriptKind::PowerShell), data);
            let _ = script::assess(script::ScriptKind::InternetShortcut, data);
            let _ = script::encoder::decode(data);
        }
        "pad" => {
            // Small caps so that the run detector's edges (chunk, run, cap, max_read) are reached.
            let _ = pad::read_stripped(data, data.len() / 2, data.len() as u64);
            let _ = pad::read_stripped(data, CAP, (data.len() / 3) as u64);
        }
        "capture" => {
            let cfg = capture::CaptureConfig {
                max_block_bytes: 1 << 20,
                max_input_bytes: Some(1 << 24),
                max_flows: 64,
                ..Default::default()
            };
            let _ = capture::read_capture(data, &cfg, |c| {
                let _ = proto::sniff(&c.first_orig_payload, &c.first_resp_payload);
            });
        }
        "zeek" => {
            let limits = zeek::ZeekLimits {
                max_input_bytes: Some(1 << 22),
                ..Default::default()
            };
            let _ = zeek::sniff(data);
            let _ = zeek::read_log(data, Some("conn.log"), &limits, |_| {});
        }
        "netproto" => {
            let (c, s) = data.split_at(data.len() / 2);
            let _ = proto::sniff(c, s);
            let _ = proto::http_exchange(c, s, 64);
            if let Some(Ok(ch)) = proto::tls_client_hello(data) {
                let _ = ch.ja3_md5();
            }
            if let Some(Ok(sv)) = proto::tls_server(data) {
                let _ = sv.hello.ja3s_md5();
            }
            let _ = proto::tls::cert_info(data, 0);
            let _ = proto::dns_message(data);
            let _ = proto::smtp_session(c, s);
        }
        "intel" => {
            if let Ok(snap) = feeds::parse_feed(data, &feeds::ParseOptions::default()) {
                let back = feeds::Snapshot::read_jsonl(&snap.to_jsonl(), &feeds::Limits::default());
                assert!(back.is_ok(), "a snapshot kensa wrote must read back");
                let index = feeds::IntelIndex::from_snapshots([snap]);
                let _ = index.match_domain(&String::from_utf8_lossy(data));
            }
            let _ = feeds::csv_from_zip(data, 1 << 20);
        }
        "beacon" => {
            let conns: Vec<beacon::Conn> = data
                .chunks_exact(24)
                .map(|b| beacon::Conn {
                    ts: f64::from_le_bytes(b[0..8].try_into().unwrap_or([0; 8])),
                    orig_ip_bytes: u64::from_le_bytes(b[8..16].try_into().unwrap_or([0; 8])),
                    duration: f64::from_le_bytes(b[16..24].try_into().unwrap_or([0; 8])),
                })
                .collect();
            let (min, max) = (
                conns.first().map_or(0.0, |c| c.ts),
                conns.last().map_or(1.0, |c| c.ts),
            );
            let _ = beacon::score_pair(&conns, min, max, &beacon::BeaconConfig::default());
            let _ = beacon::analytics::classify_domain(&String::from_utf8_lossy(data));
        }
        "maillog" => {
            let opts = maillog::MailLogOptions::new(maillog::YearHint::StartsIn(2026));
            let mut parser = maillog::MailLogParser::new(opts);
            let mut events = Vec::new();
            for line in data.split(|&b| b == b'\n') {
                parser.feed_line(line, &mut |e| events.push(e));
            }
            parser.finish(&mut |e| events.push(e));
            let _ = maillog::detect(&events, &maillog::BurstConfig::default());
        }
        "hive" => {
            if let Ok(h) = hive::Hive::parse(data) {
                let _ = hive::walk(&h, 10_000);
                if let Ok(Some(k)) = h.open(r"Software\Microsoft\Windows\CurrentVersion\Run") {
                    let _ = k.values_partial();
                }
            }
            let _ = hive::apply_logs(data, &[data]);
        }
        "regexport" => {
            let _ = regexport::parse_reg(data);
            let _ = regexport::split_root(&String::from_utf8_lossy(data));
        }
        "task" => {
            let _ = task::parse_task(data);
        }
        "proclist" => {
            let _ = proclist::parse_process_list(data);
            let _ = listing::parse_listing(data);
            let _ = listing::parse_last_write_time(&String::from_utf8_lossy(data));
        }
        "emocheck" => {
            let s = String::from_utf8_lossy(data);
            let (a, b) = data.split_at(data.len().min(8));
            let _ = emocheck::serial_from_boot_sector(data);
            let _ = emocheck::parse_vol_output(&s);
            let _ = emocheck::v2_decode_offline(&String::from_utf8_lossy(a), b);
            let _ = emocheck::v4_command_ok(&s, "a.xyz");
            let _ = emocheck::normalise_cmdline(&s);
            let _ = paths::classify(&s);
            let _ = paths::loader_target(&s);
            let _ = paths::split_command(&s);
            let _ = paths::Env::default_for_user("C:\\Users\\u").expand(&s);
            let _ = kensa_host::live::pure::decode_unicode_string(data, 0x1000, 8);
        }
        "milter" => {
            let _ = codec::decode_all_commands(data);
            let _ = codec::decode_all_replies(data);
            let _ = codec::validate_replycode(data);
            let tagged = subject::tag_subject(data, "[迷惑メール]");
            let _ = subject::decode(&tagged);
        }
        // Detection only: a decryption try costs the file's declared key-derivation rounds.
        "decrypt" => {
            let _ = decrypt::describe(data);
        }
        other => panic!("no fuzz target {other:?}"),
    }
}

fn to_alphabet(data: &[u8]) -> Vec<u8> {
    data.iter()
        .map(|&b| {
            if ALPHABET.contains(&b) {
                b
            } else {
                ALPHABET[usize::from(b) % ALPHABET.len()]
            }
        })
        .collect()
}

/// The whole walker (it sniffs the type, so this reaches every analyser), then the message parser.
fn mime(data: &[u8]) {
    let report = scan_bytes("fuzz.eml", data, &ScanOptions::default());
    // The walker turns a panic in an analyser into this finding: still a bug.
    for f in &report.findings {
        assert!(
            !(f.symbol == "UNSCANNABLE" && f.evidence.starts_with("internal error")),
            "{f:?}"
        );
    }
    let _ = Mail::parse(data);
}

fn zip(data: &[u8]) {
    let Ok(mut zip) = Zip::open(data, 256) else {
        return;
    };
    let indexes: Vec<usize> = zip.entries.iter().map(|e| e.index).collect();
    for index in indexes {
        let _ = zip.read(index, None, CAP);
        let _ = zip.read(index, Some(b"infected"), CAP);
    }
}

fn cfb(data: &[u8]) {
    let Ok(mut ole) = OleFile::parse(data) else {
        return;
    };
    let streams: Vec<String> = ole
        .entries()
        .iter()
        .filter(|e| e.is_stream)
        .map(|e| e.path.clone())
        .collect();
    for path in &streams {
        let _ = ole.read_stream_prefix(path, CAP);
    }
    let _ = vba::has_vba_storage(&ole);
    let _ = vba::extract(&mut ole, &VbaLimits::default());
}

/// An OLE input is read as kensa reads a .ppt (its `PowerPoint Document` stream); any other input
/// is taken as the stream itself. Each embedded storage is then opened with VBA extraction.
fn ppt(data: &[u8]) {
    let storages = |stream: &[u8]| {
        for e in ppt::embedded_storages(stream, CAP, 4 * CAP, 256) {
            if let Ok(mut ole) = OleFile::parse(&e.data) {
                let _ = vba::extract(&mut ole, &VbaLimits::default());
            }
        }
    };
    let Ok(mut ole) = OleFile::parse(data) else {
        storages(data);
        return;
    };
    if let Some(path) = ole.find_streams("PowerPoint Document").into_iter().next()
        && let Ok((stream, _)) = ole.read_stream_prefix(&path, CAP)
    {
        storages(&stream);
    }
}

/// The same bytes as a BIFF stream, a SYLK file, and each kind of package part the XLM scanner
/// tells apart by name.
fn excel4(data: &[u8]) {
    let _ = xlm::scan_biff(data);
    let _ = xlm::scan_slk(data);
    let _ = xlm::looks_like_slk(data);
    let mut report = xlm::XlmReport::default();
    for part in [
        "[Content_Types].xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/macrosheets/sheet1.xml",
        "xl/workbook.bin",
        "xl/macrosheets/sheet1.bin",
    ] {
        xlm::scan_ooxml_part(part, None, data, &mut report);
    }
}
