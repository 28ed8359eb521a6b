//! The BIFF8/BIFF5 workbook stream: records `u16 type, u16 len, body`.
//!
//! The globals substream lists the sheets (BOUNDSHEET8: BOF offset, hsState, dt, name) and the
//! defined names (Lbl); each sheet's substream follows, opened by a BOF whose dt says what it is
//! (0x0040 = macro sheet). Formulas are read only while the innermost open substream is a macro
//! sheet. After FILEPASS the record bodies are encrypted (BOF and BOUNDSHEET8's BOF offset stay
//! clear), so from then on only BOF records and sheet offsets are used: each sheet's type is then
//! taken from the BOF its offset points at.

use super::ptg::{self, Dialect, latin1, utf16};
use super::{MAX_RECORDS, MAX_SHEETS, SheetState, XlmReport};
use encoding_rs::{Encoding, WINDOWS_1252};

const BOF: u16 = 0x0809;
const EOF: u16 = 0x000A;
const FORMULA: u16 = 0x0006;
const LBL: u16 = 0x0018;
const FILEPASS: u16 = 0x002F;
const CONTINUE: u16 = 0x003C;
const CODEPAGE: u16 = 0x0042;
const BOUNDSHEET: u16 = 0x0085;
const RSTRING: u16 = 0x00D6;
const SST: u16 = 0x00FC;
const LABELSST: u16 = 0x00FD;
const LABEL: u16 = 0x0204;
const STRING: u16 = 0x0207;
const ARRAY: u16 = 0x0221;
const SHRFMLA: u16 = 0x04BC;

/// BOF dt of a macro-sheet substream.
const DT_MACRO: u16 = 0x0040;
/// Nested substreams (a chart inside a sheet) deeper than this are not tracked.
const MAX_DEPTH: usize = 16;
/// CONTINUE records read for one string.
const MAX_CONTINUES: usize = 64;
/// SST entries referenced from macro sheets that are looked up.
const MAX_SST_REFS: usize = 4096;
/// A string is kept up to this many characters (the rest is stepped over).
const KEEP_CHARS: usize = 8192;

pub(crate) struct Record<'a> {
    pub(crate) ty: u16,
    offset: usize,
    pub(crate) body: &'a [u8],
}

/// The record at `pos`: `Ok(None)` at the end of the data, `Err` when the header or the body is
/// cut short.
pub(crate) fn record_at(data: &[u8], pos: usize) -> Result<Option<Record<'_>>, String> {
    if pos >= data.len() {
        return Ok(None);
    }
    let Some(h) = data.get(pos..pos + 4) else {
        return Err(format!("BIFF record header cut short at 0x{pos:X}"));
    };
    let ty = u16::from_le_bytes([h[0], h[1]]);
    let len = usize::from(u16::from_le_bytes([h[2], h[3]]));
    match data.get(pos + 4..pos + 4 + len) {
        Some(body) => Ok(Some(Record {
            ty,
            offset: pos,
            body,
        })),
        None => Err(format!(
            "BIFF record 0x{ty:04X} at 0x{pos:X} declares {len} bytes past the end of the stream"
        )),
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// One BOUNDSHEET8.
struct Sheet {
    offset: u32,
    raw_state: u8,
    dt: u8,
    name: String,
    /// Read before FILEPASS (so state, type and name are meaningful).
    clear: bool,
}

/// The walk's state.
struct Walk<'a> {
    data: &'a [u8],
    dialect: Dialect,
    enc: &'static Encoding,
    encrypted: bool,
    stack: Vec<u16>,
    sheets: Vec<Sheet>,
    macro_bofs: Vec<usize>,
    /// SST body and its CONTINUE bodies.
    sst: Vec<&'a [u8]>,
    sst_open: bool,
    sst_refs: Vec<u32>,
    report: XlmReport,
}

pub(super) fn scan(data: &[u8]) -> XlmReport {
    let mut w = Walk {
        data,
        dialect: Dialect::Biff8,
        enc: WINDOWS_1252,
        encrypted: false,
        stack: Vec::new(),
        sheets: Vec::new(),
        macro_bofs: Vec::new(),
        sst: Vec::new(),
        sst_open: false,
        sst_refs: Vec::new(),
        report: XlmReport::default(),
    };
    w.walk();
    w.finish()
}

