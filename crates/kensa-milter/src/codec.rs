//! A pure (no I/O) codec for the Sendmail milter protocol, version 6, in both directions: commands
//! (MTA → filter) and replies (filter → MTA). The filter side (the kensa milter server) and a test
//! MTA client share it.
//!
//! # Format facts
//! Sources: Postfix `src/milter/milter8.c` (the MTA side: how Postfix writes commands and reads
//! replies), Sendmail's `libmilter` (`mfdef.h` constants, `smfi.c` reply checks) and the
//! "Milter 6 specification" gist (mikaelhg/1c25d02e4060e1bee02159791d433fb0).
//!
//! - **Framing**: every packet is a `u32` big-endian length, one command byte, then `length − 1`
//!   data bytes: the length counts the command byte (milter8.c `vmilter8_write_cmd`:
//!   `pkt_len = 1 + data_len`; `milter8_read_resp`: `data_len = pkt_len − 1`). A length below 1 is an
//!   error there ("bad packet length"), and so it is here ([`CodecError::Empty`]).
//! - **Integers** are big-endian (`htonl`/`htons` in milter8.c); **strings** are NUL-terminated
//!   (`MILTER8_DATA_STRING` writes `strlen + 1` bytes; the reader fails on "missing string null
//!   terminator"); `MILTER8_DATA_ARGV` writes several NUL-terminated strings back to back;
//!   `MILTER8_DATA_BUFFER` is raw bytes filling the rest of the packet.
//! - **Commands** as milter8.c sends them: `O` OPTNEG = 3 × u32 (version, actions, protocol);
//!   `D` MACRO = one octet (the command the macros belong to) + an argv of name/value pairs (the argv
//!   may be empty); `C` CONNECT = hostname string + family octet (`4`, `6`, `L`, `U`) + (not for
//!   `U`) u16 port + address string (`L` sends port 0); `H` HELO = one string; `M` MAIL / `R` RCPT =
//!   argv (address as the client wrote it, with `<>`, then the ESMTP parameters); `T` DATA, `N` EOH,
//!   `A` ABORT, `Q` QUIT, `K` QUIT_NC = no data; `L` HEADER = name string + value string (with
//!   `SMFIP_HDR_LEADSPC` the value keeps its leading space); `B` BODY = raw chunk of at most
//!   65,535 bytes (`MILTER_CHUNK_SIZE`); `E` end of body = no data from Postfix, but libmilter
//!   accepts a last chunk there (milter8.c `milter8_eob` comment), so it is decoded as raw bytes;
//!   `U` UNKNOWN = one string (the SMTP command).
//! - **Replies** as milter8.c reads them: `a c r t d p s` carry no data (data after them is a
//!   protocol error: "reply … was followed by … data bytes"); `y` REPLYCODE and `q` QUARANTINE are
//!   one NUL-terminated string (libmilter `smfi_setreply`/`smfi_quarantine` send `strlen + 1`;
//!   Sendmail's own check is `strlen(response) + 1 == rlen`); `h` ADDHEADER = name + value; `i`
//!   INSHEADER and `m` CHGHEADER = u32 index + name + value; `e` CHGFROM and `2` ADDRCPT_PAR = a
//!   string + an optional second string (ESMTP args; milter8.c reads it only `if (data_size > 0)`);
//!   `+` ADDRCPT and `-` DELRCPT = one string; `b` REPLBODY = raw bytes.
//!
//! # Limits and choices
//! - Every decoder takes a cap `max` on the packet length (the `u32` prefix); a larger length is
//!   [`CodecError::TooLarge`] as soon as the 4-byte prefix is visible, before anything is buffered
//!   or allocated. [`MAX_PACKET`] (1 MiB) is a sane default: Postfix body chunks are ≤ 65,535 bytes
//!   and libmilter's largest data size option is 1 MiB (`SMFIP_MDS_1M`).
//! - A string field without its NUL is [`CodecError::Unterminated`]; data left after the last field
//!   is [`CodecError::TrailingData`]; both are errors, never panics.
//! - Encoders write string fields up to their first NUL byte (an embedded NUL would otherwise split
//!   one field into two and let attacker text forge fields). A packet whose payload would not fit the
//!   `u32` length is not written ([`try_encode_command`] / [`try_encode_reply`] say so).
//! - Not supported: the macro lists a filter may append to its OPTNEG reply (`SMFIF_SETSYMLIST`):
//!   decoded as [`CodecError::TrailingData`]; the MTA-internal replies `4` (shutdown) and `f`
//!   (connection failure) are [`CodecError::UnknownCommand`].
//! - [`validate_replycode`] applies libmilter's `smfi_setreply` rules (and Postfix's check of the
//!   enhanced status class) so that no attacker-derived text can break an SMTP reply.

