//! Tests: the real Feodo snapshot from the corpus (numbers from network.md §10), hand-written
//! fixtures for every format, matching, serialisation, zip, limits, and mutation robustness.

use std::collections::{BTreeMap, HashSet};
use std::io::Write as _;
use std::net::IpAddr;

use super::*;

const FEODO_CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/intel/feodo-ipblocklist-aggressive-2021-03.csv"
);
const UNIT42_LIST: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/intel/unit42-emotet-2021-01-06-iocs.txt"
);

// ---- fixtures (hand-written in the documented layouts; documentation addresses) ----

const FEODO_TXT: &str = "\
################################################################
# abuse.ch Feodo Tracker Botnet C2 IP Blocklist                #
# Last updated: 2021-03-19 16:08:14 UTC                        #
#                                                              #
# Terms Of Use: https://feodotracker.abuse.ch/blocklist/       #
# For questions please contact feodotracker [at] abuse.ch      #
################################################################
#
# DstIP
192.0.2.10
198.51.100.7
192.0.2.10

203.0.113.300
203.0.113.5
# END 5 entries
";

const FEODO_CSV: &str = "\
################################################################
# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)          #
# Last updated: 2021-03-19 16:08:14 UTC                        #
#                                                              #
# Terms Of Use: https://feodotracker.abuse.ch/blocklist/       #
# For questions please contact feodotracker [at] abuse.ch      #
################################################################
#
\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"
\"2021-01-21 18:20:04\",\"192.0.2.20\",\"8080\",\"online\",\"2021-03-19\",\"Emotet\"
\"2021-01-22 09:01:00\",\"198.51.100.30\",\"443\",\"offline\",\"2021-02-01\",\"TrickBot\"
\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"
\"2021-01-25 10:00:00\",\"192.0.2.20\",\"8080\",\"online\",\"2021-03-18\",\"Emotet\"
\"2021-01-23 11:11:11\",\"[2001:db8::5]\",\"7080\",\"online\",\"2021-03-19\",\"Emotet\"
\"2021-01-23 11:11:11\",\"192.0.2.21\",\"99999\",\"online\",\"2021-03-19\",\"Emotet\"
\"2021-01-23\",\"192.0.2.22\",\"443\",\"sideways\",\"not-a-date\",\"Dridex\"
# END 6 entries
";

const FEODO_JSON: &str = r#"[
  {"ip_address": "192.0.2.40", "port": 8080, "status": "online", "hostname": "c2.example.net",
   "as_number": 64496, "as_name": "EXAMPLE-AS", "country": "de",
   "first_seen": "2021-01-21 18:20:04", "last_online": "2021-03-19", "malware": "Emotet"},
  {"ip_address": "192.0.2.41", "port": 443, "status": "offline", "hostname": null,
   "as_number": 64497, "as_name": "OTHER-AS", "country": "US",
   "last_online": "2021-02-02", "malware": "Dridex"},
  42,
  {"ip_address": "not-an-ip", "port": 80, "status": "online", "malware": "Emotet"},
  {"ip_address": "2001:db8::7", "port": 443, "status": "online", "hostname": null,
   "first_seen": "2021-01-22 00:00:00", "last_online": "2021-03-19", "malware": "QakBot"},
  {"ip_address": "192.0.2.42", "port": 70000, "malware": "Emotet"}
]
"#;

const URLHAUS_CSV: &str = "\
################################################################
# abuse.ch URLhaus Database Dump (CSV - recent URLs only)      #
# Last updated: 2021-01-06 12:00:00 UTC                        #
#                                                              #
# Terms Of Use: https://urlhaus.abuse.ch/api/                  #
# For questions please contact urlhaus [at] abuse.ch           #
################################################################
#
# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
\"1000001\",\"2021-01-05 16:41:15\",\"http://shop.example.com/wp-content/Sgms/\",\"online\",\"2021-01-06 10:00:00\",\"malware_download\",\"doc,emotet,epoch2,heodo\",\"https://urlhaus.abuse.ch/url/1000001/\",\"reporter1\"
\"1000002\",\"2021-01-05 17:00:00\",\"hxxp://Files.Example[.]org:80/a/b.exe?x=1#frag\",\"offline\",\"\",\"malware_download\",\"exe\",\"https://urlhaus.abuse.ch/url/1000002/\",\"reporter2\"
\"1000003\",\"2021-01-05 17:30:00\",\"http://192.0.2.50:8080/bins/x.sh\",\"online\",\"2021-01-06 09:00:00\",\"malware_download\",\"elf,mirai\",\"https://urlhaus.abuse.ch/url/1000003/\",\"reporter3\"
\"1000004\",\"2021-01-05 18:00:00\",\"not a url at all\",\"online\",\"\",\"malware_download\",\"\",\"https://urlhaus.abuse.ch/url/1000004/\",\"reporter4\"
\"1000005\",\"2021-01-05 18:00:00\",\"http://[2001:db8::9]:8443/p\",\"online\",\"\",\"malware_download\",\"\",\"https://urlhaus.abuse.ch/url/1000005/\",\"reporter4\"
";

const URLHAUS_TLD: &str = "\
##############################################################################
# URLhaus TLD CSV Feed                                                       #
# Generated on 2021-01-06 10:32:07 UTC                                       #
#                                                                            #
# For questions please refer to:                                             #
# https://urlhaus.abuse.ch/feeds/                                            #
##############################################################################
#
# Feed generated for TLD EXAMPLE
#
# Dateadded (UTC),URL,URL_status,Threat,Host,IPaddress,ASnumber,Country
2021-01-05 00:34:42,http://shop.example/verif/docs/,offline,malware_download,shop.example,192.0.2.60,64496,DE
2021-01-04 14:27:03,https://cdn.example/x/,online,malware_download,cdn.example,198.51.100.61,AS64497,CH
# of entries: 2
";

const URLHAUS_HOSTS: &str = "\
# abuse.ch URLhaus Host file
# Last updated: 2021-01-06 11:00:00 UTC
127.0.0.1 localhost
0.0.0.0 evil.example
0.0.0.0\tBad-Host.Example.
0.0.0.0 192.0.2.70
0.0.0.0
8.8.8.8 whatever.example
";

