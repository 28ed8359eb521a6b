//! Cells, keys and values: bounds-checked reads of the hive bins data.

use std::collections::HashSet;

use super::{BASE_BLOCK_LEN, HiveError, MAX_BIG_DATA, MAX_PROBLEMS, MAX_RI_DEPTH};
use crate::registry::RegValue;

/// "No cell" in offset fields.
const NIL: u32 = u32::MAX;
/// Fixed part of an nk record (the name follows).
const NK_FIXED: usize = 76;
/// Fixed part of a vk record (the name follows).
const VK_FIXED: usize = 20;
/// Smallest cell holding an nk (size field + fixed part): bounds the subkeys one key can have.
const NK_MIN_CELL: usize = 4 + NK_FIXED;
/// Data bytes in one big-data segment, and the size from which hives ≥ 1.4 use big data.
const SEGMENT: usize = 16_344;
/// Flag of nk: name stored in Latin-1.
const KEY_COMP_NAME: u16 = 0x20;
/// Flag of vk: name stored in Latin-1.
const VALUE_COMP_NAME: u16 = 0x1;
/// Bit 31 of the vk data size: data stored in the offset field.
const DATA_INLINE: u32 = 0x8000_0000;

/// Little-endian readers that return 0 past the end (callers check lengths first where it matters).
pub(super) fn read_u16(b: &[u8], at: usize) -> u16 {
    b.get(at..)
        .and_then(|s| s.get(..2))
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

pub(super) fn read_u32(b: &[u8], at: usize) -> u32 {
    b.get(at..)
        .and_then(|s| s.get(..4))
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

pub(super) fn read_u64(b: &[u8], at: usize) -> u64 {
    u64::from(read_u32(b, at)) | (u64::from(read_u32(b, at.saturating_add(4))) << 32)
}

/// File offset of a cell offset.
pub(super) fn file_offset(cell: u32) -> u64 {
    BASE_BLOCK_LEN as u64 + u64::from(cell)
}

/// Decodes a Latin-1 or UTF-16LE name (an odd trailing byte is dropped).
fn decode_name(raw: &[u8], latin1: bool) -> String {
    if latin1 {
        return raw.iter().map(|&b| char::from(b)).collect();
    }
    let units: Vec<u16> = raw
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// Registry names compare case-insensitively (upper-cased char by char).
pub(super) fn names_equal(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_uppercase)
        .eq(b.chars().flat_map(char::to_uppercase))
}

/// The hive bins data and the hive version (big data needs ≥ 1.4).
#[derive(Clone, Copy)]
pub(super) struct Cells<'a> {
    bins: &'a [u8],
    minor: u32,
}

impl<'a> Cells<'a> {
    pub(super) fn new(bins: &'a [u8], minor: u32) -> Self {
        Cells { bins, minor }
    }

    pub(super) fn len(&self) -> usize {
        self.bins.len()
    }

    /// The data of the cell at `cell` (after its size field), checked against the bins data.
    fn cell(&self, cell: u32, what: &'static str) -> Result<&'a [u8], HiveError> {
        let offset = file_offset(cell);
        let out = || HiveError::OutOfBounds {
            what,
            offset,
            bins_len: self.bins.len(),
        };
        let start = cell as usize;
        let head = self
            .bins
            .get(start..)
            .and_then(|b| b.get(..4))
            .ok_or_else(out)?;
        let size = i32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let len = size.unsigned_abs() as usize;
        if len < 8 {
            return Err(HiveError::BadCellSize { what, offset, size });
        }
        let bad_size = || HiveError::BadCellSize { what, offset, size };
        let end = start.checked_add(len).ok_or_else(bad_size)?;
        self.bins.get(start + 4..end).ok_or_else(bad_size)
    }

    /// A cell whose data starts with a two-letter signature.
    fn record(
        &self,
        cell: u32,
        sig: &[u8; 2],
        what: &'static str,
        min: usize,
    ) -> Result<&'a [u8], HiveError> {
        let data = self.cell(cell, what)?;
        let found = data.get(..2).unwrap_or(data);
        if found != sig {
            return Err(HiveError::BadSignature {
                expected: what,
                offset: file_offset(cell),
                found: found.to_vec(),
            });
        }
        if data.len() < min {
            return Err(truncated(what, cell, min, data.len()));
        }
        Ok(data)
    }
}

fn truncated(what: &'static str, cell: u32, need: usize, have: usize) -> HiveError {
    HiveError::Truncated {
        what,
        offset: file_offset(cell),
        need: need as u64,
        have: have as u64,
    }
}

/// State of one traversal: the cells already used and the problems met.
pub(super) struct Ctx {
    seen: HashSet<u32>,
    pub(super) problems: Vec<HiveError>,
    pub(super) omitted: usize,
}

impl Ctx {
    pub(super) fn new() -> Self {
        Ctx {
            seen: HashSet::new(),
            problems: Vec::new(),
            omitted: 0,
        }
    }

    /// Records a problem (up to [`MAX_PROBLEMS`], then only counts).
    pub(super) fn problem(&mut self, e: HiveError) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(e);
        } else {
            self.omitted = self.omitted.saturating_add(1);
        }
    }

    /// Marks `cell` as used; `false` (and a problem) when it was used before.
    pub(super) fn claim(&mut self, cell: u32, what: &'static str) -> bool {
        if self.seen.insert(cell) {
            return true;
        }
        self.problem(HiveError::Cycle {
            what,
            offset: file_offset(cell),
        });
        false
    }

    /// `Ok(v)` when no problem was met, else the first problem.
    fn strict<T>(self, v: T) -> Result<T, HiveError> {
        match self.problems.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(v),
        }
    }
}