use thiserror::Error;

mod replytext;
#[cfg(test)]
mod tests;

pub use replytext::validate_replycode;

/// The milter protocol version this codec speaks (milter8.c: "We implement the protocol up to and
/// including version 6").
pub const SMFI_VERSION: u32 = 6;

/// Default cap on the packet length accepted by the decoders (1 MiB).
pub const MAX_PACKET: usize = 1 << 20;

/// Largest body chunk Postfix sends in one `B` packet (milter8.c `MILTER_CHUNK_SIZE`); filters
/// should split `b` (replace body) data the same way (libmilter `smfi_replacebody`).
pub const MILTER_CHUNK_SIZE: usize = 65_535;

// Action flags (OPTNEG `actions`: what the filter may do at end of message). Values: milter8.c
// `SMFIF_*` and libmilter mfdef.h.
/// The filter may add headers (`h`, and `i` insert).
pub const SMFIF_ADDHDRS: u32 = 0x01;
/// The filter may replace the body (`b`).
pub const SMFIF_CHGBODY: u32 = 0x02;
/// The filter may add recipients (`+`).
pub const SMFIF_ADDRCPT: u32 = 0x04;
/// The filter may delete recipients (`-`).
pub const SMFIF_DELRCPT: u32 = 0x08;
/// The filter may change or delete headers (`m`).
pub const SMFIF_CHGHDRS: u32 = 0x10;
/// The filter may quarantine the message (`q`; Postfix: the hold queue).
pub const SMFIF_QUARANTINE: u32 = 0x20;
/// The filter may change the envelope sender (`e`).
pub const SMFIF_CHGFROM: u32 = 0x40;
/// The filter may add recipients with ESMTP arguments (`2`).
pub const SMFIF_ADDRCPT_PAR: u32 = 0x80;
/// The filter may send the list of macros it wants (after its OPTNEG reply).
pub const SMFIF_SETSYMLIST: u32 = 0x100;

// Protocol flags (OPTNEG `protocol`: steps the filter does not want, replies it will not send).
// Values: milter8.c `SMFIP_*` and libmilter mfdef.h.
/// Do not send CONNECT.
pub const SMFIP_NOCONNECT: u32 = 0x01;
/// Do not send HELO.
pub const SMFIP_NOHELO: u32 = 0x02;
/// Do not send MAIL.
pub const SMFIP_NOMAIL: u32 = 0x04;
/// Do not send RCPT.
pub const SMFIP_NORCPT: u32 = 0x08;
/// Do not send body chunks.
pub const SMFIP_NOBODY: u32 = 0x10;
/// Do not send headers.
pub const SMFIP_NOHDRS: u32 = 0x20;
/// Do not send end of headers.
pub const SMFIP_NOEOH: u32 = 0x40;
/// The filter does not reply to headers.
pub const SMFIP_NR_HDR: u32 = 0x80;
/// Older name of [`SMFIP_NR_HDR`] (milter8.c `SMFIP_NOHREPL`).
pub const SMFIP_NOHREPL: u32 = SMFIP_NR_HDR;
/// Do not send unknown SMTP commands.
pub const SMFIP_NOUNKNOWN: u32 = 0x100;
/// Do not send DATA.
pub const SMFIP_NODATA: u32 = 0x200;
/// The MTA understands the `s` (skip) reply.
pub const SMFIP_SKIP: u32 = 0x400;
/// Also send recipients the MTA rejected.
pub const SMFIP_RCPT_REJ: u32 = 0x800;
/// No reply to CONNECT.
pub const SMFIP_NR_CONN: u32 = 0x1000;
/// No reply to HELO.
pub const SMFIP_NR_HELO: u32 = 0x2000;
/// No reply to MAIL.
pub const SMFIP_NR_MAIL: u32 = 0x4000;
/// No reply to RCPT.
pub const SMFIP_NR_RCPT: u32 = 0x8000;
/// No reply to DATA.
pub const SMFIP_NR_DATA: u32 = 0x1_0000;
/// No reply to UNKNOWN.
pub const SMFIP_NR_UNKN: u32 = 0x2_0000;
/// No reply to end of headers.
pub const SMFIP_NR_EOH: u32 = 0x4_0000;
/// No reply to body chunks.
pub const SMFIP_NR_BODY: u32 = 0x8_0000;
/// Header values keep their leading space (Postfix otherwise eats one space after the colon).
pub const SMFIP_HDR_LEADSPC: u32 = 0x10_0000;
/// libmilter: maximum data size 256 KiB (internal between MTA and libmilter).
pub const SMFIP_MDS_256K: u32 = 0x1000_0000;
/// libmilter: maximum data size 1 MiB (internal between MTA and libmilter).
pub const SMFIP_MDS_1M: u32 = 0x2000_0000;