const THREATFOX_CSV: &str = "\
################################################################
# ThreatFox IOCs: additions - CSV format (full dump)           #
# Last updated: 2021-01-06 12:30:00 UTC                        #
#                                                              #
# Terms Of Use: https://threatfox.abuse.ch/faq/#tos            #
# For questions please contact threatfox [at] abuse.ch         #
################################################################
#
# \"first_seen_utc\",\"ioc_id\",\"ioc_value\",\"ioc_type\",\"threat_type\",\"fk_malware\",\"malware_alias\",\"malware_printable\",\"last_seen_utc\",\"confidence_level\",\"is_compromised\",\"reference\",\"tags\",\"anonymous\",\"reporter\"
\"2021-01-05 10:00:00\", \"100\", \"192.0.2.80:7080\", \"ip:port\", \"botnet_cc\", \"win.emotet\", \"Geodo,Heodo\", \"Emotet\", \"2021-01-06 08:00:00\", \"100\", \"False\", \"None\", \"emotet,epoch3\", \"0\", \"r1\"
\"2021-01-05 11:00:00\", \"101\", \"c2.evil[.]example\", \"domain\", \"botnet_cc\", \"win.trickbot\", \"None\", \"TrickBot\", \"\", \"75\", \"False\", \"https://example.org/report\", \"None\", \"0\", \"r2\"
\"2021-01-05 12:00:00\", \"102\", \"hxxps://dl.evil[.]example/payload.dll\", \"url\", \"payload_delivery\", \"win.emotet\", \"None\", \"Emotet\", \"\", \"50\", \"False\", \"None\", \"\", \"0\", \"r3\"
\"2021-01-05 13:00:00\", \"103\", \"D41D8CD98F00B204E9800998ECF8427E\", \"md5_hash\", \"payload\", \"win.emotet\", \"None\", \"Emotet\", \"\", \"100\", \"False\", \"None\", \"\", \"0\", \"r4\"
\"2021-01-05 14:00:00\", \"104\", \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\", \"sha256_hash\", \"payload\", \"win.emotet\", \"None\", \"Emotet\", \"\", \"101\", \"False\", \"None\", \"\", \"0\", \"r5\"
\"2021-01-05 15:00:00\", \"105\", \"[2001:db8::10]:443\", \"ip:port\", \"botnet_cc\", \"win.qakbot\", \"None\", \"QakBot\", \"\", \"90\", \"False\", \"None\", \"\", \"0\", \"r6\"
\"2021-01-05 16:00:00\", \"106\", \"someone@example.org\", \"email\", \"botnet_cc\", \"win.x\", \"None\", \"X\", \"\", \"90\", \"False\", \"None\", \"\", \"0\", \"r7\"
\"2021-01-05 17:00:00\", \"107\", \"zzzz\", \"sha256_hash\", \"payload\", \"win.x\", \"None\", \"X\", \"\", \"90\", \"False\", \"None\", \"\", \"0\", \"r8\"
";

const DEFANGED_LIST: &str = "\
# hand-made list: defanged values, IPv6, a bad line
5.2.136[.]90:80
167.71.4[.]0:8080   # second C2
hxxp://seo.udaipurkart[.]com/rx-5700-6hnr7/Sgms/
[2001:db8::20]:8080
2001:db8::21
evil(.)example
two values here
";

fn parse(data: &str, kind: Option<FeedKind>) -> Snapshot {
    let opts = ParseOptions {
        kind,
        ..ParseOptions::default()
    };
    parse_feed(data.as_bytes(), &opts).expect("parses")
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test IP")
}

fn crlf_no_final_newline(s: &str) -> String {
    s.trim_end_matches('\n').replace('\n', "\r\n")
}

fn bad_lines(s: &Snapshot) -> Vec<u64> {
    s.problems
        .iter()
        .filter(|p| !matches!(p.kind, ProblemKind::FieldIgnored { .. }))
        .filter_map(|p| match p.place {
            Place::Line(n) | Place::Entry(n) => Some(n),
            Place::Feed => None,
        })
        .collect()
}

// ---- the corpus file ----

