//! The [`Store`]: one connection pool (SQLite or PostgreSQL) and the operations on it.
//!
//! SQL is written once with `$N` placeholders: PostgreSQL numbers its parameters that way, and
//! the sqlx SQLite driver binds a parameter named `$N` to the N-th bound value (SQLite itself
//! treats `$N` as a named parameter), so order and reuse behave the same in both. Each operation
//! body is written once and compiled for both pools by [`on_pool!`]. Write transactions start
//! with `BEGIN IMMEDIATE` on SQLite (the write lock is taken up front and waits up to
//! [`BUSY_TIMEOUT`], instead of failing when a read snapshot cannot be upgraded) and with a
//! plain `BEGIN` on PostgreSQL (row locks; status changes are conditional `UPDATE`s).

mod read;
mod write;

pub use write::EXPIRE_BATCH;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, Postgres};
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, Database, Transaction};

use crate::StoreError;
use crate::schema::{self, SCHEMA_VERSION};
use crate::target::{self, Target};

/// Connections per SQLite store (readers run in parallel under WAL; writers take turns).
pub const SQLITE_POOL_SIZE: u32 = 4;
/// Connections per PostgreSQL store, per process (each gateway and each CLI run has its own).
pub const PG_POOL_SIZE: u32 = 8;
/// How long an operation waits for a pooled connection (including connecting) before failing.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a SQLite writer waits for another writer's lock before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The pool behind a store.
#[derive(Clone)]
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

/// The quarantine store. Cheap to clone (the pool is shared); safe to use from many tasks.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    shown: String,
    /// SQLite write turns of this process (see [`Store::writer_turn`]).
    writer: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("store", &self.shown).finish()
    }
}

