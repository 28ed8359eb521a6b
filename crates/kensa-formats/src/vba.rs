//! VBA project extraction from an OLE file (MS-OVBA `dir` stream, modules).
//!
//! Projects are found by structure: a storage named `VBA` (any case) holding `dir` and
//! `_VBA_PROJECT`, wherever it sits. For each, the compressed `dir` stream is parsed leniently,
//! module streams are opened by their Unicode name first, then the ASCII one, and each module's
//! source is decompressed from its MODULEOFFSET; if the offset is wrong, the stream is searched for
//! a compressed container starting with `Attribut`. If `dir` is unusable, every stream of the
//! `VBA` storage holding such a container becomes a module. Whatever was odd and tolerated goes
//! to [`VbaProject::anomalies`]. PowerPoint 97-2003 and XLM are not handled here.

use std::collections::HashSet;

use encoding_rs::Encoding;
use thiserror::Error;

use crate::ole::{self, OleError, OleFile, base_name, eq_ignore_case, parent_path};
use crate::ovba::{self, OvbaError};

/// Longest printable run kept from a form stream (longer runs are cut).
const MAX_FORM_STRING: usize = 64 * 1024;
/// Most form strings kept per project.
const MAX_FORM_STRINGS: usize = 10_000;
/// Shortest printable run kept from a form stream.
const MIN_FORM_STRING: usize = 5;
/// Most projects (storages named `VBA`) looked at in one file.
const MAX_PROJECTS: usize = 256;
/// Most anomalies kept per project.
const MAX_ANOMALIES: usize = 1_000;

/// Module type from the `dir` stream (MODULETYPE record 0x21 or 0x22).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleKind {
    /// 0x21: a standard module.
    Procedural,
    /// 0x22: a document, class or designer (UserForm) module.
    DocClassOrDesigner,
    /// No type record (or the module was found without `dir`).
    Unknown,
}

/// One module with its decoded source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VbaModule {
    /// Module name (MODULENAMEUNICODE when present, else MODULENAME; from `Attribute VB_Name`
    /// when found without `dir`).
    pub name: String,
    /// OLE path of the module stream, e.g. `Macros/VBA/Module1`.
    pub stream_path: String,
    pub kind: ModuleKind,
    /// Source decoded with the project code page.
    pub source: String,
}

/// One VBA project.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VbaProject {
    /// OLE path of the storage holding `VBA/` (`""` for the root), e.g. `Macros`.
    pub storage: String,
    /// PROJECTCODEPAGE (1252 when missing).
    pub codepage: u16,
    pub modules: Vec<VbaModule>,
    /// Modules in `dir` with no `Module=`/`Class=`/`BaseClass=`/`Document=` line in `PROJECT`.
    pub hidden_modules: Vec<String>,
    /// Printable runs (at least 5 characters, ASCII or UTF-16LE) from UserForm `o`/`f` streams.
    pub form_strings: Vec<String>,
    /// What was odd and tolerated.
    pub anomalies: Vec<String>,
    /// A limit of [`VbaLimits`] was reached: modules or source may be missing (also in
    /// `anomalies`, prefixed `limit:`).
    pub limit_hit: bool,
}

/// Caps on what [`extract`] decompresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VbaLimits {
    /// Largest module stream read and largest source decompressed, per module (and per `dir`).
    pub max_module_bytes: usize,
    /// Total of decompressed sources and form strings over all projects of the file.
    pub max_total_bytes: usize,
    /// Most modules over all projects of the file.
    pub max_modules: usize,
}

impl Default for VbaLimits {
    fn default() -> Self {
        VbaLimits {
            max_module_bytes: 16 << 20,
            max_total_bytes: 64 << 20,
            max_modules: 1024,
        }
    }
}

/// Errors of this module. [`extract`] only fails when the OLE reader became unusable; the other
/// variants describe why a part was skipped and end up in [`VbaProject::anomalies`].
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VbaError {
    /// Reading a stream failed.
    #[error("OLE stream {stream:?}: {source}")]
    Ole { stream: String, source: OleError },
    /// A compressed container could not even start.
    #[error("compressed container in {stream:?} at offset {offset}: {source}")]
    Decompress {
        stream: String,
        offset: usize,
        source: OvbaError,
    },
    /// The decompressed `dir` stream is unusable.
    #[error("`dir` stream {stream:?}: {what} at decompressed offset {offset}")]
    Dir {
        stream: String,
        offset: usize,
        what: String,
    },
}

/// True when the file holds a storage named `VBA` with a `dir` or `_VBA_PROJECT` stream.
pub fn has_vba_storage(ole: &OleFile<'_>) -> bool {
    !find_vba_storages(ole).is_empty()
}

/// Paths of storages named `VBA` (any case) holding `dir` or `_VBA_PROJECT`, in file order.
fn find_vba_storages(ole: &OleFile<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in ole.entries() {
        if !e.is_stream {
            continue;
        }
        let name = base_name(&e.path);
        if !(eq_ignore_case(name, "dir") || eq_ignore_case(name, "_VBA_PROJECT")) {
            continue;
        }
        let parent = parent_path(&e.path);
        if parent.is_empty() || !eq_ignore_case(base_name(parent), "VBA") {
            continue;
        }
        if !out.iter().any(|p| p == parent) {
            out.push(parent.to_string());
        }
        if out.len() >= MAX_PROJECTS {
            break;
        }
    }
    out
}