#[test]
fn corpus_feodo_aggressive_2021_03() {
    let data = std::fs::read(FEODO_CORPUS).expect("corpus file");
    assert_eq!(detect_kind(&data), Some(FeedKind::FeodoCsv));
    let s = parse_feed(&data, &ParseOptions::default()).expect("parses");
    assert_eq!(s.kind, FeedKind::FeodoCsv);
    assert_eq!(s.feed, "feodo");
    assert_eq!(s.fetched_or_updated, None, "no banner in this copy");
    assert_eq!(s.stats.rows, 472);
    assert_eq!(s.stats.bad_lines, 0, "{:?}", s.problems);
    assert_eq!(s.stats.duplicates, 0);
    assert_eq!(s.stats.lines, 473);
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    assert_eq!(s.indicators.len(), 472);

    let mut ips = HashSet::new();
    let mut pairs = HashSet::new();
    let mut families: BTreeMap<String, usize> = BTreeMap::new();
    let mut emotet_ports: BTreeMap<u16, usize> = BTreeMap::new();
    for ind in &s.indicators {
        let Ioc::IpPort { ip, port } = ind.ioc else {
            panic!("not ip:port: {ind:?}");
        };
        ips.insert(ip);
        pairs.insert((ip, port));
        assert_eq!(ind.status, Some(Status::Online));
        assert_eq!(ind.last_seen.as_deref(), Some("2021-03-19"));
        let fam = ind.malware.clone().expect("family");
        *families.entry(fam.clone()).or_default() += 1;
        if fam == "Emotet" {
            *emotet_ports.entry(port).or_default() += 1;
            let first = ind.first_seen.as_deref().expect("first seen");
            assert!(
                ("2021-01-21".."2021-01-27").contains(&first),
                "Emotet first_seen {first}"
            );
        }
    }
    assert_eq!(ips.len(), 465);
    assert_eq!(pairs.len(), 470);
    assert_eq!(families.get("Emotet"), Some(&178));
    assert_eq!(families.get("Dridex"), Some(&166));
    assert_eq!(families.get("TrickBot"), Some(&128));
    assert_eq!(families.get("QakBot"), None);
    assert_eq!(families.len(), 3, "{families:?}");
    let want: BTreeMap<u16, usize> = [(80, 98), (8080, 42), (443, 31), (7080, 6), (8443, 1)]
        .into_iter()
        .collect();
    assert_eq!(emotet_ports, want);

    // Matching: an Emotet C2 with and without its port.
    let index = IntelIndex::from_snapshots([s]);
    assert_eq!(index.len(), 472);
    let m = index.match_ip(ip("12.175.220.98"), Some(80));
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].basis, MatchBasis::IpPort);
    assert_eq!(m[0].feed(), "feodo");
    assert_eq!(m[0].indicator.malware.as_deref(), Some("Emotet"));
    assert_eq!(
        m[0].indicator.first_seen.as_deref(),
        Some("2021-01-21 09:52:40")
    );
    let observed = unix_from_utc("2021-01-24 12:00:00").expect("time");
    let age = m[0].age_at(observed);
    assert_eq!(age.first_seen_days_before, Some(3));
    assert_eq!(age.last_seen_days_before, Some(-54));
    let m = index.match_ip(ip("12.175.220.98"), None);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].basis, MatchBasis::IpAnyPort);
    let m = index.match_ip(ip("12.175.220.98"), Some(8080));
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].basis, MatchBasis::IpOtherPort);
    // One IP listed for Emotet on two ports: the exact port first.
    let m = index.match_ip(ip("122.116.104.238"), Some(8080));
    let got: Vec<_> = m
        .iter()
        .map(|m| (m.basis, m.indicator.ioc.to_string()))
        .collect();
    assert_eq!(
        got,
        [
            (MatchBasis::IpPort, "122.116.104.238:8080".to_string()),
            (MatchBasis::IpOtherPort, "122.116.104.238:8443".to_string()),
        ]
    );
    // The same IP:port listed for two families gives two matches.
    let m = index.match_ip(ip("23.160.192.125"), Some(447));
    let fams: Vec<_> = m
        .iter()
        .filter_map(|m| m.indicator.malware.as_deref())
        .collect();
    assert_eq!(fams, ["Dridex", "TrickBot"]);
    // The Unit 42 C2s are not in this file.
    assert!(index.match_ip(ip("5.2.136.90"), Some(80)).is_empty());
    // IPv4-mapped IPv6 is the same address.
    assert_eq!(
        index.match_ip(ip("::ffff:12.175.220.98"), Some(80)).len(),
        1
    );
}

#[test]
fn unit42_list_fixture() {
    let data = std::fs::read(UNIT42_LIST).expect("fixture");
    assert_eq!(detect_kind(&data), Some(FeedKind::PlainList));
    let opts = ParseOptions {
        feed: Some("unit42".to_string()),
        ..ParseOptions::default()
    };
    let s = parse_feed(&data, &opts).expect("parses");
    assert_eq!(s.indicators.len(), 3);
    assert!(s.problems.is_empty());
    let index = IntelIndex::from_snapshots([s]);
    for (a, p) in [
        ("5.2.136.90", 80),
        ("167.71.4.0", 8080),
        ("46.101.230.194", 443),
    ] {
        let m = index.match_ip(ip(a), Some(p));
        assert_eq!(m.len(), 1, "{a}");
        assert_eq!(m[0].basis, MatchBasis::IpPort);
        assert_eq!(m[0].feed(), "unit42");
    }
}

// ---- per-format fixtures ----

#[test]
fn feodo_txt_with_banner() {
    assert_eq!(detect_kind(FEODO_TXT.as_bytes()), Some(FeedKind::FeodoTxt));
    for text in [FEODO_TXT.to_string(), crlf_no_final_newline(FEODO_TXT)] {
        let s = parse(&text, None);
        assert_eq!(s.kind, FeedKind::FeodoTxt);
        assert_eq!(s.fetched_or_updated.as_deref(), Some("2021-03-19 16:08:14"));
        let got: Vec<_> = s.indicators.iter().map(|i| i.ioc.to_string()).collect();
        assert_eq!(got, ["192.0.2.10", "198.51.100.7", "203.0.113.5"]);
        assert_eq!(s.stats.rows, 4);
        assert_eq!(s.stats.duplicates, 1);
        assert_eq!(s.stats.bad_lines, 1);
        assert_eq!(s.stats.skipped_lines, 0);
        assert_eq!(s.stats.declared_entries, Some(5));
        assert_eq!(bad_lines(&s), [14]);
        // The footer agrees with the rows: no mismatch problem.
        assert_eq!(s.problems.len(), 1);
        // The duplicate on line 12 is the latest row (no dates: the later line wins).
        assert_eq!(s.indicators[0].line, 12);
    }
}

#[test]
fn feodo_txt_footer_mismatch_is_reported() {
    let cut = FEODO_TXT.replace("# END 5 entries", "# END 9 entries");
    let s = parse(&cut, None);
    assert!(s.problems.iter().any(|p| p.place == Place::Feed
        && p.kind
            == ProblemKind::DeclaredCountMismatch {
                declared: 9,
                found: 5
            }));
}

