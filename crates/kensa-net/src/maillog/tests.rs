//! Parser tests. The fixtures below are written for these tests (fail2ban-style samples, not
//! copied); `testdata/maillog/postfix-3.7.11-long-queue-ids.log` is a real Postfix log (see its
//! README).

use super::time::{civil_from_days, days_from_civil, hour_of_week, parse_exim, parse_iso};
use super::*;

fn run(text: &str, opts: &MailLogOptions) -> (Vec<MailEvent>, MailLogStats) {
    parse_maillog_to_vec(text.as_bytes(), opts).expect("in-memory read cannot fail")
}

fn opts(year: i32) -> MailLogOptions {
    MailLogOptions::new(YearHint::StartsIn(year))
}

fn by_rcpt<'a>(events: &'a [MailEvent], rcpt: &str) -> &'a MailEvent {
    events
        .iter()
        .find(|e| e.recipient.as_deref() == Some(rcpt))
        .unwrap_or_else(|| panic!("no event for {rcpt}: {events:#?}"))
}

const ROLLOVER: &str = "\
Dec 31 23:59:58 mail1 postfix/smtpd[1201]: 3F1A2B4C5D: client=pc-17.corp.test[10.20.30.40], sasl_method=PLAIN, sasl_username=jdoe@corp.test
Dec 31 23:59:58 mail1 postfix/cleanup[1202]: 3F1A2B4C5D: message-id=<a1.x@corp.test>
Dec 31 23:59:59 mail1 postfix/qmgr[1100]: 3F1A2B4C5D: from=<jdoe@corp.test>, size=2048, nrcpt=3 (queue active)
Jan  1 00:00:01 mail1 postfix/smtp[1300]: 3F1A2B4C5D: to=<x@Example.NET>, relay=mx.example.net[192.0.2.25]:25, delay=3, delays=0.1/0/1/1.9, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 999)
Jan  1 00:00:02 mail1 postfix/smtp[1300]: 3F1A2B4C5D: to=<y@example.org>, relay=none, delay=4, delays=0.1/0/4/0, dsn=4.4.1, status=deferred (connect to mx.example.org[198.51.100.7]:25: Connection refused)
Jan  1 00:00:02 mail1 postfix/smtp[1300]: 3F1A2B4C5D: to=<z@example.com>, relay=mx.example.com[203.0.113.9]:25, delay=4, delays=0.1/0/1/2.9, dsn=5.1.1, status=bounced (host mx.example.com[203.0.113.9] said: 550 5.1.1 <z@example.com>: no such user (in reply to RCPT TO command))
Jan  1 00:10:02 mail1 postfix/smtp[1300]: 3F1A2B4C5D: to=<y@example.org>, relay=mx.example.org[198.51.100.7]:25, delay=604, delays=0.1/600/1/2.9, dsn=2.0.0, status=sent (250 ok)
Jan  1 00:10:02 mail1 postfix/qmgr[1100]: 3F1A2B4C5D: removed
";

