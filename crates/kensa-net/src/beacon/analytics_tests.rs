//! Tests of the §2 analytics: bucketed scores, impacts, modifiers, final score, severities,
//! registrable domains and C2-over-DNS counting, plus a robustness run over hostile names.

use super::analytics::*;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[track_caller]
fn assert_close(actual: f64, expected: f64, tol: f64) {
    assert!(
        close(actual, expected, tol),
        "expected {expected} ± {tol}, got {actual}"
    );
}

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

#[test]
fn bucket_boundaries() {
    let b = |v| BEACON_THRESHOLDS.score(v);
    assert_eq!(b(49.999), 0.0);
    assert_close(b(50.0), 0.2, 1e-12);
    assert_close(b(60.0), 0.3, 1e-12);
    assert_close(b(70.0), 0.4, 1e-12);
    assert_close(b(80.0), 0.5, 1e-12);
    assert_close(b(90.0), 0.6, 1e-12);
    assert_close(b(95.0), 0.7, 1e-12);
    assert_close(b(100.0), 0.8, 1e-12);
    assert_close(b(1e9), 0.8, 1e-12);
    assert_eq!(b(f64::NAN), 0.0);
    assert_eq!(b(f64::NEG_INFINITY), 0.0);
    assert_close(b(f64::INFINITY), 0.8, 1e-12);
    assert_close(beacon_threat_score(0.989), 0.778, 1e-9);

    assert_eq!(long_connection_score(3599.9), 0.0);
    assert_close(long_connection_score(3600.0), 0.2, 1e-12);
    assert_close(long_connection_score(14_400.0), 0.4, 1e-12);
    assert_close(long_connection_score(28_800.0), 0.6, 1e-12);
    assert_close(long_connection_score(43_200.0), 0.8, 1e-12);
    assert_close(long_connection_score(86_400.0), 0.8, 1e-12);

    assert_eq!(c2_over_dns_score(99), 0.0);
    assert_close(c2_over_dns_score(100), 0.2, 1e-12);
    assert_close(c2_over_dns_score(150), 0.225, 1e-12);
    assert_close(c2_over_dns_score(500), 0.4, 1e-12);
    assert_close(c2_over_dns_score(800), 0.6, 1e-12);
    assert_close(c2_over_dns_score(1000), 0.8, 1e-12);
    assert_close(c2_over_dns_score(u64::MAX), 0.8, 1e-12);

    // Degenerate thresholds never divide by zero.
    assert_eq!(bucket(5.0, 1.0, 1.0, 1.0, 1.0), 0.8);
    assert_eq!(bucket(1.0, 1.0, 1.0, 2.0, 2.0), 0.4);
    assert_eq!(bucket(0.5, 1.0, 1.0, 1.0, 1.0), 0.0);
    assert_eq!(bucket(5.0, f64::NAN, 1.0, 1.0, 1.0), 0.8);
}

#[test]
fn fixed_impacts_modifiers_and_final_score() {
    assert_eq!((STROBE_IMPACT, THREAT_INTEL_IMPACT), (0.8, 0.8));
    let expected = [0.15, -0.15, 0.15, -0.15, 0.10, 0.15, 0.15, 0.15, 0.15];
    for (m, v) in Modifier::ALL.iter().zip(expected) {
        assert_eq!(m.value(), v, "{m:?}");
    }
    assert_eq!(prevalence_modifier(0.02), Some(Modifier::PrevalenceLow));
    assert_eq!(prevalence_modifier(0.1), None);
    assert_eq!(prevalence_modifier(0.5), Some(Modifier::PrevalenceHigh));
    assert_eq!(prevalence_modifier(f64::NAN), None);
    assert_eq!(first_seen_modifier(7.0), Some(Modifier::FirstSeenRecent));
    assert_eq!(first_seen_modifier(8.0), None);
    assert_eq!(first_seen_modifier(30.0), Some(Modifier::FirstSeenOld));
    assert_eq!(
        threat_intel_data_size_modifier(true, 25_000_000),
        Some(Modifier::ThreatIntelDataSize)
    );
    assert_eq!(threat_intel_data_size_modifier(true, 24_999_999), None);
    assert_eq!(threat_intel_data_size_modifier(false, u64::MAX), None);

    let ind = Indicators {
        beacon: beacon_threat_score(0.9),
        long_connection: long_connection_score(14_400.0),
        ..Indicators::default()
    };
    assert_close(ind.base_score(), 0.6, 1e-12);
    assert!(ind.any());
    assert!(!Indicators::default().any());
    let f = final_score(
        &ind,
        &[Modifier::PrevalenceLow, Modifier::MissingHostHeader],
    );
    assert_close(f, 0.85, 1e-12);
    assert_eq!(RitaSeverity::from_score(f), RitaSeverity::Critical);
    let strobe = Indicators {
        strobe: STROBE_IMPACT,
        ..Indicators::default()
    };
    assert_eq!(
        RitaSeverity::from_score(final_score(&strobe, &[])),
        RitaSeverity::High
    );
    let f = final_score(&strobe, &[Modifier::FirstSeenOld, Modifier::PrevalenceHigh]);
    assert_close(f, 0.5, 1e-12);
    assert_eq!(RitaSeverity::from_score(f), RitaSeverity::Medium);
    let nan = Indicators {
        beacon: f64::NAN,
        threat_intel: THREAT_INTEL_IMPACT,
        ..Indicators::default()
    };
    assert_eq!(nan.base_score(), 0.8);
}