#[test]
fn feodo_csv_with_banner_footer_repeated_header() {
    assert_eq!(detect_kind(FEODO_CSV.as_bytes()), Some(FeedKind::FeodoCsv));
    for text in [FEODO_CSV.to_string(), crlf_no_final_newline(FEODO_CSV)] {
        let s = parse(&text, None);
        assert_eq!(s.kind, FeedKind::FeodoCsv);
        assert_eq!(s.fetched_or_updated.as_deref(), Some("2021-03-19 16:08:14"));
        assert_eq!(s.stats.skipped_lines, 1, "repeated header");
        assert_eq!(s.stats.rows, 5);
        assert_eq!(s.stats.duplicates, 1);
        assert_eq!(s.stats.bad_lines, 1);
        assert_eq!(s.stats.ignored_fields, 2);
        assert_eq!(s.stats.declared_entries, Some(6));
        assert!(
            !s.problems
                .iter()
                .any(|p| matches!(p.kind, ProblemKind::DeclaredCountMismatch { .. }))
        );
        assert_eq!(bad_lines(&s), [15]);
        let got: Vec<_> = s.indicators.iter().map(|i| i.ioc.to_string()).collect();
        assert_eq!(
            got,
            [
                "192.0.2.20:8080",
                "198.51.100.30:443",
                "[2001:db8::5]:7080",
                "192.0.2.22:443"
            ]
        );
        // Duplicate merged: earliest first_seen, latest last_seen.
        let e = &s.indicators[0];
        assert_eq!(e.first_seen.as_deref(), Some("2021-01-21 18:20:04"));
        assert_eq!(e.last_seen.as_deref(), Some("2021-03-19"));
        assert_eq!(e.line, 10, "the older row has the later last_online");
        assert_eq!(e.threat_type.as_deref(), Some("botnet_cc"));
        assert_eq!(s.indicators[1].status, Some(Status::Offline));
        // Bad status and date ignored, row kept.
        let d = &s.indicators[3];
        assert_eq!(d.malware.as_deref(), Some("Dridex"));
        assert_eq!(d.status, None);
        assert_eq!(d.last_seen, None);
        assert_eq!(d.first_seen.as_deref(), Some("2021-01-23"));
    }
}

#[test]
fn feodo_csv_old_layout_and_no_header() {
    let old = "\
# Last updated: 2019-03-05 22:10:24 UTC
#
# Firstseen,DstIP,DstPort,Malware
2019-03-04 22:10:24,192.0.2.90,990,Heodo
";
    let s = parse(old, None);
    assert_eq!(s.kind, FeedKind::FeodoCsv);
    assert_eq!(s.indicators.len(), 1);
    assert_eq!(s.indicators[0].ioc.to_string(), "192.0.2.90:990");
    assert_eq!(s.indicators[0].malware.as_deref(), Some("Heodo"));
    assert_eq!(s.fetched_or_updated.as_deref(), Some("2019-03-05 22:10:24"));
    let headless =
        "\"2021-01-21 18:20:04\",\"192.0.2.91\",\"80\",\"online\",\"2021-03-19\",\"Emotet\"";
    let s = parse(headless, None);
    assert_eq!(s.kind, FeedKind::FeodoCsv);
    assert_eq!(s.indicators[0].malware.as_deref(), Some("Emotet"));
    assert_eq!(s.indicators[0].status, Some(Status::Online));
}

#[test]
fn feodo_json_entries() {
    assert_eq!(
        detect_kind(FEODO_JSON.as_bytes()),
        Some(FeedKind::FeodoJson)
    );
    let s = parse(FEODO_JSON, None);
    assert_eq!(s.kind, FeedKind::FeodoJson);
    assert_eq!(s.fetched_or_updated, None);
    assert_eq!(s.stats.lines, 6);
    assert_eq!(s.stats.rows, 3);
    assert_eq!(s.stats.bad_lines, 3);
    assert_eq!(bad_lines(&s), [3, 4, 6]);
    assert!(matches!(s.problems[0].kind, ProblemKind::NotAnObject));
    let a = &s.indicators[0];
    assert_eq!(a.ioc.to_string(), "192.0.2.40:8080");
    assert_eq!(a.hostname.as_deref(), Some("c2.example.net"));
    assert_eq!(a.asn, Some(64496));
    assert_eq!(a.country.as_deref(), Some("DE"));
    assert_eq!(a.last_seen.as_deref(), Some("2021-03-19"));
    let b = &s.indicators[1];
    assert_eq!(b.hostname, None, "null hostname");
    assert_eq!(b.first_seen, None, "missing first_seen");
    assert_eq!(b.status, Some(Status::Offline));
    assert_eq!(b.as_name.as_deref(), Some("OTHER-AS"));
    let c = &s.indicators[2];
    assert_eq!(c.ioc.to_string(), "[2001:db8::7]:443");
    assert_eq!(c.malware.as_deref(), Some("QakBot"));
}

#[test]
fn feodo_json_errors_are_fatal_with_position() {
    let opts = ParseOptions::default();
    let e = parse_feed(b"[\n  {\"ip_address\": \"192.0.2.1\",\n  oops\n]", &opts).unwrap_err();
    assert!(matches!(e, IntelError::Json { line: 3, .. }), "{e}");
    let obj = ParseOptions {
        kind: Some(FeedKind::FeodoJson),
        ..ParseOptions::default()
    };
    let e = parse_feed(b"{\"a\": 1}", &obj).unwrap_err();
    assert!(matches!(e, IntelError::Json { line: 1, .. }), "{e}");
    let e = parse_feed(b"[] trailing", &obj).unwrap_err();
    assert!(matches!(e, IntelError::Json { .. }), "{e}");
    // An empty array is a valid, empty feed.
    let s = parse_feed(b"[]", &obj).expect("empty");
    assert!(s.indicators.is_empty());
}

