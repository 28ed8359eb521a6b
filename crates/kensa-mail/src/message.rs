//! The message model kensa works on, built from mail-parser's parse.
//!
//! mail-parser never refuses input; kensa adds what it lacks for Japanese mail (spec §4.2):
//! labels it decodes into mojibake without an error (`cp932`, `windows-932`, `iso-2022-jp-ms/-1/-2`,
//! `cp50220`, …) are rewritten to the label of the table they really use before parsing, and text
//! that arrives as unlabelled 7-bit ISO-2022-JP is decoded again.

use std::borrow::Cow;
use std::sync::LazyLock;

use mail_parser::{Address, MessageParser, MimeHeaders, PartType};
use regex::bytes::Regex;

use crate::signals::MailAddr;

/// One parsed message: the header facts the signals need, its decoded bodies and its attachments.
#[derive(Debug, Default)]
pub struct Mail {
    pub subject: String,
    pub from: Option<MailAddr>,
    pub to: Vec<MailAddr>,
    pub cc: Vec<MailAddr>,
    pub reply_to: Option<MailAddr>,
    pub message_id: Option<String>,
    pub has_in_reply_to: bool,
    pub has_references: bool,
    /// Decoded `text/plain` bodies.
    pub texts: Vec<String>,
    /// Decoded `text/html` bodies.
    pub htmls: Vec<String>,
    pub attachments: Vec<Attachment>,
    /// What was wrong with the message and was tolerated.
    pub problems: Vec<String>,
}

/// A part that is not a body: an attached file, or an attached message (`message/rfc822`).
#[derive(Debug)]
pub struct Attachment {
    /// The decoded file name (RFC 2047/2231), if the part has one.
    pub name: Option<String>,
    /// `type/subtype` as declared.
    pub content_type: String,
    /// The part's bytes after the transfer encoding was undone (a nested message: its raw bytes).
    pub data: Vec<u8>,
    pub is_message: bool,
}

impl Mail {
    /// Parse raw message bytes. `None` when nothing in them looks like a message header.
    pub fn parse(raw: &[u8]) -> Option<Mail> {
        let fixed = fix_charset_labels(raw);
        let msg = MessageParser::default().parse(fixed.as_ref())?;
        if msg.headers().is_empty() {
            return None;
        }
        let mut mail = Mail {
            subject: msg.subject().unwrap_or_default().to_string(),
            from: msg.from().and_then(Address::first).map(to_addr),
            to: msg.to().map(addrs).unwrap_or_default(),
            cc: msg.cc().map(addrs).unwrap_or_default(),
            reply_to: msg.reply_to().and_then(Address::first).map(to_addr),
            message_id: msg.message_id().map(str::to_string),
            has_in_reply_to: !msg.in_reply_to().is_empty(),
            has_references: !msg.references().is_empty(),
            ..Mail::default()
        };
        if !std::ptr::eq(fixed.as_ref(), raw) {
            mail.problems
                .push("charset label rewritten (cp932 / iso-2022-jp variant)".into());
        }
        for id in &msg.text_body {
            if let Some(part) = msg.parts.get(*id as usize) {
                match &part.body {
                    PartType::Text(t) => mail.texts.push(fix_iso2022(t)),
                    PartType::Html(h) => mail.htmls.push(fix_iso2022(h)),
                    _ => {}
                }
                if part.is_encoding_problem {
                    mail.problems
                        .push(format!("part {id}: transfer encoding problem"));
                }
            }
        }
        for id in &msg.html_body {
            if msg.text_body.contains(id) {
                continue;
            }
            if let Some(PartType::Html(h)) = msg.parts.get(*id as usize).map(|p| &p.body) {
                mail.htmls.push(fix_iso2022(h));
            }
        }
        for id in &msg.attachments {
            let Some(part) = msg.parts.get(*id as usize) else {
                continue;
            };
            let content_type = part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_string(),
                })
                .unwrap_or_default()
                .to_ascii_lowercase();
            let name = part.attachment_name().map(str::to_string);
            let (data, is_message) = match &part.body {
                PartType::Message(m) => (m.raw_message().to_vec(), true),
                PartType::Multipart(_) => continue,
                other => (body_bytes(other).to_vec(), false),
            };
            if part.is_encoding_problem {
                mail.problems.push(format!(
                    "attachment {}: transfer encoding problem",
                    name.as_deref().unwrap_or("?")
                ));
            }
            mail.attachments.push(Attachment {
                name,
                content_type,
                data,
                is_message,
            });
        }
        Some(mail)
    }

    /// Every body as text: plain bodies, then HTML bodies as they are.
    pub fn body_text(&self) -> String {
        let mut s = String::new();
        for t in self.texts.iter().chain(self.htmls.iter()) {
            s.push_str(t);
            s.push('\n');
        }
        s
    }

    /// The domains of every recipient (To and Cc), lowercased.
    pub fn recipient_domains(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .to
            .iter()
            .chain(self.cc.iter())
            .filter_map(|a| a.address.as_deref())
            .filter_map(|a| a.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

fn body_bytes<'a>(body: &'a PartType<'_>) -> &'a [u8] {
    match body {
        PartType::Text(t) | PartType::Html(t) => t.as_bytes(),
        PartType::Binary(b) | PartType::InlineBinary(b) => b,
        PartType::Message(m) => m.raw_message(),
        PartType::Multipart(_) => &[],
    }
}

fn to_addr(a: &mail_parser::Addr<'_>) -> MailAddr {
    MailAddr {
        name: a.name().map(str::to_string),
        address: a.address().map(str::to_string),
    }
}

fn addrs(a: &Address<'_>) -> Vec<MailAddr> {
    a.iter().take(1000).map(to_addr).collect()
}

/// Charset labels mail-parser turns into mojibake without an error, found after `charset=` or in an
/// encoded word's `=?label?`.
static BAD_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(charset\s*=\s*"?|=\?)(cp932|windows-932|x-sjis-cp932|iso-2022-jp-ms|iso-2022-jp-[123]|cp5022[01]|cp51932)\b"#,
    )
    .expect("static regex")
});

