//! VBA project extraction from an OLE file (MS-OVBA `dir` stream, modules).
//!
//! Projects are found by structure: a storage named `VBA` (any case) holding `dir` and/or
//! `_VBA_PROJECT`, wherever it sits (two 2019 Emotet droppers keep it under a root storage
//! `\x0B_<digits>`). The compressed `dir` stream is parsed leniently; module streams are opened by
//! their Unicode name first, then the ASCII one (EvilClippy randomises the latter); a source is
//! decompressed from MODULEOFFSET, or found by searching the stream for a compressed container
//! starting with `Attribut` when the offset is wrong. Without a usable `dir`, every `VBA` stream
//! holding such a container becomes a module; with one, unlisted streams holding one are added too.
//! Whatever was odd and tolerated goes to [`VbaProject::anomalies`]. PowerPoint 97-2003 and XLM are
//! out of scope.

use std::collections::{HashMap, HashSet};

use encoding_rs::Encoding;
use thiserror::Error;

use crate::ole::{self, OleError, OleFile, base_name, eq_ignore_case, parent_path};
use crate::ovba::{self, OvbaError};

/// Longest printable run kept from a form stream (longer runs are cut).
const MAX_FORM_STRING: usize = 64 * 1024;
/// Most form strings kept per project.
const MAX_FORM_STRINGS: usize = 10_000;
/// Most projects (storages named `VBA`) looked at in one file.
const MAX_PROJECTS: usize = 256;
/// Most anomalies kept per project.
const MAX_ANOMALIES: usize = 1_000;
/// Most module records taken from `dir` (PROJECTMODULES is a u16).
const MAX_DIR_MODULES: usize = 0xFFFF;

/// `note!(p, "format", args)`: records an anomaly.
macro_rules! note {
    ($p:expr, $($fmt:tt)+) => {
        note($p, format!($($fmt)+))
    };
}

/// `limit!(p, "format", args)`: records a limit hit.
macro_rules! limit {
    ($p:expr, $($fmt:tt)+) => {
        limit($p, format!($($fmt)+))
    };
}

/// Module type from the `dir` stream (MODULETYPE record 0x21 or 0x22).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleKind {
    /// 0x21: a standard module.
    Procedural,
    /// 0x22: a document, class or designer (UserForm) module.
    DocClassOrDesigner,
    /// No type record, or the module was found without `dir`.
    Unknown,
}

/// One module with its decoded source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VbaModule {
    /// MODULENAMEUNICODE when present, else MODULENAME (`Attribute VB_Name` without `dir`).
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
    /// Printable runs (>= 5 characters, ASCII or UTF-16LE) from UserForm `o`/`f` streams.
    pub form_strings: Vec<String>,
    /// What was odd and tolerated.
    pub anomalies: Vec<String>,
    /// A [`VbaLimits`] cap was reached: modules or text may be missing (the anomaly starts with
    /// `limit:`).
    pub limit_hit: bool,
}

/// Caps on what [`extract`] reads and decompresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VbaLimits {
    /// Largest stream read and largest source decompressed, per module (and for `dir`).
    pub max_module_bytes: usize,
    /// Total of decompressed sources and form strings over the whole file; stream bytes read
    /// are capped at four times this (hostile directory entries may share one sector chain).
    pub max_total_bytes: usize,
    /// Most modules over the whole file.
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

/// Errors of this module. [`extract`] fails only when the OLE reader became unusable (`Ole` with
/// [`OleError::Panicked`]); otherwise these describe skipped parts, listed in `anomalies`.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VbaError {
    #[error("OLE stream {stream:?}: {source}")]
    Ole { stream: String, source: OleError },
    #[error("compressed container in {stream:?} at offset {offset}: {source}")]
    Decompress {
        stream: String,
        offset: usize,
        source: OvbaError,
    },
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

fn find_vba_storages(ole: &OleFile<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in ole.entries().iter().filter(|e| e.is_stream) {
        let (name, parent) = (base_name(&e.path), parent_path(&e.path));
        if (eq_ignore_case(name, "dir") || eq_ignore_case(name, "_VBA_PROJECT"))
            && !parent.is_empty()
            && eq_ignore_case(base_name(parent), "VBA")
            && !out.iter().any(|p| p == parent)
        {
            out.push(parent.to_string());
            if out.len() >= MAX_PROJECTS {
                break;
            }
        }
    }
    out
}

