//! One milter connection's state, without I/O: negotiation, macros, envelope, headers and body
//! chunks of the message in progress.
//!
//! The server feeds each decoded [`Command`] to [`Session::on_command`] and writes back what it
//! returns; at end of message the session hands over the collected [`Message`] to be judged.
//! Negotiation (gateway spec §1): kensa asks for ADDHDRS | CHGHDRS | QUARANTINE, keeps
//! HDR_LEADSPC so header values arrive byte-exact (leading space included), and turns off the
//! steps it does not need (HELO, DATA, unknown commands), as far as the MTA offers them. It never
//! replies to a step it negotiated away: Postfix drops a filter that does.
//!
//! It does not ask for the `NR_*` "no reply" bits either: it answers every step it gets (with
//! "continue" where it has nothing to say), which every MTA accepts, and on loopback a reply costs
//! microseconds. (The latency that mattered was TCP's: see `server::quick_ack`.)

use crate::codec::*;

/// Protocol version kensa speaks (Sendmail 8.14 / Postfix 2.6+).
pub const VERSION: u32 = 6;

/// The actions kensa may use at end of message.
pub const WANTED_ACTIONS: u32 = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE;

/// Steps kensa does not need at all.
const SKIP_STEPS: u32 = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA;

/// A message as the MTA handed it over.
#[derive(Debug, Default, Clone)]
pub struct Message {
    /// The MTA's queue ID (macro `i`), when sent.
    pub queue_id: Option<String>,
    /// The client's address (macro `{client_addr}` or the CONNECT packet).
    pub client_addr: Option<String>,
    pub sender: String,
    pub recipients: Vec<String>,
    /// Header fields in order: name and raw value as received.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub body: Vec<u8>,
    /// Bytes of body that were not kept because the message passed the size limit.
    pub dropped: u64,
    /// Whether values arrive with their leading white space (HDR_LEADSPC negotiated).
    pub leading_space: bool,
}

impl Message {
    /// The message as it would be stored: `Name:value` lines (a space added after the colon when
    /// the MTA strips it), an empty line, the body. Line ends are CRLF as the MTA sends them.
    pub fn raw(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 64 * self.headers.len() + 2);
        for (name, value) in &self.headers {
            out.extend_from_slice(name);
            out.push(b':');
            if !self.leading_space && !value.is_empty() {
                out.push(b' ');
            }
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }

    /// Whether the whole message is here (nothing dropped at the size limit).
    pub fn complete(&self) -> bool {
        self.dropped == 0
    }
}

/// What the server does after a command.
#[derive(Debug)]
pub enum Step {
    /// Send these replies (possibly none) and read on.
    Reply(Vec<Reply>),
    /// End of message: judge it, then send the end-of-message replies.
    Judge(Message),
    /// The MTA is done with this connection.
    Close,
}

