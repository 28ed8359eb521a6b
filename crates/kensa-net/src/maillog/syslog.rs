//! The syslog envelope around MTA messages: RFC 3164 (`Nov 22 10:00:01 host tag[pid]: msg`, also
//! what Postfix's own `maillog_file` (postlogd) and `journalctl -o short` write), the same with an
//! ISO 8601 stamp (rsyslog's `RSYSLOG_FileFormat`, `journalctl -o short-iso[-precise]`), and
//! RFC 5424 (`<pri>1 stamp host app procid msgid [sd] msg`). An optional `<pri>` prefix is
//! skipped in all forms.

use super::time::{self, NoYearStamp};

/// When a line was logged, as far as its stamp tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// Full UTC epoch seconds.
    Epoch(i64),
    /// RFC 3164: the year is inferred by the caller.
    NoYear(NoYearStamp),
}

/// One syslog line split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyslogLine<'a> {
    pub stamp: Stamp,
    /// Empty when the line carried no host name.
    pub host: &'a str,
    /// The tag without the pid: `postfix/smtpd`, `postfix-out/smtp`, `exim`.
    pub tag: &'a str,
    pub msg: &'a str,
}

/// `<digits>` at the start: the bytes it takes (0 if absent).
fn pri_len(s: &str) -> usize {
    let b = s.as_bytes();
    if b.first() != Some(&b'<') {
        return 0;
    }
    let n = b[1..]
        .iter()
        .take(3)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if n > 0 && b.get(1 + n) == Some(&b'>') {
        n + 2
    } else {
        0
    }
}

/// Splits at the first space: (word, rest after the space).
fn word(s: &str) -> Option<(&str, &str)> {
    let i = s.find(' ')?;
    Some((&s[..i], &s[i + 1..]))
}

/// A tag token `name[pid]:` or `name:`; returns the name.
fn tag_of(token: &str) -> Option<&str> {
    let t = token.strip_suffix(':')?;
    let name = match t.find('[') {
        Some(i) => {
            let pid = t[i + 1..].strip_suffix(']')?;
            if pid.is_empty() || !pid.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            &t[..i]
        }
        None => t,
    };
    (!name.is_empty()).then_some(name)
}

/// `host tag[pid]: msg` (host optional) after the stamp.
fn host_tag_msg(rest: &str) -> Option<(&str, &str, &str)> {
    let rest = rest.trim_start_matches(' ');
    let (first, after) = word(rest).unwrap_or((rest, ""));
    // No host name: the first word is already the tag (a host name never ends with `:`).
    if let Some(tag) = tag_of(first) {
        return Some(("", tag, after));
    }
    let (second, msg) = word(after).unwrap_or((after, ""));
    let tag = tag_of(second)?;
    Some((first, tag, msg))
}

/// Parses the envelope; `None` when the line is not syslog.
pub(crate) fn parse(line: &str, local_offset: i64) -> Option<SyslogLine<'_>> {
    let p = pri_len(line);
    let s = &line[p..];
    // RFC 5424: version 1 after the priority.
    if p > 0
        && let Some(r) = s.strip_prefix("1 ")
    {
        return parse_5424(r, local_offset);
    }
    let (stamp, used) = if let Some((t, n)) = time::parse_iso(s, local_offset) {
        (Stamp::Epoch(t), n)
    } else {
        let (t, n) = time::parse_no_year(s)?;
        (Stamp::NoYear(t), n)
    };
    let rest = s[used..].strip_prefix(' ')?;
    let (host, tag, msg) = host_tag_msg(rest)?;
    Some(SyslogLine {
        stamp,
        host,
        tag,
        msg,
    })
}

fn nil(s: &str) -> &str {
    if s == "-" { "" } else { s }
}

fn parse_5424(s: &str, local_offset: i64) -> Option<SyslogLine<'_>> {
    let (ts, rest) = word(s)?;
    let stamp = if ts == "-" {
        return None;
    } else {
        let (t, n) = time::parse_iso(ts, local_offset)?;
        if n != ts.len() {
            return None;
        }
        Stamp::Epoch(t)
    };
    let (host, rest) = word(rest)?;
    let (app, rest) = word(rest)?;
    let (_procid, rest) = word(rest)?;
    let (_msgid, rest) = word(rest)?;
    // Structured data: `-` or one or more `[id k="v" …]` (`\]` escapes inside values).
    let msg = if let Some(r) = rest.strip_prefix('-') {
        r
    } else {
        let b = rest.as_bytes();
        let mut i = 0;
        while b.get(i) == Some(&b'[') {
            i += 1;
            loop {
                match b.get(i)? {
                    b'\\' => i += 2,
                    b']' => {
                        i += 1;
                        break;
                    }
                    _ => i += 1,
                }
            }
        }
        if i == 0 {
            return None;
        }
        rest.get(i..)?
    };
    let msg = msg.strip_prefix(' ').unwrap_or(msg);
    let msg = msg.strip_prefix('\u{feff}').unwrap_or(msg);
    let tag = nil(app);
    if tag.is_empty() {
        return None;
    }
    Some(SyslogLine {
        stamp,
        host: nil(host),
        tag,
        msg,
    })
}
