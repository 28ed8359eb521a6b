//! Test cases run against every backend: `tests/sqlite.rs` makes one test per case,
//! `tests/postgres.rs` runs them all against one server. Add a case to the function list AND
//! to [`for_each_case!`].

use std::collections::HashSet;

use kensa_store::{EXPIRE_BATCH, Filter, NewMessage, Status, Store, StoreError};

use super::{Ctx, raw_message, sample, sha256_hex};

/// Calls `$m!(case, case, …)` with every case name.
macro_rules! for_each_case {
    ($m:ident) => {
        $m! {
            put_then_get_raw_envelope_are_exact,
            hostile_text_and_odd_numbers_round_trip,
            long_lists_keep_their_order,
            list_filters_each_field,
            status_transitions_write_audit_in_order,
            delete_raw_purges_bytes_keeps_metadata,
            expire_purges_old_messages,
            concurrent_puts_are_unique_and_durable,
            reopen_keeps_data_and_refuses_newer_schema,
        }
    };
}
pub(crate) use for_each_case;

fn ids(list: &[kensa_store::Summary]) -> Vec<i64> {
    list.iter().map(|s| s.id).collect()
}

async fn list_ids(store: &Store, f: Filter) -> Vec<i64> {
    ids(&store.list(&f).await.expect("list"))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap()
}

pub async fn put_then_get_raw_envelope_are_exact(ctx: &Ctx) {
    let store = ctx.fresh().await;
    let before = now();
    let mut m = sample(1);
    m.part_hashes
        .push(sha256_hex(b"three").to_ascii_uppercase());
    let id = store.put(&m).await.expect("put");
    assert!(id > 0);

    let raw = store.raw(id).await.unwrap().expect("raw present");
    assert_eq!(raw, m.raw, "raw bytes must be byte-exact");
    assert!(raw.contains(&0) && raw.iter().any(|&b| b >= 0x80));

    let r = store.get(id).await.unwrap().expect("record");
    let s = &r.summary;
    assert_eq!(s.id, id);
    assert_eq!(s.received_at, m.received_at);
    assert_eq!(s.gateway, m.gateway);
    assert_eq!(s.queue_id, m.queue_id);
    assert_eq!(s.message_id, m.message_id);
    assert_eq!(s.envelope_from, m.envelope_from);
    assert_eq!(s.envelope_rcpts, m.envelope_rcpts);
    assert_eq!(s.subject, m.subject);
    assert_eq!(s.verdict, m.verdict);
    assert_eq!(s.score, m.score);
    assert_eq!(s.action, m.action);
    assert_eq!(s.status, Status::Held);
    assert_eq!(s.size, m.raw.len() as u64);
    assert_eq!(s.sha256, sha256_hex(&m.raw));
    assert_eq!(r.threshold, m.threshold);
    assert_eq!(r.reason, m.reason);
    assert_eq!(r.symbols, m.symbols);
    assert_eq!(r.findings_json, m.findings_json);
    assert_eq!(r.attachment_names, m.attachment_names);
    let lower: Vec<String> = m
        .part_hashes
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    assert_eq!(
        r.part_hashes, lower,
        "part hashes are stored lower-case, in order"
    );

    let (from, rcpts) = store.envelope(id).await.unwrap().expect("envelope");
    assert_eq!(from, m.envelope_from);
    assert_eq!(rcpts, m.envelope_rcpts);

    let audit = store.audit(id).await.unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].action, "quarantined");
    assert_eq!(audit[0].actor, m.gateway);
    assert!(
        audit[0].at >= before && audit[0].at <= now() + 1,
        "{audit:?}"
    );
    assert!(audit[0].detail.contains("malicious"), "{audit:?}");

    // A second message gets a larger id; unknown ids are "nothing", not errors.
    let id2 = store.put(&sample(2)).await.unwrap();
    assert!(id2 > id);
    let missing = id2 + 1000;
    assert!(store.get(missing).await.unwrap().is_none());
    assert!(store.raw(missing).await.unwrap().is_none());
    assert!(store.envelope(missing).await.unwrap().is_none());
    assert!(store.audit(missing).await.unwrap().is_empty());
    assert_eq!(store.raw(id2).await.unwrap().unwrap(), sample(2).raw);

    // A 3 MB message of arbitrary bytes, and an empty one.
    let mut big = sample(3);
    big.raw = raw_message(3, 3 * 1024 * 1024);
    let id3 = store.put(&big).await.unwrap();
    assert_eq!(store.raw(id3).await.unwrap().unwrap(), big.raw);
    let mut empty = sample(4);
    empty.raw.clear();
    let id4 = store.put(&empty).await.unwrap();
    assert_eq!(store.raw(id4).await.unwrap().unwrap(), Vec::<u8>::new());
    let r4 = store.get(id4).await.unwrap().unwrap();
    assert_eq!(r4.summary.size, 0);
    assert_eq!(r4.summary.sha256, sha256_hex(b""));
    store.close().await;
}

