//! Detector tests on synthetic events (the real-Postfix cases are in `tests.rs` and
//! `tests/maillog_postfix.rs`).

use kensa_core::Severity;

use super::*;

/// 2026-11-23 (a Monday) 00:00:00 UTC.
const MON: i64 = 1_795_392_000;

fn ev(t: i64, account: Option<&str>, ip: &str, from: &str, rcpt: &str, qid: &str) -> MailEvent {
    MailEvent {
        time: t,
        last_time: t,
        server: "mx".into(),
        mta: Mta::Postfix,
        queue_id: Some(qid.into()),
        message_id: Some(format!("{qid}@mid")),
        sasl_username: account.map(str::to_string),
        sasl_method: account.map(|_| "PLAIN".to_string()),
        client_ip: Some(ip.parse().unwrap()),
        client_name: None,
        helo: None,
        local_user: None,
        from: Some(from.into()),
        recipient_domain: rcpt.rsplit_once('@').map(|d| d.1.to_ascii_lowercase()),
        recipient: Some(rcpt.into()),
        status: MailStatus::Sent,
        dsn: None,
        relay: Some("mx.example[192.0.2.1]:25".into()),
        deferrals: 0,
        size: Some(1000),
        origin: Origin::Smtp,
        complete: true,
        detail: None,
    }
}

/// `n` one-recipient messages from `account` spread evenly over `span` seconds from `t0`.
fn spread(t0: i64, span: i64, n: usize, account: &str, ip: &str, tag: &str) -> Vec<MailEvent> {
    (0..n)
        .map(|i| {
            let t = t0 + span * i as i64 / n.max(1) as i64;
            ev(
                t,
                Some(account),
                ip,
                &format!("{account}@corp.test"),
                &format!("r{i}@dom{}.example", i % 7),
                &format!("{tag}{t}x{i}"),
            )
        })
        .collect()
}

fn kinds<'a>(f: &'a [MailFinding], who: &str) -> Vec<&'a str> {
    f.iter()
        .filter(|x| x.identity.value == who)
        .map(|x| x.kind)
        .collect()
}

#[test]
fn burst_against_the_floor_without_history() {
    let mut events = spread(MON + 9 * 3600, 180, 40, "alice", "10.1.6.206", "A");
    events.extend(spread(MON + 9 * 3600, 600, 5, "carol", "10.1.6.10", "C"));
    let f = detect(&events, &BurstConfig::default());
    let burst: Vec<&MailFinding> = f.iter().filter(|x| x.kind == "MAIL_BURST").collect();
    assert_eq!(burst.len(), 1, "{f:#?}");
    let b = burst[0];
    assert_eq!(b.identity, Identity::new(IdentityKind::Account, "alice"));
    assert_eq!(b.count, 40);
    assert_eq!(b.window_secs, 300);
    assert_eq!(b.baseline, None);
    assert!(b.evidence.contains("fixed floor only"), "{}", b.evidence);
    assert_eq!(b.recipients, 40);
    assert_eq!(b.messages, 40);
    assert_eq!(b.distinct_domains, 7);
    assert_eq!(b.external_share, Some(1.0), "own domain corp.test inferred");
    assert_eq!(b.top_recipient_domains.len(), 5);
    assert_eq!(b.top_recipient_domains[0], ("dom0.example".to_string(), 6));
    assert_eq!(b.sample_message_ids.len(), 5);
    assert_eq!(b.status_mix.sent, 40);
    assert_eq!(b.severity, Severity::High);
    assert_eq!(b.window_start, MON + 9 * 3600);
    assert!(kinds(&f, "carol").is_empty());
    let g = b.to_finding();
    assert_eq!((g.symbol, g.severity), ("MAIL_BURST", Severity::High));
    assert_eq!(g.location.display(), "account alice");
}

#[test]
fn floors_and_the_hour_window() {
    // 29 in 5 min: nothing.
    let f = detect(
        &spread(MON, 280, 29, "a", "10.0.0.1", "A"),
        &BurstConfig::default(),
    );
    assert!(f.is_empty(), "{f:#?}");
    // 210 over 55 min (≤ 20 in any 5 min): the hour window only.
    let f = detect(
        &spread(MON, 3300, 210, "b", "10.0.0.2", "B"),
        &BurstConfig::default(),
    );
    let b: Vec<(&str, i64, u64)> = f.iter().map(|x| (x.kind, x.window_secs, x.count)).collect();
    assert_eq!(b, [("MAIL_BURST", 3600, 210)]);
}

