//! From a received message to the replies that end it: scan, policy decision, header edits.
//!
//! Scanning is CPU work and runs outside the async server (`spawn_blocking`); this module is the
//! synchronous part. A message cut at the size limit is judged `incomplete` (an `UNSCANNABLE`
//! finding says how much was not received) and, because its bytes are not all here, is never put in
//! kensa's store: a quarantine decision for it becomes a hold in the MTA's own queue.

use kensa_core::{Finding, Location, Severity, Verdict};
use kensa_mail::message::Mail;
use kensa_scan::{ItemReport, ScanOptions, scan_bytes};
use sha2::{Digest, Sha256};

use crate::codec::{Reply, SMFIF_ADDHDRS, SMFIF_CHGHDRS, SMFIF_QUARANTINE};
use crate::config::Config;
use crate::headers::{ACTION_HEADER, RESULT_HEADER, action_value, is_kensa_header, result_value};
use crate::policy::{Action, Decision, Facts};
use crate::session::Message;
use crate::subject::{decode, tag_subject};

/// Everything decided about one message.
#[derive(Debug)]
pub struct Judgement {
    pub report: ItemReport,
    pub decision: Decision,
    /// SHA-256 of the message as received.
    pub sha256: String,
    /// Attachment names and SHA-256 of each attachment.
    pub attachments: Vec<(String, String)>,
    pub message_id: Option<String>,
    pub subject: Option<String>,
}

/// What the server must do to end the message.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Send these replies (header edits, then accept).
    Deliver(Vec<Reply>),
    /// Write the message to the store, then discard; tempfail if the write fails.
    Quarantine,
    /// Freeze the message in the MTA's hold queue (the message is not all here to be stored).
    Hold(Vec<Reply>),
    Reject(Vec<u8>),
    Discard,
    Tempfail,
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Scan and decide.
pub fn judge(msg: &Message, cfg: &Config) -> Judgement {
    let raw = msg.raw();
    let mut opts = ScanOptions {
        policy: cfg.scoring.clone(),
        ..ScanOptions::default()
    };
    opts.limits.max_time = cfg.scan_timeout;
    let mut report = scan_bytes("mail", &raw, &opts);
    if !msg.complete() {
        report.findings.push(Finding::new(
            "UNSCANNABLE",
            Severity::Medium,
            Location::root("mail"),
            format!(
                "message larger than max_message_size ({} bytes): {} bytes not received",
                cfg.max_message_size, msg.dropped
            ),
        ));
        let a = cfg.scoring.assess(&mut report.findings);
        report.verdict = a.verdict;
        report.score = a.score;
    }
    let sha256 = report.sha256.clone();
    // The parts are parsed a second time only when something needs them: the hash block list
    // (before the decision) or the quarantine record (after it).
    let mut parts = (!cfg.policy.lists.block_hashes.is_empty()).then(|| Parts::of(&raw));
    let mut hashes = vec![sha256.clone()];
    if let Some(p) = &parts {
        hashes.extend(p.attachments.iter().map(|(_, h)| h.clone()));
    }
    let decision = cfg.policy.decide(&Facts {
        verdict: report.verdict,
        score: report.score,
        sender: &msg.sender,
        recipients: &msg.recipients,
        hashes: &hashes,
    });
    if decision.action == Action::Quarantine && parts.is_none() {
        parts = Some(Parts::of(&raw));
    }
    let parts = parts.unwrap_or_default();
    Judgement {
        decision,
        sha256,
        attachments: parts.attachments,
        message_id: parts.message_id,
        subject: parts.subject,
        report,
    }
}

/// What the store and the hash list want from a message's parts.
#[derive(Default)]
struct Parts {
    attachments: Vec<(String, String)>,
    message_id: Option<String>,
    subject: Option<String>,
}

impl Parts {
    fn of(raw: &[u8]) -> Parts {
        let Some(m) = Mail::parse(raw) else {
            return Parts::default();
        };
        Parts {
            attachments: m
                .attachments
                .iter()
                .map(|a| {
                    (
                        a.name.clone().unwrap_or_default(),
                        hex(&Sha256::digest(&a.data)),
                    )
                })
                .collect(),
            message_id: m.message_id.clone(),
            subject: Some(m.subject.clone()),
        }
    }
}

