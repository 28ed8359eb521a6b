//! Tests of the `.msg` reader: four real files (see `testdata/msg/README.md`) and messages built
//! here, bytewise after MS-OXMSG, with the `cfb` writer.

use super::*;
use std::io::{Cursor, Write};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/testdata/msg/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// FNV-1a 64: the expected values were computed over the streams as read by Python `olefile`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn data(att: &Attachment) -> &[u8] {
    match &att.content {
        AttachmentContent::Data(d) => d,
        other => panic!("{}: not data: {other:?}", att.name),
    }
}

fn inner(att: &Attachment) -> &Msg {
    match &att.content {
        AttachmentContent::Message(m) => m,
        other => panic!("{}: not a message: {other:?}", att.name),
    }
}

fn parse_default(bytes: &[u8]) -> Msg {
    parse(bytes, MsgLimits::default()).expect("parses")
}

#[test]
fn msgreader_fixture_fields_headers_and_attachment_bytes() {
    let msg = parse_default(&fixture("msgreader-test.msg"));
    assert!(msg.problems.is_empty(), "{:?}", msg.problems);
    assert!(!msg.truncated);
    assert_eq!(msg.message_class.as_deref(), Some("IPM.Note"));
    assert_eq!(msg.subject.as_deref(), Some("asdf"));
    assert_eq!(msg.sender_name.as_deref(), Some("christoph@freiraum.xyz"));
    assert_eq!(msg.sender_email.as_deref(), Some("christoph@freiraum.xyz"));
    assert_eq!(
        msg.sent_representing_email.as_deref(),
        Some("christoph@freiraum.xyz")
    );
    assert_eq!(msg.display_to.as_deref(), Some("christoph@freiraum.xyz"));
    assert_eq!(msg.display_cc.as_deref(), Some(""));
    assert_eq!(
        msg.message_id.as_deref(),
        Some("<000001d3c2c0$e7ca4aa0$b75edfe0$@freiraum.xyz>")
    );
    assert_eq!(msg.body_text.as_deref(), Some(" \r\n\r\n"));
    assert_eq!(msg.body_html, None);
    assert!(msg.has_rtf_body);
    assert_eq!(msg.internet_codepage, Some(20127));
    let headers = msg.transport_headers.as_deref().expect("headers");
    assert!(
        headers
            .starts_with("Return-Path: <christoph@freiraum.xyz>\r\nReceived: from DESKTOPGBT9Q6P")
    );
    assert!(headers.contains("\r\nX-Mailer: Microsoft Outlook 16.0\r\n"));
    assert!(headers.contains("boundary=\"----=_NextPart_000_0001_01D3C2C9.498F75F0\""));

    assert_eq!(msg.recipients.len(), 1);
    let r = &msg.recipients[0];
    assert_eq!(r.kind, RecipientKind::To);
    assert_eq!(r.name.as_deref(), Some("christoph@freiraum.xyz"));
    assert_eq!(r.email.as_deref(), Some("christoph@freiraum.xyz"));
    assert_eq!(r.address_type.as_deref(), Some("SMTP"));
    assert_eq!(msg.recipients_of(RecipientKind::To).count(), 1);
    assert_eq!(msg.recipients_of(RecipientKind::Cc).count(), 0);

    assert_eq!(msg.attachments.len(), 1);
    let a = &msg.attachments[0];
    assert_eq!(
        a.name,
        "5AAoPFgV-nJ965R7o-98C38840-4454-4750-9AEF-F53DB3E37548.jpg"
    );
    assert_eq!(a.display_name, None);
    assert_eq!(a.mime.as_deref(), Some("image/jpeg"));
    assert_eq!(a.method, Some(1));
    assert!(!a.truncated && !a.hidden);
    let d = data(a);
    assert_eq!(d.len(), 122_784);
    assert!(d.starts_with(&[0xFF, 0xD8, 0xFF, 0xDB]));
    assert!(d.ends_with(&[0xFF, 0xD9]));
    assert_eq!(fnv1a(d), 0x4802_4280_deae_6cac);
}