/// 21 days: `account` sends `n` recipients in 2 minutes at 09:00 on Mondays and 2 a day at noon.
fn history(account: &str, ip: &str, n: usize) -> Vec<MailEvent> {
    let mut out = Vec::new();
    for day in 0..21 {
        let d = MON + day * 86_400;
        out.extend(spread(
            d + 12 * 3600,
            60,
            2,
            account,
            ip,
            &format!("{account}{day}n"),
        ));
        if day % 7 == 0 {
            out.extend(spread(
                d + 9 * 3600,
                120,
                n,
                account,
                ip,
                &format!("{account}{day}m"),
            ));
        }
    }
    out
}

#[test]
fn baseline_of_the_same_hour_of_the_week() {
    // The weekly 40-recipient mailing is its own baseline: no burst.
    let f = detect(&history("news", "10.0.0.3", 40), &BurstConfig::default());
    assert!(kinds(&f, "news").is_empty(), "{f:#?}");
    // Without a baseline (floor only) the same mail is a burst each week.
    let cfg = BurstConfig {
        baseline_min_days: 30.0,
        ..BurstConfig::default()
    };
    let f = detect(&history("news", "10.0.0.3", 40), &cfg);
    assert_eq!(kinds(&f, "news"), ["MAIL_BURST"; 3]);
    // 50 at an hour the account never sends at: a burst with a baseline.
    let mut events = history("dave", "10.0.0.4", 0);
    events.extend(spread(
        MON + 14 * 86_400 + 3 * 3600,
        200,
        50,
        "dave",
        "10.0.0.4",
        "X",
    ));
    let f = detect(&events, &BurstConfig::default());
    let b = f.iter().find(|x| x.kind == "MAIL_BURST").expect("burst");
    let base = b.baseline.as_ref().expect("21 days of history");
    assert_eq!(
        (base.median, base.mad, base.samples),
        (0.0, 0.0, 1),
        "day 7 only"
    );
    assert_eq!(base.z, 50.0);
    assert_eq!(base.hour_of_week, 3, "Monday 03:00");
    assert!(base.history_days > 20.0);
    assert!(b.evidence.contains("z = 50.0"), "{}", b.evidence);
}

#[test]
fn stolen_credentials_many_ips_many_accounts_and_mismatch() {
    let t = MON + 10 * 3600;
    let mut events = vec![
        ev(
            t,
            Some("bob"),
            "10.1.1.1",
            "bob@corp.test",
            "x@a.example",
            "Q1",
        ),
        ev(
            t + 600,
            Some("bob"),
            "198.51.100.7",
            "bob@corp.test",
            "x@a.example",
            "Q2",
        ),
        ev(
            t + 1200,
            Some("Bob"),
            "203.0.113.8",
            "BOB@corp.test",
            "x@a.example",
            "Q3",
        ),
        // Two IPs only: not enough.
        ev(
            t,
            Some("erin"),
            "10.1.1.2",
            "erin@corp.test",
            "x@a.example",
            "Q4",
        ),
        ev(
            t + 60,
            Some("erin"),
            "10.1.1.3",
            "erin@corp.test",
            "x@a.example",
            "Q5",
        ),
        // One PC, three accounts.
        ev(
            t,
            Some("u1"),
            "10.9.9.9",
            "u1@corp.test",
            "x@a.example",
            "Q6",
        ),
        ev(
            t + 5,
            Some("u2"),
            "10.9.9.9",
            "u2@corp.test",
            "x@a.example",
            "Q7",
        ),
        ev(
            t + 9,
            Some("u3@corp.test"),
            "10.9.9.9",
            "ceo@other.example",
            "x@a.example",
            "Q8",
        ),
    ];
    // A fourth IP for bob a day later does not join the first window.
    events.push(ev(
        t + 2 * 86_400,
        Some("bob"),
        "192.0.2.99",
        "bob@corp.test",
        "x@a.example",
        "Q9",
    ));
    let f = detect(&events, &BurstConfig::default());
    let many_ips: Vec<&MailFinding> = f
        .iter()
        .filter(|x| x.kind == "MAIL_ACCOUNT_MANY_IPS")
        .collect();
    assert_eq!(many_ips.len(), 1, "{f:#?}");
    assert_eq!(
        many_ips[0].identity,
        Identity::new(IdentityKind::Account, "bob")
    );
    assert_eq!(many_ips[0].count, 3);
    let mut rel = many_ips[0].related.clone();
    rel.sort();
    assert_eq!(rel, ["10.1.1.1", "198.51.100.7", "203.0.113.8"]);
    let many_acc: Vec<&MailFinding> = f
        .iter()
        .filter(|x| x.kind == "MAIL_IP_MANY_ACCOUNTS")
        .collect();
    assert_eq!(many_acc.len(), 1);
    assert_eq!(
        many_acc[0].identity,
        Identity::new(IdentityKind::ClientIp, "10.9.9.9")
    );
    assert_eq!(many_acc[0].count, 3);
    let mm: Vec<&MailFinding> = f
        .iter()
        .filter(|x| x.kind == "MAIL_SENDER_MISMATCH")
        .collect();
    assert_eq!(
        mm.len(),
        1,
        "case-insensitive matches are not mismatches: {mm:#?}"
    );
    assert_eq!(mm[0].identity.value, "u3@corp.test");
    assert_eq!(mm[0].related, ["ceo@other.example"]);
    assert_eq!(mm[0].severity, Severity::Low);
    assert!(kinds(&f, "erin").is_empty());
}

