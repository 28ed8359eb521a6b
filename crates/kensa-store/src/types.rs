//! The records the store takes and gives back, the review filter and the audit trail.

use std::fmt;
use std::str::FromStr;

/// A message the milter has decided to hold, as handed to [`Store::put`](crate::Store::put).
///
/// Text fields may carry anything the mail carried (decoded subjects and file names are
/// attacker-chosen): the store keeps them as given, except that NUL characters are replaced by
/// U+FFFD (PostgreSQL text cannot hold NUL; SQLite is treated the same so both backends answer
/// alike). The raw message is kept byte-exact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewMessage {
    /// Postfix queue ID (milter macro `i`), when known.
    pub queue_id: Option<String>,
    /// The `Message-ID` header, when present.
    pub message_id: Option<String>,
    /// Host name of the milter (gateway) that held the message.
    pub gateway: String,
    /// Envelope sender (`MAIL FROM`), empty for the null sender.
    pub envelope_from: String,
    /// Envelope recipients (`RCPT TO`), in SMTP order.
    pub envelope_rcpts: Vec<String>,
    /// The decoded `Subject`.
    pub subject: Option<String>,
    /// Verdict (`clean`, `suspicious`, `malicious`, `incomplete`, …).
    pub verdict: String,
    /// Total score.
    pub score: f64,
    /// The score the verdict was measured against.
    pub threshold: f64,
    /// Policy action taken (`quarantine`, …).
    pub action: String,
    /// Human-readable reason for the action.
    pub reason: String,
    /// Symbols that fired, with their scores, in the order given.
    pub symbols: Vec<(String, f64)>,
    /// The full findings as JSON; opaque to the store.
    pub findings_json: String,
    /// Attachment file names, in message order.
    pub attachment_names: Vec<String>,
    /// SHA-256 (hex) of every MIME part / artefact; stored lower-case.
    pub part_hashes: Vec<String>,
    /// The whole original message, byte-exact.
    pub raw: Vec<u8>,
    /// When the gateway received the message (unix seconds).
    pub received_at: i64,
}

/// Review state of a quarantined message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Held: the raw message is in the store, waiting for review.
    Held,
    /// Released to its recipients (the raw message is kept until deleted or expired).
    Released,
    /// Deleted: the raw message is purged; metadata and audit trail remain.
    Deleted,
}

impl Status {
    /// All states, in lifecycle order.
    pub const ALL: [Status; 3] = [Status::Held, Status::Released, Status::Deleted];

    /// The lower-case name stored in the database and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Held => "held",
            Status::Released => "released",
            Status::Deleted => "deleted",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is not `held`, `released` or `deleted`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown quarantine status `{0}` (expected held, released or deleted)")]
pub struct ParseStatusError(pub String);

impl FromStr for Status {
    type Err = ParseStatusError;

    /// Accepts the names [`Status::as_str`] gives, in any ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseStatusError(s.to_string()))
    }
}

/// One line of the review list.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Store-assigned id (unique, increasing, never reused).
    pub id: i64,
    /// When the gateway received the message (unix seconds).
    pub received_at: i64,
    /// Host name of the milter that held it.
    pub gateway: String,
    /// Postfix queue ID.
    pub queue_id: Option<String>,
    /// `Message-ID` header.
    pub message_id: Option<String>,
    /// Envelope sender.
    pub envelope_from: String,
    /// Envelope recipients in SMTP order.
    pub envelope_rcpts: Vec<String>,
    /// Decoded subject.
    pub subject: Option<String>,
    /// Verdict.
    pub verdict: String,
    /// Score (NaN if the milter stored a NaN).
    pub score: f64,
    /// Action taken.
    pub action: String,
    /// Review state.
    pub status: Status,
    /// Size of the raw message in bytes (kept after the bytes are purged).
    pub size: u64,
    /// SHA-256 (lower-case hex) of the raw message, computed by the store.
    pub sha256: String,
}

/// Everything the store knows about a message except its raw bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The list fields.
    pub summary: Summary,
    /// Threshold the score was measured against.
    pub threshold: f64,
    /// Reason for the action.
    pub reason: String,
    /// Symbols with scores, in the order given to `put`.
    pub symbols: Vec<(String, f64)>,
    /// The findings JSON as given to `put`.
    pub findings_json: String,
    /// Attachment names in the order given.
    pub attachment_names: Vec<String>,
    /// Part hashes (lower-case hex) in the order given.
    pub part_hashes: Vec<String>,
}

/// Review filter for [`Store::list`](crate::Store::list). Every field that is set must match;
/// the default matches everything (newest [`DEFAULT_LIST_LIMIT`](crate::DEFAULT_LIST_LIMIT) first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Exact status.
    pub status: Option<Status>,
    /// Exact verdict.
    pub verdict: Option<String>,
    /// Substring of the envelope sender, case-insensitive (Unicode lower-casing).
    pub sender: Option<String>,
    /// Substring of any envelope recipient, case-insensitive.
    pub recipient: Option<String>,
    /// Exact symbol name (case-sensitive) among the symbols that fired.
    pub symbol: Option<String>,
    /// SHA-256 hex (any case) of the whole message or of any part.
    pub hash: Option<String>,
    /// Received at or after (unix seconds, inclusive).
    pub since: Option<i64>,
    /// Received before (unix seconds, exclusive).
    pub until: Option<i64>,
    /// At most this many results; `None` means [`DEFAULT_LIST_LIMIT`](crate::DEFAULT_LIST_LIMIT),
    /// larger values are capped at [`MAX_LIST_LIMIT`](crate::MAX_LIST_LIMIT).
    pub limit: Option<u32>,
    /// Skip this many results first (paging; addition to the brief's API).
    pub offset: Option<u32>,
}

/// One entry of a message's audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When (unix seconds, the clock of the host that wrote the entry).
    pub at: i64,
    /// Who: the gateway host name for `quarantined`, the admin (or `retention`) otherwise.
    pub actor: String,
    /// `quarantined`, `released`, `deleted`, `held` (forced re-hold) or `exported`.
    pub action: String,
    /// Free text (reason, export target, …).
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_and_rejects_unknown() {
        for st in Status::ALL {
            assert_eq!(st.to_string().parse::<Status>(), Ok(st));
        }
        assert_eq!(" Released ".parse::<Status>(), Ok(Status::Released));
        assert_eq!("HELD".parse::<Status>(), Ok(Status::Held));
        let err = "purged".parse::<Status>().unwrap_err();
        assert!(err.to_string().contains("`purged`"), "{err}");
        assert!("".parse::<Status>().is_err());
    }
}