#[test]
fn rollover_multi_recipient_deferred_then_sent_and_bounced() {
    let (ev, st) = run(ROLLOVER, &opts(2025));
    assert_eq!(ev.len(), 3, "{ev:#?}");
    assert_eq!(st.year_rollovers, 1);
    assert_eq!(st.messages_closed, 1);
    assert_eq!(st.malformed, 0, "{:?}", st.issues);
    for e in &ev {
        assert_eq!(e.time, 1_767_225_598, "arrival 2025-12-31T23:59:58Z");
        assert_eq!(e.queue_id.as_deref(), Some("3F1A2B4C5D"));
        assert_eq!(e.message_id.as_deref(), Some("a1.x@corp.test"));
        assert_eq!(e.sasl_username.as_deref(), Some("jdoe@corp.test"));
        assert_eq!(e.sasl_method.as_deref(), Some("PLAIN"));
        assert_eq!(e.client_ip, Some("10.20.30.40".parse().unwrap()));
        assert_eq!(e.client_name.as_deref(), Some("pc-17.corp.test"));
        assert_eq!(e.from.as_deref(), Some("jdoe@corp.test"));
        assert_eq!(e.size, Some(2048));
        assert_eq!(e.server, "mail1");
        assert_eq!(e.origin, Origin::Smtp);
        assert!(e.complete);
    }
    let x = by_rcpt(&ev, "x@Example.NET");
    assert_eq!(x.recipient_domain.as_deref(), Some("example.net"));
    assert_eq!(x.status, MailStatus::Sent);
    assert_eq!(x.last_time, 1_767_225_601, "2026-01-01T00:00:01Z");
    assert_eq!(x.relay.as_deref(), Some("mx.example.net[192.0.2.25]:25"));
    let y = by_rcpt(&ev, "y@example.org");
    assert_eq!((y.status, y.deferrals), (MailStatus::Sent, 1));
    assert_eq!(y.last_time, 1_767_226_202);
    let z = by_rcpt(&ev, "z@example.com");
    assert_eq!(z.status, MailStatus::Bounced);
    assert_eq!(z.dsn.as_deref(), Some("5.1.1"));
    assert!(z.detail.as_deref().unwrap().contains("no such user"));

    // The same lines dated from the end (file mtime in January 2026) give the same times.
    let mut o = opts(0);
    o.year = YearHint::EndsBy {
        year: 2026,
        month: 1,
    };
    let (ev2, st2) = run(ROLLOVER, &o);
    assert_eq!(st2.year_rollovers, 0);
    assert_eq!(ev2, ev);
}

#[test]
fn straggler_before_rollover_keeps_old_year() {
    let text = "\
Dec 31 23:59:59 m postfix/smtpd[1]: AAAAA1: client=a[192.0.2.1]
Jan  1 00:00:01 m postfix/smtpd[1]: AAAAA2: client=a[192.0.2.1]
Dec 31 23:59:58 m postfix/smtpd[1]: AAAAA3: client=a[192.0.2.1]
Jan  2 00:00:00 m postfix/smtpd[1]: AAAAA4: client=a[192.0.2.1]
";
    let (ev, st) = run(text, &opts(2024));
    assert_eq!(st.year_rollovers, 1);
    let t = |q: &str| {
        ev.iter()
            .find(|e| e.queue_id.as_deref() == Some(q))
            .unwrap()
            .time
    };
    assert_eq!(t("AAAAA1"), 1_735_689_599, "2024-12-31T23:59:59Z");
    assert_eq!(t("AAAAA2"), 1_735_689_601);
    assert_eq!(t("AAAAA3"), 1_735_689_598, "late line stays in 2024");
    assert_eq!(t("AAAAA4"), 1_735_776_000, "2025-01-02");
    assert_eq!(st.open_at_end, 4);
    assert!(
        ev.iter()
            .all(|e| !e.complete && e.status == MailStatus::Unknown)
    );
}

const LONG_IDS_ISO: &str = "\
2026-03-04T05:06:07.123456+09:00 mx2 postfix/smtpd[77]: 4Xk9bL1Mdpz3rFq: client=unknown[2001:db8::5]
2026-03-04T05:06:07.2+09:00 mx2 postfix/cleanup[78]: 4Xk9bL1Mdpz3rFq: message-id=<b2@x.test>
2026-03-04T05:06:08+0900 mx2 postfix/qmgr[79]: 4Xk9bL1Mdpz3rFq: from=<>, size=900, nrcpt=1 (queue active)
2026-03-03T20:06:09Z mx2 postfix/local[80]: 4Xk9bL1Mdpz3rFq: to=<bob@corp.test>, orig_to=<postmaster>, relay=local, delay=2, delays=1/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox)
2026-03-03T20:06:09Z mx2 postfix/qmgr[79]: 4Xk9bL1Mdpz3rFq: removed
";

