//! Postfix message texts (after the syslog envelope), joined by queue ID in [`super::join`].

use std::net::IpAddr;

use super::join::{RcptUpdate, domain_of, emit, field, opt_field};
use super::{Ctx, MailEvent, MailStatus, Mta, Origin, cap};

/// Postfix daemon and command names (the last part of a syslog tag like `postfix/smtpd`).
const DAEMONS: &[&str] = &[
    "anvil",
    "bounce",
    "cleanup",
    "discard",
    "dnsblog",
    "error",
    "flush",
    "lmtp",
    "local",
    "master",
    "oqmgr",
    "pickup",
    "pipe",
    "postdrop",
    "postfix-script",
    "postlogd",
    "postqueue",
    "postscreen",
    "postsuper",
    "proxymap",
    "qmgr",
    "qmqpd",
    "relay",
    "retry",
    "scache",
    "sendmail",
    "showq",
    "smtp",
    "smtpd",
    "spawn",
    "tlsmgr",
    "tlsproxy",
    "trivial-rewrite",
    "verify",
    "virtual",
];

pub(crate) fn is_daemon(d: &str) -> bool {
    DAEMONS.contains(&d)
}

/// A Postfix queue ID: short (upper-case hex, as `4F3A21C0A2`) or long (`enable_long_queue_ids`:
/// base-52 letters and digits without vowels, the inode part after a `z`, as `4Xk9bL1Mdpz3rFq`).
pub(crate) fn is_queue_id(s: &str) -> bool {
    let b = s.as_bytes();
    let short = (5..=16).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c));
    let long = (10..=24).contains(&b.len())
        && b.iter().all(u8::is_ascii_alphanumeric)
        && b.contains(&b'z')
        && !b.iter().any(|c| b"aeiouAEIOU".contains(c));
    short || long
}

/// The value of `key=<…>` in `s` (the key at the start or after a space, comma or semicolon):
/// up to the first `>` that ends the value (followed by the end, `,`, ` ` or `;`).
pub(crate) fn angle_value<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(rel) = s.get(from..)?.find(key) {
        let at = from + rel;
        let after = at + key.len();
        let boundary = at == 0 || matches!(b.get(at - 1), Some(b' ' | b',' | b';'));
        if boundary && s.get(after..)?.starts_with("=<") {
            let v0 = after + 2;
            let mut i = v0;
            while let Some(off) = s.get(i..)?.find('>') {
                let end = i + off;
                if matches!(b.get(end + 1), None | Some(b',' | b' ' | b';' | b')')) {
                    return s.get(v0..end);
                }
                i = end + 1;
            }
            return None;
        }
        from = after;
    }
    None
}

/// The value of `key=` in a `, `-separated list: up to the next `, ` (or the end).
fn list_value<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let mut rest = s;
    loop {
        if let Some(v) = rest.strip_prefix(key).and_then(|r| r.strip_prefix('=')) {
            return Some(v.split(", ").next().unwrap_or(v));
        }
        let i = rest.find(", ")?;
        rest = &rest[i + 2..];
    }
}

/// `name[ip]` or `name[ip]:port` (or `[ip]…`): (name, address).
pub(crate) fn name_and_ip(s: &str) -> Option<(&str, Option<IpAddr>)> {
    let open = s.rfind('[')?;
    let close = open + s.get(open..)?.find(']')?;
    let inner = s.get(open + 1..close)?;
    let inner = inner
        .strip_prefix("IPv6:")
        .or_else(|| inner.strip_prefix("ipv6:"))
        .unwrap_or(inner);
    Some((s.get(..open)?, inner.parse().ok()))
}

fn status_of(word: &str) -> Option<MailStatus> {
    Some(match word {
        "sent" => MailStatus::Sent,
        "deferred" | "SOFTBOUNCE" => MailStatus::Deferred,
        "bounced" => MailStatus::Bounced,
        "expired" => MailStatus::Expired,
        _ => return None,
    })
}

/// `X.Y.Z` enhanced status code.
fn is_dsn(s: &str) -> bool {
    let mut parts = s.split('.');
    let ok = |p: Option<&str>, max: usize| {
        p.is_some_and(|p| !p.is_empty() && p.len() <= max && p.bytes().all(|c| c.is_ascii_digit()))
    };
    ok(parts.next(), 1) && ok(parts.next(), 3) && ok(parts.next(), 3) && parts.next().is_none()
}