fn fix_charset_labels(raw: &[u8]) -> Cow<'_, [u8]> {
    BAD_LABEL.replace_all(raw, |caps: &regex::bytes::Captures<'_>| {
        let label = caps[2].to_ascii_lowercase();
        let real: &[u8] = if label.starts_with(b"iso-2022") || label.starts_with(b"cp5022") {
            b"iso-2022-jp"
        } else if label == b"cp51932" {
            b"euc-jp"
        } else {
            b"shift_jis"
        };
        let mut out = caps[1].to_vec();
        out.extend_from_slice(real);
        out
    })
}

/// Text that still holds ISO-2022-JP escapes (`ESC $ B`, `ESC $ @`) was unlabelled or labelled ASCII:
/// decode it as ISO-2022-JP.
fn fix_iso2022(text: &str) -> String {
    if text.contains("\x1b$B") || text.contains("\x1b$@") {
        let (decoded, _, _) = encoding_rs::ISO_2022_JP.decode(text.as_bytes());
        decoded.into_owned()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cp932_label_is_decoded_as_shift_jis() {
        // "テスト" in Shift_JIS, labelled cp932 (which mail-parser 0.11.9 alone gets wrong).
        let mut raw =
            b"From: a@example.jp\r\nTo: b@example.jp\r\nSubject: =?cp932?B?g2WDWINn?=\r\n\
Content-Type: text/plain; charset=cp932\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                .to_vec();
        raw.extend_from_slice(&[0x83, 0x65, 0x83, 0x58, 0x83, 0x67, b'\r', b'\n']);
        let mail = Mail::parse(&raw).expect("parses");
        assert_eq!(mail.subject, "テスト");
        assert_eq!(mail.texts[0].trim(), "テスト");
        assert!(!mail.problems.is_empty());
    }

    #[test]
    fn unlabelled_iso_2022_jp_body() {
        let raw = b"From: a@example.jp\r\nSubject: x\r\n\r\n\x1b$B%F%9%H\x1b(B\r\n";
        let mail = Mail::parse(raw).expect("parses");
        assert_eq!(mail.texts[0].trim(), "テスト");
    }

    #[test]
    fn not_a_message() {
        assert!(Mail::parse(b"").is_none());
    }
}
