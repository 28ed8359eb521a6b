//! Mail-level signals from one message (spec `mail-and-attachments.md` §3.2).
//!
//! The input is plain data ([`MailFacts`]) so that any message model can feed it. Names and
//! addresses are compared after NFKC, lowercasing and a small confusable folding (Cyrillic and Greek
//! look-alikes → Latin). Each kind is reported at most once per message. All work is bounded:
//! names and headers are cut to 4 KiB, the body to 1 MiB, address lists to 256 entries.

use unicode_normalization::UnicodeNormalization;

const MAX_FIELD: usize = 4096;
const MAX_TEXT: usize = 1 << 20;
const MAX_RECIPIENTS: usize = 256;
const MAX_AT_TOKENS: usize = 16;

/// A mailbox: display name and address, both as decoded from the header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailAddr {
    pub name: Option<String>,
    pub address: Option<String>,
}

/// What the signals need from one message.
#[derive(Debug, Clone, Copy)]
pub struct MailFacts<'a> {
    pub from: Option<&'a MailAddr>,
    pub to: &'a [MailAddr],
    pub cc: &'a [MailAddr],
    pub reply_to: Option<&'a MailAddr>,
    pub subject: &'a str,
    pub has_in_reply_to: bool,
    pub has_references: bool,
    pub message_id: Option<&'a str>,
    /// The decoded plain text of the body (or de-tagged HTML), new text and quotes together.
    pub text: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SignalKind {
    /// The display name holds an address or `x@y` token other than the real address (strong).
    DisplayNameAddressMismatch,
    /// The display name carries a recipient's domain or organisation; From is elsewhere (strong).
    DisplayNameRecipientDomain,
    /// Reply/forward subject without In-Reply-To or References (weak).
    FakeReply,
    /// A quoted header names the sender's display name with an address on another registrable
    /// domain (strong); aliases on the sender's own domain do not count.
    QuotedSenderMismatch,
    /// The Message-ID right side is a recipient's domain while From is elsewhere.
    MessageIdRecipientDomain,
    /// Reply-To on another domain than From (weak).
    ReplyToMismatch,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    pub kind: SignalKind,
    /// What matched; names and addresses as found (not escaped).
    pub evidence: String,
}

/// All signals the message gives, in [`SignalKind`] order.
pub fn signals(facts: &MailFacts<'_>) -> Vec<Signal> {
    let mut out = Vec::new();
    let mut push = |kind, evidence| out.push(Signal { kind, evidence });
    let from_name = field(facts.from.and_then(|f| f.name.as_ref()));
    let from_addr = field(facts.from.and_then(|f| f.address.as_ref()));
    let from_shown = from_addr.unwrap_or_default();
    let from_domain = from_addr.and_then(domain_of);
    let from_org = from_domain.as_deref().map(org_domain);
    let mut recipient_domains: Vec<String> = Vec::new();
    for r in facts.to.iter().chain(facts.cc).take(MAX_RECIPIENTS) {
        if let Some(d) = field(r.address.as_ref()).and_then(domain_of)
            && d.contains('.')
            && !recipient_domains.contains(&d)
        {
            recipient_domains.push(d);
        }
    }

    if let (Some(name), Some(addr)) = (from_name, from_addr) {
        let folded_addr = fold(addr);
        if let Some(token) = at_tokens(&fold(name))
            .into_iter()
            .find(|t| *t != folded_addr)
        {
            let evidence =
                format!("display name \"{name}\" contains \"{token}\" but the address is <{addr}>");
            push(SignalKind::DisplayNameAddressMismatch, evidence);
        }
    }

    if let (Some(name), Some(org)) = (from_name, from_org) {
        let folded_name = fold(name);
        let mut others = recipient_domains.iter().filter(|d| org_domain(d) != org);
        if let Some((d, what)) =
            others.find_map(|d| name_mentions_domain(&folded_name, d).map(|what| (d, what)))
        {
            let evidence = format!(
                "display name \"{name}\" carries \"{what}\" of recipient domain {d} but From is <{from_shown}>"
            );
            push(SignalKind::DisplayNameRecipientDomain, evidence);
        }
    }

    if is_reply_subject(facts.subject) && !facts.has_in_reply_to && !facts.has_references {
        let subject = clip(facts.subject, 200);
        let evidence = format!("reply subject \"{subject}\" without In-Reply-To or References");
        push(SignalKind::FakeReply, evidence);
    }

    if let (Some(name), Some(addr)) = (from_name, from_addr)
        && let Some((qname, qaddr)) = quoted_sender_mismatch(facts.text, name, addr)
    {
        let evidence = format!(
            "quoted sender \"{qname}\" <{qaddr}> has the sender's display name but From is <{addr}>"
        );
        push(SignalKind::QuotedSenderMismatch, evidence);
    }

    if let (Some(mid), Some(org)) = (facts.message_id, from_org) {
        let mid = clip(mid, MAX_FIELD).trim().trim_matches(['<', '>']);
        if let Some((_, right)) = mid.rsplit_once('@')
            && let right = fold(right)
            && recipient_domains.contains(&right)
            && org_domain(&right) != org
        {
            let evidence = format!(
                "Message-ID <{mid}> is on recipient domain {right} but From is <{from_shown}>"
            );
            push(SignalKind::MessageIdRecipientDomain, evidence);
        }
    }

    let reply_to = field(facts.reply_to.and_then(|r| r.address.as_ref()));
    if let (Some(ra), Some(org)) = (reply_to, from_org)
        && let Some(rd) = domain_of(ra)
        && org_domain(&rd) != org
    {
        let evidence = format!("Reply-To <{ra}> is on another domain than From <{from_shown}>");
        push(SignalKind::ReplyToMismatch, evidence);
    }
    out
}

