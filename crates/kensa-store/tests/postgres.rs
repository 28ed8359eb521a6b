//! The shared cases (`support/cases.rs`) against a real PostgreSQL server, plus what only
//! PostgreSQL has (URLs with passwords, gateways creating the schema at the same time).
//!
//! One `#[test]` starts one server for this binary (`support/postgres.sh`), runs every case
//! in a fresh database, one after the other, and stops the server before reporting: a failing
//! case does not stop the others, and no server outlives the binary (the guard stops it; a
//! watchdog covers a killed binary). Without PostgreSQL installed the test fails, naming the
//! package; it never skips.

mod support;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

use kensa_store::{Store, StoreError};
use support::pg::PgServer;
use support::{Ctx, sample};

type Case = fn(&Ctx) -> Pin<Box<dyn Future<Output = ()> + '_>>;

macro_rules! case_list {
    ($($name:ident),* $(,)?) => {
        vec![$((stringify!($name), (|c| Box::pin(support::cases::$name(c))) as Case)),*]
    };
}

#[test]
fn postgres_backend() {
    let server = PgServer::start();
    let ctx = Ctx::postgres(&server.url);
    let mut cases: Vec<(&str, Case)> = support::cases::for_each_case!(case_list);
    cases.push(("url_password_is_never_shown", |c| {
        Box::pin(url_password_is_never_shown(c))
    }));
    cases.push(("gateways_create_the_schema_together", |c| {
        Box::pin(gateways_create_the_schema_together(c))
    }));

    let mut failed = Vec::new();
    for (name, case) in cases {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let started = std::time::Instant::now();
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| rt.block_on(case(&ctx))));
        eprintln!(
            "postgres case {name}: {} in {:.2?}",
            if outcome.is_ok() { "ok" } else { "FAILED" },
            started.elapsed()
        );
        if outcome.is_err() {
            failed.push(name);
        }
    }
    drop(server);
    assert!(
        failed.is_empty(),
        "PostgreSQL cases failed: {failed:?} (panic messages above)"
    );
}

/// `describe` and every error show the URL without its password.
async fn url_password_is_never_shown(ctx: &Ctx) {
    let url = ctx.fresh_url().await;
    let (head, rest) = url.split_once("postgres@").expect("postgres user in URL");
    let with_pw = format!("{head}postgres:S3cret%21pw@{rest}");
    let store = Store::open(&with_pw)
        .await
        .expect("trust auth ignores the password");
    assert_eq!(store.describe(), url);
    assert!(store.is_postgres());
    assert!(!format!("{store:?}").contains("S3cret"));
    store.put(&sample(1)).await.unwrap();
    store.close().await;

    // No TLS backend is compiled in: `sslmode=require` is an error, not plain text.
    let err = Store::open(&format!("{with_pw}?sslmode=require"))
        .await
        .expect_err("no TLS");
    let shown = format!("{err} / {err:?}");
    assert!(
        !shown.contains("S3cret") && shown.contains("TLS"),
        "{shown}"
    );

    // A URL with a password in the query too, pointing at a port where nothing listens.
    let dead = "postgres://kensa:S3cret%21pw@127.0.0.1:1/kensa?password=S3cret2&sslmode=disable";
    let started = std::time::Instant::now();
    let err = Store::open(dead)
        .await
        .expect_err("nothing listens on port 1");
    assert!(
        started.elapsed() < kensa_store::ACQUIRE_TIMEOUT * 2,
        "bounded wait"
    );
    let shown = format!("{err} / {err:?}");
    eprintln!("dead PostgreSQL URL: {err}");
    assert!(!shown.contains("S3cret"), "{shown}");
    assert!(
        shown.contains("postgres://kensa@127.0.0.1:1/kensa?sslmode=disable"),
        "{shown}"
    );
    assert!(
        matches!(err, StoreError::Database { what: "open", .. }),
        "{err:?}"
    );
    assert!(
        shown.to_lowercase().contains("refused"),
        "says why: {shown}"
    );
}

/// Several gateways starting at once on an empty database all get a working store.
async fn gateways_create_the_schema_together(ctx: &Ctx) {
    let url = ctx.fresh_url().await;
    let mut tasks = Vec::new();
    for i in 0..6u32 {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let s = Store::open(&url).await?;
            s.put(&sample(i)).await
        }));
    }
    for t in tasks {
        t.await.unwrap().expect("concurrent open + put");
    }
    let s = Store::open(&url).await.unwrap();
    assert_eq!(s.list(&Default::default()).await.unwrap().len(), 6);
}
