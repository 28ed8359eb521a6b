//! Exim mainlog message texts (after the timestamp): `[pid] ID <= sender H=… P=… A=… U=… S=…
//! id=… T="…" for rcpt…`, `ID => rcpt <orig> R=… T=… H=…`, `->`, `>>`, `*>`, `** rcpt …: reason`
//! (failure), `== rcpt … defer (…): reason` (deferral), `ID Completed`, and the rejections without
//! a message (`H=… F=<…> rejected RCPT <rcpt>: reason`).

use std::net::IpAddr;

use super::join::{RcptUpdate, domain_of, emit, field, opt_field};
use super::postfix::name_and_ip;
use super::{Ctx, MailEvent, MailStatus, Mta, Origin, cap};

/// An Exim message ID: base-62 `6-6-2` (to 4.96) or `6-11-4` (4.97 on).
pub(crate) fn is_message_id(s: &str) -> bool {
    if !s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
        return false;
    }
    let lens: Vec<usize> = s.split('-').map(str::len).collect();
    matches!(lens.as_slice(), [6, 6, 2] | [6, 11, 4])
}

/// One `key=value` field or a bare word of an Exim line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Item<'a> {
    key: Option<&'a str>,
    value: &'a str,
}

/// Splits an Exim field list. Values may be double-quoted (`T="a \"b\""`, quotes dropped); `H=`
/// runs over the `(helo)` and `[ip]:port` words that follow the host name.
fn items(s: &str) -> Vec<Item<'_>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() && out.len() < 256 {
        if b[i] == b' ' {
            i += 1;
            continue;
        }
        let start = i;
        // A key is a short run of letters/digits before `=`.
        let k = b[i..]
            .iter()
            .take(12)
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        let key = (k > 0 && b.get(i + k) == Some(&b'=')).then(|| &s[i..i + k]);
        if key.is_some() {
            i += k + 1;
        }
        let vstart = i;
        if b.get(i) == Some(&b'"') {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            let vend = i.min(b.len());
            out.push(Item {
                key,
                value: s.get(vstart + 1..vend).unwrap_or(""),
            });
            i = vend + 1;
            continue;
        }
        let word_end = |from: usize| {
            b[from..]
                .iter()
                .position(|&c| c == b' ')
                .map_or(b.len(), |p| from + p)
        };
        i = word_end(i);
        if key == Some("H") {
            // `H=name (helo) [ip]:port` or `H=(helo with spaces) [ip]`.
            loop {
                let next = i + 1;
                match b.get(next) {
                    Some(b'(') => {
                        i = b[next..]
                            .iter()
                            .position(|&c| c == b')')
                            .map_or(b.len(), |p| next + p + 1);
                        i = word_end(i.min(b.len()));
                    }
                    Some(b'[') => i = word_end(next),
                    _ => break,
                }
            }
            // A value that itself began with `(` may still be open.
            if b.get(vstart) == Some(&b'(')
                && !s[vstart..i.min(b.len())].contains(')')
                && let Some(p) = b[i.min(b.len())..].iter().position(|&c| c == b')')
            {
                i = word_end(i + p + 1);
            }
        }
        let i_end = i.min(b.len());
        if start >= i_end {
            i += 1;
            continue;
        }
        out.push(Item {
            key,
            value: s.get(vstart..i_end).unwrap_or(""),
        });
    }
    out
}

fn get<'a>(items: &[Item<'a>], key: &str) -> Option<&'a str> {
    items.iter().find(|i| i.key == Some(key)).map(|i| i.value)
}

/// `H=` value: (host name, helo, address).
fn host(v: &str) -> (Option<&str>, Option<&str>, Option<IpAddr>) {
    let ip = name_and_ip(v).and_then(|(_, ip)| ip);
    let helo = v
        .find('(')
        .and_then(|i| v[i + 1..].find(')').map(|j| &v[i + 1..i + 1 + j]));
    let name = v
        .split(' ')
        .next()
        .filter(|n| !n.starts_with('(') && !n.starts_with('['));
    (name, helo, ip)
}

