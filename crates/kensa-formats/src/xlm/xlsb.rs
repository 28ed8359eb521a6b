//! BIFF12 (XLSB) binary parts: records with a 1–2 byte type and a 1–4 byte size, 7 bits per
//! byte, the high bit saying another byte follows.

use super::XlmReport;
use super::ptg::{self, Dialect, utf16};
use encoding_rs::WINDOWS_1252;

pub(super) const BRT_BEGIN_SHEET: u16 = 129;
pub(super) const BRT_BEGIN_BOOK: u16 = 131;
const BRT_CELL_ST: u16 = 7;
const BRT_FMLA_STRING: u16 = 8;
const BRT_FMLA_NUM: u16 = 9;
const BRT_FMLA_BOOL: u16 = 10;
const BRT_FMLA_ERROR: u16 = 11;
const BRT_NAME: u16 = 39;
const BRT_BUNDLE_SH: u16 = 156;
const BRT_SHR_FMLA: u16 = 426;
const BRT_ARR_FMLA: u16 = 427;

/// One BrtBundleSh: a sheet of the workbook.
#[derive(Debug, Clone)]
pub(super) struct BundleSheet {
    pub raw_state: u32,
    pub rel_id: String,
    pub name: String,
}

pub(crate) struct Records<'a> {
    data: &'a [u8],
    pos: usize,
    count: usize,
    /// Why the walk stopped early.
    pub stop: Option<String>,
}

impl<'a> Records<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Records {
            data,
            pos: 0,
            count: 0,
            stop: None,
        }
    }

    fn varint(&mut self, max_bytes: usize) -> Option<usize> {
        let mut v = 0usize;
        for i in 0..max_bytes {
            let b = *self.data.get(self.pos)?;
            self.pos += 1;
            v |= usize::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        if self.stop.is_some() || self.pos >= self.data.len() {
            return None;
        }
        if self.count >= super::MAX_RECORDS {
            self.stop = Some(format!(
                "XLSB walk stopped after {} records",
                super::MAX_RECORDS
            ));
            return None;
        }
        let at = self.pos;
        let (Some(ty), Some(len)) = (self.varint(2), self.varint(4)) else {
            self.stop = Some(format!("XLSB record header at 0x{at:X} is malformed"));
            return None;
        };
        let Some(body) = self.data.get(self.pos..self.pos.saturating_add(len)) else {
            self.stop = Some(format!(
                "XLSB record {ty} at 0x{at:X} declares {len} bytes past the end of the part"
            ));
            return None;
        };
        self.pos += len;
        self.count += 1;
        Some((ty as u16, body))
    }
}

/// The type of the first record, if the bytes read as BIFF12.
pub(super) fn first_record(data: &[u8]) -> Option<u16> {
    Records::new(data).next().map(|(t, _)| t)
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// An XLWideString (u32 cch, UTF-16) at `at`: the text and the offset after it. A cch of
/// 0xFFFFFFFF (a null XLNullableWideString) is the empty string.
fn wide_string(b: &[u8], at: usize) -> Option<(String, usize)> {
    let cch = u32_at(b, at)?;
    if cch == u32::MAX {
        return Some((String::new(), at + 4));
    }
    let n = (cch as usize).checked_mul(2)?;
    let raw = b.get(at + 4..(at + 4).checked_add(n)?)?;
    Some((utf16(raw), at + 4 + n))
}

/// workbook.bin: the sheets (BrtBundleSh) and the auto-run names (BrtName).
pub(super) fn scan_workbook(data: &[u8], report: &mut XlmReport) -> Vec<BundleSheet> {
    let mut sheets = Vec::new();
    let mut recs = Records::new(data);
    for (ty, body) in recs.by_ref() {
        match ty {
            BRT_BUNDLE_SH => {
                let parsed = (|| {
                    let raw_state = u32_at(body, 0)?;
                    let (rel_id, next) = wide_string(body, 8)?;
                    let (name, _) = wide_string(body, next)?;
                    Some(BundleSheet {
                        raw_state,
                        rel_id,
                        name,
                    })
                })();
                match parsed {
                    Some(s) if sheets.len() < super::MAX_SHEETS => sheets.push(s),
                    Some(_) => {}
                    None => report.note("XLSB BrtBundleSh is malformed"),
                }
            }
            BRT_NAME => match wide_string(body, 9) {
                // flags u32, chKey u8, itab u32, name; built-in names are spelled out.
                Some((name, _)) => report.add_name(&name),
                None => report.note("XLSB BrtName is malformed"),
            },
            _ => {}
        }
    }
    if let Some(stop) = recs.stop {
        report.note(stop);
    }
    sheets
}

/// A sheet .bin: formula tokens and string cells.
pub(super) fn scan_sheet(data: &[u8], report: &mut XlmReport) {
    let mut recs = Records::new(data);
    for (ty, body) in recs.by_ref() {
        // Cell: column u32, style and flags u32.
        let formula_at = match ty {
            BRT_FMLA_STRING => match wide_string(body, 8) {
                Some((value, next)) => {
                    report.consider_string(&value);
                    Some(next + 2)
                }
                None => None,
            },
            BRT_FMLA_NUM => Some(8 + 8 + 2),
            BRT_FMLA_BOOL | BRT_FMLA_ERROR => Some(8 + 1 + 2),
            BRT_SHR_FMLA => Some(16),
            BRT_ARR_FMLA => Some(16 + 1),
            BRT_CELL_ST => {
                if let Some((value, _)) = wide_string(body, 8) {
                    report.consider_string(&value);
                }
                continue;
            }
            _ => continue,
        };
        let Some(at) = formula_at else {
            report.note(format!("XLSB record {ty} is malformed"));
            continue;
        };
        // CellParsedFormula: cce u32, rgce, cb u32, rgcb.
        let rgce = u32_at(body, at).and_then(|cce| {
            let start = at + 4;
            body.get(start..start.checked_add(cce as usize)?)
        });
        let Some(rgce) = rgce else {
            report.note(format!("XLSB formula of record {ty} runs past its record"));
            continue;
        };
        let parsed = ptg::parse(rgce, Dialect::Biff12, WINDOWS_1252);
        for id in parsed.funcs {
            report.add_function_id(id);
        }
        for s in &parsed.strings {
            report.consider_string(s);
        }
        if let Some(stop) = parsed.stop {
            report.note(stop);
        }
    }
    if let Some(stop) = recs.stop {
        report.note(stop);
    }
}