#[test]
fn urlhaus_csv() {
    assert_eq!(
        detect_kind(URLHAUS_CSV.as_bytes()),
        Some(FeedKind::UrlhausCsv)
    );
    for text in [URLHAUS_CSV.to_string(), crlf_no_final_newline(URLHAUS_CSV)] {
        let s = parse(&text, None);
        assert_eq!(s.kind, FeedKind::UrlhausCsv);
        assert_eq!(s.feed, "urlhaus");
        assert_eq!(s.fetched_or_updated.as_deref(), Some("2021-01-06 12:00:00"));
        assert_eq!(s.stats.rows, 4);
        assert_eq!(bad_lines(&s), [13]);
        let urls: Vec<_> = s.indicators.iter().map(|i| i.ioc.to_string()).collect();
        assert_eq!(
            urls,
            [
                "http://shop.example.com/wp-content/Sgms/",
                "http://files.example.org/a/b.exe?x=1",
                "http://192.0.2.50:8080/bins/x.sh",
                "http://[2001:db8::9]:8443/p",
            ]
        );
        let first = &s.indicators[0];
        assert_eq!(first.malware.as_deref(), Some("Emotet"), "from the tags");
        assert_eq!(first.tags, ["doc", "emotet", "epoch2", "heodo"]);
        assert_eq!(first.threat_type.as_deref(), Some("malware_download"));
        assert_eq!(
            first.reference.as_deref(),
            Some("https://urlhaus.abuse.ch/url/1000001/")
        );
        assert_eq!(s.indicators[1].status, Some(Status::Offline));
        assert_eq!(s.indicators[1].last_seen, None);
        let index = IntelIndex::from_snapshots([s]);
        let m = index.match_url("HTTP://SHOP.example.com:80/wp-content/Sgms/#x");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].basis, MatchBasis::Url);
        assert!(
            index
                .match_url("http://shop.example.com/wp-content/sgms/")
                .is_empty()
        );
        let m = index.match_domain("shop.example.com.");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].basis, MatchBasis::UrlHost);
        assert!(index.match_domain("x.shop.example.com").is_empty());
        let m = index.match_ip(ip("192.0.2.50"), Some(8080));
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].basis, MatchBasis::UrlHost);
        assert_eq!(index.match_domain("[2001:db8::9]:8443").len(), 1);
    }
}

#[test]
fn urlhaus_tld_variant() {
    assert_eq!(
        detect_kind(URLHAUS_TLD.as_bytes()),
        Some(FeedKind::UrlhausTldCsv)
    );
    let s = parse(URLHAUS_TLD, None);
    assert_eq!(s.kind, FeedKind::UrlhausTldCsv);
    assert_eq!(s.fetched_or_updated.as_deref(), Some("2021-01-06 10:32:07"));
    assert_eq!(s.stats.declared_entries, Some(2));
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    assert_eq!(s.indicators.len(), 2);
    let a = &s.indicators[0];
    assert_eq!(a.ioc.to_string(), "http://shop.example/verif/docs/");
    assert_eq!(a.first_seen.as_deref(), Some("2021-01-05 00:34:42"));
    assert_eq!(a.status, Some(Status::Offline));
    assert_eq!(a.asn, Some(64496));
    assert_eq!(a.country.as_deref(), Some("DE"));
    assert_eq!(s.indicators[1].asn, Some(64497));
}

#[test]
fn urlhaus_hosts_file() {
    assert_eq!(
        detect_kind(URLHAUS_HOSTS.as_bytes()),
        Some(FeedKind::UrlhausHosts)
    );
    let s = parse(URLHAUS_HOSTS, None);
    assert_eq!(s.kind, FeedKind::UrlhausHosts);
    assert_eq!(s.fetched_or_updated.as_deref(), Some("2021-01-06 11:00:00"));
    let got: Vec<_> = s.indicators.iter().map(|i| i.ioc.to_string()).collect();
    assert_eq!(got, ["evil.example", "bad-host.example", "192.0.2.70"]);
    assert_eq!(s.stats.skipped_lines, 1, "localhost");
    assert_eq!(bad_lines(&s), [7, 8]);
    let index = IntelIndex::from_snapshots([s]);
    let m = index.match_domain("a.b.Evil.Example");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].basis, MatchBasis::ParentDomain);
    assert_eq!(
        index.match_domain("evil.example")[0].basis,
        MatchBasis::Domain
    );
    assert!(index.match_domain("notevil.example").is_empty());
    assert!(index.match_domain("example").is_empty());
    assert_eq!(
        index.match_ip(ip("192.0.2.70"), Some(443))[0].basis,
        MatchBasis::Ip
    );
}

#[test]
fn threatfox_csv_comma_space() {
    assert_eq!(
        detect_kind(THREATFOX_CSV.as_bytes()),
        Some(FeedKind::ThreatfoxCsv)
    );
    let s = parse(THREATFOX_CSV, None);
    assert_eq!(s.kind, FeedKind::ThreatfoxCsv);
    assert_eq!(s.feed, "threatfox");
    assert_eq!(s.fetched_or_updated.as_deref(), Some("2021-01-06 12:30:00"));
    assert_eq!(s.stats.rows, 6);
    assert_eq!(bad_lines(&s), [16, 17]);
    assert!(matches!(
        &s.problems[1].kind,
        ProblemKind::UnsupportedType { ioc_type } if ioc_type == "email"
    ));
    let got: Vec<_> = s.indicators.iter().map(|i| i.ioc.to_string()).collect();
    assert_eq!(
        got,
        [
            "192.0.2.80:7080",
            "c2.evil.example",
            "https://dl.evil.example/payload.dll",
            "d41d8cd98f00b204e9800998ecf8427e",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "[2001:db8::10]:443",
        ]
    );
    let e = &s.indicators[0];
    assert_eq!(e.malware.as_deref(), Some("Emotet"));
    assert_eq!(e.malware_id.as_deref(), Some("win.emotet"));
    assert_eq!(e.confidence, Some(100));
    assert_eq!(e.threat_type.as_deref(), Some("botnet_cc"));
    assert_eq!(e.last_seen.as_deref(), Some("2021-01-06 08:00:00"));
    assert_eq!(e.tags, ["emotet", "epoch3"]);
    assert_eq!(e.reference, None, "\"None\" is absent");
    assert_eq!(s.indicators[1].tags, Vec::<String>::new());
    assert_eq!(
        s.indicators[1].reference.as_deref(),
        Some("https://example.org/report")
    );
    assert_eq!(s.indicators[4].confidence, None, "101 is out of range");
    assert_eq!(s.stats.ignored_fields, 1);
    let index = IntelIndex::from_snapshots([s]);
    assert_eq!(
        index.match_domain("x.c2.evil.example")[0].basis,
        MatchBasis::ParentDomain
    );
    assert_eq!(
        index.match_domain("dl.evil.example")[0].basis,
        MatchBasis::UrlHost
    );
    assert_eq!(
        index.match_url("https://dl.evil.example/payload.dll").len(),
        1
    );
    assert_eq!(
        index.match_hash("D41D8CD98F00B204E9800998ECF8427E").len(),
        1
    );
    assert_eq!(
        index.match_ip(ip("2001:db8::10"), Some(443))[0]
            .indicator
            .malware
            .as_deref(),
        Some("QakBot")
    );
}