/// The encoding of a Windows code page (windows-1252 when unknown).
pub fn encoding_for_codepage(cp: u16) -> &'static Encoding {
    let label = match cp {
        874 | 1250..=1258 => format!("windows-{cp}"),
        28592..=28605 => format!("iso-8859-{}", cp - 28590),
        866 => "ibm866".into(),
        932 => "shift_jis".into(),
        936 => "gbk".into(),
        949 => "euc-kr".into(),
        950 => "big5".into(),
        1200 => "utf-16le".into(),
        1201 => "utf-16be".into(),
        10000 => "macintosh".into(),
        10007 => "x-mac-cyrillic".into(),
        20866 => "koi8-r".into(),
        21866 => "koi8-u".into(),
        20932 | 51932 => "euc-jp".into(),
        50220..=50222 => "iso-2022-jp".into(),
        54936 => "gb18030".into(),
        65001 => "utf-8".into(),
        _ => String::new(),
    };
    Encoding::for_label(label.as_bytes()).unwrap_or(encoding_rs::WINDOWS_1252)
}

fn decode(bytes: &[u8], enc: &'static Encoding) -> String {
    enc.decode_without_bom_handling(bytes).0.into_owned()
}

/// A module as described by the `dir` stream (names undecoded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirModule {
    /// MODULENAME (0x19), project code page.
    pub name: Vec<u8>,
    /// MODULENAMEUNICODE (0x47), UTF-16LE.
    pub name_unicode: Option<Vec<u8>>,
    /// MODULESTREAMNAME (0x1A), project code page.
    pub stream_name: Option<Vec<u8>>,
    /// MODULESTREAMNAMEUNICODE (0x32), UTF-16LE.
    pub stream_name_unicode: Option<Vec<u8>>,
    /// MODULEOFFSET (0x31).
    pub offset: Option<u32>,
    /// MODULETYPE (0x21 / 0x22).
    pub kind: Option<ModuleKind>,
    /// Where its MODULENAME record starts in the decompressed `dir`.
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
    /// Deviations tolerated, with their offsets.
    pub anomalies: Vec<String>,
}

fn le_u16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        data.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn le_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        data.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Record ids MS-OVBA defines for `dir`, plus 0x4A COMPATVERSION (newer Office).
const DIR_IDS: [u16; 41] = [
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10,
    0x13, 0x14, 0x16, 0x19, 0x1A, 0x1C, 0x1E, 0x21, 0x22, 0x25, 0x28, 0x2B, 0x2C, 0x2F, 0x30, 0x31,
    0x32, 0x33, 0x3C, 0x3D, 0x3E, 0x40, 0x47, 0x48, 0x4A,
];

