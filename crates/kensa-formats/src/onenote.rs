//! OneNote sections (`.one`, MS-ONESTORE revision store): carve the files embedded in them (§2.10).
//!
//! Emotet (March 2023) mailed `.one` files that hid a WSF/VBS/HTA/LNK under a "double-click to view"
//! picture. Getting the embedded bytes out needs no full revision-store parser, so this module
//! carves them and links what it can to names with small, validated structure reads:
//!
//! - The file starts with the revision-store header GUID {7B5C52E4-D88C-4DA7-AEB1-5378D02996D3}.
//! - Every embedded file and picture is a FileDataStoreObject (MS-ONESTORE 2.6.13): header GUID
//!   {BDE316E7-2665-4511-A4C4-8D4D0B7A9EAC}, u64 `cbLength` at +16, u32 unused, u64 reserved, the
//!   data at +36, zero padding so that the structure up to the footer is a multiple of 8 bytes,
//!   then the footer GUID {71FBA722-0F79-4A0B-BB13-899256426B24}. Carving searches the header GUID;
//!   a missing footer or a length past the end is reported, and the bytes are still returned.
//! - A file data object is declared by an ObjectDeclarationFileData3RefCountFND (FileNodeID 0x072,
//!   or 0x073 with a 4-byte reference count): FileNode header u32, CompactID `oid`, JCID, cRef, then
//!   two StringInStorageBuffers (u32 character count + UTF-16LE): `<ifndf>{GUID}` (or `<file>name`
//!   for data kept outside the section) and the file extension (`.docx`). JCID 0x00080036 is an
//!   embedded file (jcidEmbeddedFileContainer), 0x00080039 a picture (jcidPictureContainer14).
//! - The GUID is tied to the FileDataStoreObject by a FileDataStoreObjectReferenceFND (FileNodeID
//!   0x094): a FileNodeChunkReference (`stp`/`cb` sized by the header's StpFormat/CbFormat bits;
//!   "compressed" forms count in units of 8 bytes), then the GUID.
//! - The embedded-file node (jcidEmbeddedFileNode) has a property set whose EmbeddedFileContainer
//!   (PropertyID 0x20001D9B, an ObjectID) names the file data object's CompactID through the OIDs
//!   stream just before the set, and whose EmbeddedFileName (0x1C001D9C) is the name shown.
//!
//! A name is put on a carved file only when that whole chain holds: a declaration, a reference
//! node pointing at the carved object, and exactly one name for the declaration's CompactID.
//! Independently, [`OneNote::names`] lists every UTF-16LE string outside validated file data that
//! looks like a file name with an extension, so a scanner can judge names that could not be linked.
//! Password-protected sections keep the file data encrypted: the `keyEncryptor/password` marker is
//! reported, as the carved bytes are then ciphertext.
//!
//! Limits: at most `max_files` objects carved and `max_total` bytes handed out (ranges into the
//! input, never copies); at most 1,024 declarations, 64 embedded-file property sets (each read to
//! a depth of 4 and 1,024 properties), 256 names of at most 260 UTF-16 units. Every search is a
//! linear pass, so time is linear in the input whatever it declares.

use std::collections::HashMap;
use std::ops::Range;

use memchr::memmem;

