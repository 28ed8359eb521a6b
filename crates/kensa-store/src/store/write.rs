//! Writes: `put`, status changes, purges, export records and retention. Each is one
//! transaction that also writes its audit entries, so the trail never disagrees with the data.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use super::{BeginWrite, Fail, Store, now, on_pool};
use crate::types::{NewMessage, Status};
use crate::{MAX_RAW_BYTES, StoreError};

/// Rows per multi-row `INSERT` (keeps the parameter count far below SQLite's 32,766).
const ROWS_PER_INSERT: usize = 200;
/// Messages purged per transaction by [`Store::expire`].
pub const EXPIRE_BATCH: u64 = 500;

const INSERT_MESSAGE: &str = "INSERT INTO messages (received_at, gateway, queue_id, message_id, \
     envelope_from, envelope_from_lc, subject, verdict, score, threshold, action, reason, status, \
     size, sha256, findings_json, attachment_names, raw) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
     $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id";
const INSERT_AUDIT: &str =
    "INSERT INTO audit (message, at, actor, action, detail) VALUES ($1, $2, $3, $4, $5)";
const INSERT_AUDIT_IF_EXISTS: &str = "INSERT INTO audit (message, at, actor, action, detail) \
     SELECT id, $2, $3, $4, $5 FROM messages WHERE id = $1";
const UPDATE_STATUS: &str =
    "UPDATE messages SET status = $1 WHERE id = $2 AND status IN ($3, $4, $5)";
const UPDATE_STATUS_PURGE: &str =
    "UPDATE messages SET status = $1, raw = NULL WHERE id = $2 AND status IN ($3, $4, $5)";
const SELECT_STATUS: &str = "SELECT status FROM messages WHERE id = $1";
const EXPIRE_SOME: &str = "UPDATE messages SET status = 'deleted', raw = NULL \
     WHERE status <> 'deleted' AND received_at < $1 AND id IN (SELECT id FROM messages \
     WHERE status <> 'deleted' AND received_at < $1 ORDER BY id LIMIT $2) RETURNING id";

/// `INSERT … VALUES ($1, …), (…)` for `rows` rows of `cols` columns.
fn values_sql(head: &str, cols: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(head.len() + rows * cols * 6);
    sql.push_str(head);
    let mut n = 0usize;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols {
            n += 1;
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&n.to_string());
        }
        sql.push(')');
    }
    sql
}

/// Inserts `$items` in chunks of [`ROWS_PER_INSERT`] rows; `$bind` binds one row's values to
/// `$q` given its position `$pos` (0-based, over all chunks) and the item `$item`.
macro_rules! insert_rows {
    ($tx:ident, $head:expr, $cols:expr, $items:expr, |$q:ident, $pos:ident, $item:ident| $bind:expr) => {
        for (chunk_no, chunk) in $items.chunks(ROWS_PER_INSERT).enumerate() {
            let sql = values_sql($head, $cols, chunk.len());
            let mut $q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (i, $item) in chunk.iter().enumerate() {
                let $pos = i64::try_from(chunk_no * ROWS_PER_INSERT + i).unwrap_or(i64::MAX);
                $q = $bind;
            }
            $q.execute(&mut *$tx).await?;
        }
    };
}