/// True for subjects starting with a reply or forward prefix (possibly stacked): RE, Fw, Fwd, AW,
/// WG, SV, VS, TR, RV, Odp, 回复, 转发, 返信, 転送; full-width forms are folded by NFKC; counters as in
/// `Re[2]:`, `Re(2):`, `Re^2:` and a space before the colon (`TR :`) are accepted. A leading list
/// tag (`[Exmh] Re:`) is not skipped, as in the spec's count (114 of 2,500 easy-ham-1 messages).
pub fn is_reply_subject(subject: &str) -> bool {
    const PREFIXES: [&str; 14] = [
        "fwd", "fw", "re", "aw", "wg", "sv", "vs", "tr", "rv", "odp", "回复", "转发", "返信",
        "転送",
    ];
    let s: String = clip(subject, 1024).nfkc().collect();
    let rest = s.trim_start();
    PREFIXES.iter().any(|p| {
        if !starts_with_ci(rest, p) {
            return false;
        }
        let mut after = &rest[p.len()..];
        // Counter: [2], (2), ^2.
        for (open, close) in [('[', Some(']')), ('(', Some(')')), ('^', None)] {
            if let Some(inner) = after.strip_prefix(open) {
                let digits =
                    inner.len() - inner.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                if digits > 0 {
                    let tail = &inner[digits..];
                    match close {
                        Some(c) => {
                            if let Some(t) = tail.strip_prefix(c) {
                                after = t;
                            }
                        }
                        None => after = tail,
                    }
                }
                break;
            }
        }
        after.trim_start_matches([' ', '\t']).starts_with(':')
    })
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A header field cut to [`MAX_FIELD`].
fn field(s: Option<&String>) -> Option<&str> {
    s.map(|s| clip(s, MAX_FIELD))
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Latin look-alikes for Cyrillic and Greek letters (after lowercasing).
fn confusable(c: char) -> char {
    match c {
        'а' | 'α' => 'a',
        'в' | 'β' => 'b',
        'с' | 'ϲ' => 'c',
        'ԁ' => 'd',
        'е' | 'ε' => 'e',
        'һ' => 'h',
        'і' | 'ι' | 'ı' => 'i',
        'ј' => 'j',
        'к' | 'κ' => 'k',
        'ӏ' => 'l',
        'м' => 'm',
        'н' | 'η' => 'n',
        'о' | 'ο' | 'σ' => 'o',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'т' | 'τ' => 't',
        'υ' => 'u',
        'ν' => 'v',
        'ԝ' | 'ω' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' => 'y',
        _ => c,
    }
}

/// NFKC, lowercase, confusables folded, invisible characters dropped.
fn fold(s: &str) -> String {
    clip(s, MAX_FIELD)
        .nfkc()
        .flat_map(char::to_lowercase)
        .filter(|&c| {
            !matches!(
                c,
                '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
            )
        })
        .map(confusable)
        .collect()
}

/// A name for comparison: folded, quotes removed, whitespace collapsed.
fn fold_name(s: &str) -> String {
    let folded = fold(s);
    let cleaned = folded.replace(['"', '\'', '`'], " ");
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Folded domain of an address (after the last `@`).
fn domain_of(addr: &str) -> Option<String> {
    let (_, d) = addr.trim().trim_matches(['<', '>']).rsplit_once('@')?;
    let d = fold(d);
    let d = d.trim_end_matches('.');
    (!d.is_empty()).then(|| d.to_string())
}

/// The registrable part of a domain, approximated: the last two labels, three under a
/// second-level ccTLD such as `co.jp` or `com.au`.
fn org_domain(domain: &str) -> &str {
    let labels: Vec<&str> = domain.rsplit('.').take(3).collect();
    let keep = match labels.as_slice() {
        [tld, second, _, ..]
            if tld.len() == 2
                && matches!(
                    *second,
                    "co" | "com"
                        | "ne"
                        | "net"
                        | "or"
                        | "org"
                        | "ac"
                        | "ad"
                        | "go"
                        | "gov"
                        | "ed"
                        | "edu"
                        | "gr"
                        | "lg"
                        | "ltd"
                        | "plc"
                        | "nhs"
                        | "mil"
                        | "gob"
                ) =>
        {
            3
        }
        _ => 2,
    };
    let mut cut = domain.len();
    let mut seen = 0;
    for (k, b) in domain.bytes().enumerate().rev() {
        if b == b'.' {
            seen += 1;
            if seen == keep {
                cut = k;
                break;
            }
        }
    }
    if cut == domain.len() {
        domain
    } else {
        &domain[cut + 1..]
    }
}

/// The organisation label: first label of [`org_domain`] (`example` for `mail.example.co.jp`).
fn org_label(domain: &str) -> &str {
    let org = org_domain(domain);
    org.split('.').next().unwrap_or(org)
}

fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || "._-+%'=~!#$&*/?^{|}".contains(c)
}

fn is_domain_char(c: char) -> bool {
    c.is_alphanumeric() || c == '.' || c == '-'
}

/// `local@domain` tokens in a folded display name (dotted or not).
fn at_tokens(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in name.match_indices('@').take(MAX_AT_TOKENS) {
        let left = name[..at]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| is_local_char(c))
            .last()
            .map_or(at, |(k, _)| k);
        let right_len = name[at + 1..]
            .char_indices()
            .find(|&(_, c)| !is_domain_char(c))
            .map_or(name.len() - at - 1, |(k, _)| k);
        let local = name[left..at].trim_start_matches(['.', '\'']);
        let domain = name[at + 1..at + 1 + right_len].trim_end_matches(['.', '-']);
        if !local.is_empty() && domain.chars().any(char::is_alphanumeric) {
            out.push(format!("{local}@{domain}"));
        }
    }
    out
}

/// Does `name` contain `needle` with no letter, digit, `.` or `-` on either side?
fn contains_word(name: &str, needle: &str) -> bool {
    let edge = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '.' || c == '-'));
    name.match_indices(needle).take(64).any(|(k, _)| {
        edge(name[..k].chars().next_back()) && edge(name[k + needle.len()..].chars().next())
    })
}

