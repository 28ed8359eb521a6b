//! Password candidates from the subject and body of a message (Japanese and English).
//!
//! Spec `mail-and-attachments.md` §2.6 steps 1–4. Each source (subject, text/plain, de-tagged HTML)
//! is cut to 1 MiB, stripped of zero-width characters and NFKC-normalised; bodies are split into new
//! and quoted text. An anchor word followed by optional separators, fillers and openers gives an
//! [`CandidateSource::Anchor`] value; an anchor with nothing usable after it takes the first token
//! of the next non-empty line ([`CandidateSource::NextLine`]). Fallbacks come last.
//!
//! Ranking: new text before quoted text; within each, values after an explicit separator (`:`, `=`,
//! `は`, `→`, ` - `, `is`, `「…」`) first, then next-line values, then bare `anchor value` pairs;
//! then subject, text/plain, HTML, and position. Bare pairs, and `is` after a short anchor (pass,
//! pin, pw, pwd, clave, パス), need a value that looks like a password (a digit or an inner capital).
//! Common English words are never values. Every scan is linear and bounded.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

/// Text considered per source.
const MAX_SOURCE: usize = 1 << 20;
const MAX_VALUE: usize = 64;
/// How far after an anchor we look on its line, and below it for a next-line value.
const REST_WINDOW: usize = 256;
const NEXT_LINE_WINDOW: usize = 2048;
/// Bodies shorter than this (in characters) give token fallbacks.
const SHORT_BODY: usize = 2000;
const MAX_ANCHORS_PER_SOURCE: usize = 4096;
const MAX_HITS_PER_SOURCE: usize = 256;
const MAX_FALLBACK_TOKENS: usize = 64;
const MAX_DATES: usize = 16;
/// text/plain and HTML bodies considered, each.
const MAX_BODIES: usize = 32;
const COMMON: [&str; 3] = ["infected", "1234", "password"];

/// Where a candidate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CandidateSource {
    /// The value follows an anchor word ("password", "パスワード", …) on the same line.
    Anchor,
    /// The anchor had nothing usable after it: first token of the next non-empty line.
    NextLine,
    /// Token heuristics, attachment stems, dates and common passwords.
    Fallback,
}

/// One password to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub password: String,
    pub source: CandidateSource,
}

/// Password candidates, best first, deduplicated, at most `limit`.
pub fn candidates(
    subject: &str,
    texts: &[&str],
    htmls: &[&str],
    attachment_stems: &[&str],
    limit: usize,
) -> Vec<Candidate> {
    let (pieces, full) = sources(subject, texts, htmls);
    let mut hits = Vec::new();
    for piece in &pieces {
        scan_anchors(piece, &mut hits);
    }
    hits.sort_by_key(|h| h.0);

    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut push = |password: &str, source| {
        if out.len() < limit && seen.insert(password.to_string()) {
            out.push(Candidate {
                password: password.to_string(),
                source,
            });
        }
    };
    for Hit(_, password, source) in &hits {
        push(password, *source);
    }
    let short = full
        .iter()
        .filter(|t| t.chars().nth(SHORT_BODY - 1).is_none());
    for token in short
        .flat_map(|t| fallback_tokens(t))
        .take(MAX_FALLBACK_TOKENS)
    {
        push(token, CandidateSource::Fallback);
    }
    for stem in attachment_stems.iter().map(|s| s.trim()) {
        if !stem.is_empty() && stem.len() <= MAX_VALUE && !stem.contains(char::is_control) {
            push(stem, CandidateSource::Fallback);
        }
    }
    let mut dates = Vec::new();
    for text in std::iter::once(&pieces[0].text).chain(&full) {
        collect_dates(text, &mut dates);
    }
    for word in dates.iter().map(String::as_str).chain(COMMON) {
        push(word, CandidateSource::Fallback);
    }
    out
}

/// True when the subject or a body names a password (an Anchor or NextLine candidate exists).
pub fn password_in_text(subject: &str, texts: &[&str], htmls: &[&str]) -> bool {
    let mut hits = Vec::new();
    sources(subject, texts, htmls).0.iter().any(|piece| {
        scan_anchors(piece, &mut hits);
        !hits.is_empty()
    })
}