fn strip_angle(a: &str) -> &str {
    a.strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(a)
}

pub(crate) fn handle(ctx: &mut Ctx<'_>, server: &str, t: i64, msg: &str) {
    let mut s = msg;
    // `[pid]` (log_selector +pid); `[pid/n]` too.
    if let Some(r) = s.strip_prefix('[')
        && let Some(i) = r.find("] ")
        && r[..i].bytes().all(|c| c.is_ascii_digit() || c == b'/')
    {
        s = &r[i + 2..];
    }
    let (first, rest) = s.split_once(' ').unwrap_or((s, ""));
    if !is_message_id(first) {
        if let Some(i) = s.find(" rejected RCPT ") {
            let (head, tail) = (&s[..i], &s[i + 15..]);
            let (rcpt, reason) = tail.split_once(": ").unwrap_or((tail, ""));
            reject(
                ctx,
                server,
                None,
                t,
                head,
                Some(strip_angle(rcpt.trim())),
                reason,
            );
        } else if let Some(i) = s.find(" rejected MAIL ") {
            let (head, tail) = (&s[..i], &s[i + 15..]);
            let reason = tail.split_once(": ").map_or("", |x| x.1);
            reject(ctx, server, None, t, head, None, reason);
        } else {
            ctx.stats.ignored += 1;
        }
        return;
    }
    let id = first;
    let (flag, body) = rest.split_once(' ').unwrap_or((rest, ""));
    match flag {
        "<=" => arrival(ctx, server, id, t, body),
        "=>" | "->" | ">>" => delivery(ctx, server, id, t, body, MailStatus::Sent),
        "**" => delivery(ctx, server, id, t, body, MailStatus::Bounced),
        "==" => delivery(ctx, server, id, t, body, MailStatus::Deferred),
        "Completed" => {
            if !ctx.table.close(server, id, ctx.stats, ctx.on) {
                ctx.stats.ignored += 1;
            }
        }
        _ => {
            if let Some(i) = rest.find(" rejected after ") {
                let reason = rest[i..].split_once(": ").map_or("", |x| x.1);
                reject(ctx, server, Some(id), t, &rest[..i], None, reason);
            } else {
                // `*>` (suppressed), frozen/unfrozen, `SMTP error …`, `removed by …` …
                ctx.stats.ignored += 1;
            }
        }
    }
}

fn arrival(ctx: &mut Ctx<'_>, server: &str, id: &str, t: i64, body: &str) {
    let (sender, fields) = body.split_once(' ').unwrap_or((body, ""));
    if sender.is_empty() {
        ctx.malformed("Exim arrival without a sender");
        return;
    }
    let sender = if sender == "<>" { "" } else { sender };
    // `for a b c` (+received_recipients) ends the line and is not a field list.
    let (fields, for_list) = match fields.rfind(" for ") {
        Some(i) if !fields[i..].contains('=') => (&fields[..i], Some(&fields[i + 5..])),
        _ => (fields, None),
    };
    let its = items(fields);
    let (name, helo, ip) = get(&its, "H").map_or((None, None, None), host);
    let auth = get(&its, "A").map(|a| a.split_once(':').map_or(a, |x| x.1));
    let auth_method = get(&its, "A").and_then(|a| a.split_once(':').map(|x| x.0));
    let user = get(&its, "U");
    let size = get(&its, "S").and_then(|v| v.parse::<u64>().ok());
    let msgid = get(&its, "id");
    let max = ctx.table.max_rcpts;
    let m = ctx.table.entry(Mta::Exim, server, id, t, ctx.stats, ctx.on);
    m.from = Some(field(sender));
    m.size = size;
    m.message_id = opt_field(msgid);
    m.client_ip = ip;
    m.client_name = opt_field(name);
    m.helo = opt_field(helo);
    m.sasl_username = opt_field(auth);
    m.sasl_method = opt_field(auth_method);
    m.origin = if get(&its, "H").is_some() {
        Origin::Smtp
    } else if user.is_some() {
        m.local_user = opt_field(user);
        Origin::Local
    } else if sender.is_empty() {
        Origin::Internal
    } else {
        Origin::Unknown
    };
    let mut dropped = 0;
    for r in for_list.unwrap_or("").split(' ').filter(|r| !r.is_empty()) {
        let u = RcptUpdate {
            addr: r,
            status: MailStatus::Unknown,
            dsn: None,
            relay: None,
            detail: None,
            time: t,
        };
        if !m.update_rcpt(&u, max) {
            dropped += 1;
        }
    }
    ctx.stats.recipients_dropped += dropped;
}

