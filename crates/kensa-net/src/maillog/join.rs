//! Open messages keyed by (server, queue ID), bounded; a closed, flushed or evicted message
//! becomes one [`MailEvent`] per recipient.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use super::{MAX_FIELD_BYTES, MailEvent, MailLogStats, MailStatus, Mta, Origin, cap};

/// One recipient as the log tells it so far.
#[derive(Debug, Clone)]
pub(crate) struct Rcpt {
    pub addr: String,
    pub status: MailStatus,
    pub dsn: Option<String>,
    pub relay: Option<String>,
    pub detail: Option<String>,
    pub last: i64,
    pub deferrals: u32,
}

/// One message being assembled.
#[derive(Debug, Clone)]
pub(crate) struct Msg {
    generation: u64,
    pub mta: Mta,
    pub server: String,
    pub qid: String,
    pub first: i64,
    pub client_ip: Option<IpAddr>,
    pub client_name: Option<String>,
    pub helo: Option<String>,
    pub local_user: Option<String>,
    pub sasl_method: Option<String>,
    pub sasl_username: Option<String>,
    pub from: Option<String>,
    pub size: Option<u64>,
    pub message_id: Option<String>,
    pub origin: Origin,
    rcpts: Vec<Rcpt>,
    index: HashMap<String, usize>,
}

impl Msg {
    fn new(generation: u64, mta: Mta, server: String, qid: String, first: i64) -> Msg {
        Msg {
            generation,
            mta,
            server,
            qid,
            first,
            client_ip: None,
            client_name: None,
            helo: None,
            local_user: None,
            sasl_method: None,
            sasl_username: None,
            from: None,
            size: None,
            message_id: None,
            origin: Origin::Unknown,
            rcpts: Vec::new(),
            index: HashMap::new(),
        }
    }
}

/// A recipient's update from one record.
pub(crate) struct RcptUpdate<'a> {
    pub addr: &'a str,
    pub status: MailStatus,
    pub dsn: Option<&'a str>,
    pub relay: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub time: i64,
}

pub(crate) fn field(s: &str) -> String {
    cap(s, MAX_FIELD_BYTES).to_string()
}

pub(crate) fn opt_field(s: Option<&str>) -> Option<String> {
    s.map(field)
}

/// Lower-cased domain of an address (`user@Example.COM` → `example.com`); `None` without `@`.
pub(crate) fn domain_of(addr: &str) -> Option<String> {
    let (_, d) = addr.rsplit_once('@')?;
    let d = d.trim_end_matches('.');
    (!d.is_empty()).then(|| d.to_ascii_lowercase())
}

impl Msg {
    /// Records a recipient's status; `false` when the recipient cap refused a new one.
    pub fn update_rcpt(&mut self, u: &RcptUpdate<'_>, max_rcpts: usize) -> bool {
        let key = cap(u.addr, MAX_FIELD_BYTES);
        let pos = match self.index.get(key) {
            Some(&i) => i,
            None => {
                if self.rcpts.len() >= max_rcpts {
                    return false;
                }
                self.rcpts.push(Rcpt {
                    addr: key.to_string(),
                    status: MailStatus::Unknown,
                    dsn: None,
                    relay: None,
                    detail: None,
                    last: u.time,
                    deferrals: 0,
                });
                self.index.insert(key.to_string(), self.rcpts.len() - 1);
                self.rcpts.len() - 1
            }
        };
        let Some(r) = self.rcpts.get_mut(pos) else {
            return false;
        };
        // A deferral before the final status is counted; a later deferral of an already
        // delivered recipient (duplicate lines) does not undo the delivery.
        if u.status == MailStatus::Deferred {
            r.deferrals = r.deferrals.saturating_add(1);
            if r.status != MailStatus::Unknown && r.status != MailStatus::Deferred {
                return true;
            }
        }
        r.status = u.status;
        r.dsn = opt_field(u.dsn);
        r.relay = opt_field(u.relay);
        r.detail = opt_field(u.detail);
        r.last = r.last.max(u.time);
        true
    }

    /// `status=expired`: every recipient not delivered or bounced is given up.
    pub fn expire_pending(&mut self, t: i64) {
        for r in &mut self.rcpts {
            if matches!(r.status, MailStatus::Unknown | MailStatus::Deferred) {
                r.status = MailStatus::Expired;
                r.last = r.last.max(t);
            }
        }
    }