/// De-tags HTML: a newline at `<br>`, `<p>`, `<div>`, `<td>`, `<tr>`, `<li>` and other block tags;
/// `<script>`/`<style>` content and comments dropped; `&amp; &lt; &gt; &quot; &apos; &nbsp;
/// &#NN; &#xHH;` decoded; source line breaks are spaces (as in a browser). Lines inside
/// `<blockquote>` start with `> ` so that quoted text stays recognisable. Input past 1 MiB is ignored.
pub fn html_to_text(html: &str) -> String {
    let html = clip(html, MAX_SOURCE);
    let b = html.as_bytes();
    let mut out = String::with_capacity(html.len() / 2);
    let (mut i, mut depth, mut line_start) = (0, 0usize, true);
    let mut buf = [0u8; 4];
    while i < b.len() {
        let text: &str = match b[i] {
            b'&' => {
                let (c, used) = decode_entity(&html[i..]);
                i += used;
                c.encode_utf8(&mut buf)
            }
            b'<' if html[i..].starts_with("<!--") => {
                i = html[i + 4..].find("-->").map_or(b.len(), |k| i + 7 + k);
                continue;
            }
            b'<' if b
                .get(i + 1)
                .is_some_and(|&c| c.is_ascii_alphabetic() || b"/!?".contains(&c)) =>
            {
                let closing = b[i + 1] == b'/';
                let name: String = html[i + 1 + usize::from(closing)..]
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .take(12)
                    .map(|c| c.to_ascii_lowercase())
                    .collect();
                i = tag_end(b, i + 1);
                match name.as_str() {
                    "script" | "style" if !closing => {
                        let close = format!("</{name}");
                        let found = b[i..]
                            .windows(close.len())
                            .position(|w| w.eq_ignore_ascii_case(close.as_bytes()));
                        i = found.map_or(b.len(), |k| tag_end(b, i + k + 1));
                        continue;
                    }
                    "blockquote" if closing => depth = depth.saturating_sub(1),
                    "blockquote" => depth = (depth + 1).min(8),
                    "br" | "p" | "div" | "td" | "th" | "tr" | "li" | "ul" | "ol" | "table"
                    | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "hr" | "dd" | "dt" | "center" => {}
                    _ => continue,
                }
                out.push('\n');
                line_start = true;
                continue;
            }
            b'<' => {
                i += 1;
                "<"
            }
            _ => {
                let end = b[i..]
                    .iter()
                    .position(|&c| c == b'<' || c == b'&')
                    .map_or(b.len(), |k| i + k);
                let run = &html[i..end];
                i = end;
                run
            }
        };
        if line_start && depth > 0 {
            out.extend(std::iter::repeat_n('>', depth));
            out.push(' ');
        }
        line_start = false;
        out.extend(
            text.chars()
                .map(|c| if c == '\n' || c == '\r' { ' ' } else { c }),
        );
    }
    out
}

/// Index just past the `>` that closes a tag; quoted attribute values are skipped.
fn tag_end(b: &[u8], from: usize) -> usize {
    let mut quote = 0u8;
    for (k, &c) in b.iter().enumerate().skip(from) {
        match c {
            _ if quote != 0 => quote = if c == quote { 0 } else { quote },
            b'"' | b'\'' => quote = c,
            b'>' => return k + 1,
            _ => {}
        }
    }
    b.len()
}

/// The entity at the start of `s` (which starts with `&`) and the bytes it uses; `&` if unknown.
fn decode_entity(s: &str) -> (char, usize) {
    let Some(semi) = s.as_bytes().iter().take(12).position(|&b| b == b';') else {
        return ('&', 1);
    };
    let body = &s[1..semi];
    const NAMED: [(&str, char); 9] = [
        ("amp", '&'),
        ("lt", '<'),
        ("gt", '>'),
        ("quot", '"'),
        ("apos", '\''),
        ("nbsp", ' '),
        ("ensp", ' '),
        ("emsp", ' '),
        ("thinsp", ' '),
    ];
    let named = NAMED
        .iter()
        .find(|(n, _)| body.eq_ignore_ascii_case(n))
        .map(|&(_, c)| c);
    let numeric = || {
        let num = body.strip_prefix('#')?;
        let value = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        Some(
            char::from_u32(value)
                .filter(|&c| c != '\0')
                .unwrap_or('\u{FFFD}'),
        )
    };
    named.or_else(numeric).map_or(('&', 1), |c| (c, semi + 1))
}