#[test]
fn long_queue_ids_iso_stamps_ipv6_and_null_sender() {
    let (ev, st) = run(LONG_IDS_ISO, &opts(1999));
    assert_eq!(st.malformed, 0, "{:?}", st.issues);
    assert_eq!(ev.len(), 1);
    let e = &ev[0];
    assert_eq!(e.time, 1_772_568_367, "05:06:07+09:00 = 20:06:07Z");
    assert_eq!(e.last_time, 1_772_568_369);
    assert_eq!(e.queue_id.as_deref(), Some("4Xk9bL1Mdpz3rFq"));
    assert_eq!(e.client_ip, Some("2001:db8::5".parse().unwrap()));
    assert_eq!(e.from.as_deref(), Some(""));
    assert_eq!(e.relay.as_deref(), Some("local"));
    assert_eq!(e.status, MailStatus::Sent);
    assert!(e.identity().is_some(), "client IP identifies it");
}

const REJECTS: &str = "\
Nov 22 10:00:01 gw postfix/smtpd[500]: NOQUEUE: reject: RCPT from unknown[198.51.100.23]: 554 5.7.1 <victim@corp.test>: Relay access denied; from=<spam@bad.example> to=<victim@corp.test> proto=ESMTP helo=<bad.example>
Nov 22 10:00:02 gw postfix/postscreen[501]: NOQUEUE: reject: RCPT from [203.0.113.50]:41234: 550 5.7.1 Service unavailable; client [203.0.113.50] blocked using zen.example; from=<a@b.example>, to=<c@corp.test>, proto=ESMTP, helo=<b.example>
Nov 22 10:00:03 gw postfix/smtpd[502]: 7A7A7A7A7A: client=ws9.corp.test[10.1.6.9]:52100, sasl_method=LOGIN, sasl_username=mallory
Nov 22 10:00:03 gw postfix/smtpd[502]: 7A7A7A7A7A: reject: RCPT from ws9.corp.test[10.1.6.9]:52100: 450 4.1.2 <x@nowhere.invalid>: Recipient address rejected: Domain not found; from=<mallory@corp.test> to=<x@nowhere.invalid> proto=ESMTP helo=<ws9>
Nov 22 10:00:04 gw postfix/cleanup[503]: 7A7A7A7A7A: milter-reject: END-OF-MESSAGE from ws9.corp.test[10.1.6.9]: 5.7.1 Spam message rejected; from=<mallory@corp.test> to=<ok@partner.example> proto=ESMTP helo=<ws9>
Nov 22 10:00:05 gw postfix/smtpd[500]: NOQUEUE: reject: MAIL from unknown[198.51.100.23]: 553 5.7.1 <x@y>: Sender address rejected: not logged in; from=<x@y> proto=ESMTP helo=<h>
Nov 22 10:00:06 gw postfix/smtpd[500]: NOQUEUE: filter: RCPT from unknown[198.51.100.23]: <x@y>: Sender address triggers FILTER; from=<x@y> to=<q@r> proto=ESMTP helo=<h>
";

#[test]
fn rejections_noqueue_postscreen_queued_and_milter() {
    let (ev, st) = run(REJECTS, &opts(2026));
    assert_eq!(st.malformed, 0, "{:?}", st.issues);
    assert_eq!(st.rejects, 5, "{ev:#?}");
    assert_eq!(
        st.open_at_end, 0,
        "the milter-rejected message is not left open"
    );
    let v = by_rcpt(&ev, "victim@corp.test");
    assert_eq!(v.status, MailStatus::Rejected);
    assert_eq!(v.client_ip, Some("198.51.100.23".parse().unwrap()));
    assert_eq!(v.from.as_deref(), Some("spam@bad.example"));
    assert_eq!(v.helo.as_deref(), Some("bad.example"));
    assert_eq!(v.dsn.as_deref(), Some("5.7.1"));
    assert_eq!(v.queue_id, None);
    assert!(v.detail.as_deref().unwrap().starts_with("554 5.7.1"));
    let p = by_rcpt(&ev, "c@corp.test");
    assert_eq!(p.client_ip, Some("203.0.113.50".parse().unwrap()));
    assert_eq!(p.from.as_deref(), Some("a@b.example"));
    let q = by_rcpt(&ev, "x@nowhere.invalid");
    assert_eq!(q.queue_id.as_deref(), Some("7A7A7A7A7A"));
    assert_eq!(
        q.sasl_username.as_deref(),
        Some("mallory"),
        "context from the open message"
    );
    assert_eq!(q.dsn.as_deref(), Some("4.1.2"));
    let m = by_rcpt(&ev, "ok@partner.example");
    assert_eq!(m.status, MailStatus::Rejected);
    assert_eq!(m.sasl_username.as_deref(), Some("mallory"));
    let mail = ev.iter().find(|e| e.recipient.is_none()).unwrap();
    assert_eq!(mail.from.as_deref(), Some("x@y"));
    assert_eq!(st.ignored, 1, "the FILTER line");
}

