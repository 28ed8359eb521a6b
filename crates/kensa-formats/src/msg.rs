//! Outlook messages saved as `.msg` files (MS-OXMSG), read through [`crate::ole::OleFile`].
//!
//! Format facts used (MS-OXMSG §2):
//! - A message is a compound file. Each storage that holds a message, recipient or attachment keeps
//!   its properties in two places: a `__properties_version1.0` stream (a header, then 16-byte
//!   entries `u16 type, u16 id, u32 flags, 8 value bytes` for fixed-size values) and one stream
//!   per variable-size value named `__substg1.0_PPPPTTTT` (`PPPP` property id, `TTTT` type, both
//!   hex). The header is 32 bytes for the top-level message, 24 for an embedded message and 8 for a
//!   recipient or attachment.
//! - Types read here: `0x0003` 32-bit integer, `0x000B` boolean, `0x000D` object (a storage),
//!   `0x001E` 8-bit string in the message code page, `0x001F` UTF-16LE string, `0x0102` binary.
//!   8-bit strings are decoded with `PidTagMessageCodepage` (0x3FFD), else
//!   `PidTagInternetCodepage` (0x3FDE), else the enclosing message's; with none, valid UTF-8 is
//!   taken as UTF-8, then clean Shift_JIS (cp932, the usual ANSI code page of Japanese Outlook) as
//!   Shift_JIS, else Windows-1252 — and the guess is reported in [`Msg::problems`].
//! - Recipients are storages `__recip_version1.0_#XXXXXXXX` (0x3001 name, 0x39FE SMTP address,
//!   0x3003 address, 0x3002 address type, 0x0C15 type 1 To / 2 Cc / 3 Bcc).
//! - Attachments are storages `__attach_version1.0_#XXXXXXXX` (0x3707 long file name, 0x3704 short
//!   file name, 0x3001 display name, 0x370E MIME type, 0x3712 content id, 0x3705 method,
//!   0x7FFE hidden). The content is the binary 0x3701 stream; for method 5 (embedded message)
//!   0x3701 is a storage `__substg1.0_3701000D` holding a message, parsed recursively; for method 6
//!   (OLE object) it is a storage holding a compound file's streams, rebuilt here into a standalone
//!   compound file so that the OLE analysers can read it; by-reference attachments keep only a path
//!   (0x370D long path name, 0x3708 path name).
//! - Message properties read: 0x001A class, 0x0037 subject, 0x0C1A/0x0C1F/0x5D01 sender,
//!   0x0042/0x0065/0x5D02 sent-representing, 0x0E04/0x0E03/0x0E02 display To/Cc/Bcc, 0x1035
//!   Message-ID, 0x007D transport headers (the original RFC 5322 header block of a mail that came
//!   from the internet), 0x1000 plain body, 0x1013 HTML body, 0x1009 compressed RTF body (only
//!   noted: not decompressed).
//!
//! Limits ([`MsgLimits`]): attachments over the whole tree, bytes kept per attachment, bytes read
//! over the whole tree (bodies, strings, attachments), depth of embedded messages (never more than
//! [`HARD_MAX_DEPTH`]), bytes of a body or header block. Short strings (names, addresses) are cut
//! at 64 KiB, recipients at [`MAX_RECIPIENTS`] and the entries of rebuilt OLE objects at
//! [`MAX_OLE_ENTRIES`] over the whole tree. Anything cut sets `truncated` on the message (and on the
//! attachment concerned) and adds a line to `problems`; the flags of embedded messages are carried
//! up to the top-level message, their problem lines stay with them.

use std::collections::HashMap;

use encoding_rs::Encoding;
use thiserror::Error;

use crate::ole::{
    OleEntry, OleError, OleFile, base_name, build_compound_file, eq_ignore_case, parent_path,
};

#[cfg(test)]
mod tests;

/// Embedded messages deeper than this are never parsed, whatever [`MsgLimits::max_depth`] says.
pub const HARD_MAX_DEPTH: usize = 32;
/// Most recipients read over the whole message tree.
pub const MAX_RECIPIENTS: usize = 2000;
/// Most storages and streams copied into rebuilt OLE object attachments, over the whole tree.
pub const MAX_OLE_ENTRIES: usize = 4096;
/// Most lines kept in [`Msg::problems`] (one more says that some were left out).
pub const MAX_PROBLEMS: usize = 64;

/// Names, addresses, MIME types and other short strings are cut at this many bytes.
const MAX_SHORT_STRING: usize = 64 * 1024;
/// A properties stream is read up to this size: 4096 entries after the longest header.
const MAX_PROPERTIES_BYTES: usize = 32 + 16 * 4096;
/// Deepest storage nesting copied into a rebuilt OLE object.
const MAX_OLE_NESTING: usize = 64;