/// Parses a decompressed `dir` stream leniently. Records are `u16 id, u32 size, data`, except
/// VERSION (0x09): its size says 4 but 6 bytes follow. Unknown ids are skipped by their size; a
/// record running past the end stops parsing. Fails only when no module record was found and
/// the stream was damaged (or held unknown records).
pub fn parse_dir(data: &[u8], stream: &str) -> Result<DirInfo, VbaError> {
    let mut info = DirInfo::default();
    let mut cur: Option<DirModule> = None;
    let (mut pos, mut unknown, mut terminated) = (0usize, 0usize, false);
    let mut failure: Option<(usize, String)> = None;
    while pos < data.len() {
        let (Some(id), Some(size)) = (le_u16(data, pos), le_u32(data, pos + 2)) else {
            failure = Some((pos, "truncated record header".into()));
            break;
        };
        let body = pos + 6;
        let len = match (id, size) {
            (0x09, 4) => 6,
            _ => usize::try_from(size).unwrap_or(usize::MAX),
        };
        let Some(payload) = body.checked_add(len).and_then(|end| data.get(body..end)) else {
            failure = Some((
                pos,
                format!("record 0x{id:04X} of {size} bytes runs past the end"),
            ));
            break;
        };
        if !DIR_IDS.contains(&id) {
            unknown += 1;
            if info.anomalies.len() < MAX_ANOMALIES {
                info.anomalies
                    .push(format!("dir: unknown record 0x{id:04X} at {pos}"));
            }
        }
        pos = body + len;
        match (id, cur.as_mut()) {
            (0x03, _) => info.codepage = le_u16(payload, 0),
            (0x0F, _) => info.declared_modules = le_u16(payload, 0),
            (0x10, _) => {
                terminated = true;
                break;
            }
            (0x19, _) if info.modules.len() >= MAX_DIR_MODULES => {
                failure = Some((body - 6, format!("more than {MAX_DIR_MODULES} modules")));
                break;
            }
            (0x19, _) => {
                info.modules.extend(cur.take());
                cur = Some(DirModule {
                    name: payload.to_vec(),
                    record_offset: body - 6,
                    ..DirModule::default()
                });
            }
            (0x47, Some(m)) => m.name_unicode = Some(payload.to_vec()),
            (0x1A, Some(m)) => m.stream_name = Some(payload.to_vec()),
            (0x32, Some(m)) => m.stream_name_unicode = Some(payload.to_vec()),
            (0x31, Some(m)) => m.offset = le_u32(payload, 0),
            (0x21, Some(m)) => m.kind = Some(ModuleKind::Procedural),
            (0x22, Some(m)) => m.kind = Some(ModuleKind::DocClassOrDesigner),
            (0x2B, Some(_)) => info.modules.extend(cur.take()),
            _ => {}
        }
    }
    if let Some(m) = cur.take() {
        let at = m.record_offset;
        info.anomalies
            .push(format!("dir: module record at {at} not terminated"));
        info.modules.push(m);
    }
    let fail = |offset, what| {
        let stream = stream.to_string();
        Err(VbaError::Dir {
            stream,
            offset,
            what,
        })
    };
    match failure {
        Some((offset, what)) if info.modules.is_empty() => return fail(offset, what),
        Some((offset, what)) => info.anomalies.push(format!("dir: {what} at {offset}")),
        None if !terminated => info.anomalies.push("dir: no TERMINATOR record".into()),
        None => {}
    }
    if unknown > 0 && info.modules.is_empty() {
        return fail(0, format!("{unknown} unknown records and no module"));
    }
    if let Some(n) = info
        .declared_modules
        .filter(|&n| usize::from(n) != info.modules.len())
    {
        let found = info.modules.len();
        info.anomalies
            .push(format!("dir: PROJECTMODULES says {n}, {found} found"));
    }
    Ok(info)
}

/// File-wide budget and per-project notes.
struct Run<'l> {
    limits: &'l VbaLimits,
    bytes_left: usize,
    modules_left: usize,
    /// Stream bytes still to be read: entries of a hostile file may share one sector chain.
    read_left: usize,
}

fn note(p: &mut VbaProject, what: String) {
    if p.anomalies.len() < MAX_ANOMALIES {
        p.anomalies.push(what);
    }
}

fn limit(p: &mut VbaProject, what: String) {
    p.limit_hit = true;
    let what = format!("limit: {what}");
    if !p.anomalies.contains(&what) {
        note(p, what);
    }
}

impl Run<'_> {
    /// Reads the first `max_module_bytes` of a stream. Only a panic of the OLE reader is passed
    /// up; other failures become anomalies.
    fn read(
        &mut self,
        ole: &mut OleFile<'_>,
        path: &str,
        p: &mut VbaProject,
    ) -> Result<Option<Vec<u8>>, VbaError> {
        let max = self.limits.max_module_bytes.min(self.read_left);
        if max == 0 {
            let total = self.limits.max_total_bytes.saturating_mul(4);
            limit!(p, "more than {total} stream bytes read");
            return Ok(None);
        }
        let stream = path.to_string();
        match ole.read_stream_prefix(path, max) {
            Ok((data, cut)) => {
                self.read_left = self.read_left.saturating_sub(data.len());
                if cut {
                    limit!(p, "stream {path:?} longer than {max} bytes, rest ignored");
                }
                Ok(Some(data))
            }
            Err(source @ OleError::Panicked { .. }) => Err(VbaError::Ole { stream, source }),
            Err(source) => {
                note(p, VbaError::Ole { stream, source }.to_string());
                Ok(None)
            }
        }
    }

    /// True (with a note) when no more modules or source bytes may be taken.
    fn spent(&self, p: &mut VbaProject) -> bool {
        let spent = self.modules_left == 0 || self.bytes_left == 0;
        if spent {
            let (m, b) = (self.limits.max_modules, self.limits.max_total_bytes);
            limit!(p, "budget of {m} modules / {b} source bytes spent");
        }
        spent
    }

    fn take(&mut self, len: usize) {
        self.modules_left = self.modules_left.saturating_sub(1);
        self.bytes_left = self.bytes_left.saturating_sub(len);
    }

    fn max_source(&self) -> usize {
        self.limits.max_module_bytes.min(self.bytes_left)
    }
}