/// A registry key (an nk cell) of a [`super::Hive`]; cheap to copy.
#[derive(Clone, Copy)]
pub struct Key<'a> {
    cells: Cells<'a>,
    offset: u32,
    nk: &'a [u8],
}

impl std::fmt::Debug for Key<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("name", &self.name())
            .field("offset", &self.offset)
            .finish()
    }
}

impl<'a> Key<'a> {
    /// The key node at cell offset `cell`, checked (signature, fixed fields, name inside the cell).
    pub(super) fn at(cells: Cells<'a>, cell: u32) -> Result<Key<'a>, HiveError> {
        let nk = cells.record(cell, b"nk", "key node (nk)", NK_FIXED)?;
        let need = NK_FIXED + usize::from(read_u16(nk, 72));
        if nk.len() < need {
            return Err(truncated("key node (nk) name", cell, need, nk.len()));
        }
        Ok(Key {
            cells,
            offset: cell,
            nk,
        })
    }

    /// The key name (Latin-1 or UTF-16LE as flagged).
    pub fn name(&self) -> String {
        let len = usize::from(read_u16(self.nk, 72));
        let raw = self.nk.get(NK_FIXED..NK_FIXED + len).unwrap_or_default();
        decode_name(raw, read_u16(self.nk, 2) & KEY_COMP_NAME != 0)
    }

    /// Last written time (FILETIME).
    pub fn last_written(&self) -> u64 {
        read_u64(self.nk, 4)
    }

    /// Cell offset (relative to the hive bins data; file offset = 4096 + this).
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// The subkey count the key declares.
    pub fn subkey_count(&self) -> u32 {
        read_u32(self.nk, 20)
    }

    /// The value count the key declares.
    pub fn value_count(&self) -> u32 {
        read_u32(self.nk, 36)
    }

    /// The subkeys; the first problem met is an error.
    pub fn subkeys(&self) -> Result<Vec<Key<'a>>, HiveError> {
        let mut ctx = Ctx::new();
        let keys = self.read_subkeys(&mut ctx);
        ctx.strict(keys)
    }

    /// The subkeys that could be read, and the problems met on the way.
    pub fn subkeys_partial(&self) -> (Vec<Key<'a>>, Vec<HiveError>) {
        let mut ctx = Ctx::new();
        let keys = self.read_subkeys(&mut ctx);
        (keys, ctx.problems)
    }