pub async fn hostile_text_and_odd_numbers_round_trip(ctx: &Ctx) {
    let store = ctx.fresh().await;
    let m = NewMessage {
        queue_id: None,
        message_id: None,
        gateway: "gw".into(),
        envelope_from: String::new(),
        envelope_rcpts: vec![],
        subject: Some("a\0b 'quoted' \"dq\" \\ %_ 😀 請求書".into()),
        verdict: "suspicious".into(),
        score: f64::NAN,
        threshold: f64::INFINITY,
        action: "quarantine".into(),
        reason: "x'); DROP TABLE messages; --".into(),
        symbols: vec![("NEG".into(), f64::NEG_INFINITY), ("N\0UL".into(), -0.5)],
        findings_json: String::new(),
        attachment_names: vec!["\0.exe".into(), "]\",[".into()],
        part_hashes: vec![],
        raw: vec![0; 10],
        received_at: -5,
    };
    let id = store
        .put(&m)
        .await
        .expect("hostile text must not stop a put");
    let r = store.get(id).await.unwrap().unwrap();
    assert_eq!(
        r.summary.subject.as_deref(),
        Some("a\u{FFFD}b 'quoted' \"dq\" \\ %_ 😀 請求書"),
        "NUL becomes U+FFFD, the rest is exact"
    );
    assert!(r.summary.score.is_nan());
    assert_eq!(r.threshold, f64::INFINITY);
    assert_eq!(r.reason, m.reason);
    assert_eq!(r.symbols[0], ("NEG".to_string(), f64::NEG_INFINITY));
    assert_eq!(r.symbols[1], ("N\u{FFFD}UL".to_string(), -0.5));
    assert_eq!(
        r.attachment_names,
        vec!["\u{FFFD}.exe".to_string(), "]\",[".to_string()]
    );
    assert_eq!(r.summary.envelope_from, "");
    assert!(r.summary.envelope_rcpts.is_empty());
    assert!(r.part_hashes.is_empty());
    assert_eq!(r.summary.received_at, -5);
    assert!(
        store.list(&Filter::default()).await.unwrap().len() == 1,
        "tables intact"
    );
    // Search text with LIKE wildcards and quotes matches literally.
    let none = Filter {
        sender: Some("%".into()),
        recipient: Some("'".into()),
        ..Filter::default()
    };
    assert!(store.list(&none).await.unwrap().is_empty());
}

pub async fn long_lists_keep_their_order(ctx: &Ctx) {
    let store = ctx.fresh().await;
    let mut m = sample(7);
    m.envelope_rcpts = (0..450)
        .map(|i| format!("user{i:03}@corp.example"))
        .collect();
    m.symbols = (0..230)
        .map(|i| (format!("SYM_{i}"), f64::from(i) / 8.0))
        .collect();
    m.part_hashes = (0..401u32).map(|i| sha256_hex(&i.to_le_bytes())).collect();
    m.attachment_names = (0..300).map(|i| format!("file{i}.bin")).collect();
    let id = store.put(&m).await.unwrap();
    let r = store.get(id).await.unwrap().unwrap();
    assert_eq!(r.summary.envelope_rcpts, m.envelope_rcpts);
    assert_eq!(r.symbols, m.symbols);
    assert_eq!(r.part_hashes, m.part_hashes);
    assert_eq!(r.attachment_names, m.attachment_names);
    let listed = store.list(&Filter::default()).await.unwrap();
    assert_eq!(listed[0].envelope_rcpts, m.envelope_rcpts);
    let f = Filter {
        recipient: Some("user449@".into()),
        symbol: Some("SYM_229".into()),
        hash: Some(sha256_hex(&400u32.to_le_bytes())),
        ..Filter::default()
    };
    assert_eq!(list_ids(&store, f).await, vec![id]);
}