// Command codes, MTA → filter (milter8.c `SMFIC_*`).
/// Abort the current message (the connection stays).
pub const SMFIC_ABORT: u8 = b'A';
/// Body chunk.
pub const SMFIC_BODY: u8 = b'B';
/// Connection information.
pub const SMFIC_CONNECT: u8 = b'C';
/// Macro definitions.
pub const SMFIC_MACRO: u8 = b'D';
/// End of body.
pub const SMFIC_BODYEOB: u8 = b'E';
/// HELO/EHLO.
pub const SMFIC_HELO: u8 = b'H';
/// Quit, a new connection follows.
pub const SMFIC_QUIT_NC: u8 = b'K';
/// One header.
pub const SMFIC_HEADER: u8 = b'L';
/// MAIL FROM.
pub const SMFIC_MAIL: u8 = b'M';
/// End of headers.
pub const SMFIC_EOH: u8 = b'N';
/// Option negotiation.
pub const SMFIC_OPTNEG: u8 = b'O';
/// Quit.
pub const SMFIC_QUIT: u8 = b'Q';
/// RCPT TO.
pub const SMFIC_RCPT: u8 = b'R';
/// DATA.
pub const SMFIC_DATA: u8 = b'T';
/// Unknown SMTP command.
pub const SMFIC_UNKNOWN: u8 = b'U';

// Reply codes, filter → MTA (milter8.c `SMFIR_*`).
/// Add recipient.
pub const SMFIR_ADDRCPT: u8 = b'+';
/// Delete recipient.
pub const SMFIR_DELRCPT: u8 = b'-';
/// Add recipient with ESMTP arguments.
pub const SMFIR_ADDRCPT_PAR: u8 = b'2';
/// Accept.
pub const SMFIR_ACCEPT: u8 = b'a';
/// Replace body (chunk).
pub const SMFIR_REPLBODY: u8 = b'b';
/// Continue.
pub const SMFIR_CONTINUE: u8 = b'c';
/// Discard.
pub const SMFIR_DISCARD: u8 = b'd';
/// Change envelope sender.
pub const SMFIR_CHGFROM: u8 = b'e';
/// Add header.
pub const SMFIR_ADDHEADER: u8 = b'h';
/// Insert header.
pub const SMFIR_INSHEADER: u8 = b'i';
/// Change (or delete) header.
pub const SMFIR_CHGHEADER: u8 = b'm';
/// Progress (keep-alive).
pub const SMFIR_PROGRESS: u8 = b'p';
/// Quarantine.
pub const SMFIR_QUARANTINE: u8 = b'q';
/// Reject (5xx).
pub const SMFIR_REJECT: u8 = b'r';
/// Skip further events of this type.
pub const SMFIR_SKIP: u8 = b's';
/// Temporary failure (4xx).
pub const SMFIR_TEMPFAIL: u8 = b't';
/// Custom SMTP reply.
pub const SMFIR_REPLYCODE: u8 = b'y';

// CONNECT address families (milter8.c `SMFIA_*`).
/// Unknown family: no port, no address follow.
pub const SMFIA_UNKNOWN: u8 = b'U';
/// Unix-domain / local (Postfix sends port 0).
pub const SMFIA_UNIX: u8 = b'L';
/// IPv4.
pub const SMFIA_INET: u8 = b'4';
/// IPv6.
pub const SMFIA_INET6: u8 = b'6';

/// Longest reply text libmilter accepts in `smfi_setreply` (`MAXREPLYLEN`).
pub const MAX_REPLY_TEXT: usize = 980;

/// A command the MTA sends to the filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `O`: the MTA's protocol version, the actions it allows and the steps it offers.
    OptNeg {
        version: u32,
        actions: u32,
        protocol: u32,
    },
    /// `D`: macros for the command `stage` (a command code such as `b'C'`); may be empty.
    Macro {
        stage: u8,
        pairs: Vec<(Vec<u8>, Vec<u8>)>,
    },
    /// `C`: client host name, family (`SMFIA_*`), port and address. For [`SMFIA_UNKNOWN`] neither
    /// port nor address is on the wire: they decode as 0 and empty and are not encoded.
    Connect {
        hostname: Vec<u8>,
        family: u8,
        port: u16,
        address: Vec<u8>,
    },
    /// `H`: the HELO/EHLO name.
    Helo(Vec<u8>),
    /// `M`: the sender as the client wrote it (`<a@b>`), then the ESMTP parameters.
    Mail(Vec<Vec<u8>>),
    /// `R`: the recipient as the client wrote it, then the ESMTP parameters.
    Rcpt(Vec<Vec<u8>>),
    /// `T`: the DATA command.
    Data,
    /// `L`: one header (multi-line values separated by `\n`).
    Header { name: Vec<u8>, value: Vec<u8> },
    /// `N`: end of headers.
    EndOfHeaders,
    /// `B`: one body chunk (CRLF line endings; may be empty).
    Body(Vec<u8>),
    /// `E`: end of body, with an optional last chunk (Postfix sends none).
    EndOfBody(Vec<u8>),
    /// `A`: the current message is aborted; the connection stays.
    Abort,
    /// `Q`: the connection ends.
    Quit,
    /// `K`: the connection ends and a new one follows on the same socket.
    QuitNewConnection,
    /// `U`: an SMTP command the MTA does not know.
    Unknown(Vec<u8>),
}