const PROPERTIES: &str = "__properties_version1.0";
const SUBSTG: &str = "__substg1.0_";
const ATTACH_PREFIX: &str = "__attach_version1.0_#";
const RECIP_PREFIX: &str = "__recip_version1.0_#";

const HEADER_TOP: usize = 32;
const HEADER_EMBEDDED: usize = 24;
const HEADER_SUB: usize = 8;

const PT_LONG: u16 = 0x0003;
const PT_BOOLEAN: u16 = 0x000B;
const PT_OBJECT: u16 = 0x000D;
const PT_STRING8: u16 = 0x001E;
const PT_UNICODE: u16 = 0x001F;
const PT_BINARY: u16 = 0x0102;

const PID_MESSAGE_CLASS: u16 = 0x001A;
const PID_SUBJECT: u16 = 0x0037;
const PID_SENT_REPRESENTING_NAME: u16 = 0x0042;
const PID_SENT_REPRESENTING_EMAIL: u16 = 0x0065;
const PID_TRANSPORT_HEADERS: u16 = 0x007D;
const PID_RECIPIENT_TYPE: u16 = 0x0C15;
const PID_SENDER_NAME: u16 = 0x0C1A;
const PID_SENDER_EMAIL: u16 = 0x0C1F;
const PID_DISPLAY_BCC: u16 = 0x0E02;
const PID_DISPLAY_CC: u16 = 0x0E03;
const PID_DISPLAY_TO: u16 = 0x0E04;
const PID_BODY: u16 = 0x1000;
const PID_RTF_COMPRESSED: u16 = 0x1009;
const PID_HTML: u16 = 0x1013;
const PID_MESSAGE_ID: u16 = 0x1035;
const PID_DISPLAY_NAME: u16 = 0x3001;
const PID_ADDRESS_TYPE: u16 = 0x3002;
const PID_EMAIL_ADDRESS: u16 = 0x3003;
const PID_ATTACH_DATA: u16 = 0x3701;
const PID_ATTACH_FILENAME: u16 = 0x3704;
const PID_ATTACH_METHOD: u16 = 0x3705;
const PID_ATTACH_LONG_FILENAME: u16 = 0x3707;
const PID_ATTACH_PATHNAME: u16 = 0x3708;
const PID_ATTACH_LONG_PATHNAME: u16 = 0x370D;
const PID_ATTACH_MIME_TAG: u16 = 0x370E;
const PID_ATTACH_CONTENT_ID: u16 = 0x3712;
const PID_SMTP_ADDRESS: u16 = 0x39FE;
const PID_INTERNET_CODEPAGE: u16 = 0x3FDE;
const PID_MESSAGE_CODEPAGE: u16 = 0x3FFD;
const PID_SENDER_SMTP: u16 = 0x5D01;
const PID_SENT_REPRESENTING_SMTP: u16 = 0x5D02;
const PID_ATTACHMENT_HIDDEN: u16 = 0x7FFE;

/// Attach method 5: the attachment is a message (`afEmbeddedMessage`).
pub const ATTACH_EMBEDDED_MSG: u32 = 5;
/// Attach method 6: the attachment is an OLE object (`afStorage`).
pub const ATTACH_OLE: u32 = 6;

/// What [`parse`] may read and keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsgLimits {
    /// Attachments read over the whole tree (embedded messages' attachments included).
    pub max_attachments: usize,
    /// Bytes kept of one attachment (or of one rebuilt OLE object's streams together).
    pub max_attachment_bytes: usize,
    /// Bytes read over the whole tree: bodies, strings and attachments.
    pub max_total_bytes: usize,
    /// Levels of embedded messages parsed (0: attachments that are messages are not parsed);
    /// never more than [`HARD_MAX_DEPTH`].
    pub max_depth: usize,
    /// Bytes read of one body (plain or HTML) or of the transport headers.
    pub max_text_bytes: usize,
}

impl Default for MsgLimits {
    fn default() -> Self {
        MsgLimits {
            max_attachments: 1000,
            max_attachment_bytes: 64 << 20,
            max_total_bytes: 256 << 20,
            max_depth: 8,
            max_text_bytes: 8 << 20,
        }
    }
}

/// Why the data is not a readable `.msg` file. Once the root storage is recognised, damage inside
/// the message is reported in [`Msg::problems`] instead.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MsgError {
    /// Not a compound file, or one the OLE reader refused.
    #[error("not a readable .msg file: {0}")]
    Ole(#[from] OleError),
    /// A compound file, but its root storage holds no message properties.
    #[error("OLE compound file ({entries} entries) is not an Outlook message: {reason}")]
    NotMsg {
        entries: usize,
        reason: &'static str,
    },
}