pub async fn list_filters_each_field(ctx: &Ctx) {
    let store = ctx.fresh().await;
    let h1 = sha256_hex(b"h1");
    let h2 = sha256_hex(b"h2");
    let h3 = sha256_hex(b"h3");

    let mut m1 = sample(1);
    m1.envelope_from = "Alice@Example.ORG".into();
    m1.envelope_rcpts = vec!["bob@corp.example".into()];
    m1.verdict = "malicious".into();
    m1.symbols = vec![("OLE_MACRO_AUTOEXEC".into(), 12.0)];
    m1.part_hashes = vec![h1.clone()];
    m1.received_at = 1000;
    let mut m2 = sample(2);
    m2.envelope_from = "eve@ÉVIL.example".into();
    m2.envelope_rcpts = vec!["Carol@Corp.Example".into(), "dave@other.example".into()];
    m2.verdict = "suspicious".into();
    m2.symbols = vec![
        ("ZIP_ENCRYPTED".into(), 4.0),
        ("FROM_NAME_SPOOF".into(), 2.0),
    ];
    m2.part_hashes = vec![h2.clone(), h3.to_ascii_uppercase()];
    m2.received_at = 2000;
    let mut m3 = sample(3);
    m3.envelope_from = "100%_off@spam.example".into();
    m3.envelope_rcpts = vec!["bob@corp.example".into()];
    m3.verdict = "suspicious".into();
    m3.symbols = vec![];
    m3.part_hashes = vec![];
    m3.received_at = 3000;
    let (i1, i2, i3) = (
        store.put(&m1).await.unwrap(),
        store.put(&m2).await.unwrap(),
        store.put(&m3).await.unwrap(),
    );
    store
        .set_status(i3, Status::Released, "admin", "ok")
        .await
        .unwrap();

    let all = store.list(&Filter::default()).await.unwrap();
    assert_eq!(ids(&all), vec![i3, i2, i1], "newest first");
    assert_eq!(all[1].envelope_rcpts, m2.envelope_rcpts);
    assert_eq!(all[0].status, Status::Released);
    assert_eq!(all[2].sha256, sha256_hex(&m1.raw));

    let f = |g: fn(&mut Filter)| {
        let mut f = Filter::default();
        g(&mut f);
        f
    };
    let cases: Vec<(&str, Filter, Vec<i64>)> = vec![
        (
            "status held",
            f(|f| f.status = Some(Status::Held)),
            vec![i2, i1],
        ),
        (
            "status released",
            f(|f| f.status = Some(Status::Released)),
            vec![i3],
        ),
        (
            "status deleted",
            f(|f| f.status = Some(Status::Deleted)),
            vec![],
        ),
        (
            "verdict",
            f(|f| f.verdict = Some("suspicious".into())),
            vec![i3, i2],
        ),
        (
            "verdict exact",
            f(|f| f.verdict = Some("Suspicious".into())),
            vec![],
        ),
        (
            "sender domain",
            f(|f| f.sender = Some("example.org".into())),
            vec![i1],
        ),
        (
            "sender case",
            f(|f| f.sender = Some("ALICE".into())),
            vec![i1],
        ),
        (
            "sender non-ASCII case",
            f(|f| f.sender = Some("évil".into())),
            vec![i2],
        ),
        (
            "sender literal %",
            f(|f| f.sender = Some("%".into())),
            vec![i3],
        ),
        (
            "sender literal _",
            f(|f| f.sender = Some("_".into())),
            vec![i3],
        ),
        (
            "sender 0%_o",
            f(|f| f.sender = Some("0%_O".into())),
            vec![i3],
        ),
        (
            "sender none",
            f(|f| f.sender = Some("nobody".into())),
            vec![],
        ),
        (
            "recipient domain",
            f(|f| f.recipient = Some("CORP.example".into())),
            vec![i3, i2, i1],
        ),
        (
            "recipient second",
            f(|f| f.recipient = Some("other".into())),
            vec![i2],
        ),
        (
            "recipient case",
            f(|f| f.recipient = Some("carol".into())),
            vec![i2],
        ),
        (
            "symbol",
            f(|f| f.symbol = Some("ZIP_ENCRYPTED".into())),
            vec![i2],
        ),
        (
            "symbol case-sensitive",
            f(|f| f.symbol = Some("zip_encrypted".into())),
            vec![],
        ),
        (
            "symbol exact",
            f(|f| f.symbol = Some("OLE_MACRO".into())),
            vec![],
        ),
        ("since", f(|f| f.since = Some(2000)), vec![i3, i2]),
        ("until exclusive", f(|f| f.until = Some(2000)), vec![i1]),
        (
            "window",
            f(|f| {
                f.since = Some(1500);
                f.until = Some(2500)
            }),
            vec![i2],
        ),
        ("limit", f(|f| f.limit = Some(2)), vec![i3, i2]),
        (
            "offset",
            f(|f| {
                f.limit = Some(2);
                f.offset = Some(2)
            }),
            vec![i1],
        ),
        ("limit 0", f(|f| f.limit = Some(0)), vec![]),
        (
            "combined",
            f(|f| {
                f.verdict = Some("suspicious".into());
                f.recipient = Some("bob".into())
            }),
            vec![i3],
        ),
    ];
    for (name, filter, want) in cases {
        assert_eq!(list_ids(&store, filter).await, want, "filter: {name}");
    }

    // Hash filters: message hash (any case) and part hashes.
    let by_hash = |h: String| Filter {
        hash: Some(h),
        ..Filter::default()
    };
    assert_eq!(
        list_ids(&store, by_hash(sha256_hex(&m1.raw))).await,
        vec![i1]
    );
    assert_eq!(
        list_ids(&store, by_hash(sha256_hex(&m2.raw).to_ascii_uppercase())).await,
        vec![i2]
    );
    assert_eq!(list_ids(&store, by_hash(h1)).await, vec![i1]);
    assert_eq!(
        list_ids(&store, by_hash(h3)).await,
        vec![i2],
        "part hash given upper-case"
    );
    assert_eq!(list_ids(&store, by_hash(format!(" {h2} "))).await, vec![i2]);
    assert!(
        list_ids(&store, by_hash(sha256_hex(b"none")))
            .await
            .is_empty()
    );

    // Same received time: the later put (larger id) comes first.
    let mut m4 = sample(4);
    m4.received_at = 3000;
    let i4 = store.put(&m4).await.unwrap();
    assert_eq!(
        list_ids(&store, f(|f| f.since = Some(3000))).await,
        vec![i4, i3]
    );
}

