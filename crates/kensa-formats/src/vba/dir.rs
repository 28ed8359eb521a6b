//! The `dir` stream parser (MS-OVBA 2.3.4.2): project code page and module records.

use super::{MAX_ANOMALIES, ModuleKind, VbaError};

/// Most module records taken from `dir` (PROJECTMODULES is a u16).
const MAX_DIR_MODULES: usize = 0xFFFF;

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