pub(crate) fn handle(ctx: &mut Ctx<'_>, server: &str, daemon: &str, t: i64, msg: &str) {
    if let Some(rest) = msg.strip_prefix("NOQUEUE: ") {
        if let Some(r) = rest
            .strip_prefix("reject: ")
            .or_else(|| rest.strip_prefix("milter-reject: "))
        {
            reject(ctx, server, None, t, r);
        } else {
            ctx.stats.ignored += 1;
        }
        return;
    }
    let Some((qid, rest)) = msg.split_once(": ").filter(|(q, _)| is_queue_id(q)) else {
        // connect/disconnect, warnings, statistics, TLS notes, `QID: removed` has a colon…
        if let Some(q) = msg.strip_suffix(": removed").filter(|q| is_queue_id(q)) {
            removed(ctx, server, q);
        } else {
            ctx.stats.ignored += 1;
        }
        return;
    };
    if rest == "removed" {
        removed(ctx, server, qid);
    } else if let Some(r) = rest.strip_prefix("client=") {
        client(ctx, server, qid, t, r);
    } else if let Some(r) = rest.strip_prefix("uid=") {
        let m = ctx
            .table
            .entry(Mta::Postfix, server, qid, t, ctx.stats, ctx.on);
        m.origin = Origin::Local;
        m.local_user = r.split(' ').next().filter(|u| !u.is_empty()).map(field);
        if m.from.is_none() {
            m.from = angle_value(r, "from").map(field);
        }
    } else if let Some(r) = rest.strip_prefix("message-id=") {
        let id = r.trim();
        let id = id
            .strip_prefix('<')
            .map(|x| x.strip_suffix('>').unwrap_or(x))
            .unwrap_or(id);
        let m = ctx
            .table
            .entry(Mta::Postfix, server, qid, t, ctx.stats, ctx.on);
        m.message_id = (!id.is_empty()).then(|| field(id));
    } else if rest.starts_with("from=<") {
        queue_manager(ctx, server, qid, t, rest);
    } else if rest.starts_with("to=<") {
        delivery(ctx, server, qid, t, rest);
    } else if let Some(r) = rest
        .strip_prefix("reject: ")
        .or_else(|| rest.strip_prefix("milter-reject: "))
    {
        reject(ctx, server, Some(qid), t, r);
    } else if let Some((_, other)) = rest
        .split_once(" notification: ")
        .filter(|(kind, _)| kind.starts_with("sender ") || kind.starts_with("postmaster "))
    {
        // `bounce`: the notification is a new message made by the MTA itself.
        let other = other.trim();
        if is_queue_id(other) {
            // Often logged after the notification was already delivered and removed: then its
            // null sender without a client marks it (see join::Msg::into_events).
            if let Some(m) = ctx.table.get_mut(server, other) {
                m.origin = Origin::Internal;
            }
        } else {
            ctx.malformed("notification without a queue ID");
        }
    } else {
        // header/body `warning:`/`hold:`/`discard:`/`redirect:`, `host … said:`, `lost
        // connection`, `enabling PIX workarounds`, `resent-message-id=` …
        let _ = daemon;
        ctx.stats.ignored += 1;
    }
}

fn removed(ctx: &mut Ctx<'_>, server: &str, qid: &str) {
    if !ctx.table.close(server, qid, ctx.stats, ctx.on) {
        // Its other lines were before the log started: nothing to report.
        ctx.stats.ignored += 1;
    }
}

fn client(ctx: &mut Ctx<'_>, server: &str, qid: &str, t: i64, r: &str) {
    let first = r.split(", ").next().unwrap_or(r);
    let Some((name, ip)) = name_and_ip(first) else {
        ctx.malformed("client= without name[address]");
        return;
    };
    // A content filter re-injecting with XFORWARD names the original client.
    let orig = list_value(r, "orig_client").and_then(name_and_ip);
    let (name, ip) = match orig {
        Some((n, Some(i))) => (n, Some(i)),
        _ => (name, ip),
    };
    let m = ctx
        .table
        .entry(Mta::Postfix, server, qid, t, ctx.stats, ctx.on);
    m.origin = Origin::Smtp;
    m.client_name = Some(field(name));
    m.client_ip = ip;
    if let Some(v) = list_value(r, "sasl_method") {
        m.sasl_method = Some(field(v));
    }
    if let Some(v) = list_value(r, "sasl_username") {
        m.sasl_username = Some(field(v));
    }
}

fn queue_manager(ctx: &mut Ctx<'_>, server: &str, qid: &str, t: i64, rest: &str) {
    let Some(from) = angle_value(rest, "from") else {
        ctx.malformed("qmgr from=<…> not closed");
        return;
    };
    let size = list_value(rest, "size").and_then(|v| v.parse::<u64>().ok());
    let expired = rest.contains(", status=expired");
    let m = ctx
        .table
        .entry(Mta::Postfix, server, qid, t, ctx.stats, ctx.on);
    m.from = Some(field(from));
    if size.is_some() {
        m.size = size;
    }
    if expired {
        // Every recipient not yet delivered is given up.
        m.expire_pending(t);
    }
}