impl Command {
    /// The command byte of this command on the wire.
    pub fn code(&self) -> u8 {
        match self {
            Command::OptNeg { .. } => SMFIC_OPTNEG,
            Command::Macro { .. } => SMFIC_MACRO,
            Command::Connect { .. } => SMFIC_CONNECT,
            Command::Helo(_) => SMFIC_HELO,
            Command::Mail(_) => SMFIC_MAIL,
            Command::Rcpt(_) => SMFIC_RCPT,
            Command::Data => SMFIC_DATA,
            Command::Header { .. } => SMFIC_HEADER,
            Command::EndOfHeaders => SMFIC_EOH,
            Command::Body(_) => SMFIC_BODY,
            Command::EndOfBody(_) => SMFIC_BODYEOB,
            Command::Abort => SMFIC_ABORT,
            Command::Quit => SMFIC_QUIT,
            Command::QuitNewConnection => SMFIC_QUIT_NC,
            Command::Unknown(_) => SMFIC_UNKNOWN,
        }
    }
}

/// A reply the filter sends to the MTA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `O`: the version the filter speaks, the actions it needs, the steps it does not want.
    OptNeg {
        version: u32,
        actions: u32,
        protocol: u32,
    },
    /// `a`: accept (the message, or the connection when sent at CONNECT/HELO).
    Accept,
    /// `c`: continue.
    Continue,
    /// `r`: reject (Postfix answers `550 5.7.1 Command rejected`).
    Reject,
    /// `t`: temporary failure (Postfix answers `451 4.7.1 Service unavailable - try again later`).
    TempFail,
    /// `d`: accept and silently discard the message.
    Discard,
    /// `y`: a custom SMTP reply such as `550 5.7.1 text` (check it with [`validate_replycode`]).
    ReplyCode(Vec<u8>),
    /// `p`: still working (resets the MTA's timeout).
    Progress,
    /// `s`: skip the remaining events of this type (needs [`SMFIP_SKIP`]).
    Skip,
    /// `h`: append a header.
    AddHeader { name: Vec<u8>, value: Vec<u8> },
    /// `i`: insert a header at `index` (0 = top).
    InsertHeader {
        index: u32,
        name: Vec<u8>,
        value: Vec<u8>,
    },
    /// `m`: change the `index`-th (1-based) header `name`; an empty value deletes it.
    ChangeHeader {
        index: u32,
        name: Vec<u8>,
        value: Vec<u8>,
    },
    /// `e`: change the envelope sender, with optional ESMTP arguments.
    ChangeFrom {
        from: Vec<u8>,
        args: Option<Vec<u8>>,
    },
    /// `+`: add a recipient.
    AddRcpt(Vec<u8>),
    /// `2`: add a recipient with ESMTP arguments (absent arguments decode as empty).
    AddRcptPar { rcpt: Vec<u8>, args: Vec<u8> },
    /// `-`: delete a recipient.
    DelRcpt(Vec<u8>),
    /// `b`: one chunk of the replacement body.
    ReplaceBody(Vec<u8>),
    /// `q`: quarantine the message (Postfix: hold queue) for `reason`.
    Quarantine(Vec<u8>),
}