/// Whose copy of the message a recipient gets (property 0x0C15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipientKind {
    /// 0: the originator.
    Originator,
    /// 1.
    To,
    /// 2.
    Cc,
    /// 3.
    Bcc,
    /// Any other value (flag bits 0xF000_0000 removed).
    Other(u32),
    /// No recipient type property.
    Unknown,
}

/// One recipient storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub kind: RecipientKind,
    /// Display name (0x3001).
    pub name: Option<String>,
    /// SMTP address (0x39FE), else the address as stored (0x3003; an X.500 DN for `EX`).
    pub email: Option<String>,
    /// Address type (0x3002): `SMTP`, `EX`, ...
    pub address_type: Option<String>,
}

/// What an attachment holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentContent {
    /// The file's bytes (cut at [`MsgLimits::max_attachment_bytes`]: see [`Attachment::truncated`]).
    Data(Vec<u8>),
    /// An embedded message (attach method 5).
    Message(Box<Msg>),
    /// An OLE object (attach method 6) rebuilt as a standalone compound file. The storage's CLSID
    /// is not carried over.
    OleStorage(Vec<u8>),
    /// Attached by reference: only a path or URL is stored.
    Reference(String),
    /// Nothing to read: no data, or not read because of a limit or damage
    /// ([`Attachment::truncated`]).
    Missing,
}

/// One attachment storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Best name: the long file name, else the short one, else the display name, else
    /// `attachment-N`.
    pub name: String,
    /// Long (0x3707) else short (0x3704) file name.
    pub file_name: Option<String>,
    /// The name Outlook shows (0x3001); may differ from the file name.
    pub display_name: Option<String>,
    /// MIME type (0x370E).
    pub mime: Option<String>,
    /// Content-ID (0x3712), for inline images.
    pub content_id: Option<String>,
    /// Attach method (0x3705): 1 by value, 2–4 by reference, 5 message, 6 OLE, 7 web reference.
    pub method: Option<u32>,
    /// Hidden from the attachment list (0x7FFE).
    pub hidden: bool,
    /// The content was cut, or not read because of a limit or a broken stream.
    pub truncated: bool,
    pub content: AttachmentContent,
}

/// A parsed message (the file's, or an embedded one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Msg {
    /// Message class (0x001A): `IPM.Note`, `IPM.Note.SMIME`, `REPORT.IPM.Note.NDR`, ...
    pub message_class: Option<String>,
    pub subject: Option<String>,
    pub sender_name: Option<String>,
    /// Sender SMTP address (0x5D01), else the sender address as stored (0x0C1F).
    pub sender_email: Option<String>,
    pub sent_representing_name: Option<String>,
    /// 0x5D02, else 0x0065.
    pub sent_representing_email: Option<String>,
    pub display_to: Option<String>,
    pub display_cc: Option<String>,
    pub display_bcc: Option<String>,
    pub recipients: Vec<Recipient>,
    pub message_id: Option<String>,
    /// The RFC 5322 header block the message arrived with (0x007D).
    pub transport_headers: Option<String>,
    pub body_text: Option<String>,
    /// HTML body bytes as stored (binary 0x1013); a string-typed HTML body is given as UTF-8.
    pub body_html: Option<Vec<u8>>,
    /// A compressed RTF body (0x1009) is present (not decompressed here).
    pub has_rtf_body: bool,
    /// 0x3FFD.
    pub message_codepage: Option<u32>,
    /// 0x3FDE: the charset of a binary HTML body.
    pub internet_codepage: Option<u32>,
    pub attachments: Vec<Attachment>,
    /// Something in this message (or a message embedded in it) was cut or left unread.
    pub truncated: bool,
    /// What could not be read, or was cut, and where.
    pub problems: Vec<String>,
}

impl Msg {
    /// Recipients of one kind.
    pub fn recipients_of(&self, kind: RecipientKind) -> impl Iterator<Item = &Recipient> {
        self.recipients.iter().filter(move |r| r.kind == kind)
    }

    fn note(&mut self, text: String) {
        match self.problems.len() {
            n if n < MAX_PROBLEMS => self.problems.push(text),
            n if n == MAX_PROBLEMS => self.problems.push("further problems left out".to_string()),
            _ => {}
        }
    }
}

/// True when the root storage looks like a message: a `__properties_version1.0` stream and at
/// least one `__substg1.0_` property stream.
pub fn is_msg(ole: &OleFile) -> bool {
    not_msg_reason(ole).is_none()
}