fn delivery(ctx: &mut Ctx<'_>, server: &str, qid: &str, t: i64, rest: &str) {
    let Some(to) = angle_value(rest, "to") else {
        ctx.malformed("to=<…> not closed");
        return;
    };
    let Some(st) = rest.find(", status=").map(|i| &rest[i + 9..]) else {
        ctx.malformed("delivery record without status=");
        return;
    };
    let (word, text) = match st.split_once(' ') {
        Some((w, x)) => (w, Some(x)),
        None => (st, None),
    };
    let word = word.trim_end_matches(',');
    let Some(status) = status_of(word) else {
        // `deliverable`/`undeliverable` (address verification probes) and others.
        ctx.stats.ignored += 1;
        return;
    };
    let detail = text.map(|x| {
        let x = x.trim();
        let x = x.strip_prefix('(').unwrap_or(x);
        x.strip_suffix(')').unwrap_or(x)
    });
    let relay = list_value(rest, "relay");
    let dsn = list_value(rest, "dsn").filter(|d| is_dsn(d));
    let max = ctx.table.max_rcpts;
    let m = ctx
        .table
        .entry(Mta::Postfix, server, qid, t, ctx.stats, ctx.on);
    let ok = m.update_rcpt(
        &RcptUpdate {
            addr: to,
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

/// `STAGE from name[ip]: CODE X.Y.Z text; from=<…> to=<…> proto=… helo=<…>` (and postscreen's
/// `…; from=<…>, to=<…>, proto=…, helo=<…>`).
fn reject(ctx: &mut Ctx<'_>, server: &str, qid: Option<&str>, t: i64, r: &str) {
    let stage = r.split(' ').next().unwrap_or("");
    // Attributes follow the last `; from=<` (the reason text may quote addresses).
    let Some(tail_at) = r.rfind("; from=<") else {
        ctx.malformed("reject without from=<…>");
        return;
    };
    let (head, tail) = (&r[..tail_at], &r[tail_at + 2..]);
    let from = angle_value(tail, "from");
    let to = angle_value(tail, "to");
    let helo = angle_value(tail, "helo");
    // `STAGE from name[ip]: reason` (cleanup's header/body form: `… from name[ip]; …`, the
    // reason after `helo=<…>: `).
    let (client_part, mut reason) = match head.rfind(" from ") {
        Some(i) => {
            let after = &head[i + 6..];
            match after.find("]:") {
                Some(j) => {
                    let mut rest = &after[j + 1..];
                    // An optional `:port` after the address.
                    if let Some(p) = rest.strip_prefix(':') {
                        let n = p.bytes().take_while(u8::is_ascii_digit).count();
                        if n > 0 && p[n..].starts_with(':') {
                            rest = &p[n..];
                        }
                    }
                    (&after[..=j], rest.trim_start_matches(':').trim_start())
                }
                None => (after, ""),
            }
        }
        None => ("", head),
    };
    if reason.is_empty()
        && let Some(h) = helo
        && let Some(i) = tail.find(h)
    {
        reason = tail[i + h.len()..].trim_start_matches(['>', ':', ' ']);
    }
    let (name, ip) = name_and_ip(client_part).unwrap_or(("", None));
    let dsn = reason.split(' ').take(3).find(|d| is_dsn(d));
    let mut ev = MailEvent {
        time: t,
        last_time: t,
        server: field(server),
        mta: Mta::Postfix,
        queue_id: qid.map(field),
        message_id: None,
        sasl_username: None,
        sasl_method: None,
        client_ip: ip,
        client_name: (!name.is_empty()).then(|| field(name)),
        helo: opt_field(helo),
        local_user: None,
        from: opt_field(from),
        recipient: opt_field(to),
        recipient_domain: to.and_then(domain_of),
        status: MailStatus::Rejected,
        dsn: opt_field(dsn),
        relay: None,
        deferrals: 0,
        size: None,
        origin: Origin::Smtp,
        complete: true,
        detail: Some(field(cap(reason, 256))),
    };
    let whole_message = matches!(
        stage,
        "END-OF-MESSAGE" | "DATA" | "header" | "body" | "BDAT"
    );
    if let Some(q) = qid
        && let Some(m) = ctx.table.get_mut(server, q)
    {
        ev.time = m.first.min(t);
        ev.sasl_username.clone_from(&m.sasl_username);
        ev.sasl_method.clone_from(&m.sasl_method);
        ev.message_id.clone_from(&m.message_id);
        if ev.client_ip.is_none() {
            ev.client_ip = m.client_ip;
        }
        if whole_message {
            // The message is refused as a whole and never queued: the rejection stands for it.
            let _ = ctx.table.take(server, q);
        }
    }
    emit(vec![ev], ctx.stats, ctx.on);
}