pub async fn status_transitions_write_audit_in_order(ctx: &Ctx) {
    let store = ctx.fresh().await;
    let before = now();
    let id = store.put(&sample(1)).await.unwrap();
    let status = |s: &Store| {
        let s = s.clone();
        async move { s.get(id).await.unwrap().unwrap().summary.status }
    };
    let refused = |r: Result<(), StoreError>, cur: Status, req: Status| match r {
        Err(StoreError::Transition {
            id: got,
            current,
            requested,
            ..
        }) => {
            assert_eq!((got, current, requested), (id, cur, req));
        }
        other => panic!("expected a transition error {cur} -> {req}, got {other:?}"),
    };

    store
        .set_status(id, Status::Released, "admin1", "postsuper -H 4Xq1Zk")
        .await
        .unwrap();
    assert_eq!(status(&store).await, Status::Released);
    let err = store
        .set_status(id, Status::Released, "admin2", "again")
        .await;
    let text = format!("{}", err.as_ref().unwrap_err());
    assert!(text.contains("already released"), "{text}");
    assert!(
        text.contains(&store.describe()),
        "error names the store: {text}"
    );
    refused(err, Status::Released, Status::Released);
    refused(
        store
            .set_status(id, Status::Held, "admin2", "re-hold")
            .await,
        Status::Released,
        Status::Held,
    );
    store
        .set_status_forced(id, Status::Released, "admin2", "retry release")
        .await
        .unwrap();
    store
        .set_status_forced(id, Status::Held, "admin2", "back on hold")
        .await
        .unwrap();
    assert_eq!(status(&store).await, Status::Held);
    assert!(
        store.raw(id).await.unwrap().is_some(),
        "release/hold keep the bytes"
    );
    store
        .set_status(id, Status::Deleted, "admin3", "phish")
        .await
        .unwrap();
    assert_eq!(status(&store).await, Status::Deleted);
    assert!(
        store.raw(id).await.unwrap().is_none(),
        "deleting purges the bytes"
    );
    refused(
        store.set_status(id, Status::Released, "admin3", "").await,
        Status::Deleted,
        Status::Released,
    );
    refused(
        store
            .set_status_forced(id, Status::Released, "admin3", "")
            .await,
        Status::Deleted,
        Status::Released,
    );
    refused(
        store
            .set_status_forced(id, Status::Held, "admin3", "")
            .await,
        Status::Deleted,
        Status::Held,
    );
    refused(
        store.delete_raw(id, "admin3").await,
        Status::Deleted,
        Status::Deleted,
    );
    store
        .set_status_forced(id, Status::Deleted, "admin3", "again")
        .await
        .unwrap();
    store
        .record_export(id, "admin4", "/tmp/case-17.eml")
        .await
        .unwrap();

    let trail = store.audit(id).await.unwrap();
    let got: Vec<(&str, &str, &str)> = trail
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str(), e.detail.as_str()))
        .collect();
    assert_eq!(
        got[1..],
        [
            ("released", "admin1", "postsuper -H 4Xq1Zk"),
            ("released", "admin2", "retry release"),
            ("held", "admin2", "back on hold"),
            ("deleted", "admin3", "phish"),
            ("deleted", "admin3", "again"),
            ("exported", "admin4", "/tmp/case-17.eml"),
        ]
    );
    assert_eq!((got[0].0, got[0].1), ("quarantined", "mx1.example.jp"));
    assert!(trail.windows(2).all(|w| w[0].at <= w[1].at), "{trail:?}");
    assert!(
        trail.iter().all(|e| e.at >= before && e.at <= now() + 1),
        "{trail:?}"
    );

    // Unknown ids.
    let missing = id + 100;
    for r in [
        store.set_status(missing, Status::Released, "a", "").await,
        store.delete_raw(missing, "a").await,
        store.record_export(missing, "a", "").await,
    ] {
        assert!(
            matches!(r, Err(StoreError::NotFound { id, .. }) if id == missing),
            "{r:?}"
        );
    }
    assert_eq!(
        store.audit(id).await.unwrap().len(),
        trail.len(),
        "failed changes write no audit"
    );

    // Two admins releasing at once: exactly one wins.
    let id2 = store.put(&sample(2)).await.unwrap();
    let (a, b) = (store.clone(), store.clone());
    let ta = tokio::spawn(async move { a.set_status(id2, Status::Released, "a", "").await });
    let tb = tokio::spawn(async move { b.set_status(id2, Status::Released, "b", "").await });
    let (ra, rb) = (ta.await.unwrap(), tb.await.unwrap());
    assert!(ra.is_ok() != rb.is_ok(), "{ra:?} {rb:?}");
    assert_eq!(store.audit(id2).await.unwrap().len(), 2);
}