impl Reply {
    /// The reply byte of this reply on the wire.
    pub fn code(&self) -> u8 {
        match self {
            Reply::OptNeg { .. } => SMFIC_OPTNEG,
            Reply::Accept => SMFIR_ACCEPT,
            Reply::Continue => SMFIR_CONTINUE,
            Reply::Reject => SMFIR_REJECT,
            Reply::TempFail => SMFIR_TEMPFAIL,
            Reply::Discard => SMFIR_DISCARD,
            Reply::ReplyCode(_) => SMFIR_REPLYCODE,
            Reply::Progress => SMFIR_PROGRESS,
            Reply::Skip => SMFIR_SKIP,
            Reply::AddHeader { .. } => SMFIR_ADDHEADER,
            Reply::InsertHeader { .. } => SMFIR_INSHEADER,
            Reply::ChangeHeader { .. } => SMFIR_CHGHEADER,
            Reply::ChangeFrom { .. } => SMFIR_CHGFROM,
            Reply::AddRcpt(_) => SMFIR_ADDRCPT,
            Reply::AddRcptPar { .. } => SMFIR_ADDRCPT_PAR,
            Reply::DelRcpt(_) => SMFIR_DELRCPT,
            Reply::ReplaceBody(_) => SMFIR_REPLBODY,
            Reply::Quarantine(_) => SMFIR_QUARANTINE,
        }
    }
}

/// Why a packet could not be decoded (or encoded). Command bytes print as characters when
/// printable, otherwise in hex.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The length prefix exceeds the cap given to the decoder.
    #[error("packet length {len} exceeds the limit of {max} bytes")]
    TooLarge { len: u32, max: usize },
    /// The length prefix is 0: every packet carries at least its command byte.
    #[error("packet length 0 (a packet holds at least its command byte)")]
    Empty,
    /// The packet ends inside a fixed-size field, or before a required field.
    #[error("packet {}: data ends before the {what} field", show(*.command))]
    Truncated { command: u8, what: &'static str },
    /// A string field has no NUL terminator before the end of the packet.
    #[error("packet {}: the {what} string has no NUL terminator", show(*.command))]
    Unterminated { command: u8, what: &'static str },
    /// The command or reply byte is not one this codec knows.
    #[error("unknown command byte {}", show(*.0))]
    UnknownCommand(u8),
    /// A field holds a value the protocol does not allow.
    #[error("packet {}: bad {what}", show(*.command))]
    BadField { command: u8, what: &'static str },
    /// Bytes are left after the last field of the packet.
    #[error("packet {}: {len} unexpected bytes after the last field", show(*.command))]
    TrailingData { command: u8, len: usize },
    /// Encoding: the payload does not fit the 32-bit length prefix.
    #[error("packet {}: payload of {len} bytes does not fit a milter packet", show(*.command))]
    PayloadTooLarge { command: u8, len: usize },
}

/// Shows a command byte as `'X'` when printable ASCII, otherwise as `0xNN`.
fn show(code: u8) -> String {
    if code.is_ascii_graphic() {
        format!("'{}'", code as char)
    } else {
        format!("0x{code:02x}")
    }
}

// ---------------------------------------------------------------------------------------------
// Framing
// ---------------------------------------------------------------------------------------------

/// One framed packet: its code byte, its data and the total bytes it took from the stream.
struct Frame<'a> {
    code: u8,
    data: &'a [u8],
    consumed: usize,
}

/// Splits the first packet off `buf`. `Ok(None)`: more bytes are needed. The length is checked
/// against `max` as soon as the 4-byte prefix is visible.
fn frame(buf: &[u8], max: usize) -> Result<Option<Frame<'_>>, CodecError> {
    let Some(prefix) = buf.first_chunk::<4>() else {
        return Ok(None);
    };
    let len = u32::from_be_bytes(*prefix);
    if len == 0 {
        return Err(CodecError::Empty);
    }
    let len_usize = usize::try_from(len).unwrap_or(usize::MAX);
    if len_usize > max {
        return Err(CodecError::TooLarge { len, max });
    }
    let consumed = len_usize.saturating_add(4);
    let Some(packet) = buf.get(4..consumed) else {
        return Ok(None);
    };
    let Some((&code, data)) = packet.split_first() else {
        return Err(CodecError::Empty);
    };
    Ok(Some(Frame {
        code,
        data,
        consumed,
    }))
}