const GENERIC_LABELS: [&str; 18] = [
    "gmail",
    "googlemail",
    "yahoo",
    "hotmail",
    "outlook",
    "live",
    "msn",
    "aol",
    "icloud",
    "me",
    "mail",
    "email",
    "gmx",
    "web",
    "yandex",
    "protonmail",
    "qq",
    "localhost",
];

/// The recipient domain, or its organisation label, as a word of the folded display name.
fn name_mentions_domain(folded_name: &str, domain: &str) -> Option<String> {
    if contains_word(folded_name, domain) {
        return Some(domain.to_string());
    }
    let label = org_label(domain);
    let specific = label.chars().count() >= 3 && !GENERIC_LABELS.contains(&label);
    (specific && contains_word(folded_name, label)).then(|| label.to_string())
}

/// Parses `Name <addr>`, `Name [mailto:addr]`, `"Name" addr`… into (name, address).
fn parse_mailbox(s: &str) -> Option<(String, String)> {
    let s = s.trim().trim_matches('*').trim();
    let (name, addr) = if let Some(open) = s.rfind('<') {
        let close = s[open..].find('>').map_or(s.len(), |k| open + k);
        (&s[..open], &s[open + 1..close])
    } else if let Some(open) = s.rfind('[') {
        let close = s[open..].find(']').map_or(s.len(), |k| open + k);
        (&s[..open], &s[open + 1..close])
    } else {
        return None;
    };
    let addr = addr.trim();
    let addr = addr.strip_prefix("mailto:").unwrap_or(addr).trim();
    let name = name.trim().trim_matches('*').trim();
    (addr.contains('@') && !name.is_empty()).then(|| (name.to_string(), addr.to_string()))
}