impl<'a> Walk<'a> {
    fn walk(&mut self) {
        let mut pos = 0usize;
        let mut count = 0usize;
        loop {
            if count >= MAX_RECORDS {
                self.report
                    .note(format!("BIFF walk stopped after {MAX_RECORDS} records"));
                break;
            }
            let rec = match record_at(self.data, pos) {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    self.report.note(e);
                    break;
                }
            };
            pos = rec.offset + 4 + rec.body.len();
            if count == 0 {
                self.first_record(&rec);
            }
            count += 1;
            // Zero padding after the last substream.
            if rec.ty == 0 && rec.body.is_empty() && self.stack.is_empty() {
                break;
            }
            self.record(&rec, pos);
        }
    }

    fn first_record(&mut self, rec: &Record<'_>) {
        if rec.ty != BOF {
            self.report.note(format!(
                "stream starts with record 0x{:04X}, not a BIFF5/BIFF8 BOF",
                rec.ty
            ));
            return;
        }
        match u16_at(rec.body, 0) {
            Some(0x0600) => self.dialect = Dialect::Biff8,
            Some(0x0500) => self.dialect = Dialect::Biff5,
            v => self.report.note(format!(
                "BOF version {v:04X?} not BIFF5/BIFF8: read as BIFF8"
            )),
        }
    }

    fn in_macro(&self) -> bool {
        self.stack.last() == Some(&DT_MACRO)
    }

    fn record(&mut self, rec: &Record<'a>, next: usize) {
        if rec.ty != CONTINUE {
            self.sst_open = false;
        }
        match rec.ty {
            BOF => {
                let dt = u16_at(rec.body, 2).unwrap_or(0);
                if dt == DT_MACRO && self.macro_bofs.len() < MAX_SHEETS {
                    self.macro_bofs.push(rec.offset);
                }
                if self.stack.len() < MAX_DEPTH {
                    self.stack.push(dt);
                } else {
                    self.report.note("BIFF substreams nested too deep");
                }
                return;
            }
            EOF => {
                self.stack.pop();
                return;
            }
            FILEPASS => {
                self.encrypted = true;
                self.report.encrypted = true;
                return;
            }
            BOUNDSHEET => {
                self.boundsheet(rec);
                return;
            }
            _ => {}
        }
        if self.encrypted {
            return;
        }
        match rec.ty {
            CODEPAGE => {
                if self.dialect == Dialect::Biff5
                    && let Some(cp) = u16_at(rec.body, 0)
                {
                    self.enc = crate::vba::encoding_for_codepage(cp);
                }
            }
            LBL => self.lbl(rec),
            SST => {
                self.sst = vec![rec.body];
                self.sst_open = true;
            }
            CONTINUE if self.sst_open && self.sst.len() < 1 << 16 => self.sst.push(rec.body),
            CONTINUE => {}
            _ if !self.in_macro() => {}
            FORMULA => self.formula(rec.body, 20),
            SHRFMLA => self.formula(rec.body, 8),
            ARRAY => self.formula(rec.body, 12),
            STRING => {
                let segs = self.with_continues(rec.body, next);
                self.cell_string(segs, 0);
            }
            LABEL | RSTRING => {
                let segs = self.with_continues(rec.body, next);
                self.cell_string(segs, 6);
            }
            LABELSST => {
                if let Some(i) = u32_at(rec.body, 6)
                    && self.sst_refs.len() < MAX_SST_REFS
                    && !self.sst_refs.contains(&i)
                {
                    self.sst_refs.push(i);
                }
            }
            _ => {}
        }
    }

    fn boundsheet(&mut self, rec: &Record<'_>) {
        let b = rec.body;
        let Some(offset) = u32_at(b, 0) else {
            self.report
                .note(format!("BOUNDSHEET at 0x{:X} too short", rec.offset));
            return;
        };
        if self.sheets.len() >= MAX_SHEETS {
            self.report.note("too many sheets: the rest are not listed");
            return;
        }
        let raw_state = b.get(4).copied().unwrap_or(0);
        let dt = b.get(5).copied().unwrap_or(0);
        let clear = !self.encrypted;
        let mut name = String::new();
        if clear {
            let cch = usize::from(b.get(6).copied().unwrap_or(0));
            let text = match self.dialect {
                Dialect::Biff5 => b
                    .get(7..7 + cch)
                    .map(|r| self.enc.decode_without_bom_handling(r).0.into_owned()),
                _ => match b.get(7) {
                    Some(f) if f & 1 != 0 => b.get(8..8 + 2 * cch).map(utf16),
                    Some(_) => b.get(8..8 + cch).map(latin1),
                    None => None,
                },
            };
            match text {
                Some(t) => name = t,
                None => self.report.note(format!(
                    "BOUNDSHEET at 0x{:X}: sheet name runs past the record",
                    rec.offset
                )),
            }
        }
        self.sheets.push(Sheet {
            offset,
            raw_state,
            dt,
            name,
            clear,
        });
    }

    /// Lbl: flags u16, key u8, cch u8, cce u16, …, name at 14 (BIFF8: with a flags byte).
    fn lbl(&mut self, rec: &Record<'_>) {
        let b = rec.body;
        let (Some(flags), Some(&cch)) = (u16_at(b, 0), b.get(3)) else {
            self.report
                .note(format!("Lbl at 0x{:X} too short", rec.offset));
            return;
        };
        let cch = usize::from(cch);
        let name = match self.dialect {
            Dialect::Biff5 => b.get(14..14 + cch).map(|r| {
                if flags & 0x20 != 0 {
                    r.iter().map(|&c| char::from(c)).collect()
                } else {
                    self.enc.decode_without_bom_handling(r).0.into_owned()
                }
            }),
            _ => match b.get(14) {
                Some(f) if f & 1 != 0 => b.get(15..15 + 2 * cch).map(utf16),
                Some(_) => b.get(15..15 + cch).map(latin1),
                None => None,
            },
        };
        let Some(name) = name else {
            self.report.note(format!(
                "Lbl at 0x{:X}: name runs past the record",
                rec.offset
            ));
            return;
        };
        if flags & 0x20 != 0 {
            if let Some(c) = name.chars().next() {
                self.report.add_builtin_name(u32::from(c));
            }
        } else {
            self.report.add_name(&name);
        }
    }

    /// A formula whose u16 cce is at `cce_at` and whose tokens follow it.
    fn formula(&mut self, body: &[u8], cce_at: usize) {
        let Some(cce) = u16_at(body, cce_at) else {
            self.report.note("macro-sheet formula record too short");
            return;
        };
        let start = cce_at + 2;
        let end = start + usize::from(cce);
        let rgce = match body.get(start..end) {
            Some(r) => r,
            None => {
                self.report
                    .note("macro-sheet formula runs past its record: read what is there");
                body.get(start..).unwrap_or(&[])
            }
        };
        let parsed = ptg::parse(rgce, self.dialect, self.enc);
        for id in parsed.funcs {
            self.report.add_function_id(id);
        }
        for s in &parsed.strings {
            self.report.consider_string(s);
        }
        if let Some(stop) = parsed.stop {
            self.report.note(stop);
        }
    }

    /// `first` and the bodies of the CONTINUE records right after it (at `next`).
    fn with_continues(&self, first: &'a [u8], next: usize) -> Vec<&'a [u8]> {
        let mut segs = vec![first];
        let mut pos = next;
        while segs.len() <= MAX_CONTINUES {
            match record_at(self.data, pos) {
                Ok(Some(r)) if r.ty == CONTINUE => {
                    pos = r.offset + 4 + r.body.len();
                    segs.push(r.body);
                }
                _ => break,
            }
        }
        segs
    }

    /// A cell string (STRING, LABEL, RSTRING) whose u16 cch is at `at` in the first segment.
    fn cell_string(&mut self, segs: Vec<&'a [u8]>, at: usize) {
        let mut r = Segments::new(segs);
        if r.skip(at).is_none() {
            return;
        }
        let text = match self.dialect {
            Dialect::Biff5 => {
                let Some(cch) = r.u16() else { return };
                r.bytes(usize::from(cch))
                    .map(|raw| self.enc.decode_without_bom_handling(&raw).0.into_owned())
            }
            _ => {
                let (Some(cch), Some(flags)) = (r.u16(), r.byte()) else {
                    return;
                };
                r.chars(usize::from(cch), flags & 1 != 0)
            }
        };
        match text {
            Some(t) => self.report.consider_string(&t),
            None => self
                .report
                .note("macro-sheet cell string runs past its records"),
        }
    }

    /// The SST strings that macro sheets refer to.
    fn sst_strings(&mut self) {
        if self.sst_refs.is_empty() || self.sst.is_empty() || self.dialect != Dialect::Biff8 {
            return;
        }
        self.sst_refs.sort_unstable();
        let Some(&max) = self.sst_refs.last() else {
            return;
        };
        if max as usize >= MAX_RECORDS {
            self.report.note(format!(
                "macro sheet refers to SST entry {max}: not looked up"
            ));
        }
        let max = max.min(MAX_RECORDS as u32 - 1);
        let mut r = Segments::new(std::mem::take(&mut self.sst));
        if r.skip(8).is_none() {
            self.report.note("SST too short");
            return;
        }
        for i in 0..=max {
            let Some(text) = sst_entry(&mut r) else {
                self.report
                    .note(format!("SST ends before entry {i} that a macro sheet uses"));
                return;
            };
            if self.sst_refs.binary_search(&i).is_ok() {
                self.report.consider_string(&text);
            }
        }
    }

    fn finish(mut self) -> XlmReport {
        self.sst_strings();
        let mut listed = Vec::new();
        for s in std::mem::take(&mut self.sheets) {
            let bof_dt = bof_dt_at(self.data, s.offset);
            let offset = s.offset as usize;
            listed.push(offset);
            let macro_bof = bof_dt == Some(DT_MACRO);
            if s.clear {
                let state = SheetState::from_raw(s.raw_state);
                if s.dt == 1 || macro_bof {
                    if s.dt != 1 {
                        self.report.note(format!(
                            "sheet {:?} is listed as type {} but its substream is a macro sheet",
                            s.name, s.dt
                        ));
                    }
                    self.report.add_macro_sheet(s.name, state);
                } else if s.dt == 0 && state.is_hidden() {
                    self.report.hidden_worksheets += 1;
                }
            } else if macro_bof {
                self.report.add_macro_sheet(
                    format!("<encrypted name, substream at 0x{offset:X}>"),
                    SheetState::Other(s.raw_state),
                );
            }
        }
        for off in std::mem::take(&mut self.macro_bofs) {
            if !listed.contains(&off) {
                self.report.note(format!(
                    "macro-sheet substream at 0x{off:X} is not listed by any BOUNDSHEET"
                ));
                self.report.add_macro_sheet(
                    format!("<unlisted macro substream at 0x{off:X}>"),
                    SheetState::Visible,
                );
            }
        }
        if self.encrypted && self.report.has_macro_sheet() {
            self.report
                .note("workbook is encrypted (FILEPASS): macro-sheet formulas not read");
        }
        self.report
    }
}