#[test]
fn severity_boundaries() {
    use RitaSeverity::*;
    let cases = [
        (1.3, Critical),
        (0.8001, Critical),
        (0.8, High),
        (0.65 + 0.15, High), // 0.8000000000000002 in f64
        (0.7, High),
        (0.6, High),
        (0.5999, Medium),
        (0.4, Medium),
        (0.3999, Low),
        (0.2, Low),
        (0.1999, None),
        (0.0, None),
        (-0.3, None),
        (f64::NAN, None),
    ];
    for (s, want) in cases {
        assert_eq!(RitaSeverity::from_score(s), want, "{s}");
    }
    assert_eq!(Critical.as_str(), "critical");
    assert!(Critical > High && Low > None);
}

#[test]
fn registrable_domains() {
    assert_eq!(
        registrable_domain("a.b.example.com").as_deref(),
        Some("example.com")
    );
    assert_eq!(
        registrable_domain("x.example.co.jp").as_deref(),
        Some("example.co.jp")
    );
    assert_eq!(
        registrable_domain("www.city.lg.jp").as_deref(),
        Some("city.lg.jp")
    );
    assert_eq!(
        registrable_domain("a.example.com.au").as_deref(),
        Some("example.com.au")
    );
    assert_eq!(
        registrable_domain("WWW.Example.COM.").as_deref(),
        Some("example.com")
    );
    assert_eq!(
        registrable_domain("example.com").as_deref(),
        Some("example.com")
    );
    assert_eq!(registrable_domain("co.jp").as_deref(), Some("co.jp"));
    assert_eq!(registrable_domain("a.co.com").as_deref(), Some("co.com"));
    assert_eq!(
        registrable_domain("x.example.co").as_deref(),
        Some("example.co")
    );
    assert_eq!(
        classify_domain("1.0.0.10.in-addr.arpa"),
        Err(DomainSkip::Excluded)
    );
    assert_eq!(classify_domain("printer.local."), Err(DomainSkip::Excluded));
    for bad in [
        "",
        ".",
        "localhost",
        "1.2.3.4",
        "a..b.com",
        "a b.com",
        "x\u{0}.com",
        &"a.".repeat(130),
    ] {
        assert_eq!(classify_domain(bad), Err(DomainSkip::Invalid), "{bad:?}");
    }
    assert_eq!(
        classify_domain(&format!("{}.com", "a".repeat(64))),
        Err(DomainSkip::Invalid)
    );
}

#[test]
fn c2_over_dns_counts_unique_fqdns() {
    let mut names: Vec<String> = (0..150)
        .map(|i| format!("q{i:03}.t.evil-tunnel.com"))
        .collect();
    names.extend((0..150).map(|i| format!("Q{i:03}.T.EVIL-TUNNEL.COM.")));
    names.push("evil-tunnel.com".into());
    names.extend(
        [
            "www.example.co.jp",
            "mail.example.co.jp",
            "4.3.2.1.in-addr.arpa",
            "wpad",
            "nas.local",
        ]
        .map(String::from),
    );
    let c = unique_fqdns_per_domain(names.iter().map(String::as_str));
    assert_eq!(c.unique_fqdns("evil-tunnel.com"), 151);
    assert_eq!(c.unique_fqdns("example.co.jp"), 2);
    assert_eq!((c.excluded, c.invalid, c.dropped), (2, 1, 0));
    let s = c.suspects();
    assert_eq!(s.len(), 1);
    assert_eq!(
        s.first().map(|d| d.domain.as_str()),
        Some("evil-tunnel.com")
    );
    assert_close(
        s.first().map_or(0.0, DomainFqdnCount::score),
        0.2 + 51.0 / 400.0 * 0.2,
        1e-12,
    );
    assert_eq!(c.counts().len(), 2);

    let mut capped = DnsC2Counter::new(10);
    for i in 0..20 {
        capped.add(&format!("h{i}.example.net"));
        capped.add(&format!("h{i}.example.net")); // a repeat of a stored name is not dropped
    }
    assert_eq!(capped.unique_fqdns("example.net"), 10);
    // Names 10..19 were not stored; each of their two occurrences is counted.
    assert_eq!(capped.dropped, 20);
    assert!(capped.overflowed());
}

#[test]
fn domain_mutation_robustness_never_panics() {
    let mut x = 0xD1B5_4A32_D192_ED03u64;
    let seeds = [
        "a.b.example.com",
        "x.example.co.jp",
        "1.0.0.10.in-addr.arpa",
        "q.t.evil.com.",
    ];
    let mut counter = DnsC2Counter::new(1000);
    let mut classified = 0;
    for _ in 0..5000 {
        // Random strings over a DNS-ish alphabet with hostile bytes...
        const ALPHABET: &[u8] = b"ab.-0\x00 \xff.Z";
        let raw: Vec<u8> = (0..(xorshift(&mut x) % 300))
            .map(|_| ALPHABET[(xorshift(&mut x) % ALPHABET.len() as u64) as usize])
            .collect();
        let name = String::from_utf8_lossy(&raw).into_owned();
        // ...and seeds with a few bytes overwritten.
        let mut seed = seeds[(xorshift(&mut x) % seeds.len() as u64) as usize]
            .as_bytes()
            .to_vec();
        for _ in 0..(xorshift(&mut x) % 4) {
            let at = (xorshift(&mut x) % seed.len() as u64) as usize;
            seed[at] = xorshift(&mut x) as u8;
        }
        let mutated = String::from_utf8_lossy(&seed).into_owned();
        for n in [&name, &mutated] {
            if let Ok(d) = classify_domain(n) {
                classified += 1;
                assert!(d.len() <= MAX_FQDN_LEN && d.contains('.'), "{n:?} -> {d:?}");
                assert!(!d.ends_with(".arpa") && !d.ends_with(".local"));
            }
            counter.add(n);
        }
    }
    assert!(classified > 100, "{classified}");
    let total: u64 = counter.counts().iter().map(|c| c.unique_fqdns).sum();
    assert!(total <= 1000);
}