#[test]
fn msgforge_japanese_fixture() {
    let msg = parse_default(&fixture("msgforge-japanese.msg"));
    assert!(msg.problems.is_empty(), "{:?}", msg.problems);
    assert_eq!(msg.message_class.as_deref(), Some("IPM.Note"));
    assert_eq!(msg.subject.as_deref(), Some("【至急】請求書の送付について"));
    assert_eq!(msg.sender_name.as_deref(), Some("田中 太郎"));
    assert_eq!(msg.sender_email.as_deref(), Some("tanaka@example.co.jp"));
    assert_eq!(msg.sent_representing_name.as_deref(), Some("田中 太郎"));
    assert_eq!(msg.display_to.as_deref(), Some("山田 花子"));
    assert_eq!(msg.display_cc.as_deref(), Some("経理部"));
    assert_eq!(
        msg.body_text.as_deref(),
        Some("山田様\r\n\r\nいつもお世話になっております。\r\n請求書を添付いたします。\r\n")
    );
    assert_eq!(msg.transport_headers, None);
    assert!(!msg.has_rtf_body);
    assert_eq!(msg.internet_codepage, Some(65001));
    let people: Vec<_> = msg
        .recipients
        .iter()
        .map(|r| (r.kind, r.name.as_deref(), r.email.as_deref()))
        .collect();
    assert_eq!(
        people,
        [
            (
                RecipientKind::To,
                Some("山田 花子"),
                Some("yamada@example.jp")
            ),
            (
                RecipientKind::Cc,
                Some("経理部"),
                Some("keiri@example.co.jp")
            ),
        ]
    );
    assert_eq!(msg.attachments.len(), 1);
    let a = &msg.attachments[0];
    assert_eq!(a.name, "請求書.txt");
    assert_eq!(a.display_name.as_deref(), Some("請求書.txt"));
    assert_eq!(a.mime.as_deref(), Some("text/plain"));
    let expected = encoding_rs::SHIFT_JIS
        .encode("請求書の内容をご確認ください。\r\nInvoice attached.\r\n")
        .0;
    assert_eq!(data(a), &expected[..]);
}

#[test]
fn msg_parser_outer_holds_an_embedded_message() {
    let msg = parse_default(&fixture("msg_parser-outer.msg"));
    assert!(msg.problems.is_empty(), "{:?}", msg.problems);
    assert_eq!(msg.subject.as_deref(), Some("outer subject"));
    assert_eq!(msg.body_text.as_deref(), Some("Outer body\r\n"));
    assert_eq!(msg.display_to.as_deref(), Some("outer@foo.bar"));
    assert_eq!(msg.recipients[0].email.as_deref(), Some("outer@foo.bar"));
    assert_eq!(msg.attachments.len(), 1);
    let a = &msg.attachments[0];
    assert_eq!(a.name, "test");
    assert_eq!(a.method, Some(ATTACH_EMBEDDED_MSG));
    let m = inner(a);
    assert_eq!(m.subject.as_deref(), Some("test"));
    assert_eq!(m.body_text.as_deref(), Some("body\r\n"));
    assert_eq!(m.recipients.len(), 1);
    assert_eq!(m.recipients[0].kind, RecipientKind::To);
    assert_eq!(m.recipients[0].email.as_deref(), Some("test@foobar.com"));
    assert!(m.attachments.is_empty() && !m.truncated);
}

#[test]
fn msg_parser_other_nests_a_message_with_a_pdf() {
    let msg = parse_default(&fixture("msg_parser-other.msg"));
    assert!(msg.problems.is_empty(), "{:?}", msg.problems);
    assert_eq!(
        msg.subject.as_deref(),
        Some("投递状态通知 (Failure Notice)")
    );
    assert_eq!(msg.sender_name.as_deref(), Some("Mail Delivery Subsystem"));
    assert_eq!(
        msg.sender_email.as_deref(),
        Some("mailer-daemon@tjdpf.org.cn")
    );
    assert_eq!(
        msg.message_id.as_deref(),
        Some("<99d78a$k8gjl@esa2.mentor.iphmx.com>")
    );
    assert_eq!(
        (msg.message_codepage, msg.internet_codepage),
        (Some(936), Some(936))
    );
    assert!(
        msg.transport_headers
            .as_deref()
            .is_some_and(|h| h.starts_with("IronPort-PHdr: =?us-ascii?q?9a23"))
    );
    let a = &msg.attachments[0];
    assert_eq!(a.name, "default_attachment.eml");
    assert_eq!(a.mime.as_deref(), Some("message/rfc822"));
    assert_eq!(
        a.content_id.as_deref(),
        Some("25F04A6D33AEC848AF8CB2B4AE1FADFF@mentor.com")
    );
    let m = inner(a);
    assert_eq!(
        m.subject.as_deref(),
        Some("回复：转发：反馈·北京 2017年12月02-03日 销售")
    );
    assert_eq!(
        m.message_id.as_deref(),
        Some("<20171127174424864054@model.com>")
    );
    assert_eq!(m.sender_email.as_deref(), Some("yosipnps@model.com"));
    assert_eq!(m.message_codepage, Some(1252));
    assert!(
        m.transport_headers
            .as_deref()
            .is_some_and(|h| h.ends_with("X-Eyou-MID: <494c97cf1f0aa41ea38d42406ec6ecb0>\r\n"))
    );
    assert_eq!(
        m.recipients[0].email.as_deref(),
        Some("hp_lsz@tjdpf.org.cn")
    );
    let pdf = &m.attachments[0];
    assert_eq!(pdf.name, "北京 2017年12月02-03日 销售主管 确认n.pdf");
    assert_eq!(pdf.mime.as_deref(), Some("application/octet-stream"));
    let d = data(pdf);
    assert_eq!(d.len(), 144_702);
    assert!(d.starts_with(b"%PDF-1.5") && d.ends_with(b"%%EOF\r\n"));
    assert_eq!(fnv1a(d), 0x47a6_bae8_a3cf_9ca0);
}