/// A judgement for a message the scanner could not judge (it failed or ran out of time): the
/// `on_error` action, never a pass as clean.
pub fn failed(msg: &Message, cfg: &Config, why: &str) -> Judgement {
    let raw = msg.raw();
    let sha256 = hex(&Sha256::digest(&raw));
    let report = ItemReport {
        path: "mail".to_string(),
        kind: "mail",
        size: raw.len() as u64,
        sha256: sha256.clone(),
        verdict: Verdict::Incomplete,
        score: 0.0,
        threshold: cfg.scoring.suspicious,
        findings: vec![Finding::new(
            "UNSCANNABLE",
            Severity::Medium,
            Location::root("mail"),
            format!("scanner failed: {why}"),
        )],
        error: Some(why.to_string()),
        elapsed_ms: 0,
    };
    Judgement {
        decision: Decision {
            action: cfg.on_error,
            reason: format!("scanner failed, on_error = {}", cfg.on_error),
            subject_tag: None,
            reject_reply: String::new(),
        },
        sha256,
        attachments: Vec::new(),
        message_id: None,
        subject: None,
        report,
    }
}

/// The replies that carry out a judgement. `granted` is the action set the MTA agreed to.
pub fn outcome(msg: &Message, j: &Judgement, granted: u32) -> Outcome {
    match j.decision.action {
        Action::Accept | Action::Tag => Outcome::Deliver(delivery_edits(msg, j, granted)),
        Action::Quarantine if msg.complete() => Outcome::Quarantine,
        Action::Quarantine if granted & SMFIF_QUARANTINE != 0 => {
            let mut r = delivery_edits(msg, j, granted);
            r.insert(
                0,
                Reply::Quarantine(b"kensa: message too large to store".to_vec()),
            );
            Outcome::Hold(r)
        }
        // Neither storable nor holdable: the sender keeps it and may retry.
        Action::Quarantine | Action::Tempfail => Outcome::Tempfail,
        Action::Reject => Outcome::Reject(j.decision.reject_reply.clone().into_bytes()),
        Action::Discard => Outcome::Discard,
    }
}

/// Header edits for a delivered message: drop incoming `X-Kensa-*`, tag the subject, add ours.
fn delivery_edits(msg: &Message, j: &Judgement, granted: u32) -> Vec<Reply> {
    let value = |v: String| {
        let mut out = Vec::with_capacity(v.len() + 1);
        if msg.leading_space {
            out.push(b' ');
        }
        out.extend_from_slice(v.as_bytes());
        out
    };
    let mut replies = Vec::new();
    if granted & SMFIF_CHGHDRS != 0 {
        // Delete from the last occurrence back, so the indexes of the others do not move.
        let mut seen: Vec<(Vec<u8>, u32)> = Vec::new();
        let mut deletes = Vec::new();
        for (name, _) in &msg.headers {
            if is_kensa_header(name) {
                let lower = name.to_ascii_lowercase();
                let n = match seen.iter_mut().find(|(n, _)| *n == lower) {
                    Some((_, c)) => {
                        *c += 1;
                        *c
                    }
                    None => {
                        seen.push((lower, 1));
                        1
                    }
                };
                deletes.push(Reply::ChangeHeader {
                    index: n,
                    name: name.clone(),
                    value: Vec::new(),
                });
            }
        }
        replies.extend(deletes.into_iter().rev());
        if let Some(tag) = &j.decision.subject_tag {
            match msg
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(b"Subject"))
            {
                Some((name, raw)) => replies.push(Reply::ChangeHeader {
                    index: 1,
                    name: name.clone(),
                    value: tag_subject(raw, tag),
                }),
                None => replies.push(Reply::AddHeader {
                    name: b"Subject".to_vec(),
                    value: value(String::from_utf8_lossy(&tag_subject(b"", tag)).into_owned()),
                }),
            }
        }
    }
    // An action the MTA did not grant would break the conversation: without ADDHDRS, no headers.
    if granted & SMFIF_ADDHDRS == 0 {
        replies.retain(|r| !matches!(r, Reply::AddHeader { .. }));
        return replies;
    }
    replies.push(Reply::AddHeader {
        name: RESULT_HEADER.as_bytes().to_vec(),
        value: value(result_value(
            j.report.verdict,
            j.report.score,
            j.report.threshold,
            &j.report.findings,
        )),
    });
    replies.push(Reply::AddHeader {
        name: ACTION_HEADER.as_bytes().to_vec(),
        value: value(action_value(j.decision.action.as_str(), &j.decision.reason)),
    });
    replies
}

/// The subject a person sees, for the store (decoded, without the tag).
pub fn display_subject(msg: &Message) -> Option<String> {
    msg.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(b"Subject"))
        .map(|(_, v)| decode(v))
}