/// The encoding for a Windows code page (windows-1252 when unknown).
pub fn encoding_for_codepage(cp: u16) -> &'static Encoding {
    let label: &[u8] = match cp {
        437 | 850 | 1252 | 20127 | 28591 => b"windows-1252",
        866 => b"ibm866",
        874 => b"windows-874",
        932 => b"shift_jis",
        936 => b"gbk",
        949 => b"euc-kr",
        950 => b"big5",
        1200 => b"utf-16le",
        1201 => b"utf-16be",
        1250 => b"windows-1250",
        1251 => b"windows-1251",
        1253 => b"windows-1253",
        1254 => b"windows-1254",
        1255 => b"windows-1255",
        1256 => b"windows-1256",
        1257 => b"windows-1257",
        1258 => b"windows-1258",
        10000 => b"macintosh",
        10007 => b"x-mac-cyrillic",
        20866 => b"koi8-r",
        20932 | 51932 => b"euc-jp",
        21866 => b"koi8-u",
        28592 => b"iso-8859-2",
        28593 => b"iso-8859-3",
        28594 => b"iso-8859-4",
        28595 => b"iso-8859-5",
        28596 => b"iso-8859-6",
        28597 => b"iso-8859-7",
        28598 => b"iso-8859-8",
        28603 => b"iso-8859-13",
        28605 => b"iso-8859-15",
        50220..=50222 => b"iso-2022-jp",
        54936 => b"gb18030",
        65001 => b"utf-8",
        _ => b"windows-1252",
    };
    Encoding::for_label(label).unwrap_or(encoding_rs::WINDOWS_1252)
}

fn decode_cp(bytes: &[u8], enc: &'static Encoding) -> String {
    enc.decode_without_bom_handling(bytes).0.into_owned()
}

fn decode_utf16le(bytes: &[u8]) -> String {
    encoding_rs::UTF_16LE
        .decode_without_bom_handling(bytes)
        .0
        .into_owned()
}

/// A module as described by the `dir` stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirModule {
    /// MODULENAME (0x19), in the project code page.
    pub name: Vec<u8>,
    /// MODULENAMEUNICODE (0x47), UTF-16LE.
    pub name_unicode: Option<Vec<u8>>,
    /// MODULESTREAMNAME (0x1A), in the project code page.
    pub stream_name: Option<Vec<u8>>,
    /// Its Unicode form (0x32), UTF-16LE.
    pub stream_name_unicode: Option<Vec<u8>>,
    /// MODULEOFFSET (0x31).
    pub offset: Option<u32>,
    /// MODULETYPE (0x21 procedural, 0x22 document/class/designer).
    pub kind: Option<ModuleKind>,
    /// Offset of the MODULENAME record in the decompressed `dir` stream.
    pub record_offset: usize,
}

/// What [`parse_dir`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirInfo {
    /// PROJECTCODEPAGE (0x03).
    pub codepage: Option<u16>,
    /// PROJECTMODULES count (0x0F).
    pub declared_modules: Option<u16>,
    pub modules: Vec<DirModule>,
    /// Deviations that were tolerated, with their offsets.
    pub anomalies: Vec<String>,
}

fn le_u16(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(b.try_into().ok()?))
}