#[test]
fn depth_limit_stops_at_the_embedded_message() {
    let limits = MsgLimits {
        max_depth: 0,
        ..MsgLimits::default()
    };
    let msg = parse(&fixture("msg_parser-outer.msg"), limits).expect("parses");
    let a = &msg.attachments[0];
    assert_eq!(a.content, AttachmentContent::Missing);
    assert!(a.truncated && msg.truncated);
    assert!(
        msg.problems.iter().any(|p| p.contains("depth limit 0")),
        "{:?}",
        msg.problems
    );
}

#[test]
fn attachment_size_limit_cuts_and_flags() {
    let whole = parse_default(&fixture("msgreader-test.msg"));
    let limits = MsgLimits {
        max_attachment_bytes: 1000,
        ..MsgLimits::default()
    };
    let msg = parse(&fixture("msgreader-test.msg"), limits).expect("parses");
    let a = &msg.attachments[0];
    assert!(a.truncated && msg.truncated);
    assert_eq!(data(a), &data(&whole.attachments[0])[..1000]);
    assert!(
        msg.problems
            .iter()
            .any(|p| p.contains("cut at 1000 bytes by its limit"))
    );
    // The cut inside an embedded message is carried up to the top.
    let msg = parse(&fixture("msg_parser-other.msg"), limits).expect("parses");
    assert!(msg.truncated && msg.attachments[0].truncated);
    assert!(msg.problems.is_empty());
    assert_eq!(data(&inner(&msg.attachments[0]).attachments[0]).len(), 1000);
}

#[test]
fn total_byte_limit_cuts_everything_after_it() {
    let limits = MsgLimits {
        max_total_bytes: 20_000,
        ..MsgLimits::default()
    };
    let msg = parse(&fixture("msgreader-test.msg"), limits).expect("parses");
    assert!(msg.truncated);
    assert!(data(&msg.attachments[0]).len() < 20_000);
    assert!(
        msg.problems
            .iter()
            .any(|p| p.contains("the total byte limit"))
    );
}

#[test]
fn attachment_count_limit_covers_the_whole_tree() {
    let limits = MsgLimits {
        max_attachments: 1,
        ..MsgLimits::default()
    };
    let msg = parse(&fixture("msg_parser-other.msg"), limits).expect("parses");
    assert!(msg.truncated);
    let m = inner(&msg.attachments[0]);
    assert!(m.attachments.is_empty() && m.truncated);
    assert!(
        m.problems
            .iter()
            .any(|p| p.contains("1 of 1 attachments not read"))
    );
}

#[test]
fn not_a_message_is_a_clear_error() {
    let doc = crate::ole::tests::corpus("office/oletools/msodde/harmless-clean.doc");
    match parse(&doc, MsgLimits::default()) {
        Err(MsgError::NotMsg { entries, reason }) => {
            assert!(entries > 0);
            assert!(reason.contains("__properties_version1.0"));
        }
        other => panic!("{other:?}"),
    }
    let ole = OleFile::parse(&doc).expect("ole");
    assert!(!is_msg(&ole));
    assert!(matches!(
        parse(b"From: a@b\r\n\r\nhi", MsgLimits::default()),
        Err(MsgError::Ole(OleError::NotOle { len: 15 }))
    ));
    for name in [
        "msgreader-test.msg",
        "msgforge-japanese.msg",
        "msg_parser-outer.msg",
        "msg_parser-other.msg",
    ] {
        let bytes = fixture(name);
        assert!(is_msg(&OleFile::parse(&bytes).expect("ole")), "{name}");
    }
}