// ---------------------------------------------------------------------------------------------
// Sources and quotes

struct Piece {
    text: String,
    quoted: bool,
    /// 0 subject, 1 text/plain, 2 HTML.
    rank: u8,
    index: usize,
}

/// Pieces to scan (subject first) and the whole normalised bodies (for fallbacks).
fn sources(subject: &str, texts: &[&str], htmls: &[&str]) -> (Vec<Piece>, Vec<String>) {
    let piece = |text, quoted, rank, index| Piece {
        text,
        quoted,
        rank,
        index,
    };
    let mut pieces = vec![piece(normalize(subject), false, 0, 0)];
    let mut full = Vec::new();
    let bodies = texts.iter().take(MAX_BODIES).map(|t| (1, normalize(t)));
    let htmls = htmls.iter().take(MAX_BODIES);
    let bodies = bodies.chain(htmls.map(|h| (2, normalize(&html_to_text(h)))));
    for (index, (rank, text)) in bodies.enumerate() {
        let (new, quoted) = split_quotes(&text);
        pieces.push(piece(new, false, rank, index));
        pieces.push(piece(quoted, true, rank, index));
        full.push(text);
    }
    (pieces, full)
}

fn clip(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// At most 1 MiB, zero-width characters dropped, NFKC, CR LF → LF.
fn normalize(s: &str) -> String {
    let visible = |c: &char| {
        !matches!(
            c,
            '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{AD}'
        )
    };
    let mut out: String = clip(s, MAX_SOURCE).chars().filter(visible).nfkc().collect();
    out.truncate(clip(&out, MAX_SOURCE).len());
    if out.contains('\r') {
        out = out.replace("\r\n", "\n").replace('\r', "\n");
    }
    out
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// A line after which everything is quoted: `-----Original Message-----` and the like, or a
/// `From:`/`差出人:` line followed by `Sent:`/`To:`/`Subject:` (`送信日時:`/`宛先:`/`件名:`) lines.
fn is_block_quote_header(lines: &[&str], i: usize) -> bool {
    let t = lines[i].trim().trim_matches('*').trim();
    if t.starts_with("---") || t.starts_with("___") {
        let lower = t.to_lowercase();
        const MARKS: &str = "original message|forwarded message|ursprüngliche nachricht|\
                             message d'origine|元のメッセージ|転送メッセージ";
        return MARKS.split('|').any(|m| lower.contains(m));
    }
    let follow = |keys: &[&str]| {
        let mut next = lines
            .iter()
            .skip(i + 1)
            .take(6)
            .map(|l| l.trim().trim_start_matches('*'));
        next.any(|l| keys.iter().any(|k| starts_with_ci(l, k)))
    };
    (starts_with_ci(t, "from:") && follow(&["sent:", "date:", "to:", "subject:", "cc:"]))
        || ((t.starts_with("差出人:") || t.starts_with("送信者:"))
            && follow(&["送信日時:", "宛先:", "件名:", "日付:"]))
}

/// "On …, Name <addr> wrote:" (one line, or two when broken before "wrote:"): lines spanned.
fn wrote_line(lines: &[&str], i: usize) -> usize {
    let wrote = |s: &str| {
        let s = s.trim_end();
        s.len() < 300 && (s.ends_with("wrote:") || s.ends_with("書きました:"))
    };
    let t = lines[i].trim();
    let on = starts_with_ci(t, "on ");
    if wrote(t) && (on || t.contains('@') || t.chars().count() < 80) {
        1
    } else if on && t.len() < 300 && lines.get(i + 1).is_some_and(|n| wrote(n)) {
        2
    } else {
        0
    }
}

/// (new text, quoted text). `>` lines are quoted (marker removed). After an Outlook-style header,
/// or an "On … wrote:" not followed by `>` lines (top posting), everything is quoted.
fn split_quotes(text: &str) -> (String, String) {
    let lines: Vec<&str> = text.split('\n').collect();
    let (mut new, mut quoted) = (String::with_capacity(text.len()), String::new());
    let mut i = 0;
    while i < lines.len() {
        let span = wrote_line(&lines, i);
        let next_is_gt = || {
            let mut after = lines[i + span..].iter().map(|l| l.trim_start());
            after
                .find(|l| !l.is_empty())
                .is_some_and(|l| l.starts_with('>'))
        };
        let end = if span > 0 && next_is_gt() {
            i + span
        } else if span > 0 || is_block_quote_header(&lines, i) {
            lines.len()
        } else if lines[i].trim_start().starts_with('>') {
            i + 1
        } else {
            new.push_str(lines[i]);
            new.push('\n');
            i += 1;
            continue;
        };
        for line in &lines[i..end] {
            quoted.push_str(line.trim_start().trim_start_matches(['>', ' ', '\t']));
            quoted.push('\n');
        }
        i = end;
    }
    (new, quoted)
}

// ---------------------------------------------------------------------------------------------
// Anchors

static ANCHOR: LazyLock<Regex> = LazyLock::new(|| {
    // Longest first where one anchor starts another (leftmost-first alternation).
    Regex::new(concat!(
        r"(?i)解凍パスワード|解凍キー|暗証番号|パスワード|パス|mot\s+de\s+passe|contraseña|",
        r"wachtwoord|passwort|kennwort|passcode|password|passwd|hasło|senha|clave|pass|pwd|pin|pw",
    ))
    .expect("static anchor pattern")
});

/// Anchors must not sit inside a word: Latin ones next to letters or digits, Japanese ones next
/// to katakana (パスポート, コンパス).
fn anchor_bounded(text: &str, start: usize, end: usize) -> bool {
    let latin = text.as_bytes()[start].is_ascii();
    let blocks = |c: Option<char>| {
        c.is_some_and(|c| {
            if latin {
                c.is_alphanumeric()
            } else {
                matches!(c, 'ァ'..='ヺ' | 'ー')
            }
        })
    };
    !blocks(text[..start].chars().next_back()) && !blocks(text[end..].chars().next())
}

/// Sort key (quoted, tier, rank, index, position; lower is better), password, source.
struct Hit((bool, u8, u8, usize, usize), String, CandidateSource);

fn scan_anchors(piece: &Piece, hits: &mut Vec<Hit>) {
    let text = piece.text.as_str();
    let (mut from, mut kept) = (0, 0);
    for _ in 0..MAX_ANCHORS_PER_SOURCE {
        let Some(m) = ANCHOR
            .find_at(text, from)
            .filter(|_| kept < MAX_HITS_PER_SOURCE)
        else {
            break;
        };
        from = m.end();
        if !anchor_bounded(text, m.start(), m.end()) {
            continue;
        }
        let window = clip(&text[m.end()..], REST_WINDOW);
        let newline = window.find('\n');
        let rest = &window[..newline.unwrap_or(window.len())];
        let short = matches!(
            m.as_str().to_lowercase().as_str(),
            "pass" | "pin" | "pw" | "pwd" | "clave" | "パス"
        );
        let (password, source, tier) = match read_after_anchor(rest, short) {
            After::Value(value, tier, used) => {
                from = m.end() + used;
                (value, CandidateSource::Anchor, tier)
            }
            After::LookBelow => {
                let below = newline.and_then(|nl| next_line_value(&text[m.end() + nl + 1..]));
                let Some(value) = below else { continue };
                (value, CandidateSource::NextLine, 1)
            }
            After::Nothing => continue,
        };
        kept += 1;
        let key = (piece.quoted, tier, piece.rank, piece.index, m.start());
        hits.push(Hit(key, password, source));
    }
}

enum After {
    /// Value, tier (0 after a separator, 2 bare), bytes used after the anchor.
    Value(String, u8, usize),
    /// Nothing usable on the anchor's line: look at the next line.
    LookBelow,
    Nothing,
}

fn skip_ws(s: &str, p: usize) -> usize {
    s.len() - s[p..].trim_start().len()
}

/// `(半角)`, `(半角英数)`, `【半角】`, `(case sensitive)`: a short bracketed note. Bytes used.
fn filler_len(s: &str) -> Option<usize> {
    let open = s.chars().next()?;
    let close = match open {
        '(' => ')',
        '[' => ']',
        '【' => '】',
        _ => return None,
    };
    let from = open.len_utf8();
    let (len, _) = s[from..]
        .char_indices()
        .take(24)
        .find(|&(_, c)| c == close)?;
    let inner = s[from..from + len].to_ascii_lowercase();
    let note = !inner.is_ascii() || inner.contains("case") || inner.contains("half");
    note.then_some(from + len + close.len_utf8())
}

fn is_value_char(c: char) -> bool {
    c.is_ascii_graphic() && !matches!(c, ')' | '"' | '\'')
}

fn read_after_anchor(rest: &str, short_anchor: bool) -> After {
    let (mut p, mut strong, mut is_seen, mut gap) = (0, false, false, false);
    for _ in 0..8 {
        let q = skip_ws(rest, p);
        let ws_before = q > p;
        gap |= ws_before;
        p = q;
        let r = &rest[p..];
        let Some(c) = r.chars().next() else { break };
        match c {
            ':' | '=' | 'は' | '→' => strong = true,
            '、' | ',' if strong || is_seen => {}
            '-' if ws_before || r[1..].chars().next().is_none_or(char::is_whitespace) => {
                strong = true
            }
            'i' | 'I' if starts_with_ci(r, "is") && !r[2..].starts_with(char::is_alphanumeric) => {
                is_seen = true;
                p += 1;
            }
            _ => match filler_len(r) {
                Some(used) => p += used - c.len_utf8(),
                None => break,
            },
        }
        p += c.len_utf8();
    }
    let after_seps = p;

    // Openers: 「『 make a separator; a closed "…"/'…' counts as "is"; (…) as bare.
    p = skip_ws(rest, p);
    let opener = rest[p..].chars().next();
    const PAIRS: [(char, char); 5] = [
        ('「', '」'),
        ('『', '』'),
        ('"', '"'),
        ('\'', '\''),
        ('(', ')'),
    ];
    let closer = PAIRS.iter().find(|p| Some(p.0) == opener).map(|p| p.1);
    let cornered = matches!(opener, Some('「' | '『'));
    let paren = opener == Some('(');
    if let (Some(o), Some(_)) = (opener, closer) {
        p += o.len_utf8();
        if cornered {
            p = skip_ws(rest, p);
        }
    }
    let len = rest[p..]
        .find(|c| !is_value_char(c))
        .unwrap_or(rest.len() - p);
    let closed = closer.is_some_and(|cl| rest[p + len..].trim_start().starts_with(cl));
    let value = trim_value(&rest[p..p + len]);
    let tier = if strong || cornered || is_seen || (closed && !paren) {
        0
    } else {
        2
    };
    let bare_ok = tier == 0 || gap || paren;
    let weak = tier == 2 || (short_anchor && !strong && !cornered);
    if bare_ok && acceptable(value) && (!weak || password_like(value)) {
        return After::Value(value.to_string(), tier, p + len);
    }
    if (strong || is_seen || !short_anchor) && look_below(&rest[after_seps..]) {
        return After::LookBelow;
    }
    After::Nothing
}

/// The rest of the anchor's line says "see below", is only punctuation, or is empty.
fn look_below(rest: &str) -> bool {
    let t = rest.trim();
    let lower = t.to_lowercase();
    let pointer = ["下記", "以下", "次の", "below", "follow", "こちら"]
        .iter()
        .any(|w| lower.contains(w));
    t.chars().nth(40).is_none() && (pointer || t.chars().all(|c| !c.is_alphanumeric()))
}

/// First token of the next non-empty line: a password-looking one, or one alone on its line.
fn next_line_value(below: &str) -> Option<String> {
    let area = clip(below, NEXT_LINE_WINDOW);
    let line = area
        .split('\n')
        .take(8)
        .map(str::trim)
        .find(|l| !l.is_empty())?;
    let token = line.split(char::is_whitespace).next()?;
    let value = trim_value(&token[..token.find(|c| !is_value_char(c)).unwrap_or(token.len())]);
    let alone = trim_value(line) == value;
    (acceptable(value) && (alone || password_like(value))).then(|| value.to_string())
}

fn trim_value(v: &str) -> &str {
    v.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}'])
}

/// Words that follow "password" in prose but are not passwords.
const STOPWORDS: &str = "a about above after again all also an and any are as at attached be been \
    being below blank box but by can change changed correct could did do does e.g each empty \
    enclosed entry etc every expired field file follows following for from had has have he her \
    here his how i i.e if in incorrect invalid is it it's its just me may might missing more must \
    my n/a na needed nil no none not now null of ok on one only or other our please protected \
    required reset same see sent set she should so some still such than that the their them then \
    there these they this those to too two unknown us via was we were what when where which who \
    why will with would wrong yes you your";

/// 1–64 characters with an ASCII letter or digit, not a common English word.
fn acceptable(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    (1..=MAX_VALUE).contains(&v.len())
        && v.bytes().any(|b| b.is_ascii_alphanumeric())
        && !STOPWORDS.split_whitespace().any(|w| w == lower)
}

/// A digit, or a capital after the first character together with a lowercase letter.
fn password_like(v: &str) -> bool {
    v.bytes().any(|b| b.is_ascii_digit())
        || (v.bytes().any(|b| b.is_ascii_lowercase())
            && v.bytes().skip(1).any(|b| b.is_ascii_uppercase()))
}

// ---------------------------------------------------------------------------------------------
// Fallbacks

/// 4–32-character ASCII tokens with a digit or an inner capital; no URLs or addresses.
fn fallback_tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_graphic())
        .map(|t| t.trim_matches(|c: char| "()[]{}<>\"'`.,;:!?".contains(c)))
        .filter(|t| (4..=32).contains(&t.len()) && password_like(t))
        .filter(|t| !t.contains("://") && !t.contains('@') && !starts_with_ci(t, "www."))
}

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"([0-9]{4})(?:([-/.年])\s?([0-9]{1,2})\s?[-/.月]\s?([0-9]{1,2})|([0-9]{2})([0-9]{2}))",
    )
    .expect("static date pattern")
});