/// Runs `$body` with `$pool` bound to the concrete pool: the body is written once and compiled
/// for SQLite and for PostgreSQL.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite($pool) => $body,
            $crate::store::Backend::Pg($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// An error inside an operation body: the driver's, or one of ours already built.
pub(crate) enum Fail {
    Db(sqlx::Error),
    Store(StoreError),
}

impl From<sqlx::Error> for Fail {
    fn from(e: sqlx::Error) -> Self {
        Fail::Db(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

/// Starts a write transaction the way each backend needs.
pub(crate) trait BeginWrite {
    type Db: Database;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<Transaction<'static, Self::Db>, sqlx::Error>>;
}

impl BeginWrite for SqlitePool {
    type Db = Sqlite;
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Db = Postgres;
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.begin().await
    }
}

/// In transaction `$tx`: reads the schema version and, unless the database is newer, runs the
/// DDL and records [`SCHEMA_VERSION`]; evaluates to the version found before.
macro_rules! create_schema {
    ($tx:ident, $ddl:expr) => {{
        sqlx::query(schema::CREATE_VERSION_TABLE)
            .execute(&mut *$tx)
            .await?;
        let found: Option<i64> = sqlx::query_scalar(schema::SELECT_VERSION)
            .fetch_one(&mut *$tx)
            .await?;
        if !found.is_some_and(|v| v > SCHEMA_VERSION) {
            for stmt in $ddl {
                sqlx::query(stmt).execute(&mut *$tx).await?;
            }
            if found.is_none() {
                sqlx::query(schema::INSERT_VERSION)
                    .bind(SCHEMA_VERSION)
                    .execute(&mut *$tx)
                    .await?;
            }
        }
        found
    }};
}

impl Store {
    /// Opens (and if needed creates) a store.
    ///
    /// `postgres://…` / `postgresql://…` → PostgreSQL (the database must exist; tables are
    /// created). `sqlite:PATH`, `sqlite://PATH` or a plain path → SQLite (the file is created if
    /// missing, its directory is not; WAL journal, `synchronous=FULL`, `secure_delete=ON`,
    /// foreign keys on). A PostgreSQL server is tried once directly first so an unreachable
    /// one fails within [`ACQUIRE_TIMEOUT`] saying why. Needs a tokio runtime with I/O and
    /// time enabled.
    pub async fn open(url_or_path: &str) -> Result<Store, StoreError> {
        let target = target::parse(url_or_path)?;
        let shown = target.shown().to_string();
        let db_err = |source| StoreError::Database {
            store: shown.clone(),
            what: "open",
            source,
        };
        let backend = match target {
            Target::Sqlite { path, .. } => {
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(BUSY_TIMEOUT)
                    .foreign_keys(true)
                    // Purged messages are overwritten with zeros, not just unlinked.
                    .pragma("secure_delete", "ON");
                let pool = SqlitePoolOptions::new()
                    .max_connections(SQLITE_POOL_SIZE)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await
                    .map_err(db_err)?;
                Backend::Sqlite(pool)
            }
            Target::Postgres { options, .. } => {
                let mut options = options.options([("synchronous_commit", "on")]);
                if options.get_application_name().is_none() {
                    options = options.application_name("kensa-store");
                }
                probe_postgres(&options).await.map_err(db_err)?;
                let pool = PgPoolOptions::new()
                    .max_connections(PG_POOL_SIZE)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await
                    .map_err(db_err)?;
                Backend::Pg(pool)
            }
        };
        let store = Store {
            backend,
            shown,
            writer: Arc::default(),
        };
        store.ensure_schema().await?;
        Ok(store)
    }

    /// The store as it is safe to show: `sqlite:/var/lib/kensa/quarantine.db` or
    /// `postgres://user@host:port/db` (never a password).
    pub fn describe(&self) -> String {
        self.shown.clone()
    }

    /// `true` for a PostgreSQL store.
    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Pg(_))
    }

    /// Closes the pool, waiting for connections in use to be returned (SQLite checkpoints its
    /// WAL when the last connection closes). Later calls on any clone fail.
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }

    /// SQLite has one writer at a time. Writers of this process queue here (fair, first come
    /// first served) instead of polling SQLite's lock, which under load costs hundreds of
    /// milliseconds per put; other processes on the same file still wait up to
    /// [`BUSY_TIMEOUT`]. PostgreSQL writers run in parallel: no turn.
    pub(crate) async fn writer_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite(_) => Some(self.writer.lock().await),
            Backend::Pg(_) => None,
        }
    }

    /// Maps an operation's failure to a [`StoreError`] naming this store and the operation.
    pub(crate) fn fail(&self, what: &'static str) -> impl FnOnce(Fail) -> StoreError + '_ {
        move |f| match f {
            Fail::Db(source) => StoreError::Database {
                store: self.shown.clone(),
                what,
                source,
            },
            Fail::Store(e) => e,
        }
    }

    /// Creates the tables if missing and checks the schema version.
    /// A store at the current version is only read here, so a read-only SQLite file still
    /// opens for review (writes then fail); anything else goes through the creation
    /// transaction, which reports the real error if the database cannot be written.
    async fn ensure_schema(&self) -> Result<(), StoreError> {
        let current: Result<Option<i64>, sqlx::Error> = on_pool!(self, pool => {
            sqlx::query_scalar(schema::SELECT_VERSION).fetch_one(pool).await
        });
        if matches!(current, Ok(Some(SCHEMA_VERSION))) {
            return Ok(());
        }
        let found: Result<Option<i64>, Fail> = async {
            match &self.backend {
                Backend::Sqlite(pool) => {
                    let _turn = self.writer_turn().await;
                    let mut tx = pool.begin_write().await?;
                    let found = create_schema!(tx, schema::sqlite_ddl());
                    tx.commit().await?;
                    Ok(found)
                }
                Backend::Pg(pool) => {
                    let _turn = self.writer_turn().await;
                    let mut tx = pool.begin_write().await?;
                    sqlx::query("SELECT pg_advisory_xact_lock($1)")
                        .bind(schema::PG_SCHEMA_LOCK)
                        .execute(&mut *tx)
                        .await?;
                    let found = create_schema!(tx, schema::postgres_ddl());
                    tx.commit().await?;
                    Ok(found)
                }
            }
        }
        .await;
        match found.map_err(self.fail("create schema"))? {
            Some(v) if v > SCHEMA_VERSION => Err(StoreError::SchemaTooNew {
                store: self.shown.clone(),
                found: v,
                supported: SCHEMA_VERSION,
            }),
            _ => Ok(()),
        }
    }
}

/// One direct connection before the pool is built: the pool only reports "timed out" when
/// the server cannot be reached, this says why (refused, unknown host, authentication, no such
/// database), within [`ACQUIRE_TIMEOUT`].
async fn probe_postgres(options: &PgConnectOptions) -> Result<(), sqlx::Error> {
    match tokio::time::timeout(ACQUIRE_TIMEOUT, PgConnection::connect_with(options)).await {
        Ok(Ok(conn)) => {
            // The probe's job is done; a failed goodbye changes nothing.
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(sqlx::Error::PoolTimedOut),
    }
}

/// Current time in unix seconds (0 if the clock is before 1970).
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