#[test]
fn threatfox_zip_helper() {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file("readme.txt", opts).expect("entry");
        z.write_all(b"not this one").expect("write");
        z.start_file("full.csv", opts).expect("entry");
        z.write_all(THREATFOX_CSV.as_bytes()).expect("write");
        z.finish().expect("finish");
    }
    let bytes = buf.into_inner();
    let csv = csv_from_zip(&bytes, MAX_ZIP_MEMBER_BYTES).expect("csv");
    assert_eq!(csv, THREATFOX_CSV.as_bytes());
    let e = csv_from_zip(&bytes, 100).unwrap_err();
    assert!(matches!(e, IntelError::ZipTooLarge { cap: 100, .. }), "{e}");
    assert!(matches!(
        csv_from_zip(b"PK\x03\x04 nope", 100),
        Err(IntelError::Zip(_))
    ));
}

#[test]
fn defanged_and_ipv6_list() {
    assert_eq!(
        detect_kind(DEFANGED_LIST.as_bytes()),
        Some(FeedKind::PlainList)
    );
    let s = parse(DEFANGED_LIST, None);
    let got: Vec<_> = s.indicators.iter().map(|i| i.ioc.to_string()).collect();
    assert_eq!(
        got,
        [
            "5.2.136.90:80",
            "167.71.4.0:8080",
            "http://seo.udaipurkart.com/rx-5700-6hnr7/Sgms/",
            "[2001:db8::20]:8080",
            "2001:db8::21",
            "evil.example",
        ]
    );
    assert_eq!(bad_lines(&s), [8]);
}

#[test]
fn normalisation_helpers() {
    assert_eq!(parse_ip_port("1.2.3.4"), Some((ip("1.2.3.4"), None)));
    assert_eq!(
        parse_ip_port(" 1.2.3[.]4:443 "),
        Some((ip("1.2.3.4"), Some(443)))
    );
    assert_eq!(
        parse_ip_port("[2001:db8::1]:443"),
        Some((ip("2001:db8::1"), Some(443)))
    );
    assert_eq!(
        parse_ip_port("[2001:db8::1]"),
        Some((ip("2001:db8::1"), None))
    );
    assert_eq!(parse_ip_port("::ffff:1.2.3.4"), Some((ip("1.2.3.4"), None)));
    for bad in [
        "1.2.3.4:",
        "1.2.3.4:+80",
        "1.2.3.4:65536",
        "[2001:db8::1",
        "2001:db8::1:80x",
        "01.2.3.4",
        "1.2.3",
        "",
        "[]:80",
        "[1.2.3.4]x",
    ] {
        assert_eq!(parse_ip_port(bad), None, "{bad:?}");
    }
    assert_eq!(
        normalise_domain("WWW.Example.COM."),
        Some("www.example.com".into())
    );
    assert_eq!(
        normalise_domain("evil[.]example"),
        Some("evil.example".into())
    );
    for bad in [
        "",
        "a..b",
        "a b.c",
        "x/y",
        "1.2.3.4",
        "1.2.3.400",
        "[::1]",
        "a:80",
        ".",
    ] {
        assert_eq!(normalise_domain(bad), None, "{bad:?}");
    }
    assert_eq!(
        normalise_url("hXXps://User:pw@Evil[.]Example:443?q#f"),
        Some(("https://evil.example/?q".into(), "evil.example".into()))
    );
    assert_eq!(
        normalise_url("evil.example/a"),
        Some(("http://evil.example/a".into(), "evil.example".into()))
    );
    assert_eq!(
        normalise_url("http://[::ffff:1.2.3.4]:8080/x"),
        Some(("http://1.2.3.4:8080/x".into(), "1.2.3.4".into()))
    );
    for bad in [
        "",
        "http://",
        "http:///x",
        "ht tp://a/",
        "1http://a/",
        "http://a:99999/",
    ] {
        assert_eq!(normalise_url(bad), None, "{bad:?}");
    }
    assert_eq!(
        normalise_hash("ABCDEF0123456789abcdef0123456789").map(|h| h.0),
        Some(HashAlgo::Md5)
    );
    assert_eq!(normalise_hash("abc"), None);
    assert_eq!(unix_from_utc("2021-01-06 16:41:15"), Some(1_609_951_275));
    assert_eq!(unix_from_utc("2021-01-06T16:41:15Z"), Some(1_609_951_275));
    assert_eq!(
        unix_from_utc("2021-01-06 16:41:15 UTC"),
        Some(1_609_951_275)
    );
    assert_eq!(unix_from_utc("2000-02-29"), Some(951_782_400));
    assert_eq!(unix_from_utc("1970-01-01 00:00:00"), Some(0));
    assert_eq!(unix_from_utc("2021-03-19"), Some(1_616_112_000));
    for bad in [
        "2021-02-29",
        "2021-13-01",
        "2021-1-01",
        "2021-01-01 24:00:00",
        "2021-01-01x",
        "",
    ] {
        assert_eq!(unix_from_utc(bad), None, "{bad:?}");
    }
    assert_eq!(
        text::split_csv("\"a\", \"b,c\" ,d,\"e\"\"f\",", 10),
        Ok(vec![
            "a".into(),
            "b,c".into(),
            "d".into(),
            "e\"f".into(),
            String::new()
        ])
    );
    assert!(text::split_csv("\"a", 10).is_err());
    assert!(text::split_csv("\"a\"b", 10).is_err());
    assert!(text::split_csv("a,b,c", 2).is_err());
    assert_eq!(FeedKind::from_name("feodo-csv"), Some(FeedKind::FeodoCsv));
    assert_eq!(FeedKind::from_name("nope"), None);
    let lines: Vec<_> = text::lines(b"\xEF\xBB\xBFa\r\nb\n\nc").collect();
    let want: [(u64, &[u8]); 4] = [(1, b"a"), (2, b"b"), (3, b""), (4, b"c")];
    assert_eq!(lines, want);
    assert_eq!(text::lines(b"").count(), 0);
    assert_eq!(text::lines(b"x\n").count(), 1);
}