fn le_u32(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

/// Record ids MS-OVBA defines for the `dir` stream (plus 0x4A COMPATVERSION).
fn is_known_dir_id(id: u16) -> bool {
    matches!(
        id,
        0x01..=0x10
            | 0x13
            | 0x14
            | 0x16
            | 0x19
            | 0x1A
            | 0x1C
            | 0x1E
            | 0x21
            | 0x22
            | 0x25
            | 0x28
            | 0x2B
            | 0x2C
            | 0x2F
            | 0x30
            | 0x31
            | 0x32
            | 0x33
            | 0x3C
            | 0x3D
            | 0x3E
            | 0x40
            | 0x47
            | 0x48
            | 0x4A
    )
}

/// Parses a decompressed `dir` stream leniently: records are `u16 id, u32 size, data`, except
/// VERSION (0x09) whose size says 4 while 6 bytes follow. Unknown ids are skipped by their size; a
/// record running past the end stops parsing. Fails only when no module record was found and the
/// stream did not end cleanly (0x10 TERMINATOR or end of data right after a record).
pub fn parse_dir(data: &[u8], stream: &str) -> Result<DirInfo, VbaError> {
    let mut info = DirInfo::default();
    let mut cur: Option<DirModule> = None;
    let mut pos = 0usize;
    let mut clean_end = false;
    let mut unknown = 0usize;
    let mut failure: Option<(usize, String)> = None;
    while pos < data.len() {
        let (Some(id), Some(size)) = (le_u16(data, pos), le_u32(data, pos + 2)) else {
            failure = Some((pos, "truncated record header".to_string()));
            break;
        };
        let body = pos + 6;
        let len = if id == 0x09 && size == 4 {
            6
        } else {
            usize::try_from(size).unwrap_or(usize::MAX)
        };
        let Some(payload) = body.checked_add(len).and_then(|end| data.get(body..end)) else {
            failure = Some((
                pos,
                format!("record 0x{id:04X} of {size} bytes runs past the end"),
            ));
            break;
        };
        if !is_known_dir_id(id) {
            unknown += 1;
            if info.anomalies.len() < MAX_ANOMALIES {
                info.anomalies.push(format!(
                    "dir: unknown record 0x{id:04X} ({size} bytes) at offset {pos}"
                ));
            }
        }
        match id {
            0x03 => info.codepage = le_u16(payload, 0),
            0x0F => info.declared_modules = le_u16(payload, 0),
            0x19 => {
                if let Some(m) = cur.take() {
                    info.modules.push(m);
                }
                cur = Some(DirModule {
                    name: payload.to_vec(),
                    record_offset: pos,
                    ..DirModule::default()
                });
            }
            0x10 => {
                clean_end = true;
                break;
            }
            _ => {
                if let Some(m) = cur.as_mut() {
                    match id {
                        0x47 => m.name_unicode = Some(payload.to_vec()),
                        0x1A => m.stream_name = Some(payload.to_vec()),
                        0x32 => m.stream_name_unicode = Some(payload.to_vec()),
                        0x31 => m.offset = le_u32(payload, 0),
                        0x21 => m.kind = Some(ModuleKind::Procedural),
                        0x22 => m.kind = Some(ModuleKind::DocClassOrDesigner),
                        0x2B => {
                            if let Some(done) = cur.take() {
                                info.modules.push(done);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        pos = body + len;
        if pos == data.len() {
            clean_end = true;
        }
    }
    if let Some(m) = cur.take() {
        info.anomalies.push(format!(
            "dir: module record at offset {} not terminated",
            m.record_offset
        ));
        info.modules.push(m);
    }
    if let Some((offset, what)) = failure {
        if info.modules.is_empty() {
            return Err(VbaError::Dir {
                stream: stream.to_string(),
                offset,
                what,
            });
        }
        info.anomalies
            .push(format!("dir: {what} at offset {offset}"));
    } else if !clean_end {
        info.anomalies.push("dir: no TERMINATOR record".to_string());
    }
    if unknown > 0 && info.modules.is_empty() {
        return Err(VbaError::Dir {
            stream: stream.to_string(),
            offset: 0,
            what: format!("{unknown} unknown records and no module"),
        });
    }
    if let Some(n) = info.declared_modules
        && usize::from(n) != info.modules.len()
    {
        info.anomalies.push(format!(
            "dir: PROJECTMODULES says {n} modules, {} found",
            info.modules.len()
        ));
    }
    Ok(info)
}

/// What is left of the file-wide limits.
struct Budget {
    bytes_left: usize,
    modules_left: usize,
}

/// Per-project working state.
struct Ctx<'p> {
    project: &'p mut VbaProject,
    limits: &'p VbaLimits,
}

impl Ctx<'_> {
    fn note(&mut self, what: String) {
        if self.project.anomalies.len() < MAX_ANOMALIES {
            self.project.anomalies.push(what);
        }
    }

    fn limit(&mut self, what: String) {
        self.project.limit_hit = true;
        self.note(format!("limit: {what}"));
    }

    /// Reads the first `max_module_bytes` of a stream. A panic in the OLE reader is the only error
    /// passed up; other failures become anomalies.
    fn read(&mut self, ole: &mut OleFile<'_>, path: &str) -> Result<Option<Vec<u8>>, VbaError> {
        let max = self.limits.max_module_bytes;
        match ole.read_stream_prefix(path, max) {
            Ok((data, truncated)) => {
                if truncated {
                    self.limit(format!(
                        "stream {path:?} longer than {max} bytes, rest ignored"
                    ));
                }
                Ok(Some(data))
            }
            Err(e @ OleError::Panicked { .. }) => Err(VbaError::Ole {
                stream: path.to_string(),
                source: e,
            }),
            Err(e) => {
                self.note(
                    VbaError::Ole {
                        stream: path.to_string(),
                        source: e,
                    }
                    .to_string(),
                );
                Ok(None)
            }
        }
    }
}

/// Extracts every VBA project of an OLE file. Fails only when the OLE reader panicked (the file is
/// then unreadable); everything else tolerated is listed in each project's `anomalies`.
pub fn extract(ole: &mut OleFile<'_>, limits: &VbaLimits) -> Result<Vec<VbaProject>, VbaError> {
    let mut budget = Budget {
        bytes_left: limits.max_total_bytes,
        modules_left: limits.max_modules,
    };
    let mut projects = Vec::new();
    for vba in find_vba_storages(ole) {
        let mut project = VbaProject {
            storage: parent_path(&vba).to_string(),
            codepage: 1252,
            ..VbaProject::default()
        };
        let mut ctx = Ctx {
            project: &mut project,
            limits,
        };
        if ole.padded_bytes() > 0 {
            ctx.note(format!(
                "OLE file truncated: read with {} zero bytes appended",
                ole.padded_bytes()
            ));
        }
        if ole.entries_truncated() {
            ctx.limit(format!("more than {} OLE entries", ole::MAX_ENTRIES));
        }
        extract_project(ole, &vba, &mut ctx, &mut budget)?;
        projects.push(project);
    }
    Ok(projects)
}

fn extract_project(
    ole: &mut OleFile<'_>,
    vba: &str,
    ctx: &mut Ctx<'_>,
    budget: &mut Budget,
) -> Result<(), VbaError> {
    let streams: Vec<String> = ole
        .children(vba)
        .filter(|e| e.is_stream)
        .map(|e| e.path.clone())
        .collect();
    let find = |name: &str| {
        streams
            .iter()
            .find(|s| eq_ignore_case(base_name(s), name))
            .cloned()
    };
    if find("_VBA_PROJECT").is_none() {
        ctx.note(format!("no _VBA_PROJECT stream in {vba:?}"));
    }
    let dir_path = find("dir");
    let dir = match &dir_path {
        None => {
            ctx.note(format!("no dir stream in {vba:?}"));
            None
        }
        Some(path) => read_dir(ole, path, ctx)?,
    };
    let mut used: HashSet<String> = HashSet::new();
    if let Some(path) = &dir_path {
        used.insert(path.clone());
    }
    if let Some(path) = find("_VBA_PROJECT") {
        used.insert(path);
    }
    let dir_ok = dir.is_some();
    if let Some(info) = dir {
        let listed = extract_listed_modules(ole, &streams, info, ctx, budget, &mut used)?;
        check_hidden(ole, &listed, ctx)?;
    } else {
        ctx.note(format!(
            "dir unusable: modules taken from streams of {vba:?} holding compressed source"
        ));
    }
    scan_unlisted_streams(ole, &streams, &used, dir_ok, ctx, budget)?;
    collect_form_strings(ole, vba, ctx, budget)?;
    Ok(())
}

/// Reads, decompresses and parses `dir`; `None` (with anomalies) when unusable.
fn read_dir(
    ole: &mut OleFile<'_>,
    path: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Option<DirInfo>, VbaError> {
    let Some(raw) = ctx.read(ole, path)? else {
        return Ok(None);
    };
    let max = ctx.limits.max_module_bytes;
    let dec = match ovba::decompress_detailed(&raw, max) {
        Ok(d) => d,
        Err(source) => {
            let e = VbaError::Decompress {
                stream: path.to_string(),
                offset: 0,
                source,
            };
            ctx.note(e.to_string());
            return Ok(None);
        }
    };
    note_decompression(ctx, path, 0, &dec);
    match parse_dir(&dec.data, path) {
        Ok(info) => Ok(Some(info)),
        Err(e) => {
            ctx.note(e.to_string());
            Ok(None)
        }
    }
}

fn note_decompression(ctx: &mut Ctx<'_>, path: &str, offset: usize, d: &ovba::Decompressed) {
    if d.truncated_input {
        ctx.note(format!("{path:?}: compressed data at {offset} truncated"));
    }
    if d.bad_offsets > 0 {
        ctx.note(format!(
            "{path:?}: {} copy tokens with bad offsets in container at {offset}",
            d.bad_offsets
        ));
    }
    if d.odd_chunk_signatures > 0 {
        ctx.note(format!(
            "{path:?}: {} chunk headers with altered signature bits in container at {offset}",
            d.odd_chunk_signatures
        ));
    }
    if d.hit_limit {
        ctx.limit(format!(
            "{path:?}: decompressed output of container at {offset} capped"
        ));
    }
}

/// Extracts the modules listed in `dir`. Returns, per listed module, the names it may be declared
/// under in `PROJECT` (display name first).
fn extract_listed_modules(
    ole: &mut OleFile<'_>,
    streams: &[String],
    info: DirInfo,
    ctx: &mut Ctx<'_>,
    budget: &mut Budget,
    used: &mut HashSet<String>,
) -> Result<Vec<Vec<String>>, VbaError> {
    match info.codepage {
        Some(cp) => ctx.project.codepage = cp,
        None => ctx.note("dir: no PROJECTCODEPAGE record, 1252 assumed".to_string()),
    }
    let enc = encoding_for_codepage(ctx.project.codepage);
    for a in info.anomalies {
        ctx.note(a);
    }
    let mut listed = Vec::new();
    let mut limit_noted = false;
    for m in &info.modules {
        let ascii_name = decode_cp(&m.name, enc);
        let name = match m.name_unicode.as_deref().map(decode_utf16le) {
            Some(u) if !u.is_empty() => u,
            _ => ascii_name.clone(),
        };
        let mut names = vec![name.clone()];
        if ascii_name != name && !ascii_name.is_empty() {
            names.push(ascii_name);
        }
        listed.push(names);
        if budget.modules_left == 0 || budget.bytes_left == 0 {
            if !limit_noted {
                limit_noted = true;
                ctx.limit(format!(
                    "module or byte budget spent before module {name:?} (max {} modules, {} bytes)",
                    ctx.limits.max_modules, ctx.limits.max_total_bytes
                ));
            }
            continue;
        }
        let unicode = m.stream_name_unicode.as_deref().map(decode_utf16le);
        let ascii = m.stream_name.as_deref().map(|b| decode_cp(b, enc));
        if let (Some(u), Some(a)) = (&unicode, &ascii)
            && !eq_ignore_case(u, a)
        {
            ctx.note(format!(
                "module {name:?}: ASCII stream name {a:?} differs from Unicode {u:?}"
            ));
        }
        let candidates = [unicode, ascii, Some(name.clone())];
        let found = candidates.iter().flatten().find_map(|c| {
            streams
                .iter()
                .find(|s| eq_ignore_case(base_name(s), c))
                .cloned()
        });
        let Some(path) = found else {
            ctx.note(format!("module {name:?}: stream missing"));
            continue;
        };
        used.insert(path.clone());
        let Some(data) = ctx.read(ole, &path)? else {
            continue;
        };
        let max = ctx.limits.max_module_bytes.min(budget.bytes_left);
        let Some(src) = module_source(&data, m.offset, max, &path, ctx) else {
            ctx.note(format!("module {name:?}: no compressed source in {path:?}"));
            continue;
        };
        budget.bytes_left = budget.bytes_left.saturating_sub(src.len());
        budget.modules_left = budget.modules_left.saturating_sub(1);
        ctx.project.modules.push(VbaModule {
            name,
            stream_path: path,
            kind: m.kind.unwrap_or(ModuleKind::Unknown),
            source: decode_cp(&src, enc),
        });
    }
    Ok(listed)
}

/// Decompresses a module's source from MODULEOFFSET, or finds it by searching the stream for a
/// compressed container starting with `Attribut` when the offset is missing or wrong.
fn module_source(
    data: &[u8],
    offset: Option<u32>,
    max: usize,
    path: &str,
    ctx: &mut Ctx<'_>,
) -> Option<Vec<u8>> {
    let mut at_offset: Option<Vec<u8>> = None;
    let off = offset.and_then(|o| usize::try_from(o).ok());
    match off {
        None => ctx.note(format!("{path:?}: no MODULEOFFSET")),
        Some(off) => match data.get(off..).filter(|s| !s.is_empty()) {
            None => ctx.note(format!(
                "{path:?}: MODULEOFFSET {off} past the end of the {}-byte stream",
                data.len()
            )),
            Some(slice) => match ovba::decompress_detailed(slice, max) {
                Ok(d) if d.data.starts_with(b"Attribut") => {
                    note_decompression(ctx, path, off, &d);
                    return Some(d.data);
                }
                Ok(d) => {
                    ctx.note(format!(
                        "{path:?}: source at MODULEOFFSET {off} does not start with Attribute"
                    ));
                    at_offset = Some(d.data).filter(|v| !v.is_empty());
                }
                Err(source) => ctx.note(
                    VbaError::Decompress {
                        stream: path.to_string(),
                        offset: off,
                        source,
                    }
                    .to_string(),
                ),
            },
        },
    }
    let found = ovba::find_compressed_source_at(data, max)
        .into_iter()
        .find(|(at, _)| Some(*at) != off);
    if let Some((at, text)) = found {
        ctx.note(format!(
            "{path:?}: compressed source found by search at offset {at}"
        ));
        return Some(text);
    }
    at_offset
}

/// Names declared by `Module=`, `Class=`, `BaseClass=` and `Document=` lines of a `PROJECT`
/// stream (before its first `[section]`).
pub fn project_module_names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            break;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if ["Module", "Class", "BaseClass", "Document"]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(key))
        {
            let name = value.split('/').next().unwrap_or_default().trim();
            out.push(name.trim_matches('"').to_string());
        }
    }
    out
}

/// Fills `hidden_modules` from the `PROJECT` stream next to the `VBA` storage.
fn check_hidden(
    ole: &mut OleFile<'_>,
    listed: &[Vec<String>],
    ctx: &mut Ctx<'_>,
) -> Result<(), VbaError> {
    let storage = ctx.project.storage.clone();
    let path = if storage.is_empty() {
        "PROJECT".to_string()
    } else {
        format!("{storage}/PROJECT")
    };
    if !ole.entry(&path).is_some_and(|e| e.is_stream) {
        ctx.note(format!(
            "no PROJECT stream in {storage:?}: hidden modules not checked"
        ));
        return Ok(());
    }
    let Some(data) = ctx.read(ole, &path)? else {
        return Ok(());
    };
    let text = decode_cp(&data, encoding_for_codepage(ctx.project.codepage));
    let declared = project_module_names(&text);
    for names in listed {
        let known = names
            .iter()
            .any(|n| declared.iter().any(|d| eq_ignore_case(d, n)));
        if !known && let Some(first) = names.first() {
            ctx.project.hidden_modules.push(first.clone());
        }
    }
    Ok(())
}

/// The name in an `Attribute VB_Name = "..."` line near the start of a source.
fn vb_name(source: &[u8]) -> Option<&[u8]> {
    let head = source.get(..source.len().min(4096))?;
    let at = memchr::memmem::find(head, b"VB_Name")?;
    let rest = head.get(at + 7..)?;
    let open = memchr::memchr(b'"', rest)?;
    let rest = rest.get(open + 1..)?;
    let close = memchr::memchr2(b'"', b'\n', rest)?;
    rest.get(..close.min(255))
}

/// Takes compressed sources from the `VBA` streams `dir` did not account for: all of them when
/// `dir` is unusable, else streams it does not list (a sign of tampering).
fn scan_unlisted_streams(
    ole: &mut OleFile<'_>,
    streams: &[String],
    used: &HashSet<String>,
    dir_ok: bool,
    ctx: &mut Ctx<'_>,
    budget: &mut Budget,
) -> Result<(), VbaError> {
    let enc = encoding_for_codepage(ctx.project.codepage);
    for path in streams {
        let base = base_name(path);
        if used.contains(path)
            || eq_ignore_case(base, "dir")
            || eq_ignore_case(base, "_VBA_PROJECT")
        {
            continue;
        }
        if budget.modules_left == 0 || budget.bytes_left == 0 {
            ctx.limit(format!("budget spent before stream {path:?} was searched"));
            break;
        }
        let Some(data) = ctx.read(ole, path)? else {
            continue;
        };
        let max = ctx.limits.max_module_bytes.min(budget.bytes_left);
        for (at, text) in ovba::find_compressed_source_at(&data, max) {
            if budget.modules_left == 0 {
                ctx.limit(format!("more than {} modules", ctx.limits.max_modules));
                break;
            }
            budget.bytes_left = budget.bytes_left.saturating_sub(text.len());
            budget.modules_left -= 1;
            let name = vb_name(&text).map_or_else(|| base.to_string(), |n| decode_cp(n, enc));
            ctx.note(if dir_ok {
                format!("stream {path:?}, not listed in dir, holds compressed source at {at}")
            } else {
                format!("module {name:?} recovered without dir from {path:?} at {at}")
            });
            ctx.project.modules.push(VbaModule {
                name,
                stream_path: path.clone(),
                kind: ModuleKind::Unknown,
                source: decode_cp(&text, enc),
            });
        }
    }
    Ok(())
}

/// Printable runs of at least [`MIN_FORM_STRING`] characters: ASCII bytes, then UTF-16LE ASCII.
pub fn printable_runs(data: &[u8], max_runs: usize) -> Vec<String> {
    fn printable(b: u8) -> bool {
        (0x20..0x7F).contains(&b) || b == b'\t'
    }
    let mut out: Vec<String> = Vec::new();
    let flush = |run: &mut String, out: &mut Vec<String>| {
        if run.len() >= MIN_FORM_STRING && out.len() < max_runs {
            out.push(std::mem::take(run));
        }
        run.clear();
    };
    let mut run = String::new();
    for &b in data {
        if printable(b) {
            if run.len() < MAX_FORM_STRING {
                run.push(char::from(b));
            }
        } else {
            flush(&mut run, &mut out);
        }
    }
    flush(&mut run, &mut out);
    for phase in 0..2 {
        let mut run = String::new();
        for pair in data.get(phase..).unwrap_or_default().chunks_exact(2) {
            if let [lo, 0] = *pair
                && printable(lo)
            {
                if run.len() < MAX_FORM_STRING {
                    run.push(char::from(lo));
                }
            } else {
                flush(&mut run, &mut out);
            }
        }
        flush(&mut run, &mut out);
    }
    out
}

/// Collects printable runs from `o` and `f` streams (UserForm data) in the project storage.
fn collect_form_strings(
    ole: &mut OleFile<'_>,
    vba: &str,
    ctx: &mut Ctx<'_>,
    budget: &mut Budget,
) -> Result<(), VbaError> {
    let storage = ctx.project.storage.clone();
    let prefix = if storage.is_empty() {
        String::new()
    } else {
        format!("{storage}/")
    };
    let vba_prefix = format!("{vba}/");
    let paths: Vec<String> = ole
        .entries()
        .iter()
        .filter(|e| {
            let base = base_name(&e.path);
            e.is_stream
                && e.path.starts_with(&prefix)
                && !e.path.starts_with(&vba_prefix)
                && (eq_ignore_case(base, "o") || eq_ignore_case(base, "f"))
        })
        .map(|e| e.path.clone())
        .collect();
    for path in paths {
        let room = MAX_FORM_STRINGS.saturating_sub(ctx.project.form_strings.len());
        if room == 0 || budget.bytes_left == 0 {
            ctx.limit(format!("form strings cut before stream {path:?}"));
            break;
        }
        let Some(data) = ctx.read(ole, &path)? else {
            continue;
        };
        for s in printable_runs(&data, room) {
            if s.len() > budget.bytes_left {
                ctx.limit("form strings cut by the byte budget".to_string());
                return Ok(());
            }
            budget.bytes_left -= s.len();
            ctx.project.form_strings.push(s);
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ole::is_ole;
    use std::io::{Cursor, Read};

    const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");
    const MEMBER_CAP: u64 = 64 << 20;

    fn corpus(rel: &str) -> Vec<u8> {
        let path = format!("{CORPUS}/{rel}");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Every file member of a ZIP, read in memory (decrypted with `password` when given).
    fn zip_members(bytes: &[u8], password: Option<&[u8]>) -> Vec<(String, Vec<u8>)> {
        let mut zip = ::zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
        let mut out = Vec::new();
        for i in 0..zip.len() {
            let mut f = match password {
                Some(pw) => zip.by_index_decrypt(i, pw),
                None => zip.by_index(i),
            }
            .expect("member");
            if f.is_dir() {
                continue;
            }
            let name = f.name().map(|n| n.to_string()).unwrap_or_default();
            let mut data = Vec::new();
            (&mut f)
                .take(MEMBER_CAP)
                .read_to_end(&mut data)
                .expect("read");
            out.push((name, data));
        }
        out
    }

    /// The OLE member of an OOXML package, found by its magic.
    fn ole_in_zip(bytes: &[u8]) -> Option<Vec<u8>> {
        zip_members(bytes, None)
            .into_iter()
            .map(|(_, d)| d)
            .find(|d| is_ole(d))
    }

    /// The 50 droppers as (sha256, OLE bytes): the .docm gives its vbaProject.bin.
    pub(crate) fn droppers() -> Vec<(String, Vec<u8>)> {
        let zip = corpus("office/emotet-droppers-2019-06.zip");
        zip_members(&zip, Some(b"infected"))
            .into_iter()
            .filter(|(n, _)| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|(n, d)| {
                if is_ole(&d) {
                    (n, d)
                } else {
                    let ole = ole_in_zip(&d).unwrap_or_else(|| panic!("{n}: no OLE member"));
                    (n, ole)
                }
            })
            .collect()
    }

    fn extract_all(data: &[u8], limits: &VbaLimits) -> Vec<VbaProject> {
        match OleFile::parse(data) {
            Ok(mut ole) => extract(&mut ole, limits).unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    fn contains_ci(hay: &str, needle: &str) -> bool {
        hay.to_ascii_lowercase()
            .contains(&needle.to_ascii_lowercase())
    }

    #[test]
    fn emotet_droppers_yield_autoexec_modules() {
        let droppers = droppers();
        assert_eq!(droppers.len(), 50);
        let (mut auto_open, mut document_open) = (0, 0);
        for (name, data) in &droppers {
            let mut ole = OleFile::parse(data).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(has_vba_storage(&ole), "{name}");
            let projects = extract(&mut ole, &VbaLimits::default()).expect(name);
            let modules: Vec<&VbaModule> = projects.iter().flat_map(|p| &p.modules).collect();
            let auto = |needle: &str| {
                modules.iter().any(|m| {
                    contains_ci(&m.source, needle) && m.source.contains("Attribute VB_Name")
                })
            };
            if auto("autoopen") {
                auto_open += 1;
            } else if auto("document_open") {
                document_open += 1;
            } else {
                panic!("{name}: no auto-exec module in {projects:#?}");
            }
        }
        assert_eq!((auto_open, document_open), (48, 2));
    }

    #[test]
    fn droppers_odd_structures() {
        let droppers = droppers();
        let get = |prefix: &str| {
            let (_, data) = droppers
                .iter()
                .find(|(n, _)| n.starts_with(prefix))
                .expect(prefix);
            let mut ole = OleFile::parse(data).expect(prefix);
            let projects = extract(&mut ole, &VbaLimits::default()).expect(prefix);
            (ole.padded_bytes(), projects)
        };
        // Bare VBA-project container: the project sits under a root storage "\x0B_<digits>".
        let (_, projects) = get("3a5842ef");
        assert!(
            projects[0].storage.starts_with("\u{b}_"),
            "{:?}",
            projects[0].storage
        );
        assert_eq!(projects[0].modules.len(), 14);
        // Modules left out of PROJECT (hidden from the editor), with decoy ASCII stream names.
        let (_, projects) = get("008e80cd");
        assert_eq!(projects[0].hidden_modules, ["Y12454", "Z62968"]);
        assert_eq!(projects[0].modules.len(), 3);
        // Truncated file: read after zero padding.
        let (padded, projects) = get("b1de096e");
        assert!(padded > 0);
        assert_eq!(projects[0].modules.len(), 18);
        assert!(
            projects[0]
                .anomalies
                .iter()
                .any(|a| a.contains("truncated"))
        );
    }

    #[test]
    fn oleform_docm_has_frame1_click() {
        let docm = corpus("office/oletools/oleform/oleform-PR314.docm");
        let ole = ole_in_zip(&docm).expect("vbaProject.bin");
        let projects = extract_all(&ole, &VbaLimits::default());
        assert_eq!(projects.len(), 1);
        assert_eq!(projects[0].storage, "");
        assert!(
            projects[0]
                .modules
                .iter()
                .any(|m| m.source.contains("Frame1_Click"))
        );
    }

    #[test]
    fn calamine_vba_xlsm_has_msgbox() {
        let xlsm = corpus("office/calamine/vba.xlsm");
        let ole = ole_in_zip(&xlsm).expect("vbaProject.bin");
        let projects = extract_all(&ole, &VbaLimits::default());
        assert!(
            projects
                .iter()
                .flat_map(|p| &p.modules)
                .any(|m| m.source.contains("MsgBox"))
        );
    }

    #[test]
    fn clean_doc_and_ppt() {
        let doc = corpus("office/oletools/msodde/harmless-clean.doc");
        let mut ole = OleFile::parse(&doc).expect("ole");
        assert!(!has_vba_storage(&ole));
        assert!(
            extract(&mut ole, &VbaLimits::default())
                .expect("extract")
                .is_empty()
        );
        // PowerPoint 97-2003 keeps VBA in a compressed blob: out of scope, must not panic.
        let ppt = corpus("office/oletools/olevba/sample_with_vba.ppt");
        let _ = extract_all(&ppt, &VbaLimits::default());
    }

    #[test]
    fn calamine_xls_files_stay_within_limits() {
        let limits = VbaLimits {
            max_module_bytes: 64 << 10,
            max_total_bytes: 256 << 10,
            max_modules: 8,
        };
        let dir = format!("{CORPUS}/office/calamine");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).expect("calamine dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "xls") {
                continue;
            }
            seen += 1;
            let data = std::fs::read(&path).expect("read");
            let projects = extract_all(&data, &limits);
            let modules: usize = projects.iter().map(|p| p.modules.len()).sum();
            let bytes: usize = projects
                .iter()
                .flat_map(|p| p.modules.iter().map(|m| m.source.len()))
                .sum();
            assert!(modules <= limits.max_modules, "{path:?}");
            // Decoding may grow single-byte text into multi-byte UTF-8: allow for that.
            assert!(bytes <= limits.max_total_bytes * 3, "{path:?}");
        }
        assert!(seen >= 30, "only {seen} .xls files");
    }

    #[test]
    fn limits_cap_modules_and_bytes() {
        let (_, data) = droppers()
            .into_iter()
            .find(|(n, _)| n.starts_with("27c6a5ea"))
            .unwrap();
        let limits = VbaLimits {
            max_module_bytes: 1 << 20,
            max_total_bytes: 1 << 20,
            max_modules: 3,
        };
        let projects = extract_all(&data, &limits);
        assert_eq!(projects[0].modules.len(), 3);
        assert!(projects[0].limit_hit);
        let tiny = VbaLimits {
            max_module_bytes: 100,
            max_total_bytes: 150,
            max_modules: 100,
        };
        let projects = extract_all(&data, &tiny);
        let total: usize = projects[0].modules.iter().map(|m| m.source.len()).sum();
        assert!(total <= 150, "{total}");
        assert!(projects[0].limit_hit);
    }

    #[test]
    fn mutated_dropper_never_panics() {
        let (_, data) = droppers()
            .into_iter()
            .find(|(n, _)| n.starts_with("fc3a2f00"))
            .unwrap();
        let limits = VbaLimits {
            max_module_bytes: 1 << 20,
            max_total_bytes: 4 << 20,
            max_modules: 64,
        };
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let rounds: u32 = std::env::var("KENSA_FUZZ_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(2000);
        let mut opened = 0;
        for round in 0..rounds {
            let mut v = data.clone();
            let len = v.len() as u64;
            match round % 4 {
                // Truncation anywhere.
                0 => v.truncate((next() % len) as usize),
                // Bit flips in the header.
                1 => {
                    for _ in 0..=(next() % 4) {
                        v[(next() % 512) as usize] ^= 1 << (next() % 8);
                    }
                }
                // Bit flips anywhere.
                2 => {
                    for _ in 0..=(next() % 16) {
                        let at = (next() % len) as usize;
                        v[at] ^= 1 << (next() % 8);
                    }
                }
                // A random or special u32 written at an aligned offset (sector ids, sizes).
                _ => {
                    let at = (next() % (len / 4)) as usize * 4;
                    let value = match next() % 4 {
                        0 => 0xFFFF_FFFEu32,
                        1 => 0xFFFF_FFFF,
                        2 => (next() % 512) as u32,
                        _ => next() as u32,
                    };
                    v[at..at + 4].copy_from_slice(&value.to_le_bytes());
                }
            }
            if let Ok(mut ole) = OleFile::parse(&v) {
                opened += 1;
                let _ = extract(&mut ole, &limits);
            }
        }
        assert!(opened > 100, "only {opened} variants opened");
    }

    #[test]
    fn project_stream_names() {
        let text = "ID=\"{1}\"\r\nDocument=ThisDocument/&H00000000\r\nModule=M1\r\nClass=C1\r\n\
                    BaseClass=UserForm1\r\nName=\"P\"\r\n[Workspace]\r\nModule=Ignored\r\n";
        assert_eq!(
            project_module_names(text),
            ["ThisDocument", "M1", "C1", "UserForm1"]
        );
    }

    #[test]
    fn parse_dir_handles_version_quirk_and_garbage() {
        fn rec(d: &mut Vec<u8>, id: u16, data: &[u8]) {
            d.extend_from_slice(&id.to_le_bytes());
            d.extend_from_slice(&(data.len() as u32).to_le_bytes());
            d.extend_from_slice(data);
        }
        let mut d = Vec::new();
        rec(&mut d, 0x01, &[0, 0, 0, 0]);
        rec(&mut d, 0x4A, &[1, 0, 0, 0]);
        rec(&mut d, 0x03, &932u16.to_le_bytes());
        d.extend_from_slice(&[0x09, 0, 4, 0, 0, 0, 1, 2, 3, 4, 5, 6]);
        rec(&mut d, 0x0F, &1u16.to_le_bytes());
        rec(&mut d, 0x19, b"Module1");
        rec(&mut d, 0x1A, b"Module1");
        rec(&mut d, 0x31, &0x123u32.to_le_bytes());
        rec(&mut d, 0x21, &[]);
        rec(&mut d, 0x2B, &[]);
        rec(&mut d, 0x10, &[]);
        let info = parse_dir(&d, "dir").expect("dir");
        assert_eq!(info.codepage, Some(932));
        assert_eq!(info.modules.len(), 1);
        assert_eq!(info.modules[0].offset, Some(0x123));
        assert_eq!(info.modules[0].kind, Some(ModuleKind::Procedural));
        assert!(info.anomalies.is_empty(), "{:?}", info.anomalies);
        assert!(parse_dir(&[0xFF; 40], "dir").is_err());
        assert!(parse_dir(&d[..d.len() - 20], "dir").is_ok());
    }
}