    fn into_events(self, complete: bool) -> Vec<MailEvent> {
        // A null-sender message with no client and no local submitter is the MTA's own
        // notification (its `sender non-delivery notification: QID` line may come later).
        let origin = match self.origin {
            Origin::Unknown if self.from.as_deref() == Some("") && self.client_ip.is_none() => {
                Origin::Internal
            }
            o => o,
        };
        let base = MailEvent {
            time: self.first,
            last_time: self.first,
            server: self.server,
            mta: self.mta,
            queue_id: Some(self.qid),
            message_id: self.message_id,
            sasl_username: self.sasl_username,
            sasl_method: self.sasl_method,
            client_ip: self.client_ip,
            client_name: self.client_name,
            helo: self.helo,
            local_user: self.local_user,
            from: self.from,
            recipient: None,
            recipient_domain: None,
            status: MailStatus::Unknown,
            dsn: None,
            relay: None,
            deferrals: 0,
            size: self.size,
            origin,
            complete,
            detail: None,
        };
        if self.rcpts.is_empty() {
            return vec![base];
        }
        self.rcpts
            .into_iter()
            .map(|r| MailEvent {
                last_time: r.last.max(base.time),
                recipient_domain: domain_of(&r.addr),
                recipient: Some(r.addr),
                status: r.status,
                dsn: r.dsn,
                relay: r.relay,
                deferrals: r.deferrals,
                detail: r.detail,
                ..base.clone()
            })
            .collect()
    }
}

/// The open messages.
pub(crate) struct Table {
    map: HashMap<String, Msg>,
    order: VecDeque<(String, u64)>,
    next_generation: u64,
    max_open: usize,
    pub max_rcpts: usize,
}

fn key(server: &str, qid: &str) -> String {
    let mut k = String::with_capacity(server.len() + qid.len() + 1);
    k.push_str(server);
    k.push('\0');
    k.push_str(qid);
    k
}

pub(crate) fn emit(
    events: Vec<MailEvent>,
    stats: &mut MailLogStats,
    on: &mut dyn FnMut(MailEvent),
) {
    for e in events {
        stats.events += 1;
        if e.status == MailStatus::Rejected {
            stats.rejects += 1;
        }
        on(e);
    }
}

impl Table {
    pub fn new(max_open: usize, max_rcpts: usize) -> Self {
        Table {
            map: HashMap::new(),
            order: VecDeque::new(),
            next_generation: 0,
            max_open: max_open.max(1),
            max_rcpts,
        }
    }

    pub fn get_mut(&mut self, server: &str, qid: &str) -> Option<&mut Msg> {
        self.map.get_mut(&key(server, qid))
    }

    /// The open message, created (evicting the oldest when full) if new.
    pub fn entry(
        &mut self,
        mta: Mta,
        server: &str,
        qid: &str,
        time: i64,
        stats: &mut MailLogStats,
        on: &mut dyn FnMut(MailEvent),
    ) -> &mut Msg {
        let k = key(server, qid);
        if !self.map.contains_key(&k) {
            while self.map.len() >= self.max_open {
                let Some((old, generation)) = self.order.pop_front() else {
                    break;
                };
                if self
                    .map
                    .get(&old)
                    .is_some_and(|m| m.generation == generation)
                    && let Some(m) = self.map.remove(&old)
                {
                    stats.evicted += 1;
                    emit(m.into_events(false), stats, on);
                }
            }
            // Closed messages leave stale order entries: compact now and then.
            if self.order.len() > self.max_open.saturating_mul(2).max(1024) {
                let map = &self.map;
                self.order
                    .retain(|(k, g)| map.get(k).is_some_and(|m| m.generation == *g));
            }
            self.next_generation += 1;
            self.order.push_back((k.clone(), self.next_generation));
            self.map.insert(
                k.clone(),
                Msg::new(self.next_generation, mta, field(server), field(qid), time),
            );
        }
        // Inserted above when absent; the fallback keeps this total without a panic path.
        let m = self
            .map
            .entry(k)
            .or_insert_with(|| Msg::new(0, mta, String::new(), String::new(), time));
        m.first = m.first.min(time);
        m
    }

    /// Removes a message without emitting it (refused as a whole).
    pub fn take(&mut self, server: &str, qid: &str) -> Option<Msg> {
        self.map.remove(&key(server, qid))
    }

    /// Closes a message (if open) and emits its events.
    pub fn close(
        &mut self,
        server: &str,
        qid: &str,
        stats: &mut MailLogStats,
        on: &mut dyn FnMut(MailEvent),
    ) -> bool {
        match self.map.remove(&key(server, qid)) {
            Some(m) => {
                stats.messages_closed += 1;
                emit(m.into_events(true), stats, on);
                true
            }
            None => false,
        }
    }

    /// Emits every open message (oldest first) with `complete = false`.
    pub fn flush_all(&mut self, stats: &mut MailLogStats, on: &mut dyn FnMut(MailEvent)) {
        let mut open: Vec<Msg> = self.map.drain().map(|(_, m)| m).collect();
        open.sort_by_key(|a| (a.first, a.generation));
        self.order.clear();
        for m in open {
            stats.open_at_end += 1;
            emit(m.into_events(false), stats, on);
        }
    }
}