fn delivery(ctx: &mut Ctx<'_>, server: &str, id: &str, t: i64, body: &str, status: MailStatus) {
    let (addr, fields) = body.split_once(' ').unwrap_or((body, ""));
    if addr.trim_end_matches(':').is_empty() {
        ctx.malformed("Exim delivery without an address");
        return;
    }
    // The reason of a failure or deferral follows the first `: ` (right after the address when
    // no router ran: `** a@b: Unrouteable address`).
    let (fields, reason) = if addr.ends_with(':') {
        ("", Some(fields))
    } else {
        match fields.find(": ") {
            Some(i) if status != MailStatus::Sent => (&fields[..i], Some(&fields[i + 2..])),
            _ => (fields, None),
        }
    };
    let addr = addr.trim_end_matches(':');
    let its = items(fields);
    let relay = get(&its, "H").or_else(|| get(&its, "T"));
    let detail = reason.or_else(|| get(&its, "C"));
    let dsn = detail.and_then(|d| {
        d.split(' ').take(32).find(|w| {
            w.len() >= 5
                && w.as_bytes()[1] == b'.'
                && w.bytes().all(|c| c.is_ascii_digit() || c == b'.')
        })
    });
    let max = ctx.table.max_rcpts;
    let m = ctx.table.entry(Mta::Exim, server, id, t, ctx.stats, ctx.on);
    let ok = m.update_rcpt(
        &RcptUpdate {
            addr: strip_angle(addr),
            status,
            dsn,
            relay,
            detail: detail.map(|d| cap(d, 256)),
            time: t,
        },
        max,
    );
    if !ok {
        ctx.stats.recipients_dropped += 1;
    }
}

fn reject(
    ctx: &mut Ctx<'_>,
    server: &str,
    id: Option<&str>,
    t: i64,
    head: &str,
    rcpt: Option<&str>,
    reason: &str,
) {
    let its = items(head);
    let (name, helo, ip) = get(&its, "H").map_or((None, None, None), host);
    let from = get(&its, "F").map(strip_angle);
    let auth = get(&its, "A").map(|a| a.split_once(':').map_or(a, |x| x.1));
    let mut ev = MailEvent {
        time: t,
        last_time: t,
        server: field(server),
        mta: Mta::Exim,
        queue_id: id.map(field),
        message_id: None,
        sasl_username: opt_field(auth),
        sasl_method: None,
        client_ip: ip,
        client_name: opt_field(name),
        helo: opt_field(helo),
        local_user: None,
        from: opt_field(from),
        recipient: opt_field(rcpt),
        recipient_domain: rcpt.and_then(domain_of),
        status: MailStatus::Rejected,
        dsn: None,
        relay: None,
        deferrals: 0,
        size: None,
        origin: Origin::Smtp,
        complete: true,
        detail: Some(field(cap(reason, 256))),
    };
    if let Some(i) = id
        && let Some(m) = ctx.table.take(server, i)
    {
        ev.time = m.first.min(t);
        ev.message_id = m.message_id;
        if ev.sasl_username.is_none() {
            ev.sasl_username = m.sasl_username;
        }
        if ev.from.is_none() {
            ev.from = m.from;
        }
    }
    if ev.client_ip.is_none() && ev.sasl_username.is_none() && ev.from.is_none() {
        ctx.malformed("Exim rejection without host, sender or account");
        return;
    }
    emit(vec![ev], ctx.stats, ctx.on);
}