/// The first quoted participant whose name is the sender's display name but whose address differs.
fn quoted_sender_mismatch(
    text: &str,
    sender_name: &str,
    sender_addr: &str,
) -> Option<(String, String)> {
    let want = fold_name(sender_name);
    if want.is_empty() {
        return None;
    }
    let want_org = domain_of(sender_addr);
    let want_org = want_org.as_deref().map(org_domain);
    let text = clip(text, MAX_TEXT);
    let lines: Vec<&str> = text.lines().collect();
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim_start_matches(['>', ' ', '\t', '*']);
        if line.len() > 400 {
            continue;
        }
        let found = match strip_label(line) {
            Some(rest) => parse_mailbox(rest),
            None => on_wrote_mailbox(line, lines.get(i + 1).copied()),
        };
        let Some((name, addr)) = found else { continue };
        let org = domain_of(&addr);
        if fold_name(&name) == want && org.as_deref().map(org_domain) != want_org {
            return Some((name, addr));
        }
    }
    None
}

/// "On <date>, Name <addr> wrote:", on one line or broken before "wrote:".
fn on_wrote_mailbox(line: &str, next: Option<&str>) -> Option<(String, String)> {
    if !starts_with_ci(line, "on ") {
        return None;
    }
    let line = line.trim_end();
    let joined = if line.ends_with("wrote:") {
        line.to_string()
    } else {
        let next = next?.trim_start_matches(['>', ' ', '\t']).trim_end();
        if next.len() > 200 || !next.ends_with("wrote:") {
            return None;
        }
        format!("{line} {next}")
    };
    let body = joined.strip_suffix("wrote:")?.get(3..)?;
    parse_mailbox(body.rsplit_once(',').map_or(body, |(_, tail)| tail))
}

