//! Reads: the review list with its filters, one record, the raw bytes, the envelope and the
//! audit trail.
//!
//! Case-insensitive substring filters compare lower-cased copies written by `put`
//! (`envelope_from_lc`, `message_rcpts.rcpt_lc`) with the lower-cased search text using
//! `LIKE … ESCAPE '!'` (`%`, `_`, `!` in the search text are escaped), so SQLite and
//! PostgreSQL give the same answers, including for non-ASCII addresses.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use sqlx::{ColumnIndex, Decode, Row, Type};

use super::write::{fold, hex};
use super::{Fail, Store, on_pool};
use crate::types::{AuditEntry, Filter, Record, Status, Summary};
use crate::{DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, StoreError};

/// Ids per `IN (…)` list when fetching recipients for a page of summaries.
const IDS_PER_QUERY: usize = 500;

const SUMMARY_COLUMNS: &str = "m.id, m.received_at, m.gateway, m.queue_id, m.message_id, \
     m.envelope_from, m.subject, m.verdict, m.score, m.action, m.status, m.size, m.sha256";
const SELECT_RECORD: &str = "SELECT m.id, m.received_at, m.gateway, m.queue_id, m.message_id, \
     m.envelope_from, m.subject, m.verdict, m.score, m.action, m.status, m.size, m.sha256, \
     m.threshold, m.reason, m.findings_json, m.attachment_names FROM messages m WHERE m.id = $1";
const SELECT_RCPTS: &str = "SELECT rcpt FROM message_rcpts WHERE message = $1 ORDER BY pos";
const SELECT_SYMBOLS: &str =
    "SELECT name, score FROM message_symbols WHERE message = $1 ORDER BY pos";
const SELECT_PARTS: &str = "SELECT sha256 FROM message_parts WHERE message = $1 ORDER BY pos";
const SELECT_RAW: &str = "SELECT raw, sha256 FROM messages WHERE id = $1";
const SELECT_FROM: &str = "SELECT envelope_from FROM messages WHERE id = $1";
const SELECT_AUDIT: &str =
    "SELECT at, actor, action, detail FROM audit WHERE message = $1 ORDER BY id";

/// A bound value of a built query.
enum Param {
    Text(String),
    Int(i64),
}

/// Binds `$params` (a `&[Param]`) to `$q` in order.
macro_rules! bind_all {
    ($q:ident, $params:expr) => {
        for p in $params {
            $q = match p {
                Param::Text(s) => $q.bind(s.as_str()),
                Param::Int(i) => $q.bind(*i),
            };
        }
    };
}

/// Escapes `%`, `_` and the escape character `!` for `LIKE … ESCAPE '!'`.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '!') {
            out.push('!');
        }
        out.push(c);
    }
    out
}

/// The `SELECT` for a filter and its parameters.
fn list_query(f: &Filter) -> (String, Vec<Param>) {
    let mut sql = format!("SELECT {SUMMARY_COLUMNS} FROM messages m WHERE 1 = 1");
    let mut params = Vec::new();
    let mut add = |sql: &mut String, clause: &str, p: Param| {
        params.push(p);
        sql.push_str(&clause.replace("$?", &format!("${}", params.len())));
    };
    if let Some(st) = f.status {
        add(
            &mut sql,
            " AND m.status = $?",
            Param::Text(st.as_str().into()),
        );
    }
    if let Some(v) = &f.verdict {
        add(&mut sql, " AND m.verdict = $?", Param::Text(v.clone()));
    }
    if let Some(s) = &f.sender {
        let pat = format!("%{}%", like_escape(&fold(s)));
        add(
            &mut sql,
            " AND m.envelope_from_lc LIKE $? ESCAPE '!'",
            Param::Text(pat),
        );
    }
    if let Some(r) = &f.recipient {
        let pat = format!("%{}%", like_escape(&fold(r)));
        let clause = " AND EXISTS (SELECT 1 FROM message_rcpts r \
                      WHERE r.message = m.id AND r.rcpt_lc LIKE $? ESCAPE '!')";
        add(&mut sql, clause, Param::Text(pat));
    }
    if let Some(s) = &f.symbol {
        let clause = " AND EXISTS (SELECT 1 FROM message_symbols s \
                      WHERE s.message = m.id AND s.name = $?)";
        add(&mut sql, clause, Param::Text(s.clone()));
    }
    if let Some(h) = &f.hash {
        // `$?` twice would bind twice: write the number out once and reuse it.
        let clause = " AND (m.sha256 = $? OR EXISTS (SELECT 1 FROM message_parts p \
                      WHERE p.message = m.id AND p.sha256 = $?))";
        add(&mut sql, clause, Param::Text(h.trim().to_ascii_lowercase()));
    }
    if let Some(t) = f.since {
        add(&mut sql, " AND m.received_at >= $?", Param::Int(t));
    }
    if let Some(t) = f.until {
        add(&mut sql, " AND m.received_at < $?", Param::Int(t));
    }
    sql.push_str(" ORDER BY m.received_at DESC, m.id DESC");
    let limit = f.limit.unwrap_or(DEFAULT_LIST_LIMIT).min(MAX_LIST_LIMIT);
    add(&mut sql, " LIMIT $?", Param::Int(i64::from(limit)));
    add(
        &mut sql,
        " OFFSET $?",
        Param::Int(i64::from(f.offset.unwrap_or(0))),
    );
    (sql, params)
}

