//! Shared test support: a context that hands out fresh stores (SQLite files in a tempdir, or
//! databases on a PostgreSQL server this test binary started), sample messages, and the test
//! cases both backends run (`cases`).
#![allow(dead_code)]

pub mod cases;
pub mod pg;

use std::sync::atomic::{AtomicU32, Ordering};

use kensa_store::{NewMessage, Store};
use sha2::{Digest, Sha256};

/// Where the fresh stores of one test come from.
pub enum Ctx {
    /// SQLite files in a temporary directory.
    Sqlite {
        dir: tempfile::TempDir,
        n: AtomicU32,
    },
    /// Databases on a running PostgreSQL server; `base` is `postgres://user@host:port/`.
    Postgres { base: String, n: AtomicU32 },
}

impl Ctx {
    /// SQLite files in a new temporary directory.
    pub fn sqlite() -> Ctx {
        Ctx::Sqlite {
            dir: tempfile::tempdir().expect("tempdir"),
            n: AtomicU32::new(0),
        }
    }

    /// Databases on the server whose `kensa_test` database URL is `url`.
    pub fn postgres(url: &str) -> Ctx {
        let base = url
            .rsplit_once('/')
            .map(|(b, _)| format!("{b}/"))
            .expect("URL with a database");
        Ctx::Postgres {
            base,
            n: AtomicU32::new(0),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Ctx::Postgres { .. })
    }

    /// The address of a new, empty store (not opened yet).
    pub async fn fresh_url(&self) -> String {
        match self {
            Ctx::Sqlite { dir, n } => {
                let i = n.fetch_add(1, Ordering::Relaxed);
                dir.path().join(format!("q{i}.db")).display().to_string()
            }
            Ctx::Postgres { base, n } => {
                let i = n.fetch_add(1, Ordering::Relaxed);
                let name = format!("kensa_case_{i}");
                let admin = format!("{base}postgres");
                let pool = sqlx::PgPool::connect(&admin)
                    .await
                    .expect("admin connection");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&pool)
                    .await
                    .expect("CREATE DATABASE");
                pool.close().await;
                format!("{base}{name}")
            }
        }
    }

    /// Opens a new, empty store.
    pub async fn fresh(&self) -> Store {
        let url = self.fresh_url().await;
        Store::open(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"))
    }

    /// Runs one SQL statement on the store at `url` behind the store's back.
    pub async fn exec(&self, url: &str, sql: &'static str) {
        match self {
            Ctx::Sqlite { .. } => {
                let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(url);
                let pool = sqlx::SqlitePool::connect_with(opts).await.expect("connect");
                sqlx::query(sql).execute(&pool).await.expect(sql);
                pool.close().await;
            }
            Ctx::Postgres { .. } => {
                let pool = sqlx::PgPool::connect(url).await.expect("connect");
                sqlx::query(sql).execute(&pool).await.expect(sql);
                pool.close().await;
            }
        }
    }
}

/// SHA-256 as lower-case hex.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A raw message with CRLF, 8-bit, NUL and every byte value, `n` distinguishing it.
pub fn raw_message(n: u32, body_len: usize) -> Vec<u8> {
    let mut raw = format!(
        "From: sender{n}@example.org\r\nTo: rcpt@example.jp\r\nSubject: =?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=\r\nMessage-ID: <{n}@example.org>\r\n\r\n"
    )
    .into_bytes();
    raw.extend(0u8..=255);
    raw.extend_from_slice(b"\0\0\xff\xfe\x1b$B\r\n");
    let mut x = 0x9e37_79b9_u32 ^ n;
    while raw.len() < body_len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        raw.push(x.to_le_bytes()[0]);
    }
    raw
}

/// A complete sample message; `n` makes it distinct.
pub fn sample(n: u32) -> NewMessage {
    NewMessage {
        queue_id: Some(format!("4Xq{n}Zk")),
        message_id: Some(format!("<{n}@example.org>")),
        gateway: "mx1.example.jp".into(),
        envelope_from: format!("sender{n}@example.org"),
        envelope_rcpts: vec!["rcpt@example.jp".into(), "二人目@例え.jp".into()],
        subject: Some("請求書の送付 (invoice)".into()),
        verdict: "malicious".into(),
        score: 17.5,
        threshold: 6.0,
        action: "quarantine".into(),
        reason: "macro document with auto-exec".into(),
        symbols: vec![
            ("OLE_MACRO_AUTOEXEC".into(), 12.0),
            ("ZIP_ENCRYPTED".into(), 5.5),
        ],
        findings_json: r#"{"findings":[{"symbol":"OLE_MACRO_AUTOEXEC","path":"a.zip/b.doc"}]}"#
            .into(),
        attachment_names: vec!["請求書.zip".into(), "b \"quoted\" \\.doc".into()],
        part_hashes: vec![sha256_hex(b"part one"), sha256_hex(b"part two")],
        raw: raw_message(n, 2_000),
        received_at: 1_700_000_000 + i64::from(n),
    }
}