/// Revision-store header GUID {7B5C52E4-D88C-4DA7-AEB1-5378D02996D3} as stored: a `.one` section
/// starts with it.
pub const FILE_TYPE_ONE: [u8; 16] = [
    0xE4, 0x52, 0x5C, 0x7B, 0x8C, 0xD8, 0xA7, 0x4D, 0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96, 0xD3,
];
/// FileDataStoreObject guidHeader {BDE316E7-2665-4511-A4C4-8D4D0B7A9EAC}.
pub const FILE_DATA_HEADER: [u8; 16] = [
    0xE7, 0x16, 0xE3, 0xBD, 0x65, 0x26, 0x11, 0x45, 0xA4, 0xC4, 0x8D, 0x4D, 0x0B, 0x7A, 0x9E, 0xAC,
];
/// FileDataStoreObject guidFooter {71FBA722-0F79-4A0B-BB13-899256426B24}.
pub const FILE_DATA_FOOTER: [u8; 16] = [
    0x22, 0xA7, 0xFB, 0x71, 0x79, 0x0F, 0x0B, 0x4A, 0xBB, 0x13, 0x89, 0x92, 0x56, 0x42, 0x6B, 0x24,
];
/// guidHeader, cbLength (u64), unused (u32), reserved (u64).
const FILE_DATA_PREFIX: usize = 36;
/// The XML of a password-protected section names this key encryptor.
const ENCRYPTION_MARKER: &[u8] = b"http://schemas.microsoft.com/office/2006/keyEncryptor/password";

const JCID_EMBEDDED_FILE: u32 = 0x0008_0036;
const JCID_PICTURE: u32 = 0x0008_0039;
const PRID_EMBEDDED_FILE_CONTAINER: u32 = 0x2000_1D9B;
const PRID_EMBEDDED_FILE_NAME: u32 = 0x1C00_1D9C;
const FND_FILE_DATA3: u32 = 0x072;
const FND_FILE_DATA3_LARGE: u32 = 0x073;
const FND_DATA_STORE_REF: u32 = 0x094;

const MAX_DECLS: usize = 1024;
const MAX_REF_CHARS: usize = 256;
const MAX_EXT_CHARS: usize = 32;
const MAX_PROP_SETS: usize = 64;
/// How far before an EmbeddedFileContainer PropertyID the start of its property set is looked for.
const MAX_PROP_INDEX: usize = 64;
const MAX_PROP_VISITS: usize = 1024;
const MAX_SET_DEPTH: usize = 4;
const MAX_NAMES: usize = 256;
const MAX_NAME_UNITS: usize = 260;
const MAX_EXT_LEN: usize = 8;
/// Names longer than this (in bytes of UTF-16) are not read from a property.
const MAX_NAME_BYTES: usize = 2 * MAX_NAME_UNITS;

/// What the declaring node says a file data object holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    /// jcidEmbeddedFileContainer (0x00080036): a file attached to the page.
    EmbeddedFile,
    /// jcidPictureContainer14 (0x00080039): a picture shown on the page (also an embedded file's icon).
    Picture,
    /// Declared with another JCID.
    Other(u32),
    /// No declaration found that points at this object: judge the bytes alone.
    Unknown,
}

/// One carved FileDataStoreObject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedded {
    /// Offset of the header GUID in the input.
    pub offset: usize,
    /// The file's bytes in the input (see [`Embedded::bytes`]); shorter than declared when
    /// `truncated`.
    pub data: Range<usize>,
    /// `cbLength` as stored.
    pub declared_len: u64,
    /// The footer GUID is where `cbLength` and the padding put it.
    pub footer_ok: bool,
    /// Fewer bytes than declared: the input ends first or the `max_total` budget ran out.
    pub truncated: bool,
    pub kind: DataKind,
    /// The extension stored in the declaring node (`.docx`), as written: attacker-chosen.
    pub extension: Option<String>,
    /// EmbeddedFileName of the embedded-file node that references this object, when the link holds.
    pub name: Option<String>,
}

impl Embedded {
    /// The carved bytes, given the input [`carve`] was called with.
    pub fn bytes<'a>(&self, input: &'a [u8]) -> &'a [u8] {
        input.get(self.data.clone()).unwrap_or(&[])
    }
}

/// Everything carved out of a section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OneNote {
    /// FileDataStoreObjects in file order.
    pub files: Vec<Embedded>,
    /// File-name-like UTF-16LE strings (with an extension) from outside validated file data,
    /// linked names first; paths are kept whole. Deduplicated.
    pub names: Vec<String>,
    /// The section is password-protected: carved data is ciphertext.
    pub encrypted: bool,
    /// Something was left out: more objects than `max_files`, the `max_total` budget, or names.
    pub truncated: bool,
    pub problems: Vec<OneNoteProblem>,
}