/// Builds compound files shaped like `.msg` files (MS-OXMSG §2.1–2.4) with the `cfb` writer.
struct Build {
    cf: cfb::CompoundFile<Cursor<Vec<u8>>>,
}

impl Build {
    fn new() -> Self {
        let cf = cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new()))
            .expect("create");
        Build { cf }
    }

    fn join(storage: &str, name: &str) -> String {
        if storage.is_empty() {
            format!("/{name}")
        } else {
            format!("/{storage}/{name}")
        }
    }

    fn storage(&mut self, path: &str) {
        self.cf.create_storage(format!("/{path}")).expect("storage");
    }

    fn stream(&mut self, storage: &str, name: &str, data: &[u8]) {
        let mut s = self
            .cf
            .create_stream(Self::join(storage, name))
            .expect("stream");
        s.write_all(data).expect("write");
    }

    /// `__properties_version1.0`: a zeroed header of `header` bytes, then one 16-byte entry per
    /// fixed-size value `(type, id, value)`.
    fn props(&mut self, storage: &str, header: usize, fixed: &[(u16, u16, u32)]) {
        let mut p = vec![0u8; header];
        for &(ty, id, value) in fixed {
            p.extend_from_slice(&ty.to_le_bytes());
            p.extend_from_slice(&id.to_le_bytes());
            p.extend_from_slice(&6u32.to_le_bytes()); // readable, writable
            p.extend_from_slice(&u64::from(value).to_le_bytes());
        }
        self.stream(storage, PROPERTIES, &p);
    }

    fn prop(&mut self, storage: &str, id: u16, ty: u16, data: &[u8]) {
        self.stream(storage, &format!("{SUBSTG}{id:04X}{ty:04X}"), data);
    }

    fn unicode(&mut self, storage: &str, id: u16, text: &str) {
        let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        self.prop(storage, id, PT_UNICODE, &bytes);
    }

    fn finish(mut self) -> Vec<u8> {
        self.cf.flush().expect("flush");
        self.cf.into_inner().into_inner()
    }
}

fn sjis(text: &str) -> Vec<u8> {
    encoding_rs::SHIFT_JIS.encode(text).0.into_owned()
}

/// A message whose strings are all 8-bit Shift_JIS; the code page comes from `fixed`.
fn shift_jis_message(fixed: &[(u16, u16, u32)]) -> Vec<u8> {
    let mut b = Build::new();
    b.props("", HEADER_TOP, fixed);
    b.prop(
        "",
        PID_SUBJECT,
        PT_STRING8,
        &sjis("お見積りのご依頼（至急）"),
    );
    b.prop(
        "",
        PID_BODY,
        PT_STRING8,
        &sjis("添付の見積書をご確認ください。\r\n"),
    );
    b.prop("", PID_SENDER_NAME, PT_STRING8, &sjis("営業部 佐藤"));
    b.prop(
        "",
        PID_TRANSPORT_HEADERS,
        PT_STRING8,
        b"Subject: =?ISO-2022-JP?B?GyRCOCtAUTtxGyhC?=\r\n",
    );
    let recip = "__recip_version1.0_#00000000";
    b.storage(recip);
    b.props(recip, HEADER_SUB, &[(PT_LONG, PID_RECIPIENT_TYPE, 2)]);
    b.prop(recip, PID_DISPLAY_NAME, PT_STRING8, &sjis("経理課 鈴木"));
    let att = "__attach_version1.0_#00000000";
    b.storage(att);
    b.props(att, HEADER_SUB, &[(PT_LONG, PID_ATTACH_METHOD, 1)]);
    b.prop(
        att,
        PID_ATTACH_LONG_FILENAME,
        PT_STRING8,
        &sjis("見積書.xlsm"),
    );
    b.prop(att, PID_ATTACH_DATA, PT_BINARY, b"PK\x03\x04");
    b.finish()
}