#[test]
fn garbage_lines_are_counted_with_line_numbers() {
    let text = "\
this is not a log line
Nov 22 10:00:01 gw kernel: [12.3] eth0 up

Nov 22 10:00:02 gw postfix/smtpd[1]: connect from unknown[198.51.100.1]
Nov 22 10:00:03 gw postfix/smtpd[1]: ABCDE1: client=nobrackets
Nov 22 10:00:03 gw postfix/qmgr[1]: ABCDE1: from=<open, size=1
Nov 22 10:00:03 gw postfix/smtp[1]: ABCDE1: to=<a@b>, relay=none
Feb 30 10:00:00 gw postfix/smtpd[1]: ABCDE2: client=a[192.0.2.1]
\u{0}\u{1}\u{2}garbage
";
    let (_, st) = run(text, &opts(2026));
    assert_eq!(st.lines, 9);
    assert_eq!(st.blank_lines, 1);
    assert_eq!(st.other_lines, 1);
    assert_eq!(st.ignored, 1);
    let lines: Vec<u64> = st.issues.iter().map(|i| i.line).collect();
    assert_eq!(lines, [1, 5, 6, 7, 8, 9], "{:#?}", st.issues);
    assert_eq!(st.malformed, 6);
    assert_eq!(st.issues[4].reason, "invalid date for the inferred year");
    assert!(st.is_mail_log());
}

#[test]
fn very_long_lines_are_bounded_and_the_next_line_still_parses() {
    let mut text = String::from(
        "Nov 22 10:00:01 gw postfix/smtpd[1]: ABCDE1: client=a[192.0.2.1], sasl_username=",
    );
    text.push_str(&"u".repeat(200_000));
    text.push('\n');
    text.push_str("Nov 22 10:00:02 gw postfix/qmgr[1]: ABCDE1: from=<s@corp.test>, size=1, nrcpt=1 (queue active)\n");
    let mut o = opts(2026);
    o.max_line_bytes = 4096;
    let (ev, st) = run(&text, &o);
    assert_eq!(st.lines, 2);
    assert_eq!(st.long_lines, 1);
    assert_eq!(ev.len(), 1);
    let e = &ev[0];
    assert_eq!(e.from.as_deref(), Some("s@corp.test"));
    let user = e.sasl_username.as_deref().unwrap();
    assert_eq!(user.len(), MAX_FIELD_BYTES, "field capped");
    // The same through feed_line directly.
    let mut p = MailLogParser::new(o);
    p.feed_line(text.as_bytes(), &mut |_| {});
    assert_eq!(p.stats().long_lines, 1);
}