fn not_msg_reason(ole: &OleFile) -> Option<&'static str> {
    let (mut props, mut substg) = (false, false);
    for e in ole.children("").filter(|e| e.is_stream) {
        let name = base_name(&e.path);
        props |= eq_ignore_case(name, PROPERTIES);
        substg |= has_prefix(name, SUBSTG);
    }
    match (props, substg) {
        (false, _) => Some("no __properties_version1.0 stream in the root storage"),
        (true, false) => Some("no __substg1.0_ property stream in the root storage"),
        (true, true) => None,
    }
}

/// Parses a `.msg` file.
pub fn parse(data: &[u8], limits: MsgLimits) -> Result<Msg, MsgError> {
    let mut ole = OleFile::parse(data)?;
    parse_ole(&mut ole, limits)
}

/// Parses a `.msg` file already opened as a compound file.
pub fn parse_ole(ole: &mut OleFile<'_>, limits: MsgLimits) -> Result<Msg, MsgError> {
    if let Some(reason) = not_msg_reason(ole) {
        return Err(MsgError::NotMsg {
            entries: ole.entries().len(),
            reason,
        });
    }
    let tree = Tree::new(ole.entries());
    let (padded, cut_list) = (ole.padded_bytes(), ole.entries_truncated());
    let mut walker = Walker {
        ole,
        tree,
        limits,
        budget: limits.max_total_bytes,
        attachments_left: limits.max_attachments,
        recipients_left: MAX_RECIPIENTS,
        ole_entries_left: MAX_OLE_ENTRIES,
    };
    let mut msg = walker.message(None, HEADER_TOP, 0, None);
    if padded > 0 {
        msg.truncated = true;
        msg.note(format!(
            "the file is cut short: {padded} zero bytes were added to read it"
        ));
    }
    if cut_list {
        msg.truncated = true;
        msg.note("the compound file has too many entries; the list was cut".to_string());
    }
    Ok(msg)
}

/// ASCII case-insensitive prefix test that never slices inside a character.
fn has_prefix(name: &str, prefix: &str) -> bool {
    name.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// `(id, type)` of a `__substg1.0_PPPPTTTT` name.
fn property_tag(name: &str) -> Option<(u16, u16)> {
    if !has_prefix(name, SUBSTG) {
        return None;
    }
    let hex = name.get(SUBSTG.len()..)?;
    if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let tag = u32::from_str_radix(hex, 16).ok()?;
    Some(((tag >> 16) as u16, (tag & 0xFFFF) as u16))
}

/// The storage/stream hierarchy as indexes into [`OleFile::entries`], so that lookups do not scan
/// the entry list and hold no borrow of the file.
struct Tree {
    root: Vec<usize>,
    children: Vec<Vec<usize>>,
}

impl Tree {
    fn new(entries: &[OleEntry]) -> Self {
        let by_path: HashMap<&str, usize> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.path.as_str(), i))
            .collect();
        let mut tree = Tree {
            root: Vec::new(),
            children: vec![Vec::new(); entries.len()],
        };
        for (i, e) in entries.iter().enumerate() {
            let parent = parent_path(&e.path);
            if parent.is_empty() {
                tree.root.push(i);
            } else if let Some(list) = by_path.get(parent).and_then(|&p| tree.children.get_mut(p)) {
                list.push(i);
            }
        }
        tree
    }

    fn of(&self, storage: Option<usize>) -> &[usize] {
        match storage {
            None => &self.root,
            Some(i) => self.children.get(i).map_or(&[], Vec::as_slice),
        }
    }
}

/// A storage's properties: fixed-size values and where the variable-size ones are.
#[derive(Default)]
struct Props {
    fixed: HashMap<u16, (u16, [u8; 8])>,
    /// `(id, type)` → entry index of the `__substg1.0_` stream or storage.
    variable: HashMap<(u16, u16), usize>,
}

impl Props {
    fn u32(&self, id: u16) -> Option<u32> {
        match self.fixed.get(&id) {
            Some(&(PT_LONG, v)) => Some(u32::from_le_bytes([v[0], v[1], v[2], v[3]])),
            _ => None,
        }
    }

    fn flag(&self, id: u16) -> bool {
        matches!(self.fixed.get(&id), Some(&(PT_BOOLEAN, v)) if v[0] != 0 || v[1] != 0)
    }

    fn has(&self, id: u16, ty: u16) -> bool {
        self.variable.contains_key(&(id, ty))
    }
}

/// Bytes read from a stream, and whether the stream holds more.
struct Bytes {
    data: Vec<u8>,
    cut: bool,
    /// The cut came from the whole-tree budget rather than the per-stream limit.
    by_budget: bool,
}

struct Walker<'o, 'a> {
    ole: &'o mut OleFile<'a>,
    tree: Tree,
    limits: MsgLimits,
    budget: usize,
    attachments_left: usize,
    recipients_left: usize,
    ole_entries_left: usize,
}