/// The dt of the BOF record at `offset`, if one is there.
fn bof_dt_at(data: &[u8], offset: u32) -> Option<u16> {
    let rec = record_at(data, offset as usize).ok()??;
    if rec.ty != BOF {
        return None;
    }
    u16_at(rec.body, 2)
}

/// One SST entry: cch u16, flags u8 (1 = UTF-16, 4 = phonetic block, 8 = rich runs), [runs u16],
/// [phonetic size u32], characters, runs × 4 bytes, phonetic bytes.
fn sst_entry(r: &mut Segments<'_>) -> Option<String> {
    let cch = usize::from(r.u16()?);
    let flags = r.byte()?;
    let runs = if flags & 0x08 != 0 {
        usize::from(r.u16()?)
    } else {
        0
    };
    let ext = if flags & 0x04 != 0 {
        r.u32()? as usize
    } else {
        0
    };
    let text = r.chars(cch, flags & 1 != 0)?;
    r.skip(runs * 4)?;
    r.skip(ext)?;
    Some(text)
}

/// A reader over a record body and its CONTINUE bodies. Plain reads cross the boundaries as
/// they are; character runs re-read the 1-byte flags (UTF-16 or not) each CONTINUE starts with.
struct Segments<'a> {
    segs: Vec<&'a [u8]>,
    seg: usize,
    pos: usize,
}