/// One connection.
#[derive(Debug)]
pub struct Session {
    max_message: u64,
    /// Protocol bits agreed with the MTA.
    pub protocol: u32,
    /// Actions the MTA granted.
    pub actions: u32,
    client_addr: Option<String>,
    macros_queue_id: Option<String>,
    msg: Message,
    size: u64,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Session {
    pub fn new(max_message: u64) -> Session {
        Session {
            max_message,
            protocol: 0,
            actions: 0,
            client_addr: None,
            macros_queue_id: None,
            msg: Message::default(),
            size: 0,
        }
    }

    fn answer(&self, no_reply_bit: u32) -> Step {
        if self.protocol & no_reply_bit != 0 {
            Step::Reply(Vec::new())
        } else {
            Step::Reply(vec![Reply::Continue])
        }
    }

    fn reset_message(&mut self) {
        self.msg = Message {
            client_addr: self.client_addr.clone(),
            leading_space: self.protocol & SMFIP_HDR_LEADSPC != 0,
            ..Message::default()
        };
        self.macros_queue_id = None;
        self.size = 0;
    }

    /// Count `len` more bytes of message; returns how many of them fit under the size limit (the
    /// rest are counted as dropped).
    fn room(&mut self, len: usize) -> usize {
        let room = self.max_message.saturating_sub(self.size);
        let n = len.min(usize::try_from(room).unwrap_or(usize::MAX));
        self.size = self.size.saturating_add(len as u64);
        self.msg.dropped = self.msg.dropped.saturating_add((len - n) as u64);
        n
    }

    pub fn on_command(&mut self, cmd: Command) -> Step {
        match cmd {
            Command::OptNeg {
                version,
                actions,
                protocol,
            } => {
                self.actions = WANTED_ACTIONS & actions;
                self.protocol = (SKIP_STEPS | SMFIP_HDR_LEADSPC | SMFIP_SKIP) & protocol;
                self.reset_message();
                Step::Reply(vec![Reply::OptNeg {
                    version: version.min(VERSION),
                    actions: self.actions,
                    protocol: self.protocol,
                }])
            }
            Command::Macro { stage, pairs } => {
                for (k, v) in pairs {
                    match (stage, k.as_slice()) {
                        (_, b"i") if !v.is_empty() => self.macros_queue_id = Some(text(&v)),
                        (_, b"{client_addr}") => self.client_addr = Some(text(&v)),
                        _ => {}
                    }
                }
                Step::Reply(Vec::new())
            }
            Command::Connect { address, .. } => {
                if self.client_addr.is_none() && !address.is_empty() {
                    self.client_addr = Some(text(&address));
                }
                self.msg.client_addr.clone_from(&self.client_addr);
                self.answer(SMFIP_NR_CONN)
            }
            Command::Helo(_) => self.answer(SMFIP_NR_HELO),
            Command::Mail(args) => {
                self.reset_message();
                self.msg.sender = args.first().map(|a| envelope_addr(a)).unwrap_or_default();
                self.answer(SMFIP_NR_MAIL)
            }
            Command::Rcpt(args) => {
                if let Some(a) = args.first() {
                    self.msg.recipients.push(envelope_addr(a));
                }
                self.answer(SMFIP_NR_RCPT)
            }
            Command::Data => self.answer(SMFIP_NR_DATA),
            Command::Header { name, value } => {
                let len = name.len() + value.len() + 3;
                if self.room(len) == len {
                    self.msg.headers.push((name, value));
                }
                self.answer(SMFIP_NR_HDR)
            }
            Command::EndOfHeaders => self.answer(SMFIP_NR_EOH),
            Command::Body(chunk) => {
                self.add_body(&chunk);
                if !self.msg.complete() && self.protocol & SMFIP_SKIP != 0 {
                    // The rest cannot be kept: ask the MTA not to send it.
                    Step::Reply(vec![Reply::Skip])
                } else {
                    Step::Reply(vec![Reply::Continue])
                }
            }
            Command::EndOfBody(chunk) => {
                self.add_body(&chunk);
                self.msg.queue_id = self.macros_queue_id.clone();
                let msg = std::mem::take(&mut self.msg);
                self.reset_message();
                Step::Judge(msg)
            }
            Command::Abort => {
                self.reset_message();
                Step::Reply(Vec::new())
            }
            Command::Quit => Step::Close,
            Command::QuitNewConnection => {
                self.client_addr = None;
                self.reset_message();
                Step::Reply(Vec::new())
            }
            Command::Unknown(_) => self.answer(SMFIP_NR_UNKN),
        }
    }

    fn add_body(&mut self, chunk: &[u8]) {
        let n = self.room(chunk.len());
        self.msg.body.extend_from_slice(&chunk[..n]);
    }
}

/// `<a@b>` → `a@b` (the MTA sends the address as given in MAIL FROM/RCPT TO).
fn envelope_addr(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    s.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_PROTOCOL: u32 = 0x1F_FFFF;

    fn negotiated() -> Session {
        let mut s = Session::new(100);
        let Step::Reply(r) = s.on_command(Command::OptNeg {
            version: 6,
            actions: 0x1FF,
            protocol: ALL_PROTOCOL,
        }) else {
            panic!()
        };
        match &r[..] {
            [
                Reply::OptNeg {
                    version: 6,
                    actions,
                    protocol,
                },
            ] => {
                assert_eq!(*actions, WANTED_ACTIONS);
                assert!(protocol & SMFIP_HDR_LEADSPC != 0 && protocol & SMFIP_NOBODY == 0);
                assert!(
                    protocol & SMFIP_NR_BODY == 0,
                    "body replies are needed for skip"
                );
            }
            other => panic!("{other:?}"),
        }
        s
    }

    #[test]
    fn collects_a_message_and_resets() {
        let mut s = negotiated();
        let quiet = |st: Step| matches!(st, Step::Reply(r) if r.is_empty());
        let cont = |st: Step| matches!(st, Step::Reply(r) if r == vec![Reply::Continue]);
        assert!(cont(
            s.on_command(Command::Mail(vec![b"<a@x.example>".to_vec()]))
        ));
        // Postfix sends the queue ID (macro `i`) with the RCPT stage, after MAIL.
        assert!(quiet(s.on_command(Command::Macro {
            stage: b'R',
            pairs: vec![(b"i".to_vec(), b"4Q7x".to_vec())]
        })));
        assert!(cont(s.on_command(Command::Rcpt(vec![
            b"<b@y.example>".to_vec(),
            b"NOTIFY=NEVER".to_vec()
        ]))));
        assert!(cont(s.on_command(Command::Header {
            name: b"Subject".to_vec(),
            value: b" hi".to_vec()
        })));
        assert!(
            matches!(s.on_command(Command::Body(b"line\r\n".to_vec())), Step::Reply(r) if r == vec![Reply::Continue])
        );
        let Step::Judge(m) = s.on_command(Command::EndOfBody(Vec::new())) else {
            panic!()
        };
        assert_eq!(m.queue_id.as_deref(), Some("4Q7x"));
        assert_eq!(
            (m.sender.as_str(), m.recipients.as_slice()),
            ("a@x.example", &["b@y.example".to_string()][..])
        );
        assert_eq!(m.raw(), b"Subject: hi\r\n\r\nline\r\n");
        assert!(m.complete());
        // The next message starts empty.
        let Step::Judge(m2) = s.on_command(Command::EndOfBody(Vec::new())) else {
            panic!()
        };
        assert!(m2.headers.is_empty() && m2.queue_id.is_none());
    }

    #[test]
    fn oversize_bodies_are_cut_and_skipped() {
        let mut s = negotiated();
        s.on_command(Command::Mail(vec![b"a@x".to_vec()]));
        let step = s.on_command(Command::Body(vec![b'x'; 150]));
        assert!(matches!(step, Step::Reply(r) if r == vec![Reply::Skip]));
        let Step::Judge(m) = s.on_command(Command::EndOfBody(Vec::new())) else {
            panic!()
        };
        assert_eq!(m.body.len(), 100);
        assert_eq!(m.dropped, 50);
        assert!(!m.complete());
    }

    #[test]
    fn old_mta_without_leadspc_or_nr_bits_gets_replies() {
        let mut s = Session::new(1000);
        s.on_command(Command::OptNeg {
            version: 2,
            actions: 0x3F,
            protocol: 0x7F,
        });
        assert_eq!(s.protocol & SMFIP_HDR_LEADSPC, 0);
        assert!(
            matches!(s.on_command(Command::Mail(vec![b"a@x".to_vec()])), Step::Reply(r) if r == vec![Reply::Continue])
        );
        s.on_command(Command::Header {
            name: b"Subject".to_vec(),
            value: b"hi".to_vec(),
        });
        let Step::Judge(m) = s.on_command(Command::EndOfBody(b"b".to_vec())) else {
            panic!()
        };
        assert_eq!(m.raw(), b"Subject: hi\r\n\r\nb");
    }
}