impl Walker<'_, '_> {
    /// The `__substg1.0_` entry of a property, when it is a stream (`stream`) or a storage.
    fn located(&self, props: &Props, id: u16, ty: u16, stream: bool) -> Option<usize> {
        let &idx = props.variable.get(&(id, ty))?;
        self.entry(idx)
            .is_some_and(|e| e.is_stream == stream)
            .then_some(idx)
    }

    fn entry(&self, idx: usize) -> Option<&OleEntry> {
        self.ole.entries().get(idx)
    }

    fn path(&self, storage: Option<usize>) -> String {
        storage
            .and_then(|i| self.entry(i))
            .map_or_else(|| "(root)".to_string(), |e| e.path.clone())
    }

    /// Reads at most `max` bytes of the stream at entry `idx`, charged to the whole-tree budget.
    fn read(&mut self, idx: usize, max: usize) -> Result<Bytes, OleError> {
        let Some(entry) = self.entry(idx) else {
            return Err(OleError::NotFound {
                path: format!("entry #{idx}"),
            });
        };
        if entry.size == 0 {
            // Nothing to read: spares the reader's path lookup.
            return Ok(Bytes {
                data: Vec::new(),
                cut: false,
                by_budget: false,
            });
        }
        let path = entry.path.clone();
        let cap = max.min(self.budget);
        let (data, cut) = self.ole.read_stream_prefix(&path, cap)?;
        self.budget = self.budget.saturating_sub(data.len());
        Ok(Bytes {
            by_budget: cut && cap < max,
            data,
            cut,
        })
    }

    /// Reads a stream for `what`, noting a failure or a cut in `msg`.
    fn read_noted(&mut self, idx: usize, max: usize, what: &str, msg: &mut Msg) -> Option<Bytes> {
        match self.read(idx, max) {
            Ok(b) => {
                if b.cut {
                    msg.truncated = true;
                    let why = if b.by_budget {
                        "the total byte limit"
                    } else {
                        "its limit"
                    };
                    let path = self.entry(idx).map_or("", |e| e.path.as_str());
                    msg.note(format!(
                        "{what} ({path}) cut at {} bytes by {why}",
                        b.data.len()
                    ));
                }
                Some(b)
            }
            Err(e) => {
                msg.truncated = true;
                msg.note(format!("{what} unreadable: {e}"));
                None
            }
        }
    }

    /// The properties of a storage: its `__properties_version1.0` stream and `__substg1.0_` names.
    fn props(&mut self, storage: Option<usize>, header: usize, msg: &mut Msg) -> Props {
        let mut props = Props::default();
        let mut props_stream = None;
        for &i in self.tree.of(storage) {
            let Some(e) = self.ole.entries().get(i) else {
                continue;
            };
            let name = base_name(&e.path);
            if let Some((id, ty)) = property_tag(name) {
                props.variable.entry((id, ty)).or_insert(i);
            } else if e.is_stream && eq_ignore_case(name, PROPERTIES) {
                props_stream = Some(i);
            }
        }
        let where_ = self.path(storage);
        let Some(idx) = props_stream else {
            msg.note(format!("{where_}: no {PROPERTIES} stream"));
            return props;
        };
        let Some(bytes) = self.read_noted(idx, MAX_PROPERTIES_BYTES, "properties", msg) else {
            return props;
        };
        let Some(entries) = bytes.data.get(header..) else {
            msg.note(format!(
                "{where_}: {PROPERTIES} holds {} bytes, less than its {header}-byte header",
                bytes.data.len()
            ));
            return props;
        };
        for chunk in entries.chunks_exact(16) {
            let ty = u16::from_le_bytes([chunk[0], chunk[1]]);
            let id = u16::from_le_bytes([chunk[2], chunk[3]]);
            let mut value = [0u8; 8];
            value.copy_from_slice(&chunk[8..16]);
            props.fixed.entry(id).or_insert((ty, value));
        }
        props
    }

    /// A string property (UTF-16 form first, then 8-bit), read up to `max` bytes.
    fn text(
        &mut self,
        props: &Props,
        id: u16,
        max: usize,
        cp: Option<u32>,
        msg: &mut Msg,
    ) -> Option<String> {
        for ty in [PT_UNICODE, PT_STRING8] {
            let Some(idx) = self.located(props, id, ty, true) else {
                continue;
            };
            let bytes = self.read_noted(idx, max, &format!("property {id:#06x}"), msg)?;
            let text = if ty == PT_UNICODE {
                decode_utf16(&bytes.data)
            } else {
                let (text, guessed) = decode_8bit(&bytes.data, cp);
                if let Some(enc) = guessed {
                    let note = format!(
                        "8-bit strings without a code page property: decoded as {}",
                        enc.name()
                    );
                    if !msg.problems.contains(&note) {
                        msg.note(note);
                    }
                }
                text
            };
            return Some(text.trim_end_matches('\0').to_string());
        }
        None
    }