/// Extracts every VBA project of an OLE file. Fails only when the OLE reader panicked (the file
/// is then unreadable); everything tolerated is listed in each project's `anomalies`.
pub fn extract(ole: &mut OleFile<'_>, limits: &VbaLimits) -> Result<Vec<VbaProject>, VbaError> {
    let mut run = Run {
        limits,
        bytes_left: limits.max_total_bytes,
        modules_left: limits.max_modules,
        read_left: limits.max_total_bytes.saturating_mul(4),
    };
    let mut projects = Vec::new();
    for vba in find_vba_storages(ole) {
        let mut p = VbaProject {
            storage: parent_path(&vba).to_string(),
            codepage: 1252,
            ..VbaProject::default()
        };
        if ole.padded_bytes() > 0 {
            let n = ole.padded_bytes();
            note!(
                &mut p,
                "OLE file truncated: read with {n} zero bytes appended"
            );
        }
        if ole.entries_truncated() {
            limit!(&mut p, "more than {} OLE entries", ole::MAX_ENTRIES);
        }
        extract_project(ole, &vba, &mut p, &mut run)?;
        projects.push(p);
    }
    Ok(projects)
}

fn extract_project(
    ole: &mut OleFile<'_>,
    vba: &str,
    p: &mut VbaProject,
    run: &mut Run<'_>,
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
    let mut used: HashSet<String> = HashSet::new();
    used.extend(find("_VBA_PROJECT"));
    if used.is_empty() {
        note!(p, "no _VBA_PROJECT stream in {vba:?}");
    }
    let dir = match find("dir") {
        None => {
            note!(p, "no dir stream in {vba:?}");
            None
        }
        Some(path) => {
            used.insert(path.clone());
            read_dir(ole, &path, p, run)?
        }
    };
    let dir_ok = dir.is_some();
    match dir {
        Some(info) => {
            let listed = extract_listed(ole, &streams, info, p, run, &mut used)?;
            check_hidden(ole, &listed, p, run)?;
        }
        None => note!(
            p,
            "dir unusable: searching the streams of {vba:?} for source"
        ),
    }
    scan_unlisted(ole, &streams, &used, dir_ok, p, run)?;
    collect_form_strings(ole, vba, p, run)
}

/// Reads, decompresses and parses `dir`; `None` (with anomalies) when unusable.
fn read_dir(
    ole: &mut OleFile<'_>,
    path: &str,
    p: &mut VbaProject,
    run: &mut Run<'_>,
) -> Result<Option<DirInfo>, VbaError> {
    let Some(raw) = run.read(ole, path, p)? else {
        return Ok(None);
    };
    let stream = path.to_string();
    match ovba::decompress_detailed(&raw, run.limits.max_module_bytes) {
        Err(source) => note(
            p,
            VbaError::Decompress {
                stream,
                offset: 0,
                source,
            }
            .to_string(),
        ),
        Ok(d) => {
            note_decompression(p, path, 0, &d);
            match parse_dir(&d.data, path) {
                Ok(info) => return Ok(Some(info)),
                Err(e) => note(p, e.to_string()),
            }
        }
    }
    Ok(None)
}

fn note_decompression(p: &mut VbaProject, path: &str, at: usize, d: &ovba::Decompressed) {
    let counts = [
        (d.bad_offsets, "copy tokens with bad offsets"),
        (d.odd_chunk_signatures, "altered chunk signatures"),
    ];
    for (n, what) in counts.into_iter().filter(|(n, _)| *n > 0) {
        note!(p, "{path:?}: {n} {what} in the container at {at}");
    }
    if d.truncated_input {
        note!(p, "{path:?}: container at {at} truncated");
    }
    if d.hit_limit {
        limit!(p, "{path:?}: output of the container at {at} capped");
    }
}

