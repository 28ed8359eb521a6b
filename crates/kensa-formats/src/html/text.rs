//! What a page shows: tags stripped, `script`/`style` bodies and comments dropped, entities
//! decoded, whitespace collapsed, block elements on lines of their own.
//!
//! The charset is taken from a BOM, else from the first `charset=` (a `<meta>` tag or its
//! `http-equiv` content) or `<?xml … encoding="…"?>` in the first 4 KiB, else UTF-8; as browsers
//! do, a UTF-16 label in a meta tag means UTF-8. The page is decoded first (ISO-2022-JP text can
//! hold `<` bytes) and the tag walk then runs over UTF-8, once, forward.

use encoding_rs::{Encoding, UTF_8};
use memchr::memmem;

/// How far into the page a charset declaration is looked for.
const CHARSET_WINDOW: usize = 4096;

/// The encoding the page declares (BOM, `<meta charset>`, XML declaration), else UTF-8.
pub fn charset(data: &[u8]) -> &'static Encoding {
    if let Some((enc, _)) = Encoding::for_bom(data) {
        return enc;
    }
    let head = data
        .get(..data.len().min(CHARSET_WINDOW))
        .unwrap_or_default();
    let lower = head.to_ascii_lowercase();
    let declared = label_after(&lower, b"charset").or_else(|| {
        memmem::find(&lower, b"<?xml").and_then(|at| label_after(lower.get(at..)?, b"encoding"))
    });
    match declared.and_then(Encoding::for_label) {
        Some(enc) if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE => UTF_8,
        Some(enc) if enc == encoding_rs::REPLACEMENT => UTF_8,
        Some(enc) => enc,
        None => UTF_8,
    }
}

/// The label after the first `key` followed by `=` (quotes and spaces allowed around it).
fn label_after<'a>(lower: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    for at in memmem::find_iter(lower, key) {
        let rest = lower.get(at + key.len()..)?;
        let rest = trim_start(rest);
        let Some(rest) = rest.strip_prefix(b"=") else {
            continue;
        };
        let rest = trim_start(rest);
        let rest = rest
            .strip_prefix(b"\"")
            .or_else(|| rest.strip_prefix(b"'"))
            .unwrap_or(rest);
        let len = rest
            .iter()
            .take(41)
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
            .count();
        if (1..=40).contains(&len) {
            return rest.get(..len);
        }
    }
    None
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    s.get(n..).unwrap_or_default()
}

/// The text a browser would show, at most `max` bytes of UTF-8 (cut at a character boundary).
pub fn visible_text(data: &[u8], max: usize) -> String {
    let enc = charset(data);
    let body = match Encoding::for_bom(data) {
        Some((_, bom)) => data.get(bom..).unwrap_or_default(),
        None => data,
    };
    let (decoded, _) = enc.decode_without_bom_handling(body);
    let mut w = Walker {
        src: decoded.as_bytes(),
        out: Vec::new(),
        max,
        pending_space: false,
        pre: 0,
    };
    w.run();
    let mut out = w.out;
    let mut cut = out.len().min(max);
    while cut > 0 && out.get(cut).is_some_and(|b| (0x80..0xC0).contains(b)) {
        cut -= 1;
    }
    out.truncate(cut);
    while out.last().is_some_and(|b| *b == b' ' || *b == b'\n') {
        out.pop();
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Elements that start a new line.
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "tfoot",
    "thead",
    "title",
    "tr",
    "ul",
];

struct Walker<'a> {
    src: &'a [u8],
    out: Vec<u8>,
    max: usize,
    /// Whitespace seen since the last character written.
    pending_space: bool,
    /// Depth of `<pre>` (line breaks kept).
    pre: usize,
}