#[test]
fn string8_properties_follow_the_code_page() {
    for fixed in [
        &[(PT_LONG, PID_MESSAGE_CODEPAGE, 932)][..],
        &[(PT_LONG, PID_INTERNET_CODEPAGE, 932)][..],
        // The message code page wins over the internet one.
        &[
            (PT_LONG, PID_INTERNET_CODEPAGE, 1252),
            (PT_LONG, PID_MESSAGE_CODEPAGE, 932),
        ][..],
    ] {
        let msg = parse_default(&shift_jis_message(fixed));
        assert!(msg.problems.is_empty(), "{:?}", msg.problems);
        assert_eq!(msg.subject.as_deref(), Some("お見積りのご依頼（至急）"));
        assert_eq!(
            msg.body_text.as_deref(),
            Some("添付の見積書をご確認ください。\r\n")
        );
        assert_eq!(msg.sender_name.as_deref(), Some("営業部 佐藤"));
        assert_eq!(
            msg.transport_headers.as_deref(),
            Some("Subject: =?ISO-2022-JP?B?GyRCOCtAUTtxGyhC?=\r\n")
        );
        assert_eq!(msg.recipients[0].kind, RecipientKind::Cc);
        assert_eq!(msg.recipients[0].name.as_deref(), Some("経理課 鈴木"));
        assert_eq!(msg.attachments[0].name, "見積書.xlsm");
        assert_eq!(data(&msg.attachments[0]), b"PK\x03\x04");
    }
}

#[test]
fn string8_without_code_page_is_guessed_and_said() {
    let msg = parse_default(&shift_jis_message(&[]));
    assert_eq!(msg.subject.as_deref(), Some("お見積りのご依頼（至急）"));
    assert_eq!(msg.attachments[0].name, "見積書.xlsm");
    assert_eq!(
        msg.problems,
        ["8-bit strings without a code page property: decoded as Shift_JIS"]
    );
    // A declared code page is believed even when the bytes say otherwise.
    let msg = parse_default(&shift_jis_message(&[(PT_LONG, PID_MESSAGE_CODEPAGE, 1252)]));
    assert_ne!(msg.subject.as_deref(), Some("お見積りのご依頼（至急）"));
    assert!(msg.problems.is_empty());
}

#[test]
fn html_body_ole_object_reference_and_hidden_attachments() {
    let mut b = Build::new();
    b.props("", HEADER_TOP, &[(PT_LONG, PID_INTERNET_CODEPAGE, 65001)]);
    b.unicode("", PID_SUBJECT, "Rechnung");
    b.prop(
        "",
        PID_HTML,
        PT_BINARY,
        b"<html><body><a href=\"http://x.test/a\">a</a></body></html>",
    );
    // Method 6: an OLE object whose storage holds a Word document with a VBA project.
    let ole = "__attach_version1.0_#00000000";
    b.storage(ole);
    b.props(ole, HEADER_SUB, &[(PT_LONG, PID_ATTACH_METHOD, ATTACH_OLE)]);
    b.unicode(ole, PID_DISPLAY_NAME, "Document");
    let obj = format!("{ole}/__substg1.0_3701000D");
    b.storage(&obj);
    b.stream(&obj, "WordDocument", &[0xEC, 0xA5, 0xC1, 0x00, 1, 2, 3]);
    b.storage(&format!("{obj}/Macros"));
    b.storage(&format!("{obj}/Macros/VBA"));
    b.stream(&format!("{obj}/Macros/VBA"), "dir", b"\x01\x02compressed");
    // Method 2: by reference, a path only.
    let by_ref = "__attach_version1.0_#00000001";
    b.storage(by_ref);
    b.props(
        by_ref,
        HEADER_SUB,
        &[
            (PT_LONG, PID_ATTACH_METHOD, 2),
            (PT_BOOLEAN, PID_ATTACHMENT_HIDDEN, 1),
        ],
    );
    b.unicode(
        by_ref,
        PID_ATTACH_LONG_PATHNAME,
        "\\\\203.0.113.5\\share\\invoice.exe",
    );
    // No data at all.
    let empty = "__attach_version1.0_#00000002";
    b.storage(empty);
    b.props(empty, HEADER_SUB, &[]);
    let msg = parse_default(&b.finish());
    assert!(msg.problems.is_empty(), "{:?}", msg.problems);
    assert_eq!(msg.subject.as_deref(), Some("Rechnung"));
    assert_eq!(
        msg.body_html.as_deref(),
        Some(&b"<html><body><a href=\"http://x.test/a\">a</a></body></html>"[..])
    );
    assert_eq!(msg.attachments.len(), 3);

    let a = &msg.attachments[0];
    assert_eq!(a.name, "Document");
    let AttachmentContent::OleStorage(bytes) = &a.content else {
        panic!("{:?}", a.content);
    };
    let mut rebuilt = OleFile::parse(bytes).expect("rebuilt file opens");
    let mut paths: Vec<_> = rebuilt.entries().iter().map(|e| e.path.clone()).collect();
    paths.sort();
    assert_eq!(
        paths,
        ["Macros", "Macros/VBA", "Macros/VBA/dir", "WordDocument"]
    );
    assert_eq!(
        rebuilt.read_stream("WordDocument", 100).expect("read"),
        [0xEC, 0xA5, 0xC1, 0x00, 1, 2, 3]
    );
    assert_eq!(
        rebuilt.read_stream("Macros/VBA/dir", 100).expect("read"),
        b"\x01\x02compressed"
    );

    let r = &msg.attachments[1];
    assert!(r.hidden);
    assert_eq!(r.name, "attachment-1");
    assert_eq!(
        r.content,
        AttachmentContent::Reference("\\\\203.0.113.5\\share\\invoice.exe".to_string())
    );
    assert_eq!(msg.attachments[2].content, AttachmentContent::Missing);
    assert!(!msg.attachments[2].truncated);
}

