//! Just enough XML for package parts: start/end tags with their attributes, and text.
//!
//! No DTDs, no namespaces beyond dropping the prefix, no validation: a malformed part gives
//! fewer events, never an error. Every step moves forward, so the walk ends.

/// One piece of the document.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Event<'a> {
    /// `<name attrs>` or `<name attrs/>` (`empty`); `name` without its prefix.
    Start {
        name: &'a str,
        attrs: &'a str,
        empty: bool,
    },
    End {
        name: &'a str,
    },
    /// Character data, entities not yet decoded (CDATA comes as it is, `cdata` set).
    Text {
        raw: &'a str,
        cdata: bool,
    },
}

pub(super) struct Reader<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(s: &'a str) -> Self {
        Reader { s, pos: 0 }
    }

    /// Jumps past the next `end` (or to the end of the text).
    fn skip_past(&mut self, end: &str) {
        self.pos = match self.s[self.pos..].find(end) {
            Some(i) => self.pos + i + end.len(),
            None => self.s.len(),
        };
    }
}

/// The name without its namespace prefix.
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

impl<'a> Iterator for Reader<'a> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            let rest = self.s.get(self.pos..)?;
            if rest.is_empty() {
                return None;
            }
            if !rest.starts_with('<') {
                let n = rest.find('<').unwrap_or(rest.len());
                self.pos += n;
                return Some(Event::Text {
                    raw: &rest[..n],
                    cdata: false,
                });
            }
            if rest.starts_with("<!--") {
                self.skip_past("-->");
                continue;
            }
            if let Some(body) = rest.strip_prefix("<![CDATA[") {
                let n = body.find("]]>").unwrap_or(body.len());
                self.pos += 9 + n;
                self.skip_past("]]>");
                return Some(Event::Text {
                    raw: &body[..n],
                    cdata: true,
                });
            }
            if rest.starts_with("<?") {
                self.skip_past("?>");
                continue;
            }
            if rest.starts_with("<!") {
                self.skip_past(">");
                continue;
            }
            // A tag: find its closing '>' outside quoted attribute values.
            let bytes = rest.as_bytes();
            let mut quote = 0u8;
            let mut end = None;
            for (i, &b) in bytes.iter().enumerate().skip(1) {
                if quote != 0 {
                    if b == quote {
                        quote = 0;
                    }
                } else if b == b'"' || b == b'\'' {
                    quote = b;
                } else if b == b'>' {
                    end = Some(i);
                    break;
                }
            }
            let Some(end) = end else {
                self.pos = self.s.len();
                return None;
            };
            self.pos += end + 1;
            let inner = &rest[1..end];
            if let Some(name) = inner.strip_prefix('/') {
                return Some(Event::End {
                    name: local(name.trim()),
                });
            }
            let (inner, empty) = match inner.strip_suffix('/') {
                Some(i) => (i, true),
                None => (inner, false),
            };
            let split = inner
                .find(|c: char| c.is_ascii_whitespace())
                .unwrap_or(inner.len());
            return Some(Event::Start {
                name: local(&inner[..split]),
                attrs: &inner[split..],
                empty,
            });
        }
    }
}

/// The value of the attribute whose name, without prefix, is `want` (case-sensitive), entities
/// decoded. With `prefixed`, only an attribute that has a prefix matches (`r:id`, not `id`).
pub(super) fn attr(attrs: &str, want: &str, prefixed: bool) -> Option<String> {
    let b = attrs.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let name_start = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let name = &attrs[name_start..i];
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b.get(i) != Some(&b'=') {
            // A bare word: the next round reads what follows it.
            if i == name_start {
                i += 1;
            }
            continue;
        }
        i += 1;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let quote = match b.get(i) {
            Some(&q) if q == b'"' || q == b'\'' => q,
            _ => return None,
        };
        i += 1;
        let value_start = i;
        while i < b.len() && b[i] != quote {
            i += 1;
        }
        let value = &attrs[value_start..i.min(attrs.len())];
        i += 1;
        if local(name) == want && (!prefixed || name.contains(':')) {
            return Some(unescape(value));
        }
    }
    None
}

/// Decodes the five named entities and numeric character references.
pub(super) fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(semi) = rest.bytes().take(12).position(|b| b == b';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..semi];
        let decoded = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => {
                let num = if let Some(h) = ent.strip_prefix("#x").or(ent.strip_prefix("#X")) {
                    u32::from_str_radix(h, 16).ok()
                } else if let Some(d) = ent.strip_prefix('#') {
                    d.parse::<u32>().ok()
                } else {
                    None
                };
                num.and_then(char::from_u32)
            }
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Part bytes as text: UTF-16 with a BOM, else UTF-8 (invalid bytes replaced, BOM dropped).
pub(super) fn decode(data: &[u8]) -> std::borrow::Cow<'_, str> {
    if data.starts_with(&[0xFF, 0xFE]) || data.starts_with(&[0xFE, 0xFF]) {
        let (text, _, _) = encoding_rs::UTF_16LE.decode(data);
        return std::borrow::Cow::Owned(text.into_owned());
    }
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    String::from_utf8_lossy(data)
}

/// The local name of the first element, if the text is XML.
pub(super) fn root(text: &str) -> Option<&str> {
    if !text.trim_start().starts_with('<') {
        return None;
    }
    Reader::new(text).find_map(|e| match e {
        Event::Start { name, .. } => Some(name),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xlm_xml_events_and_attributes() {
        let doc = r#"<?xml version="1.0"?><!-- c --><a:root x="1 > 2"><s r:id='rId1' id="no" name="A&amp;B"/><f>ALERT(&quot;x&quot;)</f><![CDATA[<raw>]]></a:root>"#;
        let ev: Vec<_> = Reader::new(doc).collect();
        assert_eq!(
            ev[0],
            Event::Start {
                name: "root",
                attrs: r#" x="1 > 2""#,
                empty: false
            }
        );
        let Event::Start { attrs, empty, .. } = ev[1] else {
            panic!("{:?}", ev[1]);
        };
        assert!(empty);
        assert_eq!(attr(attrs, "id", true).as_deref(), Some("rId1"));
        assert_eq!(attr(attrs, "id", false).as_deref(), Some("rId1"));
        assert_eq!(attr(attrs, "name", false).as_deref(), Some("A&B"));
        assert_eq!(
            ev[3],
            Event::Text {
                raw: "ALERT(&quot;x&quot;)",
                cdata: false
            }
        );
        assert_eq!(
            unescape("ALERT(&quot;x&quot;) &#65;&#x42; &bogus; &"),
            "ALERT(\"x\") AB &bogus; &"
        );
        assert!(matches!(
            ev[5],
            Event::Text {
                raw: "<raw>",
                cdata: true
            }
        ));
        assert_eq!(root(doc), Some("root"));
        assert_eq!(root("PK"), None);
        // Cut documents end without panicking.
        for n in 0..doc.len() {
            if doc.is_char_boundary(n) {
                let _ = Reader::new(&doc[..n]).count();
            }
        }
    }
}