#[test]
fn reject_ratio_and_many_senders() {
    let t = MON + 8 * 3600;
    let mut events = Vec::new();
    for i in 0..25 {
        let mut e = ev(
            t + i * 60,
            None,
            "198.51.100.50",
            &format!("s{i}@spam{i}.example"),
            &format!("u{i}@corp.test"),
            &format!("R{i}"),
        );
        if i % 5 != 0 {
            e.status = MailStatus::Rejected;
        }
        events.push(e);
        let mut ok = ev(
            t + i * 60,
            None,
            "198.51.100.51",
            "news@list.example",
            &format!("u{i}@corp.test"),
            &format!("S{i}"),
        );
        if i % 5 == 0 {
            ok.status = MailStatus::Bounced;
        }
        events.push(ok);
    }
    let f = detect(&events, &BurstConfig::default());
    let r: Vec<&MailFinding> = f.iter().filter(|x| x.kind == "MAIL_REJECT_RATIO").collect();
    assert_eq!(r.len(), 1, "{f:#?}");
    assert_eq!(r[0].identity.value, "198.51.100.50");
    assert_eq!(r[0].count, 20);
    assert_eq!(r[0].status_mix.rejected, 20);
    assert_eq!(r[0].status_mix.sent, 5);
    let s: Vec<&MailFinding> = f
        .iter()
        .filter(|x| x.kind == "MAIL_IP_MANY_SENDERS")
        .collect();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].identity.value, "198.51.100.50");
    assert_eq!(s[0].count, 25);
    assert!(kinds(&f, "198.51.100.51").is_empty());
}

#[test]
fn own_domains_inferred_by_identities_and_given() {
    let t = MON;
    let mut events = Vec::new();
    for (i, who) in ["a", "b", "c"].iter().enumerate() {
        events.push(ev(
            t + i as i64,
            Some(who),
            "10.0.0.1",
            &format!("{who}@corp.test"),
            "x@corp.test",
            &format!("O{i}"),
        ));
    }
    // A spammer forging one domain many times.
    for i in 0..40 {
        let rcpt = if i < 10 {
            format!("v{i}@corp.test")
        } else {
            format!("v{i}@ext.example")
        };
        events.push(ev(
            t + 100 + i,
            None,
            "203.0.113.9",
            "x@forged.example",
            &rcpt,
            &format!("F{i}"),
        ));
    }
    let mut d = Detector::new(BurstConfig::default());
    for e in &events {
        d.push(e);
    }
    let out = d.finish();
    assert_eq!(out.own_domains, ["corp.test"]);
    assert!(out.own_domains_inferred);
    let b = out
        .findings
        .iter()
        .find(|x| x.kind == "MAIL_BURST")
        .unwrap();
    assert_eq!(b.external_share, Some(0.75));
    // Given own domains; a share gate drops the burst.
    let cfg = BurstConfig {
        own_domains: vec!["@Ext.Example".into()],
        min_external_share: 0.5,
        ..BurstConfig::default()
    };
    let mut d = Detector::new(cfg);
    for e in &events {
        d.push(e);
    }
    let out = d.finish();
    assert_eq!(out.own_domains, ["ext.example"]);
    assert!(!out.own_domains_inferred);
    assert!(
        out.findings.iter().all(|x| x.kind != "MAIL_BURST"),
        "25% external < 50%"
    );
}