/// The rest after a quoted `From:` / `差出人:` label.
fn strip_label(line: &str) -> Option<&str> {
    let line = line.trim_start();
    for label in ["from:", "差出人:", "差出人：", "送信者:", "送信者："] {
        if starts_with_ci(line, label) {
            return Some(&line[label.len()..]);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use SignalKind::*;
    use mail_parser::{Address, MessageParser, PartType};

    fn addr(name: &str, address: &str) -> MailAddr {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        MailAddr {
            name: some(name),
            address: some(address),
        }
    }

    fn facts<'a>(from: Option<&'a MailAddr>, to: &'a [MailAddr], text: &'a str) -> MailFacts<'a> {
        MailFacts {
            from,
            to,
            cc: &[],
            reply_to: None,
            subject: "hello",
            has_in_reply_to: false,
            has_references: false,
            message_id: None,
            text,
        }
    }

    fn kinds(f: &MailFacts<'_>) -> Vec<SignalKind> {
        signals(f).into_iter().map(|s| s.kind).collect()
    }

    /// Kinds for a From (name, address) to user@example.co.jp, with a body.
    fn from_kinds(name: &str, address: &str, text: &str) -> Vec<SignalKind> {
        let (from, to) = (addr(name, address), [addr("", "user@example.co.jp")]);
        kinds(&facts(Some(&from), &to, text))
    }

    #[test]
    fn display_name_address() {
        let both = [DisplayNameAddressMismatch, DisplayNameRecipientDomain];
        assert_eq!(from_kinds("tanaka@example.co.jp", "x@other.tld", ""), both);
        for name in [
            "\"Company@Name\"",
            "ｂｏｓｓ＠ｂａｎｋ．ｃｏｍ",
            "CEO (ceo@bank.com)",
        ] {
            let got = from_kinds(name, "x@evil.example", "");
            assert_eq!(got, [DisplayNameAddressMismatch], "{name}");
        }
        // Must not fire: the same address (case, full-width, Cyrillic а), no `@`, a bare handle.
        for name in [
            "Bob@Example.com",
            "ｂｏｂ＠ｅｘａｍｐｌｅ．ｃｏｍ",
            "bоb@exаmple.com",
            "Bob",
            "@bob",
        ] {
            assert!(from_kinds(name, "bob@example.com", "").is_empty(), "{name}");
        }
        let no_address = addr("a@b.c", "");
        assert!(kinds(&facts(Some(&no_address), &[], "")).is_empty());
        assert!(kinds(&facts(None, &[], "")).is_empty());
    }

    #[test]
    fn display_name_recipient_domain() {
        for name in ["Example Corp Support", "EXAMPLE.CO.JP 総務部", "еxample IT"] {
            let got = from_kinds(name, "help@evil.tld", "");
            assert_eq!(got, [DisplayNameRecipientDomain], "{name}");
        }
        assert!(from_kinds("Example HR", "hr@mail.example.co.jp", "").is_empty());
        assert!(from_kinds("Examples and more", "news@evil.tld", "").is_empty());
        let (gmail_team, gmail_user) =
            (addr("Gmail Team", "x@other.tld"), [addr("", "u@gmail.com")]);
        assert!(kinds(&facts(Some(&gmail_team), &gmail_user, "")).is_empty());
        assert_eq!(org_domain("mail.example.co.jp"), "example.co.jp");
        assert_eq!(org_domain("lists.sourceforge.net"), "sourceforge.net");
        assert_eq!(org_label("localhost"), "localhost");
    }

    #[test]
    fn reply_subjects() {
        let yes = "RE: invoice|Re[2]: x|Re(3): x|Re^2: x|ＲＥ：請求書|AW: WG: Angebot|回复：你好|\
                   转发: 文件|返信: 資料|転送：資料|Odp: x|TR : document|SV: Re: x|VS: x|RV: x|\
                   Fwd: news|fw: x";
        for s in yes.split('|') {
            assert!(is_reply_subject(s), "{s:?}");
        }
        let no = "Review: x|Reply needed|[Exmh] Re: bug|Fwd news|Re x|Trade: x||[x]|re|Re[: x";
        for s in no.split('|') {
            assert!(!is_reply_subject(s), "{s:?}");
        }
        let to = [addr("", "c@d.example")];
        let mut f = MailFacts {
            subject: "RE: invoice",
            ..facts(None, &to, "")
        };
        assert_eq!(kinds(&f), [FakeReply]);
        f.has_in_reply_to = true;
        assert!(kinds(&f).is_empty());
        (f.has_in_reply_to, f.has_references) = (false, true);
        assert!(kinds(&f).is_empty());
    }

    #[test]
    fn quoted_sender() {
        let quotes = [
            "Thanks\n\n-----Original Message-----\nFrom: Taro Yamada <taro@example.co.jp>\nSent: x",
            "ok\n> From: \"taro  yamada\" <taro@example.co.jp>\n",
            "ok\n*From:* Taro Yamada [mailto:taro@example.co.jp]\n*Sent:* x\n",
            "On Mon, 1 Jan 2024, Taro Yamada <taro@example.co.jp> wrote:\n> hi\n",
            "On Mon, 1 Jan 2024 at 10:00, Taro Yamada <taro@example.co.jp>\nwrote:\n> hi\n",
        ];
        for text in quotes {
            let got = from_kinds("Taro Yamada", "taro@evil.tld", text);
            assert_eq!(got, [QuotedSenderMismatch], "{text:?}");
        }
        let jp = "了解です\n\n差出人: 山田 太郎 <yamada@example.co.jp>\n送信日時: 2024年5月1日\n";
        assert_eq!(
            from_kinds("山田 太郎", "yamada@evil.tld", jp),
            [QuotedSenderMismatch]
        );
        // Must not fire: same address or domain, another name, no display name.
        let same = "From: Taro Yamada <TARO@evil.tld>\nOn Mon, Taro Yamada wrote:\n\
                    From: Taro Yamada <taro-dated-123@mail.evil.tld>\n";
        assert!(from_kinds("Taro Yamada", "taro@evil.tld", same).is_empty());
        let other = "From: Hanako Yamada <hanako@example.co.jp>\n";
        assert!(from_kinds("Taro Yamada", "taro@evil.tld", other).is_empty());
        assert!(from_kinds("", "taro@evil.tld", quotes[0]).is_empty());
    }

    #[test]
    fn message_id_and_reply_to() {
        let (evil, inside) = (addr("", "x@evil.tld"), addr("", "b@mail.example.co.jp"));
        let to = [addr("", "a@example.co.jp")];
        let mid = |from, id| {
            kinds(&MailFacts {
                message_id: Some(id),
                ..facts(Some(from), &to, "")
            })
        };
        let emotet = "20190301123456.2019010112345@example.co.jp";
        assert_eq!(mid(&evil, emotet), [MessageIdRecipientDomain]);
        assert!(mid(&inside, emotet).is_empty());
        assert!(mid(&evil, "<1@evil.tld>").is_empty());
        let (gmail, list) = (addr("", "y@gmail.com"), addr("", "y@lists.evil.tld"));
        let reply = |r| {
            kinds(&MailFacts {
                reply_to: Some(r),
                ..facts(Some(&evil), &to, "")
            })
        };
        assert_eq!(reply(&gmail), [ReplyToMismatch]);
        assert!(reply(&list).is_empty());
    }

    fn mail_addrs(a: Option<&Address<'_>>) -> Vec<MailAddr> {
        let one = |a: &mail_parser::Addr<'_>| MailAddr {
            name: a.name.as_deref().map(str::to_string),
            address: a.address.as_deref().map(str::to_string),
        };
        a.map(|a| a.iter().map(one).collect()).unwrap_or_default()
    }

    /// Signals of a raw message, with the facts taken from mail-parser.
    fn signals_of(bytes: &[u8]) -> Option<Vec<Signal>> {
        let msg = MessageParser::default().parse(bytes)?;
        let (from, to, cc) = (
            mail_addrs(msg.from()),
            mail_addrs(msg.to()),
            mail_addrs(msg.cc()),
        );
        let reply_to = mail_addrs(msg.reply_to());
        let text = msg
            .text_bodies()
            .chain(msg.html_bodies())
            .find_map(|p| match &p.body {
                PartType::Text(t) => Some(t.to_string()),
                PartType::Html(h) => Some(crate::password::html_to_text(h)),
                _ => None,
            });
        Some(signals(&MailFacts {
            from: from.first(),
            to: &to,
            cc: &cc,
            reply_to: reply_to.first(),
            subject: msg.subject().unwrap_or_default(),
            has_in_reply_to: msg.header_raw("In-Reply-To").is_some(),
            has_references: msg.header_raw("References").is_some(),
            message_id: msg.message_id(),
            text: text.as_deref().unwrap_or_default(),
        }))
    }

    fn corpus(rel: &str) -> std::path::PathBuf {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        root.join("../../../shared/corpus").join(rel)
    }

    #[test]
    fn spamassassin_spoof1() {
        let path = corpus("mail/spamassassin-tests/spam/fromnamespoof/spoof1");
        let found = signals_of(&std::fs::read(path).expect("spoof1")).expect("parse");
        let kinds: Vec<SignalKind> = found.iter().map(|s| s.kind).collect();
        let want = [
            DisplayNameAddressMismatch,
            DisplayNameRecipientDomain,
            ReplyToMismatch,
        ];
        assert_eq!(kinds, want);
        let evidence = &found[0].evidence;
        assert!(evidence.contains("test@example.com") && evidence.contains("test1@gmail.com"));
    }

    #[test]
    fn easy_ham_counts() {
        let dir = corpus("mail/spamassassin-public/easy-ham-1");
        let files = std::fs::read_dir(&dir)
            .expect("easy-ham-1")
            .flatten()
            .map(|e| e.path());
        let mut files: Vec<_> = files
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        files.sort();
        let mut counts = std::collections::BTreeMap::new();
        for path in &files {
            for s in signals_of(&std::fs::read(path).expect("read")).unwrap_or_default() {
                *counts.entry(s.kind).or_insert(0usize) += 1;
                if !matches!(s.kind, FakeReply | ReplyToMismatch) {
                    eprintln!("{}: {:?}: {}", path.display(), s.kind, s.evidence);
                }
            }
        }
        eprintln!("easy-ham-1 ({} messages): {counts:?}", files.len());
        let count = |k| counts.get(&k).copied().unwrap_or(0);
        assert_eq!(files.len(), 2500);
        assert!(count(DisplayNameAddressMismatch) <= 15);
        assert!((80..=150).contains(&count(FakeReply)));
        assert!(count(DisplayNameRecipientDomain) <= 10);
    }
}