/// A chain of `levels` messages, each embedding the next; embedded ones have no code page and
/// an 8-bit subject, so they must inherit the top one's.
fn nested(levels: usize) -> Vec<u8> {
    let mut b = Build::new();
    let mut at = String::new();
    for level in 0..levels {
        let header = if level == 0 {
            HEADER_TOP
        } else {
            HEADER_EMBEDDED
        };
        let fixed = if level == 0 {
            vec![(PT_LONG, PID_MESSAGE_CODEPAGE, 932)]
        } else {
            vec![]
        };
        b.props(&at, header, &fixed);
        b.prop(&at, PID_SUBJECT, PT_STRING8, &sjis(&format!("第{level}層")));
        if level + 1 == levels {
            break;
        }
        let att = if at.is_empty() {
            "__attach_version1.0_#00000000".to_string()
        } else {
            format!("{at}/__attach_version1.0_#00000000")
        };
        b.storage(&att);
        b.props(
            &att,
            HEADER_SUB,
            &[(PT_LONG, PID_ATTACH_METHOD, ATTACH_EMBEDDED_MSG)],
        );
        at = format!("{att}/__substg1.0_3701000D");
        b.storage(&at);
    }
    b.finish()
}

/// Subjects down the chain, and whether the chain ended on an unread attachment.
fn chain(msg: &Msg) -> (Vec<String>, bool) {
    let mut subjects = Vec::new();
    let mut m = msg;
    loop {
        subjects.push(m.subject.clone().unwrap_or_default());
        match m.attachments.first().map(|a| &a.content) {
            Some(AttachmentContent::Message(next)) => m = next,
            Some(AttachmentContent::Missing) => return (subjects, true),
            _ => return (subjects, false),
        }
    }
}

#[test]
fn embedded_messages_recurse_up_to_the_depth_limits() {
    let file = nested(6);
    let (subjects, cut) = chain(&parse_default(&file));
    assert_eq!(
        subjects,
        ["第0層", "第1層", "第2層", "第3層", "第4層", "第5層"]
    );
    assert!(!cut);

    let limits = MsgLimits {
        max_depth: 3,
        ..MsgLimits::default()
    };
    let msg = parse(&file, limits).expect("parses");
    let (subjects, cut) = chain(&msg);
    assert_eq!(subjects.len(), 4);
    assert!(cut && msg.truncated);

    let deep = nested(HARD_MAX_DEPTH + 5);
    let limits = MsgLimits {
        max_depth: usize::MAX,
        ..MsgLimits::default()
    };
    let msg = parse(&deep, limits).expect("parses");
    let (subjects, cut) = chain(&msg);
    assert_eq!(subjects.len(), HARD_MAX_DEPTH + 1);
    assert_eq!(subjects.last().map(String::as_str), Some("第32層"));
    assert!(cut && msg.truncated);
}