pub async fn delete_raw_purges_bytes_keeps_metadata(ctx: &Ctx) {
    let store = ctx.fresh().await;
    let (m1, m2) = (sample(1), sample(2));
    let id1 = store.put(&m1).await.unwrap();
    let id2 = store.put(&m2).await.unwrap();
    store.delete_raw(id1, "admin").await.unwrap();
    assert!(store.raw(id1).await.unwrap().is_none());
    let r = store.get(id1).await.unwrap().expect("metadata kept");
    assert_eq!(r.summary.status, Status::Deleted);
    assert_eq!(r.summary.size, m1.raw.len() as u64);
    assert_eq!(r.summary.sha256, sha256_hex(&m1.raw));
    assert_eq!(r.symbols, m1.symbols);
    assert_eq!(
        store.envelope(id1).await.unwrap().unwrap().1,
        m1.envelope_rcpts
    );
    let last = store.audit(id1).await.unwrap().pop().unwrap();
    assert_eq!(
        (last.action.as_str(), last.actor.as_str()),
        ("deleted", "admin")
    );
    assert_eq!(last.detail, "raw message purged");
    assert_eq!(
        store.raw(id2).await.unwrap().unwrap(),
        m2.raw,
        "other messages untouched"
    );
    let hash = Filter {
        hash: Some(sha256_hex(&m1.raw)),
        ..Filter::default()
    };
    assert_eq!(
        list_ids(&store, hash).await,
        vec![id1],
        "deleted messages stay searchable"
    );
}