#[test]
fn crlf_utf8_offset_and_rfc5424() {
    let text = "Nov 22 10:00:01 gw postfix/smtpd[1]: ABCDE1: client=a[192.0.2.1]\r\n\
<22>1 2026-11-22T01:00:02Z gw postfix/qmgr 12 - - ABCDE1: from=<\u{e9}l\u{e8}ve@corp.test>, size=1, nrcpt=1 (queue active)\r\n\
<22>1 2026-11-22T01:00:03Z gw postfix/smtp 13 - [meta sequenceId=\"1\" x=\"a\\]b\"] \u{feff}ABCDE1: to=<r@x.test>, relay=x[192.0.2.2]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (ok)\r\n\
2026-11-22T01:00:04+0000 gw postfix/qmgr[1]: ABCDE1: removed\r\n";
    let mut o = opts(2026);
    o.utc_offset_secs = 9 * 3600;
    let (ev, st) = run(text, &o);
    assert_eq!(st.malformed, 0, "{:?}", st.issues);
    assert_eq!(ev.len(), 1);
    let e = &ev[0];
    assert_eq!(e.time, 1_795_309_201, "10:00:01 JST = 01:00:01Z");
    assert_eq!(e.last_time, 1_795_309_203);
    assert_eq!(e.from.as_deref(), Some("\u{e9}l\u{e8}ve@corp.test"));
    assert!(e.complete);
}

#[test]
fn xforward_orig_client_pickup_and_internal_notifications() {
    let text = "\
Nov 22 10:00:01 gw postfix/smtpd[1]: BBBBB1: client=localhost[127.0.0.1], orig_queue_id=AAAAA1, orig_client=ws4.corp.test[10.1.6.4]
Nov 22 10:00:01 gw postfix/pickup[2]: BBBBB2: uid=33 from=<www-data>
Nov 22 10:00:02 gw postfix/qmgr[3]: BBBBB3: from=<>, size=2000, nrcpt=1 (queue active)
Nov 22 10:00:02 gw postfix/qmgr[3]: BBBBB4: from=<double-bounce@gw>, size=1, nrcpt=1 (queue active)
Nov 22 10:00:02 gw postfix/bounce[4]: BBBBB1: sender non-delivery notification: BBBBB4
Nov 22 10:00:03 gw postfix/qmgr[3]: BBBBB1: removed
Nov 22 10:00:03 gw postfix/qmgr[3]: BBBBB2: removed
Nov 22 10:00:03 gw postfix/qmgr[3]: BBBBB3: removed
Nov 22 10:00:04 gw postfix/qmgr[3]: BBBBB4: removed
";
    let (ev, st) = run(text, &opts(2026));
    assert_eq!(st.messages_closed, 4);
    let q = |id: &str| {
        ev.iter()
            .find(|e| e.queue_id.as_deref() == Some(id))
            .unwrap()
    };
    assert_eq!(q("BBBBB1").client_ip, Some("10.1.6.4".parse().unwrap()));
    assert_eq!(q("BBBBB2").origin, Origin::Local);
    assert_eq!(q("BBBBB2").local_user.as_deref(), Some("33"));
    assert_eq!(q("BBBBB2").from.as_deref(), Some("www-data"));
    assert_eq!(
        q("BBBBB3").origin,
        Origin::Internal,
        "null sender, no client"
    );
    assert_eq!(
        q("BBBBB4").origin,
        Origin::Internal,
        "marked by the bounce line"
    );
}

#[test]
fn caps_on_open_messages_and_recipients() {
    let mut o = opts(2026);
    o.max_open_messages = 2;
    o.max_recipients_per_message = 2;
    let mut text = String::new();
    for q in ["CCCCC1", "CCCCC2", "CCCCC3"] {
        text.push_str(&format!(
            "Nov 22 10:00:01 gw postfix/smtpd[1]: {q}: client=a[192.0.2.1]\n"
        ));
    }
    for r in ["a", "b", "c"] {
        text.push_str(&format!(
            "Nov 22 10:00:02 gw postfix/smtp[1]: CCCCC3: to=<{r}@x.test>, relay=none, delay=0, dsn=2.0.0, status=sent (ok)\n"
        ));
    }
    let (ev, st) = run(&text, &o);
    assert_eq!(st.evicted, 1);
    assert_eq!(st.recipients_dropped, 1);
    assert_eq!(st.open_at_end, 2);
    assert_eq!(ev.len(), 1 + 1 + 2);
    assert_eq!(
        ev[0].queue_id.as_deref(),
        Some("CCCCC1"),
        "the oldest goes first"
    );
}