#[test]
fn explicit_kind_and_unknown_format() {
    // The same txt read as a plain list gets a different feed name.
    let s = parse(FEODO_TXT, Some(FeedKind::PlainList));
    assert_eq!(s.feed, "list");
    assert_eq!(s.indicators.len(), 3);
    assert_eq!(bad_lines(&s), [14]);
    // A ThreatFox header given to the Feodo CSV parser is refused with its line.
    let opts = ParseOptions {
        kind: Some(FeedKind::FeodoCsv),
        ..ParseOptions::default()
    };
    let e = parse_feed(THREATFOX_CSV.as_bytes(), &opts).unwrap_err();
    assert!(
        matches!(
            e,
            IntelError::MissingColumn {
                line: 9,
                column: "dst_ip",
                ..
            }
        ),
        "{e}"
    );
    let e = parse_feed(b"hello world\nfoo bar\n", &ParseOptions::default()).unwrap_err();
    assert!(matches!(e, IntelError::UnknownFormat(_)));
    assert!(parse_feed(b"", &ParseOptions::default()).is_err());
    // A banner-only Feodo list (the recommended list can be empty) is an empty snapshot.
    let empty = "# abuse.ch Feodo Tracker Botnet C2 IP Blocklist\n# Last updated: 2026-02-01 00:00:00 UTC\n# END 0 entries\n";
    let s = parse(empty, None);
    assert_eq!(s.kind, FeedKind::FeodoTxt);
    assert!(s.indicators.is_empty());
    assert!(s.problems.is_empty());
}

#[test]
fn limits_are_enforced() {
    let opts = ParseOptions {
        limits: Limits {
            max_line_len: 60,
            max_entries: 2,
            max_problems: 3,
        },
        ..ParseOptions::default()
    };
    let s = parse_feed(THREATFOX_CSV.as_bytes(), &opts).expect("parses");
    // Every data line is longer than 60 bytes.
    assert!(s.indicators.is_empty());
    assert_eq!(s.stats.bad_lines, 8);
    assert_eq!(s.problems.len(), 3);
    assert!(matches!(
        s.problems[0].kind,
        ProblemKind::LineTooLong { .. }
    ));
    let opts = ParseOptions {
        limits: Limits {
            max_line_len: MAX_LINE_LEN,
            max_entries: 2,
            max_problems: 3,
        },
        ..ParseOptions::default()
    };
    let s = parse_feed(FEODO_CSV.as_bytes(), &opts).expect("parses");
    assert_eq!(s.indicators.len(), 2);
    assert!(s.stats.truncated);
    assert_eq!(s.stats.dropped, 2);
    assert!(s.problems.len() <= 3);
    assert!(
        s.problems
            .iter()
            .any(|p| p.kind == ProblemKind::TooManyEntries { cap: 2 })
    );
    let many: String = (0..5000)
        .map(|i| format!("10.0.{}.{}\n", i / 256, i % 256))
        .collect();
    let opts = ParseOptions {
        kind: Some(FeedKind::PlainList),
        limits: Limits {
            max_entries: 1000,
            ..Limits::default()
        },
        ..ParseOptions::default()
    };
    let s = parse_feed(many.as_bytes(), &opts).expect("parses");
    assert_eq!(s.indicators.len(), 1000);
    assert_eq!(s.stats.dropped, 4000);
}

#[test]
fn not_utf8_and_long_lines_are_reported() {
    let mut data = b"# list\n192.0.2.1\n\xff\xfe\n".to_vec();
    data.extend(std::iter::repeat_n(b'a', MAX_LINE_LEN + 1));
    data.extend(b"\n192.0.2.2");
    let s = parse_feed(&data, &ParseOptions::default()).expect("parses");
    assert_eq!(s.indicators.len(), 2);
    assert_eq!(bad_lines(&s), [3, 4]);
    assert!(matches!(s.problems[0].kind, ProblemKind::NotUtf8));
    assert!(matches!(
        s.problems[1].kind,
        ProblemKind::LineTooLong { .. }
    ));
    assert!(s.problems[1].excerpt.len() <= 80);
}

#[test]
fn snapshot_round_trip() {
    let mut all = Vec::new();
    for (text, _) in fixtures() {
        let s = parse_feed(text.as_bytes(), &ParseOptions::default()).expect("parses");
        let bytes = s.to_jsonl();
        let back = Snapshot::read_jsonl(&bytes, &Limits::default()).expect("reads");
        assert_eq!(back, s);
        all.push(back);
    }
    // The header line and one line per indicator.
    let s = &all[1];
    let bytes = s.to_jsonl();
    let text = String::from_utf8(bytes.clone()).expect("utf8");
    assert_eq!(text.lines().count(), 1 + s.indicators.len());
    assert!(
        text.starts_with("{\"kensa_intel_snapshot\":1,\"feed\":\"feodo\",\"kind\":\"feodo_csv\"")
    );
    assert!(text.contains(
        "{\"type\":\"ip_port\",\"ip\":\"192.0.2.20\",\"port\":8080,\"feed\":\"feodo\",\"malware\":\"Emotet\""
    ));
    // A wrong count, a bad line and a wrong version are errors with line numbers.
    let mut short = text.lines().take(2).collect::<Vec<_>>().join("\n");
    let e = Snapshot::read_jsonl(short.as_bytes(), &Limits::default()).unwrap_err();
    assert!(matches!(e, IntelError::Snapshot { .. }), "{e}");
    short.push_str("\n{\"type\":\"ip\"}\n");
    let e = Snapshot::read_jsonl(short.as_bytes(), &Limits::default()).unwrap_err();
    assert!(matches!(e, IntelError::Snapshot { line: 3, .. }), "{e}");
    let v2 = text.replacen(
        "\"kensa_intel_snapshot\":1",
        "\"kensa_intel_snapshot\":2",
        1,
    );
    let e = Snapshot::read_jsonl(v2.as_bytes(), &Limits::default()).unwrap_err();
    assert!(matches!(e, IntelError::Snapshot { line: 1, .. }), "{e}");
    let small = Limits {
        max_entries: 1,
        ..Limits::default()
    };
    assert!(Snapshot::read_jsonl(&bytes, &small).is_err());
    assert!(Snapshot::read_jsonl(b"", &Limits::default()).is_err());
    // A loaded snapshot matches like a parsed one.
    let index = IntelIndex::from_snapshots(all);
    assert_eq!(index.feeds().len(), fixtures().len());
    // FEODO_CSV is there twice (LF and CRLF copies).
    assert_eq!(index.match_ip(ip("192.0.2.20"), Some(8080)).len(), 2);
}