pub async fn expire_purges_old_messages(ctx: &Ctx) {
    let store = ctx.fresh().await;
    let mut ids = Vec::new();
    for (n, at) in [(1, 100), (2, 200), (3, 300), (4, 400), (5, 500)] {
        let mut m = sample(n);
        m.received_at = at;
        ids.push(store.put(&m).await.unwrap());
    }
    store
        .set_status(ids[1], Status::Released, "admin", "")
        .await
        .unwrap();
    store.delete_raw(ids[2], "admin").await.unwrap();
    assert_eq!(
        store.expire(350, "retention").await.unwrap(),
        2,
        "100 (held) and 200 (released)"
    );
    for (i, id) in ids.iter().enumerate() {
        let r = store.get(*id).await.unwrap().unwrap();
        let old = i < 3;
        assert_eq!(r.summary.status == Status::Deleted, old, "message {i}");
        assert_eq!(store.raw(*id).await.unwrap().is_none(), old, "message {i}");
    }
    for id in &ids[..2] {
        let last = store.audit(*id).await.unwrap().pop().unwrap();
        assert_eq!(
            (last.action.as_str(), last.actor.as_str()),
            ("deleted", "retention")
        );
        assert!(last.detail.contains("350"), "{last:?}");
    }
    let trail3 = store.audit(ids[2]).await.unwrap();
    assert_eq!(
        trail3.last().unwrap().actor,
        "admin",
        "already deleted: no retention entry"
    );
    assert_eq!(
        store.expire(350, "retention").await.unwrap(),
        0,
        "idempotent"
    );

    // More than one batch.
    let n = EXPIRE_BATCH as u32 + 7;
    let mut m = sample(9);
    m.raw = b"small".to_vec();
    m.received_at = 50;
    for _ in 0..n {
        store.put(&m).await.unwrap();
    }
    assert_eq!(store.expire(60, "retention").await.unwrap(), u64::from(n));
    let deleted = Filter {
        status: Some(Status::Deleted),
        limit: Some(10_000),
        ..Filter::default()
    };
    assert_eq!(store.list(&deleted).await.unwrap().len(), n as usize + 3);
    let held = Filter {
        status: Some(Status::Held),
        ..Filter::default()
    };
    assert_eq!(list_ids(&store, held).await, vec![ids[4], ids[3]]);
}

pub async fn concurrent_puts_are_unique_and_durable(ctx: &Ctx) {
    let url = ctx.fresh_url().await;
    let store = Store::open(&url).await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..8u32 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for i in 0..25u32 {
                let m = sample(t * 100 + i);
                got.push((s.put(&m).await.expect("concurrent put"), m.raw));
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<i64> = all.iter().map(|(id, _)| *id).collect();
    assert_eq!(unique.len(), 200, "ids are unique");
    store.close().await;

    // Another handle (another process, in real life) sees every message.
    let again = Store::open(&url).await.unwrap();
    let listed = again
        .list(&Filter {
            limit: Some(1_000),
            ..Filter::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 200);
    for (id, raw) in &all {
        assert_eq!(
            again.raw(*id).await.unwrap().as_ref(),
            Some(raw),
            "message {id}"
        );
    }
}

pub async fn reopen_keeps_data_and_refuses_newer_schema(ctx: &Ctx) {
    let url = ctx.fresh_url().await;
    let store = Store::open(&url).await.unwrap();
    let id = store.put(&sample(1)).await.unwrap();
    store.close().await;
    let store = Store::open(&url).await.expect("reopen");
    assert_eq!(store.raw(id).await.unwrap().unwrap(), sample(1).raw);
    assert!(store.put(&sample(2)).await.unwrap() > id);
    store.close().await;

    ctx.exec(&url, "UPDATE schema_version SET version = 99")
        .await;
    match Store::open(&url).await {
        Err(e @ StoreError::SchemaTooNew { found: 99, .. }) => {
            assert!(e.to_string().contains("upgrade kensa"), "{e}");
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}