#[test]
fn content_filter_reinjections_and_internal_mail_are_left_out() {
    let t = MON;
    let mut events = Vec::new();
    for i in 0..40 {
        let mut first = ev(
            t + i,
            None,
            "10.1.6.206",
            "alice@corp.test",
            &format!("v{i}@ext.example"),
            &format!("P{i}"),
        );
        first.relay = Some("127.0.0.1[127.0.0.1]:10024".into());
        events.push(first);
        events.push(ev(
            t + i + 1,
            None,
            "127.0.0.1",
            "alice@corp.test",
            &format!("v{i}@ext.example"),
            &format!("Q{i}"),
        ));
        let mut ndr = ev(
            t + i,
            None,
            "127.0.0.1",
            "",
            "alice@corp.test",
            &format!("N{i}"),
        );
        ndr.client_ip = None;
        ndr.origin = Origin::Internal;
        events.push(ndr);
    }
    let mut d = Detector::new(BurstConfig::default());
    for e in &events {
        d.push(e);
    }
    let out = d.finish();
    assert!(out.content_filter_seen);
    assert_eq!(out.skipped, 40, "re-injections; NDRs have no identity");
    assert_eq!(out.unattributed, 40);
    let who: Vec<&str> = out
        .findings
        .iter()
        .map(|f| f.identity.value.as_str())
        .collect();
    assert_eq!(who, ["10.1.6.206"]);
}

#[test]
fn event_cap_is_reported() {
    let cfg = BurstConfig {
        max_events: 10,
        ..BurstConfig::default()
    };
    let events = spread(MON, 100, 15, "a", "10.0.0.1", "A");
    let mut d = Detector::new(cfg);
    for e in &events {
        d.push(e);
    }
    let out = d.finish();
    assert_eq!((out.events, out.dropped), (15, 5));
    let capped = out
        .findings
        .iter()
        .find(|f| f.kind == "MAIL_INPUT_CAPPED")
        .unwrap();
    assert_eq!(capped.count, 5);
    assert_eq!(capped.severity, Severity::Info);
}

#[test]
fn status_mix_display_and_identity_display() {
    let mut m = StatusMix::default();
    for s in [
        MailStatus::Sent,
        MailStatus::Sent,
        MailStatus::Bounced,
        MailStatus::Rejected,
    ] {
        m.add(s);
    }
    assert_eq!(m.to_string(), "sent 2, bounced 1, rejected 1");
    assert_eq!((m.total(), m.failures()), (4, 2));
    assert_eq!(StatusMix::default().to_string(), "none");
    assert_eq!(
        Identity::new(IdentityKind::ClientIp, "10.0.0.1").to_string(),
        "client 10.0.0.1"
    );
}

#[test]
fn hostile_events_do_not_panic() {
    let mut x: u64 = 0x1234_5678_9abc_def1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut events = Vec::new();
    for _ in 0..3000 {
        let r = next();
        let t = match r % 4 {
            0 => i64::MAX - (r % 100) as i64,
            1 => i64::MIN + (r % 100) as i64,
            2 => (r >> 8) as i64,
            _ => MON + (r % 100_000) as i64,
        };
        let mut e = ev(
            t,
            (r % 3 != 0).then_some(["a", "b", "", "c@x"][(r % 4) as usize]),
            ["10.0.0.1", "::1", "127.0.0.1", "192.0.2.7"][((r >> 3) % 4) as usize],
            ["", "a@x", "b@y", "@", "a@"][((r >> 5) % 5) as usize],
            ["", "@", "r@x", "r@Y.", "r"][((r >> 7) % 5) as usize],
            &format!("Q{}", r % 50),
        );
        e.status =
            [MailStatus::Sent, MailStatus::Rejected, MailStatus::Deferred][((r >> 9) % 3) as usize];
        if r % 11 == 0 {
            e.relay = Some("[127.0.0.1]:10024".into());
        }
        if r % 13 == 0 {
            e.queue_id = None;
        }
        events.push(e);
    }
    let cfg = BurstConfig {
        burst_windows: vec![
            BurstWindow { secs: 0, floor: 0 },
            BurstWindow {
                secs: i64::MAX,
                floor: 1,
            },
        ],
        baseline_min_days: 0.0,
        max_events: 2500,
        ..BurstConfig::default()
    };
    let f = detect(&events, &cfg);
    assert!(!f.is_empty());
    assert!(f.len() <= cfg.max_findings);
    let _ = detect(&events, &BurstConfig::default());
}