/// What was wrong or left out, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OneNoteProblem {
    #[error("offset 0: not a OneNote section (no revision-store header GUID)")]
    NoHeader,
    #[error("offset {offset}: section is password-protected; embedded data is encrypted")]
    Encrypted { offset: usize },
    #[error("offset {offset}: FileDataStoreObject header cut by the end of the input")]
    HeaderCut { offset: usize },
    #[error("offset {offset}: FileDataStoreObject declares {declared} bytes, {available} remain")]
    LengthPastEnd {
        offset: usize,
        declared: u64,
        available: usize,
    },
    #[error("offset {offset}: FileDataStoreObject footer GUID not at offset {expected}")]
    FooterMissing { offset: usize, expected: usize },
    #[error("offset {offset}: more than {max} FileDataStoreObjects; the rest were not carved")]
    TooManyFiles { offset: usize, max: usize },
    #[error("offset {offset}: the budget of {max} carved bytes ran out")]
    BudgetExhausted { offset: usize, max: usize },
    #[error("offset {offset}: file data kept outside the section ({reference})")]
    ExternalData { offset: usize, reference: String },
    #[error("offset {offset}: more than {max} names; the rest were not listed")]
    TooManyNames { offset: usize, max: usize },
}

/// `data` starts with the `.one` revision-store header GUID.
pub fn is_onenote(data: &[u8]) -> bool {
    data.starts_with(&FILE_TYPE_ONE)
}

/// Carve the FileDataStoreObjects of a section (at most `max_files`, at most `max_total` bytes in
/// all), link names and extensions to them where the structure allows, and list name-like strings.
/// Never fails: damage becomes [`OneNoteProblem`]s, and input without the header is still carved.
pub fn carve(data: &[u8], max_files: usize, max_total: usize) -> OneNote {
    let mut out = OneNote::default();
    if !is_onenote(data) {
        out.problems.push(OneNoteProblem::NoHeader);
    }
    if let Some(offset) = memmem::find(data, ENCRYPTION_MARKER) {
        out.encrypted = true;
        out.problems.push(OneNoteProblem::Encrypted { offset });
    }
    carve_objects(data, max_files, max_total, &mut out);
    // Validated file data is the attached files' business, not the section's structure: a
    // section attached inside a section must not lend its names and declarations to the outer one.
    // These ranges (whole data, even past the byte budget) are disjoint and in order, as the
    // search skips each validated object whole.
    let skip: Vec<Range<usize>> = out
        .files
        .iter()
        .filter(|f| f.footer_ok)
        .map(|f| {
            let len = usize::try_from(f.declared_len).unwrap_or(0);
            f.data.start..f.data.start.saturating_add(len)
        })
        .collect();
    let outside = |pos: usize| {
        let i = skip.partition_point(|r| r.end <= pos);
        skip.get(i).is_none_or(|r| pos < r.start)
    };
    let decls = declarations(data, &outside, &mut out.problems);
    let by_offset = references(data, &decls, &outside);
    let named = embedded_file_names(data, &outside);
    link(&mut out.files, &decls, &by_offset, &named);

    let mut names = Names::default();
    for f in &out.files {
        if let Some(n) = &f.name {
            names.push(n);
        }
    }
    for (_, n) in &named {
        names.push(n);
    }
    let mut from = 0;
    for r in skip
        .iter()
        .chain(std::iter::once(&(data.len()..data.len())))
    {
        if r.start > from {
            scan_names(data, from..r.start, &mut names);
        }
        from = from.max(r.end);
    }
    if let Some(offset) = names.overflow_at {
        out.truncated = true;
        out.problems.push(OneNoteProblem::TooManyNames {
            offset,
            max: MAX_NAMES,
        });
    }
    out.names = names.list;
    out
}