impl<'a> Segments<'a> {
    fn new(segs: Vec<&'a [u8]>) -> Self {
        Segments {
            segs,
            seg: 0,
            pos: 0,
        }
    }

    fn byte(&mut self) -> Option<u8> {
        loop {
            let s = self.segs.get(self.seg)?;
            if let Some(&b) = s.get(self.pos) {
                self.pos += 1;
                return Some(b);
            }
            self.seg += 1;
            self.pos = 0;
        }
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes([self.byte()?, self.byte()?]))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes([
            self.byte()?,
            self.byte()?,
            self.byte()?,
            self.byte()?,
        ]))
    }

    fn skip(&mut self, mut n: usize) -> Option<()> {
        while n > 0 {
            let s = self.segs.get(self.seg)?;
            let avail = s.len().saturating_sub(self.pos);
            if avail == 0 {
                self.seg += 1;
                self.pos = 0;
                continue;
            }
            let k = avail.min(n);
            self.pos += k;
            n -= k;
        }
        Some(())
    }

    /// `n` raw bytes (BIFF5 strings), at most [`KEEP_CHARS`] of them kept.
    fn bytes(&mut self, n: usize) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(n.min(KEEP_CHARS));
        for _ in 0..n {
            let b = self.byte()?;
            if out.len() < KEEP_CHARS {
                out.push(b);
            }
        }
        Some(out)
    }

    /// `cch` characters, 1 or 2 bytes each, at most [`KEEP_CHARS`] of them kept.
    fn chars(&mut self, cch: usize, mut wide: bool) -> Option<String> {
        let mut out = String::new();
        let mut kept = 0usize;
        let mut left = cch;
        while left > 0 {
            let s = *self.segs.get(self.seg)?;
            if self.pos >= s.len() {
                self.seg += 1;
                let next = self.segs.get(self.seg)?;
                wide = next.first()? & 1 != 0;
                self.pos = 1;
                continue;
            }
            let width = if wide { 2 } else { 1 };
            let avail = (s.len() - self.pos) / width;
            if avail == 0 {
                return None;
            }
            let n = avail.min(left);
            let raw = &s[self.pos..self.pos + n * width];
            if kept < KEEP_CHARS {
                let text = if wide { utf16(raw) } else { latin1(raw) };
                kept += n;
                out.push_str(&text);
            }
            self.pos += n * width;
            left -= n;
        }
        Some(out)
    }
}