#[test]
fn read_error_names_the_line_and_keeps_what_was_read() {
    const LINE: &[u8] = b"Nov 22 10:00:01 gw postfix/smtpd[1]: DDDDD1: client=a[192.0.2.1]\n";
    struct Broken(usize);
    impl io::Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let line = LINE;
            if self.0 == 0 {
                return Err(io::Error::other("disk gone"));
            }
            self.0 -= 1;
            let n = line.len().min(buf.len());
            buf[..n].copy_from_slice(&line[..n]);
            Ok(n)
        }
    }
    let mut n = 0;
    let err = parse_maillog(io::BufReader::new(Broken(2)), &opts(2026), |_| n += 1).unwrap_err();
    let MailLogError::Read { line, offset, .. } = err;
    assert_eq!(line, 3);
    assert_eq!(offset, 2 * LINE.len() as u64);
    assert_eq!(n, 1, "the open message was still emitted");
}

const EXIM: &str = "\
2026-11-22 10:00:01 [1234] 1tABCd-000123-Xy <= alice@corp.test H=ws17.corp.test (WS17) [10.1.6.17]:51000 I=[10.1.1.1]:587 P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_login:alice S=3456 id=m1@corp.test T=\"Invoice A=x H=evil [6.6.6.6]\" for r1@ext1.example r2@ext2.example
2026-11-22 10:00:02 [1235] 1tABCd-000123-Xy => r1@ext1.example R=dnslookup T=remote_smtp H=mx.ext1.example [192.0.2.10] X=TLS1.3:x:256 CV=yes C=\"250 2.0.0 OK id=1\"
2026-11-22 10:00:02 [1235] 1tABCd-000123-Xy ** r2@ext2.example R=dnslookup T=remote_smtp H=mx.ext2.example [192.0.2.11]: SMTP error from remote mail server after RCPT TO:<r2@ext2.example>: 550 5.1.1 User unknown
2026-11-22 10:00:02 [1235] 1tABCd-000123-Xy Completed
2026-11-22 10:00:03.250 +0900 1vXYZa-00000000AbC-0Def <= <> R=1tABCd-000123-Xy U=Debian-exim P=local S=1234
2026-11-22 10:00:04 1vXYZa-00000000AbC-0Def == alice@corp.test R=local_user T=local_delivery defer (-44): retry time not reached
2026-11-22 10:00:05 H=(spammer) [198.51.100.9]:6000 F=<x@spam.example> rejected RCPT <y@corp.test>: relay not permitted
2026-11-22 10:00:06 1tQQQQ-000001-AA <= www@corp.test U=www-data P=local S=10 id=w1@corp.test
2026-11-22 10:00:06 1tQQQQ-000001-AA => victim@ext3.example <victim@ext3.example> R=dnslookup T=remote_smtp H=mx.ext3.example [192.0.2.12]
2026-11-22 10:00:06 1tQQQQ-000001-AA -> victim2@ext3.example R=dnslookup T=remote_smtp H=mx.ext3.example [192.0.2.12]
2026-11-22 10:00:06 1tQQQQ-000001-AA Completed
Nov 22 10:00:07 mx3 exim[99]: 1tRRRR-000002-BB <= bob@corp.test H=(ws3) [10.1.6.3] P=esmtpa A=plain:bob S=99
Nov 22 10:00:07 mx3 exim[99]: 1tRRRR-000002-BB ** nobody@ext4.example: Unrouteable address
Nov 22 10:00:07 mx3 exim[99]: 1tRRRR-000002-BB Completed
2026-11-22 10:00:08 Start queue run: pid=777
";