/// Extracts the modules `dir` lists. Returns, per module, the names `PROJECT` may use for it.
fn extract_listed(
    ole: &mut OleFile<'_>,
    streams: &[String],
    info: DirInfo,
    p: &mut VbaProject,
    run: &mut Run<'_>,
    used: &mut HashSet<String>,
) -> Result<Vec<Vec<String>>, VbaError> {
    match info.codepage {
        Some(cp) => p.codepage = cp,
        None => note(p, "dir: no PROJECTCODEPAGE, 1252 assumed".into()),
    }
    let enc = encoding_for_codepage(p.codepage);
    let utf16 = |b: &Option<Vec<u8>>| b.as_deref().map(|b| decode(b, encoding_rs::UTF_16LE));
    info.anomalies.into_iter().for_each(|a| note(p, a));
    // First stream of each lower-cased name (streams are few, modules may be many).
    let by_name: HashMap<String, &String> = streams
        .iter()
        .rev()
        .map(|s| (base_name(s).to_lowercase(), s))
        .collect();
    let mut listed = Vec::new();
    for m in &info.modules {
        let ascii_name = decode(&m.name, enc);
        let name = utf16(&m.name_unicode)
            .filter(|u| !u.is_empty())
            .unwrap_or(ascii_name.clone());
        listed.push(vec![name.clone(), ascii_name]);
        if run.spent(p) {
            continue;
        }
        let (unicode, ascii) = (
            utf16(&m.stream_name_unicode),
            m.stream_name.as_ref().map(|b| decode(b, enc)),
        );
        if let (Some(u), Some(a)) = (&unicode, &ascii)
            && !eq_ignore_case(u, a)
        {
            note!(
                p,
                "module {name:?}: ASCII stream name {a:?} differs from Unicode {u:?}"
            );
        }
        let found = [unicode, ascii, Some(name.clone())]
            .iter()
            .flatten()
            .find_map(|c| by_name.get(&c.to_lowercase()).map(|s| s.to_string()));
        let Some(path) = found else {
            note!(p, "module {name:?}: stream missing");
            continue;
        };
        used.insert(path.clone());
        let Some(data) = run.read(ole, &path, p)? else {
            continue;
        };
        match module_source(&data, m.offset, run.max_source(), &path, p) {
            Some(src) => {
                run.take(src.len());
                p.modules.push(VbaModule {
                    name,
                    stream_path: path,
                    kind: m.kind.unwrap_or(ModuleKind::Unknown),
                    source: decode(&src, enc),
                });
            }
            None => note!(p, "module {name:?}: no compressed source in {path:?}"),
        }
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
    p: &mut VbaProject,
) -> Option<Vec<u8>> {
    let mut at_offset = None;
    let off = offset.and_then(|o| usize::try_from(o).ok());
    match (
        off,
        off.and_then(|o| data.get(o..)).filter(|s| !s.is_empty()),
    ) {
        (None, _) => note!(p, "{path:?}: no MODULEOFFSET"),
        (Some(o), None) => note!(
            p,
            "{path:?}: MODULEOFFSET {o} past the end ({} bytes)",
            data.len()
        ),
        (Some(o), Some(slice)) => match ovba::decompress_detailed(slice, max) {
            Ok(d) if d.data.starts_with(b"Attribut") => {
                note_decompression(p, path, o, &d);
                return Some(d.data);
            }
            Ok(d) => {
                note!(
                    p,
                    "{path:?}: source at MODULEOFFSET {o} does not start with Attribute"
                );
                at_offset = Some(d.data).filter(|v| !v.is_empty());
            }
            Err(source) => {
                let stream = path.to_string();
                note(
                    p,
                    VbaError::Decompress {
                        stream,
                        offset: o,
                        source,
                    }
                    .to_string(),
                );
            }
        },
    }
    let found = ovba::find_compressed_source_at(data, max)
        .into_iter()
        .find(|(at, _)| Some(*at) != off);
    if let Some((at, text)) = found {
        note!(p, "{path:?}: source found by search at offset {at}");
        return Some(text);
    }
    at_offset
}

/// Names declared by `Module=`, `Class=`, `BaseClass=` and `Document=` lines of a `PROJECT`
/// stream (before its first `[section]`).
pub fn project_module_names(text: &str) -> Vec<String> {
    let keys = ["Module", "Class", "BaseClass", "Document"];
    text.lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| keys.iter().any(|key| key.eq_ignore_ascii_case(k.trim())))
        .map(|(_, v)| {
            v.split('/')
                .next()
                .unwrap_or_default()
                .trim()
                .trim_matches('"')
                .to_string()
        })
        .collect()
}