    /// The subkey named `name` (case-insensitive). A damaged list is an error only when the
    /// name was not found in what could be read.
    pub fn subkey(&self, name: &str) -> Result<Option<Key<'a>>, HiveError> {
        let (keys, problems) = self.subkeys_partial();
        if let Some(k) = keys.into_iter().find(|k| names_equal(&k.name(), name)) {
            return Ok(Some(k));
        }
        match problems.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }

    /// The values; the first problem met is an error.
    pub fn values(&self) -> Result<Vec<RegValue>, HiveError> {
        let mut ctx = Ctx::new();
        let values = self.read_values(&mut ctx);
        ctx.strict(values)
    }

    /// The values that could be read (data possibly cut short), and the problems met.
    pub fn values_partial(&self) -> (Vec<RegValue>, Vec<HiveError>) {
        let mut ctx = Ctx::new();
        let values = self.read_values(&mut ctx);
        (values, ctx.problems)
    }

    /// The value named `name` (case-insensitive; `""` = the default value). A damaged value
    /// list is an error only when the name was not found in what could be read; a damaged value
    /// of that name is an error.
    pub fn value(&self, name: &str) -> Result<Option<RegValue>, HiveError> {
        let (values, problems) = self.values_partial();
        let found = values.into_iter().find(|v| names_equal(&v.name, name));
        match (found, problems.into_iter().next()) {
            (None, Some(e)) => Err(e),
            (found, _) => Ok(found),
        }
    }

    /// Subkeys, recording problems and claiming cells in `ctx`.
    pub(super) fn read_subkeys(&self, ctx: &mut Ctx) -> Vec<Key<'a>> {
        let declared = self.subkey_count();
        let list = read_u32(self.nk, 28);
        if declared == 0 {
            return Vec::new();
        }
        let before = ctx.problems.len().saturating_add(ctx.omitted);
        let mut offsets = Vec::new();
        let limit = self.cells.len() / NK_MIN_CELL + 1;
        collect_list(self.cells, list, 0, ctx, &mut offsets, limit);
        let mut keys = Vec::with_capacity(offsets.len());
        for off in offsets {
            if !ctx.claim(off, "key node (nk)") {
                continue;
            }
            match Key::at(self.cells, off) {
                Ok(k) => keys.push(k),
                Err(e) => ctx.problem(e),
            }
        }
        let clean = ctx.problems.len().saturating_add(ctx.omitted) == before;
        if clean && keys.len() as u64 != u64::from(declared) {
            ctx.problem(HiveError::CountMismatch {
                what: "subkeys",
                offset: file_offset(self.offset),
                declared: u64::from(declared),
                found: keys.len() as u64,
            });
        }
        keys
    }

    /// Values, recording problems and claiming cells in `ctx`.
    pub(super) fn read_values(&self, ctx: &mut Ctx) -> Vec<RegValue> {
        let declared = self.value_count() as usize;
        let list = read_u32(self.nk, 40);
        if declared == 0 {
            return Vec::new();
        }
        if !ctx.claim(list, "value list") {
            return Vec::new();
        }
        let cell = match self.cells.cell(list, "value list") {
            Ok(c) => c,
            Err(e) => {
                ctx.problem(e);
                return Vec::new();
            }
        };
        let fits = cell.len() / 4;
        if declared > fits {
            ctx.problem(truncated(
                "value list",
                list,
                declared.saturating_mul(4),
                cell.len(),
            ));
        }
        let mut values = Vec::with_capacity(declared.min(fits));
        for i in 0..declared.min(fits) {
            let off = read_u32(cell, i * 4);
            if !ctx.claim(off, "value (vk)") {
                continue;
            }
            if let Some(v) = read_value(self.cells, off, ctx) {
                values.push(v);
            }
        }
        values
    }
}

/// Appends the nk offsets of the subkey list at `list` (following `ri` up to [`MAX_RI_DEPTH`]).
fn collect_list(
    cells: Cells<'_>,
    list: u32,
    depth: usize,
    ctx: &mut Ctx,
    out: &mut Vec<u32>,
    limit: usize,
) {
    if list == NIL {
        ctx.problem(HiveError::OutOfBounds {
            what: "subkey list (none given)",
            offset: file_offset(list),
            bins_len: cells.len(),
        });
        return;
    }
    if !ctx.claim(list, "subkey list") {
        return;
    }
    let cell = match cells.cell(list, "subkey list") {
        Ok(c) => c,
        Err(e) => return ctx.problem(e),
    };
    let sig = cell.get(..2).unwrap_or(cell);
    let (stride, nested) = match sig {
        b"li" => (4, false),
        b"lf" | b"lh" => (8, false),
        b"ri" => (4, true),
        _ => {
            return ctx.problem(HiveError::BadSignature {
                expected: "subkey list (li, lf, lh or ri)",
                offset: file_offset(list),
                found: sig.to_vec(),
            });
        }
    };
    let count = usize::from(read_u16(cell, 2));
    let fits = cell.len().saturating_sub(4) / stride;
    if count > fits {
        ctx.problem(truncated(
            "subkey list",
            list,
            4 + count * stride,
            cell.len(),
        ));
    }
    for i in 0..count.min(fits) {
        let off = read_u32(cell, 4 + i * stride);
        if !nested {
            if out.len() >= limit {
                return ctx.problem(HiveError::TooMany {
                    what: "subkeys",
                    offset: file_offset(list),
                    count: out.len() as u64 + 1,
                    limit: limit as u64,
                });
            }
            out.push(off);
        } else if depth + 1 >= MAX_RI_DEPTH {
            return ctx.problem(HiveError::TooDeep {
                what: "index root (ri) list",
                offset: file_offset(off),
                limit: MAX_RI_DEPTH,
            });
        } else {
            collect_list(cells, off, depth + 1, ctx, out, limit);
        }
    }
}