#[test]
fn exim_mainlog_and_syslog() {
    let mut o = opts(2026);
    o.server = Some("exim-host".into());
    let (ev, st) = run(EXIM, &o);
    assert_eq!(st.malformed, 0, "{:?}", st.issues);
    assert_eq!(st.exim_lines, 15);
    let r1 = by_rcpt(&ev, "r1@ext1.example");
    assert_eq!(r1.mta, Mta::Exim);
    assert_eq!(r1.server, "exim-host");
    assert_eq!(r1.time, 1_795_341_601);
    assert_eq!(
        r1.sasl_username.as_deref(),
        Some("alice"),
        "A= inside T=\"…\" is not a field"
    );
    assert_eq!(r1.sasl_method.as_deref(), Some("dovecot_login"));
    assert_eq!(r1.client_ip, Some("10.1.6.17".parse().unwrap()));
    assert_eq!(r1.client_name.as_deref(), Some("ws17.corp.test"));
    assert_eq!(r1.helo.as_deref(), Some("WS17"));
    assert_eq!(r1.size, Some(3456));
    assert_eq!(r1.message_id.as_deref(), Some("m1@corp.test"));
    assert_eq!(r1.status, MailStatus::Sent);
    assert_eq!(r1.relay.as_deref(), Some("mx.ext1.example [192.0.2.10]"));
    let r2 = by_rcpt(&ev, "r2@ext2.example");
    assert_eq!(r2.status, MailStatus::Bounced);
    assert_eq!(r2.dsn.as_deref(), Some("5.1.1"));
    let d = by_rcpt(&ev, "alice@corp.test");
    assert_eq!(d.status, MailStatus::Deferred);
    assert_eq!(d.time, 1_795_341_603 - 9 * 3600, "log_timezone offset");
    assert_eq!(d.origin, Origin::Local);
    assert!(!d.complete);
    assert_eq!(d.queue_id.as_deref(), Some("1vXYZa-00000000AbC-0Def"));
    let rej = by_rcpt(&ev, "y@corp.test");
    assert_eq!(rej.status, MailStatus::Rejected);
    assert_eq!(rej.client_ip, Some("198.51.100.9".parse().unwrap()));
    assert_eq!(rej.helo.as_deref(), Some("spammer"));
    assert_eq!(rej.from.as_deref(), Some("x@spam.example"));
    let v = by_rcpt(&ev, "victim@ext3.example");
    assert_eq!(v.local_user.as_deref(), Some("www-data"));
    assert_eq!(v.origin, Origin::Local);
    assert_eq!(
        by_rcpt(&ev, "victim2@ext3.example").status,
        MailStatus::Sent
    );
    let n = by_rcpt(&ev, "nobody@ext4.example");
    assert_eq!((n.status, n.server.as_str()), (MailStatus::Bounced, "mx3"));
    assert_eq!(n.detail.as_deref(), Some("Unrouteable address"));
    assert_eq!(n.sasl_username.as_deref(), Some("bob"));
    assert_eq!(st.ignored, 1, "queue run line");
}

#[test]
fn calendar_helpers() {
    for (y, m, d) in [
        (1970, 1, 1),
        (2000, 2, 29),
        (2024, 12, 31),
        (1900, 3, 1),
        (9999, 12, 31),
    ] {
        assert_eq!(civil_from_days(days_from_civil(y, m, d)), (y, m, d));
    }
    assert_eq!(
        days_from_civil(2026, 11, 22) * 86_400,
        1_795_341_601 - 36_001
    );
    assert_eq!(hour_of_week(1_795_341_601), 6 * 24 + 10, "Sunday 10:00");
    assert_eq!(
        parse_iso("2024-02-29T12:00:00Z", 0),
        Some((1_709_208_000, 20))
    );
    assert_eq!(parse_iso("2026-02-29T12:00:00Z", 0), None);
    assert_eq!(
        parse_iso("2026-02-28T12:00:00", 3600),
        Some((1_772_280_000 - 3600, 19))
    );
    assert_eq!(
        parse_iso("2026-02-28T12:00:00.5-01:30 x", 0),
        Some((1_772_280_000 + 5400, 27))
    );
    assert_eq!(
        parse_exim("2026-02-28 12:00:00 +0100 x", 0),
        Some((1_772_280_000 - 3600, 25))
    );
    assert_eq!(parse_exim("2026-02-28 25:00:00", 0), None);
    assert_eq!(format_utc(1_795_341_601), "2026-11-22T10:00:01Z");
}