#[test]
fn index_across_feeds_and_ages() {
    let a = parse(FEODO_CSV, None);
    let b = parse(THREATFOX_CSV, None);
    let c = parse(DEFANGED_LIST, None);
    let index = IntelIndex::from_snapshots([a, b, c]);
    let m = index.match_ip(ip("5.2.136.90"), Some(80));
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].feed(), "list");
    let age = m[0].age_at(0);
    assert_eq!(age.first_seen_days_before, None);
    let m = index.match_ip(ip("192.0.2.20"), Some(8080));
    let age = m[0].age_at(unix_from_utc("2021-01-21 23:59:59").expect("t"));
    assert_eq!(age.first_seen_days_before, Some(0));
    assert_eq!(age.first_seen_secs_before, Some(20_395));
    let age = m[0].age_at(unix_from_utc("2021-01-20 00:00:00").expect("t"));
    assert_eq!(
        age.first_seen_days_before,
        Some(-1),
        "listed after the capture"
    );
    assert!(index.match_domain("").is_empty());
    assert!(index.match_url("::::").is_empty());
    assert!(index.match_hash("").is_empty());
}

// ---- mutation robustness ----

fn fixtures() -> Vec<(String, &'static str)> {
    vec![
        (FEODO_TXT.to_string(), "feodo_txt"),
        (FEODO_CSV.to_string(), "feodo_csv"),
        (crlf_no_final_newline(FEODO_CSV), "feodo_csv_crlf"),
        (FEODO_JSON.to_string(), "feodo_json"),
        (URLHAUS_CSV.to_string(), "urlhaus_csv"),
        (URLHAUS_TLD.to_string(), "urlhaus_tld"),
        (URLHAUS_HOSTS.to_string(), "urlhaus_hosts"),
        (THREATFOX_CSV.to_string(), "threatfox"),
        (DEFANGED_LIST.to_string(), "defanged"),
    ]
}

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
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(rng: &mut XorShift, base: &[u8]) -> Vec<u8> {
    const INTERESTING: &[u8] = b"\n\r\",# :[].{}()0123456789abcdefhx\t\xff\x00\xc3";
    let mut d = base.to_vec();
    for _ in 0..=rng.below(4) {
        let len = d.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                d[i] = rng.next() as u8;
            }
            1 => {
                let i = rng.below(len + 1);
                d.insert(i, INTERESTING[rng.below(INTERESTING.len())]);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below(len - i + 1).min(64);
                d.drain(i..i + n);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below(len - i + 1).min(256);
                let chunk = d[i..i + n].to_vec();
                let at = rng.below(d.len() + 1);
                d.splice(at..at, chunk);
            }
            4 => d.truncate(rng.below(len + 1)),
            5 if len > 0 => {
                let i = rng.below(len);
                d[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            _ => {
                let i = rng.below(len + 1);
                d.splice(i..i, std::iter::repeat_n(b'9', rng.below(40)));
            }
        }
    }
    d
}

fn exercise(data: &[u8]) {
    let limits = Limits {
        max_line_len: 4096,
        max_entries: 50,
        max_problems: 5,
    };
    let mut kinds: Vec<Option<FeedKind>> = vec![None];
    kinds.extend(FeedKind::ALL.into_iter().map(Some));
    let _ = detect_kind(data);
    for kind in kinds {
        let opts = ParseOptions {
            kind,
            feed: None,
            limits,
        };
        let Ok(s) = parse_feed(data, &opts) else {
            continue;
        };
        assert!(s.indicators.len() <= limits.max_entries);
        assert!(s.problems.len() <= limits.max_problems);
        assert!(s.stats.rows >= s.indicators.len() as u64);
        let bytes = s.to_jsonl();
        let back = Snapshot::read_jsonl(&bytes, &limits).expect("own output reads back");
        assert_eq!(back, s);
        let index = IntelIndex::from_snapshots([s]);
        for ind in back.indicators.iter().take(5) {
            let hits = match &ind.ioc {
                Ioc::Ip { ip } => index.match_ip(*ip, None),
                Ioc::IpPort { ip, port } => index.match_ip(*ip, Some(*port)),
                Ioc::Domain { domain } => index.match_domain(domain),
                Ioc::Url { url, .. } => index.match_url(url),
                Ioc::Hash { hash, .. } => index.match_hash(hash),
            };
            assert!(!hits.is_empty(), "indexed value must match itself: {ind:?}");
            let _ = hits[0].age_at(1_609_951_275);
        }
    }
}

#[test]
fn mutation_robustness() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for (text, name) in fixtures() {
        exercise(text.as_bytes());
        for round in 0..250 {
            let m = mutate(&mut rng, text.as_bytes());
            let r = std::panic::catch_unwind(|| exercise(&m));
            assert!(
                r.is_ok(),
                "{name} mutant {round} panicked: {:?}",
                String::from_utf8_lossy(&m)
            );
        }
    }
    // Mutations of the real file's first lines too.
    let data = std::fs::read(FEODO_CORPUS).expect("corpus file");
    let head = &data[..data.len().min(3000)];
    for round in 0..200 {
        let m = mutate(&mut rng, head);
        let r = std::panic::catch_unwind(|| exercise(&m));
        assert!(r.is_ok(), "corpus mutant {round} panicked");
    }
    // Zip bytes: random garbage and a cut archive never panic.
    for round in 0..200 {
        let len = rng.below(300);
        let mut z: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if round % 2 == 0 {
            z.splice(0..0, b"PK\x03\x04".iter().copied());
        }
        let _ = csv_from_zip(&z, 1 << 20);
    }
}