/// Fills `hidden_modules` from the `PROJECT` stream next to the `VBA` storage.
fn check_hidden(
    ole: &mut OleFile<'_>,
    listed: &[Vec<String>],
    p: &mut VbaProject,
    run: &mut Run<'_>,
) -> Result<(), VbaError> {
    let path = match p.storage.as_str() {
        "" => "PROJECT".to_string(),
        s => format!("{s}/PROJECT"),
    };
    if !ole.entry(&path).is_some_and(|e| e.is_stream) {
        let storage = p.storage.clone();
        note!(
            p,
            "no PROJECT stream in {storage:?}: hidden modules not checked"
        );
        return Ok(());
    }
    let Some(data) = run.read(ole, &path, p)? else {
        return Ok(());
    };
    let declared = project_module_names(&decode(&data, encoding_for_codepage(p.codepage)));
    for names in listed {
        if !names
            .iter()
            .any(|n| declared.iter().any(|d| eq_ignore_case(d, n)))
        {
            p.hidden_modules.extend(names.first().cloned());
        }
    }
    Ok(())
}

/// The name in an `Attribute VB_Name = "..."` line near the start of a source.
fn vb_name(source: &[u8]) -> Option<&[u8]> {
    let head = source.get(..source.len().min(4096))?;
    let rest = head.get(memchr::memmem::find(head, b"VB_Name")? + 7..)?;
    let rest = rest.get(memchr::memchr(b'"', rest)? + 1..)?;
    rest.get(..memchr::memchr2(b'"', b'\n', rest)?.min(255))
}

/// Takes compressed sources from the `VBA` streams `dir` did not account for: all of them when
/// `dir` is unusable, else those it does not list (a sign of tampering).
fn scan_unlisted(
    ole: &mut OleFile<'_>,
    streams: &[String],
    used: &HashSet<String>,
    dir_ok: bool,
    p: &mut VbaProject,
    run: &mut Run<'_>,
) -> Result<(), VbaError> {
    let enc = encoding_for_codepage(p.codepage);
    for path in streams.iter().filter(|s| !used.contains(*s)) {
        if run.spent(p) {
            return Ok(());
        }
        let Some(data) = run.read(ole, path, p)? else {
            continue;
        };
        for (at, text) in ovba::find_compressed_source_at(&data, run.max_source()) {
            if run.spent(p) {
                return Ok(());
            }
            run.take(text.len());
            let base = base_name(path);
            let name = vb_name(&text).map_or_else(|| base.to_string(), |n| decode(n, enc));
            let what = if dir_ok {
                format!("stream {path:?}, not listed in dir, holds source at {at}")
            } else {
                format!("module {name:?} recovered without dir from {path:?} at {at}")
            };
            note(p, what);
            let source = decode(&text, enc);
            let stream_path = path.clone();
            p.modules.push(VbaModule {
                name,
                stream_path,
                kind: ModuleKind::Unknown,
                source,
            });
        }
    }
    Ok(())
}

/// Printable runs of at least 5 characters: ASCII bytes, then UTF-16LE ASCII characters. Runs
/// are cut at 64 KiB; at most `max_runs` are returned.
pub fn printable_runs(data: &[u8], max_runs: usize) -> Vec<String> {
    let printable = |b: u8| (0x20..0x7F).contains(&b) || b == b'\t';
    let mut out: Vec<String> = Vec::new();
    let mut run = String::new();
    let mut flush = |run: &mut String| {
        if run.len() >= 5 && out.len() < max_runs {
            out.push(std::mem::take(run));
        }
        run.clear();
    };
    let units = [(1, 0), (2, 0), (2, 1)];
    for (width, start) in units {
        let data = data.get(start..).unwrap_or_default();
        for unit in data.chunks_exact(width) {
            match *unit {
                [b] | [b, 0] if printable(b) => {
                    if run.len() < MAX_FORM_STRING {
                        run.push(char::from(b));
                    }
                }
                _ => flush(&mut run),
            }
        }
        flush(&mut run);
    }
    out
}