impl Walker<'_> {
    fn full(&self) -> bool {
        self.out.len() >= self.max
    }

    fn run(&mut self) {
        let mut pos = 0;
        while pos < self.src.len() && !self.full() {
            let rest = self.src.get(pos..).unwrap_or_default();
            let next = memchr::memchr2(b'<', b'&', rest).unwrap_or(rest.len());
            self.text(rest.get(..next).unwrap_or_default());
            pos += next;
            match self.src.get(pos) {
                Some(b'<') => pos = self.markup(pos),
                Some(b'&') => pos = self.entity(pos),
                _ => {}
            }
        }
    }

    /// Plain text: whitespace collapsed (kept as line breaks inside `<pre>`).
    fn text(&mut self, s: &[u8]) {
        for &b in s {
            // Stop only at a character start, so `out` never ends inside a character.
            if self.full() && !(0x80..0xC0).contains(&b) {
                return;
            }
            if b.is_ascii_whitespace() {
                if self.pre > 0 && b == b'\n' {
                    self.newline();
                } else {
                    self.pending_space = true;
                }
            } else {
                self.put(&[b]);
            }
        }
    }

    fn put(&mut self, bytes: &[u8]) {
        if self.pending_space && !matches!(self.out.last(), None | Some(b' ' | b'\n')) {
            self.out.push(b' ');
        }
        self.pending_space = false;
        self.out.extend_from_slice(bytes);
    }

    fn newline(&mut self) {
        while self.out.last() == Some(&b' ') {
            self.out.pop();
        }
        if !self.out.is_empty() && (self.pre > 0 || self.out.last() != Some(&b'\n')) {
            self.out.push(b'\n');
        }
        self.pending_space = false;
    }

    /// `<` at `pos`: a comment, CDATA, declaration, tag or a literal `<`. Returns the next position.
    fn markup(&mut self, pos: usize) -> usize {
        let rest = self.src.get(pos..).unwrap_or_default();
        if rest.starts_with(b"<!--") {
            return skip_past(self.src, pos + 4, b"-->");
        }
        if rest.starts_with(b"<![CDATA[") {
            let body_start = pos + 9;
            let end = memmem::find(self.src.get(body_start..).unwrap_or_default(), b"]]>")
                .map_or(self.src.len(), |i| body_start + i);
            self.text(self.src.get(body_start..end).unwrap_or_default());
            return end.saturating_add(3).min(self.src.len());
        }
        let closing = rest.get(1) == Some(&b'/');
        let name_start = pos + 1 + usize::from(closing);
        let opens_tag = match self.src.get(pos + 1) {
            Some(b'!' | b'?') => true,
            Some(b'/') => self.src.get(pos + 2).is_some_and(u8::is_ascii_alphabetic),
            Some(b) => b.is_ascii_alphabetic(),
            None => false,
        };
        if !opens_tag {
            self.put(b"<");
            return pos + 1;
        }
        let end = memchr::memchr(b'>', rest).map_or(self.src.len(), |i| pos + i + 1);
        let tag = self.src.get(pos..end).unwrap_or_default();
        let name_len = self
            .src
            .get(name_start..end)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b':' || **b == b'-')
            .count();
        let name = self
            .src
            .get(name_start..name_start + name_len)
            .unwrap_or_default()
            .to_ascii_lowercase();
        // `svg:script` and friends count by their local name.
        let local = name.rsplit(|b| *b == b':').next().unwrap_or_default();
        self.element(local, closing, tag);
        if !closing && (local == b"script" || local == b"style") && !tag.ends_with(b"/>") {
            return skip_element_body(self.src, end, local);
        }
        end
    }

    fn element(&mut self, name: &[u8], closing: bool, tag: &[u8]) {
        match name {
            b"td" | b"th" => self.pending_space = true,
            b"pre" if closing => {
                self.pre = self.pre.saturating_sub(1);
                self.newline();
            }
            b"pre" => {
                self.newline();
                self.pre = self.pre.saturating_add(1);
            }
            b"input" if !closing => {
                let hidden =
                    attribute(tag, b"type").is_some_and(|t| t.eq_ignore_ascii_case(b"hidden"));
                if let Some(value) = attribute(tag, b"value").filter(|_| !hidden) {
                    self.pending_space = true;
                    self.inline_text(value);
                    self.pending_space = true;
                }
            }
            _ if BLOCK_TAGS.iter().any(|t| t.as_bytes() == name) => self.newline(),
            _ => {}
        }
    }

    /// Text that may hold entities (an attribute value), without recursion into markup.
    fn inline_text(&mut self, s: &[u8]) {
        let mut pos = 0;
        while pos < s.len() && !self.full() {
            let rest = s.get(pos..).unwrap_or_default();
            let next = memchr::memchr(b'&', rest).unwrap_or(rest.len());
            self.text(rest.get(..next).unwrap_or_default());
            pos += next;
            if pos < s.len() {
                let (decoded, len) = decode_entity(s.get(pos..).unwrap_or_default());
                self.put_char(decoded);
                pos += len;
            }
        }
    }

    /// `&` at `pos`. Returns the next position.
    fn entity(&mut self, pos: usize) -> usize {
        let (c, len) = decode_entity(self.src.get(pos..).unwrap_or_default());
        self.put_char(c);
        pos + len
    }

    fn put_char(&mut self, c: char) {
        if c == ' ' || c == '\u{a0}' {
            self.pending_space = true;
        } else {
            let mut buf = [0u8; 4];
            self.put(c.encode_utf8(&mut buf).as_bytes());
        }
    }
}

