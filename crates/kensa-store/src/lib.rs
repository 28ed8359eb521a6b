//! kensa's quarantine store: the messages `kensa milter` holds, and what `kensa quarantine
//! list|show|release|delete|export` reviews.
//!
//! **Backends.** SQLite by default (one file; several gateways on one host may open the same
//! file), PostgreSQL by URL so several gateways share one store. Both go through sqlx 0.9 with
//! plain `sqlx::query` + binds (no compile-time checked macros, no `any` driver); the SQL is
//! written once with `$N` placeholders and compiled for each pool (see `store`), the DDL twice
//! where the dialects differ (see [`schema`]).
//!
//! **Durability.** [`Store::put`] is one transaction (message, its lists, its "quarantined"
//! audit entry) and returns only after commit: SQLite runs in WAL mode with
//! `synchronous=FULL`; PostgreSQL connections set `synchronous_commit=on`. That is what lets
//! the milter tell Postfix to drop its copy. Any error means nothing was stored: the milter
//! answers tempfail. Status changes, purges, export records and retention write their audit
//! entries in the same transaction as the change.
//!
//! **Layout.** Raw bytes live in a `BLOB`/`BYTEA` column, read whole into memory; messages are
//! bounded by the MTA's size limit (Postfix `message_size_limit`, default 10,240,000 bytes) and
//! the store refuses anything over [`MAX_RAW_BYTES`]. Recipients, symbols and part hashes are
//! child tables (ordered by position) so the review filters are exact and indexed; attachment
//! names are a JSON array (shown, not searched). Indexes: received time, sender, status,
//! message SHA-256, part SHA-256, recipient, symbol. Purged bytes are unreadable through the
//! store at once; on disk SQLite overwrites them with zeros (`secure_delete=ON`) and reuses the
//! pages (the file does not shrink without `VACUUM`), PostgreSQL frees them at its next
//! (auto)vacuum.
//!
//! **Limits.** [`Store::list`] returns at most [`DEFAULT_LIST_LIMIT`] rows unless told
//! otherwise and never more than [`MAX_LIST_LIMIT`] (page with [`Filter::offset`]).
//! Connection pools: [`SQLITE_POOL_SIZE`] / [`PG_POOL_SIZE`]; waiting for a connection is
//! bounded by [`ACQUIRE_TIMEOUT`], for SQLite's write lock by [`BUSY_TIMEOUT`]. NUL characters
//! in text fields become U+FFFD (PostgreSQL text cannot hold NUL); raw bytes are exact.
//!
//! **Runtime.** Async on tokio (a runtime with I/O and time enabled, e.g. `#[tokio::main]`).
//! [`Store`] is `Clone` and shared by all tasks of a process.
//!
//! **Not here.** PostgreSQL over TLS (no sqlx TLS feature is compiled in: `sslmode=prefer`
//! falls back to plain TCP, `sslmode=require` fails; keep the database on a trusted network or
//! add `tls-rustls-ring-native-roots`). Encryption at rest of the raw message
//! (gateway-and-hub spec §5). The hold-queue side (`postsuper -H/-d`) belongs to the caller.

pub mod schema;

mod error;
mod store;
mod target;
mod types;

pub use error::StoreError;
pub use schema::SCHEMA_VERSION;
pub use store::{
    ACQUIRE_TIMEOUT, BUSY_TIMEOUT, EXPIRE_BATCH, PG_POOL_SIZE, SQLITE_POOL_SIZE, Store,
};
pub use types::{AuditEntry, Filter, NewMessage, ParseStatusError, Record, Status, Summary};

/// How [`Store::open`] would show `url_or_path` ([`Store::describe`]'s form), without
/// connecting; an error if it would refuse the address.
pub fn describe_address(url_or_path: &str) -> Result<String, StoreError> {
    target::parse(url_or_path).map(|t| t.shown().to_string())
}

/// Largest raw message [`Store::put`] accepts (256 MiB; PostgreSQL's `bytea` and SQLite's
/// default blob limit are both about 1 GB).
pub const MAX_RAW_BYTES: u64 = 256 * 1024 * 1024;

/// Rows [`Store::list`] returns when [`Filter::limit`] is `None`.
pub const DEFAULT_LIST_LIMIT: u32 = 1_000;

/// Most rows one [`Store::list`] call returns, whatever [`Filter::limit`] says.
pub const MAX_LIST_LIMIT: u32 = 100_000;