fn slice(d: &[u8], at: usize, len: usize) -> Option<&[u8]> {
    d.get(at..at.checked_add(len)?)
}

fn le16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(slice(d, at, 2)?.try_into().ok()?))
}

fn le32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(slice(d, at, 4)?.try_into().ok()?))
}

fn le64(d: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(slice(d, at, 8)?.try_into().ok()?))
}

/// UTF-16LE to text; unpaired surrogates become U+FFFD, trailing NULs are dropped.
fn utf16(b: &[u8]) -> String {
    let units = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    let s: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    s.trim_end_matches('\0').to_owned()
}

/// Search the header GUID; every hit becomes an [`Embedded`] until `max_files`.
fn carve_objects(data: &[u8], max_files: usize, max_total: usize, out: &mut OneNote) {
    let finder = memmem::Finder::new(&FILE_DATA_HEADER);
    let mut budget = Budget {
        left: max_total,
        max: max_total,
        reported: false,
    };
    let mut pos = 0;
    while let Some(hit) = data.get(pos..).and_then(|rest| finder.find(rest)) {
        let offset = pos + hit;
        if out.files.len() >= max_files {
            out.truncated = true;
            out.problems.push(OneNoteProblem::TooManyFiles {
                offset,
                max: max_files,
            });
            return;
        }
        let (file, next) = carve_one(data, offset, &mut budget, out);
        out.files.push(file);
        pos = next;
    }
}

/// The bytes still to hand out.
struct Budget {
    left: usize,
    max: usize,
    reported: bool,
}

/// One FileDataStoreObject at `offset`; returns it and where the search goes on.
fn carve_one(
    data: &[u8],
    offset: usize,
    budget: &mut Budget,
    out: &mut OneNote,
) -> (Embedded, usize) {
    let start = (offset + FILE_DATA_PREFIX).min(data.len());
    let available = data.len() - start;
    let declared = le64(data, offset + 16);
    let want = declared.map_or(usize::MAX, |d| usize::try_from(d).unwrap_or(usize::MAX));
    let past_end = want > available;
    let footer_at = FILE_DATA_PREFIX
        .checked_add(want)
        .and_then(|n| n.checked_next_multiple_of(8))
        .and_then(|n| n.checked_add(offset));
    let footer_ok =
        !past_end && footer_at.and_then(|at| slice(data, at, 16)) == Some(&FILE_DATA_FOOTER[..]);
    match declared {
        None => out.problems.push(OneNoteProblem::HeaderCut { offset }),
        Some(declared) if past_end => out.problems.push(OneNoteProblem::LengthPastEnd {
            offset,
            declared,
            available,
        }),
        Some(_) if !footer_ok => out.problems.push(OneNoteProblem::FooterMissing {
            offset,
            expected: footer_at.unwrap_or(usize::MAX),
        }),
        Some(_) => {}
    }
    let present = want.min(available);
    let keep = present.min(budget.left);
    budget.left -= keep;
    if keep < present {
        out.truncated = true;
        if !budget.reported {
            budget.reported = true;
            out.problems.push(OneNoteProblem::BudgetExhausted {
                offset,
                max: budget.max,
            });
        }
    }
    // A validated object is skipped whole (its data may hold GUIDs of its own); otherwise the
    // declared length cannot be trusted and the search goes on right after the header.
    let next = match footer_at {
        Some(at) if footer_ok => at + 16,
        _ => offset + FILE_DATA_HEADER.len(),
    };
    let file = Embedded {
        offset,
        data: start..start + keep,
        declared_len: declared.unwrap_or(0),
        footer_ok,
        truncated: keep < want,
        kind: DataKind::Unknown,
        extension: None,
        name: None,
    };
    (file, next)
}