    fn short_text(
        &mut self,
        props: &Props,
        id: u16,
        cp: Option<u32>,
        msg: &mut Msg,
    ) -> Option<String> {
        self.text(props, id, MAX_SHORT_STRING, cp, msg)
    }

    /// The HTML body: binary as stored, a string one as UTF-8.
    fn html(&mut self, props: &Props, cp: Option<u32>, msg: &mut Msg) -> Option<Vec<u8>> {
        let max = self.limits.max_text_bytes;
        if let Some(idx) = self.located(props, PID_HTML, PT_BINARY, true) {
            return self.read_noted(idx, max, "HTML body", msg).map(|b| b.data);
        }
        self.text(props, PID_HTML, max, cp, msg)
            .map(String::into_bytes)
    }

    /// The storages of one kind (recipients or attachments) directly in `storage`, by name.
    fn sub_storages(&self, storage: Option<usize>, prefix: &str) -> Vec<usize> {
        let mut found: Vec<(String, usize)> = self
            .tree
            .of(storage)
            .iter()
            .filter_map(|&i| {
                let e = self.entry(i)?;
                let name = base_name(&e.path);
                (!e.is_stream && has_prefix(name, prefix)).then(|| (name.to_ascii_uppercase(), i))
            })
            .collect();
        found.sort();
        found.into_iter().map(|(_, i)| i).collect()
    }

    /// Parses the message in `storage` (`None`: the root).
    fn message(
        &mut self,
        storage: Option<usize>,
        header: usize,
        depth: usize,
        parent_cp: Option<u32>,
    ) -> Msg {
        let mut msg = Msg::default();
        let props = self.props(storage, header, &mut msg);
        msg.message_codepage = props.u32(PID_MESSAGE_CODEPAGE);
        msg.internet_codepage = props.u32(PID_INTERNET_CODEPAGE);
        let cp = msg.message_codepage.or(msg.internet_codepage).or(parent_cp);
        let m = &mut msg;
        m.message_class = self.short_text(&props, PID_MESSAGE_CLASS, cp, m);
        m.subject = self.short_text(&props, PID_SUBJECT, cp, m);
        m.sender_name = self.short_text(&props, PID_SENDER_NAME, cp, m);
        m.sender_email = self
            .short_text(&props, PID_SENDER_SMTP, cp, m)
            .or_else(|| self.short_text(&props, PID_SENDER_EMAIL, cp, m));
        m.sent_representing_name = self.short_text(&props, PID_SENT_REPRESENTING_NAME, cp, m);
        m.sent_representing_email = self
            .short_text(&props, PID_SENT_REPRESENTING_SMTP, cp, m)
            .or_else(|| self.short_text(&props, PID_SENT_REPRESENTING_EMAIL, cp, m));
        m.display_to = self.short_text(&props, PID_DISPLAY_TO, cp, m);
        m.display_cc = self.short_text(&props, PID_DISPLAY_CC, cp, m);
        m.display_bcc = self.short_text(&props, PID_DISPLAY_BCC, cp, m);
        m.message_id = self.short_text(&props, PID_MESSAGE_ID, cp, m);
        let max_text = self.limits.max_text_bytes;
        m.transport_headers = self.text(&props, PID_TRANSPORT_HEADERS, max_text, cp, m);
        m.body_text = self.text(&props, PID_BODY, max_text, cp, m);
        m.body_html = self.html(&props, cp, m);
        m.has_rtf_body = props.has(PID_RTF_COMPRESSED, PT_BINARY);

        for idx in self.sub_storages(storage, RECIP_PREFIX) {
            if self.recipients_left == 0 {
                msg.truncated = true;
                msg.note(format!(
                    "more than {MAX_RECIPIENTS} recipients: the rest are not read"
                ));
                break;
            }
            self.recipients_left -= 1;
            let recipient = self.recipient(idx, cp, &mut msg);
            msg.recipients.push(recipient);
        }

        let attachments = self.sub_storages(storage, ATTACH_PREFIX);
        let count = attachments.len();
        for (n, idx) in attachments.into_iter().enumerate() {
            if self.attachments_left == 0 {
                msg.truncated = true;
                msg.note(format!(
                    "attachment limit of {} reached: {} of {count} attachments not read",
                    self.limits.max_attachments,
                    count - n
                ));
                break;
            }
            self.attachments_left -= 1;
            let attachment = self.attachment(idx, n, depth, cp, &mut msg);
            msg.truncated |= attachment.truncated;
            msg.attachments.push(attachment);
        }
        msg
    }

