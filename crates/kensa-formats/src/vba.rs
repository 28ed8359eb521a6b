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

/// Most projects (storages named `VBA`) looked at in one file.
const MAX_PROJECTS: usize = 256;
/// Most anomalies kept per project.
const MAX_ANOMALIES: usize = 1_000;

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

// After the macros: `note!` and `limit!` are visible only in modules declared below them.
mod dir;
mod project;
#[cfg(test)]
mod tests;

pub use dir::{DirInfo, DirModule, parse_dir};
use project::{check_hidden, collect_form_strings};
pub use project::{printable_runs, project_module_names};

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