/// One value (vk at `cell`); `None` when the record itself is unusable (problem recorded).
fn read_value(cells: Cells<'_>, cell: u32, ctx: &mut Ctx) -> Option<RegValue> {
    let vk = match cells.record(cell, b"vk", "value (vk)", VK_FIXED) {
        Ok(vk) => vk,
        Err(e) => {
            ctx.problem(e);
            return None;
        }
    };
    let name_len = usize::from(read_u16(vk, 2));
    let Some(raw) = vk.get(VK_FIXED..VK_FIXED + name_len) else {
        ctx.problem(truncated(
            "value (vk) name",
            cell,
            VK_FIXED + name_len,
            vk.len(),
        ));
        return None;
    };
    let name = decode_name(raw, read_u16(vk, 16) & VALUE_COMP_NAME != 0);
    let data = read_data(cells, cell, read_u32(vk, 4), read_u32(vk, 8), ctx);
    Some(RegValue {
        name,
        kind: read_u32(vk, 12),
        data,
    })
}

/// The data of the value at `vk_cell`: inline, one cell, or big data; cut to what the file holds.
fn read_data(cells: Cells<'_>, vk_cell: u32, size_raw: u32, at: u32, ctx: &mut Ctx) -> Vec<u8> {
    let size = (size_raw & !DATA_INLINE) as usize;
    if size_raw & DATA_INLINE != 0 {
        if size > 4 {
            ctx.problem(truncated("inline value data", vk_cell, size, 4));
        }
        return at.to_le_bytes()[..size.min(4)].to_vec();
    }
    if size == 0 {
        return Vec::new();
    }
    if !ctx.claim(at, "value data") {
        return Vec::new();
    }
    let cell = match cells.cell(at, "value data") {
        Ok(c) => c,
        Err(e) => {
            ctx.problem(e);
            return Vec::new();
        }
    };
    if size > SEGMENT && cells.minor >= 4 && cell.starts_with(b"db") {
        return read_big_data(cells, at, cell, size, ctx);
    }
    if cell.len() < size {
        ctx.problem(truncated("value data", at, size, cell.len()));
    }
    cell.get(..size).unwrap_or(cell).to_vec()
}

/// Assembles big data (`db` cell `db` at `at`) up to `size` and [`MAX_BIG_DATA`].
fn read_big_data(cells: Cells<'_>, at: u32, db: &[u8], size: usize, ctx: &mut Ctx) -> Vec<u8> {
    if db.len() < 8 {
        ctx.problem(truncated("big data (db)", at, 8, db.len()));
        return Vec::new();
    }
    if size > MAX_BIG_DATA {
        ctx.problem(HiveError::TooMany {
            what: "big data size",
            offset: file_offset(at),
            count: size as u64,
            limit: MAX_BIG_DATA as u64,
        });
    }
    let want = size.min(MAX_BIG_DATA);
    let count = usize::from(read_u16(db, 2));
    let list_at = read_u32(db, 4);
    let list = if ctx.claim(list_at, "big data segment list") {
        cells.cell(list_at, "big data segment list")
    } else {
        Ok(&[][..])
    };
    let list = list.unwrap_or_else(|e| {
        ctx.problem(e);
        &[]
    });
    let mut out = Vec::with_capacity(want.min(count.saturating_mul(SEGMENT)));
    for i in 0..count.min(list.len() / 4) {
        if out.len() >= want {
            break;
        }
        let seg_at = read_u32(list, i * 4);
        if !ctx.claim(seg_at, "big data segment") {
            break;
        }
        match cells.cell(seg_at, "big data segment") {
            Ok(seg) => {
                let take = seg.len().min(SEGMENT).min(want - out.len());
                out.extend_from_slice(&seg[..take]);
            }
            Err(e) => {
                ctx.problem(e);
                break;
            }
        }
    }
    if out.len() < want {
        ctx.problem(truncated("big data", at, want, out.len()));
    }
    out
}