    fn recipient(&mut self, storage: usize, cp: Option<u32>, msg: &mut Msg) -> Recipient {
        let props = self.props(Some(storage), HEADER_SUB, msg);
        let kind = match props.u32(PID_RECIPIENT_TYPE).map(|t| t & 0x0FFF_FFFF) {
            None => RecipientKind::Unknown,
            Some(0) => RecipientKind::Originator,
            Some(1) => RecipientKind::To,
            Some(2) => RecipientKind::Cc,
            Some(3) => RecipientKind::Bcc,
            Some(other) => RecipientKind::Other(other),
        };
        Recipient {
            kind,
            name: self.short_text(&props, PID_DISPLAY_NAME, cp, msg),
            email: self
                .short_text(&props, PID_SMTP_ADDRESS, cp, msg)
                .or_else(|| self.short_text(&props, PID_EMAIL_ADDRESS, cp, msg)),
            address_type: self.short_text(&props, PID_ADDRESS_TYPE, cp, msg),
        }
    }

    fn attachment(
        &mut self,
        storage: usize,
        n: usize,
        depth: usize,
        cp: Option<u32>,
        msg: &mut Msg,
    ) -> Attachment {
        let props = self.props(Some(storage), HEADER_SUB, msg);
        let file_name = self
            .short_text(&props, PID_ATTACH_LONG_FILENAME, cp, msg)
            .or_else(|| self.short_text(&props, PID_ATTACH_FILENAME, cp, msg))
            .filter(|s| !s.is_empty());
        let display_name = self.short_text(&props, PID_DISPLAY_NAME, cp, msg);
        let name = file_name
            .clone()
            .or_else(|| display_name.clone().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| format!("attachment-{n}"));
        let mut attachment = Attachment {
            name,
            file_name,
            display_name,
            mime: self.short_text(&props, PID_ATTACH_MIME_TAG, cp, msg),
            content_id: self.short_text(&props, PID_ATTACH_CONTENT_ID, cp, msg),
            method: props.u32(PID_ATTACH_METHOD),
            hidden: props.flag(PID_ATTACHMENT_HIDDEN),
            truncated: false,
            content: AttachmentContent::Missing,
        };
        attachment.content = self.content(&props, &mut attachment, depth, cp, msg);
        attachment
    }

    fn content(
        &mut self,
        props: &Props,
        att: &mut Attachment,
        depth: usize,
        cp: Option<u32>,
        msg: &mut Msg,
    ) -> AttachmentContent {
        let what = format!("attachment {:?}", att.name);
        if let Some(idx) = self.located(props, PID_ATTACH_DATA, PT_BINARY, true) {
            let max = self.limits.max_attachment_bytes;
            let Some(bytes) = self.read_noted(idx, max, &what, msg) else {
                att.truncated = true;
                return AttachmentContent::Missing;
            };
            att.truncated = bytes.cut;
            return AttachmentContent::Data(bytes.data);
        }
        if let Some(idx) = self.located(props, PID_ATTACH_DATA, PT_OBJECT, false) {
            let looks_like_msg = self.tree.of(Some(idx)).iter().any(|&c| {
                self.entry(c)
                    .is_some_and(|e| e.is_stream && eq_ignore_case(base_name(&e.path), PROPERTIES))
            });
            let is_msg = match att.method {
                Some(ATTACH_EMBEDDED_MSG) => true,
                Some(ATTACH_OLE) => false,
                _ => looks_like_msg,
            };
            return if is_msg {
                self.embedded(idx, att, depth, cp, msg)
            } else {
                self.ole_object(idx, att, msg)
            };
        }
        for id in [PID_ATTACH_LONG_PATHNAME, PID_ATTACH_PATHNAME] {
            if let Some(path) = self
                .short_text(props, id, cp, msg)
                .filter(|p| !p.is_empty())
            {
                return AttachmentContent::Reference(path);
            }
        }
        AttachmentContent::Missing
    }

    fn embedded(
        &mut self,
        storage: usize,
        att: &mut Attachment,
        depth: usize,
        cp: Option<u32>,
        msg: &mut Msg,
    ) -> AttachmentContent {
        let max_depth = self.limits.max_depth.min(HARD_MAX_DEPTH);
        if depth >= max_depth {
            att.truncated = true;
            msg.note(format!(
                "attachment {:?}: embedded message at depth {} not parsed (depth limit {max_depth})",
                att.name,
                depth + 1
            ));
            return AttachmentContent::Missing;
        }
        let inner = self.message(Some(storage), HEADER_EMBEDDED, depth + 1, cp);
        att.truncated |= inner.truncated;
        AttachmentContent::Message(Box::new(inner))
    }