/// A cursor over the data of one packet; every read is bounds-checked.
struct Fields<'a> {
    command: u8,
    data: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    fn new(command: u8, data: &'a [u8]) -> Self {
        Fields {
            command,
            data,
            pos: 0,
        }
    }

    fn remaining(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    fn is_empty(&self) -> bool {
        self.remaining().is_empty()
    }

    fn truncated(&self, what: &'static str) -> CodecError {
        CodecError::Truncated {
            command: self.command,
            what,
        }
    }

    fn take<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], CodecError> {
        let bytes = *self
            .remaining()
            .first_chunk::<N>()
            .ok_or_else(|| self.truncated(what))?;
        self.pos = self.pos.saturating_add(N);
        Ok(bytes)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, CodecError> {
        Ok(self.take::<1>(what)?[0])
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, CodecError> {
        Ok(u16::from_be_bytes(self.take::<2>(what)?))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, CodecError> {
        Ok(u32::from_be_bytes(self.take::<4>(what)?))
    }

    /// A NUL-terminated string (without its NUL).
    fn cstr(&mut self, what: &'static str) -> Result<Vec<u8>, CodecError> {
        let rest = self.remaining();
        if rest.is_empty() {
            return Err(self.truncated(what));
        }
        let nul = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(CodecError::Unterminated {
                command: self.command,
                what,
            })?;
        let text = rest.get(..nul).unwrap_or_default().to_vec();
        self.pos = self.pos.saturating_add(nul).saturating_add(1);
        Ok(text)
    }

    /// A NUL-terminated string when data is left, otherwise `None`.
    fn opt_cstr(&mut self, what: &'static str) -> Result<Option<Vec<u8>>, CodecError> {
        if self.is_empty() {
            Ok(None)
        } else {
            self.cstr(what).map(Some)
        }
    }

    /// Everything left, raw.
    fn rest(&mut self) -> Vec<u8> {
        let rest = self.remaining().to_vec();
        self.pos = self.data.len();
        rest
    }

    /// One or more NUL-terminated strings filling the rest of the packet.
    fn argv(
        &mut self,
        first: &'static str,
        more: &'static str,
    ) -> Result<Vec<Vec<u8>>, CodecError> {
        let mut args = vec![self.cstr(first)?];
        while !self.is_empty() {
            args.push(self.cstr(more)?);
        }
        Ok(args)
    }

    /// Fails when data is left after the last field.
    fn finish<T>(self, value: T) -> Result<T, CodecError> {
        match self.remaining().len() {
            0 => Ok(value),
            len => Err(CodecError::TrailingData {
                command: self.command,
                len,
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

/// Decodes the first command in `buf`. `Ok(None)`: the packet is not complete yet; otherwise the
/// command and the number of bytes it took. `max` caps the packet length (see [`MAX_PACKET`]).
pub fn decode_command(buf: &[u8], max: usize) -> Result<Option<(Command, usize)>, CodecError> {
    let Some(frame) = frame(buf, max)? else {
        return Ok(None);
    };
    let command = command_fields(Fields::new(frame.code, frame.data))?;
    Ok(Some((command, frame.consumed)))
}

/// Parses the data of one command packet.
fn command_fields(mut f: Fields<'_>) -> Result<Command, CodecError> {
    let command = match f.command {
        SMFIC_OPTNEG => Command::OptNeg {
            version: f.u32("version")?,
            actions: f.u32("actions")?,
            protocol: f.u32("protocol")?,
        },
        SMFIC_MACRO => {
            let stage = f.u8("macro stage")?;
            let mut pairs = Vec::new();
            while !f.is_empty() {
                let name = f.cstr("macro name")?;
                if f.is_empty() {
                    return Err(CodecError::BadField {
                        command: f.command,
                        what: "macro name without a value",
                    });
                }
                pairs.push((name, f.cstr("macro value")?));
            }
            Command::Macro { stage, pairs }
        }
        SMFIC_CONNECT => connect_fields(&mut f)?,
        SMFIC_HELO => Command::Helo(f.cstr("helo name")?),
        SMFIC_MAIL => Command::Mail(f.argv("sender", "ESMTP argument")?),
        SMFIC_RCPT => Command::Rcpt(f.argv("recipient", "ESMTP argument")?),
        SMFIC_DATA => Command::Data,
        SMFIC_HEADER => Command::Header {
            name: f.cstr("header name")?,
            value: f.cstr("header value")?,
        },
        SMFIC_EOH => Command::EndOfHeaders,
        SMFIC_BODY => Command::Body(f.rest()),
        SMFIC_BODYEOB => Command::EndOfBody(f.rest()),
        SMFIC_ABORT => Command::Abort,
        SMFIC_QUIT => Command::Quit,
        SMFIC_QUIT_NC => Command::QuitNewConnection,
        SMFIC_UNKNOWN => Command::Unknown(f.cstr("unknown command")?),
        other => return Err(CodecError::UnknownCommand(other)),
    };
    f.finish(command)
}

/// CONNECT: hostname, family, then port and address unless the family is unknown (milter8.c
/// `milter8_conn_event`: the `default` case sends only the name and `SMFIA_UNKNOWN`).
fn connect_fields(f: &mut Fields<'_>) -> Result<Command, CodecError> {
    let hostname = f.cstr("hostname")?;
    let family = f.u8("address family")?;
    match family {
        SMFIA_UNKNOWN => Ok(Command::Connect {
            hostname,
            family,
            port: 0,
            address: Vec::new(),
        }),
        SMFIA_INET | SMFIA_INET6 | SMFIA_UNIX => {
            let port = f.u16("port")?;
            let address = f.cstr("address")?;
            Ok(Command::Connect {
                hostname,
                family,
                port,
                address,
            })
        }
        _ => Err(CodecError::BadField {
            command: f.command,
            what: "address family",
        }),
    }
}

/// Appends the packet for `cmd` to `out`. Nothing is written when the payload does not fit the
/// 32-bit length (see [`try_encode_command`] for the error).
pub fn encode_command(cmd: &Command, out: &mut Vec<u8>) {
    // The only error is a payload over 4 GiB, documented as "nothing written".
    let _ = try_encode_command(cmd, out);
}

/// Appends the packet for `cmd` to `out`, or leaves `out` as it was and says why not.
pub fn try_encode_command(cmd: &Command, out: &mut Vec<u8>) -> Result<(), CodecError> {
    packet(out, cmd.code(), |out| match cmd {
        Command::OptNeg {
            version,
            actions,
            protocol,
        } => {
            for v in [version, actions, protocol] {
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
        Command::Macro { stage, pairs } => {
            out.push(*stage);
            for (name, value) in pairs {
                put_cstr(out, name);
                put_cstr(out, value);
            }
        }
        Command::Connect {
            hostname,
            family,
            port,
            address,
        } => {
            put_cstr(out, hostname);
            out.push(*family);
            if *family != SMFIA_UNKNOWN {
                out.extend_from_slice(&port.to_be_bytes());
                put_cstr(out, address);
            }
        }
        Command::Helo(s) | Command::Unknown(s) => put_cstr(out, s),
        Command::Mail(args) | Command::Rcpt(args) => put_argv(out, args),
        Command::Header { name, value } => {
            put_cstr(out, name);
            put_cstr(out, value);
        }
        Command::Body(data) | Command::EndOfBody(data) => out.extend_from_slice(data),
        Command::Data
        | Command::EndOfHeaders
        | Command::Abort
        | Command::Quit
        | Command::QuitNewConnection => {}
    })
}

// ---------------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------------

/// Decodes the first reply in `buf`. `Ok(None)`: the packet is not complete yet; otherwise the
/// reply and the number of bytes it took. `max` caps the packet length (see [`MAX_PACKET`]).
pub fn decode_reply(buf: &[u8], max: usize) -> Result<Option<(Reply, usize)>, CodecError> {
    let Some(frame) = frame(buf, max)? else {
        return Ok(None);
    };
    let reply = reply_fields(Fields::new(frame.code, frame.data))?;
    Ok(Some((reply, frame.consumed)))
}

/// Parses the data of one reply packet.
fn reply_fields(mut f: Fields<'_>) -> Result<Reply, CodecError> {
    let reply = match f.command {
        SMFIC_OPTNEG => Reply::OptNeg {
            version: f.u32("version")?,
            actions: f.u32("actions")?,
            protocol: f.u32("protocol")?,
        },
        SMFIR_ACCEPT => Reply::Accept,
        SMFIR_CONTINUE => Reply::Continue,
        SMFIR_REJECT => Reply::Reject,
        SMFIR_TEMPFAIL => Reply::TempFail,
        SMFIR_DISCARD => Reply::Discard,
        SMFIR_PROGRESS => Reply::Progress,
        SMFIR_SKIP => Reply::Skip,
        SMFIR_REPLYCODE => Reply::ReplyCode(f.cstr("reply text")?),
        SMFIR_ADDHEADER => Reply::AddHeader {
            name: f.cstr("header name")?,
            value: f.cstr("header value")?,
        },
        SMFIR_INSHEADER => Reply::InsertHeader {
            index: f.u32("header index")?,
            name: f.cstr("header name")?,
            value: f.cstr("header value")?,
        },
        SMFIR_CHGHEADER => Reply::ChangeHeader {
            index: f.u32("header index")?,
            name: f.cstr("header name")?,
            value: f.cstr("header value")?,
        },
        SMFIR_CHGFROM => Reply::ChangeFrom {
            from: f.cstr("sender")?,
            args: f.opt_cstr("ESMTP arguments")?,
        },
        SMFIR_ADDRCPT => Reply::AddRcpt(f.cstr("recipient")?),
        SMFIR_ADDRCPT_PAR => Reply::AddRcptPar {
            rcpt: f.cstr("recipient")?,
            args: f.opt_cstr("ESMTP arguments")?.unwrap_or_default(),
        },
        SMFIR_DELRCPT => Reply::DelRcpt(f.cstr("recipient")?),
        SMFIR_REPLBODY => Reply::ReplaceBody(f.rest()),
        SMFIR_QUARANTINE => Reply::Quarantine(f.cstr("quarantine reason")?),
        other => return Err(CodecError::UnknownCommand(other)),
    };
    f.finish(reply)
}

/// Appends the packet for `reply` to `out`. Nothing is written when the payload does not fit the
/// 32-bit length (see [`try_encode_reply`] for the error).
pub fn encode_reply(reply: &Reply, out: &mut Vec<u8>) {
    // The only error is a payload over 4 GiB, documented as "nothing written".
    let _ = try_encode_reply(reply, out);
}

/// Appends the packet for `reply` to `out`, or leaves `out` as it was and says why not.
pub fn try_encode_reply(reply: &Reply, out: &mut Vec<u8>) -> Result<(), CodecError> {
    packet(out, reply.code(), |out| match reply {
        Reply::OptNeg {
            version,
            actions,
            protocol,
        } => {
            for v in [version, actions, protocol] {
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
        Reply::Accept
        | Reply::Continue
        | Reply::Reject
        | Reply::TempFail
        | Reply::Discard
        | Reply::Progress
        | Reply::Skip => {}
        Reply::ReplyCode(s) | Reply::AddRcpt(s) | Reply::DelRcpt(s) | Reply::Quarantine(s) => {
            put_cstr(out, s)
        }
        Reply::AddHeader { name, value } => {
            put_cstr(out, name);
            put_cstr(out, value);
        }
        Reply::InsertHeader { index, name, value } | Reply::ChangeHeader { index, name, value } => {
            out.extend_from_slice(&index.to_be_bytes());
            put_cstr(out, name);
            put_cstr(out, value);
        }
        Reply::ChangeFrom { from, args } => {
            put_cstr(out, from);
            if let Some(args) = args {
                put_cstr(out, args);
            }
        }
        Reply::AddRcptPar { rcpt, args } => {
            put_cstr(out, rcpt);
            put_cstr(out, args);
        }
        Reply::ReplaceBody(data) => out.extend_from_slice(data),
    })
}

// ---------------------------------------------------------------------------------------------
// Encoding helpers
// ---------------------------------------------------------------------------------------------

/// Writes one packet: a length placeholder, the code, the payload from `body`, then the length.
fn packet(out: &mut Vec<u8>, code: u8, body: impl FnOnce(&mut Vec<u8>)) -> Result<(), CodecError> {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    out.push(code);
    body(out);
    let len = out.len().saturating_sub(start).saturating_sub(4);
    match u32::try_from(len) {
        Ok(len32) => {
            if let Some(prefix) = out.get_mut(start..start.saturating_add(4)) {
                prefix.copy_from_slice(&len32.to_be_bytes());
            }
            Ok(())
        }
        Err(_) => {
            out.truncate(start);
            Err(CodecError::PayloadTooLarge {
                command: code,
                len: len.saturating_sub(1),
            })
        }
    }
}

/// Writes `s` up to its first NUL, then the NUL terminator.
fn put_cstr(out: &mut Vec<u8>, s: &[u8]) {
    let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
    out.extend_from_slice(s.get(..end).unwrap_or_default());
    out.push(0);
}

/// Writes an argv; an empty list is written as one empty string (the decoders need at least one).
fn put_argv(out: &mut Vec<u8>, args: &[Vec<u8>]) {
    if args.is_empty() {
        out.push(0);
    }
    for arg in args {
        put_cstr(out, arg);
    }
}

// ---------------------------------------------------------------------------------------------
// Fuzzing entry points
// ---------------------------------------------------------------------------------------------

/// Decodes commands from `data` in a loop (cap [`MAX_PACKET`]) until an error or an incomplete
/// packet; returns how many were decoded. The fuzz target's entry point.
pub fn decode_all_commands(data: &[u8]) -> usize {
    decode_all(data, |buf| {
        decode_command(buf, MAX_PACKET).map(|r| r.map(|(_, n)| n))
    })
}

/// Decodes replies from `data` in a loop (cap [`MAX_PACKET`]) until an error or an incomplete
/// packet; returns how many were decoded. A second fuzz entry point.
pub fn decode_all_replies(data: &[u8]) -> usize {
    decode_all(data, |buf| {
        decode_reply(buf, MAX_PACKET).map(|r| r.map(|(_, n)| n))
    })
}

/// Runs `step` over `data` until it fails or needs more bytes; counts the packets.
fn decode_all(data: &[u8], step: impl Fn(&[u8]) -> Result<Option<usize>, CodecError>) -> usize {
    let mut offset = 0usize;
    let mut count = 0usize;
    while let Some(rest) = data.get(offset..) {
        match step(rest) {
            Ok(Some(consumed)) if consumed > 0 => {
                offset = offset.saturating_add(consumed);
                count = count.saturating_add(1);
            }
            _ => break,
        }
    }
    count
}
