//! `Store::put` latency: 1,000 puts of a 20 KB message, one after the other (what one milter
//! session waits for), then the same count from 8 concurrent tasks, on SQLite (a file in a
//! tempdir under /tmp) and on a PostgreSQL server started for the run (`tests/support/
//! postgres.sh`; needs Debian's `postgresql` package). Every put is committed and synced.
//!
//! Run: `cargo bench -p kensa-store --bench put_latency` (optimised `bench` profile).
//! `KENSA_BENCH_PUTS` changes the count. Prints one CSV line per run:
//! `backend,mode,puts,bytes,p50_ms,p99_ms,max_ms,puts_per_s`.

#[path = "../tests/support/pg.rs"]
mod pg;

use std::time::{Duration, Instant};

use kensa_store::{NewMessage, Store};
use pg::PgServer;

const MESSAGE_BYTES: usize = 20 * 1024;
const TASKS: usize = 8;

fn main() {
    let puts: usize = std::env::var("KENSA_BENCH_PUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!("backend,mode,puts,bytes,p50_ms,p99_ms,max_ms,puts_per_s");

    let dir = tempfile::tempdir_in("/tmp").expect("tempdir");
    let sqlite = dir.path().join("bench.db").display().to_string();
    rt.block_on(run("sqlite", &sqlite, puts));

    let server = PgServer::start();
    rt.block_on(run("postgres", &server.url, puts));
    drop(server);
}

async fn run(backend: &str, url: &str, puts: usize) {
    let store = Store::open(url).await.expect("open");
    let msg = message();
    for _ in 0..20 {
        store.put(&msg).await.expect("warm-up put");
    }

    let started = Instant::now();
    let mut times = Vec::with_capacity(puts);
    for _ in 0..puts {
        let t = Instant::now();
        store.put(&msg).await.expect("put");
        times.push(t.elapsed());
    }
    report(backend, "sequential", times, started.elapsed());

    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (store, msg) = (store.clone(), msg.clone());
        let n = puts / TASKS;
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(n);
            for _ in 0..n {
                let t = Instant::now();
                store.put(&msg).await.expect("put");
                times.push(t.elapsed());
            }
            times
        }));
    }
    let mut times = Vec::new();
    for t in tasks {
        times.extend(t.await.expect("task"));
    }
    report(backend, "8-tasks", times, started.elapsed());
    store.close().await;
}

fn report(backend: &str, mode: &str, mut times: Vec<Duration>, wall: Duration) {
    times.sort_unstable();
    let at = |q: f64| {
        let i = ((times.len() as f64 - 1.0) * q).round() as usize;
        times[i.min(times.len() - 1)].as_secs_f64() * 1e3
    };
    println!(
        "{backend},{mode},{},{MESSAGE_BYTES},{:.3},{:.3},{:.3},{:.0}",
        times.len(),
        at(0.50),
        at(0.99),
        at(1.0),
        times.len() as f64 / wall.as_secs_f64()
    );
}

/// A held message as the milter would store it, with a 20 KB body of arbitrary bytes.
fn message() -> NewMessage {
    let mut raw = b"From: a@example.org\r\nTo: b@example.jp\r\nSubject: bench\r\n\r\n".to_vec();
    let mut x = 0x2545_f491_u32;
    while raw.len() < MESSAGE_BYTES {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        raw.push(x.to_le_bytes()[0]);
    }
    NewMessage {
        queue_id: Some("4XqBench".into()),
        message_id: Some("<bench@example.org>".into()),
        gateway: "mx1.example.jp".into(),
        envelope_from: "a@example.org".into(),
        envelope_rcpts: vec!["b@example.jp".into(), "c@example.jp".into()],
        subject: Some("bench".into()),
        verdict: "malicious".into(),
        score: 17.5,
        threshold: 6.0,
        action: "quarantine".into(),
        reason: "macro document with auto-exec".into(),
        symbols: vec![
            ("OLE_MACRO_AUTOEXEC".into(), 12.0),
            ("ZIP_ENCRYPTED".into(), 5.5),
        ],
        findings_json: r#"{"findings":[{"symbol":"OLE_MACRO_AUTOEXEC"}]}"#.into(),
        attachment_names: vec!["invoice.zip".into()],
        part_hashes: vec!["00".repeat(32), "11".repeat(32)],
        raw,
        received_at: 1_700_000_000,
    }
}