    /// Copies the streams and storages under `storage` into a new compound file.
    fn ole_object(
        &mut self,
        storage: usize,
        att: &mut Attachment,
        msg: &mut Msg,
    ) -> AttachmentContent {
        let what = format!("OLE attachment {:?}", att.name);
        let mut left = self.limits.max_attachment_bytes;
        let mut items: Vec<(String, Option<Vec<u8>>)> = Vec::new();
        let mut stack: Vec<(usize, String, usize)> = self
            .tree
            .of(Some(storage))
            .iter()
            .rev()
            .map(|&i| (i, String::new(), 1))
            .collect();
        while let Some((idx, parent, level)) = stack.pop() {
            if self.ole_entries_left == 0 || level > MAX_OLE_NESTING {
                att.truncated = true;
                msg.note(format!(
                    "{what}: more than {MAX_OLE_ENTRIES} OLE entries in the message or \
                     {MAX_OLE_NESTING} levels; the rest are left out"
                ));
                break;
            }
            self.ole_entries_left -= 1;
            let Some(e) = self.entry(idx) else { continue };
            let (is_stream, rel) = (e.is_stream, format!("{parent}/{}", base_name(&e.path)));
            if is_stream {
                let Some(bytes) = self.read_noted(idx, left, &what, msg) else {
                    continue;
                };
                att.truncated |= bytes.cut;
                left = left.saturating_sub(bytes.data.len());
                items.push((rel, Some(bytes.data)));
            } else {
                stack.extend(
                    self.tree
                        .of(Some(idx))
                        .iter()
                        .rev()
                        .map(|&c| (c, rel.clone(), level + 1)),
                );
                items.push((rel, None));
            }
        }
        match build_compound_file(&items) {
            Ok((bytes, skipped)) => {
                if skipped > 0 {
                    msg.note(format!(
                        "{what}: {skipped} entries could not be copied into the rebuilt file"
                    ));
                }
                AttachmentContent::OleStorage(bytes)
            }
            Err(e) => {
                msg.note(format!("{what}: rebuilding the compound file failed: {e}"));
                AttachmentContent::Missing
            }
        }
    }
}

/// UTF-16LE, unpaired surrogates replaced, an odd last byte dropped.
fn decode_utf16(bytes: &[u8]) -> String {
    let units = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Decodes an 8-bit string; the encoding is returned when it had to be guessed.
fn decode_8bit(bytes: &[u8], cp: Option<u32>) -> (String, Option<&'static Encoding>) {
    if let Some(enc) = cp.and_then(encoding_for_codepage) {
        return (enc.decode_without_bom_handling(bytes).0.into_owned(), None);
    }
    if bytes.is_ascii() {
        return (String::from_utf8_lossy(bytes).into_owned(), None);
    }
    for enc in [encoding_rs::UTF_8, encoding_rs::SHIFT_JIS] {
        if let Some(text) = enc.decode_without_bom_handling_and_without_replacement(bytes) {
            return (text.into_owned(), Some(enc));
        }
    }
    let enc = encoding_rs::WINDOWS_1252;
    (
        enc.decode_without_bom_handling(bytes).0.into_owned(),
        Some(enc),
    )
}

/// The encoding of a Windows code page number, for the code pages `encoding_rs` knows.
pub fn encoding_for_codepage(cp: u32) -> Option<&'static Encoding> {
    use encoding_rs::*;
    Some(match cp {
        932 => SHIFT_JIS,
        20932 | 51932 => EUC_JP,
        50220..=50222 => ISO_2022_JP,
        936 => GBK,
        54936 => GB18030,
        949 | 51949 => EUC_KR,
        950 => BIG5,
        874 => WINDOWS_874,
        1250 => WINDOWS_1250,
        1251 => WINDOWS_1251,
        1252 | 20127 | 28591 => WINDOWS_1252,
        1253 => WINDOWS_1253,
        1254 => WINDOWS_1254,
        1255 => WINDOWS_1255,
        1256 => WINDOWS_1256,
        1257 => WINDOWS_1257,
        1258 => WINDOWS_1258,
        866 => IBM866,
        20866 => KOI8_R,
        21866 => KOI8_U,
        28592 => ISO_8859_2,
        28593 => ISO_8859_3,
        28594 => ISO_8859_4,
        28595 => ISO_8859_5,
        28596 => ISO_8859_6,
        28597 => ISO_8859_7,
        28598 => ISO_8859_8,
        28600 => ISO_8859_10,
        28603 => ISO_8859_13,
        28604 => ISO_8859_14,
        28605 => ISO_8859_15,
        28606 => ISO_8859_16,
        10000 => MACINTOSH,
        10007 => X_MAC_CYRILLIC,
        65001 => UTF_8,
        _ => return None,
    })
}
