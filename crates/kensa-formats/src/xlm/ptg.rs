//! Parsed-expression tokens (ptgs) of BIFF5, BIFF8 and BIFF12 (XLSB) formulas.
//!
//! Only two things are taken from a formula: the function ids of ptgFunc/ptgFuncVar and the
//! text of ptgStr. Every other token is stepped over by its operand size, which differs between
//! the three dialects (a cell reference is 3, 4 or 6 bytes). A token that is not understood, or
//! whose operand runs past the end, stops the walk; what came before it is kept.

use encoding_rs::Encoding;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    Biff5,
    Biff8,
    Biff12,
}

#[derive(Debug, Default)]
pub(super) struct Parsed {
    /// ptgFunc iftab / ptgFuncVar tab (0x8000 = command equivalent), in order.
    pub funcs: Vec<u16>,
    /// ptgStr constants.
    pub strings: Vec<String>,
    /// Why the walk stopped early.
    pub stop: Option<String>,
}

/// Operand bytes after the ptg byte, for the tokens of fixed size.
fn fixed_size(ptg: u8, d: Dialect) -> Option<usize> {
    let by = |b5: usize, b8: usize, b12: usize| match d {
        Dialect::Biff5 => b5,
        Dialect::Biff8 => b8,
        Dialect::Biff12 => b12,
    };
    let n = match ptg {
        0x01 | 0x02 => 4, // ptgExp, ptgTbl
        0x03..=0x16 => 0, // operators, ptgParen, ptgMissArg
        0x1C | 0x1D => 1, // ptgErr, ptgBool
        0x1E => 2,        // ptgInt
        0x1F => 8,        // ptgNum
        0x20..=0x7F => match 0x20 | (ptg & 0x1F) {
            0x20 => by(7, 7, 14),               // ptgArray
            0x21 => 2,                          // ptgFunc
            0x22 => 3,                          // ptgFuncVar
            0x23 => by(14, 4, 4),               // ptgName
            0x24 | 0x2A | 0x2C => by(3, 4, 6),  // ptgRef, ptgRefErr, ptgRefN
            0x25 | 0x2B | 0x2D => by(6, 8, 12), // ptgArea, ptgAreaErr, ptgAreaN
            0x26..=0x28 => 6,                   // ptgMemArea, ptgMemErr, ptgMemNoMem
            0x29 | 0x2E | 0x2F => 2,            // ptgMemFunc, ptgMemAreaN, ptgMemNoMemN
            0x39 => by(24, 6, 6),               // ptgNameX
            0x3A | 0x3C => by(17, 6, 8),        // ptgRef3d, ptgRefErr3d
            0x3B | 0x3D => by(20, 10, 14),      // ptgArea3d, ptgAreaErr3d
            _ => return None,
        },
        _ => return None,
    };
    Some(n)
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// UTF-16LE bytes to text (unpaired surrogates replaced).
pub(super) fn utf16(bytes: &[u8]) -> String {
    let units = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Latin-1 bytes (BIFF8 "compressed" strings: UTF-16 with the high bytes dropped) to text.
pub(super) fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Walks `rgce`. `enc` decodes the 8-bit strings of BIFF5.
pub(super) fn parse(rgce: &[u8], d: Dialect, enc: &'static Encoding) -> Parsed {
    let mut out = Parsed::default();
    let mut pos = 0usize;
    while pos < rgce.len() {
        let ptg = rgce[pos];
        let ops = pos + 1;
        let size = match ptg {
            0x17 => match string_token(rgce, ops, d, enc) {
                Some((s, n)) => {
                    out.strings.push(s);
                    n
                }
                None => {
                    out.stop = Some("formula string token runs past the formula".into());
                    return out;
                }
            },
            0x18 => match (d, rgce.get(ops)) {
                // BIFF12 ptgList (structured reference) and ptgSxName.
                (Dialect::Biff12, Some(0x19)) => 13,
                (Dialect::Biff12, Some(0x1D)) => 5,
                _ => {
                    out.stop = Some("extended formula token (0x18) not understood".into());
                    return out;
                }
            },
            0x19 => {
                // ptgAttr: flags, u16; tAttrChoose carries (n + 1) u16 jump offsets.
                let (Some(&flags), Some(data)) = (rgce.get(ops), u16_at(rgce, ops + 1)) else {
                    out.stop = Some("formula attribute token runs past the formula".into());
                    return out;
                };
                if flags & 0x04 != 0 {
                    3 + (usize::from(data) + 1) * 2
                } else {
                    3
                }
            }
            _ => match fixed_size(ptg, d) {
                Some(n) => n,
                None => {
                    out.stop = Some(format!("formula token 0x{ptg:02X} not understood"));
                    return out;
                }
            },
        };
        if ops + size > rgce.len() {
            out.stop = Some(format!("formula token 0x{ptg:02X} runs past the formula"));
            return out;
        }
        if (0x20..0x80).contains(&ptg) {
            match 0x20 | (ptg & 0x1F) {
                0x21 => out.funcs.extend(u16_at(rgce, ops)),
                0x22 => out.funcs.extend(u16_at(rgce, ops + 1)),
                _ => {}
            }
        }
        pos = ops + size;
    }
    out
}

/// A ptgStr at `at` (just after the ptg byte): its text and operand size.
fn string_token(
    b: &[u8],
    at: usize,
    d: Dialect,
    enc: &'static Encoding,
) -> Option<(String, usize)> {
    match d {
        Dialect::Biff5 => {
            let cch = usize::from(*b.get(at)?);
            let raw = b.get(at + 1..at + 1 + cch)?;
            let (text, _) = enc.decode_without_bom_handling(raw);
            Some((text.into_owned(), 1 + cch))
        }
        Dialect::Biff8 => {
            let cch = usize::from(*b.get(at)?);
            let wide = b.get(at + 1)? & 0x01 != 0;
            let n = if wide { cch * 2 } else { cch };
            let raw = b.get(at + 2..at + 2 + n)?;
            let text = if wide { utf16(raw) } else { latin1(raw) };
            Some((text, 2 + n))
        }
        Dialect::Biff12 => {
            let cch = usize::from(u16_at(b, at)?);
            let raw = b.get(at + 2..at + 2 + cch * 2)?;
            Some((utf16(raw), 2 + cch * 2))
        }
    }
}