/// YYYYMMDD from `2024/05/01`, `2024-5-1`, `2024年5月1日`, `20240501` (not inside longer numbers).
fn collect_dates(text: &str, out: &mut Vec<String>) {
    for c in DATE.captures_iter(text) {
        let (Some(whole), true) = (c.get(0), out.len() < MAX_DATES) else {
            break;
        };
        let b = text.as_bytes();
        if b[..whole.start()].last().is_some_and(u8::is_ascii_digit)
            || b.get(whole.end()).is_some_and(u8::is_ascii_digit)
        {
            continue;
        }
        let num = |k: usize| {
            c.get(k)
                .map_or(0, |m| m.as_str().parse::<u32>().unwrap_or(0))
        };
        let (m, d) = if c.get(2).is_some() {
            (num(3), num(4))
        } else {
            (num(5), num(6))
        };
        let y = num(1);
        let date = format!("{y:04}{m:02}{d:02}");
        if (1990..=2099).contains(&y)
            && (1..=12).contains(&m)
            && (1..=31).contains(&d)
            && !out.contains(&date)
        {
            out.push(date);
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use CandidateSource::{Anchor, Fallback, NextLine};
    use mail_parser::{MessageParser, PartType};

    fn best(subject: &str, text: &str) -> Option<(String, CandidateSource)> {
        let first = candidates(subject, &[text], &[], &[], 10)
            .into_iter()
            .next()?;
        (first.source != Fallback).then_some((first.password, first.source))
    }

    fn pair(c: &Candidate) -> (&str, CandidateSource) {
        (c.password.as_str(), c.source)
    }

    fn passwords(list: &[Candidate]) -> Vec<&str> {
        list.iter().map(|c| c.password.as_str()).collect()
    }

    #[test]
    fn hand_written_cases() {
        use CandidateSource::{Anchor as A, NextLine as N};
        let cases: &[(&str, &str, CandidateSource)] = &[
            ("パスワード：Ab12Cd34", "Ab12Cd34", A),
            ("解凍パスワードは「x9Yz」です", "x9Yz", A),
            ("PW: sa", "sa", A),
            ("Password: sa", "sa", A),
            ("パスワードは下記の通りです。\n\nQ7wE9rT2", "Q7wE9rT2", N),
            ("ＰＷ：ａｂ１２", "ab12", A),
            ("Doc password is password", "password", A),
            ("パス\u{200B}ワード：ab\u{200C}cd12\u{FEFF}", "abcd12", A),
            ("pass: 1234", "1234", A),
            ("passwd=hunter2", "hunter2", A),
            ("Your PIN is 4711.", "4711", A),
            ("解凍キー：Zz9-Yy8", "Zz9-Yy8", A),
            ("暗証番号は 5531 です", "5531", A),
            ("パスワード（半角英数）：aB3dE5", "aB3dE5", A),
            ("パスワード(半角)は『qwe123』となります。", "qwe123", A),
            ("パスワードは tanaka2024です。", "tanaka2024", A),
            ("Kennwort: Tx8!pq", "Tx8!pq", A),
            ("Le mot de passe : soleil42", "soleil42", A),
            ("contraseña: gato55", "gato55", A),
            (
                "The password is below:\n\n  Zx81Spectrum\n",
                "Zx81Spectrum",
                N,
            ),
            ("Password\n\nabc123\n", "abc123", N),
            (
                "お世話になっております。\nパスワード：kP4mW2xQ",
                "kP4mW2xQ",
                A,
            ),
            ("パスワード → Hx7Lm2", "Hx7Lm2", A),
            ("PASSWORD - 7fG2kL", "7fG2kL", A),
            ("Password: \"pa ss\" or 'x'", "pa", A),
            ("the zip pw Qz7xk9 as usual", "Qz7xk9", A),
            ("password \"secret\"", "secret", A),
        ];
        for (text, want, source) in cases {
            assert_eq!(
                best("", text),
                Some((want.to_string(), *source)),
                "{text:?}"
            );
        }
        // The subject counts as a source, ranked before the bodies.
        assert_eq!(
            best("ZIP password: subj987", "see attachment"),
            Some(("subj987".into(), A))
        );
        assert_eq!(
            best("Re: 請求書", "PW: body1").map(|b| b.0),
            Some("body1".into())
        );
    }

    #[test]
    fn anchors_inside_words_and_prose_do_not_match() {
        let negatives = "passenger list attached|compass heading 270|spin the wheel|bypass the filter|\
            The password-protected file is attached|Please enter your password to continue|\
            The password is required|I have to pass \"pci=bios,biosirq\" to the kernel|\
            パスポート番号: AB1234567|ファイルパス: C:\\tmp|zip pw macro|\
            パスワードを変更してください。\n新しい設定 abc123";
        for text in negatives.split('|') {
            assert!(!password_in_text("", &[text], &[]), "{text:?}");
            assert!(best("", text).is_none(), "{text:?}");
        }
        assert!(password_in_text("", &["PW: x1"], &[]));
        assert!(password_in_text("", &[], &["<b>パスワード</b>：<i>z9</i>"]));
    }

    #[test]
    fn quoted_text_ranks_below_new_text() {
        let list = candidates("", &["> Password: old333\nPassword: new444\n"], &[], &[], 2);
        assert_eq!(passwords(&list), ["new444", "old333"]);
        let outlook = "新しいパスワード: New111\n\n-----Original Message-----\nFrom: a\nSent: b\n\
                       パスワード: Old222\n";
        assert_eq!(
            passwords(&candidates("", &[outlook], &[], &[], 2)),
            ["New111", "Old222"]
        );
        let japanese = "差出人: 山田\n送信日時: 2024年5月1日\n件名: 資料\nパスワード：Jp1old\n";
        let list = candidates("", &[japanese, "パスワード：Jp2new\n"], &[], &[], 2);
        assert_eq!(passwords(&list), ["Jp2new", "Jp1old"]);
        let gmail = "pw: top1\n\nOn Mon, 1 Jan 2024, Bob <b@x.org> wrote:\npw: below2\n";
        assert_eq!(
            passwords(&candidates("", &[gmail], &[], &[], 2)),
            ["top1", "below2"]
        );
    }

    #[test]
    fn html_sources() {
        let list = candidates("", &[], &["<p>パスワード</p><p>abc123</p>"], &[], 3);
        assert_eq!(pair(&list[0]), ("abc123", NextLine));
        let html = "<div>Password:&nbsp;a&amp;b1</div><script>pw: no1</script>";
        assert_eq!(passwords(&candidates("", &[], &[html], &[], 1)), ["a&b1"]);
        let html =
            "<html><style>p{}</style>A<br>B&#x41;&#66;&lt;x&gt;<!-- c --><td>C</td>&bogus; &#0;";
        assert_eq!(html_to_text(html), "A\nBAB<x>\nC\n&bogus; \u{FFFD}");
        assert_eq!(
            html_to_text("a<blockquote>q1<br>q2</blockquote>b"),
            "a\n> q1\n> q2\nb"
        );
        assert_eq!(
            html_to_text("x < y <a title=\"1>2\">z</a>\r\n<"),
            "x < y z  <"
        );
        let quoted = "<p>pw: new1</p><blockquote><p>pw: old2</p></blockquote>";
        assert_eq!(
            passwords(&candidates("", &[], &[quoted], &[], 2)),
            ["new1", "old2"]
        );
    }

    #[test]
    fn fallbacks_follow_anchors() {
        let text = "Invoice attached, ref Ab12cd, dated 2024/05/01.";
        let list = candidates("pw: topSecret1", &[text], &[], &["invoice_0501"], 20);
        let want = [
            "topSecret1",
            "Ab12cd",
            "2024/05/01",
            "invoice_0501",
            "20240501",
        ];
        assert_eq!(passwords(&list), [&want[..], &COMMON].concat());
        assert_eq!(list[0].source, Anchor);
        assert!(list[1..].iter().all(|c| c.source == Fallback));
        let list = candidates("", &["2024年5月1日に送付"], &[], &[], 20);
        assert!(passwords(&list).contains(&"20240501"));
        assert!(candidates("", &["x"], &[], &[], 0).is_empty());
        assert_eq!(candidates("", &["pw: a1 pw: a1"], &[], &[], 2).len(), 2);
    }

    #[test]
    fn large_and_hostile_input_is_bounded() {
        let big = "password: x1 パスワード\n".repeat(200_000);
        assert_eq!(
            candidates(&big, &[&big], &[&big], &[&big], 20)[0].password,
            "x1"
        );
        let odd = "\u{FDFA}".repeat(400_000) + "<<<<&&&&&#xFFFFFFFF;<script";
        let _ = candidates(&odd, &[&odd], &[&odd], &[], 20);
    }

    fn corpus(rel: &str) -> std::path::PathBuf {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        root.join("../../../shared/corpus").join(rel)
    }

    /// Candidates for a raw message, fed as the subject, text/plain and text/html bodies.
    fn from_mail(bytes: &[u8], limit: usize) -> Option<(Vec<Candidate>, bool)> {
        let msg = MessageParser::default().parse(bytes)?;
        let (mut texts, mut htmls) = (Vec::new(), Vec::new());
        for part in msg.text_bodies().chain(msg.html_bodies()) {
            match &part.body {
                PartType::Text(t) if !texts.contains(&t.as_ref()) => texts.push(t.as_ref()),
                PartType::Html(h) if !htmls.contains(&h.as_ref()) => htmls.push(h.as_ref()),
                _ => {}
            }
        }
        let subject = msg.subject().unwrap_or_default();
        let list = candidates(subject, &texts, &htmls, &[], limit);
        Some((list, password_in_text(subject, &texts, &htmls)))
    }

    #[test]
    fn spamassassin_password_mails() {
        for (name, want) in [("zippwmacro.eml", "sa"), ("encrypted.eml", "password")] {
            let path = corpus("mail/spamassassin-tests/spam/olevbmacro").join(name);
            let (list, in_text) = from_mail(&std::fs::read(path).expect("corpus"), 20).expect(name);
            assert_eq!(pair(&list[0]), (want, Anchor), "{name}");
            assert!(in_text);
        }
    }

    #[test]
    fn easy_ham_anchor_count() {
        let dir = corpus("mail/spamassassin-public/easy-ham-1");
        let files = std::fs::read_dir(&dir)
            .expect("easy-ham-1")
            .flatten()
            .map(|e| e.path());
        let files: Vec<_> = files
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        let (mut anchored, mut in_text) = (0, 0);
        for path in &files {
            let Some((list, named)) = from_mail(&std::fs::read(path).expect("read"), 20) else {
                continue;
            };
            if list.iter().any(|c| c.source == Anchor) {
                anchored += 1;
                eprintln!("{}: {:?}", path.display(), &list[..list.len().min(3)]);
            }
            in_text += usize::from(named);
        }
        eprintln!(
            "easy-ham-1: {} messages, {anchored} with an Anchor candidate, {in_text} with password_in_text",
            files.len()
        );
        assert_eq!(files.len(), 2500);
    }
}
