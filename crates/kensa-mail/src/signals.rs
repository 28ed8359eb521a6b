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
    /// A quoted header names the sender's display name with another address (strong).
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
    let from_name = facts
        .from
        .and_then(|f| f.name.as_deref())
        .map(|n| clip(n, MAX_FIELD));
    let from_addr = facts
        .from
        .and_then(|f| f.address.as_deref())
        .map(|a| clip(a, MAX_FIELD));
    let from_domain = from_addr.and_then(domain_of);
    let recipients: Vec<&MailAddr> = facts
        .to
        .iter()
        .chain(facts.cc)
        .take(MAX_RECIPIENTS)
        .collect();
    let mut recipient_domains: Vec<String> = Vec::new();
    for r in &recipients {
        if let Some(d) = r
            .address
            .as_deref()
            .map(|a| clip(a, MAX_FIELD))
            .and_then(domain_of)
            && d.contains('.')
            && !recipient_domains.contains(&d)
        {
            recipient_domains.push(d);
        }
    }

    if let (Some(name), Some(addr)) = (from_name, from_addr) {
        let folded_addr = fold(addr);
        let folded_name = fold(name);
        if let Some(token) = at_tokens(&folded_name)
            .into_iter()
            .find(|t| *t != folded_addr)
        {
            out.push(Signal {
                kind: SignalKind::DisplayNameAddressMismatch,
                evidence: format!(
                    "display name \"{name}\" contains \"{token}\" but the address is <{addr}>"
                ),
            });
        }
    }

    if let (Some(name), Some(fd)) = (from_name, from_domain.as_deref()) {
        let folded_name = fold(name);
        let found = recipient_domains
            .iter()
            .filter(|d| org_domain(d) != org_domain(fd))
            .find_map(|d| name_mentions_domain(&folded_name, d).map(|what| (d, what)));
        if let Some((d, what)) = found {
            out.push(Signal {
                kind: SignalKind::DisplayNameRecipientDomain,
                evidence: format!(
                    "display name \"{name}\" carries \"{what}\" of recipient domain {d} but From is <{}>",
                    from_addr.unwrap_or_default()
                ),
            });
        }
    }

    if is_reply_subject(facts.subject) && !facts.has_in_reply_to && !facts.has_references {
        out.push(Signal {
            kind: SignalKind::FakeReply,
            evidence: format!(
                "reply subject \"{}\" without In-Reply-To or References",
                clip(facts.subject, 200)
            ),
        });
    }

    if let (Some(name), Some(addr)) = (from_name, from_addr)
        && let Some((qname, qaddr)) = quoted_sender_mismatch(facts.text, name, addr)
    {
        out.push(Signal {
            kind: SignalKind::QuotedSenderMismatch,
            evidence: format!(
                "quoted sender \"{qname}\" <{qaddr}> has the sender's display name but From is <{addr}>"
            ),
        });
    }

    if let (Some(mid), Some(fd)) = (facts.message_id, from_domain.as_deref()) {
        let mid = clip(mid, MAX_FIELD);
        let right = mid
            .trim()
            .trim_matches(['<', '>'])
            .rsplit_once('@')
            .map(|(_, r)| fold(r));
        if let Some(right) = right
            && recipient_domains.contains(&right)
            && org_domain(&right) != org_domain(fd)
        {
            out.push(Signal {
                kind: SignalKind::MessageIdRecipientDomain,
                evidence: format!(
                    "Message-ID <{}> is on recipient domain {right} but From is <{}>",
                    mid.trim().trim_matches(['<', '>']),
                    from_addr.unwrap_or_default()
                ),
            });
        }
    }

    let reply_to_addr = facts
        .reply_to
        .and_then(|r| r.address.as_deref())
        .map(|a| clip(a, MAX_FIELD));
    if let (Some(ra), Some(fd)) = (reply_to_addr, from_domain.as_deref())
        && let Some(rd) = domain_of(ra)
        && org_domain(&rd) != org_domain(fd)
    {
        out.push(Signal {
            kind: SignalKind::ReplyToMismatch,
            evidence: format!(
                "Reply-To <{ra}> is on another domain than From <{}>",
                from_addr.unwrap_or_default()
            ),
        });
    }
    out
}

/// True for subjects starting (after `[list]` tags) with a reply or forward prefix: RE, Fw, Fwd, AW,
/// WG, SV, VS, TR, RV, Odp, 回复, 转发, 返信, 転送; full-width forms are folded by NFKC; counters as in
/// `Re[2]:`, `Re(2):`, `Re^2:` and a space before the colon (`TR :`) are accepted.
pub fn is_reply_subject(subject: &str) -> bool {
    const PREFIXES: [&str; 14] = [
        "fwd", "fw", "re", "aw", "wg", "sv", "vs", "tr", "rv", "odp", "回复", "转发", "返信",
        "転送",
    ];
    let s: String = clip(subject, 1024).nfkc().collect();
    let mut rest = s.trim_start();
    for _ in 0..8 {
        // Skip a list tag such as "[Exmh]".
        if let Some(after) = rest.strip_prefix('[')
            && let Some(close) = after.find(']').filter(|&k| k <= 64)
        {
            rest = after[close + 1..].trim_start();
            continue;
        }
        break;
    }
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
    let want_addr = fold(sender_addr);
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
        if fold_name(&name) == want && fold(&addr) != want_addr {
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