/// The real Postfix 3.7.11 log made by `tests/support/postfix-burst.sh` with long queue IDs.
const REAL_LONG_IDS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/maillog/postfix-3.7.11-long-queue-ids.log"
));

#[test]
fn real_postfix_log_with_long_queue_ids() {
    let o = MailLogOptions::new(YearHint::EndsBy {
        year: 2026,
        month: 11,
    });
    let (ev, st) = run(REAL_LONG_IDS, &o);
    assert_eq!(st.malformed, 0, "{:?}", st.issues);
    assert_eq!(st.other_lines, 0);
    assert_eq!(st.postfix_lines, st.lines);
    let alice: Vec<&MailEvent> = ev
        .iter()
        .filter(|e| e.sasl_username.as_deref() == Some("alice"))
        .collect();
    // 60 burst messages + 1 refused recipient + 2 messages from other PCs.
    assert_eq!(alice.len(), 63);
    assert!(
        alice
            .iter()
            .all(|e| e.queue_id.as_deref().is_some_and(|q| q.contains('z')))
    );
    let count = |s: MailStatus| alice.iter().filter(|e| e.status == s).count();
    assert_eq!(count(MailStatus::Bounced), 2);
    assert_eq!(count(MailStatus::Rejected), 1);
    assert_eq!(count(MailStatus::Deferred), 1);
    assert_eq!(count(MailStatus::Sent), 59);
    assert_eq!(
        alice.iter().filter(|e| e.message_id.is_some()).count(),
        62,
        "all but the refused recipient"
    );
    let carol = ev
        .iter()
        .filter(|e| e.sasl_username.as_deref() == Some("carol"))
        .count();
    assert_eq!(carol, 6);
    // Bounce notifications: null sender, no client.
    let internal = ev.iter().filter(|e| e.origin == Origin::Internal).count();
    assert_eq!(internal, 2);
    assert_eq!(
        st.open_at_end, 1,
        "the deferred message deleted by postsuper (no `removed`)"
    );
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn mutation_robustness() {
    let seeds: Vec<Vec<u8>> = [
        ROLLOVER,
        LONG_IDS_ISO,
        REJECTS,
        EXIM,
        &REAL_LONG_IDS[..6000],
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let alphabet = b" :;,<>[]()=@.-_/\n\r\"\\0123456789azAZ\xff\xfe";
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut o = opts(2026);
    o.max_open_messages = 8;
    o.max_recipients_per_message = 4;
    o.max_line_bytes = 300;
    for round in 0..1500 {
        let mut data = seeds[round % seeds.len()].clone();
        for _ in 0..1 + rng.below(12) {
            if data.is_empty() {
                break;
            }
            let at = rng.below(data.len());
            match rng.below(5) {
                0 => data[at] = alphabet[rng.below(alphabet.len())],
                1 => data[at] = rng.next() as u8,
                2 => {
                    let end = (at + rng.below(40)).min(data.len());
                    data.drain(at..end);
                }
                3 => {
                    let from = rng.below(data.len());
                    let end = (from + rng.below(60)).min(data.len());
                    let chunk = data[from..end].to_vec();
                    data.splice(at..at, chunk);
                }
                _ => data.truncate(at),
            }
        }
        let mut events = 0u64;
        let st = parse_maillog(&data[..], &o, |e| {
            events += 1;
            assert!(
                e.recipient
                    .as_ref()
                    .is_none_or(|r| r.len() <= MAX_FIELD_BYTES)
            );
        })
        .unwrap();
        assert_eq!(st.events, events);
        assert!(st.issues.len() <= o.max_issues);
        // The detector takes whatever the parser made.
        let (evs, _) = parse_maillog_to_vec(&data[..], &o).unwrap();
        let _ = detect(&evs, &BurstConfig::default());
    }
}