#[test]
fn codepage_table() {
    assert_eq!(encoding_for_codepage(932), Some(encoding_rs::SHIFT_JIS));
    assert_eq!(encoding_for_codepage(50220), Some(encoding_rs::ISO_2022_JP));
    assert_eq!(encoding_for_codepage(51932), Some(encoding_rs::EUC_JP));
    assert_eq!(encoding_for_codepage(65001), Some(encoding_rs::UTF_8));
    assert_eq!(encoding_for_codepage(1200), None);
    assert_eq!(property_tag("__substg1.0_0037001F"), Some((0x0037, 0x001F)));
    assert_eq!(property_tag("__SUBSTG1.0_3701000d"), Some((0x3701, 0x000D)));
    assert_eq!(property_tag("__substg1.0_+037001F"), None);
    assert_eq!(property_tag("__substg1.0_1000101F-00000000"), None);
    assert_eq!(property_tag("__substg1.0_é"), None);
    assert_eq!(decode_utf16(&[0x41, 0, 0x00, 0xD8, 0x42]), "A\u{FFFD}");
}

/// Deterministic xorshift64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes kept over the whole tree.
fn kept(msg: &Msg) -> usize {
    let strings = [
        &msg.subject,
        &msg.transport_headers,
        &msg.body_text,
        &msg.sender_name,
        &msg.sender_email,
    ]
    .iter()
    .map(|s| s.as_ref().map_or(0, String::len))
    .sum::<usize>();
    let attachments: usize = msg
        .attachments
        .iter()
        .map(|a| match &a.content {
            AttachmentContent::Data(d) => d.len(),
            AttachmentContent::OleStorage(d) => d.len(),
            AttachmentContent::Message(m) => kept(m),
            _ => 0,
        })
        .sum();
    assert!(msg.problems.len() <= MAX_PROBLEMS + 1);
    strings + attachments + msg.body_html.as_ref().map_or(0, Vec::len)
}

/// The directory's first sector, where mutations hurt most (MS-CFB header offset 0x30).
fn directory_offset(file: &[u8]) -> usize {
    let sector = u32::from_le_bytes([file[0x30], file[0x31], file[0x32], file[0x33]]) as usize;
    (sector + 1) * 512
}

#[test]
fn mutated_files_do_not_panic_and_stay_bounded() {
    let limits = MsgLimits {
        max_attachments: 8,
        max_attachment_bytes: 64 << 10,
        max_total_bytes: 256 << 10,
        max_depth: 4,
        max_text_bytes: 16 << 10,
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut parsed = 0usize;
    for (name, rounds) in [
        ("msgforge-japanese.msg", 1500),
        ("msg_parser-outer.msg", 800),
        ("msgreader-test.msg", 250),
        ("msg_parser-other.msg", 250),
    ] {
        let original = fixture(name);
        let dir = directory_offset(&original);
        for round in 0..rounds {
            let mut m = original.clone();
            match round % 4 {
                0 => m.truncate(rng.below(original.len())),
                1 => {
                    // A few bytes anywhere in the header or the directory.
                    for _ in 0..1 + rng.below(6) {
                        let at = if rng.next() & 1 == 0 {
                            rng.below(512)
                        } else {
                            dir + rng.below(2048)
                        };
                        if let Some(b) = m.get_mut(at) {
                            *b ^= 1 << rng.below(8);
                        }
                    }
                }
                2 => {
                    // A directory field (sizes, sibling/child ids, start sectors) set to an edge.
                    let at =
                        dir + rng.below(16) * 128 + [0x44, 0x48, 0x4C, 0x74, 0x78][rng.below(5)];
                    let value = [0u32, 1, 0xFFFF_FFFF, 0xFFFF_FFFE, 0x7FFF_FFFF][rng.below(5)];
                    if let Some(s) = m.get_mut(at..at + 4) {
                        s.copy_from_slice(&value.to_le_bytes());
                    }
                }
                _ => {
                    // Random bytes anywhere (property streams, FAT, data).
                    for _ in 0..1 + rng.below(32) {
                        let at = rng.below(m.len());
                        if let Some(b) = m.get_mut(at) {
                            *b = rng.next() as u8;
                        }
                    }
                }
            }
            if let Ok(msg) = parse(&m, limits) {
                parsed += 1;
                assert!(
                    kept(&msg) <= limits.max_total_bytes * 4,
                    "{name} round {round}"
                );
            }
        }
    }
    // Most mutations leave a readable file: the reader is exercised past the header.
    assert!(parsed > 800, "{parsed}");
}
