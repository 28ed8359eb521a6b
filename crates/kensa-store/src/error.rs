//! Store errors. Every variant names the store ([`Store::describe`](crate::Store::describe): the
//! path, or the URL without its password) so a milter log line or a CLI error says which database
//! failed. Any error from [`Store::put`](crate::Store::put) means the message is NOT stored: the
//! milter must answer tempfail (or apply its `on_error` policy), never accept.

use crate::types::Status;

/// What went wrong, and in which store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The argument to [`Store::open`](crate::Store::open) is not a usable path or URL.
    #[error("S001 quarantine store `{store}`: {reason}")]
    BadAddress {
        /// The address as far as it is safe to show (password removed).
        store: String,
        /// Why it was refused.
        reason: String,
    },
    /// The database answered with an error or could not be reached.
    #[error("S002 quarantine store {store}: {what} failed: {source}")]
    Database {
        /// Which store.
        store: String,
        /// The operation (`open`, `put`, `list`, …).
        what: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The database was created by a newer kensa.
    #[error(
        "S003 quarantine store {store}: schema version {found} is newer than this kensa supports ({supported}); upgrade kensa"
    )]
    SchemaTooNew {
        /// Which store.
        store: String,
        /// Version found in `schema_version`.
        found: i64,
        /// Highest version this build understands.
        supported: i64,
    },
    /// No message with this id.
    #[error("S004 quarantine store {store}: no message with id {id}")]
    NotFound {
        /// Which store.
        store: String,
        /// The id asked for.
        id: i64,
    },
    /// The status change is not allowed from the current state (see [`Store::set_status`](crate::Store::set_status)).
    #[error(
        "S005 quarantine store {store}: message {id} is already {current}; cannot mark it {requested}"
    )]
    Transition {
        /// Which store.
        store: String,
        /// The message.
        id: i64,
        /// Its status now.
        current: Status,
        /// The status asked for.
        requested: Status,
    },
    /// The raw message is larger than [`MAX_RAW_BYTES`](crate::MAX_RAW_BYTES).
    #[error(
        "S006 quarantine store {store}: message of {size} bytes exceeds the {limit}-byte limit"
    )]
    TooLarge {
        /// Which store.
        store: String,
        /// Size of the message.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A stored value does not have the shape the store wrote (edited by hand, or disk damage).
    #[error("S007 quarantine store {store}: message {id}: stored {field} is corrupt: {reason}")]
    Corrupt {
        /// Which store.
        store: String,
        /// The message (0 when not tied to one).
        id: i64,
        /// Which column.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}