/// Position after the first `needle` from `from` (end of input when there is none).
fn skip_past(src: &[u8], from: usize, needle: &[u8]) -> usize {
    memmem::find(src.get(from..).unwrap_or_default(), needle)
        .map_or(src.len(), |i| from + i + needle.len())
}

/// Position after `</name …>` from `from` (ASCII case-insensitive), else the end of input.
fn skip_element_body(src: &[u8], from: usize, name: &[u8]) -> usize {
    let mut pos = from;
    while let Some(i) = src.get(pos..).and_then(|r| memchr::memchr(b'<', r)) {
        let at = pos + i;
        let after = at + 2;
        let is_close = src.get(at + 1) == Some(&b'/')
            && src
                .get(after..after + name.len())
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
            && !src
                .get(after + name.len())
                .is_some_and(u8::is_ascii_alphanumeric);
        if is_close {
            return skip_past(src, after, b">");
        }
        pos = at + 1;
    }
    src.len()
}

/// The value of attribute `name` in a tag (`name="v"`, `name='v'` or `name=v`).
fn attribute<'a>(tag: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let lower = tag.to_ascii_lowercase();
    for at in memmem::find_iter(&lower, name) {
        let before_ok = at
            .checked_sub(1)
            .and_then(|p| lower.get(p))
            .is_some_and(|b| b.is_ascii_whitespace());
        let rest = lower.get(at + name.len()..)?;
        let trimmed = trim_start(rest);
        if !before_ok || !trimmed.starts_with(b"=") {
            continue;
        }
        let value_at = tag.len() - trimmed.len() + 1;
        let value = trim_start(tag.get(value_at..)?);
        let value_at = tag.len() - value.len();
        return match value.first() {
            Some(q @ (b'"' | b'\'')) => {
                let end = memchr::memchr(*q, value.get(1..)?).map_or(value.len(), |i| i + 1);
                tag.get(value_at + 1..value_at + end)
            }
            _ => {
                let end = value
                    .iter()
                    .position(|b| b.is_ascii_whitespace() || *b == b'>')
                    .unwrap_or(value.len());
                tag.get(value_at..value_at + end)
            }
        };
    }
    None
}

/// Named entities decoded; an unknown name stays a literal `&`.
const ENTITIES: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", ' '),
    ("ensp", ' '),
    ("emsp", ' '),
    ("thinsp", ' '),
    ("copy", '©'),
    ("reg", '®'),
    ("yen", '¥'),
    ("hellip", '…'),
    ("ndash", '–'),
    ("mdash", '—'),
    ("laquo", '«'),
    ("raquo", '»'),
    ("middot", '·'),
    ("times", '×'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("ldquo", '“'),
    ("rdquo", '”'),
    ("zwnj", '\u{200c}'),
    ("zwj", '\u{200d}'),
    ("shy", '\u{ad}'),
];

/// Decode the entity at the start of `s` (which starts with `&`): the character and the bytes
/// consumed (1 for a bare `&`).
fn decode_entity(s: &[u8]) -> (char, usize) {
    if let Some(rest) = s.strip_prefix(b"&#") {
        let (radix, skip) = match rest.first() {
            Some(b'x' | b'X') => (16, 1),
            _ => (10, 0),
        };
        let digits = rest
            .get(skip..)
            .unwrap_or_default()
            .iter()
            .take(9)
            .take_while(|b| b.is_ascii_digit() || (radix == 16 && b.is_ascii_hexdigit()))
            .count();
        if digits == 0 || digits > 8 {
            return ('&', 1);
        }
        let text = rest.get(skip..skip + digits).unwrap_or_default();
        let value = std::str::from_utf8(text)
            .ok()
            .and_then(|t| u32::from_str_radix(t, radix).ok())
            .unwrap_or(0);
        let c = match value {
            0 => char::REPLACEMENT_CHARACTER,
            v => char::from_u32(v).unwrap_or(char::REPLACEMENT_CHARACTER),
        };
        let semi = usize::from(rest.get(skip + digits) == Some(&b';'));
        return (c, 2 + skip + digits + semi);
    }
    let name_len = s
        .get(1..)
        .unwrap_or_default()
        .iter()
        .take(11)
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let name = s.get(1..1 + name_len).unwrap_or_default();
    let semi = s.get(1 + name_len) == Some(&b';');
    let found = ENTITIES.iter().find(|(n, _)| n.as_bytes() == name);
    match found {
        // Without `;` only the legacy few are recognised (as browsers do).
        Some((n, c)) if semi || matches!(*n, "amp" | "lt" | "gt" | "quot" | "nbsp" | "copy") => {
            (*c, 1 + name_len + usize::from(semi))
        }
        _ => ('&', 1),
    }
}