/// An ObjectDeclarationFileData3(Large)RefCountFND.
#[derive(Debug)]
struct Declaration {
    oid: u32,
    jcid: u32,
    /// The GUID of `<ifndf>{GUID}` as stored in binary form; `None` for other references.
    guid: Option<[u8; 16]>,
    extension: String,
}

/// "<ifndf>" and "<file>" in UTF-16LE.
fn utf16_pattern(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Find the declarations by their reference strings and validate the node around each.
fn declarations(
    data: &[u8],
    outside: &impl Fn(usize) -> bool,
    problems: &mut Vec<OneNoteProblem>,
) -> Vec<Declaration> {
    let mut decls = Vec::new();
    for prefix in ["<ifndf>", "<file>"] {
        let pat = utf16_pattern(prefix);
        for s in memmem::find_iter(data, &pat) {
            if decls.len() >= MAX_DECLS {
                return decls;
            }
            if !outside(s) {
                continue;
            }
            let Some((decl, reference)) = declaration_at(data, s) else {
                continue;
            };
            if prefix == "<file>" {
                problems.push(OneNoteProblem::ExternalData {
                    offset: s,
                    reference,
                });
            }
            decls.push(decl);
        }
    }
    decls
}

/// The node whose FileDataReference string starts at `s`, if its header and sizes agree.
fn declaration_at(data: &[u8], s: usize) -> Option<(Declaration, String)> {
    let cch = le32(data, s.checked_sub(4)?)? as usize;
    if cch > MAX_REF_CHARS {
        return None;
    }
    let reference = utf16(slice(data, s, 2 * cch)?);
    let ext_at = s + 2 * cch;
    let ext_cch = le32(data, ext_at)? as usize;
    if ext_cch > MAX_EXT_CHARS {
        return None;
    }
    let extension = utf16(slice(data, ext_at + 4, 2 * ext_cch)?);
    // header, oid, jcid, cRef (1 or 4 bytes), then the two strings.
    for (id, cref) in [(FND_FILE_DATA3, 1), (FND_FILE_DATA3_LARGE, 4)] {
        let Some(node) = s.checked_sub(4 + cref + 12) else {
            continue;
        };
        let Some(header) = le32(data, node) else {
            continue;
        };
        let size = (header >> 10) & 0x1FFF;
        let expected = 12 + cref + 4 + 2 * cch + 4 + 2 * ext_cch;
        if header & 0x3FF != id || size as usize != expected {
            continue;
        }
        let guid = reference.strip_prefix("<ifndf>").and_then(parse_guid);
        let decl = Declaration {
            oid: le32(data, node + 4)?,
            jcid: le32(data, node + 8)?,
            guid,
            extension,
        };
        return Some((decl, reference));
    }
    None
}

/// `{869F8706-A464-4947-B774-E0A0AE40CD1E}` to its 16 stored bytes (first three fields LE).
fn parse_guid(text: &str) -> Option<[u8; 16]> {
    let inner = text.strip_prefix('{')?.strip_suffix('}')?;
    let parts: Vec<&str> = inner.split('-').collect();
    let [a, b, c, d, e] = parts.as_slice() else {
        return None;
    };
    if [a.len(), b.len(), c.len(), d.len(), e.len()] != [8, 4, 4, 4, 12] {
        return None;
    }
    let mut out = [0u8; 16];
    out[..4].copy_from_slice(&u32::from_str_radix(a, 16).ok()?.to_le_bytes());
    out[4..6].copy_from_slice(&u16::from_str_radix(b, 16).ok()?.to_le_bytes());
    out[6..8].copy_from_slice(&u16::from_str_radix(c, 16).ok()?.to_le_bytes());
    let tail = format!("{d}{e}");
    for (i, slot) in out[8..].iter_mut().enumerate() {
        *slot = u8::from_str_radix(tail.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// FileDataStoreObjectReferenceFND nodes naming a declared GUID: FileDataStoreObject offset →
/// declaration index.
fn references(
    data: &[u8],
    decls: &[Declaration],
    outside: &impl Fn(usize) -> bool,
) -> HashMap<usize, usize> {
    let guids: HashMap<[u8; 16], usize> = decls
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.guid.map(|g| (g, i)))
        .collect();
    let mut found = HashMap::new();
    if guids.is_empty() {
        return found;
    }
    for p in memchr::memchr_iter(FND_DATA_STORE_REF as u8, data) {
        if let Some((stp, guid)) = data_store_ref_at(data, p)
            && let Some(&i) = guids.get(&guid)
            && outside(p)
        {
            found.entry(stp).or_insert(i);
        }
    }
    found
}

/// A FileDataStoreObjectReferenceFND at `p`: the referenced offset and the GUID.
fn data_store_ref_at(data: &[u8], p: usize) -> Option<(usize, [u8; 16])> {
    let header = le32(data, p)?;
    if header & 0x3FF != FND_DATA_STORE_REF {
        return None;
    }
    let size = ((header >> 10) & 0x1FFF) as usize;
    let stp_format = (header >> 23) & 3;
    let cb_format = (header >> 25) & 3;
    let stp_len = [8, 4, 2, 4][stp_format as usize];
    let cb_len = [4, 8, 1, 2][cb_format as usize];
    if size != 4 + stp_len + cb_len + 16 {
        return None;
    }
    let stp = match stp_format {
        0 => le64(data, p + 4)?,
        1 => u64::from(le32(data, p + 4)?),
        2 => u64::from(le16(data, p + 4)?) * 8,
        _ => u64::from(le32(data, p + 4)?) * 8,
    };
    let guid = slice(data, p + 4 + stp_len + cb_len, 16)?.try_into().ok()?;
    Some((usize::try_from(stp).ok()?, guid))
}

/// (CompactID of the EmbeddedFileContainer, EmbeddedFileName) of every embedded-file property
/// set found by its EmbeddedFileContainer PropertyID.
fn embedded_file_names(data: &[u8], outside: &impl Fn(usize) -> bool) -> Vec<(u32, String)> {
    let pat = PRID_EMBEDDED_FILE_CONTAINER.to_le_bytes();
    memmem::find_iter(data, &pat)
        .filter(|&q| outside(q))
        .take(MAX_PROP_SETS)
        .filter_map(|q| property_set_around(data, q))
        .collect()
}

/// What one property set says about an embedded file.
#[derive(Default)]
struct SetScan {
    /// ObjectID references read so far (their CompactIDs are the OIDs stream, in order).
    oid_refs: usize,
    /// Index in the OIDs stream of the top-level EmbeddedFileContainer.
    container: Option<usize>,
    name: Option<String>,
    visits: usize,
}

/// The property set whose PropertyID array holds the EmbeddedFileContainer at `q`: its start is
/// looked for by trying each earlier PropertyID slot as the first one, and it counts only if the
/// whole set parses and an OIDs stream of exactly as many CompactIDs as the set references ends
/// right before it.
fn property_set_around(data: &[u8], q: usize) -> Option<(u32, String)> {
    for k in 0..MAX_PROP_INDEX {
        let Some(set) = q.checked_sub(4 * k + 2) else {
            break;
        };
        if le16(data, set).is_none_or(|c| usize::from(c) <= k) {
            continue;
        }
        let mut scan = SetScan::default();
        if parse_set(data, set, 0, true, &mut scan).is_none() {
            continue;
        }
        let (Some(index), Some(name)) = (scan.container, scan.name) else {
            continue;
        };
        let n = scan.oid_refs;
        let Some(header_at) = n.checked_mul(4).and_then(|b| set.checked_sub(b + 4)) else {
            continue;
        };
        // ObjectSpaceObjectStreamHeader: Count (24 bits), reserved (6), ExtendedStreamsPresent,
        // OsidStreamNotPresent; the OSID and ContextID streams must be absent here.
        let ok = le32(data, header_at).is_some_and(|h| {
            (h & 0x00FF_FFFF) as usize == n && h & 0x7F00_0000 == 0 && h & 0x8000_0000 != 0
        });
        if !ok {
            continue;
        }
        let oid = le32(data, header_at + 4 + 4 * index)?;
        return Some((oid, name));
    }
    None
}

/// Parse a PropertySet (u16 count, PropertyIDs, data) at `at`; returns where it ends.
fn parse_set(data: &[u8], at: usize, depth: usize, top: bool, scan: &mut SetScan) -> Option<usize> {
    if depth > MAX_SET_DEPTH {
        return None;
    }
    let count = usize::from(le16(data, at)?);
    let prids = at + 2;
    let mut pos = prids.checked_add(4 * count)?;
    if pos > data.len() {
        return None;
    }
    for i in 0..count {
        scan.visits += 1;
        if scan.visits > MAX_PROP_VISITS {
            return None;
        }
        let prid = le32(data, prids + 4 * i)?;
        pos = property(data, prid, pos, depth, top, scan)?;
    }
    Some(pos)
}

/// Skip (and note) the data of one property at `pos`, by its type (PropertyID bits 26–30).
fn property(
    data: &[u8],
    prid: u32,
    pos: usize,
    depth: usize,
    top: bool,
    scan: &mut SetScan,
) -> Option<usize> {
    let fixed = |n: usize| Some(pos + n).filter(|&e| e <= data.len());
    match (prid >> 26) & 0x1F {
        0x1 | 0x2 | 0xA | 0xC => Some(pos),
        0x3 => fixed(1),
        0x4 => fixed(2),
        0x5 | 0xB | 0xD => fixed(4),
        0x6 => fixed(8),
        0x7 => {
            let len = le32(data, pos)? as usize;
            let value = slice(data, pos + 4, len)?;
            if top && prid == PRID_EMBEDDED_FILE_NAME && len <= MAX_NAME_BYTES {
                scan.name = Some(utf16(value)).filter(|s| !s.is_empty());
            }
            Some(pos + 4 + len)
        }
        0x8 => {
            if top && prid == PRID_EMBEDDED_FILE_CONTAINER {
                scan.container = Some(scan.oid_refs);
            }
            scan.oid_refs += 1;
            Some(pos)
        }
        0x9 => {
            scan.oid_refs = scan.oid_refs.checked_add(le32(data, pos)? as usize)?;
            fixed(4)
        }
        0x10 => {
            let n = le32(data, pos)? as usize;
            let mut at = pos + 4;
            if n > 0 {
                let inner = le32(data, at)?;
                if (inner >> 26) & 0x1F != 0x11 {
                    return None;
                }
                at += 4;
            }
            for _ in 0..n {
                scan.visits += 1;
                if scan.visits > MAX_PROP_VISITS {
                    return None;
                }
                at = parse_set(data, at, depth + 1, false, scan)?;
            }
            Some(at)
        }
        0x11 => parse_set(data, pos, depth + 1, false, scan),
        _ => None,
    }
}

/// Put kind, extension and name on each carved object that a reference node points at.
fn link(
    files: &mut [Embedded],
    decls: &[Declaration],
    by_offset: &HashMap<usize, usize>,
    named: &[(u32, String)],
) {
    // A CompactID is only unique within its revision: a name is put on an object only when no
    // declaration of another GUID shares the CompactID and all names given for it agree.
    let mut guid_of: HashMap<u32, Option<Option<[u8; 16]>>> = HashMap::new();
    for d in decls {
        let entry = guid_of.entry(d.oid).or_insert(Some(d.guid));
        if *entry != Some(d.guid) {
            *entry = None;
        }
    }
    let mut name_of: HashMap<u32, Option<&str>> = HashMap::new();
    for (oid, name) in named {
        let entry = name_of.entry(*oid).or_insert(Some(name));
        if *entry != Some(name.as_str()) {
            *entry = None;
        }
    }
    for f in files.iter_mut() {
        let Some(decl) = by_offset.get(&f.offset).and_then(|&i| decls.get(i)) else {
            continue;
        };
        f.kind = match decl.jcid {
            JCID_EMBEDDED_FILE => DataKind::EmbeddedFile,
            JCID_PICTURE => DataKind::Picture,
            other => DataKind::Other(other),
        };
        f.extension = Some(decl.extension.clone()).filter(|e| !e.is_empty());
        if guid_of.get(&decl.oid).is_some_and(Option::is_some)
            && let Some(Some(name)) = name_of.get(&decl.oid)
        {
            f.name = Some((*name).to_owned());
        }
    }
}

/// The deduplicated, capped list of names.
#[derive(Default)]
struct Names {
    list: Vec<String>,
    overflow_at: Option<usize>,
}

impl Names {
    fn push(&mut self, name: &str) {
        self.push_at(name, 0);
    }

    fn push_at(&mut self, name: &str, offset: usize) {
        if self.list.iter().any(|n| n == name) {
            return;
        }
        if self.list.len() >= MAX_NAMES {
            self.overflow_at.get_or_insert(offset);
            return;
        }
        self.list.push(name.to_owned());
    }
}

/// A UTF-16 unit that may stand in a file name or path.
fn name_unit(u: u16) -> bool {
    !(u < 0x20
        || (0x7F..0xA0).contains(&u)
        || (0xD800..0xE000).contains(&u)
        || u >= 0xFFFE
        || matches!(u, 0x22 | 0x2A | 0x3C | 0x3E | 0x3F | 0x7C))
}

/// Maximal runs of name units at both byte alignments in `range`; those that end in `.ext`
/// (1–8 ASCII letters or digits after something) are names. Runs over 260 units are not names.
fn scan_names(data: &[u8], range: Range<usize>, names: &mut Names) {
    let Some(bytes) = data.get(range.clone()) else {
        return;
    };
    for parity in 0..2 {
        let Some(aligned) = bytes.get(parity..) else {
            continue;
        };
        let mut run: Vec<u16> = Vec::with_capacity(MAX_NAME_UNITS);
        let mut run_start = 0;
        let mut too_long = false;
        for (i, c) in aligned.chunks_exact(2).enumerate() {
            let u = u16::from_le_bytes([c[0], c[1]]);
            if !name_unit(u) {
                if !too_long {
                    take_name(&run, run_start, names);
                }
                run.clear();
                too_long = false;
            } else if too_long {
            } else if run.len() == MAX_NAME_UNITS {
                run.clear();
                too_long = true;
            } else {
                if run.is_empty() {
                    run_start = range.start + parity + 2 * i;
                }
                run.push(u);
            }
        }
        if !too_long {
            take_name(&run, run_start, names);
        }
    }
}

/// Keep `run` if it reads as a file name with an extension.
fn take_name(run: &[u16], offset: usize, names: &mut Names) {
    // Cheap test first: most runs in binary data have no `.ext` ending.
    let Some(dot) = run.iter().rposition(|&u| u == u16::from(b'.')) else {
        return;
    };
    let ext = run.get(dot + 1..).unwrap_or(&[]);
    let ext_ok = (1..=MAX_EXT_LEN).contains(&ext.len())
        && ext
            .iter()
            .all(|&u| u8::try_from(u).is_ok_and(|b| b.is_ascii_alphanumeric()));
    if !ext_ok || dot == 0 {
        return;
    }
    let Ok(text) = String::from_utf16(run) else {
        return;
    };
    let text = text.trim_start();
    let stem_ok = text
        .rsplit_once('.')
        .and_then(|(stem, _)| stem.chars().last())
        .is_some_and(|c| !c.is_whitespace() && !matches!(c, '.' | '\\' | '/' | ':'));
    if stem_ok {
        names.push_at(text, offset);
    }
}

#[cfg(test)]
mod tests;