/// Reads the summary columns (in [`SUMMARY_COLUMNS`] order, by name) of a row.
fn summary_from<R: Row>(store: &Store, row: &R) -> Result<Summary, Fail>
where
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> f64: Decode<'r, R::Database> + Type<R::Database>,
    for<'a> &'a str: ColumnIndex<R>,
{
    let id: i64 = row.try_get("id")?;
    let status: String = row.try_get("status")?;
    let status = status
        .parse::<Status>()
        .map_err(|e| store.corrupt(id, "status", e.to_string()))?;
    let size: i64 = row.try_get("size")?;
    let size = u64::try_from(size).map_err(|e| store.corrupt(id, "size", e.to_string()))?;
    Ok(Summary {
        id,
        received_at: row.try_get("received_at")?,
        gateway: row.try_get("gateway")?,
        queue_id: row.try_get("queue_id")?,
        message_id: row.try_get("message_id")?,
        envelope_from: row.try_get("envelope_from")?,
        envelope_rcpts: Vec::new(),
        subject: row.try_get("subject")?,
        verdict: row.try_get("verdict")?,
        score: score(row.try_get("score")?),
        action: row.try_get("action")?,
        status,
        size,
        sha256: row.try_get("sha256")?,
    })
}

/// Scores: SQLite stores NaN as NULL; NULL reads back as NaN.
fn score(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

/// `IN ($1, …, $n)`.
fn in_list(n: usize) -> String {
    let items: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    format!("({})", items.join(", "))
}

impl Store {
    pub(crate) fn corrupt(&self, id: i64, field: &'static str, reason: String) -> Fail {
        Fail::Store(StoreError::Corrupt {
            store: self.describe(),
            id,
            field,
            reason,
        })
    }

    /// Messages matching `f`, newest first (by received time, then id). See [`Filter`] for the
    /// meaning of each field and the limit.
    pub async fn list(&self, f: &Filter) -> Result<Vec<Summary>, StoreError> {
        let (sql, params) = list_query(f);
        let done: Result<Vec<Summary>, Fail> = on_pool!(self, pool => async {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            bind_all!(q, &params);
            let rows = q.fetch_all(pool).await?;
            let mut out = rows
                .iter()
                .map(|row| summary_from(self, row))
                .collect::<Result<Vec<_>, _>>()?;
            let ids: Vec<i64> = out.iter().map(|s| s.id).collect();
            let mut rcpts: HashMap<i64, Vec<String>> = HashMap::new();
            for chunk in ids.chunks(IDS_PER_QUERY) {
                let sql = format!(
                    "SELECT message, rcpt FROM message_rcpts WHERE message IN {} \
                     ORDER BY message, pos",
                    in_list(chunk.len())
                );
                let mut q = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql));
                for id in chunk {
                    q = q.bind(*id);
                }
                for (id, rcpt) in q.fetch_all(pool).await? {
                    rcpts.entry(id).or_default().push(rcpt);
                }
            }
            for s in &mut out {
                s.envelope_rcpts = rcpts.remove(&s.id).unwrap_or_default();
            }
            Ok(out)
        }
        .await);
        done.map_err(self.fail("list"))
    }

    /// Everything about message `id` except the raw bytes; `None` if there is no such message.
    pub async fn get(&self, id: i64) -> Result<Option<Record>, StoreError> {
        let done: Result<Option<Record>, Fail> = on_pool!(self, pool => async {
            let Some(row) = sqlx::query(SELECT_RECORD).bind(id).fetch_optional(pool).await? else {
                return Ok(None);
            };
            let mut summary = summary_from(self, &row)?;
            summary.envelope_rcpts = sqlx::query_scalar(SELECT_RCPTS).bind(id).fetch_all(pool).await?;
            let symbols: Vec<(String, Option<f64>)> =
                sqlx::query_as(SELECT_SYMBOLS).bind(id).fetch_all(pool).await?;
            let part_hashes: Vec<String> =
                sqlx::query_scalar(SELECT_PARTS).bind(id).fetch_all(pool).await?;
            let names: String = row.try_get("attachment_names")?;
            let attachment_names: Vec<String> = serde_json::from_str(&names)
                .map_err(|e| self.corrupt(id, "attachment_names", e.to_string()))?;
            Ok(Some(Record {
                summary,
                threshold: score(row.try_get("threshold")?),
                reason: row.try_get("reason")?,
                symbols: symbols.into_iter().map(|(n, s)| (n, score(s))).collect(),
                findings_json: row.try_get("findings_json")?,
                attachment_names,
                part_hashes,
            }))
        }
        .await);
        done.map_err(self.fail("get"))
    }

    /// The raw message, byte-exact; `None` if there is no such message or its bytes were
    /// purged (use [`Store::get`] to tell which). The bytes are checked against the stored
    /// SHA-256: a mismatch is [`StoreError::Corrupt`], never silently returned.
    pub async fn raw(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        let done: Result<Option<Vec<u8>>, Fail> = on_pool!(self, pool => async {
            let row: Option<(Option<Vec<u8>>, String)> =
                sqlx::query_as(SELECT_RAW).bind(id).fetch_optional(pool).await?;
            let Some((Some(raw), sha256)) = row else {
                return Ok(None);
            };
            let actual = hex(&Sha256::digest(&raw));
            if actual != sha256 {
                return Err(self.corrupt(id, "raw", format!("SHA-256 is {actual}, expected {sha256}")));
            }
            Ok(Some(raw))
        }
        .await);
        done.map_err(self.fail("read raw message"))
    }

    /// Envelope sender and recipients (for re-injection); `None` if there is no such message.
    pub async fn envelope(&self, id: i64) -> Result<Option<(String, Vec<String>)>, StoreError> {
        let done: Result<Option<(String, Vec<String>)>, Fail> = on_pool!(self, pool => async {
            let from: Option<String> =
                sqlx::query_scalar(SELECT_FROM).bind(id).fetch_optional(pool).await?;
            let Some(from) = from else {
                return Ok(None);
            };
            let rcpts: Vec<String> =
                sqlx::query_scalar(SELECT_RCPTS).bind(id).fetch_all(pool).await?;
            Ok(Some((from, rcpts)))
        }
        .await);
        done.map_err(self.fail("read envelope"))
    }

    /// The audit trail of message `id`, oldest first (in the order written); empty if there
    /// is no such message.
    pub async fn audit(&self, id: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let done: Result<Vec<AuditEntry>, Fail> = on_pool!(self, pool => async {
            let rows: Vec<(i64, String, String, String)> =
                sqlx::query_as(SELECT_AUDIT).bind(id).fetch_all(pool).await?;
            Ok(rows
                .into_iter()
                .map(|(at, actor, action, detail)| AuditEntry { at, actor, action, detail })
                .collect())
        }
        .await);
        done.map_err(self.fail("read audit trail"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_escape_escapes_wildcards_and_itself() {
        assert_eq!(like_escape("a%b_c!d"), "a!%b!_c!!d");
        assert_eq!(like_escape("用户@例子"), "用户@例子");
    }

    #[test]
    fn list_query_numbers_parameters_in_order() {
        let f = Filter {
            status: Some(Status::Held),
            hash: Some("AB".into()),
            until: Some(5),
            ..Filter::default()
        };
        let (sql, params) = list_query(&f);
        assert!(sql.contains("m.status = $1"), "{sql}");
        assert!(sql.contains("m.sha256 = $2 OR"), "{sql}");
        assert!(sql.contains("p.sha256 = $2)"), "{sql}");
        assert!(sql.contains("m.received_at < $3"), "{sql}");
        assert!(sql.ends_with("LIMIT $4 OFFSET $5"), "{sql}");
        assert_eq!(params.len(), 5);
        assert!(matches!(&params[1], Param::Text(h) if h == "ab"));
        assert!(matches!(params[3], Param::Int(n) if n == i64::from(DEFAULT_LIST_LIMIT)));
    }

    #[test]
    fn list_limit_is_capped() {
        let f = Filter {
            limit: Some(u32::MAX),
            ..Filter::default()
        };
        let (_, params) = list_query(&f);
        assert!(matches!(params[0], Param::Int(n) if n == i64::from(MAX_LIST_LIMIT)));
    }

    #[test]
    fn in_list_counts() {
        assert_eq!(in_list(3), "($1, $2, $3)");
    }
}
