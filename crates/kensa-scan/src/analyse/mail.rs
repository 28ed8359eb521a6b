//! A message: mail-level signals, password candidates for what it carries, and its attachments.

use std::sync::Arc;

use kensa_core::{Finding, Location, Severity};
use kensa_mail::message::Mail;
use kensa_mail::password::{self, CandidateSource};
use kensa_mail::signals::{self, MailFacts, SignalKind};

use super::Output;
use crate::walk::{Child, Context, Node, PasswordSource};

/// Password candidates kept per message (spec §2.6: ≤ 20 tries for AES, ≤ 100 for ZipCrypto).
const MAX_CANDIDATES: usize = 40;

pub(crate) fn analyse(node: &Node<'_>) -> Output {
    let mut out = Output::default();
    let Some(mail) = Mail::parse(strip_from_line(node.data)) else {
        out.findings.push(crate::walk::unscannable(
            node.loc,
            "no message header could be read",
        ));
        return out;
    };
    if !mail.problems.is_empty() {
        out.findings.push(Finding::new(
            "MAIL_MALFORMED",
            Severity::Info,
            node.loc.clone(),
            mail.problems.join("; "),
        ));
    }
    let body = mail.body_text();
    let facts = MailFacts {
        from: mail.from.as_ref(),
        to: &mail.to,
        cc: &mail.cc,
        reply_to: mail.reply_to.as_ref(),
        subject: &mail.subject,
        has_in_reply_to: mail.has_in_reply_to,
        has_references: mail.has_references,
        message_id: mail.message_id.as_deref(),
        text: &body,
    };
    signal_findings(node.loc, &facts, &mut out);
    let names: Vec<&str> = mail
        .attachments
        .iter()
        .filter_map(|a| a.name.as_deref())
        .collect();
    let texts: Vec<&str> = mail.texts.iter().map(String::as_str).collect();
    let htmls: Vec<&str> = mail.htmls.iter().map(String::as_str).collect();
    let ctx = attachment_context(node, &mail.subject, &texts, &htmls, &names);

    // The walker opens at most max_members children and reports the rest; one more is enough to say so.
    let limit = node.budget.limits.max_members.saturating_add(1);
    for (i, a) in mail.attachments.into_iter().enumerate().take(limit) {
        if !node.budget.spend(a.data.len() as u64) {
            out.findings.push(crate::walk::unscannable(
                node.loc,
                "byte budget for this item used up",
            ));
            break;
        }
        let name = a.name.clone().unwrap_or_else(|| {
            if a.is_message {
                format!("message-{}", i + 1)
            } else {
                format!("part-{}", i + 1)
            }
        });
        out.children.push(Child {
            name,
            data: a.data,
            ctx: ctx.clone(),
            via: None,
        });
    }
    out
}

/// An mbox `From ` separator line before the headers is not part of the message.
fn strip_from_line(data: &[u8]) -> &[u8] {
    if data.starts_with(b"From ") {
        match memchr::memchr(b'\n', data) {
            Some(i) => &data[i + 1..],
            None => &[],
        }
    } else {
        data
    }
}

/// The context for a message's attachments: inside a mail, with the passwords the message states
/// (after the user's, before the guesses).
pub(crate) fn attachment_context(
    node: &Node<'_>,
    subject: &str,
    texts: &[&str],
    htmls: &[&str],
    attachment_names: &[&str],
) -> Context {
    let stems: Vec<&str> = attachment_names
        .iter()
        .map(|n| n.rsplit_once('.').map_or(*n, |(s, _)| s))
        .collect();
    let found = password::candidates(subject, texts, htmls, &stems, MAX_CANDIDATES);
    let in_body = found
        .iter()
        .any(|c| !matches!(c.source, CandidateSource::Fallback));
    let inherited = node.ctx.passwords.as_ref();
    let mut passwords: Vec<(String, PasswordSource)> = Vec::new();
    let body: Vec<(String, PasswordSource)> = found
        .into_iter()
        .map(|c| {
            let src = match c.source {
                CandidateSource::Fallback => PasswordSource::Guess,
                _ => PasswordSource::Body,
            };
            (c.password, src)
        })
        .collect();
    for rank in [
        PasswordSource::User,
        PasswordSource::Body,
        PasswordSource::Guess,
    ] {
        for (pw, src) in inherited.iter().chain(body.iter()) {
            if *src == rank && !passwords.iter().any(|(p, _)| p == pw) {
                passwords.push((pw.clone(), *src));
            }
        }
    }
    let mut ctx = node.ctx.clone();
    ctx.depth += 1;
    ctx.in_mail = true;
    ctx.in_archive = false;
    ctx.password_in_body = in_body;
    ctx.passwords = Arc::new(passwords);
    ctx
}

/// Mail-level signals (spec §3.2) of one message, at `loc`.
pub(crate) fn signal_findings(loc: &Location, facts: &MailFacts<'_>, out: &mut Output) {
    for s in signals::signals(facts) {
        let (symbol, severity) = match s.kind {
            SignalKind::DisplayNameAddressMismatch => {
                ("DISPLAY_NAME_ADDRESS_MISMATCH", Severity::Low)
            }
            SignalKind::DisplayNameRecipientDomain => {
                ("DISPLAY_NAME_RECIPIENT_DOMAIN", Severity::Medium)
            }
            SignalKind::QuotedSenderMismatch => ("QUOTED_SENDER_MISMATCH", Severity::Low),
            SignalKind::FakeReply => ("FAKE_REPLY", Severity::Low),
            SignalKind::MessageIdRecipientDomain => ("MESSAGE_ID_RECIPIENT_DOMAIN", Severity::Low),
            SignalKind::ReplyToMismatch => ("REPLY_TO_MISMATCH", Severity::Info),
        };
        out.findings
            .push(Finding::new(symbol, severity, loc.clone(), s.evidence));
    }
}
