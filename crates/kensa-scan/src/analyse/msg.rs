//! Outlook `.msg` files (MS-OXMSG), as Japanese companies save suspicious mail: the same mail-level
//! signals as for an RFC 5322 message, password candidates from the body, attachments as children.
//! When the message came from the internet its original header block is kept (transport headers)
//! and read with the mail parser; otherwise the sender and recipients are taken from the properties.

use kensa_core::{Finding, Location, Severity};
use kensa_formats::msg::{self, AttachmentContent, Msg, MsgLimits, RecipientKind};
use kensa_formats::ole::OleFile;
use kensa_mail::message::Mail;
use kensa_mail::password::html_to_text;
use kensa_mail::signals::{MailAddr, MailFacts};

use super::Output;
use super::mail::{attachment_context, signal_findings};
use crate::walk::{Node, unscannable};

pub(crate) fn analyse(node: &Node<'_>, ole: &mut OleFile<'_>) -> Output {
    let mut out = Output::default();
    let cap = node.budget.entry_cap();
    let limits = MsgLimits {
        max_attachments: node.budget.limits.max_members,
        max_attachment_bytes: cap,
        max_total_bytes: usize::try_from(node.budget.remaining_bytes()).unwrap_or(usize::MAX),
        max_depth: node.budget.limits.max_depth,
        max_text_bytes: cap.min(8 << 20),
    };
    match msg::parse_ole(ole, limits) {
        Ok(m) => message(node, node.loc, &m, "", &mut out),
        Err(e) => out
            .findings
            .push(unscannable(node.loc, &format!("MSG: {e}"))),
    }
    out
}

/// One message at `loc`: its signals, and its attachments as children named `prefix` + name
/// (an embedded message's attachments keep the message's name in front: `fwd.msg/invoice.zip`).
fn message(node: &Node<'_>, loc: &Location, m: &Msg, prefix: &str, out: &mut Output) {
    if !m.problems.is_empty() || m.truncated {
        let what = if m.problems.is_empty() {
            "limits reached".to_string()
        } else {
            m.problems.join("; ")
        };
        out.findings
            .push(unscannable(loc, &format!("MSG not read whole: {what}")));
    }
    let headers = m
        .transport_headers
        .as_deref()
        .and_then(|h| Mail::parse(format!("{}\r\n\r\n", h.trim_end()).as_bytes()));
    let (from, to, cc) = match &headers {
        Some(h) => (h.from.clone(), h.to.clone(), h.cc.clone()),
        None => property_addresses(m),
    };
    let subject = m
        .subject
        .clone()
        .or_else(|| headers.as_ref().map(|h| h.subject.clone()))
        .unwrap_or_default();
    let html = m
        .body_html
        .as_deref()
        .map(|b| String::from_utf8_lossy(b).into_owned());
    let text = match (&m.body_text, &html) {
        (Some(t), _) => t.clone(),
        (None, Some(h)) => html_to_text(h),
        (None, None) => String::new(),
    };
    let facts = MailFacts {
        from: from.as_ref(),
        to: &to,
        cc: &cc,
        reply_to: headers.as_ref().and_then(|h| h.reply_to.as_ref()),
        subject: &subject,
        has_in_reply_to: headers.as_ref().is_some_and(|h| h.has_in_reply_to),
        has_references: headers.as_ref().is_some_and(|h| h.has_references),
        message_id: m
            .message_id
            .as_deref()
            .or(headers.as_ref().and_then(|h| h.message_id.as_deref())),
        text: &text,
    };
    signal_findings(loc, &facts, out);

    let names: Vec<&str> = m.attachments.iter().map(|a| a.name.as_str()).collect();
    let texts: Vec<&str> = m.body_text.as_deref().into_iter().collect();
    let htmls: Vec<&str> = html.as_deref().into_iter().collect();
    let ctx = attachment_context(node, &subject, &texts, &htmls, &names);
    for a in &m.attachments {
        let name = format!("{prefix}{}", a.name);
        match &a.content {
            AttachmentContent::Data(data) | AttachmentContent::OleStorage(data) => {
                let cut = a.truncated.then_some(node.budget.entry_cap());
                out.add_child(node, name, data.clone(), cut, &ctx, None);
            }
            AttachmentContent::Message(inner) => {
                let inner_loc = node.loc.child(name.clone());
                message(node, &inner_loc, inner, &format!("{name}/"), out);
            }
            AttachmentContent::Reference(path) => out.findings.push(Finding::new(
                "MSG_ATTACHMENT_REFERENCE",
                if super::exec::is_runnable_name(path) || path.starts_with("\\\\") {
                    Severity::Medium
                } else {
                    Severity::Info
                },
                node.loc.child(name),
                format!("attached by reference: {path}"),
            )),
            AttachmentContent::Missing => {
                if a.truncated {
                    out.findings.push(unscannable(
                        &node.loc.child(name),
                        "attachment not read (limit or damaged stream)",
                    ));
                }
            }
        }
    }
}

/// Sender and recipients from the message properties (a message written in Outlook has no
/// transport headers).
fn property_addresses(m: &Msg) -> (Option<MailAddr>, Vec<MailAddr>, Vec<MailAddr>) {
    let from = (m.sender_name.is_some() || m.sender_email.is_some()).then(|| MailAddr {
        name: m.sender_name.clone(),
        address: m.sender_email.clone(),
    });
    let list = |kind| {
        m.recipients_of(kind)
            .map(|r| MailAddr {
                name: r.name.clone(),
                address: r.email.clone(),
            })
            .collect::<Vec<_>>()
    };
    (from, list(RecipientKind::To), list(RecipientKind::Cc))
}