/// Collects printable runs from `o` and `f` streams (UserForm data) in the project storage.
fn collect_form_strings(
    ole: &mut OleFile<'_>,
    vba: &str,
    p: &mut VbaProject,
    run: &mut Run<'_>,
) -> Result<(), VbaError> {
    let prefix = match p.storage.as_str() {
        "" => String::new(),
        s => format!("{s}/"),
    };
    let vba_prefix = format!("{vba}/");
    let paths: Vec<String> = (ole.entries().iter())
        .filter(|e| e.is_stream && e.path.starts_with(&prefix) && !e.path.starts_with(&vba_prefix))
        .filter(|e| {
            ["o", "f"]
                .iter()
                .any(|n| eq_ignore_case(base_name(&e.path), n))
        })
        .map(|e| e.path.clone())
        .collect();
    for path in paths {
        let room = MAX_FORM_STRINGS.saturating_sub(p.form_strings.len());
        if room == 0 {
            limit!(p, "more than {MAX_FORM_STRINGS} form strings");
            break;
        }
        let Some(data) = run.read(ole, &path, p)? else {
            continue;
        };
        for s in printable_runs(&data, room) {
            if s.len() > run.bytes_left {
                limit(p, "form strings cut by the byte budget".into());
                return Ok(());
            }
            run.bytes_left -= s.len();
            p.form_strings.push(s);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ole::tests::{corpus, droppers, ole_in_zip};

    fn extract_all(data: &[u8], limits: &VbaLimits) -> Vec<VbaProject> {
        match OleFile::parse(data) {
            Ok(mut ole) => extract(&mut ole, limits).unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    fn dropper_projects(prefix: &str, limits: &VbaLimits) -> (usize, Vec<VbaProject>) {
        let (_, data) = droppers()
            .into_iter()
            .find(|(n, _)| n.starts_with(prefix))
            .expect(prefix);
        let mut ole = OleFile::parse(&data).expect(prefix);
        (ole.padded_bytes(), extract(&mut ole, limits).expect(prefix))
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
            let has = |needle: &str| {
                projects.iter().flat_map(|p| &p.modules).any(|m| {
                    m.source.to_ascii_lowercase().contains(needle)
                        && m.source.contains("Attribute VB_Name")
                })
            };
            if has("autoopen") {
                auto_open += 1;
            } else if has("document_open") {
                document_open += 1;
            } else {
                panic!("{name}: no auto-exec module in {projects:#?}");
            }
        }
        assert_eq!((auto_open, document_open), (48, 2));
    }

    #[test]
    fn droppers_odd_structures() {
        let limits = VbaLimits::default();
        // Bare VBA-project container: the project sits under a root storage "\x0B_<digits>".
        let (_, projects) = dropper_projects("3a5842ef", &limits);
        assert!(
            projects[0].storage.starts_with("\u{b}_"),
            "{:?}",
            projects[0].storage
        );
        assert_eq!(projects[0].modules.len(), 14);
        // Two modules left out of PROJECT (hidden from the editor), decoy ASCII stream names.
        let (_, projects) = dropper_projects("008e80cd", &limits);
        assert_eq!(projects[0].hidden_modules, ["Y12454", "Z62968"]);
        assert_eq!(projects[0].modules.len(), 3);
        assert!(
            projects[0]
                .anomalies
                .iter()
                .any(|a| a.contains("ASCII stream name"))
        );
        // Truncated file: read after zero padding.
        let (padded, projects) = dropper_projects("b1de096e", &limits);
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
    fn oletools_and_calamine_samples() {
        let limits = VbaLimits::default();
        let docm = corpus("office/oletools/oleform/oleform-PR314.docm");
        let projects = extract_all(&ole_in_zip(&docm).expect("vbaProject.bin"), &limits);
        assert_eq!(projects.len(), 1);
        assert_eq!(projects[0].storage, "");
        assert!(
            projects[0]
                .modules
                .iter()
                .any(|m| m.source.contains("Frame1_Click"))
        );
        assert!(!projects[0].form_strings.is_empty());

        let xlsm = corpus("office/calamine/vba.xlsm");
        let projects = extract_all(&ole_in_zip(&xlsm).expect("vbaProject.bin"), &limits);
        assert!(
            projects
                .iter()
                .flat_map(|p| &p.modules)
                .any(|m| m.source.contains("MsgBox"))
        );

        let doc = corpus("office/oletools/msodde/harmless-clean.doc");
        let mut ole = OleFile::parse(&doc).expect("ole");
        assert!(!has_vba_storage(&ole));
        assert!(extract(&mut ole, &limits).expect("extract").is_empty());
        // PowerPoint 97-2003 keeps VBA in a compressed blob: out of scope, must not panic.
        let _ = extract_all(
            &corpus("office/oletools/olevba/sample_with_vba.ppt"),
            &limits,
        );
    }

    #[test]
    fn limits_cap_modules_and_bytes() {
        let limits = VbaLimits {
            max_module_bytes: 1 << 20,
            max_total_bytes: 1 << 20,
            max_modules: 3,
        };
        let (_, projects) = dropper_projects("27c6a5ea", &limits);
        assert_eq!(projects[0].modules.len(), 3);
        assert!(projects[0].limit_hit);
        let tiny = VbaLimits {
            max_module_bytes: 100,
            max_total_bytes: 150,
            max_modules: 100,
        };
        let (_, projects) = dropper_projects("27c6a5ea", &tiny);
        let total: usize = projects[0].modules.iter().map(|m| m.source.len()).sum();
        assert!(total <= 150, "{total}");
        assert!(projects[0].limit_hit);
    }

    #[test]
    fn dir_and_project_parsing() {
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
        assert!(parse_dir(&d[..d.len() - 20], "dir").is_ok());
        assert!(matches!(
            parse_dir(&[0xFF; 40], "dir"),
            Err(VbaError::Dir { .. })
        ));
        assert_eq!(encoding_for_codepage(932), encoding_rs::SHIFT_JIS);
        assert_eq!(encoding_for_codepage(1251), encoding_rs::WINDOWS_1251);
        assert_eq!(encoding_for_codepage(28592), encoding_rs::ISO_8859_2);
        assert_eq!(encoding_for_codepage(1), encoding_rs::WINDOWS_1252);

        let text = "ID=\"{1}\"\r\nDocument=ThisDocument/&H00000000\r\nModule=M1\r\nClass=C1\r\n\
                    BaseClass=UserForm1\r\nName=\"P\"\r\n[Workspace]\r\nModule=Ignored\r\n";
        assert_eq!(
            project_module_names(text),
            ["ThisDocument", "M1", "C1", "UserForm1"]
        );
        let runs = printable_runs(
            b"\x01Hello world\x00ab\x02C\x00a\x00p\x00t\x00i\x00o\x00n\x00",
            10,
        );
        assert_eq!(runs, ["Hello world", "Caption"]);
        assert_eq!(printable_runs(b"12345\x0067890", 1), ["12345"]);
    }

    #[test]
    fn wrong_module_offset_is_searched() {
        let text = b"Attribute VB_Name = \"M\"\r\nSub AutoOpen()\r\nEnd Sub\r\n";
        let mut stream = vec![0xAAu8; 100];
        stream.extend_from_slice(&crate::ovba::tests::compress(text));
        let mut p = VbaProject::default();
        let src = module_source(&stream, Some(100), 1 << 20, "m", &mut p);
        assert_eq!(src.as_deref(), Some(&text[..]));
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        for bad in [Some(7), Some(5000), None] {
            let mut p = VbaProject::default();
            let src = module_source(&stream, bad, 1 << 20, "m", &mut p);
            assert_eq!(src.as_deref(), Some(&text[..]), "{bad:?}");
            assert!(
                p.anomalies.iter().any(|a| a.contains("by search")),
                "{bad:?}"
            );
        }
        let mut p = VbaProject::default();
        assert_eq!(
            module_source(&[0xAA; 50], Some(3), 1 << 20, "m", &mut p),
            None
        );
    }

    #[test]
    fn unusable_dir_falls_back_to_stream_search() {
        let (_, mut data) = droppers()
            .into_iter()
            .find(|(n, _)| n.starts_with("fc3a2f00"))
            .unwrap();
        let dir = OleFile::parse(&data)
            .unwrap()
            .read_stream("Macros/VBA/dir", 1 << 20)
            .unwrap();
        let at = memchr::memmem::find(&data, &dir[..64]).expect("dir bytes in the file");
        data[at] = 0x07; // container signature
        let mut ole = OleFile::parse(&data).expect("ole");
        let projects = extract(&mut ole, &VbaLimits::default()).expect("extract");
        let p = &projects[0];
        assert!(
            p.anomalies.iter().any(|a| a.contains("dir unusable")),
            "{:?}",
            p.anomalies
        );
        assert_eq!(p.modules.len(), 14);
        assert!(p.modules.iter().all(|m| m.kind == ModuleKind::Unknown));
        assert!(
            p.modules
                .iter()
                .any(|m| m.source.to_ascii_lowercase().contains("autoopen"))
        );
    }
}