/// Replaces NUL characters (which PostgreSQL text cannot hold) by U+FFFD.
fn clean(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Lower-cases for the case-insensitive filters (the same function lowers the search text).
pub(crate) fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// A [`NewMessage`] made ready for the database.
struct Prepared<'a> {
    queue_id: Option<Cow<'a, str>>,
    message_id: Option<Cow<'a, str>>,
    gateway: Cow<'a, str>,
    envelope_from: Cow<'a, str>,
    from_lc: String,
    rcpts: Vec<(Cow<'a, str>, String)>,
    subject: Option<Cow<'a, str>>,
    verdict: Cow<'a, str>,
    action: Cow<'a, str>,
    reason: Cow<'a, str>,
    symbols: Vec<(Cow<'a, str>, f64)>,
    findings_json: Cow<'a, str>,
    attachment_names: String,
    part_hashes: Vec<String>,
    size: i64,
    sha256: String,
}

impl<'a> Prepared<'a> {
    fn new(m: &'a NewMessage) -> Prepared<'a> {
        let envelope_from = clean(&m.envelope_from);
        let names: Vec<Cow<'_, str>> = m.attachment_names.iter().map(|n| clean(n)).collect();
        Prepared {
            queue_id: m.queue_id.as_deref().map(clean),
            message_id: m.message_id.as_deref().map(clean),
            gateway: clean(&m.gateway),
            from_lc: fold(&envelope_from),
            envelope_from,
            rcpts: m
                .envelope_rcpts
                .iter()
                .map(|r| {
                    let r = clean(r);
                    let lc = fold(&r);
                    (r, lc)
                })
                .collect(),
            subject: m.subject.as_deref().map(clean),
            verdict: clean(&m.verdict),
            action: clean(&m.action),
            reason: clean(&m.reason),
            symbols: m.symbols.iter().map(|(n, s)| (clean(n), *s)).collect(),
            findings_json: clean(&m.findings_json),
            // Serialising a list of strings cannot fail.
            attachment_names: serde_json::to_string(&names).unwrap_or_else(|_| "[]".into()),
            part_hashes: m
                .part_hashes
                .iter()
                .map(|h| clean(h.trim()).to_ascii_lowercase())
                .collect(),
            size: i64::try_from(m.raw.len()).unwrap_or(i64::MAX),
            sha256: hex(&Sha256::digest(&m.raw)),
        }
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// States a message may be in for a change to `to` (see [`Store::set_status`]).
fn allowed_from(to: Status, force: bool) -> &'static [Status] {
    match (to, force) {
        (Status::Held, false) => &[],
        (Status::Held, true) => &[Status::Held, Status::Released],
        (Status::Released, false) => &[Status::Held],
        (Status::Released, true) => &[Status::Held, Status::Released],
        (Status::Deleted, false) => &[Status::Held, Status::Released],
        (Status::Deleted, true) => &[Status::Held, Status::Released, Status::Deleted],
    }
}

impl Store {
    /// Stores a held message with its "quarantined" audit entry (actor: the gateway) in one
    /// transaction; returns its id. When this returns `Ok` the transaction is committed and on
    /// disk (SQLite `synchronous=FULL`; PostgreSQL `synchronous_commit=on`, set per connection),
    /// so the milter may tell Postfix to drop its copy. On `Err` nothing is stored: answer
    /// tempfail. The SHA-256 of `raw` is computed here. Messages over [`MAX_RAW_BYTES`] are
    /// refused ([`StoreError::TooLarge`]); the MTA's `message_size_limit` (Postfix default
    /// 10,240,000) keeps real mail far below that.
    pub async fn put(&self, msg: &NewMessage) -> Result<i64, StoreError> {
        let size = u64::try_from(msg.raw.len()).unwrap_or(u64::MAX);
        if size > MAX_RAW_BYTES {
            return Err(StoreError::TooLarge {
                store: self.describe(),
                size,
                limit: MAX_RAW_BYTES,
            });
        }
        let p = Prepared::new(msg);
        let at = now();
        let detail = format!(
            "verdict {}, score {} / {}, action {}",
            p.verdict, msg.score, msg.threshold, p.action
        );
        let done: Result<i64, Fail> = on_pool!(self, pool => async {
            let _turn = self.writer_turn().await;
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(INSERT_MESSAGE)
                .bind(msg.received_at)
                .bind(p.gateway.as_ref())
                .bind(p.queue_id.as_deref())
                .bind(p.message_id.as_deref())
                .bind(p.envelope_from.as_ref())
                .bind(p.from_lc.as_str())
                .bind(p.subject.as_deref())
                .bind(p.verdict.as_ref())
                .bind(msg.score)
                .bind(msg.threshold)
                .bind(p.action.as_ref())
                .bind(p.reason.as_ref())
                .bind(Status::Held.as_str())
                .bind(p.size)
                .bind(p.sha256.as_str())
                .bind(p.findings_json.as_ref())
                .bind(p.attachment_names.as_str())
                .bind(msg.raw.as_slice())
                .fetch_one(&mut *tx)
                .await?;
            insert_rows!(tx, "INSERT INTO message_rcpts (message, pos, rcpt, rcpt_lc) VALUES ", 4,
                p.rcpts, |q, pos, r| q.bind(id).bind(pos).bind(r.0.as_ref()).bind(r.1.as_str()));
            insert_rows!(tx, "INSERT INTO message_symbols (message, pos, name, score) VALUES ", 4,
                p.symbols, |q, pos, s| q.bind(id).bind(pos).bind(s.0.as_ref()).bind(s.1));
            insert_rows!(tx, "INSERT INTO message_parts (message, pos, sha256) VALUES ", 3,
                p.part_hashes, |q, pos, h| q.bind(id).bind(pos).bind(h.as_str()));
            sqlx::query(INSERT_AUDIT)
                .bind(id)
                .bind(at)
                .bind(p.gateway.as_ref())
                .bind("quarantined")
                .bind(detail.as_str())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(id)
        }
        .await);
        done.map_err(self.fail("put"))
    }

    /// Changes a message's status and appends an audit entry (action = the new status's name:
    /// `released`, `deleted`, `held`), in one transaction.
    ///
    /// Allowed: held → released; held or released → deleted (which also purges the raw bytes,
    /// like [`Store::delete_raw`]). Anything else is [`StoreError::Transition`] naming the
    /// current status (e.g. releasing an already released or deleted message), or
    /// [`StoreError::NotFound`]. Concurrent changes are safe: the update is conditional on the
    /// current status, so of two admins releasing at once one succeeds and one gets the error.
    pub async fn set_status(
        &self,
        id: i64,
        status: Status,
        actor: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.transition(id, status, actor, detail, false).await
    }

    /// [`Store::set_status`] that also allows repeating a change (release again after a failed
    /// `postsuper -H`, delete again) and putting a released message back on hold. Nothing
    /// leaves `deleted`: the bytes are gone.
    pub async fn set_status_forced(
        &self,
        id: i64,
        status: Status,
        actor: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.transition(id, status, actor, detail, true).await
    }

    /// Purges the raw bytes and marks the message deleted, keeping metadata and audit trail
    /// (audit detail "raw message purged"). Deleting an already deleted message is a
    /// [`StoreError::Transition`] error.
    pub async fn delete_raw(&self, id: i64, actor: &str) -> Result<(), StoreError> {
        self.transition(id, Status::Deleted, actor, "raw message purged", false)
            .await
    }

    async fn transition(
        &self,
        id: i64,
        to: Status,
        actor: &str,
        detail: &str,
        force: bool,
    ) -> Result<(), StoreError> {
        let from = allowed_from(to, force);
        let from_at = |i: usize| from.get(i).map_or("", |s| s.as_str());
        let (actor, detail) = (clean(actor), clean(detail));
        let sql = if to == Status::Deleted {
            UPDATE_STATUS_PURGE
        } else {
            UPDATE_STATUS
        };
        let at = now();
        let done: Result<(), Fail> = on_pool!(self, pool => async {
            let _turn = self.writer_turn().await;
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query(sql)
                .bind(to.as_str())
                .bind(id)
                .bind(from_at(0))
                .bind(from_at(1))
                .bind(from_at(2))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                let current: Option<String> = sqlx::query_scalar(SELECT_STATUS)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                return Err(self.refused(id, to, current).into());
            }
            sqlx::query(INSERT_AUDIT)
                .bind(id)
                .bind(at)
                .bind(actor.as_ref())
                .bind(to.as_str())
                .bind(detail.as_ref())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }
        .await);
        done.map_err(self.fail("status change"))
    }

    /// The error for a refused status change, given the status found.
    fn refused(&self, id: i64, requested: Status, current: Option<String>) -> StoreError {
        let store = self.describe();
        match current {
            None => StoreError::NotFound { store, id },
            Some(s) => match s.parse::<Status>() {
                Ok(current) => StoreError::Transition {
                    store,
                    id,
                    current,
                    requested,
                },
                Err(e) => StoreError::Corrupt {
                    store,
                    id,
                    field: "status",
                    reason: e.to_string(),
                },
            },
        }
    }

    /// Appends an `exported` audit entry (e.g. detail = where the copy went).
    /// [`StoreError::NotFound`] if there is no such message.
    pub async fn record_export(
        &self,
        id: i64,
        actor: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let (actor, detail) = (clean(actor), clean(detail));
        let at = now();
        let done: Result<u64, Fail> = on_pool!(self, pool => async {
            let _turn = self.writer_turn().await;
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(INSERT_AUDIT_IF_EXISTS)
                .bind(id)
                .bind(at)
                .bind(actor.as_ref())
                .bind("exported")
                .bind(detail.as_ref())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(n)
        }
        .await);
        match done.map_err(self.fail("record export"))? {
            0 => Err(StoreError::NotFound {
                store: self.describe(),
                id,
            }),
            _ => Ok(()),
        }
    }

    /// Retention: every message received before `older_than` (unix seconds) that is not yet
    /// deleted loses its raw bytes and becomes deleted, each with a `deleted` audit entry
    /// (detail "retention: received before …"). Works in transactions of [`EXPIRE_BATCH`]
    /// messages, so a large backlog does not hold the write lock for long; returns how many
    /// messages were expired.
    pub async fn expire(&self, older_than: i64, actor: &str) -> Result<u64, StoreError> {
        let actor = clean(actor);
        let detail = format!("retention: received before {older_than}");
        let mut total = 0u64;
        loop {
            let n = self.expire_batch(older_than, &actor, &detail).await?;
            total = total.saturating_add(n);
            if n < EXPIRE_BATCH {
                return Ok(total);
            }
        }
    }

    async fn expire_batch(
        &self,
        older_than: i64,
        actor: &str,
        detail: &str,
    ) -> Result<u64, StoreError> {
        let at = now();
        let batch = i64::try_from(EXPIRE_BATCH).unwrap_or(i64::MAX);
        let done: Result<u64, Fail> = on_pool!(self, pool => async {
            let _turn = self.writer_turn().await;
            let mut tx = pool.begin_write().await?;
            let ids: Vec<i64> = sqlx::query_scalar(EXPIRE_SOME)
                .bind(older_than)
                .bind(batch)
                .fetch_all(&mut *tx)
                .await?;
            insert_rows!(tx, "INSERT INTO audit (message, at, actor, action, detail) VALUES ", 5,
                ids, |q, _pos, id| q.bind(*id).bind(at).bind(actor).bind("deleted").bind(detail));
            tx.commit().await?;
            Ok(u64::try_from(ids.len()).unwrap_or(u64::MAX))
        }
        .await);
        done.map_err(self.fail("expire"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_sql_numbers_every_parameter() {
        assert_eq!(
            values_sql("INSERT INTO t (a, b) VALUES ", 2, 1),
            "INSERT INTO t (a, b) VALUES ($1, $2)"
        );
        assert_eq!(values_sql("V ", 3, 2), "V ($1, $2, $3), ($4, $5, $6)");
    }

    #[test]
    fn clean_replaces_nul_only() {
        assert_eq!(clean("a\0b"), "a\u{FFFD}b");
        assert!(matches!(clean("日本語"), Cow::Borrowed("日本語")));
    }

    #[test]
    fn hex_is_lower_case() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f, 0xff]), "00ab7fff");
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn nothing_leaves_deleted() {
        for force in [false, true] {
            for to in [Status::Held, Status::Released] {
                assert!(!allowed_from(to, force).contains(&Status::Deleted));
            }
        }
        assert!(allowed_from(Status::Held, false).is_empty());
        assert_eq!(allowed_from(Status::Released, false), &[Status::Held]);
    }
}
